//! A building with its fire code (一楼一码) and bound parties.

use serde::{Deserialize, Serialize};

use super::{DistrictId, RiskLevel, StreetId};

/// Dense index of a building: position in [`crate::model::City::buildings`],
/// in the GPU state buffer and in every vertex of the building's mesh.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct BuildingId(pub u32);

impl BuildingId {
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// A person or company bound to a building's fire code.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Party {
    pub name: String,
    pub phone: String,
}

/// The three parties every high-rise's fire code is bound to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResponsibleParties {
    /// 消防安全责任人
    pub safety_responsible: Party,
    /// 消防安全管理人
    pub safety_manager: Party,
    /// 维保单位 (maintenance company)
    pub maintenance: Party,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Building {
    pub id: BuildingId,
    /// Fire code, e.g. "500103-0001234".
    pub code: String,
    pub name: Option<String>,
    pub address: String,
    pub district: DistrictId,
    pub street: StreetId,
    /// Footprint ring in local metres (east, north), counter-clockwise, not closed.
    pub footprint_m: Vec<[f32; 2]>,
    /// The footprints of its other parts (a MultiPolygon's): one building,
    /// one id, one code, one card.
    #[serde(default)]
    pub parts_m: Vec<Vec<[f32; 2]>>,
    /// Terrain elevation the walls start from.
    pub base_elevation_m: f32,
    pub height_m: f32,
    pub floors: u16,
    /// Level assessed offline; live readings may raise it.
    pub base_level: RiskLevel,
    pub parties: ResponsibleParties,
}

impl Building {
    /// Every footprint: the main one, then the other parts'.
    pub fn rings(&self) -> impl Iterator<Item = &[[f32; 2]]> {
        std::iter::once(self.footprint_m.as_slice()).chain(self.parts_m.iter().map(Vec::as_slice))
    }

    /// Axis-aligned bounds of the footprint: (min, max).
    pub fn footprint_bounds(&self) -> ([f32; 2], [f32; 2]) {
        footprint_bounds(&self.footprint_m)
    }

    /// Axis-aligned bounds of every part's footprint.
    pub fn footprint_bounds_all(&self) -> ([f32; 2], [f32; 2]) {
        footprint_bounds(self.rings().flatten())
    }

    /// Mean of the footprint vertices.
    pub fn centre_m(&self) -> [f32; 2] {
        let n = self.footprint_m.len().max(1) as f32;
        let (sx, sy) = self
            .footprint_m
            .iter()
            .fold((0.0, 0.0), |(sx, sy), p| (sx + p[0], sy + p[1]));
        [sx / n, sy / n]
    }

    pub fn top_elevation_m(&self) -> f32 {
        self.base_elevation_m + self.height_m
    }
}

pub(crate) fn footprint_bounds<'a>(
    points: impl IntoIterator<Item = &'a [f32; 2]>,
) -> ([f32; 2], [f32; 2]) {
    points.into_iter().fold(
        ([f32::INFINITY; 2], [f32::NEG_INFINITY; 2]),
        |(lo, hi), p| {
            (
                [lo[0].min(p[0]), lo[1].min(p[1])],
                [hi[0].max(p[0]), hi[1].max(p[1])],
            )
        },
    )
}
