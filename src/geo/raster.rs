//! The roofs level's flat part: a tile's buildings too low for their walls
//! to show from where that level is drawn, as a grid of building ids
//! draped over the terrain. The GPU draws a few triangles per tile and
//! reads each pixel's building from the grid — its colour, selection and
//! pulse from the one state buffer, as at every other level.

use super::world_from_local;
use crate::model::{Building, Terrain};

/// Side of a raster texel (m): under half a pixel where the roofs level
/// starts (see `cockpit::city::buildings::BuildingLod`).
pub const RASTER_TEXEL_M: f32 = 8.0;
/// How far the draped surface may stray from the terrain under it (m).
pub const SURFACE_TOLERANCE_M: f32 = 4.0;
/// Largest raster side (texels): a wider tile gets coarser texels.
const MAX_SIDE: u32 = 1024;
/// Largest surface grid side (cells).
const MAX_SURFACE_CELLS: usize = 64;
/// The surface covers the cells of at most this side that hold buildings
/// (no fragments spent on empty ground).
pub const OCCUPANCY_CELL_M: f32 = 200.0;

/// Building ids on a grid of texels, and the surface they are drawn on.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TileRaster {
    /// Local metres (east, north) of texel (0, 0)'s south-west corner.
    pub origin_m: [f32; 2],
    pub texel_m: f32,
    /// Texels east, north.
    pub size: [u32; 2],
    /// Row-major from the south: building id + 1, 0 where there is none.
    pub ids: Vec<u32>,
    /// The surface (world space): the terrain lifted by `lift_m` where
    /// there are buildings, as coarse as [`SURFACE_TOLERANCE_M`] allows.
    pub positions: Vec<[f32; 3]>,
    pub indices: Vec<u32>,
    /// The buildings' median roof height above the terrain: where their
    /// roofs are drawn.
    pub lift_m: f32,
}

impl TileRaster {
    /// The raster of `buildings` over `terrain`; `None` without buildings.
    pub fn of(buildings: &[&Building], terrain: &Terrain) -> Option<TileRaster> {
        let (lo, hi) = buildings.iter().map(|b| b.footprint_bounds_all()).fold(
            ([f32::INFINITY; 2], [f32::NEG_INFINITY; 2]),
            |(lo, hi), (a, b)| {
                (
                    [lo[0].min(a[0]), lo[1].min(a[1])],
                    [hi[0].max(b[0]), hi[1].max(b[1])],
                )
            },
        );
        if !(lo[0] <= hi[0] && lo[1] <= hi[1]) {
            return None;
        }
        let span = (hi[0] - lo[0]).max(hi[1] - lo[1]);
        let texel_m = RASTER_TEXEL_M.max(span / MAX_SIDE as f32);
        let size = [
            (((hi[0] - lo[0]) / texel_m).ceil() as u32).max(1),
            (((hi[1] - lo[1]) / texel_m).ceil() as u32).max(1),
        ];
        let mut raster = TileRaster {
            origin_m: lo,
            texel_m,
            size,
            ids: vec![0; size[0] as usize * size[1] as usize],
            ..TileRaster::default()
        };
        let mut tops: Vec<f32> = Vec::with_capacity(buildings.len());
        for b in buildings {
            raster.fill(b);
            tops.push(b.top_elevation_m() - terrain.height_at(b.centre_m()));
        }
        tops.sort_by(f32::total_cmp);
        raster.lift_m = tops[tops.len() / 2].max(0.0);
        raster.drape(terrain);
        Some(raster)
    }

    /// The building id (not + 1) at a local point, if any.
    pub fn id_at(&self, p: [f32; 2]) -> Option<u32> {
        let x = ((p[0] - self.origin_m[0]) / self.texel_m).floor();
        let y = ((p[1] - self.origin_m[1]) / self.texel_m).floor();
        if x < 0.0 || y < 0.0 || x >= self.size[0] as f32 || y >= self.size[1] as f32 {
            return None;
        }
        let word = self.ids[y as usize * self.size[0] as usize + x as usize];
        word.checked_sub(1)
    }

