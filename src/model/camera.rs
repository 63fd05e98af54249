//! Cameras: fixed site and crossing cameras (many with AI detection),
//! cameras on high-rises, and the body-worn cameras of field teams. Where a
//! camera is, what it looks at, and where its stream is.

use serde::{Deserialize, Serialize};

/// Index into `City::cameras`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct CameraId(pub u32);

impl CameraId {
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum CameraKind {
    /// 工地: a construction site's gate camera.
    Site,
    /// 路口: a road crossing.
    Crossing,
    /// 高楼: on a high-rise.
    Building,
    /// 执法记录仪: worn by a field team (rescue, law enforcement).
    BodyWorn,
}

impl CameraKind {
    pub const ALL: [CameraKind; 4] = [
        CameraKind::Site,
        CameraKind::Crossing,
        CameraKind::Building,
        CameraKind::BodyWorn,
    ];

    pub fn name_zh(self) -> &'static str {
        match self {
            CameraKind::Site => "工地",
            CameraKind::Crossing => "路口",
            CameraKind::Building => "高楼",
            CameraKind::BodyWorn => "执法记录仪",
        }
    }

    pub fn name_en(self) -> &'static str {
        match self {
            CameraKind::Site => "site",
            CameraKind::Crossing => "crossing",
            CameraKind::Building => "building",
            CameraKind::BodyWorn => "body-worn",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Camera {
    pub id: CameraId,
    pub code: String,
    pub name: String,
    pub kind: CameraKind,
    /// Local metres (east, north).
    pub position_m: [f32; 2],
    /// Mounting height above the ground.
    pub height_m: f32,
    /// Compass direction it faces (0 = north, clockwise).
    pub heading_deg: f32,
    /// Horizontal field of view.
    pub fov_deg: f32,
    /// How far its view cone is drawn on the map.
    pub range_m: f32,
    /// Main stream (rtsp://, http:// MJPEG, or a file that loops).
    pub url: String,
    /// Lower-resolution stream for the grid, when the camera has one.
    pub sub_url: Option<String>,
    /// Raises detections (muck trucks) by itself.
    pub ai: bool,
    /// The team that wears it (body-worn cameras), e.g. "消防救援 渝中中队".
    pub unit: Option<String>,
}

impl Camera {
    /// The stream for a tile: the main stream when it is shown large, the
    /// sub-stream (if any) in the grid.
    pub fn stream_url(&self, large: bool) -> &str {
        match (&self.sub_url, large) {
            (Some(sub), false) => sub,
            _ => &self.url,
        }
    }

    /// Ground distance to a local point.
    pub fn distance_m(&self, p: [f32; 2]) -> f32 {
        let d = [p[0] - self.position_m[0], p[1] - self.position_m[1]];
        d[0].hypot(d[1])
    }
}

/// Cameras within `radius_m` of `p`, nearest first.
pub fn cameras_near(cameras: &[Camera], p: [f32; 2], radius_m: f32) -> Vec<CameraId> {
    let mut near: Vec<(f32, CameraId)> = cameras
        .iter()
        .map(|c| (c.distance_m(p), c.id))
        .filter(|(d, _)| *d <= radius_m)
        .collect();
    near.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    near.into_iter().map(|(_, id)| id).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cam(id: u32, x: f32) -> Camera {
        Camera {
            id: CameraId(id),
            code: format!("C{id}"),
            name: String::new(),
            kind: CameraKind::Crossing,
            position_m: [x, 0.0],
            height_m: 6.0,
            heading_deg: 0.0,
            fov_deg: 60.0,
            range_m: 100.0,
            url: "rtsp://main".into(),
            sub_url: Some("rtsp://sub".into()),
            ai: false,
            unit: None,
        }
    }

    #[test]
    fn nearest_cameras_come_first_within_the_radius() {
        let cams = [cam(0, 300.0), cam(1, -50.0), cam(2, 120.0), cam(3, 900.0)];
        assert_eq!(
            cameras_near(&cams, [0.0, 0.0], 500.0),
            vec![CameraId(1), CameraId(2), CameraId(0)]
        );
    }

    #[test]
    fn the_grid_takes_the_sub_stream_and_the_focus_the_main() {
        let c = cam(0, 0.0);
        assert_eq!(c.stream_url(false), "rtsp://sub");
        assert_eq!(c.stream_url(true), "rtsp://main");
    }
}
