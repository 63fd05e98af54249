//! OpenStreetMap import (`--osm FILE.osm.pbf`, the Geofabrik extract
//! format): buildings (closed ways and multipolygon relations, with
//! `height`, `building:levels`, names and `addr:*`), administrative
//! boundaries (`boundary=administrative` relations by `admin_level`) and
//! water areas. Blobs decode in parallel on named threads; the file's
//! framing is checked first, so a truncated file or a corrupt blob is an
//! error naming the file, the blob and its byte offset. Relations whose
//! members the extract lacks are skipped and counted.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use osmpbf::{BlobDecode, BlobReader, PrimitiveBlock, RelMemberType};

use super::LocalFrame;
use super::boundaries::{BoundaryReport, ImportedArea, local_outline};
use super::geojson::{ImportOptions, ImportReport, attributes};
use super::outline::AreaLocator;
use crate::model::AreaPolygon;

/// Which admin levels become districts and streets.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum AdminLevels {
    /// The coarsest level that splits the buildings into two or more areas
    /// is the districts', the next finer level with more areas the streets'.
    #[default]
    Auto,
    Fixed {
        district: u8,
        street: Option<u8>,
    },
}

impl std::str::FromStr for AdminLevels {
    type Err = String;

    fn from_str(text: &str) -> Result<AdminLevels, String> {
        if text == "auto" {
            return Ok(AdminLevels::Auto);
        }
        let level = |t: &str| {
            t.trim()
                .parse::<u8>()
                .ok()
                .filter(|l| (1..=12).contains(l))
                .ok_or_else(|| format!("{t:?} is not an admin_level (1–12)"))
        };
        match text.split_once(',') {
            Some((d, s)) => Ok(AdminLevels::Fixed {
                district: level(d)?,
                street: Some(level(s)?),
            }),
            None => Ok(AdminLevels::Fixed {
                district: level(text)?,
                street: None,
            }),
        }
    }
}

#[derive(Clone, Debug, Default)]
pub struct OsmOptions {
    pub buildings: ImportOptions,
    pub admin_levels: AdminLevels,
}

#[derive(Debug, thiserror::Error)]
pub enum OsmError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error(
        "{path} is truncated: blob {blob} at byte {offset} needs {needed} bytes, the file ends after {left}"
    )]
    Truncated {
        path: String,
        blob: usize,
        offset: u64,
        needed: u64,
        left: u64,
    },
    #[error("{path}: blob {blob} at byte {offset} is corrupt: {reason}")]
    CorruptBlob {
        path: String,
        blob: usize,
        offset: u64,
        reason: String,
    },
    #[error("{path} is not an OpenStreetMap PBF file: {reason}")]
    NotPbf { path: String, reason: String },
    #[error("{path}: no buildings among its {ways} ways and {relations} relations")]
    NoBuildings {
        path: String,
        ways: usize,
        relations: usize,
    },
}

/// How far the import is, for a progress line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Progress {
    pub stage: &'static str,
    pub done: usize,
    pub total: usize,
    pub nodes: usize,
    pub ways: usize,
    pub relations: usize,
}

/// What the extract held, counted.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OsmCounts {
    pub blobs: usize,
    pub nodes: usize,
    pub ways: usize,
    pub relations: usize,
    /// Ways tagged `building` (any value but `no`).
    pub building_ways: usize,
    /// Multipolygon relations tagged `building`.
    pub building_relations: usize,
    /// Buildings (ways and relations) with a `height` or `building:levels`.
    pub with_height_or_levels: usize,
    pub with_levels: usize,
    pub with_height: usize,
    /// `boundary=administrative` relations per `admin_level`.
    pub admin_relations: BTreeMap<u8, usize>,
    /// …of which complete (every member way in the file, rings closed).
    pub admin_complete: BTreeMap<u8, usize>,
    pub water_areas: usize,
    /// What was left out, per reason: how many and the first element.
    pub skipped: BTreeMap<String, (usize, String)>,
}

