//! District and street boundaries from GeoJSON (`--districts`, `--streets`):
//! Polygon/MultiPolygon features with a code and a name — the keys of the
//! widely used DataV GeoAtlas files (`adcode`, `name`, `parent.adcode`)
//! and the common others recognised without options. Buildings are then
//! assigned to the polygon that holds them; drill-down, `--area`, KPIs,
//! token scopes and the hub all follow from the buildings' areas.

use std::collections::HashMap;
use std::path::Path;

use super::LocalFrame;
use super::dem::Dem;
use super::geojson::{
    Crs, Feature, ImportError, SkippedFeature, first_skipped, positions, read_collection,
    read_text, scalar, self_intersection,
};
use super::outline::AreaLocator;
use crate::model::{AreaPolygon, City, District, DistrictId, Street, StreetId, outline_contains};

/// Ground shown beyond the outermost district outline.
const GROUND_MARGIN_M: f32 = 300.0;

/// Keys tried for an area's code, then the feature's `id`.
pub const CODE_KEYS: [&str; 5] = ["adcode", "code", "ADCODE", "CODE", "id"];
/// Keys tried for an area's name.
pub const NAME_KEYS: [&str; 5] = ["name", "name:zh", "NAME", "名称", "Name"];
const NAME_EN_KEYS: [&str; 3] = ["name_en", "name:en", "NAME_EN"];
const PARENT_KEYS: [&str; 3] = ["parent", "parent_code", "parent_adcode"];

#[derive(Clone, Debug, Default)]
pub struct BoundaryOptions {
    pub crs: Crs,
    /// The property holding the code, when none of [`CODE_KEYS`] does.
    pub code_key: Option<String>,
    /// The property holding the name, when none of [`NAME_KEYS`] does.
    pub name_key: Option<String>,
}

/// One area's boundary, WGS84 (lon, lat).
#[derive(Clone, Debug, PartialEq)]
pub struct ImportedArea {
    pub feature_index: usize,
    pub code: String,
    pub name: String,
    pub name_en: Option<String>,
    /// The code of the area it lies in (DataV's `parent.adcode`), if given.
    pub parent_code: Option<String>,
    /// Polygons, each an exterior then its holes; rings not closed.
    pub polygons: Vec<Vec<Vec<[f64; 2]>>>,
}

#[derive(Clone, Debug, Default)]
pub struct BoundaryReport {
    pub path: String,
    pub features: usize,
    pub areas: Vec<ImportedArea>,
    pub skipped: Vec<SkippedFeature>,
    /// What was repaired, one line each: feature, ring, what and how.
    pub repaired: Vec<String>,
}

/// Reads a boundary file.
pub fn import_boundaries(
    path: &Path,
    options: &BoundaryOptions,
) -> Result<BoundaryReport, ImportError> {
    let text = read_text(path)?;
    import_boundaries_str(&text, &path.display().to_string(), options)
}

/// Parses boundary GeoJSON; `name` is used in messages.
pub fn import_boundaries_str(
    text: &str,
    name: &str,
    options: &BoundaryOptions,
) -> Result<BoundaryReport, ImportError> {
    let collection = read_collection(text, name)?;
    let mut report = BoundaryReport {
        path: name.to_owned(),
        features: collection.features.len(),
        ..BoundaryReport::default()
    };
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (index, raw) in collection.features.iter().enumerate() {
        match parse_area(index, raw.get(), options, &mut report.repaired) {
            Ok(area) => match seen.get(&area.code) {
                Some(first) => report.skipped.push(SkippedFeature {
                    index,
                    reason: format!("code {} repeats feature {first}", area.code),
                }),
                None => {
                    seen.insert(area.code.clone(), index);
                    report.areas.push(area);
                }
            },
            Err(reason) => report.skipped.push(SkippedFeature { index, reason }),
        }
    }
    if report.areas.is_empty() {
        return Err(ImportError::NoAreas {
            path: name.to_owned(),
            features: report.features,
            first: first_skipped(&report.skipped),
        });
    }
    Ok(report)
}

