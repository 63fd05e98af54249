//! The wall (大屏): the windows of a [`Wall`] file opened by one process —
//! one state, one stream, one clock. The first window is the operator's
//! cockpit; the others show the city through their own camera and drill
//! level, the video wall, the KPI board or the event hub. Their panels
//! read the same resources and send the same messages as the operator's,
//! so a selection or a dispatch in one shows in all. Each window's panels
//! scale with its own height; windows present without waiting for vsync
//! (a hidden or minimised one must not hold the others back); a monitor
//! unplugged closes its window, logged, and the rest run on.

use std::time::Duration;

use bevy::camera::RenderTarget;
use bevy::ecs::schedule::ScheduleLabel;
use bevy::prelude::*;
use bevy::window::{
    Monitor, MonitorSelection, PresentMode, PrimaryWindow, WindowMode, WindowPosition, WindowRef,
    WindowResolution,
};
use bevy::winit::{UpdateMode, WinitSettings};
use bevy_egui::{EguiContext, EguiGlobalSettings, EguiSchedule, PrimaryEguiContext, egui};

use super::app::city_camera;
use super::camera::{OrbitCamera, WallView, fly_camera};
use super::city::buildings::ViewArea;
use super::drill::{AreaIndex, Drill, fly_to_area};
use super::schedule::AppSystems;
use super::state::{CityData, CityState};
use super::theme;
use super::ui::{
    self, PanelInputs, PanelMessages, Panels, UiSettings, ViewOverlays, kpi_board, send_actions,
};
use super::video::VideoCommand;
use crate::model::briefing::StepPanels;
use crate::model::wall::{Content, MonitorRect, Place, Wall, monitor_order};
use crate::model::{Area, City};

/// A wall window's egui pass (one schedule per window, by its entry).
#[derive(ScheduleLabel, Clone, Debug, PartialEq, Eq, Hash)]
pub struct WallPass(pub usize);

/// The wall to open, from its file.
#[derive(Resource, Debug, Clone)]
pub struct WallSetup {
    pub path: String,
    pub wall: Wall,
    /// The operator's first view when its window names no pose or area
    /// (the command line's).
    pub operator_view: Option<OrbitCamera>,
}

/// What the wall opened and what became of it.
#[derive(Resource, Default, Debug)]
pub struct WallLayout {
    pub opened: bool,
    pub windows: Vec<OpenWindow>,
    /// Why windows closed while the wall ran (a monitor unplugged …).
    pub closed: Vec<String>,
    /// Frames waited for the monitors to be known.
    waited: u32,
}

#[derive(Debug, Clone)]
pub struct OpenWindow {
    pub entry: usize,
    pub title: String,
    pub window: Entity,
    pub camera: Entity,
    /// The monitor it fills (a `Monitor` place).
    pub monitor: Option<Entity>,
}

/// On a wall window's camera: which entry it is and what it shows.
#[derive(Component, Debug, Clone)]
pub struct WallScreen {
    pub entry: usize,
    pub title: String,
    pub content: Content,
    /// The area it shows (a KPI board's, a city view's own; None: the
    /// operator's drill).
    pub area: Option<Area>,
}

/// A wall city view that follows the operator's drill (flies along).
#[derive(Component, Debug, Clone, Copy)]
pub struct FollowDrill;

/// Frames to wait for the monitors before placing on them anyway (and
/// refusing a `Monitor` place that names none).
const MONITOR_WAIT_FRAMES: u32 = 30;

/// The wall plugin: opens the windows on the first frames, runs their
/// panels, follows the drill, closes windows whose monitor went away.
pub fn plugin(app: &mut App, setup: WallSetup) {
    let entries = setup.wall.windows.len();
    app.insert_resource(setup)
        .init_resource::<WallLayout>()
        // Every frame about 60 times a second whether or not a window has
        // focus or is visible; presenting never waits for a vsync a hidden
        // window will not give.
        .insert_resource(WinitSettings {
            focused_mode: UpdateMode::reactive(Duration::from_secs_f64(1.0 / 60.0)),
            unfocused_mode: UpdateMode::reactive(Duration::from_secs_f64(1.0 / 60.0)),
        })
        .add_systems(Startup, |mut settings: ResMut<EguiGlobalSettings>| {
            // The operator's window gets the primary context by hand.
            settings.auto_create_primary_context = false;
        })
        .add_systems(
            Update,
            (open_wall, close_lost_windows, follow_drill)
                .chain()
                .in_set(AppSystems::Input),
        );
    for entry in 1..entries {
        app.add_systems(WallPass(entry), move |mut ui: WallUi| ui.draw(entry));
    }
}

