//! The link thread: a tokio runtime on a named thread that keeps one session
//! to the backend open, forwards every Snapshot/Delta into a bounded
//! crossbeam channel (blocking when the cockpit is behind: backpressure, never
//! loss), reconnects with backoff and resumes from the last sequence number.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use crossbeam_channel::Sender;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::cockpit::stream::{LiveSource, SourceRequest, SourceStatus, StreamEvent};
use crate::live::LiveState;
use crate::model::City;
use crate::protocol::{FrameDecoder, Goodbye, Heartbeat, Hello, Message, ProtocolError};
use crate::recording::Recorder;

/// Messages waiting for the cockpit before the link stops reading.
pub const INBOX_CAPACITY: usize = 1024;
const BACKOFF_START: Duration = Duration::from_millis(200);
const BACKOFF_MAX: Duration = Duration::from_secs(5);
const HEARTBEAT: Duration = Duration::from_secs(2);

#[derive(Debug, Clone)]
pub struct LinkConfig {
    pub addr: String,
    pub token: String,
    /// Record the received stream (MCAP) for this city.
    pub record: Option<(PathBuf, Arc<City>)>,
}

/// The client-side recording: what arrives, plus a snapshot every
/// [`crate::recording::SNAPSHOT_EVERY_MS`] rebuilt from a mirror of the state.
struct RecordingSink {
    recorder: Recorder,
    mirror: LiveState,
}

impl RecordingSink {
    fn record(&mut self, message: &Message) -> Result<(), String> {
        let result = match message {
            Message::Snapshot(s) => {
                self.mirror.apply_snapshot(s).map_err(|e| e.to_string())?;
                self.recorder.write(message, s.time_ms)
            }
            Message::Delta(d) => {
                self.mirror.apply_delta(d).map_err(|e| e.to_string())?;
                let mut frame = Vec::new();
                message.encode(&mut frame).map_err(|e| e.to_string())?;
                let mirror = &self.mirror;
                self.recorder
                    .record_delta(&frame, d.time_ms, || mirror.to_snapshot(d.time_ms))
            }
            _ => return Ok(()),
        };
        result.map_err(|e| format!("recording: {e}"))
    }
}

