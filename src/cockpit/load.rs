//! The city arriving after the window opened: a thread named `city-load`
//! reads the files, meshes the buildings and starts what the city needs
//! (the backend, the live link), reporting its stage as it goes; the
//! window shows that as a progress line until the city is there, then
//! builds the scene ([`CityArrived`]). A load that fails ends the app with
//! code 1 and its reason ([`CityLoad::failure`]; `citytwin run` prints it).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bevy::prelude::*;
use bevy::winit::{EventLoopProxyWrapper, UpdateMode, WinitSettings, WinitUserEvent};
use bevy_egui::{EguiContexts, EguiPrimaryContextPass, egui};
use crossbeam_channel::{Receiver, TryRecvError, bounded};

use super::schedule::{CityArrived, city_ready};
use super::state::{CityData, CityState};
use super::ui::UiSettings;
use crate::geo::mesh::{MeshError, TileMesh};
use crate::model::City;

/// How far the load is: what it is doing and, where it can count, how
/// much of it is done.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LoadProgress {
    /// What is being done, in both languages: (中文, English).
    pub stage: (String, String),
    pub done: u64,
    /// 0: not countable.
    pub total: u64,
    /// Counts so far (e.g. "1,234 ways · 56 relations").
    pub detail: String,
}

/// What the loading thread hands over.
pub struct Loaded {
    pub city: Arc<City>,
    /// The building tiles, meshed on the loading thread (the window does
    /// not stop while a large city is meshed).
    pub tiles: Option<(Vec<TileMesh>, Vec<MeshError>)>,
    /// What else it set up for the app (the backend, the live source,
    /// the first selection …), put into the world before the scene is
    /// built.
    pub install: Box<dyn FnOnce(&mut World) + Send>,
}

/// Building tiles meshed before the scene was built (see [`Loaded`]);
/// `spawn_city` takes them instead of meshing again.
#[derive(Resource)]
pub struct PrebuiltTiles(pub Option<(Vec<TileMesh>, Vec<MeshError>)>);

/// The loading thread's side: report the stage as it changes.
#[derive(Clone, Default)]
pub struct LoadReporter {
    progress: Option<Arc<Mutex<LoadProgress>>>,
}

impl LoadReporter {
    /// Reports nowhere (a load without a window).
    pub fn none() -> LoadReporter {
        LoadReporter::default()
    }

    pub fn report(&self, zh: &str, en: &str, done: u64, total: u64, detail: String) {
        if let Some(progress) = &self.progress
            && let Ok(mut p) = progress.lock()
        {
            *p = LoadProgress {
                stage: (zh.to_owned(), en.to_owned()),
                done,
                total,
                detail,
            };
        }
    }
}

/// The app's side of a load under way.
#[derive(Resource)]
pub struct CityLoad {
    progress: Arc<Mutex<LoadProgress>>,
    done: Receiver<Result<Loaded, String>>,
    started: Instant,
    failure: LoadFailure,
    waker: Arc<Mutex<Waker>>,
}

/// Who to wake when the load is done (the window's event loop, which
/// draws the loading line only a few times a second meanwhile).
#[derive(Default)]
struct Waker {
    finished: bool,
    wake: Option<Box<dyn Fn() + Send>>,
}

/// How often the loading line is redrawn: the load has the cores; the
/// city's arrival wakes the window at once.
pub const LOADING_FRAME: Duration = Duration::from_millis(100);

/// Why a load failed, readable after the app ended.
#[derive(Clone, Default, Debug)]
pub struct LoadFailure(Arc<Mutex<Option<String>>>);

impl LoadFailure {
    pub fn take(&self) -> Option<String> {
        self.0.lock().ok().and_then(|mut f| f.take())
    }

    fn set(&self, message: String) {
        if let Ok(mut f) = self.0.lock() {
            *f = Some(message);
        }
    }
}

impl CityLoad {
    /// Runs `load` on the `city-load` thread; its error (the whole chain
    /// of reasons) ends the app.
    pub fn spawn(
        load: impl FnOnce(&LoadReporter) -> anyhow::Result<Loaded> + Send + 'static,
    ) -> std::io::Result<CityLoad> {
        let progress = Arc::new(Mutex::new(LoadProgress::default()));
        let reporter = LoadReporter {
            progress: Some(progress.clone()),
        };
        // One message, ever: the city or why there is none.
        let (tx, done) = bounded(1);
        let waker = Arc::new(Mutex::new(Waker::default()));
        let wake = waker.clone();
        std::thread::Builder::new()
            .name("city-load".into())
            .spawn(move || {
                let result = load(&reporter).map_err(|e| crate::cli::error_text(&e));
                // The app may have closed meanwhile: nobody to tell.
                let _ = tx.send(result);
                if let Ok(mut w) = wake.lock() {
                    w.finished = true;
                    if let Some(wake) = &w.wake {
                        wake();
                    }
                }
            })?;
        Ok(CityLoad {
            progress,
            done,
            started: Instant::now(),
            failure: LoadFailure::default(),
            waker,
        })
    }

