//! A wall (大屏): the windows one process opens, each on a monitor or at
//! a position and size, each showing one thing — the 3D city (its own
//! camera and drill level), the video wall, the KPI board (城市体征) or the
//! event hub. A plain RON file, e.g. `scenes/wall_demo.ron`.
//!
//! Refused with the file, the entry and the reason: syntax, an unknown
//! content kind, two windows on one monitor or overlapping, a first window
//! that is not the city (it is the operator's), an unknown monitor (checked
//! when the monitors are known, see [`Wall::placements`]).

use serde::{Deserialize, Deserializer, Serialize};

use super::briefing::AreaRef;

/// A wall file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Wall {
    #[serde(default)]
    pub title: String,
    /// The first is the operator's window (the full cockpit); closing it
    /// ends the wall.
    #[serde(deserialize_with = "windows_by_entry")]
    pub windows: Vec<WallWindow>,
}

/// One window of the wall.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WallWindow {
    #[serde(default)]
    pub title: String,
    pub place: Place,
    /// Borderless on its monitor (a `Monitor` place) or at its rectangle.
    #[serde(default)]
    pub fullscreen: bool,
    pub content: Content,
}

/// Where a window goes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Place {
    /// Fills the monitor with this index; monitors count from the left
    /// (then from the top), from 0.
    Monitor(usize),
    /// A rectangle on the desktop, in physical pixels.
    Rect {
        x: i32,
        y: i32,
        width: u32,
        height: u32,
    },
}

/// What a window shows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Content {
    /// The 3D city. `area`: its own drill level (None: the operator's, and
    /// the camera follows each drill); `pose`: where it looks (None: the
    /// whole area).
    City {
        #[serde(default)]
        area: Option<AreaRef>,
        #[serde(default)]
        pose: Option<Pose>,
    },
    /// The video wall, `layout`×`layout` tiles.
    VideoWall {
        #[serde(default = "default_layout")]
        layout: u8,
    },
    /// 城市体征: received, closed, closure rate, grid events — large.
    KpiBoard {
        #[serde(default = "city_area")]
        area: AreaRef,
    },
    /// The event hub: the cases, the filters, dispatch.
    EventHub,
}

fn default_layout() -> u8 {
    3
}

fn city_area() -> AreaRef {
    AreaRef::City
}

/// An exact camera pose: the point looked at (WGS84), distance, pitch
/// below the horizon, compass heading.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Pose {
    pub lon: f64,
    pub lat: f64,
    pub distance_m: f32,
    pub pitch_deg: f32,
    pub heading_deg: f32,
}

/// A monitor as the wall sees it: its rectangle on the desktop.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MonitorRect {
    pub name: String,
    pub x: i32,
    pub y: i32,
    pub width: u32,
    pub height: u32,
}

/// A window's rectangle on the desktop (physical pixels).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Placed {
    pub x: i32,
    pub y: i32,
    pub width: u32,
    pub height: u32,
    /// The monitor it fills, if placed on one.
    pub monitor: Option<usize>,
}

