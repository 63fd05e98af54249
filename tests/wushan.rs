//! The Wushan scenario end to end on a loopback server: creep, then
//! acceleration; the levels rise in order, the forecast converges, the
//! evacuation orders go out at 警报, all 182 residents are out before the
//! slope fails, the 24 houses collapse after it, and the case closes with
//! nobody hurt.

mod common;

use std::path::Path;
use std::sync::Arc;

use citytwin::backend::engine::Engine;
use citytwin::backend::scenario::Scenario;
use citytwin::backend::store::Store;
use citytwin::geo::demo::{DemoScene, generate};
use citytwin::model::{EvacuationStatus, EventKind, HazardId, WarningLevel};
use citytwin::protocol::Change;
use common::live::{TestClient, city_dispatcher_tokens, serve, temp_path};

#[test]
fn wushan_warns_level_by_level_evacuates_everyone_and_fails_with_no_casualties() {
    let mut scenario = Scenario::load(Path::new("scenes/scenario_wushan.ron")).expect("scenario");
    let scene_path = Path::new("scenes").join(scenario.scene.clone().expect("names its scene"));
    let city = Arc::new(generate(&DemoScene::load(&scene_path).expect("scene")));
    assert_eq!(city.hazards.len(), 1);
    let body = &city.hazards[0];
    let (length, width) = body.size_m();
    assert!(
        (900.0..1100.0).contains(&length) && (260.0..300.0).contains(&width),
        "{length} × {width}"
    );
    assert_eq!(body.threatened.len(), 24, "24 houses");
    assert_eq!(body.residents(), 182, "182 residents");

    // Same story, faster: 15 simulated minutes every 5 ms.
    scenario.tick_ms = 5;
    scenario.time_scale = 900_000.0 / 5.0;
    let start = scenario.start_time_ms;
    let failure_ms = start + 216 * 3_600_000;
    let db = temp_path("wushan", "wushan.db");
    let engine =
        Engine::open(city.clone(), &db.display().to_string(), Some(scenario)).expect("engine");
    let server = serve(
        engine,
        city_dispatcher_tokens("t"),
        ([127, 0, 0, 1], 0).into(),
        5,
        None,
    );
    let mut client = TestClient::connect_ready(&city, server.addr, "t");
    client.pump_until(120, "the slope fails and its case closes", |c| {
        let failed = c
            .state
            .hazard(HazardId(0))
            .is_some_and(|h| h.status.failed_ms.is_some());
        failed
            && c.state
                .open_cases()
                .all(|case| case.kind != EventKind::LandslideWarning)
    });
    server.stop();

    let cases: std::collections::BTreeSet<_> = client
        .deltas
        .iter()
        .flat_map(|d| &d.changes)
        .filter_map(|c| match c {
            Change::Case(case) if case.kind == EventKind::LandslideWarning => Some(case.id),
            _ => None,
        })
        .collect();
    assert_eq!(
        cases.len(),
        1,
        "one case for the warning, however high it rises"
    );
    let mut levels = Vec::new();
    let mut first_out: Vec<Option<i64>> = vec![None; 24];
    let mut alarm_at = None;
    let mut forecasts = Vec::new();
    for d in &client.deltas {
        for change in &d.changes {
            match change {
                Change::HazardLevel { level, .. } => {
                    levels.push(*level);
                    if *level == WarningLevel::Alarm {
                        alarm_at.get_or_insert(d.time_ms);
                    }
                }
                Change::Forecast {
                    forecast: Some(f), ..
                } => forecasts.push((d.time_ms, *f)),
                Change::Evacuation { index, status, .. } if status.is_out() => {
                    first_out[usize::from(*index)].get_or_insert(d.time_ms);
                }
                _ => {}
            }
        }
    }
    assert_eq!(
        levels,
        [
            WarningLevel::Attention,
            WarningLevel::Caution,
            WarningLevel::Alert,
            WarningLevel::Alarm
        ],
        "levels rise in order, without flapping"
    );
    let alarm_at = alarm_at.expect("警报");
    assert!(
        failure_ms - alarm_at > 12 * 3_600_000,
        "警报 {:.1} h before the failure",
        (failure_ms - alarm_at) as f64 / 3.6e6
    );
    // The forecast converged: its last estimate is within 10 % of the
    // time that was left when it was made.
    let (t, last) = forecasts.last().copied().expect("a forecast");
    assert!(
        ((last.failure_ms - failure_ms).abs() as f64) < 0.1 * (failure_ms - t) as f64 + 3.6e6,
        "last forecast {} vs failure {}",
        citytwin::time::format_cst(last.failure_ms),
        citytwin::time::format_cst(failure_ms)
    );
    // Everyone out before the failure.
    for (i, t) in first_out.iter().enumerate() {
        let t = t.unwrap_or_else(|| panic!("house {i} never evacuated"));
        assert!(
            t < failure_ms,
            "house {i} out only at {}",
            citytwin::time::format_cst(t)
        );
    }
    let live = client.state.hazard(HazardId(0)).expect("body");
    assert!(
        live.status
            .evacuation
            .iter()
            .all(|s| *s >= EvacuationStatus::Evacuated)
    );
    assert_eq!(live.status.casualties, Some(0));
    assert!(live.status.failed_ms.is_some_and(|t| t >= failure_ms));
    for t in &body.threatened {
        assert!(
            client.state.is_collapsed(t.building),
            "house {} collapsed",
            t.building.0
        );
    }
    // The orders went out at 警报 to the monitor, the street and all 24 houses.
    let store = Store::open_read_only(&db.display().to_string()).expect("store");
    let orders = store.outbox_for_hazard(HazardId(0)).expect("outbox");
    assert_eq!(orders.len(), 2 + 24, "{orders:?}");
    assert!(
        orders
            .iter()
            .all(|o| o.text.contains("警报级") && o.text.contains("182"))
    );
}

#[test]
fn a_replay_of_wushan_shows_the_whole_history_of_its_points() {
    let scenario = Scenario::load(Path::new("scenes/scenario_wushan.ron")).expect("scenario");
    let start = scenario.start_time_ms;
    let city = Arc::new(generate(
        &DemoScene::load(Path::new("scenes/demo_wushan.ron")).expect("scene"),
    ));
    let engine = Engine::open(city.clone(), ":memory:", Some(scenario)).expect("engine");
    let out = temp_path("wushan", "wushan.mcap");
    citytwin::backend::fast_forward::record(engine, 200.0, &out).expect("records");
    let at = start + 198 * 3_600_000;
    let state = citytwin::recording::state_at(&out, &city, at).expect("state");
    let live = state.hazard(HazardId(0)).expect("body");
    assert_eq!(live.status.level, WarningLevel::Alarm, "警报 by then");
    for (i, series) in live.series.iter().enumerate() {
        let first = series.front().expect("samples").time_ms();
        let last = series.back().expect("samples").time_ms();
        // Thinned to a sample a day before the last 48 h, full after.
        assert!(
            first <= start + 86_400_000,
            "point {i} starts at {}",
            citytwin::time::format_cst(first)
        );
        assert!(
            at - last <= 3_600_000,
            "point {i} ends at {}",
            citytwin::time::format_cst(last)
        );
        let recent = series
            .iter()
            .filter(|s| s.time_ms() > at - 48 * 3_600_000)
            .count();
        assert!(recent >= 47, "point {i}: {recent} samples in the last 48 h");
    }
}
