//! Scenario files (`scenes/scenario_*.ron`) and the simulator that plays
//! them: fire-main pressure sensors on the tallest buildings, normal readings
//! with noise, and faults (pressure 0) that start at random and clear after a
//! while; AI-camera muck-truck detections and grid reports; the monitored
//! slopes (see `hazard_sim`);
//! simulated departments working the cases. Time-scaled and deterministic
//! for a seed.

use std::collections::HashMap;
use std::path::Path;

use serde::Deserialize;

use super::hazard_sim::HazardSimState;
use crate::config::{self, ConfigError};
use crate::geo::rng::Rng;

const WHAT: &str = "scenario";
use crate::model::{
    BuildingId, Case, CaseAction, CaseId, CaseStatus, City, EvacuationStatus, EventKind, HazardId,
    HazardLive, Measurement, RiskLevel, SensorId, SensorReading,
};

pub const EMBEDDED_DEMO_SCENARIO: &str = include_str!("../../scenes/scenario_demo.ron");

#[derive(Clone, Debug, Deserialize)]
pub struct Scenario {
    pub seed: u64,
    /// Simulated seconds per real second.
    pub time_scale: f64,
    /// Real milliseconds between engine ticks.
    pub tick_ms: u64,
    /// Simulated start time, ms since the Unix epoch.
    pub start_time_ms: i64,
    /// Buildings (tallest first) that carry a fire-main pressure sensor.
    pub sensors: usize,
    pub normal_mpa: (f32, f32),
    /// Share of healthy sensors that report in each tick.
    pub report_share: f32,
    /// New faults per simulated hour.
    pub faults_per_hour: f64,
    /// How long a fault lasts, simulated minutes (min, max).
    pub fault_minutes: (f64, f64),
    /// How long pressure must hold before the alarm clears, simulated seconds.
    pub restore_after_s: i64,
    /// Simulated duty officers and field units working the cases (none:
    /// cases wait for a real operator).
    #[serde(default)]
    pub workflow: Option<WorkflowSim>,
    /// Events that come without a sensor: AI cameras, grid workers,
    /// geological monitoring (none: fire mains only).
    #[serde(default)]
    pub incidents: Option<IncidentSim>,
    /// The monitored slopes: creep, episodes of acceleration, evacuation
    /// (none: the bodies stay quiet).
    #[serde(default)]
    pub hazards: Option<super::hazard_sim::HazardSim>,
    /// The city scene this scenario plays on (a `scenes/demo_*.ron` name,
    /// relative to the scenario file); `None`: the city given on the
    /// command line.
    #[serde(default)]
    pub scene: Option<String>,
}

/// Rates (per simulated hour) of the events the scenario raises directly.
#[derive(Clone, Debug, Deserialize)]
pub struct IncidentSim {
    /// AI camera detections of illegal muck trucks (渣土车).
    pub muck_trucks_per_hour: f64,
    /// Citizen and grid-worker reports (网格上报).
    pub grid_reports_per_hour: f64,
}

/// An event the scenario raises at a building (not from a sensor reading).
#[derive(Clone, Debug, PartialEq)]
pub struct Incident {
    pub kind: EventKind,
    pub building: BuildingId,
    /// The camera that saw it (a detection by an AI camera).
    pub camera: Option<crate::model::CameraId>,
    pub severity: RiskLevel,
    pub message: String,
}

const GRID_REPORTS: [&str; 6] = [
    "占道经营 / street stall blocking the road",
    "垃圾堆放 / rubbish dumped",
    "井盖缺失 / missing manhole cover",
    "违章搭建 / illegal structure",
    "路灯损坏 / street light out",
    "噪声扰民 / noise complaint",
];

/// Delays (simulated minutes, min..max) of each step the simulated people take.
#[derive(Clone, Debug, Deserialize)]
pub struct WorkflowSim {
    pub dispatch_min: (f64, f64),
    pub acknowledge_min: (f64, f64),
    pub handle_min: (f64, f64),
    pub verify_min: (f64, f64),
    /// Share of verifications that fail and send the case back to handling.
    pub fail_share: f32,
}

