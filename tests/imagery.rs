//! Imagery base maps: the shared image as GeoTIFF (EPSG:4326) and as
//! MBTiles (EPSG:3857 tiles), composited and draped on the terrain.

mod common;

use std::sync::Arc;

use bevy::math::{UVec2, Vec3};
use citytwin::cockpit::camera::OrbitCamera;
use citytwin::cockpit::headless::HeadlessCity;
use citytwin::geo::imagery::Imagery;
use citytwin::geo::{LocalFrame, world_from_local};

const TIF: &str = "imagery/paris_sannois_spacenet3_img1447.tif";
const MBTILES: &str = "imagery/paris_sannois_spacenet3_img1447_3857.mbtiles";

fn save(composite: &citytwin::geo::imagery::Composite, name: &str) {
    image::RgbaImage::from_raw(composite.width, composite.height, composite.rgba.clone())
        .expect("composite size")
        .save(common::output_path(name))
        .expect("save");
}

#[test]
fn both_formats_put_the_same_pixels_at_the_same_place() {
    let mut tif = Imagery::open(&common::shared_data(TIF)).expect("GeoTIFF opens");
    let mut mbt = Imagery::open(&common::shared_data(MBTILES)).expect("MBTiles opens");
    // The header-only probe the loader uses says what opening says.
    let (probed, _) = Imagery::probe(&common::shared_data(TIF)).expect("probe");
    assert_eq!(probed, tif.describe());
    let b = tif.bounds();
    assert!(
        (b[0] - 2.281_181_4).abs() < 1e-6 && (b[3] - 48.982_770_9).abs() < 1e-6,
        "{b:?}"
    );
    let m = mbt.bounds();
    assert!(
        (m[0] - b[0]).abs() < 1e-5 && (m[1] - b[1]).abs() < 1e-5,
        "{m:?} vs {b:?}"
    );
    // The inner 80 % of the image at its own resolution.
    let (dx, dy) = ((b[2] - b[0]) * 0.1, (b[3] - b[1]) * 0.1);
    let region = [b[0] + dx, b[1] + dy, b[2] - dx, b[3] - dy];
    let a = tif.compose(region, 520, 520);
    let c = mbt.compose(region, 520, 520);
    save(&a, "imagery_geotiff.png");
    save(&c, "imagery_mbtiles.png");
    assert_eq!(c.stats.zoom, Some(19), "{:?}", c.stats);
    assert_eq!(c.stats.tiles_corrupt, 0);
    let diff: u64 = a
        .rgba
        .iter()
        .zip(&c.rgba)
        .map(|(x, y)| u64::from(x.abs_diff(*y)))
        .sum();
    let mean = diff as f64 / a.rgba.len() as f64;
    eprintln!("mean abs difference {mean:.2} per channel");
    assert!(mean < 12.0, "{mean}");
}

/// The shared data as `citytwin render` loads it: `--imagery FILE` alone.
fn imagery_city(path: &std::path::Path) -> citytwin::model::City {
    citytwin::cli::load_city(&citytwin::cli::DataArgs {
        imagery: Some(path.to_owned()),
        ..citytwin::cli::DataArgs::default()
    })
    .expect("the imagery city loads")
}

/// Straight down on (lon, lat) from `distance` metres, north up.
fn top_down(city: &citytwin::model::City, lon: f64, lat: f64, distance: f32) -> OrbitCamera {
    let frame = LocalFrame::new(city.bounds.origin_lon_lat[0], city.bounds.origin_lon_lat[1]);
    OrbitCamera {
        focus: Vec3::from(world_from_local(frame.to_local(lon, lat), 0.0)),
        distance_m: distance,
        pitch_deg: 89.0,
        heading_deg: 0.0,
    }
    .clamped()
}

fn rgb_distance(a: [u8; 3], b: [u8; 3]) -> f32 {
    let d: f32 = (0..3)
        .map(|k| (f32::from(a[k]) - f32::from(b[k])).powi(2))
        .sum();
    d.sqrt()
}

