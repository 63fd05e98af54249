//! Imagery base maps draped on the terrain: an RGB(A) GeoTIFF (EPSG:4326
//! or EPSG:3857) or an MBTiles raster tile set (EPSG:3857 XYZ tiles in TMS
//! rows, PNG or JPEG).
//!
//! The cockpit asks for *composites*: a region in lon/lat resampled onto a
//! grid of pixels that is linear in lon/lat — and so linear in the city's
//! local metres (see [`super::LocalFrame`]), which lets the terrain shader
//! map a world position to a texture coordinate with one multiply-add.
//! Mercator sources are resampled row by row (a row of the composite is one
//! latitude). Pixels the source does not cover are transparent.

use std::collections::{HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::geotiff::{GeoRef, RasterCrs, read_georef};
use crate::model::ImageryRef;

/// Spherical-Mercator radius (EPSG:3857), metres.
const MERCATOR_R: f64 = 6_378_137.0;
/// The latitude limit of EPSG:3857.
const MERCATOR_MAX_LAT: f64 = 85.051_128_779_806_59;
/// Pixels per side of an MBTiles tile (the spec's 256; others are read at
/// their own size).
const TILE_PX: u32 = 256;
/// A GeoTIFF is read whole; beyond this many pixels an MBTiles pyramid is
/// the format to use.
pub const MAX_GEOTIFF_PIXELS: u64 = 64 * 1024 * 1024;
/// Decoded tiles kept by default (bytes of RGBA).
pub const DEFAULT_TILE_CACHE_BYTES: usize = 256 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum ImageryError {
    #[error("cannot read imagery {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("imagery {path} is neither a GeoTIFF nor an MBTiles file (it starts with {magic})")]
    Format { path: String, magic: String },
    #[error("imagery {path} is not a readable TIFF: {reason}")]
    Tiff { path: String, reason: String },
    #[error("imagery {path} is not a usable GeoTIFF: {reason}")]
    Georef { path: String, reason: String },
    #[error("imagery {path}: {reason}")]
    Pixels { path: String, reason: String },
    #[error("imagery {path} is not a usable MBTiles file: {reason}")]
    MbTiles { path: String, reason: String },
}

/// An open imagery source.
pub enum Imagery {
    GeoTiff(GeoTiffImage),
    MbTiles(Box<MbTiles>),
}

/// What a composite cost and what went wrong on the way.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ComposeStats {
    /// MBTiles zoom level the pixels came from.
    pub zoom: Option<u8>,
    /// Tiles read from the file (cache misses).
    pub tiles_read: usize,
    /// Tiles the set does not have (outside its coverage).
    pub tiles_absent: usize,
    /// Tiles whose data could not be decoded: skipped, named once each in
    /// [`MbTiles::corrupt_tiles`].
    pub tiles_corrupt: usize,
}

/// A lon/lat-linear RGBA picture of `region`.
#[derive(Clone, Debug)]
pub struct Composite {
    /// (west, south, east, north), degrees.
    pub region: [f64; 4],
    pub width: u32,
    pub height: u32,
    /// Row 0 is the north edge.
    pub rgba: Vec<u8>,
    pub stats: ComposeStats,
}

impl Composite {
    pub fn pixel(&self, col: u32, row: u32) -> [u8; 4] {
        let i = (row as usize * self.width as usize + col as usize) * 4;
        [
            self.rgba[i],
            self.rgba[i + 1],
            self.rgba[i + 2],
            self.rgba[i + 3],
        ]
    }
}

/// EPSG:3857 metres of (lon, lat).
pub fn mercator_from_lon_lat(lon: f64, lat: f64) -> [f64; 2] {
    let phi = lat.clamp(-MERCATOR_MAX_LAT, MERCATOR_MAX_LAT).to_radians();
    [
        MERCATOR_R * lon.to_radians(),
        MERCATOR_R * (std::f64::consts::FRAC_PI_4 + phi / 2.0).tan().ln(),
    ]
}

/// (lon, lat) of EPSG:3857 metres.
pub fn lon_lat_from_mercator(x: f64, y: f64) -> [f64; 2] {
    [
        (x / MERCATOR_R).to_degrees(),
        (2.0 * (y / MERCATOR_R).exp().atan() - std::f64::consts::FRAC_PI_2).to_degrees(),
    ]
}

