//! Recordings of the state stream in MCAP: one channel per message kind
//! (`/citytwin/delta`, `/citytwin/snapshot`, …), each message the exact
//! protocol frame, a full snapshot every `snapshot_every_ms` of stream time,
//! and the summary's chunk index so a reader can seek without reading the
//! file. Every snapshot starts a new chunk, so a seek reads the one chunk
//! that holds the nearest snapshot and the few after it. Chunks are also
//! flushed every few seconds, so a recording cut by `kill -9` (or still being
//! written) opens up to its last complete chunk. Files open in Foxglove too
//! (schema-less, custom encoding).
//!
//! | file        | what                                                        |
//! |-------------|-------------------------------------------------------------|
//! | `mod.rs`    | [`Recorder`] (writing), [`RecordingError`]                  |
//! | `reader.rs` | [`Recording`]: open by summary (or scan), chunks, info      |
//! | `cursor.rs` | [`Cursor`]: the state at any T, playback, [`state_at`]      |
//! | `clip.rs`   | [`clip`]: a self-contained recording of a time range        |
//! | `history.rs`| [`CaseHistory`]: every case seen, the timeline's marks      |

mod clip;
mod cursor;
mod history;
mod reader;

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io::BufWriter;
use std::path::Path;
use std::time::{Duration, Instant};

pub use clip::{ClipReport, clip};
pub use cursor::{Cursor, Feed, apply_to, replay_from_start, state_at};
pub use history::{CaseHistory, Mark, MarkKind};
pub use reader::{ChunkEntry, Problem, Recording, RecordingInfo, info};

use crate::live::ApplyError;
use crate::protocol::{Message, MessageKind, PROTOCOL_VERSION, ProtocolError};

/// MCAP profile of every citytwin recording.
pub const PROFILE: &str = "citytwin";
/// `message_encoding` of every channel: a citytwin protocol frame of this
/// build's protocol version.
pub const ENCODING: &str = "citytwin-frame-v3";
/// The prefix of [`ENCODING`]; the number after it is the protocol version.
pub const ENCODING_PREFIX: &str = "citytwin-frame-v";
/// A full snapshot every 15 minutes of stream time, chosen by `citytwin
/// bench replay` on a day of the demo (40k buildings): every 1 / 5 / 15 min
/// made 111 / 24.8 / 10.2 MB, with seek p95 2.8 / 3.7 / 4.1 ms — the seek is
/// dominated by decoding one snapshot, so the longer interval costs little.
pub const SNAPSHOT_EVERY_MS: i64 = 15 * 60_000;
/// What is written reaches the file within this long (a live session's
/// history is seekable up to about a second ago).
pub const FLUSH_EVERY: Duration = Duration::from_secs(1);

const _: () = assert!(PROTOCOL_VERSION == 3, "ENCODING names the protocol version");

#[derive(Debug, thiserror::Error)]
pub enum RecordingError {
    #[error("recording {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{path} is not an MCAP recording: {reason}")]
    NotMcap { path: String, reason: String },
    #[error("{path} is an MCAP file but not a citytwin recording: {reason}")]
    NotCitytwin { path: String, reason: String },
    #[error(
        "{path} was written with protocol version {found}; this citytwin reads version {supported} (update citytwin)"
    )]
    NewerVersion {
        path: String,
        found: u32,
        supported: u8,
    },
    #[error("recording {path}: {reason}")]
    Mcap { path: String, reason: String },
    #[error("recording {path}: message {index} is not a citytwin frame: {source}")]
    Frame {
        path: String,
        index: usize,
        source: ProtocolError,
    },
    #[error("recording {path}: the stream does not apply: {source}")]
    Stream { path: String, source: ApplyError },
    #[error("recording {path}: nothing recorded at or before {at}")]
    NothingBefore { path: String, at: String },
}

pub fn topic(kind: MessageKind) -> String {
    format!("/citytwin/{}", format!("{kind:?}").to_lowercase())
}

/// Writes a recording. Snapshots are written by the caller when
/// [`Recorder::wants_snapshot`] says one is due; each starts a chunk.
pub struct Recorder {
    writer: mcap::Writer<BufWriter<File>>,
    path: String,
    channels: HashMap<MessageKind, u16>,
    sequence: u32,
    snapshot_every_ms: i64,
    last_snapshot_ms: Option<i64>,
    last_flush: Instant,
    /// Messages written since the last flush.
    unflushed: bool,
}

impl Recorder {
    pub fn create(path: &Path) -> Result<Recorder, RecordingError> {
        Recorder::create_with(path, SNAPSHOT_EVERY_MS)
    }

