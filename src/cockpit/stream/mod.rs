//! Where the cockpit's data comes from, and the ONE ingest that applies it.
//! A stream source is the live link ([`LiveSource`], fed by the link thread
//! through a bounded channel) or a recording ([`replay::ReplaySource`], read
//! through its chunk index). Both hand protocol messages to [`apply`]; live
//! is the recording "following the head". While the clock shows the past,
//! live messages go on into a [`HeadState`] (nothing is lost) and a badge
//! counts the alarms that came meanwhile; back to live, the head becomes the
//! state again. Commands from panels go through [`SendCommand`]: the live
//! source forwards them, a replay refuses them with the reason.

pub mod replay;

use std::path::PathBuf;
use std::time::SystemTime;

use bevy::prelude::*;
use crossbeam_channel::TryRecvError;

use super::schedule::AppSystems;
use super::state::CityState;
use super::time::{TimeControl, TimelineMarks};
use crate::live::{ApplyError, LiveState};
use crate::model::EventStatus;
use crate::protocol::{Change, Command, CommandKind, Message, Role, Scope};

/// Changes applied per frame at most (a snapshot counts one per 64 buildings).
pub const CHANGE_BUDGET_PER_FRAME: usize = 50_000;

/// How a source is doing (the link badge shows it).
#[derive(Debug, Clone, PartialEq)]
pub enum SourceStatus {
    Connecting,
    Connected {
        session: u64,
        role: Role,
        scope: Scope,
    },
    Reconnecting {
        since: SystemTime,
        attempt: u32,
        reason: String,
    },
    /// The server refused us (bad token): no retry.
    Refused {
        reason: String,
    },
    /// The source itself failed (e.g. the recording file): no retry.
    Failed {
        reason: String,
    },
    Stopped,
}

/// What a live source delivers.
#[derive(Debug, Clone, PartialEq)]
pub enum StreamEvent {
    Status(SourceStatus),
    Message(Message),
}

/// What the cockpit asks of a live source.
#[derive(Debug, Clone, PartialEq)]
pub enum SourceRequest {
    Send(Command),
    /// Reconnect and resume from this sequence number (after a gap).
    Resync {
        from: Option<u64>,
    },
}

/// The live source's ends, as a resource.
#[derive(Resource)]
pub struct LiveSource {
    pub events: crossbeam_channel::Receiver<StreamEvent>,
    pub requests: tokio::sync::mpsc::Sender<SourceRequest>,
    /// The session's own recording (the history the timeline seeks in).
    pub history: Option<PathBuf>,
    /// What keeps the source running (the link thread); stopped on drop.
    _guard: Option<Box<dyn Send + Sync>>,
}

impl LiveSource {
    pub fn new(
        events: crossbeam_channel::Receiver<StreamEvent>,
        requests: tokio::sync::mpsc::Sender<SourceRequest>,
        history: Option<PathBuf>,
        guard: Option<Box<dyn Send + Sync>>,
    ) -> LiveSource {
        LiveSource {
            events,
            requests,
            history,
            _guard: guard,
        }
    }
}

/// What the UI shows about the stream.
#[derive(Resource, Debug, Clone)]
pub struct StreamState {
    pub status: SourceStatus,
    pub status_since: SystemTime,
    /// Messages still queued after this frame's budget.
    pub backlog: usize,
    /// Deltas applied since start (live ones into the head included).
    pub applied: u64,
    pub last_error: Option<String>,
}

impl Default for StreamState {
    fn default() -> Self {
        StreamState {
            status: SourceStatus::Connecting,
            status_since: SystemTime::now(),
            backlog: 0,
            applied: 0,
            last_error: None,
        }
    }
}

/// The live state while the clock shows the past: live messages keep
/// arriving here; back to live it becomes the cockpit's state again.
#[derive(Resource, Debug, Default)]
pub struct HeadState {
    pub state: Option<LiveState>,
    /// Alarms (events opened) that arrived while away from live.
    pub new_alarms: u32,
}

/// Ask the source to carry a command to the backend.
#[derive(Message, Debug, Clone, PartialEq)]
pub struct SendCommand(pub CommandKind);

