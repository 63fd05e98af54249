//! Live video in the cockpit: the video wall's state ([`VideoWall`]: the
//! layout, the tiles' order, the focused tile, the cameras linked to the
//! selected case, the rescue video link), the commands that change it
//! ([`VideoCommand`], from panels and picking), the decoders behind the
//! tiles ([`Videos`]: one [`VideoManager`], `demo://` URLs played by the
//! loopback clip server) and the GPU side ([`render`]). Panels draw tiles
//! and say which streams they show; they never start a decoder themselves.

pub mod render;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use bevy::prelude::*;
use serde::{Deserialize, Serialize};

use super::hub_view::HubView;
use super::schedule::{AppSystems, CityArrived};
use super::state::{CityData, CityState};
use crate::model::{CameraId, CameraKind, CaseId, City, EventKind, cameras_near};
use crate::video::clip_server::{Clip, ClipServer, DEMO_CLIP};
use crate::video::{
    FfmpegSource, InputInfo, StreamRequest, StreamState, VideoManager, WatchSettings,
};
pub use render::ShownStreams;

/// Cameras this near an event's place are linked to its case.
pub const LINK_RADIUS_M: f32 = 800.0;
/// At most this many linked cameras are shown.
pub const LINK_MAX: usize = 9;

/// Grid sizes of the wall: 1×1 … 4×4.
pub const LAYOUTS: [u8; 4] = [1, 2, 3, 4];

/// The cameras linked to the selected case, nearest first.
#[derive(Clone, Debug, PartialEq)]
pub struct LinkedCameras {
    pub case: CaseId,
    pub cameras: Vec<CameraId>,
    /// The AI camera whose detection opened the case.
    pub source: Option<CameraId>,
}

/// The wall as the operator arranged it.
#[derive(Resource, Clone, Debug, PartialEq)]
pub struct VideoWall {
    pub open: bool,
    /// Tiles per side (1–4).
    pub layout: u8,
    /// The wall's cameras in tile order (more than fit: later pages).
    pub order: Vec<CameraId>,
    /// First tile shown (a page of `layout²`).
    pub page: usize,
    /// The tile shown large (double-click).
    pub focused: Option<CameraId>,
    /// Cameras near the selected case (muck truck, fire).
    pub linked: Option<LinkedCameras>,
    /// 视频连线: the rescue team's body-worn stream beside a fire case.
    pub video_link: Option<(CaseId, CameraId)>,
    /// Where the layout is saved (None: not saved).
    pub layout_file: Option<PathBuf>,
}

impl VideoWall {
    pub fn new(city: &City) -> VideoWall {
        VideoWall {
            open: false,
            layout: 2,
            order: city
                .cameras
                .iter()
                .filter(|c| c.kind != CameraKind::BodyWorn)
                .map(|c| c.id)
                .collect(),
            page: 0,
            focused: None,
            linked: None,
            video_link: None,
            layout_file: None,
        }
    }

    /// The cameras of the wall's grid now (the linked ones while a case is
    /// selected), at most `layout²`.
    pub fn tiles(&self) -> Vec<CameraId> {
        let n = usize::from(self.layout) * usize::from(self.layout);
        match &self.linked {
            Some(linked) => linked.cameras.iter().copied().take(n).collect(),
            None => self.order.iter().copied().skip(self.page).take(n).collect(),
        }
    }

    pub fn apply(&mut self, command: &VideoCommand, city: &City) {
        match command {
            VideoCommand::Show(open) => self.open = *open,
            VideoCommand::Layout(n) => {
                self.layout = (*n).clamp(1, 4);
                self.page = 0;
            }
            VideoCommand::Page(page) => {
                let n = usize::from(self.layout) * usize::from(self.layout);
                self.page = (*page * n).min(self.order.len().saturating_sub(1) / n * n);
            }
            VideoCommand::Open(id) => {
                if city.camera(*id).is_none() {
                    return;
                }
                self.open = true;
                self.linked = None;
                self.order.retain(|c| c != id);
                self.order.insert(0, *id);
                self.page = 0;
                self.focused = None;
            }
            VideoCommand::Focus(id) => self.focused = *id,
            VideoCommand::Move { from, to } => {
                if *from < self.order.len() && *to < self.order.len() && from != to {
                    let id = self.order.remove(*from);
                    self.order.insert(*to, id);
                }
            }
            VideoCommand::Link(linked) => {
                self.linked = linked.clone();
                if linked.as_ref().is_some_and(|l| !l.cameras.is_empty()) {
                    self.open = true;
                    self.focused = None;
                }
            }
            VideoCommand::VideoLink(link) => self.video_link = *link,
        }
    }

