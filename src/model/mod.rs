//! Pure domain types: ids, risk levels, buildings, regions. No bevy, no tokio.

mod building;
mod city;
mod region;
mod risk;

pub use building::{Building, BuildingId, Party, ResponsibleParties};
pub use city::{City, CityBounds, LevelCounts, Terrain};
pub use region::{District, DistrictId, Street, StreetId};
pub use risk::RiskLevel;