impl Placed {
    fn overlaps(&self, other: &Placed) -> bool {
        let (ax1, ay1) = (
            i64::from(self.x) + i64::from(self.width),
            i64::from(self.y) + i64::from(self.height),
        );
        let (bx1, by1) = (
            i64::from(other.x) + i64::from(other.width),
            i64::from(other.y) + i64::from(other.height),
        );
        i64::from(self.x) < bx1
            && i64::from(other.x) < ax1
            && i64::from(self.y) < by1
            && i64::from(other.y) < ay1
    }
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum WallError {
    #[error("{path}: cannot read: {reason}")]
    Read { path: String, reason: String },
    #[error("{path}:{line}:{column}: {reason}")]
    Parse {
        path: String,
        line: usize,
        column: usize,
        reason: String,
    },
    #[error("{path}: window {entry} ({title}): {reason}")]
    Entry {
        path: String,
        entry: usize,
        title: String,
        reason: String,
    },
    #[error("{path}: the wall has no windows")]
    Empty { path: String },
}

impl WallError {
    /// The window entry the error is about (from 0), if any.
    pub fn entry(&self) -> Option<usize> {
        match self {
            WallError::Entry { entry, .. } => Some(*entry),
            WallError::Parse { reason, .. } => reason
                .strip_prefix("window ")
                .and_then(|r| r.split(':').next())
                .and_then(|n| n.parse().ok()),
            _ => None,
        }
    }
}

/// Reads the windows one by one, so a bad one is named by its index.
fn windows_by_entry<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<WallWindow>, D::Error> {
    struct Entries;
    impl<'de> serde::de::Visitor<'de> for Entries {
        type Value = Vec<WallWindow>;

        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a list of windows")
        }

        fn visit_seq<A: serde::de::SeqAccess<'de>>(
            self,
            mut seq: A,
        ) -> Result<Self::Value, A::Error> {
            let mut out = Vec::new();
            loop {
                match seq.next_element::<WallWindow>() {
                    Ok(Some(w)) => out.push(w),
                    Ok(None) => return Ok(out),
                    Err(e) => {
                        return Err(serde::de::Error::custom(format!(
                            "window {}: {e}",
                            out.len()
                        )));
                    }
                }
            }
        }
    }
    d.deserialize_seq(Entries)
}

impl Wall {
    /// Parses and checks a wall file's text; `path` names it in errors.
    pub fn parse(text: &str, path: &str) -> Result<Wall, WallError> {
        let wall: Wall = ron::from_str(text).map_err(|e| WallError::Parse {
            path: path.to_owned(),
            line: e.span.start.line,
            column: e.span.start.col,
            reason: e.code.to_string(),
        })?;
        if wall.windows.is_empty() {
            return Err(WallError::Empty {
                path: path.to_owned(),
            });
        }
        let bad = |entry: usize, reason: String| WallError::Entry {
            path: path.to_owned(),
            entry,
            title: wall.windows[entry].title.clone(),
            reason,
        };
        if !matches!(wall.windows[0].content, Content::City { .. }) {
            return Err(bad(
                0,
                "the first window is the operator's and shows the city (content: City)".into(),
            ));
        }
        for (i, w) in wall.windows.iter().enumerate() {
            if let Place::Rect { width, height, .. } = w.place
                && (width < 160 || height < 120 || width > 16_384 || height > 16_384)
            {
                return Err(bad(
                    i,
                    format!("size {width}×{height} is not between 160×120 and 16384×16384"),
                ));
            }
            if let Content::VideoWall { layout } = w.content
                && !(1..=4).contains(&layout)
            {
                return Err(bad(i, format!("video wall layout {layout} is not 1 to 4")));
            }
        }
        // What can be checked without the monitors: one window per
        // monitor, rectangles apart.
        for (i, a) in wall.windows.iter().enumerate() {
            for (j, b) in wall.windows.iter().enumerate().take(i) {
                let clash = match (&a.place, &b.place) {
                    (Place::Monitor(m), Place::Monitor(n)) if m == n => {
                        Some(format!("shares monitor {m} with window {j} ({})", b.title))
                    }
                    (Place::Rect { .. }, Place::Rect { .. }) => {
                        let (pa, pb) = (rect_of(&a.place), rect_of(&b.place));
                        (pa.is_some()
                            && pb.is_some()
                            && pa.zip(pb).is_some_and(|(p, q)| p.overlaps(&q)))
                        .then(|| format!("overlaps window {j} ({})", b.title))
                    }
                    _ => None,
                };
                if let Some(reason) = clash {
                    return Err(bad(i, reason));
                }
            }
        }
        Ok(wall)
    }

