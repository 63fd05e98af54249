//! [`VideoSource`] over the `ffmpeg` executable, as NVRs do: one child
//! process per stream, RTSP over TCP, scaled to the tile in the decoder, raw
//! I420 on a pipe. A crash or a stall ends only that child; its log says why.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::process::{Child, ChildStderr, ChildStdout, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::error::VideoError;
use super::frame::{FrameSlot, I420Frame};
use super::source::{InputInfo, Session, StreamRequest, VideoSource};

/// Lines of the decoder's log kept to explain how it ended.
const LOG_LINES: usize = 40;
/// Socket timeout handed to ffmpeg for network inputs.
const IO_TIMEOUT_US: u64 = 3_000_000;
/// How long the first frame waits for the log to name the codec.
const CODEC_WAIT: Duration = Duration::from_secs(2);

const CODEC_UNKNOWN: u8 = 0;
const CODEC_OK: u8 = 1;
const CODEC_REFUSED: u8 = 2;

/// Decodes with Debian's `ffmpeg` (or the program named in settings).
#[derive(Clone, Debug)]
pub struct FfmpegSource {
    pub program: PathBuf,
    /// `-hwaccel` value (`vaapi`, `cuda`, …) on a wall machine with a GPU.
    pub hwaccel: Option<String>,
    /// Codecs (ffmpeg's names) the wall decodes; others are refused.
    pub codecs: Vec<String>,
}

impl Default for FfmpegSource {
    fn default() -> Self {
        FfmpegSource {
            program: PathBuf::from("ffmpeg"),
            hwaccel: None,
            codecs: ["h264", "hevc", "mjpeg"].map(str::to_owned).to_vec(),
        }
    }
}

/// The input half of the command line for `url`.
fn input_args(url: &str) -> Result<Vec<String>, VideoError> {
    let mut args: Vec<String> = Vec::new();
    let lower = url.to_ascii_lowercase();
    if lower.starts_with("rtsp://") || lower.starts_with("rtsps://") {
        args.extend(["-rtsp_transport", "tcp", "-timeout"].map(str::to_owned));
        args.push(IO_TIMEOUT_US.to_string());
        args.extend(["-fflags", "nobuffer", "-flags", "low_delay"].map(str::to_owned));
    } else if lower.starts_with("http://") || lower.starts_with("https://") {
        args.push("-rw_timeout".to_owned());
        args.push(IO_TIMEOUT_US.to_string());
        // Not `-fflags nobuffer`: over HTTP it starves the probe of an
        // MPEG-TS stream with B-frames (no frame ever comes out).
        args.extend(["-analyzeduration", "1000000", "-probesize", "1000000"].map(str::to_owned));
    } else if let Some((scheme, _)) = url.split_once("://")
        && scheme != "file"
    {
        return Err(VideoError::BadUrl {
            url: url.to_owned(),
            reason: format!("scheme {scheme}:// is not rtsp, http or a file"),
        });
    } else {
        let path = url.strip_prefix("file://").unwrap_or(url);
        if !std::path::Path::new(path).is_file() {
            return Err(VideoError::BadUrl {
                url: url.to_owned(),
                reason: "no such file".to_owned(),
            });
        }
        // A file plays at its own rate, looping, like a camera.
        args.extend(["-re", "-stream_loop", "-1"].map(str::to_owned));
    }
    Ok(args)
}

impl FfmpegSource {
    /// The whole command line for `request` (without the program).
    pub fn args(&self, request: &StreamRequest) -> Result<Vec<String>, VideoError> {
        let (w, h) = (request.width, request.height);
        if w < 2 || h < 2 || w % 2 != 0 || h % 2 != 0 {
            return Err(VideoError::BadUrl {
                url: request.url.clone(),
                reason: format!("tile size {w}×{h} is not even"),
            });
        }
        let mut args: Vec<String> = ["-hide_banner", "-nostdin", "-nostats", "-loglevel", "info"]
            .map(str::to_owned)
            .to_vec();
        if let Some(hw) = &self.hwaccel {
            args.extend(["-hwaccel".to_owned(), hw.clone()]);
        }
        args.extend(input_args(&request.url)?);
        args.extend(["-i".to_owned(), request.url.clone()]);
        // One decoding thread a stream: the wall runs many streams in
        // parallel processes, and frame threads add a frame of latency and
        // a set of buffers each.
        args.extend(["-threads", "1", "-map", "0:v:0", "-an", "-sn", "-dn"].map(str::to_owned));
        args.push("-vf".to_owned());
        args.push(format!(
            "scale={w}:{h}:force_original_aspect_ratio=decrease:force_divisible_by=2:flags=bilinear,\
             pad={w}:{h}:(ow-iw)/2:(oh-ih)/2:color=black,format=yuv420p"
        ));
        args.extend(
            [
                "-fps_mode",
                "passthrough",
                "-f",
                "rawvideo",
                "-pix_fmt",
                "yuv420p",
                "pipe:1",
            ]
            .map(str::to_owned),
        );
        Ok(args)
    }
}