impl OsmCounts {
    fn skip(&mut self, reason: &str, element: String) {
        self.skipped
            .entry(reason.to_owned())
            .or_insert((0, element))
            .0 += 1;
    }
}

/// An imported extract.
#[derive(Debug, Default)]
pub struct OsmImport {
    pub path: String,
    pub buildings: ImportReport,
    /// Complete administrative areas per level.
    pub boundaries: BTreeMap<u8, Vec<ImportedArea>>,
    /// Water polygons (lon, lat): each an exterior then its holes.
    pub water: Vec<Vec<Vec<[f64; 2]>>>,
    pub counts: OsmCounts,
    /// The levels chosen for districts and streets.
    pub district_level: Option<u8>,
    pub street_level: Option<u8>,
}

impl OsmImport {
    /// The districts (and streets) at the chosen levels, as boundary files.
    pub fn area_reports(&self) -> (Option<BoundaryReport>, Option<BoundaryReport>) {
        let report = |level: Option<u8>| {
            let areas = self.boundaries.get(&level?)?.clone();
            Some(BoundaryReport {
                path: format!("{} admin_level={}", self.path, level?),
                features: areas.len(),
                areas,
                ..BoundaryReport::default()
            })
        };
        (report(self.district_level), report(self.street_level))
    }
}

/// What one block holds that the import needs.
#[derive(Default)]
struct Extract {
    /// (id, decimicro lon, decimicro lat).
    nodes: Vec<(i64, i32, i32)>,
    ways: Vec<WayRec>,
    relations: Vec<RelRec>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Building,
    BuildingOther,
    Water,
    Admin(u8),
    Other,
}

struct WayRec {
    id: i64,
    refs: Vec<i64>,
    kind: Kind,
    tags: Vec<(String, String)>,
}

struct RelRec {
    id: i64,
    kind: Kind,
    tags: Vec<(String, String)>,
    /// Way members: (way id, outer?).
    ways: Vec<(i64, bool)>,
}

/// Tags kept for buildings and areas.
const KEPT_TAGS: [&str; 12] = [
    "height",
    "building:levels",
    "min_height",
    "name",
    "name:zh",
    "name:en",
    "addr:street",
    "addr:housenumber",
    "ref",
    "ref:adcode",
    "adcode",
    "admin_level",
];

fn classify<'a>(
    tags: impl Iterator<Item = (&'a str, &'a str)>,
    relation: bool,
) -> (Kind, Vec<(String, String)>) {
    let mut kind = Kind::Other;
    let mut kept = Vec::new();
    let (mut multipolygon, mut boundary, mut admin_level) = (!relation, false, None);
    for (k, v) in tags {
        match (k, v) {
            ("building", v) if v != "no" => kind = Kind::Building,
            ("natural", "water")
            | ("waterway", "riverbank")
            | ("landuse", "reservoir" | "basin")
                if kind != Kind::Building =>
            {
                kind = Kind::Water
            }
            ("type", "multipolygon") => multipolygon = true,
            ("boundary", "administrative") => boundary = true,
            ("admin_level", v) => admin_level = v.trim().parse::<u8>().ok(),
            _ => {}
        }
        if KEPT_TAGS.contains(&k) {
            kept.push((k.to_owned(), v.to_owned()));
        }
    }
    if relation {
        if boundary && let Some(level) = admin_level {
            return (Kind::Admin(level), kept);
        }
        // A building relation of another type (type=building: a 3D
        // building of parts) is counted but has no footprint of its own.
        if !multipolygon && kind == Kind::Building {
            return (Kind::BuildingOther, kept);
        }
        if !multipolygon {
            return (Kind::Other, kept);
        }
    }
    (kind, kept)
}

