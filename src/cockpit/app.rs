//! The cockpit app: the `AppSystems` chain, the plugin that draws the city
//! (shared by the window and headless rendering) and the windowed cockpit.

use std::sync::Arc;

use bevy::core_pipeline::tonemapping::{DebandDither, Tonemapping};
use bevy::prelude::*;
use bevy::winit::WinitSettings;
use bevy_egui::EguiPlugin;

use super::camera::{OrbitCamera, orbit_controls};
use super::drill::DrillTo;
use super::picking::click_to_select;
pub use super::schedule::{AppSystems, CityArrived};
use super::state::{CityData, CityState};
use super::stream::LiveSource;
use super::stream::replay::ReplaySource;
use super::theme;
use super::time::{MarksLoader, TimeControl};
use super::ui::{self, Lang, UiSettings};
use crate::backend::server::BackendThread;
use crate::cockpit::state::SelectBuilding;
use crate::model::{Area, BuildingId, City};

/// Everything needed to draw a city: state, terrain, buildings, camera rig.
/// Without a city, the app waits for one (`cockpit::load` brings it).
pub struct CityViewPlugin {
    pub city: Option<Arc<City>>,
}

impl Plugin for CityViewPlugin {
    fn build(&self, app: &mut App) {
        super::schedule::configure(app);
        app.insert_resource(ClearColor(theme::BACKGROUND.bevy()));
        if let Some(city) = &self.city {
            app.insert_resource(CityState::new(city))
                .insert_resource(CityData(city.clone()));
        }
        super::state::plugin(app);
        super::time::plugin(app);
        super::stream::plugin(app);
        super::drill::plugin(app);
        super::hub_view::plugin(app);
        super::city::plugin(app);
        super::imagery::plugin(app);
        super::hazards::plugin(app);
        super::camera::plugin(app);
        super::presenter::plugin(app);
    }
}

/// A 3D camera with the lean settings this machine needs: no MSAA, no
/// tonemapping or dithering (exact colours, fewer passes).
pub fn city_camera(orbit: OrbitCamera) -> impl Bundle {
    (
        Camera3d::default(),
        Msaa::Off,
        Tonemapping::None,
        DebandDither::Disabled,
        Projection::Perspective(PerspectiveProjection {
            fov: 45f32.to_radians(),
            near: 10.0,
            far: 200_000.0,
            ..default()
        }),
        orbit,
        orbit.transform(),
        super::city::buildings::city_layers(),
    )
}

/// Options of the windowed cockpit.
pub struct RunOptions {
    pub window_size: (u32, u32),
    pub ui_scale: f32,
    pub lang: Lang,
    /// What the command line chose in the city, and the session with it
    /// (the city's loading thread may bring it instead).
    pub start: CityStart,
    /// Open the video wall with N×N tiles at start.
    pub video_wall: Option<u8>,
    /// ffmpeg's `-hwaccel` for the video tiles (None: software decoding).
    pub hwaccel: Option<String>,
    /// Save a screenshot of the window after this many frames, then exit.
    pub screenshot: Option<(std::path::PathBuf, u32)>,
    /// The clock to start with (live: following; a replay: its span).
    pub time: TimeControl,
    /// A recording's timeline marks, being read in the background.
    pub marks: Option<MarksLoader>,
    /// Present this briefing: the audience is this window, the notes open
    /// in a presenter window.
    pub briefing: Option<std::path::PathBuf>,
    /// Open these windows (a wall file) instead of one.
    pub wall: Option<super::wall::WallSetup>,
}

impl RunOptions {
    /// A plain window of this size: Chinese, scale 1, live clock, nothing
    /// chosen at start (tests start from it).
    pub fn sized(window_size: (u32, u32)) -> RunOptions {
        RunOptions {
            window_size,
            ui_scale: 1.0,
            lang: Lang::Zh,
            start: CityStart::default(),
            video_wall: None,
            hwaccel: None,
            screenshot: None,
            time: TimeControl::live(),
            marks: None,
            briefing: None,
            wall: None,
        }
    }
}

/// What the command line chose in the city (resolved against it), and
/// the session it starts.
#[derive(Default)]
pub struct CityStart {
    /// The first view (None: the whole city).
    pub view: Option<OrbitCamera>,
    /// Building selected (and flown to) at start.
    pub select: Option<BuildingId>,
    /// A hazard body to select at start (its card opens).
    pub select_hazard: Option<crate::model::HazardId>,
    /// Area drilled into at start.
    pub area: Option<Area>,
    /// The live source (None: the static city, or a replay).
    pub live: Option<LiveSource>,
    /// A recording to replay, or the live session's own history.
    pub replay: Option<ReplaySource>,
    /// The backend running inside this process, kept alive with the app.
    pub backend: Option<BackendThread>,
}

