//! The cockpit's panels (egui): top bar with breadcrumb, search and
//! language toggle, area names on the map, risk legend with live counts,
//! building card, event hub, KPI panel. Panels read a narrow
//! [`PanelContext`] and return [`UiAction`]s; systems turn those into
//! messages. Panels never mutate the world. The UI scale follows the
//! window's height (a wall of 2160 lines gets 2×).

pub mod building_card;
pub mod event_hub;
pub mod hazard_card;
pub mod kpi_board;
pub mod kpi_panel;
pub mod legend;
pub mod link_badge;
pub mod map_labels;
pub mod search;
pub mod timeline;
pub mod top_bar;
pub mod video_wall;

/// The theme lives beside the panels' folder (the city's materials use it
/// too); panels reach it as `ui::theme`.
pub use super::theme;

use bevy::prelude::*;
use bevy_egui::{EguiContexts, EguiPrimaryContextPass, egui};

use super::camera::{FlyTo, fly_to_building};
use super::drill::{AreaIndex, Drill, DrillTo};
use super::hub_view::{CaseFilter, HubView, SelectCase, SetFilter};
use super::state::{CityData, CityState, SelectBuilding};
use super::stream::{CommandFeedback, HeadState, LiveSource, SendCommand, StreamState};
use super::time::{TimeControl, TimeControlCommand, TimelineMarks};
use crate::model::{Area, BuildingId, CaseAction, CaseId, City};
use crate::protocol::CommandKind;

/// Interface language: Chinese first, English on toggle.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Lang {
    #[default]
    Zh,
    En,
}

impl Lang {
    /// Picks the text for this language.
    pub fn pick<'a>(self, zh: &'a str, en: &'a str) -> &'a str {
        match self {
            Lang::Zh => zh,
            Lang::En => en,
        }
    }
}

#[derive(Resource, Clone, Debug)]
pub struct UiSettings {
    pub lang: Lang,
    pub ui_scale: f32,
}

impl Default for UiSettings {
    fn default() -> Self {
        UiSettings {
            lang: Lang::Zh,
            ui_scale: 1.0,
        }
    }
}

/// Whether egui wants the pointer/keyboard (camera and picking stand back).
#[derive(Resource, Default, Debug, Clone, Copy)]
pub struct UiHasPointer {
    pub pointer: bool,
    pub keyboard: bool,
}

/// What a panel may read.
pub struct PanelContext<'a> {
    pub city: &'a City,
    pub state: &'a CityState,
    pub lang: Lang,
    /// The live link, when the cockpit has one.
    pub link: Option<&'a StreamState>,
    /// The clock: what "now" is for every panel.
    pub time: &'a TimeControl,
    /// The clock's time (the newest stream time when following).
    pub now_ms: i64,
    /// What became of the operator's commands.
    pub feedback: &'a CommandFeedback,
    /// The live head while the clock shows the past.
    pub head: &'a HeadState,
    /// The timeline's marks (case openings, escalations, closings).
    pub marks: &'a TimelineMarks,
    /// The drilled-into area and the token's floor.
    pub drill: Drill,
    /// The hub's rows, counts, filter and selected case.
    pub view: &'a HubView,
    /// Area names to show on the map, at these screen positions (points).
    pub labels: &'a [(Area, egui::Pos2)],
    /// Height of what runs along the bottom edge (the timeline bar): panels
    /// anchored to the bottom stand above it.
    pub bottom_inset: f32,
    /// The video wall and its streams (None: no video in this cockpit).
    pub video: Option<video_wall::VideoPanel<'a>>,
    /// Camera icons to draw on the map, at these screen positions (points).
    pub camera_icons: &'a [video_wall::CameraIcon],
    /// How the city is drawn (the legend's risk-focus control shows it).
    pub look: crate::cockpit::city::look::Look,
    /// Screen rectangles (points) of the haloed 较大/重大 buildings in
    /// view: map labels keep clear of them.
    pub halos: &'a [egui::Rect],
    /// Which panels show (a briefing step hides most).
    pub shown: crate::model::briefing::StepPanels,
    /// What the imagery base map has done (None without `--imagery`).
    pub imagery: Option<&'a crate::cockpit::imagery::ImageryStatus>,
}