impl VideoSource for FfmpegSource {
    fn name(&self) -> String {
        match &self.hwaccel {
            Some(hw) => format!("ffmpeg+{hw}"),
            None => "ffmpeg".to_owned(),
        }
    }

    fn open(
        &self,
        request: &StreamRequest,
        slot: Arc<FrameSlot>,
    ) -> Result<Box<dyn Session>, VideoError> {
        let args = self.args(request)?;
        let mut child = Command::new(&self.program)
            .args(&args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| match e.kind() {
                std::io::ErrorKind::NotFound => VideoError::DecoderMissing {
                    program: self.program.display().to_string(),
                },
                _ => VideoError::Other(format!("cannot start {}: {e}", self.program.display())),
            })?;
        let (Some(stdout), Some(stderr)) = (child.stdout.take(), child.stderr.take()) else {
            let _ = child.kill();
            let _ = child.wait();
            return Err(VideoError::Other("ffmpeg's pipes are missing".to_owned()));
        };
        let shared = Arc::new(Shared {
            log: Mutex::new(VecDeque::new()),
            input: Mutex::new(None),
            codec: AtomicU8::new(CODEC_UNKNOWN),
            frames_done: AtomicBool::new(false),
            allowed: self.codecs.clone(),
            url: request.url.clone(),
        });
        let child = Arc::new(Mutex::new(child));
        let spawn = |name: String, f: Box<dyn FnOnce() + Send>| {
            std::thread::Builder::new()
                .name(name)
                .spawn(f)
                .map_err(|e| VideoError::Other(format!("cannot start a decoder thread: {e}")))
        };
        let log_thread = {
            let (shared, child) = (shared.clone(), child.clone());
            spawn(
                format!("video-log-{}", request.label),
                Box::new(move || read_log(stderr, &shared, &child)),
            )
        };
        let frames_thread = {
            let shared = shared.clone();
            let (w, h) = (request.width, request.height);
            spawn(
                format!("video-{}", request.label),
                Box::new(move || read_frames(stdout, w, h, &slot, &shared)),
            )
        };
        let session = FfmpegSession {
            child,
            shared,
            threads: Vec::new(),
            ended: None,
        };
        let mut session = session;
        for t in [log_thread, frames_thread] {
            match t {
                Ok(handle) => session.threads.push(handle),
                Err(e) => return Err(e),
            }
        }
        Ok(Box::new(session))
    }
}

struct Shared {
    log: Mutex<VecDeque<String>>,
    input: Mutex<Option<InputInfo>>,
    codec: AtomicU8,
    frames_done: AtomicBool,
    allowed: Vec<String>,
    url: String,
}

/// Parses `Stream #0:0…: Video: h264 (High), yuv420p(…), 768x576, …`.
fn parse_video_line(line: &str) -> Option<InputInfo> {
    let rest = line.split_once("Video: ")?.1;
    let codec = rest.split([' ', ',']).next()?.to_owned();
    let (width, height) = rest
        .split([' ', ','])
        .find_map(|t| {
            let (w, h) = t.split_once('x')?;
            Some((w.parse().ok()?, h.parse().ok()?))
        })
        .unwrap_or((0, 0));
    Some(InputInfo {
        codec,
        width,
        height,
    })
}

fn read_log(stderr: ChildStderr, shared: &Shared, child: &Mutex<Child>) {
    let mut in_input = false;
    for line in BufReader::new(stderr).lines() {
        let Ok(line) = line else { break };
        if line.starts_with("Input #") {
            in_input = true;
        } else if line.starts_with("Output #") || line.starts_with("Stream mapping") {
            in_input = false;
        }
        if in_input
            && shared.codec.load(Ordering::Acquire) == CODEC_UNKNOWN
            && line.contains("Stream #")
            && let Some(info) = parse_video_line(&line)
        {
            let ok = shared.allowed.contains(&info.codec);
            *shared.input.lock().unwrap_or_else(PoisonError::into_inner) = Some(info);
            shared
                .codec
                .store(if ok { CODEC_OK } else { CODEC_REFUSED }, Ordering::Release);
            if !ok {
                let _ = child.lock().unwrap_or_else(PoisonError::into_inner).kill();
            }
        }
        let mut log = shared.log.lock().unwrap_or_else(PoisonError::into_inner);
        if log.len() == LOG_LINES {
            log.pop_front();
        }
        log.push_back(line);
    }
}

