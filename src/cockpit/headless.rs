//! Headless rendering: the same city view drawn into an image (no window, no
//! X server), read back as RGBA. Used by `citytwin render`, the benches and
//! the pixel tests.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use bevy::app::PluginsState;
use bevy::camera::RenderTarget;
use bevy::prelude::*;
use bevy::render::RenderApp;
use bevy::render::RenderPlugin;
use bevy::render::render_resource::TextureFormat;
use bevy::render::renderer::RenderDevice;
use bevy::render::view::screenshot::{Screenshot, ScreenshotCaptured};
use bevy::window::ExitCondition;
use bevy::winit::WinitPlugin;

use super::app::{CityViewPlugin, city_camera};
use super::camera::OrbitCamera;
use super::city::CityTiles;
use super::city::look::{Look, SetLook};
use super::city::markers::{MarkerLayer, pick_marker};
use super::picking::pick_at_viewport;
use super::state::CityState;
use super::stream::replay::ReplaySource;
use super::time::{TimeControl, TimeControlCommand};
use crate::model::{BuildingId, City};

#[derive(Debug, thiserror::Error)]
pub enum HeadlessError {
    #[error(
        "no frame was captured after {frames} frames (is a Vulkan driver installed? try mesa-vulkan-drivers)"
    )]
    NoCapture { frames: u32 },
    #[error("captured frame has unsupported format {format:?}")]
    Format { format: TextureFormat },
    #[error("imagery {path}: no composite after {seconds} s")]
    ImageryTimeout { path: String, seconds: u64 },
    #[error("loading the city failed: {0}")]
    Load(String),
    #[error("the city did not arrive within {seconds} s")]
    LoadTimeout { seconds: u64 },
}

/// Counts `AssetEvent::Modified` for the building tiles' meshes: proof
/// that recolouring does not touch their geometry (the halo overlay's
/// small meshes follow the set of 较大/重大 buildings and are not counted).
#[derive(Resource, Default, Debug, Clone, Copy)]
pub struct MeshModifications(pub usize);

fn count_mesh_modifications(
    mut events: MessageReader<AssetEvent<Mesh>>,
    mut count: ResMut<MeshModifications>,
    tiles: Query<&Mesh3d, With<super::city::buildings::BuildingTile>>,
) {
    for event in events.read() {
        if let AssetEvent::Modified { id } = event
            && tiles.iter().any(|m| m.0.id() == *id)
        {
            count.0 += 1;
        }
    }
}

/// Where a headless app's city comes from.
enum CitySource {
    Given(Arc<City>),
    Loading(super::load::CityLoad),
}

/// A city rendered offscreen at a fixed size.
pub struct HeadlessCity {
    app: App,
    target: Handle<Image>,
    camera: Entity,
    size: UVec2,
    /// Further views (a headless wall): their targets and cameras.
    views: Vec<(Handle<Image>, Entity)>,
}

impl HeadlessCity {
    /// Builds the app and renders the first frame (pipelines compile
    /// synchronously, so the first capture is complete).
    pub fn new(city: Arc<City>, view: OrbitCamera, size: UVec2, log: bool) -> HeadlessCity {
        Self::build(CitySource::Given(city), view, size, log, false)
    }

    /// The app started while `load` brings the city, as `citytwin run`
    /// does it (the window first); [`Self::wait_for_city`] renders the
    /// frame it arrives in.
    pub fn loading(
        load: super::load::CityLoad,
        view: OrbitCamera,
        size: UVec2,
        log: bool,
    ) -> HeadlessCity {
        Self::build(CitySource::Loading(load), view, size, log, false)
    }

    /// Runs frames until the city is there (the frame it arrives in is
    /// rendered and finished on the GPU), or why it is not; meanwhile a
    /// frame every [`super::load::LOADING_FRAME`] and one as soon as the
    /// load is done, as the window paces its loading line.
    pub fn wait_for_city(&mut self, limit: Duration) -> Result<(), HeadlessError> {
        let started = std::time::Instant::now();
        let (wake, woken) = crossbeam_channel::bounded::<()>(1);
        if let Some(load) = self.app.world().get_resource::<super::load::CityLoad>() {
            load.set_waker(Box::new(move || {
                let _ = wake.try_send(());
            }));
        }
        loop {
            self.app.update();
            if let Some(failed) = self.app.world().get_resource::<super::load::LoadFailed>() {
                return Err(HeadlessError::Load(failed.0.clone()));
            }
            if self.app.world().contains_resource::<CityState>() {
                self.wait_for_gpu();
                return Ok(());
            }
            if started.elapsed() > limit {
                return Err(HeadlessError::LoadTimeout {
                    seconds: limit.as_secs(),
                });
            }
            // The loading thread has the cores meanwhile.
            let _ = woken.recv_timeout(super::load::LOADING_FRAME);
        }
    }

