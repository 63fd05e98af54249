//! Video tiles rendered headless on lavapipe: a tile shows the decoded
//! picture (compared with ffmpeg's own decode of the same stream to PNG),
//! for RTSP/H.264 from GStreamer's RTSP server and MJPEG over HTTP from
//! ffmpeg; selecting a muck-truck case puts the AI camera that saw it
//! first on the wall.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use bevy::math::UVec2;
use citytwin::cockpit::camera::OrbitCamera;
use citytwin::cockpit::headless::HeadlessCity;
use citytwin::cockpit::hub_view::SelectCase;
use citytwin::cockpit::ui::Panels;
use citytwin::cockpit::video::render::{SharedUploadStats, VideoUploadStats};
use citytwin::cockpit::video::{VideoCommand, VideoWall, Videos};
use citytwin::geo::demo::{DemoScene, generate};
use citytwin::model::{
    Camera, CameraId, CameraKind, Case, CaseId, City, Event, EventId, EventKind, EventStatus,
    RiskLevel,
};
use citytwin::video::{StreamState, VideoError};
use common::output_path;
use common::video::{MjpegServer, RtspServer, reference_frame, still_h264};

fn camera(id: u32, code: &str, kind: CameraKind, at: [f32; 2], url: &str) -> Camera {
    Camera {
        id: CameraId(id),
        code: code.to_owned(),
        name: code.to_owned(),
        kind,
        position_m: at,
        height_m: 8.0,
        heading_deg: 90.0,
        fov_deg: 70.0,
        range_m: 150.0,
        url: url.to_owned(),
        sub_url: None,
        ai: kind != CameraKind::Building,
        unit: None,
    }
}

fn city_with(cameras: Vec<Camera>) -> Arc<City> {
    let mut scene = DemoScene::embedded().expect("embedded scene");
    scene.buildings = 1_500;
    scene.cell_m = 400.0;
    let mut city = generate(&scene);
    city.cameras = cameras;
    Arc::new(city)
}

fn overview(city: &City) -> OrbitCamera {
    let c = city.buildings[0].centre_m();
    OrbitCamera {
        focus: bevy::math::Vec3::new(c[0], 300.0, -c[1]),
        distance_m: 6_000.0,
        pitch_deg: 60.0,
        heading_deg: 0.0,
    }
}

/// Runs frames until every tile on the wall is live and drawn, then
/// returns the picture rectangles (pixels) with their stream sizes.
fn live_tiles(headless: &mut HeadlessCity, n: usize) -> Vec<(CameraId, [u32; 4])> {
    let started = Instant::now();
    loop {
        headless.update();
        let world = headless.app().world();
        let videos = world.resource::<Videos>();
        let live = videos
            .status
            .values()
            .filter(|s| s.state == StreamState::Live && s.last_frame_ms.is_some())
            .count();
        let pictures = world.resource::<Panels>().video.pictures().to_vec();
        if live >= n && pictures.len() >= n {
            // A few more frames: the newest frame uploaded and drawn.
            for _ in 0..3 {
                headless.update();
            }
            let pictures = headless
                .app()
                .world()
                .resource::<Panels>()
                .video
                .pictures()
                .to_vec();
            return pictures
                .iter()
                .map(|(id, _, r)| {
                    (
                        *id,
                        [
                            r.min.x.round() as u32,
                            r.min.y.round() as u32,
                            r.width().round() as u32,
                            r.height().round() as u32,
                        ],
                    )
                })
                .collect();
        }
        let states: Vec<_> = videos.status.values().map(|s| s.state.clone()).collect();
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "tiles not live after 60 s: {states:?}"
        );
        std::thread::sleep(Duration::from_millis(30));
    }
}

fn headless_stats(headless: &HeadlessCity) -> std::sync::MutexGuard<'_, VideoUploadStats> {
    headless
        .app_ref()
        .world()
        .resource::<SharedUploadStats>()
        .0
        .lock()
        .expect("stats")
}

/// Mean absolute difference per channel (0–255) and the picture's spread.
fn compare(shot: &image::RgbaImage, at: [u32; 4], reference: &image::RgbImage) -> (f64, f64) {
    let [x0, y0, w, h] = at;
    assert_eq!(
        (w, h),
        reference.dimensions(),
        "the tile draws the stream 1:1"
    );
    let (mut diff, mut sum, mut sum2, mut n) = (0f64, 0f64, 0f64, 0f64);
    // The strips with the name and the state are overlays: skip them.
    for y in 24..h.saturating_sub(40) {
        for x in 0..w {
            let a = shot.get_pixel(x0 + x, y0 + y).0;
            let b = reference.get_pixel(x, y).0;
            for c in 0..3 {
                diff += (f64::from(a[c]) - f64::from(b[c])).abs();
                sum += f64::from(b[c]);
                sum2 += f64::from(b[c]) * f64::from(b[c]);
                n += 1.0;
            }
        }
    }
    let mean = sum / n;
    (diff / n, (sum2 / n - mean * mean).sqrt())
}