/// The cockpit's ends of the link.
pub struct LinkHandle {
    pub events: crossbeam_channel::Receiver<StreamEvent>,
    pub commands: mpsc::Sender<SourceRequest>,
    cancel: CancellationToken,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl LinkHandle {
    /// A link fed by other means (a replay source, a test): no thread.
    pub fn from_channels(
        events: crossbeam_channel::Receiver<StreamEvent>,
        commands: mpsc::Sender<SourceRequest>,
    ) -> LinkHandle {
        LinkHandle {
            events,
            commands,
            cancel: CancellationToken::new(),
            thread: None,
        }
    }

    /// The cockpit's live source on this link; the handle goes with it (the
    /// link stops when the source is dropped).
    pub fn into_source(self, history: Option<PathBuf>) -> LiveSource {
        let events = self.events.clone();
        let requests = self.commands.clone();
        LiveSource::new(events, requests, history, Some(Box::new(self)))
    }

    /// Stops the link and waits for its thread.
    pub fn stop(mut self) {
        self.cancel.cancel();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for LinkHandle {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

/// Starts the link thread.
pub fn spawn_link(config: LinkConfig) -> std::io::Result<LinkHandle> {
    let (events_tx, events) = crossbeam_channel::bounded(INBOX_CAPACITY);
    let (commands, commands_rx) = mpsc::channel(64);
    let cancel = CancellationToken::new();
    let thread_cancel = cancel.clone();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let thread = std::thread::Builder::new()
        .name("citytwin-link".to_owned())
        .spawn(move || {
            runtime.block_on(run(config, events_tx, commands_rx, thread_cancel));
        })?;
    Ok(LinkHandle {
        events,
        commands,
        cancel,
        thread: Some(thread),
    })
}

enum End {
    Refused(String),
    Closed(String),
}

async fn run(
    config: LinkConfig,
    events: Sender<StreamEvent>,
    mut commands: mpsc::Receiver<SourceRequest>,
    cancel: CancellationToken,
) {
    let mut recorder = match &config.record {
        Some((path, city)) => match Recorder::create(path) {
            Ok(recorder) => Some(RecordingSink {
                recorder,
                mirror: LiveState::new(city),
            }),
            Err(e) => {
                let _ = events.send(StreamEvent::Status(SourceStatus::Failed {
                    reason: format!("cannot record: {e}"),
                }));
                return;
            }
        },
        None => None,
    };
    let mut last_seq: Option<u64> = None;
    let mut attempt = 0u32;
    let mut backoff = BACKOFF_START;
    let mut down_since: Option<SystemTime> = None;
    while !cancel.is_cancelled() {
        let _ = events.send(StreamEvent::Status(SourceStatus::Connecting));
        let mut welcomed = false;
        let end = match TcpStream::connect(&config.addr).await {
            Ok(stream) => {
                let mut ctx = SessionContext {
                    config: &config,
                    last_seq: &mut last_seq,
                    welcomed: &mut welcomed,
                    events: &events,
                    commands: &mut commands,
                    recorder: &mut recorder,
                    cancel: &cancel,
                };
                session(stream, &mut ctx).await.unwrap_or_else(End::Closed)
            }
            Err(e) => End::Closed(format!("cannot connect to {}: {e}", config.addr)),
        };
        if welcomed {
            attempt = 0;
            backoff = BACKOFF_START;
            down_since = None;
        }
        match end {
            End::Refused(reason) => {
                let _ = events.send(StreamEvent::Status(SourceStatus::Refused { reason }));
                break;
            }
            End::Closed(reason) => {
                if cancel.is_cancelled() {
                    break;
                }
                attempt += 1;
                let since = *down_since.get_or_insert_with(SystemTime::now);
                let _ = events.send(StreamEvent::Status(SourceStatus::Reconnecting {
                    since,
                    attempt,
                    reason,
                }));
                tokio::select! {
                    () = cancel.cancelled() => break,
                    () = tokio::time::sleep(backoff) => {}
                }
                backoff = (backoff * 2).min(BACKOFF_MAX);
            }
        }
    }
    if let Some(sink) = recorder
        && let Err(e) = sink.recorder.finish()
    {
        let _ = events.send(StreamEvent::Status(SourceStatus::Failed {
            reason: format!("closing the recording: {e}"),
        }));
    }
    let _ = events.send(StreamEvent::Status(SourceStatus::Stopped));
}

use crate::time::wall_ms;

async fn write(stream: &mut TcpStream, message: &Message) -> Result<(), String> {
    let mut frame = Vec::new();
    message.encode(&mut frame).map_err(|e| e.to_string())?;
    stream
        .write_all(&frame)
        .await
        .map_err(|e| format!("write: {e}"))
}

/// What a session borrows from the link loop.
struct SessionContext<'a> {
    config: &'a LinkConfig,
    last_seq: &'a mut Option<u64>,
    welcomed: &'a mut bool,
    events: &'a Sender<StreamEvent>,
    commands: &'a mut mpsc::Receiver<SourceRequest>,
    recorder: &'a mut Option<RecordingSink>,
    cancel: &'a CancellationToken,
}

async fn session(mut stream: TcpStream, ctx: &mut SessionContext<'_>) -> Result<End, String> {
    let SessionContext {
        config,
        last_seq,
        welcomed,
        events,
        commands,
        recorder,
        cancel,
    } = ctx;
    let _ = stream.set_nodelay(true);
    write(
        &mut stream,
        &Message::Hello(Hello {
            client_version: concat!("citytwin ", env!("CARGO_PKG_VERSION")).to_owned(),
            token: config.token.clone(),
            resume_from: **last_seq,
        }),
    )
    .await?;
    let mut decoder = FrameDecoder::new();
    let mut buf = vec![0u8; 64 * 1024];
    let mut beat = tokio::time::interval(HEARTBEAT);
    let mut flush = tokio::time::interval(crate::recording::FLUSH_EVERY);
    loop {
        tokio::select! {
            _ = flush.tick(), if recorder.is_some() => {
                if let Some(sink) = recorder.as_mut() {
                    sink.recorder.flush_if_due().map_err(|e| format!("recording: {e}"))?;
                }
            }
            () = cancel.cancelled() => {
                let _ = write(&mut stream, &Message::Goodbye(Goodbye { reason: "cockpit closing".into() })).await;
                return Ok(End::Closed("stopped".into()));
            }
            command = commands.recv() => match command {
                Some(SourceRequest::Send(c)) => write(&mut stream, &Message::Command(c)).await?,
                Some(SourceRequest::Resync { from }) => {
                    **last_seq = from;
                    return Ok(End::Closed("resync requested".into()));
                }
                None => return Ok(End::Closed("cockpit gone".into())),
            },
            _ = beat.tick() => {
                write(&mut stream, &Message::Heartbeat(Heartbeat { time_ms: wall_ms(), last_seq: last_seq.unwrap_or(0) })).await?;
            }
            read = stream.read(&mut buf) => {
                let n = read.map_err(|e| format!("read: {e}"))?;
                if n == 0 {
                    decoder.finish().map_err(|e: ProtocolError| e.to_string())?;
                    return Ok(End::Closed("server closed the connection".into()));
                }
                decoder.push(&buf[..n]);
                while let Some(frame) = decoder.next_frame().map_err(|e| e.to_string())? {
                    let message = Message::decode(&frame).map_err(|e| e.to_string())?;
                    match &message {
                        Message::Welcome(w) => {
                            **welcomed = true;
                            let _ = events.send(StreamEvent::Status(SourceStatus::Connected {
                                session: w.session,
                                role: w.role,
                                scope: w.scope.clone(),
                            }));
                            continue;
                        }
                        Message::Goodbye(g) if !**welcomed => return Ok(End::Refused(g.reason.clone())),
                        Message::Goodbye(g) => return Ok(End::Closed(g.reason.clone())),
                        Message::Heartbeat(_) => continue,
                        Message::Snapshot(s) => **last_seq = Some(s.seq),
                        Message::Delta(d) => {
                            if last_seq.is_some_and(|l| d.seq <= l) {
                                continue;
                            }
                            **last_seq = Some(d.seq);
                        }
                        _ => {}
                    }
                    if let Some(sink) = recorder.as_mut() {
                        sink.record(&message)?;
                    }
                    // Blocking send: backpressure into TCP when the cockpit
                    // lags; this thread serves nothing else.
                    if events.send(StreamEvent::Message(message)).is_err() {
                        return Ok(End::Closed("cockpit gone".into()));
                    }
                }
            }
        }
    }
}
