//! The order of work in a frame: one chained set of system sets that every
//! cockpit plugin puts its systems into. Its own module so plugins depend
//! on it, not on the app that assembles them.

use bevy::prelude::*;

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

/// Chains the sets in `Update` (the window app, headless rendering and
/// tests all call this).
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
            .chain(),
    );
}
