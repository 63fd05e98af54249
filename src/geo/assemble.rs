//! Turns imported footprints (and an optional DEM) into a [`City`] in local
//! metres, with every building standing on the terrain.

use super::LocalFrame;
use super::dem::Dem;
use super::geojson::ImportReport;
use crate::model::{
    Building, BuildingId, City, CityBounds, District, DistrictId, Party, ResponsibleParties,
    RiskLevel, Street, StreetId, Terrain,
};

pub const OSM_ATTRIBUTION: &str = "© OpenStreetMap contributors (ODbL)";

/// Margin of terrain around the imported buildings.
const MARGIN_M: f32 = 600.0;
/// Terrain grid resolution cap (cells per side).
const MAX_TERRAIN_CELLS: usize = 512;

fn unregistered() -> Party {
    Party {
        name: "未登记".to_owned(),
        phone: String::new(),
    }
}

/// Lowest terrain elevation under a footprint: walls start there so no
/// building floats above a slope.
pub fn ground_under(terrain: &Terrain, ring: &[[f32; 2]]) -> f32 {
    ring.iter()
        .map(|p| terrain.height_at(*p))
        .fold(f32::INFINITY, f32::min)
}

/// Lowest terrain elevation under any of a building's parts.
pub fn ground_under_building(terrain: &Terrain, building: &Building) -> f32 {
    building
        .rings()
        .map(|r| ground_under(terrain, r))
        .fold(f32::INFINITY, f32::min)
}

/// The imported footprints of each feature, in order: a MultiPolygon's
/// parts are one building.
pub fn feature_groups(report: &ImportReport) -> Vec<std::ops::Range<usize>> {
    let mut groups: Vec<std::ops::Range<usize>> = Vec::new();
    for (i, b) in report.buildings.iter().enumerate() {
        match groups.last_mut() {
            Some(g) if report.buildings[g.start].feature_index == b.feature_index => g.end = i + 1,
            _ => groups.push(i..i + 1),
        }
    }
    groups
}

fn ensure_ccw(ring: &mut [[f32; 2]]) {
    if super::mesh::signed_area2(ring) < 0.0 {
        ring.reverse();
    }
}