impl Imagery {
    /// Opens `path`, by its first bytes: a TIFF (`II*\0`, `MM\0*`, or
    /// BigTIFF) or an SQLite database (MBTiles).
    pub fn open(path: &Path) -> Result<Imagery, ImageryError> {
        Imagery::read(path, true)
    }

    /// What [`Imagery::describe`] and [`Imagery::attribution`] say of the
    /// file, read from its header and metadata only (a GeoTIFF's pixels
    /// are read once, by whoever draws them).
    pub fn probe(path: &Path) -> Result<(ImageryRef, Option<String>), ImageryError> {
        let header = Imagery::read(path, false)?;
        Ok((header.describe(), header.attribution().map(str::to_owned)))
    }

    fn read(path: &Path, pixels: bool) -> Result<Imagery, ImageryError> {
        let name = path.display().to_string();
        let mut head = [0u8; 16];
        let read = std::fs::File::open(path)
            .and_then(|mut f| std::io::Read::read(&mut f, &mut head))
            .map_err(|source| ImageryError::Io {
                path: name.clone(),
                source,
            })?;
        let head = &head[..read];
        if head.starts_with(b"SQLite format 3\0") {
            return MbTiles::open(path).map(|m| Imagery::MbTiles(Box::new(m)));
        }
        if head.starts_with(b"II") || head.starts_with(b"MM") {
            return GeoTiffImage::read(path, pixels).map(Imagery::GeoTiff);
        }
        Err(ImageryError::Format {
            path: name,
            magic: if head.is_empty() {
                "nothing: the file is empty".to_owned()
            } else {
                head.iter()
                    .take(8)
                    .map(|b| format!("{b:02x}"))
                    .collect::<Vec<_>>()
                    .join(" ")
            },
        })
    }

    /// (west, south, east, north), degrees.
    pub fn bounds(&self) -> [f64; 4] {
        match self {
            Imagery::GeoTiff(t) => t.bounds(),
            Imagery::MbTiles(m) => m.bounds,
        }
    }

    /// Attribution from the file's own metadata (MBTiles `attribution`,
    /// a GeoTIFF's Copyright tag).
    pub fn attribution(&self) -> Option<&str> {
        match self {
            Imagery::GeoTiff(t) => t.copyright.as_deref(),
            Imagery::MbTiles(m) => m.attribution.as_deref(),
        }
    }

    pub fn path(&self) -> &Path {
        match self {
            Imagery::GeoTiff(t) => &t.path,
            Imagery::MbTiles(m) => &m.path,
        }
    }

    pub fn summary(&self) -> String {
        match self {
            Imagery::GeoTiff(t) => format!(
                "GeoTIFF {}×{} {}, {}",
                t.width,
                t.height,
                if t.had_alpha { "RGBA" } else { "RGB" },
                match t.georef.crs {
                    RasterCrs::LonLat => "EPSG:4326",
                    RasterCrs::WebMercator => "EPSG:3857",
                }
            ),
            Imagery::MbTiles(m) => format!(
                "MBTiles {} tiles, zoom {}–{}, EPSG:3857",
                m.format, m.min_zoom, m.max_zoom
            ),
        }
    }

    /// The model's record of this source.
    pub fn describe(&self) -> ImageryRef {
        ImageryRef {
            path: self.path().to_owned(),
            bounds_lon_lat: self.bounds(),
            summary: self.summary(),
            finest_m_per_px: self.finest_m_per_px(),
        }
    }

    /// Ground metres per source pixel at its finest (at the centre).
    pub fn finest_m_per_px(&self) -> f64 {
        let b = self.bounds();
        let lat = (b[1] + b[3]) / 2.0;
        match self {
            Imagery::GeoTiff(t) => match t.georef.crs {
                RasterCrs::LonLat => t.georef.pixel[1] * 111_320.0,
                RasterCrs::WebMercator => t.georef.pixel[1] * lat.to_radians().cos(),
            },
            Imagery::MbTiles(m) => tile_m_per_px(m.max_zoom, lat),
        }
    }