    /// The city with the cockpit's panels and video wall drawn over it (the
    /// egui context renders into the same image).
    pub fn with_panels(city: Arc<City>, view: OrbitCamera, size: UVec2, log: bool) -> HeadlessCity {
        Self::build(CitySource::Given(city), view, size, log, true)
    }

    fn build(
        city: CitySource,
        view: OrbitCamera,
        size: UVec2,
        log: bool,
        panels: bool,
    ) -> HeadlessCity {
        let mut app = App::new();
        let plugins = DefaultPlugins
            .set(WindowPlugin {
                primary_window: None,
                exit_condition: ExitCondition::DontExit,
                ..default()
            })
            .set(RenderPlugin {
                synchronous_pipeline_compilation: true,
                ..default()
            })
            .disable::<WinitPlugin>();
        if log {
            app.add_plugins(plugins);
        } else {
            app.add_plugins(plugins.disable::<bevy::log::LogPlugin>());
        }
        let city = match city {
            CitySource::Given(city) => Some(city),
            CitySource::Loading(load) => {
                app.add_plugins(super::load::plugin).insert_resource(load);
                None
            }
        };
        app.add_plugins(CityViewPlugin { city })
            .init_resource::<MeshModifications>()
            .add_systems(Last, count_mesh_modifications);
        if panels {
            app.add_plugins(bevy_egui::EguiPlugin::default())
                .add_plugins(super::ui::plugin)
                .add_plugins(super::presenter::ui_plugin)
                .add_plugins(super::video::plugin);
        }
        // The renderer is created asynchronously; wait for it before finishing.
        while app.plugins_state() == PluginsState::Adding {
            bevy::tasks::tick_global_task_pools_on_main_thread();
            std::thread::sleep(Duration::from_millis(1));
        }
        app.finish();
        app.cleanup();

        let target = add_target(&mut app, size);
        let camera = app
            .world_mut()
            .spawn((
                city_camera(view),
                RenderTarget::Image(target.clone().into()),
            ))
            .id();
        app.update();
        HeadlessCity {
            app,
            target,
            camera,
            size,
            views: Vec::new(),
        }
    }

    /// Adds a wall city view of the same size (its own camera, and with
    /// `area` its own drill level, as a wall window has) and renders a
    /// frame; returns its index for [`Self::capture_all`] (the main view
    /// is 0).
    pub fn add_view(&mut self, view: OrbitCamera, area: Option<crate::model::Area>) -> usize {
        let target = add_target(&mut self.app, self.size);
        let world = self.app.world_mut();
        let camera = super::wall::spawn_city_view(
            &mut world.commands(),
            view,
            area,
            RenderTarget::Image(target.clone().into()),
        );
        world.flush();
        self.views.push((target, camera));
        self.app.update();
        self.views.len()
    }

    /// Renders one frame and returns every view's picture of it (main
    /// first, then the added views), retried as [`Self::capture`] is.
    pub fn capture_all(&mut self) -> Result<Vec<image::RgbaImage>, HeadlessError> {
        self.settle_imagery()?;
        let targets: Vec<Handle<Image>> = std::iter::once(self.target.clone())
            .chain(self.views.iter().map(|(t, _)| t.clone()))
            .collect();
        const ATTEMPTS: u32 = 4;
        let mut last = None;
        for _ in 0..ATTEMPTS {
            let images = self.capture_targets(&targets)?;
            if images
                .iter()
                .all(|image| image.pixels().all(|p| p.0[3] == 255))
            {
                return Ok(images);
            }
            last = Some(images);
        }
        last.ok_or(HeadlessError::NoCapture { frames: 0 })
    }

    /// Switches an added view's camera on or off (a wall of fewer windows).
    pub fn set_view_active(&mut self, index: usize, active: bool) {
        let Some((_, camera)) = index.checked_sub(1).and_then(|i| self.views.get(i)) else {
            return;
        };
        let camera = *camera;
        if let Some(mut camera) = self.app.world_mut().get_mut::<Camera>(camera) {
            camera.is_active = active;
        }
    }

    /// Pixel position of a world point in view `index` (0: the main view).
    pub fn project_in(&self, index: usize, world: Vec3) -> Option<Vec2> {
        let camera = match index {
            0 => self.camera,
            i => self.views.get(i - 1)?.1,
        };
        let w = self.app.world();
        let (camera, transform) = (w.get::<Camera>(camera)?, w.get::<GlobalTransform>(camera)?);
        camera.world_to_viewport(transform, world).ok()
    }

