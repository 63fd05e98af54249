//! Area outlines in local metres: which area holds a point (many points,
//! many areas: a banded edge index), and outlines traced from a raster of
//! area labels and smoothed — for the demo's generated districts and for
//! imported buildings that come without boundaries.

use std::collections::HashMap;

use super::area_grid::{AreaGrid, NO_AREA};
use super::boundaries::interior_point;
use crate::model::{AreaPolygon, City, ring_area, ring_contains};

/// An edge of an area's outline: (area, from, to).
type AreaEdge = (u32, [f32; 2], [f32; 2]);

/// Finds the area whose outline holds a point, for many points: each
/// area's ring edges are sorted into horizontal bands, so a query looks
/// only at the edges of its band (even-odd per area: holes and parts
/// count right).
#[derive(Debug, Clone)]
pub struct AreaLocator {
    min_y: f32,
    band_h: f32,
    /// Per band: its edges, grouped by area in ascending order.
    bands: Vec<Vec<AreaEdge>>,
}

impl AreaLocator {
    /// An index over the outlines of areas `0..`.
    pub fn new<'a>(areas: impl IntoIterator<Item = &'a [AreaPolygon]>) -> AreaLocator {
        let mut edges: Vec<AreaEdge> = Vec::new();
        for (area, outline) in areas.into_iter().enumerate() {
            for ring in outline.iter().flat_map(AreaPolygon::rings) {
                for (i, &a) in ring.iter().enumerate() {
                    let b = ring[(i + 1) % ring.len()];
                    if a[1] != b[1] {
                        edges.push((area as u32, a, b));
                    }
                }
            }
        }
        let (min_y, max_y) = edges.iter().fold((f32::MAX, f32::MIN), |(lo, hi), e| {
            (lo.min(e.1[1]).min(e.2[1]), hi.max(e.1[1]).max(e.2[1]))
        });
        if edges.is_empty() {
            return AreaLocator {
                min_y: 0.0,
                band_h: 1.0,
                bands: Vec::new(),
            };
        }
        let count = ((edges.len() as f32).sqrt() * 2.0).clamp(1.0, 4096.0) as usize;
        let band_h = ((max_y - min_y) / count as f32).max(1e-3);
        let mut bands = vec![Vec::new(); count];
        for e in edges {
            let (lo, hi) = (e.1[1].min(e.2[1]), e.1[1].max(e.2[1]));
            let first = (((lo - min_y) / band_h) as usize).min(count - 1);
            let last = (((hi - min_y) / band_h) as usize).min(count - 1);
            for band in &mut bands[first..=last] {
                band.push(e);
            }
        }
        AreaLocator {
            min_y,
            band_h,
            bands,
        }
    }

    /// The first area (by index) whose outline holds `p`.
    pub fn locate(&self, p: [f32; 2]) -> Option<usize> {
        let band = (p[1] - self.min_y) / self.band_h;
        // Below the first band, or not a number.
        if band.is_nan() || band < 0.0 {
            return None;
        }
        let edges = self.bands.get(band as usize)?;
        let (mut current, mut inside) = (u32::MAX, false);
        for &(area, a, b) in edges {
            if area != current {
                if inside {
                    return Some(current as usize);
                }
                (current, inside) = (area, false);
            }
            if (a[1] > p[1]) != (b[1] > p[1])
                && p[0] < (b[0] - a[0]) * (p[1] - a[1]) / (b[1] - a[1]) + a[0]
            {
                inside = !inside;
            }
        }
        inside.then_some(current as usize)
    }
}

/// A raster of area labels: cell (c, r) covers `origin + (c, r) × cell`
/// to one cell further; row 0 at the south.
#[derive(Debug, Clone, Copy)]
pub struct LabelGrid<'a> {
    pub origin_m: [f32; 2],
    pub cell_m: f32,
    pub cols: u32,
    pub rows: u32,
    pub labels: &'a [u32],
}