    /// `region` (degrees, clipped to the source) as `width`×`height`
    /// pixels, bilinear from the source (the MBTiles level whose pixels are
    /// at least as fine as the composite's, within the set's zooms).
    pub fn compose(&mut self, region: [f64; 4], width: u32, height: u32) -> Composite {
        match self {
            Imagery::GeoTiff(t) => {
                let to_px = t.georef;
                let source = &*t;
                resample(
                    region,
                    width,
                    height,
                    |lon, lat| pixel_of(&to_px, lon, lat),
                    |c, r| source.pixel(c, r),
                )
            }
            Imagery::MbTiles(m) => m.compose(region, width, height),
        }
    }
}

/// Source pixel coordinates (pixel centres at +0.5) of (lon, lat).
fn pixel_of(georef: &GeoRef, lon: f64, lat: f64) -> [f64; 2] {
    let [x, y] = match georef.crs {
        RasterCrs::LonLat => [lon, lat],
        RasterCrs::WebMercator => mercator_from_lon_lat(lon, lat),
    };
    [
        (x - georef.origin[0]) / georef.pixel[0],
        (georef.origin[1] - y) / georef.pixel[1],
    ]
}

/// The composite loop: each output pixel centre → source pixel coordinates
/// → bilinear over the four source pixels around it (missing ones count as
/// transparent).
fn resample(
    region: [f64; 4],
    width: u32,
    height: u32,
    to_px: impl Fn(f64, f64) -> [f64; 2],
    mut pixel: impl FnMut(i64, i64) -> Option<[u8; 4]>,
) -> Composite {
    let (width, height) = (width.max(1), height.max(1));
    let mut rgba = vec![0u8; width as usize * height as usize * 4];
    let dx = (region[2] - region[0]) / f64::from(width);
    let dy = (region[3] - region[1]) / f64::from(height);
    for row in 0..height {
        let lat = region[3] - (f64::from(row) + 0.5) * dy;
        for col in 0..width {
            let lon = region[0] + (f64::from(col) + 0.5) * dx;
            let [fx, fy] = to_px(lon, lat);
            let (fx, fy) = (fx - 0.5, fy - 0.5);
            let (c0, r0) = (fx.floor(), fy.floor());
            let (tx, ty) = ((fx - c0) as f32, (fy - r0) as f32);
            let (c0, r0) = (c0 as i64, r0 as i64);
            let mut acc = [0f32; 4];
            let mut weight = 0f32;
            for (dc, dr, w) in [
                (0, 0, (1.0 - tx) * (1.0 - ty)),
                (1, 0, tx * (1.0 - ty)),
                (0, 1, (1.0 - tx) * ty),
                (1, 1, tx * ty),
            ] {
                if w <= 0.0 {
                    continue;
                }
                if let Some(p) = pixel(c0 + dc, r0 + dr) {
                    let a = f32::from(p[3]) * w;
                    for k in 0..3 {
                        acc[k] += f32::from(p[k]) * a;
                    }
                    acc[3] += a;
                    weight += w;
                }
            }
            if acc[3] > 0.0 && weight > 0.0 {
                let i = (row as usize * width as usize + col as usize) * 4;
                for k in 0..3 {
                    rgba[i + k] = (acc[k] / acc[3]).round().clamp(0.0, 255.0) as u8;
                }
                // Alpha over the whole footprint: edges of the source fade.
                rgba[i + 3] = acc[3].round().clamp(0.0, 255.0) as u8;
            }
        }
    }
    Composite {
        region,
        width,
        height,
        rgba,
        stats: ComposeStats::default(),
    }
}

/// A GeoTIFF read whole into RGBA.
pub struct GeoTiffImage {
    pub path: PathBuf,
    pub width: u32,
    pub height: u32,
    pub georef: GeoRef,
    pub had_alpha: bool,
    pub copyright: Option<String>,
    rgba: Vec<u8>,
}

impl GeoTiffImage {
    pub fn load(path: &Path) -> Result<GeoTiffImage, ImageryError> {
        GeoTiffImage::read(path, true)
    }

