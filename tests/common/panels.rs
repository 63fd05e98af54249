//! The panels driven through a bare egui context (no GPU): a harness that
//! runs frames with simulated input, and a cockpit whose case steps go to a
//! real engine.

use bevy_egui::egui;
use citytwin::backend::engine::Engine;
use citytwin::backend::scenario::Incident;
use citytwin::backend::tokens::Grant;
use citytwin::cockpit::drill::Drill;
use citytwin::cockpit::hub_view::HubView;
use citytwin::cockpit::state::CityState;
use citytwin::cockpit::ui::{Lang, PanelContext, Panels, UiAction, theme};
use citytwin::geo::demo::{DemoScene, generate};
use citytwin::model::{Building, City, EventKind, RiskLevel};
use citytwin::protocol::{Role, Scope};

pub fn small_city() -> City {
    let mut scene = DemoScene::embedded().expect("embedded scene");
    scene.buildings = 2_000;
    scene.cell_m = 400.0;
    generate(&scene)
}

/// What the panels read, with the whole city in view and no map labels.
pub fn panel<'a>(
    city: &'a City,
    state: &'a CityState,
    lang: Lang,
    view: &'a HubView,
) -> PanelContext<'a> {
    PanelContext::new(city, state, lang, view, None)
}

/// Every text drawn in a frame, with its screen rectangle.
pub fn texts(output: &egui::FullOutput) -> Vec<(String, egui::Rect)> {
    fn walk(shape: &egui::Shape, out: &mut Vec<(String, egui::Rect)>) {
        match shape {
            egui::Shape::Text(t) => out.push((
                t.galley.text().to_owned(),
                t.galley.rect.translate(t.pos.to_vec2()),
            )),
            egui::Shape::Vec(v) => v.iter().for_each(|s| walk(s, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    for clipped in &output.shapes {
        walk(&clipped.shape, &mut out);
    }
    out
}

pub struct Harness {
    pub ctx: egui::Context,
    pub panels: Panels,
    /// egui's clock (s): a frame is 1/60 s, a person's look before a click 1 s.
    pub time: f64,
    /// Keys held (shift-drag).
    pub modifiers: egui::Modifiers,
}

impl Harness {
    pub fn new() -> Harness {
        let ctx = egui::Context::default();
        theme::apply(&ctx, 1.0);
        Harness {
            ctx,
            panels: Panels::default(),
            time: 0.0,
            modifiers: egui::Modifiers::NONE,
        }
    }

    pub fn frame(
        &mut self,
        cx: &PanelContext<'_>,
        events: Vec<egui::Event>,
    ) -> (Vec<UiAction>, Vec<(String, egui::Rect)>) {
        let (actions, output) = self.frame_output(cx, events);
        (actions, texts(&output))
    }

    /// A frame with `events`, at `modifiers`; what the panels asked for and
    /// everything egui painted.
    pub fn frame_output(
        &mut self,
        cx: &PanelContext<'_>,
        events: Vec<egui::Event>,
    ) -> (Vec<UiAction>, egui::FullOutput) {
        self.time += 1.0 / 60.0;
        let mut events = events;
        events.insert(0, egui::Event::ModifiersChanged(self.modifiers));
        let input = egui::RawInput {
            screen_rect: Some(egui::Rect::from_min_size(
                egui::Pos2::ZERO,
                egui::vec2(1600.0, 900.0),
            )),
            events,
            time: Some(self.time),
            ..Default::default()
        };
        let mut actions = Vec::new();
        let mut output = self
            .ctx
            .run_ui(input, |ui| actions = self.panels.ui(ui, cx));
        // No renderer here: the font atlas upload is dropped on purpose.
        output.textures_delta.clear();
        (actions, output)
    }

    /// Every character of `shown` has a glyph in the fonts egui uses.
    pub fn assert_glyphs(&self, shown: &[(String, egui::Rect)]) {
        let font = egui::FontId::proportional(14.0);
        let missing: String = self.ctx.fonts_mut(|fonts| {
            shown
                .iter()
                .flat_map(|(t, _)| t.chars())
                .filter(|c| !c.is_whitespace() && !fonts.has_glyph(&font, *c))
                .collect()
        });
        assert!(
            missing.is_empty(),
            "no glyph for {missing:?}: regenerate assets/fonts (make_subset.py)"
        );
    }

    /// A person looks for a second before the next click (what changed
    /// settles): one frame a second later.
    pub fn look(&mut self, cx: &PanelContext<'_>) -> Vec<(String, egui::Rect)> {
        self.time += 1.0;
        // Two frames: a window that just appeared lays itself out first.
        self.frame(cx, vec![]);
        self.frame(cx, vec![]).1
    }

    /// Clicks the centre of the text `label` as shown in the last frame, in
    /// the very next frame.
    pub fn click(
        &mut self,
        cx: &PanelContext<'_>,
        shown: &[(String, egui::Rect)],
        label: &str,
    ) -> Vec<UiAction> {
        let (_, rect) = shown
            .iter()
            .find(|(t, _)| t == label)
            .unwrap_or_else(|| panic!("{label:?} is not on screen"));
        let pos = rect.center();
        let button = |pressed| egui::Event::PointerButton {
            pos,
            button: egui::PointerButton::Primary,
            pressed,
            modifiers: egui::Modifiers::NONE,
        };
        let mut actions = self
            .frame(cx, vec![egui::Event::PointerMoved(pos), button(true)])
            .0;
        actions.extend(self.frame(cx, vec![button(false)]).0);
        actions
    }
}

pub struct Cockpit {
    pub state: CityState,
    pub drill: Drill,
    pub view: HubView,
}

impl Cockpit {
    pub fn new(city: &City, engine: &Engine) -> Cockpit {
        let mut state = CityState::new(city);
        state.apply_snapshot(&engine.snapshot()).expect("snapshot");
        let mut cockpit = Cockpit {
            state,
            drill: Drill::default(),
            view: HubView::default(),
        };
        cockpit.view.refresh(
            &cockpit.state,
            cockpit.drill.at,
            cockpit.state.last_time_ms().unwrap_or(0),
        );
        cockpit
    }

    pub fn cx<'a>(&'a self, city: &'a City) -> PanelContext<'a> {
        PanelContext {
            drill: self.drill,
            ..panel(city, &self.state, Lang::Zh, &self.view)
        }
    }

    /// Applies what the panels asked for; case steps go to the backend
    /// (as the dispatcher `grant`) and its delta comes back.
    pub fn apply(&mut self, actions: &[UiAction], engine: &mut Engine, grant: &Grant) {
        for action in actions {
            match action {
                UiAction::Filter(f) => self.view.filter = *f,
                UiAction::SelectCase(id) => self.view.selected = *id,
                UiAction::DrillTo(area) => {
                    self.drill.go(*area);
                }
                UiAction::Case {
                    case,
                    action,
                    version,
                } => {
                    let delta = engine
                        .case_action(grant, *case, action.clone(), *version)
                        .expect("the backend accepts the step")
                        .expect("a delta");
                    self.state.apply_delta(&delta).expect("applies");
                }
                _ => {}
            }
        }
        self.view.refresh(
            &self.state,
            self.drill.at,
            self.state.last_time_ms().unwrap_or(0),
        );
    }

    pub fn follow(&mut self, delta: Option<citytwin::protocol::Delta>) {
        if let Some(d) = delta {
            self.state.apply_delta(&d).expect("applies");
        }
        self.view.refresh(
            &self.state,
            self.drill.at,
            self.state.last_time_ms().unwrap_or(0),
        );
    }
}

pub fn incident(kind: EventKind, building: &Building, severity: RiskLevel) -> Incident {
    Incident {
        kind,
        building: building.id,
        camera: None,
        severity,
        message: format!("{kind:?} at {}", building.code),
    }
}

pub fn city_dispatcher() -> Grant {
    Grant {
        name: "市指挥中心".into(),
        role: Role::Dispatcher,
        scope: Scope::City,
    }
}

/// A muck truck and a grid report at `a`, a landslide warning at `b`, all
/// at `t0`; the cockpit follows the backend's delta.
pub fn raise_three(
    engine: &mut Engine,
    cockpit: &mut Cockpit,
    a: &Building,
    b: &Building,
    t0: i64,
) {
    cockpit.follow(
        engine
            .raise(
                &[
                    incident(EventKind::MuckTruck, a, RiskLevel::Moderate),
                    incident(EventKind::GridReport, a, RiskLevel::Lower),
                    incident(EventKind::LandslideWarning, b, RiskLevel::Major),
                ],
                t0,
            )
            .expect("raise"),
    );
}

/// Two districts with a building each, far apart in the list.
pub fn two_districts(city: &City) -> (&Building, &Building) {
    let a = &city.buildings[10];
    let b = city
        .buildings
        .iter()
        .find(|b| b.district != a.district)
        .expect("a second district");
    (a, b)
}