    /// Marks the texels whose centres lie in `b`'s footprints (even-odd
    /// over all its rings); one too small to hold a centre gets the texel
    /// under its own centre, so no building vanishes.
    fn fill(&mut self, b: &Building) {
        let word = b.id.0 + 1;
        let [w, h] = [self.size[0] as i64, self.size[1] as i64];
        let t = self.texel_m;
        let (lo, hi) = b.footprint_bounds_all();
        let row_of = |y: f32| ((y - self.origin_m[1]) / t - 0.5).ceil() as i64;
        let col_of = |x: f32| ((x - self.origin_m[0]) / t - 0.5).ceil() as i64;
        let mut filled = false;
        let mut crossings = Vec::new();
        for row in row_of(lo[1]).max(0)..row_of(hi[1]).min(h) {
            let y = self.origin_m[1] + (row as f32 + 0.5) * t;
            crossings.clear();
            for ring in b.rings() {
                for (i, a) in ring.iter().enumerate() {
                    let c = ring[(i + 1) % ring.len()];
                    if (a[1] <= y) != (c[1] <= y) {
                        crossings.push(a[0] + (y - a[1]) * (c[0] - a[0]) / (c[1] - a[1]));
                    }
                }
            }
            crossings.sort_by(f32::total_cmp);
            for pair in crossings.chunks_exact(2) {
                let start = col_of(pair[0]).max(0);
                let end = col_of(pair[1]).min(w);
                if start < end {
                    let base = (row * w) as usize;
                    self.ids[base + start as usize..base + end as usize].fill(word);
                    filled = true;
                }
            }
        }
        if !filled {
            let c = b.centre_m();
            let x = ((c[0] - self.origin_m[0]) / t).floor() as i64;
            let y = ((c[1] - self.origin_m[1]) / t).floor() as i64;
            if (0..w).contains(&x) && (0..h).contains(&y) {
                self.ids[(y * w + x) as usize] = word;
            }
        }
    }

    /// The surface: under the buildings only, on the coarsest square grid
    /// (1, 2, 4 … cells a side) whose bilinear faces stay within
    /// [`SURFACE_TOLERANCE_M`] of the terrain (sampled at the terrain's own
    /// spacing), split into cells of at most [`OCCUPANCY_CELL_M`] of which
    /// those holding a building get a face — neighbours merged into
    /// rectangles inside one grid cell.
    fn drape(&mut self, terrain: &Terrain) {
        let extent = [
            self.size[0] as f32 * self.texel_m,
            self.size[1] as f32 * self.texel_m,
        ];
        let span = extent[0].max(extent[1]);
        let finest = ((span / terrain.cell_m).ceil() as usize).clamp(1, MAX_SURFACE_CELLS);
        let probes = ((span / terrain.cell_m).ceil() as usize).clamp(2, 128);
        let at = |u: f32, v: f32| {
            [
                self.origin_m[0] + u * extent[0],
                self.origin_m[1] + v * extent[1],
            ]
        };
        let mut cells = 1;
        while cells < finest {
            let heights: Vec<f32> = (0..=cells)
                .flat_map(|j| (0..=cells).map(move |i| (i, j)))
                .map(|(i, j)| {
                    terrain.height_at(at(i as f32 / cells as f32, j as f32 / cells as f32))
                })
                .collect();
            let fits = (0..=probes).all(|pj| {
                (0..=probes).all(|pi| {
                    let (u, v) = (pi as f32 / probes as f32, pj as f32 / probes as f32);
                    let (fx, fy) = (u * cells as f32, v * cells as f32);
                    let (i, j) = ((fx as usize).min(cells - 1), (fy as usize).min(cells - 1));
                    let (tx, ty) = (fx - i as f32, fy - j as f32);
                    let corner = |di: usize, dj: usize| heights[(j + dj) * (cells + 1) + i + di];
                    let south = corner(0, 0) + (corner(1, 0) - corner(0, 0)) * tx;
                    let north = corner(0, 1) + (corner(1, 1) - corner(0, 1)) * tx;
                    let surface = south + (north - south) * ty;
                    (surface - terrain.height_at(at(u, v))).abs() <= SURFACE_TOLERANCE_M
                })
            });
            if fits {
                break;
            }
            cells *= 2;
        }
        let cells = cells.min(finest);
        // Occupancy cells: each grid cell split `per` × `per`.
        let mut per = 1;
        while cells * per < MAX_SURFACE_CELLS && span / ((cells * per) as f32) > OCCUPANCY_CELL_M {
            per *= 2;
        }
        let n = cells * per;
        let mut occupied = vec![false; n * n];
        let [w, h] = [self.size[0] as usize, self.size[1] as usize];
        for (k, word) in self.ids.iter().enumerate() {
            if *word != 0 {
                let (x, y) = (k % w, k / w);
                occupied[(y * n / h) * n + x * n / w] = true;
            }
        }
        // Runs along each row, stacked into rectangles while the same run
        // repeats in the next row of the same grid cell.
        let mut rects: Vec<[usize; 4]> = Vec::new();
        let mut open: Vec<[usize; 4]> = Vec::new();
        for j in 0..n {
            let mut runs = Vec::new();
            let mut i = 0;
            while i < n {
                if !occupied[j * n + i] {
                    i += 1;
                    continue;
                }
                let start = i;
                i += 1;
                while i < n && occupied[j * n + i] && i % per != 0 {
                    i += 1;
                }
                runs.push((start, i));
            }
            let continues = j % per != 0;
            let mut next = Vec::with_capacity(runs.len());
            for (start, end) in runs {
                match open
                    .iter()
                    .position(|r| continues && r[0] == start && r[1] == end)
                {
                    Some(k) => {
                        let mut r = open.swap_remove(k);
                        r[3] = j + 1;
                        next.push(r);
                    }
                    None => next.push([start, end, j, j + 1]),
                }
            }
            rects.append(&mut open);
            open = next;
        }
        rects.append(&mut open);
        self.positions.clear();
        self.indices.clear();
        for [i0, i1, j0, j1] in rects {
            let first = self.positions.len() as u32;
            for (i, j) in [(i0, j0), (i1, j0), (i0, j1), (i1, j1)] {
                let p = at(i as f32 / n as f32, j as f32 / n as f32);
                self.positions
                    .push(world_from_local(p, terrain.height_at(p) + self.lift_m));
            }
            let [a, b, c, d] = [first, first + 1, first + 2, first + 3];
            // Counter-clockwise seen from above (world y up, north −z).
            self.indices.extend([a, b, d, a, d, c]);
        }
    }

