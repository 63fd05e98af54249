//! Real-data import: GeoJSON buildings (heights, levels, broken features,
//! unreadable files) and GeoTIFF DEM sampling; buildings stand on the terrain.

mod common;

use citytwin::geo::assemble::{
    OSM_ATTRIBUTION, city_from_import, dem_coverage_problem, ground_under,
};
use citytwin::geo::dem::{Dem, DemError};
use citytwin::geo::gcj02::wgs84_to_gcj02;
use citytwin::geo::geojson::{
    Crs, HeightNote, HeightSource, ImportError, ImportOptions, import_file, import_str,
};
use common::shared_data;

#[test]
fn shanghai_bund_heights_are_parsed_and_the_rest_default() {
    let report = import_file(
        &shared_data("buildings/shanghai_bund.geojson"),
        &ImportOptions::default(),
    )
    .expect("shanghai imports");
    assert_eq!(report.features, 1572);
    assert!(report.skipped.is_empty(), "{:?}", report.skipped.first());
    let with_height = report
        .buildings
        .iter()
        .filter(|b| b.height_source == HeightSource::Height)
        .count();
    // 770 features have a height; 4 of them say 0 (unknown) and fall back.
    assert_eq!(with_height, 766);
    let tallest = report
        .buildings
        .iter()
        .map(|b| b.height_m)
        .fold(0.0, f32::max);
    assert!(
        (tallest - 632.0).abs() < 1.0,
        "Shanghai Tower is 632 m, got {tallest}"
    );
    assert!(
        report
            .buildings
            .iter()
            .filter(|b| b.height_source == HeightSource::Default)
            .all(|b| b.height_m == 12.0)
    );
    let city = city_from_import(&report, None, "bund");
    assert_eq!(city.attributions, vec![OSM_ATTRIBUTION.to_owned()]);
}

#[test]
fn every_height_fallback_is_counted_per_reason_and_reported_once() {
    let feature = |props: &str, x: f64| {
        format!(
            r#"{{"type":"Feature","properties":{{{props}}},"geometry":{{"type":"Polygon","coordinates":[[[{x},29.56],[{},29.56],[{},29.561],[{x},29.56]]]}}}}"#,
            x + 0.001,
            x + 0.001
        )
    };
    let props = [
        r#""height":-50"#,
        r#""height":0,"building:levels":5"#,
        r#""height":"abc""#,
        r#""height":"NaN""#,
        r#""height":"20 m""#,
        r#""height":"20 m""#,
        r#""building:levels":4"#,
        r#""name":"no height at all""#,
        r#""height":33.5"#,
    ];
    let features: Vec<String> = props
        .iter()
        .enumerate()
        .map(|(i, p)| feature(p, 106.58 + i as f64 * 0.01))
        .collect();
    let text = format!(
        r#"{{"type":"FeatureCollection","features":[{}]}}"#,
        features.join(",")
    );
    let report = import_str(&text, "inline", &ImportOptions::default()).expect("imports");
    let heights: Vec<f32> = report.buildings.iter().map(|b| b.height_m).collect();
    assert_eq!(
        heights,
        vec![12.0, 15.0, 12.0, 12.0, 20.0, 20.0, 12.0, 12.0, 33.5]
    );
    let count = |note| report.height_notes.get(&note).map(|(n, _)| *n);
    assert_eq!(count(HeightNote::NotPositive), Some(2));
    assert_eq!(count(HeightNote::Unparseable), Some(2));
    assert_eq!(count(HeightNote::WithUnit), Some(2));
    assert_eq!(count(HeightNote::MissingUsedLevels), Some(1));
    assert_eq!(count(HeightNote::MissingUsedDefault), Some(1));
    assert_eq!(
        report.height_summary(12.0),
        vec![
            "1 heights missing → levels × 3 m",
            "1 with neither height nor levels → default 12 m",
            "2 negative or zero (e.g. -50) → levels × 3 m, else default 12 m",
            "2 unparseable (e.g. 'abc') → levels × 3 m, else default 12 m",
            "2 written with a unit (e.g. '20 m') → read as metres",
        ]
    );
}

