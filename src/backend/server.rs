//! The tokio server. One engine task owns the [`Engine`] (so deltas have one
//! order); one task per session. Sessions reach the engine over a bounded
//! channel; deltas reach sessions as pre-encoded frames over a bounded
//! broadcast (a session that falls behind is told so and resumes). Shutdown
//! is a `CancellationToken` plus a `TaskTracker`: sessions say goodbye, the
//! engine finishes its tick, the recording is closed properly.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bevy::log::{error, info, warn};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::OwnedWriteHalf;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{broadcast, mpsc, oneshot};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::engine::Engine;
use super::tokens::{Grant, Tokens};
use super::window::Resume;
use crate::model::{SensorReading, SensorTarget};
use crate::protocol::{
    Command, CommandKind, CommandResult, FrameDecoder, Goodbye, Heartbeat, Message, ProtocolError,
    Refusal, Role, Scope, Welcome,
};
use crate::recording::{Recorder, RecordingError};

/// Frames waiting for a slow session before it is told to resume.
const BROADCAST_CAPACITY: usize = 4096;
const REQUEST_CAPACITY: usize = 256;
const HELLO_TIMEOUT: Duration = Duration::from_secs(10);
/// A client that takes longer than this to accept a frame is dropped (it
/// resumes on reconnect), so one stuck reader never blocks shutdown.
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);

pub struct ServerConfig {
    pub listen: SocketAddr,
    pub tokens: Tokens,
    /// Engine tick (real time); the scenario's tick when it has one.
    pub tick: Duration,
    pub heartbeat: Duration,
    pub record: Option<PathBuf>,
    /// A recorded monitoring series played in as live readings.
    pub feed: Option<super::feed::ReadingFeed>,
}

#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error(transparent)]
    Recording(#[from] RecordingError),
}

#[derive(Debug, thiserror::Error)]
enum SessionError {
    #[error("connection: {0}")]
    Io(#[from] std::io::Error),
    #[error("protocol: {0}")]
    Protocol(#[from] ProtocolError),
    #[error("no Hello within {0:?}")]
    HelloTimeout(Duration),
    #[error("{0}")]
    Violation(String),
    #[error("the engine has stopped")]
    EngineGone,
    #[error("the client did not read for {0:?}")]
    WriteTimeout(Duration),
}

type FrameBytes = Arc<[u8]>;

enum Request {
    Join {
        resume_from: Option<u64>,
        reply: oneshot::Sender<Join>,
    },
    Command {
        actor: String,
        role: Role,
        scope: Scope,
        command: Command,
        reply: oneshot::Sender<CommandResult>,
    },
    Audit {
        actor: String,
        action: &'static str,
        detail: String,
    },
}

struct Join {
    initial: Vec<FrameBytes>,
    live: broadcast::Receiver<FrameBytes>,
    how: String,
}

pub struct Server {
    pub addr: SocketAddr,
    cancel: CancellationToken,
    tracker: TaskTracker,
}

use crate::time::wall_ms;

fn frame_of(message: &Message) -> Result<FrameBytes, ProtocolError> {
    let mut out = Vec::new();
    message.encode(&mut out)?;
    Ok(out.into())
}

impl Server {
    /// Binds, starts the engine and accepts sessions until shut down.
    pub async fn start(engine: Engine, config: ServerConfig) -> Result<Server, ServerError> {
        let listener =
            TcpListener::bind(config.listen)
                .await
                .map_err(|source| ServerError::Bind {
                    addr: config.listen,
                    source,
                })?;
        let addr = listener.local_addr().map_err(|source| ServerError::Bind {
            addr: config.listen,
            source,
        })?;
        let mut recorder = config.record.as_deref().map(Recorder::create).transpose()?;
        if let Some(r) = recorder.as_mut() {
            // The recording starts with the state the server starts from.
            r.write(&Message::Snapshot(engine.snapshot()), engine.now_ms())?;
        }
        let cancel = CancellationToken::new();
        let tracker = TaskTracker::new();
        let (requests, request_rx) = mpsc::channel(REQUEST_CAPACITY);
        let (deltas, _) = broadcast::channel(BROADCAST_CAPACITY);
        let head = Arc::new(AtomicU64::new(engine.head_seq()));
        tracker.spawn(engine_task(
            engine,
            request_rx,
            deltas,
            recorder,
            config.feed,
            config.tick,
            head.clone(),
            cancel.clone(),
        ));
        tracker.spawn(accept_loop(
            listener,
            Arc::new(config.tokens),
            requests,
            config.heartbeat,
            head,
            cancel.clone(),
            tracker.clone(),
        ));
        info!("citytwin server listening on {addr}");
        Ok(Server {
            addr,
            cancel,
            tracker,
        })
    }

    pub fn cancel_token(&self) -> CancellationToken {
        self.cancel.clone()
    }

    /// Stops accepting, says goodbye to sessions, stops the engine and waits.
    pub async fn shutdown(self) {
        self.cancel.cancel();
        self.tracker.close();
        self.tracker.wait().await;
    }
}

#[allow(clippy::too_many_arguments)]
async fn engine_task(
    mut engine: Engine,
    mut requests: mpsc::Receiver<Request>,
    deltas: broadcast::Sender<FrameBytes>,
    recorder: Option<Recorder>,
    feed: Option<super::feed::ReadingFeed>,
    tick: Duration,
    head: Arc<AtomicU64>,
    cancel: CancellationToken,
) {
    let mut recorder = recorder;
    let mut feed = feed;
    let feed_started = std::time::Instant::now();
    let mut ticker = tokio::time::interval(tick);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = cancel.cancelled() => break,
            _ = ticker.tick() => {
                if let Some(f) = feed.as_mut() {
                    let due = f.due(feed_started.elapsed());
                    if !due.is_empty() {
                        let now = engine.now_ms();
                        let result = engine.handle(&due, now);
                        publish(&mut engine, result, &deltas, &mut recorder);
                    }
                    if f.remaining() == 0 {
                        info!("the readings feed has played out");
                        feed = None;
                    }
                }
                let result = engine.tick();
                publish(&mut engine, result, &deltas, &mut recorder);
                if let Some(r) = recorder.as_mut()
                    && let Err(e) = r.flush_if_due()
                {
                    error!("recording stopped: {e}");
                    recorder = None;
                }
            }
            request = requests.recv() => match request {
                Some(request) => handle_request(&mut engine, request, &deltas, &mut recorder),
                None => break,
            },
        }
        head.store(engine.head_seq(), Ordering::Relaxed);
    }
    if let Some(recorder) = recorder
        && let Err(e) = recorder.finish()
    {
        error!("closing the recording: {e}");
    }
    info!("engine stopped at seq {}", engine.head_seq());
}

