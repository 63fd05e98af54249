//! `--hazards FILE.geojson`: hazard bodies as Polygon features. Properties:
//! `name`, `type` (滑坡 / 危岩 / 崩塌 / 泥石流 or the English names),
//! `thickness_m`, optional `code`, `threat_zone` (a ring of [lon, lat]),
//! `residents` (shared over the buildings in the threat zone) and `points`
//! ([{"code", "lon", "lat"}]; one point at the body's centre when absent)
//! and `thresholds` (any of [`Thresholds`]' fields, e.g. `{"velocity_mm_d":
//! [3, 10, 20]}`).
//! A feature that cannot be a body (not a polygon, a ring that crosses
//! itself, no terrain under it, a bad property) is named by its index and
//! the reason and skipped; the others are kept.

use std::path::Path;

use serde_json::Value;

use super::LocalFrame;
use super::gcj02::gcj02_to_wgs84;
use crate::model::{
    City, HAZARD_SENSOR_BASE, Hazard, HazardId, HazardKind, MonitoringPoint, Party, PointKind,
    SensorId, Threatened, Thresholds, ring_area, ring_contains,
};

#[derive(Debug, thiserror::Error)]
pub enum HazardImportError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{path} is not valid GeoJSON: {reason}")]
    Json { path: String, reason: String },
    #[error("{path}: expected a FeatureCollection")]
    NotFeatureCollection { path: String },
}

/// What an import kept and what it skipped (feature index, reason).
#[derive(Debug, Default)]
pub struct HazardImport {
    pub added: Vec<HazardId>,
    pub skipped: Vec<(usize, String)>,
}

/// Whether two segments cross (touching at a shared end does not count).
fn segments_cross(a: [f32; 2], b: [f32; 2], c: [f32; 2], d: [f32; 2]) -> bool {
    let orient = |p: [f32; 2], q: [f32; 2], r: [f32; 2]| {
        (q[0] - p[0]) * (r[1] - p[1]) - (q[1] - p[1]) * (r[0] - p[0])
    };
    let (o1, o2) = (orient(a, b, c), orient(a, b, d));
    let (o3, o4) = (orient(c, d, a), orient(c, d, b));
    o1 * o2 < 0.0 && o3 * o4 < 0.0
}

/// The first pair of edges of a ring that cross, if any.
pub fn self_intersection(ring: &[[f32; 2]]) -> Option<(usize, usize)> {
    let n = ring.len();
    for i in 0..n {
        for j in i + 2..n {
            if i == 0 && j == n - 1 {
                continue;
            }
            if segments_cross(ring[i], ring[(i + 1) % n], ring[j], ring[(j + 1) % n]) {
                return Some((i, j));
            }
        }
    }
    None
}

fn ring_of(
    value: &Value,
    to_local: &dyn Fn(f64, f64) -> [f32; 2],
) -> Result<Vec<[f32; 2]>, String> {
    let coords = value
        .as_array()
        .ok_or("a ring must be an array of [lon, lat]")?;
    let mut ring = Vec::with_capacity(coords.len());
    for (k, c) in coords.iter().enumerate() {
        let pair = c.as_array().filter(|a| a.len() >= 2);
        let (Some(lon), Some(lat)) = (
            pair.and_then(|a| a[0].as_f64()),
            pair.and_then(|a| a[1].as_f64()),
        ) else {
            return Err(format!("position {k} is not [lon, lat]"));
        };
        ring.push(to_local(lon, lat));
    }
    if ring.len() > 1 && ring.first() == ring.last() {
        ring.pop();
    }
    if ring.len() < 3 {
        return Err(format!(
            "a ring of {} positions is not a polygon",
            ring.len()
        ));
    }
    if ring_area(&ring) < 0.0 {
        ring.reverse();
    }
    Ok(ring)
}

