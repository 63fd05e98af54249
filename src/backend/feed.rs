//! A recorded monitoring series played into the engine as live readings
//! (`citytwin serve --readings FILE.csv --speed N`): each reading keeps its
//! own time and becomes due when the series' clock, running `speed` times
//! real time from the first reading, reaches it.

use std::collections::VecDeque;
use std::time::Duration;

use crate::model::SensorReading;

#[derive(Debug, Clone)]
pub struct ReadingFeed {
    pending: VecDeque<SensorReading>,
    first_ms: i64,
    speed: f64,
}

impl ReadingFeed {
    /// `readings` in any order (they are sorted by time); `speed` > 0.
    pub fn new(mut readings: Vec<SensorReading>, speed: f64) -> ReadingFeed {
        readings.sort_by_key(|r| r.time_ms);
        ReadingFeed {
            first_ms: readings.first().map_or(0, |r| r.time_ms),
            pending: readings.into(),
            speed: speed.max(1e-9),
        }
    }

    /// The readings due `elapsed` after the feed started.
    pub fn due(&mut self, elapsed: Duration) -> Vec<SensorReading> {
        let clock = self.first_ms as f64 + elapsed.as_secs_f64() * 1e3 * self.speed;
        let mut out = Vec::new();
        while self
            .pending
            .front()
            .is_some_and(|r| r.time_ms as f64 <= clock)
        {
            if let Some(r) = self.pending.pop_front() {
                out.push(r);
            }
        }
        out
    }

    pub fn remaining(&self) -> usize {
        self.pending.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Measurement, SensorId};

    #[test]
    fn readings_come_due_at_the_series_clock() {
        let day = 86_400_000;
        let r = |d: i64| SensorReading {
            sensor: SensorId(1),
            value: Measurement::CumulativeMm(d as f32),
            time_ms: d * day,
        };
        // A day per second.
        let mut feed = ReadingFeed::new(vec![r(2), r(0), r(1)], 86_400.0);
        assert_eq!(feed.due(Duration::ZERO).len(), 1);
        assert!(feed.due(Duration::from_millis(500)).is_empty());
        let next = feed.due(Duration::from_millis(2_000));
        assert_eq!(
            next.iter().map(|r| r.time_ms / day).collect::<Vec<_>>(),
            [1, 2]
        );
        assert_eq!(feed.remaining(), 0);
    }
}
