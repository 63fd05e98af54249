//! Geohazard bodies (滑坡 / 危岩 / 崩塌 / 泥石流): the body on the ground, its
//! thickness and threat zone, the buildings and residents in that zone,
//! its monitoring points and the thresholds its rules use; and the live
//! side the backend decides: warning level, forecast, response plan and
//! evacuation status.

use serde::{Deserialize, Serialize};

use super::{BuildingId, DistrictId, Party, SensorId, StreetId};

/// Dense index of a hazard body in [`crate::model::City::hazards`] and in
/// the GPU's hazard state buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct HazardId(pub u32);

impl HazardId {
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum HazardKind {
    /// 滑坡
    Landslide,
    /// 危岩
    DangerousRock,
    /// 崩塌
    Rockfall,
    /// 泥石流
    DebrisFlow,
}

impl HazardKind {
    pub const ALL: [HazardKind; 4] = [
        HazardKind::Landslide,
        HazardKind::DangerousRock,
        HazardKind::Rockfall,
        HazardKind::DebrisFlow,
    ];

    pub fn name_zh(self) -> &'static str {
        match self {
            HazardKind::Landslide => "滑坡",
            HazardKind::DangerousRock => "危岩",
            HazardKind::Rockfall => "崩塌",
            HazardKind::DebrisFlow => "泥石流",
        }
    }

    pub fn name_en(self) -> &'static str {
        match self {
            HazardKind::Landslide => "landslide",
            HazardKind::DangerousRock => "dangerous rock",
            HazardKind::Rockfall => "rockfall",
            HazardKind::DebrisFlow => "debris flow",
        }
    }

    /// Parses the Chinese or English name (as in `--hazards` files).
    pub fn parse(text: &str) -> Option<HazardKind> {
        let t = text.trim().to_lowercase().replace(['_', '-'], " ");
        HazardKind::ALL
            .into_iter()
            .find(|k| t == k.name_zh() || t == k.name_en() || t == format!("{k:?}").to_lowercase())
    }
}

/// Geological-hazard warning level (地质灾害预警等级), least severe first.
/// The discriminant is the byte in the GPU buffer and on the wire.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[repr(u8)]
pub enum WarningLevel {
    /// No measurable movement (grey).
    #[default]
    Quiet = 0,
    /// 注意级 — blue: steady creep.
    Attention = 1,
    /// 警示级 — yellow: the start of acceleration.
    Caution = 2,
    /// 警戒级 — orange: accelerating; a case is opened.
    Alert = 3,
    /// 警报级 — red: failure is near; residents are evacuated.
    Alarm = 4,
}

impl WarningLevel {
    pub const ALL: [WarningLevel; 5] = [
        WarningLevel::Quiet,
        WarningLevel::Attention,
        WarningLevel::Caution,
        WarningLevel::Alert,
        WarningLevel::Alarm,
    ];

    pub fn from_u8(value: u8) -> Option<WarningLevel> {
        WarningLevel::ALL.get(usize::from(value)).copied()
    }

    pub fn index(self) -> usize {
        self as usize
    }

    pub fn name_zh(self) -> &'static str {
        match self {
            WarningLevel::Quiet => "无预警",
            WarningLevel::Attention => "注意级",
            WarningLevel::Caution => "警示级",
            WarningLevel::Alert => "警戒级",
            WarningLevel::Alarm => "警报级",
        }
    }

    pub fn name_en(self) -> &'static str {
        match self {
            WarningLevel::Quiet => "quiet",
            WarningLevel::Attention => "attention",
            WarningLevel::Caution => "caution",
            WarningLevel::Alert => "alert",
            WarningLevel::Alarm => "alarm",
        }
    }

    /// One step more severe (saturating).
    pub fn up(self) -> WarningLevel {
        WarningLevel::from_u8(self as u8 + 1).unwrap_or(WarningLevel::Alarm)
    }

    /// One step less severe (saturating).
    pub fn down(self) -> WarningLevel {
        WarningLevel::from_u8((self as u8).saturating_sub(1)).unwrap_or(WarningLevel::Quiet)
    }
}

