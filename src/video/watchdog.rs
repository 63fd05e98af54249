//! The streams the wall wants and the one thread that keeps them decoding:
//! it opens a session for each wanted stream, notices when one ends or
//! stalls, kills only that one and opens it again with backoff, and stops
//! the ones nobody has wanted for a moment (a tile off screen decodes
//! nothing).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::error::VideoError;
use super::frame::FrameSlot;
use super::source::{InputInfo, Session, StreamRequest, VideoSource};

/// Timings of the watchdog.
#[derive(Clone, Debug)]
pub struct WatchSettings {
    /// A live stream without a new frame this long is killed and retried.
    pub stall: Duration,
    /// A connecting stream without a first frame this long is retried.
    pub connect: Duration,
    /// A stream nobody wants for this long is stopped.
    pub linger: Duration,
    pub backoff_min: Duration,
    pub backoff_max: Duration,
    /// Backoff for errors a quick retry will not fix (no decoder, codec).
    pub backoff_lasting: Duration,
    /// Live this long and the backoff starts again from the minimum.
    pub healthy: Duration,
    pub tick: Duration,
}

impl Default for WatchSettings {
    fn default() -> Self {
        WatchSettings {
            stall: Duration::from_millis(2000),
            connect: Duration::from_secs(10),
            linger: Duration::from_millis(1500),
            backoff_min: Duration::from_millis(500),
            backoff_max: Duration::from_secs(8),
            backoff_lasting: Duration::from_secs(30),
            healthy: Duration::from_secs(10),
            tick: Duration::from_millis(50),
        }
    }
}

/// What a tile shows about its stream.
#[derive(Clone, Debug, PartialEq)]
pub enum StreamState {
    /// 连接中: the decoder runs, no frame yet.
    Connecting,
    /// Frames arrive.
    Live,
    /// 信号中断: no decoder now; the next try is at `retry_at_ms`.
    Lost {
        reason: VideoError,
        /// The newest frame's wall time, if there ever was one.
        last_frame_ms: Option<i64>,
        retry_at_ms: i64,
    },
}

/// One wanted stream, shared by the watchdog and the display.
pub struct Stream {
    pub request: StreamRequest,
    pub slot: Arc<FrameSlot>,
    state: Mutex<StreamState>,
    input: Mutex<Option<InputInfo>>,
    wanted_at: Mutex<Instant>,
    /// Sessions opened (the first one included).
    pub opened: AtomicU64,
    /// The decoder's process id (0: none running).
    pub pid: AtomicU32,
}

