//! The demo city's recipe, read from `scenes/demo_chongqing.ron`.

use std::path::Path;

use serde::Deserialize;

use crate::config::{self, ConfigError};

const WHAT: &str = "demo scene";

/// The recipe shipped in the binary (so `citytwin` runs from any directory).
pub const EMBEDDED_DEMO_SCENE: &str = include_str!("../../../scenes/demo_chongqing.ron");

#[derive(Clone, Debug, Deserialize)]
pub struct DemoScene {
    pub name_zh: String,
    pub name_en: String,
    pub seed: u64,
    /// WGS84 (lon, lat) of local (0, 0).
    pub origin: (f64, f64),
    pub min_m: (f32, f32),
    pub max_m: (f32, f32),
    pub cell_m: f32,
    pub tile_m: f32,
    pub buildings: usize,
    pub streets: usize,
    /// Landslide / dangerous-rock bodies on the steep banks and ridges.
    #[serde(default)]
    pub hazards: usize,
    /// Bodies placed by hand, each with the village in its threat zone.
    #[serde(default)]
    pub sites: Vec<SiteRecipe>,
    pub terrain: TerrainRecipe,
    pub water_level_m: f32,
    pub ridges: Vec<Ridge>,
    pub rivers: Vec<River>,
    pub districts: Vec<DistrictRecipe>,
    /// Shares of 重大, 较大, 一般, 较低; the rest are 低.
    pub level_mix: (f32, f32, f32, f32),
}

/// A hazard body placed by hand, with the houses and residents below it.
#[derive(Clone, Debug, Deserialize)]
pub struct SiteRecipe {
    pub code: String,
    pub name: String,
    /// 滑坡 / 危岩 / 崩塌 / 泥石流 (or the English names).
    pub kind: String,
    /// Centre of the body (lon, lat); it points down the local slope.
    pub centre: (f64, f64),
    pub length_m: f32,
    pub width_m: f32,
    pub thickness_m: f32,
    /// Houses in the threat zone and the people living in them.
    pub houses: usize,
    pub residents: u32,
    /// GNSS stations on the body; a rain gauge beside it.
    pub stations: usize,
    pub rain_gauge: bool,
}

#[derive(Clone, Debug, Deserialize)]
pub struct TerrainRecipe {
    pub base_m: f32,
    pub noise_m: f32,
    pub noise_scale_m: f32,
}

#[derive(Clone, Debug, Deserialize)]
pub struct Ridge {
    pub name: String,
    pub height_m: f32,
    pub half_width_m: f32,
    pub path: Vec<(f64, f64)>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct River {
    pub name: String,
    pub width_m: f32,
    pub path: Vec<(f64, f64)>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct DistrictRecipe {
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
    pub centre: (f64, f64),
    pub share: f32,
    /// Real street (街道) names; more are generated up to the scene's count.
    pub streets: Vec<String>,
    /// Dense centres: (lon, lat, sigma_m, weight).
    pub clusters: Vec<(f64, f64, f32, f32)>,
}

impl DemoScene {
    pub fn embedded() -> Result<DemoScene, ConfigError> {
        DemoScene::parse(EMBEDDED_DEMO_SCENE, "<embedded demo_chongqing.ron>")
    }

    pub fn load(path: &Path) -> Result<DemoScene, ConfigError> {
        let (text, name) = config::read(WHAT, path)?;
        DemoScene::parse(&text, &name)
    }

    pub fn parse(text: &str, path: &str) -> Result<DemoScene, ConfigError> {
        let scene: DemoScene = config::parse_ron(WHAT, text, path)?;
        let invalid = |reason: &str| ConfigError::invalid(WHAT, path, reason);
        if scene.districts.is_empty() || scene.districts.iter().any(|d| d.clusters.is_empty()) {
            return Err(invalid("every scene needs districts, each with a cluster"));
        }
        if scene.cell_m <= 0.0 || scene.tile_m <= 0.0 {
            return Err(invalid("cell_m and tile_m must be positive"));
        }
        if scene.max_m.0 <= scene.min_m.0 || scene.max_m.1 <= scene.min_m.1 {
            return Err(invalid("max_m must lie north-east of min_m"));
        }
        for site in &scene.sites {
            if crate::model::HazardKind::parse(&site.kind).is_none() {
                return Err(invalid(&format!(
                    "site {}: kind {:?} is not 滑坡, 危岩, 崩塌 or 泥石流",
                    site.code, site.kind
                )));
            }
            if site.length_m <= 0.0 || site.width_m <= 0.0 || site.stations == 0 {
                return Err(invalid(&format!(
                    "site {}: length, width and stations must be positive",
                    site.code
                )));
            }
        }
        Ok(scene)
    }
}
