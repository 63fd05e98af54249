//! End to end over loopback: backend server ↔ protocol ↔ the cockpit's link
//! thread ↔ the state the cockpit applies.

mod common;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use citytwin::backend::engine::Engine;
use citytwin::backend::scenario::Scenario;
use citytwin::backend::server::BackendThread;
use citytwin::backend::tokens::{Grant, Tokens};
use citytwin::cockpit::link::SourceStatus;
use citytwin::model::{BuildingId, City, RiskLevel, SensorReading};
use citytwin::protocol::{CommandKind, Role, Scope};
use common::live::{
    TestClient, quiet_scenario, serve, small_city as city, temp_path as temp_in, zero,
};

const DISPATCHER: &str = "dispatcher-token-1";
const VIEWER: &str = "viewer-token-0002";
const YUZHONG_DISPATCHER: &str = "yuzhong-dispatcher-3";

fn temp_path(name: &str) -> std::path::PathBuf {
    temp_in("e2e", name)
}

/// A quiet scenario: no faults, no routine reports; restore after 1 s.
fn quiet() -> Scenario {
    quiet_scenario(1.0, 1)
}

/// A busy scenario: many faults and reports, 20 ticks per second.
fn busy() -> Scenario {
    Scenario {
        seed: 3,
        time_scale: 60.0,
        tick_ms: 20,
        faults_per_hour: 600.0,
        report_share: 0.02,
        restore_after_s: 60,
        fault_minutes: (1.0, 5.0),
        ..quiet()
    }
}

fn tokens() -> Tokens {
    let mut tokens = Tokens::default();
    tokens.insert(
        DISPATCHER,
        Grant {
            name: "市指挥中心".into(),
            role: Role::Dispatcher,
            scope: Scope::City,
        },
    );
    tokens.insert(
        YUZHONG_DISPATCHER,
        Grant {
            name: "渝中区指挥中心".into(),
            role: Role::Dispatcher,
            scope: Scope::District("500103".into()),
        },
    );
    tokens.insert(
        VIEWER,
        Grant {
            name: "大屏".into(),
            role: Role::Viewer,
            scope: Scope::District("500103".into()),
        },
    );
    tokens
}

fn start(
    engine: Engine,
    listen: std::net::SocketAddr,
    tick_ms: u64,
    record: Option<std::path::PathBuf>,
) -> BackendThread {
    serve(engine, tokens(), listen, tick_ms, record)
}

type Cockpit = TestClient;

#[test]
fn zero_pressure_reaches_the_cockpit_and_texts_three_phones_then_restores() {
    let city = city();
    let db = temp_path("pressure.db");
    let engine =
        Engine::open(city.clone(), &db.display().to_string(), Some(quiet())).expect("engine");
    // A green building with a sensor.
    let (sensor, building) = engine
        .sensors()
        .iter()
        .map(|(s, b)| (*s, *b))
        .find(|(_, b)| city.buildings[b.index()].base_level == RiskLevel::Low)
        .expect("a green building with a sensor");
    let server = start(engine, ([127, 0, 0, 1], 0).into(), 50, None);
    let mut cockpit = Cockpit::connect(&city, server.addr, DISPATCHER);
    cockpit.pump_until(10, "connected", Cockpit::connected);

    let zero = SensorReading {
        sensor,
        value: citytwin::model::Measurement::PressureMpa(0.0),
        time_ms: 0,
    };
    let sent = Instant::now();
    assert_eq!(cockpit.command(CommandKind::InjectReading(zero)), Ok(()));
    cockpit.pump_until(5, "X at 较大", |c| {
        c.state.level(building) == Some(RiskLevel::High) && c.state.is_alarmed(building)
    });
    // "Within one tick": the command is applied and streamed at once.
    assert!(
        sent.elapsed() < Duration::from_secs(1),
        "{:?}",
        sent.elapsed()
    );

    let conn = rusqlite::Connection::open(&db).expect("db opens");
    let mut stmt = conn
        .prepare("SELECT phone FROM outbox WHERE building = ?1 ORDER BY id")
        .expect("query");
    let phones: Vec<String> = stmt
        .query_map([building.0], |r| r.get(0))
        .expect("rows")
        .collect::<Result<_, _>>()
        .expect("phones");
    let p = &city.buildings[building.index()].parties;
    assert_eq!(
        phones,
        vec![
            p.safety_responsible.phone.clone(),
            p.safety_manager.phone.clone(),
            p.maintenance.phone.clone()
        ]
    );

    assert_eq!(
        cockpit.command(CommandKind::InjectReading(SensorReading {
            value: citytwin::model::Measurement::PressureMpa(0.35),
            ..zero
        })),
        Ok(())
    );
    cockpit.pump_until(10, "X back to base", |c| {
        c.state.level(building) == Some(RiskLevel::Low) && !c.state.is_alarmed(building)
    });
    let total: i64 = conn
        .query_row("SELECT COUNT(*) FROM outbox", [], |r| r.get(0))
        .expect("count");
    assert_eq!(total, 3, "restoring sends no more texts");
    cockpit.link.stop();
    server.stop();
}