impl Stream {
    pub fn state(&self) -> StreamState {
        self.state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    pub fn input(&self) -> Option<InputInfo> {
        self.input
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn set_state(&self, state: StreamState) {
        let mut current = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        if *current != state {
            match &state {
                StreamState::Lost { reason, .. } => {
                    bevy::log::warn!("video {}: {reason}", self.request.label);
                }
                StreamState::Live => bevy::log::info!("video {}: live", self.request.label),
                StreamState::Connecting => {}
            }
            *current = state;
        }
    }
}

/// The watchdog's own record of a stream.
struct Run {
    stream: Arc<Stream>,
    session: Option<Box<dyn Session>>,
    started: Instant,
    progress_seq: u64,
    progress_at: Instant,
    live_since: Option<Instant>,
    backoff: Duration,
    retry_at: Instant,
}

/// The wall's streams and their watchdog thread.
pub struct VideoManager {
    wanted: Arc<Mutex<HashMap<StreamRequest, Arc<Stream>>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
    source_name: String,
}

impl VideoManager {
    pub fn start(source: Arc<dyn VideoSource>, settings: WatchSettings) -> std::io::Result<Self> {
        let wanted: Arc<Mutex<HashMap<StreamRequest, Arc<Stream>>>> = Arc::default();
        let stop = Arc::new(AtomicBool::new(false));
        let source_name = source.name();
        let thread = {
            let (wanted, stop) = (wanted.clone(), stop.clone());
            std::thread::Builder::new()
                .name("video-watchdog".to_owned())
                .spawn(move || watch(&*source, &settings, &wanted, &stop))?
        };
        Ok(VideoManager {
            wanted,
            stop,
            thread: Some(thread),
            source_name,
        })
    }

    /// The decoder's name (for the About box and the bench).
    pub fn source_name(&self) -> &str {
        &self.source_name
    }

    /// Marks `request` wanted now and returns its stream (new streams start
    /// connecting on the watchdog's next tick). Call it every frame a tile
    /// shows the stream.
    pub fn want(&self, request: &StreamRequest) -> Arc<Stream> {
        let mut wanted = self.wanted.lock().unwrap_or_else(PoisonError::into_inner);
        let stream = wanted.entry(request.clone()).or_insert_with(|| {
            Arc::new(Stream {
                request: request.clone(),
                slot: Arc::default(),
                state: Mutex::new(StreamState::Connecting),
                input: Mutex::new(None),
                wanted_at: Mutex::new(Instant::now()),
                opened: AtomicU64::new(0),
                pid: AtomicU32::new(0),
            })
        });
        *stream
            .wanted_at
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Instant::now();
        stream.clone()
    }

    /// Every stream wanted recently.
    pub fn streams(&self) -> Vec<Arc<Stream>> {
        self.wanted
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .values()
            .cloned()
            .collect()
    }
}

impl Drop for VideoManager {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn wall_at(at: Instant, now: Instant) -> i64 {
    crate::time::wall_ms() + at.saturating_duration_since(now).as_millis() as i64
}

fn watch(
    source: &dyn VideoSource,
    settings: &WatchSettings,
    wanted: &Mutex<HashMap<StreamRequest, Arc<Stream>>>,
    stop: &AtomicBool,
) {
    let mut runs: HashMap<StreamRequest, Run> = HashMap::new();
    while !stop.load(Ordering::Acquire) {
        let now = Instant::now();
        // Streams nobody wants any more stop; new ones join.
        {
            let mut wanted = wanted.lock().unwrap_or_else(PoisonError::into_inner);
            wanted.retain(|_, s| {
                now.duration_since(*s.wanted_at.lock().unwrap_or_else(PoisonError::into_inner))
                    < settings.linger
            });
            runs.retain(|key, _| wanted.contains_key(key));
            for (key, stream) in wanted.iter() {
                runs.entry(key.clone()).or_insert_with(|| Run {
                    stream: stream.clone(),
                    session: None,
                    started: now,
                    progress_seq: 0,
                    progress_at: now,
                    live_since: None,
                    backoff: settings.backoff_min,
                    retry_at: now,
                });
            }
        }
        for run in runs.values_mut() {
            step(run, source, settings, now);
        }
        std::thread::sleep(settings.tick);
    }
}

fn step(run: &mut Run, source: &dyn VideoSource, settings: &WatchSettings, now: Instant) {
    let stream = run.stream.clone();
    let Some(session) = run.session.as_mut() else {
        if now >= run.retry_at {
            stream.opened.fetch_add(1, Ordering::Relaxed);
            match source.open(&stream.request, stream.slot.clone()) {
                Ok(session) => {
                    stream
                        .pid
                        .store(session.pid().unwrap_or(0), Ordering::Relaxed);
                    run.session = Some(session);
                    run.started = now;
                    run.progress_seq = stream.slot.seq();
                    run.progress_at = now;
                    stream.set_state(StreamState::Connecting);
                }
                Err(reason) => lose(run, reason, settings, now),
            }
        }
        return;
    };
    if stream.input().is_none()
        && let Some(info) = session.input()
    {
        *stream.input.lock().unwrap_or_else(PoisonError::into_inner) = Some(info);
    }
    if let Some(reason) = session.ended() {
        lose(run, reason, settings, now);
        return;
    }
    let seq = stream.slot.seq();
    if seq != run.progress_seq {
        run.progress_seq = seq;
        run.progress_at = now;
        if run.live_since.is_none() {
            run.live_since = Some(now);
        }
        stream.set_state(StreamState::Live);
        if run
            .live_since
            .is_some_and(|t| now.duration_since(t) >= settings.healthy)
        {
            run.backoff = settings.backoff_min;
        }
        return;
    }
    let quiet = now.duration_since(run.progress_at);
    if run.live_since.is_some() && quiet >= settings.stall {
        lose(
            run,
            VideoError::Stalled {
                ms: quiet.as_millis() as u64,
            },
            settings,
            now,
        );
    } else if run.live_since.is_none() && now.duration_since(run.started) >= settings.connect {
        lose(run, VideoError::TimedOut, settings, now);
    }
}

/// Ends the run's session (killing its decoder) and schedules the next try.
fn lose(run: &mut Run, reason: VideoError, settings: &WatchSettings, now: Instant) {
    run.session = None;
    run.live_since = None;
    run.stream.pid.store(0, Ordering::Relaxed);
    let wait = if reason.is_lasting() {
        settings.backoff_lasting
    } else {
        run.backoff
    };
    run.backoff = (run.backoff * 2).min(settings.backoff_max);
    run.retry_at = now + wait;
    let last_frame_ms = run.stream.slot.latest().map(|f| f.decoded_ms);
    run.stream.set_state(StreamState::Lost {
        reason,
        last_frame_ms,
        retry_at_ms: wall_at(run.retry_at, now),
    });
}