/// What a monitoring point measures.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum PointKind {
    /// GNSS station or crack meter: displacement (vector or cumulative).
    Displacement,
    /// Rain gauge on the body.
    RainGauge,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MonitoringPoint {
    /// The sensor whose readings this point receives.
    pub sensor: SensorId,
    /// Station code, e.g. "ZG93" or "WS-GNSS-02".
    pub code: String,
    pub kind: PointKind,
    /// Local metres (east, north).
    pub position_m: [f32; 2],
}

/// A building in a body's threat zone and the people living in it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Threatened {
    pub building: BuildingId,
    pub households: u16,
    pub residents: u16,
}

/// The thresholds a body's rules use (configurable per body in data: a
/// `thresholds` object in `--hazards` features; missing keys keep their
/// defaults).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Thresholds {
    /// Below this smoothed velocity (mm/day) the body is quiet.
    pub quiet_mm_d: f32,
    /// Least smoothed velocity (mm/day) for 警示 / 警戒 / 警报.
    pub velocity_mm_d: [f32; 3],
    /// Improved tangential angle (°) above which a point is 警示 / 警戒 / 警报
    /// (许强: 45 / 80 / 85).
    pub angle_deg: [f32; 3],
    /// The steady-stage velocity (mm/day) the angle is measured against;
    /// `None`: the median velocity of the point's own history.
    pub steady_mm_d: Option<f32>,
    /// The velocity is the least-squares slope over the readings of the
    /// time the body took to move `smoothing_mm`, at most `smoothing_h`
    /// hours, and over at least `smoothing` readings.
    pub smoothing_mm: f32,
    pub smoothing_h: f32,
    pub smoothing: u8,
    /// Consecutive readings a higher level must hold before it is raised
    /// (one level at a time) …
    pub confirm: u8,
    /// … and a lower level before it is lowered.
    pub release: u8,
    /// Least R² of the inverse-velocity fit for a forecast to be reported.
    pub forecast_r2: f32,
    /// A 警戒 body whose forecast failure is at most this many hours away
    /// goes to 警报 at once.
    pub alarm_lead_h: f32,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            quiet_mm_d: 0.05,
            velocity_mm_d: [5.0, 15.0, 30.0],
            angle_deg: [45.0, 80.0, 85.0],
            steady_mm_d: None,
            smoothing_mm: 10.0,
            smoothing_h: 12.0,
            smoothing: 3,
            confirm: 3,
            release: 6,
            forecast_r2: 0.9,
            alarm_lead_h: 24.0,
        }
    }
}

/// A hazard body and what it threatens. Static: the live side is
/// [`HazardStatus`] and the stream's samples.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Hazard {
    pub id: HazardId,
    /// Register code, e.g. "500108-HP-0007".
    pub code: String,
    pub name: String,
    pub kind: HazardKind,
    pub district: DistrictId,
    pub street: StreetId,
    /// Body outline in local metres, counter-clockwise, not closed.
    pub body_m: Vec<[f32; 2]>,
    /// The runout area below the body (local metres, not closed).
    pub threat_zone_m: Vec<[f32; 2]>,
    pub thickness_m: f32,
    /// Down-slope direction (unit vector, east/north): the way it slides.
    pub downslope: [f32; 2],
    pub points: Vec<MonitoringPoint>,
    pub threatened: Vec<Threatened>,
    /// 群测群防员: the villager or official who watches the body.
    pub monitor: Party,
    /// The street office's duty phone (where evacuation orders go).
    pub street_duty: Party,
    pub thresholds: Thresholds,
}

impl Hazard {
    /// Length along the slope and width across it (m), from the outline.
    pub fn size_m(&self) -> (f32, f32) {
        let [dx, dy] = self.downslope;
        let (mut along, mut across) = ((f32::MAX, f32::MIN), (f32::MAX, f32::MIN));
        for p in &self.body_m {
            let a = p[0] * dx + p[1] * dy;
            let c = -p[0] * dy + p[1] * dx;
            along = (along.0.min(a), along.1.max(a));
            across = (across.0.min(c), across.1.max(c));
        }
        if self.body_m.is_empty() {
            return (0.0, 0.0);
        }
        (along.1 - along.0, across.1 - across.0)
    }

    /// Plan area of the body (m²), shoelace.
    pub fn area_m2(&self) -> f32 {
        ring_area(&self.body_m).abs()
    }