fn extract(block: &PrimitiveBlock) -> Extract {
    let mut out = Extract::default();
    for group in block.groups() {
        for node in group.dense_nodes() {
            out.nodes
                .push((node.id(), node.decimicro_lon(), node.decimicro_lat()));
        }
        for node in group.nodes() {
            out.nodes
                .push((node.id(), node.decimicro_lon(), node.decimicro_lat()));
        }
        for way in group.ways() {
            let (kind, tags) = classify(way.tags(), false);
            out.ways.push(WayRec {
                id: way.id(),
                refs: way.refs().collect(),
                kind,
                tags,
            });
        }
        for relation in group.relations() {
            let (kind, tags) = classify(relation.tags(), true);
            let ways = relation
                .members()
                .filter(|m| m.member_type == RelMemberType::Way)
                .map(|m| (m.member_id, m.role().map_or(true, |r| r != "inner")))
                .collect();
            out.relations.push(RelRec {
                id: relation.id(),
                kind,
                tags,
                ways,
            });
        }
    }
    out
}

/// One blob's place in the file.
#[derive(Clone, Copy, Debug)]
struct Frame {
    offset: u64,
}

/// Walks the blob framing (a 4-byte length, a BlobHeader with the data's
/// size, the data) without decoding: each blob's offset, or where the file
/// stops short.
fn frames(path: &Path) -> Result<Vec<Frame>, OsmError> {
    let name = path.display().to_string();
    let io = |source| OsmError::Io {
        path: name.clone(),
        source,
    };
    let mut file = std::fs::File::open(path).map_err(io)?;
    let len = file.metadata().map_err(io)?.len();
    let mut frames = Vec::new();
    let mut at = 0u64;
    while at < len {
        let blob = frames.len();
        let truncated = |needed: u64| OsmError::Truncated {
            path: name.clone(),
            blob,
            offset: at,
            needed,
            left: len - at,
        };
        if len - at < 4 {
            return Err(truncated(4));
        }
        file.seek(SeekFrom::Start(at)).map_err(io)?;
        let mut size = [0u8; 4];
        file.read_exact(&mut size).map_err(io)?;
        let header_len = u64::from(u32::from_be_bytes(size));
        if header_len > 64 * 1024 {
            return Err(OsmError::CorruptBlob {
                path: name.clone(),
                blob,
                offset: at,
                reason: format!("a blob header of {header_len} bytes (at most 64 KiB)"),
            });
        }
        if len - at < 4 + header_len {
            return Err(truncated(4 + header_len));
        }
        let mut header = vec![0u8; header_len as usize];
        file.read_exact(&mut header).map_err(io)?;
        let data = header_data_size(&header).ok_or_else(|| OsmError::CorruptBlob {
            path: name.clone(),
            blob,
            offset: at,
            reason: "its header has no data size".to_owned(),
        })?;
        let needed = 4 + header_len + data;
        if len - at < needed {
            return Err(truncated(needed));
        }
        frames.push(Frame { offset: at });
        at += needed;
    }
    if frames.is_empty() {
        return Err(OsmError::NotPbf {
            path: name,
            reason: "the file is empty".to_owned(),
        });
    }
    Ok(frames)
}

/// `datasize` (field 3) of a protobuf BlobHeader.
fn header_data_size(mut bytes: &[u8]) -> Option<u64> {
    fn varint(bytes: &mut &[u8]) -> Option<u64> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let (&b, rest) = bytes.split_first()?;
            *bytes = rest;
            value |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Some(value);
            }
        }
        None
    }
    let mut size = None;
    while !bytes.is_empty() {
        let key = varint(&mut bytes)?;
        match (key >> 3, key & 7) {
            (3, 0) => size = Some(varint(&mut bytes)?),
            (_, 0) => {
                varint(&mut bytes)?;
            }
            (_, 2) => {
                let n = usize::try_from(varint(&mut bytes)?).ok()?;
                bytes = bytes.get(n..)?;
            }
            _ => return None,
        }
    }
    size
}

/// Blobs decoded per batch (bounds the compressed data held at once).
const BATCH: usize = 64;