/// Features of the image: pixels whose 7×7 neighbourhood is one strong
/// colour far from the image's mean — a red roof, a blue car — one per quarter
/// of the image, so a mirrored or shifted drape cannot pass.
fn distinct_features(image: &citytwin::geo::imagery::Composite) -> Vec<(u32, u32, [u8; 3])> {
    let n = (image.width * image.height) as f32;
    let mut mean = [0f32; 3];
    for row in 0..image.height {
        for col in 0..image.width {
            let p = image.pixel(col, row);
            for k in 0..3 {
                mean[k] += f32::from(p[k]) / n;
            }
        }
    }
    let (w, h) = (image.width, image.height);
    let mut candidates: Vec<(f32, u32, u32, [u8; 3])> = Vec::new();
    for row in (10..h - 10).step_by(2) {
        for col in (10..w - 10).step_by(2) {
            let mut sum = [0f32; 3];
            let mut sq = 0f32;
            for dr in 0..7 {
                for dc in 0..7 {
                    let p = image.pixel(col + dc - 3, row + dr - 3);
                    for k in 0..3 {
                        sum[k] += f32::from(p[k]);
                        sq += f32::from(p[k]).powi(2);
                    }
                }
            }
            let avg = sum.map(|s| s / 49.0);
            let variance = sq / 49.0 - avg.iter().map(|a| a * a).sum::<f32>();
            // Coloured (a red roof, a blue car), not white: white is common.
            let chroma = avg.iter().copied().fold(0f32, f32::max)
                - avg.iter().copied().fold(255f32, f32::min);
            if chroma < 70.0 {
                continue;
            }
            let far: f32 = (0..3)
                .map(|k| (avg[k] - mean[k]).powi(2))
                .sum::<f32>()
                .sqrt();
            let score = far - variance.max(0.0).sqrt() * 3.0;
            if score > 0.0 {
                candidates.push((score, col, row, avg.map(|a| a.round() as u8)));
            }
        }
    }
    candidates.sort_by(|a, b| b.0.total_cmp(&a.0));
    // The best four at least 120 px apart.
    let mut chosen: Vec<(u32, u32, [u8; 3])> = Vec::new();
    for (_, col, row, rgb) in candidates {
        let apart = chosen
            .iter()
            .all(|(c, r, _)| c.abs_diff(col).max(r.abs_diff(row)) >= 120);
        if apart && chosen.len() < 4 {
            chosen.push((col, row, rgb));
        }
    }
    assert_eq!(chosen.len(), 4, "four distinct features in the image");
    chosen
}

#[test]
fn a_distinct_feature_renders_at_its_projected_place_from_the_geotiff_and_the_mbtiles() {
    let tif_path = common::shared_data(TIF);
    let mut source = Imagery::open(&tif_path).expect("GeoTIFF opens");
    let b = source.bounds();
    // The image at its own pixels: (col, row) ↔ lon/lat exactly.
    let native = source.compose(b, 650, 650);
    let features = distinct_features(&native);
    let size = UVec2::new(640, 640);
    for path in [tif_path.clone(), common::shared_data(MBTILES)] {
        let city = Arc::new(imagery_city(&path));
        let view = top_down(&city, (b[0] + b[2]) / 2.0, (b[1] + b[3]) / 2.0, 260.0);
        let mut headless = HeadlessCity::new(city.clone(), view, size, false);
        let shot = headless.capture().expect("capture");
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("x");
        shot.save(common::output_path(&format!("imagery_render_{name}.png")))
            .expect("save");
        let frame = LocalFrame::new(city.bounds.origin_lon_lat[0], city.bounds.origin_lon_lat[1]);
        for &(col, row, rgb) in &features {
            let lon = b[0] + (f64::from(col) + 0.5) / 650.0 * (b[2] - b[0]);
            let lat = b[3] - (f64::from(row) + 0.5) / 650.0 * (b[3] - b[1]);
            let at = headless
                .project(Vec3::from(world_from_local(frame.to_local(lon, lat), 0.0)))
                .expect("the feature is on screen");
            let seen = common::patch_rgb(&shot, at.x.round() as u32, at.y.round() as u32);
            let distance = rgb_distance(seen, rgb);
            eprintln!(
                "{name}: feature ({col}, {row}) {rgb:?} at {at:?} shows {seen:?} ({distance:.0})"
            );
            assert!(
                distance < 40.0,
                "{name}: the feature at image pixel ({col}, {row}), {rgb:?}, shows {seen:?} at {at:?}"
            );
        }
        let status = headless.imagery_status().expect("an imagery layer");
        assert!(status.problem.is_none(), "{status:?}");
        assert!(status.composites >= 1);
    }
}

