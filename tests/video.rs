//! The decode path against real servers on loopback: the demo's clip
//! server, GStreamer's RTSP server and ffmpeg's MJPEG server; and every
//! way a camera can fail, each a clear state naming the reason.

mod common;

use std::io::Write;
use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use citytwin::video::clip_server::{Clip, ClipServer, DEMO_CLIP};
use citytwin::video::{
    FfmpegSource, StreamRequest, StreamState, VideoError, VideoManager, WatchSettings,
};
use common::video::{MjpegServer, RtspServer, clip_h264, free_port, wait_state};

/// Whether a stream's reason is the one expected.
type Check = fn(&VideoError) -> bool;

fn manager() -> VideoManager {
    VideoManager::start(Arc::new(FfmpegSource::default()), WatchSettings::default())
        .expect("the watchdog starts")
}

fn request(url: &str, label: &str) -> StreamRequest {
    StreamRequest {
        url: url.to_owned(),
        width: 320,
        height: 240,
        label: label.to_owned(),
    }
}

/// Asks for `req` until it is live (20 s at most).
fn want_live(videos: &VideoManager, req: &StreamRequest) -> Arc<citytwin::video::Stream> {
    let stream = videos.want(req);
    wait_state(
        &stream,
        Duration::from_secs(20),
        || {
            videos.want(req);
        },
        |s| *s == StreamState::Live,
    );
    stream
}

fn lost_reason(state: &StreamState) -> Option<VideoError> {
    match state {
        StreamState::Lost { reason, .. } => Some(reason.clone()),
        _ => None,
    }
}

#[test]
fn the_demo_clip_server_streams_through_ffmpeg_at_the_tile_size() {
    let clip = Arc::new(Clip::parse(DEMO_CLIP).expect("the bundled clip"));
    let server = ClipServer::start(clip, "127.0.0.1:0").expect("the clip server listens");
    let videos = manager();
    let req = StreamRequest {
        height: 180,
        ..request(&server.url(30.0), "demo-0")
    };
    let stream = want_live(&videos, &req);
    let first = stream.slot.latest().expect("a frame");
    assert_eq!((first.width, first.height), (320, 180));
    assert_eq!(first.data.len(), 320 * 180 * 3 / 2);
    // The picture moves on: frames keep coming at the clip's 10 fps.
    std::thread::sleep(Duration::from_millis(1500));
    videos.want(&req);
    let later = stream.slot.latest().expect("a frame");
    assert!(
        later.number >= first.number + 8,
        "{} → {}",
        first.number,
        later.number
    );
    let info = stream.input().expect("the input was read");
    assert_eq!(
        (info.codec.as_str(), info.width, info.height),
        ("h264", 768, 576)
    );
    // A 4:3 picture in a 16:9 tile: bars at the sides, not stretched
    // (240 px of picture centred in 320).
    assert!(first.luma_at(20, 90) <= 17, "a black bar at the left");
    assert!(first.luma_at(300, 90) <= 17, "a black bar at the right");
    assert!(
        (40..280).any(|x| first.luma_at(x, 90) > 40),
        "picture in the middle"
    );
}

#[test]
fn an_unwanted_stream_stops_decoding() {
    let clip = Arc::new(Clip::parse(DEMO_CLIP).expect("the bundled clip"));
    let server = ClipServer::start(clip, "127.0.0.1:0").expect("the clip server listens");
    let videos = manager();
    let req = request(&server.url(0.0), "demo-linger");
    let stream = want_live(&videos, &req);
    let pid = stream.pid.load(std::sync::atomic::Ordering::Relaxed);
    assert!(pid > 0);
    // Nobody asks for it any more: after the linger time it is gone, and
    // so is its decoder process.
    std::thread::sleep(WatchSettings::default().linger + Duration::from_millis(500));
    assert!(videos.streams().is_empty());
    assert!(
        !std::path::Path::new(&format!("/proc/{pid}")).exists()
            || std::fs::read_to_string(format!("/proc/{pid}/stat"))
                .is_ok_and(|s| s.contains(") Z ")),
        "ffmpeg {pid} still runs"
    );
}

#[test]
fn rtsp_h264_and_mjpeg_over_http_both_play() {
    let file = clip_h264();
    let rtsp = RtspServer::start(&file);
    let mjpeg = MjpegServer::start(&file);
    let videos = manager();
    for (url, codec) in [(rtsp.url.clone(), "h264"), (mjpeg.url.clone(), "mjpeg")] {
        let req = request(&url, codec);
        let stream = want_live(&videos, &req);
        assert_eq!(
            stream.input().map(|i| i.codec),
            Some(codec.to_owned()),
            "{url}"
        );
    }
}

