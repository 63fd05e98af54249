//! `CityState`: the ONE place live data about the city is applied in the
//! cockpit, and the cockpit's own selection. Panels read it; systems change
//! it through its methods; the scene syncs from it. What the stream says
//! lives in [`LiveState`](crate::live::LiveState) (shared with the backend);
//! what only this cockpit decides — which building is selected, how the
//! GPU state words are packed — lives here.

use std::sync::Arc;

use bevy::prelude::*;

pub use crate::live::{Applied, ApplyError, LiveState, flags};
use crate::model::{BuildingId, City, HazardId};

pub(super) fn plugin(app: &mut App) {
    app.add_message::<SelectBuilding>()
        .add_message::<SelectHazard>()
        .add_systems(
            Update,
            apply_selection.in_set(super::schedule::AppSystems::Ingest),
        );
}

/// The static city (geometry, codes, parties), shared read-only.
#[derive(Resource, Clone, Deref)]
pub struct CityData(pub Arc<City>);

/// The GPU state word's bits (see shaders/buildings.wgsl): level in bits
/// 0–2, selected bit 3, alarm bit 4, dimmed bit 5 (a briefing highlights
/// other buildings).
pub mod word {
    pub const SELECTED: u32 = 1 << 3;
    pub const ALARM: u32 = 1 << 4;
    pub const DIMMED: u32 = 1 << 5;
}

/// The cockpit's live state and its selection.
#[derive(Resource, Debug, Clone, Deref, DerefMut)]
pub struct CityState {
    /// The state as the stream (live or recorded) says it is.
    #[deref]
    pub live: LiveState,
    selected: Option<BuildingId>,
    /// The selected hazard body and, when a pin was picked, its point.
    selected_hazard: Option<(HazardId, Option<u16>)>,
    /// Buildings a briefing step highlights (None: no highlight, nothing
    /// dims).
    highlighted: Option<Vec<bool>>,
    /// Bumped on every selection change (the GPU sync follows it).
    selection_revision: u64,
}

impl CityState {
    pub fn new(city: &City) -> CityState {
        CityState {
            live: LiveState::new(city),
            selected: None,
            selected_hazard: None,
            highlighted: None,
            selection_revision: 0,
        }
    }

    /// Highlights these buildings and dims every other one (None: no
    /// highlight). Unknown ids are ignored.
    pub fn set_highlight(&mut self, ids: Option<&[BuildingId]>) {
        let next = ids.map(|ids| {
            let mut on = vec![false; self.live.len()];
            for id in ids {
                if let Some(slot) = on.get_mut(id.index()) {
                    *slot = true;
                }
            }
            on
        });
        if next != self.highlighted {
            self.highlighted = next;
            self.selection_revision += 1;
        }
    }

    /// Whether a highlight is on and this building is in it.
    pub fn is_highlighted(&self, id: BuildingId) -> Option<bool> {
        let on = self.highlighted.as_ref()?;
        Some(on.get(id.index()).copied().unwrap_or(false))
    }

    pub fn selected_hazard(&self) -> Option<(HazardId, Option<u16>)> {
        self.selected_hazard
    }

    /// Selects a hazard body (and one of its points); an unknown body or
    /// point clears it. A building and a body are never selected together.
    pub fn select_hazard(&mut self, selection: Option<(HazardId, Option<u16>)>) {
        self.selected_hazard = selection.and_then(|(h, point)| {
            let live = self.live.hazard(h)?;
            Some((h, point.filter(|p| usize::from(*p) < live.series.len())))
        });
        if self.selected_hazard.is_some() {
            self.selected = None;
        }
        self.selection_revision += 1;
    }

    pub fn selected(&self) -> Option<BuildingId> {
        self.selected
    }

    /// Selects a building (an unknown id clears the selection).
    pub fn select(&mut self, id: Option<BuildingId>) {
        self.selected = id.filter(|id| id.index() < self.live.len());
        if self.selected.is_some() {
            self.selected_hazard = None;
        }
        self.selection_revision += 1;
    }

    /// Changes whenever the GPU words would (stream or selection).
    pub fn revision(&self) -> (u64, u64) {
        (self.live.revision(), self.selection_revision)
    }

