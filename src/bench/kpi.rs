//! `citytwin bench kpi`: a journal of millions of cases across the demo
//! city's districts and streets, the time to compute every KPI from it (for
//! now and for a past moment), against a full scan; and the cockpit's cost
//! with 10,000 open events (hub pass, marker batch).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use clap::Args;

use crate::backend::store::Store;
use crate::geo::demo::{DemoScene, generate};
use crate::geo::rng::Rng;
use crate::model::{Case, CaseAction, CaseId, City, Event, EventId, EventKind, EventStatus};

use super::median_p95;

#[derive(Args, Debug, Clone)]
pub struct KpiBenchArgs {
    /// Cases (one per event) in the journal.
    #[arg(long, default_value_t = 4_000_000)]
    pub events: u64,
    /// The database; reused when it already holds `--events` cases.
    #[arg(long)]
    pub db: Option<PathBuf>,
    /// Repetitions of each measurement.
    #[arg(long, default_value_t = 20)]
    pub frames: usize,
    /// Open events in the cockpit for the frame-cost part.
    #[arg(long, default_value_t = 10_000)]
    pub open: usize,
}

/// 2026-11-24 18:00 CST: "now" for the benchmark's journal.
const NOW_MS: i64 = 1_795_514_400_000;
const DAY_MS: i64 = 86_400_000;

/// Event kinds in the proportions the seed reports (street grids far
/// outnumber everything else).
fn kind_for(rng: &mut Rng) -> EventKind {
    match rng.below(1000) {
        0..=9 => EventKind::FireMainPressureLost,
        10..=39 => EventKind::MuckTruck,
        40..=41 => EventKind::LandslideWarning,
        _ => EventKind::GridReport,
    }
}

/// A registered case at a random building, opened at `opened_ms`.
pub fn synthetic_case(rng: &mut Rng, city: &City, id: u64, opened_ms: i64) -> Case {
    let b = &city.buildings[rng.below(city.buildings.len().max(1))];
    let kind = kind_for(rng);
    let event = Event {
        id: EventId(id),
        kind,
        building: Some(b.id),
        hazard: None,
        camera: None,
        severity: crate::model::RiskLevel::ALL[rng.below(5)],
        status: EventStatus::Open,
        time_ms: opened_ms,
        message: String::new(),
    };
    Case::register(
        CaseId(id),
        &event,
        b.district,
        b.street,
        opened_ms + 240 * 60_000,
    )
}

/// The same case closed `after_min` later (dispatch → … → close).
fn closed(mut case: Case, after_min: i64) -> Case {
    let t = case.opened_ms;
    let step = |case: &mut Case, action, at: i64| {
        let _ = case.apply(action, "bench", None, t + at * 60_000);
    };
    step(
        &mut case,
        CaseAction::Dispatch {
            departments: vec!["街道办事处".into()],
        },
        1,
    );
    step(&mut case, CaseAction::Acknowledge, 2);
    step(&mut case, CaseAction::Submit, after_min - 1);
    step(&mut case, CaseAction::Verify { passed: true }, after_min);
    step(&mut case, CaseAction::Close, after_min);
    case
}

/// Fills `store` with `n` cases over the year before [`NOW_MS`]: each is
/// journaled as registered and (most) again as closed, as the engine does.
fn fill(store: &mut Store, city: &City, n: u64) -> anyhow::Result<()> {
    let mut rng = Rng::new(2026);
    let chunk = 100_000u64;
    let t = Instant::now();
    let mut id = 1;
    while id <= n {
        let end = (id + chunk).min(n + 1);
        let mut batch = Vec::with_capacity(2 * (end - id) as usize);
        for i in id..end {
            let opened = NOW_MS - 365 * DAY_MS + (i as i64 * 365 * DAY_MS) / n as i64;
            let case = synthetic_case(&mut rng, city, i, opened);
            let after_min = 10 + rng.below(600) as i64;
            let closes = rng.f32() < 0.93 && opened + after_min * 60_000 <= NOW_MS;
            batch.push(case.clone());
            if closes {
                batch.push(closed(case, after_min));
            }
        }
        store.journal_cases(&batch)?;
        id = end;
        eprint!(
            "\r  journaled {:>9} cases ({:.0} s)",
            end - 1,
            t.elapsed().as_secs_f64()
        );
    }
    eprintln!();
    Ok(())
}

fn time_ms(frames: usize, mut f: impl FnMut() -> anyhow::Result<()>) -> anyhow::Result<(f64, f64)> {
    let mut samples = Vec::with_capacity(frames);
    for _ in 0..frames.max(1) {
        let t = Instant::now();
        f()?;
        samples.push(t.elapsed().as_secs_f64() * 1e3);
    }
    Ok(median_p95(&mut samples))
}

pub fn run(args: &KpiBenchArgs) -> anyhow::Result<()> {
    let city = generate(&DemoScene::embedded()?);
    let path = args
        .db
        .clone()
        .unwrap_or_else(|| std::env::temp_dir().join("citytwin-bench-kpi.db"));
    let path_str = path.display().to_string();
    let mut store = Store::open(&path_str, &city, &Default::default())?;
    let have = store.query_i64("SELECT COUNT(*) FROM cases")? as u64;
    println!(
        "citytwin bench kpi — {} cases over a year, {} districts, {} streets ({path_str})",
        args.events,
        city.districts.len(),
        city.streets.len()
    );
    if have != args.events {
        drop(store);
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{path_str}{suffix}"));
        }
        store = Store::open(&path_str, &city, &Default::default())?;
        let t = Instant::now();
        fill(&mut store, &city, args.events)?;
        println!(
            "fill: {:.1} s ({:.0} cases/s through the journal path)",
            t.elapsed().as_secs_f64(),
            args.events as f64 / t.elapsed().as_secs_f64()
        );
    } else {
        println!("fill: reusing the {have} cases already there");
    }
    let buckets = store.query_i64("SELECT COUNT(*) FROM kpi_daily")?;
    println!("daily KPI buckets: {buckets}");

    let mut table = Default::default();
    let (m, p) = time_ms(args.frames, || {
        table = store.kpi_at(NOW_MS)?;
        Ok(())
    })?;
    let now_table = table.clone();
    println!(
        "all KPIs now (city + {} districts + {} streets): median {m:.2} ms, p95 {p:.2} ms \
         (goal ≤ 50 ms)",
        now_table.districts.len(),
        now_table.streets.len()
    );
    println!(
        "  city: received {}, closed {}, closure {:.1} %, on time {:.1} %",
        now_table.city.received,
        now_table.city.closed,
        100.0 * now_table.city.closure_rate(),
        100.0 * now_table.city.on_time_rate()
    );
    let past = NOW_MS - 100 * DAY_MS - 5 * 3_600_000;
    let (m, p) = time_ms(args.frames, || {
        store.kpi_at(past)?;
        Ok(())
    })?;
    println!("all KPIs 100 days ago at 13:00: median {m:.2} ms, p95 {p:.2} ms");
    let t = Instant::now();
    let scan = store.kpi_at_scan(NOW_MS)?;
    println!(
        "the same by a full scan of the cases: {:.0} ms (equal: {})",
        t.elapsed().as_secs_f64() * 1e3,
        scan == now_table
    );
    super::hub::open_events_cost(&Arc::new(city), args.open, args.frames)?;
    Ok(())
}