#[test]
fn a_self_intersecting_footprint_is_skipped_with_its_index() {
    let text = r#"{"type":"FeatureCollection","features":[
      {"type":"Feature","properties":{"height":10},"geometry":{"type":"Polygon","coordinates":[[[106.58,29.56],[106.581,29.56],[106.581,29.561],[106.58,29.561],[106.58,29.56]]]}},
      {"type":"Feature","properties":{"height":10},"geometry":{"type":"Polygon","coordinates":[[[106.59,29.56],[106.591,29.561],[106.591,29.56],[106.59,29.561],[106.59,29.56]]]}}
    ]}"#;
    let report = import_str(text, "inline", &ImportOptions::default()).expect("imports");
    assert_eq!(report.buildings.len(), 1, "the square stays");
    assert_eq!(report.skipped.len(), 1);
    assert_eq!(report.skipped[0].index, 1);
    assert!(
        report.skipped[0]
            .reason
            .contains("ring crosses itself (edge 0 meets edge 2)"),
        "{}",
        report.skipped[0].reason
    );
}

#[test]
fn building_codes_come_from_the_data_and_stay_unique() {
    let square = |x: f64| {
        format!(
            "[[[{x},29.56],[{},29.56],[{},29.561],[{x},29.56]]]",
            x + 0.001,
            x + 0.001
        )
    };
    let text = format!(
        r#"{{"type":"FeatureCollection","features":[
      {{"type":"Feature","id":77,"properties":{{"osm_id":14976623,"osm_type":"multipolygon"}},"geometry":{{"type":"Polygon","coordinates":{}}}}},
      {{"type":"Feature","properties":{{"osm_id":"555","osm_type":"way"}},"geometry":{{"type":"Polygon","coordinates":{}}}}},
      {{"type":"Feature","properties":{{"code":"500103-0000042"}},"geometry":{{"type":"MultiPolygon","coordinates":[{},{}]}}}},
      {{"type":"Feature","id":"b-9","properties":{{}},"geometry":{{"type":"Polygon","coordinates":{}}}}},
      {{"type":"Feature","properties":{{}},"geometry":{{"type":"Polygon","coordinates":{}}}}}
    ]}}"#,
        square(106.58),
        square(106.59),
        square(106.60),
        square(106.61),
        square(106.62),
        square(106.63)
    );
    let report = import_str(&text, "inline", &ImportOptions::default()).expect("imports");
    assert_eq!(
        citytwin::geo::assemble::building_codes(&report),
        vec![
            "OSM-r14976623",
            "OSM-w555",
            "500103-0000042",
            "b-9",
            "B-0000005",
        ]
    );
    let city = city_from_import(&report, None, "codes");
    assert_eq!(city.buildings[0].code, "OSM-r14976623");
    // The MultiPolygon is one building with two parts: one id, one code.
    assert_eq!(city.buildings.len(), 5);
    let multi = &city.buildings[2];
    assert_eq!(multi.code, "500103-0000042");
    assert_eq!(multi.parts_m.len(), 1);
    assert_eq!(multi.rings().count(), 2);
    assert_eq!(city.buildings[3].code, "b-9");
}

#[test]
fn levels_give_three_metres_each_and_height_wins() {
    let text = r#"{"type":"FeatureCollection","features":[
      {"type":"Feature","properties":{"building:levels":"10"},"geometry":{"type":"Polygon","coordinates":[[[106.58,29.56],[106.581,29.56],[106.581,29.561],[106.58,29.56]]]}},
      {"type":"Feature","properties":{"levels":4,"height":"55 m"},"geometry":{"type":"Polygon","coordinates":[[[106.59,29.56],[106.591,29.56],[106.591,29.561],[106.59,29.56]]]}},
      {"type":"Feature","properties":{"floors":7},"geometry":{"type":"MultiPolygon","coordinates":[[[[106.60,29.56],[106.601,29.56],[106.601,29.561],[106.60,29.56]]],[[[106.61,29.56],[106.611,29.56],[106.611,29.561],[106.61,29.56]]]]}}
    ]}"#;
    let report = import_str(text, "inline", &ImportOptions::default()).expect("imports");
    let heights: Vec<(f32, HeightSource)> = report
        .buildings
        .iter()
        .map(|b| (b.height_m, b.height_source))
        .collect();
    assert_eq!(
        heights,
        vec![
            (30.0, HeightSource::Levels),
            (55.0, HeightSource::Height),
            (21.0, HeightSource::Levels),
            (21.0, HeightSource::Levels),
        ]
    );
    // Closing positions are dropped.
    assert_eq!(report.buildings[0].outer_ring().len(), 3);
}

