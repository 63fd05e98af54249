//! The order of work in a frame: one chained set of system sets that every
//! cockpit plugin puts its systems into. Its own module so plugins depend
//! on it, not on the app that assembles them.

use bevy::ecs::schedule::ScheduleLabel;
use bevy::prelude::*;

use super::state::{CityData, CityState};

/// The order of work in a frame.
#[derive(SystemSet, Debug, Clone, PartialEq, Eq, Hash)]
pub enum AppSystems {
    /// Mouse, keyboard and picking turn into messages.
    Input,
    /// The clock handles its commands and moves on (`TimeControl`).
    AdvanceTime,
    /// Incoming data (live or recorded, up to the clock) and requests are
    /// applied to `CityState`.
    Ingest,
    /// Values derived from the state (counts, filters) are refreshed.
    Derive,
    /// The scene follows the state: GPU buffers, camera transform.
    SyncScene,
}

/// Runs once, when the city is there: at start when it was loaded before
/// the app (headless rendering, tests), or the frame a window that opened
/// first receives it from the loading thread (`cockpit::load`). Every
/// system that builds the scene from the city goes here, not in `Startup`.
#[derive(ScheduleLabel, Debug, Clone, PartialEq, Eq, Hash)]
pub struct CityArrived;

/// True once the city's state is there (it comes with the city): every
/// set below waits for it.
pub fn city_ready(state: Option<Res<CityState>>) -> bool {
    state.is_some()
}

/// Chains the sets in `Update` (the window app, headless rendering and
/// tests all call this); none runs before the city is there.
pub fn configure(app: &mut App) {
    app.configure_sets(
        Update,
        (
            AppSystems::Input,
            AppSystems::AdvanceTime,
            AppSystems::Ingest,
            AppSystems::Derive,
            AppSystems::SyncScene,
        )
            .chain()
            .run_if(city_ready),
    )
    .init_schedule(CityArrived)
    .add_systems(Startup, arrive_at_start);
}

/// The city given with the app: the scene is built at start.
fn arrive_at_start(world: &mut World) {
    if world.contains_resource::<CityData>() {
        world.run_schedule(CityArrived);
    }
}