#[test]
fn every_way_a_camera_fails_is_a_clear_state() {
    let videos = manager();
    let closed = free_port();
    // Garbage on an RTSP port: a server that answers with noise.
    let garbage = TcpListener::bind("127.0.0.1:0").expect("bind");
    let garbage_port = garbage.local_addr().expect("addr").port();
    std::thread::Builder::new()
        .name("garbage-server".into())
        .spawn(move || {
            for mut s in garbage.incoming().take(20).flatten() {
                let noise: Vec<u8> = (0..4096u32).map(|i| (i * 7919 % 251) as u8).collect();
                let _ = s.write_all(&noise);
            }
        })
        .expect("spawn");
    // Audio only: a stream that is not video.
    let audio = common::output_path("audio_only.ts");
    common::video::ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=440:duration=3",
        "-c:a",
        "mp2",
        "-f",
        "mpegts",
        audio.to_str().expect("path"),
    ]);
    let avi = common::shared_data("video/street_camera_768x576.avi");
    let cases: Vec<(String, &str, Check)> = vec![
        (
            format!("http://127.0.0.1:{closed}/cam.mjpg"),
            "refused",
            |e| *e == VideoError::Refused,
        ),
        (
            "rtsp://no-such-camera.invalid:554/main".to_owned(),
            "unresolved",
            |e| matches!(e, VideoError::Unresolved { host } if host == "no-such-camera.invalid"),
        ),
        (
            format!("rtsp://127.0.0.1:{garbage_port}/cam"),
            "garbage",
            |e| {
                matches!(
                    e,
                    VideoError::InvalidData | VideoError::Other(_) | VideoError::Ended
                )
            },
        ),
        (audio.to_string_lossy().into_owned(), "audio", |e| {
            *e == VideoError::NotVideo
        }),
        (
            avi.to_string_lossy().into_owned(),
            "msmpeg4",
            |e| matches!(e, VideoError::UnsupportedCodec { codec } if codec == "msmpeg4v3"),
        ),
        ("udp://127.0.0.1:1234".to_owned(), "scheme", |e| {
            matches!(e, VideoError::BadUrl { .. })
        }),
    ];
    let streams: Vec<_> = cases
        .iter()
        .map(|(url, label, _)| (videos.want(&request(url, label)), request(url, label)))
        .collect();
    for ((stream, _), (url, label, ok)) in streams.iter().zip(&cases) {
        let state = wait_state(
            stream,
            Duration::from_secs(20),
            || {
                for (_, r) in &streams {
                    videos.want(r);
                }
            },
            |s| matches!(s, StreamState::Lost { .. }),
        );
        let reason = lost_reason(&state).expect("lost");
        assert!(ok(&reason), "{label} ({url}): {reason:?}");
        assert!(!reason.zh().is_empty() && !reason.en().is_empty());
        if let StreamState::Lost {
            retry_at_ms,
            last_frame_ms,
            ..
        } = state
        {
            assert!(
                retry_at_ms > citytwin::time::wall_ms() - 1000,
                "a retry is scheduled"
            );
            assert_eq!(last_frame_ms, None, "{label} never had a frame");
        }
    }
    // No decoder installed: the tile says what to install.
    let missing = VideoManager::start(
        Arc::new(FfmpegSource {
            program: "/nonexistent/ffmpeg".into(),
            ..FfmpegSource::default()
        }),
        WatchSettings::default(),
    )
    .expect("watchdog");
    let req = request("rtsp://127.0.0.1:1/cam", "no-ffmpeg");
    let stream = missing.want(&req);
    let state = wait_state(
        &stream,
        Duration::from_secs(5),
        || {
            missing.want(&req);
        },
        |s| matches!(s, StreamState::Lost { .. }),
    );
    let reason = lost_reason(&state).expect("lost");
    assert!(
        matches!(reason, VideoError::DecoderMissing { .. }),
        "{reason:?}"
    );
    assert!(reason.zh().contains("apt install ffmpeg"));
}

#[test]
fn a_killed_rtsp_server_is_signal_lost_within_3_s_and_live_again_after_restart() {
    let file = clip_h264();
    let mut rtsp = RtspServer::start(&file);
    let videos = manager();
    let req = request(&rtsp.url, "rtsp-kill");
    let stream = videos.want(&req);
    let keep = || {
        videos.want(&req);
    };
    wait_state(&stream, Duration::from_secs(20), keep, |s| {
        *s == StreamState::Live
    });
    let opened = stream.opened.load(std::sync::atomic::Ordering::Relaxed);
    rtsp.kill();
    let killed = std::time::Instant::now();
    let state = wait_state(&stream, Duration::from_secs(3), keep, |s| {
        matches!(s, StreamState::Lost { .. })
    });
    println!(
        "signal lost {:?} after the kill: {state:?}",
        killed.elapsed()
    );
    let StreamState::Lost { last_frame_ms, .. } = state else {
        unreachable!()
    };
    let last = last_frame_ms.expect("the last frame's time is kept");
    assert!(citytwin::time::wall_ms() - last < 4_000);
    assert!(stream.slot.latest().is_some(), "the last picture stays");
    rtsp.restart();
    wait_state(&stream, Duration::from_secs(30), keep, |s| {
        *s == StreamState::Live
    });
    assert!(stream.opened.load(std::sync::atomic::Ordering::Relaxed) > opened);
}