#[test]
fn a_broken_feature_is_skipped_with_its_index_and_the_rest_import() {
    let text = r#"{"type":"FeatureCollection","features":[
      {"type":"Feature","properties":{},"geometry":{"type":"Polygon","coordinates":[[[1,1],[1.001,1],[1.001,1.001],[1,1]]]}},
      {"type":"Feature","properties":{},"geometry":{"type":"Polygon","coordinates":[[[1,1],["x",2]]]}},
      {"type":"Feature","properties":{},"geometry":{"type":"Point","coordinates":[1,1]}},
      {"type":"Feature","properties":{},"geometry":{"type":"Polygon","coordinates":[[[1,1],[1,1],[1,1]]]}},
      {"type":"Feature","properties":{},"geometry":{"type":"Polygon","coordinates":[[[500,1],[1.001,1],[1.001,1.001]]]}},
      {"type":"Feature","properties":{"height":0},"geometry":{"type":"Polygon","coordinates":[[[3,3],[3.001,3],[3.001,3.001]]]}},
      {"type":"Feature","properties":{"height":5000},"geometry":{"type":"Polygon","coordinates":[[[4,4],[4.001,4],[4.001,4.001]]]}},
      {"type":"Feature","properties":{"height":2},"geometry":{"type":"Polygon","coordinates":[[[2,2],[2.001,2],[2.001,2.001]]]}}
    ]}"#;
    let report = import_str(text, "broken.geojson", &ImportOptions::default())
        .expect("the good ones import");
    assert_eq!(report.buildings.len(), 3);
    assert_eq!(report.buildings[1].height_source, HeightSource::Default);
    let skipped: Vec<usize> = report.skipped.iter().map(|s| s.index).collect();
    assert_eq!(skipped, vec![1, 2, 3, 4, 6]);
    assert!(report.skipped[4].reason.contains("5000"));
    assert!(
        report.skipped[0].reason.contains("Polygon coordinates"),
        "{}",
        report.skipped[0].reason
    );
    assert!(report.skipped[1].reason.contains("Point"));
    assert!(report.skipped[2].reason.contains("distinct"));
    assert!(report.skipped[3].reason.contains("position 0"));
}

#[test]
fn unreadable_and_invalid_files_are_clear_errors() {
    let missing = import_file(
        std::path::Path::new("/nonexistent/city.geojson"),
        &ImportOptions::default(),
    )
    .expect_err("missing file");
    assert!(matches!(missing, ImportError::Io { .. }));
    assert!(missing.to_string().contains("/nonexistent/city.geojson"));

    let truncated = import_str(
        r#"{"type":"FeatureCollection","features":[{"#,
        "cut.geojson",
        &ImportOptions::default(),
    )
    .expect_err("truncated JSON");
    let message = truncated.to_string();
    assert!(
        message.contains("cut.geojson") && message.contains("line 1"),
        "{message}"
    );

    let wrong = import_str(
        r#"{"type":"Feature","features":[]}"#,
        "one.geojson",
        &ImportOptions::default(),
    )
    .expect_err("not a collection");
    assert!(matches!(wrong, ImportError::NotFeatureCollection { .. }));

    let none = import_str(
        r#"{"type":"FeatureCollection","features":[{"type":"Feature","geometry":null}]}"#,
        "empty.geojson",
        &ImportOptions::default(),
    )
    .expect_err("no buildings");
    assert!(none.to_string().contains("feature 0"), "{none}");
}