fn parse_area(
    index: usize,
    json: &str,
    options: &BoundaryOptions,
    repaired: &mut Vec<String>,
) -> Result<ImportedArea, String> {
    let feature: Feature<'_> =
        serde_json::from_str(json).map_err(|e| format!("not a GeoJSON feature: {e}"))?;
    let props = feature.properties.unwrap_or_default();
    let first_of = |wanted: Option<&str>, keys: &[&str]| {
        wanted
            .into_iter()
            .chain(keys.iter().copied())
            .find_map(|k| props.get(k).and_then(scalar))
    };
    let code = first_of(options.code_key.as_deref(), &CODE_KEYS)
        .or_else(|| feature.id.as_ref().and_then(scalar))
        .ok_or_else(|| {
            format!(
                "no code: none of the properties {} (name yours with --boundary-code-key)",
                CODE_KEYS.join(", ")
            )
        })?;
    let name = first_of(options.name_key.as_deref(), &NAME_KEYS).unwrap_or_else(|| code.clone());
    let name_en = first_of(None, &NAME_EN_KEYS);
    let parent_code = PARENT_KEYS.iter().find_map(|k| match props.get(*k)? {
        serde_json::Value::Object(o) => ["adcode", "code"]
            .iter()
            .find_map(|k| o.get(*k).and_then(scalar)),
        other => scalar(other),
    });
    let geometry = feature.geometry.ok_or("feature has no geometry")?;
    let label = format!("feature {index} ({name})");
    let mut polygons = Vec::new();
    for (p, rings) in geometry.polygons("an area boundary")?.iter().enumerate() {
        let mut out: Vec<Vec<[f64; 2]>> = Vec::new();
        for (r, ring) in rings.iter().enumerate() {
            let points = match positions(ring, options.crs) {
                Ok(points) => points,
                // A broken hole loses the hole; a broken exterior the part.
                Err(reason) if r == 0 => {
                    repaired.push(format!("{label} polygon {p}: {reason}: part left out"));
                    break;
                }
                Err(reason) => {
                    repaired.push(format!("{label} polygon {p} ring {r}: {reason}: left out"));
                    continue;
                }
            };
            if let Some((i, j)) = self_intersection(&points) {
                repaired.push(format!(
                    "{label} polygon {p} ring {r}: crosses itself (edge {i} meets edge {j}): \
                     filled even-odd"
                ));
            }
            let points: Vec<[f64; 2]> = points.iter().map(|c| [c.x, c.y]).collect();
            let parts = split_pinches(points);
            if parts.len() > 1 {
                repaired.push(format!(
                    "{label} polygon {p} ring {r}: touches itself: split into {} rings",
                    parts.len()
                ));
            }
            out.extend(parts);
        }
        if !out.is_empty() {
            polygons.push(out);
        }
    }
    if polygons.is_empty() {
        return Err("no usable polygon".to_owned());
    }
    Ok(ImportedArea {
        feature_index: index,
        code,
        name,
        name_en,
        parent_code,
        polygons,
    })
}

/// A ring that passes through one point twice (self-touching: common in
/// boundary data) split there into simple rings; even-odd over the pieces
/// covers what the ring meant.
fn split_pinches(points: Vec<[f64; 2]>) -> Vec<Vec<[f64; 2]>> {
    let mut out = Vec::new();
    let mut todo = vec![points];
    while let Some(ring) = todo.pop() {
        let mut at: HashMap<(u64, u64), usize> = HashMap::new();
        let pinch = ring.iter().enumerate().find_map(|(j, p)| {
            at.insert((p[0].to_bits(), p[1].to_bits()), j)
                .map(|i| (i, j))
        });
        match pinch {
            Some((i, j)) => {
                let inner = ring[i..j].to_vec();
                let mut outer = ring[..i].to_vec();
                outer.extend_from_slice(&ring[j..]);
                todo.extend([inner, outer].into_iter().filter(|r| r.len() >= 3));
            }
            None => out.push(ring),
        }
    }
    out
}

/// What assigning buildings to boundaries found, for the terminal.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Assignment {
    /// Buildings in no district polygon (put in 界外).
    pub outside: usize,
    /// Buildings in a district but in none of its streets' polygons.
    pub streetless: usize,
    /// Streets placed in their district by where they lie, not by a parent
    /// code (none given, or one naming no district).
    pub streets_by_place: usize,
    /// Streets in no district (left out): their names.
    pub orphan_streets: Vec<String>,
    /// The extent (local metres, min and max) of the districts that hold
    /// buildings: the ground to show so their outlines are whole.
    pub extent_m: Option<([f32; 2], [f32; 2])>,
}

