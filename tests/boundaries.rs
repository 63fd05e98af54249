//! Real boundaries (`--districts`, `--streets`): buildings land in the
//! polygon that holds them — a polygon with a hole (and an enclave in it),
//! a self-touching ring (its pinched-off hole is outside), a shared edge;
//! GCJ-02 boundaries line up with GCJ-02 buildings; streets find their
//! district by parent code or by place; and drilled into a real district,
//! the outline drawn on the ground sits on the polygon's edge.

mod common;

use std::process::Command;
use std::sync::Arc;

use bevy::math::{UVec2, Vec3};
use citytwin::cockpit::camera::OrbitCamera;
use citytwin::cockpit::drill::Drill;
use citytwin::cockpit::headless::HeadlessCity;
use citytwin::geo::assemble::city_from_import;
use citytwin::geo::boundaries::{
    BoundaryOptions, apply_boundaries, import_boundaries, import_boundaries_str,
};
use citytwin::geo::geojson::{Crs, ImportOptions, import_str};
use citytwin::geo::{LocalFrame, world_from_local};
use citytwin::model::{Area, City};

/// DataV-style districts: numeric adcode, name, parent.adcode.
/// 500103: a square with a hole; 500104: an enclave in that hole;
/// 500105: east of 500103 (sharing lon 106.56), its ring touching itself at
/// (106.59, 29.54) to pinch off a triangular hole.
const DISTRICTS: &str = r#"{"type":"FeatureCollection","features":[
 {"type":"Feature","properties":{"adcode":500103,"name":"渝中区","parent":{"adcode":500000}},
  "geometry":{"type":"Polygon","coordinates":[
   [[106.50,29.54],[106.56,29.54],[106.56,29.58],[106.50,29.58],[106.50,29.54]],
   [[106.52,29.55],[106.52,29.56],[106.53,29.56],[106.53,29.55],[106.52,29.55]]]}},
 {"type":"Feature","properties":{"adcode":500104,"name":"大渡口区"},
  "geometry":{"type":"Polygon","coordinates":[
   [[106.522,29.552],[106.528,29.552],[106.528,29.558],[106.522,29.558],[106.522,29.552]]]}},
 {"type":"Feature","properties":{"adcode":"500105","name":"江北区"},
  "geometry":{"type":"MultiPolygon","coordinates":[[
   [[106.56,29.54],[106.59,29.54],[106.595,29.55],[106.585,29.55],[106.59,29.54],
    [106.62,29.54],[106.62,29.58],[106.56,29.58],[106.56,29.54]]]]}},
 {"type":"Feature","properties":{"adcode":"100000_JD","name":"九段线"},
  "geometry":{"type":"MultiLineString","coordinates":[[[106.0,29.0],[106.1,29.1]]]}}
]}"#;

/// Buildings (≈ 20 m squares) at known places, named for where they are.
const PLACES: [(&str, f64, f64); 8] = [
    ("west", 106.51, 29.57),
    ("enclave", 106.525, 29.555),
    ("beside-hole", 106.515, 29.555),
    ("east", 106.60, 29.57),
    ("pinched-hole", 106.59, 29.546),
    ("far-away", 106.70, 29.57),
    ("edge-west", 106.5595, 29.565),
    ("edge-east", 106.5605, 29.565),
];

fn buildings_geojson() -> String {
    let features: Vec<String> = PLACES
        .iter()
        .map(|(name, lon, lat)| {
            let d = 0.0001;
            format!(
                r#"{{"type":"Feature","properties":{{"name":"{name}","height":30}},
                "geometry":{{"type":"Polygon","coordinates":[[[{a},{b}],[{c},{b}],[{c},{e}],[{a},{e}],[{a},{b}]]]}}}}"#,
                a = lon - d,
                b = lat - d,
                c = lon + d,
                e = lat + d
            )
        })
        .collect();
    format!(
        r#"{{"type":"FeatureCollection","features":[{}]}}"#,
        features.join(",")
    )
}

fn city_with(
    crs_buildings: Crs,
    crs_boundaries: Crs,
) -> (City, citytwin::geo::boundaries::Assignment) {
    let report = import_str(
        &buildings_geojson(),
        "buildings",
        &ImportOptions {
            crs: crs_buildings,
            ..ImportOptions::default()
        },
    )
    .expect("buildings");
    let mut city = city_from_import(&report, None, "test");
    let districts = import_boundaries_str(
        DISTRICTS,
        "districts",
        &BoundaryOptions {
            crs: crs_boundaries,
            ..BoundaryOptions::default()
        },
    )
    .expect("districts");
    let assignment = apply_boundaries(&mut city, None, &districts, None);
    (city, assignment)
}