#[test]
fn gcj02_input_is_converted_back_to_wgs84() {
    let wgs = [106.5858, 29.5647];
    let gcj = wgs84_to_gcj02(wgs[0], wgs[1]);
    let text = format!(
        r#"{{"type":"FeatureCollection","features":[{{"type":"Feature","properties":{{}},"geometry":{{"type":"Polygon","coordinates":[[[{},{}],[{},{}],[{},{}]]]}}}}]}}"#,
        gcj[0],
        gcj[1],
        gcj[0] + 0.001,
        gcj[1],
        gcj[0],
        gcj[1] + 0.001
    );
    let options = ImportOptions {
        crs: Crs::Gcj02,
        ..ImportOptions::default()
    };
    let report = import_str(&text, "gcj.geojson", &options).expect("imports");
    let p = report.buildings[0].outer_ring()[0];
    let error_m = citytwin::geo::frame::distance_m(p, wgs);
    assert!(error_m < 1.0, "{error_m} m");
}

#[test]
fn moscow_41k_footprints_all_import() {
    let report = import_file(
        &shared_data("buildings/moscow_41k.geojson"),
        &ImportOptions::default(),
    )
    .expect("moscow imports");
    assert_eq!(report.features, 41_046);
    assert!(
        report.skipped.len() < 10,
        "skipped {:?}",
        report.skipped.first()
    );
    assert!(report.buildings.len() >= 41_000);
}

/// Values read from hakone_aster_30m.tif with an independent reader (Pillow).
const HAKONE_PIXELS: [(usize, usize, f32); 5] = [
    (0, 0, 1089.0),
    (100, 200, 1261.0),
    (434, 442, 90.0),
    (500, 300, 194.0),
    (7, 117, 1668.0),
];

#[test]
fn dem_samples_known_pixels() {
    let dem = Dem::load(&shared_data("dem/hakone_aster_30m.tif")).expect("DEM loads");
    assert_eq!((dem.cols, dem.rows), (884, 868));
    let [w, s, e, n] = dem.bounds();
    assert!(
        (w - 139.1057).abs() < 1e-3 && (e - 139.3513).abs() < 1e-3,
        "{w} {e}"
    );
    assert!(
        (s - 35.2471).abs() < 1e-3 && (n - 35.4882).abs() < 1e-3,
        "{s} {n}"
    );
    for (row, col, want) in HAKONE_PIXELS {
        assert_eq!(dem.pixel(row, col), Some(want));
        // The centre of a pixel samples exactly its value.
        let lon = dem.west_lon + (col as f64 + 0.5) * dem.pixel_deg[0];
        let lat = dem.north_lat - (row as f64 + 0.5) * dem.pixel_deg[1];
        let got = dem.sample(lon, lat).expect("inside");
        assert!((got - want).abs() < 0.01, "({row},{col}) {got} vs {want}");
    }
    assert_eq!(dem.sample(0.0, 0.0), None);
}

#[test]
fn dem_errors_name_the_file_and_reason() {
    let err = Dem::load(std::path::Path::new("/nonexistent/dem.tif")).expect_err("missing");
    assert!(matches!(err, DemError::Io { .. }) && err.to_string().contains("/nonexistent/dem.tif"));
    let not_tiff = shared_data("buildings/shanghai_bund.geojson");
    let err = Dem::load(&not_tiff).expect_err("not a TIFF");
    assert!(matches!(err, DemError::Tiff { .. }), "{err}");
    assert!(err.to_string().contains("shanghai_bund.geojson"));
}

