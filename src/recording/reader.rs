//! [`Recording`]: a recording opened for reading. A complete file is opened
//! by its summary (footer → chunk index, channels, statistics), never read
//! whole; a file cut short (or still being written) is scanned chunk by
//! chunk up to its last complete one, and can be scanned further as it grows.
//! A chunk with flipped bytes fails its CRC and is skipped with a
//! [`Problem`] naming it; the rest of the file still plays.

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io::{Read, Seek};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use mcap::records::{Record, op};
use mcap::sans_io::summary_reader::{SummaryReadEvent, SummaryReader, SummaryReaderOptions};

use super::{ENCODING_PREFIX, PROFILE, RecordingError, topic};
use crate::protocol::{FrameDecoder, Message, MessageKind, PROTOCOL_VERSION};

/// Records larger than this are taken for corruption, not allocated.
const MAX_RECORD_BYTES: u64 = 1 << 30;

/// One chunk of the file: where it is and what time it covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkEntry {
    /// Offset of the chunk record (its opcode byte) in the file.
    pub offset: u64,
    /// Length of the whole record (opcode, length and body).
    pub length: u64,
    pub start_ms: i64,
    pub end_ms: i64,
    /// Whether it holds a snapshot (a seek can start here).
    pub has_snapshot: bool,
}

/// Something wrong in a recording that did not stop it from opening.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The chunk it concerns (index into [`Recording::chunks`]), if any.
    pub chunk: Option<usize>,
    pub message: String,
}

/// What `citytwin replay --info` prints.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RecordingInfo {
    pub start_ms: Option<i64>,
    pub end_ms: Option<i64>,
    pub counts: BTreeMap<String, u64>,
    pub snapshots: u64,
    pub chunks: usize,
    pub bytes: u64,
    /// False when the file has no summary (cut short, or still being written):
    /// it was read up to its last whole chunk.
    pub complete: bool,
    pub problems: Vec<Problem>,
}

pub struct Recording {
    path: PathBuf,
    name: String,
    file: File,
    chunks: Vec<ChunkEntry>,
    /// Channel id → message kind (citytwin channels only).
    channels: HashMap<u16, MessageKind>,
    counts: BTreeMap<String, u64>,
    complete: bool,
    /// Scan mode: where the scan stopped (a growing file goes on from here).
    scanned_to: u64,
    problems: Vec<Problem>,
    /// Chunks already reported corrupt (reported once).
    corrupt: Vec<bool>,
}

fn io_err(name: &str) -> impl Fn(std::io::Error) -> RecordingError + '_ {
    move |source| RecordingError::Io {
        path: name.to_owned(),
        source,
    }
}

fn ns_to_ms(ns: u64) -> i64 {
    (ns / 1_000_000) as i64
}

/// What a channel carries, or why this is not a recording we can read.
fn channel_kind(
    name: &str,
    topic_name: &str,
    encoding: &str,
) -> Result<Option<MessageKind>, RecordingError> {
    let Some(version) = encoding.strip_prefix(ENCODING_PREFIX) else {
        return Err(RecordingError::NotCitytwin {
            path: name.to_owned(),
            reason: format!("channel {topic_name} carries {encoding:?}, not citytwin frames"),
        });
    };
    let found: u32 = version.parse().map_err(|_| RecordingError::NotCitytwin {
        path: name.to_owned(),
        reason: format!("channel {topic_name}: unknown encoding {encoding:?}"),
    })?;
    if found > u32::from(PROTOCOL_VERSION) {
        return Err(RecordingError::NewerVersion {
            path: name.to_owned(),
            found,
            supported: PROTOCOL_VERSION,
        });
    }
    Ok(MessageKind::ALL
        .into_iter()
        .find(|k| topic(*k) == topic_name))
}

/// Decodes one recorded frame.
pub(super) fn decode_frame(data: &[u8]) -> Result<Message, crate::protocol::ProtocolError> {
    let mut decoder = FrameDecoder::new();
    decoder.push(data);
    let frame = decoder
        .next_frame()?
        .ok_or(crate::protocol::ProtocolError::Truncated {
            buffered: data.len(),
            expected: 0,
        })?;
    Message::decode(&frame)
}

