//! A raster of which district and street each patch of ground belongs to:
//! every cell takes the street of the nearest building (within a reach), by
//! a multi-source breadth-first fill, and the district most buildings around
//! it belong to. The terrain shader reads it to tint the
//! drilled-into area and draw its boundary; nothing else needs polygons.

use std::collections::VecDeque;

use crate::model::{Building, CityBounds};

/// A cell that belongs to no area (too far from any building).
pub const NO_AREA: u32 = u32::MAX;
/// In the GPU words only: some cell within [`EDGE_REACH`] has another area
/// word, so a boundary line may pass here (the shader samples neighbours
/// only for these cells).
pub const NEAR_EDGE: u32 = 1 << 15;
/// In the GPU words only: some cell within [`EDGE_REACH`] lies in another
/// district (the city-level borders; far rarer than street edges).
pub const NEAR_DISTRICT_EDGE: u32 = 1 << 14;
/// How far (cells) [`NEAR_EDGE`] looks; the shader's line half-width stays
/// below this.
pub const EDGE_REACH: u32 = 2;

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

    /// The cells as the GPU reads them: each word with [`NEAR_EDGE`] set
    /// where a different word lies within [`EDGE_REACH`] cells.
    pub fn gpu_words(&self) -> Vec<u32> {
        let (cols, rows) = (self.cols as i64, self.rows as i64);
        let reach = i64::from(EDGE_REACH);
        let mut out = self.cells.clone();
        for r in 0..rows {
            for c in 0..cols {
                let here = self.cells[(r * cols + c) as usize];
                if here == NO_AREA {
                    continue;
                }
                let mut flags = 0;
                for dr in -reach..=reach {
                    for dc in -reach..=reach {
                        let (nr, nc) = (r + dr, c + dc);
                        let there = if nr < 0 || nc < 0 || nr >= rows || nc >= cols {
                            NO_AREA
                        } else {
                            self.cells[(nr * cols + nc) as usize]
                        };
                        if there != here {
                            flags |= NEAR_EDGE;
                        }
                        if there != NO_AREA && (there & 0xffff) != (here & 0xffff) {
                            flags |= NEAR_DISTRICT_EDGE;
                        }
                    }
                }
                out[(r * cols + c) as usize] |= flags;
            }
        }
        out
    }

    /// Little-endian bytes of [`AreaGrid::gpu_words`] (a storage buffer;
    /// never empty).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out: Vec<u8> = self
            .gpu_words()
            .iter()
            .flat_map(|w| w.to_le_bytes())
            .collect();
        if out.is_empty() {
            out.extend_from_slice(&NO_AREA.to_le_bytes());
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
        // The GPU words flag exactly the cells near a change of area.
        let words = grid.gpu_words();
        let count = |flag: u32| {
            words
                .iter()
                .filter(|w| **w != NO_AREA && *w & flag != 0)
                .count()
        };
        let areas = words.iter().filter(|w| **w != NO_AREA).count();
        let (near, near_district) = (count(NEAR_EDGE), count(NEAR_DISTRICT_EDGE));
        assert!(near > 0 && near < areas, "{near} of {areas}");
        assert!(
            near_district > 0 && near_district < near,
            "{near_district} near a district border, {near} near any"
        );
        for r in 1..grid.rows - 1 {
            for c in 1..grid.cols - 1 {
                let i = (r * grid.cols + c) as usize;
                let (a, b) = (grid.cells[i], grid.cells[i + 1]);
                if a != NO_AREA && a != b {
                    assert_ne!(words[i] & NEAR_EDGE, 0, "cell {c},{r} borders another area");
                    assert_eq!(
                        words[i] & !(NEAR_EDGE | NEAR_DISTRICT_EDGE),
                        a,
                        "the area itself is kept"
                    );
                    if a & 0xffff != b & 0xffff && b != NO_AREA {
                        assert_ne!(words[i] & NEAR_DISTRICT_EDGE, 0);
                    }
                }
            }
        }
    }
}