/// The colour of every tile at `zoom` in [`write_mbtiles`] sets.
fn zoom_colour(zoom: u8) -> [u8; 3] {
    match zoom {
        11 => [200, 0, 0],
        12 => [0, 200, 0],
        13 => [0, 0, 200],
        14 => [200, 200, 0],
        15 => [0, 200, 200],
        _ => [200, 0, 200],
    }
}

/// Lon 106.50–106.60, lat 29.50–29.60 (≈ 10 km a side) in solid tiles of
/// one colour per zoom, 11–16, as `gdal_translate -of MBTILES` lays them
/// out (TMS rows, PNG).
const SYNTH_BOUNDS: [f64; 4] = [106.50, 29.50, 106.60, 29.60];

fn write_mbtiles(path: &std::path::Path, attribution: Option<&str>) {
    let _ = std::fs::remove_file(path);
    let conn = rusqlite::Connection::open(path).expect("create mbtiles");
    conn.execute_batch(
        "CREATE TABLE metadata (name TEXT, value TEXT);
         CREATE TABLE tiles (zoom_level INTEGER NOT NULL, tile_column INTEGER NOT NULL,
           tile_row INTEGER NOT NULL, tile_data BLOB NOT NULL,
           UNIQUE (zoom_level, tile_column, tile_row));",
    )
    .expect("schema");
    let b = SYNTH_BOUNDS;
    let mut meta = vec![
        ("format", "png".to_owned()),
        ("minzoom", "11".to_owned()),
        ("maxzoom", "16".to_owned()),
        ("bounds", format!("{},{},{},{}", b[0], b[1], b[2], b[3])),
    ];
    if let Some(a) = attribution {
        meta.push(("attribution", a.to_owned()));
    }
    for (k, v) in meta {
        conn.execute("INSERT INTO metadata VALUES (?1, ?2)", (k, v))
            .expect("metadata");
    }
    for zoom in 11u8..=16 {
        let mut png = Vec::new();
        let [r, g, bl] = zoom_colour(zoom);
        image::RgbaImage::from_pixel(256, 256, image::Rgba([r, g, bl, 255]))
            .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
            .expect("png");
        let n = 2f64.powi(i32::from(zoom));
        let tx = |lon: f64| ((lon + 180.0) / 360.0 * n).floor() as u32;
        let ty = |lat: f64| {
            let phi = lat.to_radians();
            ((1.0 - (phi.tan() + 1.0 / phi.cos()).ln() / std::f64::consts::PI) / 2.0 * n).floor()
                as u32
        };
        for x in tx(b[0])..=tx(b[2]) {
            for y in ty(b[3])..=ty(b[1]) {
                let tms = (n as u32) - 1 - y;
                conn.execute(
                    "INSERT INTO tiles VALUES (?1, ?2, ?3, ?4)",
                    (zoom, x, tms, &png),
                )
                .expect("tile");
            }
        }
    }
}

