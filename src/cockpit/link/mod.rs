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