    pub fn size(&self) -> UVec2 {
        self.size
    }

    pub fn app(&mut self) -> &mut App {
        &mut self.app
    }

    pub fn app_ref(&self) -> &App {
        &self.app
    }

    pub fn state(&self) -> &CityState {
        self.app.world().resource::<CityState>()
    }

    pub fn state_mut(&mut self) -> Mut<'_, CityState> {
        self.app.world_mut().resource_mut::<CityState>()
    }

    pub fn mesh_modifications(&self) -> usize {
        self.app.world().resource::<MeshModifications>().0
    }

    /// Moves the camera; takes effect on the next update.
    /// Shows `source` at stream time `at_ms` through the replay path (the
    /// clock paused there); later [`TimeControlCommand`]s seek and play.
    pub fn replay(&mut self, source: ReplaySource, at_ms: i64) {
        let span = source.span().unwrap_or((at_ms, at_ms));
        let mut time = TimeControl::replay(span);
        time.apply(TimeControlCommand::Pause);
        time.apply(TimeControlCommand::Seek(at_ms));
        self.app.insert_resource(source).insert_resource(time);
        self.update();
    }

    /// Sends the clock a command and runs a frame.
    pub fn time_command(&mut self, command: TimeControlCommand) {
        self.app.world_mut().write_message(command);
        self.update();
    }

    /// What the replay source reported (corrupt chunks, unreadable file).
    pub fn replay_problems(&self) -> Vec<String> {
        self.app
            .world()
            .get_resource::<ReplaySource>()
            .map(|r| r.problems.clone())
            .unwrap_or_default()
    }

    /// Changes how the city is drawn (through [`SetLook`], as the panels
    /// do); takes effect on the next update.
    pub fn set_look(&mut self, look: Look) {
        self.app.world_mut().write_message(SetLook(look));
    }

    pub fn set_view(&mut self, view: OrbitCamera) {
        if let Some(mut orbit) = self.app.world_mut().get_mut::<OrbitCamera>(self.camera) {
            *orbit = view;
        }
    }

    /// Runs frames until the imagery layer shows what the view asks for
    /// (at once without imagery); frames are captured only then.
    pub fn settle_imagery(&mut self) -> Result<(), HeadlessError> {
        const TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);
        let started = std::time::Instant::now();
        loop {
            // Without imagery there is nothing to wait for (no extra frame).
            if !self
                .app
                .world()
                .contains_resource::<crate::cockpit::imagery::ImageryLayer>()
            {
                return Ok(());
            }
            // A frame first: the view's wish is worked out in a frame.
            self.app.update();
            let Some(layer) = self
                .app
                .world()
                .get_resource::<crate::cockpit::imagery::ImageryLayer>()
            else {
                return Ok(());
            };
            if layer.settled() {
                return Ok(());
            }
            if started.elapsed() > TIMEOUT {
                return Err(HeadlessError::ImageryTimeout {
                    path: layer.source.path.display().to_string(),
                    seconds: TIMEOUT.as_secs(),
                });
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
    }

    /// The imagery layer's account (None without imagery).
    pub fn imagery_status(&self) -> Option<crate::cockpit::imagery::ImageryStatus> {
        self.app
            .world()
            .get_resource::<crate::cockpit::imagery::ImageryLayer>()
            .map(|l| l.status.clone())
    }

    /// Runs one frame.
    pub fn update(&mut self) {
        self.app.update();
    }

    /// Blocks until the GPU has finished all submitted work.
    pub fn wait_for_gpu(&self) {
        if let Some(render) = self.app.get_sub_app(RenderApp)
            && let Some(device) = render.world().get_resource::<RenderDevice>()
        {
            let _ = device
                .wgpu_device()
                .poll(wgpu::PollType::wait_indefinitely());
        }
    }

    /// Renders a frame and returns it as RGBA8 (sRGB). The view clears to
    /// an opaque colour, so a frame with transparent pixels was copied
    /// before the camera drew into the target (seen now and then on
    /// lavapipe with several apps in one process): it is rendered again.
    pub fn capture(&mut self) -> Result<image::RgbaImage, HeadlessError> {
        self.settle_imagery()?;
        const ATTEMPTS: u32 = 4;
        let mut last = None;
        for _ in 0..ATTEMPTS {
            let image = self.capture_once()?;
            if image.pixels().all(|p| p.0[3] == 255) {
                return Ok(image);
            }
            last = Some(image);
        }
        last.ok_or(HeadlessError::NoCapture { frames: 0 })
    }

    fn capture_once(&mut self) -> Result<image::RgbaImage, HeadlessError> {
        let target = self.target.clone();
        let mut images = self.capture_targets(&[target])?;
        images.pop().ok_or(HeadlessError::NoCapture { frames: 0 })
    }

    /// Screenshots of these targets, all asked for in the same frame.
    fn capture_targets(
        &mut self,
        targets: &[Handle<Image>],
    ) -> Result<Vec<image::RgbaImage>, HeadlessError> {
        let slots: Vec<Arc<Mutex<Option<Image>>>> =
            targets.iter().map(|_| Arc::default()).collect();
        for (target, slot) in targets.iter().zip(&slots) {
            let sink = slot.clone();
            self.app
                .world_mut()
                .spawn(Screenshot::image(target.clone()))
                .observe(move |captured: On<ScreenshotCaptured>| {
                    if let Ok(mut slot) = sink.lock() {
                        *slot = Some(captured.image.clone());
                    }
                });
        }
        const MAX_FRAMES: u32 = 30;
        let mut got: Vec<Option<Image>> = targets.iter().map(|_| None).collect();
        for _ in 0..MAX_FRAMES {
            self.app.update();
            for (slot, out) in slots.iter().zip(got.iter_mut()) {
                if out.is_none() {
                    *out = slot.lock().ok().and_then(|mut s| s.take());
                }
            }
            if got.iter().all(Option::is_some) {
                return got.into_iter().flatten().map(screenshot_rgba).collect();
            }
        }
        Err(HeadlessError::NoCapture { frames: MAX_FRAMES })
    }

    fn camera_parts(&self) -> Option<(&Camera, &GlobalTransform)> {
        let world = self.app.world();
        Some((
            world.get::<Camera>(self.camera)?,
            world.get::<GlobalTransform>(self.camera)?,
        ))
    }

    /// Pixel position of a world point in the last rendered frame.
    pub fn project(&self, world: Vec3) -> Option<Vec2> {
        let (camera, transform) = self.camera_parts()?;
        camera.world_to_viewport(transform, world).ok()
    }

    /// The event marker whose head is within `radius_px` of a pixel.
    pub fn pick_marker(&self, px: Vec2, radius_px: f32) -> Option<crate::model::CaseId> {
        let (camera, transform) = self.camera_parts()?;
        let layer = self.app.world().get_resource::<MarkerLayer>()?;
        pick_marker(layer, camera, transform, px, radius_px)
    }

    /// The monitoring pin within `radius_px` of a pixel: (body, point).
    pub fn pick_pin(&self, px: Vec2, radius_px: f32) -> Option<(crate::model::HazardId, u16)> {
        let (camera, transform) = self.camera_parts()?;
        let layer = self
            .app
            .world()
            .get_resource::<crate::cockpit::hazards::HazardLayer>()?;
        crate::cockpit::hazards::pick_pin(layer, camera, transform, px, radius_px)
    }

    /// The building under a pixel of the last rendered frame.
    pub fn pick(&self, px: Vec2) -> Option<BuildingId> {
        let (camera, transform) = self.camera_parts()?;
        let world = self.app.world();
        let tiles = world.get_resource::<CityTiles>()?;
        let city = world.get_resource::<super::state::CityData>()?;
        pick_at_viewport(&city.0, &tiles.0, camera, transform, px)
    }
}

/// A render target the size of the view, readable back.
fn add_target(app: &mut App, size: UVec2) -> Handle<Image> {
    let mut image = Image::new_target_texture(size.x, size.y, TextureFormat::Rgba8UnormSrgb, None);
    image.texture_descriptor.usage |= bevy::render::render_resource::TextureUsages::COPY_SRC;
    app.world_mut().resource_mut::<Assets<Image>>().add(image)
}

/// A screenshot (a window's or a target's, RGBA or BGRA) as an image.
pub fn screenshot_rgba(image: Image) -> Result<image::RgbaImage, HeadlessError> {
    let format = image.texture_descriptor.format;
    let (w, h) = (image.width(), image.height());
    let mut data = image.data.unwrap_or_default();
    match format {
        TextureFormat::Rgba8UnormSrgb | TextureFormat::Rgba8Unorm => {}
        TextureFormat::Bgra8UnormSrgb | TextureFormat::Bgra8Unorm => {
            for px in data.chunks_exact_mut(4) {
                px.swap(0, 2);
            }
        }
        format => return Err(HeadlessError::Format { format }),
    }
    image::RgbaImage::from_raw(w, h, data).ok_or(HeadlessError::Format { format })
}