/// The outline of every area in `grid`, keyed by `key(label)` (None: the
/// cell belongs to no area): the cell edges between areas, chained into
/// rings (exteriors counter-clockwise, holes clockwise) and smoothed so the
/// stair-steps of the raster become lines (see [`smooth_ring`]). One pass
/// over the raster for all areas. Corners where three areas of `fine`
/// meet stay put: trace districts with their streets as `fine`, and a
/// district's outline and its streets' come out on the same line.
pub fn trace_outlines(
    grid: LabelGrid<'_>,
    key: impl Fn(u32) -> Option<u32>,
    fine: impl Fn(u32) -> Option<u32>,
) -> HashMap<u32, Vec<AreaPolygon>> {
    let (cols, rows) = (i64::from(grid.cols), i64::from(grid.rows));
    let label_at = |c: i64, r: i64| {
        (c >= 0 && r >= 0 && c < cols && r < rows).then(|| grid.labels[(r * cols + c) as usize])
    };
    let key_at = |c: i64, r: i64| label_at(c, r).and_then(&key);
    let fine_at = |c: i64, r: i64| label_at(c, r).and_then(&fine);
    // Directed cell edges with the area on their left, per area: from
    // corner → (to corner, direction 0 E, 1 N, 2 W, 3 S).
    let corner = |c: i64, r: i64| (r * (cols + 1) + c) as u64;
    let mut edges: HashMap<u32, HashMap<u64, Vec<(u64, u8)>>> = HashMap::new();
    for r in 0..rows {
        for c in 0..cols {
            let Some(k) = key_at(c, r) else {
                continue;
            };
            let sides = [
                ((c, r - 1), (c, r), (c + 1, r), 0u8),
                ((c + 1, r), (c + 1, r), (c + 1, r + 1), 1),
                ((c, r + 1), (c + 1, r + 1), (c, r + 1), 2),
                ((c - 1, r), (c, r + 1), (c, r), 3),
            ];
            for ((nc, nr), from, to, dir) in sides {
                if key_at(nc, nr) != Some(k) {
                    edges
                        .entry(k)
                        .or_default()
                        .entry(corner(from.0, from.1))
                        .or_default()
                        .push((corner(to.0, to.1), dir));
                }
            }
        }
    }
    let point = |v: u64| {
        let (c, r) = (
            (v % (cols as u64 + 1)) as f32,
            (v / (cols as u64 + 1)) as f32,
        );
        [
            grid.origin_m[0] + c * grid.cell_m,
            grid.origin_m[1] + r * grid.cell_m,
        ]
    };
    // Corners where three areas meet (or two touch diagonally) stay put,
    // so each stretch of border between two of them smooths alike in both
    // neighbours' rings.
    let pinned = |v: u64| {
        let (c, r) = (
            (v % (cols as u64 + 1)) as i64,
            (v / (cols as u64 + 1)) as i64,
        );
        let around = [
            fine_at(c - 1, r - 1),
            fine_at(c, r - 1),
            fine_at(c, r),
            fine_at(c - 1, r),
        ];
        let mut distinct = around.to_vec();
        distinct.sort_unstable();
        distinct.dedup();
        distinct.len() >= 3
            || (distinct.len() == 2 && around[0] == around[2] && around[1] == around[3])
    };
    let mut out = HashMap::new();
    for (k, mut from) in edges {
        let mut rings = Vec::new();
        let mut starts: Vec<u64> = from.keys().copied().collect();
        starts.sort_unstable();
        for start in starts {
            while let Some(&(mut to, mut dir)) = from.get(&start).and_then(|v| v.last()) {
                take(&mut from, start, to);
                let mut ring = vec![start];
                while to != start {
                    ring.push(to);
                    // At a corner two areas' cells touch diagonally: turn
                    // left first, so each ring stays simple.
                    let Some(next) = from.get(&to).and_then(|out| {
                        [(dir + 1) % 4, dir, (dir + 3) % 4]
                            .into_iter()
                            .find_map(|d| out.iter().find(|e| e.1 == d).copied())
                    }) else {
                        break;
                    };
                    take(&mut from, to, next.0);
                    (to, dir) = next;
                }
                let pins: Vec<bool> = ring.iter().map(|&v| pinned(v)).collect();
                let points: Vec<[f32; 2]> = ring.into_iter().map(point).collect();
                rings.push(drop_collinear(&smooth_ring(&points, &pins)));
            }
        }
        out.insert(k, polygons_from_rings(rings));
    }
    out
}

