//! Presenter mode (汇报演示): a [`Briefing`] file run step by step. A step is
//! turned into what the panels ask for anyway — fly to, drill to, select,
//! the look, time control, the video wall — so a briefing shows exactly what
//! the operator would see. A clicker's keys drive it; a live case at 较大 or
//! above raises a banner (one key flies there, another returns to the exact
//! step); the open file is hot-reloaded; the current view can be appended
//! as a new step.

use std::collections::HashSet;
use std::path::PathBuf;
use std::time::SystemTime;

use bevy::prelude::*;
use bevy_egui::egui;

use super::camera::{FlyTo, OrbitCamera, fly_to_building, fly_to_hazard};
use super::city::look::{Look, SetLook};
use super::drill::{AreaIndex, Drill, area_of_scope, fly_to_area};
use super::hub_view::SelectCase;
use super::schedule::AppSystems;
use super::state::{CityData, CityState, SelectBuilding, SelectHazard};
use super::time::{TimeControl, TimeControlCommand};
use super::ui::ShownPanels;
use crate::geo::{local_from_world, world_from_local};
use crate::model::briefing::{AreaRef, Briefing, Step, StepPanels, StepView};
use crate::model::{Area, CaseId, City, RiskLevel};
use crate::protocol::Scope;

pub mod export;
pub mod view;

/// The presenter's egui pass (its own window's context).
#[derive(bevy::ecs::schedule::ScheduleLabel, Clone, Debug, PartialEq, Eq, Hash)]
pub struct PresenterViewPass;

/// Marks the presenter's window (the audience window is the primary one).
#[derive(Component, Debug, Clone, Copy)]
pub struct PresenterWindow;

/// Marks the camera (and egui context) of the presenter's window.
#[derive(Component, Debug, Clone, Copy)]
pub struct PresenterCamera;

/// The overlays on the audience window and the authoring panel (needs
/// egui); the presenter window's view when there is one.
pub fn ui_plugin(app: &mut App) {
    app.add_systems(
        bevy_egui::EguiPrimaryContextPass,
        audience_ui.run_if(crate::cockpit::schedule::city_ready),
    )
    .add_systems(PresenterViewPass, presenter_window_ui);
}

fn audience_ui(
    mut contexts: bevy_egui::EguiContexts,
    presenter: Option<Res<Presenter>>,
    state: Res<CityState>,
    drill: Res<Drill>,
    settings: Res<super::ui::UiSettings>,
    mut out: MessageWriter<PresenterCommand>,
) -> Result {
    let Some(presenter) = presenter else {
        return Ok(());
    };
    let Ok(ctx) = contexts.ctx_mut() else {
        return Ok(());
    };
    view::audience_overlay(ctx, &presenter, &state, drill.at, settings.lang);
    for c in view::authoring_panel(ctx, &presenter, settings.lang) {
        out.write(c);
    }
    Ok(())
}

fn presenter_window_ui(
    mut contexts: Query<&mut bevy_egui::EguiContext, With<PresenterCamera>>,
    presenter: Option<Res<Presenter>>,
    time: Res<Time>,
    settings: Res<super::ui::UiSettings>,
    mut styled: Local<bool>,
) {
    let Some(presenter) = presenter else {
        return;
    };
    let elapsed = presenter
        .started_s
        .map_or(0.0, |t| time.elapsed_secs_f64() - t);
    for mut ctx in &mut contexts {
        let ctx = ctx.get_mut();
        if !*styled {
            super::theme::apply(ctx, settings.ui_scale);
            *styled = true;
        }
        let screen = ctx.viewport_rect();
        let mut root = egui::Ui::new(
            ctx.clone(),
            "presenter".into(),
            egui::UiBuilder::new().max_rect(screen.shrink(16.0)),
        );
        root.painter()
            .rect_filled(screen, 0.0, super::theme::PANEL_FILL.egui());
        view::presenter_view(&mut root, &presenter, elapsed, settings.lang);
    }
}

