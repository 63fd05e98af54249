//! The closed loop over the protocol: a fire-main alarm registers a case; a
//! dispatcher drives it register → dispatch → handle → verify → close; a
//! viewer or an out-of-scope dispatcher is refused and audited; an overdue
//! case escalates exactly once per level. Every step lands in SQLite.

mod common;

use std::time::Duration;

use citytwin::backend::dispatch::DispatchRules;
use citytwin::backend::engine::Engine;
use citytwin::backend::scenario::Scenario;
use citytwin::backend::server::BackendThread;
use citytwin::backend::tokens::{Grant, Tokens};
use citytwin::model::{BuildingId, CaseAction, CaseLevel, CaseStatus, City, EventKind, SensorId};
use citytwin::protocol::{CommandKind, Refusal, Role, Scope};
use common::live::{TestClient, quiet_scenario, small_city as city, temp_path, zero};

fn scenario(time_scale: f64) -> Scenario {
    quiet_scenario(time_scale, 600)
}

fn grant(name: &str, role: Role, scope: Scope) -> Grant {
    Grant {
        name: name.to_owned(),
        role,
        scope,
    }
}

fn serve(engine: Engine) -> BackendThread {
    let mut tokens = Tokens::default();
    tokens.insert(
        "city-dispatcher",
        grant("市指挥中心", Role::Dispatcher, Scope::City),
    );
    tokens.insert("city-viewer-01", grant("大屏", Role::Viewer, Scope::City));
    tokens.insert(
        "yuzhong-dispatch",
        grant(
            "渝中区指挥中心",
            Role::Dispatcher,
            Scope::District("500103".into()),
        ),
    );
    common::live::serve(engine, tokens, ([127, 0, 0, 1], 0).into(), 50, None)
}

fn sensor_where(engine: &Engine, city: &City, inside_yuzhong: bool) -> (SensorId, BuildingId) {
    let mut sensors: Vec<(SensorId, BuildingId)> =
        engine.sensors().iter().map(|(s, b)| (*s, *b)).collect();
    sensors.sort();
    sensors
        .into_iter()
        .find(|(_, b)| {
            (city.districts[usize::from(city.buildings[b.index()].district.0)].code == "500103")
                == inside_yuzhong
        })
        .expect("a sensor in the wanted district")
}

/// An engine whose only rule is the fire main's, with short deadlines, on a
/// quiet scenario where one real second is one simulated minute.
fn fire_engine(
    city: &std::sync::Arc<City>,
    db: &std::path::Path,
    deadline_min: i64,
    grace_min: i64,
) -> Engine {
    let rules = DispatchRules::parse(
        &format!(
            "DispatchRules(escalation_grace_min: {grace_min}, rules: [(event: FireMainPressureLost, \
             name_zh: \"消防\", departments: [Fixed(\"消防救援支队\")], deadline_min: {deadline_min})])"
        ),
        "test rules",
    )
    .expect("rules");
    Engine::open(
        city.clone(),
        &db.display().to_string(),
        Some(scenario(60.0)),
    )
    .expect("engine")
    .with_dispatch_rules(rules)
}

fn db_path(name: &str) -> std::path::PathBuf {
    temp_path("cases", name)
}