/// Cell size, reach and vote radius of the area grid traced around the
/// buildings of areas the data gives no outline for.
const DERIVED_CELL_M: f32 = 80.0;
const DERIVED_REACH_CELLS: u32 = 5;
const DERIVED_VOTE_CELLS: u32 = 6;

/// Gives each district and street without an outline (the data had no
/// boundary for it) one traced around its buildings — the ground nearest
/// to them, up to 400 m out — and its label a place inside it. Returns how
/// many areas got one.
pub fn derive_missing_outlines(city: &mut City) -> usize {
    let missing = city.districts.iter().any(|d| d.outline_m.is_empty())
        || city.streets.iter().any(|s| s.outline_m.is_empty());
    if !missing || city.buildings.is_empty() {
        return 0;
    }
    let grid = AreaGrid::build(
        &city.bounds,
        &city.buildings,
        DERIVED_CELL_M,
        DERIVED_REACH_CELLS,
        DERIVED_VOTE_CELLS,
    );
    let labels = LabelGrid {
        origin_m: grid.origin_m,
        cell_m: grid.cell_m,
        cols: grid.cols,
        rows: grid.rows,
        labels: &grid.cells,
    };
    let mut derived = 0;
    let word = |w: u32| (w != NO_AREA).then_some(w);
    let mut districts = trace_outlines(labels, |w| word(w).map(|w| w & 0xffff), word);
    for d in city.districts.iter_mut().filter(|d| d.outline_m.is_empty()) {
        if let Some(outline) = districts.remove(&u32::from(d.id.0)) {
            d.centre_m = interior_point(&outline);
            d.outline_m = outline;
            derived += 1;
        }
    }
    if city.streets.iter().any(|s| s.outline_m.is_empty()) {
        let mut streets = trace_outlines(labels, |w| word(w).map(|w| w >> 16), word);
        for s in city.streets.iter_mut().filter(|s| s.outline_m.is_empty()) {
            if let Some(outline) = streets.remove(&u32::from(s.id.0)) {
                s.centre_m = interior_point(&outline);
                s.outline_m = outline;
                derived += 1;
            }
        }
    }
    derived
}

fn take(from: &mut HashMap<u64, Vec<(u64, u8)>>, at: u64, to: u64) {
    if let Some(list) = from.get_mut(&at) {
        list.retain(|e| e.0 != to);
        if list.is_empty() {
            from.remove(&at);
        }
    }
}

/// The ring without the points that lie (within a millimetre) on the line
/// through their neighbours: long straight runs become one edge.
fn drop_collinear(ring: &[[f32; 2]]) -> Vec<[f32; 2]> {
    let mut out: Vec<[f32; 2]> = Vec::with_capacity(ring.len());
    for &p in ring {
        while out.len() >= 2 {
            let (a, b) = (out[out.len() - 2], out[out.len() - 1]);
            let (u, v) = ([b[0] - a[0], b[1] - a[1]], [p[0] - a[0], p[1] - a[1]]);
            let len = v[0].hypot(v[1]);
            if len > 0.0 && (u[0] * v[1] - u[1] * v[0]).abs() / len < 1e-3 {
                out.pop();
            } else {
                break;
            }
        }
        out.push(p);
    }
    out
}

/// Points averaged with their neighbours per round (each side).
const SMOOTH_REACH: usize = 3;
const SMOOTH_ROUNDS: usize = 3;

