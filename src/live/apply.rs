//! Applying the backend's stream to [`LiveState`]: snapshots replace, deltas
//! follow in sequence. A delta already applied is ignored (never applied
//! twice); a gap is an error that asks for a fresh snapshot (nothing lost).

use crate::model::{BuildingId, EventStatus, RiskLevel};
use crate::protocol::{Change, Delta, Snapshot};

use super::{LiveState, flags};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    /// The delta was new and is now part of the state.
    Applied,
    /// Its sequence number was already applied: ignored.
    Duplicate,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApplyError {
    #[error("snapshot {seq} has {got} building levels, this city has {expected}")]
    SnapshotSize {
        seq: u64,
        expected: usize,
        got: usize,
    },
    #[error("snapshot {seq}: byte {index} = {value} is not a risk level")]
    BadLevel { seq: u64, index: usize, value: u8 },
    #[error("delta {got} does not follow {last}: a fresh snapshot is needed")]
    Gap { last: u64, got: u64 },
    #[error("delta {seq} arrived before any snapshot")]
    NoSnapshot { seq: u64 },
    #[error("snapshot {seq} has {got} hazard bodies, this city has {expected}")]
    HazardCount {
        seq: u64,
        expected: usize,
        got: usize,
    },
}

impl LiveState {
    /// The sequence number of the last snapshot or delta applied.
    pub fn last_seq(&self) -> Option<u64> {
        self.last_seq
    }

    /// Stream time of the last snapshot or delta applied.
    pub fn last_time_ms(&self) -> Option<i64> {
        self.last_time_ms
    }

    /// Replaces the live state with a snapshot (validated first: a bad
    /// snapshot changes nothing).
    pub fn apply_snapshot(&mut self, snapshot: &Snapshot) -> Result<(), ApplyError> {
        let seq = snapshot.seq;
        let expected = self.levels.len();
        for got in [snapshot.levels.len(), snapshot.alarms.len()] {
            if got != expected {
                return Err(ApplyError::SnapshotSize { seq, expected, got });
            }
        }
        if let Some((index, &value)) = snapshot.levels.iter().enumerate().find(|(_, v)| **v > 4) {
            return Err(ApplyError::BadLevel { seq, index, value });
        }
        if snapshot.hazards.len() != self.hazards.len() {
            return Err(ApplyError::HazardCount {
                seq,
                expected: self.hazards.len(),
                got: snapshot.hazards.len(),
            });
        }
        let mut counts = [0usize; 5];
        for (slot, &byte) in self.levels.iter_mut().zip(&snapshot.levels) {
            let level = RiskLevel::from_u8(byte).unwrap_or(RiskLevel::Low);
            counts[level.index()] += 1;
            *slot = level;
        }
        self.counts.0 = counts;
        for (f, &alarm) in self.flags.iter_mut().zip(&snapshot.alarms) {
            *f = if alarm != 0 {
                *f | flags::ALARM
            } else {
                *f & !flags::ALARM
            };
            *f &= !flags::COLLAPSED;
        }
        for b in &snapshot.collapsed {
            if let Some(f) = self.flags.get_mut(b.index()) {
                *f |= flags::COLLAPSED;
            }
        }
        for (mine, theirs) in self.hazards.iter_mut().zip(&snapshot.hazards) {
            mine.status = theirs.status.clone();
            for (i, series) in mine.series.iter_mut().enumerate() {
                *series = theirs.series.get(i).cloned().unwrap_or_default();
            }
        }
        self.hazards_revision += 1;
        self.samples_revision += 1;
        self.readings.clear();
        for r in &snapshot.readings {
            self.readings.insert(r.sensor, *r);
        }
        self.open_events.clear();
        for e in &snapshot.open_events {
            self.open_events.insert(e.id, e.clone());
        }
        self.open_cases.clear();
        for c in &snapshot.open_cases {
            self.open_cases.insert(c.id, c.clone());
        }
        self.kpi = snapshot.kpi.clone();
        self.cases_revision += 1;
        self.last_seq = Some(seq);
        self.last_time_ms = Some(snapshot.time_ms);
        self.revision += 1;
        Ok(())
    }

    /// Applies the next delta of the stream.
    pub fn apply_delta(&mut self, delta: &Delta) -> Result<Applied, ApplyError> {
        let Some(last) = self.last_seq else {
            return Err(ApplyError::NoSnapshot { seq: delta.seq });
        };
        if delta.seq <= last {
            return Ok(Applied::Duplicate);
        }
        if delta.seq != last + 1 {
            return Err(ApplyError::Gap {
                last,
                got: delta.seq,
            });
        }
        for change in &delta.changes {
            match change {
                Change::Level { building, level } => {
                    if !self.set_level(*building, *level) {
                        self.unknown_ids += 1;
                    }
                }
                Change::Alarm { building, on } => {
                    if !self.set_alarm(*building, *on) {
                        self.unknown_ids += 1;
                    }
                }
                Change::Reading(r) => {
                    self.readings.insert(r.sensor, *r);
                }
                Change::Event(e) => {
                    self.cases_revision += 1;
                    if e.status == EventStatus::Open {
                        self.open_events.insert(e.id, e.clone());
                    } else {
                        self.open_events.remove(&e.id);
                    }
                }
                Change::Case(c) => {
                    self.cases_revision += 1;
                    self.kpi.count(c);
                    if c.is_open() {
                        self.open_cases.insert(c.id, c.clone());
                    } else {
                        self.open_cases.remove(&c.id);
                    }
                }
                Change::Collapsed { building } => {
                    if !self.set_flag(*building, flags::COLLAPSED, true) {
                        self.unknown_ids += 1;
                    }
                }
                hazard_change => self.apply_hazard_change(hazard_change, delta.time_ms),
            }
        }
        self.last_seq = Some(delta.seq);
        self.last_time_ms = Some(delta.time_ms);
        self.revision += 1;
        Ok(Applied::Applied)
    }

