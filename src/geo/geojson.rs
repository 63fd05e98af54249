//! GeoJSON building import: Polygon/MultiPolygon footprints with heights from
//! `height`, else levels × 3 m, else a default. A broken feature is skipped
//! and reported by index; a broken file is an error naming the file.

use std::path::Path;

use serde::Deserialize;
use serde_json::value::RawValue;

use super::gcj02::gcj02_to_wgs84;

/// Coordinate reference system of the input coordinates.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Crs {
    /// WGS84 lon/lat (GPS, OpenStreetMap).
    #[default]
    Wgs84,
    /// GCJ-02 lon/lat (Chinese map providers); converted to WGS84 on import.
    Gcj02,
}

/// Height of a building with neither a height nor a level count.
pub const DEFAULT_HEIGHT_M: f32 = 12.0;

/// Metres per storey when only a level count is known.
pub const METRES_PER_LEVEL: f32 = 3.0;

#[derive(Clone, Debug)]
pub struct ImportOptions {
    pub crs: Crs,
    /// Height of buildings with neither a height nor a level count.
    pub default_height_m: f32,
}

impl Default for ImportOptions {
    fn default() -> Self {
        ImportOptions {
            crs: Crs::Wgs84,
            default_height_m: DEFAULT_HEIGHT_M,
        }
    }
}

/// Where a building's height came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HeightSource {
    Height,
    Levels,
    Default,
}

/// One imported footprint, still in WGS84 degrees.
#[derive(Clone, Debug, PartialEq)]
pub struct ImportedBuilding {
    pub feature_index: usize,
    /// WGS84 (x = lon, y = lat); holes (courtyards) are kept.
    pub polygon: geo_types::Polygon<f64>,
    pub height_m: f32,
    pub height_source: HeightSource,
    pub levels: Option<u16>,
    pub name: Option<String>,
    pub address: Option<String>,
    /// The feature says it comes from OpenStreetMap (needs ODbL attribution).
    pub from_osm: bool,
    /// The code the data gives it: a `code`/`building_code` property, else
    /// its OpenStreetMap element (`OSM-w123`, `OSM-r45`), else the
    /// feature's `id` (None: numbered on import).
    pub source_code: Option<String>,
}

impl ImportedBuilding {
    /// A footprint with its measured height and nothing else known (as a
    /// generated city or a test makes them).
    pub fn measured(feature_index: usize, polygon: geo_types::Polygon<f64>, height_m: f32) -> Self {
        ImportedBuilding {
            feature_index,
            polygon,
            height_m,
            height_source: HeightSource::Height,
            levels: None,
            name: None,
            address: None,
            from_osm: false,
            source_code: None,
        }
    }
}

/// A feature that was skipped, and why.
#[derive(Clone, Debug, PartialEq)]
pub struct SkippedFeature {
    pub index: usize,
    pub reason: String,
}

/// Why a feature's height is not simply its `height` number; counted per
/// reason (with the first value seen) and reported once each.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum HeightNote {
    /// No height: levels × 3 m.
    MissingUsedLevels,
    /// Neither a height nor levels: the default height.
    MissingUsedDefault,
    /// A height ≤ 0 (OSM writes 0 for "unknown"): levels × 3 m, else the default.
    NotPositive,
    /// A height that is no number ("abc", "60 ft"): levels × 3 m, else the default.
    Unparseable,
    /// A height written with its unit ("20 m", "20米"): read as metres.
    WithUnit,
}

#[derive(Clone, Debug, Default)]
pub struct ImportReport {
    pub buildings: Vec<ImportedBuilding>,
    pub skipped: Vec<SkippedFeature>,
    pub features: usize,
    /// Features per height note, and the first value seen for it.
    pub height_notes: std::collections::BTreeMap<HeightNote, (usize, String)>,
}

impl ImportReport {
    /// One line per height note: how many, what was done, an example.
    pub fn height_summary(&self, default_height_m: f32) -> Vec<String> {
        self.height_notes
            .iter()
            .map(|(note, (n, example))| match note {
                HeightNote::MissingUsedLevels => {
                    format!("{n} heights missing → levels × {METRES_PER_LEVEL} m")
                }
                HeightNote::MissingUsedDefault => format!(
                    "{n} with neither height nor levels → default {default_height_m} m"
                ),
                HeightNote::NotPositive => format!(
                    "{n} negative or zero (e.g. {example}) → levels × {METRES_PER_LEVEL} m, else default {default_height_m} m"
                ),
                HeightNote::Unparseable => format!(
                    "{n} unparseable (e.g. '{example}') → levels × {METRES_PER_LEVEL} m, else default {default_height_m} m"
                ),
                HeightNote::WithUnit => {
                    format!("{n} written with a unit (e.g. '{example}') → read as metres")
                }
            })
            .collect()
    }
}