    pub fn triangle_count(&self) -> usize {
        self.indices.len() / 3
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geo::mesh::tests::{L_RING, test_building};
    use crate::model::BuildingId;

    fn flat() -> Terrain {
        Terrain::flat([-1000.0, -1000.0], [1000.0, 1000.0], 100.0)
    }

    fn moved(ring: &[[f32; 2]], dx: f32, dy: f32) -> Vec<[f32; 2]> {
        ring.iter().map(|p| [p[0] + dx, p[1] + dy]).collect()
    }

    #[test]
    fn texels_inside_a_footprint_hold_its_id_and_its_notch_holds_none() {
        let l = test_building(7, L_RING.to_vec());
        let other = test_building(
            3,
            vec![[40.0, 0.0], [60.0, 0.0], [60.0, 20.0], [40.0, 20.0]],
        );
        let r = TileRaster::of(&[&l, &other], &flat()).expect("raster");
        assert_eq!(r.id_at([5.0, 5.0]), Some(7));
        assert_eq!(r.id_at([15.0, 5.0]), Some(7));
        assert_eq!(r.id_at([5.0, 15.0]), Some(7));
        assert_eq!(r.id_at([15.0, 15.0]), None, "the L's notch");
        assert_eq!(r.id_at([30.0, 10.0]), None, "between the two");
        assert_eq!(r.id_at([50.0, 10.0]), Some(3));
        // Five times as large: the texels cover its area (100 × 100 m
        // less the notch) to within the texels along its edges.
        let big = test_building(1, L_RING.iter().map(|p| [p[0] * 5.0, p[1] * 5.0]).collect());
        let r = TileRaster::of(&[&big], &flat()).expect("raster");
        let texels = r.ids.iter().filter(|w| **w == 2).count() as f32;
        let expected = 7500.0 / (r.texel_m * r.texel_m);
        assert!(
            (texels - expected).abs() <= expected * 0.15,
            "{texels} texels for {expected}"
        );
    }

    #[test]
    fn a_building_smaller_than_a_texel_keeps_one() {
        let tiny = test_building(5, vec![[0.0, 0.0], [2.0, 0.0], [2.0, 2.0], [0.0, 2.0]]);
        let big = test_building(6, moved(&L_RING, 100.0, 100.0));
        let r = TileRaster::of(&[&tiny, &big], &flat()).expect("raster");
        // Words are id + 1.
        assert!(r.ids.iter().filter(|w| **w == 7).count() > 2);
        assert_eq!(r.ids.iter().filter(|w| **w == 6).count(), 1);
        assert_eq!(r.id_at([1.0, 1.0]), Some(5));
    }

    #[test]
    fn parts_and_holes_fill_even_odd() {
        let mut b = test_building(2, vec![[0.0, 0.0], [40.0, 0.0], [40.0, 40.0], [0.0, 40.0]]);
        // A courtyard (a hole ring) and a second part across a lane.
        b.parts_m = vec![
            vec![[10.0, 10.0], [10.0, 30.0], [30.0, 30.0], [30.0, 10.0]],
            vec![[60.0, 0.0], [80.0, 0.0], [80.0, 20.0], [60.0, 20.0]],
        ];
        let r = TileRaster::of(&[&b], &flat()).expect("raster");
        assert_eq!(r.id_at([4.0, 20.0]), Some(2));
        assert_eq!(r.id_at([20.0, 20.0]), None, "the courtyard");
        assert_eq!(r.id_at([50.0, 10.0]), None, "the lane");
        assert_eq!(r.id_at([70.0, 10.0]), Some(2), "the second part");
        assert_eq!(BuildingId(r.id_at([70.0, 10.0]).unwrap_or(0)), b.id);
    }

    #[test]
    fn the_surface_is_one_quad_on_flat_ground_and_follows_relief() {
        let b = test_building(
            1,
            vec![
                [-900.0, -900.0],
                [900.0, -900.0],
                [900.0, 900.0],
                [-900.0, 900.0],
            ],
        );
        let r = TileRaster::of(&[&b], &flat()).expect("raster");
        // Covered wall to wall: one rectangle.
        assert_eq!(r.triangle_count(), 2);
        // Building base 100 m (the flat terrain), 30 m tall: roofs at 130.
        assert_eq!(r.lift_m, 30.0);
        assert!(r.positions.iter().all(|p| (p[1] - 130.0).abs() < 1e-3));
        // A hill: 200 m high in the middle, 30 m cells.
        let mut hill = Terrain::flat([-1000.0, -1000.0], [1000.0, 1000.0], 0.0);
        for row in 0..hill.rows {
            for col in 0..hill.cols {
                let x = hill.origin_m[0] + col as f32 * hill.cell_m;
                let y = hill.origin_m[1] + row as f32 * hill.cell_m;
                hill.heights_m[row * hill.cols + col] =
                    200.0 * (-(x * x + y * y) / (400.0 * 400.0)).exp();
            }
        }
        let r = TileRaster::of(&[&b], &hill).expect("raster");
        assert!(r.triangle_count() > 8, "{} triangles", r.triangle_count());
        let worst = (0..=40)
            .flat_map(|j| (0..=40).map(move |i| (i, j)))
            .map(|(i, j)| {
                let p = [-900.0 + 45.0 * i as f32, -900.0 + 45.0 * j as f32];
                let surface = surface_height(&r, p);
                assert!(!surface.is_nan(), "no surface over {p:?}");
                (surface - r.lift_m - hill.height_at(p)).abs()
            })
            .fold(0.0f32, f32::max);
        assert!(
            worst <= SURFACE_TOLERANCE_M + 0.5,
            "the surface strays {worst:.1} m"
        );
    }

    #[test]
    fn the_surface_covers_only_where_buildings_stand() {
        // Two small clusters at opposite corners of a 1.8 km tile.
        let square =
            |x: f32, y: f32| vec![[x, y], [x + 30.0, y], [x + 30.0, y + 30.0], [x, y + 30.0]];
        let a = test_building(1, square(-900.0, -900.0));
        let b = test_building(2, square(870.0, 870.0));
        let r = TileRaster::of(&[&a, &b], &flat()).expect("raster");
        let area: f32 = r
            .indices
            .chunks_exact(3)
            .map(|t| {
                let [p, q, s] = [0, 1, 2].map(|k| r.positions[t[k] as usize]);
                crate::geo::mesh::triangle_cross(p, q, s)[1] / 2.0
            })
            .sum();
        let tile = 1800.0f32 * 1800.0;
        assert!(area > 0.0 && area < tile * 0.05, "{area} m² of {tile}");
        for p in [[-885.0, -885.0], [885.0, 885.0]] {
            assert!(!surface_height(&r, p).is_nan(), "a surface under {p:?}");
        }
        assert!(surface_height(&r, [0.0, 0.0]).is_nan(), "none in between");
    }

    /// The surface's height over `p` (by its triangles).
    fn surface_height(r: &TileRaster, p: [f32; 2]) -> f32 {
        for tri in r.indices.chunks_exact(3) {
            let [a, b, c] = [0, 1, 2].map(|k| r.positions[tri[k] as usize]);
            let [a2, b2, c2] = [a, b, c].map(|v| [v[0], -v[2]]);
            let d = (b2[1] - c2[1]) * (a2[0] - c2[0]) + (c2[0] - b2[0]) * (a2[1] - c2[1]);
            let l1 = ((b2[1] - c2[1]) * (p[0] - c2[0]) + (c2[0] - b2[0]) * (p[1] - c2[1])) / d;
            let l2 = ((c2[1] - a2[1]) * (p[0] - c2[0]) + (a2[0] - c2[0]) * (p[1] - c2[1])) / d;
            let l3 = 1.0 - l1 - l2;
            if l1 >= -1e-4 && l2 >= -1e-4 && l3 >= -1e-4 {
                return l1 * a[1] + l2 * b[1] + l3 * c[1];
            }
        }
        f32::NAN
    }

    #[test]
    fn the_surface_faces_up() {
        let b = test_building(1, L_RING.to_vec());
        let r = TileRaster::of(&[&b], &flat()).expect("raster");
        for tri in r.indices.chunks_exact(3) {
            let [a, b, c] = [0, 1, 2].map(|k| r.positions[tri[k] as usize]);
            let n = crate::geo::mesh::triangle_cross(a, b, c);
            assert!(n[1] > 0.0, "triangle {tri:?} faces {n:?}");
        }
    }

    #[test]
    fn no_buildings_no_raster() {
        assert_eq!(TileRaster::of(&[], &flat()), None);
    }
}
