//! Camera files (`scenes/cameras_demo.ron`, `--cameras FILE.ron`): each
//! camera's code, name, kind, where it is (lon/lat, or on a building by its
//! fire code), height, heading, field of view and stream URLs. A bad entry
//! is refused with the file, the camera's index and code, and the reason.

use std::path::Path;

use serde::Deserialize;

use super::LocalFrame;
use super::gcj02::gcj02_to_wgs84;
use super::geojson::Crs;
use crate::config::{self, ConfigError};
use crate::model::{Camera, CameraId, CameraKind, City};

const WHAT: &str = "camera file";

/// The demo city's cameras (streams `demo://clip?start=S`, played by the
/// cockpit's loopback clip server).
pub const EMBEDDED_DEMO_CAMERAS: &str = include_str!("../../scenes/cameras_demo.ron");

#[derive(Clone, Debug, Deserialize)]
pub enum Place {
    /// WGS84 (or the file's `crs`) longitude, latitude.
    LonLat(f64, f64),
    /// On the roof edge of the building with this fire code.
    Building(String),
}

#[derive(Clone, Debug, Deserialize)]
struct Entry {
    code: String,
    name: String,
    kind: CameraKind,
    at: Place,
    /// Above the ground; 0 or absent: 6 m, or the building's roof.
    #[serde(default)]
    height_m: f32,
    #[serde(default)]
    heading_deg: f32,
    #[serde(default = "default_fov")]
    fov_deg: f32,
    #[serde(default = "default_range")]
    range_m: f32,
    url: String,
    #[serde(default)]
    sub_url: Option<String>,
    #[serde(default)]
    ai: bool,
    #[serde(default)]
    unit: Option<String>,
}

fn default_fov() -> f32 {
    70.0
}

fn default_range() -> f32 {
    150.0
}

#[derive(Clone, Debug, Deserialize)]
struct CameraFile {
    #[serde(default)]
    crs: CrsName,
    cameras: Vec<Entry>,
}

#[derive(Clone, Copy, Debug, Default, Deserialize)]
enum CrsName {
    #[default]
    Wgs84,
    Gcj02,
}

/// Parses a camera file for `city`; `name` names it in errors.
pub fn parse_cameras(text: &str, name: &str, city: &City) -> Result<Vec<Camera>, ConfigError> {
    let file: CameraFile = config::parse_ron(WHAT, text, name)?;
    let frame = LocalFrame::new(city.bounds.origin_lon_lat[0], city.bounds.origin_lon_lat[1]);
    let crs = match file.crs {
        CrsName::Wgs84 => Crs::Wgs84,
        CrsName::Gcj02 => Crs::Gcj02,
    };
    let mut out: Vec<Camera> = Vec::with_capacity(file.cameras.len());
    for (i, e) in file.cameras.into_iter().enumerate() {
        let bad = |reason: String| {
            ConfigError::invalid(WHAT, name, format!("camera {i} ({}): {reason}", e.code))
        };
        if out.iter().any(|c| c.code == e.code) {
            return Err(bad("the code is used twice".to_owned()));
        }
        if !(1.0..=360.0).contains(&e.fov_deg) {
            return Err(bad(format!("field of view {}° is not 1..360", e.fov_deg)));
        }
        if !e.heading_deg.is_finite()
            || e.range_m.partial_cmp(&0.0) != Some(std::cmp::Ordering::Greater)
        {
            return Err(bad(
                "heading and range must be finite, range positive".to_owned()
            ));
        }
        check_url(&e.url).map_err(&bad)?;
        if let Some(sub) = &e.sub_url {
            check_url(sub).map_err(&bad)?;
        }
        let (position_m, height_m) = match &e.at {
            Place::LonLat(lon, lat) => {
                let [lon, lat] = match crs {
                    Crs::Wgs84 => [*lon, *lat],
                    Crs::Gcj02 => gcj02_to_wgs84(*lon, *lat),
                };
                let p = frame.to_local(lon, lat);
                let inside = (city.bounds.min_m[0]..=city.bounds.max_m[0]).contains(&p[0])
                    && (city.bounds.min_m[1]..=city.bounds.max_m[1]).contains(&p[1]);
                if !inside {
                    return Err(bad(format!("{lon:.5}, {lat:.5} is outside the city")));
                }
                (p, if e.height_m > 0.0 { e.height_m } else { 6.0 })
            }
            Place::Building(code) => {
                let Some(b) = city.buildings.iter().find(|b| b.code == *code) else {
                    return Err(bad(format!("no building has the fire code {code}")));
                };
                // The footprint vertex farthest along the heading: the edge
                // the camera looks out from.
                let dir = heading_vector(e.heading_deg);
                let edge = b
                    .footprint_m
                    .iter()
                    .copied()
                    .max_by(|p, q| {
                        (p[0] * dir[0] + p[1] * dir[1]).total_cmp(&(q[0] * dir[0] + q[1] * dir[1]))
                    })
                    .unwrap_or_else(|| b.centre_m());
                (
                    edge,
                    if e.height_m > 0.0 {
                        e.height_m
                    } else {
                        b.height_m
                    },
                )
            }
        };
        out.push(Camera {
            id: CameraId(out.len() as u32),
            code: e.code,
            name: e.name,
            kind: e.kind,
            position_m,
            height_m,
            heading_deg: e.heading_deg.rem_euclid(360.0),
            fov_deg: e.fov_deg,
            range_m: e.range_m,
            url: e.url,
            sub_url: e.sub_url,
            ai: e.ai,
            unit: e.unit,
        });
    }
    Ok(out)
}

