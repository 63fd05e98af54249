//! Events the operations centre sees (alarms, recoveries, reports).

use serde::{Deserialize, Serialize};

use super::{BuildingId, CameraId, HazardId, RiskLevel};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct EventId(pub u64);

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum EventKind {
    /// A fire main's pressure fell to zero (消防主管网压力为零).
    FireMainPressureLost,
    /// The pressure came back and held.
    FireMainPressureRestored,
    /// An AI camera saw an illegal muck truck (渣土车).
    MuckTruck,
    /// A citizen or grid worker reported a problem (网格上报).
    GridReport,
    /// A landslide or dangerous-rock body crossed a warning threshold.
    LandslideWarning,
}

impl EventKind {
    /// Every kind, in the order panels list them.
    pub const ALL: [EventKind; 5] = [
        EventKind::FireMainPressureLost,
        EventKind::FireMainPressureRestored,
        EventKind::MuckTruck,
        EventKind::GridReport,
        EventKind::LandslideWarning,
    ];

    /// The kinds that open a case (a restoration closes one instead).
    pub fn opens_case(self) -> bool {
        self != EventKind::FireMainPressureRestored
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum EventStatus {
    Open,
    Closed,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub id: EventId,
    pub kind: EventKind,
    pub building: Option<BuildingId>,
    /// The hazard body a landslide warning is about.
    pub hazard: Option<HazardId>,
    /// The camera that raised it (an AI camera's detection).
    pub camera: Option<CameraId>,
    /// How severe it is, on the same five-level scale as fire risk.
    pub severity: RiskLevel,
    pub status: EventStatus,
    /// Milliseconds since the Unix epoch.
    pub time_ms: i64,
    pub message: String,
}
