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
}

/// Counts `AssetEvent::Modified` for meshes: proof that recolouring does not
/// touch geometry.
#[derive(Resource, Default, Debug, Clone, Copy)]
pub struct MeshModifications(pub usize);

fn count_mesh_modifications(
    mut events: MessageReader<AssetEvent<Mesh>>,
    mut count: ResMut<MeshModifications>,
) {
    count.0 += events
        .read()
        .filter(|e| matches!(e, AssetEvent::Modified { .. }))
        .count();
}

/// A city rendered offscreen at a fixed size.
pub struct HeadlessCity {
    app: App,
    target: Handle<Image>,
    camera: Entity,
    size: UVec2,
}

impl HeadlessCity {
    /// Builds the app and renders the first frame (pipelines compile
    /// synchronously, so the first capture is complete).
    pub fn new(city: Arc<City>, view: OrbitCamera, size: UVec2, log: bool) -> HeadlessCity {
        Self::build(city, view, size, log, false)
    }

    /// The city with the cockpit's panels and video wall drawn over it (the
    /// egui context renders into the same image).
    pub fn with_panels(city: Arc<City>, view: OrbitCamera, size: UVec2, log: bool) -> HeadlessCity {
        Self::build(city, view, size, log, true)
    }

    fn build(
        city: Arc<City>,
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

        let mut image =
            Image::new_target_texture(size.x, size.y, TextureFormat::Rgba8UnormSrgb, None);
        image.texture_descriptor.usage |= bevy::render::render_resource::TextureUsages::COPY_SRC;
        let target = app.world_mut().resource_mut::<Assets<Image>>().add(image);
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
        }
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
        let slot: Arc<Mutex<Option<Image>>> = Arc::default();
        let sink = slot.clone();
        self.app
            .world_mut()
            .spawn(Screenshot::image(self.target.clone()))
            .observe(move |captured: On<ScreenshotCaptured>| {
                if let Ok(mut slot) = sink.lock() {
                    *slot = Some(captured.image.clone());
                }
            });
        const MAX_FRAMES: u32 = 30;
        for _ in 0..MAX_FRAMES {
            self.app.update();
            let taken = slot.lock().ok().and_then(|mut s| s.take());
            if let Some(image) = taken {
                return to_rgba(image);
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
        let tiles = self.app.world().get_resource::<CityTiles>()?;
        pick_at_viewport(&tiles.0, camera, transform, px)
    }
}

fn to_rgba(image: Image) -> Result<image::RgbaImage, HeadlessError> {
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