    /// Packs the GPU state words (see shaders/buildings.wgsl) into `out`.
    pub fn pack_into(&self, out: &mut Vec<u8>) {
        let levels = self.live.levels();
        // Every word is written below: no clearing (a million words are
        // 4 MB).
        out.resize(levels.len() * 4, 0);
        // One pass for what every word has (level, alarm; branch-free),
        // then the rare flags only where they are.
        let alarm = u32::from(crate::live::flags::ALARM);
        for ((slot, level), f) in out
            .chunks_exact_mut(4)
            .zip(levels)
            .zip(self.live.flag_bytes())
        {
            let w = *level as u32 | ((u32::from(*f) & alarm) / alarm * word::ALARM);
            slot.copy_from_slice(&w.to_le_bytes());
        }
        let mut set = |i: usize, bit: u32| {
            if let Some(slot) = out.get_mut(i * 4..i * 4 + 4) {
                let w = u32::from_le_bytes([slot[0], slot[1], slot[2], slot[3]]) | bit;
                slot.copy_from_slice(&w.to_le_bytes());
            }
        };
        if let Some(id) = self.selected {
            set(id.index(), word::SELECTED);
        }
        if let Some(on) = &self.highlighted {
            for i in 0..levels.len() {
                if !on.get(i).copied().unwrap_or(false) {
                    set(i, word::DIMMED);
                }
            }
        }
    }
}

/// Ask to select a building (or clear the selection). Panels and picking
/// send this; only [`apply_selection`] changes the state.
#[derive(Message, Debug, Clone, Copy, PartialEq, Eq)]
pub struct SelectBuilding(pub Option<BuildingId>);

/// Ask to select a hazard body, optionally one of its monitoring points.
#[derive(Message, Debug, Clone, Copy, PartialEq, Eq)]
pub struct SelectHazard(pub Option<(HazardId, Option<u16>)>);

fn apply_selection(
    mut requests: MessageReader<SelectBuilding>,
    mut hazards: MessageReader<SelectHazard>,
    mut state: ResMut<CityState>,
) {
    if let Some(SelectBuilding(id)) = requests.read().last() {
        state.select(*id);
    }
    if let Some(SelectHazard(selection)) = hazards.read().last() {
        state.select_hazard(*selection);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geo::demo::{DemoScene, generate};
    use crate::model::RiskLevel;

    #[test]
    fn packed_words_carry_level_alarm_and_the_cockpits_selection() {
        let mut scene = DemoScene::embedded().expect("scene");
        scene.buildings = 300;
        scene.cell_m = 600.0;
        let city = generate(&scene);
        let mut state = CityState::new(&city);
        state.set_level(BuildingId(2), RiskLevel::Moderate);
        let before = state.revision();
        state.select(Some(BuildingId(2)));
        assert_ne!(state.revision(), before, "a selection repacks");
        state.set_alarm(BuildingId(2), true);
        let mut bytes = Vec::new();
        state.pack_into(&mut bytes);
        assert_eq!(bytes.len(), city.buildings.len() * 4);
        let w = |b: &[u8]| u32::from_le_bytes([b[8], b[9], b[10], b[11]]);
        assert_eq!(w(&bytes), 2 | word::SELECTED | word::ALARM);
        // A snapshot from the stream replaces the state, not the selection.
        let snapshot = state.live.to_snapshot(0);
        state.apply_snapshot(&snapshot).expect("applies");
        assert_eq!(state.selected(), Some(BuildingId(2)));
        state.select(None);
        state.pack_into(&mut bytes);
        assert_eq!(w(&bytes), 2 | word::ALARM);
        state.select(Some(BuildingId(u32::MAX)));
        assert_eq!(state.selected(), None, "an unknown id clears it");
        // A briefing's highlight dims every other building.
        state.set_highlight(Some(&[BuildingId(2)]));
        state.pack_into(&mut bytes);
        assert_eq!(w(&bytes), 2 | word::ALARM);
        let first = u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
        assert_ne!(first & word::DIMMED, 0);
    }
}