impl Recording {
    /// Opens a recording: checks it is a citytwin MCAP file of a protocol
    /// version this build reads, then reads its summary (or scans it).
    pub fn open(path: &Path) -> Result<Recording, RecordingError> {
        let name = path.display().to_string();
        let mut file = File::open(path).map_err(io_err(&name))?;
        let len = file.metadata().map_err(io_err(&name))?.len();
        if len == 0 {
            return Err(RecordingError::NotMcap {
                path: name,
                reason: "the file is empty".into(),
            });
        }
        let mut magic = [0u8; 8];
        let got = file.read(&mut magic).map_err(io_err(&name))?;
        if got < 8 || magic != mcap::MAGIC {
            return Err(RecordingError::NotMcap {
                path: name,
                reason: format!(
                    "it starts with {:?}, not the MCAP magic",
                    String::from_utf8_lossy(&magic[..got])
                ),
            });
        }
        let mut recording = Recording {
            path: path.to_owned(),
            name,
            file,
            chunks: Vec::new(),
            channels: HashMap::new(),
            counts: BTreeMap::new(),
            complete: false,
            scanned_to: 8,
            problems: Vec::new(),
            corrupt: Vec::new(),
        };
        recording.check_header(len)?;
        if !recording.open_by_summary(len)? {
            recording.scan()?;
        }
        if recording.channels.is_empty() && recording.chunks.is_empty() && recording.complete {
            return Err(RecordingError::NotCitytwin {
                path: recording.name,
                reason: "it has no citytwin channels".into(),
            });
        }
        Ok(recording)
    }

