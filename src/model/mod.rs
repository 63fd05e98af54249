//! Pure domain types: ids, risk levels, buildings, regions, sensors, events.
//! No bevy, no tokio.

mod building;
mod city;
mod event;
mod region;
mod risk;
mod sensor;

pub use building::{Building, BuildingId, Party, ResponsibleParties};
pub use city::{City, CityBounds, LevelCounts, Terrain};
pub use event::{Event, EventId, EventKind, EventStatus};
pub use region::{District, DistrictId, Street, StreetId};
pub use risk::RiskLevel;
pub use sensor::{Sensor, SensorId, SensorKind, SensorReading};
