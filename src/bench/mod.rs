//! `citytwin bench …`: modes that print performance figures (never asserted
//! in tests).

mod hazards;
mod hub;
mod kpi;
mod reference;
mod render;
pub use render::whole_city_view;
mod replay;
mod stream;
mod video;
mod wall;

use clap::{Args, Subcommand};

#[derive(Subcommand, Debug)]
pub enum BenchCommand {
    /// Frame time (vs a bare wgpu reference), load time and recolour cost.
    Render(render::RenderBenchArgs),
    /// Encode/decode/apply throughput of deltas and per-frame ingest cost.
    Ingest(Common),
    /// Encode, decode and apply a 40k-building snapshot.
    Snapshot(Common),
    /// KPIs from a journal of millions of cases; cost of 10k open events.
    Kpi(kpi::KpiBenchArgs),
    /// A day's recording: size, open time, seeks vs a full replay, 600×
    /// playback, memory — per snapshot interval.
    Replay(replay::ReplayBenchArgs),
    /// 1,000 hazard bodies × 10 points: rules + forecast per reading, and
    /// the frame cost of drawing them.
    Hazards(hazards::HazardBenchArgs),
    /// N = 1, 4, 9, 16 live 720p25 H.264 streams from a local RTSP server:
    /// decode CPU, drops, end-to-end latency, added frame time, memory.
    Video(video::VideoBenchArgs),
    /// A wall of 1, 2 and 3 city windows (headless, 1280×720 each): frame
    /// time; a presenter's key press to the next step's first frame.
    Wall(wall::WallBenchArgs),
}

pub fn run(command: BenchCommand) -> anyhow::Result<()> {
    match command {
        BenchCommand::Render(args) => render::run(&args),
        BenchCommand::Ingest(common) => stream::ingest(&common),
        BenchCommand::Snapshot(common) => stream::snapshot(&common),
        BenchCommand::Kpi(args) => kpi::run(&args),
        BenchCommand::Replay(args) => replay::run(&args),
        BenchCommand::Hazards(args) => hazards::run(&args),
        BenchCommand::Video(args) => video::run(&args),
        BenchCommand::Wall(args) => wall::run(&args),
    }
}

/// Resident memory (MB) of a process: `self` or a pid.
pub fn rss_mb(pid: &str) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1).map(str::to_owned))
        })
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

/// Median and p95 (ms) of `frames` updates of a headless cockpit, each
/// waited for on the GPU (after a few warm-up frames).
pub fn time_frames(
    headless: &mut crate::cockpit::headless::HeadlessCity,
    frames: usize,
) -> (f64, f64) {
    headless.wait_for_gpu();
    for _ in 0..3 {
        headless.update();
    }
    let mut times = Vec::with_capacity(frames);
    for _ in 0..frames {
        let t = std::time::Instant::now();
        headless.update();
        headless.wait_for_gpu();
        times.push(t.elapsed().as_secs_f64() * 1e3);
    }
    median_p95(&mut times)
}

/// Median and 95th percentile of samples in milliseconds.
pub fn median_p95(samples_ms: &mut [f64]) -> (f64, f64) {
    if samples_ms.is_empty() {
        return (f64::NAN, f64::NAN);
    }
    samples_ms.sort_by(f64::total_cmp);
    let at = |q: f64| samples_ms[((samples_ms.len() - 1) as f64 * q).round() as usize];
    (at(0.5), at(0.95))
}

#[derive(Args, Debug, Clone)]
pub struct Common {
    /// Frames (or repetitions) to measure.
    #[arg(long, default_value_t = 30)]
    pub frames: usize,
}
