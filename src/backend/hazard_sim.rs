//! The scenario's slopes: every monitored body creeps at its own steady
//! rate (some not at all) with measurement noise; the scenario's episodes
//! make a few accelerate along a Voight (α = 2) curve towards a failure
//! time — then either stabilise or really fail; rain gauges record showers
//! and the rain that comes before an episode; simulated field units work
//! the evacuation lists step by step.

use std::collections::HashMap;

use serde::Deserialize;

use crate::geo::rng::Rng;
use crate::model::{
    City, EvacuationStatus, HazardId, HazardLive, Measurement, PointKind, SensorReading,
};

const HOUR_MS: f64 = 3_600_000.0;
const DAY_MS: f64 = 86_400_000.0;

/// The `hazards` section of a scenario.
#[derive(Clone, Debug, Deserialize)]
pub struct HazardSim {
    /// Simulated minutes between two readings of a monitoring point.
    pub reading_every_min: f64,
    /// Steady creep of the bodies (mm/day, min..max); `quiet_share` of
    /// them do not move at all.
    pub creep_mm_d: (f32, f32),
    pub quiet_share: f32,
    /// Standard deviation of a reading's noise (mm).
    pub noise_mm: f32,
    /// Bodies that accelerate.
    #[serde(default)]
    pub episodes: Vec<Episode>,
    /// Delays (simulated minutes, min..max) of each evacuation step after
    /// the previous one: notified, leaving, out, settled.
    pub evacuation_min: Vec<(f64, f64)>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct Episode {
    /// Index of the body in the city's list (`code` wins when given).
    #[serde(default)]
    pub hazard: usize,
    #[serde(default)]
    pub code: Option<String>,
    /// Creep before the episode (mm/day; the body's own rate when absent).
    #[serde(default)]
    pub creep_mm_d: Option<f32>,
    /// Hours after the scenario start when acceleration begins …
    pub start_h: f64,
    /// … and when the Voight curve reaches failure.
    pub failure_h: f64,
    /// The slope really fails at `failure_h`; otherwise it stabilises at
    /// `stop_h` and slows back to its creep.
    #[serde(default)]
    pub fails: bool,
    #[serde(default)]
    pub stop_h: Option<f64>,
    /// Rain in the two days before the acceleration (mm/hour).
    #[serde(default)]
    pub rain_mm_h: f32,
}

#[derive(Debug, Default, Clone, Copy)]
struct PointSim {
    displacement_mm: f64,
    last_ms: Option<i64>,
    /// This point's share of the body's movement.
    factor: f64,
}

#[derive(Debug)]
pub struct HazardSimState {
    sim: HazardSim,
    rng: Rng,
    start_ms: i64,
    /// Per body: creep (mm/day) and its episode (resolved to the body).
    creep: Vec<f64>,
    episodes: HashMap<HazardId, Episode>,
    points: Vec<Vec<PointSim>>,
    next_reading_ms: i64,
    /// When each threatened building's next evacuation step is due.
    next_evacuation: HashMap<(HazardId, u16), i64>,
    failed: Vec<bool>,
}

impl HazardSimState {
    pub fn new(sim: HazardSim, seed: u64, city: &City, start_ms: i64) -> HazardSimState {
        let mut rng = Rng::new(seed ^ 0x0051_07e5);
        let mut episodes = HashMap::new();
        for e in &sim.episodes {
            let id = match &e.code {
                Some(code) => city.hazards.iter().find(|h| &h.code == code).map(|h| h.id),
                None => city.hazards.get(e.hazard).map(|h| h.id),
            };
            if let Some(id) = id {
                episodes.insert(id, e.clone());
            }
        }
        let creep = city
            .hazards
            .iter()
            .map(|h| {
                let own = f64::from(rng.range(sim.creep_mm_d.0, sim.creep_mm_d.1));
                let quiet = rng.f32() < sim.quiet_share;
                match episodes.get(&h.id).and_then(|e| e.creep_mm_d) {
                    Some(v) => f64::from(v),
                    None if quiet => 0.0,
                    None => own,
                }
            })
            .collect();
        let points = city
            .hazards
            .iter()
            .map(|h| {
                h.points
                    .iter()
                    .map(|_| PointSim {
                        displacement_mm: f64::from(rng.range(0.0, 40.0)),
                        last_ms: None,
                        factor: f64::from(rng.range(0.6, 1.3)),
                    })
                    .collect()
            })
            .collect();
        HazardSimState {
            sim,
            rng,
            start_ms,
            creep,
            episodes,
            points,
            next_reading_ms: start_ms,
            next_evacuation: HashMap::new(),
            failed: vec![false; city.hazards.len()],
        }
    }

