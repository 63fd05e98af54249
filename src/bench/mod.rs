//! `citytwin bench …`: modes that print performance figures (never asserted
//! in tests).

mod hazards;
mod hub;
mod kpi;
mod reference;
mod render;
mod replay;
mod stream;

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
}

pub fn run(command: BenchCommand) -> anyhow::Result<()> {
    match command {
        BenchCommand::Render(args) => render::run(&args),
        BenchCommand::Ingest(common) => stream::ingest(&common),
        BenchCommand::Snapshot(common) => stream::snapshot(&common),
        BenchCommand::Kpi(args) => kpi::run(&args),
        BenchCommand::Replay(args) => replay::run(&args),
        BenchCommand::Hazards(args) => hazards::run(&args),
    }
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