#[test]
fn a_case_runs_the_closed_loop_and_every_step_is_journaled() {
    let city = city();
    let db = db_path("loop.db");
    let engine =
        Engine::open(city.clone(), &db.display().to_string(), Some(scenario(1.0))).expect("engine");
    let (sensor, building) = sensor_where(&engine, &city, true);
    let server = serve(engine);
    let mut ops = TestClient::connect_ready(&city, server.addr, "city-dispatcher");

    assert_eq!(ops.command(zero(sensor)), Ok(()));
    ops.pump_until(5, "a registered case", |c| c.case_for(building).is_some());
    let case = ops.case_for(building).expect("case");
    assert_eq!(case.status, CaseStatus::Registered);
    assert_eq!(
        case.deadline_ms - case.opened_ms,
        240 * 60_000,
        "fire-main cases are due in 4 h"
    );

    let b = &city.buildings[building.index()];
    let departments = DispatchRules::embedded().expect("rules").suggest(
        case.kind,
        Some(b),
        city.streets.get(usize::from(b.street.0)),
    );
    assert_eq!(departments[0], "消防救援支队");
    assert_eq!(
        case.suggested, departments,
        "the backend sends its suggestion with the case"
    );
    let steps = [
        (
            CaseAction::Dispatch {
                departments: departments.clone(),
            },
            CaseStatus::Dispatched,
        ),
        (CaseAction::Acknowledge, CaseStatus::Handling),
        (CaseAction::Submit, CaseStatus::Verifying),
        (CaseAction::Verify { passed: true }, CaseStatus::Verifying),
    ];
    for (i, (action, status)) in steps.into_iter().enumerate() {
        assert_eq!(ops.step(case.id, action.clone()), Ok(()), "{action:?}");
        ops.pump_until(5, "the step", |c| {
            c.case_for(building).is_some_and(|k| k.status == status)
        });
        if i == 0 {
            // A step issued against the case as it was before the dispatch
            // is stale: refused, naming who moved it on and when.
            let refusal = ops
                .command(CommandKind::Case {
                    case: case.id,
                    action: CaseAction::Dispatch {
                        departments: departments.clone(),
                    },
                    version: 0,
                })
                .expect_err("stale");
            let now = ops.case_for(building).expect("case");
            let last = now.steps.last().expect("dispatched");
            assert_eq!(
                refusal,
                Refusal::Stale {
                    case: case.id.0,
                    seen: 0,
                    now: 1,
                    actor: last.actor.clone(),
                    department: None,
                    step: last.action.clone(),
                    at_ms: last.time_ms,
                }
            );
            let text = refusal.to_string();
            assert!(
                text.contains(&format!("已由 {}", last.actor))
                    && text.contains(&citytwin::time::clock_cst(last.time_ms))
                    && text.contains("派遣"),
                "{text}"
            );
        }
    }
    assert_eq!(ops.step(case.id, CaseAction::Close), Ok(()));
    ops.pump_until(5, "the case closed", |c| c.case_for(building).is_none());
    // Closing again is refused: it is no longer open.
    assert!(ops.step(case.id, CaseAction::Close).is_err());

    let conn = rusqlite::Connection::open(&db).expect("db");
    let (status, closed): (String, Option<i64>) = conn
        .query_row(
            "SELECT status, closed_ms FROM cases WHERE id = ?1",
            [case.id.0 as i64],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .expect("case row");
    assert_eq!(status, "Closed");
    assert!(closed.is_some());
    let steps: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM case_steps WHERE case_id = ?1",
            [case.id.0 as i64],
            |r| r.get(0),
        )
        .expect("steps");
    assert_eq!(steps, 5);
    let departments_row: String = conn
        .query_row(
            "SELECT departments FROM cases WHERE id = ?1",
            [case.id.0 as i64],
            |r| r.get(0),
        )
        .expect("departments");
    assert!(departments_row.starts_with("消防救援支队,"));
    ops.link.stop();
    server.stop();
}

#[test]
fn viewers_and_out_of_scope_dispatchers_are_refused_and_audited() {
    let city = city();
    let db = db_path("auth.db");
    let engine =
        Engine::open(city.clone(), &db.display().to_string(), Some(scenario(1.0))).expect("engine");
    let (sensor, building) = sensor_where(&engine, &city, false);
    let server = serve(engine);
    let mut ops = TestClient::connect_ready(&city, server.addr, "city-dispatcher");
    ops.command(zero(sensor)).expect("inject");
    ops.pump_until(5, "a case", |c| c.case_for(building).is_some());
    let case = ops.case_for(building).expect("case");
    let dispatch = CommandKind::Case {
        case: case.id,
        action: CaseAction::Dispatch {
            departments: vec!["消防救援支队".into()],
        },
        version: case.version(),
    };

    let mut viewer = TestClient::connect_ready(&city, server.addr, "city-viewer-01");
    let reason = viewer
        .command(dispatch.clone())
        .expect_err("viewer refused");
    assert_eq!(reason, Refusal::NotDispatcher);
    assert!(reason.to_string().contains("dispatcher"), "{reason}");
    let mut yuzhong = TestClient::connect_ready(&city, server.addr, "yuzhong-dispatch");
    let reason = yuzhong.command(dispatch.clone()).expect_err("out of scope");
    assert!(matches!(reason, Refusal::OutOfScope { .. }), "{reason}");
    assert!(reason.to_string().contains("scope"), "{reason}");
    let reason = ops
        .step(case.id, CaseAction::Close)
        .expect_err("cannot close a registered case");
    assert!(reason.to_string().contains("cannot close"), "{reason}");
    // Nothing changed the case.
    ops.pump_until(1, "quiet", |_| true);
    assert_eq!(
        ops.case_for(building).map(|c| c.status),
        Some(CaseStatus::Registered)
    );

    let conn = rusqlite::Connection::open(&db).expect("db");
    let refused: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM audit WHERE action = 'case' AND detail NOT LIKE '%→ ok'",
            [],
            |r| r.get(0),
        )
        .expect("audit");
    assert_eq!(refused, 3);
    for c in [ops, viewer, yuzhong] {
        c.link.stop();
    }
    server.stop();
}