    /// The header always; the pixels when `pixels` (else none: only for
    /// [`Imagery::probe`], never drawn).
    fn read(path: &Path, pixels_too: bool) -> Result<GeoTiffImage, ImageryError> {
        use tiff::ColorType;
        use tiff::decoder::{Decoder, DecodingResult};
        let name = path.display().to_string();
        let file = std::fs::File::open(path).map_err(|source| ImageryError::Io {
            path: name.clone(),
            source,
        })?;
        let tiff_err = |e: tiff::TiffError| ImageryError::Tiff {
            path: name.clone(),
            reason: e.to_string(),
        };
        let pixels = |reason: String| ImageryError::Pixels {
            path: name.clone(),
            reason,
        };
        let mut decoder = Decoder::new(std::io::BufReader::new(file)).map_err(tiff_err)?;
        let (width, height) = decoder.dimensions().map_err(tiff_err)?;
        let georef = read_georef(&mut decoder, &[RasterCrs::LonLat, RasterCrs::WebMercator])
            .map_err(|reason| ImageryError::Georef {
                path: name.clone(),
                reason,
            })?;
        if u64::from(width) * u64::from(height) > MAX_GEOTIFF_PIXELS {
            return Err(pixels(format!(
                "{width}×{height} pixels is more than a GeoTIFF base map may have here \
                 ({MAX_GEOTIFF_PIXELS} pixels); make it an MBTiles pyramid \
                 (gdal_translate -of MBTILES in.tif out.mbtiles && gdaladdo out.mbtiles)"
            )));
        }
        let color = decoder.colortype().map_err(tiff_err)?;
        let had_alpha = match color {
            ColorType::RGB(8) => false,
            ColorType::RGBA(8) => true,
            other => {
                return Err(pixels(format!(
                    "colour type {other:?} is not supported: imagery must be 8-bit RGB or RGBA \
                     (gdal_translate -ot Byte -b 1 -b 2 -b 3 in.tif out.tif)"
                )));
            }
        };
        let copyright = decoder
            .get_tag_ascii_string(tiff::tags::Tag::Copyright)
            .ok()
            .map(|s| s.trim_matches(char::from(0)).trim().to_owned())
            .filter(|s| !s.is_empty());
        let mut image = GeoTiffImage {
            path: path.to_owned(),
            width,
            height,
            georef,
            had_alpha,
            copyright,
            rgba: Vec::new(),
        };
        if !pixels_too {
            return Ok(image);
        }
        let DecodingResult::U8(samples) = decoder.read_image().map_err(tiff_err)? else {
            return Err(pixels("samples are not 8-bit".to_owned()));
        };
        let channels = if had_alpha { 4 } else { 3 };
        let expected = width as usize * height as usize * channels;
        if samples.len() != expected {
            return Err(pixels(format!(
                "{} samples for {width}×{height} × {channels} channels",
                samples.len()
            )));
        }
        image.rgba = if had_alpha {
            samples
        } else {
            samples
                .chunks_exact(3)
                .flat_map(|p| [p[0], p[1], p[2], 255])
                .collect()
        };
        Ok(image)
    }

    /// (west, south, east, north), degrees.
    pub fn bounds(&self) -> [f64; 4] {
        let g = &self.georef;
        let east = g.origin[0] + f64::from(self.width) * g.pixel[0];
        let south = g.origin[1] - f64::from(self.height) * g.pixel[1];
        match g.crs {
            RasterCrs::LonLat => [g.origin[0], south, east, g.origin[1]],
            RasterCrs::WebMercator => {
                let sw = lon_lat_from_mercator(g.origin[0], south);
                let ne = lon_lat_from_mercator(east, g.origin[1]);
                [sw[0], sw[1], ne[0], ne[1]]
            }
        }
    }

    fn pixel(&self, col: i64, row: i64) -> Option<[u8; 4]> {
        if col < 0 || row < 0 || col >= i64::from(self.width) || row >= i64::from(self.height) {
            return None;
        }
        let i = (row as usize * self.width as usize + col as usize) * 4;
        Some([
            self.rgba[i],
            self.rgba[i + 1],
            self.rgba[i + 2],
            self.rgba[i + 3],
        ])
    }
}

/// Ground metres per pixel of a 256-pixel tile at `zoom` and `lat`.
pub fn tile_m_per_px(zoom: u8, lat: f64) -> f64 {
    2.0 * std::f64::consts::PI * MERCATOR_R * lat.to_radians().cos()
        / (f64::from(TILE_PX) * 2f64.powi(i32::from(zoom)))
}

