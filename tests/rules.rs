//! The fire-main rule end to end through the state stream: a 0 MPa reading
//! makes the building 较大 at once, alarms it and texts its three parties;
//! pressure held back for the configured time returns it to base. The deltas
//! the rules produce, applied by the cockpit's CityState, give the same state.

use std::collections::HashMap;

use citytwin::backend::rules::{PartyRole, Rules, RulesConfig};
use citytwin::backend::window::{DeltaWindow, Resume};
use citytwin::cockpit::state::{Applied, CityState};
use citytwin::geo::demo::{DemoScene, generate};
use citytwin::model::{BuildingId, City, RiskLevel, SensorId, SensorReading};
use citytwin::protocol::{Change, Delta};

fn city() -> City {
    let mut scene = DemoScene::embedded().expect("embedded scene");
    scene.buildings = 400;
    scene.cell_m = 600.0;
    generate(&scene)
}

fn reading(sensor: u32, value: f32, time_ms: i64) -> SensorReading {
    SensorReading {
        sensor: SensorId(sensor),
        value: citytwin::model::Measurement::PressureMpa(value),
        time_ms,
    }
}

#[test]
fn zero_pressure_raises_alarms_and_texts_the_three_parties_then_restores() {
    let city = city();
    // A green building, so the raise to 较大 is visible.
    let b = city
        .buildings
        .iter()
        .find(|b| b.base_level == RiskLevel::Low)
        .expect("a green building");
    let sensors = HashMap::from([(SensorId(1), b.id)]);
    let config = RulesConfig {
        restore_after_ms: 60_000,
    };
    let mut rules = Rules::new(&city, sensors, config);

    // Normal pressure: nothing but the reading itself.
    let out = rules.on_reading(&city, reading(1, 0.35, 0));
    assert_eq!(out.changes.len(), 1);
    assert!(out.notifications.is_empty());

    let out = rules.on_reading(&city, reading(1, 0.0, 1_000));
    assert_eq!(rules.level(b.id), Some(RiskLevel::High));
    assert!(out.changes.contains(&Change::Level {
        building: b.id,
        level: RiskLevel::High
    }));
    assert!(out.changes.contains(&Change::Alarm {
        building: b.id,
        on: true
    }));
    let phones: Vec<(PartyRole, &str)> = out
        .notifications
        .iter()
        .map(|n| (n.role, n.phone.as_str()))
        .collect();
    assert_eq!(
        phones,
        vec![
            (
                PartyRole::SafetyResponsible,
                b.parties.safety_responsible.phone.as_str()
            ),
            (
                PartyRole::SafetyManager,
                b.parties.safety_manager.phone.as_str()
            ),
            (PartyRole::Maintenance, b.parties.maintenance.phone.as_str()),
        ]
    );
    assert!(
        out.notifications
            .iter()
            .all(|n| n.time_ms == 1_000 && n.text.contains(&b.code))
    );

    // Still 0: no second round of texts.
    assert!(
        rules
            .on_reading(&city, reading(1, 0.0, 2_000))
            .notifications
            .is_empty()
    );
    // Restored, but not yet long enough; a dip back to 0 restarts the clock.
    rules.on_reading(&city, reading(1, 0.3, 10_000));
    assert!(rules.on_tick(&city, 50_000).is_empty());
    rules.on_reading(&city, reading(1, 0.0, 55_000));
    rules.on_reading(&city, reading(1, 0.3, 60_000));
    assert!(rules.on_tick(&city, 100_000).is_empty());
    let out = rules.on_tick(&city, 120_000);
    assert!(out.changes.contains(&Change::Level {
        building: b.id,
        level: RiskLevel::Low
    }));
    assert!(!rules.is_alarmed(b.id));
    assert_eq!(rules.level(b.id), Some(RiskLevel::Low));
}

#[test]
fn a_major_building_stays_major_and_unknown_sensors_change_nothing() {
    let mut city = city();
    city.buildings[0].base_level = RiskLevel::Major;
    let major = &city.buildings[0];
    let mut rules = Rules::new(
        &city,
        HashMap::from([(SensorId(9), major.id)]),
        RulesConfig::default(),
    );
    let out = rules.on_reading(&city, reading(9, 0.0, 0));
    assert_eq!(rules.level(major.id), Some(RiskLevel::Major));
    assert!(
        !out.changes
            .iter()
            .any(|c| matches!(c, Change::Level { .. }))
    );
    assert_eq!(out.notifications.len(), 3);
    assert!(rules.on_reading(&city, reading(77, 0.0, 0)).is_empty());
}

#[test]
fn rules_deltas_replayed_through_the_window_rebuild_the_same_state() {
    let city = city();
    let sensors: HashMap<SensorId, BuildingId> = (0..50u32)
        .map(|i| (SensorId(i), BuildingId(i * 7)))
        .collect();
    let mut rules = Rules::new(
        &city,
        sensors,
        RulesConfig {
            restore_after_ms: 3_000,
        },
    );
    let mut live = CityState::new(&city);
    let base = live.to_snapshot(0);
    live.apply_snapshot(&base).expect("seq 0");
    let mut window = DeltaWindow::new(10_000, 0);
    // A scripted minute: sensors drop to 0 and recover at different times.
    for t in 0..60i64 {
        let seq = t as u64 + 1;
        let now = t * 1_000;
        let mut changes = Vec::new();
        for s in 0..50u32 {
            let down = (t + i64::from(s)) % 17 < 4;
            changes.extend(
                rules
                    .on_reading(&city, reading(s, if down { 0.0 } else { 0.3 }, now))
                    .changes,
            );
        }
        changes.extend(rules.on_tick(&city, now).changes);
        let delta = Delta {
            seq,
            time_ms: now,
            changes,
        };
        assert_eq!(live.apply_delta(&delta), Ok(Applied::Applied));
        window.push(delta).expect("in order");
    }
    // The cockpit's state matches the rules' view of every building.
    for b in &city.buildings {
        assert_eq!(live.level(b.id), rules.level(b.id), "{}", b.code);
        assert_eq!(live.is_alarmed(b.id), rules.is_alarmed(b.id), "{}", b.code);
    }
    // A client that stopped at seq 20 resumes to exactly the same state.
    let mut late = CityState::new(&city);
    let base = late.to_snapshot(0);
    late.apply_snapshot(&base).expect("seq 0");
    let Resume::Deltas(first) = window.resume_from(0) else {
        panic!("window holds all")
    };
    for d in first.iter().take(20) {
        late.apply_delta(d).expect("in order");
    }
    let Resume::Deltas(rest) = window.resume_from(late.last_seq().expect("seq")) else {
        panic!("resume")
    };
    assert_eq!(rest.first().map(|d| d.seq), Some(21));
    for d in &rest {
        late.apply_delta(d).expect("in order");
    }
    // Replaying the overlap again is harmless.
    for d in &rest {
        assert_eq!(late.apply_delta(d), Ok(Applied::Duplicate));
    }
    assert_eq!(late.levels(), live.levels());
    assert_eq!(late.counts(), live.counts());
    assert_eq!(late.last_seq(), live.last_seq());
}