    pub fn saved(&self, city: &City) -> SavedLayout {
        SavedLayout {
            open: self.open,
            layout: self.layout,
            order: self
                .order
                .iter()
                .filter_map(|id| city.camera(*id).map(|c| c.code.clone()))
                .collect(),
        }
    }

    /// Takes a saved layout: known cameras in its order first, then the
    /// rest of the city's in theirs.
    pub fn restore(&mut self, saved: &SavedLayout, city: &City) {
        self.open = saved.open;
        self.layout = saved.layout.clamp(1, 4);
        let mut order: Vec<CameraId> = saved
            .order
            .iter()
            .filter_map(|code| city.cameras.iter().find(|c| c.code == *code).map(|c| c.id))
            .filter(|id| self.order.contains(id))
            .collect();
        for id in &self.order {
            if !order.contains(id) {
                order.push(*id);
            }
        }
        self.order = order;
    }
}

/// The wall's layout as saved between runs (`video_wall.ron`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SavedLayout {
    pub open: bool,
    pub layout: u8,
    /// Camera codes in tile order.
    pub order: Vec<String>,
}

/// Where the wall's layout is kept: `$CITYTWIN_CONFIG_DIR`, else
/// `$XDG_CONFIG_HOME/citytwin`, else `~/.config/citytwin`.
pub fn default_layout_file() -> Option<PathBuf> {
    let dir = std::env::var_os("CITYTWIN_CONFIG_DIR")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("XDG_CONFIG_HOME").map(|d| PathBuf::from(d).join("citytwin")))
        .or_else(|| std::env::var_os("HOME").map(|d| PathBuf::from(d).join(".config/citytwin")))?;
    Some(dir.join("video_wall.ron"))
}

/// Reads a saved layout; a missing file is `Ok(None)`.
pub fn read_layout(path: &std::path::Path) -> Result<Option<SavedLayout>, String> {
    match std::fs::read_to_string(path) {
        Ok(text) => ron::from_str(&text)
            .map(Some)
            .map_err(|e| format!("{}: {e}", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(format!("{}: {e}", path.display())),
    }
}

pub fn write_layout(path: &std::path::Path, layout: &SavedLayout) -> Result<(), String> {
    let text = ron::ser::to_string_pretty(layout, ron::ser::PrettyConfig::default())
        .map_err(|e| e.to_string())?;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))
}

/// What changes the wall (panels, the map's camera icons, case links).
#[derive(Message, Debug, Clone, PartialEq)]
pub enum VideoCommand {
    Show(bool),
    Layout(u8),
    /// Show the grid's page `n` (of `layout²` tiles).
    Page(usize),
    /// Put a camera first on the wall and show it (a click on its icon).
    Open(CameraId),
    Focus(Option<CameraId>),
    /// Drag a tile from one place in the order to another.
    Move {
        from: usize,
        to: usize,
    },
    Link(Option<LinkedCameras>),
    VideoLink(Option<(CaseId, CameraId)>),
}

/// What a tile shows about its stream this frame.
#[derive(Clone, Debug, PartialEq)]
pub struct TileStatus {
    pub state: StreamState,
    pub input: Option<InputInfo>,
    /// Wall time of the newest frame.
    pub last_frame_ms: Option<i64>,
}

/// The decoders and the streams' states, as the panels read them.
#[derive(Resource, Default)]
pub struct Videos {
    pub manager: Option<VideoManager>,
    /// Why there is no manager (the watchdog thread could not start).
    pub problem: Option<String>,
    /// Plays `demo://clip?start=S` URLs over loopback.
    demo: Option<ClipServer>,
    /// Each wanted stream's status, refreshed every frame.
    pub status: HashMap<StreamRequest, TileStatus>,
}

/// The decoder the wall uses (inserted before the plugin; default: ffmpeg
/// in software).
#[derive(Resource, Clone, Debug, Default)]
pub struct VideoDecoder(pub FfmpegSource);

impl Videos {
    pub fn start(city: &City, decoder: FfmpegSource) -> Videos {
        let mut videos = Videos::default();
        if city.cameras.iter().any(|c| {
            c.url.starts_with("demo://")
                || c.sub_url.as_ref().is_some_and(|u| u.starts_with("demo://"))
        }) {
            match Clip::parse(DEMO_CLIP)
                .map_err(|e| e.to_string())
                .and_then(|clip| {
                    ClipServer::start(Arc::new(clip), "127.0.0.1:0").map_err(|e| e.to_string())
                }) {
                Ok(server) => videos.demo = Some(server),
                Err(e) => videos.problem = Some(format!("demo clip server: {e}")),
            }
        }
        match VideoManager::start(Arc::new(decoder), WatchSettings::default()) {
            Ok(m) => videos.manager = Some(m),
            Err(e) => videos.problem = Some(format!("video watchdog: {e}")),
        }
        videos
    }