/// Global pixel coordinates (x east, y south, 256 px tiles) at `zoom`.
fn world_px(lon: f64, lat: f64, zoom: u8) -> [f64; 2] {
    let size = f64::from(TILE_PX) * 2f64.powi(i32::from(zoom));
    let [x, y] = mercator_from_lon_lat(lon, lat);
    let half = std::f64::consts::PI * MERCATOR_R;
    [
        (x + half) / (2.0 * half) * size,
        (half - y) / (2.0 * half) * size,
    ]
}

type TileKey = (u8, u32, u32);

/// An MBTiles raster tile set with a bounded cache of decoded tiles.
pub struct MbTiles {
    pub path: PathBuf,
    conn: rusqlite::Connection,
    pub bounds: [f64; 4],
    pub min_zoom: u8,
    pub max_zoom: u8,
    /// `png`, `jpg`, … as the metadata says (each tile is decoded by its
    /// own signature).
    pub format: String,
    pub attribution: Option<String>,
    cache: HashMap<TileKey, Option<Arc<Tile>>>,
    order: VecDeque<TileKey>,
    cache_bytes: usize,
    pub cache_cap_bytes: usize,
    /// Tiles evicted to stay under the cap.
    pub evicted: usize,
    /// Each corrupt tile, named once: "z/x/y (TMS row r): reason".
    pub corrupt_tiles: Vec<String>,
}

struct Tile {
    size: u32,
    rgba: Vec<u8>,
}

impl MbTiles {
    pub fn open(path: &Path) -> Result<MbTiles, ImageryError> {
        let name = path.display().to_string();
        let bad = |reason: String| ImageryError::MbTiles {
            path: name.clone(),
            reason,
        };
        let conn = rusqlite::Connection::open_with_flags(
            path,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| bad(e.to_string()))?;
        let metadata: HashMap<String, String> = conn
            .prepare("SELECT name, value FROM metadata")
            .and_then(|mut q| {
                q.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?
                    .collect()
            })
            .map_err(|e| bad(format!("no readable metadata table ({e})")))?;
        let zooms: (Option<i64>, Option<i64>) = conn
            .query_row(
                "SELECT MIN(zoom_level), MAX(zoom_level) FROM tiles",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .map_err(|e| bad(format!("no readable tiles table ({e})")))?;
        let (Some(lo), Some(hi)) = zooms else {
            return Err(bad("it holds no tiles".to_owned()));
        };
        let zoom = |key: &str, found: i64| -> Result<u8, ImageryError> {
            let value = match metadata.get(key) {
                Some(text) => text
                    .trim()
                    .parse::<i64>()
                    .map_err(|_| bad(format!("metadata {key} '{text}' is not a number")))?
                    .clamp(lo, hi),
                None => found,
            };
            u8::try_from(value)
                .ok()
                .filter(|z| *z <= 30)
                .ok_or_else(|| bad(format!("zoom {value} is out of range 0–30")))
        };
        let (min_zoom, max_zoom) = (zoom("minzoom", lo)?, zoom("maxzoom", hi)?);
        let bounds = match metadata.get("bounds") {
            Some(text) => {
                let v: Vec<f64> = text
                    .split(',')
                    .map(|s| s.trim().parse::<f64>())
                    .collect::<Result<_, _>>()
                    .map_err(|_| bad(format!("metadata bounds '{text}' are not four numbers")))?;
                match v.as_slice() {
                    &[w, s, e, n] if w < e && s < n => [w, s, e, n],
                    _ => {
                        return Err(bad(format!(
                            "metadata bounds '{text}' are not west,south,east,north"
                        )));
                    }
                }
            }
            None => return Err(bad("metadata has no bounds".to_owned())),
        };
        let attribution = metadata
            .get("attribution")
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty());
        Ok(MbTiles {
            path: path.to_owned(),
            conn,
            bounds,
            min_zoom,
            max_zoom,
            format: metadata
                .get("format")
                .cloned()
                .unwrap_or_else(|| "png".to_owned()),
            attribution,
            cache: HashMap::new(),
            order: VecDeque::new(),
            cache_bytes: 0,
            cache_cap_bytes: DEFAULT_TILE_CACHE_BYTES,
            evicted: 0,
            corrupt_tiles: Vec::new(),
        })
    }

