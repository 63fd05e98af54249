//! One error type for everything that can go wrong on the wire.

use super::MessageKind;

#[derive(Debug, thiserror::Error)]
pub enum ProtocolError {
    #[error("frame of {len} bytes exceeds the maximum of {max} bytes")]
    FrameTooLarge { len: u64, max: u32 },
    #[error("frame length {len} is shorter than its 2-byte version/kind header")]
    FrameTooShort { len: u32 },
    #[error("protocol version {got} is not supported (this build speaks version {supported})")]
    UnsupportedVersion { got: u8, supported: u8 },
    #[error("unknown message kind {kind}")]
    UnknownKind { kind: u8 },
    #[error("connection closed in the middle of a frame ({buffered} of {expected} bytes received)")]
    Truncated { buffered: usize, expected: usize },
    #[error("{kind:?} payload does not decode: {reason}")]
    Decode { kind: MessageKind, reason: String },
    #[error("{kind:?} payload has {extra} trailing bytes")]
    TrailingBytes { kind: MessageKind, extra: usize },
    #[error("cannot encode {kind:?}: {reason}")]
    Encode { kind: MessageKind, reason: String },
    #[error("i/o error on the connection: {0}")]
    Io(#[from] std::io::Error),
}
