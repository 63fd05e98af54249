//! The server's window of recent deltas. A client that reconnects with its
//! last applied sequence number gets exactly the deltas after it — or, when
//! it fell behind the window, a fresh snapshot. Nothing lost, nothing twice.

use std::collections::VecDeque;

use crate::protocol::Delta;

/// How a reconnecting client catches up.
#[derive(Debug, Clone, PartialEq)]
pub enum Resume {
    /// Already current.
    UpToDate,
    /// These deltas, in order, bring it to the head.
    Deltas(Vec<Delta>),
    /// Too far behind (or from the future): start over from a snapshot.
    Snapshot,
}

#[derive(Debug, Clone)]
pub struct DeltaWindow {
    capacity: usize,
    deltas: VecDeque<Delta>,
    head_seq: u64,
}

impl DeltaWindow {
    /// A window that keeps `capacity` deltas; `head_seq` is the sequence
    /// number of the state it starts from.
    pub fn new(capacity: usize, head_seq: u64) -> DeltaWindow {
        DeltaWindow {
            capacity: capacity.max(1),
            deltas: VecDeque::with_capacity(capacity.max(1)),
            head_seq,
        }
    }

    pub fn head_seq(&self) -> u64 {
        self.head_seq
    }

    /// Records a new delta; it must carry the next sequence number.
    pub fn push(&mut self, delta: Delta) -> Result<(), u64> {
        if delta.seq != self.head_seq + 1 {
            return Err(self.head_seq + 1);
        }
        self.head_seq = delta.seq;
        if self.deltas.len() == self.capacity {
            self.deltas.pop_front();
        }
        self.deltas.push_back(delta);
        Ok(())
    }

    /// What a client that has applied up to `last_seq` needs.
    pub fn resume_from(&self, last_seq: u64) -> Resume {
        if last_seq == self.head_seq {
            return Resume::UpToDate;
        }
        if last_seq > self.head_seq {
            return Resume::Snapshot;
        }
        match self.deltas.front() {
            Some(oldest) if oldest.seq <= last_seq + 1 => Resume::Deltas(
                self.deltas
                    .iter()
                    .filter(|d| d.seq > last_seq)
                    .cloned()
                    .collect(),
            ),
            _ => Resume::Snapshot,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn delta(seq: u64) -> Delta {
        Delta {
            seq,
            time_ms: seq as i64,
            changes: Vec::new(),
        }
    }

    #[test]
    fn resume_gives_exactly_the_missing_deltas_or_a_snapshot() {
        let mut window = DeltaWindow::new(3, 10);
        for seq in 11..=15 {
            window.push(delta(seq)).expect("in order");
        }
        assert_eq!(window.push(delta(17)), Err(16));
        assert_eq!(window.resume_from(15), Resume::UpToDate);
        let seqs = |r: Resume| match r {
            Resume::Deltas(d) => d.iter().map(|d| d.seq).collect::<Vec<_>>(),
            other => panic!("expected deltas, got {other:?}"),
        };
        assert_eq!(seqs(window.resume_from(14)), vec![15]);
        assert_eq!(seqs(window.resume_from(12)), vec![13, 14, 15]);
        // 11 and 12 fell out of the window: 11 needs 12, which is gone.
        assert_eq!(window.resume_from(11), Resume::Snapshot);
        assert_eq!(window.resume_from(99), Resume::Snapshot);
    }
}