fn district_of(city: &City, building: &str) -> String {
    let b = city
        .buildings
        .iter()
        .find(|b| b.name.as_deref() == Some(building))
        .expect(building);
    city.districts[usize::from(b.district.0)].code.clone()
}

#[test]
fn buildings_land_in_the_polygon_that_holds_them() {
    let report = import_boundaries_str(DISTRICTS, "districts.json", &BoundaryOptions::default())
        .expect("districts");
    assert_eq!(report.areas.len(), 3);
    assert_eq!(
        report
            .areas
            .iter()
            .map(|a| a.code.as_str())
            .collect::<Vec<_>>(),
        ["500103", "500104", "500105"],
        "numeric and text adcodes alike"
    );
    assert_eq!(report.areas[0].parent_code.as_deref(), Some("500000"));
    assert_eq!(report.skipped.len(), 1);
    assert_eq!(report.skipped[0].index, 3);
    assert!(report.skipped[0].reason.contains("MultiLineString"));
    assert!(
        report
            .repaired
            .iter()
            .any(|r| r.contains("feature 2 (江北区) polygon 0 ring 0: touches itself")),
        "{:?}",
        report.repaired
    );

    let (city, assignment) = city_with(Crs::Wgs84, Crs::Wgs84);
    for (building, code) in [
        ("west", "500103"),
        ("beside-hole", "500103"),
        ("enclave", "500104"),
        ("east", "500105"),
        ("edge-west", "500103"),
        ("edge-east", "500105"),
        ("pinched-hole", "outside"),
        ("far-away", "outside"),
    ] {
        assert_eq!(district_of(&city, building), code, "{building}");
    }
    assert_eq!(assignment.outside, 2);
    let notes = assignment.notes(city.buildings.len());
    assert!(
        notes
            .iter()
            .any(|n| n.contains("2 of 8 buildings lie in no district")),
        "{notes:?}"
    );
    // Every district has a street to drill into, with the district's line.
    for d in &city.districts {
        let streets: Vec<_> = city.streets.iter().filter(|s| s.district == d.id).collect();
        assert_eq!(streets.len(), 1, "{}", d.name_zh);
    }
    let yuzhong = &city.districts[0];
    assert_eq!(yuzhong.name_zh, "渝中区");
    assert_eq!(yuzhong.outline_m[0].holes.len(), 1);
    assert!(citytwin::model::outline_contains(
        &yuzhong.outline_m,
        yuzhong.centre_m
    ));
    // 界外 has an outline traced around its buildings, its label inside.
    let outside = &city.districts[3];
    assert_eq!(outside.name_zh, "界外");
    assert!(!outside.outline_m.is_empty());
    assert!(citytwin::model::outline_contains(
        &outside.outline_m,
        outside.centre_m
    ));
}

#[test]
fn gcj02_boundaries_line_up_with_gcj02_buildings() {
    // Both in GCJ-02, both converted: the buildings 50 m either side of the
    // shared edge land on their own sides.
    let (city, _) = city_with(Crs::Gcj02, Crs::Gcj02);
    assert_eq!(district_of(&city, "edge-west"), "500103");
    assert_eq!(district_of(&city, "edge-east"), "500105");
    // Read as WGS84 while the buildings are converted, the boundaries sit
    // hundreds of metres off and one side's building changes district.
    let (mixed, _) = city_with(Crs::Gcj02, Crs::Wgs84);
    assert_ne!(
        (
            district_of(&mixed, "edge-west"),
            district_of(&mixed, "edge-east")
        ),
        ("500103".to_owned(), "500105".to_owned())
    );
}

