//! The city → district → street hierarchy (市 → 区 → 街道).

use serde::{Deserialize, Serialize};

/// Index of a district in [`crate::model::City::districts`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct DistrictId(pub u16);

/// Index of a street in [`crate::model::City::streets`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct StreetId(pub u16);

/// A district (区), e.g. 渝中区 with administrative code 500103.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct District {
    pub id: DistrictId,
    /// Six-digit administrative division code, e.g. "500103".
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
    /// Centre in local metres (east, north).
    pub centre_m: [f32; 2],
}

/// A street sub-district (街道) inside a district.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Street {
    pub id: StreetId,
    pub district: DistrictId,
    pub name_zh: String,
    pub centre_m: [f32; 2],
}