    /// Calls `wake` when the load is done (at once if it is already).
    pub fn set_waker(&self, wake: Box<dyn Fn() + Send>) {
        if let Ok(mut w) = self.waker.lock() {
            if w.finished {
                wake();
            }
            w.wake = Some(wake);
        }
    }

    /// Where the reason goes if the load fails.
    pub fn failure(&self) -> LoadFailure {
        self.failure.clone()
    }

    /// The latest report.
    pub fn progress(&self) -> LoadProgress {
        self.progress.lock().map(|p| p.clone()).unwrap_or_default()
    }
}

/// Why the load failed (the app is ending).
#[derive(Resource, Debug, Clone, PartialEq, Eq)]
pub struct LoadFailed(pub String);

pub fn plugin(app: &mut App) {
    app.add_systems(Startup, calm_while_loading)
        .add_systems(First, receive_city)
        .add_systems(
            EguiPrimaryContextPass,
            loading_ui.run_if(not(city_ready).and_then(resource_exists::<CityLoad>)),
        );
}

/// The window's own pace, kept while the loading line is drawn slowly.
#[derive(Resource)]
struct PaceAfterLoad(WinitSettings);

/// While the city loads, the window redraws every [`LOADING_FRAME`] and
/// is woken when the city is there.
fn calm_while_loading(
    mut commands: Commands,
    load: Option<Res<CityLoad>>,
    settings: Option<ResMut<WinitSettings>>,
    proxy: Option<Res<EventLoopProxyWrapper>>,
) {
    let (Some(load), Some(mut settings)) = (load, settings) else {
        return;
    };
    commands.insert_resource(PaceAfterLoad(settings.clone()));
    *settings = WinitSettings {
        focused_mode: UpdateMode::reactive(LOADING_FRAME),
        unfocused_mode: UpdateMode::reactive(LOADING_FRAME),
    };
    if let Some(proxy) = proxy {
        let proxy = (**proxy).clone();
        load.set_waker(Box::new(move || {
            // The loop may be gone (the window closed): nothing to wake.
            let _ = proxy.send_event(WinitUserEvent::WakeUp);
        }));
    }
}

/// Takes the city when the thread has it: the state and the data, what
/// the thread set up, then the scene ([`CityArrived`]) — all before this
/// frame's `Update`.
pub fn receive_city(world: &mut World) {
    let Some(load) = world.get_resource::<CityLoad>() else {
        return;
    };
    let (started, failure) = (load.started, load.failure.clone());
    let message = match load.done.try_recv() {
        Err(TryRecvError::Empty) => return,
        Ok(Ok(loaded)) => {
            world.remove_resource::<CityLoad>();
            restore_pace(world);
            world.insert_resource(CityState::new(&loaded.city));
            world.insert_resource(PrebuiltTiles(loaded.tiles));
            world.insert_resource(CityData(loaded.city));
            (loaded.install)(world);
            world.run_schedule(CityArrived);
            info!(
                "city arrived {:.0} ms after the window opened",
                started.elapsed().as_secs_f64() * 1e3
            );
            return;
        }
        Ok(Err(message)) => message,
        Err(TryRecvError::Disconnected) => {
            "the city-load thread ended without a city or a reason (it panicked)".to_owned()
        }
    };
    world.remove_resource::<CityLoad>();
    restore_pace(world);
    failure.set(message.clone());
    world.insert_resource(LoadFailed(message));
    world.write_message(AppExit::from_code(1));
}

fn restore_pace(world: &mut World) {
    if let Some(PaceAfterLoad(pace)) = world.remove_resource::<PaceAfterLoad>() {
        world.insert_resource(pace);
    }
}

/// The progress line: the stage, a bar where it can count, the counts and
/// the time so far, in the middle of the window.
fn loading_ui(
    mut contexts: EguiContexts,
    load: Res<CityLoad>,
    settings: Res<UiSettings>,
    mut styled: Local<bool>,
) -> Result {
    let Ok(ctx) = contexts.ctx_mut() else {
        return Ok(());
    };
    if !*styled {
        super::theme::apply(ctx, settings.ui_scale);
        *styled = true;
    }
    let p = load.progress();
    let lang = settings.lang;
    let stage = if p.stage.0.is_empty() {
        lang.pick("准备中", "starting")
    } else {
        lang.pick(&p.stage.0, &p.stage.1)
    };
    egui::Area::new(egui::Id::new("city loading"))
        .anchor(egui::Align2::CENTER_CENTER, egui::Vec2::ZERO)
        .show(ctx, |ui| {
            ui.vertical_centered(|ui| {
                ui.heading(lang.pick("正在加载城市", "Loading the city"));
                ui.label(format!(
                    "{stage} · {:.1} s",
                    load.started.elapsed().as_secs_f32()
                ));
                let fraction = if p.total > 0 {
                    (p.done as f32 / p.total as f32).clamp(0.0, 1.0)
                } else {
                    0.0
                };
                let mut bar = egui::ProgressBar::new(fraction).desired_width(LOADING_BAR_WIDTH);
                if p.total > 0 {
                    bar = bar.text(format!("{}/{}", p.done, p.total));
                } else {
                    bar = bar.animate(true);
                }
                ui.add(bar);
                if !p.detail.is_empty() {
                    ui.label(&p.detail);
                }
            });
        });
    Ok(())
}