#[test]
fn streets_find_their_district_by_parent_code_or_by_place() {
    let streets = r#"{"type":"FeatureCollection","features":[
     {"type":"Feature","properties":{"code":"500103001","name":"西街道","parent":"500103"},
      "geometry":{"type":"Polygon","coordinates":[[[106.50,29.54],[106.53,29.54],[106.53,29.58],[106.50,29.58],[106.50,29.54]]]}},
     {"type":"Feature","properties":{"code":"500103002","name":"东街道"},
      "geometry":{"type":"Polygon","coordinates":[[[106.53,29.54],[106.56,29.54],[106.56,29.58],[106.53,29.58],[106.53,29.54]]]}},
     {"type":"Feature","properties":{"code":"999","name":"远街道"},
      "geometry":{"type":"Polygon","coordinates":[[[107.0,30.0],[107.01,30.0],[107.01,30.01],[107.0,30.0]]]}}
    ]}"#;
    let report = import_str(&buildings_geojson(), "b", &ImportOptions::default()).expect("b");
    let mut city = city_from_import(&report, None, "test");
    let options = BoundaryOptions::default();
    let districts = import_boundaries_str(DISTRICTS, "d", &options).expect("d");
    let streets = import_boundaries_str(streets, "s", &options).expect("s");
    let assignment = apply_boundaries(&mut city, None, &districts, Some(&streets));
    let street_of = |building: &str| {
        let b = city
            .buildings
            .iter()
            .find(|b| b.name.as_deref() == Some(building))
            .expect(building);
        let s = &city.streets[usize::from(b.street.0)];
        assert_eq!(
            s.district, b.district,
            "{building}: its street is in its district"
        );
        s.name_zh.clone()
    };
    assert_eq!(street_of("west"), "西街道");
    assert_eq!(street_of("beside-hole"), "西街道");
    assert_eq!(street_of("edge-west"), "东街道");
    // The enclave's district has no street of its own: the catch-all.
    assert_eq!(street_of("enclave"), "大渡口区（未分街道）");
    assert_eq!(assignment.streets_by_place, 1, "东街道 names no parent");
    assert_eq!(assignment.orphan_streets, vec!["远街道".to_owned()]);
    // enclave, east, edge-east, pinched-hole, far-away: no street holds them.
    assert_eq!(assignment.streetless, 5);
}

#[test]
fn bad_boundary_files_are_refused_naming_the_file_and_the_reason() {
    let dir = common::output_path("boundaries");
    std::fs::create_dir_all(&dir).expect("dir");
    let none = dir.join("lines.geojson");
    std::fs::write(
        &none,
        r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"name":"x"},"geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]]]}}]}"#,
    )
    .expect("write");
    let error = import_boundaries(&none, &BoundaryOptions::default())
        .expect_err("no code")
        .to_string();
    assert!(
        error.contains("lines.geojson: none of its 1 features is a usable area boundary")
            && error.contains("no code"),
        "{error}"
    );
    // Named by option, the same file reads.
    let named = import_boundaries(
        &none,
        &BoundaryOptions {
            code_key: Some("name".to_owned()),
            ..BoundaryOptions::default()
        },
    )
    .expect("code from name");
    assert_eq!(named.areas[0].code, "x");
    let missing = import_boundaries(&dir.join("nope.geojson"), &BoundaryOptions::default())
        .expect_err("missing")
        .to_string();
    assert!(missing.contains("nope.geojson"), "{missing}");
}

/// Pixels of the drilled-into area's outline colour (theme BORDER_FOCUS,
/// a light cyan).
fn is_focus_line(p: [u8; 3]) -> bool {
    p[2] > 170 && p[1] > 140 && p[0] < 150 && i32::from(p[2]) - i32::from(p[0]) > 80
}