#[test]
fn an_overdue_case_escalates_exactly_once_per_level() {
    let city = city();
    let db = db_path("escalate.db");
    // One real second is one simulated minute.
    let engine = fire_engine(&city, &db, 1, 10);
    let (sensor, building) = sensor_where(&engine, &city, true);
    let server = serve(engine);
    let mut ops = TestClient::connect_ready(&city, server.addr, "city-dispatcher");
    ops.command(zero(sensor)).expect("inject");
    ops.pump_until(5, "escalated to the district", |c| {
        c.case_for(building)
            .is_some_and(|k| k.level == CaseLevel::District)
    });
    // Several more ticks (≈ 3 simulated minutes, within the 10-minute grace).
    std::thread::sleep(Duration::from_secs(3));
    ops.pump_until(2, "the stream", |_| true);
    let case = ops.case_for(building).expect("still open");
    assert_eq!(case.level, CaseLevel::District);
    let escalations = case
        .steps
        .iter()
        .filter(|s| matches!(s.action, CaseAction::Escalate { .. }))
        .count();
    assert_eq!(escalations, 1, "{:?}", case.steps);
    let conn = rusqlite::Connection::open(&db).expect("db");
    let rows: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM case_steps WHERE action LIKE 'Escalate%'",
            [],
            |r| r.get(0),
        )
        .expect("rows");
    assert_eq!(rows, 1);
    ops.link.stop();
    server.stop();
}

fn close_loop(ops: &mut TestClient, case: citytwin::model::CaseId) {
    for action in [
        CaseAction::Dispatch {
            departments: vec!["消防救援支队".into()],
        },
        CaseAction::Acknowledge,
        CaseAction::Submit,
        CaseAction::Verify { passed: true },
        CaseAction::Close,
    ] {
        assert_eq!(ops.step(case, action.clone()), Ok(()), "{action:?}");
    }
}

#[test]
fn kpis_recomputed_from_the_journal_match_the_live_values_at_any_time() {
    let city = city();
    let db = db_path("kpi.db");
    // One real second is one simulated minute.
    let engine = fire_engine(&city, &db, 2, 30);
    let mut sensors: Vec<(SensorId, BuildingId)> =
        engine.sensors().iter().map(|(s, b)| (*s, *b)).collect();
    sensors.sort();
    let server = serve(engine);
    let mut ops = TestClient::connect_ready(&city, server.addr, "city-dispatcher");
    let mut checkpoints = Vec::new();

    for (sensor, _) in &sensors[..4] {
        ops.command(zero(*sensor)).expect("inject");
    }
    ops.settle(300);
    checkpoints.push((
        ops.state.last_time_ms().expect("time"),
        ops.state.kpi().clone(),
    ));
    let case_of = |ops: &TestClient, i: usize| ops.case_for(sensors[i].1).expect("case").id;

    let first = case_of(&ops, 0);
    close_loop(&mut ops, first);
    ops.settle(300);
    checkpoints.push((
        ops.state.last_time_ms().expect("time"),
        ops.state.kpi().clone(),
    ));

    // Past the 2-minute due time (1 real s = 1 simulated min), then close.
    std::thread::sleep(Duration::from_millis(2500));
    ops.settle(300);
    let second = case_of(&ops, 1);
    close_loop(&mut ops, second);
    ops.settle(300);
    let (t, live) = (
        ops.state.last_time_ms().expect("time"),
        ops.state.kpi().clone(),
    );
    checkpoints.push((t, live.clone()));

    assert_eq!(live.city.received, 4);
    assert_eq!(live.city.closed, 2);
    assert_eq!(live.city.closed_on_time, 1, "the second was closed late");
    assert!((live.city.closure_rate() - 0.5).abs() < 1e-9);

    let store = citytwin::backend::store::Store::open(
        &db.display().to_string(),
        &city,
        &std::collections::HashMap::new(),
    )
    .expect("store");
    for (t, live) in &checkpoints {
        assert_eq!(&store.kpi_at(*t).expect("kpi"), live, "KPIs at {t}");
    }
    // And before anything happened, nothing was received.
    assert_eq!(
        store
            .kpi_at(checkpoints[0].0 - 60_000)
            .expect("kpi")
            .city
            .received,
        0
    );
    ops.link.stop();
    server.stop();
}

