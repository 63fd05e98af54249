//! Sensors bound to buildings and their readings.

use serde::{Deserialize, Serialize};

use super::BuildingId;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct SensorId(pub u32);

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SensorKind {
    /// Water pressure of a building's fire main (MPa); 0 means no water.
    FireMainPressure,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Sensor {
    pub id: SensorId,
    pub kind: SensorKind,
    pub building: BuildingId,
}

/// The latest value of a sensor.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct SensorReading {
    pub sensor: SensorId,
    pub value: f32,
    /// Milliseconds since the Unix epoch.
    pub time_ms: i64,
}