/// The clock, command feedback, live head and timeline marks of a cockpit
/// that has none of its own yet (benches, panel tests, a static city).
#[derive(Default)]
pub struct PanelExtras {
    pub time: TimeControl,
    pub feedback: CommandFeedback,
    pub head: HeadState,
    pub marks: TimelineMarks,
}

static IDLE: std::sync::LazyLock<PanelExtras> = std::sync::LazyLock::new(PanelExtras::default);

impl<'a> PanelContext<'a> {
    /// A context with the whole city in view, no link, no map labels; "now"
    /// is the clock of `extras` (default: following the state's stream).
    pub fn new(
        city: &'a City,
        state: &'a CityState,
        lang: Lang,
        view: &'a HubView,
        extras: Option<&'a PanelExtras>,
    ) -> PanelContext<'a> {
        let extras = extras.unwrap_or(&IDLE);
        PanelContext {
            city,
            state,
            lang,
            link: None,
            time: &extras.time,
            now_ms: extras.time.shown_ms(state.last_time_ms()),
            feedback: &extras.feedback,
            head: &extras.head,
            marks: &extras.marks,
            drill: Drill::default(),
            view,
            labels: &[],
            bottom_inset: 0.0,
            video: None,
            camera_icons: &[],
            look: crate::cockpit::city::look::Look::default(),
            halos: &[],
            shown: crate::model::briefing::StepPanels::ALL,
            imagery: None,
        }
    }
}

/// What a panel asks for.
#[derive(Debug, Clone, PartialEq)]
pub enum UiAction {
    Select(Option<BuildingId>),
    FlyToBuilding(BuildingId),
    SetLang(Lang),
    /// A workflow step for a case, sent to the backend as a command,
    /// issued against the case's `version` as the operator saw it.
    Case {
        case: CaseId,
        action: CaseAction,
        version: u32,
    },
    SelectCase(Option<CaseId>),
    /// Drill to an area (map label, KPI table, breadcrumb).
    DrillTo(Area),
    Filter(CaseFilter),
    /// Play, pause, seek … (the timeline bar, keys, the History tab).
    Time(TimeControlCommand),
    /// Select a hazard body (and one of its points), or clear it.
    SelectHazard(Option<(crate::model::HazardId, Option<u16>)>),
    FlyToHazard(crate::model::HazardId),
    /// Change the video wall (layout, order, focus, links).
    Video(crate::cockpit::video::VideoCommand),
    /// A tile shows this stream this frame (its decoder must run).
    ShowTile {
        request: crate::video::StreamRequest,
        brightness: f32,
    },
    /// Change how the city is drawn (the risk focus).
    Look(crate::cockpit::city::look::Look),
}

/// Which panels the cockpit shows (all, unless a briefing step says).
#[derive(Resource, Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShownPanels(pub crate::model::briefing::StepPanels);

impl Default for ShownPanels {
    fn default() -> Self {
        ShownPanels(crate::model::briefing::StepPanels::ALL)
    }
}

/// All panels' own state (text typed, results shown).
#[derive(Resource, Default)]
pub struct Panels {
    pub top_bar: top_bar::TopBar,
    pub legend: legend::Legend,
    pub card: building_card::BuildingCard,
    pub hazard_card: hazard_card::HazardCard,
    pub hub: event_hub::EventHub,
    pub kpi: kpi_panel::KpiPanel,
    pub labels: map_labels::MapLabels,
    pub timeline: timeline::TimelineBar,
    pub video: video_wall::VideoWallPanel,
}

