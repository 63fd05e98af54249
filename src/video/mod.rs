//! Live video, independent of the UI: a [`VideoSource`] decodes a stream
//! out of process into a latest-frame-wins [`FrameSlot`]; the
//! [`VideoManager`]'s watchdog keeps every wanted stream decoding and
//! restarts a dead one with backoff; [`clip_server`] plays the bundled clip
//! as a live loopback camera for the demo. The cockpit's tiles
//! (`cockpit::video`) upload the slot's planes and convert YUV → RGB in WGSL.

pub mod clip_server;
pub mod error;
pub mod ffmpeg;
pub mod frame;
pub mod source;
pub mod watchdog;

pub use error::VideoError;
pub use ffmpeg::FfmpegSource;
pub use frame::{FrameSlot, I420Frame};
pub use source::{InputInfo, Session, StreamRequest, VideoSource};
pub use watchdog::{Stream, StreamState, VideoManager, WatchSettings};
