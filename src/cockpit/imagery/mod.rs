//! The imagery base map on the terrain (`--imagery`): two layers, like a
//! two-level clipmap. The *base* covers the whole source at up to
//! [`BASE_MAX_PX`] pixels a side; the *detail* covers what the main camera
//! looks at, as fine as its screen pixels need (and the source has), up to
//! [`DETAIL_MAX_PX`]. Composites are made on the `citytwin-imagery` thread
//! (one request in flight, the newest wanted detail waits) and drawn by
//! the terrain shader, which maps world x/z linearly to texture coordinates.

use bevy::asset::RenderAssetUsages;
use bevy::image::ImageSampler;
use bevy::prelude::*;
use bevy::render::render_resource::{Extent3d, TextureDimension, TextureFormat};
use crossbeam_channel::{Receiver, Sender, TrySendError};

use super::camera::{OrbitCamera, WallView};
use super::city::terrain::{GroundMaterial, TerrainSurface};
use super::schedule::AppSystems;
use super::state::CityData;
use crate::geo::LocalFrame;
use crate::geo::imagery::{Composite, Imagery};
use crate::model::ImageryRef;

/// Longest side of the base layer.
pub const BASE_MAX_PX: u32 = 1024;
/// Longest side of the detail layer.
pub const DETAIL_MAX_PX: u32 = 2048;
/// Decoded tiles the worker keeps (MBTiles).
pub const TILE_CACHE_BYTES: usize = 96 * 1024 * 1024;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Layer {
    Base,
    Detail,
}

/// What the detail layer is for: its resolution (a power of two of
/// metres per pixel) and its centre on a grid of a quarter of its size.
/// A new key is a new composite.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct DetailKey {
    log2_m_per_px: i32,
    cell: [i64; 2],
}

#[derive(Clone, Debug)]
struct Request {
    layer: Layer,
    region: [f64; 4],
    width: u32,
    height: u32,
    key: Option<DetailKey>,
}

enum Reply {
    Failed(String),
    Drape {
        layer: Layer,
        key: Option<DetailKey>,
        composite: Composite,
        new_corrupt: Vec<String>,
        cache_bytes: usize,
        evicted: usize,
    },
}

/// What the imagery layer has done, for the legend's data lines and tests.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ImageryStatus {
    /// Why there is no imagery (the file could not be opened).
    pub problem: Option<String>,
    pub composites: usize,
    pub tiles_read: usize,
    /// Corrupt tiles skipped, each named once.
    pub corrupt_tiles: Vec<String>,
    pub cache_bytes: usize,
    pub evicted: usize,
    /// Ground metres per pixel of the layers on the terrain now.
    pub base_m_per_px: Option<f64>,
    pub detail_m_per_px: Option<f64>,
    /// The MBTiles zoom of the detail (or base) layer.
    pub zoom: Option<u8>,
}

/// The imagery of the city and its worker.
#[derive(Resource)]
pub struct ImageryLayer {
    pub source: ImageryRef,
    frame: LocalFrame,
    requests: Sender<Request>,
    replies: Receiver<Reply>,
    in_flight: bool,
    /// A detail composite wanted but not yet sent.
    queued: Option<Request>,
    wanted: Option<DetailKey>,
    base_sent: bool,
    base_applied: bool,
    pub status: ImageryStatus,
}

impl ImageryLayer {
    /// Nothing wanted is outstanding: the terrain shows what the camera
    /// asks for (or the reason it cannot).
    pub fn settled(&self) -> bool {
        self.status.problem.is_some()
            || (self.base_applied && !self.in_flight && self.queued.is_none())
    }

    /// The world rectangle (x west, z north, x east, z south) of a region.
    fn world_rect(&self, region: [f64; 4]) -> Vec4 {
        let nw = self.frame.to_local(region[0], region[3]);
        let se = self.frame.to_local(region[2], region[1]);
        Vec4::new(nw[0], -nw[1], se[0], -se[1])
    }
}

pub fn plugin(app: &mut App) {
    app.add_systems(crate::cockpit::schedule::CityArrived, start_imagery)
        .add_systems(
            Update,
            (want_detail, exchange)
                .chain()
                .in_set(AppSystems::SyncScene),
        );
}

fn start_imagery(mut commands: Commands, city: Res<CityData>) {
    let Some(source) = city.imagery.clone() else {
        return;
    };
    let (requests, worker_requests) = crossbeam_channel::bounded::<Request>(1);
    let (worker_replies, replies) = crossbeam_channel::bounded::<Reply>(2);
    let path = source.path.clone();
    let spawned = std::thread::Builder::new()
        .name("citytwin-imagery".to_owned())
        .spawn(move || imagery_worker(&path, &worker_requests, &worker_replies));
    let mut status = ImageryStatus::default();
    if let Err(e) = spawned {
        status.problem = Some(format!("cannot start the imagery thread: {e}"));
        error!("imagery {}: {}", source.path.display(), e);
    }
    let [lon, lat] = city.bounds.origin_lon_lat;
    commands.insert_resource(ImageryLayer {
        source,
        frame: LocalFrame::new(lon, lat),
        requests,
        replies,
        in_flight: false,
        queued: None,
        wanted: None,
        base_sent: false,
        base_applied: false,
        status,
    });
}