/// The monitors as the wall counts them (from the left), with their entities.
pub fn wall_monitors(monitors: &Query<(Entity, &Monitor)>) -> (Vec<MonitorRect>, Vec<Entity>) {
    let mut list: Vec<(MonitorRect, Entity)> = monitors
        .iter()
        .map(|(e, m)| {
            (
                MonitorRect {
                    name: m.name.clone().unwrap_or_else(|| format!("{e}")),
                    x: m.physical_position.x,
                    y: m.physical_position.y,
                    width: m.physical_width,
                    height: m.physical_height,
                },
                e,
            )
        })
        .collect();
    list.sort_by_key(|(m, _)| monitor_order(m));
    list.into_iter().unzip()
}

/// Where a city window looks first: its pose, else its whole area.
pub fn first_view(
    city: &City,
    index: Option<&AreaIndex>,
    content: &Content,
    area: Area,
) -> OrbitCamera {
    let overview = super::app::default_view(city);
    if let Content::City { pose: Some(p), .. } = content {
        return super::presenter::pose_camera(
            city,
            p.lon,
            p.lat,
            p.distance_m,
            p.pitch_deg,
            p.heading_deg,
        );
    }
    if area == Area::City {
        return overview;
    }
    let to = fly_to_area(city, index, area);
    OrbitCamera {
        focus: to.focus,
        distance_m: to.distance_m.unwrap_or(overview.distance_m),
        ..overview
    }
    .clamped()
}

/// The area of a window's content, resolved against the city.
fn content_area(city: &City, content: &Content) -> Result<Option<Area>, String> {
    let area = match content {
        Content::City { area: Some(a), .. } | Content::KpiBoard { area: a } => a,
        _ => return Ok(None),
    };
    super::presenter::resolve_area(city, area)
        .map(Some)
        .ok_or_else(|| format!("area {area:?} is not in this city"))
}