impl Panels {
    /// Draws every panel into `root` and returns what the user asked for.
    pub fn ui(&mut self, root: &mut egui::Ui, cx: &PanelContext<'_>) -> Vec<UiAction> {
        let Self {
            top_bar,
            legend,
            card,
            hazard_card,
            hub,
            kpi,
            labels,
            timeline,
            video,
        } = self;
        let mut actions = Vec::new();
        let shown = cx.shown;
        if shown.top_bar {
            top_bar.ui(root, cx, &mut actions);
        }
        let inset = if shown.timeline {
            timeline.ui(root, cx, &mut actions)
        } else {
            0.0
        };
        let cx = &PanelContext {
            bottom_inset: inset,
            ..*cx
        };
        // The map is what the top bar leaves; labels stay inside it.
        let map = root.available_rect_before_wrap();
        labels.ui(root.ctx(), cx, map, &mut actions);
        video.ui(root.ctx(), cx, &mut actions);
        if shown.legend {
            legend.ui(root.ctx(), cx, &mut actions);
        }
        if shown.card {
            card.ui(root.ctx(), cx, &mut actions);
            hazard_card.ui(root.ctx(), cx, &mut actions);
        }
        if shown.hub {
            hub.ui(root.ctx(), cx, &mut actions);
        }
        if shown.kpi {
            kpi.ui(root.ctx(), cx, &mut actions);
        }
        actions
    }
}

/// Where panels send their requests.
#[derive(bevy::ecs::system::SystemParam)]
pub struct PanelMessages<'w> {
    select: MessageWriter<'w, SelectBuilding>,
    select_hazard: MessageWriter<'w, super::state::SelectHazard>,
    fly: MessageWriter<'w, FlyTo>,
    select_case: MessageWriter<'w, SelectCase>,
    drill: MessageWriter<'w, DrillTo>,
    filter: MessageWriter<'w, SetFilter>,
    time: MessageWriter<'w, TimeControlCommand>,
    command: MessageWriter<'w, SendCommand>,
    video: MessageWriter<'w, crate::cockpit::video::VideoCommand>,
    look: MessageWriter<'w, crate::cockpit::city::look::SetLook>,
}

/// What the panels read besides the city and its state.
#[derive(bevy::ecs::system::SystemParam)]
pub struct PanelInputs<'w> {
    pub(crate) link: Option<Res<'w, StreamState>>,
    pub(crate) live: Option<Res<'w, LiveSource>>,
    pub(crate) time: Res<'w, TimeControl>,
    pub(crate) feedback: Res<'w, CommandFeedback>,
    pub(crate) head: Res<'w, HeadState>,
    pub(crate) marks: Res<'w, TimelineMarks>,
    pub(crate) view: Res<'w, HubView>,
    pub(crate) drill: Res<'w, Drill>,
    pub(crate) index: Option<Res<'w, AreaIndex>>,
    pub(crate) wall: Option<Res<'w, crate::cockpit::video::VideoWall>>,
    pub(crate) videos: Option<Res<'w, crate::cockpit::video::Videos>>,
    pub(crate) shown: Option<ResMut<'w, crate::cockpit::video::ShownStreams>>,
    pub(crate) look: Res<'w, crate::cockpit::city::look::Look>,
    pub(crate) panels_shown: Res<'w, ShownPanels>,
    pub(crate) imagery: Option<Res<'w, crate::cockpit::imagery::ImageryLayer>>,
}

impl PanelInputs<'_> {
    /// What every window's panels read (no map labels, camera icons or
    /// halos: those depend on a window's camera).
    pub fn context<'a>(
        &'a self,
        city: &'a City,
        state: &'a CityState,
        lang: Lang,
    ) -> PanelContext<'a> {
        PanelContext {
            city,
            state,
            lang,
            // The badge speaks of the live link; a replay has none.
            link: self.link.as_deref().filter(|_| self.live.is_some()),
            time: &self.time,
            now_ms: self.time.shown_ms(state.last_time_ms()),
            feedback: &self.feedback,
            head: &self.head,
            marks: &self.marks,
            drill: *self.drill,
            view: &self.view,
            labels: &[],
            bottom_inset: 0.0,
            video: match (&self.wall, &self.videos) {
                (Some(wall), Some(videos)) => Some(video_wall::VideoPanel { wall, videos }),
                _ => None,
            },
            camera_icons: &[],
            look: *self.look,
            halos: &[],
            shown: self.panels_shown.0,
            imagery: self.imagery.as_deref().map(|l| &l.status),
        }
    }

    /// Where a tile shown this frame is recorded (its decoder must run).
    pub fn video_sink(
        &mut self,
    ) -> Option<(
        &crate::cockpit::video::Videos,
        &mut crate::cockpit::video::ShownStreams,
    )> {
        match (&self.videos, self.shown.as_deref_mut()) {
            (Some(videos), Some(shown)) => Some((&**videos, shown)),
            _ => None,
        }
    }
}