/// Builds a city from imported buildings; `dem` supplies the terrain.
pub fn city_from_import(report: &ImportReport, dem: Option<&Dem>, name: &str) -> City {
    let (mut lo, mut hi) = ([f64::INFINITY; 2], [f64::NEG_INFINITY; 2]);
    let outer: Vec<Vec<[f64; 2]>> = report.buildings.iter().map(|b| b.outer_ring()).collect();
    for ring in &outer {
        for p in ring {
            lo = [lo[0].min(p[0]), lo[1].min(p[1])];
            hi = [hi[0].max(p[0]), hi[1].max(p[1])];
        }
    }
    let frame = LocalFrame::new((lo[0] + hi[0]) / 2.0, (lo[1] + hi[1]) / 2.0);
    let rings: Vec<Vec<[f32; 2]>> = outer
        .iter()
        .map(|lon_lat| {
            let mut ring: Vec<[f32; 2]> =
                lon_lat.iter().map(|p| frame.to_local(p[0], p[1])).collect();
            ensure_ccw(&mut ring);
            ring
        })
        .collect();
    let sw = frame.to_local(lo[0], lo[1]);
    let ne = frame.to_local(hi[0], hi[1]);
    let min = [sw[0] - MARGIN_M, sw[1] - MARGIN_M];
    let max = [ne[0] + MARGIN_M, ne[1] + MARGIN_M];
    let terrain = match dem {
        Some(dem) => dem.to_terrain(&frame, min, max, MAX_TERRAIN_CELLS),
        None => Terrain::flat(min, max, 0.0),
    };
    let codes = building_codes(report);
    let buildings = feature_groups(report)
        .into_iter()
        .enumerate()
        .map(|(i, parts)| {
            // The largest part is the footprint; the others are its parts.
            let mut footprints: Vec<Vec<[f32; 2]>> = rings[parts.clone()].to_vec();
            footprints.sort_by(|a, b| {
                super::mesh::signed_area2(b)
                    .abs()
                    .total_cmp(&super::mesh::signed_area2(a).abs())
            });
            let mut footprints = footprints.into_iter();
            let ring = footprints.next().unwrap_or_default();
            (
                i,
                &report.buildings[parts.start],
                ring,
                footprints.collect::<Vec<_>>(),
            )
        })
        .map(|(i, b, ring, parts_m)| Building {
            id: BuildingId(i as u32),
            code: codes[i].clone(),
            name: b.name.clone(),
            address: b
                .address
                .clone()
                .unwrap_or_else(|| format!("要素 #{}", b.feature_index)),
            district: DistrictId(0),
            street: StreetId(0),
            base_elevation_m: parts_m
                .iter()
                .map(|p| ground_under(&terrain, p))
                .fold(ground_under(&terrain, &ring), f32::min),
            footprint_m: ring,
            parts_m,
            height_m: b.height_m,
            floors: b.levels.unwrap_or_else(|| {
                (b.height_m / super::geojson::METRES_PER_LEVEL)
                    .round()
                    .max(1.0) as u16
            }),
            base_level: RiskLevel::Low,
            parties: ResponsibleParties {
                safety_responsible: unregistered(),
                safety_manager: unregistered(),
                maintenance: unregistered(),
            },
        })
        .collect();
    let mut attributions = Vec::new();
    if report.buildings.iter().any(|b| b.from_osm) {
        attributions.push(OSM_ATTRIBUTION.to_owned());
    }
    let mut city = City {
        name_zh: name.to_owned(),
        name_en: name.to_owned(),
        bounds: CityBounds {
            origin_lon_lat: [frame.origin_lon, frame.origin_lat],
            min_m: min,
            max_m: max,
        },
        terrain,
        districts: vec![District {
            id: DistrictId(0),
            code: "000000".to_owned(),
            name_zh: "导入区域".to_owned(),
            name_en: "Imported area".to_owned(),
            centre_m: [0.0, 0.0],
            outline_m: Vec::new(),
        }],
        streets: vec![Street {
            id: StreetId(0),
            district: DistrictId(0),
            name_zh: "导入街道".to_owned(),
            centre_m: [0.0, 0.0],
            outline_m: Vec::new(),
        }],
        buildings,
        hazards: Vec::new(),
        cameras: Vec::new(),
        attributions,
        imagery: None,
    };
    // No boundaries yet: the outline is the ground around the buildings
    // (`--districts` replaces it with the real ones).
    super::outline::derive_missing_outlines(&mut city);
    city
}

/// Each imported building's code (一楼一码), one per feature (all parts of
/// a MultiPolygon share it): the data's own (a code property, its OSM
/// element, the feature id), else `B-0000001` …; a code the data repeats
/// gets `-2`, `-3` … so every code finds one building.
pub fn building_codes(report: &ImportReport) -> Vec<String> {
    let mut seen: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    feature_groups(report)
        .into_iter()
        .map(|g| &report.buildings[g.start])
        .enumerate()
        .map(|(i, b)| {
            let base = b
                .source_code
                .clone()
                .unwrap_or_else(|| format!("B-{:07}", i + 1));
            let n = seen.entry(base.clone()).or_insert(0);
            *n += 1;
            if *n == 1 { base } else { format!("{base}-{n}") }
        })
        .collect()
}

/// Relief `k` times as high (water too), every building set back on the
/// ground under it: for flat-looking terrain (`--exaggerate K`).
pub fn exaggerate_relief(city: &mut City, k: f32) {
    for h in &mut city.terrain.heights_m {
        *h *= k;
    }
    if let Some(w) = city.terrain.water_level_m.as_mut() {
        *w *= k;
    }
    for b in &mut city.buildings {
        b.base_elevation_m = ground_under_building(&city.terrain, b);
    }
}