/// A raster ring (a point at every cell corner) made smooth: three rounds
/// of a moving average over seven points turn stair-steps into lines and
/// curves. `pinned` points stay put and no average reaches past one (the
/// window shrinks near them), so a stretch between two pinned points comes
/// out the same, to the bit, whichever way round it is walked.
pub fn smooth_ring(ring: &[[f32; 2]], pinned: &[bool]) -> Vec<[f32; 2]> {
    let n = ring.len();
    if n < 8 {
        return ring.to_vec();
    }
    // Per point, how far the window may reach: the distance to the nearest
    // pinned point, at most SMOOTH_REACH.
    let mut reach = vec![SMOOTH_REACH; n];
    if let Some(first) = (0..n).find(|&i| pinned[i]) {
        for pass in 0..2 {
            let mut since = SMOOTH_REACH;
            for step in 0..2 * n {
                let i = if pass == 0 {
                    (first + step) % n
                } else {
                    (first + 2 * n - step) % n
                };
                since = if pinned[i] {
                    0
                } else {
                    (since + 1).min(SMOOTH_REACH)
                };
                reach[i] = reach[i].min(since);
            }
        }
    }
    let mut points = ring.to_vec();
    for _ in 0..SMOOTH_ROUNDS {
        points = (0..n)
            .map(|i| {
                let k = reach[i];
                // Pairs at equal distance first: the same sums either way
                // round the ring.
                let mut sum = points[i];
                for d in 1..=k {
                    let (a, b) = (points[(i + n - d) % n], points[(i + d) % n]);
                    let pair = [a[0] + b[0], a[1] + b[1]];
                    sum = [sum[0] + pair[0], sum[1] + pair[1]];
                }
                let w = (2 * k + 1) as f32;
                [sum[0] / w, sum[1] / w]
            })
            .collect();
    }
    points
}