    pub fn load(path: &std::path::Path) -> Result<Wall, WallError> {
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| WallError::Read {
            path: name.clone(),
            reason: e.to_string(),
        })?;
        Wall::parse(&text, &name)
    }

    /// Each window's rectangle on these monitors (left to right): an
    /// unknown monitor or windows that overlap there are refused.
    pub fn placements(
        &self,
        monitors: &[MonitorRect],
        path: &str,
    ) -> Result<Vec<Placed>, WallError> {
        let bad = |entry: usize, reason: String| WallError::Entry {
            path: path.to_owned(),
            entry,
            title: self.windows[entry].title.clone(),
            reason,
        };
        let mut out: Vec<Placed> = Vec::with_capacity(self.windows.len());
        for (i, w) in self.windows.iter().enumerate() {
            let placed = match w.place {
                Place::Monitor(m) => {
                    let Some(r) = monitors.get(m) else {
                        let known: Vec<String> = monitors
                            .iter()
                            .enumerate()
                            .map(|(k, r)| {
                                format!(
                                    "{k}: {} {}×{} at {},{}",
                                    r.name, r.width, r.height, r.x, r.y
                                )
                            })
                            .collect();
                        return Err(bad(
                            i,
                            format!(
                                "monitor {m} is not connected ({} monitors: {})",
                                monitors.len(),
                                if known.is_empty() {
                                    "none".to_owned()
                                } else {
                                    known.join("; ")
                                }
                            ),
                        ));
                    };
                    Placed {
                        x: r.x,
                        y: r.y,
                        width: r.width,
                        height: r.height,
                        monitor: Some(m),
                    }
                }
                Place::Rect { .. } => match rect_of(&w.place) {
                    Some(p) => p,
                    None => return Err(bad(i, "its rectangle is empty".into())),
                },
            };
            if let Some(j) = out.iter().position(|q| q.overlaps(&placed)) {
                return Err(bad(
                    i,
                    format!("overlaps window {j} ({})", self.windows[j].title),
                ));
            }
            out.push(placed);
        }
        Ok(out)
    }

    pub fn to_ron(&self) -> String {
        ron::ser::to_string_pretty(self, ron::ser::PrettyConfig::default())
            .unwrap_or_else(|e| format!("// cannot write the wall: {e}"))
    }
}

fn rect_of(place: &Place) -> Option<Placed> {
    match *place {
        Place::Rect {
            x,
            y,
            width,
            height,
        } if width > 0 && height > 0 => Some(Placed {
            x,
            y,
            width,
            height,
            monitor: None,
        }),
        _ => None,
    }
}