    /// Reads one record's opcode and body length at `pos`; None at the end
    /// of what is there.
    fn record_head(&self, pos: u64) -> Result<Option<(u8, u64)>, RecordingError> {
        let mut head = [0u8; 9];
        match self.file.read_exact_at(&mut head, pos) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
            Err(e) => return Err(io_err(&self.name)(e)),
        }
        let mut len = [0u8; 8];
        len.copy_from_slice(&head[1..]);
        Ok(Some((head[0], u64::from_le_bytes(len))))
    }

    fn read_body(&self, pos: u64, len: u64) -> Result<Option<Vec<u8>>, RecordingError> {
        let mut body = vec![0u8; len as usize];
        match self.file.read_exact_at(&mut body, pos + 9) {
            Ok(()) => Ok(Some(body)),
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => Ok(None),
            Err(e) => Err(io_err(&self.name)(e)),
        }
    }

    fn check_header(&mut self, len: u64) -> Result<(), RecordingError> {
        let not_mcap = |reason: &str| RecordingError::NotMcap {
            path: self.name.clone(),
            reason: reason.to_owned(),
        };
        let Some((opcode, body_len)) = self.record_head(8)? else {
            return Err(not_mcap("it ends right after the magic, before its header"));
        };
        if opcode != op::HEADER || body_len > len {
            return Err(not_mcap("its first record is not an MCAP header"));
        }
        let Some(body) = self.read_body(8, body_len)? else {
            return Err(not_mcap("it is cut inside its header"));
        };
        match mcap::read::parse_record(opcode, &body) {
            Ok(Record::Header(header)) if header.profile == PROFILE => {
                self.scanned_to = 8 + 9 + body_len;
                Ok(())
            }
            Ok(Record::Header(header)) => Err(RecordingError::NotCitytwin {
                path: self.name.clone(),
                reason: format!(
                    "its profile is {:?} (written by {:?}), not {PROFILE:?}",
                    header.profile, header.library
                ),
            }),
            _ => Err(not_mcap("its header does not parse")),
        }
    }

    /// Reads the footer and summary. Returns false when the file has none
    /// (cut short or still being written).
    fn open_by_summary(&mut self, len: u64) -> Result<bool, RecordingError> {
        let mut reader =
            SummaryReader::new_with_options(SummaryReaderOptions::default().with_file_size(len));
        let mut file = &self.file;
        while let Some(event) = reader.next_event() {
            let step = match event {
                Ok(SummaryReadEvent::ReadRequest(need)) => file
                    .read(reader.insert(need))
                    .map(|n| reader.notify_read(n)),
                Ok(SummaryReadEvent::SeekRequest(to)) => {
                    file.seek(to).map(|pos| reader.notify_seeked(pos))
                }
                // No footer or no summary: not an error, the scan reads it.
                Err(_) => return Ok(false),
            };
            step.map_err(io_err(&self.name))?;
        }
        let Some(summary) = reader.finish() else {
            return Ok(false);
        };
        if summary.chunk_indexes.is_empty() && summary.channels.is_empty() {
            // A footer without a summary section: scan.
            return Ok(false);
        }
        for (id, channel) in &summary.channels {
            if let Some(kind) = channel_kind(&self.name, &channel.topic, &channel.message_encoding)?
            {
                self.channels.insert(*id, kind);
            }
        }
        let snapshot_channels: Vec<u16> = self
            .channels
            .iter()
            .filter(|(_, k)| **k == MessageKind::Snapshot)
            .map(|(id, _)| *id)
            .collect();
        let mut chunks: Vec<ChunkEntry> = summary
            .chunk_indexes
            .iter()
            .map(|c| ChunkEntry {
                offset: c.chunk_start_offset,
                length: c.chunk_length,
                start_ms: ns_to_ms(c.message_start_time),
                end_ms: ns_to_ms(c.message_end_time),
                has_snapshot: snapshot_channels
                    .iter()
                    .any(|id| c.message_index_offsets.contains_key(id)),
            })
            .collect();
        chunks.sort_by_key(|c| (c.start_ms, c.offset));
        self.corrupt = vec![false; chunks.len()];
        self.chunks = chunks;
        if let Some(stats) = &summary.stats {
            for (id, count) in &stats.channel_message_counts {
                if let Some(kind) = self.channels.get(id) {
                    *self.counts.entry(topic(*kind)).or_default() += count;
                }
            }
        }
        self.complete = true;
        self.scanned_to = len;
        Ok(true)
    }

    /// Scans chunk records from where the last scan stopped up to the last
    /// complete one. Returns how many chunks it added.
    pub fn scan(&mut self) -> Result<usize, RecordingError> {
        if self.complete {
            return Ok(0);
        }
        let len = self.file.metadata().map_err(io_err(&self.name))?.len();
        let mut pos = self.scanned_to;
        let mut added = 0;
        while let Some((opcode, body_len)) = self.record_head(pos)? {
            if body_len > MAX_RECORD_BYTES || pos + 9 + body_len > len {
                // Cut inside this record (or its length is garbage): stop here.
                break;
            }
            if opcode == op::DATA_END || opcode == op::FOOTER {
                break;
            }
            if opcode == op::CHUNK {
                let Some(body) = self.read_body(pos, body_len)? else {
                    break;
                };
                let index = self.chunks.len();
                let mut entry = ChunkEntry {
                    offset: pos,
                    length: 9 + body_len,
                    start_ms: 0,
                    end_ms: 0,
                    has_snapshot: false,
                };
                match self.parse_chunk(&body, &mut entry) {
                    Ok(messages) => {
                        for (kind, _, _) in &messages {
                            *self.counts.entry(topic(*kind)).or_default() += 1;
                        }
                        self.corrupt.push(false);
                    }
                    Err(reason) => {
                        self.problems.push(Problem {
                            chunk: Some(index),
                            message: format!(
                                "{}: chunk {index} at byte {pos} is corrupt and skipped: {reason}",
                                self.name
                            ),
                        });
                        self.corrupt.push(true);
                    }
                }
                self.chunks.push(entry);
                added += 1;
            }
            pos += 9 + body_len;
            self.scanned_to = pos;
        }
        Ok(added)
    }

    /// Parses a chunk record's body into (kind, time, frame bytes), filling
    /// in the entry's times. Any error (CRC, parse) fails the whole chunk.
    fn parse_chunk(
        &mut self,
        body: &[u8],
        entry: &mut ChunkEntry,
    ) -> Result<Vec<(MessageKind, i64, Vec<u8>)>, String> {
        let record = mcap::read::parse_record(op::CHUNK, body).map_err(|e| e.to_string())?;
        let Record::Chunk { header, data } = record else {
            return Err("not a chunk record".into());
        };
        entry.start_ms = ns_to_ms(header.message_start_time);
        entry.end_ms = ns_to_ms(header.message_end_time);
        let records: Vec<Record<'_>> = mcap::read::ChunkReader::new(header, &data)
            .map_err(|e| e.to_string())?
            .collect::<Result<_, _>>()
            .map_err(|e| e.to_string())?;
        let mut out = Vec::new();
        for record in records {
            match record {
                Record::Channel(c) => {
                    match channel_kind(&self.name, &c.topic, &c.message_encoding) {
                        Ok(Some(kind)) => {
                            self.channels.insert(c.id, kind);
                        }
                        Ok(None) => {}
                        Err(e) => return Err(e.to_string()),
                    }
                }
                Record::Message { header, data } => {
                    let Some(kind) = self.channels.get(&header.channel_id).copied() else {
                        continue;
                    };
                    entry.has_snapshot |= kind == MessageKind::Snapshot;
                    out.push((kind, ns_to_ms(header.log_time), data.into_owned()));
                }
                _ => {}
            }
        }
        Ok(out)
    }

    /// The messages of chunk `index` in file order with their stream times.
    /// A corrupt chunk is an error naming it (reported once in
    /// [`Recording::problems`]).
    pub fn read_chunk(&mut self, index: usize) -> Result<Vec<(i64, Message)>, Problem> {
        let entry = self.chunks[index];
        let problem = |this: &mut Recording, reason: String| {
            let p = Problem {
                chunk: Some(index),
                message: format!(
                    "{}: chunk {index} at byte {} ({} – {}) is corrupt and skipped: {reason}",
                    this.name,
                    entry.offset,
                    crate::time::format_cst(entry.start_ms),
                    crate::time::format_cst(entry.end_ms),
                ),
            };
            if !this.corrupt[index] {
                this.corrupt[index] = true;
                this.problems.push(p.clone());
            }
            p
        };
        if self.corrupt[index] {
            return Err(problem(self, "it failed before".into()));
        }
        let body = match self.record_head(entry.offset) {
            Ok(Some((op::CHUNK, len))) if 9 + len == entry.length => {
                match self.read_body(entry.offset, len) {
                    Ok(Some(body)) => body,
                    Ok(None) => return Err(problem(self, "the file ends inside it".into())),
                    Err(e) => return Err(problem(self, e.to_string())),
                }
            }
            Ok(_) => return Err(problem(self, "no chunk record at its offset".into())),
            Err(e) => return Err(problem(self, e.to_string())),
        };
        let mut scratch = entry;
        let raw = match self.parse_chunk(&body, &mut scratch) {
            Ok(raw) => raw,
            Err(reason) => return Err(problem(self, reason)),
        };
        let mut out = Vec::with_capacity(raw.len());
        for (i, (_, time_ms, data)) in raw.into_iter().enumerate() {
            match decode_frame(&data) {
                Ok(message) => out.push((time_ms, message)),
                Err(e) => return Err(problem(self, format!("message {i}: {e}"))),
            }
        }
        Ok(out)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn chunks(&self) -> &[ChunkEntry] {
        &self.chunks
    }

    /// Whether the file had its summary (was finished).
    pub fn is_complete(&self) -> bool {
        self.complete
    }

    /// Problems met so far (corrupt chunks), each naming the file.
    pub fn problems(&self) -> &[Problem] {
        &self.problems
    }

    /// The stream time span the chunks cover.
    pub fn span(&self) -> Option<(i64, i64)> {
        let start = self.chunks.iter().map(|c| c.start_ms).min()?;
        let end = self.chunks.iter().map(|c| c.end_ms).max()?;
        Some((start, end))
    }

    pub fn info(&self) -> Result<RecordingInfo, RecordingError> {
        let span = self.span();
        Ok(RecordingInfo {
            start_ms: span.map(|s| s.0),
            end_ms: span.map(|s| s.1),
            snapshots: self
                .counts
                .get(&topic(MessageKind::Snapshot))
                .copied()
                .unwrap_or(0),
            counts: self.counts.clone(),
            chunks: self.chunks.len(),
            bytes: self.file.metadata().map_err(io_err(&self.name))?.len(),
            complete: self.complete,
            problems: self.problems.clone(),
        })
    }
}

/// Opens `path` and describes it.
pub fn info(path: &Path) -> Result<RecordingInfo, RecordingError> {
    Recording::open(path)?.info()
}
