//! `CityState`: the ONE place live data about the city is applied in the
//! cockpit. Panels read it; systems change it through its methods; the scene
//! syncs from it. The logic lives in [`LiveState`](crate::live::LiveState).

use std::sync::Arc;

use bevy::prelude::*;

pub use crate::live::{Applied, ApplyError, LiveState, flags};
use crate::model::{BuildingId, City};

pub(super) fn plugin(app: &mut App) {
    app.add_message::<SelectBuilding>().add_systems(
        Update,
        apply_selection.in_set(super::app::AppSystems::Ingest),
    );
}

/// The static city (geometry, codes, parties), shared read-only.
#[derive(Resource, Clone, Deref)]
pub struct CityData(pub Arc<City>);

/// The cockpit's live state.
#[derive(Resource, Debug, Clone, Deref, DerefMut)]
pub struct CityState(pub LiveState);

impl CityState {
    pub fn new(city: &City) -> CityState {
        CityState(LiveState::new(city))
    }
}

/// Ask to select a building (or clear the selection). Panels and picking
/// send this; only [`apply_selection`] changes the state.
#[derive(Message, Debug, Clone, Copy, PartialEq, Eq)]
pub struct SelectBuilding(pub Option<BuildingId>);

fn apply_selection(mut requests: MessageReader<SelectBuilding>, mut state: ResMut<CityState>) {
    if let Some(SelectBuilding(id)) = requests.read().last() {
        state.select(*id);
    }
}