/// The wall's monitor order: from the left, then from the top.
pub fn monitor_order(m: &MonitorRect) -> (i32, i32) {
    (m.x, m.y)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TWO: &str = r#"(
        title: "test",
        windows: [
            (title: "指挥席", place: Rect(x: 0, y: 0, width: 800, height: 600), content: City()),
            (title: "城市体征", place: Rect(x: 800, y: 0, width: 800, height: 600), content: KpiBoard()),
        ],
    )"#;

    fn monitors() -> Vec<MonitorRect> {
        let mut m = vec![
            MonitorRect {
                name: "DP-2".into(),
                x: 1920,
                y: 0,
                width: 1920,
                height: 1080,
            },
            MonitorRect {
                name: "DP-1".into(),
                x: 0,
                y: 0,
                width: 1920,
                height: 1080,
            },
        ];
        m.sort_by_key(monitor_order);
        m
    }

    #[test]
    fn a_good_wall_parses_round_trips_and_places_its_windows() {
        let wall = Wall::parse(TWO, "t.ron").expect("parses");
        assert_eq!(wall.windows.len(), 2);
        assert_eq!(
            wall.windows[1].content,
            Content::KpiBoard {
                area: AreaRef::City
            }
        );
        assert_eq!(Wall::parse(&wall.to_ron(), "again.ron"), Ok(wall.clone()));
        let placed = wall.placements(&monitors(), "t.ron").expect("fits");
        assert_eq!((placed[1].x, placed[1].width), (800, 800));
        let on_monitor = Wall::parse(
            r#"(windows: [
                (place: Monitor(1), fullscreen: true, content: City(area: Some(District("500103")))),
                (place: Monitor(0), content: EventHub),
            ])"#,
            "m.ron",
        )
        .expect("parses");
        let placed = on_monitor.placements(&monitors(), "m.ron").expect("fits");
        assert_eq!(
            (placed[0].x, placed[0].monitor),
            (1920, Some(1)),
            "counted from the left"
        );
        assert_eq!(placed[1].x, 0);
    }

    #[test]
    fn bad_walls_are_refused_naming_the_file_the_entry_and_the_reason() {
        let unknown_kind = TWO.replace("KpiBoard()", "Weather()");
        let e = Wall::parse(&unknown_kind, "w.ron").expect_err("unknown kind");
        let text = e.to_string();
        assert!(text.starts_with("w.ron:"), "{text}");
        assert!(
            text.contains("window 1") && text.contains("Weather"),
            "{text}"
        );
        assert!(
            text.contains("KpiBoard"),
            "lists the kinds there are: {text}"
        );
        assert_eq!(e.entry(), Some(1));

        let overlapping = TWO.replace("x: 800", "x: 600");
        let e = Wall::parse(&overlapping, "o.ron").expect_err("overlap");
        assert_eq!(
            e.to_string(),
            "o.ron: window 1 (城市体征): overlaps window 0 (指挥席)"
        );

        let same_monitor = r#"(windows: [
            (title: "a", place: Monitor(0), content: City()),
            (title: "b", place: Monitor(0), content: EventHub),
        ])"#;
        let e = Wall::parse(same_monitor, "s.ron").expect_err("one monitor, two windows");
        assert_eq!(
            e.to_string(),
            "s.ron: window 1 (b): shares monitor 0 with window 0 (a)"
        );

        let unknown_monitor = same_monitor.replace(
            "(title: \"b\", place: Monitor(0)",
            "(title: \"b\", place: Monitor(5)",
        );
        let wall =
            Wall::parse(&unknown_monitor, "u.ron").expect("fine until the monitors are known");
        let e = wall
            .placements(&monitors(), "u.ron")
            .expect_err("no monitor 5");
        let text = e.to_string();
        assert!(
            text.starts_with(
                "u.ron: window 1 (b): monitor 5 is not connected (2 monitors: 0: DP-1"
            ),
            "{text}"
        );

        let rect_on_a_monitor = r#"(windows: [
            (title: "a", place: Monitor(1), content: City()),
            (title: "b", place: Rect(x: 2000, y: 100, width: 640, height: 480), content: EventHub),
        ])"#;
        let wall = Wall::parse(rect_on_a_monitor, "r.ron").expect("parses");
        let e = wall
            .placements(&monitors(), "r.ron")
            .expect_err("b lies on monitor 1");
        assert_eq!(e.to_string(), "r.ron: window 1 (b): overlaps window 0 (a)");

        let hub_first = r#"(windows: [(title: "h", place: Monitor(0), content: EventHub)])"#;
        let e = Wall::parse(hub_first, "h.ron").expect_err("the operator's window shows the city");
        assert_eq!(e.entry(), Some(0));

        assert_eq!(
            Wall::parse("(windows: [])", "e.ron"),
            Err(WallError::Empty {
                path: "e.ron".into()
            })
        );
        let typo = TWO.replace("place:", "plcae:");
        let e = Wall::parse(&typo, "t.ron").expect_err("unknown field");
        assert!(e.to_string().contains("window 0"), "{e}");
    }

    #[test]
    fn the_readme_example_parses() {
        let wall = Wall::parse(super::super::readme_example("Wall("), "README.md")
            .expect("the example parses");
        assert_eq!(wall.windows.len(), 5);
        assert_eq!(wall.windows[4].content, Content::VideoWall { layout: 3 });
    }

    #[test]
    fn the_demo_wall_parses() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/scenes/wall_demo.ron");
        let wall = Wall::load(std::path::Path::new(path)).expect("demo wall");
        assert!(wall.windows.len() >= 3);
        let kinds: Vec<_> = wall
            .windows
            .iter()
            .map(|w| std::mem::discriminant(&w.content))
            .collect();
        assert!(kinds.contains(&std::mem::discriminant(&Content::EventHub)));
    }
}