/// Counter-clockwise rings become exteriors, clockwise ones the holes of
/// the smallest exterior around them.
fn polygons_from_rings(rings: Vec<Vec<[f32; 2]>>) -> Vec<AreaPolygon> {
    let (mut exteriors, mut holes): (Vec<_>, Vec<_>) = rings
        .into_iter()
        .filter(|r| r.len() >= 3)
        .partition(|r| ring_area(r) > 0.0);
    exteriors.sort_by(|a, b| ring_area(a).total_cmp(&ring_area(b)));
    let mut polygons: Vec<AreaPolygon> = exteriors
        .into_iter()
        .map(|exterior| AreaPolygon {
            exterior,
            holes: Vec::new(),
        })
        .collect();
    for hole in holes.drain(..) {
        // Smallest first: the first exterior holding the hole is its own.
        match polygons
            .iter_mut()
            .find(|p| ring_contains(&p.exterior, hole[0]))
        {
            Some(p) => p.holes.push(hole),
            None => polygons.push(AreaPolygon {
                exterior: hole,
                holes: Vec::new(),
            }),
        }
    }
    polygons
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::outline_contains;

    fn square(x0: f32, y0: f32, x1: f32, y1: f32) -> Vec<[f32; 2]> {
        vec![[x0, y0], [x1, y0], [x1, y1], [x0, y1]]
    }

    #[test]
    fn the_locator_finds_the_area_holes_and_parts_included() {
        let ring_with_hole = AreaPolygon {
            exterior: square(0.0, 0.0, 100.0, 100.0),
            holes: vec![square(40.0, 40.0, 60.0, 60.0)],
        };
        let two_parts = vec![
            AreaPolygon {
                exterior: square(100.0, 0.0, 200.0, 100.0),
                holes: Vec::new(),
            },
            AreaPolygon {
                exterior: square(45.0, 45.0, 55.0, 55.0),
                holes: Vec::new(),
            },
        ];
        let areas = [vec![ring_with_hole], two_parts];
        let locator = AreaLocator::new(areas.iter().map(Vec::as_slice));
        assert_eq!(locator.locate([10.0, 10.0]), Some(0));
        assert_eq!(locator.locate([150.0, 50.0]), Some(1));
        // In the hole of area 0 lies the island of area 1.
        assert_eq!(locator.locate([50.0, 50.0]), Some(1));
        assert_eq!(locator.locate([42.0, 50.0]), None, "the hole's rim");
        assert_eq!(locator.locate([250.0, 50.0]), None);
        assert_eq!(locator.locate([50.0, -10.0]), None);
        assert_eq!(locator.locate([f32::NAN, f32::NAN]), None);
        for p in [[10.0, 10.0], [50.0, 50.0], [42.0, 50.0], [150.0, 99.0]] {
            let want = areas.iter().position(|a| outline_contains(a, p));
            assert_eq!(locator.locate(p), want, "{p:?}");
        }
        assert_eq!(
            AreaLocator::new(std::iter::empty()).locate([0.0, 0.0]),
            None
        );
    }

    #[test]
    fn traced_outlines_enclose_their_cells_smoothly_with_holes() {
        // A 20×16 raster: area 1 a block with a hole of area 2 inside; area
        // 3 along the east; 0 is no area.
        let (cols, rows) = (20u32, 16u32);
        let mut labels = vec![0u32; (cols * rows) as usize];
        for r in 1..13 {
            for c in 1..11 {
                labels[(r * cols + c) as usize] = 1;
            }
        }
        for r in 5..9 {
            for c in 4..8 {
                labels[(r * cols + c) as usize] = 2;
            }
        }
        for r in 0..rows {
            for c in 13..cols {
                labels[(r * cols + c) as usize] = 3;
            }
        }
        let grid = LabelGrid {
            origin_m: [1000.0, 2000.0],
            cell_m: 10.0,
            cols,
            rows,
            labels: &labels,
        };
        let outlines = trace_outlines(grid, |l| (l != 0).then_some(l), Some);
        assert_eq!(outlines.len(), 3, "area 0 is no area");
        let one = &outlines[&1];
        assert_eq!(one.len(), 1);
        assert_eq!(one[0].holes.len(), 1, "area 2 is a hole in area 1");
        let centre = |c: u32, r: u32| {
            [
                1000.0 + (c as f32 + 0.5) * 10.0,
                2000.0 + (r as f32 + 0.5) * 10.0,
            ]
        };
        // Every cell's centre two cells from a border (or the raster's
        // edge: its corners are rounded off) lies in its own outline only.
        for r in 0..rows {
            for c in 0..cols {
                let label = labels[(r * cols + c) as usize];
                let p = centre(c, r);
                for (k, outline) in &outlines {
                    let interior = (r as i64 - 2..=r as i64 + 2).all(|rr| {
                        (c as i64 - 2..=c as i64 + 2).all(|cc| {
                            rr >= 0
                                && cc >= 0
                                && rr < rows as i64
                                && cc < cols as i64
                                && labels[(rr * cols as i64 + cc) as usize] == label
                        })
                    });
                    if interior {
                        assert_eq!(outline_contains(outline, p), *k == label, "{c},{r} in {k}");
                    }
                }
            }
        }
        // Smooth: no right-angle corners left, every turn under 45°.
        for ring in one[0].rings() {
            let n = ring.len();
            for i in 0..n {
                let (a, b, c) = (ring[(i + n - 1) % n], ring[i], ring[(i + 1) % n]);
                let (u, v) = ([b[0] - a[0], b[1] - a[1]], [c[0] - b[0], c[1] - b[1]]);
                let cos = (u[0] * v[0] + u[1] * v[1]) / (u[0].hypot(u[1]) * v[0].hypot(v[1]));
                assert!(cos > 0.7, "a sharp corner at {b:?}");
            }
        }
        assert!(ring_area(&one[0].exterior) > 0.0 && ring_area(&one[0].holes[0]) < 0.0);
    }

    #[test]
    fn a_staircase_smooths_to_its_diagonal() {
        // Unit steps up to (16, 16), back west along y = 16, down x = 0.
        let steps: Vec<[f32; 2]> = (0..16)
            .flat_map(|i| [[i as f32, i as f32], [i as f32 + 1.0, i as f32]])
            .chain((0..16).map(|i| [16.0 - i as f32, 16.0]))
            .chain((0..16).map(|i| [0.0, 16.0 - i as f32]))
            .collect();
        let smooth = smooth_ring(&steps, &vec![false; steps.len()]);
        // Away from the ring's corners, the points lie on the diagonal (a
        // fraction of a cell off), not on the steps.
        let on_line = smooth
            .iter()
            .filter(|p| p[0] > 6.0 && p[0] < 10.0 && p[1] < p[0])
            .map(|p| p[0] - p[1])
            .collect::<Vec<_>>();
        assert!(!on_line.is_empty());
        for d in on_line {
            assert!((d - 0.5).abs() < 0.1, "{d}");
        }
    }
}