#[test]
fn a_tile_shows_the_decoded_picture_for_rtsp_h264_and_mjpeg() {
    let still = still_h264();
    let rtsp = RtspServer::start(&still);
    let mjpeg = MjpegServer::start(&still);
    let b = [0.0, 0.0];
    let city = city_with(vec![
        camera(0, "RTSP-H264", CameraKind::Crossing, b, &rtsp.url),
        camera(1, "HTTP-MJPEG", CameraKind::Site, b, &mjpeg.url),
    ]);
    let mut headless =
        HeadlessCity::with_panels(city.clone(), overview(&city), UVec2::new(1280, 720), false);
    {
        let world = headless.app().world_mut();
        world.write_message(VideoCommand::Layout(2));
        world.write_message(VideoCommand::Show(true));
    }
    let tiles = live_tiles(&mut headless, 2);
    let shot = headless.capture().expect("frame");
    shot.save(output_path("video_tiles.png")).expect("save");
    // The MJPEG stream is ffmpeg's JPEG of the same still: its reference is
    // that JPEG decoded, as the wall's decoder does.
    let mjpeg_file = output_path("still.mjpeg");
    common::video::ffmpeg(&[
        "-i",
        still.to_str().expect("path"),
        "-frames:v",
        "1",
        "-c:v",
        "mjpeg",
        "-q:v",
        "3",
        "-f",
        "mjpeg",
        mjpeg_file.to_str().expect("path"),
    ]);
    for (id, at) in &tiles {
        let source = if id.0 == 0 { &still } else { &mjpeg_file };
        let reference = reference_frame(source, at[2], at[3]);
        let (error, spread) = compare(&shot, *at, &reference);
        println!(
            "{:?}: mean error {error:.2}/255, picture spread {spread:.1}",
            city.cameras[id.index()].code
        );
        assert!(spread > 20.0, "a real picture, not a flat colour");
        assert!(
            error < 4.0,
            "tile {id:?} differs from ffmpeg's decode: {error:.2}"
        );
    }
    // New frames rewrite the same textures: uploads go on, no new texture.
    let before = *headless_stats(&headless);
    let started = Instant::now();
    while headless_stats(&headless).uploads < before.uploads + 6 {
        headless.update();
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "frames keep arriving"
        );
    }
    let after = *headless_stats(&headless);
    assert_eq!(
        after.allocations, before.allocations,
        "textures are reused ({before:?} → {after:?})"
    );
    // Another picture is far off: the comparison can fail.
    let black = image::RgbImage::new(tiles[0].1[2], tiles[0].1[3]);
    assert!(compare(&shot, tiles[0].1, &black).0 > 30.0);
}

#[test]
fn selecting_a_muck_truck_case_puts_its_ai_camera_first_on_the_wall() {
    let mut scene = DemoScene::embedded().expect("scene");
    scene.buildings = 1_500;
    scene.cell_m = 400.0;
    let mut city = generate(&scene);
    let b = city.buildings[10].clone();
    let p = b.centre_m();
    // Three cameras near the building (the AI one farthest), one far away.
    city.cameras = vec![
        camera(
            0,
            "NEAR",
            CameraKind::Crossing,
            [p[0] + 40.0, p[1]],
            "rtsp://127.0.0.1:1/a",
        ),
        camera(
            1,
            "MID",
            CameraKind::Building,
            [p[0] + 200.0, p[1]],
            "rtsp://127.0.0.1:1/b",
        ),
        camera(
            2,
            "AI",
            CameraKind::Site,
            [p[0] + 500.0, p[1]],
            "rtsp://127.0.0.1:1/c",
        ),
        camera(
            3,
            "FAR",
            CameraKind::Crossing,
            [p[0] + 5_000.0, p[1]],
            "rtsp://127.0.0.1:1/d",
        ),
    ];
    let city = Arc::new(city);
    let mut headless =
        HeadlessCity::with_panels(city.clone(), overview(&city), UVec2::new(1280, 720), false);
    let t0 = 1_795_478_400_000;
    let event = Event {
        id: EventId(1),
        kind: EventKind::MuckTruck,
        building: Some(b.id),
        hazard: None,
        camera: Some(CameraId(2)),
        severity: RiskLevel::Moderate,
        status: EventStatus::Open,
        time_ms: t0,
        message: "AI 摄像头：渣土车".into(),
    };
    let case = Case::register(CaseId(1), &event, b.district, b.street, t0 + 3_600_000);
    let mut snapshot = headless.state().to_snapshot(t0);
    snapshot.open_events = vec![event];
    snapshot.open_cases = vec![case];
    headless
        .state_mut()
        .apply_snapshot(&snapshot)
        .expect("snapshot");
    headless.update();
    assert!(!headless.app().world().resource::<VideoWall>().open);
    headless
        .app()
        .world_mut()
        .write_message(SelectCase(Some(CaseId(1))));
    for _ in 0..4 {
        headless.update();
    }
    let wall = headless.app().world().resource::<VideoWall>().clone();
    assert!(wall.open, "the wall opens");
    let linked = wall.linked.clone().expect("the case's cameras");
    assert_eq!(linked.source, Some(CameraId(2)));
    assert_eq!(
        linked.cameras,
        vec![CameraId(2), CameraId(0), CameraId(1)],
        "the AI camera first, then the nearest; the far one is not linked"
    );
    let drawn: Vec<CameraId> = headless
        .app()
        .world()
        .resource::<Panels>()
        .video
        .pictures()
        .iter()
        .map(|(id, _, _)| *id)
        .collect();
    assert_eq!(
        drawn.first(),
        Some(&CameraId(2)),
        "its tile is drawn first: {drawn:?}"
    );
    // Clearing the selection gives the wall back its own order.
    headless.app().world_mut().write_message(SelectCase(None));
    for _ in 0..3 {
        headless.update();
    }
    assert!(
        headless
            .app()
            .world()
            .resource::<VideoWall>()
            .linked
            .is_none()
    );
}