/// What became of the operator's commands.
#[derive(Resource, Debug, Default, Clone, PartialEq)]
pub struct CommandFeedback {
    /// The last command refused here (replaying, no link), with the reason.
    pub refused: Option<String>,
    /// The last command the backend refused, and why.
    pub failed: Option<crate::protocol::Refusal>,
    next_id: u64,
}

pub fn plugin(app: &mut App) {
    app.init_resource::<StreamState>()
        .init_resource::<HeadState>()
        .init_resource::<CommandFeedback>()
        .init_resource::<TimelineMarks>()
        .add_message::<SendCommand>()
        .add_systems(
            Update,
            (ingest_live, replay::ingest_recording, forward_commands)
                .chain()
                .in_set(AppSystems::Ingest),
        );
}

/// The ONE ingest: applies a stream message to a state. Returns how many
/// changes it cost against the frame budget.
pub fn apply(state: &mut LiveState, message: &Message) -> Result<usize, ApplyError> {
    match message {
        Message::Snapshot(snapshot) => {
            state.apply_snapshot(snapshot)?;
            Ok(snapshot.levels.len() / 64 + 1)
        }
        Message::Delta(delta) => {
            state.apply_delta(delta)?;
            Ok(delta.changes.len().max(1))
        }
        _ => Ok(0),
    }
}

/// Alarms (events opened) in a message: what the "new alarms" badge counts.
fn alarms_in(message: &Message) -> u32 {
    match message {
        Message::Delta(d) => d
            .changes
            .iter()
            .filter(|c| matches!(c, Change::Event(e) if e.status == EventStatus::Open))
            .count() as u32,
        _ => 0,
    }
}

/// Drains the live source within the frame budget into the state — or,
/// while the clock shows the past, into the head.
pub fn ingest_live(
    live: Option<Res<LiveSource>>,
    mut time: ResMut<TimeControl>,
    mut state: ResMut<CityState>,
    mut head: ResMut<HeadState>,
    mut stream: ResMut<StreamState>,
    mut feedback: ResMut<CommandFeedback>,
    mut marks: ResMut<TimelineMarks>,
) {
    let Some(live) = live else { return };
    if time.is_following() {
        if let Some(newest) = head.state.take() {
            // Back to live: the head is the state (the selection stays).
            state.live = newest;
            head.new_alarms = 0;
        }
    } else if head.state.is_none() {
        head.state = Some(state.live.clone());
    }
    let mut budget = CHANGE_BUDGET_PER_FRAME;
    while budget > 0 {
        let event = match live.events.try_recv() {
            Ok(event) => event,
            Err(TryRecvError::Empty) => break,
            Err(TryRecvError::Disconnected) => {
                if stream.status != SourceStatus::Stopped {
                    stream.status = SourceStatus::Stopped;
                    stream.status_since = SystemTime::now();
                }
                break;
            }
        };
        let message = match event {
            StreamEvent::Status(status) => {
                if status != stream.status {
                    stream.status = status;
                    stream.status_since = SystemTime::now();
                }
                continue;
            }
            StreamEvent::Message(Message::CommandResult(result)) => {
                if let Err(refusal) = result.outcome {
                    feedback.failed = Some(refusal);
                }
                continue;
            }
            StreamEvent::Message(message) => message,
        };
        marks.push(&message);
        let away = head.state.is_some();
        let HeadState {
            state: head_state,
            new_alarms,
        } = &mut *head;
        let target = match head_state.as_mut() {
            Some(h) => h,
            None => &mut state.live,
        };
        match apply(target, &message) {
            Ok(cost) => {
                budget = budget.saturating_sub(cost);
                if matches!(message, Message::Delta(_)) {
                    stream.applied += 1;
                }
                if away {
                    *new_alarms += alarms_in(&message);
                }
                if let Some(t) = target.last_time_ms() {
                    time.set_head(t);
                }
            }
            Err(e) => {
                warn!("stream: {e}; resyncing");
                stream.last_error = Some(e.to_string());
                budget = budget.saturating_sub(1);
                let _ = live.requests.try_send(SourceRequest::Resync {
                    from: target.last_seq(),
                });
            }
        }
    }
    stream.backlog = live.events.len();
}

