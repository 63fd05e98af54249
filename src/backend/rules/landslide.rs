//! Rules per hazard body. Each displacement reading is smoothed into a
//! velocity (least-squares slope over the last few readings), turned into
//! the improved tangential angle (许强: T = S / v̄ with v̄ the steady-stage
//! velocity, α = arctan ΔT/Δt, so α = 45° at steady creep) and combined with
//! velocity thresholds into a candidate level per point. A point's level
//! moves one step at a time and only after the candidate held for several
//! readings (up) or more readings (down), so noise and a single step jump
//! do not flap the level. The body's level is its worst point's.
//!
//! Consequences, decided here and nowhere else: 警戒 opens a landslide
//! warning event (the engine registers its case with the dispatch rules'
//! departments) and every level change carries its response plan; 警报
//! issues evacuation orders (texts to the monitor, the street and every
//! threatened building's contact) and starts the evacuation list. The
//! inverse-velocity forecast is refitted on every reading from the onset
//! of acceleration.

use std::collections::{HashMap, VecDeque};

use super::forecast::{self, NoForecast};
use super::{Notification, PartyRole};
use crate::model::{
    City, Criterion, EvacuationStatus, Event, EventId, EventKind, EventStatus, Forecast, Hazard,
    HazardId, Measurement, PlanStep, PointKind, RiskLevel, Sample, SensorId, SensorReading,
    Thresholds, WarningLevel,
};
use crate::protocol::Change;

const DAY_MS: f64 = 86_400_000.0;
/// Readings a point keeps for its rules: 90 days (never fewer than
/// `KEEP_AT_LEAST`, so a monthly series keeps its history), at most
/// `KEEP_READINGS`.
const KEEP_DAYS: i64 = 90;
const KEEP_AT_LEAST: usize = 256;
const KEEP_READINGS: usize = 10_000;
/// Velocities the steady-stage median is taken over, and how often (in
/// readings) it is recomputed.
const STEADY_WINDOW: usize = 1_000;
const STEADY_EVERY: u32 = 16;
/// Samples since the onset the forecast fits at most (a sliding window).
const FORECAST_WINDOW: usize = 72;

/// Readings the rules did not apply, by reason (each counted, none fatal).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LandslideStats {
    /// A reading at a time the point already has (a redelivery): ignored.
    pub duplicates: u64,
    /// A reading older than the point's newest: kept in the series, the
    /// level is not re-evaluated for it.
    pub late: u64,
    /// A reading whose value is not a number, or of the wrong kind.
    pub rejected: u64,
}

#[derive(Debug, Default)]
struct PointState {
    /// (time ms, cumulative displacement mm), in time order.
    readings: VecDeque<(i64, f64)>,
    /// (time ms, smoothed velocity mm/day, mean time of its window), one
    /// per reading: the least-squares slope of a window estimates the
    /// velocity at the window's mean time, which the forecast fits against.
    velocities: VecDeque<(i64, f64, i64)>,
    level: WarningLevel,
    up: u8,
    down: u8,
    /// Start of the current acceleration (the forecast fits from here).
    onset_ms: Option<i64>,
    steady_mm_d: Option<f64>,
    since_steady: u32,
    last_angle: f64,
    last_velocity: f64,
}

#[derive(Debug, Default)]
struct Body {
    level: WarningLevel,
    points: Vec<PointState>,
    forecast: Option<Forecast>,
    /// The open landslide-warning event.
    event: Option<EventId>,
    evacuation_ordered: bool,
}

#[derive(Debug)]
pub struct LandslideRules {
    bodies: Vec<Body>,
    sensors: HashMap<SensorId, (HazardId, u16)>,
    stats: LandslideStats,
}

/// What a reading caused.
#[derive(Debug, Default)]
pub struct LandslideOutcome {
    pub changes: Vec<Change>,
    pub notifications: Vec<Notification>,
}

