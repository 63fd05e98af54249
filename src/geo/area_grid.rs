//! A raster of which district and street each patch of ground belongs to:
//! every cell takes the street of the nearest building (within a reach), by
//! a multi-source breadth-first fill, and the district most buildings around
//! it belong to. Its boundaries (cell edges between areas) become the lines
//! the cockpit draws on the ground; nothing else needs polygons.

use std::collections::VecDeque;

use crate::model::{Building, CityBounds};

/// A straight piece of boundary, local metres (from, to).
pub type Segment = ([f32; 2], [f32; 2]);

/// A cell that belongs to no area (too far from any building).
pub const NO_AREA: u32 = u32::MAX;

#[derive(Debug, Clone, PartialEq)]
pub struct AreaGrid {
    /// Local (east, north) metres of the south-west corner of cell (0, 0).
    pub origin_m: [f32; 2],
    pub cell_m: f32,
    pub cols: u32,
    pub rows: u32,
    /// Row-major from the south: district | street << 16, or [`NO_AREA`].
    pub cells: Vec<u32>,
}

/// The word a building contributes: district | street << 16.
pub fn area_word(b: &Building) -> u32 {
    u32::from(b.district.0) | (u32::from(b.street.0) << 16)
}

impl AreaGrid {
    /// Cells of `cell_m` over `bounds`; ground farther than `reach` cells
    /// from every building stays [`NO_AREA`]; districts are decided by a
    /// majority vote of the buildings within `vote` cells.
    pub fn build(
        bounds: &CityBounds,
        buildings: &[Building],
        cell_m: f32,
        reach: u32,
        vote: u32,
    ) -> AreaGrid {
        let cols = (((bounds.max_m[0] - bounds.min_m[0]) / cell_m).ceil() as u32).max(1);
        let rows = (((bounds.max_m[1] - bounds.min_m[1]) / cell_m).ceil() as u32).max(1);
        let mut grid = AreaGrid {
            origin_m: bounds.min_m,
            cell_m,
            cols,
            rows,
            cells: vec![NO_AREA; (cols * rows) as usize],
        };
        let mut distance = vec![u32::MAX; grid.cells.len()];
        let mut queue = VecDeque::new();
        for b in buildings {
            if let Some(i) = grid.index_at(b.centre_m())
                && distance[i] != 0
            {
                distance[i] = 0;
                grid.cells[i] = area_word(b);
                queue.push_back(i);
            }
        }
        while let Some(i) = queue.pop_front() {
            let d = distance[i];
            if d >= reach {
                continue;
            }
            let (c, r) = ((i as u32) % cols, (i as u32) / cols);
            let neighbours = [
                (c.wrapping_sub(1), r),
                (c + 1, r),
                (c, r.wrapping_sub(1)),
                (c, r + 1),
            ];
            for (nc, nr) in neighbours {
                if nc >= cols || nr >= rows {
                    continue;
                }
                let j = (nr * cols + nc) as usize;
                if distance[j] == u32::MAX {
                    distance[j] = d + 1;
                    grid.cells[j] = grid.cells[i];
                    queue.push_back(j);
                }
            }
        }
        grid.smooth_districts(buildings, vote);
        grid
    }

    /// Re-labels each cell's district by the majority of buildings within
    /// `radius` cells, so interleaved districts get one boundary instead of
    /// a border around every block (the street bits stay the nearest
    /// building's).
    fn smooth_districts(&mut self, buildings: &[Building], radius: u32) {
        let districts = buildings
            .iter()
            .map(|b| usize::from(b.district.0) + 1)
            .max()
            .unwrap_or(0);
        if districts < 2 {
            return;
        }
        let (cols, rows) = (self.cols as usize, self.rows as usize);
        // Summed-area tables of building counts, one per district.
        let stride = cols + 1;
        let mut sums = vec![0u32; districts * stride * (rows + 1)];
        for b in buildings {
            if let Some(i) = self.index_at(b.centre_m()) {
                let (c, r) = (i % cols, i / cols);
                sums[usize::from(b.district.0) * stride * (rows + 1) + (r + 1) * stride + c + 1] +=
                    1;
            }
        }
        for d in 0..districts {
            let t = &mut sums[d * stride * (rows + 1)..(d + 1) * stride * (rows + 1)];
            for r in 1..=rows {
                for c in 1..=cols {
                    t[r * stride + c] += t[(r - 1) * stride + c] + t[r * stride + c - 1]
                        - t[(r - 1) * stride + c - 1];
                }
            }
        }
        let rad = radius as usize;
        for r in 0..rows {
            for c in 0..cols {
                let i = r * cols + c;
                if self.cells[i] == NO_AREA {
                    continue;
                }
                let (r0, r1) = (r.saturating_sub(rad), (r + rad + 1).min(rows));
                let (c0, c1) = (c.saturating_sub(rad), (c + rad + 1).min(cols));
                let mut best = (0u32, self.cells[i] & 0xffff);
                for d in 0..districts {
                    let t = &sums[d * stride * (rows + 1)..];
                    let n = t[r1 * stride + c1] + t[r0 * stride + c0]
                        - t[r0 * stride + c1]
                        - t[r1 * stride + c0];
                    if n > best.0 {
                        best = (n, d as u32);
                    }
                }
                self.cells[i] = (self.cells[i] & 0xffff_0000) | best.1;
            }
        }
    }