    pub fn volume_m3(&self) -> f32 {
        self.area_m2() * self.thickness_m
    }

    pub fn residents(&self) -> u32 {
        self.threatened.iter().map(|t| u32::from(t.residents)).sum()
    }

    pub fn households(&self) -> u32 {
        self.threatened
            .iter()
            .map(|t| u32::from(t.households))
            .sum()
    }

    /// Centre of the body's outline (vertex mean).
    pub fn centre_m(&self) -> [f32; 2] {
        let n = self.body_m.len().max(1) as f32;
        let s = self
            .body_m
            .iter()
            .fold([0.0, 0.0], |a, p| [a[0] + p[0], a[1] + p[1]]);
        [s[0] / n, s[1] / n]
    }

    /// The index of the point receiving `sensor`'s readings.
    pub fn point_of(&self, sensor: SensorId) -> Option<usize> {
        self.points.iter().position(|p| p.sensor == sensor)
    }
}

/// Signed area of a ring (positive when counter-clockwise).
pub fn ring_area(ring: &[[f32; 2]]) -> f32 {
    let n = ring.len();
    (0..n)
        .map(|i| {
            let (a, b) = (ring[i], ring[(i + 1) % n]);
            a[0] * b[1] - b[0] * a[1]
        })
        .sum::<f32>()
        * 0.5
}

/// Even-odd point-in-polygon test.
pub fn ring_contains(ring: &[[f32; 2]], p: [f32; 2]) -> bool {
    let n = ring.len();
    let mut inside = false;
    let mut j = n.wrapping_sub(1);
    for i in 0..n {
        let (a, b) = (ring[i], ring[j]);
        if (a[1] > p[1]) != (b[1] > p[1])
            && p[0] < (b[0] - a[0]) * (p[1] - a[1]) / (b[1] - a[1]) + a[0]
        {
            inside = !inside;
        }
        j = i;
    }
    inside
}

/// Which rule set the level, for the card ("切线角 86.1° > 85°，速率 …").
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Criterion {
    /// Index of the deciding point in [`Hazard::points`].
    pub point: u16,
    pub angle_deg: f32,
    pub velocity_mm_d: f32,
    /// The angle threshold passed (0 when the level is below 警示).
    pub angle_limit_deg: f32,
    /// The velocity threshold passed (0 when the level is below 警示).
    pub velocity_limit_mm_d: f32,
    /// Set when the forecast failure time (within the lead time) raised
    /// the level to 警报.
    pub forecast_failure_ms: Option<i64>,
}

/// The inverse-velocity failure-time forecast (Fukuzono; Voight α = 2):
/// 1/v = intercept + slope · (t − origin) fitted by least squares.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Forecast {
    /// The point whose series was fitted.
    pub point: u16,
    /// Forecast failure time and its ~95 % interval (ms since the epoch).
    pub failure_ms: i64,
    pub earliest_ms: i64,
    pub latest_ms: i64,
    pub r2: f32,
    /// Time origin of the fit (ms) and its coefficients: 1/v in day/mm,
    /// slope in (day/mm) per day.
    pub origin_ms: i64,
    pub intercept: f64,
    pub slope: f64,
    /// Samples in the fit, and the time of the last one.
    pub samples: u16,
    pub fitted_at_ms: i64,
}

impl Forecast {
    /// The fitted velocity (mm/day) at `t_ms`; `None` at or after failure.
    pub fn velocity_at(&self, t_ms: i64) -> Option<f64> {
        let days = (t_ms - self.origin_ms) as f64 / 86_400_000.0;
        let inv = self.intercept + self.slope * days;
        (inv > 1e-9).then(|| 1.0 / inv)
    }

    /// Displacement gained from `from_ms` to `to_ms` under the fitted model
    /// (mm): ∫ 1/(a + b t) dt = ln((a + b t₁)/(a + b t₀)) / b.
    pub fn displacement_between(&self, from_ms: i64, to_ms: i64) -> Option<f64> {
        let day = |t: i64| (t - self.origin_ms) as f64 / 86_400_000.0;
        let (i0, i1) = (
            self.intercept + self.slope * day(from_ms),
            self.intercept + self.slope * day(to_ms),
        );
        (i0 > 1e-9 && i1 > 1e-9 && self.slope.abs() > 1e-12).then(|| (i1 / i0).ln() / self.slope)
    }
}

