//! The whole city: terrain, water, regions and buildings in local metres.

use serde::{Deserialize, Serialize};

use super::{
    Building, BuildingId, Camera, CameraId, District, Hazard, HazardId, RiskLevel, Street,
};

/// A regular elevation grid in local metres, row 0 at the south edge.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Terrain {
    /// South-west corner (east, north) in local metres.
    pub origin_m: [f32; 2],
    pub cell_m: f32,
    pub cols: usize,
    pub rows: usize,
    /// `rows * cols` elevations, row-major from the south.
    pub heights_m: Vec<f32>,
    /// Water surface elevation; `None` when the city has no modelled water.
    pub water_level_m: Option<f32>,
}

impl Terrain {
    /// A flat terrain covering `min..max` at `elevation_m`.
    pub fn flat(min: [f32; 2], max: [f32; 2], elevation_m: f32) -> Terrain {
        let cell_m = ((max[0] - min[0]).max(max[1] - min[1]) / 64.0).max(1.0);
        let cols = (((max[0] - min[0]) / cell_m).ceil() as usize + 1).max(2);
        let rows = (((max[1] - min[1]) / cell_m).ceil() as usize + 1).max(2);
        Terrain {
            origin_m: min,
            cell_m,
            cols,
            rows,
            heights_m: vec![elevation_m; cols * rows],
            water_level_m: None,
        }
    }

    pub fn size_m(&self) -> [f32; 2] {
        [
            (self.cols - 1) as f32 * self.cell_m,
            (self.rows - 1) as f32 * self.cell_m,
        ]
    }

    pub fn height_at_cell(&self, col: usize, row: usize) -> f32 {
        self.heights_m[row.min(self.rows - 1) * self.cols + col.min(self.cols - 1)]
    }

    /// Bilinear elevation at a local point; clamps outside the grid.
    pub fn height_at(&self, p: [f32; 2]) -> f32 {
        let fx = ((p[0] - self.origin_m[0]) / self.cell_m).clamp(0.0, (self.cols - 1) as f32);
        let fy = ((p[1] - self.origin_m[1]) / self.cell_m).clamp(0.0, (self.rows - 1) as f32);
        let (c0, r0) = (fx.floor() as usize, fy.floor() as usize);
        let (c1, r1) = ((c0 + 1).min(self.cols - 1), (r0 + 1).min(self.rows - 1));
        let (tx, ty) = (fx - c0 as f32, fy - r0 as f32);
        let h00 = self.height_at_cell(c0, r0);
        let h10 = self.height_at_cell(c1, r0);
        let h01 = self.height_at_cell(c0, r1);
        let h11 = self.height_at_cell(c1, r1);
        let south = h00 + (h10 - h00) * tx;
        let north = h01 + (h11 - h01) * tx;
        south + (north - south) * ty
    }

    /// True where the terrain lies below the water surface.
    pub fn is_water(&self, p: [f32; 2]) -> bool {
        self.water_level_m.is_some_and(|w| self.height_at(p) < w)
    }
}

/// Geographic anchor of the local frame and its extent.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct CityBounds {
    /// WGS84 (lon, lat) of local (0, 0).
    pub origin_lon_lat: [f64; 2],
    pub min_m: [f32; 2],
    pub max_m: [f32; 2],
}

impl CityBounds {
    /// The larger side, in metres.
    pub fn span_m(&self) -> f32 {
        (self.max_m[0] - self.min_m[0]).max(self.max_m[1] - self.min_m[1])
    }
}

/// Counts of buildings per level, indexed by [`RiskLevel::index`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LevelCounts(pub [usize; 5]);

impl LevelCounts {
    pub fn from_levels(levels: impl IntoIterator<Item = RiskLevel>) -> LevelCounts {
        let mut counts = [0; 5];
        for level in levels {
            counts[level.index()] += 1;
        }
        LevelCounts(counts)
    }

    /// The same for a slice, fast for a million: four interleaved tallies,
    /// so consecutive buildings at one level do not wait on one counter.
    pub fn of_slice(levels: &[RiskLevel]) -> LevelCounts {
        let mut tallies = [[0usize; 5]; 4];
        let mut quads = levels.chunks_exact(4);
        for q in &mut quads {
            for (tally, level) in tallies.iter_mut().zip(q) {
                tally[level.index()] += 1;
            }
        }
        for level in quads.remainder() {
            tallies[0][level.index()] += 1;
        }
        let mut counts = [0; 5];
        for tally in tallies {
            for (count, n) in counts.iter_mut().zip(tally) {
                *count += n;
            }
        }
        LevelCounts(counts)
    }