/// The UI scale for a window `height_px` tall: panels are laid out for a
/// 1080-line screen and grow with the wall (2160 lines → 2×), times the
/// user's own factor.
pub fn wall_scale(user_scale: f32, height_px: Option<f32>) -> f32 {
    let wall = height_px.map_or(1.0, |h| (h / 1080.0).clamp(0.75, 4.0));
    (user_scale * wall).clamp(0.5, 6.0)
}

/// Screen positions (egui points) of the area names to show at `at`.
pub fn map_label_positions(
    city: &City,
    index: &AreaIndex,
    at: Area,
    camera: &Camera,
    transform: &GlobalTransform,
    zoom: f32,
) -> Vec<(Area, egui::Pos2)> {
    map_labels::labelled_areas(city, at)
        .into_iter()
        .filter_map(|area| {
            let e = index.extent(area)?;
            let ground = city.terrain.height_at(e.centre_m);
            let world = Vec3::from(crate::geo::world_from_local(e.centre_m, ground + 60.0));
            let px = camera.world_to_viewport(transform, world).ok()?;
            Some((area, egui::pos2(px.x / zoom, px.y / zoom)))
        })
        .collect()
}

/// Screen rectangles (egui points) of the haloed buildings in view: the
/// 较大/重大 ones inside the drilled-into area, each with its halo's width.
pub fn halo_rects(
    city: &City,
    state: &CityState,
    at: Area,
    camera: &Camera,
    transform: &GlobalTransform,
    zoom: f32,
) -> Vec<egui::Rect> {
    use crate::model::RiskLevel;
    let margin = crate::cockpit::city::look::HALO_PX / zoom + 2.0;
    let mut out = Vec::new();
    for b in &city.buildings {
        if !matches!(state.level(b.id), Some(RiskLevel::Major | RiskLevel::High))
            || !at.contains(b.district, b.street)
        {
            continue;
        }
        let (lo, hi) = b.footprint_m.iter().fold(
            ([f32::INFINITY; 2], [f32::NEG_INFINITY; 2]),
            |(lo, hi), p| {
                (
                    [lo[0].min(p[0]), lo[1].min(p[1])],
                    [hi[0].max(p[0]), hi[1].max(p[1])],
                )
            },
        );
        let mut rect = egui::Rect::NOTHING;
        let mut seen = true;
        for k in 0..8 {
            let x = if k & 1 == 0 { lo[0] } else { hi[0] };
            let y = if k & 2 == 0 { lo[1] } else { hi[1] };
            let z = if k & 4 == 0 {
                b.base_elevation_m
            } else {
                b.top_elevation_m()
            };
            let world = Vec3::from(crate::geo::world_from_local([x, y], z));
            match camera.world_to_viewport(transform, world) {
                Ok(px) => rect.extend_with(egui::pos2(px.x / zoom, px.y / zoom)),
                Err(_) => seen = false,
            }
        }
        if seen {
            out.push(rect.expand(margin));
        }
    }
    out
}