/// One step of the response plan generated for a level (应对方案).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanStep {
    pub department: String,
    pub action: String,
    pub due_ms: i64,
}

/// Where a threatened building's residents are (撤离状态).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
pub enum EvacuationStatus {
    /// 未通知
    #[default]
    NotNotified,
    /// 已通知
    Notified,
    /// 撤离中
    Evacuating,
    /// 已撤离
    Evacuated,
    /// 已安置
    Settled,
}

impl EvacuationStatus {
    pub const ALL: [EvacuationStatus; 5] = [
        EvacuationStatus::NotNotified,
        EvacuationStatus::Notified,
        EvacuationStatus::Evacuating,
        EvacuationStatus::Evacuated,
        EvacuationStatus::Settled,
    ];

    pub fn name_zh(self) -> &'static str {
        match self {
            EvacuationStatus::NotNotified => "未通知",
            EvacuationStatus::Notified => "已通知",
            EvacuationStatus::Evacuating => "撤离中",
            EvacuationStatus::Evacuated => "已撤离",
            EvacuationStatus::Settled => "已安置",
        }
    }

    pub fn name_en(self) -> &'static str {
        match self {
            EvacuationStatus::NotNotified => "not notified",
            EvacuationStatus::Notified => "notified",
            EvacuationStatus::Evacuating => "evacuating",
            EvacuationStatus::Evacuated => "evacuated",
            EvacuationStatus::Settled => "settled",
        }
    }

    /// Out of the threat zone (evacuated or settled).
    pub fn is_out(self) -> bool {
        self >= EvacuationStatus::Evacuated
    }
}

/// A body's live state as the backend decided it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct HazardStatus {
    pub level: WarningLevel,
    pub criterion: Option<Criterion>,
    /// When the current level was set (ms).
    pub since_ms: i64,
    pub forecast: Option<Forecast>,
    pub plan: Vec<PlanStep>,
    /// Per threatened building (same order as [`Hazard::threatened`]);
    /// empty until evacuation is ordered.
    pub evacuation: Vec<EvacuationStatus>,
    /// The body failed at this time (ms); its threatened buildings collapsed.
    pub failed_ms: Option<i64>,
    /// People still inside the threat zone when it failed.
    pub casualties: Option<u32>,
}

/// A monitoring point's reading as the backend evaluated it: what the
/// stream carries and the card charts (the cockpit never recomputes it).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub enum Sample {
    Motion {
        time_ms: i64,
        /// Cumulative displacement (mm).
        displacement_mm: f32,
        /// Displacement vector east/north/up (mm) when the sensor gives one,
        /// else along the down-slope direction.
        vector_mm: [f32; 3],
        /// Smoothed velocity (mm/day).
        velocity_mm_d: f32,
        /// Improved tangential angle (°).
        angle_deg: f32,
    },
    Rain {
        time_ms: i64,
        mm: f32,
    },
}

impl Sample {
    pub fn time_ms(&self) -> i64 {
        match self {
            Sample::Motion { time_ms, .. } | Sample::Rain { time_ms, .. } => *time_ms,
        }
    }
}

/// Samples a point keeps: 30 days (but never fewer than the last
/// [`SERIES_MIN_SAMPLES`], so a sparse real series stays whole), at most
/// [`SERIES_MAX_SAMPLES`].
pub const SERIES_DAYS: i64 = 30;
pub const SERIES_MIN_SAMPLES: usize = 256;
pub const SERIES_MAX_SAMPLES: usize = 4_096;
/// In a snapshot, samples older than this before its time are thinned …
pub const SNAPSHOT_FULL_MS: i64 = 48 * 3_600_000;
/// … to one per this interval.
pub const SNAPSHOT_THIN_MS: i64 = 86_400_000;

/// A body's live state and the recent samples of each of its points (the
/// card's charts), as rebuilt from the stream.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct HazardLive {
    pub status: HazardStatus,
    /// Per point (same order as [`Hazard::points`]), oldest first.
    pub series: Vec<std::collections::VecDeque<Sample>>,
}

impl HazardLive {
    pub fn new(hazard: &Hazard) -> HazardLive {
        HazardLive {
            status: HazardStatus::default(),
            series: vec![std::collections::VecDeque::new(); hazard.points.len()],
        }
    }

