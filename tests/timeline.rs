//! One clock for live and replay, over a real loopback server: a live
//! cockpit dragged back into its own recorded history shows the past, keeps
//! taking the live stream into its head (counting the new alarms), and back
//! to live loses no delta and applies none twice. A replayed cockpit refuses
//! commands and says why; a live one sends them.

mod common;

use std::time::{Duration, Instant};

use bevy::prelude::*;
use citytwin::backend::engine::Engine;
use citytwin::backend::scenario::sensor_bindings;
use citytwin::cockpit::link::{LinkConfig, spawn_link};
use citytwin::cockpit::state::CityState;
use citytwin::cockpit::stream::replay::{REFUSAL, ReplaySource};
use citytwin::cockpit::stream::{
    CommandFeedback, HeadState, LiveSource, SendCommand, SourceRequest, StreamState,
};
use citytwin::cockpit::time::{TimeControl, TimeControlCommand};
use citytwin::model::{BuildingId, SensorId};
use citytwin::protocol::CommandKind;
use citytwin::recording::Recording;
use common::live::{
    TestClient, city_dispatcher_tokens, quiet_scenario, serve, small_city, temp_path, zero,
};

const DISPATCHER: &str = "timeline-dispatcher-1";

fn cockpit_app(city: &citytwin::model::City) -> App {
    let mut app = App::new();
    app.add_plugins(MinimalPlugins)
        .insert_resource(CityState::new(city));
    citytwin::cockpit::schedule::configure(&mut app);
    citytwin::cockpit::time::plugin(&mut app);
    citytwin::cockpit::stream::plugin(&mut app);
    app
}