#[allow(clippy::too_many_arguments)]
fn open_wall(
    mut commands: Commands,
    setup: Res<WallSetup>,
    mut layout: ResMut<WallLayout>,
    monitors: Query<(Entity, &Monitor)>,
    city: Res<CityData>,
    index: Option<Res<AreaIndex>>,
    drill: Res<Drill>,
    mut video: MessageWriter<VideoCommand>,
    mut drill_to: MessageWriter<super::drill::DrillTo>,
    mut exit: MessageWriter<AppExit>,
) {
    if layout.opened {
        return;
    }
    let needs_monitors = setup
        .wall
        .windows
        .iter()
        .any(|w| matches!(w.place, Place::Monitor(_)));
    if needs_monitors && monitors.is_empty() && layout.waited < MONITOR_WAIT_FRAMES {
        layout.waited += 1;
        return;
    }
    layout.opened = true;
    let (rects, monitor_entities) = wall_monitors(&monitors);
    let placed = match setup.wall.placements(&rects, &setup.path) {
        Ok(p) => p,
        Err(e) => return refuse(&mut exit, e.to_string()),
    };
    // Every area resolved before any window opens.
    let mut areas = Vec::with_capacity(placed.len());
    for (entry, w) in setup.wall.windows.iter().enumerate() {
        match content_area(&city, &w.content) {
            Ok(a) => areas.push(a),
            Err(reason) => {
                return refuse(
                    &mut exit,
                    format!("{}: window {entry} ({}): {reason}", setup.path, w.title),
                );
            }
        }
    }
    for (entry, ((w, at), area)) in setup
        .wall
        .windows
        .iter()
        .zip(&placed)
        .zip(areas)
        .enumerate()
    {
        let monitor = at.monitor.and_then(|m| monitor_entities.get(m).copied());
        let mode = match (w.fullscreen, monitor) {
            (true, Some(m)) => WindowMode::BorderlessFullscreen(MonitorSelection::Entity(m)),
            _ => WindowMode::Windowed,
        };
        let window = commands
            .spawn(Window {
                title: format!("citytwin · {}", w.title),
                resolution: WindowResolution::new(at.width, at.height)
                    .with_scale_factor_override(1.0),
                position: WindowPosition::At(IVec2::new(at.x, at.y)),
                mode,
                present_mode: PresentMode::AutoNoVsync,
                ..default()
            })
            .id();
        let target = RenderTarget::Window(WindowRef::Entity(window));
        let screen = WallScreen {
            entry,
            title: w.title.clone(),
            content: w.content.clone(),
            area,
        };
        let camera = if entry == 0 {
            commands.entity(window).insert(PrimaryWindow);
            if let Some(area) = area {
                drill_to.write(super::drill::DrillTo(area));
            }
            let view = first_view(
                &city,
                index.as_deref(),
                &w.content,
                area.unwrap_or(drill.at),
            );
            commands
                .spawn((city_camera(view), target, PrimaryEguiContext, screen))
                .id()
        } else if let Content::City { .. } = w.content {
            let view = first_view(
                &city,
                index.as_deref(),
                &w.content,
                area.unwrap_or(drill.at),
            );
            let camera = spawn_city_view(&mut commands, view, area, target);
            commands
                .entity(camera)
                .insert((EguiSchedule::new(WallPass(entry)), screen));
            camera
        } else {
            if let Content::VideoWall { layout } = w.content {
                video.write(VideoCommand::Layout(layout));
            }
            commands
                .spawn((
                    Camera2d,
                    Camera {
                        clear_color: ClearColorConfig::Custom(theme::BACKGROUND.bevy()),
                        ..default()
                    },
                    target,
                    EguiSchedule::new(WallPass(entry)),
                    screen,
                ))
                .id()
        };
        info!(
            "wall: window {entry} ({}) at {},{} {}×{}{}",
            w.title,
            at.x,
            at.y,
            at.width,
            at.height,
            at.monitor
                .map_or(String::new(), |m| format!(" on monitor {m}"))
        );
        layout.windows.push(OpenWindow {
            entry,
            title: w.title.clone(),
            window,
            camera,
            monitor,
        });
    }
}

/// A wall city view's camera into `target`: its own framing (the
/// operator's flights and keys leave it be) and, given an area, its own
/// drill level; without one it flies along with the operator's drill.
pub fn spawn_city_view(
    commands: &mut Commands,
    view: OrbitCamera,
    area: Option<Area>,
    target: RenderTarget,
) -> Entity {
    let mut camera = commands.spawn((city_camera(view), target, WallView));
    match area {
        Some(area) => camera.insert(ViewArea(area)),
        None => camera.insert(FollowDrill),
    };
    camera.id()
}

fn refuse(exit: &mut MessageWriter<AppExit>, reason: String) {
    error!("wall refused: {reason}");
    eprintln!("citytwin: wall refused: {reason}");
    exit.write(AppExit::error());
}

/// Closes the windows whose monitor went away (logged, kept in
/// [`WallLayout::closed`]) and forgets windows the user closed; the wall
/// ends with the operator's window.
pub fn close_lost_windows(
    mut commands: Commands,
    mut layout: ResMut<WallLayout>,
    monitors: Query<(), With<Monitor>>,
    windows: Query<(), With<Window>>,
    mut exit: MessageWriter<AppExit>,
) {
    let layout = &mut *layout;
    let mut kept = Vec::with_capacity(layout.windows.len());
    for w in layout.windows.drain(..) {
        let unplugged = w.monitor.is_some_and(|m| !monitors.contains(m));
        let gone = !windows.contains(w.window);
        if !unplugged && !gone {
            kept.push(w);
            continue;
        }
        let why = if unplugged {
            "its monitor was unplugged"
        } else {
            "it was closed"
        };
        let note = format!("wall: window {} ({}) closed: {why}", w.entry, w.title);
        warn!("{note}");
        layout.closed.push(note);
        commands.entity(w.camera).try_despawn();
        commands.entity(w.window).try_despawn();
        if w.entry == 0 {
            exit.write(AppExit::Success);
        }
    }
    layout.windows = kept;
}

