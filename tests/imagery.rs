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