#[test]
fn a_simulated_day_closes_most_cases_and_live_kpis_equal_the_sql() {
    use citytwin::backend::scenario::{IncidentSim, WorkflowSim};
    // An AI camera at a building site: muck trucks are seen by it.
    let mut with_camera = (*city()).clone();
    with_camera.cameras = vec![citytwin::model::Camera {
        id: citytwin::model::CameraId(0),
        code: "CAM-1".to_owned(),
        name: "工地 1".to_owned(),
        kind: citytwin::model::CameraKind::Site,
        position_m: with_camera.buildings[0].centre_m(),
        height_m: 10.0,
        heading_deg: 0.0,
        fov_deg: 60.0,
        range_m: 200.0,
        url: String::new(),
        sub_url: None,
        ai: true,
        unit: None,
    }];
    let city = std::sync::Arc::new(with_camera);
    let db = db_path("day.db");
    let day = Scenario {
        // One tick is one simulated minute; 1,440 ticks are a day.
        tick_ms: 1000,
        time_scale: 60.0,
        faults_per_hour: 12.0,
        restore_after_s: 180,
        workflow: Some(WorkflowSim {
            dispatch_min: (1.0, 6.0),
            acknowledge_min: (2.0, 12.0),
            handle_min: (20.0, 240.0),
            verify_min: (3.0, 15.0),
            fail_share: 0.1,
        }),
        incidents: Some(IncidentSim {
            muck_trucks_per_hour: 3.0,
            grid_reports_per_hour: 6.0,
        }),
        // The demo's slopes: some accelerate to 警戒 and 警报 within the day.
        hazards: Scenario::embedded().expect("demo scenario").hazards,
        ..scenario(60.0)
    };
    let mut engine =
        Engine::open(city.clone(), &db.display().to_string(), Some(day)).expect("engine");
    let mut seqs = Vec::new();
    let mut hourly = Vec::new();
    for minute in 1..=1440 {
        if let Some(delta) = engine.tick().expect("tick") {
            seqs.push(delta.seq);
        }
        if minute % 180 == 0 {
            hourly.push((engine.now_ms(), engine.live().kpi().clone()));
        }
    }
    // One delta per tick at most, in sequence: nothing published twice or skipped.
    for pair in seqs.windows(2) {
        assert_eq!(pair[1], pair[0] + 1);
    }
    let live = engine.live().kpi().clone();
    println!(
        "simulated day: {} received, {} closed ({:.1} %), {:.1} % on time",
        live.city.received,
        live.city.closed,
        100.0 * live.city.closure_rate(),
        100.0 * live.city.on_time_rate()
    );
    assert!(live.city.received > 150, "{:?}", live.city);
    assert!(
        live.city.closure_rate() > 0.75,
        "most cases close: {:?}",
        live.city
    );
    assert!(
        live.city.on_time_rate() > 0.5,
        "most close on time: {:?}",
        live.city
    );
    assert!(
        live.city.on_time_rate() < 1.0,
        "some run late: {:?}",
        live.city
    );
    let now = engine.now_ms();
    assert_eq!(engine.store().kpi_at(now).expect("kpi"), live);
    // The bucketed journal query equals the live values and a full scan at
    // every checkpoint, including ones inside a day.
    for (t, at_t) in &hourly {
        assert_eq!(&engine.store().kpi_at(*t).expect("kpi"), at_t, "at {t}");
        assert_eq!(
            &engine.store().kpi_at_scan(*t).expect("scan"),
            at_t,
            "at {t}"
        );
    }
    // Every kind of event came in, and each kind got its own departments.
    for (kind, department) in [
        ("FireMainPressureLost", "消防救援支队"),
        ("MuckTruck", "城管局,住建委"),
        ("GridReport", "办事处"),
        ("LandslideWarning", "应急管理局,规划和自然资源局"),
    ] {
        let n = engine
            .store()
            .query_i64(&format!(
                "SELECT COUNT(*) FROM cases WHERE kind = '{kind}' AND departments LIKE '%{department}%'"
            ))
            .expect("count");
        assert!(n > 0, "{kind} cases dispatched to {department}");
    }
    // A muck-truck, grid or landslide event closes with its case.
    let stale = engine
        .store()
        .query_i64(
            "SELECT COUNT(*) FROM cases c JOIN events e ON e.id = c.event
             WHERE c.status = 'Closed' AND e.status = 'open' AND c.kind != 'FireMainPressureLost'",
        )
        .expect("count");
    assert_eq!(stale, 0, "closed cases leave no open event behind");
    // The closure rate straight from SQL.
    let received = engine
        .store()
        .query_i64("SELECT COUNT(*) FROM cases")
        .expect("count");
    let closed = engine
        .store()
        .query_i64("SELECT COUNT(*) FROM cases WHERE status = 'Closed'")
        .expect("count");
    assert!((closed as f64 / received as f64 - live.city.closure_rate()).abs() < 1e-12);
    let escalated = engine
        .store()
        .query_i64("SELECT COUNT(DISTINCT case_id) FROM case_steps WHERE action LIKE 'Escalate%'")
        .expect("count");
    assert!(escalated > 0, "late cases escalate");
}