/// Reads an extract. `progress` hears of each batch of blobs and stage.
pub fn import_osm(
    path: &Path,
    options: &OsmOptions,
    progress: &mut dyn FnMut(Progress),
) -> Result<OsmImport, OsmError> {
    let name = path.display().to_string();
    let frames = frames(path)?;
    let reader = BlobReader::from_path(path).map_err(|e| OsmError::Io {
        path: name.clone(),
        source: e.into(),
    })?;
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get().min(8));
    let mut counts = OsmCounts {
        blobs: frames.len(),
        ..OsmCounts::default()
    };
    let mut extracts: Vec<Extract> = Vec::new();
    let mut batch = Vec::with_capacity(BATCH);
    let mut blobs = reader.enumerate().peekable();
    let corrupt = |blob: usize, reason: String| OsmError::CorruptBlob {
        path: name.clone(),
        blob,
        offset: frames.get(blob).map_or(0, |f| f.offset),
        reason,
    };
    while blobs.peek().is_some() {
        batch.clear();
        for (i, blob) in blobs.by_ref().take(BATCH) {
            batch.push((i, blob.map_err(|e| corrupt(i, e.to_string()))?));
        }
        if batch
            .first()
            .is_some_and(|(i, b)| *i == 0 && !matches!(b.get_type(), osmpbf::BlobType::OsmHeader))
        {
            return Err(OsmError::NotPbf {
                path: name.clone(),
                reason: "its first blob is not an OSMHeader".to_owned(),
            });
        }
        let next = std::sync::atomic::AtomicUsize::new(0);
        let results: Vec<Result<Vec<(usize, Extract)>, OsmError>> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..workers)
                .filter_map(|w| {
                    std::thread::Builder::new()
                        .name(format!("osm-decode-{w}"))
                        .spawn_scoped(scope, || {
                            let mut out = Vec::new();
                            loop {
                                let k = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                                let Some((i, blob)) = batch.get(k) else {
                                    return Ok(out);
                                };
                                match blob.decode() {
                                    Ok(BlobDecode::OsmData(block)) => {
                                        out.push((*i, extract(&block)))
                                    }
                                    Ok(_) => {}
                                    Err(e) => return Err(corrupt(*i, e.to_string())),
                                }
                            }
                        })
                        .ok()
                })
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join()
                        .unwrap_or_else(|_| Err(corrupt(0, "a decoder thread panicked".to_owned())))
                })
                .collect()
        });
        let mut decoded = Vec::new();
        for r in results {
            decoded.extend(r?);
        }
        decoded.sort_by_key(|(i, _)| *i);
        for (_, e) in decoded {
            counts.nodes += e.nodes.len();
            counts.ways += e.ways.len();
            counts.relations += e.relations.len();
            extracts.push(e);
        }
        progress(Progress {
            stage: "decoding",
            done: batch.last().map_or(0, |(i, _)| i + 1),
            total: frames.len(),
            nodes: counts.nodes,
            ways: counts.ways,
            relations: counts.relations,
        });
    }
    let mut import = assemble(name, extracts, counts, options, progress);
    if import.buildings.buildings.is_empty() {
        return Err(OsmError::NoBuildings {
            path: import.path,
            ways: import.counts.ways,
            relations: import.counts.relations,
        });
    }
    choose_levels(&mut import, options.admin_levels);
    Ok(import)
}

/// Node coordinates by id (sorted), looked up by binary search.
struct Nodes(Vec<(i64, i32, i32)>);

impl Nodes {
    fn get(&self, id: i64) -> Option<[f64; 2]> {
        let i = self.0.binary_search_by_key(&id, |n| n.0).ok()?;
        let (_, lon, lat) = self.0[i];
        Some([f64::from(lon) * 1e-7, f64::from(lat) * 1e-7])
    }
}

/// Joins ways (node id lists) end to end into closed rings.
fn join_rings(mut parts: Vec<Vec<i64>>) -> Result<Vec<Vec<i64>>, String> {
    let mut rings = Vec::new();
    while let Some(mut ring) = parts.pop() {
        while ring.first() != ring.last() || ring.len() < 4 {
            let Some(&end) = ring.last() else {
                return Err("an empty way".to_owned());
            };
            let Some(k) = parts
                .iter()
                .position(|p| p.first() == Some(&end) || p.last() == Some(&end))
            else {
                return Err("its ways do not close into a ring".to_owned());
            };
            let mut next = parts.swap_remove(k);
            if next.first() != Some(&end) {
                next.reverse();
            }
            ring.extend_from_slice(&next[1..]);
        }
        rings.push(ring);
    }
    Ok(rings)
}