/// Opens the presenter's window: an egui-only view (a 2D camera draws
/// nothing of the city there).
pub fn spawn_presenter_window(mut commands: Commands) {
    let window = commands
        .spawn((
            Window {
                title: "citytwin · 汇报演示 · 演讲者视图".to_owned(),
                resolution: (960u32, 600u32).into(),
                // Minimised or hidden, it must not hold the audience back.
                present_mode: bevy::window::PresentMode::AutoNoVsync,
                ..default()
            },
            PresenterWindow,
        ))
        .id();
    commands.spawn((
        Camera2d,
        bevy::camera::RenderTarget::Window(bevy::window::WindowRef::Entity(window)),
        bevy_egui::EguiSchedule::new(PresenterViewPass),
        PresenterCamera,
    ));
}

pub fn plugin(app: &mut App) {
    app.add_message::<PresenterCommand>()
        .add_message::<super::video::VideoCommand>()
        .init_resource::<ShownPanels>()
        .add_systems(
            Update,
            (presenter_keys, handle_commands, reload_changed, apply_step)
                .chain()
                .in_set(AppSystems::Input),
        )
        .add_systems(
            Update,
            (watch_alarms, stop_replay, fly_step)
                .chain()
                .in_set(AppSystems::Derive),
        );
}

/// What drives a briefing (keys, buttons, the authoring panel).
#[derive(Message, Debug, Clone, PartialEq)]
pub enum PresenterCommand {
    /// Open a briefing file and start presenting at its first step.
    Open(PathBuf),
    /// Present a briefing already in memory (tests, export).
    Start(Box<Briefing>),
    Next,
    Previous,
    /// Jump to a step (0-based).
    Goto(usize),
    ToggleBlackout,
    /// Leave presenter mode (the cockpit comes back as it was).
    Leave,
    /// Present the open briefing (from the authoring panel's button).
    Present,
    /// Fly to the alarm the banner shows.
    FlyToAlarm,
    /// Back to the exact step the alarm interrupted.
    Return,
    /// Append the current view as a new step (and save the file).
    AddCurrentView,
    /// Move a step one place earlier (or later).
    MoveStep {
        index: usize,
        earlier: bool,
    },
    SetTitle(usize, String),
    SetCaption(usize, String),
    RemoveStep(usize),
}

/// A live case that interrupts the briefing.
#[derive(Debug, Clone, PartialEq)]
pub struct Alarm {
    pub case: CaseId,
    pub severity: RiskLevel,
    pub text: String,
}

/// Where the briefing was when an alarm took the camera away.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Interrupted {
    pub index: usize,
    pub pose: OrbitCamera,
}

/// The briefing being presented (or edited).
#[derive(Resource, Debug, Default)]
pub struct Presenter {
    pub briefing: Option<Briefing>,
    /// The file it came from (hot-reloaded, and where new steps are saved).
    pub path: Option<PathBuf>,
    pub index: usize,
    /// Keys drive the briefing and the panels follow the steps.
    pub presenting: bool,
    pub blackout: bool,
    /// Digits typed before Enter (jump to a step).
    pub digits: String,
    /// Seconds since presenting started (the app's clock).
    pub started_s: Option<f64>,
    pub alarm: Option<Alarm>,
    pub interrupted: Option<Interrupted>,
    /// The last reload or save problem (shown in the presenter view).
    pub problem: Option<String>,
    /// The step the scene shows (None: apply the current one).
    applied: Option<usize>,
    /// The step's camera flight, written after the messages that fly too.
    pending_fly: Option<FlyTo>,
    /// A replay segment's end: pause there (stream ms).
    replay_until: Option<i64>,
    /// Cases open when presenting started (they do not interrupt).
    known_cases: HashSet<CaseId>,
    modified: Option<SystemTime>,
    last_poll_s: f64,
    /// The panels and look the cockpit had before presenting.
    before: Option<(StepPanels, Look)>,
    /// Fly back to exactly this pose when the step is next applied.
    return_pose: Option<OrbitCamera>,
}

impl Presenter {
    pub fn step(&self) -> Option<&Step> {
        self.briefing.as_ref()?.steps.get(self.index)
    }

