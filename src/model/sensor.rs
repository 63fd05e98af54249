//! Sensors and their typed readings: a fire main's pressure, a monitoring
//! point's displacement, a rain gauge's rainfall.

use serde::{Deserialize, Serialize};

use super::{BuildingId, HazardId};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct SensorId(pub u32);

/// Sensor ids of hazard monitoring points start here (fire mains count
/// from 0), so the two registries never collide.
pub const HAZARD_SENSOR_BASE: u32 = 1 << 24;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SensorKind {
    /// Water pressure of a building's fire main (MPa); 0 means no water.
    FireMainPressure,
    /// GNSS station or crack meter on a hazard body.
    Displacement,
    /// Rain gauge on a hazard body.
    RainGauge,
}

/// What a sensor is bound to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SensorTarget {
    Building(BuildingId),
    /// Monitoring point `point` of a hazard body.
    HazardPoint {
        hazard: HazardId,
        point: u16,
    },
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Sensor {
    pub id: SensorId,
    pub kind: SensorKind,
    pub target: SensorTarget,
}

/// A reading's value, in the unit its kind names.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub enum Measurement {
    PressureMpa(f32),
    /// Displacement since installation, east/north/up (mm).
    DisplacementMm([f32; 3]),
    /// Cumulative displacement along the slope (mm), when only that is known.
    CumulativeMm(f32),
    /// Rainfall since the previous reading (mm).
    RainMm(f32),
}

impl Measurement {
    pub fn kind(&self) -> SensorKind {
        match self {
            Measurement::PressureMpa(_) => SensorKind::FireMainPressure,
            Measurement::DisplacementMm(_) | Measurement::CumulativeMm(_) => {
                SensorKind::Displacement
            }
            Measurement::RainMm(_) => SensorKind::RainGauge,
        }
    }

    /// One number for summaries: the value, or a vector's length.
    pub fn scalar(&self) -> f32 {
        match self {
            Measurement::PressureMpa(v) | Measurement::CumulativeMm(v) | Measurement::RainMm(v) => {
                *v
            }
            Measurement::DisplacementMm([e, n, u]) => (e * e + n * n + u * u).sqrt(),
        }
    }

    /// Every component is a finite number.
    pub fn is_finite(&self) -> bool {
        match self {
            Measurement::PressureMpa(v) | Measurement::CumulativeMm(v) | Measurement::RainMm(v) => {
                v.is_finite()
            }
            Measurement::DisplacementMm(v) => v.iter().all(|c| c.is_finite()),
        }
    }
}

/// One reading of a sensor.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct SensorReading {
    pub sensor: SensorId,
    pub value: Measurement,
    /// Milliseconds since the Unix epoch.
    pub time_ms: i64,
}

impl SensorReading {
    /// A fire main's pressure reading.
    pub fn pressure(sensor: SensorId, mpa: f32, time_ms: i64) -> SensorReading {
        SensorReading {
            sensor,
            value: Measurement::PressureMpa(mpa),
            time_ms,
        }
    }

    /// The pressure, when this is a fire-main reading.
    pub fn pressure_mpa(&self) -> Option<f32> {
        match self.value {
            Measurement::PressureMpa(v) => Some(v),
            _ => None,
        }
    }
}
