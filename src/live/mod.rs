//! `LiveState`: the city's live per-building state as rebuilt from the
//! stream (levels, alarms, readings, open events, last sequence number).
//! Pure: the cockpit wraps it as its `CityState` resource, the backend keeps
//! one as the authoritative state it snapshots.

mod apply;

use std::collections::{BTreeMap, HashMap};

pub use apply::{Applied, ApplyError};

use crate::model::{
    BuildingId, Case, CaseId, City, Event, EventId, HazardId, HazardLive, KpiTable, LevelCounts,
    RiskLevel, SensorId, SensorReading,
};

/// Bit flags stored beside each building's level (what the stream says;
/// the cockpit's own selection lives in the cockpit).
pub mod flags {
    pub const ALARM: u8 = 1 << 1;
    /// Destroyed by a slope failure.
    pub const COLLAPSED: u8 = 1 << 2;
}

/// Live per-building state with incrementally maintained legend counts.
#[derive(Debug, Clone)]
pub struct LiveState {
    levels: Vec<RiskLevel>,
    flags: Vec<u8>,
    counts: LevelCounts,
    /// Bumped on every visible change; the GPU sync compares against it.
    revision: u64,
    /// Sequence number of the last snapshot/delta applied from the stream.
    last_seq: Option<u64>,
    /// Stream time of that snapshot/delta.
    last_time_ms: Option<i64>,
    readings: HashMap<SensorId, SensorReading>,
    open_events: BTreeMap<EventId, Event>,
    open_cases: BTreeMap<CaseId, Case>,
    kpi: KpiTable,
    cases_revision: u64,
    unknown_ids: u64,
    /// Per hazard body: level, forecast, plan, evacuation, recent samples.
    hazards: Vec<HazardLive>,
    /// Bumped when any body's status (not only its samples) changes.
    hazards_revision: u64,
    /// Bumped when a monitoring point gets a sample.
    samples_revision: u64,
}

impl LiveState {
    pub fn new(city: &City) -> LiveState {
        let levels: Vec<RiskLevel> = city.base_levels().collect();
        LiveState {
            counts: LevelCounts::from_levels(levels.iter().copied()),
            flags: vec![0; levels.len()],
            levels,
            revision: 1,
            last_seq: None,
            last_time_ms: None,
            readings: HashMap::new(),
            open_events: BTreeMap::new(),
            open_cases: BTreeMap::new(),
            kpi: KpiTable::default(),
            cases_revision: 0,
            unknown_ids: 0,
            hazards: city.hazards.iter().map(HazardLive::new).collect(),
            hazards_revision: 1,
            samples_revision: 1,
        }
    }

    pub fn len(&self) -> usize {
        self.levels.len()
    }

    pub fn is_empty(&self) -> bool {
        self.levels.is_empty()
    }

    pub fn level(&self, id: BuildingId) -> Option<RiskLevel> {
        self.levels.get(id.index()).copied()
    }

    pub fn levels(&self) -> &[RiskLevel] {
        &self.levels
    }

    pub fn counts(&self) -> LevelCounts {
        self.counts
    }

    pub fn revision(&self) -> u64 {
        self.revision
    }

    /// Sets a building's level; returns false for an unknown id.
    pub fn set_level(&mut self, id: BuildingId, level: RiskLevel) -> bool {
        let Some(slot) = self.levels.get_mut(id.index()) else {
            return false;
        };
        if *slot != level {
            self.counts.0[slot.index()] -= 1;
            self.counts.0[level.index()] += 1;
            *slot = level;
            self.revision += 1;
        }
        true
    }

    /// Sets many levels at once (one revision bump); unknown ids are counted
    /// and skipped.
    pub fn set_levels(
        &mut self,
        changes: impl IntoIterator<Item = (BuildingId, RiskLevel)>,
    ) -> usize {
        let mut unknown = 0;
        let mut changed = false;
        // Legend counts follow each change; past a sixteenth of the city
        // (a reassessment of every building) they are counted afresh at the
        // end instead — cheaper than following a million changes.
        let mut followed = self.levels.len() / 16;
        for (id, level) in changes {
            match self.levels.get_mut(id.index()) {
                Some(slot) if *slot != level => {
                    if followed > 0 {
                        self.counts.0[slot.index()] -= 1;
                        self.counts.0[level.index()] += 1;
                        followed -= 1;
                    }
                    *slot = level;
                    changed = true;
                }
                Some(_) => {}
                None => unknown += 1,
            }
        }
        if followed == 0 && changed {
            self.counts = LevelCounts::of_slice(&self.levels);
        }
        if changed {
            self.revision += 1;
        }
        unknown
    }

