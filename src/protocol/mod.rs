//! The sans-IO wire format between backend and cockpit: length-delimited,
//! versioned frames carrying postcard-encoded messages. No bevy, no tokio
//! (`tests/protocol.rs` checks): the same code serves the tokio server, the
//! cockpit's link thread, the recorder and replay.
//!
//! Frame: `[u32 LE length][u8 version][u8 kind][payload]`, where `length`
//! counts version + kind + payload and is at most [`MAX_FRAME_BYTES`].

mod error;
mod frame;
mod message;
mod refusal;

pub use error::ProtocolError;
pub use frame::{Frame, FrameDecoder, HEADER_BYTES, MAX_FRAME_BYTES, read_frame};
pub use message::{
    Change, Command, CommandKind, CommandResult, Delta, Goodbye, Heartbeat, Hello, Message,
    MessageKind, Role, Scope, Snapshot, Welcome,
};
pub use refusal::Refusal;

/// The one version this build speaks; a frame with another is refused.
pub const PROTOCOL_VERSION: u8 = 3;
