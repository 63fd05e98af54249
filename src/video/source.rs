//! The one seam between the wall and a decoder: a [`VideoSource`] opens a
//! [`Session`] that puts I420 frames of the requested size into a slot. The
//! wall, the watchdog and the tests know only this trait; ffmpeg is one
//! implementation, a hardware decoder is a setting of it.

use std::sync::Arc;

use super::error::VideoError;
use super::frame::FrameSlot;

/// What to decode and at which size (the tile's size: the decoder scales).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct StreamRequest {
    pub url: String,
    pub width: u32,
    pub height: u32,
    /// Names the decoder's threads and log lines (the camera's code).
    pub label: String,
}

/// What the decoder learnt of its input.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct InputInfo {
    pub codec: String,
    pub width: u32,
    pub height: u32,
}

pub trait VideoSource: Send + Sync {
    /// A short name for logs and the bench ("ffmpeg", "ffmpeg+vaapi").
    fn name(&self) -> String;

    /// Starts decoding `request` into `slot`. An error here is one the
    /// source knows before any byte arrives (no decoder, a bad URL).
    fn open(
        &self,
        request: &StreamRequest,
        slot: Arc<FrameSlot>,
    ) -> Result<Box<dyn Session>, VideoError>;
}

/// One running decode; dropping it stops the decoder.
pub trait Session: Send {
    /// `Some(reason)` once the session has ended and will put no more frames.
    fn ended(&mut self) -> Option<VideoError>;

    /// The input's codec and size, once the decoder has read them.
    fn input(&self) -> Option<InputInfo>;

    /// The decoder's process, for CPU and memory figures.
    fn pid(&self) -> Option<u32>;
}
