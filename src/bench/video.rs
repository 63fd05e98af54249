//! `citytwin bench video`: N live 720p25 H.264 streams from GStreamer's RTSP
//! server on loopback (tests/fixtures/rtsp_server.py --live: each frame
//! carries its send time and number as blocks in its top rows), decoded by
//! the wall's own path (ffmpeg children, watchdog, slots) at tile size. Per
//! N: decoder CPU (from /proc), drops (frame numbers the decoders never
//! produced), end-to-end latency (decode time − send time), memory, and the
//! frame time a headless cockpit adds when it shows the N tiles.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use bevy::math::UVec2;
use clap::Args;

use super::median_p95;
use crate::cockpit::camera::OrbitCamera;
use crate::cockpit::headless::HeadlessCity;
use crate::cockpit::video::VideoCommand;
use crate::model::{Camera, CameraId, CameraKind, City};
use crate::video::{FfmpegSource, I420Frame, StreamRequest, VideoManager, WatchSettings};

#[derive(Args, Debug, Clone)]
pub struct VideoBenchArgs {
    /// Stream counts to measure, one line each.
    #[arg(long, value_delimiter = ',', default_value = "1,4,9,16")]
    pub streams: Vec<usize>,
    /// Seconds of decoding per count.
    #[arg(long, default_value_t = 60)]
    pub seconds: u64,
    /// Decoded size per stream (the grid's tile; 1280x720 for full size).
    #[arg(long, default_value = "320x180", value_parser = crate::cli::parse_size)]
    pub tile: UVec2,
    /// Source size and rate served by the RTSP fixture.
    #[arg(long, default_value = "1280x720@25")]
    pub source: String,
    /// Cockpit frames timed per count (0: skip the cockpit part).
    #[arg(long, default_value_t = 20)]
    pub frames: usize,
}

/// The fixture's stamp: 32 blocks of 40×32 source pixels per row; row 0
/// the send time (ms, low 32 bits), row 1 the frame number (16 bits) and
/// an alternating check pattern.
const BLOCK_W: f32 = 40.0;
const BLOCK_H: f32 = 32.0;

/// Reads the stamp from a frame decoded at `frame.width` of `src_w`.
pub fn read_stamp(frame: &I420Frame, src: (u32, u32)) -> Option<(u32, u16)> {
    let sx = frame.width as f32 / src.0 as f32;
    let sy = frame.height as f32 / src.1 as f32;
    let bit = |i: usize, row: usize| {
        let x = ((i as f32 * BLOCK_W + BLOCK_W / 2.0) * sx) as u32;
        let y = ((row as f32 * BLOCK_H + BLOCK_H / 2.0) * sy) as u32;
        frame.luma_at(x.min(frame.width - 1), y.min(frame.height - 1)) > 128
    };
    for i in 16..32 {
        if bit(i, 1) != (i % 2 == 1) {
            return None;
        }
    }
    let ms = (0..32).fold(0u32, |v, i| (v << 1) | u32::from(bit(i, 0)));
    let n = (0..16).fold(0u16, |v, i| (v << 1) | u16::from(bit(i, 1)));
    Some((ms, n))
}

struct Fixture(Child);

impl Drop for Fixture {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_server(source: &str) -> anyhow::Result<(Fixture, String)> {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/rtsp_server.py");
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let mut command = Command::new("/usr/bin/python3");
    command
        .arg(&script)
        .args(["--port", &port.to_string(), "--live", source]);
    if let Some(clip) = street_clip() {
        command.arg("--clip").arg(clip);
    }
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .with_context(|| {
            format!(
                "starting {} (install python3-gi gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-good/-bad/-ugly)",
                script.display()
            )
        })?;
    let mut line = String::new();
    if let Some(out) = child.stdout.take() {
        BufReader::new(out).read_line(&mut line)?;
    }
    match line.strip_prefix("ready ") {
        Some(url) => Ok((Fixture(child), url.trim().to_owned())),
        None => {
            let _ = child.kill();
            bail!("the RTSP fixture did not start: {line}")
        }
    }
}

/// The shared street camera clip, the picture of the served streams.
fn street_clip() -> Option<PathBuf> {
    let root = std::env::var_os("CITYTWIN_SHARED_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/data"));
    Some(root.join("video/street_camera_768x576.avi")).filter(|p| p.is_file())
}

/// Proportional memory (MB) of a process: its private pages plus its
/// share of the libraries every decoder maps (RSS would count those once
/// per decoder).
fn pss_mb(pid: u32) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Pss:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

/// CPU ticks (utime + stime) of a process.
fn cpu_ticks(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = stat.rsplit_once(") ")?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    Some(fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?)
}