    fn index_at(&self, p: [f32; 2]) -> Option<usize> {
        let c = ((p[0] - self.origin_m[0]) / self.cell_m).floor();
        let r = ((p[1] - self.origin_m[1]) / self.cell_m).floor();
        if c < 0.0 || r < 0.0 || c >= self.cols as f32 || r >= self.rows as f32 {
            return None;
        }
        Some((r as u32 * self.cols + c as u32) as usize)
    }

    /// The area word at a local point ([`NO_AREA`] outside).
    pub fn at(&self, p: [f32; 2]) -> u32 {
        self.index_at(p).map_or(NO_AREA, |i| self.cells[i])
    }

    /// The cell word at column `c`, row `r` ([`NO_AREA`] off the grid).
    fn cell(&self, c: i64, r: i64) -> u32 {
        if c < 0 || r < 0 || c >= i64::from(self.cols) || r >= i64::from(self.rows) {
            return NO_AREA;
        }
        self.cells[(r * i64::from(self.cols) + c) as usize]
    }

    /// The cell edges (local metres, from → to) between neighbouring cells
    /// whose words `differ(a, b)` says are on two sides of a boundary.
    pub fn boundary(&self, differ: impl Fn(u32, u32) -> bool) -> Vec<Segment> {
        let (cols, rows) = (i64::from(self.cols), i64::from(self.rows));
        let at = |c: i64, r: i64| {
            [
                self.origin_m[0] + c as f32 * self.cell_m,
                self.origin_m[1] + r as f32 * self.cell_m,
            ]
        };
        let mut out = Vec::new();
        for r in -1..rows {
            for c in -1..cols {
                let here = self.cell(c, r);
                // The edge to the east neighbour, then to the north one.
                if r >= 0 && differ(here, self.cell(c + 1, r)) {
                    out.push((at(c + 1, r), at(c + 1, r + 1)));
                }
                if c >= 0 && differ(here, self.cell(c, r + 1)) {
                    out.push((at(c, r + 1), at(c + 1, r + 1)));
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geo::demo::{DemoScene, generate};

    #[test]
    fn every_building_stands_in_its_own_area_and_far_ground_in_none() {
        let mut scene = DemoScene::embedded().expect("scene");
        scene.buildings = 3_000;
        let city = generate(&scene);
        let grid = AreaGrid::build(&city.bounds, &city.buildings, 100.0, 3, 4);
        let own = city
            .buildings
            .iter()
            .filter(|b| grid.at(b.centre_m()) == area_word(b))
            .count();
        // Two buildings can share a cell, and a lone building among another
        // district's is outvoted; most stand in their own area.
        assert!(own * 100 >= city.buildings.len() * 80, "{own}");
        for b in city.buildings.iter().take(200) {
            assert_ne!(grid.at(b.centre_m()), NO_AREA);
        }
        // Majority smoothing: far fewer district borders than street borders.
        let edges = |mask: u32, shift: u32| {
            let mut n = 0;
            for r in 0..grid.rows {
                for c in 1..grid.cols {
                    let (a, b) = (
                        grid.cells[(r * grid.cols + c - 1) as usize],
                        grid.cells[(r * grid.cols + c) as usize],
                    );
                    if a != NO_AREA && b != NO_AREA && (a >> shift) & mask != (b >> shift) & mask {
                        n += 1;
                    }
                }
            }
            n
        };
        let (district_edges, street_edges) = (edges(0xffff, 0), edges(0xffff, 16));
        assert!(
            district_edges * 3 < street_edges,
            "{district_edges} district vs {street_edges} street edges"
        );
        let far = [city.bounds.min_m[0] + 1.0, city.bounds.min_m[1] + 1.0];
        let near_any = city.buildings.iter().any(|b| {
            let c = b.centre_m();
            (c[0] - far[0]).hypot(c[1] - far[1]) < 600.0
        });
        if !near_any {
            assert_eq!(grid.at(far), NO_AREA);
        }
        assert_eq!(grid.at([f32::MAX, 0.0]), NO_AREA);
        // Boundaries: every district border is a cell edge between two
        // districts; there are fewer of them than street borders.
        let district = |a: u32, b: u32| a != NO_AREA && b != NO_AREA && a & 0xffff != b & 0xffff;
        let street = |a: u32, b: u32| a != NO_AREA && b != NO_AREA && a >> 16 != b >> 16;
        let (d, st) = (grid.boundary(district), grid.boundary(street));
        assert_eq!(
            d.len(),
            district_edges + {
                // The horizontal-pair count above covered east neighbours only.
                let mut n = 0;
                for r in 1..grid.rows {
                    for c in 0..grid.cols {
                        let (a, b) = (
                            grid.cells[((r - 1) * grid.cols + c) as usize],
                            grid.cells[(r * grid.cols + c) as usize],
                        );
                        n += usize::from(district(a, b));
                    }
                }
                n
            }
        );
        assert!(d.len() < st.len());
        for (p, q) in &d {
            let len = (q[0] - p[0]).hypot(q[1] - p[1]);
            assert!(
                (len - grid.cell_m).abs() < 1e-3,
                "a cell edge: {p:?} → {q:?}"
            );
        }
        // A boundary around the built-up land closes: every corner is
        // shared by an even number of edge ends.
        let outline = grid.boundary(|a, b| (a == NO_AREA) != (b == NO_AREA));
        let mut ends = std::collections::HashMap::new();
        for (p, q) in &outline {
            for e in [p, q] {
                *ends.entry((e[0].to_bits(), e[1].to_bits())).or_insert(0) += 1;
            }
        }
        assert!(!outline.is_empty());
        assert!(ends.values().all(|n| n % 2 == 0), "a closed outline");
    }
}
