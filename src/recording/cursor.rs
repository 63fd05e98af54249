//! [`Cursor`]: the state of a recording at any stream time T. It hands the
//! recorded snapshot and deltas to a sink (the same ingest live data goes
//! through): going forward it continues from where it is; going back, or
//! past a newer snapshot, it seeks — the last snapshot at or before T, then
//! the deltas up to T. A skipped (corrupt) chunk leaves a gap: the deltas
//! after it are skipped, and counted, until the next snapshot.

use std::path::Path;

use super::RecordingError;
use super::reader::{Problem, Recording};
use crate::live::{ApplyError, LiveState};
use crate::model::City;
use crate::protocol::Message;

/// What one [`Cursor::advance_to`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Feed {
    /// It started over from a snapshot (a seek), rather than continuing.
    pub seeked: bool,
    /// Snapshots and deltas handed to the sink.
    pub messages: usize,
    /// Deltas skipped because a chunk before them was corrupt.
    pub skipped: u64,
    /// Problems met on the way (a corrupt chunk), each naming the file.
    pub problems: Vec<Problem>,
    /// Errors the sink returned that were not gaps.
    pub errors: Vec<ApplyError>,
}

pub struct Cursor {
    recording: Recording,
    /// The loaded chunk and its messages.
    chunk: Option<usize>,
    messages: Vec<(i64, Message)>,
    /// Next message of the loaded chunk to hand out.
    next: usize,
    /// Everything up to this time has been handed out.
    at_ms: Option<i64>,
    /// After a gap: skip deltas until a snapshot.
    broken: bool,
}

impl Cursor {
    pub fn new(recording: Recording) -> Cursor {
        Cursor {
            recording,
            chunk: None,
            messages: Vec::new(),
            next: 0,
            at_ms: None,
            broken: false,
        }
    }

    pub fn open(path: &Path) -> Result<Cursor, RecordingError> {
        Ok(Cursor::new(Recording::open(path)?))
    }

    pub fn recording(&self) -> &Recording {
        &self.recording
    }

    pub fn recording_mut(&mut self) -> &mut Recording {
        &mut self.recording
    }

    /// Stream time up to which the sink has everything.
    pub fn at_ms(&self) -> Option<i64> {
        self.at_ms
    }

    /// Forgets the position: the next advance seeks.
    pub fn reset(&mut self) {
        self.at_ms = None;
        self.chunk = None;
        self.messages.clear();
        self.next = 0;
    }

    /// The chunk a seek to `target_ms` starts from: the last good chunk with
    /// a snapshot that starts at or before it (the first one when the
    /// target is before the recording).
    fn seek_chunk(&self, target_ms: i64, before: Option<usize>) -> Option<usize> {
        let chunks = self.recording.chunks();
        let limit = before.unwrap_or(chunks.len());
        // Chunks are in time order: binary search, then walk back to one
        // with a snapshot.
        let upto = chunks[..limit].partition_point(|c| c.start_ms <= target_ms);
        (0..upto)
            .rev()
            .find(|i| chunks[*i].has_snapshot)
            .or_else(|| {
                if before.is_none() {
                    chunks.iter().position(|c| c.has_snapshot)
                } else {
                    None
                }
            })
    }

    fn load(&mut self, index: usize, feed: &mut Feed) -> bool {
        match self.recording.read_chunk(index) {
            Ok(messages) => {
                self.messages = messages;
                self.chunk = Some(index);
                self.next = 0;
                true
            }
            Err(problem) => {
                if !feed.problems.contains(&problem) {
                    feed.problems.push(problem);
                }
                self.messages.clear();
                self.chunk = Some(index);
                self.next = 0;
                false
            }
        }
    }