impl LandslideRules {
    pub fn new(city: &City) -> LandslideRules {
        let mut sensors = HashMap::new();
        for h in &city.hazards {
            for (i, p) in h.points.iter().enumerate() {
                sensors.insert(p.sensor, (h.id, i as u16));
            }
        }
        LandslideRules {
            bodies: city
                .hazards
                .iter()
                .map(|h| Body {
                    points: h.points.iter().map(|_| PointState::default()).collect(),
                    ..Body::default()
                })
                .collect(),
            sensors,
            stats: LandslideStats::default(),
        }
    }

    /// Picks up the levels and open events a restarted engine had.
    pub fn resume(&mut self, levels: impl IntoIterator<Item = (HazardId, WarningLevel, bool)>) {
        for (id, level, evacuating) in levels {
            if let Some(body) = self.bodies.get_mut(id.index()) {
                body.level = level;
                body.evacuation_ordered = evacuating;
                for p in &mut body.points {
                    p.level = level;
                }
            }
        }
    }

    /// Remembers the open warning event of a body (after a restart).
    pub fn resume_event(&mut self, hazard: HazardId, event: EventId) {
        if let Some(body) = self.bodies.get_mut(hazard.index()) {
            body.event = Some(event);
        }
    }

    pub fn stats(&self) -> LandslideStats {
        self.stats
    }

    /// The body and point a sensor reports for.
    pub fn point_of(&self, sensor: SensorId) -> Option<(HazardId, u16)> {
        self.sensors.get(&sensor).copied()
    }

    pub fn level(&self, hazard: HazardId) -> Option<WarningLevel> {
        self.bodies.get(hazard.index()).map(|b| b.level)
    }

    /// Applies a displacement or rain reading of a monitoring point; other
    /// sensors are not this rule's (`None`).
    pub fn on_reading(
        &mut self,
        city: &City,
        reading: &SensorReading,
        next_event: &mut u64,
    ) -> Option<LandslideOutcome> {
        let (hazard_id, point) = self.point_of(reading.sensor)?;
        let hazard = city.hazard(hazard_id)?;
        let spec = hazard.points.get(usize::from(point))?;
        let mut out = LandslideOutcome::default();
        if !reading.value.is_finite() {
            self.stats.rejected += 1;
            return Some(out);
        }
        let (displacement, vector) = match (reading.value, spec.kind) {
            (Measurement::RainMm(mm), PointKind::RainGauge) => {
                out.changes.push(Change::Sample {
                    hazard: hazard_id,
                    point,
                    sample: Sample::Rain {
                        time_ms: reading.time_ms,
                        mm,
                    },
                });
                return Some(out);
            }
            (Measurement::DisplacementMm(v), PointKind::Displacement) => {
                ((v[0] * v[0] + v[1] * v[1] + v[2] * v[2]).sqrt(), v)
            }
            (Measurement::CumulativeMm(s), PointKind::Displacement) => {
                let [dx, dy] = hazard.downslope;
                (s, [s * dx, s * dy, 0.0])
            }
            _ => {
                self.stats.rejected += 1;
                return Some(out);
            }
        };
        self.on_motion(
            city,
            hazard,
            point,
            reading.time_ms,
            f64::from(displacement),
            vector,
            next_event,
            &mut out,
        );
        Some(out)
    }