/// Screen positions (egui points) of the cameras in view and their view
/// cones, decluttered: an icon too close to one already placed waits until
/// the camera comes nearer.
pub fn camera_icon_positions(
    city: &City,
    camera: &Camera,
    transform: &GlobalTransform,
    zoom: f32,
) -> Vec<video_wall::CameraIcon> {
    const GAP: f32 = 14.0;
    let project = |p: [f32; 2], up: f32| {
        let ground = city.terrain.height_at(p);
        let world = Vec3::from(crate::geo::world_from_local(p, ground + up));
        camera
            .world_to_viewport(transform, world)
            .ok()
            .map(|px| egui::pos2(px.x / zoom, px.y / zoom))
    };
    let mut placed: Vec<video_wall::CameraIcon> = Vec::new();
    for c in &city.cameras {
        let Some(at) = project(c.position_m, c.height_m) else {
            continue;
        };
        if placed
            .iter()
            .any(|q| (q.at.x - at.x).abs() < GAP && (q.at.y - at.y).abs() < GAP)
        {
            continue;
        }
        let edge = |side: f32| {
            let h = (c.heading_deg + side * c.fov_deg / 2.0).to_radians();
            [
                c.position_m[0] + c.range_m * h.sin(),
                c.position_m[1] + c.range_m * h.cos(),
            ]
        };
        let (Some(a), Some(b)) = (project(edge(-1.0), 0.0), project(edge(1.0), 0.0)) else {
            continue;
        };
        placed.push(video_wall::CameraIcon {
            camera: c.id,
            at,
            cone: [a, b],
        });
    }
    placed
}

/// The font atlas may grow to this side (egui's default, 2048, overflows
/// with the CJK glyphs at a wall's sizes), within what the GPU allows.
const FONT_ATLAS_SIDE: usize = 8192;

/// Lets every context's font atlas grow to [`FONT_ATLAS_SIDE`] (or the
/// device's limit, if lower).
fn font_atlas_limit(
    device: Option<Res<bevy::render::renderer::RenderDevice>>,
    mut inputs: Query<&mut bevy_egui::EguiInput>,
) {
    let side = device.map_or(2048, |d| {
        (d.limits().max_texture_dimension_2d as usize).min(FONT_ATLAS_SIDE)
    });
    for mut input in &mut inputs {
        input.max_texture_side = Some(side);
    }
}

pub fn plugin(app: &mut App) {
    app.add_systems(
        PreUpdate,
        font_atlas_limit
            .after(bevy_egui::EguiPreUpdateSet::ProcessInput)
            .before(bevy_egui::EguiPreUpdateSet::BeginPass),
    );
    app.init_resource::<UiHasPointer>()
        .init_resource::<UiSettings>()
        .init_resource::<Panels>()
        .init_resource::<ShownPanels>()
        .add_systems(
            EguiPrimaryContextPass,
            panels_ui.run_if(crate::cockpit::schedule::city_ready),
        );
}

#[allow(clippy::too_many_arguments)]
fn panels_ui(
    mut contexts: EguiContexts,
    mut panels: ResMut<Panels>,
    mut settings: ResMut<UiSettings>,
    mut has_pointer: ResMut<UiHasPointer>,
    mut styled: Local<Option<f32>>,
    city: Res<CityData>,
    state: Res<CityState>,
    mut inputs: PanelInputs,
    cameras: Query<(&Camera, &GlobalTransform), super::camera::MainViewFilter>,
    windows: Query<&Window, With<bevy::window::PrimaryWindow>>,
    mut out: PanelMessages,
) -> Result {
    // A wall opens its windows (and this context) on its first frames.
    let Ok(ctx) = contexts.ctx_mut() else {
        return Ok(());
    };
    let scale = wall_scale(
        settings.ui_scale,
        windows.single().ok().map(|w| w.resolution.height()),
    );
    if *styled != Some(scale) {
        theme::apply(ctx, scale);
        *styled = Some(scale);
    }
    let overlays = ViewOverlays::new(
        &city,
        &state,
        &inputs,
        inputs.drill.at,
        cameras.single().ok(),
        ctx.zoom_factor(),
    );
    let mut root = egui::Ui::new(
        ctx.clone(),
        "cockpit".into(),
        egui::UiBuilder::new()
            .layer_id(egui::LayerId::background())
            .max_rect(ctx.viewport_rect()),
    );
    let cx = PanelContext {
        labels: &overlays.labels,
        camera_icons: &overlays.icons,
        halos: &overlays.halos,
        ..inputs.context(&city, &state, settings.lang)
    };
    let actions = panels.ui(&mut root, &cx);
    send_actions(actions, &city, &mut settings, &mut out, inputs.video_sink());
    *has_pointer = UiHasPointer {
        pointer: ctx.egui_wants_pointer_input() || ctx.is_pointer_over_egui(),
        keyboard: ctx.egui_wants_keyboard_input(),
    };
    Ok(())
}

