//! The city as it was: a recording where a building's fire main drops to
//! 0 MPa at T1, replayed headless through the cockpit's own replay path.
//! At T1 the building is orange and pulsing; seek back to T0 < T1 and it is
//! its base colour; forward again, orange. The pictures are saved.

mod common;

use std::sync::Arc;
use std::time::Duration;

use bevy::math::UVec2;
use bevy::time::TimeUpdateStrategy;
use citytwin::backend::engine::Engine;
use citytwin::backend::scenario::sensor_bindings;
use citytwin::cockpit::city::look::Look;
use citytwin::cockpit::headless::HeadlessCity;
use citytwin::cockpit::hub_view::{CaseFilter, SetFilter};
use citytwin::cockpit::stream::replay::ReplaySource;
use citytwin::cockpit::time::TimeControlCommand;
use citytwin::geo::demo::{DemoScene, generate};
use citytwin::model::{RiskLevel, SensorReading};
use citytwin::protocol::Message;
use citytwin::recording::Recorder;
use common::live::{quiet_scenario, temp_path};
use common::{above_tallest, is_green, output_path, roof_samples};

fn is_orange(c: [u8; 3]) -> bool {
    c[0] > 170 && c[1] > 70 && c[1] < 180 && c[2] < 90 && c[0] > c[1] + 50
}

#[test]
fn a_recorded_alarm_shows_at_its_time_and_not_before() {
    let mut scene = DemoScene::embedded().expect("embedded scene");
    scene.buildings = 3_000;
    let mut city = generate(&scene);
    let target_id = above_tallest(&city, 400.0).0.id;
    city.buildings[target_id.index()].base_level = RiskLevel::Low;
    let city = Arc::new(city);
    let (_, roof, view) = above_tallest(&city, 400.0);
    let scenario = citytwin::backend::scenario::Scenario {
        sensors: 3_000,
        ..quiet_scenario(60.0, 3_600)
    };
    let sensor = sensor_bindings(&city, scenario.sensors)
        .into_iter()
        .find(|(_, b)| *b == target_id)
        .map(|(s, _)| s)
        .expect("the tallest building has a fire-main sensor");

    // Record: quiet minutes, then 0 MPa at T1, then more minutes.
    let file = temp_path("render-replay", "alarm.mcap");
    let mut engine = Engine::open(city.clone(), ":memory:", Some(scenario)).expect("engine");
    let mut recorder = Recorder::create(&file).expect("recorder");
    recorder
        .write(&Message::Snapshot(engine.snapshot()), engine.now_ms())
        .expect("snapshot");
    let mut record = |delta: Option<citytwin::protocol::Delta>| {
        if let Some(d) = delta {
            let t = d.time_ms;
            recorder.write(&Message::Delta(d), t).expect("delta");
        }
    };
    for _ in 0..200 {
        let d = engine.tick().expect("tick");
        record(d);
    }
    let t0 = engine.now_ms();
    for _ in 0..200 {
        let d = engine.tick().expect("tick");
        record(d);
    }
    let t1 = engine.now_ms();
    let reading = SensorReading {
        sensor,
        value: citytwin::model::Measurement::PressureMpa(0.0),
        time_ms: t1,
    };
    let d = engine.handle(&[reading], t1).expect("reading");
    record(d);
    for _ in 0..100 {
        let d = engine.tick().expect("tick");
        record(d);
    }
    recorder.finish().expect("finish");
    assert!(engine.live().is_alarmed(target_id));

    let mut headless = HeadlessCity::new(city.clone(), view, UVec2::new(160, 120), false);
    // The level's own colour: risk focus off (it mutes 低 toward the ground).
    headless.set_look(Look::default().with_focus(0.0));
    headless
        .app()
        .insert_resource(TimeUpdateStrategy::ManualDuration(Duration::from_millis(
            90,
        )));
    // The case's marker would stand over the roof: filter it out, so the
    // pixels are the building's own.
    let hide_markers = CaseFilter {
        severities: [false; 5],
        ..CaseFilter::default()
    };
    headless
        .app()
        .world_mut()
        .write_message(SetFilter(hide_markers));
    headless.replay(ReplaySource::open(file).expect("opens"), t1);
    assert!(headless.replay_problems().is_empty());
    let samples = |headless: &mut HeadlessCity| roof_samples(headless, roof, 8);
    let brightness = |c: &[u8; 3]| c.iter().map(|v| u32::from(*v)).sum::<u32>();

    let at_t1 = samples(&mut headless);
    assert!(headless.state().is_alarmed(target_id));
    assert_eq!(
        headless.state().level(target_id),
        Some(RiskLevel::High),
        "较大"
    );
    let lo = at_t1.iter().map(brightness).min().unwrap_or(0);
    let hi = at_t1.iter().map(brightness).max().unwrap_or(0);
    assert!(
        at_t1.iter().any(|c| is_orange(*c)),
        "orange at T1: {at_t1:?}"
    );
    assert!(hi > lo + 30, "and pulsing: {at_t1:?}");
    headless
        .capture()
        .expect("frame")
        .save(output_path("replay-t1.png"))
        .expect("save");

    headless.time_command(TimeControlCommand::Seek(t0));
    let at_t0 = samples(&mut headless);
    assert!(!headless.state().is_alarmed(target_id));
    assert!(
        at_t0.iter().all(|c| *c == at_t0[0] && is_green(*c)),
        "its base colour (低 = green), steady, at T0: {at_t0:?}"
    );
    headless
        .capture()
        .expect("frame")
        .save(output_path("replay-t0.png"))
        .expect("save");

    headless.time_command(TimeControlCommand::Seek(t1 + 60_000));
    let again = samples(&mut headless);
    assert!(
        again.iter().any(|c| is_orange(*c)),
        "orange again: {again:?}"
    );
}