    /// Hands the sink everything needed to bring its state to `target_ms`.
    pub fn advance_to(
        &mut self,
        target_ms: i64,
        sink: &mut dyn FnMut(&Message) -> Result<(), ApplyError>,
    ) -> Feed {
        let mut feed = Feed::default();
        let seek_from = self.seek_chunk(target_ms, None);
        let forward = match (self.at_ms, self.chunk, seek_from) {
            // Going back always seeks; going forward seeks only when more
            // than one newer snapshot lies between here and the target
            // (playing on across one snapshot is cheaper than seeking).
            (Some(at), Some(current), Some(s)) => {
                target_ms >= at
                    && (s <= current
                        || self.recording.chunks()[current + 1..=s]
                            .iter()
                            .filter(|c| c.has_snapshot)
                            .count()
                            <= 1)
            }
            (Some(at), Some(_), None) => target_ms >= at,
            _ => false,
        };
        if !forward && !self.seek(target_ms, seek_from, &mut feed, sink) {
            return feed;
        }
        self.forward(target_ms, &mut feed, sink);
        feed
    }

    /// Plays on from the position to `target_ms`, never seeking: every
    /// recorded delta in between is handed out (clips, exports).
    pub fn forward_to(
        &mut self,
        target_ms: i64,
        sink: &mut dyn FnMut(&Message) -> Result<(), ApplyError>,
    ) -> Feed {
        if self.at_ms.is_none() {
            return self.advance_to(target_ms, sink);
        }
        let mut feed = Feed::default();
        self.forward(target_ms, &mut feed, sink);
        feed
    }

    /// Loads the snapshot a seek starts from and hands it out. False when
    /// the recording has no usable snapshot.
    fn seek(
        &mut self,
        target_ms: i64,
        mut from: Option<usize>,
        feed: &mut Feed,
        sink: &mut dyn FnMut(&Message) -> Result<(), ApplyError>,
    ) -> bool {
        feed.seeked = true;
        self.reset();
        while let Some(index) = from {
            if self.load(index, feed) {
                // The last snapshot in this chunk at or before the target
                // (or the very first one, for a target before the start).
                let snapshots = self
                    .messages
                    .iter()
                    .enumerate()
                    .filter(|(_, (_, m))| matches!(m, Message::Snapshot(_)));
                let pick = snapshots
                    .clone()
                    .rev()
                    .find(|(_, (t, _))| *t <= target_ms)
                    .map(|(i, _)| i)
                    .or_else(|| {
                        let first_chunk = self.seek_chunk(i64::MIN, None) == Some(index);
                        snapshots.map(|(i, _)| i).next().filter(|_| first_chunk)
                    });
                if let Some(i) = pick {
                    let (time_ms, message) = &self.messages[i];
                    let time_ms = *time_ms;
                    if let Err(e) = sink(message) {
                        feed.errors.push(e);
                    }
                    feed.messages += 1;
                    self.next = i + 1;
                    self.at_ms = Some(time_ms);
                    self.broken = false;
                    return true;
                }
            }
            // Corrupt, or its snapshot is after the target: the one before.
            from = self.seek_chunk(target_ms, Some(index));
        }
        false
    }

