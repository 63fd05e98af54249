//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::PathBuf;

pub mod live;
pub mod panels;
pub mod video;
pub mod xvfb;

use bevy::math::Vec3;
use citytwin::geo::mesh::{TileMesh, append_building};
use citytwin::model::Building;

/// `../shared/data` (or `$CITYTWIN_SHARED_DATA`) joined with `rel`; panics
/// with the file's name when it is missing, so a test never passes silently.
pub fn shared_data(rel: &str) -> PathBuf {
    let root = std::env::var_os("CITYTWIN_SHARED_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/data"));
    let path = root.join(rel);
    assert!(
        path.exists(),
        "test data {} not found (set CITYTWIN_SHARED_DATA to the shared data folder)",
        path.display()
    );
    path
}

/// Where tests write pictures for a human to look at.
pub fn output_path(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/test-output");
    std::fs::create_dir_all(&dir).expect("create target/test-output");
    dir.join(name)
}

/// A point surely on the building's roof: the centroid of its largest roof
/// triangle (the footprint centre can lie outside an L or U shape).
pub fn roof_point(building: &Building) -> Vec3 {
    let mut mesh = TileMesh::default();
    append_building(&mut mesh, building).expect("building meshes");
    let mut best = (0.0f32, Vec3::ZERO);
    for tri in mesh.indices.chunks_exact(3) {
        let [a, b, c] = [0, 1, 2].map(|k| Vec3::from(mesh.positions[tri[k] as usize]));
        // Roof triangles face up; walls are vertical.
        if (b - a).cross(c - a).normalize_or_zero().y < 0.5 {
            continue;
        }
        let area = (b - a).cross(c - a).length() / 2.0;
        if area > best.0 {
            best = (area, (a + b + c) / 3.0);
        }
    }
    assert!(best.0 > 0.0, "building {} has a roof", building.code);
    best.1
}

/// Mean colour of the 3×3 patch around a pixel.
pub fn patch_rgb(image: &image::RgbaImage, x: u32, y: u32) -> [u8; 3] {
    let mut sum = [0u32; 3];
    let mut n = 0;
    for yy in y.saturating_sub(1)..=(y + 1).min(image.height() - 1) {
        for xx in x.saturating_sub(1)..=(x + 1).min(image.width() - 1) {
            let p = image.get_pixel(xx, yy).0;
            for k in 0..3 {
                sum[k] += u32::from(p[k]);
            }
            n += 1;
        }
    }
    sum.map(|s| (s / n) as u8)
}

pub fn is_red(c: [u8; 3]) -> bool {
    c[0] > 150 && c[1] < 90 && c[2] < 90
}

pub fn is_green(c: [u8; 3]) -> bool {
    c[1] > 120 && c[0] < 100 && c[2] < 140 && c[1] > c[2] + 40
}

/// The tallest building and a camera straight above its roof: nothing can
/// hide that roof, so its pixel colour is the building's.
pub fn above_tallest(
    city: &citytwin::model::City,
    distance_m: f32,
) -> (&Building, Vec3, citytwin::cockpit::camera::OrbitCamera) {
    let target = city
        .buildings
        .iter()
        .max_by(|a, b| a.top_elevation_m().total_cmp(&b.top_elevation_m()))
        .expect("the city has buildings");
    let roof = roof_point(target);
    let view = citytwin::cockpit::camera::OrbitCamera {
        focus: roof,
        distance_m,
        pitch_deg: 90.0,
        heading_deg: 0.0,
    };
    (target, roof, view)
}

/// The roof's colour over `frames` captured frames (a pulse shows as
/// changing values).
pub fn roof_samples(
    headless: &mut citytwin::cockpit::headless::HeadlessCity,
    roof: Vec3,
    frames: usize,
) -> Vec<[u8; 3]> {
    (0..frames)
        .map(|_| {
            let image = headless.capture().expect("frame");
            let px = headless.project(roof).expect("in view");
            patch_rgb(&image, px.x as u32, px.y as u32)
        })
        .collect()
}

/// A georeferenced int16 GeoTIFF (EPSG:4326) of `cols`×`rows` samples of
/// `pixel_deg`, its north-west corner at (lon, lat), heights from `height`.
#[allow(dead_code)]
pub fn write_dem(
    path: &std::path::Path,
    cols: u32,
    rows: u32,
    lon: f64,
    lat: f64,
    pixel_deg: f64,
    height: impl Fn(u32, u32) -> i16,
) {
    use tiff::encoder::{TiffEncoder, colortype};
    use tiff::tags::Tag;
    let file = std::fs::File::create(path).expect("create tif");
    let mut tiff = TiffEncoder::new(file).expect("encoder");
    let mut image = tiff
        .new_image::<colortype::GrayI16>(cols, rows)
        .expect("image");
    let dir = image.encoder();
    dir.write_tag(Tag::ModelPixelScaleTag, &[pixel_deg, pixel_deg, 0.0][..])
        .expect("scale");
    dir.write_tag(
        Tag::ModelTiepointTag,
        &[0.0f64, 0.0, 0.0, lon, lat, 0.0][..],
    )
    .expect("tiepoint");
    // Version 1.1.0, 2 keys: model type geographic, WGS84.
    dir.write_tag(
        Tag::GeoKeyDirectoryTag,
        &[1u16, 1, 0, 2, 1024, 0, 1, 2, 2048, 0, 1, 4326][..],
    )
    .expect("geokeys");
    let samples: Vec<i16> = (0..rows)
        .flat_map(|r| (0..cols).map(move |c| (c, r)))
        .map(|(c, r)| height(c, r))
        .collect();
    image.write_data(&samples).expect("samples");
}

/// Mean absolute difference per colour channel between two same-size
/// images, and how many pixels differ by more than `far` (summed over the
/// channels).
pub fn image_difference(a: &image::RgbaImage, b: &image::RgbaImage, far: u32) -> (f64, u32) {
    let (mut total, mut far_off) = (0u64, 0u32);
    for (p, q) in a.pixels().zip(b.pixels()) {
        let d: u32 = (0..3).map(|k| u32::from(p.0[k].abs_diff(q.0[k]))).sum();
        total += u64::from(d);
        far_off += u32::from(d > far);
    }
    (
        total as f64 / f64::from(a.width() * a.height() * 3),
        far_off,
    )
}