/// A `height` property as written.
enum HeightValue {
    Metres(f64),
    WithUnit(f64),
    Bad(String),
}

fn height_value(value: &serde_json::Value) -> HeightValue {
    match value {
        serde_json::Value::Number(n) => n
            .as_f64()
            .map_or_else(|| HeightValue::Bad(n.to_string()), HeightValue::Metres),
        serde_json::Value::String(s) => {
            let t = s.trim();
            // "NaN" and "inf" parse as numbers but are no height.
            if let Ok(h) = t.parse::<f64>() {
                return if h.is_finite() {
                    HeightValue::Metres(h)
                } else {
                    HeightValue::Bad(s.clone())
                };
            }
            ["metres", "meters", "米", "m"]
                .iter()
                .find_map(|unit| t.strip_suffix(unit))
                .and_then(|n| n.trim().parse::<f64>().ok().filter(|h| h.is_finite()))
                .map_or_else(|| HeightValue::Bad(s.clone()), HeightValue::WithUnit)
        }
        other => HeightValue::Bad(other.to_string()),
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{path} is not valid GeoJSON (line {line}, column {column}): {reason}")]
    Json {
        path: String,
        line: usize,
        column: usize,
        reason: String,
    },
    #[error("{path} is empty")]
    Empty { path: String },
    #[error("{path}: the FeatureCollection has no features")]
    NoFeatures { path: String },
    #[error("{path}: expected a FeatureCollection, found type {found:?}")]
    NotFeatureCollection { path: String, found: String },
    #[error("{path}: none of its {features} features is a usable building footprint{first}")]
    NoBuildings {
        path: String,
        features: usize,
        first: String,
    },
    #[error("{path}: none of its {features} features is a usable area boundary{first}")]
    NoAreas {
        path: String,
        features: usize,
        first: String,
    },
}

#[derive(Deserialize)]
pub(super) struct Collection<'a> {
    #[serde(rename = "type")]
    kind: String,
    #[serde(borrow, default)]
    pub(super) features: Vec<&'a RawValue>,
}

#[derive(Deserialize)]
pub(super) struct Feature<'a> {
    #[serde(default)]
    pub(super) id: Option<serde_json::Value>,
    #[serde(borrow)]
    pub(super) geometry: Option<Geometry<'a>>,
    #[serde(default)]
    pub(super) properties: Option<serde_json::Map<String, serde_json::Value>>,
}

#[derive(Deserialize)]
pub(super) struct Geometry<'a> {
    #[serde(rename = "type")]
    pub(super) kind: String,
    #[serde(borrow)]
    coordinates: &'a RawValue,
}

pub(super) type Ring = Vec<Vec<f64>>;

impl Geometry<'_> {
    /// The polygons of a Polygon or MultiPolygon, as GeoJSON rings; `what`
    /// names the kind of feature expected, for the message.
    pub(super) fn polygons(&self, what: &str) -> Result<Vec<Vec<Ring>>, String> {
        let polygons: Vec<Vec<Ring>> = match self.kind.as_str() {
            "Polygon" => vec![
                serde_json::from_str(self.coordinates.get())
                    .map_err(|e| format!("bad Polygon coordinates: {e}"))?,
            ],
            "MultiPolygon" => serde_json::from_str(self.coordinates.get())
                .map_err(|e| format!("bad MultiPolygon coordinates: {e}"))?,
            other => return Err(format!("geometry type {other} is not {what}")),
        };
        if polygons.iter().all(Vec::is_empty) {
            return Err("polygon has no rings".to_owned());
        }
        Ok(polygons)
    }
}