    /// The URL the decoder opens for a camera's `url` (`demo://clip?start=S`
    /// → the loopback clip server).
    pub fn resolve(&self, url: &str) -> String {
        match (url.strip_prefix("demo://clip"), &self.demo) {
            (Some(rest), Some(server)) => {
                let start = rest
                    .strip_prefix("?start=")
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(0.0);
                server.url(start)
            }
            _ => url.to_owned(),
        }
    }
}

/// A tile's stream request for `url` at a size of `px` physical pixels:
/// even, in steps of 8 so small layout changes do not restart a decoder.
pub fn tile_request(label: &str, url: String, px: Vec2) -> StreamRequest {
    let q = |v: f32, min: u32| ((v.max(0.0) as u32) / 8 * 8).max(min);
    StreamRequest {
        url,
        width: q(px.x, 64),
        height: q(px.y, 48),
        label: label.to_owned(),
    }
}

/// Cameras to link to `case`: for a muck-truck detection, its AI camera
/// first, then those near its place; for a fire case, those near the
/// building. Other kinds link none.
pub fn linked_for(city: &City, state: &CityState, case: CaseId) -> Option<LinkedCameras> {
    let case = state.live.open_case(case)?;
    if !matches!(
        case.kind,
        EventKind::MuckTruck | EventKind::FireMainPressureLost
    ) {
        return None;
    }
    let event = state.live.open_event(case.event);
    let source = event.and_then(|e| e.camera);
    let place = case
        .building
        .and_then(|b| city.building(b))
        .map(|b| b.centre_m())
        .or_else(|| source.and_then(|c| city.camera(c)).map(|c| c.position_m))?;
    let mut cameras: Vec<CameraId> = source.into_iter().collect();
    for id in cameras_near(&city.cameras, place, LINK_RADIUS_M) {
        let body_worn = city
            .camera(id)
            .is_some_and(|c| c.kind == CameraKind::BodyWorn);
        if !cameras.contains(&id) && !body_worn {
            cameras.push(id);
        }
    }
    cameras.truncate(LINK_MAX);
    Some(LinkedCameras {
        case: case.id,
        cameras,
        source,
    })
}

/// The body-worn camera for a fire case's video link: the nearest one worn
/// by a fire and rescue team (消防), else the nearest body-worn camera.
pub fn rescue_camera(city: &City, place: [f32; 2]) -> Option<CameraId> {
    let nearest = |fire: bool| {
        city.cameras
            .iter()
            .filter(|c| c.kind == CameraKind::BodyWorn)
            .filter(|c| !fire || c.unit.as_deref().is_some_and(|u| u.contains("消防")))
            .min_by(|a, b| a.distance_m(place).total_cmp(&b.distance_m(place)))
            .map(|c| c.id)
    };
    nearest(true).or_else(|| nearest(false))
}

fn clear_shown(mut shown: ResMut<ShownStreams>) {
    shown.0.clear();
}

fn apply_commands(
    mut commands: MessageReader<VideoCommand>,
    mut wall: ResMut<VideoWall>,
    city: Res<CityData>,
) {
    let before = wall.saved(&city);
    for command in commands.read() {
        wall.apply(command, &city);
    }
    let after = wall.saved(&city);
    if after != before
        && let Some(path) = &wall.layout_file
        && let Err(e) = write_layout(path, &after)
    {
        warn!("video wall layout not saved: {e}");
    }
}

/// Follows the hub's selection: a muck-truck or fire case links its cameras.
fn link_selected_case(
    view: Res<HubView>,
    state: Res<CityState>,
    city: Res<CityData>,
    mut last: Local<Option<Option<CaseId>>>,
    mut out: MessageWriter<VideoCommand>,
) {
    if *last == Some(view.selected) {
        return;
    }
    *last = Some(view.selected);
    let linked = view
        .selected
        .and_then(|case| linked_for(&city, &state, case));
    out.write(VideoCommand::Link(linked));
}

fn refresh_status(mut videos: ResMut<Videos>) {
    let Some(manager) = &videos.manager else {
        return;
    };
    let status = manager
        .streams()
        .into_iter()
        .map(|s| {
            let status = TileStatus {
                state: s.state(),
                input: s.input(),
                last_frame_ms: s.slot.latest().map(|f| f.decoded_ms),
            };
            (s.request.clone(), status)
        })
        .collect();
    videos.status = status;
}

/// Marks a stream wanted this frame and lists it for the GPU.
pub fn show_stream(
    videos: &Videos,
    shown: &mut ShownStreams,
    request: &StreamRequest,
    brightness: f32,
) {
    if let Some(manager) = &videos.manager {
        let stream = manager.want(request);
        if !shown.0.iter().any(|(s, _)| s.request == *request) {
            shown.0.push((stream, brightness));
        }
    }
}

