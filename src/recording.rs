//! Recordings of the state stream in MCAP: one channel per message kind
//! (`/citytwin/delta`, `/citytwin/snapshot`, …), each message the exact
//! protocol frame, a full snapshot every `snapshot_every_ms` of stream time,
//! and a chunk index so a reader can seek. Chunks are flushed every few
//! seconds, so a recording cut by `kill -9` still opens up to its last
//! complete chunk. Files open in Foxglove too (schema-less, custom encoding).

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io::BufWriter;
use std::path::Path;
use std::time::{Duration, Instant};

use crate::live::{ApplyError, LiveState};
use crate::model::City;
use crate::protocol::{FrameDecoder, Message, MessageKind, ProtocolError};

/// `message_encoding` of every channel: a citytwin protocol frame.
pub const ENCODING: &str = "citytwin-frame-v1";
/// Snapshots every 60 s of stream time bound the replay work of a seek.
pub const SNAPSHOT_EVERY_MS: i64 = 60_000;
const FLUSH_EVERY: Duration = Duration::from_secs(2);

#[derive(Debug, thiserror::Error)]
pub enum RecordingError {
    #[error("recording {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
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
}

pub fn topic(kind: MessageKind) -> String {
    format!("/citytwin/{}", format!("{kind:?}").to_lowercase())
}

pub struct Recorder {
    writer: mcap::Writer<BufWriter<File>>,
    path: String,
    channels: HashMap<MessageKind, u16>,
    sequence: u32,
    last_snapshot_ms: Option<i64>,
    last_flush: Instant,
}

impl Recorder {
    pub fn create(path: &Path) -> Result<Recorder, RecordingError> {
        let name = path.display().to_string();
        let file = File::create(path).map_err(|source| RecordingError::Io {
            path: name.clone(),
            source,
        })?;
        let writer = mcap::WriteOptions::new()
            .profile("citytwin")
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
            last_snapshot_ms: None,
            last_flush: Instant::now(),
        })
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
            .is_none_or(|t| time_ms - t >= SNAPSHOT_EVERY_MS)
    }

    /// Records one frame (as sent on the wire) at stream time `time_ms`.
    pub fn write_frame(
        &mut self,
        kind: MessageKind,
        frame: &[u8],
        time_ms: i64,
    ) -> Result<(), RecordingError> {
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
        if kind == MessageKind::Snapshot {
            self.last_snapshot_ms = Some(time_ms);
        }
        if self.last_flush.elapsed() >= FLUSH_EVERY {
            self.writer.flush().map_err(|e| self.mcap_err(e))?;
            self.last_flush = Instant::now();
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

/// What `citytwin replay --info` prints.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RecordingInfo {
    pub start_ms: Option<i64>,
    pub end_ms: Option<i64>,
    pub counts: BTreeMap<String, u64>,
    pub snapshots: u64,
    /// False when the file was cut short (read up to its last whole chunk).
    pub complete: bool,
}

/// Every message of a recording in file order, with its stream time.
pub fn read_messages(path: &Path) -> Result<(Vec<(i64, Message)>, bool), RecordingError> {
    let name = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|source| RecordingError::Io {
        path: name.clone(),
        source,
    })?;
    let complete = mcap::read::footer(&bytes).is_ok();
    let stream = mcap::MessageStream::new_with_options(
        &bytes,
        enumset::enum_set!(mcap::read::Options::IgnoreEndMagic),
    )
    .map_err(|e| RecordingError::Mcap {
        path: name.clone(),
        reason: e.to_string(),
    })?;
    let mut out = Vec::new();
    for (index, item) in stream.enumerate() {
        // A cut file ends in a partial record: keep what came before it.
        let Ok(m) = item else { break };
        let mut decoder = FrameDecoder::new();
        decoder.push(&m.data);
        let frame = decoder
            .next_frame()
            .and_then(|f| {
                f.ok_or(ProtocolError::Truncated {
                    buffered: m.data.len(),
                    expected: 0,
                })
            })
            .map_err(|source| RecordingError::Frame {
                path: name.clone(),
                index,
                source,
            })?;
        let message = Message::decode(&frame).map_err(|source| RecordingError::Frame {
            path: name.clone(),
            index,
            source,
        })?;
        out.push(((m.log_time / 1_000_000) as i64, message));
    }
    Ok((out, complete))
}

pub fn info(path: &Path) -> Result<RecordingInfo, RecordingError> {
    let (messages, complete) = read_messages(path)?;
    let mut info = RecordingInfo {
        complete,
        ..RecordingInfo::default()
    };
    for (t, m) in &messages {
        info.start_ms = Some(info.start_ms.map_or(*t, |s| s.min(*t)));
        info.end_ms = Some(info.end_ms.map_or(*t, |e| e.max(*t)));
        *info.counts.entry(topic(m.kind())).or_default() += 1;
        if m.kind() == MessageKind::Snapshot {
            info.snapshots += 1;
        }
    }
    Ok(info)
}

/// The state as it was at stream time `at_ms`: the last snapshot at or
/// before it, then the deltas up to it.
pub fn state_at(path: &Path, city: &City, at_ms: i64) -> Result<LiveState, RecordingError> {
    let name = path.display().to_string();
    let (messages, _) = read_messages(path)?;
    let stream = |source| RecordingError::Stream {
        path: name.clone(),
        source,
    };
    let mut state = LiveState::new(city);
    let start = messages
        .iter()
        .rposition(|(t, m)| *t <= at_ms && matches!(m, Message::Snapshot(_)))
        .unwrap_or(0);
    for (t, m) in &messages[start..] {
        if *t > at_ms {
            break;
        }
        match m {
            Message::Snapshot(s) => state.apply_snapshot(s).map_err(stream)?,
            Message::Delta(d) => {
                state.apply_delta(d).map_err(stream)?;
            }
            _ => {}
        }
    }
    Ok(state)
}