/// The `citytwin-imagery` thread: opens the source once, then answers
/// requests until the cockpit goes.
fn imagery_worker(path: &std::path::Path, requests: &Receiver<Request>, replies: &Sender<Reply>) {
    let mut imagery = match Imagery::open(path) {
        Ok(imagery) => imagery,
        Err(e) => {
            let _ = replies.send(Reply::Failed(e.to_string()));
            return;
        }
    };
    if let Imagery::MbTiles(m) = &mut imagery {
        m.cache_cap_bytes = TILE_CACHE_BYTES;
    }
    let mut corrupt_seen = 0;
    while let Ok(request) = requests.recv() {
        let composite = imagery.compose(request.region, request.width, request.height);
        let (new_corrupt, cache_bytes, evicted) = match &imagery {
            Imagery::MbTiles(m) => {
                let new = m.corrupt_tiles[corrupt_seen..].to_vec();
                corrupt_seen = m.corrupt_tiles.len();
                (new, m.cache_bytes(), m.evicted)
            }
            Imagery::GeoTiff(_) => (Vec::new(), 0, 0),
        };
        let reply = Reply::Drape {
            layer: request.layer,
            key: request.key,
            composite,
            new_corrupt,
            cache_bytes,
            evicted,
        };
        if replies.send(reply).is_err() {
            return;
        }
    }
}

/// Metres east/north of a lon/lat region.
fn region_size_m(frame: &LocalFrame, region: [f64; 4]) -> [f64; 2] {
    let sw = frame.to_local(region[0], region[1]);
    let ne = frame.to_local(region[2], region[3]);
    [
        f64::from(ne[0] - sw[0]).max(0.0),
        f64::from(ne[1] - sw[1]).max(0.0),
    ]
}

/// Pixels for a region at `m_per_px`, the longest side at most `max_px`.
fn pixels_for(size_m: [f64; 2], m_per_px: f64, max_px: u32) -> (u32, u32) {
    let scale = (size_m[0].max(size_m[1]) / m_per_px / f64::from(max_px)).max(1.0);
    let px = |m: f64| ((m / m_per_px / scale).ceil() as u32).clamp(1, max_px);
    (px(size_m[0]), px(size_m[1]))
}

/// Works out the detail the main camera needs and queues it when it is not
/// what the terrain has (or is about to get).
fn want_detail(
    layer: Option<ResMut<ImageryLayer>>,
    cameras: Query<(&OrbitCamera, &Camera, &Projection), Without<WallView>>,
) {
    let Some(mut layer) = layer else { return };
    if layer.status.problem.is_some() {
        return;
    }
    let bounds = layer.source.bounds_lon_lat;
    if !layer.base_sent && layer.queued.is_none() {
        let size = region_size_m(&layer.frame, bounds);
        let (width, height) = pixels_for(size, layer.source.finest_m_per_px.max(1e-3), BASE_MAX_PX);
        layer.queued = Some(Request {
            layer: Layer::Base,
            region: bounds,
            width,
            height,
            key: None,
        });
        return;
    }
    // The detail refines the base: it is worked out against it.
    if !layer.base_applied {
        return;
    }
    let Some((orbit, camera, projection)) = cameras.iter().find(|(_, c, _)| c.is_active) else {
        return;
    };
    let Some(viewport) = camera.physical_viewport_size() else {
        return;
    };
    let fov = match projection {
        Projection::Perspective(p) => p.fov,
        _ => 45f32.to_radians(),
    };
    let tan = f64::from((fov / 2.0).tan());
    let screen_m_per_px = 2.0 * f64::from(orbit.distance_m) * tan / f64::from(viewport.y.max(1));
    let finest = layer.source.finest_m_per_px.max(1e-3);
    let needed = screen_m_per_px.max(finest);
    let base_m = layer.status.base_m_per_px.unwrap_or(f64::INFINITY);
    if base_m <= needed * 1.25 {
        // The base is fine enough here.
        return;
    }
    // A power of two at or below what is needed (never coarser).
    let log2 = needed.log2().floor() as i32;
    let m_per_px = 2f64.powi(log2).max(finest);
    let aspect = f64::from(viewport.x) / f64::from(viewport.y.max(1));
    let mut half = f64::from(orbit.distance_m) * tan * aspect.max(1.0) * 1.5;
    half = half.min(f64::from(DETAIL_MAX_PX) * m_per_px / 2.0);
    let step = (half / 2.0).max(1.0);
    let focus = [f64::from(orbit.focus.x), f64::from(-orbit.focus.z)];
    let cell = [
        (focus[0] / step).round() as i64,
        (focus[1] / step).round() as i64,
    ];
    let key = DetailKey {
        log2_m_per_px: log2,
        cell,
    };
    if layer.wanted == Some(key) {
        return;
    }
    let centre = [cell[0] as f64 * step, cell[1] as f64 * step];
    let sw = layer
        .frame
        .to_lon_lat([(centre[0] - half) as f32, (centre[1] - half) as f32]);
    let ne = layer
        .frame
        .to_lon_lat([(centre[0] + half) as f32, (centre[1] + half) as f32]);
    let region = [
        sw[0].max(bounds[0]),
        sw[1].max(bounds[1]),
        ne[0].min(bounds[2]),
        ne[1].min(bounds[3]),
    ];
    layer.wanted = Some(key);
    if region[0] >= region[2] || region[1] >= region[3] {
        // Looking away from the imagery: nothing to refine.
        layer.queued = None;
        return;
    }
    let size = region_size_m(&layer.frame, region);
    let (width, height) = pixels_for(size, m_per_px, DETAIL_MAX_PX);
    layer.queued = Some(Request {
        layer: Layer::Detail,
        region,
        width,
        height,
        key: Some(key),
    });
}