fn clock_ticks() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100.0)
}

#[derive(Default)]
struct Tally {
    frames: u64,
    drops: u64,
    last: Option<u16>,
    unreadable: u64,
    latency_ms: Vec<f64>,
    display_misses: u64,
}

fn run_count(args: &VideoBenchArgs, n: usize, src: (u32, u32)) -> anyhow::Result<()> {
    let (_server, url) = start_server(&args.source)?;
    let manager = VideoManager::start(Arc::new(FfmpegSource::default()), WatchSettings::default())?;
    let requests: Vec<StreamRequest> = (0..n)
        .map(|i| StreamRequest {
            url: url.clone(),
            width: args.tile.x,
            height: args.tile.y,
            label: format!("bench-{i}"),
        })
        .collect();
    // Distinct requests per stream: the same URL and size would share one
    // decoder, so each stream's label (part of the key) differs.
    let streams: Vec<_> = requests.iter().map(|r| manager.want(r)).collect();
    let warm = Instant::now();
    while streams.iter().any(|s| s.slot.seq() == 0) {
        if warm.elapsed() > Duration::from_secs(30) {
            bail!("{n} streams: not all live after 30 s");
        }
        for r in &requests {
            manager.want(r);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let mut tallies: Vec<Tally> = (0..n).map(|_| Tally::default()).collect();
    let mut seen = vec![0u64; n];
    let mut ticks: HashMap<u32, (u64, u64)> = HashMap::new();
    let started = Instant::now();
    let own_before = super::rss_mb("self");
    let mut peak_mb: f64 = 0.0;
    let mut peak_own: f64 = 0.0;
    let mut first_mb: Option<f64> = None;
    let mut last_mb = 0.0;
    let mut last_sample = Instant::now() - Duration::from_secs(1);
    while started.elapsed() < Duration::from_secs(args.seconds) {
        for (i, s) in streams.iter().enumerate() {
            manager.want(&requests[i]);
            if let Some((seq, frame)) = s.slot.newer_than(seen[i]) {
                let t = &mut tallies[i];
                t.display_misses += seq - seen[i] - 1;
                seen[i] = seq;
                t.frames += 1;
                match read_stamp(&frame, src) {
                    Some((ms, number)) => {
                        if let Some(last) = t.last {
                            t.drops += u64::from(number.wrapping_sub(last).saturating_sub(1));
                        }
                        t.last = Some(number);
                        let now = (frame.decoded_ms as u64 & 0xFFFF_FFFF) as u32;
                        t.latency_ms.push(f64::from(now.wrapping_sub(ms)));
                    }
                    None => t.unreadable += 1,
                }
            }
        }
        if last_sample.elapsed() >= Duration::from_millis(500) {
            last_sample = Instant::now();
            peak_own = peak_own.max(super::rss_mb("self") - own_before);
            let mut mb = 0.0;
            for s in &streams {
                let pid = s.pid.load(std::sync::atomic::Ordering::Relaxed);
                if pid == 0 {
                    continue;
                }
                mb += pss_mb(pid);
                if let Some(now) = cpu_ticks(pid) {
                    ticks
                        .entry(pid)
                        .and_modify(|e| e.1 = now)
                        .or_insert((now, now));
                }
            }
            peak_mb = peak_mb.max(mb);
            first_mb.get_or_insert(mb);
            last_mb = mb;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    let elapsed = started.elapsed().as_secs_f64();
    let cores = ticks.values().map(|(a, b)| (b - a) as f64).sum::<f64>() / clock_ticks() / elapsed;
    let frames: u64 = tallies.iter().map(|t| t.frames).sum();
    let misses: u64 = tallies.iter().map(|t| t.display_misses).sum();
    // A gap in the numbers the reader saw is a drop only if the decoder
    // never produced the frame (not if the reader was late for it).
    let drops: u64 = tallies
        .iter()
        .map(|t| t.drops.saturating_sub(t.display_misses))
        .sum();
    let unreadable: u64 = tallies.iter().map(|t| t.unreadable).sum();
    let mut latency: Vec<f64> = tallies
        .iter()
        .flat_map(|t| t.latency_ms.iter().copied())
        .collect();
    let (median, p95) = median_p95(&mut latency);
    let restarts: u64 = streams
        .iter()
        .map(|s| {
            s.opened
                .load(std::sync::atomic::Ordering::Relaxed)
                .saturating_sub(1)
        })
        .sum();
    let added = if args.frames > 0 {
        drop(streams);
        drop(manager);
        cockpit_cost(args, n)?
    } else {
        None
    };
    let cockpit = added.map_or("cockpit not timed".to_owned(), |(base, with)| {
        format!(
            "{:+.1} ms/frame in the cockpit ({base:.0} → {with:.0} ms with {n} clip tiles)",
            with - base
        )
    });
    let (w, h) = (args.tile.x, args.tile.y);
    let start_mb = first_mb.unwrap_or(0.0);
    let fps = frames as f64 / elapsed / n as f64;
    println!(
        "{n:>2} streams at {w}×{h}: {cores:.2} cores, {drops} drops, latency median {median:.0} ms p95 {p95:.0} ms, \
         {cockpit}, {peak_mb:.0} MB in decoders (PSS; {start_mb:.0} MB at the start, {last_mb:.0} MB at the end) \
         + {peak_own:.0} MB in the wall ({frames} frames in {elapsed:.0} s, {fps:.1} fps each; {misses} shown-frame \
         skips by the reader; {unreadable} unreadable stamps; {restarts} restarts)"
    );
    Ok(())
}

/// Median frame time of a headless cockpit without and with `n` tiles.
/// The tiles' streams come from the bundled clip over loopback (no
/// encoder competing with the renderer for this machine's two cores).
fn cockpit_cost(args: &VideoBenchArgs, n: usize) -> anyhow::Result<Option<(f64, f64)>> {
    let mut scene = crate::geo::demo::DemoScene::embedded()?;
    scene.buildings = 5_000;
    let mut city: City = crate::geo::demo::generate(&scene);
    let p = city.buildings[0].centre_m();
    city.cameras = (0..n)
        .map(|i| Camera {
            id: CameraId(i as u32),
            code: format!("BENCH-{i}"),
            name: format!("bench {i}"),
            kind: CameraKind::Crossing,
            position_m: [p[0] + i as f32 * 20.0, p[1]],
            height_m: 8.0,
            heading_deg: 0.0,
            fov_deg: 70.0,
            range_m: 100.0,
            // One decoder each (a tile's stream is keyed by its camera too).
            url: format!("demo://clip?start={}", i * 4),
            sub_url: None,
            ai: false,
            unit: None,
        })
        .collect();
    let b = city.bounds;
    let view = OrbitCamera::overview(b.min_m, b.max_m, city.terrain.height_at([0.0, 0.0]));
    let mut headless =
        HeadlessCity::with_panels(Arc::new(city), view, UVec2::new(1600, 900), false);
    let (closed, _) = super::time_frames(&mut headless, args.frames);
    // The wall's window open with no tile in it (an empty link), then the
    // tiles: the window's own cost and the tiles' are told apart.
    let side = (n as f64).sqrt().ceil() as u8;
    let world = headless.app().world_mut();
    world.write_message(VideoCommand::Layout(side.clamp(1, 4)));
    world.write_message(VideoCommand::Show(true));
    world.write_message(VideoCommand::Link(Some(
        crate::cockpit::video::LinkedCameras {
            case: crate::model::CaseId(0),
            cameras: Vec::new(),
            source: None,
        },
    )));
    let (base, _) = super::time_frames(&mut headless, args.frames);
    println!("  cockpit frame: wall closed {closed:.0} ms, wall open and empty {base:.0} ms");
    headless
        .app()
        .world_mut()
        .write_message(VideoCommand::Link(None));
    let warm = Instant::now();
    loop {
        headless.update();
        let live = headless
            .app()
            .world()
            .resource::<crate::cockpit::video::Videos>()
            .status
            .values()
            .filter(|s| s.last_frame_ms.is_some())
            .count();
        if live >= n {
            break;
        }
        if warm.elapsed() > Duration::from_secs(60) {
            println!("  (cockpit: only {live} of {n} tiles live after 60 s)");
            return Ok(None);
        }
    }
    let (with, _) = super::time_frames(&mut headless, args.frames);
    Ok(Some((base, with)))
}

pub fn run(args: &VideoBenchArgs) -> anyhow::Result<()> {
    let (size, _) = args.source.split_once('@').context("--source WxH@FPS")?;
    let src = crate::cli::parse_size(size).map_err(anyhow::Error::msg)?;
    match street_clip() {
        Some(clip) => println!("picture: {} (4 s, looped)", clip.display()),
        None => println!("picture: a grey gradient (the shared street clip is missing)"),
    }
    println!(
        "citytwin bench video — {} live H.264 from GStreamer's RTSP server on loopback, decoded by ffmpeg to {}×{}, {} s per count \
         (goals: 16 streams at tile size ≤ 1 core and 0 drops; 4 at full 720p25)",
        args.source, args.tile.x, args.tile.y, args.seconds
    );
    for &n in &args.streams {
        run_count(args, n, (src.x, src.y))?;
    }
    Ok(())
}