/// Where this cockpit keeps the wall's layout; inserted before the plugin
/// (the window uses [`default_layout_file`]; headless apps keep none).
#[derive(Resource, Clone, Debug, Default)]
pub struct VideoLayoutFile(pub Option<PathBuf>);

pub(super) fn plugin(app: &mut App) {
    render::plugin(app);
    app.add_message::<VideoCommand>()
        .add_systems(CityArrived, start_videos)
        .add_systems(First, clear_shown)
        .add_systems(
            Update,
            (
                link_selected_case.in_set(AppSystems::Derive),
                apply_commands.in_set(AppSystems::SyncScene),
                refresh_status.in_set(AppSystems::SyncScene),
            ),
        );
}

/// The wall (with the saved layout) and the streams of the city's cameras,
/// once the city is there.
fn start_videos(world: &mut World) {
    let city = world.resource::<CityData>().0.clone();
    let mut wall = VideoWall::new(&city);
    let file = world
        .get_resource::<VideoLayoutFile>()
        .and_then(|f| f.0.clone());
    if let Some(path) = file {
        match read_layout(&path) {
            Ok(Some(saved)) => wall.restore(&saved, &city),
            Ok(None) => {}
            Err(e) => warn!("video wall layout ignored: {e}"),
        }
        wall.layout_file = Some(path);
    }
    let decoder = world
        .get_resource::<VideoDecoder>()
        .map(|d| d.0.clone())
        .unwrap_or_default();
    let videos = Videos::start(&city, decoder);
    if let Some(problem) = &videos.problem {
        warn!("video: {problem}");
    }
    world.insert_resource(wall);
    world.insert_resource(videos);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geo::cameras::{EMBEDDED_DEMO_CAMERAS, parse_cameras};
    use crate::geo::demo::{DemoScene, generate};

    fn city() -> City {
        let mut city = generate(&DemoScene::embedded().expect("scene"));
        city.cameras = parse_cameras(EMBEDDED_DEMO_CAMERAS, "demo", &city).expect("cameras");
        city
    }

    #[test]
    fn opening_moving_and_restoring_the_wall() {
        let city = city();
        let mut wall = VideoWall::new(&city);
        assert!(
            wall.order
                .iter()
                .all(|id| city.cameras[id.index()].kind != CameraKind::BodyWorn)
        );
        wall.apply(&VideoCommand::Layout(4), &city);
        assert_eq!(wall.tiles().len(), 16);
        wall.apply(&VideoCommand::Open(CameraId(7)), &city);
        assert!(wall.open);
        assert_eq!(wall.tiles()[0], CameraId(7));
        wall.apply(&VideoCommand::Move { from: 0, to: 3 }, &city);
        assert_eq!(wall.order[3], CameraId(7));
        let saved = wall.saved(&city);
        let mut fresh = VideoWall::new(&city);
        fresh.restore(&saved, &city);
        assert_eq!(
            (fresh.layout, &fresh.order, fresh.open),
            (4, &wall.order, true)
        );
        // A saved layout naming cameras the city no longer has keeps the rest.
        let stale = SavedLayout {
            open: false,
            layout: 9,
            order: vec!["GONE".into(), city.cameras[5].code.clone()],
        };
        fresh.restore(&stale, &city);
        assert_eq!(fresh.layout, 4);
        assert_eq!(fresh.order[0], CameraId(5));
        assert_eq!(fresh.order.len(), wall.order.len());
    }

    #[test]
    fn the_layout_file_round_trips() {
        let dir = std::env::temp_dir().join(format!("citytwin-wall-{}", std::process::id()));
        let path = dir.join("video_wall.ron");
        assert_eq!(read_layout(&path), Ok(None));
        let layout = SavedLayout {
            open: true,
            layout: 3,
            order: vec!["A".into(), "B".into()],
        };
        write_layout(&path, &layout).expect("written");
        assert_eq!(read_layout(&path), Ok(Some(layout)));
        std::fs::write(&path, "not ron").expect("write");
        assert!(read_layout(&path).is_err_and(|e| e.contains("video_wall.ron")));
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn tile_sizes_step_by_eight_and_stay_even() {
        let r = tile_request("c", "u".into(), Vec2::new(401.7, 225.2));
        assert_eq!((r.width, r.height), (400, 224));
        let r = tile_request("c", "u".into(), Vec2::new(10.0, 10.0));
        assert_eq!((r.width, r.height), (64, 48));
    }

    #[test]
    fn a_fire_case_gets_the_nearest_rescue_team() {
        let city = city();
        let yz = city
            .cameras
            .iter()
            .find(|c| c.code == "BWC-119-YZ-01")
            .expect("yz");
        assert_eq!(rescue_camera(&city, yz.position_m), Some(yz.id));
    }
}
