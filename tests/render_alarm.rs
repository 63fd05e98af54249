//! An alarmed building pulses: its pixels change from frame to frame while a
//! plain building's stay put. Time is stepped manually, so this is repeatable.

mod common;

use std::sync::Arc;
use std::time::Duration;

use bevy::math::UVec2;
use bevy::time::TimeUpdateStrategy;
use citytwin::cockpit::city::look::Look;
use citytwin::cockpit::headless::HeadlessCity;
use citytwin::geo::demo::{DemoScene, generate};
use citytwin::model::RiskLevel;
use common::{above_tallest, is_green, output_path, roof_samples};

#[test]
fn an_alarmed_building_pulses_and_a_plain_one_does_not() {
    let mut scene = DemoScene::embedded().expect("embedded scene");
    scene.buildings = 3_000;
    let city = Arc::new(generate(&scene));
    let (target, roof, view) = above_tallest(&city, 400.0);
    let mut headless = HeadlessCity::new(city.clone(), view, UVec2::new(160, 120), false);
    // The level's own colour: risk focus off (it mutes 低 toward the ground).
    headless.set_look(Look::default().with_focus(0.0));
    headless
        .app()
        .insert_resource(TimeUpdateStrategy::ManualDuration(Duration::from_millis(
            90,
        )));
    headless.state_mut().set_level(target.id, RiskLevel::Low);

    let sample = |headless: &mut HeadlessCity| roof_samples(headless, roof, 10);
    let brightness = |c: &[u8; 3]| c.iter().map(|v| u32::from(*v)).sum::<u32>();

    let plain = sample(&mut headless);
    assert!(
        plain.iter().all(|c| *c == plain[0] && is_green(*c)),
        "{plain:?}"
    );

    headless.state_mut().set_alarm(target.id, true);
    let alarmed = sample(&mut headless);
    let lo = alarmed.iter().map(brightness).min().unwrap_or(0);
    let hi = alarmed.iter().map(brightness).max().unwrap_or(0);
    assert!(hi > lo + 150, "alarm should pulse: {alarmed:?}");
    assert!(
        hi > brightness(&plain[0]) + 150,
        "the pulse flashes brighter than the level colour"
    );
    headless
        .capture()
        .expect("frame")
        .save(output_path("alarm.png"))
        .expect("save");
}