    #[allow(clippy::too_many_arguments)]
    fn on_motion(
        &mut self,
        city: &City,
        hazard: &Hazard,
        point: u16,
        t: i64,
        s: f64,
        vector: [f32; 3],
        next_event: &mut u64,
        out: &mut LandslideOutcome,
    ) {
        let th = hazard.thresholds;
        let body = &mut self.bodies[hazard.id.index()];
        let p = &mut body.points[usize::from(point)];
        let at = p.readings.partition_point(|r| r.0 < t);
        if p.readings.get(at).is_some_and(|r| r.0 == t) {
            self.stats.duplicates += 1;
            return;
        }
        let late = at < p.readings.len();
        p.readings.insert(at, (t, s));
        // The window stays short against the time left to a forecast
        // failure: a quarter of it at most.
        let horizon_h = body
            .forecast
            .filter(|f| usize::from(f.point) == usize::from(point))
            .map(|f| (f.failure_ms - t) as f64 / 3_600_000.0 / 4.0);
        let (v, centre) = smoothed_velocity(&p.readings, at, &th, p.last_velocity, horizon_h);
        p.velocities
            .insert(at.min(p.velocities.len()), (t, v, centre));
        while p.readings.len() > KEEP_READINGS
            || (p.readings.len() > KEEP_AT_LEAST
                && p.readings
                    .front()
                    .is_some_and(|r| r.0 < t - KEEP_DAYS * 86_400_000))
        {
            p.readings.pop_front();
            p.velocities.pop_front();
        }
        let steady = p.steady(&th);
        let angle = (v / steady).atan().to_degrees();
        out.changes.push(Change::Sample {
            hazard: hazard.id,
            point,
            sample: Sample::Motion {
                time_ms: t,
                displacement_mm: s as f32,
                vector_mm: vector,
                velocity_mm_d: v as f32,
                angle_deg: angle as f32,
            },
        });
        if late {
            self.stats.late += 1;
            return;
        }
        p.last_angle = angle;
        p.last_velocity = v;
        let candidate = candidate_level(&th, v, angle);
        p.step_level(candidate, &th);
        if candidate >= WarningLevel::Caution && p.onset_ms.is_none() {
            p.onset_ms = Some(p.acceleration_start(steady));
        } else if candidate <= WarningLevel::Attention && p.level <= WarningLevel::Attention {
            p.onset_ms = None;
        }
        self.evaluate_body(city, hazard, t, next_event, out);
    }

    /// The body's level, forecast and their consequences after a reading.
    fn evaluate_body(
        &mut self,
        city: &City,
        hazard: &Hazard,
        now_ms: i64,
        next_event: &mut u64,
        out: &mut LandslideOutcome,
    ) {
        let th = hazard.thresholds;
        let body = &mut self.bodies[hazard.id.index()];
        // Forecast: the earliest failure among the points accelerating.
        let forecast = body
            .points
            .iter()
            .enumerate()
            // Only a confirmed acceleration is fitted (not a noisy reading).
            .filter(|(_, p)| p.level >= WarningLevel::Caution)
            .filter_map(|(i, p)| {
                let onset = p.onset_ms?;
                let from = p.velocities.partition_point(|v| v.0 < onset);
                let window: Vec<(i64, f64)> =
                    p.velocities.iter().skip(from).map(|v| (v.2, v.1)).collect();
                let window = &window[window.len().saturating_sub(FORECAST_WINDOW)..];
                match forecast::inverse_velocity(i as u16, window, f64::from(th.forecast_r2)) {
                    Ok(f) => Some(f),
                    Err(NoForecast::TooFew { .. } | NoForecast::NotAccelerating) => None,
                    Err(NoForecast::PoorFit { .. }) => None,
                }
            })
            .min_by_key(|f| f.failure_ms);
        if forecast != body.forecast {
            body.forecast = forecast;
            out.changes.push(Change::Forecast {
                hazard: hazard.id,
                forecast,
            });
        }
        // A forecast failure within the body's lead time raises an
        // accelerating (警戒) body to 警报 at once: evacuation needs the time.
        let lead_ms = (f64::from(th.alarm_lead_h) * 3_600_000.0) as i64;
        let mut by_forecast = false;
        if let Some(f) = forecast
            && f.failure_ms - now_ms <= lead_ms
            && let Some(p) = body.points.get_mut(usize::from(f.point))
            && p.level == WarningLevel::Alert
        {
            p.level = WarningLevel::Alarm;
            by_forecast = true;
        }
        let (worst, level) = body
            .points
            .iter()
            .enumerate()
            .map(|(i, p)| (i, p.level))
            .max_by_key(|(i, l)| (*l, std::cmp::Reverse(*i)))
            .unwrap_or((0, WarningLevel::Quiet));
        if level == body.level {
            return;
        }
        let before = body.level;
        body.level = level;
        let p = &body.points[worst];
        let limits = level.index().checked_sub(2).map(|i| i.min(2));
        let criterion = Criterion {
            point: worst as u16,
            angle_deg: p.last_angle as f32,
            velocity_mm_d: p.last_velocity as f32,
            angle_limit_deg: limits.map_or(0.0, |i| th.angle_deg[i]),
            velocity_limit_mm_d: limits.map_or(0.0, |i| th.velocity_mm_d[i]),
            forecast_failure_ms: forecast.filter(|_| by_forecast).map(|f| f.failure_ms),
        };
        // A rise of more than one step still passes through every level,
        // so the history reads 注意 → 警示 → 警戒 → 警报.
        let first = if level > before { before.up() } else { level };
        for step in WarningLevel::ALL
            .into_iter()
            .filter(|l| *l >= first && *l <= level)
        {
            out.changes.push(Change::HazardLevel {
                hazard: hazard.id,
                level: step,
                criterion: Some(criterion),
                plan: response_plan(hazard, step, now_ms),
            });
        }
        if level >= WarningLevel::Alert && (body.event.is_none() || before < level) {
            let id = *body.event.get_or_insert_with(|| {
                let id = EventId(*next_event);
                *next_event += 1;
                id
            });
            out.changes.push(Change::Event(Event {
                id,
                kind: EventKind::LandslideWarning,
                building: None,
                hazard: Some(hazard.id),
                camera: None,
                severity: if level == WarningLevel::Alarm {
                    RiskLevel::Major
                } else {
                    RiskLevel::High
                },
                status: EventStatus::Open,
                time_ms: now_ms,
                message: format!(
                    "{}{}（{}）{}：切线角 {:.1}°，速率 {:.1} mm/d",
                    hazard.name,
                    hazard.kind.name_zh(),
                    hazard.code,
                    level.name_zh(),
                    criterion.angle_deg,
                    criterion.velocity_mm_d
                ),
            }));
        }
        if level == WarningLevel::Alarm && !body.evacuation_ordered {
            body.evacuation_ordered = true;
            out.notifications
                .extend(evacuation_orders(city, hazard, now_ms, body.forecast));
            for i in 0..hazard.threatened.len() {
                out.changes.push(Change::Evacuation {
                    hazard: hazard.id,
                    index: i as u16,
                    status: EvacuationStatus::NotNotified,
                });
            }
        }
    }
}