#[test]
fn tiles_come_from_the_zoom_the_camera_needs() {
    let path = common::output_path("synthetic_zooms.mbtiles");
    write_mbtiles(&path, Some("© Test Maps"));
    let city = Arc::new(imagery_city(&path));
    assert!(
        city.attributions.iter().any(|a| a == "© Test Maps"),
        "the file's attribution is shown: {:?}",
        city.attributions
    );
    let (lon, lat) = (106.55, 29.55);
    let size = UVec2::new(640, 480);
    let mut headless = HeadlessCity::new(
        city.clone(),
        top_down(&city, lon, lat, 14_000.0),
        size,
        false,
    );
    let far = headless.capture().expect("capture far");
    far.save(common::output_path("imagery_zoom_far.png"))
        .expect("save");
    let far_status = headless.imagery_status().expect("layer");
    headless.set_view(top_down(&city, lon, lat, 500.0));
    let near = headless.capture().expect("capture near");
    near.save(common::output_path("imagery_zoom_near.png"))
        .expect("save");
    let near_status = headless.imagery_status().expect("layer");
    eprintln!("far: {far_status:?}\nnear: {near_status:?}");
    let centre = |shot: &image::RgbaImage| common::patch_rgb(shot, size.x / 2, size.y / 2);
    // Far: the whole set at ≈ 10 m a pixel (zoom 14), no detail layer.
    assert_eq!(far_status.zoom, Some(14));
    assert!(far_status.detail_m_per_px.is_none());
    assert!(
        rgb_distance(centre(&far), zoom_colour(14)) < 30.0,
        "{:?}",
        centre(&far)
    );
    // Near: ≈ 1 m screen pixels, the finest zoom (16) around the focus.
    assert_eq!(near_status.zoom, Some(16));
    assert!(
        rgb_distance(centre(&near), zoom_colour(16)) < 30.0,
        "{:?}",
        centre(&near)
    );
    // The corners of the near view are detail too (it covers the screen).
    for (x, y) in [(4, 4), (size.x - 5, size.y - 5)] {
        let seen = common::patch_rgb(&near, x, y);
        assert!(
            rgb_distance(seen, zoom_colour(16)) < 30.0,
            "({x}, {y}): {seen:?}"
        );
    }
}

#[test]
fn the_tile_cache_stays_under_its_cap() {
    let path = common::output_path("synthetic_cap.mbtiles");
    write_mbtiles(&path, None);
    let Imagery::MbTiles(mut tiles) = Imagery::open(&path).expect("opens") else {
        panic!("an MBTiles source");
    };
    let tile_bytes = 256 * 256 * 4;
    tiles.cache_cap_bytes = 3 * tile_bytes;
    let mut imagery = Imagery::MbTiles(tiles);
    // 0.02° at ≈ 2 m a pixel: zoom 16, some 16 tiles.
    let region = [106.54, 29.54, 106.56, 29.56];
    let composite = imagery.compose(region, 1000, 1100);
    assert_eq!(composite.stats.zoom, Some(16));
    assert!(composite.stats.tiles_read >= 9, "{:?}", composite.stats);
    let Imagery::MbTiles(tiles) = &imagery else {
        unreachable!()
    };
    assert!(
        tiles.cache_bytes() <= 3 * tile_bytes,
        "{}",
        tiles.cache_bytes()
    );
    assert!(tiles.evicted >= composite.stats.tiles_read - 3);
    // Every pixel still drawn from its tile.
    assert!(
        composite
            .rgba
            .chunks_exact(4)
            .all(|p| p == [200, 0, 200, 255])
    );
}