/// Runs frames until `done` holds (panics after `secs`).
fn frames_until(app: &mut App, secs: u64, what: &str, done: impl Fn(&World) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !done(app.world()) {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        app.update();
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn alarmed(world: &World, b: BuildingId) -> bool {
    world.resource::<CityState>().is_alarmed(b)
}

#[test]
fn live_dragged_back_shows_the_past_and_back_to_live_loses_nothing() {
    let city = small_city();
    let sensors = sensor_bindings(&city, 300);
    let building = |s: u32| sensors[&SensorId(s)];
    let engine =
        Engine::open(city.clone(), ":memory:", Some(quiet_scenario(60.0, 3_600))).expect("engine");
    let tokens = city_dispatcher_tokens(DISPATCHER);
    let server = serve(engine, tokens, ([127, 0, 0, 1], 0).into(), 50, None);
    let mut ops = TestClient::connect_ready(&city, server.addr, DISPATCHER);
    let history = temp_path("timeline", "session.mcap");
    let link = spawn_link(LinkConfig {
        addr: server.addr.to_string(),
        token: DISPATCHER.to_owned(),
        record: Some((history.clone(), city.clone())),
    })
    .expect("link");
    let mut app = cockpit_app(&city);
    app.insert_resource(link.into_source(Some(history.clone())))
        .insert_resource(ReplaySource::lazy(history.clone()));

    // Live: following, the clock is the head.
    frames_until(&mut app, 10, "the first state", |w| {
        w.resource::<CityState>().last_seq().is_some()
    });
    assert!(app.world().resource::<TimeControl>().is_following());
    // Let stream time run on (quiet: no deltas) so the past before the
    // alarm lies inside the history.
    std::thread::sleep(Duration::from_millis(600));
    ops.command(zero(SensorId(1))).expect("inject");
    frames_until(&mut app, 10, "the first alarm", |w| alarmed(w, building(1)));
    let t_alarm = app
        .world()
        .resource::<CityState>()
        .last_time_ms()
        .expect("time");
    // Let the recording flush the alarm, then drag back before it.
    let recorded_past = |t: i64| {
        Recording::open(&history)
            .ok()
            .and_then(|r| r.span())
            .is_some_and(|(_, end)| end > t)
    };
    frames_until(&mut app, 10, "the history to reach the alarm", |_| {
        recorded_past(t_alarm - 1)
    });
    let before = t_alarm - 3_000;
    app.world_mut()
        .write_message(TimeControlCommand::Seek(before));
    app.update();
    {
        let w = app.world();
        let time = w.resource::<TimeControl>();
        assert!(time.is_replaying());
        assert_eq!(time.now_ms(), Some(before));
        let state = w.resource::<CityState>();
        assert!(!state.is_alarmed(building(1)), "the past has no alarm yet");
        assert!(state.last_time_ms().is_some_and(|t| t <= before));
    }
    // While away, two more alarms arrive live: counted, not shown.
    ops.command(zero(SensorId(2))).expect("inject");
    ops.command(zero(SensorId(3))).expect("inject");
    frames_until(&mut app, 10, "the badge to count the new alarms", |w| {
        w.resource::<HeadState>().new_alarms >= 2
    });
    assert!(!alarmed(app.world(), building(2)), "still showing the past");
    // Forward in the past: the first alarm appears, from the recording.
    app.world_mut()
        .write_message(TimeControlCommand::Seek(t_alarm + 1_000));
    app.update();
    assert!(alarmed(app.world(), building(1)));
    assert!(!alarmed(app.world(), building(2)));

    // Back to live: everything that arrived meanwhile is there.
    app.world_mut().write_message(TimeControlCommand::Follow);
    app.update();
    ops.settle(400);
    frames_until(&mut app, 10, "the cockpit to catch up", |w| {
        w.resource::<CityState>().last_seq() == ops.state.last_seq()
    });
    let w = app.world();
    assert!(w.resource::<TimeControl>().is_following());
    assert_eq!(w.resource::<HeadState>().new_alarms, 0);
    let state = w.resource::<CityState>();
    for s in 1..=3 {
        assert!(state.is_alarmed(building(s)), "alarm {s} is live");
    }
    assert_eq!(state.levels(), ops.state.levels());
    let stream = w.resource::<StreamState>();
    assert_eq!(stream.last_error, None, "no gap, no duplicate");
    // Every delta after the first snapshot was applied exactly once.
    let mut recording = Recording::open(&history).expect("history");
    let first = recording.read_chunk(0).expect("its first chunk");
    let first_seq = first
        .iter()
        .find_map(|(_, m)| match m {
            citytwin::protocol::Message::Snapshot(s) => Some(s.seq),
            _ => None,
        })
        .expect("the history starts with a snapshot");
    assert_eq!(
        stream.applied,
        state.last_seq().expect("seq") - first_seq,
        "deltas applied once each"
    );
    drop(app);
    ops.link.stop();
    server.stop();
}

#[test]
fn a_replayed_cockpit_refuses_commands_and_says_why_a_live_one_sends_them() {
    let city = small_city();
    let mut app = cockpit_app(&city);
    let (_events_tx, events) = crossbeam_channel::bounded(8);
    let (requests, mut sent) = tokio::sync::mpsc::channel(8);
    app.insert_resource(LiveSource::new(events, requests, None, None));
    app.world_mut()
        .resource_mut::<TimeControl>()
        .set_head(1_000_000);
    let dispatch = CommandKind::Ping;
    app.world_mut().write_message(SendCommand(dispatch.clone()));
    app.update();
    match sent.try_recv() {
        Ok(SourceRequest::Send(c)) => assert_eq!(c.kind, dispatch),
        other => panic!("live sends the command: {other:?}"),
    }
    assert_eq!(app.world().resource::<CommandFeedback>().refused, None);

    app.world_mut()
        .write_message(TimeControlCommand::Seek(900_000));
    app.update();
    app.world_mut().write_message(SendCommand(dispatch));
    app.update();
    assert!(sent.try_recv().is_err(), "nothing sent while replaying");
    assert_eq!(
        app.world().resource::<CommandFeedback>().refused.as_deref(),
        Some(REFUSAL)
    );
}