/// Reads `path` and appends its bodies to `city` (`gcj02`: the file's
/// coordinates are GCJ-02).
pub fn import_hazards(
    path: &Path,
    city: &mut City,
    gcj02: bool,
) -> Result<HazardImport, HazardImportError> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| HazardImportError::Io {
        path: name.clone(),
        source,
    })?;
    let json: Value = serde_json::from_str(&text).map_err(|e| HazardImportError::Json {
        path: name.clone(),
        reason: e.to_string(),
    })?;
    let features = json
        .get("features")
        .and_then(Value::as_array)
        .filter(|_| json.get("type").and_then(Value::as_str) == Some("FeatureCollection"))
        .ok_or(HazardImportError::NotFeatureCollection { path: name })?;
    let [olon, olat] = city.bounds.origin_lon_lat;
    let frame = LocalFrame::new(olon, olat);
    let to_local = |lon: f64, lat: f64| {
        let [lon, lat] = if gcj02 {
            gcj02_to_wgs84(lon, lat)
        } else {
            [lon, lat]
        };
        frame.to_local(lon, lat)
    };
    let mut out = HazardImport::default();
    let mut sensor = city
        .hazards
        .iter()
        .flat_map(|h| h.points.iter().map(|p| p.sensor.0))
        .max()
        .unwrap_or(HAZARD_SENSOR_BASE);
    for (index, f) in features.iter().enumerate() {
        match body_of(f, city, &to_local, &mut sensor) {
            Ok(h) => {
                out.added.push(h.id);
                city.hazards.push(h);
            }
            Err(reason) => out.skipped.push((index, reason)),
        }
    }
    Ok(out)
}

