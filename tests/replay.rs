//! Recordings as a timeline: a fast-forwarded scenario recorded with the
//! server's recorder, then seeks (forward, back, far) that must equal a
//! fresh replay from the start; KPIs from the recording that equal
//! `citytwin kpi --at` over the journal of the same run; clips; and cut,
//! corrupt and foreign files.

mod common;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use citytwin::backend::engine::Engine;
use citytwin::backend::fast_forward;
use citytwin::backend::scenario::Scenario;
use citytwin::live::LiveState;
use citytwin::model::{CaseId, City};
use citytwin::recording::{
    Cursor, Recording, RecordingError, apply_to, clip, replay_from_start, state_at,
};
use common::live::{small_city, temp_path as temp_in};

fn temp_path(name: &str) -> PathBuf {
    temp_in("replay", name)
}

/// The demo scenario on the small city: every kind of event, simulated
/// departments.
fn busy() -> Scenario {
    Scenario {
        sensors: 400,
        ..Scenario::embedded().expect("embedded scenario")
    }
}

/// `hours` of the busy scenario into a recording with snapshots every
/// `every_min` minutes; returns (city, file, span).
fn recorded(name: &str, hours: f64, every_min: i64) -> (Arc<City>, PathBuf, (i64, i64)) {
    let city = small_city();
    let file = temp_path(name);
    let engine = Engine::open(city.clone(), ":memory:", Some(busy())).expect("engine");
    let report =
        fast_forward::record_with(engine, hours, &file, every_min * 60_000).expect("records");
    assert!(report.deltas > 100 && report.cases_opened > 5, "{report:?}");
    (city, file, (report.start_ms, report.end_ms))
}

/// What must be equal after a seek: levels, alarms, open cases (with their
/// versions), KPIs, last seq.
#[derive(Debug, PartialEq)]
struct Fingerprint {
    levels: Vec<u8>,
    alarms: Vec<u32>,
    cases: Vec<(CaseId, u32)>,
    kpi: String,
    seq: Option<u64>,
}

fn fingerprint(state: &LiveState) -> Fingerprint {
    Fingerprint {
        levels: state.levels().iter().map(|l| *l as u8).collect(),
        alarms: state.alarmed().map(|b| b.0).collect(),
        cases: state.open_cases().map(|c| (c.id, c.version())).collect(),
        kpi: format!("{:?}", state.kpi()),
        seq: state.last_seq(),
    }
}

#[test]
fn any_seek_equals_a_fresh_replay_from_the_start() {
    let (city, file, (start, end)) = recorded("seek.mcap", 6.0, 30);
    let recording = Recording::open(&file).expect("opens");
    assert!(recording.is_complete());
    let snapshot_chunks = recording.chunks().iter().filter(|c| c.has_snapshot).count();
    assert!(
        snapshot_chunks >= 12,
        "a snapshot every 30 min: {snapshot_chunks}"
    );
    let mut cursor = Cursor::new(recording);
    let mut state = LiveState::new(&city);
    let span = end - start;
    // Forward in small steps, far jumps, back, exact snapshot times, past
    // both ends.
    let times = [
        start,
        start + 15_000,
        start + 60_000,
        start + span / 2,
        start + span / 2 + 45_000,
        start + span / 5,
        start + 30 * 60_000,
        start + 30 * 60_000 - 15_000,
        end,
        start + span * 7 / 8,
        end + 3_600_000,
        start - 3_600_000,
        start + span / 3,
        start + span / 3 + 20 * 60_000,
    ];
    let mut forward_without_seek = 0;
    let mut previous: Option<i64> = None;
    for t in times {
        let feed = cursor.advance_to(t, &mut |m| apply_to(&mut state, m));
        assert!(
            feed.problems.is_empty() && feed.errors.is_empty(),
            "{feed:?}"
        );
        assert_eq!(feed.skipped, 0);
        if previous.is_some_and(|p| t > p && t - p < 10 * 60_000) && !feed.seeked {
            forward_without_seek += 1;
        }
        if previous.is_some_and(|p| t < p) {
            assert!(feed.seeked, "going back to {t} seeks");
        }
        previous = Some(t);
        let fresh = replay_from_start(&file, &city, t).expect("full replay");
        assert_eq!(fingerprint(&state), fingerprint(&fresh), "state at {t}");
        if t < start {
            // Before the recording there is nothing to show: the timeline
            // clamps to its start; state_at says so.
            assert!(matches!(
                state_at(&file, &city, t),
                Err(RecordingError::NothingBefore { .. })
            ));
            continue;
        }
        let indexed = state_at(&file, &city, t).expect("state_at");
        assert_eq!(fingerprint(&indexed), fingerprint(&fresh), "state_at {t}");
    }
    assert!(
        forward_without_seek >= 2,
        "small forward steps continue without a seek"
    );
    // Something happened in the recording: the states differ over time.
    let a = replay_from_start(&file, &city, start).expect("start");
    let b = replay_from_start(&file, &city, end).expect("end");
    assert_ne!(fingerprint(&a), fingerprint(&b));
}