/// The progress bar's width (points).
pub const LOADING_BAR_WIDTH: f32 = 360.0;

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny_city() -> Arc<City> {
        let mut scene = crate::geo::demo::DemoScene::embedded().expect("scene");
        scene.buildings = 200;
        Arc::new(crate::geo::demo::generate(&scene))
    }

    /// An app with the schedule and the receiver only (no window).
    fn app_with(load: CityLoad) -> App {
        let mut app = App::new();
        app.add_plugins(MinimalPlugins).add_message::<AppExit>();
        crate::cockpit::schedule::configure(&mut app);
        app.add_systems(First, receive_city).insert_resource(load);
        app
    }

    #[test]
    fn the_city_arrives_with_what_the_thread_set_up_then_the_scene_is_built() {
        let city = tiny_city();
        let (release, wait) = bounded::<()>(1);
        let given = city.clone();
        let load = CityLoad::spawn(move |report| {
            report.report("测试", "testing", 3, 10, "3 of 10".into());
            wait.recv()?;
            Ok(Loaded {
                city: given,
                tiles: None,
                install: Box::new(|world| world.insert_resource(Marker(1))),
            })
        })
        .expect("thread");
        let mut app = app_with(load);
        #[derive(Resource)]
        struct Marker(u32);
        #[derive(Resource, Default)]
        struct Built(u32);
        app.init_resource::<Built>().add_systems(
            CityArrived,
            |marker: Res<Marker>, city: Res<CityData>, mut built: ResMut<Built>| {
                // What the thread set up is there before the scene.
                assert!(!city.buildings.is_empty());
                built.0 += marker.0;
            },
        );
        // Waiting: no city, the report readable.
        let started = Instant::now();
        while app
            .world()
            .resource::<CityLoad>()
            .progress()
            .stage
            .1
            .is_empty()
        {
            assert!(started.elapsed().as_secs() < 20, "no report");
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        for _ in 0..3 {
            app.update();
        }
        assert!(!app.world().contains_resource::<CityData>());
        let p = app.world().resource::<CityLoad>().progress();
        assert_eq!((p.stage.1.as_str(), p.done, p.total), ("testing", 3, 10));
        release.send(()).expect("release");
        while app.world().contains_resource::<CityLoad>() {
            assert!(started.elapsed().as_secs() < 20, "the city never arrived");
            app.update();
        }
        assert_eq!(
            app.world().resource::<CityData>().buildings.len(),
            city.buildings.len()
        );
        assert!(app.world().contains_resource::<CityState>());
        app.update();
        assert_eq!(app.world().resource::<Built>().0, 1, "the scene built once");
    }

    #[test]
    fn the_waker_is_called_once_the_load_is_done_even_if_set_after() {
        let (release, wait) = bounded::<()>(1);
        let city = tiny_city();
        let load = CityLoad::spawn(move |_| {
            wait.recv()?;
            Ok(Loaded {
                city,
                tiles: None,
                install: Box::new(|_| {}),
            })
        })
        .expect("thread");
        let (woke, woken) = bounded::<&str>(2);
        let before = woke.clone();
        load.set_waker(Box::new(move || {
            let _ = before.try_send("set before");
        }));
        assert!(
            woken.recv_timeout(Duration::from_millis(50)).is_err(),
            "woken while still loading"
        );
        release.send(()).expect("release");
        assert_eq!(
            woken.recv_timeout(Duration::from_secs(20)),
            Ok("set before")
        );
        // Set after the load ended: called at once.
        load.set_waker(Box::new(move || {
            let _ = woke.try_send("set after");
        }));
        assert_eq!(woken.try_recv(), Ok("set after"));
    }

    #[test]
    fn a_failed_load_ends_the_app_with_its_reason() {
        let load = CityLoad::spawn(|_| {
            Err(anyhow::anyhow!("no such file").context("reading buildings x.geojson"))
        })
        .expect("thread");
        let failure = load.failure();
        let mut app = app_with(load);
        let started = Instant::now();
        while !app.world().contains_resource::<LoadFailed>() {
            assert!(started.elapsed().as_secs() < 20, "no failure seen");
            app.update();
        }
        let failed = app.world().resource::<LoadFailed>().0.clone();
        assert!(
            failed.contains("x.geojson") && failed.contains("no such file"),
            "{failed}"
        );
        let exits: Vec<AppExit> = app
            .world_mut()
            .resource_mut::<Messages<AppExit>>()
            .drain()
            .collect();
        assert_eq!(exits, vec![AppExit::from_code(1)]);
        assert!(!app.world().contains_resource::<CityData>());
        assert_eq!(
            failure.take(),
            Some(failed),
            "the reason, for the command line"
        );
    }
}