fn publish(
    engine: &mut Engine,
    result: Result<Option<crate::protocol::Delta>, super::engine::EngineError>,
    deltas: &broadcast::Sender<FrameBytes>,
    recorder: &mut Option<Recorder>,
) {
    let delta = match result {
        Ok(Some(delta)) => delta,
        Ok(None) => return,
        Err(e) => {
            error!("engine: {e}");
            return;
        }
    };
    let time_ms = delta.time_ms;
    let frame = match frame_of(&Message::Delta(delta)) {
        Ok(f) => f,
        Err(e) => {
            error!("engine: cannot encode a delta: {e}");
            return;
        }
    };
    // No receivers is fine: nobody is connected.
    let _ = deltas.send(frame.clone());
    if let Some(r) = recorder
        && let Err(e) = r.record_delta(&frame, time_ms, || engine.snapshot())
    {
        error!("recording stopped: {e}");
        *recorder = None;
    }
}

fn handle_request(
    engine: &mut Engine,
    request: Request,
    deltas: &broadcast::Sender<FrameBytes>,
    recorder: &mut Option<Recorder>,
) {
    match request {
        Request::Join { resume_from, reply } => {
            // Subscribing here, between deltas, means the session misses none
            // and sees none twice.
            let live = deltas.subscribe();
            let head = engine.head_seq();
            let snapshot = || -> Vec<FrameBytes> {
                frame_of(&Message::Snapshot(engine.snapshot()))
                    .into_iter()
                    .collect()
            };
            let (initial, how) = match resume_from {
                None => (snapshot(), format!("snapshot at {head}")),
                Some(from) => match engine.resume_from(from) {
                    Resume::UpToDate => (Vec::new(), format!("up to date at {head}")),
                    Resume::Deltas(list) => (
                        list.iter()
                            .filter_map(|d| frame_of(&Message::Delta(d.clone())).ok())
                            .collect(),
                        format!("resumed {from} → {head}"),
                    ),
                    Resume::Snapshot => (
                        snapshot(),
                        format!("snapshot at {head} (cannot resume from {from})"),
                    ),
                },
            };
            let _ = reply.send(Join { initial, live, how });
        }
        Request::Command {
            actor,
            role,
            scope,
            command,
            reply,
        } => {
            let grant = Grant {
                name: actor,
                role,
                scope,
            };
            let outcome = run_command(engine, &grant, &command, deltas, recorder);
            let _ = reply.send(CommandResult {
                id: command.id,
                outcome,
            });
        }
        Request::Audit {
            actor,
            action,
            detail,
        } => {
            let now = engine.now_ms();
            if let Err(e) = engine.store().audit(now, &actor, action, &detail) {
                error!("audit: {e}");
            }
        }
    }
}