#[test]
fn a_clip_opens_on_its_own_and_equals_the_original_inside_its_range() {
    let (city, file, (start, end)) = recorded("clip-src.mcap", 4.0, 20);
    let (t0, t1) = (start + 65 * 60_000, end - 40 * 60_000);
    let out = temp_path("clip.mcap");
    let report = clip(&file, &city, t0, t1, &out).expect("clips");
    assert!(
        report.messages > 10 && report.problems.is_empty(),
        "{report:?}"
    );
    let clipped = Recording::open(&out).expect("the clip opens alone");
    assert!(clipped.is_complete());
    let (a, b) = clipped.span().expect("span");
    assert_eq!(a, t0, "it starts with the state at T0");
    assert!(b <= t1);
    for t in [t0, t0 + 7 * 60_000, (t0 + t1) / 2, t1] {
        let original = state_at(&file, &city, t).expect("original");
        let from_clip = state_at(&out, &city, t).expect("clip");
        assert_eq!(fingerprint(&from_clip), fingerprint(&original), "at {t}");
    }
    // Foxglove-style reading of the clip: a plain MCAP with citytwin topics.
    let bytes = std::fs::read(&out).expect("read");
    let topics: std::collections::BTreeSet<String> = mcap::MessageStream::new(&bytes)
        .expect("mcap")
        .map(|m| m.expect("message").channel.topic.clone())
        .collect();
    assert!(topics.contains("/citytwin/snapshot") && topics.contains("/citytwin/delta"));
}

fn cut(file: &Path, name: &str, keep: f64) -> PathBuf {
    let bytes = std::fs::read(file).expect("read");
    let out = temp_path(name);
    std::fs::write(&out, &bytes[..(bytes.len() as f64 * keep) as usize]).expect("write");
    out
}

#[test]
fn a_cut_recording_opens_to_its_last_complete_chunk() {
    let (city, file, (_, end)) = recorded("whole.mcap", 3.0, 15);
    let cut_file = cut(&file, "cut.mcap", 0.6);
    let recording = Recording::open(&cut_file).expect("a cut recording opens");
    assert!(!recording.is_complete());
    let (_, cut_end) = recording.span().expect("span");
    assert!(cut_end < end, "it ends earlier: {cut_end} < {end}");
    let info = recording.info().expect("info");
    assert!(info.snapshots >= 2, "{info:?}");
    // The state at its end equals the original's at that time.
    let from_cut = state_at(&cut_file, &city, cut_end).expect("state");
    let original = state_at(&file, &city, cut_end).expect("state");
    assert_eq!(fingerprint(&from_cut), fingerprint(&original));
    // `replay --info` says it was cut and where it ends, in CST.
    let out = citytwin_cli(&["replay", "--info", cut_file.to_str().expect("utf-8")]);
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8_lossy(&out.stdout);
    let ends = citytwin::time::format_cst(cut_end);
    assert!(text.contains("cut short") && text.contains(&ends), "{text}");
}

#[test]
fn a_corrupt_chunk_is_skipped_with_an_error_naming_it_and_the_rest_plays() {
    let (city, file, (_, end)) = recorded("flip.mcap", 3.0, 15);
    let recording = Recording::open(&file).expect("opens");
    // Flip bytes in the middle of a chunk a third of the way in.
    let victim = recording.chunks().len() / 3;
    let entry = recording.chunks()[victim];
    let mut bytes = std::fs::read(&file).expect("read");
    let at = (entry.offset + entry.length / 2) as usize;
    for b in &mut bytes[at..at + 16] {
        *b ^= 0x5a;
    }
    let flipped = temp_path("flipped.mcap");
    std::fs::write(&flipped, &bytes).expect("write");
    let mut cursor = Cursor::open(&flipped).expect("still opens");
    let mut state = LiveState::new(&city);
    // Play it through in one-minute steps, as the timeline does.
    let (start, _) = recording.span().expect("span");
    let mut problems = Vec::new();
    let mut t = start;
    while t <= end {
        let feed = cursor.advance_to(t, &mut |m| apply_to(&mut state, m));
        assert!(feed.errors.is_empty(), "{feed:?}");
        problems.extend(feed.problems);
        t += 60_000;
    }
    let feed = cursor.advance_to(end, &mut |m| apply_to(&mut state, m));
    problems.extend(feed.problems);
    assert_eq!(problems.len(), 1, "reported once: {problems:?}");
    let problem = &problems[0];
    assert!(
        problem.message.contains(&format!("chunk {victim}"))
            && problem.message.contains("flipped.mcap"),
        "{problem:?}"
    );
    assert_eq!(problem.chunk, Some(victim));
    // The rest plays: from the next snapshot on, the state is the original's.
    let original = state_at(&file, &city, end).expect("original");
    assert_eq!(fingerprint(&state), fingerprint(&original));
    // And a seek before the damage is untouched by it.
    let before = recording.chunks()[victim].start_ms - 1;
    let early = state_at(&flipped, &city, before).expect("before the damage");
    assert_eq!(
        fingerprint(&early),
        fingerprint(&state_at(&file, &city, before).expect("o"))
    );
    // `replay --info` names it too, and does not crash.
    let out = citytwin_cli(&["replay", "--info", flipped.to_str().expect("utf-8")]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains(&format!("chunk {victim}")));
}