fn read_frames(mut stdout: ChildStdout, w: u32, h: u32, slot: &FrameSlot, shared: &Shared) {
    let size = I420Frame::size(w, h);
    let mut number = 0u64;
    // Frames the display has let go of are reused instead of allocated.
    let mut spare: Option<Vec<u8>> = None;
    loop {
        let mut data = spare.take().unwrap_or_else(|| vec![0; size]);
        if stdout.read_exact(&mut data).is_err() {
            break;
        }
        if number == 0 {
            let started = Instant::now();
            while shared.codec.load(Ordering::Acquire) == CODEC_UNKNOWN
                && started.elapsed() < CODEC_WAIT
            {
                std::thread::sleep(Duration::from_millis(5));
            }
        }
        if shared.codec.load(Ordering::Acquire) == CODEC_REFUSED {
            break;
        }
        number += 1;
        let previous = slot.latest();
        slot.put(I420Frame {
            width: w,
            height: h,
            data,
            number,
            decoded_ms: crate::time::wall_ms(),
        });
        // The frame just replaced is free once nobody else holds it.
        spare = previous
            .and_then(|f| Arc::try_unwrap(f).ok())
            .map(|f| f.data)
            .filter(|d| d.len() == size);
    }
    shared.frames_done.store(true, Ordering::Release);
}

struct FfmpegSession {
    child: Arc<Mutex<Child>>,
    shared: Arc<Shared>,
    threads: Vec<JoinHandle<()>>,
    ended: Option<VideoError>,
}

impl FfmpegSession {
    fn kill(&self) {
        let mut child = self.child.lock().unwrap_or_else(PoisonError::into_inner);
        let _ = child.kill();
        let _ = child.wait();
    }
}

impl Session for FfmpegSession {
    fn ended(&mut self) -> Option<VideoError> {
        if self.ended.is_some() {
            return self.ended.clone();
        }
        let exited = {
            let mut child = self.child.lock().unwrap_or_else(PoisonError::into_inner);
            matches!(child.try_wait(), Ok(Some(_)))
        };
        if !exited && !self.shared.frames_done.load(Ordering::Acquire) {
            return None;
        }
        // The pipe closed or the process is gone: make sure it is, then read
        // the rest of its log.
        self.kill();
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
        let reason = if self.shared.codec.load(Ordering::Acquire) == CODEC_REFUSED {
            VideoError::UnsupportedCodec {
                codec: self.input().map(|i| i.codec).unwrap_or_default(),
            }
        } else {
            let log: Vec<String> = self
                .shared
                .log
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .iter()
                .cloned()
                .collect();
            error_lines(&log, &self.shared.url).unwrap_or(VideoError::Ended)
        };
        self.ended = Some(reason);
        self.ended.clone()
    }

    fn input(&self) -> Option<InputInfo> {
        self.shared
            .input
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn pid(&self) -> Option<u32> {
        Some(
            self.child
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .id(),
        )
    }
}

/// The reason in a finished decoder's log, if its last lines hold one.
fn error_lines(log: &[String], url: &str) -> Option<VideoError> {
    // The stream info lines never classify (a codec name is not a fault).
    let tail: Vec<String> = log
        .iter()
        .filter(|l| !l.starts_with("  ") && !l.starts_with("Input #") && !l.starts_with("Output #"))
        .cloned()
        .collect();
    VideoError::from_ffmpeg_log(&tail, url)
}

impl Drop for FfmpegSession {
    fn drop(&mut self) {
        self.kill();
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn video_lines_give_codec_and_size() {
        let info = parse_video_line(
            "  Stream #0:0[0x100]: Video: h264 (High) ([27][0][0][0] / 0x001B), yuv420p(progressive), 768x576, 10 fps",
        )
        .expect("a video line");
        assert_eq!(
            (info.codec.as_str(), info.width, info.height),
            ("h264", 768, 576)
        );
        let info = parse_video_line("  Stream #0:0: Video: mjpeg, yuvj422p(pc), 640x360, 25 tbr")
            .expect("mjpeg");
        assert_eq!(info.codec, "mjpeg");
    }

    #[test]
    fn rtsp_goes_over_tcp_and_files_loop() {
        let src = FfmpegSource::default();
        let req = |url: &str| StreamRequest {
            url: url.to_owned(),
            width: 320,
            height: 180,
            label: "t".to_owned(),
        };
        let args = src.args(&req("rtsp://127.0.0.1:8554/cam")).expect("args");
        let joined = args.join(" ");
        assert!(joined.contains("-rtsp_transport tcp"), "{joined}");
        assert!(joined.contains("scale=320:180"), "{joined}");
        assert!(matches!(
            src.args(&req("udp://x")),
            Err(VideoError::BadUrl { .. })
        ));
        assert!(matches!(
            src.args(&req("/no/such/clip.ts")),
            Err(VideoError::BadUrl { .. })
        ));
        let odd = StreamRequest {
            width: 321,
            ..req("rtsp://h/c")
        };
        assert!(src.args(&odd).is_err());
    }
}
