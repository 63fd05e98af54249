//! The cockpit applies the backend's stream exactly once, in order: a
//! duplicate is ignored, a gap asks for a snapshot, a bad snapshot changes
//! nothing.

use citytwin::cockpit::state::{Applied, ApplyError, CityState};
use citytwin::geo::demo::{DemoScene, generate};
use citytwin::model::{
    BuildingId, City, Event, EventId, EventKind, EventStatus, LevelCounts, RiskLevel,
};
use citytwin::protocol::{Change, Delta, Snapshot};

fn city() -> City {
    let mut scene = DemoScene::embedded().expect("embedded scene");
    scene.buildings = 500;
    scene.cell_m = 600.0;
    generate(&scene)
}

fn level(building: u32, level: RiskLevel) -> Change {
    Change::Level {
        building: BuildingId(building),
        level,
    }
}

fn delta(seq: u64, changes: Vec<Change>) -> Delta {
    Delta {
        seq,
        time_ms: seq as i64 * 1000,
        changes,
    }
}

fn fire_event(id: u64, status: EventStatus) -> Change {
    Change::Event(Event {
        id: EventId(id),
        kind: EventKind::FireMainPressureLost,
        building: Some(BuildingId(3)),
        hazard: None,
        camera: None,
        severity: RiskLevel::High,
        status,
        time_ms: 0,
        message: String::new(),
    })
}

#[test]
fn deltas_apply_once_and_in_order() {
    let city = city();
    let mut state = CityState::new(&city);
    let first = delta(11, vec![level(3, RiskLevel::High)]);
    assert_eq!(
        state.apply_delta(&first),
        Err(ApplyError::NoSnapshot { seq: 11 })
    );

    let mut snapshot = state.to_snapshot(0);
    snapshot.seq = 10;
    state.apply_snapshot(&snapshot).expect("snapshot applies");
    assert_eq!(state.last_seq(), Some(10));

    assert_eq!(state.apply_delta(&first), Ok(Applied::Applied));
    assert_eq!(state.level(BuildingId(3)), Some(RiskLevel::High));
    // The same delta again (a resend after reconnect) is not applied twice.
    state.set_level(BuildingId(3), RiskLevel::Low);
    assert_eq!(state.apply_delta(&first), Ok(Applied::Duplicate));
    assert_eq!(state.level(BuildingId(3)), Some(RiskLevel::Low));
    // A gap is refused and changes nothing.
    let later = delta(13, vec![level(4, RiskLevel::Major)]);
    let before = state.levels().to_vec();
    assert_eq!(
        state.apply_delta(&later),
        Err(ApplyError::Gap { last: 11, got: 13 })
    );
    assert_eq!(state.levels(), before.as_slice());
    assert_eq!(state.last_seq(), Some(11));

    // Alarms, events and unknown ids.
    let d12 = delta(
        12,
        vec![
            Change::Alarm {
                building: BuildingId(3),
                on: true,
            },
            fire_event(1, EventStatus::Open),
            fire_event(2, EventStatus::Open),
            level(999_999, RiskLevel::Major),
        ],
    );
    assert_eq!(state.apply_delta(&d12), Ok(Applied::Applied));
    assert!(state.is_alarmed(BuildingId(3)));
    assert_eq!(state.open_event_count(), 2);
    assert_eq!(state.unknown_ids(), 1);
    assert_eq!(
        state.apply_delta(&delta(13, vec![fire_event(1, EventStatus::Closed)])),
        Ok(Applied::Applied)
    );
    assert_eq!(state.open_event_count(), 1);
    assert_eq!(
        state.counts(),
        LevelCounts::from_levels(state.levels().iter().copied())
    );
}

#[test]
fn snapshots_round_trip_and_bad_ones_change_nothing() {
    let city = city();
    let mut live = CityState::new(&city);
    let first = Snapshot {
        seq: 1,
        ..live.to_snapshot(0)
    };
    live.apply_snapshot(&first).expect("applies");
    live.apply_delta(&delta(
        2,
        vec![level(0, RiskLevel::Major), fire_event(9, EventStatus::Open)],
    ))
    .expect("applies");
    live.set_alarm(BuildingId(5), true);

    // A late joiner rebuilt from the live state's snapshot equals it.
    let snapshot = live.to_snapshot(2000);
    let mut joiner = CityState::new(&city);
    joiner.apply_snapshot(&snapshot).expect("applies");
    assert_eq!(joiner.levels(), live.levels());
    assert_eq!(joiner.counts(), live.counts());
    assert!(joiner.is_alarmed(BuildingId(5)));
    assert_eq!(joiner.open_event_count(), 1);
    assert_eq!(joiner.last_seq(), Some(2));

    let mut short = snapshot.clone();
    short.levels.pop();
    let err = joiner.apply_snapshot(&short).expect_err("wrong size");
    assert!(matches!(err, ApplyError::SnapshotSize { .. }), "{err}");
    let mut bad = snapshot.clone();
    bad.levels[7] = 9;
    bad.seq = 50;
    assert_eq!(
        joiner.apply_snapshot(&bad),
        Err(ApplyError::BadLevel {
            seq: 50,
            index: 7,
            value: 9
        })
    );
    assert_eq!(
        joiner.last_seq(),
        Some(2),
        "a refused snapshot changes nothing"
    );
}