#[test]
fn a_restarted_server_on_the_same_db_is_resumed_without_loss_or_repeat() {
    let city = city();
    let db = temp_path("restart.db");
    let db_name = db.display().to_string();
    let first = start(
        Engine::open(city.clone(), &db_name, Some(busy())).expect("engine"),
        ([127, 0, 0, 1], 0).into(),
        20,
        None,
    );
    let addr = first.addr;
    let mut cockpit = Cockpit::connect(&city, addr, VIEWER);
    cockpit.pump_until(15, "30 deltas", |c| c.applied.len() > 30);
    first.stop();
    cockpit.pump_until(10, "reconnecting", |c| {
        matches!(c.status, SourceStatus::Reconnecting { .. })
    });

    let engine = Engine::open(city.clone(), &db_name, Some(busy())).expect("engine reopens");
    let restarted_at = engine.head_seq();
    assert!(
        restarted_at >= *cockpit.applied.last().expect("applied"),
        "the DB holds all it streamed"
    );
    let second = start(engine, addr, 20, None);
    cockpit.pump_until(15, "30 more deltas", |c| {
        c.state.last_seq().is_some_and(|s| s > restarted_at + 30)
    });
    second.stop();

    // A quiet final server: the client catches up to its head and stops there.
    let engine = Engine::open(city.clone(), &db_name, None).expect("engine reopens");
    let head = engine.head_seq();
    let server_levels = engine.live().levels().to_vec();
    let server_alarms: Vec<BuildingId> = engine.live().alarmed().collect();
    let last = start(engine, addr, 50, None);
    cockpit.pump_until(15, "the head", |c| {
        c.state.last_seq() == Some(head) && c.connected()
    });

    // One snapshot at the start, then every seq exactly once, in order.
    let deltas = &cockpit.applied[1..];
    for pair in deltas.windows(2) {
        assert_eq!(pair[1], pair[0] + 1, "no seq skipped or repeated: {pair:?}");
    }
    assert_eq!(*deltas.last().expect("deltas"), head);
    assert_eq!(cockpit.state.levels(), server_levels.as_slice());
    assert_eq!(cockpit.state.alarmed().collect::<Vec<_>>(), server_alarms);
    cockpit.link.stop();
    last.stop();
}

#[test]
fn bad_tokens_are_refused_viewers_cannot_command_and_garbage_hurts_nobody() {
    use std::io::Write;
    let city = city();
    let db = temp_path("auth.db");
    let engine =
        Engine::open(city.clone(), &db.display().to_string(), Some(quiet())).expect("engine");
    let (sensor, building) = engine
        .sensors()
        .iter()
        .map(|(s, b)| (*s, *b))
        .min()
        .expect("a sensor");
    let head_before = engine.head_seq();
    let server = start(engine, ([127, 0, 0, 1], 0).into(), 50, None);

    let mut viewer = Cockpit::connect(&city, server.addr, VIEWER);
    viewer.pump_until(10, "viewer connected", Cockpit::connected);

    let mut intruder = Cockpit::connect(&city, server.addr, "not-a-token");
    intruder.pump_until(10, "refusal", |c| {
        matches!(c.status, SourceStatus::Refused { .. })
    });
    assert!(
        intruder.state.last_seq().is_none(),
        "a refused client gets no state"
    );

    // A client speaking garbage is dropped; the viewer does not notice.
    let mut garbage = std::net::TcpStream::connect(server.addr).expect("connect");
    garbage
        .write_all(&[0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4, 5, 6, 7, 8])
        .expect("write");

    // The viewer may not inject readings: refused with a reason, and audited.
    let reason = viewer.command(zero(sensor)).expect_err("refused");
    assert!(reason.to_string().contains("dispatcher"), "{reason}");
    assert_ne!(
        viewer.state.level(building),
        Some(RiskLevel::High).filter(|_| viewer.state.is_alarmed(building))
    );

    // A dispatcher's reading still reaches the viewer.
    let mut dispatcher = Cockpit::connect(&city, server.addr, DISPATCHER);
    dispatcher.pump_until(10, "dispatcher connected", Cockpit::connected);
    assert_eq!(dispatcher.command(zero(sensor)), Ok(()));
    viewer.pump_until(5, "the viewer sees the alarm", |c| {
        c.state.is_alarmed(building)
    });
    assert!(viewer.state.last_seq().unwrap_or(0) > head_before);

    // A district dispatcher may not touch another district's building.
    let outside = engine_sensor_outside(&city, &db, "500103");
    let mut district = Cockpit::connect(&city, server.addr, YUZHONG_DISPATCHER);
    district.pump_until(10, "district dispatcher connected", Cockpit::connected);
    let reason = district.command(zero(outside)).expect_err("out of scope");
    assert!(reason.to_string().contains("scope"), "{reason}");

    let conn = rusqlite::Connection::open(&db).expect("db");
    let audit = |action: &str| -> i64 {
        conn.query_row(
            "SELECT COUNT(*) FROM audit WHERE action = ?1",
            [action],
            |r| r.get(0),
        )
        .expect("count")
    };
    assert_eq!(audit("refused"), 1);
    let refused_inject: i64 = conn
        .query_row("SELECT COUNT(*) FROM audit WHERE action = 'inject_reading' AND detail LIKE '%dispatcher%'", [], |r| r.get(0))
        .expect("count");
    assert_eq!(refused_inject, 1);
    let out_of_scope: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM audit WHERE actor = '渝中区指挥中心' AND detail LIKE '%scope%'",
            [],
            |r| r.get(0),
        )
        .expect("count");
    assert_eq!(out_of_scope, 1);
    for c in [viewer, intruder, dispatcher, district] {
        c.link.stop();
    }
    server.stop();
}