fn body_of(
    f: &Value,
    city: &City,
    to_local: &dyn Fn(f64, f64) -> [f32; 2],
    sensor: &mut u32,
) -> Result<Hazard, String> {
    let geometry = f.get("geometry").ok_or("no geometry")?;
    if geometry.get("type").and_then(Value::as_str) != Some("Polygon") {
        return Err("the geometry is not a Polygon".into());
    }
    let outer = geometry
        .get("coordinates")
        .and_then(|c| c.get(0))
        .ok_or("a Polygon without coordinates")?;
    let body = ring_of(outer, to_local)?;
    if let Some((i, j)) = self_intersection(&body) {
        return Err(format!("its outline crosses itself (edges {i} and {j})"));
    }
    let t = &city.terrain;
    let (min, max) = (
        t.origin_m,
        [t.origin_m[0] + t.size_m()[0], t.origin_m[1] + t.size_m()[1]],
    );
    let on_terrain =
        |p: &[f32; 2]| p[0] >= min[0] && p[0] <= max[0] && p[1] >= min[1] && p[1] <= max[1];
    if !body.iter().all(on_terrain) {
        return Err("it lies (partly) outside the terrain: no ground to put it on".into());
    }
    let props = f.get("properties").cloned().unwrap_or(Value::Null);
    let text = |k: &str| props.get(k).and_then(Value::as_str).map(str::to_owned);
    let name = text("name").ok_or("no name")?;
    let kind = match text("type") {
        Some(t) => {
            HazardKind::parse(&t).ok_or(format!("type {t:?} is not 滑坡/危岩/崩塌/泥石流"))?
        }
        None => HazardKind::Landslide,
    };
    let thickness_m = match props.get("thickness_m") {
        None => 0.0,
        Some(v) => v
            .as_f64()
            .filter(|t| t.is_finite() && *t >= 0.0)
            .ok_or(format!("thickness_m {v} is not a length in metres"))? as f32,
    };
    let threat_zone_m = match props.get("threat_zone") {
        Some(z) => ring_of(z, to_local).map_err(|e| format!("threat_zone: {e}"))?,
        None => Vec::new(),
    };
    let thresholds = match props.get("thresholds") {
        Some(t) => serde_json::from_value::<Thresholds>(t.clone())
            .map_err(|e| format!("thresholds: {e}"))?,
        None => Thresholds::default(),
    };
    let id = HazardId(city.hazards.len() as u32);
    let centre = {
        let n = body.len() as f32;
        let s = body
            .iter()
            .fold([0.0, 0.0], |a, p| [a[0] + p[0], a[1] + p[1]]);
        [s[0] / n, s[1] / n]
    };
    let mut points = Vec::new();
    if let Some(list) = props.get("points").and_then(Value::as_array) {
        for (k, p) in list.iter().enumerate() {
            let (Some(lon), Some(lat)) = (
                p.get("lon").and_then(Value::as_f64),
                p.get("lat").and_then(Value::as_f64),
            ) else {
                return Err(format!("points[{k}] needs lon and lat"));
            };
            *sensor += 1;
            points.push(MonitoringPoint {
                sensor: SensorId(*sensor),
                code: p
                    .get("code")
                    .and_then(Value::as_str)
                    .map_or_else(|| format!("P{}", k + 1), str::to_owned),
                kind: PointKind::Displacement,
                position_m: to_local(lon, lat),
            });
        }
    }
    if points.is_empty() {
        *sensor += 1;
        points.push(MonitoringPoint {
            sensor: SensorId(*sensor),
            code: "P1".into(),
            kind: PointKind::Displacement,
            position_m: centre,
        });
    }
    // Downslope: from the body's highest vertex to its lowest.
    let h = |p: &[f32; 2]| t.height_at(*p);
    let hi = body
        .iter()
        .copied()
        .max_by(|a, b| h(a).total_cmp(&h(b)))
        .unwrap_or(centre);
    let lo = body
        .iter()
        .copied()
        .min_by(|a, b| h(a).total_cmp(&h(b)))
        .unwrap_or(centre);
    let d = [lo[0] - hi[0], lo[1] - hi[1]];
    let l = d[0].hypot(d[1]);
    let downslope = if l > 1e-3 {
        [d[0] / l, d[1] / l]
    } else {
        [0.0, -1.0]
    };
    let inside: Vec<&crate::model::Building> = if threat_zone_m.is_empty() {
        Vec::new()
    } else {
        city.buildings
            .iter()
            .filter(|b| {
                b.footprint_m
                    .first()
                    .is_some_and(|c| ring_contains(&threat_zone_m, *c))
            })
            .collect()
    };
    let residents = props.get("residents").and_then(Value::as_u64).unwrap_or(0) as usize;
    let threatened = inside
        .iter()
        .enumerate()
        .map(|(k, b)| {
            let share =
                residents / inside.len().max(1) + usize::from(k < residents % inside.len().max(1));
            let share = share.min(usize::from(u16::MAX)) as u16;
            Threatened {
                building: b.id,
                households: share.div_ceil(3),
                residents: share,
            }
        })
        .collect();
    let (district, street) = city
        .streets
        .iter()
        .min_by(|a, b| {
            let da = (a.centre_m[0] - centre[0]).hypot(a.centre_m[1] - centre[1]);
            let db = (b.centre_m[0] - centre[0]).hypot(b.centre_m[1] - centre[1]);
            da.total_cmp(&db)
        })
        .map_or(
            (crate::model::DistrictId(0), crate::model::StreetId(0)),
            |s| (s.district, s.id),
        );
    let unknown = || Party {
        name: "—".into(),
        phone: String::new(),
    };
    Ok(Hazard {
        id,
        code: text("code").unwrap_or_else(|| format!("IMPORT-{:04}", id.0 + 1)),
        name,
        kind,
        district,
        street,
        body_m: body,
        threat_zone_m,
        thickness_m,
        downslope,
        points,
        threatened,
        monitor: unknown(),
        street_duty: unknown(),
        thresholds,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bow_tie_crosses_itself_and_a_square_does_not() {
        let bow = [[0.0, 0.0], [10.0, 10.0], [10.0, 0.0], [0.0, 10.0]];
        assert!(self_intersection(&bow).is_some());
        let square = [[0.0, 0.0], [10.0, 0.0], [10.0, 10.0], [0.0, 10.0]];
        assert_eq!(self_intersection(&square), None);
    }
}