/// Widens the terrain to cover `min..max` (local metres) when it does not:
/// from the DEM where there is one, else flat at the old ground's lowest
/// level; buildings are set back on the ground under them. For boundaries
/// that reach past the buildings' ground (their outlines are drawn only
/// over terrain).
pub fn extend_terrain(city: &mut City, dem: Option<&Dem>, min: [f32; 2], max: [f32; 2]) {
    let t = &city.terrain;
    let size = t.size_m();
    let (old_min, old_max) = (
        t.origin_m,
        [t.origin_m[0] + size[0], t.origin_m[1] + size[1]],
    );
    if min[0] >= old_min[0] && min[1] >= old_min[1] && max[0] <= old_max[0] && max[1] <= old_max[1]
    {
        return;
    }
    let (min, max) = (
        [min[0].min(old_min[0]), min[1].min(old_min[1])],
        [max[0].max(old_max[0]), max[1].max(old_max[1])],
    );
    let frame = LocalFrame::new(city.bounds.origin_lon_lat[0], city.bounds.origin_lon_lat[1]);
    let water = t.water_level_m;
    let mut terrain = match dem {
        Some(dem) => dem.to_terrain(&frame, min, max, MAX_TERRAIN_CELLS),
        None => {
            let ground = t.heights_m.iter().copied().fold(f32::INFINITY, f32::min);
            Terrain::flat(min, max, if ground.is_finite() { ground } else { 0.0 })
        }
    };
    terrain.water_level_m = water;
    city.terrain = terrain;
    for b in &mut city.buildings {
        b.base_elevation_m = ground_under_building(&city.terrain, b);
    }
}

/// How far below the lowest shore the water lies, and the carved bed
/// below that: the land never meets the water plane at one height.
const SHORE_M: f32 = 1.5;
const BED_M: f32 = 3.0;

/// Water areas (lon/lat polygons: an exterior, then holes) sunk into the
/// terrain under a water level, so the water surface shows there. A flat
/// terrain is first made fine enough (≥ 2 m, ≤ 512 cells a side) for
/// the shores to follow the polygons. Returns how many grid points sank.
pub fn carve_water(city: &mut City, water: &[Vec<Vec<[f64; 2]>>]) -> usize {
    if water.is_empty() {
        return 0;
    }
    let frame = LocalFrame::new(city.bounds.origin_lon_lat[0], city.bounds.origin_lon_lat[1]);
    let outlines: Vec<crate::model::AreaPolygon> = water
        .iter()
        .map(|rings| {
            let mut rings = rings
                .iter()
                .map(|r| r.iter().map(|p| frame.to_local(p[0], p[1])).collect());
            crate::model::AreaPolygon {
                exterior: rings.next().unwrap_or_default(),
                holes: rings.collect(),
            }
        })
        .collect();
    let t = &city.terrain;
    let flat = t.heights_m.windows(2).all(|w| w[0] == w[1]);
    let size = t.size_m();
    let fine = (size[0].max(size[1]) / MAX_TERRAIN_CELLS as f32).max(2.0);
    if flat && t.cell_m > fine * 1.5 {
        let cols = (size[0] / fine).ceil() as usize + 1;
        let rows = (size[1] / fine).ceil() as usize + 1;
        city.terrain = Terrain {
            origin_m: t.origin_m,
            cell_m: fine,
            cols,
            rows,
            heights_m: vec![t.heights_m.first().copied().unwrap_or(0.0); cols * rows],
            water_level_m: t.water_level_m,
        };
    }
    let t = &mut city.terrain;
    let index = super::outline::AreaLocator::new(outlines.iter().map(std::slice::from_ref));
    let wet: Vec<usize> = (0..t.rows)
        .flat_map(|r| (0..t.cols).map(move |c| (r, c)))
        .filter(|&(r, c)| {
            let p = [
                t.origin_m[0] + c as f32 * t.cell_m,
                t.origin_m[1] + r as f32 * t.cell_m,
            ];
            index.locate(p).is_some()
        })
        .map(|(r, c)| r * t.cols + c)
        .collect();
    if wet.is_empty() {
        return 0;
    }
    let shore = wet
        .iter()
        .map(|&i| t.heights_m[i])
        .fold(f32::INFINITY, f32::min);
    let level = t.water_level_m.unwrap_or(shore - SHORE_M);
    t.water_level_m = Some(level);
    for &i in &wet {
        t.heights_m[i] = t.heights_m[i].min(level - BED_M);
    }
    wet.len()
}

/// The buildings' lon/lat extent `[west, south, east, north]`.
pub fn import_extent(report: &ImportReport) -> Option<[f64; 4]> {
    let mut e = [
        f64::INFINITY,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NEG_INFINITY,
    ];
    for b in &report.buildings {
        for p in b.outer_ring() {
            e = [
                e[0].min(p[0]),
                e[1].min(p[1]),
                e[2].max(p[0]),
                e[3].max(p[1]),
            ];
        }
    }
    e[0].is_finite().then_some(e)
}