impl CityStart {
    /// Puts it into the world; the choices are applied when the city's
    /// scene is built ([`CityArrived`]).
    pub fn install(self, world: &mut World) {
        world.insert_resource(StartChoices {
            view: self.view,
            select: self.select,
            select_hazard: self.select_hazard,
            area: self.area,
        });
        if let Some(live) = self.live {
            world.insert_resource(live);
        }
        if let Some(replay) = self.replay {
            world.insert_resource(replay);
        }
        if let Some(backend) = self.backend {
            world.insert_resource(EmbeddedBackend(backend));
        }
    }
}

/// The choices of [`CityStart`], applied once.
#[derive(Resource, Debug, Clone, Copy)]
struct StartChoices {
    view: Option<OrbitCamera>,
    select: Option<BuildingId>,
    select_hazard: Option<crate::model::HazardId>,
    area: Option<Area>,
}

/// The first view on the main camera, the first selection and area.
fn apply_start_choices(
    city: Res<CityData>,
    choices: Option<Res<StartChoices>>,
    wall: Option<ResMut<super::wall::WallSetup>>,
    mut cameras: Query<&mut OrbitCamera, super::camera::MainViewFilter>,
    mut select: MessageWriter<SelectBuilding>,
    mut select_hazard: MessageWriter<crate::cockpit::state::SelectHazard>,
    mut drill: MessageWriter<DrillTo>,
) {
    let choices = choices.map(|c| *c);
    let view = choices
        .and_then(|c| c.view)
        .unwrap_or_else(|| default_view(&city));
    if let Some(mut wall) = wall {
        wall.operator_view = wall.operator_view.or(Some(view));
    }
    for mut camera in &mut cameras {
        *camera = view;
    }
    let Some(choices) = choices else { return };
    if let Some(id) = choices.select {
        select.write(SelectBuilding(Some(id)));
    }
    if let Some(id) = choices.select_hazard {
        select_hazard.write(crate::cockpit::state::SelectHazard(Some((id, None))));
    }
    if let Some(area) = choices.area {
        drill.write(DrillTo(area));
    }
}