    /// Hands out the messages after the position up to `target_ms`.
    fn forward(
        &mut self,
        target_ms: i64,
        feed: &mut Feed,
        sink: &mut dyn FnMut(&Message) -> Result<(), ApplyError>,
    ) {
        loop {
            if self.next >= self.messages.len() {
                let Some(current) = self.chunk else { return };
                let mut next = current + 1;
                if next >= self.recording.chunks().len() {
                    // A file still being written may have grown.
                    if self.recording.scan().unwrap_or(0) == 0 {
                        break;
                    }
                }
                loop {
                    let Some(entry) = self.recording.chunks().get(next).copied() else {
                        self.at_ms = Some(self.at_ms.unwrap_or(target_ms).max(target_ms));
                        return;
                    };
                    if entry.start_ms > target_ms {
                        self.at_ms = Some(target_ms);
                        return;
                    }
                    if self.load(next, feed) {
                        break;
                    }
                    // A corrupt chunk: what follows has a gap.
                    self.broken = true;
                    next += 1;
                }
            }
            let (time_ms, message) = &self.messages[self.next];
            if *time_ms > target_ms {
                break;
            }
            let time_ms = *time_ms;
            match message {
                // Playing on, a snapshot repeats what the deltas built: only
                // after a gap is it needed.
                Message::Snapshot(_) if !self.broken => {}
                Message::Snapshot(_) | Message::Delta(_) => {
                    let is_snapshot = matches!(message, Message::Snapshot(_));
                    if self.broken && !is_snapshot {
                        feed.skipped += 1;
                    } else {
                        match sink(message) {
                            Ok(()) => {
                                if is_snapshot {
                                    self.broken = false;
                                }
                            }
                            Err(ApplyError::Gap { .. } | ApplyError::NoSnapshot { .. }) => {
                                self.broken = true;
                                feed.skipped += 1;
                            }
                            Err(e) => feed.errors.push(e),
                        }
                        feed.messages += 1;
                    }
                }
                _ => {}
            }
            self.next += 1;
            self.at_ms = Some(time_ms);
        }
        self.at_ms = Some(self.at_ms.map_or(target_ms, |a| a.max(target_ms)));
    }
}

/// Applies a recorded message to a state (the sink of the tools that need
/// no cockpit: `state_at`, clips, benchmarks).
pub fn apply_to(state: &mut LiveState, message: &Message) -> Result<(), ApplyError> {
    match message {
        Message::Snapshot(s) => state.apply_snapshot(s),
        Message::Delta(d) => state.apply_delta(d).map(|_| ()),
        _ => Ok(()),
    }
}

/// The state at `at_ms` the slow way: the recording's first snapshot, then
/// every delta up to `at_ms` (no later snapshot used) — what a seek must
/// equal, and the benchmark's peer.
pub fn replay_from_start(
    path: &Path,
    city: &City,
    at_ms: i64,
) -> Result<LiveState, RecordingError> {
    let name = path.display().to_string();
    let mut recording = Recording::open(path)?;
    let mut state = LiveState::new(city);
    let mut started = false;
    'chunks: for index in 0..recording.chunks().len() {
        if recording.chunks()[index].start_ms > at_ms && started {
            break;
        }
        let Ok(messages) = recording.read_chunk(index) else {
            continue;
        };
        for (time_ms, message) in &messages {
            if *time_ms > at_ms && started {
                break 'chunks;
            }
            let result = match message {
                Message::Snapshot(s) if !started => {
                    started = true;
                    state.apply_snapshot(s)
                }
                Message::Delta(d) if started => state.apply_delta(d).map(|_| ()),
                _ => Ok(()),
            };
            result.map_err(|source| RecordingError::Stream {
                path: name.clone(),
                source,
            })?;
        }
    }
    Ok(state)
}

/// The state as it was at stream time `at_ms`: the last snapshot at or
/// before it, then the deltas up to it.
pub fn state_at(path: &Path, city: &City, at_ms: i64) -> Result<LiveState, RecordingError> {
    let mut cursor = Cursor::open(path)?;
    if cursor
        .recording()
        .span()
        .is_none_or(|(start, _)| at_ms < start)
    {
        return Err(RecordingError::NothingBefore {
            path: path.display().to_string(),
            at: crate::time::format_cst(at_ms),
        });
    }
    let mut state = LiveState::new(city);
    let feed = cursor.advance_to(at_ms, &mut |m| apply_to(&mut state, m));
    if let Some(e) = feed.errors.into_iter().next() {
        return Err(RecordingError::Stream {
            path: path.display().to_string(),
            source: e,
        });
    }
    if feed.messages == 0 {
        return Err(RecordingError::NothingBefore {
            path: path.display().to_string(),
            at: crate::time::format_cst(at_ms),
        });
    }
    Ok(state)
}
