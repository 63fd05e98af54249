//! `citytwin serve` killed with SIGKILL mid-stream, then started again on
//! the same database: the cockpit's link resumes with no seq skipped or
//! applied twice and ends equal to the server's state; the recording cut by
//! the kill still opens up to its last complete chunk.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use citytwin::cockpit::link::{LinkConfig, SourceStatus, StreamEvent, spawn_link};
use citytwin::geo::demo::{DemoScene, generate};
use citytwin::live::{Applied, LiveState};
use citytwin::model::RiskLevel;
use citytwin::protocol::Message;

const TOKEN: &str = "kill-test-dispatcher";

fn temp_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("citytwin-kill-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr").port()
}

fn serve(port: u16, dir: &Path, scenario: Option<&Path>, record: Option<&Path>) -> Child {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_citytwin"));
    cmd.args([
        "serve",
        "--listen",
        &format!("127.0.0.1:{port}"),
        "--heartbeat-secs",
        "0.5",
    ])
    .arg("--db")
    .arg(dir.join("city.db"))
    .arg("--token-file")
    .arg(dir.join("tokens.toml"));
    match scenario {
        Some(s) => cmd.arg("--scenario").arg(s),
        None => cmd.arg("--no-scenario"),
    };
    if let Some(r) = record {
        cmd.arg("--record").arg(r);
    }
    cmd.stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("citytwin serve starts")
}

#[test]
fn sigkill_and_restart_on_the_same_db_loses_nothing() {
    let dir = temp_dir();
    std::fs::write(
        dir.join("tokens.toml"),
        format!("[[token]]\nname = \"test\"\ntoken = \"{TOKEN}\"\nrole = \"dispatcher\"\nscope = \"city\"\n"),
    )
    .expect("tokens");
    let scenario = dir.join("busy.ron");
    std::fs::write(
        &scenario,
        "Scenario(seed: 5, time_scale: 60.0, tick_ms: 20, start_time_ms: 1795478400000, sensors: 2000, \
         normal_mpa: (0.25, 0.45), report_share: 0.005, faults_per_hour: 2000.0, fault_minutes: (1.0, 4.0), \
         restore_after_s: 30)",
    )
    .expect("scenario");
    let record = dir.join("day.mcap");
    let city = generate(&DemoScene::embedded().expect("scene"));
    let port = free_port();

    let mut server = serve(port, &dir, Some(&scenario), Some(&record));
    let link = spawn_link(LinkConfig {
        addr: format!("127.0.0.1:{port}"),
        token: TOKEN.to_owned(),
        record: None,
    })
    .expect("link");
    let mut state = LiveState::new(&city);
    let mut applied: Vec<u64> = Vec::new();
    let mut status = SourceStatus::Connecting;
    let mut pump = |secs: u64,
                    what: &str,
                    state: &mut LiveState,
                    applied: &mut Vec<u64>,
                    done: &dyn Fn(&LiveState, &[u64], &SourceStatus) -> bool| {
        let deadline = Instant::now() + Duration::from_secs(secs);
        while !done(state, applied, &status) {
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what} ({status:?})"
            );
            match link.events.recv_timeout(Duration::from_millis(50)) {
                Ok(StreamEvent::Status(s)) => status = s,
                Ok(StreamEvent::Message(Message::Snapshot(s))) => {
                    state.apply_snapshot(&s).expect("snapshot");
                    applied.push(s.seq);
                }
                Ok(StreamEvent::Message(Message::Delta(d))) => {
                    assert_eq!(
                        state.apply_delta(&d),
                        Ok(Applied::Applied),
                        "delta {}",
                        d.seq
                    );
                    applied.push(d.seq);
                }
                _ => {}
            }
        }
    };

    // Stream for a while (long enough for the recorder to flush a chunk).
    let started = Instant::now();
    pump(
        60,
        "40 deltas and 3 s",
        &mut state,
        &mut applied,
        &|_, a, _| a.len() > 40 && started.elapsed() > Duration::from_secs(3),
    );
    server.kill().expect("SIGKILL");
    let _ = server.wait();
    pump(
        20,
        "the link noticing",
        &mut state,
        &mut applied,
        &|_, _, s| matches!(s, SourceStatus::Reconnecting { .. }),
    );

    let cut = citytwin::recording::info(&record).expect("a recording cut by SIGKILL still opens");
    assert!(!cut.complete);
    assert!(cut.counts.values().sum::<u64>() > 0, "{cut:?}");

    // Start again on the same DB: the link resumes where it was.
    let before = applied.len();
    let mut server = serve(port, &dir, Some(&scenario), None);
    pump(
        60,
        "30 more deltas",
        &mut state,
        &mut applied,
        &|_, a, _| a.len() > before + 30,
    );
    server.kill().expect("SIGKILL");
    let _ = server.wait();

    // A quiet server on the same DB: catch up to its head, then compare.
    let mut server = serve(port, &dir, None, None);
    let conn = rusqlite::Connection::open(dir.join("city.db")).expect("db");
    let head: i64 = conn
        .query_row("SELECT MAX(seq) FROM deltas", [], |r| r.get(0))
        .expect("head");
    pump(60, "the head", &mut state, &mut applied, &|s, _, st| {
        s.last_seq() == Some(head as u64) && matches!(st, SourceStatus::Connected { .. })
    });
    for pair in applied[1..].windows(2) {
        assert_eq!(pair[1], pair[0] + 1, "no seq skipped or repeated: {pair:?}");
    }
    let mut stmt = conn
        .prepare("SELECT level, alarm FROM buildings ORDER BY id")
        .expect("query");
    let rows: Vec<(u8, bool)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .expect("rows")
        .collect::<Result<_, _>>()
        .expect("rows");
    assert_eq!(rows.len(), state.len());
    for (i, (level, alarm)) in rows.iter().enumerate() {
        let id = citytwin::model::BuildingId(i as u32);
        assert_eq!(
            state.level(id).map(|l| l as u8),
            Some(*level),
            "building {i}"
        );
        assert_eq!(state.is_alarmed(id), *alarm, "building {i}");
    }
    assert!(state.levels().contains(&RiskLevel::High));
    server.kill().expect("SIGKILL");
    let _ = server.wait();
    link.stop();
}
