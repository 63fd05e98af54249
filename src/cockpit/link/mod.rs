//! The cockpit's live link: the client thread ([`client`]) feeds a bounded
//! channel; one ingest system applies at most a budget of changes per frame
//! to `CityState` (never dropping: what does not fit waits for the next
//! frame), asks for a resync on a gap, and keeps the link status for the UI.

pub mod client;

use std::time::SystemTime;

use bevy::prelude::*;
use crossbeam_channel::TryRecvError;

pub use client::{LinkCommand, LinkConfig, LinkEvent, LinkHandle, LinkStatus, spawn_link};

use super::app::AppSystems;
use super::state::CityState;
use crate::protocol::Message;

/// Changes applied per frame at most (a snapshot counts one per 64 buildings).
pub const CHANGE_BUDGET_PER_FRAME: usize = 50_000;

/// The cockpit's ends of the link, as a resource.
#[derive(Resource)]
pub struct LinkInbox(pub LinkHandle);

/// What the UI shows about the link.
#[derive(Resource, Debug, Clone)]
pub struct LinkState {
    pub status: LinkStatus,
    pub status_since: SystemTime,
    /// Messages still queued after this frame's budget.
    pub backlog: usize,
    /// Deltas applied since start.
    pub applied: u64,
    pub last_error: Option<String>,
}

impl Default for LinkState {
    fn default() -> Self {
        LinkState {
            status: LinkStatus::Connecting,
            status_since: SystemTime::now(),
            backlog: 0,
            applied: 0,
            last_error: None,
        }
    }
}

pub fn plugin(app: &mut App) {
    app.init_resource::<LinkState>()
        .add_systems(Update, ingest.in_set(AppSystems::Ingest));
}

/// Drains the link within the frame budget and applies it to the state.
pub fn ingest(
    inbox: Option<Res<LinkInbox>>,
    mut state: ResMut<CityState>,
    mut link: ResMut<LinkState>,
) {
    let Some(inbox) = inbox else { return };
    let handle = &inbox.0;
    let mut budget = CHANGE_BUDGET_PER_FRAME;
    while budget > 0 {
        let event = match handle.events.try_recv() {
            Ok(event) => event,
            Err(TryRecvError::Empty) => break,
            Err(TryRecvError::Disconnected) => {
                if link.status != LinkStatus::Stopped {
                    link.status = LinkStatus::Stopped;
                    link.status_since = SystemTime::now();
                }
                break;
            }
        };
        match event {
            LinkEvent::Status(status) => {
                if status != link.status {
                    link.status = status;
                    link.status_since = SystemTime::now();
                }
            }
            LinkEvent::Message(Message::Snapshot(snapshot)) => {
                budget = budget.saturating_sub(snapshot.levels.len() / 64 + 1);
                if let Err(e) = state.apply_snapshot(&snapshot) {
                    warn!("link: {e}");
                    link.last_error = Some(e.to_string());
                }
            }
            LinkEvent::Message(Message::Delta(delta)) => {
                budget = budget.saturating_sub(delta.changes.len().max(1));
                match state.apply_delta(&delta) {
                    Ok(_) => link.applied += 1,
                    Err(e) => {
                        warn!("link: {e}; resyncing");
                        link.last_error = Some(e.to_string());
                        let _ = handle.commands.try_send(LinkCommand::Resync {
                            from: state.last_seq(),
                        });
                    }
                }
            }
            LinkEvent::Message(Message::CommandResult(result)) => {
                if let Err(reason) = result.outcome {
                    link.last_error = Some(reason);
                }
            }
            LinkEvent::Message(_) => {}
        }
    }
    link.backlog = handle.events.len();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geo::demo::{DemoScene, generate};
    use crate::model::{BuildingId, RiskLevel};
    use crate::protocol::{Change, Delta};

    fn app_with_link() -> (
        App,
        crossbeam_channel::Sender<LinkEvent>,
        tokio::sync::mpsc::Receiver<LinkCommand>,
    ) {
        let mut scene = DemoScene::embedded().expect("scene");
        scene.buildings = 200;
        scene.cell_m = 800.0;
        let city = generate(&scene);
        let (events_tx, events) = crossbeam_channel::bounded(client::INBOX_CAPACITY);
        let (commands, commands_rx) = tokio::sync::mpsc::channel(8);
        let mut app = App::new();
        app.add_plugins(MinimalPlugins)
            .configure_sets(Update, AppSystems::Ingest)
            .insert_resource(CityState::new(&city))
            .insert_resource(LinkInbox(LinkHandle::from_channels(events, commands)));
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
            .send(LinkEvent::Message(Message::Snapshot(snapshot)))
            .expect("send");
        // Three deltas of 30k changes against a budget of 50k per frame: a delta
        // is applied whole, so two go in the first frame, the third waits.
        for seq in 1..=3 {
            events
                .send(LinkEvent::Message(Message::Delta(delta(seq, 30_000))))
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
            app.world().resource::<LinkState>().backlog,
            1,
            "the third waits, not dropped"
        );
        app.update();
        assert_eq!(app.world().resource::<CityState>().last_seq(), Some(3));
        assert_eq!(app.world().resource::<LinkState>().applied, 3);
    }

    #[test]
    fn a_gap_asks_the_link_to_resync_and_status_is_kept() {
        let (mut app, events, mut commands) = app_with_link();
        let snapshot = app.world().resource::<CityState>().to_snapshot(0);
        events
            .send(LinkEvent::Status(LinkStatus::Connected {
                session: 1,
                role: crate::protocol::Role::Viewer,
                scope: crate::protocol::Scope::City,
            }))
            .expect("send");
        events
            .send(LinkEvent::Message(Message::Snapshot(snapshot)))
            .expect("send");
        events
            .send(LinkEvent::Message(Message::Delta(delta(5, 1))))
            .expect("send");
        app.update();
        assert!(matches!(
            app.world().resource::<LinkState>().status,
            LinkStatus::Connected { .. }
        ));
        assert_eq!(app.world().resource::<CityState>().last_seq(), Some(0));
        assert_eq!(
            commands.try_recv().ok(),
            Some(LinkCommand::Resync { from: Some(0) })
        );
        assert!(app.world().resource::<LinkState>().last_error.is_some());
    }
}