    /// Adds a sample in time order (a late one is inserted where it
    /// belongs, one at a time already present replaces it) and drops what
    /// is older than [`SERIES_DAYS`] before the newest.
    pub fn push(&mut self, point: usize, sample: Sample) -> bool {
        let Some(series) = self.series.get_mut(point) else {
            return false;
        };
        let t = sample.time_ms();
        match series.back().map(Sample::time_ms) {
            Some(last) if t < last => {
                let at = series.partition_point(|s| s.time_ms() < t);
                if series.get(at).is_some_and(|s| s.time_ms() == t) {
                    series[at] = sample;
                } else {
                    series.insert(at, sample);
                }
            }
            Some(last) if t == last => {
                if let Some(back) = series.back_mut() {
                    *back = sample;
                }
            }
            _ => series.push_back(sample),
        }
        let newest = series.back().map_or(t, Sample::time_ms);
        while series.len() > SERIES_MAX_SAMPLES
            || (series.len() > SERIES_MIN_SAMPLES
                && series
                    .front()
                    .is_some_and(|s| s.time_ms() < newest - SERIES_DAYS * 86_400_000))
        {
            series.pop_front();
        }
        true
    }

    /// A copy for a snapshot at `time_ms`: the last [`SNAPSHOT_FULL_MS`] in
    /// full, older samples one per [`SNAPSHOT_THIN_MS`].
    pub fn thinned(&self, time_ms: i64) -> HazardLive {
        let series = self
            .series
            .iter()
            .map(|s| {
                let mut out = std::collections::VecDeque::new();
                let mut last_bucket = None;
                for sample in s {
                    let t = sample.time_ms();
                    if t >= time_ms - SNAPSHOT_FULL_MS {
                        out.push_back(*sample);
                        continue;
                    }
                    let bucket = t.div_euclid(SNAPSHOT_THIN_MS);
                    if last_bucket != Some(bucket) {
                        last_bucket = Some(bucket);
                        out.push_back(*sample);
                    }
                }
                out
            })
            .collect();
        HazardLive {
            status: self.status.clone(),
            series,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_step_one_at_a_time_and_saturate() {
        assert_eq!(WarningLevel::Quiet.up(), WarningLevel::Attention);
        assert_eq!(WarningLevel::Alarm.up(), WarningLevel::Alarm);
        assert_eq!(WarningLevel::Quiet.down(), WarningLevel::Quiet);
        assert_eq!(WarningLevel::Alert.down(), WarningLevel::Caution);
    }

    #[test]
    fn kinds_parse_in_both_languages() {
        assert_eq!(HazardKind::parse("危岩"), Some(HazardKind::DangerousRock));
        assert_eq!(
            HazardKind::parse("Debris_Flow"),
            Some(HazardKind::DebrisFlow)
        );
        assert_eq!(HazardKind::parse("volcano"), None);
    }

    #[test]
    fn ring_geometry() {
        let square = [[0.0, 0.0], [10.0, 0.0], [10.0, 10.0], [0.0, 10.0]];
        assert_eq!(ring_area(&square), 100.0);
        assert!(ring_contains(&square, [5.0, 5.0]));
        assert!(!ring_contains(&square, [15.0, 5.0]));
    }

    #[test]
    fn forecast_model_integrates_the_fitted_velocity() {
        // 1/v = 1 − 0.1 t (days): v(0) = 1 mm/d, failure at t = 10 d.
        let f = Forecast {
            point: 0,
            failure_ms: 10 * 86_400_000,
            earliest_ms: 0,
            latest_ms: 0,
            r2: 1.0,
            origin_ms: 0,
            intercept: 1.0,
            slope: -0.1,
            samples: 10,
            fitted_at_ms: 0,
        };
        assert!((f.velocity_at(0).unwrap() - 1.0).abs() < 1e-9);
        assert!(f.velocity_at(10 * 86_400_000).is_none());
        // ∫₀⁵ 1/(1 − 0.1 t) dt = −10 ln(0.5) = 6.93 mm.
        let d = f.displacement_between(0, 5 * 86_400_000).unwrap();
        assert!((d - 6.931).abs() < 1e-3, "{d}");
    }
}