#[test]
fn drilled_into_a_real_district_its_outline_sits_on_the_polygon_edge() {
    let (city, _) = city_with(Crs::Wgs84, Crs::Wgs84);
    let city = Arc::new(city);
    let frame = LocalFrame::new(city.bounds.origin_lon_lat[0], city.bounds.origin_lon_lat[1]);
    let centre = frame.to_local(106.535, 29.56);
    let view = OrbitCamera {
        focus: Vec3::new(centre[0], 0.0, -centre[1]),
        distance_m: 9_000.0,
        pitch_deg: 89.0,
        heading_deg: 0.0,
    };
    let size = UVec2::new(480, 360);
    let mut headless = HeadlessCity::new(city.clone(), view, size, false);
    let yuzhong = city.districts[0].id;
    headless.app().world_mut().resource_mut::<Drill>().at = Area::District(yuzhong);
    let drilled = headless.capture().expect("drilled");
    drilled
        .save(common::output_path("boundary_drilled_500103.png"))
        .expect("save");
    // The polygon's edges (exterior and hole) on the screen.
    let mut edges: Vec<([f32; 2], [f32; 2])> = Vec::new();
    for ring in city.districts[0].outline_m.iter().flat_map(|p| p.rings()) {
        for i in 0..ring.len() {
            let (a, b) = (ring[i], ring[(i + 1) % ring.len()]);
            let project = |p: [f32; 2]| {
                let s = headless
                    .project(Vec3::from(world_from_local(p, 6.0)))
                    .expect("on screen");
                [s.x, s.y]
            };
            edges.push((project(a), project(b)));
        }
    }
    let distance = |p: [f32; 2]| {
        edges
            .iter()
            .map(|(a, b)| {
                let (d, t) = ([b[0] - a[0], b[1] - a[1]], [p[0] - a[0], p[1] - a[1]]);
                let k = ((d[0] * t[0] + d[1] * t[1]) / (d[0] * d[0] + d[1] * d[1]).max(1e-6))
                    .clamp(0.0, 1.0);
                (t[0] - d[0] * k).hypot(t[1] - d[1] * k)
            })
            .fold(f32::INFINITY, f32::min)
    };
    let mut line_pixels = 0;
    for (x, y, p) in drilled.enumerate_pixels() {
        if is_focus_line([p.0[0], p.0[1], p.0[2]]) {
            line_pixels += 1;
            let d = distance([x as f32 + 0.5, y as f32 + 0.5]);
            assert!(
                d <= 2.0,
                "an outline pixel at ({x}, {y}) lies {d:.1} px off the polygon"
            );
        }
    }
    // And the line is there all along: most points along the edges have a
    // line pixel within 2 px.
    let (mut along, mut seen) = (0, 0);
    for (a, b) in &edges {
        let len = (b[0] - a[0]).hypot(b[1] - a[1]);
        for k in 0..(len / 4.0) as usize {
            let t = k as f32 * 4.0 / len;
            let p = [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t];
            along += 1;
            let hit = (-2i32..=2).any(|dy| {
                (-2i32..=2).any(|dx| {
                    let (x, y) = (p[0] as i32 + dx, p[1] as i32 + dy);
                    x >= 0
                        && y >= 0
                        && (x as u32) < size.x
                        && (y as u32) < size.y
                        && is_focus_line(
                            drilled.get_pixel(x as u32, y as u32).0[..3]
                                .try_into()
                                .expect("rgb"),
                        )
                })
            });
            seen += usize::from(hit);
        }
    }
    assert!(line_pixels > 200, "{line_pixels} outline pixels");
    assert!(
        seen * 10 >= along * 9,
        "{seen} of {along} points along the edge have the line"
    );
    // Outside the district the buildings dim; inside they do not: the two
    // 100 m either side of its east edge, from close by.
    let roof = |name: &str| {
        let b = city
            .buildings
            .iter()
            .find(|b| b.name.as_deref() == Some(name))
            .expect(name);
        let c = b.centre_m();
        Vec3::from(world_from_local(c, b.top_elevation_m()))
    };
    let (west, east) = (roof("edge-west"), roof("edge-east"));
    headless.set_view(OrbitCamera {
        focus: (west + east) * 0.5,
        distance_m: 250.0,
        pitch_deg: 89.0,
        heading_deg: 0.0,
    });
    let mut luminance = |area: Area| {
        headless.app().world_mut().resource_mut::<Drill>().at = area;
        let image = headless.capture().expect("close-up");
        [west, east].map(|roof| {
            let s = headless.project(roof).expect("on screen");
            let p = common::patch_rgb(&image, s.x as u32, s.y as u32);
            0.2126 * f32::from(p[0]) + 0.7152 * f32::from(p[1]) + 0.0722 * f32::from(p[2])
        })
    };
    let [west_whole, east_whole] = luminance(Area::City);
    let [west_drilled, east_drilled] = luminance(Area::District(yuzhong));
    assert!(
        east_drilled < east_whole * 0.8,
        "outside: {east_drilled} vs {east_whole}"
    );
    assert!(
        west_drilled > west_whole * 0.95,
        "inside: {west_drilled} vs {west_whole}"
    );
}

#[test]
fn render_takes_districts_and_draws_a_real_district_drilled_in() {
    let dir = common::output_path("boundaries-cli");
    std::fs::create_dir_all(&dir).expect("dir");
    let (buildings, districts, out) = (
        dir.join("b.geojson"),
        dir.join("districts.json"),
        dir.join("drilled.png"),
    );
    std::fs::write(&buildings, buildings_geojson()).expect("write");
    std::fs::write(&districts, DISTRICTS).expect("write");
    let run = Command::new(env!("CARGO_BIN_EXE_citytwin"))
        .args(["render", "--buildings"])
        .arg(&buildings)
        .arg("--districts")
        .arg(&districts)
        .args(["--area", "500103", "--size", "160x120", "--out"])
        .arg(&out)
        .output()
        .expect("run");
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{stderr}");
    assert!(
        stderr.contains("feature 3 skipped: geometry type MultiLineString"),
        "{stderr}"
    );
    assert!(
        stderr.contains("2 of 8 buildings lie in no district → 界外"),
        "{stderr}"
    );
    assert!(
        stderr.contains("4 districts, 4 streets, 8 buildings placed"),
        "{stderr}"
    );
    assert!(image::open(&out).is_ok());
    // A code the boundaries do not have is refused, naming it.
    let refused = Command::new(env!("CARGO_BIN_EXE_citytwin"))
        .args(["render", "--buildings"])
        .arg(&buildings)
        .arg("--districts")
        .arg(&districts)
        .args(["--area", "500106", "--size", "64x64", "--out"])
        .arg(&out)
        .output()
        .expect("run");
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--area 500106"));
}