/// What a city view's panels draw over its picture, projected through its
/// camera: area names, camera icons (with the video wall), the halos the
/// names keep clear of.
pub struct ViewOverlays {
    pub labels: Vec<(Area, egui::Pos2)>,
    pub icons: Vec<video_wall::CameraIcon>,
    pub halos: Vec<egui::Rect>,
}

impl ViewOverlays {
    pub fn new(
        city: &City,
        state: &CityState,
        inputs: &PanelInputs,
        at: Area,
        camera: Option<(&Camera, &GlobalTransform)>,
        zoom: f32,
    ) -> ViewOverlays {
        let Some((camera, transform)) = camera else {
            return ViewOverlays {
                labels: Vec::new(),
                icons: Vec::new(),
                halos: Vec::new(),
            };
        };
        let icons = if inputs.wall.is_some() {
            camera_icon_positions(city, camera, transform, zoom)
        } else {
            Vec::new()
        };
        let labels = match inputs.index.as_deref() {
            Some(index) => map_label_positions(city, index, at, camera, transform, zoom),
            None => Vec::new(),
        };
        // Only the map labels use them: no labels, no projections.
        let halos = if inputs.look.halos && !labels.is_empty() {
            halo_rects(city, state, at, camera, transform, zoom)
        } else {
            Vec::new()
        };
        ViewOverlays {
            labels,
            icons,
            halos,
        }
    }
}

/// Turns what the panels of any window asked for into messages (the one
/// place panel actions leave the UI).
pub fn send_actions(
    actions: Vec<UiAction>,
    city: &City,
    settings: &mut UiSettings,
    out: &mut PanelMessages,
    mut video: Option<(
        &crate::cockpit::video::Videos,
        &mut crate::cockpit::video::ShownStreams,
    )>,
) {
    for action in actions {
        match action {
            UiAction::Select(id) => {
                out.select.write(SelectBuilding(id));
            }
            UiAction::FlyToBuilding(id) => {
                if let Some(to) = fly_to_building(city, id) {
                    out.fly.write(to);
                }
            }
            UiAction::SelectCase(id) => {
                out.select_case.write(SelectCase(id));
            }
            UiAction::DrillTo(area) => {
                out.drill.write(DrillTo(area));
            }
            UiAction::Filter(filter) => {
                out.filter.write(SetFilter(filter));
            }
            UiAction::SetLang(lang) => settings.lang = lang,
            UiAction::Case {
                case,
                action,
                version,
            } => {
                out.command.write(SendCommand(CommandKind::Case {
                    case,
                    action,
                    version,
                }));
            }
            UiAction::Time(command) => {
                out.time.write(command);
            }
            UiAction::SelectHazard(selection) => {
                out.select_hazard
                    .write(super::state::SelectHazard(selection));
            }
            UiAction::FlyToHazard(id) => {
                if let Some(to) = super::camera::fly_to_hazard(city, id) {
                    out.fly.write(to);
                }
            }
            UiAction::Video(command) => {
                out.video.write(command);
            }
            UiAction::Look(next) => {
                out.look.write(crate::cockpit::city::look::SetLook(next));
            }
            UiAction::ShowTile {
                request,
                brightness,
            } => {
                if let Some((videos, shown)) = video.as_mut() {
                    crate::cockpit::video::show_stream(videos, shown, &request, brightness);
                }
            }
        }
    }
}