/// Forwards the panels' commands to the live source while following it;
/// refuses them, with the reason, while showing the past.
pub fn forward_commands(
    mut requests: MessageReader<SendCommand>,
    live: Option<Res<LiveSource>>,
    time: Res<TimeControl>,
    mut feedback: ResMut<CommandFeedback>,
) {
    for SendCommand(kind) in requests.read() {
        let refusal = match &live {
            _ if time.is_replaying() => Some(replay::REFUSAL.to_owned()),
            None => Some("没有实时连接 / no live link to send it over".to_owned()),
            Some(live) => {
                feedback.next_id += 1;
                let id = feedback.next_id;
                let command = Command {
                    id,
                    kind: kind.clone(),
                };
                match live.requests.try_send(SourceRequest::Send(command)) {
                    Ok(()) => {
                        feedback.failed = None;
                        None
                    }
                    Err(e) => Some(format!("链路忙 / the link is busy: {e}")),
                }
            }
        };
        if let Some(reason) = &refusal {
            warn!("command refused: {reason}");
        }
        feedback.refused = refusal;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geo::demo::{DemoScene, generate};
    use crate::model::{BuildingId, RiskLevel};
    use crate::protocol::Delta;

    fn app_with_link() -> (
        App,
        crossbeam_channel::Sender<StreamEvent>,
        tokio::sync::mpsc::Receiver<SourceRequest>,
    ) {
        let mut scene = DemoScene::embedded().expect("scene");
        scene.buildings = 200;
        scene.cell_m = 800.0;
        let city = generate(&scene);
        let (events_tx, events) = crossbeam_channel::bounded(1024);
        let (commands, commands_rx) = tokio::sync::mpsc::channel(8);
        let mut app = App::new();
        app.add_plugins(MinimalPlugins)
            .configure_sets(Update, AppSystems::Ingest)
            .insert_resource(CityState::new(&city))
            .init_resource::<TimeControl>()
            .insert_resource(LiveSource::new(events, commands, None, None));
        plugin(&mut app);
        (app, events_tx, commands_rx)
    }

    fn delta(seq: u64, changes: usize) -> Delta {
        Delta {
            seq,
            time_ms: seq as i64,
            changes: (0..changes)
                .map(|i| Change::Level {
                    building: BuildingId((i % 200) as u32),
                    level: RiskLevel::ALL[(seq as usize) % 5],
                })
                .collect(),
        }
    }

    #[test]
    fn ingest_applies_within_the_budget_and_keeps_the_rest_for_later() {
        let (mut app, events, _commands) = app_with_link();
        let snapshot = app.world().resource::<CityState>().to_snapshot(0);
        events
            .send(StreamEvent::Message(Message::Snapshot(snapshot)))
            .expect("send");
        // Three deltas of 30k changes against a budget of 50k per frame: a delta
        // is applied whole, so two go in the first frame, the third waits.
        for seq in 1..=3 {
            events
                .send(StreamEvent::Message(Message::Delta(delta(seq, 30_000))))
                .expect("send");
        }
        app.update();
        let state = app.world().resource::<CityState>();
        assert_eq!(
            state.last_seq(),
            Some(2),
            "budget spent after the second delta"
        );
        assert_eq!(
            app.world().resource::<StreamState>().backlog,
            1,
            "the third waits, not dropped"
        );
        app.update();
        assert_eq!(app.world().resource::<CityState>().last_seq(), Some(3));
        assert_eq!(app.world().resource::<StreamState>().applied, 3);
    }

    #[test]
    fn a_gap_asks_the_link_to_resync_and_status_is_kept() {
        let (mut app, events, mut commands) = app_with_link();
        let snapshot = app.world().resource::<CityState>().to_snapshot(0);
        events
            .send(StreamEvent::Status(SourceStatus::Connected {
                session: 1,
                role: crate::protocol::Role::Viewer,
                scope: crate::protocol::Scope::City,
            }))
            .expect("send");
        events
            .send(StreamEvent::Message(Message::Snapshot(snapshot)))
            .expect("send");
        events
            .send(StreamEvent::Message(Message::Delta(delta(5, 1))))
            .expect("send");
        app.update();
        assert!(matches!(
            app.world().resource::<StreamState>().status,
            SourceStatus::Connected { .. }
        ));
        assert_eq!(app.world().resource::<CityState>().last_seq(), Some(0));
        assert_eq!(
            commands.try_recv().ok(),
            Some(SourceRequest::Resync { from: Some(0) })
        );
        assert!(app.world().resource::<StreamState>().last_error.is_some());
    }
}