/// Wall city views without an area of their own fly along with each drill.
fn follow_drill(
    mut commands: Commands,
    drill: Res<Drill>,
    city: Res<CityData>,
    index: Option<Res<AreaIndex>>,
    cameras: Query<(Entity, &OrbitCamera), With<FollowDrill>>,
) {
    if !drill.is_changed() || drill.is_added() {
        return;
    }
    let to = fly_to_area(&city, index.as_deref(), drill.at);
    for (camera, orbit) in &cameras {
        fly_camera(&mut commands, camera, orbit, &to);
    }
}

/// What a wall window's panels read and send.
#[derive(bevy::ecs::system::SystemParam)]
pub struct WallUi<'w, 's> {
    contexts: Query<
        'w,
        's,
        (
            &'static mut EguiContext,
            &'static WallScreen,
            &'static Camera,
            &'static GlobalTransform,
            &'static RenderTarget,
        ),
    >,
    windows: Query<'w, 's, &'static Window>,
    city: Res<'w, CityData>,
    state: Res<'w, CityState>,
    settings: ResMut<'w, UiSettings>,
    inputs: PanelInputs<'w>,
    out: PanelMessages<'w>,
    panels: Local<'s, Panels>,
    styled: Local<'s, Option<f32>>,
}

impl WallUi<'_, '_> {
    fn draw(&mut self, entry: usize) {
        let Some((mut ctx, screen, camera, transform, target)) =
            self.contexts.iter_mut().find(|(_, s, ..)| s.entry == entry)
        else {
            return;
        };
        let ctx = ctx.get_mut().clone();
        let height = match target {
            RenderTarget::Window(WindowRef::Entity(w)) => {
                self.windows.get(*w).ok().map(|w| w.resolution.height())
            }
            _ => None,
        };
        // Until the window reports its size there is nothing to lay out.
        let Some(height) = height else {
            return;
        };
        let scale = ui::wall_scale(self.settings.ui_scale, Some(height));
        if *self.styled != Some(scale) {
            theme::apply(&ctx, scale);
            *self.styled = Some(scale);
        }
        let screen = screen.clone();
        let base = self
            .inputs
            .context(&self.city, &self.state, self.settings.lang);
        let at = screen.area.unwrap_or(base.drill.at);
        let overlays = match screen.content {
            Content::City { .. } => Some(ViewOverlays::new(
                &self.city,
                &self.state,
                &self.inputs,
                at,
                Some((camera, transform)),
                ctx.zoom_factor(),
            )),
            _ => None,
        };
        let actions = draw_screen(&ctx, &screen, &base, overlays.as_ref(), &mut self.panels);
        send_actions(
            actions,
            &self.city,
            &mut self.settings,
            &mut self.out,
            self.inputs.video_sink(),
        );
    }
}

/// Draws one wall window's content into `ctx` and returns what its panels
/// asked for. `base`: what every panel reads; `overlays`: a city view's
/// labels and halos through its own camera.
pub fn draw_screen(
    ctx: &egui::Context,
    screen: &WallScreen,
    base: &ui::PanelContext<'_>,
    overlays: Option<&ViewOverlays>,
    panels: &mut Panels,
) -> Vec<ui::UiAction> {
    let (city, lang) = (base.city, base.lang);
    let mut actions = Vec::new();
    let rect = ctx.viewport_rect();
    let mut root = egui::Ui::new(
        ctx.clone(),
        egui::Id::new(("wall", screen.entry)),
        egui::UiBuilder::new()
            .layer_id(egui::LayerId::background())
            .max_rect(rect),
    );
    match &screen.content {
        Content::City { .. } => {
            let at = screen.area.unwrap_or(base.drill.at);
            let (labels, halos) = overlays.map_or((&[][..], &[][..]), |o| {
                (o.labels.as_slice(), o.halos.as_slice())
            });
            let cx = ui::PanelContext {
                drill: Drill { at, ..base.drill },
                labels,
                halos,
                shown: StepPanels {
                    legend: true,
                    card: true,
                    ..StepPanels::default()
                },
                ..*base
            };
            title_bar(&root, &screen.title, city, at, lang);
            actions = panels.ui(&mut root, &cx);
        }
        Content::KpiBoard { .. } => {
            kpi_board::kpi_board(&mut root, base, screen.area.unwrap_or(Area::City));
        }
        Content::EventHub => {
            root.painter()
                .rect_filled(rect, 0.0, theme::PANEL_FILL.egui());
            let inner = rect.shrink(16.0);
            root.scope_builder(egui::UiBuilder::new().max_rect(inner), |ui| {
                ui.label(
                    egui::RichText::new(lang.pick("事件总枢纽", "Event hub"))
                        .heading()
                        .color(theme::ACCENT.egui()),
                );
                panels
                    .hub
                    .contents(ui, base, &mut actions, inner.height() * 0.45);
            });
        }
        Content::VideoWall { .. } => {
            let inner = rect.shrink(8.0);
            root.scope_builder(egui::UiBuilder::new().max_rect(inner), |ui| {
                match base.video {
                    Some(video) => panels.video.fill(ui, base, video, &mut actions),
                    None => {
                        ui.label(lang.pick("本驾驶舱无视频", "No video in this cockpit"));
                    }
                }
            });
        }
    }
    actions
}