fn coords(nodes: &Nodes, ring: &[i64]) -> Result<Vec<[f64; 2]>, i64> {
    let mut out: Vec<[f64; 2]> = ring
        .iter()
        .map(|&id| nodes.get(id).ok_or(id))
        .collect::<Result<_, _>>()?;
    // Open the ring (the GeoJSON side closes nothing either).
    if out.len() > 1 && out.first() == out.last() {
        out.pop();
    }
    Ok(out)
}

/// Outer rings with the inner rings inside each (by a point of the inner).
fn polygons_of(outers: Vec<Vec<[f64; 2]>>, inners: Vec<Vec<[f64; 2]>>) -> Vec<Vec<Vec<[f64; 2]>>> {
    // Degrees as f32 (about a metre): enough to tell which outer holds a
    // ring that lies wholly inside it.
    let inside = |ring: &[[f64; 2]], p: [f64; 2]| {
        let ring: Vec<[f32; 2]> = ring.iter().map(|q| [q[0] as f32, q[1] as f32]).collect();
        crate::model::ring_contains(&ring, [p[0] as f32, p[1] as f32])
    };
    let mut polygons: Vec<Vec<Vec<[f64; 2]>>> = outers.into_iter().map(|o| vec![o]).collect();
    for inner in inners {
        if let Some(p) = polygons.iter_mut().find(|p| inside(&p[0], inner[0])) {
            p.push(inner);
        }
    }
    polygons
}

fn tag<'a>(tags: &'a [(String, String)], keys: &[&str]) -> Option<&'a str> {
    keys.iter()
        .find_map(|k| tags.iter().find(|(t, _)| t == k).map(|(_, v)| v.as_str()))
}