    /// Decoded tile bytes held now.
    pub fn cache_bytes(&self) -> usize {
        self.cache_bytes
    }

    /// The coarsest zoom whose pixels are at least as fine as `m_per_px`
    /// (the finest the set has when none is).
    pub fn zoom_for(&self, m_per_px: f64, lat: f64) -> u8 {
        (self.min_zoom..=self.max_zoom)
            .find(|z| tile_m_per_px(*z, lat) <= m_per_px * 1.001)
            .unwrap_or(self.max_zoom)
    }

    fn compose(&mut self, region: [f64; 4], width: u32, height: u32) -> Composite {
        let lat = (region[1] + region[3]) / 2.0;
        let m_per_px = (region[3] - region[1]) * 111_320.0 / f64::from(height.max(1));
        let zoom = self.zoom_for(m_per_px, lat);
        let mut stats = ComposeStats {
            zoom: Some(zoom),
            ..ComposeStats::default()
        };
        // Every tile the region touches, read (or found in the cache) first;
        // the resampling then only looks them up.
        let nw = world_px(region[0], region[3], zoom);
        let se = world_px(region[2], region[1], zoom);
        let last = 2u32.pow(u32::from(zoom)) - 1;
        let tile = |v: f64| ((v / f64::from(TILE_PX)).floor().max(0.0) as u32).min(last);
        let (x0, x1) = (tile(nw[0] - 1.0), tile(se[0] + 1.0));
        let (y0, y1) = (tile(nw[1] - 1.0), tile(se[1] + 1.0));
        let mut tiles: HashMap<(u32, u32), Arc<Tile>> = HashMap::new();
        for x in x0..=x1 {
            for y in y0..=y1 {
                if let Some(t) = self.tile((zoom, x, y), &mut stats) {
                    tiles.insert((x, y), t);
                }
            }
        }
        let mut composite = resample(
            region,
            width,
            height,
            |lon, lat| world_px(lon, lat, zoom),
            |gx, gy| {
                if gx < 0 || gy < 0 {
                    return None;
                }
                let (tx, ty) = (
                    (gx / i64::from(TILE_PX)) as u32,
                    (gy / i64::from(TILE_PX)) as u32,
                );
                let t = tiles.get(&(tx, ty))?;
                // Tiles of another size are scaled onto the 256 grid.
                let (px, py) = (gx % i64::from(TILE_PX), gy % i64::from(TILE_PX));
                let (sx, sy) = (
                    (px as u32 * t.size / TILE_PX) as usize,
                    (py as u32 * t.size / TILE_PX) as usize,
                );
                let i = (sy * t.size as usize + sx) * 4;
                t.rgba.get(i..i + 4).map(|p| [p[0], p[1], p[2], p[3]])
            },
        );
        composite.stats = stats;
        composite
    }

    /// One tile (XYZ row `y`), from the cache or the file; `None` when the
    /// set lacks it or it is corrupt (counted, named once).
    fn tile(&mut self, key: TileKey, stats: &mut ComposeStats) -> Option<Arc<Tile>> {
        if let Some(hit) = self.cache.get(&key) {
            if hit.is_none() {
                stats.tiles_absent += 1;
            }
            return hit.clone();
        }
        let (z, x, y) = key;
        let tms_row = 2u32.pow(u32::from(z)) - 1 - y;
        stats.tiles_read += 1;
        let data: Option<Vec<u8>> = self
            .conn
            .query_row(
                "SELECT tile_data FROM tiles WHERE zoom_level = ?1 AND tile_column = ?2 AND tile_row = ?3",
                (z, x, tms_row),
                |r| r.get(0),
            )
            .ok();
        let decoded = match data {
            None => {
                stats.tiles_absent += 1;
                None
            }
            Some(bytes) => match decode_tile(&bytes) {
                Ok(tile) => Some(Arc::new(tile)),
                Err(reason) => {
                    stats.tiles_corrupt += 1;
                    self.corrupt_tiles
                        .push(format!("{z}/{x}/{y} (TMS row {tms_row}): {reason}"));
                    None
                }
            },
        };
        self.insert(key, decoded.clone());
        decoded
    }