fn run_command(
    engine: &mut Engine,
    grant: &Grant,
    command: &Command,
    deltas: &broadcast::Sender<FrameBytes>,
    recorder: &mut Option<Recorder>,
) -> Result<(), Refusal> {
    let now = engine.now_ms();
    let (action, outcome) = match &command.kind {
        CommandKind::Ping => ("ping", Ok(())),
        CommandKind::InjectReading(reading) => {
            let city = engine.city().clone();
            let place = engine.sensor_target(reading.sensor).and_then(|t| match t {
                SensorTarget::Building(b) => city.building(b).map(|b| {
                    (
                        b.district,
                        b.street,
                        format!("楼栋 {0} / building {0}", b.code),
                    )
                }),
                SensorTarget::HazardPoint { hazard, .. } => city.hazard(hazard).map(|h| {
                    (
                        h.district,
                        h.street,
                        format!("隐患点 {0} / hazard {0}", h.code),
                    )
                }),
            });
            let outcome = if grant.role != Role::Dispatcher {
                Err(Refusal::NotDispatcher)
            } else if let Some((d, st, what)) = &place
                && !grant.covers(&city, *d, *st)
            {
                Err(Refusal::OutOfScope { what: what.clone() })
            } else if place.is_none() {
                Err(Refusal::UnknownSensor {
                    sensor: reading.sensor.0,
                })
            } else {
                // A hazard reading keeps its own time (a real series); a
                // fire-main reading happens now.
                let time_ms = match reading.value {
                    crate::model::Measurement::PressureMpa(_) => reading.time_ms.max(now),
                    _ => reading.time_ms,
                };
                let r = SensorReading {
                    time_ms,
                    ..*reading
                };
                let result = engine
                    .handle(&[r], now.max(time_ms))
                    .map_err(|e| Refusal::Internal {
                        reason: e.to_string(),
                    });
                result.map(|delta| publish(engine, Ok(delta), deltas, recorder))
            };
            ("inject_reading", outcome)
        }
        CommandKind::Case {
            case,
            action,
            version,
        } => {
            let outcome = engine
                .case_action(grant, *case, action.clone(), *version)
                .map(|delta| publish(engine, Ok(delta), deltas, recorder));
            ("case", outcome)
        }
        CommandKind::Evacuation {
            hazard,
            building,
            status,
        } => {
            let outcome = engine
                .evacuation(grant, *hazard, *building, *status)
                .map(|delta| publish(engine, Ok(delta), deltas, recorder));
            ("evacuation", outcome)
        }
    };
    let detail = format!(
        "{:?} → {}",
        command.kind,
        outcome
            .as_ref()
            .err()
            .map_or_else(|| "ok".to_owned(), ToString::to_string)
    );
    if let Err(e) = engine.store().audit(now, &grant.name, action, &detail) {
        error!("audit: {e}");
    }
    outcome
}