impl Scenario {
    pub fn embedded() -> Result<Scenario, ConfigError> {
        Scenario::parse(EMBEDDED_DEMO_SCENARIO, "<embedded scenario_demo.ron>")
    }

    pub fn load(path: &Path) -> Result<Scenario, ConfigError> {
        let (text, name) = config::read(WHAT, path)?;
        Scenario::parse(&text, &name)
    }

    pub fn parse(text: &str, path: &str) -> Result<Scenario, ConfigError> {
        let s: Scenario = config::parse_ron(WHAT, text, path)?;
        if s.time_scale <= 0.0 || s.tick_ms == 0 || s.fault_minutes.0 > s.fault_minutes.1 {
            return Err(ConfigError::invalid(
                WHAT,
                path,
                "time_scale and tick_ms must be positive, fault_minutes (min, max)",
            ));
        }
        if let Some(h) = &s.hazards
            && (h.evacuation_min.len() != 4 || h.reading_every_min <= 0.0)
        {
            return Err(ConfigError::invalid(
                WHAT,
                path,
                "hazards: evacuation_min needs four (min, max) delays and reading_every_min must be positive",
            ));
        }
        Ok(s)
    }

    /// Simulated milliseconds per tick.
    pub fn sim_ms_per_tick(&self) -> i64 {
        (self.tick_ms as f64 * self.time_scale).round() as i64
    }
}

/// Sensor ids for the `count` tallest buildings (ties by id): sensor i sits
/// on the i-th tallest.
pub fn sensor_bindings(city: &City, count: usize) -> HashMap<SensorId, BuildingId> {
    let mut order: Vec<_> = city.buildings.iter().map(|b| (b.height_m, b.id)).collect();
    order.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    order
        .into_iter()
        .take(count)
        .enumerate()
        .map(|(i, (_, id))| (SensorId(i as u32), id))
        .collect()
}

pub struct Simulator {
    scenario: Scenario,
    rng: Rng,
    sensor_count: u32,
    /// Faulty sensors and the simulated time their fault ends.
    faults: HashMap<SensorId, i64>,
    /// When each open case's next simulated step is due.
    next_step: HashMap<CaseId, i64>,
    /// The slopes' simulation (set up on the first tick that needs it).
    hazards: Option<HazardSimState>,
}

impl Simulator {
    pub fn new(scenario: Scenario, sensor_count: usize) -> Simulator {
        Simulator {
            rng: Rng::new(scenario.seed),
            sensor_count: sensor_count as u32,
            scenario,
            faults: HashMap::new(),
            next_step: HashMap::new(),
            hazards: None,
        }
    }

    pub fn scenario(&self) -> &Scenario {
        &self.scenario
    }

    fn normal(&mut self, sensor: SensorId, time_ms: i64) -> SensorReading {
        let (lo, hi) = self.scenario.normal_mpa;
        SensorReading {
            sensor,
            value: Measurement::PressureMpa(self.rng.range(lo, hi)),
            time_ms,
        }
    }

