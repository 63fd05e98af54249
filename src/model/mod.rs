//! Pure domain types: ids, risk levels, buildings, regions, sensors,
//! geohazard bodies, events, cases and their workflow.
//! No bevy, no tokio.

pub mod briefing;
mod building;
mod camera;
mod case;
mod city;
mod event;
mod hazard;
mod kpi;
mod region;
mod risk;
mod sensor;
pub mod wall;

pub use building::{Building, BuildingId, Party, ResponsibleParties};
pub use camera::{Camera, CameraId, CameraKind, cameras_near};
pub use case::{Case, CaseAction, CaseId, CaseLevel, CaseStatus, CaseStep, WorkflowError};
pub use city::{City, CityBounds, ImageryRef, LevelCounts, Terrain};
pub use event::{Event, EventId, EventKind, EventStatus};
pub use hazard::{
    Criterion, EvacuationStatus, Forecast, Hazard, HazardId, HazardKind, HazardLive, HazardStatus,
    MonitoringPoint, PlanStep, PointKind, Sample, Threatened, Thresholds, WarningLevel, ring_area,
    ring_contains,
};
pub use kpi::{Kpi, KpiTable, percent_text};
pub use region::{Area, AreaPolygon, District, DistrictId, Street, StreetId, outline_contains};
pub use risk::RiskLevel;
pub use sensor::{
    HAZARD_SENSOR_BASE, Measurement, Sensor, SensorId, SensorKind, SensorReading, SensorTarget,
};

/// The README's example that starts with `opening` (after "```ron\n"),
/// for the tests that parse it.
#[cfg(test)]
pub(crate) fn readme_example(opening: &str) -> &'static str {
    let readme = include_str!("../../README.md");
    let marker = format!("```ron\n{opening}");
    let start = readme.find(&marker).expect("README has the example") + "```ron\n".len();
    let end = start + readme[start..].find("```").expect("the example is closed");
    &readme[start..end]
}