impl PointState {
    /// The steady-stage velocity the angle is measured against: the body's
    /// configured one, else the median of this point's velocities before
    /// the current acceleration (never below the quiet threshold).
    fn steady(&mut self, th: &Thresholds) -> f64 {
        let floor = f64::from(th.quiet_mm_d).max(1e-3);
        if let Some(v) = th.steady_mm_d {
            return f64::from(v).max(floor);
        }
        self.since_steady += 1;
        if self.steady_mm_d.is_none() || self.since_steady >= STEADY_EVERY {
            self.since_steady = 0;
            let end = self.onset_ms.map_or(self.velocities.len(), |t| {
                self.velocities.partition_point(|v| v.0 < t)
            });
            let start = end.saturating_sub(STEADY_WINDOW);
            let mut vs: Vec<f64> = self.velocities.range(start..end).map(|v| v.1).collect();
            if !vs.is_empty() {
                let mid = vs.len() / 2;
                let (_, m, _) = vs.select_nth_unstable_by(mid, f64::total_cmp);
                self.steady_mm_d = Some(*m);
            }
        }
        self.steady_mm_d.unwrap_or(floor).max(floor)
    }

    /// One step towards `candidate` once it has held long enough.
    fn step_level(&mut self, candidate: WarningLevel, th: &Thresholds) {
        if candidate > self.level {
            self.down = 0;
            self.up += 1;
            if self.up >= th.confirm.max(1) {
                self.level = self.level.up();
                self.up = 0;
            }
        } else if candidate < self.level {
            self.up = 0;
            self.down += 1;
            if self.down >= th.release.max(1) {
                self.level = self.level.down();
                self.down = 0;
            }
        } else {
            self.up = 0;
            self.down = 0;
        }
    }