/// Reads a camera file for `city`.
pub fn load_cameras(path: &Path, city: &City) -> Result<Vec<Camera>, ConfigError> {
    let (text, name) = config::read(WHAT, path)?;
    parse_cameras(&text, &name, city)
}

/// East/north unit vector of a compass heading.
pub fn heading_vector(heading_deg: f32) -> [f32; 2] {
    let r = heading_deg.to_radians();
    [r.sin(), r.cos()]
}

fn check_url(url: &str) -> Result<(), String> {
    let lower = url.to_ascii_lowercase();
    let known = [
        "rtsp://", "rtsps://", "http://", "https://", "file://", "demo://",
    ];
    if known.iter().any(|s| lower.starts_with(s)) {
        return Ok(());
    }
    if url.contains("://") {
        return Err(format!(
            "stream {url}: not rtsp://, http://, a file or demo://"
        ));
    }
    if url.trim().is_empty() {
        return Err("the stream URL is empty".to_owned());
    }
    // A plain path: a file that loops.
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geo::demo::{DemoScene, generate};

    fn city() -> City {
        let mut scene = DemoScene::embedded().expect("scene");
        scene.buildings = 2_000;
        scene.cell_m = 400.0;
        generate(&scene)
    }

    #[test]
    fn a_camera_on_a_building_takes_its_roof_and_a_bad_entry_is_named() {
        let city = city();
        let b = &city.buildings[7];
        let text = format!(
            r#"CameraFile(cameras: [
                (code: "C1", name: "路口", kind: Crossing, at: LonLat(106.5775, 29.5594),
                 heading_deg: 450, url: "rtsp://127.0.0.1:8554/c1", sub_url: Some("rtsp://127.0.0.1:8554/c1s"), ai: true),
                (code: "C2", name: "楼顶", kind: Building, at: Building("{}"), url: "http://cam/mjpg"),
            ])"#,
            b.code
        );
        let cams = parse_cameras(&text, "t.ron", &city).expect("parses");
        assert_eq!(cams.len(), 2);
        assert_eq!(cams[0].heading_deg, 90.0);
        assert_eq!(cams[1].height_m, b.height_m);
        assert!(b.footprint_m.contains(&cams[1].position_m));

        let bad = |entry: &str| {
            parse_cameras(&format!("CameraFile(cameras: [{entry}])"), "bad.ron", &city)
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default()
        };
        let e =
            bad(r#"(code: "X", name: "x", kind: Site, at: Building("nope"), url: "rtsp://h/s")"#);
        assert!(
            e.contains("bad.ron") && e.contains("camera 0 (X)") && e.contains("nope"),
            "{e}"
        );
        let e = bad(
            r#"(code: "X", name: "x", kind: Site, at: LonLat(120.0, 30.0), url: "rtsp://h/s")"#,
        );
        assert!(e.contains("outside the city"), "{e}");
        let e = bad(
            r#"(code: "X", name: "x", kind: Site, at: LonLat(106.5775, 29.5594), url: "udp://h:1")"#,
        );
        assert!(e.contains("udp://h:1"), "{e}");
        let e = bad(
            r#"(code: "X", name: "x", kind: Drone, at: LonLat(106.5775, 29.5594), url: "a.ts")"#,
        );
        assert!(e.contains("bad.ron"), "{e}");
    }

    #[test]
    fn the_demo_cameras_fit_the_demo_city() {
        let city = generate(&DemoScene::embedded().expect("scene"));
        let cams = parse_cameras(EMBEDDED_DEMO_CAMERAS, "cameras_demo.ron", &city)
            .expect("the embedded cameras parse");
        assert!(cams.len() >= 16, "a 4×4 wall of demo cameras");
        for kind in CameraKind::ALL {
            assert!(cams.iter().any(|c| c.kind == kind), "{kind:?}");
        }
        assert!(cams.iter().any(|c| c.ai));
    }
}