fn assemble(
    path: String,
    extracts: Vec<Extract>,
    mut counts: OsmCounts,
    options: &OsmOptions,
    progress: &mut dyn FnMut(Progress),
) -> OsmImport {
    let mut nodes = Vec::with_capacity(counts.nodes);
    let mut ways = Vec::with_capacity(counts.ways);
    let mut relations = Vec::with_capacity(counts.relations);
    for e in extracts {
        nodes.extend(e.nodes);
        ways.extend(e.ways);
        relations.extend(e.relations);
    }
    nodes.sort_unstable_by_key(|n| n.0);
    let nodes = Nodes(nodes);
    let way_index: HashMap<i64, usize> = ways.iter().enumerate().map(|(i, w)| (w.id, i)).collect();
    let (n_nodes, n_ways, n_relations) = (counts.nodes, counts.ways, counts.relations);
    let mut step = |stage: &'static str, done: usize, total: usize| {
        progress(Progress {
            stage,
            done,
            total,
            nodes: n_nodes,
            ways: n_ways,
            relations: n_relations,
        });
    };
    step("assembling", 0, ways.len() + relations.len());
    let mut report = ImportReport::default();
    let mut water = Vec::new();
    let mut boundaries: BTreeMap<u8, Vec<ImportedArea>> = BTreeMap::new();
    // Ways that are a building relation's outer ring are not buildings of
    // their own as well.
    let relation_outers: HashSet<i64> = relations
        .iter()
        .filter(|r| r.kind == Kind::Building)
        .flat_map(|r| r.ways.iter().filter(|w| w.1).map(|w| w.0))
        .collect();
    let add_building = |report: &mut ImportReport,
                        counts: &mut OsmCounts,
                        polygons: Vec<Vec<Vec<[f64; 2]>>>,
                        tags: &[(String, String)],
                        code: String| {
        let props: serde_json::Map<String, serde_json::Value> = tags
            .iter()
            .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
            .collect();
        if props.contains_key("height") || props.contains_key("building:levels") {
            counts.with_height_or_levels += 1;
        }
        counts.with_height += usize::from(props.contains_key("height"));
        counts.with_levels += usize::from(props.contains_key("building:levels"));
        let (mut a, note) = match attributes(&props, None, &options.buildings) {
            Ok(a) => a,
            Err(reason) => {
                counts.skip(&reason, code);
                return;
            }
        };
        a.from_osm = true;
        a.source_code = Some(code);
        if let Some((note, example)) = note {
            report.height_notes.entry(note).or_insert((0, example)).0 += 1;
        }
        let index = report.features;
        report.features += 1;
        for rings in polygons {
            let mut rings = rings.into_iter().map(|r| {
                geo_types::LineString::new(
                    r.into_iter()
                        .map(|p| geo_types::coord! { x: p[0], y: p[1] })
                        .collect(),
                )
            });
            let Some(exterior) = rings.next() else {
                continue;
            };
            report
                .buildings
                .push(a.building(index, geo_types::Polygon::new(exterior, rings.collect())));
        }
    };
    for way in &ways {
        match way.kind {
            Kind::Building => counts.building_ways += 1,
            Kind::Water => {}
            _ => continue,
        }
        if way.kind == Kind::Building && relation_outers.contains(&way.id) {
            continue;
        }
        let what = format!("way {}", way.id);
        if way.refs.len() < 4 || way.refs.first() != way.refs.last() {
            counts.skip("a building or water way that is not closed", what);
            continue;
        }
        let ring = match coords(&nodes, &way.refs) {
            Ok(ring) => ring,
            Err(node) => {
                counts.skip(
                    "a way whose nodes the extract lacks",
                    format!("{what} (node {node})"),
                );
                continue;
            }
        };
        match way.kind {
            Kind::Building => add_building(
                &mut report,
                &mut counts,
                vec![vec![ring]],
                &way.tags,
                format!("OSM-w{}", way.id),
            ),
            _ => {
                counts.water_areas += 1;
                water.push(vec![ring]);
            }
        }
    }
    for (done, relation) in relations.iter().enumerate() {
        if done % 1024 == 0 {
            step(
                "assembling",
                ways.len() + done,
                ways.len() + relations.len(),
            );
        }
        match relation.kind {
            Kind::Building => counts.building_relations += 1,
            Kind::BuildingOther => {
                counts.building_relations += 1;
                counts.skip(
                    "a building relation that is no multipolygon (type=building: its parts have the footprints)",
                    format!("relation {}", relation.id),
                );
                continue;
            }
            Kind::Admin(level) => *counts.admin_relations.entry(level).or_insert(0) += 1,
            Kind::Water => {}
            Kind::Other => continue,
        }
        let what = format!("relation {}", relation.id);
        let missing = relation.ways.iter().find(|w| !way_index.contains_key(&w.0));
        if let Some((way, _)) = missing {
            counts.skip(
                "a relation whose member ways the extract lacks",
                format!("{what} (way {way})"),
            );
            continue;
        }
        let member_rings = |outer: bool| {
            let parts = relation
                .ways
                .iter()
                .filter(|w| w.1 == outer)
                .map(|w| ways[way_index[&w.0]].refs.clone())
                .collect();
            join_rings(parts)
        };
        let (outers, inners) = match (member_rings(true), member_rings(false)) {
            (Ok(o), Ok(i)) if !o.is_empty() => (o, i),
            (Err(reason), _) | (_, Err(reason)) => {
                counts.skip(
                    "a relation whose rings do not close",
                    format!("{what}: {reason}"),
                );
                continue;
            }
            _ => {
                counts.skip("a relation with no outer ring", what);
                continue;
            }
        };
        let to_coords = |rings: Vec<Vec<i64>>| -> Result<Vec<Vec<[f64; 2]>>, i64> {
            rings.iter().map(|r| coords(&nodes, r)).collect()
        };
        let (outers, inners) = match (to_coords(outers), to_coords(inners)) {
            (Ok(o), Ok(i)) => (o, i),
            (Err(node), _) | (_, Err(node)) => {
                counts.skip(
                    "a relation whose nodes the extract lacks",
                    format!("{what} (node {node})"),
                );
                continue;
            }
        };
        let polygons = polygons_of(outers, inners);
        match relation.kind {
            Kind::Building => add_building(
                &mut report,
                &mut counts,
                polygons,
                &relation.tags,
                format!("OSM-r{}", relation.id),
            ),
            Kind::Water => {
                counts.water_areas += 1;
                water.extend(polygons);
            }
            Kind::Admin(level) => {
                *counts.admin_complete.entry(level).or_insert(0) += 1;
                let name = tag(&relation.tags, &["name:zh", "name"])
                    .map_or_else(|| format!("r{}", relation.id), str::to_owned);
                boundaries.entry(level).or_default().push(ImportedArea {
                    feature_index: done,
                    code: tag(&relation.tags, &["ref:adcode", "adcode", "ref"])
                        .map_or_else(|| format!("r{}", relation.id), str::to_owned),
                    name,
                    name_en: tag(&relation.tags, &["name:en"]).map(str::to_owned),
                    parent_code: None,
                    polygons,
                });
            }
            Kind::Other | Kind::BuildingOther => {}
        }
    }
    step(
        "assembling",
        ways.len() + relations.len(),
        ways.len() + relations.len(),
    );
    // Codes repeat across levels only by accident; within one they must not.
    for areas in boundaries.values_mut() {
        let mut seen = HashSet::new();
        for a in areas.iter_mut() {
            if !seen.insert(a.code.clone()) {
                a.code = format!("{}-{}", a.code, a.feature_index);
            }
        }
    }
    OsmImport {
        path,
        buildings: report,
        boundaries,
        water,
        counts,
        district_level: None,
        street_level: None,
    }
}

