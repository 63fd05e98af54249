//! Real video components for the tests: Debian's ffmpeg (to make streams
//! and reference pictures) and GStreamer's RTSP server (a fixture script),
//! each started on a loopback port by the test and stopped with it.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use citytwin::video::{Stream, StreamState};

/// A free loopback port (bound and released).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// Runs ffmpeg with `args`; panics naming the package when it is missing.
pub fn ffmpeg(args: &[&str]) {
    let out = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-y"])
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run ffmpeg (install Debian's ffmpeg package): {e}"));
    assert!(
        out.status.success(),
        "ffmpeg {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `name` made once per test binary run from the shared street camera clip
/// with ffmpeg `args` (output options), in target/test-output/.
pub fn clip(name: &str, args: &[&str]) -> PathBuf {
    let out = super::output_path(name);
    if !out.exists() {
        let src = super::shared_data("video/street_camera_768x576.avi");
        let tmp = out.with_file_name(format!("part-{}-{name}", std::process::id()));
        let src = src.to_string_lossy().into_owned();
        let tmp_s = tmp.to_string_lossy().into_owned();
        let mut all = vec!["-i", src.as_str()];
        all.extend_from_slice(args);
        all.push(tmp_s.as_str());
        ffmpeg(&all);
        std::fs::rename(&tmp, &out).expect("move the clip into place");
    }
    out
}

/// A still H.264 stream (the clip's frame at 10 s, repeated for 60 s at
/// 10 fps): every frame decodes to the same picture, so a tile can be
/// compared with ffmpeg's decode of it.
pub fn still_h264() -> PathBuf {
    let frame = clip("still_frame.png", &["-ss", "10", "-frames:v", "1"]);
    let out = super::output_path("still_h264.ts");
    if !out.exists() {
        let tmp = out.with_file_name(format!("part-{}-still_h264.ts", std::process::id()));
        ffmpeg(&[
            "-loop",
            "1",
            "-framerate",
            "10",
            "-i",
            frame.to_str().expect("path"),
            "-t",
            "60",
            "-an",
            "-c:v",
            "libx264",
            "-preset",
            "veryfast",
            "-g",
            "10",
            "-pix_fmt",
            "yuv420p",
            "-f",
            "mpegts",
            tmp.to_str().expect("path"),
        ]);
        std::fs::rename(&tmp, &out).expect("move the clip into place");
    }
    out
}

/// The clip as H.264 in MPEG-TS (60 s, a keyframe a second).
pub fn clip_h264() -> PathBuf {
    clip(
        "clip_h264.ts",
        &[
            "-t", "60", "-an", "-c:v", "libx264", "-preset", "veryfast", "-g", "10", "-pix_fmt",
            "yuv420p", "-f", "mpegts",
        ],
    )
}

/// ffmpeg's own decode of `input`'s first frame at `w`×`h` (the same
/// scaling as the wall's decoder), as RGB.
pub fn reference_frame(input: &Path, w: u32, h: u32) -> image::RgbImage {
    let out = super::output_path(&format!(
        "ref_{}_{w}x{h}.png",
        input.file_stem().and_then(|s| s.to_str()).unwrap_or("clip")
    ));
    let filter = format!(
        "scale={w}:{h}:force_original_aspect_ratio=decrease:force_divisible_by=2:flags=bilinear,\
         pad={w}:{h}:(ow-iw)/2:(oh-ih)/2:color=black,format=yuv420p"
    );
    let input_s = input.to_string_lossy().into_owned();
    let out_s = out.to_string_lossy().into_owned();
    ffmpeg(&["-i", &input_s, "-frames:v", "1", "-vf", &filter, &out_s]);
    image::open(&out).expect("the reference PNG").to_rgb8()
}

/// GStreamer's RTSP server serving a file at rtsp://127.0.0.1:PORT/cam.
pub struct RtspServer {
    child: Child,
    pub port: u16,
    pub url: String,
    file: PathBuf,
}

impl RtspServer {
    pub fn start(file: &Path) -> RtspServer {
        Self::start_on(file, free_port())
    }

    pub fn start_on(file: &Path, port: u16) -> RtspServer {
        let script =
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/rtsp_server.py");
        let mut child = Command::new("/usr/bin/python3")
            .arg(&script)
            .args(["--port", &port.to_string(), "--file"])
            .arg(file)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot start the RTSP fixture with /usr/bin/python3 (install python3-gi): {e}"
                )
            });
        let stdout = child.stdout.take().expect("fixture stdout");
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        if !line.starts_with("ready ") {
            let _ = child.kill();
            let out = child.wait_with_output().expect("fixture output");
            panic!(
                "the RTSP fixture did not start (install gir1.2-gst-rtsp-server-1.0, python3-gi, \
                 gstreamer1.0-plugins-good/-bad/-ugly): {line}{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        RtspServer {
            child,
            port,
            url: format!("rtsp://127.0.0.1:{port}/cam"),
            file: file.to_owned(),
        }
    }

    /// Kills the server (its port closes at once).
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Starts it again on the same port.
    pub fn restart(&mut self) {
        self.kill();
        *self = RtspServer::start_on(&self.file.clone(), self.port);
    }
}

impl Drop for RtspServer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// ffmpeg as an MJPEG-over-HTTP server (`-f mpjpeg -listen 1`): ffmpeg
/// serves one client and exits, so a thread starts it again for the next
/// one, as a camera takes a new connection.
pub struct MjpegServer {
    child: Arc<std::sync::Mutex<Option<Child>>>,
    stop: Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
    pub url: String,
}

impl MjpegServer {
    pub fn start(file: &Path) -> MjpegServer {
        let port = free_port();
        let url = format!("http://127.0.0.1:{port}/cam.mjpg");
        let child: Arc<std::sync::Mutex<Option<Child>>> = Arc::default();
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let spawn = {
            let (file, url) = (file.to_owned(), url.clone());
            move || {
                Command::new("ffmpeg")
                    .args([
                        "-hide_banner",
                        "-loglevel",
                        "error",
                        "-re",
                        "-stream_loop",
                        "-1",
                        "-i",
                    ])
                    .arg(&file)
                    .args([
                        "-an", "-c:v", "mjpeg", "-q:v", "3", "-f", "mpjpeg", "-listen", "1", &url,
                    ])
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .spawn()
                    .unwrap_or_else(|e| {
                        panic!("cannot start ffmpeg (install Debian's ffmpeg): {e}")
                    })
            }
        };
        *child.lock().expect("lock") = Some(spawn());
        let thread = {
            let (child, stop) = (child.clone(), stop.clone());
            std::thread::Builder::new()
                .name("mjpeg-server".into())
                .spawn(move || {
                    while !stop.load(std::sync::atomic::Ordering::Acquire) {
                        std::thread::sleep(Duration::from_millis(50));
                        let mut slot = child.lock().expect("lock");
                        let exited = slot
                            .as_mut()
                            .is_some_and(|c| matches!(c.try_wait(), Ok(Some(_))));
                        if exited && !stop.load(std::sync::atomic::Ordering::Acquire) {
                            *slot = Some(spawn());
                        }
                    }
                })
                .expect("spawn")
        };
        // The listener is up once the kernel lists it (a test connection
        // would be its one client).
        let started = Instant::now();
        while !listening(port) {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "the MJPEG server did not listen"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        MjpegServer {
            child,
            stop,
            thread: Some(thread),
            url,
        }
    }
}

impl Drop for MjpegServer {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Release);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        if let Some(mut c) = self.child.lock().ok().and_then(|mut c| c.take()) {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Waits (calling `tick` meanwhile) until the stream's state satisfies
/// `done`; panics with the last state after `limit`.
pub fn wait_state(
    stream: &Arc<Stream>,
    limit: Duration,
    mut tick: impl FnMut(),
    done: impl Fn(&StreamState) -> bool,
) -> StreamState {
    let started = Instant::now();
    loop {
        tick();
        let state = stream.state();
        if done(&state) {
            return state;
        }
        assert!(
            started.elapsed() < limit,
            "{}: still {state:?} after {limit:?}",
            stream.request.label
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Whether something listens on 127.0.0.1:`port` (from /proc/net/tcp).
pub fn listening(port: u16) -> bool {
    let needle = format!(":{port:04X} ");
    std::fs::read_to_string("/proc/net/tcp").is_ok_and(|t| {
        t.lines().any(|l| {
            l.split_whitespace()
                .nth(1)
                .is_some_and(|a| format!("{a} ").ends_with(&needle))
                && l.split_whitespace().nth(3) == Some("0A")
        })
    })
}