    /// Where the current acceleration began: back from the newest velocity
    /// to the last one no faster than 1.2 × the steady-stage velocity.
    fn acceleration_start(&self, steady_mm_d: f64) -> i64 {
        let calm = steady_mm_d * 1.2;
        let mut i = self.velocities.len().saturating_sub(1);
        while i > 0 && self.velocities[i - 1].1 > calm {
            i -= 1;
        }
        self.velocities.get(i).map_or(0, |v| v.0)
    }
}

/// Least-squares slope (mm/day) of the readings ending at `at` over the
/// body's smoothing window, and the mean time of that window. The window
/// spans the time the body took to move `smoothing_mm` at its last
/// velocity — short when it moves fast, so an acceleration is not smeared —
/// but at most `smoothing_h` hours and at least `smoothing` readings.
fn smoothed_velocity(
    readings: &VecDeque<(i64, f64)>,
    at: usize,
    th: &Thresholds,
    last_mm_d: f64,
    horizon_h: Option<f64>,
) -> (f64, i64) {
    let t_end = readings[at].0;
    let moving_h = if last_mm_d > 0.0 {
        f64::from(th.smoothing_mm) / last_mm_d * 24.0
    } else {
        f64::INFINITY
    };
    let span_h = moving_h
        .min(f64::from(th.smoothing_h))
        .min(horizon_h.unwrap_or(f64::INFINITY).max(0.0));
    let span_ms = (span_h * 3_600_000.0) as i64;
    let min = usize::from(th.smoothing.max(2));
    let mut start = at;
    while start > 0 && (at + 1 - start < min || readings[start - 1].0 >= t_end - span_ms) {
        start -= 1;
    }
    let n = at + 1 - start;
    if n < 2 {
        return (0.0, t_end);
    }
    let t0 = readings[start].0;
    let (mut sx, mut sy) = (0.0, 0.0);
    for r in readings.range(start..=at) {
        sx += (r.0 - t0) as f64 / DAY_MS;
        sy += r.1;
    }
    let (mx, my) = (sx / n as f64, sy / n as f64);
    let (mut sxx, mut sxy) = (0.0, 0.0);
    for r in readings.range(start..=at) {
        let x = (r.0 - t0) as f64 / DAY_MS - mx;
        sxx += x * x;
        sxy += x * (r.1 - my);
    }
    let centre = t0 + (mx * DAY_MS).round() as i64;
    if sxx <= 0.0 {
        (0.0, centre)
    } else {
        (sxy / sxx, centre)
    }
}

/// The level a point's latest velocity and angle call for: the lower of
/// what the angle and what the velocity alone would say.
pub fn candidate_level(th: &Thresholds, velocity_mm_d: f64, angle_deg: f64) -> WarningLevel {
    if velocity_mm_d < f64::from(th.quiet_mm_d) {
        return WarningLevel::Quiet;
    }
    let by = |limits: [f32; 3], x: f64| {
        let passed = limits.iter().filter(|l| x > f64::from(**l)).count();
        WarningLevel::from_u8(1 + passed as u8).unwrap_or(WarningLevel::Alarm)
    };
    by(th.angle_deg, angle_deg).min(by(th.velocity_mm_d, velocity_mm_d))
}