    fn insert(&mut self, key: TileKey, tile: Option<Arc<Tile>>) {
        self.cache_bytes += tile.as_ref().map_or(0, |t| t.rgba.len());
        self.cache.insert(key, tile);
        self.order.push_back(key);
        while self.cache_bytes > self.cache_cap_bytes && self.order.len() > 1 {
            let Some(old) = self.order.pop_front() else {
                break;
            };
            if let Some(Some(t)) = self.cache.remove(&old) {
                self.cache_bytes -= t.rgba.len();
                self.evicted += 1;
            }
        }
    }
}

/// A PNG or JPEG tile to square RGBA.
fn decode_tile(bytes: &[u8]) -> Result<Tile, String> {
    let (width, height, rgba) = if bytes.starts_with(&[0xFF, 0xD8]) {
        use zune_jpeg::zune_core::{
            bytestream::ZCursor, colorspace::ColorSpace, options::DecoderOptions,
        };
        let mut decoder = zune_jpeg::JpegDecoder::new_with_options(
            ZCursor::new(bytes),
            DecoderOptions::default().jpeg_set_out_colorspace(ColorSpace::RGBA),
        );
        let rgba = decoder.decode().map_err(|e| format!("JPEG: {e:?}"))?;
        let (w, h) = decoder
            .dimensions()
            .ok_or_else(|| "JPEG without dimensions".to_owned())?;
        (w as u32, h as u32, rgba)
    } else {
        let image = image::load_from_memory_with_format(bytes, image::ImageFormat::Png)
            .map_err(|e| format!("PNG: {e}"))?
            .into_rgba8();
        (image.width(), image.height(), image.into_raw())
    };
    if width != height || width == 0 || rgba.len() != (width * height * 4) as usize {
        return Err(format!("a {width}×{height} tile is not square"));
    }
    Ok(Tile { size: width, rgba })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mercator_round_trips() {
        for (lon, lat) in [(2.28, 48.98), (106.58, 29.56), (-70.0, -33.4)] {
            let [x, y] = mercator_from_lon_lat(lon, lat);
            let [lon2, lat2] = lon_lat_from_mercator(x, y);
            assert!((lon - lon2).abs() < 1e-9 && (lat - lat2).abs() < 1e-9);
        }
        // Zoom 19 at 49°N: about 0.196 m a pixel.
        assert!((tile_m_per_px(19, 48.98) - 0.196).abs() < 0.002);
    }

    #[test]
    fn resampling_keeps_a_pixel_where_it_is_and_leaves_uncovered_ground_clear() {
        // A 4×4 source over lon 0..4, lat 0..4, one red pixel at col 2, row 1
        // (lon 2..3, lat 2..3).
        let georef = GeoRef {
            crs: RasterCrs::LonLat,
            origin: [0.0, 4.0],
            pixel: [1.0, 1.0],
        };
        let pixel = |c: i64, r: i64| {
            ((0..4).contains(&c) && (0..4).contains(&r)).then_some(if (c, r) == (2, 1) {
                [255, 0, 0, 255]
            } else {
                [0, 0, 255, 255]
            })
        };
        // One output pixel a degree: centres on source centres.
        let out = resample(
            [0.0, 0.0, 8.0, 4.0],
            8,
            4,
            |lon, lat| pixel_of(&georef, lon, lat),
            pixel,
        );
        assert_eq!(out.pixel(2, 1), [255, 0, 0, 255]);
        assert_eq!(out.pixel(0, 3), [0, 0, 255, 255]);
        // East of lon 4 the source has nothing: transparent.
        assert_eq!(out.pixel(6, 1)[3], 0);
        // Half-degree pixels fall between source centres: blends, red
        // weighing most nearest the red pixel.
        let half = resample(
            [0.0, 0.0, 4.0, 4.0],
            8,
            8,
            |lon, lat| pixel_of(&georef, lon, lat),
            pixel,
        );
        let near = half.pixel(5, 2);
        assert!(near[0] > 120 && near[2] > 30, "{near:?}");
        let far = half.pixel(1, 6);
        assert_eq!(far, [0, 0, 255, 255]);
    }
}
