//! A briefing (汇报演示): a plain RON file of steps, each saying where to
//! look, the drill level, which panels show, what to highlight, and
//! optionally a replay segment, a video tile or one KPI shown large. Pure
//! data: the cockpit's presenter turns a step into the messages the panels
//! send anyway (fly to, drill to, select, time control).

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::{EventKind, RiskLevel};

/// A whole briefing file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Briefing {
    pub title: String,
    #[serde(default)]
    pub alarms: AlarmSettings,
    pub steps: Vec<Step>,
}

/// Which live cases interrupt a briefing, and where the banner shows.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AlarmSettings {
    /// The least severe level that interrupts (default 较大).
    pub min_severity: RiskLevel,
    /// Also show the banner on the audience window.
    pub on_audience: bool,
}

impl Default for AlarmSettings {
    fn default() -> Self {
        AlarmSettings {
            min_severity: RiskLevel::High,
            on_audience: false,
        }
    }
}

/// One step of a briefing.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Step {
    pub title: String,
    /// The subtitle (字幕) under the scene.
    pub caption: String,
    /// The speaker's notes (presenter view only).
    pub notes: String,
    pub view: StepView,
    /// The drill level.
    pub area: AreaRef,
    pub panels: StepPanels,
    pub highlight: Highlight,
    /// 0 = all levels equally bright … 1 = only 较大/重大 (None: keep).
    pub risk_focus: Option<f32>,
    pub replay: Option<ReplaySegment>,
    /// A camera (id, e.g. "CAM-JFB-01") shown large in a video tile.
    pub video: Option<String>,
    /// One KPI shown large.
    pub kpi: Option<KpiShown>,
    /// Seconds the camera takes to fly to this step.
    pub transition_s: f32,
}

impl Default for Step {
    fn default() -> Self {
        Step {
            title: String::new(),
            caption: String::new(),
            notes: String::new(),
            view: StepView::Keep,
            area: AreaRef::City,
            panels: StepPanels::default(),
            highlight: Highlight::default(),
            risk_focus: None,
            replay: None,
            video: None,
            kpi: None,
            transition_s: 1.5,
        }
    }
}

/// Where the camera looks.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum StepView {
    /// Where it is.
    Keep,
    /// The whole city.
    Overview,
    /// The step's area (its centre, far enough to see it all).
    Area,
    /// An exact pose: the point looked at (WGS84), distance, pitch below the
    /// horizon, compass heading.
    Pose {
        lon: f64,
        lat: f64,
        distance_m: f32,
        pitch_deg: f32,
        heading_deg: f32,
    },
    /// A building by its code (一楼一码).
    Building(String),
    /// The newest open case (of this kind), selected.
    Case(Option<EventKind>),
    /// A hazard body by its code, selected.
    Hazard(String),
}

/// An area by its codes, as a person writes it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum AreaRef {
    City,
    /// A district's code (e.g. "500103").
    District(String),
    /// A district's code and a street's name.
    Street(String, String),
}

/// Which panels the audience sees during the step.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct StepPanels {
    pub top_bar: bool,
    pub legend: bool,
    pub hub: bool,
    pub kpi: bool,
    pub timeline: bool,
    /// The selected building's or hazard's card.
    pub card: bool,
}

impl StepPanels {
    /// Every panel (the cockpit as the operator has it).
    pub const ALL: StepPanels = StepPanels {
        top_bar: true,
        legend: true,
        hub: true,
        kpi: true,
        timeline: true,
        card: true,
    };
}

/// What glows; everything else dims (when anything is listed).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Highlight {
    /// Buildings by code.
    pub buildings: Vec<String>,
    /// Every building at these levels.
    pub levels: Vec<RiskLevel>,
}

impl Highlight {
    pub fn is_empty(&self) -> bool {
        self.buildings.is_empty() && self.levels.is_empty()
    }
}

/// A stretch of the timeline played during the step: offsets (s) from the
/// timeline's start (a recording's first message, or the live session's
/// oldest history), played at `speed` and paused at `to_s`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReplaySegment {
    pub from_s: f64,
    pub to_s: f64,
    #[serde(default = "one")]
    pub speed: f64,
}

fn one() -> f64 {
    1.0
}

/// The KPIs a step can show large (城市体征).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum KpiShown {
    Received,
    Closed,
    ClosureRate,
    OnTimeRate,
    GridEvents,
}

impl KpiShown {
    pub const ALL: [KpiShown; 5] = [
        KpiShown::Received,
        KpiShown::Closed,
        KpiShown::ClosureRate,
        KpiShown::OnTimeRate,
        KpiShown::GridEvents,
    ];

    pub fn name_zh(self) -> &'static str {
        match self {
            KpiShown::Received => "受理事件",
            KpiShown::Closed => "办结事件",
            KpiShown::ClosureRate => "办结率",
            KpiShown::OnTimeRate => "按时办结率",
            KpiShown::GridEvents => "网格事件",
        }
    }

    pub fn name_en(self) -> &'static str {
        match self {
            KpiShown::Received => "Received",
            KpiShown::Closed => "Closed",
            KpiShown::ClosureRate => "Closure rate",
            KpiShown::OnTimeRate => "On-time rate",
            KpiShown::GridEvents => "Grid events",
        }
    }
}

