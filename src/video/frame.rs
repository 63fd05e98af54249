//! Decoded pictures and the latest-frame-wins slot between a decoder and
//! the display: the decoder overwrites, the display takes the newest; neither
//! waits for the other and a slot never holds more than one frame.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

/// One I420 picture: a full-size Y plane, then U and V at half size.
#[derive(Debug)]
pub struct I420Frame {
    pub width: u32,
    pub height: u32,
    /// `width * height * 3 / 2` bytes: Y, then U, then V.
    pub data: Vec<u8>,
    /// The decoder's frame number on this connection, from 1.
    pub number: u64,
    /// Wall clock when the frame left the decoder (ms since the epoch).
    pub decoded_ms: i64,
}

impl I420Frame {
    /// Bytes of one frame of `width` × `height` (both even).
    pub fn size(width: u32, height: u32) -> usize {
        width as usize * height as usize * 3 / 2
    }

    /// A frame of one colour given in Y'CbCr.
    pub fn filled(width: u32, height: u32, yuv: [u8; 3]) -> I420Frame {
        let luma = width as usize * height as usize;
        let mut data = vec![yuv[0]; luma];
        data.resize(luma + luma / 4, yuv[1]);
        data.resize(luma + luma / 2, yuv[2]);
        I420Frame {
            width,
            height,
            data,
            number: 0,
            decoded_ms: 0,
        }
    }

    pub fn y(&self) -> &[u8] {
        &self.data[..self.luma_len()]
    }

    pub fn u(&self) -> &[u8] {
        let l = self.luma_len();
        &self.data[l..l + l / 4]
    }

    pub fn v(&self) -> &[u8] {
        let l = self.luma_len();
        &self.data[l + l / 4..]
    }

    fn luma_len(&self) -> usize {
        self.width as usize * self.height as usize
    }

    /// The luma of the pixel at (x, y).
    pub fn luma_at(&self, x: u32, y: u32) -> u8 {
        self.data[y as usize * self.width as usize + x as usize]
    }
}

/// The newest frame of one stream, with counters.
#[derive(Default)]
pub struct FrameSlot {
    frame: Mutex<Option<Arc<I420Frame>>>,
    /// Frames put (the newest frame's sequence number).
    put: AtomicU64,
    /// Frames overwritten before anyone took them.
    overwritten: AtomicU64,
    /// The sequence number last taken.
    taken: AtomicU64,
}

impl FrameSlot {
    /// Replaces the slot's frame; never blocks for longer than a pointer swap.
    pub fn put(&self, frame: I420Frame) {
        let frame = Arc::new(frame);
        let mut slot = self.frame.lock().unwrap_or_else(PoisonError::into_inner);
        *slot = Some(frame);
        drop(slot);
        let seq = self.put.fetch_add(1, Ordering::AcqRel) + 1;
        if seq > 1 && self.taken.load(Ordering::Acquire) < seq - 1 {
            self.overwritten.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// The sequence number of the newest frame (0: none yet).
    pub fn seq(&self) -> u64 {
        self.put.load(Ordering::Acquire)
    }

    /// The newest frame if it is newer than `after`, with its sequence number.
    pub fn newer_than(&self, after: u64) -> Option<(u64, Arc<I420Frame>)> {
        let seq = self.seq();
        if seq <= after {
            return None;
        }
        let frame = self
            .frame
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()?;
        self.taken.fetch_max(seq, Ordering::AcqRel);
        Some((seq, frame))
    }

    /// The newest frame, taken or not.
    pub fn latest(&self) -> Option<Arc<I420Frame>> {
        self.frame
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Frames the display never showed because a newer one replaced them
    /// (the display runs at its own rate: not a decoder drop).
    pub fn overwritten(&self) -> u64 {
        self.overwritten.load(Ordering::Relaxed)
    }

    /// Forgets the frame (the stream's picture is stale).
    pub fn clear(&self) {
        *self.frame.lock().unwrap_or_else(PoisonError::into_inner) = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_slot_keeps_only_the_newest_frame_and_counts_the_overwritten() {
        let slot = FrameSlot::default();
        assert!(slot.newer_than(0).is_none());
        for n in 1..=5 {
            let mut f = I420Frame::filled(4, 2, [n as u8, 128, 128]);
            f.number = n;
            slot.put(f);
        }
        let (seq, frame) = slot.newer_than(0).expect("a frame");
        assert_eq!((seq, frame.number), (5, 5));
        assert_eq!(slot.overwritten(), 4);
        assert!(slot.newer_than(seq).is_none());
        let mut f = I420Frame::filled(4, 2, [9, 128, 128]);
        f.number = 6;
        slot.put(f);
        assert_eq!(slot.overwritten(), 4, "the taken frame was not lost");
        assert_eq!(slot.newer_than(seq).map(|(s, _)| s), Some(6));
    }

    #[test]
    fn planes_split_at_the_i420_offsets() {
        let f = I420Frame::filled(8, 4, [16, 100, 200]);
        assert_eq!(f.y().len(), 32);
        assert!(f.u().iter().all(|&b| b == 100) && f.u().len() == 8);
        assert!(f.v().iter().all(|&b| b == 200) && f.v().len() == 8);
    }
}