#[test]
fn a_corrupt_tile_is_skipped_named_and_counted() {
    let path = common::output_path("corrupt_tile.mbtiles");
    std::fs::copy(common::shared_data(MBTILES), &path).expect("copy");
    let conn = rusqlite::Connection::open(&path).expect("open copy");
    let (x, row): (u32, u32) = conn
        .query_row(
            "SELECT tile_column, tile_row FROM tiles WHERE zoom_level = 19 ORDER BY tile_column, tile_row LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .expect("a tile");
    conn.execute(
        "UPDATE tiles SET tile_data = x'89504E470D0A1A0A00000000' WHERE zoom_level = 19 AND tile_column = ?1 AND tile_row = ?2",
        (x, row),
    )
    .expect("corrupt it");
    drop(conn);
    let mut imagery = Imagery::open(&path).expect("opens");
    let b = imagery.bounds();
    let composite = imagery.compose(b, 650, 650);
    assert_eq!(composite.stats.tiles_corrupt, 1, "{:?}", composite.stats);
    let Imagery::MbTiles(tiles) = &imagery else {
        unreachable!()
    };
    let y = (1u32 << 19) - 1 - row;
    assert_eq!(tiles.corrupt_tiles.len(), 1);
    assert!(
        tiles.corrupt_tiles[0].starts_with(&format!("19/{x}/{y} (TMS row {row}): PNG")),
        "{:?}",
        tiles.corrupt_tiles
    );
    // The other tiles are drawn: most of the image is there.
    let opaque = composite
        .rgba
        .chunks_exact(4)
        .filter(|p| p[3] == 255)
        .count();
    assert!(opaque > 650 * 650 / 2, "{opaque}");
    assert!(
        opaque < 650 * 650,
        "the corrupt tile's ground is left clear"
    );
    // The cockpit reports it too (once, however often it is looked at).
    let city = Arc::new(imagery_city(&path));
    let view = top_down(&city, (b[0] + b[2]) / 2.0, (b[1] + b[3]) / 2.0, 260.0);
    let mut headless = HeadlessCity::new(city, view, UVec2::new(320, 320), false);
    headless.capture().expect("capture");
    headless.capture().expect("capture again");
    let status = headless.imagery_status().expect("layer");
    assert_eq!(status.corrupt_tiles.len(), 1, "{status:?}");
    // And the legend's data lines say so, under the file's name.
    let city = headless
        .app_ref()
        .world()
        .resource::<citytwin::cockpit::state::CityData>()
        .0
        .clone();
    let state = citytwin::cockpit::state::CityState::new(&city);
    let view = citytwin::cockpit::hub_view::HubView::default();
    let cx = citytwin::cockpit::ui::PanelContext {
        imagery: Some(&status),
        ..citytwin::cockpit::ui::PanelContext::new(
            &city,
            &state,
            citytwin::cockpit::ui::Lang::Zh,
            &view,
            None,
        )
    };
    let lines = citytwin::cockpit::ui::legend::imagery_lines(&cx);
    assert_eq!(
        lines,
        vec![
            (
                "影像 corrupt_tile.mbtiles · MBTiles png tiles, zoom 17–19, EPSG:3857".to_owned(),
                false
            ),
            ("已跳过损坏瓦片 1".to_owned(), true),
        ]
    );
}

/// An 8-bit RGB GeoTIFF with the given GeoKeys, 64×64 pixels of `pixel`
/// size from `origin` (north-west corner), red in cols 40–43, rows 20–23.
fn write_rgb_geotiff(path: &std::path::Path, geokeys: &[u16], origin: [f64; 2], pixel: f64) {
    use tiff::encoder::{TiffEncoder, colortype};
    use tiff::tags::Tag;
    let file = std::fs::File::create(path).expect("create tif");
    let mut tiff = TiffEncoder::new(file).expect("encoder");
    let mut image = tiff.new_image::<colortype::RGB8>(64, 64).expect("image");
    let dir = image.encoder();
    dir.write_tag(Tag::ModelPixelScaleTag, &[pixel, pixel, 0.0][..])
        .expect("scale");
    dir.write_tag(
        Tag::ModelTiepointTag,
        &[0.0f64, 0.0, 0.0, origin[0], origin[1], 0.0][..],
    )
    .expect("tiepoint");
    dir.write_tag(Tag::GeoKeyDirectoryTag, geokeys)
        .expect("geokeys");
    let mut samples = Vec::new();
    for row in 0..64 {
        for col in 0..64 {
            let red = (40..44).contains(&col) && (20..24).contains(&row);
            samples.extend(if red { [230, 20, 20] } else { [20, 20, 230] });
        }
    }
    image.write_data(&samples).expect("samples");
}

#[test]
fn a_web_mercator_geotiff_is_resampled_and_a_utm_one_refused_with_the_reason() {
    use citytwin::geo::imagery::{lon_lat_from_mercator, mercator_from_lon_lat};
    let origin = mercator_from_lon_lat(2.0, 49.0);
    let path = common::output_path("mercator.tif");
    write_rgb_geotiff(
        &path,
        &[1, 1, 0, 2, 1024, 0, 1, 1, 3072, 0, 1, 3857],
        origin,
        10.0,
    );
    let mut imagery = Imagery::open(&path).expect("a 3857 GeoTIFF opens");
    assert!(
        imagery.summary().contains("EPSG:3857"),
        "{}",
        imagery.summary()
    );
    // The red block's centre (col 42, row 22) and a blue point 10 pixels west.
    let red = lon_lat_from_mercator(origin[0] + 42.0 * 10.0, origin[1] - 22.0 * 10.0);
    let blue = lon_lat_from_mercator(origin[0] + 32.0 * 10.0, origin[1] - 22.0 * 10.0);
    let b = imagery.bounds();
    let c = imagery.compose(b, 256, 256);
    let at = |p: [f64; 2]| {
        let col = ((p[0] - b[0]) / (b[2] - b[0]) * 256.0) as u32;
        let row = ((b[3] - p[1]) / (b[3] - b[1]) * 256.0) as u32;
        c.pixel(col, row)
    };
    assert_eq!(at(red), [230, 20, 20, 255]);
    assert_eq!(at(blue), [20, 20, 230, 255]);

    let utm = common::output_path("utm.tif");
    write_rgb_geotiff(
        &utm,
        &[1, 1, 0, 2, 1024, 0, 1, 1, 3072, 0, 1, 32631],
        [448_000.0, 5_425_000.0],
        0.3,
    );
    let error = Imagery::open(&utm)
        .err()
        .expect("a UTM GeoTIFF is refused")
        .to_string();
    assert!(
        error.contains("utm.tif")
            && error.contains("EPSG:32631 is UTM zone 31N")
            && error.contains("gdalwarp"),
        "{error}"
    );
}

#[test]
fn imagery_that_misses_the_city_is_a_warning_or_with_strict_an_error() {
    let error = citytwin::cli::load_city(&citytwin::cli::DataArgs {
        imagery: Some(common::shared_data(TIF)),
        scene: Some(concat!(env!("CARGO_MANIFEST_DIR"), "/scenes/demo_chongqing.ron").into()),
        strict: true,
        ..citytwin::cli::DataArgs::default()
    })
    .expect_err("the Paris image does not overlap the demo's Chongqing");
    let text = citytwin::cli::error_text(&error);
    assert!(
        text.contains("does not overlap the city's ground")
            && text.contains("lon 2.2812")
            && text.contains("lon 106."),
        "{text}"
    );
    let bad = common::output_path("not_imagery.tif");
    std::fs::write(&bad, b"hello").expect("write");
    let error = citytwin::cli::load_city(&citytwin::cli::DataArgs {
        imagery: Some(bad),
        ..citytwin::cli::DataArgs::default()
    })
    .expect_err("not imagery");
    let text = citytwin::cli::error_text(&error);
    assert!(
        text.contains("not_imagery.tif is neither a GeoTIFF nor an MBTiles"),
        "{text}"
    );
}