/// Sends the queued request when none is in flight, and puts finished
/// composites on the terrain.
fn exchange(
    layer: Option<ResMut<ImageryLayer>>,
    mut images: ResMut<Assets<Image>>,
    mut materials: ResMut<Assets<GroundMaterial>>,
    terrain: Query<&MeshMaterial3d<GroundMaterial>, With<TerrainSurface>>,
) {
    let Some(mut layer) = layer else { return };
    let layer = &mut *layer;
    if !layer.in_flight
        && let Some(request) = layer.queued.take()
    {
        let is_base = request.layer == Layer::Base;
        match layer.requests.try_send(request) {
            Ok(()) => {
                layer.in_flight = true;
                layer.base_sent |= is_base;
            }
            Err(TrySendError::Full(request)) => layer.queued = Some(request),
            Err(TrySendError::Disconnected(_)) => {
                layer.status.problem = Some("the imagery thread has stopped".to_owned());
            }
        }
    }
    while let Ok(reply) = layer.replies.try_recv() {
        layer.in_flight = false;
        match reply {
            Reply::Failed(reason) => {
                error!("{reason}");
                layer.status.problem = Some(reason);
            }
            Reply::Drape {
                layer: which,
                key,
                composite,
                new_corrupt,
                cache_bytes,
                evicted,
            } => {
                for name in &new_corrupt {
                    warn!(
                        "imagery {}: skipped corrupt tile {name}",
                        layer.source.path.display()
                    );
                }
                let status = &mut layer.status;
                status.corrupt_tiles.extend(new_corrupt);
                status.composites += 1;
                status.tiles_read += composite.stats.tiles_read;
                status.cache_bytes = cache_bytes;
                status.evicted = evicted;
                status.zoom = composite.stats.zoom.or(status.zoom);
                let size = region_size_m(&layer.frame, composite.region);
                let m_per_px = size[1] / f64::from(composite.height.max(1));
                let rect = layer.world_rect(composite.region);
                let handle = images.add(drape_image(composite));
                let Some(mut material) =
                    // Every chunk of the terrain shares one material.
                    terrain.iter().next().and_then(|m| materials.get_mut(&m.0))
                else {
                    // Said once: nothing to drape on (and nothing to wait for).
                    if layer.status.problem.is_none() {
                        error!("imagery: the city has no terrain to drape it on");
                        layer.status.problem = Some("no terrain to drape it on".to_owned());
                    }
                    continue;
                };
                match which {
                    Layer::Base => {
                        material.imagery_base = Some(handle);
                        material.params.imagery_base = rect;
                        material.params.imagery_on.x = 1.0;
                        layer.status.base_m_per_px = Some(m_per_px);
                        layer.base_applied = true;
                    }
                    Layer::Detail => {
                        // Only the newest wanted detail is shown.
                        if key.is_some() && key == layer.wanted {
                            material.imagery_detail = Some(handle);
                            material.params.imagery_detail = rect;
                            material.params.imagery_on.y = 1.0;
                            layer.status.detail_m_per_px = Some(m_per_px);
                        }
                    }
                }
            }
        }
    }
}

/// A composite as an sRGB texture, sampled bilinearly.
fn drape_image(composite: Composite) -> Image {
    let mut image = Image::new(
        Extent3d {
            width: composite.width,
            height: composite.height,
            depth_or_array_layers: 1,
        },
        TextureDimension::D2,
        composite.rgba,
        TextureFormat::Rgba8UnormSrgb,
        RenderAssetUsages::RENDER_WORLD,
    );
    image.sampler = ImageSampler::linear();
    image
}
