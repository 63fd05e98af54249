//! The bevy cockpit: one plugin per domain folder.

pub mod app;
pub mod camera;
pub mod city;
pub mod drill;
pub mod hazards;
pub mod headless;
pub mod hub_view;
pub mod imagery;
pub mod link;
pub mod load;
pub mod picking;
pub mod presenter;
pub mod schedule;
pub mod state;
pub mod stream;
pub mod theme;
pub mod time;
pub mod ui;
pub mod video;
pub mod wall;