/// Owns the embedded backend for the app's lifetime (stops it on exit).
#[derive(Resource)]
struct EmbeddedBackend(#[allow(dead_code)] BackendThread);

/// Opens the cockpit window on `city` and runs until it is closed.
pub fn run_window(city: Arc<City>, options: RunOptions) -> AppExit {
    window_app(city, options, false).run()
}

/// Opens the cockpit window at once, while `load` brings the city.
pub fn run_window_loading(load: super::load::CityLoad, options: RunOptions) -> AppExit {
    let mut app = window_app_for(None, options, false);
    app.insert_resource(load);
    app.run()
}

/// The windowed cockpit's app, ready to run (`any_thread`: let winit run
/// off the main thread, for tests).
pub fn window_app(city: Arc<City>, options: RunOptions, any_thread: bool) -> App {
    window_app_for(Some(city), options, any_thread)
}

/// The windowed cockpit, opened at once; `city` when it is already loaded,
/// else it comes later (a `cockpit::load::CityLoad` resource brings it).
pub fn window_app_for(city: Option<Arc<City>>, options: RunOptions, any_thread: bool) -> App {
    let city_given = city.is_some();
    let mut app = App::new();
    // A wall opens its windows itself, once the monitors are known, and
    // ends with its operator's window.
    let window = if options.wall.is_some() {
        WindowPlugin {
            primary_window: None,
            exit_condition: bevy::window::ExitCondition::DontExit,
            ..default()
        }
    } else {
        WindowPlugin {
            primary_window: Some(Window {
                title: "citytwin · 城市运行一屏总览".to_owned(),
                resolution: options.window_size.into(),
                // With a presenter window beside it, neither may wait for
                // the other's vsync.
                present_mode: if options.briefing.is_some() {
                    bevy::window::PresentMode::AutoNoVsync
                } else {
                    bevy::window::PresentMode::default()
                },
                ..default()
            }),
            ..default()
        }
    };
    app.add_plugins(DefaultPlugins.set(window).set(bevy::winit::WinitPlugin {
        run_on_any_thread: any_thread,
    }))
    // Under Xvfb without a window manager the window never gets focus:
    // render continuously either way.
    .insert_resource(WinitSettings::continuous())
    .add_plugins(CityViewPlugin { city })
    .add_plugins(EguiPlugin::default())
    .insert_resource(UiSettings {
        lang: options.lang,
        ui_scale: options.ui_scale,
    })
    .add_plugins(ui::plugin)
    .add_plugins(super::presenter::ui_plugin)
    .insert_resource(super::video::VideoLayoutFile(
        super::video::default_layout_file(),
    ))
    .insert_resource(super::video::VideoDecoder(crate::video::FfmpegSource {
        hwaccel: options.hwaccel.clone(),
        ..Default::default()
    }))
    .add_plugins(super::video::plugin)
    .add_plugins(super::load::plugin)
    .add_systems(
        Update,
        (orbit_controls, click_to_select).in_set(AppSystems::Input),
    );
    match options.wall {
        Some(setup) => {
            super::wall::plugin(&mut app, setup);
        }
        None => {
            // Looking at nothing until the city is there (the loading
            // line needs a camera for its egui context); before Startup,
            // where a city given with the app arrives.
            app.add_systems(PreStartup, |mut commands: Commands| {
                commands.spawn(city_camera(OrbitCamera {
                    focus: Vec3::ZERO,
                    distance_m: 1000.0,
                    pitch_deg: 45.0,
                    heading_deg: 0.0,
                }));
            });
        }
    }
    app.add_systems(CityArrived, apply_start_choices);
    app.insert_resource(options.time);
    if let Some(marks) = options.marks {
        app.insert_resource(marks);
    }
    // With the city loaded already; else the loading thread brings it.
    if city_given {
        options.start.install(app.world_mut());
    }
    if let Some(n) = options.video_wall {
        app.add_systems(
            CityArrived,
            move |mut video: MessageWriter<super::video::VideoCommand>| {
                video.write(super::video::VideoCommand::Layout(n));
                video.write(super::video::VideoCommand::Show(true));
            },
        );
    }
    if let Some(path) = options.briefing {
        app.add_systems(
            CityArrived,
            (
                move |mut out: MessageWriter<super::presenter::PresenterCommand>| {
                    out.write(super::presenter::PresenterCommand::Open(path.clone()));
                },
                super::presenter::spawn_presenter_window,
            ),
        );
    }
    if let Some((path, frames)) = options.screenshot {
        app.insert_resource(ScreenshotPlan {
            path,
            frames,
            frame: 0,
        })
        // Frames of the city, not of the loading line.
        .add_systems(
            Update,
            screenshot_then_exit.run_if(super::schedule::city_ready),
        );
    }
    app
}

/// When to save the window's screenshot, and where.
#[derive(Resource)]
struct ScreenshotPlan {
    path: std::path::PathBuf,
    frames: u32,
    frame: u32,
}

/// Saves one screenshot of the window after `frames` frames, then exits;
/// on a wall, one of every window (`NAME-1.png` … beside `NAME.png`), and
/// of a presenter window (`NAME-presenter.png`).
fn screenshot_then_exit(
    mut commands: Commands,
    mut plan: ResMut<ScreenshotPlan>,
    wall: Option<Res<super::wall::WallLayout>>,
    presenter: Query<Entity, With<super::presenter::PresenterWindow>>,
    mut exit: MessageWriter<AppExit>,
) {
    use bevy::render::view::screenshot::{Screenshot, save_to_disk};
    plan.frame += 1;
    if plan.frame == plan.frames {
        commands
            .spawn(Screenshot::primary_window())
            .observe(save_to_disk(plan.path.clone()));
        let stem = plan.path.with_extension("");
        let others = wall
            .iter()
            .flat_map(|w| &w.windows)
            .filter(|w| w.entry > 0)
            .map(|w| (w.window, format!("{}-{}.png", stem.display(), w.entry)))
            .chain(
                presenter
                    .iter()
                    .map(|w| (w, format!("{}-presenter.png", stem.display()))),
            );
        for (window, path) in others {
            commands
                .spawn(Screenshot::window(window))
                .observe(save_to_disk(std::path::PathBuf::from(path)));
        }
    }
    // Saving happens a few frames later on the render side.
    if plan.frame == plan.frames + 10 {
        exit.write(AppExit::Success);
    }
}

/// The opening view: the whole city from the south, tilted.
pub fn default_view(city: &City) -> OrbitCamera {
    let b = &city.bounds;
    let ground = city.terrain.height_at([0.0, 0.0]);
    let mut view = OrbitCamera::overview(b.min_m, b.max_m, ground);
    // Most of the demo's buildings sit near the origin (朝天门): look there.
    if !city.buildings.is_empty() {
        view.focus = Vec3::new(0.0, ground, 0.0);
        view.distance_m = (view.distance_m * 0.22).max(2_000.0);
        view.heading_deg = 20.0;
    }
    view
}