    pub fn next_step(&self) -> Option<&Step> {
        self.briefing.as_ref()?.steps.get(self.index + 1)
    }

    pub fn len(&self) -> usize {
        self.briefing.as_ref().map_or(0, |b| b.steps.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether a step's replay segment is still playing.
    pub fn replaying(&self) -> bool {
        self.replay_until.is_some()
    }

    fn go(&mut self, index: usize) {
        let last = self.len().saturating_sub(1);
        self.index = index.min(last);
        self.applied = None;
        self.interrupted = None;
    }

    fn save(&mut self) {
        if let (Some(b), Some(path)) = (&self.briefing, &self.path) {
            match b.save(path) {
                Ok(()) => {
                    self.modified = modified(path);
                    self.problem = None;
                }
                Err(e) => {
                    warn!("{e}");
                    self.problem = Some(e.to_string());
                }
            }
        }
    }
}

fn modified(path: &std::path::Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

/// A clicker's keys: PageDown / → / Space next, PageUp / ← previous, B or .
/// blacks out, digits then Enter jump, Esc leaves; A flies to an alarm, R
/// returns. Outside presenting, Insert appends the current view.
fn presenter_keys(
    keys: Res<ButtonInput<KeyCode>>,
    presenter: Option<ResMut<Presenter>>,
    ui: Option<Res<super::ui::UiHasPointer>>,
    mut out: MessageWriter<PresenterCommand>,
) {
    let Some(mut presenter) = presenter else {
        return;
    };
    if ui.is_some_and(|u| u.keyboard) {
        return;
    }
    if !presenter.presenting {
        if keys.just_pressed(KeyCode::Insert) && presenter.briefing.is_some() {
            out.write(PresenterCommand::AddCurrentView);
        }
        return;
    }
    for key in keys.get_just_pressed() {
        let command = match key {
            KeyCode::PageDown | KeyCode::ArrowRight | KeyCode::Space => {
                Some(PresenterCommand::Next)
            }
            KeyCode::PageUp | KeyCode::ArrowLeft => Some(PresenterCommand::Previous),
            KeyCode::KeyB | KeyCode::Period => Some(PresenterCommand::ToggleBlackout),
            KeyCode::Escape => Some(PresenterCommand::Leave),
            KeyCode::KeyA => Some(PresenterCommand::FlyToAlarm),
            KeyCode::KeyR => Some(PresenterCommand::Return),
            KeyCode::Enter | KeyCode::NumpadEnter => {
                let digits = std::mem::take(&mut presenter.digits);
                digits
                    .parse::<usize>()
                    .ok()
                    .filter(|n| *n >= 1)
                    .map(|n| PresenterCommand::Goto(n - 1))
            }
            other => {
                if let Some(d) = digit(*other) {
                    presenter.digits.push(d);
                }
                None
            }
        };
        if let Some(c) = command {
            out.write(c);
        }
    }
}

fn digit(key: KeyCode) -> Option<char> {
    use KeyCode::*;
    let d = match key {
        Digit0 | Numpad0 => '0',
        Digit1 | Numpad1 => '1',
        Digit2 | Numpad2 => '2',
        Digit3 | Numpad3 => '3',
        Digit4 | Numpad4 => '4',
        Digit5 | Numpad5 => '5',
        Digit6 | Numpad6 => '6',
        Digit7 | Numpad7 => '7',
        Digit8 | Numpad8 => '8',
        Digit9 | Numpad9 => '9',
        _ => return None,
    };
    Some(d)
}

#[allow(clippy::too_many_arguments)]
fn handle_commands(
    mut commands: MessageReader<PresenterCommand>,
    mut presenter: Option<ResMut<Presenter>>,
    mut shown: ResMut<ShownPanels>,
    mut set_look: MessageWriter<SetLook>,
    mut select_case: MessageWriter<SelectCase>,
    mut highlight_state: ResMut<CityState>,
    look: Res<Look>,
    time: Res<Time>,
    cameras: Query<&OrbitCamera, Without<super::camera::WallView>>,
    drill: Res<Drill>,
    city: Res<CityData>,
    mut world: Commands,
) {
    for command in commands.read() {
        let Some(presenter) = presenter.as_deref_mut() else {
            // The first command makes the presenter (a cockpit has none
            // until a briefing is opened).
            if let PresenterCommand::Open(_) | PresenterCommand::Start(_) = command {
                let mut fresh = Presenter::default();
                start(
                    &mut fresh,
                    command,
                    &mut shown,
                    &look,
                    &highlight_state,
                    time.elapsed_secs_f64(),
                );
                world.insert_resource(fresh);
            }
            continue;
        };
        match command {
            PresenterCommand::Open(_) | PresenterCommand::Start(_) => start(
                presenter,
                command,
                &mut shown,
                &look,
                &highlight_state,
                time.elapsed_secs_f64(),
            ),
            PresenterCommand::Next => {
                let i = presenter.index + 1;
                presenter.go(i);
            }
            PresenterCommand::Previous => {
                let i = presenter.index.saturating_sub(1);
                presenter.go(i);
            }
            PresenterCommand::Goto(i) => presenter.go(*i),
            PresenterCommand::Present => {
                if presenter.briefing.is_some() && !presenter.presenting {
                    presenter.presenting = true;
                    presenter.started_s = Some(time.elapsed_secs_f64());
                    presenter.known_cases = highlight_state.open_cases().map(|c| c.id).collect();
                    presenter.before = Some((shown.0, *look));
                    presenter.go(0);
                }
            }
            PresenterCommand::ToggleBlackout => presenter.blackout = !presenter.blackout,
            PresenterCommand::Leave => {
                presenter.presenting = false;
                presenter.blackout = false;
                presenter.alarm = None;
                presenter.interrupted = None;
                if let Some((panels, look)) = presenter.before.take() {
                    shown.0 = panels;
                    set_look.write(SetLook(look));
                }
                highlight_state.set_highlight(None);
            }
            PresenterCommand::FlyToAlarm => {
                if let (Some(alarm), Ok(pose)) = (presenter.alarm.clone(), cameras.single()) {
                    if presenter.interrupted.is_none() {
                        presenter.interrupted = Some(Interrupted {
                            index: presenter.index,
                            pose: *pose,
                        });
                    }
                    highlight_state.set_highlight(None);
                    select_case.write(SelectCase(Some(alarm.case)));
                    presenter.alarm = None;
                }
            }
            PresenterCommand::Return => {
                if let Some(back) = presenter.interrupted.take() {
                    presenter.index = back.index;
                    presenter.applied = None;
                    // The exact pose the step had when the alarm came.
                    presenter.pending_fly = None;
                    presenter.return_pose = Some(back.pose);
                }
            }
            PresenterCommand::AddCurrentView => {
                if let Ok(pose) = cameras.single() {
                    let step = step_from_view(
                        &city,
                        pose,
                        drill.at,
                        shown.0,
                        &look,
                        presenter.len() + 1,
                        highlight_state.selected(),
                    );
                    if let Some(b) = presenter.briefing.as_mut() {
                        b.steps.push(step);
                    }
                    presenter.save();
                }
            }
            PresenterCommand::MoveStep { index, earlier } => {
                if let Some(b) = presenter.briefing.as_mut() {
                    let other = if *earlier {
                        index.checked_sub(1)
                    } else {
                        Some(index + 1)
                    };
                    if let Some(other) = other.filter(|o| *o < b.steps.len())
                        && *index < b.steps.len()
                    {
                        b.steps.swap(*index, other);
                    }
                }
                presenter.save();
            }
            PresenterCommand::SetTitle(i, text) | PresenterCommand::SetCaption(i, text) => {
                let title = matches!(command, PresenterCommand::SetTitle(..));
                if let Some(step) = presenter
                    .briefing
                    .as_mut()
                    .and_then(|b| b.steps.get_mut(*i))
                {
                    if title {
                        step.title = text.clone();
                    } else {
                        step.caption = text.clone();
                    }
                }
                presenter.save();
            }
            PresenterCommand::RemoveStep(i) => {
                if let Some(b) = presenter.briefing.as_mut()
                    && *i < b.steps.len()
                    && b.steps.len() > 1
                {
                    b.steps.remove(*i);
                }
                let index = presenter.index;
                presenter.go(index);
                presenter.save();
            }
        }
    }
}

fn start(
    presenter: &mut Presenter,
    command: &PresenterCommand,
    shown: &mut ShownPanels,
    look: &Look,
    state: &CityState,
    now_s: f64,
) {
    let (briefing, path) = match command {
        PresenterCommand::Open(path) => match Briefing::load(path) {
            Ok(b) => (b, Some(path.clone())),
            Err(e) => {
                warn!("{e}");
                presenter.problem = Some(e.to_string());
                return;
            }
        },
        PresenterCommand::Start(b) => ((**b).clone(), None),
        _ => return,
    };
    presenter.modified = path.as_deref().and_then(modified);
    presenter.path = path;
    presenter.briefing = Some(briefing);
    presenter.presenting = true;
    presenter.blackout = false;
    presenter.problem = None;
    presenter.started_s = Some(now_s);
    presenter.known_cases = state.open_cases().map(|c| c.id).collect();
    presenter.alarm = None;
    presenter.interrupted = None;
    if presenter.before.is_none() {
        presenter.before = Some((shown.0, *look));
    }
    presenter.go(0);
}

/// The current view as a step: the camera's exact pose, the drill level,
/// the panels shown, the look, and the selected building highlighted.
pub fn step_from_view(
    city: &City,
    pose: &OrbitCamera,
    area: Area,
    panels: StepPanels,
    look: &Look,
    number: usize,
    selected: Option<crate::model::BuildingId>,
) -> Step {
    let [lon, lat] = frame(city).to_lon_lat(local_from_world(pose.focus.to_array()));
    let highlight = crate::model::briefing::Highlight {
        buildings: selected
            .and_then(|id| city.building(id))
            .map(|b| vec![b.code.clone()])
            .unwrap_or_default(),
        levels: Vec::new(),
    };
    Step {
        title: format!("第 {number} 步"),
        view: StepView::Pose {
            lon,
            lat,
            distance_m: pose.distance_m,
            pitch_deg: pose.pitch_deg,
            heading_deg: pose.heading_deg,
        },
        area: area_ref(city, area),
        panels,
        highlight,
        risk_focus: Some(look.risk_focus),
        ..Step::default()
    }
}

/// The city's local frame (local metres ↔ WGS84).
fn frame(city: &City) -> crate::geo::frame::LocalFrame {
    let [lon, lat] = city.bounds.origin_lon_lat;
    crate::geo::frame::LocalFrame::new(lon, lat)
}

/// The camera of a pose written in a file: the point looked at (WGS84),
/// on the ground there.
pub fn pose_camera(
    city: &City,
    lon: f64,
    lat: f64,
    distance_m: f32,
    pitch_deg: f32,
    heading_deg: f32,
) -> OrbitCamera {
    let local = frame(city).to_local(lon, lat);
    let ground = city.terrain.height_at(local);
    OrbitCamera {
        focus: Vec3::from(world_from_local(local, ground)),
        distance_m,
        pitch_deg,
        heading_deg,
    }
    .clamped()
}

/// An area as a briefing file names it (codes and names, not indices).
pub fn area_ref(city: &City, area: Area) -> AreaRef {
    let code =
        |d: crate::model::DistrictId| city.districts.get(usize::from(d.0)).map(|d| d.code.clone());
    match area {
        Area::City => AreaRef::City,
        Area::District(d) => code(d).map_or(AreaRef::City, AreaRef::District),
        Area::Street(d, s) => match (code(d), city.streets.get(usize::from(s.0))) {
            (Some(c), Some(s)) => AreaRef::Street(c, s.name_zh.clone()),
            _ => AreaRef::City,
        },
    }
}

/// Reloads the open file when it changed on disk (polled once a second); a
/// broken file keeps the steps as they were and says why.
fn reload_changed(time: Res<Time>, presenter: Option<ResMut<Presenter>>) {
    let Some(mut presenter) = presenter else {
        return;
    };
    let now = time.elapsed_secs_f64();
    if now - presenter.last_poll_s < 1.0 {
        return;
    }
    presenter.last_poll_s = now;
    let Some(path) = presenter.path.clone() else {
        return;
    };
    let stamp = modified(&path);
    if stamp.is_none() || stamp == presenter.modified {
        return;
    }
    presenter.modified = stamp;
    match Briefing::load(&path) {
        Ok(b) => {
            info!("{}: reloaded ({} steps)", path.display(), b.steps.len());
            presenter.briefing = Some(b);
            presenter.problem = None;
            let index = presenter.index;
            presenter.go(index);
        }
        Err(e) => {
            warn!("{e} (keeping the steps as they were)");
            presenter.problem = Some(e.to_string());
        }
    }
}

/// The area a step names in this city (None: no such district or street).
pub fn resolve_area(city: &City, area: &AreaRef) -> Option<Area> {
    let scope = match area {
        AreaRef::City => Scope::City,
        AreaRef::District(code) => Scope::District(code.clone()),
        AreaRef::Street(code, street) => Scope::Street {
            district: code.clone(),
            street: street.clone(),
        },
    };
    area_of_scope(city, &scope)
}

/// Turns the current step into messages (once per step).
#[allow(clippy::too_many_arguments)]
fn apply_step(
    presenter: Option<ResMut<Presenter>>,
    city: Res<CityData>,
    index: Option<Res<AreaIndex>>,
    mut drill: ResMut<Drill>,
    mut state: ResMut<CityState>,
    mut shown: ResMut<ShownPanels>,
    look: Res<Look>,
    mut time: ResMut<TimeControl>,
    mut out: StepMessages,
) {
    let Some(mut presenter) = presenter else {
        return;
    };
    if !presenter.presenting || presenter.applied == Some(presenter.index) {
        return;
    }
    let Some(step) = presenter.step().cloned() else {
        return;
    };
    presenter.applied = Some(presenter.index);
    let area = resolve_area(&city, &step.area).unwrap_or_else(|| {
        warn!(
            "step {:?}: no area {:?} in this city",
            step.title, step.area
        );
        Area::City
    });
    drill.go(area);
    shown.0 = step.panels;
    if let Some(f) = step.risk_focus {
        out.look.write(SetLook(look.with_focus(f)));
    }
    // Highlights: the listed buildings and every building at the listed levels.
    let highlighted: Option<Vec<crate::model::BuildingId>> =
        (!step.highlight.is_empty()).then(|| {
            city.buildings
                .iter()
                .filter(|b| {
                    step.highlight.buildings.contains(&b.code)
                        || state
                            .level(b.id)
                            .is_some_and(|l| step.highlight.levels.contains(&l))
                })
                .map(|b| b.id)
                .collect()
        });
    state.set_highlight(highlighted.as_deref());
    let duration = step.transition_s;
    let fly = match &step.view {
        StepView::Keep => None,
        StepView::Overview => {
            let v = super::app::default_view(&city);
            Some(FlyTo::pose(v, duration))
        }
        StepView::Area => Some(fly_to_area(&city, index.as_deref(), area)),
        StepView::Pose {
            lon,
            lat,
            distance_m,
            pitch_deg,
            heading_deg,
        } => Some(FlyTo::pose(
            pose_camera(&city, *lon, *lat, *distance_m, *pitch_deg, *heading_deg),
            duration,
        )),
        StepView::Building(code) => {
            let b = city.buildings.iter().find(|b| b.code == *code);
            if let Some(b) = b {
                out.select.write(SelectBuilding(Some(b.id)));
            }
            b.and_then(|b| fly_to_building(&city, b.id))
        }
        StepView::Case(kind) => {
            let case = state
                .open_cases()
                .filter(|c| kind.is_none_or(|k| c.kind == k))
                .filter(|c| area.contains(c.district, c.street))
                .max_by_key(|c| (c.opened_ms, c.id))
                .map(|c| c.id);
            if case.is_some() {
                out.select_case.write(SelectCase(case));
            }
            // select_case flies to it.
            None
        }
        StepView::Hazard(code) => {
            let h = city.hazards.iter().find(|h| h.code == *code).map(|h| h.id);
            if let Some(h) = h {
                out.select_hazard.write(SelectHazard(Some((h, None))));
            }
            h.and_then(|h| fly_to_hazard(&city, h))
        }
    };
    let fly = fly.map(|mut f| {
        f.duration_s = Some(duration);
        f
    });
    presenter.pending_fly = match presenter.return_pose.take() {
        Some(pose) => Some(FlyTo::pose(pose, duration)),
        None => fly,
    };
    presenter.replay_until = None;
    if let Some(segment) = step.replay
        && let Some((start, end)) = time.span()
    {
        let from = start + (segment.from_s * 1000.0) as i64;
        let to = (start + (segment.to_s * 1000.0) as i64).min(end.max(start));
        time.apply(TimeControlCommand::Seek(from));
        time.apply(TimeControlCommand::SetSpeed(segment.speed));
        time.apply(TimeControlCommand::Play);
        presenter.replay_until = Some(to);
    }
    if let Some(camera) = &step.video
        && let Some(cam) = city.cameras.iter().find(|c| c.code == *camera)
    {
        out.video.write(super::video::VideoCommand::Open(cam.id));
    }
}

#[derive(bevy::ecs::system::SystemParam)]
struct StepMessages<'w> {
    look: MessageWriter<'w, SetLook>,
    select: MessageWriter<'w, SelectBuilding>,
    select_case: MessageWriter<'w, SelectCase>,
    select_hazard: MessageWriter<'w, SelectHazard>,
    video: MessageWriter<'w, super::video::VideoCommand>,
}

/// Writes the step's flight after the selections' own (they fly too).
fn fly_step(presenter: Option<ResMut<Presenter>>, mut fly: MessageWriter<FlyTo>) {
    if let Some(mut presenter) = presenter
        && let Some(to) = presenter.pending_fly.take()
    {
        fly.write(to);
    }
}

/// A step's replay segment pauses by itself at its end.
fn stop_replay(presenter: Option<ResMut<Presenter>>, mut time: ResMut<TimeControl>) {
    let Some(mut presenter) = presenter else {
        return;
    };
    if let Some(until) = presenter.replay_until
        && time.now_ms().is_some_and(|now| now >= until)
    {
        time.apply(TimeControlCommand::Pause);
        time.apply(TimeControlCommand::Seek(until));
        presenter.replay_until = None;
    }
}

/// A new case at the briefing's alarm level or above raises the banner.
fn watch_alarms(presenter: Option<ResMut<Presenter>>, state: Res<CityState>, city: Res<CityData>) {
    let Some(mut presenter) = presenter else {
        return;
    };
    if !presenter.presenting || !state.is_changed() {
        return;
    }
    let min = presenter
        .briefing
        .as_ref()
        .map_or(RiskLevel::High, |b| b.alarms.min_severity);
    let fresh: Vec<_> = state
        .open_cases()
        .filter(|c| !presenter.known_cases.contains(&c.id))
        .map(|c| (c.id, c.severity, c.kind, c.building))
        .collect();
    for (id, severity, kind, building) in fresh {
        presenter.known_cases.insert(id);
        if severity <= min {
            let place = building
                .and_then(|b| city.building(b))
                .map(|b| b.name.clone().unwrap_or_else(|| b.code.clone()))
                .unwrap_or_default();
            presenter.alarm = Some(Alarm {
                case: id,
                severity,
                text: format!(
                    "{} · {} {}",
                    severity.name_zh(),
                    super::ui::event_hub::kind_name(kind, super::ui::Lang::Zh),
                    place
                ),
            });
        }
    }
}