    pub fn set_alarm(&mut self, id: BuildingId, on: bool) -> bool {
        self.set_flag(id, flags::ALARM, on)
    }

    pub fn is_alarmed(&self, id: BuildingId) -> bool {
        self.flags
            .get(id.index())
            .is_some_and(|f| f & flags::ALARM != 0)
    }

    fn set_flag(&mut self, id: BuildingId, flag: u8, on: bool) -> bool {
        let Some(f) = self.flags.get_mut(id.index()) else {
            return false;
        };
        let new = if on { *f | flag } else { *f & !flag };
        if new != *f {
            *f = new;
            self.revision += 1;
        }
        true
    }

    pub fn is_collapsed(&self, id: BuildingId) -> bool {
        self.flags
            .get(id.index())
            .is_some_and(|f| f & flags::COLLAPSED != 0)
    }

    /// The live side of every hazard body, in city order.
    pub fn hazards(&self) -> &[HazardLive] {
        &self.hazards
    }

    pub fn hazard(&self, id: HazardId) -> Option<&HazardLive> {
        self.hazards.get(id.index())
    }

    /// Bumped when a body's level, forecast, plan or evacuation changes.
    pub fn hazards_revision(&self) -> u64 {
        self.hazards_revision
    }

    /// Bumped when a monitoring point gets a sample (the pins' arrows).
    pub fn samples_revision(&self) -> u64 {
        self.samples_revision
    }

    /// Each building's flag bits ([`flags`]), in id order.
    pub fn flag_bytes(&self) -> &[u8] {
        &self.flags
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geo::demo::{DemoScene, generate};

    fn small_city() -> City {
        let mut scene = DemoScene::embedded().expect("embedded scene parses");
        scene.buildings = 300;
        scene.cell_m = 600.0;
        generate(&scene)
    }

    #[test]
    fn counts_follow_level_changes() {
        let city = small_city();
        let mut state = LiveState::new(&city);
        let before = state.counts();
        assert_eq!(before.total(), city.buildings.len());
        let id = BuildingId(0);
        let old = state.level(id).expect("building 0 exists");
        let new = if old == RiskLevel::Major {
            RiskLevel::Low
        } else {
            RiskLevel::Major
        };
        assert!(state.set_level(id, new));
        assert_eq!(state.counts().get(new), before.get(new) + 1);
        assert_eq!(state.counts().get(old), before.get(old) - 1);
        assert_eq!(
            state.counts(),
            LevelCounts::from_levels(state.levels().iter().copied())
        );
        assert!(!state.set_level(BuildingId(u32::MAX), RiskLevel::Low));
    }

    #[test]
    fn counts_stay_right_for_few_changes_and_for_a_reassessment_of_all() {
        let city = small_city();
        let mut state = LiveState::new(&city);
        let n = city.buildings.len() as u32;
        let truth = |s: &LiveState| LevelCounts::from_levels(s.levels().iter().copied());
        // A few (followed one by one), then every building twice over
        // (counted afresh), with an unknown id among them.
        let few = (0..5).map(|i| (BuildingId(i), RiskLevel::Major));
        assert_eq!(state.set_levels(few), 0);
        assert_eq!(state.counts(), truth(&state));
        let all = (0..n)
            .map(|i| (BuildingId(i), RiskLevel::ALL[i as usize % 5]))
            .chain([(BuildingId(n + 7), RiskLevel::Low)]);
        let revision = state.revision();
        assert_eq!(state.set_levels(all), 1);
        assert_eq!(state.revision(), revision + 1);
        assert_eq!(state.counts(), truth(&state));
        assert_eq!(state.counts().total(), n as usize);
        assert_eq!(state.level(BuildingId(7)), Some(RiskLevel::ALL[2]));
        // The fast tally agrees with the plain one on every remainder.
        for len in [0, 1, 2, 3, 4, 5, 11] {
            let slice = &state.levels()[..len];
            assert_eq!(
                LevelCounts::of_slice(slice),
                LevelCounts::from_levels(slice.iter().copied())
            );
        }
    }
}