/// What is wrong with a DEM under these buildings, if anything: it misses
/// them (all, or in part). Names both extents.
pub fn dem_coverage_problem(dem: &Dem, dem_name: &str, report: &ImportReport) -> Option<String> {
    let area = import_extent(report)?;
    let covered = dem.coverage_of(area);
    if covered >= 0.999 {
        return None;
    }
    let text = |e: [f64; 4]| format!("lon {:.4}…{:.4}, lat {:.4}…{:.4}", e[0], e[2], e[1], e[3]);
    let what = if covered <= 0.0 {
        "does not overlap the buildings: they stand on flat ground at 0 m".to_owned()
    } else {
        format!(
            "covers {:.0} % of the buildings' extent: the rest stand at the DEM's edge heights",
            covered * 100.0
        )
    };
    Some(format!(
        "DEM {dem_name} ({}) {what} (buildings: {})",
        text(dem.bounds()),
        text(area)
    ))
}

/// A city of terrain only, covering the whole DEM.
pub fn city_from_dem(dem: &Dem, name: &str) -> City {
    let [w, s, e, n] = dem.bounds();
    let frame = LocalFrame::new((w + e) / 2.0, (s + n) / 2.0);
    let min = frame.to_local(w, s);
    let max = frame.to_local(e, n);
    let terrain = dem.to_terrain(&frame, min, max, MAX_TERRAIN_CELLS);
    bare_city(&frame, min, max, terrain, name)
}

/// A city of flat ground at 0 m over `[west, south, east, north]` (an
/// imagery base map on its own).
pub fn city_from_extent(extent: [f64; 4], name: &str) -> City {
    let [w, s, e, n] = extent;
    let frame = LocalFrame::new((w + e) / 2.0, (s + n) / 2.0);
    let min = frame.to_local(w, s);
    let max = frame.to_local(e, n);
    let terrain = Terrain::flat(min, max, 0.0);
    bare_city(&frame, min, max, terrain, name)
}

fn bare_city(
    frame: &LocalFrame,
    min: [f32; 2],
    max: [f32; 2],
    terrain: Terrain,
    name: &str,
) -> City {
    City {
        name_zh: name.to_owned(),
        name_en: name.to_owned(),
        bounds: CityBounds {
            origin_lon_lat: [frame.origin_lon, frame.origin_lat],
            min_m: min,
            max_m: max,
        },
        terrain,
        districts: Vec::new(),
        streets: Vec::new(),
        buildings: Vec::new(),
        hazards: Vec::new(),
        cameras: Vec::new(),
        attributions: Vec::new(),
        imagery: None,
    }
}

/// (west, south, east, north) of a city's ground, degrees.
pub fn city_extent(city: &City) -> [f64; 4] {
    let frame = LocalFrame::new(city.bounds.origin_lon_lat[0], city.bounds.origin_lon_lat[1]);
    let t = &city.terrain;
    let max = [
        t.origin_m[0] + (t.cols.saturating_sub(1)) as f32 * t.cell_m,
        t.origin_m[1] + (t.rows.saturating_sub(1)) as f32 * t.cell_m,
    ];
    let sw = frame.to_lon_lat(t.origin_m);
    let ne = frame.to_lon_lat(max);
    [sw[0], sw[1], ne[0], ne[1]]
}

/// What is wrong with draping `imagery` (its bounds) on `city`: nothing
/// when it overlaps the ground.
pub fn imagery_coverage_problem(imagery: [f64; 4], name: &str, city: &City) -> Option<String> {
    let ground = city_extent(city);
    let w = (imagery[2].min(ground[2]) - imagery[0].max(ground[0])).max(0.0);
    let h = (imagery[3].min(ground[3]) - imagery[1].max(ground[1])).max(0.0);
    if w * h > 0.0 {
        return None;
    }
    let text = |e: [f64; 4]| format!("lon {:.4}…{:.4}, lat {:.4}…{:.4}", e[0], e[2], e[1], e[3]);
    Some(format!(
        "imagery {name} ({}) does not overlap the city's ground ({}): nothing of it is shown",
        text(imagery),
        text(ground)
    ))
}