fn citytwin_cli(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_citytwin"))
        .args(args)
        .output()
        .expect("citytwin runs")
}

#[test]
fn foreign_files_are_refused_with_the_reason() {
    let json = temp_path("day.json");
    std::fs::write(&json, br#"{"type":"FeatureCollection","features":[]}"#).expect("write");
    let png = temp_path("pic.png");
    std::fs::write(&png, b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR").expect("write");
    let empty = temp_path("empty.mcap");
    std::fs::write(&empty, b"").expect("write");
    for (file, says) in [
        (&json, "MCAP magic"),
        (&png, "MCAP magic"),
        (&empty, "empty"),
    ] {
        let err = Recording::open(file).err().expect("refused");
        assert!(matches!(err, RecordingError::NotMcap { .. }), "{err}");
        assert!(err.to_string().contains(says), "{err}");
        let out = citytwin_cli(&["replay", "--info", file.to_str().expect("utf-8")]);
        assert!(
            !out.status.success(),
            "replay --info must fail on {}",
            file.display()
        );
        let text = String::from_utf8_lossy(&out.stderr);
        assert!(text.contains("not an MCAP recording"), "{text}");
    }
    // An MCAP file of another profile, and one from a newer protocol.
    let ros = temp_path("ros.mcap");
    write_mcap(&ros, "ros2", "cdr");
    let err = Recording::open(&ros).err().expect("refused");
    assert!(matches!(err, RecordingError::NotCitytwin { .. }), "{err}");
    assert!(err.to_string().contains("ros2"), "{err}");
    let newer = temp_path("newer.mcap");
    write_mcap(&newer, "citytwin", "citytwin-frame-v9");
    let err = Recording::open(&newer).err().expect("refused");
    assert!(
        matches!(err, RecordingError::NewerVersion { found: 9, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("version 9"), "{err}");
}

fn write_mcap(path: &Path, profile: &str, encoding: &str) {
    let file = std::io::BufWriter::new(std::fs::File::create(path).expect("create"));
    let mut writer = mcap::WriteOptions::new()
        .profile(profile)
        .create(file)
        .expect("writer");
    let channel = writer
        .add_channel(0, "/citytwin/delta", encoding, &Default::default())
        .expect("channel");
    writer
        .write_to_known_channel(
            &mcap::records::MessageHeader {
                channel_id: channel,
                sequence: 1,
                log_time: 1,
                publish_time: 1,
            },
            b"\0\0\0\0",
        )
        .expect("message");
    writer.finish().expect("finish");
}

#[test]
fn kpis_from_the_recording_equal_citytwin_kpi_over_the_journal_of_the_same_run() {
    // The whole demo city, through the binary: record a few hours with a
    // journal, then ask `citytwin kpi --at` and compare with the recording.
    let file = temp_path("kpi.mcap");
    let db = temp_path("kpi.db");
    let out = citytwin_cli(&[
        "record",
        "--hours",
        "3",
        "--out",
        file.to_str().expect("utf-8"),
        "--db",
        db.to_str().expect("utf-8"),
    ]);
    assert!(out.status.success(), "{out:?}");
    let city =
        citytwin::geo::demo::generate(&citytwin::geo::demo::DemoScene::embedded().expect("scene"));
    for at in ["2026-11-24T09:00", "2026-11-24T10:00", "2026-11-24T10:45"] {
        let t = citytwin::time::parse_cst(at).expect("time");
        let state = state_at(&file, &city, t).expect("state");
        let out = citytwin_cli(&[
            "kpi",
            "--db",
            db.to_str().expect("utf-8"),
            "--at",
            at,
            "--csv",
        ]);
        assert!(out.status.success(), "{out:?}");
        let csv = String::from_utf8_lossy(&out.stdout);
        let city_row: Vec<&str> = csv
            .lines()
            .find(|l| l.starts_with("city,"))
            .expect("city row")
            .split(',')
            .collect();
        let k = state.kpi().city;
        assert_eq!(
            (city_row[2], city_row[3]),
            (
                k.received.to_string().as_str(),
                k.closed.to_string().as_str()
            ),
            "KPIs at {at}: {csv}"
        );
        for (i, d) in city.districts.iter().enumerate() {
            let row: Vec<&str> = csv
                .lines()
                .find(|l| l.starts_with(&format!("{},", d.code)))
                .expect("district row")
                .split(',')
                .collect();
            let k = state
                .kpi()
                .districts
                .get(&citytwin::model::DistrictId(i as u16))
                .copied()
                .unwrap_or_default();
            assert_eq!(row[2], k.received.to_string(), "{} at {at}", d.code);
        }
    }
}
