//! `citytwin record`: the engine ticked as fast as it goes (not in real
//! time) with the recorder the server uses — a day's recording in seconds,
//! for demos, tests and benchmarks. The journal is written as in a live run
//! (so `citytwin kpi --db` agrees with the recording).

use std::path::Path;

use super::engine::{Engine, EngineError};
use crate::protocol::{Change, Message};
use crate::recording::{Recorder, RecordingError};

#[derive(Debug, thiserror::Error)]
pub enum FastForwardError {
    #[error(transparent)]
    Recording(#[from] RecordingError),
    #[error("engine: {0}")]
    Engine(#[from] EngineError),
    #[error("the engine has no scenario to simulate")]
    NoScenario,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FastForwardReport {
    pub start_ms: i64,
    pub end_ms: i64,
    pub deltas: u64,
    pub snapshots: u64,
    pub cases_opened: u64,
    pub bytes: u64,
}

/// Ticks `engine` for `hours` of stream time into a new recording at `out`.
pub fn record(
    engine: Engine,
    hours: f64,
    out: &Path,
) -> Result<FastForwardReport, FastForwardError> {
    record_with(engine, hours, out, crate::recording::SNAPSHOT_EVERY_MS)
}

/// The same with another snapshot interval (the benchmark compares them).
pub fn record_with(
    mut engine: Engine,
    hours: f64,
    out: &Path,
    snapshot_every_ms: i64,
) -> Result<FastForwardReport, FastForwardError> {
    if !engine.has_scenario() {
        return Err(FastForwardError::NoScenario);
    }
    let mut recorder = Recorder::create_with(out, snapshot_every_ms)?;
    let start_ms = engine.now_ms();
    let end_ms = start_ms + (hours * 3_600_000.0) as i64;
    recorder.write(&Message::Snapshot(engine.snapshot()), start_ms)?;
    let mut report = FastForwardReport {
        start_ms,
        end_ms: start_ms,
        snapshots: 1,
        ..FastForwardReport::default()
    };
    let mut frame = Vec::new();
    while engine.now_ms() < end_ms {
        let Some(delta) = engine.tick()? else {
            continue;
        };
        report.cases_opened += delta
            .changes
            .iter()
            .filter(|c| matches!(c, Change::Case(case) if case.steps.is_empty()))
            .count() as u64;
        let time_ms = delta.time_ms;
        let snapshot_due = recorder.wants_snapshot(time_ms);
        frame.clear();
        Message::Delta(delta)
            .encode(&mut frame)
            .map_err(|source| RecordingError::Frame {
                path: recorder.path().to_owned(),
                index: report.deltas as usize,
                source,
            })?;
        recorder.record_delta(&frame, time_ms, || engine.snapshot())?;
        report.deltas += 1;
        report.snapshots += u64::from(snapshot_due);
        report.end_ms = time_ms;
    }
    recorder.finish()?;
    report.bytes = std::fs::metadata(out)
        .map_err(|source| RecordingError::Io {
            path: out.display().to_string(),
            source,
        })?
        .len();
    Ok(report)
}