/// Chooses the district and street levels (see [`AdminLevels`]).
fn choose_levels(import: &mut OsmImport, levels: AdminLevels) {
    if let AdminLevels::Fixed { district, street } = levels {
        import.district_level = import
            .boundaries
            .contains_key(&district)
            .then_some(district);
        import.street_level = street.filter(|s| import.boundaries.contains_key(s));
        return;
    }
    // How many areas of each level hold buildings (a sample of them).
    let Some(extent) = super::assemble::import_extent(&import.buildings) else {
        return;
    };
    let frame = LocalFrame::new((extent[0] + extent[2]) / 2.0, (extent[1] + extent[3]) / 2.0);
    let step = (import.buildings.buildings.len() / 4000).max(1);
    let points: Vec<[f32; 2]> = import
        .buildings
        .buildings
        .iter()
        .step_by(step)
        .map(|b| {
            let ring = b.outer_ring();
            let n = ring.len().max(1) as f64;
            let (x, y) = ring
                .iter()
                .fold((0.0, 0.0), |(x, y), p| (x + p[0], y + p[1]));
            frame.to_local(x / n, y / n)
        })
        .collect();
    let held: Vec<(u8, usize)> = import
        .boundaries
        .iter()
        .map(|(level, areas)| {
            let outlines: Vec<Vec<AreaPolygon>> =
                areas.iter().map(|a| local_outline(a, &frame)).collect();
            let locator = AreaLocator::new(outlines.iter().map(Vec::as_slice));
            let hit: HashSet<usize> = points.iter().filter_map(|p| locator.locate(*p)).collect();
            (*level, hit.len())
        })
        .filter(|(_, n)| *n > 0)
        .collect();
    let district = held
        .iter()
        .find(|(_, n)| *n >= 2)
        .or_else(|| held.last())
        .copied();
    import.district_level = district.map(|d| d.0);
    import.street_level = district.and_then(|(level, n)| {
        held.iter()
            .find(|(l, m)| *l > level && *m > n)
            .map(|(l, _)| *l)
    });
}