async fn accept_loop(
    listener: TcpListener,
    tokens: Arc<Tokens>,
    requests: mpsc::Sender<Request>,
    heartbeat: Duration,
    head: Arc<AtomicU64>,
    cancel: CancellationToken,
    tracker: TaskTracker,
) {
    let mut next_session = 1u64;
    loop {
        let accepted = tokio::select! {
            () = cancel.cancelled() => break,
            accepted = listener.accept() => accepted,
        };
        match accepted {
            Ok((stream, peer)) => {
                let id = next_session;
                next_session += 1;
                let (tokens, requests, cancel, head) = (
                    tokens.clone(),
                    requests.clone(),
                    cancel.clone(),
                    head.clone(),
                );
                tracker.spawn(async move {
                    let ctx = SessionContext {
                        tokens: &tokens,
                        requests: &requests,
                        heartbeat,
                        head: &head,
                        cancel: &cancel,
                    };
                    if let Err(e) = session(stream, peer, id, ctx).await {
                        warn!("session {id} from {peer} ended: {e}");
                    }
                });
            }
            Err(e) => {
                warn!("accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

async fn write_frame(writer: &mut OwnedWriteHalf, frame: &[u8]) -> Result<(), SessionError> {
    tokio::time::timeout(WRITE_TIMEOUT, writer.write_all(frame))
        .await
        .map_err(|_| SessionError::WriteTimeout(WRITE_TIMEOUT))??;
    Ok(())
}

async fn send(writer: &mut OwnedWriteHalf, message: &Message) -> Result<(), SessionError> {
    let frame = frame_of(message)?;
    write_frame(writer, &frame).await
}

async fn goodbye(writer: &mut OwnedWriteHalf, reason: &str) {
    let _ = send(
        writer,
        &Message::Goodbye(Goodbye {
            reason: reason.to_owned(),
        }),
    )
    .await;
    let _ = writer.shutdown().await;
}

/// What every session shares.
struct SessionContext<'a> {
    tokens: &'a Tokens,
    requests: &'a mpsc::Sender<Request>,
    heartbeat: Duration,
    head: &'a AtomicU64,
    cancel: &'a CancellationToken,
}

async fn session(
    stream: TcpStream,
    peer: SocketAddr,
    id: u64,
    ctx: SessionContext<'_>,
) -> Result<(), SessionError> {
    let SessionContext {
        tokens,
        requests,
        heartbeat,
        head,
        cancel,
    } = ctx;
    let _ = stream.set_nodelay(true);
    let (mut reader, mut writer) = stream.into_split();
    let mut decoder = FrameDecoder::new();
    let mut buf = vec![0u8; 16 * 1024];

    let hello = tokio::time::timeout(HELLO_TIMEOUT, async {
        loop {
            if let Some(frame) = decoder.next_frame()? {
                return Ok::<_, SessionError>(Message::decode(&frame)?);
            }
            let n = reader.read(&mut buf).await?;
            if n == 0 {
                return Err(SessionError::Violation("closed before Hello".to_owned()));
            }
            decoder.push(&buf[..n]);
        }
    })
    .await
    .map_err(|_| SessionError::HelloTimeout(HELLO_TIMEOUT));
    let hello = match hello.and_then(|r| r) {
        Ok(Message::Hello(hello)) => hello,
        Ok(other) => {
            goodbye(&mut writer, "expected Hello").await;
            return Err(SessionError::Violation(format!(
                "first frame was {:?}, not Hello",
                other.kind()
            )));
        }
        Err(e) => {
            goodbye(&mut writer, &e.to_string()).await;
            return Err(e);
        }
    };
    let Some(grant) = tokens.check(&hello.token).cloned() else {
        info!("session {id}: refused an unknown token from {peer}");
        let _ = requests
            .send(Request::Audit {
                actor: peer.to_string(),
                action: "refused",
                detail: "unknown token".to_owned(),
            })
            .await;
        goodbye(&mut writer, "令牌无效 / unknown token").await;
        return Ok(());
    };
    send(
        &mut writer,
        &Message::Welcome(Welcome {
            server_version: env!("CARGO_PKG_VERSION").to_owned(),
            session: id,
            role: grant.role,
            scope: grant.scope.clone(),
        }),
    )
    .await?;
    let (reply, joined) = oneshot::channel();
    requests
        .send(Request::Join {
            resume_from: hello.resume_from,
            reply,
        })
        .await
        .map_err(|_| SessionError::EngineGone)?;
    let join = joined.await.map_err(|_| SessionError::EngineGone)?;
    info!(
        "session {id}: {} ({:?}, scope {:?}) from {peer}, client {}, {}",
        grant.name, grant.role, grant.scope, hello.client_version, join.how
    );
    for frame in &join.initial {
        write_frame(&mut writer, frame).await?;
    }
    let mut live = join.live;
    let mut last_heard = Instant::now();
    let mut beat = tokio::time::interval(heartbeat);
    beat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = cancel.cancelled() => {
                goodbye(&mut writer, "服务器关闭 / server shutting down").await;
                break;
            }
            frame = live.recv() => match frame {
                Ok(frame) => write_frame(&mut writer, &frame).await?,
                Err(broadcast::error::RecvError::Lagged(n)) => {
                    goodbye(&mut writer, &format!("fell {n} deltas behind; reconnect to resume")).await;
                    break;
                }
                Err(broadcast::error::RecvError::Closed) => break,
            },
            read = reader.read(&mut buf) => {
                let n = read?;
                if n == 0 {
                    break;
                }
                last_heard = Instant::now();
                decoder.push(&buf[..n]);
                loop {
                    let frame = match decoder.next_frame() {
                        Ok(Some(frame)) => frame,
                        Ok(None) => break,
                        Err(e) => {
                            goodbye(&mut writer, &e.to_string()).await;
                            return Err(e.into());
                        }
                    };
                    match Message::decode(&frame) {
                        Ok(Message::Command(command)) => {
                            let (reply, result) = oneshot::channel();
                            requests
                                .send(Request::Command {
                                    actor: grant.name.clone(),
                                    role: grant.role,
                                    scope: grant.scope.clone(),
                                    command,
                                    reply,
                                })
                                .await
                                .map_err(|_| SessionError::EngineGone)?;
                            let result = result.await.map_err(|_| SessionError::EngineGone)?;
                            send(&mut writer, &Message::CommandResult(result)).await?;
                        }
                        Ok(Message::Heartbeat(_)) => {}
                        Ok(Message::Goodbye(_)) => return Ok(()),
                        Ok(other) => {
                            goodbye(&mut writer, "unexpected message").await;
                            return Err(SessionError::Violation(format!("client sent {:?}", other.kind())));
                        }
                        Err(e) => {
                            goodbye(&mut writer, &e.to_string()).await;
                            return Err(e.into());
                        }
                    }
                }
            }
            _ = beat.tick() => {
                if last_heard.elapsed() > heartbeat * 3 {
                    goodbye(&mut writer, "no heartbeat").await;
                    return Err(SessionError::Violation("client went silent".to_owned()));
                }
                send(&mut writer, &Message::Heartbeat(Heartbeat { time_ms: wall_ms(), last_seq: head.load(Ordering::Relaxed) })).await?;
            }
        }
    }
    info!("session {id} ({}) closed", grant.name);
    Ok(())
}

/// A server running on its own named thread (the cockpit's embedded backend).
pub struct BackendThread {
    pub addr: SocketAddr,
    cancel: CancellationToken,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl BackendThread {
    /// Starts `engine` behind a server on a thread named `citytwin-backend`.
    pub fn spawn(engine: Engine, config: ServerConfig) -> Result<BackendThread, ServerError> {
        let listen = config.listen;
        let io = |source| ServerError::Bind {
            addr: listen,
            source,
        };
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("citytwin-backend-worker")
            .enable_all()
            .build()
            .map_err(io)?;
        let (ready_tx, ready_rx) = std::sync::mpsc::sync_channel(1);
        let thread = std::thread::Builder::new()
            .name("citytwin-backend".to_owned())
            .spawn(move || {
                runtime.block_on(async move {
                    match Server::start(engine, config).await {
                        Ok(server) => {
                            let cancel = server.cancel_token();
                            let _ = ready_tx.send(Ok((server.addr, cancel.clone())));
                            cancel.cancelled().await;
                            server.shutdown().await;
                        }
                        Err(e) => {
                            let _ = ready_tx.send(Err(e));
                        }
                    }
                });
            })
            .map_err(io)?;
        let (addr, cancel) = ready_rx
            .recv()
            .map_err(|_| io(std::io::Error::other("backend thread died while starting")))??;
        Ok(BackendThread {
            addr,
            cancel,
            thread: Some(thread),
        })
    }

    /// Shuts the server down and waits for it (sessions told, recording closed).
    pub fn stop(mut self) {
        self.cancel.cancel();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for BackendThread {
    fn drop(&mut self) {
        self.cancel.cancel();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