#[test]
fn imported_data_gets_only_the_events_it_has_the_things_for() {
    use citytwin::backend::scenario::{Scenario, Simulator};
    use citytwin::geo::assemble::city_from_import;
    use citytwin::geo::geojson::{ImportOptions, import_str};
    // Flat ground, two buildings with their own codes, no camera, no body.
    let text = r#"{"type":"FeatureCollection","features":[
      {"type":"Feature","properties":{"code":"SH-001","height":80},"geometry":{"type":"Polygon","coordinates":[[[121.49,31.24],[121.4904,31.24],[121.4904,31.2404],[121.49,31.24]]]}},
      {"type":"Feature","properties":{"osm_id":42,"osm_type":"way"},"geometry":{"type":"Polygon","coordinates":[[[121.491,31.24],[121.4914,31.24],[121.4914,31.2404],[121.491,31.24]]]}}
    ]}"#;
    let report = import_str(text, "flat", &ImportOptions::default()).expect("import");
    let city = city_from_import(&report, None, "flat");
    assert_eq!(
        city.buildings
            .iter()
            .map(|b| b.code.as_str())
            .collect::<Vec<_>>(),
        ["SH-001", "OSM-w42"],
        "codes from the data, not B-000…"
    );
    let scenario = Scenario::embedded().expect("demo scenario");
    assert!(scenario.incidents.is_some() && scenario.hazards.is_some());
    let mut sim = Simulator::new(scenario, city.buildings.len());
    let plan = sim.plan_for(&city);
    assert!(
        plan.iter()
            .any(|l| l.starts_with("muck-truck detections: off — the city has no AI camera")),
        "{plan:?}"
    );
    assert!(
        plan.iter()
            .any(|l| l.starts_with("landslide monitoring: off — the city has no hazard body")),
        "{plan:?}"
    );
    // A simulated day: grid reports, but no muck truck without a camera and
    // no slope reading without a body.
    let (mut grid, mut trucks, mut readings) = (0, 0, 0);
    let minute = 60_000;
    let start = sim.scenario().start_time_ms;
    for k in 1..=1440 {
        for incident in sim.incidents(&city, minute) {
            match incident.kind {
                EventKind::GridReport => grid += 1,
                EventKind::MuckTruck => trucks += 1,
                _ => {}
            }
        }
        readings += sim.hazard_readings(&city, start + k * minute, minute).len();
    }
    assert!(grid > 10, "{grid} grid reports in a day");
    assert_eq!((trucks, readings), (0, 0));
}
