//! The demo's districts and streets as areas of ground, not just labels on
//! buildings: each district grows from its dense centres over the terrain
//! (a cost-distance flood where water and climbing cost many times flat
//! land), so districts meet mid-river and along ridges, as real ones do;
//! streets grow the same way inside their district. Their outlines are
//! traced from this raster; every building takes the areas of the ground it
//! stands on.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};

use super::scene::DemoScene;
use crate::geo::LocalFrame;
use crate::geo::outline::{LabelGrid, trace_outlines};
use crate::model::{AreaPolygon, Street, Terrain};

/// Raster cell of the partition.
const CELL_M: f32 = 100.0;
/// A metre over water costs this many metres over land: rivers divide.
const WATER_COST: f32 = 60.0;
/// Each metre climbed or descended costs this many metres walked: ridges
/// divide.
const CLIMB_COST: f32 = 5.0;
const NONE: u32 = u32::MAX;

/// District (low 16 bits) and street (high 16 bits) of every cell.
pub(super) struct Partition {
    origin_m: [f32; 2],
    cols: u32,
    rows: u32,
    districts: Vec<u32>,
    streets: Vec<u32>,
}

impl Partition {
    /// Districts grown from their centre and dense clusters.
    pub(super) fn districts(scene: &DemoScene, frame: &LocalFrame, terrain: &Terrain) -> Partition {
        let origin_m = [scene.min_m.0, scene.min_m.1];
        let cols = ((scene.max_m.0 - scene.min_m.0) / CELL_M).ceil() as u32;
        let rows = ((scene.max_m.1 - scene.min_m.1) / CELL_M).ceil() as u32;
        let mut p = Partition {
            origin_m,
            cols,
            rows,
            districts: vec![NONE; (cols * rows) as usize],
            streets: vec![NONE; (cols * rows) as usize],
        };
        let seeds: Vec<(usize, u32)> = scene
            .districts
            .iter()
            .enumerate()
            .flat_map(|(i, d)| {
                std::iter::once(d.centre)
                    .chain(d.clusters.iter().map(|c| (c.0, c.1)))
                    .map(move |(lon, lat)| (i, (lon, lat)))
            })
            .filter_map(|(i, (lon, lat))| Some((p.index(frame.to_local(lon, lat))?, i as u32)))
            .collect();
        p.districts = p.grow(terrain, &seeds, |_, _| true);
        p
    }

    /// Streets grown from their centres, each inside its own district;
    /// ground of a district none of its streets reaches takes its first.
    pub(super) fn add_streets(&mut self, streets: &[Street], terrain: &Terrain) {
        let seeds: Vec<(usize, u32)> = streets
            .iter()
            .filter_map(|s| {
                let i = self.index(s.centre_m)?;
                (self.districts[i] == u32::from(s.district.0)).then_some((i, u32::from(s.id.0)))
            })
            .collect();
        let districts = self.districts.clone();
        let street_district: Vec<u32> = streets.iter().map(|s| u32::from(s.district.0)).collect();
        self.streets = self.grow(terrain, &seeds, |from, to| districts[from] == districts[to]);
        let mut first: HashMap<u32, u32> = HashMap::new();
        for s in streets.iter().rev() {
            first.insert(u32::from(s.district.0), u32::from(s.id.0));
        }
        for (i, street) in self.streets.iter_mut().enumerate() {
            let unreached = *street == NONE
                || street_district.get(*street as usize) != Some(&self.districts[i]);
            if unreached && let Some(&s) = first.get(&self.districts[i]) {
                *street = s;
            }
        }
    }

    fn index(&self, p: [f32; 2]) -> Option<usize> {
        let c = ((p[0] - self.origin_m[0]) / CELL_M).floor();
        let r = ((p[1] - self.origin_m[1]) / CELL_M).floor();
        (c >= 0.0 && r >= 0.0 && c < self.cols as f32 && r < self.rows as f32)
            .then(|| (r as u32 * self.cols + c as u32) as usize)
    }