impl Assignment {
    /// One line per fallback taken.
    pub fn notes(&self, buildings: usize) -> Vec<String> {
        let mut notes = Vec::new();
        if self.outside > 0 {
            let all = if self.outside == buildings {
                " — all of them: do the boundaries cover this place (and the same --crs)?"
            } else {
                ""
            };
            notes.push(format!(
                "{} of {buildings} buildings lie in no district → 界外{all}",
                self.outside
            ));
        }
        if self.streetless > 0 {
            notes.push(format!(
                "{} buildings lie in no street of their district → （未分街道）",
                self.streetless
            ));
        }
        if self.streets_by_place > 0 {
            notes.push(format!(
                "{} streets name no district of theirs: placed in the district that holds them",
                self.streets_by_place
            ));
        }
        if !self.orphan_streets.is_empty() {
            notes.push(format!(
                "{} streets lie in no district, left out: {}",
                self.orphan_streets.len(),
                self.orphan_streets.join("、")
            ));
        }
        notes
    }
}

/// The polygons of an imported area in local metres of `frame`.
pub fn local_outline(area: &ImportedArea, frame: &LocalFrame) -> Vec<AreaPolygon> {
    area.polygons
        .iter()
        .map(|rings| {
            let mut rings = rings
                .iter()
                .map(|r| r.iter().map(|p| frame.to_local(p[0], p[1])).collect());
            AreaPolygon {
                exterior: rings.next().unwrap_or_default(),
                holes: rings.collect(),
            }
        })
        .collect()
}

/// A point inside `outline` (for its label and its place): the centroid of
/// its largest part when that lies inside, else the middle of the widest
/// inside stretch of the horizontal line through it.
pub fn interior_point(outline: &[AreaPolygon]) -> [f32; 2] {
    let Some(largest) = outline.iter().max_by(|a, b| {
        super::mesh::signed_area2(&a.exterior)
            .abs()
            .total_cmp(&super::mesh::signed_area2(&b.exterior).abs())
    }) else {
        return [0.0, 0.0];
    };
    let ring = &largest.exterior;
    let (mut cx, mut cy, mut a2) = (0.0f64, 0.0f64, 0.0f64);
    for (i, p) in ring.iter().enumerate() {
        let q = ring[(i + 1) % ring.len()];
        let cross = f64::from(p[0]) * f64::from(q[1]) - f64::from(q[0]) * f64::from(p[1]);
        a2 += cross;
        cx += (f64::from(p[0]) + f64::from(q[0])) * cross;
        cy += (f64::from(p[1]) + f64::from(q[1])) * cross;
    }
    let centroid = if a2.abs() > 1e-9 {
        [(cx / (3.0 * a2)) as f32, (cy / (3.0 * a2)) as f32]
    } else {
        ring.first().copied().unwrap_or_default()
    };
    if outline_contains(outline, centroid) {
        return centroid;
    }
    let y = centroid[1];
    let mut xs: Vec<f32> = largest
        .rings()
        .flat_map(|ring| {
            (0..ring.len()).filter_map(move |i| {
                let (a, b) = (ring[i], ring[(i + 1) % ring.len()]);
                ((a[1] > y) != (b[1] > y))
                    .then(|| a[0] + (b[0] - a[0]) * (y - a[1]) / (b[1] - a[1]))
            })
        })
        .collect();
    xs.sort_by(f32::total_cmp);
    xs.chunks_exact(2)
        .max_by(|a, b| (a[1] - a[0]).total_cmp(&(b[1] - b[0])))
        .map_or(centroid, |w| [(w[0] + w[1]) * 0.5, y])
}