#[test]
fn a_killed_camera_dims_its_tile_while_the_cockpit_keeps_rendering_and_comes_back() {
    let file = common::video::clip_h264();
    let mut rtsp = RtspServer::start(&file);
    let city = city_with(vec![camera(
        0,
        "RTSP-KILL",
        CameraKind::Crossing,
        [0.0, 0.0],
        &rtsp.url,
    )]);
    let mut headless =
        HeadlessCity::with_panels(city.clone(), overview(&city), UVec2::new(640, 360), false);
    headless
        .app()
        .world_mut()
        .write_message(VideoCommand::Layout(1));
    headless
        .app()
        .world_mut()
        .write_message(VideoCommand::Show(true));
    live_tiles(&mut headless, 1);
    let state = |h: &HeadlessCity| {
        h.app_ref()
            .world()
            .resource::<Videos>()
            .status
            .values()
            .next()
            .map(|s| s.state.clone())
    };
    let brightness = |h: &HeadlessCity| {
        h.app_ref()
            .world()
            .resource::<citytwin::cockpit::video::ShownStreams>()
            .0
            .first()
            .map(|(_, b)| *b)
    };
    assert_eq!(brightness(&headless), Some(1.0));
    let at = headless
        .app_ref()
        .world()
        .resource::<Panels>()
        .video
        .pictures()[0]
        .2;
    let mean = |shot: &image::RgbaImage| {
        let (x0, y0) = (at.min.x as u32, at.min.y as u32 + 24);
        let (w, h) = (at.width() as u32, at.height() as u32 - 64);
        let mut sum = 0f64;
        for y in y0..y0 + h {
            for x in x0..x0 + w {
                let p = shot.get_pixel(x, y).0;
                sum += f64::from(p[0]) + f64::from(p[1]) + f64::from(p[2]);
            }
        }
        sum / f64::from(3 * w * h)
    };
    let live_mean = mean(&headless.capture().expect("frame"));
    rtsp.kill();
    let killed = Instant::now();
    let mut frames = 0u32;
    while !matches!(state(&headless), Some(StreamState::Lost { .. })) {
        headless.update();
        frames += 1;
        assert!(
            killed.elapsed() < Duration::from_secs(10),
            "the tile never lost its signal"
        );
    }
    println!(
        "signal lost in the tile {:?} after the kill; the cockpit drew {frames} frames meanwhile",
        killed.elapsed()
    );
    // The cockpit goes on drawing; the last picture stays, dimmed.
    headless.update();
    headless.update();
    assert!(brightness(&headless).is_some_and(|b| b < 1.0));
    match state(&headless) {
        Some(StreamState::Lost { reason, .. }) => assert!(
            matches!(
                reason,
                // What ffmpeg saw of the server dying: the stream ended,
                // stalled, was refused on reconnecting, or broke off in
                // the middle of a packet.
                VideoError::Ended
                    | VideoError::Stalled { .. }
                    | VideoError::Refused
                    | VideoError::InvalidData
            ),
            "a dead camera's reason: {reason:?}"
        ),
        other => panic!("{other:?}"),
    }
    // The dim reaches the picture within a few frames (the render world
    // draws one frame behind the main world).
    let mut lost_shot = headless.capture().expect("frame");
    for _ in 0..8 {
        if mean(&lost_shot) < live_mean * 0.6 {
            break;
        }
        lost_shot = headless.capture().expect("frame");
    }
    lost_shot.save(output_path("video_lost.png")).expect("save");
    let lost_mean = mean(&lost_shot);
    println!("tile brightness live {live_mean:.0}, lost {lost_mean:.0}");
    assert!(
        lost_mean < live_mean * 0.6 && lost_mean > 5.0,
        "dimmed last picture: {live_mean:.0} → {lost_mean:.0}"
    );
    rtsp.restart();
    let restarted = Instant::now();
    while state(&headless) != Some(StreamState::Live) {
        headless.update();
        assert!(
            restarted.elapsed() < Duration::from_secs(30),
            "the tile came back by itself"
        );
    }
    headless.update();
    headless.update();
    assert_eq!(brightness(&headless), Some(1.0));
}