    fn centre(&self, i: usize) -> [f32; 2] {
        let (c, r) = ((i as u32 % self.cols) as f32, (i as u32 / self.cols) as f32);
        [
            self.origin_m[0] + (c + 0.5) * CELL_M,
            self.origin_m[1] + (r + 0.5) * CELL_M,
        ]
    }

    /// The district of the ground at `p`.
    pub(super) fn district_at(&self, p: [f32; 2]) -> Option<u32> {
        self.index(p)
            .map(|i| self.districts[i])
            .filter(|&d| d != NONE)
    }

    /// Multi-source cost-distance flood (8 neighbours) from `seeds`
    /// (cell, label), stepping from a cell to a neighbour only where
    /// `may(from, to)`.
    fn grow(
        &self,
        terrain: &Terrain,
        seeds: &[(usize, u32)],
        may: impl Fn(usize, usize) -> bool,
    ) -> Vec<u32> {
        let n = (self.cols * self.rows) as usize;
        let height: Vec<f32> = (0..n).map(|i| terrain.height_at(self.centre(i))).collect();
        let water: Vec<bool> = (0..n).map(|i| terrain.is_water(self.centre(i))).collect();
        let mut cost = vec![f32::INFINITY; n];
        let mut label = vec![NONE; n];
        let mut heap = BinaryHeap::new();
        for &(i, l) in seeds {
            if cost[i] > 0.0 {
                (cost[i], label[i]) = (0.0, l);
                heap.push(Reverse((0u32, i)));
            }
        }
        let (cols, rows) = (i64::from(self.cols), i64::from(self.rows));
        while let Some(Reverse((bits, i))) = heap.pop() {
            let here = f32::from_bits(bits);
            if here > cost[i] {
                continue;
            }
            let (c, r) = (i as i64 % cols, i as i64 / cols);
            for (dc, dr) in [
                (1, 0),
                (-1, 0),
                (0, 1),
                (0, -1),
                (1, 1),
                (1, -1),
                (-1, 1),
                (-1, -1),
            ] {
                let (nc, nr) = (c + dc, r + dr);
                if nc < 0 || nr < 0 || nc >= cols || nr >= rows {
                    continue;
                }
                let j = (nr * cols + nc) as usize;
                if !may(i, j) {
                    continue;
                }
                let run = if dc != 0 && dr != 0 {
                    CELL_M * std::f32::consts::SQRT_2
                } else {
                    CELL_M
                };
                let wet = f32::from(u8::from(water[i])) + f32::from(u8::from(water[j]));
                let step = run * (1.0 + (WATER_COST - 1.0) * wet * 0.5)
                    + CLIMB_COST * (height[j] - height[i]).abs();
                let next = here + step;
                if next < cost[j] {
                    (cost[j], label[j]) = (next, label[i]);
                    // Positive floats order as their bits.
                    heap.push(Reverse((next.to_bits(), j)));
                }
            }
        }
        label
    }

    /// Outlines of the districts and of the streets, by id.
    pub(super) fn outlines(
        &self,
    ) -> (
        HashMap<u32, Vec<AreaPolygon>>,
        HashMap<u32, Vec<AreaPolygon>>,
    ) {
        let words: Vec<u32> = self
            .districts
            .iter()
            .zip(&self.streets)
            .map(|(&d, &s)| if d == NONE { NONE } else { d | (s << 16) })
            .collect();
        let grid = LabelGrid {
            origin_m: self.origin_m,
            cell_m: CELL_M,
            cols: self.cols,
            rows: self.rows,
            labels: &words,
        };
        let word = |w: u32| (w != NONE).then_some(w);
        (
            trace_outlines(grid, |w| word(w).map(|w| w & 0xffff), word),
            trace_outlines(grid, |w| word(w).map(|w| w >> 16), word),
        )
    }
}