    /// The workflow steps simulated people take at `now_ms` on the open
    /// cases: each case waits a random delay per step, then moves on.
    pub fn work_cases<'a>(
        &mut self,
        now_ms: i64,
        open: impl Iterator<Item = &'a Case>,
        suggest: impl Fn(&Case) -> Vec<String>,
    ) -> Vec<(CaseId, CaseAction)> {
        let Some(sim) = self.scenario.workflow.clone() else {
            return Vec::new();
        };
        let mut steps = Vec::new();
        let mut open_ids = Vec::new();
        for case in open {
            open_ids.push(case.id);
            let delay = match case.status {
                CaseStatus::Registered => sim.dispatch_min,
                CaseStatus::Dispatched => sim.acknowledge_min,
                CaseStatus::Handling => sim.handle_min,
                CaseStatus::Verifying | CaseStatus::Closed => sim.verify_min,
            };
            let due = *self.next_step.entry(case.id).or_insert_with(|| {
                let minutes = delay.0 + (delay.1 - delay.0) * f64::from(self.rng.f32());
                now_ms + (minutes * 60_000.0) as i64
            });
            if now_ms < due {
                continue;
            }
            self.next_step.remove(&case.id);
            let verified = case
                .steps
                .last()
                .is_some_and(|s| matches!(s.action, CaseAction::Verify { passed: true }));
            let action = match case.status {
                CaseStatus::Registered => CaseAction::Dispatch {
                    departments: suggest(case),
                },
                CaseStatus::Dispatched => CaseAction::Acknowledge,
                CaseStatus::Handling => CaseAction::Submit,
                CaseStatus::Verifying if verified => CaseAction::Close,
                CaseStatus::Verifying => CaseAction::Verify {
                    passed: self.rng.f32() >= sim.fail_share,
                },
                CaseStatus::Closed => continue,
            };
            steps.push((case.id, action));
        }
        self.next_step.retain(|id, _| open_ids.contains(id));
        steps
    }

    /// How many events a Poisson process with `per_hour` raises in `dt_ms`.
    fn arrivals(&mut self, per_hour: f64, dt_ms: i64) -> usize {
        let mut budget = per_hour * dt_ms as f64 / 3_600_000.0;
        let mut n = 0;
        while budget > 0.0 {
            if f64::from(self.rng.f32()) < budget.min(1.0) {
                n += 1;
            }
            budget -= 1.0;
        }
        n
    }

    /// What this scenario raises in `city`, and what it leaves out because
    /// the data has nothing for it — one line each, for the log.
    pub fn plan_for(&self, city: &City) -> Vec<String> {
        let s = &self.scenario;
        let mut lines = Vec::new();
        if s.faults_per_hour > 0.0 && self.sensor_count > 0 {
            lines.push(format!(
                "fire-main pressure faults: {}/h over {} sensors",
                s.faults_per_hour, self.sensor_count
            ));
        }
        if let Some(i) = &s.incidents {
            let ai = city.cameras.iter().filter(|c| c.ai).count();
            lines.push(if ai > 0 {
                format!(
                    "muck-truck detections: {}/h from {ai} AI cameras",
                    i.muck_trucks_per_hour
                )
            } else {
                "muck-truck detections: off — the city has no AI camera (--cameras FILE)".to_owned()
            });
            if !city.buildings.is_empty() {
                lines.push(format!("grid reports: {}/h", i.grid_reports_per_hour));
            }
        }
        if s.hazards.is_some() {
            let points: usize = city.hazards.iter().map(|h| h.points.len()).sum();
            lines.push(if points > 0 {
                format!(
                    "landslide monitoring: {} bodies, {points} points",
                    city.hazards.len()
                )
            } else {
                "landslide monitoring: off — the city has no hazard body (--hazards FILE)"
                    .to_owned()
            });
        }
        lines
    }

    /// Camera detections, grid reports and slope warnings raised in the
    /// tick that ends at `now_ms`, `dt_ms` long.
    pub fn incidents(&mut self, city: &City, dt_ms: i64) -> Vec<Incident> {
        let Some(sim) = self.scenario.incidents.clone() else {
            return Vec::new();
        };
        let n = city.buildings.len();
        let mut out = Vec::new();
        if n == 0 {
            return out;
        }
        // Detections come from the city's AI cameras, at the building
        // nearest each; a city without any raises none (see `plan_for`).
        let ai: Vec<&crate::model::Camera> = city.cameras.iter().filter(|c| c.ai).collect();
        let trucks = self.arrivals(sim.muck_trucks_per_hour, dt_ms);
        for _ in 0..if ai.is_empty() { 0 } else { trucks } {
            let c = ai[self.rng.below(ai.len())];
            let b = nearest_building(city, c.position_m);
            out.push(Incident {
                kind: EventKind::MuckTruck,
                building: b.id,
                camera: Some(c.id),
                severity: RiskLevel::Moderate,
                message: format!("AI 摄像头 {}：{} 附近渣土车未覆盖、抛洒", c.name, b.address),
            });
        }
        for _ in 0..self.arrivals(sim.grid_reports_per_hour, dt_ms) {
            let b = &city.buildings[self.rng.below(n)];
            let what = GRID_REPORTS[self.rng.below(GRID_REPORTS.len())];
            out.push(Incident {
                kind: EventKind::GridReport,
                building: b.id,
                camera: None,
                severity: RiskLevel::Lower,
                message: format!("网格员上报：{} {what}", b.address),
            });
        }
        out
    }

    fn hazard_state(&mut self, city: &City, now_ms: i64) -> Option<&mut HazardSimState> {
        let sim = self.scenario.hazards.clone()?;
        let seed = self.scenario.seed;
        let start = self.scenario.start_time_ms;
        Some(
            self.hazards
                .get_or_insert_with(|| HazardSimState::new(sim, seed, city, start.min(now_ms))),
        )
    }

    /// Monitoring readings due in the tick ending at `now_ms`.
    pub fn hazard_readings(&mut self, city: &City, now_ms: i64, _dt_ms: i64) -> Vec<SensorReading> {
        self.hazard_state(city, now_ms)
            .map(|h| h.readings(city, now_ms))
            .unwrap_or_default()
    }

    /// Simulated field units' evacuation reports.
    pub fn work_evacuations(
        &mut self,
        city: &City,
        live: &[HazardLive],
        now_ms: i64,
    ) -> Vec<(HazardId, u16, EvacuationStatus)> {
        self.hazard_state(city, now_ms)
            .map(|h| h.work_evacuations(city, live, now_ms))
            .unwrap_or_default()
    }

    /// Bodies that fail now.
    pub fn failures(&mut self, city: &City, now_ms: i64) -> Vec<HazardId> {
        self.hazard_state(city, now_ms)
            .map(|h| h.failures(city, now_ms))
            .unwrap_or_default()
    }

    /// Readings for the tick that ends at simulated `now_ms`, `dt_ms` long.
    pub fn step(&mut self, now_ms: i64, dt_ms: i64) -> Vec<SensorReading> {
        let mut readings = Vec::new();
        if self.sensor_count == 0 {
            return readings;
        }
        // Faults that end now report healthy pressure again.
        let mut ended: Vec<SensorId> = self
            .faults
            .iter()
            .filter(|(_, until)| **until <= now_ms)
            .map(|(s, _)| *s)
            .collect();
        ended.sort();
        for sensor in ended {
            self.faults.remove(&sensor);
            readings.push(self.normal(sensor, now_ms));
        }
        // New faults: a Poisson process, sampled per tick.
        for _ in 0..self.arrivals(self.scenario.faults_per_hour, dt_ms) {
            let sensor = SensorId(self.rng.below(self.sensor_count as usize) as u32);
            if !self.faults.contains_key(&sensor) {
                let (lo, hi) = self.scenario.fault_minutes;
                let minutes = lo + (hi - lo) * f64::from(self.rng.f32());
                self.faults
                    .insert(sensor, now_ms + (minutes * 60_000.0) as i64);
                readings.push(SensorReading {
                    sensor,
                    value: Measurement::PressureMpa(0.0),
                    time_ms: now_ms,
                });
            }
        }
        // Routine reports from healthy sensors.
        let reports = (self.sensor_count as f32 * self.scenario.report_share).round() as usize;
        for _ in 0..reports {
            let sensor = SensorId(self.rng.below(self.sensor_count as usize) as u32);
            let reading = if self.faults.contains_key(&sensor) {
                SensorReading {
                    sensor,
                    value: Measurement::PressureMpa(0.0),
                    time_ms: now_ms,
                }
            } else {
                self.normal(sensor, now_ms)
            };
            readings.push(reading);
        }
        readings
    }
}

/// The building whose footprint centre is nearest `p` (the city has one).
fn nearest_building(city: &City, p: [f32; 2]) -> &crate::model::Building {
    city.buildings
        .iter()
        .min_by(|a, b| {
            let d = |x: &crate::model::Building| {
                let c = x.centre_m();
                (c[0] - p[0]).hypot(c[1] - p[1])
            };
            d(a).total_cmp(&d(b))
        })
        .unwrap_or(&city.buildings[0])
}