/// A city window's name and area, top left, large.
fn title_bar(root: &egui::Ui, title: &str, city: &City, at: Area, lang: ui::Lang) {
    let text = format!("{title} · {}", super::drill::area_name(city, at, lang));
    egui::Area::new(egui::Id::new("wall_title"))
        .anchor(egui::Align2::LEFT_TOP, [16.0, 12.0])
        .show(root.ctx(), |ui| {
            egui::Frame::new()
                .fill(theme::PANEL_FILL.egui())
                .stroke(egui::Stroke::new(1.0, theme::PANEL_STROKE.egui()))
                .inner_margin(egui::Margin::symmetric(14, 8))
                .corner_radius(6.0)
                .show(ui, |ui| {
                    ui.label(
                        egui::RichText::new(text)
                            .heading()
                            .strong()
                            .color(theme::TEXT.egui()),
                    );
                });
        });
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A wall of three windows on monitors, without winit: the same
    /// components winit would give.
    fn wall_app() -> (App, Vec<Entity>, Vec<Entity>) {
        let mut app = App::new();
        app.add_plugins(MinimalPlugins)
            .add_message::<AppExit>()
            .init_resource::<WallLayout>()
            .add_systems(Update, close_lost_windows);
        let world = app.world_mut();
        let monitors: Vec<Entity> = (0..3)
            .map(|i| {
                world
                    .spawn(Monitor {
                        name: Some(format!("DP-{i}")),
                        physical_height: 1080,
                        physical_width: 1920,
                        physical_position: IVec2::new(1920 * i, 0),
                        refresh_rate_millihertz: None,
                        scale_factor: 1.0,
                        video_modes: Vec::new(),
                    })
                    .id()
            })
            .collect();
        let mut windows = Vec::new();
        for (entry, monitor) in monitors.iter().enumerate() {
            let window = world.spawn(Window::default()).id();
            let camera = world.spawn(Camera2d).id();
            windows.push(window);
            world.resource_mut::<WallLayout>().windows.push(OpenWindow {
                entry,
                title: format!("w{entry}"),
                window,
                camera,
                monitor: Some(*monitor),
            });
        }
        (app, monitors, windows)
    }

    fn exits(app: &App) -> usize {
        app.world()
            .resource::<Messages<AppExit>>()
            .iter_current_update_messages()
            .count()
    }

    #[test]
    fn an_unplugged_monitor_closes_its_window_and_the_rest_run_on() {
        let (mut app, monitors, windows) = wall_app();
        app.update();
        assert_eq!(app.world().resource::<WallLayout>().windows.len(), 3);
        app.world_mut().despawn(monitors[2]);
        app.update();
        let layout = app.world().resource::<WallLayout>();
        assert_eq!(
            layout.windows.iter().map(|w| w.entry).collect::<Vec<_>>(),
            vec![0, 1]
        );
        assert_eq!(
            layout.closed,
            vec!["wall: window 2 (w2) closed: its monitor was unplugged".to_owned()]
        );
        assert!(
            app.world().get_entity(windows[2]).is_err(),
            "its window closed"
        );
        assert!(app.world().get_entity(windows[1]).is_ok());
        assert_eq!(exits(&app), 0, "the wall runs on");

        // The operator's window gone: the wall ends.
        app.world_mut().despawn(windows[0]);
        app.update();
        assert_eq!(exits(&app), 1);
        assert_eq!(app.world().resource::<WallLayout>().windows.len(), 1);
    }
}