/// Parses a FeatureCollection's outline: empty text, bad JSON, another
/// type and no features are errors naming `name`.
pub(super) fn read_collection<'a>(
    text: &'a str,
    name: &str,
) -> Result<Collection<'a>, ImportError> {
    if text.trim().is_empty() {
        return Err(ImportError::Empty {
            path: name.to_owned(),
        });
    }
    let collection: Collection<'_> = serde_json::from_str(text).map_err(|e| ImportError::Json {
        path: name.to_owned(),
        line: e.line(),
        column: e.column(),
        reason: e.to_string(),
    })?;
    if collection.kind != "FeatureCollection" {
        return Err(ImportError::NotFeatureCollection {
            path: name.to_owned(),
            found: collection.kind,
        });
    }
    if collection.features.is_empty() {
        return Err(ImportError::NoFeatures {
            path: name.to_owned(),
        });
    }
    Ok(collection)
}

/// Reads a file to text; the error names it.
pub(super) fn read_text(path: &Path) -> Result<String, ImportError> {
    std::fs::read_to_string(path).map_err(|source| ImportError::Io {
        path: path.display().to_string(),
        source,
    })
}

impl ImportedBuilding {
    /// Outer ring as (lon, lat) pairs, without the closing repeat.
    pub fn outer_ring(&self) -> Vec<[f64; 2]> {
        let coords = &self.polygon.exterior().0;
        coords[..coords.len().saturating_sub(1)]
            .iter()
            .map(|c| [c.x, c.y])
            .collect()
    }
}

/// Reads and parses a GeoJSON file of buildings.
pub fn import_file(path: &Path, options: &ImportOptions) -> Result<ImportReport, ImportError> {
    let text = read_text(path)?;
    import_str(&text, &path.display().to_string(), options)
}

/// Parses GeoJSON text; `name` is used in messages.
pub fn import_str(
    text: &str,
    name: &str,
    options: &ImportOptions,
) -> Result<ImportReport, ImportError> {
    let collection = read_collection(text, name)?;
    let mut report = ImportReport {
        features: collection.features.len(),
        ..ImportReport::default()
    };
    // Features parse independently: spread them over the cores.
    let indexed: Vec<(usize, &RawValue)> =
        collection.features.iter().copied().enumerate().collect();
    let parsed = super::parallel::map_chunks("geojson", &indexed, |part| {
        part.iter()
            .map(|&(index, raw)| (index, parse_feature(index, raw.get(), options)))
            .collect::<Vec<_>>()
    });
    for (index, result) in parsed.into_iter().flatten() {
        match result {
            Ok((mut parts, note)) => {
                report.buildings.append(&mut parts);
                if let Some((note, example)) = note {
                    report.height_notes.entry(note).or_insert((0, example)).0 += 1;
                }
            }
            Err(reason) => report.skipped.push(SkippedFeature { index, reason }),
        }
    }
    if report.buildings.is_empty() {
        return Err(ImportError::NoBuildings {
            path: name.to_owned(),
            features: report.features,
            first: first_skipped(&report.skipped),
        });
    }
    Ok(report)
}

/// " (feature i: reason)" for the first skipped feature, for the message
/// of a file none of whose features could be used.
pub(super) fn first_skipped(skipped: &[SkippedFeature]) -> String {
    skipped
        .first()
        .map(|s| format!(" (feature {}: {})", s.index, s.reason))
        .unwrap_or_default()
}

