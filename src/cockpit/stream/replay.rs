//! The recording source: a [`Cursor`] over an MCAP file brings
//! `CityState` to the clock's time through the same [`super::apply`] as the
//! live link. It serves `citytwin replay FILE` and, in a live cockpit, the
//! session's own history (a file still being written) while the clock is
//! dragged back.

use std::path::PathBuf;

use bevy::prelude::*;

use super::{StreamState, apply};
use crate::cockpit::state::CityState;
use crate::cockpit::time::TimeControl;
use crate::recording::{Cursor, RecordingError};

/// Why a replayed cockpit does not send commands.
pub const REFUSAL: &str = "回放中，不能调度：返回实时后再操作 / Replaying the past: commands are disabled — go back to live to act";

#[derive(Resource)]
pub struct ReplaySource {
    path: PathBuf,
    cursor: Option<Cursor>,
    /// The clock time the state was last brought to.
    shown_ms: Option<i64>,
    /// Problems met (corrupt chunks, skipped deltas), each naming the file.
    pub problems: Vec<String>,
    /// Deltas skipped over corrupt chunks (a fallback, counted).
    pub skipped: u64,
}

impl ReplaySource {
    /// A recording already opened.
    pub fn new(cursor: Cursor) -> ReplaySource {
        ReplaySource {
            path: cursor.recording().path().to_owned(),
            cursor: Some(cursor),
            shown_ms: None,
            problems: Vec::new(),
            skipped: 0,
        }
    }

    /// A file that is opened when the clock first leaves the live head
    /// (the live session's own history).
    pub fn lazy(path: PathBuf) -> ReplaySource {
        ReplaySource {
            path,
            cursor: None,
            shown_ms: None,
            problems: Vec::new(),
            skipped: 0,
        }
    }

    pub fn open(path: PathBuf) -> Result<ReplaySource, RecordingError> {
        Ok(ReplaySource::new(Cursor::open(&path)?))
    }

    pub fn path(&self) -> &std::path::Path {
        &self.path
    }

    pub fn cursor(&self) -> Option<&Cursor> {
        self.cursor.as_ref()
    }

    /// The stream time span of the file as far as it is known.
    pub fn span(&self) -> Option<(i64, i64)> {
        self.cursor.as_ref().and_then(|c| c.recording().span())
    }

    /// Brings `state` to `now_ms`; what went wrong goes to `problems`.
    pub fn show(&mut self, state: &mut CityState, now_ms: i64) {
        if self.cursor.is_none() {
            match Cursor::open(&self.path) {
                Ok(cursor) => self.cursor = Some(cursor),
                Err(e) => {
                    let text = e.to_string();
                    if !self.problems.contains(&text) {
                        error!("{text}");
                        self.problems.push(text);
                    }
                    return;
                }
            }
        }
        let Some(cursor) = self.cursor.as_mut() else {
            return;
        };
        let feed = cursor.advance_to(now_ms, &mut |m| apply(state, m).map(|_| ()));
        self.skipped += feed.skipped;
        for p in feed.problems {
            error!("{}", p.message);
            self.problems.push(p.message);
        }
        for e in feed.errors {
            let text = format!("{}: {e}", self.path.display());
            error!("{text}");
            self.problems.push(text);
        }
        self.shown_ms = Some(now_ms);
    }

    /// The next advance seeks (the state was changed by something else).
    pub fn forget_position(&mut self) {
        if let Some(c) = self.cursor.as_mut() {
            c.reset();
        }
        self.shown_ms = None;
    }
}

/// While the clock is not following the live head, brings the state to
/// the clock's time from the recording.
pub fn ingest_recording(
    replay: Option<ResMut<ReplaySource>>,
    time: Res<TimeControl>,
    mut state: ResMut<CityState>,
    mut stream: ResMut<StreamState>,
) {
    let Some(mut replay) = replay else { return };
    if time.is_following() {
        if replay.shown_ms.is_some() {
            replay.forget_position();
        }
        return;
    }
    let Some(now) = time.now_ms() else { return };
    if replay.shown_ms == Some(now) {
        return;
    }
    let before = replay.problems.len();
    replay.show(&mut state, now);
    if let Some(last) = replay.problems[before..].last() {
        stream.last_error = Some(last.clone());
    }
}