    /// The body's velocity (mm/day) at `t_ms`.
    fn velocity(&self, hazard: HazardId, t_ms: i64) -> f64 {
        let v0 = self.creep.get(hazard.index()).copied().unwrap_or(0.0);
        let Some(e) = self.episodes.get(&hazard) else {
            return v0;
        };
        let h = (t_ms - self.start_ms) as f64 / HOUR_MS;
        let vs = v0.max(0.05);
        let voight = |h: f64| {
            if h < e.start_h {
                v0
            } else {
                vs * (e.failure_h - e.start_h) / (e.failure_h - h).max(1e-3)
            }
        };
        match e.stop_h {
            Some(stop) if !e.fails && h > stop => {
                // Stabilised: slows back to creep within about a day.
                let at_stop = voight(stop);
                v0 + (at_stop - v0) * (-(h - stop) / 6.0).exp()
            }
            _ => voight(h),
        }
    }

    fn rain_mm_h(&mut self, hazard: HazardId, t_ms: i64) -> f32 {
        let h = (t_ms - self.start_ms) as f64 / HOUR_MS;
        let storm = self
            .episodes
            .get(&hazard)
            .filter(|e| h >= e.start_h - 48.0 && h < e.start_h + 6.0)
            .map_or(0.0, |e| e.rain_mm_h);
        let shower = if self.rng.f32() < 0.08 {
            self.rng.range(0.2, 4.0)
        } else {
            0.0
        };
        storm * self.rng.range(0.5, 1.5) + shower
    }

    /// Readings of every monitoring point due in the tick ending at `now_ms`.
    pub fn readings(&mut self, city: &City, now_ms: i64) -> Vec<SensorReading> {
        let mut out = Vec::new();
        let every_ms = (self.sim.reading_every_min * 60_000.0).max(1_000.0) as i64;
        while self.next_reading_ms <= now_ms {
            let t = self.next_reading_ms;
            self.next_reading_ms += every_ms;
            for h in &city.hazards {
                if self.failed[h.id.index()] || self.has_failed_by(h.id, t) {
                    continue;
                }
                let v = self.velocity(h.id, t);
                for (i, p) in h.points.iter().enumerate() {
                    let value = match p.kind {
                        PointKind::RainGauge => {
                            let hours = every_ms as f64 / HOUR_MS;
                            Measurement::RainMm(self.rain_mm_h(h.id, t) * hours as f32)
                        }
                        PointKind::Displacement => {
                            let noise = f64::from(self.rng.normal() * self.sim.noise_mm);
                            let ps = &mut self.points[h.id.index()][i];
                            let dt_days = ps.last_ms.map_or(0.0, |l| (t - l) as f64 / DAY_MS);
                            ps.last_ms = Some(t);
                            ps.displacement_mm += v * ps.factor * dt_days;
                            let s = (ps.displacement_mm + noise) as f32;
                            let [dx, dy] = h.downslope;
                            Measurement::DisplacementMm([s * dx * 0.95, s * dy * 0.95, -0.3 * s])
                        }
                    };
                    out.push(SensorReading {
                        sensor: p.sensor,
                        value,
                        time_ms: t,
                    });
                }
            }
        }
        out
    }

    fn has_failed_by(&self, hazard: HazardId, t_ms: i64) -> bool {
        self.episodes
            .get(&hazard)
            .is_some_and(|e| e.fails && (t_ms - self.start_ms) as f64 / HOUR_MS >= e.failure_h)
    }

    /// Bodies whose failure time has come (each once).
    pub fn failures(&mut self, city: &City, now_ms: i64) -> Vec<HazardId> {
        let mut out = Vec::new();
        for h in &city.hazards {
            if !self.failed[h.id.index()] && self.has_failed_by(h.id, now_ms) {
                self.failed[h.id.index()] = true;
                out.push(h.id);
            }
        }
        out
    }

    /// The field units' next evacuation reports, each after its delay.
    pub fn work_evacuations(
        &mut self,
        city: &City,
        live: &[HazardLive],
        now_ms: i64,
    ) -> Vec<(HazardId, u16, EvacuationStatus)> {
        let mut out = Vec::new();
        for (h, l) in city.hazards.iter().zip(live) {
            if l.status.failed_ms.is_some() {
                continue;
            }
            for (i, status) in l.status.evacuation.iter().enumerate() {
                let Some(next) = EvacuationStatus::ALL.get(*status as usize + 1).copied() else {
                    continue;
                };
                let key = (h.id, i as u16);
                let (lo, hi) = self
                    .sim
                    .evacuation_min
                    .get(*status as usize)
                    .copied()
                    .unwrap_or((5.0, 20.0));
                let rng = &mut self.rng;
                let due = *self.next_evacuation.entry(key).or_insert_with(|| {
                    let minutes = lo + (hi - lo) * f64::from(rng.f32());
                    now_ms + (minutes * 60_000.0) as i64
                });
                if now_ms >= due {
                    self.next_evacuation.remove(&key);
                    out.push((h.id, i as u16, next));
                }
            }
        }
        out
    }
}