/// 应对方案: who does what by when at `level`.
pub fn response_plan(hazard: &Hazard, level: WarningLevel, now_ms: i64) -> Vec<PlanStep> {
    let h = |hours: f64| now_ms + (hours * 3_600_000.0) as i64;
    let street = format!("{}（街道）", hazard.street_duty.name);
    let monitor = format!("群测群防员 {}", hazard.monitor.name);
    let residents = hazard.residents();
    let step = |department: &str, action: String, hours: f64| PlanStep {
        department: department.to_owned(),
        action,
        due_ms: h(hours),
    };
    match level {
        WarningLevel::Quiet => Vec::new(),
        WarningLevel::Attention => vec![step(&monitor, "每日巡查裂缝与变形迹象".into(), 24.0)],
        WarningLevel::Caution => vec![
            step(
                "规划和自然资源局",
                "监测加密至每小时，专业技术人员到场".into(),
                6.0,
            ),
            step(&monitor, "每 4 小时巡查一次并上报".into(), 4.0),
            step(
                &street,
                format!("告知受威胁 {residents} 名群众预警信息"),
                12.0,
            ),
        ],
        WarningLevel::Alert => vec![
            step(
                "应急管理局",
                "启动地质灾害应急预案，抢险队伍待命".into(),
                2.0,
            ),
            step("规划和自然资源局", "专家会商，研判失稳时间".into(), 6.0),
            step(
                &street,
                format!("清点 {residents} 名群众，落实撤离路线与安置点"),
                4.0,
            ),
        ],
        WarningLevel::Alarm => vec![
            step(&street, format!("立即组织 {residents} 名群众撤离"), 1.0),
            step("应急管理局", "划定警戒区，封闭道路，禁止进入".into(), 1.0),
            step("卫生健康委", "医疗救护队伍现场待命".into(), 2.0),
            step("民政局", "开放临时安置点，保障食宿".into(), 4.0),
        ],
    }
}

/// The evacuation orders sent at 警报: the monitor, the street's duty
/// officer and every threatened building's contact, all at once.
fn evacuation_orders(
    city: &City,
    hazard: &Hazard,
    time_ms: i64,
    forecast: Option<Forecast>,
) -> Vec<Notification> {
    let when = forecast.map_or_else(String::new, |f| {
        format!("，预测失稳时间 {}", crate::time::format_cst(f.failure_ms))
    });
    let text = format!(
        "【地灾警报】{}{}（{}）已达警报级{when}，请立即组织受威胁 {} 户 {} 人撤离至安置点。",
        hazard.name,
        hazard.kind.name_zh(),
        hazard.code,
        hazard.households(),
        hazard.residents()
    );
    let people = [
        (None, PartyRole::HazardMonitor, &hazard.monitor),
        (None, PartyRole::StreetDuty, &hazard.street_duty),
    ]
    .into_iter()
    .chain(hazard.threatened.iter().filter_map(|t| {
        let b = city.building(t.building)?;
        Some((
            Some(b.id),
            PartyRole::Resident,
            &b.parties.safety_responsible,
        ))
    }));
    people
        .map(|(building, role, party)| Notification {
            building,
            hazard: Some(hazard.id),
            role,
            recipient: party.name.clone(),
            phone: party.phone.clone(),
            text: text.clone(),
            time_ms,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn candidate_takes_the_lower_of_angle_and_velocity() {
        let th = Thresholds::default();
        assert_eq!(candidate_level(&th, 0.01, 10.0), WarningLevel::Quiet);
        assert_eq!(candidate_level(&th, 1.0, 44.0), WarningLevel::Attention);
        // A steep angle on a slow body stays 注意.
        assert_eq!(candidate_level(&th, 1.0, 89.0), WarningLevel::Attention);
        assert_eq!(candidate_level(&th, 20.0, 82.0), WarningLevel::Alert);
        assert_eq!(candidate_level(&th, 50.0, 86.0), WarningLevel::Alarm);
        assert_eq!(candidate_level(&th, 50.0, 60.0), WarningLevel::Caution);
    }

    #[test]
    fn smoothed_velocity_is_the_least_squares_slope() {
        let readings: VecDeque<(i64, f64)> =
            (0..6).map(|i| (i * 86_400_000, 2.0 * i as f64)).collect();
        let th = Thresholds::default();
        // Daily readings: the 12 h window holds the 3 readings minimum.
        let (v, centre) = smoothed_velocity(&readings, 5, &th, 0.0, None);
        assert!((v - 2.0).abs() < 1e-9);
        assert_eq!(centre, 4 * 86_400_000);
        assert_eq!(smoothed_velocity(&readings, 0, &th, 0.0, None).0, 0.0);
    }
}
