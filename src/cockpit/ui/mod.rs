//! The cockpit's panels (egui): top bar with search and language, legend,
//! building card. Panels read state and send messages; they never mutate the
//! world directly.

pub mod theme;

use bevy::prelude::*;

/// Interface language: Chinese first, English on toggle.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Lang {
    #[default]
    Zh,
    En,
}

#[derive(Resource, Clone, Debug)]
pub struct UiSettings {
    pub lang: Lang,
    pub ui_scale: f32,
}

/// Whether egui wants the pointer/keyboard this frame (camera controls and
/// picking stand back).
#[derive(Resource, Default, Debug, Clone, Copy)]
pub struct UiHasPointer {
    pub pointer: bool,
    pub keyboard: bool,
}

pub fn plugin(app: &mut App) {
    app.init_resource::<UiHasPointer>();
}