#[test]
fn buildings_stand_on_dem_terrain() {
    let dem = Dem::load(&shared_data("dem/hakone_aster_30m.tif")).expect("DEM loads");
    // Two buildings on the slopes above Hakone.
    let text = r#"{"type":"FeatureCollection","features":[
      {"type":"Feature","properties":{"height":20},"geometry":{"type":"Polygon","coordinates":[[[139.10,35.23],[139.1004,35.23],[139.1004,35.2304],[139.10,35.2304]]]}},
      {"type":"Feature","properties":{"height":9},"geometry":{"type":"Polygon","coordinates":[[[139.20,35.40],[139.2004,35.40],[139.2004,35.4004],[139.20,35.4004]]]}}
    ]}"#;
    let report = import_str(text, "hakone.geojson", &ImportOptions::default()).expect("imports");
    let city = citytwin::geo::assemble::city_from_import(&report, Some(&dem), "hakone");
    let b = &city.buildings[1];
    let ground = ground_under(&city.terrain, &b.footprint_m);
    assert_eq!(b.base_elevation_m, ground);
    // The terrain under it is the DEM's elevation there (mountain, not 0).
    let [olon, olat] = city.bounds.origin_lon_lat;
    let frame = citytwin::geo::LocalFrame::new(olon, olat);
    let local = frame.to_local(139.2002, 35.4002);
    let dem_here = dem.sample(139.2002, 35.4002).expect("inside DEM");
    assert!(dem_here > 100.0);
    assert!((city.terrain.height_at(local) - dem_here).abs() < 25.0);
    assert!(b.base_elevation_m <= city.terrain.height_at(local) + 0.01);
    // The first lies south of the DEM (outside): it sits on the lowest valid elevation.
    assert!(city.buildings[0].base_elevation_m >= 0.0);
}

fn write_dem(path: &std::path::Path, cols: u32, rows: u32, lon: f64, lat: f64) {
    common::write_dem(path, cols, rows, lon, lat, 0.01, |col, row| {
        (100 + (row * cols + col) % 1000) as i16
    });
}