/// Replaces the city's districts and streets with the boundaries' and puts
/// every building in the polygon that holds its centre: in no district →
/// a 界外 district; in no street of its district → that district's
/// （未分街道）. Without a street file each district has one street, 全域,
/// with the district's outline. Buildings outside are counted, never lost.
/// The ground widens (from `dem`, else flat) to hold the districts that
/// hold buildings, so their outlines are drawn whole.
pub fn apply_boundaries(
    city: &mut City,
    dem: Option<&Dem>,
    districts: &BoundaryReport,
    streets: Option<&BoundaryReport>,
) -> Assignment {
    let frame = LocalFrame::new(city.bounds.origin_lon_lat[0], city.bounds.origin_lon_lat[1]);
    let mut assignment = Assignment::default();
    let mut new_districts: Vec<District> = districts
        .areas
        .iter()
        .enumerate()
        .map(|(i, a)| {
            let outline_m = local_outline(a, &frame);
            District {
                id: DistrictId(i as u16),
                code: a.code.clone(),
                name_zh: a.name.clone(),
                name_en: a.name_en.clone().unwrap_or_else(|| a.name.clone()),
                centre_m: interior_point(&outline_m),
                outline_m,
            }
        })
        .collect();
    let locator = AreaLocator::new(new_districts.iter().map(|d| d.outline_m.as_slice()));
    let mut building_district: Vec<Option<usize>> = city
        .buildings
        .iter()
        .map(|b| locator.locate(b.centre_m()))
        .collect();
    assignment.outside = building_district.iter().filter(|d| d.is_none()).count();
    if assignment.outside > 0 {
        let id = new_districts.len();
        new_districts.push(District {
            id: DistrictId(id as u16),
            code: "outside".to_owned(),
            name_zh: "界外".to_owned(),
            name_en: "Outside the boundaries".to_owned(),
            centre_m: [0.0, 0.0],
            outline_m: Vec::new(),
        });
        for d in &mut building_district {
            d.get_or_insert(id);
        }
    }
    // Streets: the file's, each in the district its parent code names or,
    // failing that, the one holding it.
    let by_code: HashMap<&str, usize> = new_districts
        .iter()
        .enumerate()
        .map(|(i, d)| (d.code.as_str(), i))
        .collect();
    let mut new_streets: Vec<Street> = Vec::new();
    for area in streets.map_or(&[][..], |s| s.areas.as_slice()) {
        let outline_m = local_outline(area, &frame);
        let centre = interior_point(&outline_m);
        let district = match area.parent_code.as_deref().and_then(|c| by_code.get(c)) {
            Some(&d) => Some(d),
            None => {
                let d = locator.locate(centre);
                assignment.streets_by_place += usize::from(d.is_some());
                d
            }
        };
        let Some(district) = district else {
            assignment.orphan_streets.push(area.name.clone());
            continue;
        };
        new_streets.push(Street {
            id: StreetId(new_streets.len() as u16),
            district: DistrictId(district as u16),
            name_zh: area.name.clone(),
            centre_m: centre,
            outline_m,
        });
    }
    let street_locator = AreaLocator::new(new_streets.iter().map(|s| s.outline_m.as_slice()));
    // The catch-all street of each district that needs one.
    let mut catch_all: HashMap<usize, StreetId> = HashMap::new();
    let mut catch_all_for = |d: usize, new_streets: &mut Vec<Street>| {
        *catch_all.entry(d).or_insert_with(|| {
            let district = &new_districts[d];
            let id = StreetId(new_streets.len() as u16);
            let whole = streets.is_none();
            new_streets.push(Street {
                id,
                district: district.id,
                name_zh: format!(
                    "{}{}",
                    district.name_zh,
                    if whole {
                        "全域"
                    } else {
                        "（未分街道）"
                    }
                ),
                centre_m: district.centre_m,
                outline_m: if whole {
                    district.outline_m.clone()
                } else {
                    Vec::new()
                },
            });
            id
        })
    };
    for (b, district) in city.buildings.iter_mut().zip(&building_district) {
        let d = district.unwrap_or(0);
        b.district = DistrictId(d as u16);
        let street = street_locator
            .locate(b.centre_m())
            .filter(|&s| new_streets[s].district.0 as usize == d);
        b.street = match street {
            Some(s) => StreetId(s as u16),
            None => {
                if streets.is_some() {
                    assignment.streetless += 1;
                }
                catch_all_for(d, &mut new_streets)
            }
        };
    }
    // Every district has a street to drill into.
    for d in 0..new_districts.len() {
        if !new_streets.iter().any(|s| s.district.0 as usize == d) {
            catch_all_for(d, &mut new_streets);
        }
    }
    let mut held = vec![false; new_districts.len()];
    for b in &city.buildings {
        held[usize::from(b.district.0)] = true;
    }
    for (d, _) in new_districts.iter().zip(&held).filter(|(_, h)| **h) {
        for p in d.outline_m.iter().flat_map(|p| p.exterior.iter()) {
            let (lo, hi) = assignment.extent_m.get_or_insert((*p, *p));
            *lo = [lo[0].min(p[0]), lo[1].min(p[1])];
            *hi = [hi[0].max(p[0]), hi[1].max(p[1])];
        }
    }
    city.districts = new_districts;
    city.streets = new_streets;
    // 界外 and the catch-all streets: outlines around their buildings.
    super::outline::derive_missing_outlines(city);
    if let Some((min, max)) = assignment.extent_m {
        super::assemble::extend_terrain(
            city,
            dem,
            [min[0] - GROUND_MARGIN_M, min[1] - GROUND_MARGIN_M],
            [max[0] + GROUND_MARGIN_M, max[1] + GROUND_MARGIN_M],
        );
    }
    assignment
}