    /// A recorder with its own snapshot interval (benchmarks compare them).
    pub fn create_with(path: &Path, snapshot_every_ms: i64) -> Result<Recorder, RecordingError> {
        let name = path.display().to_string();
        let file = File::create(path).map_err(|source| RecordingError::Io {
            path: name.clone(),
            source,
        })?;
        // LZ4 chunks: a snapshot's level and alarm bytes repeat a lot;
        // Foxglove reads LZ4 too.
        let writer = mcap::WriteOptions::new()
            .compression(Some(mcap::Compression::Lz4))
            .profile(PROFILE)
            .library(concat!("citytwin ", env!("CARGO_PKG_VERSION")))
            .create(BufWriter::new(file))
            .map_err(|e| RecordingError::Mcap {
                path: name.clone(),
                reason: e.to_string(),
            })?;
        Ok(Recorder {
            writer,
            path: name,
            channels: HashMap::new(),
            sequence: 0,
            snapshot_every_ms: snapshot_every_ms.max(1),
            last_snapshot_ms: None,
            last_flush: Instant::now(),
            unflushed: false,
        })
    }

    pub fn path(&self) -> &str {
        &self.path
    }

    fn mcap_err(&self, e: mcap::McapError) -> RecordingError {
        RecordingError::Mcap {
            path: self.path.clone(),
            reason: e.to_string(),
        }
    }

    /// Whether a snapshot is due at stream time `time_ms`.
    pub fn wants_snapshot(&self, time_ms: i64) -> bool {
        self.last_snapshot_ms
            .is_none_or(|t| time_ms - t >= self.snapshot_every_ms)
    }

    /// Records one frame (as sent on the wire) at stream time `time_ms`.
    pub fn write_frame(
        &mut self,
        kind: MessageKind,
        frame: &[u8],
        time_ms: i64,
    ) -> Result<(), RecordingError> {
        if kind == MessageKind::Snapshot {
            // Every snapshot starts a chunk: a seek reads from there.
            self.writer.flush().map_err(|e| self.mcap_err(e))?;
            self.last_flush = Instant::now();
        }
        let channel = match self.channels.get(&kind) {
            Some(c) => *c,
            None => {
                let c = self
                    .writer
                    .add_channel(0, &topic(kind), ENCODING, &BTreeMap::new())
                    .map_err(|e| self.mcap_err(e))?;
                self.channels.insert(kind, c);
                c
            }
        };
        self.sequence += 1;
        let t = (time_ms.max(0) as u64) * 1_000_000;
        let header = mcap::records::MessageHeader {
            channel_id: channel,
            sequence: self.sequence,
            log_time: t,
            publish_time: t,
        };
        self.writer
            .write_to_known_channel(&header, frame)
            .map_err(|e| self.mcap_err(e))?;
        self.unflushed = true;
        if kind == MessageKind::Snapshot {
            self.last_snapshot_ms = Some(time_ms);
        }
        // A snapshot reaches the file at once (a recording cut right after
        // it still opens from there); the rest within a second.
        if kind == MessageKind::Snapshot || self.last_flush.elapsed() >= FLUSH_EVERY {
            self.flush()?;
        }
        Ok(())
    }

    /// Ends the current chunk and pushes it to the file (readers of a file
    /// still being written see everything up to here).
    pub fn flush(&mut self) -> Result<(), RecordingError> {
        self.writer.flush().map_err(|e| self.mcap_err(e))?;
        self.last_flush = Instant::now();
        self.unflushed = false;
        Ok(())
    }

    /// Flushes what was written if it has waited long enough: call it on a
    /// timer, so a quiet stream's last messages reach the file too.
    pub fn flush_if_due(&mut self) -> Result<(), RecordingError> {
        if self.unflushed && self.last_flush.elapsed() >= FLUSH_EVERY {
            self.flush()?;
        }
        Ok(())
    }

    /// Records a delta (its frame as sent) and — when one is due — the
    /// state after it as a snapshot, which starts the next chunk. Every
    /// delta is kept: a replay from the start needs no snapshot.
    pub fn record_delta(
        &mut self,
        frame: &[u8],
        time_ms: i64,
        snapshot: impl FnOnce() -> crate::protocol::Snapshot,
    ) -> Result<(), RecordingError> {
        self.write_frame(MessageKind::Delta, frame, time_ms)?;
        if self.wants_snapshot(time_ms) {
            self.write(&Message::Snapshot(snapshot()), time_ms)?;
        }
        Ok(())
    }

    /// Encodes and records a message.
    pub fn write(&mut self, message: &Message, time_ms: i64) -> Result<(), RecordingError> {
        let mut frame = Vec::new();
        message
            .encode(&mut frame)
            .map_err(|source| RecordingError::Frame {
                path: self.path.clone(),
                index: self.sequence as usize,
                source,
            })?;
        self.write_frame(message.kind(), &frame, time_ms)
    }

    /// Writes the summary and index; the file is complete afterwards.
    pub fn finish(mut self) -> Result<(), RecordingError> {
        self.writer.finish().map_err(|e| self.mcap_err(e))?;
        Ok(())
    }
}