#[test]
fn a_dem_that_misses_the_buildings_or_has_no_cells_is_named() {
    let dir = std::env::temp_dir().join(format!("citytwin-dem-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let one = dir.join("one_pixel.tif");
    write_dem(&one, 1, 1, 106.5, 29.6);
    let e = Dem::load(&one).expect_err("1×1 is no terrain");
    assert!(
        e.to_string()
            .contains("1×1 pixels, a terrain needs at least 2×2"),
        "{e}"
    );

    // Buildings in Shanghai, a DEM over Hakone: named, both extents given.
    let report = import_file(
        &shared_data("buildings/shanghai_bund.geojson"),
        &ImportOptions::default(),
    )
    .expect("bund imports");
    let hakone = Dem::load(&shared_data("dem/hakone_aster_30m.tif")).expect("hakone");
    let problem = dem_coverage_problem(&hakone, "hakone.tif", &report).expect("a problem");
    assert!(
        problem.starts_with("DEM hakone.tif (lon 139.")
            && problem.contains("does not overlap the buildings")
            && problem.contains("(buildings: lon 121."),
        "{problem}"
    );
    // Half under the DEM: the share is given.
    let [w, s, e, n] = citytwin::geo::assemble::import_extent(&report).expect("extent");
    let half = dir.join("half.tif");
    // From just west of them to about their middle.
    let cols = (((e - w) / 2.0) / 0.01).ceil() as u32 + 1;
    let rows = ((n - s) / 0.01).ceil() as u32 + 2;
    write_dem(&half, cols, rows, w - 0.01, n + 0.01);
    let dem = Dem::load(&half).expect("half dem");
    let problem = dem_coverage_problem(&dem, "half.tif", &report);
    // Whatever the rounding, it covers some but not all of it.
    let problem = problem.expect("partial coverage is named");
    assert!(problem.contains("% of the buildings' extent"), "{problem}");
    // A DEM that covers them all: nothing to say.
    let all = dir.join("all.tif");
    write_dem(&all, 200, 200, w - 0.5, n + 0.5);
    let dem = Dem::load(&all).expect("big dem");
    assert_eq!(dem_coverage_problem(&dem, "all.tif", &report), None);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn exaggerated_relief_keeps_buildings_on_the_ground() {
    let dem = Dem::load(&shared_data("dem/hakone_aster_30m.tif")).expect("DEM loads");
    let text = r#"{"type":"FeatureCollection","features":[
      {"type":"Feature","properties":{"height":9},"geometry":{"type":"Polygon","coordinates":[[[139.20,35.40],[139.2004,35.40],[139.2004,35.4004],[139.20,35.4004]]]}}
    ]}"#;
    let report = import_str(text, "hakone.geojson", &ImportOptions::default()).expect("imports");
    let mut city = city_from_import(&report, Some(&dem), "hakone");
    let before = city.terrain.clone();
    let base = city.buildings[0].base_elevation_m;
    citytwin::geo::assemble::exaggerate_relief(&mut city, 3.0);
    let top = |t: &citytwin::model::Terrain| t.heights_m.iter().copied().fold(f32::MIN, f32::max);
    assert!((top(&city.terrain) - 3.0 * top(&before)).abs() < 1e-2);
    let b = &city.buildings[0];
    assert!(
        (b.base_elevation_m - 3.0 * base).abs() < 1.0,
        "{} vs 3 × {base}",
        b.base_elevation_m
    );
    assert_eq!(
        b.base_elevation_m,
        ground_under(&city.terrain, &b.footprint_m)
    );
}

#[test]
fn a_multipolygon_is_one_building_drawn_picked_and_coloured_as_one() {
    use bevy::math::{UVec2, Vec3};
    use citytwin::cockpit::camera::OrbitCamera;
    use citytwin::cockpit::headless::HeadlessCity;
    use citytwin::model::RiskLevel;
    // Two 40 m squares 120 m apart, one feature; a lone square beside.
    let text = r#"{"type":"FeatureCollection","features":[
      {"type":"Feature","properties":{"code":"TWIN","height":30},"geometry":{"type":"MultiPolygon","coordinates":[
        [[[106.5800,29.5600],[106.5804,29.5600],[106.5804,29.5604],[106.5800,29.5604],[106.5800,29.5600]]],
        [[[106.5816,29.5600],[106.5820,29.5600],[106.5820,29.5604],[106.5816,29.5604],[106.5816,29.5600]]]]}},
      {"type":"Feature","properties":{"code":"LONE","height":30},"geometry":{"type":"Polygon","coordinates":[
        [[106.5808,29.5610],[106.5812,29.5610],[106.5812,29.5614],[106.5808,29.5614],[106.5808,29.5610]]]}}
    ]}"#;
    let report = import_str(text, "twin", &ImportOptions::default()).expect("imports");
    let city = std::sync::Arc::new(city_from_import(&report, None, "twin"));
    assert_eq!(city.buildings.len(), 2);
    let twin = &city.buildings[0];
    assert_eq!((twin.code.as_str(), twin.parts_m.len()), ("TWIN", 1));
    let roof = |ring: &[[f32; 2]]| {
        let n = ring.len() as f32;
        let c = ring
            .iter()
            .fold([0.0, 0.0], |s, p| [s[0] + p[0] / n, s[1] + p[1] / n]);
        Vec3::from(citytwin::geo::world_from_local(c, twin.top_elevation_m()))
    };
    let (a, b) = (roof(&twin.footprint_m), roof(&twin.parts_m[0]));
    let view = OrbitCamera {
        focus: (a + b) * 0.5,
        distance_m: 400.0,
        pitch_deg: 89.0,
        heading_deg: 0.0,
    };
    let mut headless = HeadlessCity::new(city.clone(), view, UVec2::new(240, 180), false);
    headless
        .state_mut()
        .set_levels([(twin.id, RiskLevel::Major)]);
    let image = headless.capture().expect("frame");
    image
        .save(common::output_path("multipolygon.png"))
        .expect("save");
    for part in [a, b] {
        let px = headless.project(part).expect("in view");
        assert_eq!(
            headless.pick(px),
            Some(twin.id),
            "each part picks the one building"
        );
        let c = common::patch_rgb(&image, px.x as u32, px.y as u32);
        assert!(
            common::is_red(c),
            "each part takes the building's colour: {c:?}"
        );
    }
    let lone = &city.buildings[1];
    let px = headless.project(roof(&lone.footprint_m)).expect("in view");
    assert_eq!(headless.pick(px), Some(lone.id));
    assert!(!common::is_red(common::patch_rgb(
        &image,
        px.x as u32,
        px.y as u32
    )));
}
