//! `citytwin replay clip`: a self-contained recording of a time range — the
//! state at T0 as a snapshot, then everything recorded up to T1 — that opens
//! on its own (and in Foxglove).

use std::path::Path;

use super::cursor::{Cursor, apply_to};
use super::reader::Problem;
use super::{Recorder, RecordingError};
use crate::live::LiveState;
use crate::model::City;
use crate::protocol::Message;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClipReport {
    /// Messages written, the opening snapshot included.
    pub messages: usize,
    /// Deltas of the source skipped over a corrupt chunk.
    pub skipped: u64,
    pub problems: Vec<Problem>,
}

pub fn clip(
    source: &Path,
    city: &City,
    from_ms: i64,
    to_ms: i64,
    out: &Path,
) -> Result<ClipReport, RecordingError> {
    let name = source.display().to_string();
    if to_ms < from_ms {
        return Err(RecordingError::NothingBefore {
            path: name,
            at: format!("{} (--to is before --from)", crate::time::format_cst(to_ms)),
        });
    }
    let mut cursor = Cursor::open(source)?;
    let mut state = LiveState::new(city);
    let opening = cursor.advance_to(from_ms, &mut |m| apply_to(&mut state, m));
    if opening.messages == 0 {
        return Err(RecordingError::NothingBefore {
            path: name,
            at: crate::time::format_cst(from_ms),
        });
    }
    if let Some(source) = opening.errors.into_iter().next() {
        return Err(RecordingError::Stream { path: name, source });
    }
    let mut recorder = Recorder::create(out)?;
    recorder.write(&Message::Snapshot(state.to_snapshot(from_ms)), from_ms)?;
    let mut report = ClipReport {
        messages: 1,
        skipped: opening.skipped,
        problems: opening.problems,
    };
    let mut failed: Option<RecordingError> = None;
    let rest = cursor.forward_to(to_ms, &mut |m| {
        apply_to(&mut state, m)?;
        let time_ms = match m {
            Message::Snapshot(s) => s.time_ms,
            Message::Delta(d) => d.time_ms,
            _ => return Ok(()),
        };
        if failed.is_none() {
            match recorder.write(m, time_ms) {
                Ok(()) => report.messages += 1,
                Err(e) => failed = Some(e),
            }
        }
        Ok(())
    });
    if let Some(e) = failed {
        return Err(e);
    }
    report.skipped += rest.skipped;
    report.problems.extend(rest.problems);
    recorder.finish()?;
    Ok(report)
}