/// Why a briefing file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum BriefingError {
    #[error("{path}: cannot read: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}:{line}:{column}: {reason}")]
    Parse {
        path: String,
        line: usize,
        column: usize,
        reason: String,
    },
    #[error("{path}: step {step} ({title}): {reason}")]
    Step {
        path: String,
        step: usize,
        title: String,
        reason: String,
    },
    #[error("{path}: the briefing has no steps")]
    Empty { path: String },
    #[error("{path}: cannot write: {source}")]
    Write {
        path: String,
        source: std::io::Error,
    },
}

impl Briefing {
    /// Parses briefing text; `path` names it in errors.
    pub fn parse(text: &str, path: &str) -> Result<Briefing, BriefingError> {
        let briefing: Briefing = ron::from_str(text).map_err(|e| BriefingError::Parse {
            path: path.to_owned(),
            line: e.span.start.line,
            column: e.span.start.col,
            reason: e.code.to_string(),
        })?;
        if briefing.steps.is_empty() {
            return Err(BriefingError::Empty {
                path: path.to_owned(),
            });
        }
        for (i, step) in briefing.steps.iter().enumerate() {
            let bad = |reason: String| BriefingError::Step {
                path: path.to_owned(),
                step: i + 1,
                title: step.title.clone(),
                reason,
            };
            if !step.transition_s.is_finite() || !(0.0..=30.0).contains(&step.transition_s) {
                return Err(bad(format!(
                    "transition_s {} is not between 0 and 30 s",
                    step.transition_s
                )));
            }
            if let Some(f) = step.risk_focus
                && !(0.0..=1.0).contains(&f)
            {
                return Err(bad(format!("risk_focus {f} is not between 0 and 1")));
            }
            if let Some(r) = step.replay
                && !(r.from_s.is_finite()
                    && r.to_s.is_finite()
                    && r.from_s >= 0.0
                    && r.to_s > r.from_s
                    && r.speed.is_finite()
                    && r.speed > 0.0)
            {
                return Err(bad(format!(
                    "replay from {} s to {} s at {}× is not a forward segment",
                    r.from_s, r.to_s, r.speed
                )));
            }
        }
        Ok(briefing)
    }

    pub fn load(path: &Path) -> Result<Briefing, BriefingError> {
        let text = std::fs::read_to_string(path).map_err(|source| BriefingError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Briefing::parse(&text, &path.display().to_string())
    }

    /// The briefing as readable RON (one field per line).
    pub fn to_ron(&self) -> String {
        let config = ron::ser::PrettyConfig::new()
            .depth_limit(5)
            .struct_names(true)
            .indentor("    ".to_owned());
        ron::ser::to_string_pretty(self, config).unwrap_or_else(|e| format!("// {e}"))
    }

    /// Writes the briefing to `path` (whole file, through a temporary one).
    pub fn save(&self, path: &Path) -> Result<(), BriefingError> {
        let write = |source| BriefingError::Write {
            path: path.display().to_string(),
            source,
        };
        let tmp = path.with_extension("ron.tmp");
        std::fs::write(&tmp, self.to_ron() + "\n").map_err(write)?;
        std::fs::rename(&tmp, path).map_err(write)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_step_needs_only_a_title_and_round_trips() {
        let text = r#"Briefing(title: "t", steps: [(title: "一"), (title: "二", view: Overview, area: District("500103"), transition_s: 0.5)])"#;
        let b = Briefing::parse(text, "b.ron").expect("parses");
        assert_eq!(b.steps.len(), 2);
        assert_eq!(b.steps[0].view, StepView::Keep);
        assert_eq!(b.steps[1].area, AreaRef::District("500103".into()));
        let again = Briefing::parse(&b.to_ron(), "again.ron").expect("round trip");
        assert_eq!(again, b);
    }

    #[test]
    fn the_shipped_demo_briefing_parses() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/scenes/briefing_demo.ron");
        let b = Briefing::load(std::path::Path::new(path)).expect("demo briefing");
        assert!(b.steps.len() >= 6);
        assert!(b.steps.iter().any(|s| s.kpi.is_some()));
    }

    #[test]
    fn the_readme_example_parses() {
        let b = Briefing::parse(super::super::readme_example("Briefing("), "README.md")
            .expect("the example parses");
        assert_eq!(b.steps[0].kpi, Some(KpiShown::ClosureRate));
    }

    #[test]
    fn bad_files_name_the_place_and_the_reason() {
        let e = Briefing::parse(
            "Briefing(title: \"t\", steps: [(title: \"a\", view: Nowhere)])",
            "x.ron",
        )
        .expect_err("unknown view");
        let text = e.to_string();
        assert!(text.starts_with("x.ron:1:"), "{text}");
        assert!(text.contains("Nowhere"), "{text}");
        let e = Briefing::parse("Briefing(title: \"t\", steps: [])", "y.ron").expect_err("empty");
        assert_eq!(e.to_string(), "y.ron: the briefing has no steps");
        let e = Briefing::parse(
            "Briefing(title: \"t\", steps: [(title: \"回放\", replay: Some((from_s: 10, to_s: 5)))])",
            "z.ron",
        )
        .expect_err("backwards");
        assert!(e.to_string().contains("step 1 (回放)"), "{e}");
    }
}
