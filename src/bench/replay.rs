//! `citytwin bench replay`: a 24 h demo recording (made once with the
//! fast-forwarded scenario, or reused) per snapshot interval, and for each:
//! its size, open time, random seeks including the rebuild of what the
//! panels show (hub rows, GPU state words) against the same seeks by a full
//! replay from the start, playback at 600× (ingest ms per 60 fps frame, and
//! whether it ever fell behind the clock), and the memory replaying takes.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use clap::Args;

use super::median_p95;
use crate::backend::engine::Engine;
use crate::backend::fast_forward;
use crate::backend::scenario::Scenario;
use crate::cockpit::hub_view::HubView;
use crate::cockpit::state::CityState;
use crate::geo::demo::{DemoScene, generate};
use crate::geo::rng::Rng;
use crate::model::{Area, City};
use crate::recording::{Cursor, Recording, apply_to, replay_from_start};

#[derive(Args, Debug, Clone)]
pub struct ReplayBenchArgs {
    /// Stream hours per recording.
    #[arg(long, default_value_t = 24.0)]
    pub hours: f64,
    /// Snapshot intervals to compare (minutes of stream time).
    #[arg(long, value_delimiter = ',', default_values_t = [1, 5, 15])]
    pub intervals: Vec<i64>,
    /// Random seeks per recording.
    #[arg(long, default_value_t = 200)]
    pub seeks: usize,
    /// Where the recordings are kept between runs.
    #[arg(long, default_value = "target/bench")]
    pub dir: PathBuf,
}

/// The recording for `every_min`, made when missing.
fn recording(city: &Arc<City>, args: &ReplayBenchArgs, every_min: i64) -> anyhow::Result<PathBuf> {
    std::fs::create_dir_all(&args.dir)?;
    let path = args
        .dir
        .join(format!("demo-{}h-snap{every_min}min.mcap", args.hours));
    if Recording::open(&path).is_ok_and(|r| r.is_complete()) {
        return Ok(path);
    }
    let started = Instant::now();
    let engine = Engine::open(city.clone(), ":memory:", Some(Scenario::embedded()?))?;
    let report = fast_forward::record_with(engine, args.hours, &path, every_min * 60_000)?;
    println!(
        "  recorded {} in {:.1} s ({} deltas, {} cases opened)",
        path.display(),
        started.elapsed().as_secs_f64(),
        report.deltas,
        report.cases_opened
    );
    Ok(path)
}

/// A seek as the cockpit does it: the cursor brings the state to `t`, then
/// what the panels show is rebuilt (hub rows and counts, GPU words).
fn seek_and_rebuild(
    cursor: &mut Cursor,
    state: &mut CityState,
    view: &mut HubView,
    words: &mut Vec<u8>,
    t: i64,
) {
    cursor.advance_to(t, &mut |m| apply_to(state, m));
    view.refresh(state, Area::City, t);
    state.pack_into(words);
}

fn measure(
    path: &Path,
    city: &City,
    args: &ReplayBenchArgs,
    full_scan: bool,
) -> anyhow::Result<()> {
    let bytes = std::fs::metadata(path)?.len();
    let mut opens = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        let r = Recording::open(path)?;
        opens.push(t.elapsed().as_secs_f64() * 1000.0);
        drop(r);
    }
    let (open_ms, _) = median_p95(&mut opens);
    let recording = Recording::open(path)?;
    let (start, end) = recording
        .span()
        .ok_or_else(|| anyhow::anyhow!("{}: empty recording", path.display()))?;
    let chunks = recording.chunks().len();
    println!(
        "  size {:.1} MB in {chunks} chunks; open {open_ms:.2} ms (goal ≤ 300 ms)",
        bytes as f64 / 1e6
    );
    let rss_before = super::rss_mb("self");
    let mut cursor = Cursor::new(recording);
    let mut state = CityState::new(city);
    let mut view = HubView::default();
    let mut words = Vec::new();
    let mut rng = Rng::new(24);
    let targets: Vec<i64> = (0..args.seeks)
        .map(|_| start + (rng.f32() as f64 * (end - start) as f64) as i64)
        .collect();
    let mut samples = Vec::new();
    for t in &targets {
        let began = Instant::now();
        seek_and_rebuild(&mut cursor, &mut state, &mut view, &mut words, *t);
        samples.push(began.elapsed().as_secs_f64() * 1000.0);
    }
    let (p50, p95) = median_p95(&mut samples);
    println!(
        "  {} random seeks + panel rebuild: p50 {p50:.2} ms, p95 {p95:.2} ms (goal p95 ≤ 50 ms)",
        targets.len()
    );
    if full_scan {
        let mut samples = Vec::new();
        for t in &targets {
            let began = Instant::now();
            let mut scanned = CityState::new(city);
            scanned.live = replay_from_start(path, city, *t)?;
            view.refresh(&scanned, Area::City, *t);
            scanned.pack_into(&mut words);
            samples.push(began.elapsed().as_secs_f64() * 1000.0);
            std::hint::black_box(&scanned);
        }
        let (f50, f95) = median_p95(&mut samples);
        println!(
            "  the same seeks by a full replay from the start: p50 {f50:.1} ms, p95 {f95:.1} ms ({:.0}× the indexed p50)",
            f50 / p50.max(1e-6)
        );
    }
    // Playback at 600× at 60 fps: 10 s of stream per frame.
    let frame_ms = 1000.0 / 60.0;
    let step = (600.0 * frame_ms) as i64;
    let mut t = start;
    cursor.reset();
    seek_and_rebuild(&mut cursor, &mut state, &mut view, &mut words, t);
    let mut frames = Vec::new();
    let mut behind = 0usize;
    while t < end {
        t += step;
        let began = Instant::now();
        cursor.advance_to(t, &mut |m| apply_to(&mut state, m));
        let ms = began.elapsed().as_secs_f64() * 1000.0;
        if ms > frame_ms {
            behind += 1;
        }
        frames.push(ms);
    }
    let n = frames.len();
    let max = frames.iter().copied().fold(0.0, f64::max);
    let (f50, f95) = median_p95(&mut frames);
    println!(
        "  playback 600×: {n} frames, ingest p50 {f50:.3} ms, p95 {f95:.3} ms, max {max:.2} ms (goal ≤ 5 ms); frames slower than 1/60 s: {behind}{}",
        if behind == 0 {
            " — the clock never fell behind"
        } else {
            ""
        }
    );
    println!(
        "  resident memory: {:.0} MB before opening, {:.0} MB while replaying (+{:.1} MB; goal ≤ 300 MB above the live cockpit)",
        rss_before,
        super::rss_mb("self"),
        super::rss_mb("self") - rss_before
    );
    Ok(())
}

pub fn run(args: &ReplayBenchArgs) -> anyhow::Result<()> {
    let started = Instant::now();
    let city = Arc::new(generate(&DemoScene::embedded()?));
    println!(
        "bench replay: the demo city ({} buildings), {} h of the demo scenario per recording",
        city.buildings.len(),
        args.hours
    );
    let default_min = crate::recording::SNAPSHOT_EVERY_MS / 60_000;
    for every_min in &args.intervals {
        println!(
            "snapshot every {every_min} min{}:",
            if *every_min == default_min {
                " (the recorder's default)"
            } else {
                ""
            }
        );
        let path = recording(&city, args, *every_min)?;
        measure(&path, &city, args, *every_min == default_min)?;
    }
    println!(
        "bench replay: {:.1} s in all",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