    /// A hazard body's change; an unknown body or point is counted.
    fn apply_hazard_change(&mut self, change: &Change, time_ms: i64) {
        let hazard = match change {
            Change::Sample { hazard, .. }
            | Change::HazardLevel { hazard, .. }
            | Change::Forecast { hazard, .. }
            | Change::Evacuation { hazard, .. }
            | Change::HazardFailed { hazard, .. } => *hazard,
            _ => return,
        };
        let Some(live) = self.hazards.get_mut(hazard.index()) else {
            self.unknown_ids += 1;
            return;
        };
        match change {
            Change::Sample { point, sample, .. } => {
                if !live.push(usize::from(*point), *sample) {
                    self.unknown_ids += 1;
                }
                // Samples move the pins' arrows, not the bodies' colours.
                self.samples_revision += 1;
                return;
            }
            Change::HazardLevel {
                level,
                criterion,
                plan,
                ..
            } => {
                live.status.level = *level;
                live.status.criterion = *criterion;
                live.status.plan = plan.clone();
                live.status.since_ms = time_ms;
            }
            Change::Forecast { forecast, .. } => live.status.forecast = *forecast,
            Change::Evacuation { index, status, .. } => {
                let i = usize::from(*index);
                if live.status.evacuation.len() <= i {
                    live.status
                        .evacuation
                        .resize(i + 1, crate::model::EvacuationStatus::NotNotified);
                }
                live.status.evacuation[i] = *status;
            }
            Change::HazardFailed { casualties, .. } => {
                live.status.failed_ms = Some(time_ms);
                live.status.casualties = Some(*casualties);
            }
            _ => {}
        }
        self.hazards_revision += 1;
    }

    /// The state as a snapshot at its current sequence number (what a
    /// recorder or a late-joining viewer needs).
    pub fn to_snapshot(&self, time_ms: i64) -> Snapshot {
        let mut readings: Vec<_> = self.readings.values().copied().collect();
        readings.sort_by_key(|r| r.sensor);
        Snapshot {
            seq: self.last_seq.unwrap_or(0),
            time_ms,
            levels: self.levels.iter().map(|l| *l as u8).collect(),
            alarms: self
                .flags
                .iter()
                .map(|f| u8::from(f & flags::ALARM != 0))
                .collect(),
            readings,
            open_events: self.open_events.values().cloned().collect(),
            open_cases: self.open_cases.values().cloned().collect(),
            kpi: self.kpi.clone(),
            hazards: self.hazards.iter().map(|h| h.thinned(time_ms)).collect(),
            collapsed: self
                .flags
                .iter()
                .enumerate()
                .filter(|(_, f)| *f & flags::COLLAPSED != 0)
                .map(|(i, _)| BuildingId(i as u32))
                .collect(),
        }
    }

    /// Changes that named a building this city does not have (skipped).
    pub fn unknown_ids(&self) -> u64 {
        self.unknown_ids
    }

    pub fn open_events(&self) -> impl Iterator<Item = &crate::model::Event> + '_ {
        self.open_events.values()
    }

    /// KPIs counted from the case stream so far.
    pub fn kpi(&self) -> &crate::model::KpiTable {
        &self.kpi
    }

    pub fn open_cases(&self) -> impl Iterator<Item = &crate::model::Case> + '_ {
        self.open_cases.values()
    }

    pub fn open_case(&self, id: crate::model::CaseId) -> Option<&crate::model::Case> {
        self.open_cases.get(&id)
    }

    pub fn open_event(&self, id: crate::model::EventId) -> Option<&crate::model::Event> {
        self.open_events.get(&id)
    }

    /// Bumped whenever an event or case opens, changes or closes (what the
    /// event markers and the hub's ordering follow).
    pub fn cases_revision(&self) -> u64 {
        self.cases_revision
    }

    pub fn open_event_count(&self) -> usize {
        self.open_events.len()
    }

    pub fn alarmed(&self) -> impl Iterator<Item = BuildingId> + '_ {
        self.flags
            .iter()
            .enumerate()
            .filter(|(_, f)| *f & flags::ALARM != 0)
            .map(|(i, _)| BuildingId(i as u32))
    }
}