#[test]
fn a_recording_rebuilds_the_live_state_at_any_time_and_survives_a_cut() {
    let city = city();
    let db = temp_path("record.db");
    let file = temp_path("day.mcap");
    let engine =
        Engine::open(city.clone(), &db.display().to_string(), Some(busy())).expect("engine");
    let server = start(engine, ([127, 0, 0, 1], 0).into(), 20, Some(file.clone()));
    let mut cockpit = Cockpit::connect(&city, server.addr, VIEWER);
    // Keep the live state as it was after some deltas, keyed by stream time.
    let mut seen: HashMap<i64, Vec<RiskLevel>> = HashMap::new();
    let mut alarms_seen: HashMap<i64, Vec<BuildingId>> = HashMap::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    while seen.len() < 40 {
        assert!(Instant::now() < deadline, "stream too slow");
        let n = cockpit.applied.len();
        cockpit.pump_until(10, "next delta", |c| c.applied.len() > n);
        let time = last_time(&cockpit);
        seen.insert(time, cockpit.state.levels().to_vec());
        alarms_seen.insert(time, cockpit.state.alarmed().collect());
    }
    cockpit.link.stop();
    server.stop();

    let info = citytwin::recording::info(&file).expect("recording reads");
    assert!(info.complete);
    assert!(info.snapshots >= 1);
    assert!(
        info.counts.get("/citytwin/delta").copied().unwrap_or(0) > 30,
        "{info:?}"
    );
    for (time, levels) in &seen {
        let rebuilt = citytwin::recording::state_at(&file, &city, *time).expect("rebuilds");
        assert_eq!(rebuilt.levels(), levels.as_slice(), "levels at {time}");
        assert_eq!(
            rebuilt.alarmed().collect::<Vec<_>>(),
            alarms_seen[time],
            "alarms at {time}"
        );
    }

    // Cut the file as a kill -9 would: it still opens up to its last chunk.
    let bytes = std::fs::read(&file).expect("read");
    let cut = temp_path("cut.mcap");
    std::fs::write(&cut, &bytes[..bytes.len() * 7 / 10]).expect("write");
    let cut_info = citytwin::recording::info(&cut).expect("a cut recording still opens");
    assert!(!cut_info.complete);
    let total = |i: &citytwin::recording::RecordingInfo| i.counts.values().sum::<u64>();
    assert!(total(&cut_info) > 0 && total(&cut_info) <= total(&info));
}

/// A sensor whose building lies outside district `code` (read from the DB).
fn engine_sensor_outside(
    city: &City,
    db: &std::path::Path,
    code: &str,
) -> citytwin::model::SensorId {
    let conn = rusqlite::Connection::open(db).expect("db");
    let mut stmt = conn
        .prepare("SELECT id, building FROM sensors ORDER BY id")
        .expect("query");
    let rows: Vec<(u32, u32)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .expect("rows")
        .collect::<Result<_, _>>()
        .expect("rows");
    let (sensor, _) = rows
        .into_iter()
        .find(|(_, b)| {
            city.districts[usize::from(city.buildings[*b as usize].district.0)].code != code
        })
        .expect("a sensor outside the district");
    citytwin::model::SensorId(sensor)
}

/// Stream time of the newest delta the cockpit applied.
fn last_time(cockpit: &Cockpit) -> i64 {
    cockpit.state.last_time_ms().expect("a delta was applied")
}
