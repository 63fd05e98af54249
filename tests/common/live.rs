//! Helpers for tests that run a backend and a cockpit link over loopback.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use citytwin::backend::engine::Engine;
use citytwin::backend::scenario::Scenario;
use citytwin::backend::server::{BackendThread, ServerConfig};
use citytwin::backend::tokens::Tokens;
use citytwin::cockpit::link::{
    LinkConfig, LinkHandle, SourceRequest, SourceStatus, StreamEvent, spawn_link,
};
use citytwin::geo::demo::{DemoScene, generate};
use citytwin::live::{Applied, LiveState};
use citytwin::model::{BuildingId, Case, CaseAction, CaseId, City, SensorId, SensorReading};
use citytwin::protocol::{Command, CommandKind, CommandResult, Message, Refusal};

/// The demo city with 2,000 buildings (fast to generate and seed).
pub fn small_city() -> Arc<City> {
    let mut scene = DemoScene::embedded().expect("embedded scene");
    scene.buildings = 2_000;
    scene.cell_m = 500.0;
    Arc::new(generate(&scene))
}

/// A fresh path in this test process's temp folder.
pub fn temp_path(group: &str, name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("citytwin-{group}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join(name);
    let _ = std::fs::remove_file(&path);
    path
}

/// No faults, no routine reports, no simulated people: the state changes
/// only through commands.
pub fn quiet_scenario(time_scale: f64, restore_after_s: i64) -> Scenario {
    Scenario {
        seed: 1,
        time_scale,
        tick_ms: 50,
        start_time_ms: 1_795_478_400_000,
        sensors: 300,
        normal_mpa: (0.3, 0.4),
        report_share: 0.0,
        faults_per_hour: 0.0,
        fault_minutes: (1.0, 2.0),
        restore_after_s,
        workflow: None,
        incidents: None,
        hazards: None,
        scene: None,
    }
}

/// Tokens with one city-wide dispatcher, 市指挥中心, under `token`.
pub fn city_dispatcher_tokens(token: &str) -> Tokens {
    let mut tokens = Tokens::default();
    tokens.insert(
        token,
        citytwin::backend::tokens::Grant {
            name: "市指挥中心".into(),
            role: citytwin::protocol::Role::Dispatcher,
            scope: citytwin::protocol::Scope::City,
        },
    );
    tokens
}

pub fn zero(sensor: SensorId) -> CommandKind {
    CommandKind::InjectReading(SensorReading::pressure(sensor, 0.0, 0))
}

pub fn serve(
    engine: Engine,
    tokens: Tokens,
    listen: std::net::SocketAddr,
    tick_ms: u64,
    record: Option<PathBuf>,
) -> BackendThread {
    BackendThread::spawn(
        engine,
        ServerConfig {
            listen,
            tokens,
            tick: Duration::from_millis(tick_ms),
            heartbeat: Duration::from_millis(500),
            record,
            feed: None,
        },
    )
    .expect("server starts")
}

/// The cockpit side of a test: a real link thread and the state it feeds,
/// applied as the ingest system would, with every applied seq kept.
pub struct TestClient {
    pub link: LinkHandle,
    pub state: LiveState,
    pub status: SourceStatus,
    pub applied: Vec<u64>,
    pub results: Vec<CommandResult>,
    /// Every delta applied, in order (tests read the history from it).
    pub deltas: Vec<citytwin::protocol::Delta>,
    next_id: u64,
}

impl TestClient {
    pub fn connect(city: &City, addr: std::net::SocketAddr, token: &str) -> TestClient {
        let link = spawn_link(LinkConfig {
            addr: addr.to_string(),
            token: token.to_owned(),
            record: None,
        })
        .expect("link starts");
        TestClient {
            link,
            state: LiveState::new(city),
            status: SourceStatus::Connecting,
            applied: Vec::new(),
            results: Vec::new(),
            deltas: Vec::new(),
            next_id: 1,
        }
    }

    /// Connects and waits for the first state.
    pub fn connect_ready(city: &City, addr: std::net::SocketAddr, token: &str) -> TestClient {
        let mut c = TestClient::connect(city, addr, token);
        c.pump_until(10, "connected", TestClient::connected);
        c
    }

    fn handle(&mut self, event: StreamEvent) -> bool {
        match event {
            StreamEvent::Status(s) => self.status = s,
            StreamEvent::Message(Message::Snapshot(s)) => {
                self.state.apply_snapshot(&s).expect("snapshot applies");
                self.applied.push(s.seq);
            }
            StreamEvent::Message(Message::Delta(d)) => {
                let applied = self.state.apply_delta(&d).expect("delta follows");
                assert_eq!(applied, Applied::Applied, "delta {} applied twice", d.seq);
                self.applied.push(d.seq);
                self.deltas.push(d);
                return true;
            }
            StreamEvent::Message(Message::CommandResult(r)) => self.results.push(r),
            StreamEvent::Message(_) => {}
        }
        false
    }

    /// Applies what arrives until `done` holds (panics after `secs`).
    pub fn pump_until(&mut self, secs: u64, what: &str, done: impl Fn(&TestClient) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(secs);
        while !done(self) {
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}; status {:?}",
                self.status
            );
            if let Ok(event) = self.link.events.recv_timeout(Duration::from_millis(50)) {
                self.handle(event);
            }
        }
    }

    /// Applies the stream until no delta has come for `quiet_ms`.
    pub fn settle(&mut self, quiet_ms: u64) {
        let mut last = Instant::now();
        while last.elapsed() < Duration::from_millis(quiet_ms) {
            if let Ok(event) = self.link.events.recv_timeout(Duration::from_millis(20))
                && self.handle(event)
            {
                last = Instant::now();
            }
        }
    }

    /// Sends a command and waits for its result.
    pub fn command(&mut self, kind: CommandKind) -> Result<(), Refusal> {
        let id = self.next_id;
        self.next_id += 1;
        self.link
            .commands
            .try_send(SourceRequest::Send(Command { id, kind }))
            .expect("link accepts commands");
        self.pump_until(5, "the command's result", |c| {
            c.results.iter().any(|r| r.id == id)
        });
        self.results
            .iter()
            .find(|r| r.id == id)
            .map_or(Ok(()), |r| r.outcome.clone())
    }

    /// A case step issued against the case as this client sees it now;
    /// once accepted, waits until its delta has come back.
    pub fn step(&mut self, case: CaseId, action: CaseAction) -> Result<(), Refusal> {
        let version = self.state.open_case(case).map_or(0, Case::version);
        self.command(CommandKind::Case {
            case,
            action,
            version,
        })?;
        self.pump_until(5, "the step's delta", |c| {
            c.state
                .open_case(case)
                .is_none_or(|k| k.version() > version)
        });
        Ok(())
    }

    pub fn connected(&self) -> bool {
        matches!(self.status, SourceStatus::Connected { .. }) && self.state.last_seq().is_some()
    }

    pub fn case_for(&self, building: BuildingId) -> Option<Case> {
        self.state
            .open_cases()
            .find(|c| c.building == Some(building))
            .cloned()
    }
}