/// A JSON value as text (a string without its quotes).
pub(super) fn text_of(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A feature's buildings (a part per polygon) and its height note.
type Parsed = (Vec<ImportedBuilding>, Option<(HeightNote, String)>);

fn parse_feature(index: usize, json: &str, options: &ImportOptions) -> Result<Parsed, String> {
    let feature: Feature<'_> =
        serde_json::from_str(json).map_err(|e| format!("not a GeoJSON feature: {e}"))?;
    let geometry = feature.geometry.ok_or("feature has no geometry")?;
    let polygons = geometry.polygons("a building footprint")?;
    let props = feature.properties.unwrap_or_default();
    let (a, note) = attributes(&props, feature.id.as_ref(), options)?;
    let mut parts = Vec::with_capacity(polygons.len());
    for rings in polygons {
        let mut rings = rings.iter().map(|r| line_string(r, options.crs));
        let Some(exterior) = rings.next().transpose()? else {
            continue;
        };
        // A broken hole loses the hole, not the building.
        let interiors = rings.filter_map(Result::ok).collect();
        parts.push(a.building(index, geo_types::Polygon::new(exterior, interiors)));
    }
    Ok((parts, note))
}

/// What a building's properties (GeoJSON properties, OSM tags) say about
/// it, the same for every part.
#[derive(Clone, Debug)]
pub(super) struct Attributes {
    pub(super) height_m: f32,
    pub(super) height_source: HeightSource,
    pub(super) levels: Option<u16>,
    pub(super) name: Option<String>,
    pub(super) address: Option<String>,
    pub(super) from_osm: bool,
    pub(super) source_code: Option<String>,
}

impl Attributes {
    pub(super) fn building(
        &self,
        index: usize,
        polygon: geo_types::Polygon<f64>,
    ) -> ImportedBuilding {
        ImportedBuilding {
            feature_index: index,
            polygon,
            height_m: self.height_m,
            height_source: self.height_source,
            levels: self.levels,
            name: self.name.clone(),
            address: self.address.clone(),
            from_osm: self.from_osm,
            source_code: self.source_code.clone(),
        }
    }
}

/// Height (with its fallback note), levels, name, address and code from a
/// building's properties; `id` is the feature's id.
pub(super) fn attributes(
    props: &serde_json::Map<String, serde_json::Value>,
    id: Option<&serde_json::Value>,
    options: &ImportOptions,
) -> Result<(Attributes, Option<(HeightNote, String)>), String> {
    let levels = ["building:levels", "levels", "floors"]
        .iter()
        .find_map(|k| props.get(*k).and_then(number))
        .filter(|l| *l > 0.0 && *l < 300.0)
        .map(|l| l.round() as u16);
    let fallback = || match levels {
        Some(l) => (f32::from(l) * METRES_PER_LEVEL, HeightSource::Levels),
        None => (options.default_height_m, HeightSource::Default),
    };
    // OSM writes 0 for "unknown": fall back to levels as if it were missing.
    let (height_m, height_source, note) = match props.get("height").map(height_value) {
        Some(HeightValue::Metres(h) | HeightValue::WithUnit(h)) if h >= 1000.0 => {
            return Err(format!("height {h} m is out of range"));
        }
        Some(HeightValue::Metres(h)) if h > 0.0 => (h as f32, HeightSource::Height, None),
        Some(HeightValue::WithUnit(h)) if h > 0.0 => (
            h as f32,
            HeightSource::Height,
            Some((
                HeightNote::WithUnit,
                props.get("height").map(text_of).unwrap_or_default(),
            )),
        ),
        Some(HeightValue::Metres(h) | HeightValue::WithUnit(h)) => {
            let (m, source) = fallback();
            (m, source, Some((HeightNote::NotPositive, h.to_string())))
        }
        Some(HeightValue::Bad(text)) => {
            let (m, source) = fallback();
            (m, source, Some((HeightNote::Unparseable, text)))
        }
        None => {
            let (m, source) = fallback();
            let note = match source {
                HeightSource::Levels => HeightNote::MissingUsedLevels,
                _ => HeightNote::MissingUsedDefault,
            };
            (m, source, Some((note, String::new())))
        }
    };
    let text = |keys: &[&str]| {
        keys.iter()
            .find_map(|k| props.get(*k).and_then(|v| v.as_str()).map(str::to_owned))
    };
    let name = text(&["name:zh", "name"]);
    let address = match (
        text(&["addr:street", "addr_street"]),
        text(&["addr:housenumber", "addr_housenumber"]),
    ) {
        (Some(street), Some(number)) => Some(format!("{street} {number}")),
        (Some(street), None) => Some(street),
        _ => text(&["address"]),
    };
    let from_osm = props.contains_key("osm_id")
        || text(&["source"]).is_some_and(|s| s.contains("openstreetmap"));
    let osm = props.get("osm_id").and_then(scalar).map(|id| {
        let kind = match text(&["osm_type"]).as_deref() {
            Some("way") | Some("w") => "w",
            Some("node") | Some("n") => "n",
            // Relations, and multipolygons made from them.
            Some(_) => "r",
            None => "w",
        };
        format!("OSM-{kind}{id}")
    });
    let source_code = ["code", "building_code"]
        .iter()
        .find_map(|k| props.get(*k).and_then(scalar))
        .or(osm)
        .or_else(|| id.and_then(scalar));
    Ok((
        Attributes {
            height_m,
            height_source,
            levels,
            name,
            address,
            from_osm,
            source_code,
        },
        note,
    ))
}

/// A number or a non-blank string as trimmed text (codes and ids).
pub(super) fn scalar(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A GeoJSON ring → WGS84 line string, consecutive duplicates removed.
fn line_string(ring: &Ring, crs: Crs) -> Result<geo_types::LineString<f64>, String> {
    let points = positions(ring, crs)?;
    if let Some((i, j)) = self_intersection(&points) {
        return Err(format!(
            "ring crosses itself (edge {i} meets edge {j}): a bow-tie, not a footprint"
        ));
    }
    Ok(geo_types::LineString::new(points))
}

/// A GeoJSON ring's positions in WGS84, consecutive duplicates and the
/// closing repeat removed; fewer than 3 distinct ones is an error.
pub(super) fn positions(ring: &Ring, crs: Crs) -> Result<Vec<geo_types::Coord<f64>>, String> {
    let mut points: Vec<geo_types::Coord<f64>> = Vec::with_capacity(ring.len());
    for (i, position) in ring.iter().enumerate() {
        let (lon, lat) = match position.as_slice() {
            [lon, lat, ..] => (*lon, *lat),
            _ => return Err(format!("position {i} has fewer than 2 numbers")),
        };
        if !(-180.0..=180.0).contains(&lon) || !(-90.0..=90.0).contains(&lat) {
            return Err(format!(
                "position {i} ({lon}, {lat}) is not a lon/lat in degrees"
            ));
        }
        let [x, y] = match crs {
            Crs::Wgs84 => [lon, lat],
            Crs::Gcj02 => gcj02_to_wgs84(lon, lat),
        };
        let c = geo_types::coord! { x: x, y: y };
        if points.last() != Some(&c) {
            points.push(c);
        }
    }
    if points.len() > 1 && points.first() == points.last() {
        points.pop();
    }
    if points.len() < 3 {
        return Err(format!(
            "ring has {} distinct positions, need 3",
            points.len()
        ));
    }
    Ok(points)
}

/// The first pair (lowest edge numbers) of non-adjacent edges of a closed
/// ring that properly cross (edge k runs from point k to point k+1, the
/// last back to 0). A sweep over the edges sorted by west end: only edges
/// whose x ranges overlap are compared, so boundary rings of 10⁴ points
/// take milliseconds.
pub(super) fn self_intersection(points: &[geo_types::Coord<f64>]) -> Option<(usize, usize)> {
    let n = points.len();
    let edge = |k: usize| (points[k], points[(k + 1) % n]);
    let orient = |a: geo_types::Coord<f64>, b: geo_types::Coord<f64>, c: geo_types::Coord<f64>| {
        let v = (b.x - a.x) * (c.y - a.y) - (b.y - a.y) * (c.x - a.x);
        if v.abs() < 1e-18 {
            0
        } else if v > 0.0 {
            1
        } else {
            -1
        }
    };
    let span = |k: usize| {
        let (a, b) = edge(k);
        (a.x.min(b.x), a.x.max(b.x), a.y.min(b.y), a.y.max(b.y))
    };
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| span(a).0.total_cmp(&span(b).0));
    let mut first: Option<(usize, usize)> = None;
    for (oi, &i) in order.iter().enumerate() {
        let si = span(i);
        for &j in &order[oi + 1..] {
            let sj = span(j);
            if sj.0 > si.1 {
                break;
            }
            let (lo, hi) = (i.min(j), i.max(j));
            // Neighbours share a point; the first and last edges share 0.
            if hi - lo < 2 || (lo == 0 && hi == n - 1) || sj.2 > si.3 || si.2 > sj.3 {
                continue;
            }
            let ((a, b), (c, d)) = (edge(lo), edge(hi));
            let (o1, o2, o3, o4) = (
                orient(a, b, c),
                orient(a, b, d),
                orient(c, d, a),
                orient(c, d, b),
            );
            // A proper crossing only: rings that merely touch themselves
            // at a point (common in real data) still tessellate.
            if o1 * o2 < 0 && o3 * o4 < 0 && first.is_none_or(|f| (lo, hi) < f) {
                first = Some((lo, hi));
            }
        }
    }
    first
}

/// A number, or a string that starts with one ("25", "25 m").
fn number(value: &serde_json::Value) -> Option<f64> {
    match value {
        serde_json::Value::Number(n) => n.as_f64(),
        serde_json::Value::String(s) => {
            let head: String = s
                .trim()
                .chars()
                .take_while(|c| c.is_ascii_digit() || *c == '.')
                .collect();
            head.parse().ok()
        }
        _ => None,
    }
}
