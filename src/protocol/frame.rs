//! Framing: an incremental decoder that never blocks (bytes in, whole frames
//! out) and a blocking `read_frame` for `std::io::Read`.

use std::io::Read;

use super::{MessageKind, PROTOCOL_VERSION, ProtocolError};

/// Length prefix (4) + version (1) + kind (1).
pub const HEADER_BYTES: usize = 6;
/// Largest frame accepted: a 40k-building snapshot is well under 1 MiB.
pub const MAX_FRAME_BYTES: u32 = 16 * 1024 * 1024;

/// One complete frame: its kind and raw payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    pub kind: MessageKind,
    pub payload: Vec<u8>,
}

/// Writes a frame header with a placeholder length; returns where the
/// length goes so [`finish_frame`] can patch it.
pub(super) fn begin_frame(kind: MessageKind, out: &mut Vec<u8>) -> usize {
    let at = out.len();
    out.extend_from_slice(&[0, 0, 0, 0, PROTOCOL_VERSION, kind as u8]);
    at
}

pub(super) fn finish_frame(at: usize, out: &mut Vec<u8>) -> Result<(), ProtocolError> {
    let len = out.len() - at - 4;
    if len > MAX_FRAME_BYTES as usize {
        out.truncate(at);
        return Err(ProtocolError::FrameTooLarge {
            len: len as u64,
            max: MAX_FRAME_BYTES,
        });
    }
    out[at..at + 4].copy_from_slice(&(len as u32).to_le_bytes());
    Ok(())
}

/// Accumulates bytes as they arrive and yields whole frames.
#[derive(Debug, Default)]
pub struct FrameDecoder {
    buf: Vec<u8>,
    start: usize,
}

impl FrameDecoder {
    pub fn new() -> FrameDecoder {
        FrameDecoder::default()
    }

    pub fn push(&mut self, bytes: &[u8]) {
        // Drop consumed bytes before growing, so the buffer stays small.
        if self.start > 0 && self.start == self.buf.len() {
            self.buf.clear();
            self.start = 0;
        } else if self.start > 64 * 1024 {
            self.buf.drain(..self.start);
            self.start = 0;
        }
        self.buf.extend_from_slice(bytes);
    }

    /// Bytes received but not yet part of a returned frame.
    pub fn buffered(&self) -> usize {
        self.buf.len() - self.start
    }

    /// The next complete frame, `None` if more bytes are needed. A bad header
    /// is an error at once (before its payload arrives).
    pub fn next_frame(&mut self) -> Result<Option<Frame>, ProtocolError> {
        let pending = &self.buf[self.start..];
        if pending.len() < 4 {
            return Ok(None);
        }
        let len = u32::from_le_bytes([pending[0], pending[1], pending[2], pending[3]]);
        if len > MAX_FRAME_BYTES {
            return Err(ProtocolError::FrameTooLarge {
                len: u64::from(len),
                max: MAX_FRAME_BYTES,
            });
        }
        if len < 2 {
            return Err(ProtocolError::FrameTooShort { len });
        }
        if pending.len() < HEADER_BYTES {
            return Ok(None);
        }
        if pending[4] != PROTOCOL_VERSION {
            return Err(ProtocolError::UnsupportedVersion {
                got: pending[4],
                supported: PROTOCOL_VERSION,
            });
        }
        let kind = MessageKind::from_u8(pending[5])
            .ok_or(ProtocolError::UnknownKind { kind: pending[5] })?;
        let total = 4 + len as usize;
        if pending.len() < total {
            return Ok(None);
        }
        let payload = pending[HEADER_BYTES..total].to_vec();
        self.start += total;
        Ok(Some(Frame { kind, payload }))
    }

    /// Call at end of stream: a partial frame left over is an error.
    pub fn finish(&self) -> Result<(), ProtocolError> {
        let pending = &self.buf[self.start..];
        if pending.is_empty() {
            return Ok(());
        }
        let expected = if pending.len() >= 4 {
            4 + u32::from_le_bytes([pending[0], pending[1], pending[2], pending[3]]) as usize
        } else {
            HEADER_BYTES
        };
        Err(ProtocolError::Truncated {
            buffered: pending.len(),
            expected,
        })
    }
}

/// Reads the next frame from a blocking reader. `Ok(None)` is a clean close
/// (end of stream between frames); a close inside a frame is `Truncated`.
pub fn read_frame<R: Read>(
    reader: &mut R,
    decoder: &mut FrameDecoder,
) -> Result<Option<Frame>, ProtocolError> {
    let mut chunk = [0u8; 16 * 1024];
    loop {
        if let Some(frame) = decoder.next_frame()? {
            return Ok(Some(frame));
        }
        let n = match reader.read(&mut chunk) {
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e.into()),
        };
        if n == 0 {
            decoder.finish()?;
            return Ok(None);
        }
        decoder.push(&chunk[..n]);
    }
}