    pub fn get(&self, level: RiskLevel) -> usize {
        self.0[level.index()]
    }

    pub fn total(&self) -> usize {
        self.0.iter().sum()
    }
}

/// Everything the twin shows that does not change with live data.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct City {
    pub name_zh: String,
    pub name_en: String,
    pub bounds: CityBounds,
    pub terrain: Terrain,
    pub districts: Vec<District>,
    pub streets: Vec<Street>,
    pub buildings: Vec<Building>,
    /// Landslide, dangerous-rock, rockfall and debris-flow bodies.
    pub hazards: Vec<Hazard>,
    /// Site, crossing, building and body-worn cameras.
    #[serde(default)]
    pub cameras: Vec<Camera>,
    /// Data attributions to show (e.g. "© OpenStreetMap contributors (ODbL)").
    pub attributions: Vec<String>,
    /// The base map draped on the terrain (`--imagery`), read by the
    /// cockpit as the camera moves.
    #[serde(default)]
    pub imagery: Option<ImageryRef>,
}

/// Which file holds a city's imagery, and where it lies.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ImageryRef {
    pub path: std::path::PathBuf,
    /// (west, south, east, north), WGS84 degrees.
    pub bounds_lon_lat: [f64; 4],
    /// What the file says of itself ("GeoTIFF 650×650 RGB, EPSG:4326").
    pub summary: String,
    /// Ground metres per pixel at its finest.
    #[serde(default)]
    pub finest_m_per_px: f64,
}

impl City {
    pub fn building(&self, id: BuildingId) -> Option<&Building> {
        self.buildings.get(id.index())
    }

    pub fn camera(&self, id: CameraId) -> Option<&Camera> {
        self.cameras.get(id.index())
    }

    pub fn hazard(&self, id: HazardId) -> Option<&Hazard> {
        self.hazards.get(id.index())
    }

    pub fn base_levels(&self) -> impl Iterator<Item = RiskLevel> + '_ {
        self.buildings.iter().map(|b| b.base_level)
    }

    /// Finds buildings by fire code, name or address (substring, case-insensitive
    /// for Latin text), best matches first: exact code, code prefix, then others.
    pub fn search(&self, query: &str, limit: usize) -> Vec<BuildingId> {
        let query = query.trim().to_lowercase();
        if query.is_empty() {
            return Vec::new();
        }
        let mut hits: Vec<(u8, BuildingId)> = self
            .buildings
            .iter()
            .filter_map(|b| {
                let code = b.code.to_lowercase();
                let rank = if code == query {
                    0
                } else if code.starts_with(&query) {
                    1
                } else if code.contains(&query)
                    || b.address.to_lowercase().contains(&query)
                    || b.name
                        .as_ref()
                        .is_some_and(|n| n.to_lowercase().contains(&query))
                {
                    2
                } else {
                    return None;
                };
                Some((rank, b.id))
            })
            .collect();
        hits.sort();
        hits.truncate(limit);
        hits.into_iter().map(|(_, id)| id).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bilinear_sampling_interpolates_between_cells() {
        let terrain = Terrain {
            origin_m: [0.0, 0.0],
            cell_m: 10.0,
            cols: 2,
            rows: 2,
            heights_m: vec![0.0, 10.0, 20.0, 30.0],
            water_level_m: Some(5.0),
        };
        assert_eq!(terrain.height_at([0.0, 0.0]), 0.0);
        assert_eq!(terrain.height_at([10.0, 10.0]), 30.0);
        assert!((terrain.height_at([5.0, 5.0]) - 15.0).abs() < 1e-4);
        // Clamped outside the grid.
        assert_eq!(terrain.height_at([-50.0, -50.0]), 0.0);
        assert!(terrain.is_water([0.0, 0.0]));
        assert!(!terrain.is_water([10.0, 10.0]));
    }

    #[test]
    fn level_counts_sum_to_the_number_of_levels() {
        let counts = LevelCounts::from_levels([RiskLevel::Low, RiskLevel::Low, RiskLevel::Major]);
        assert_eq!(counts.get(RiskLevel::Low), 2);
        assert_eq!(counts.get(RiskLevel::Major), 1);
        assert_eq!(counts.total(), 3);
    }
}
