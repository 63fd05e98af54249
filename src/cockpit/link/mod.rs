//! The cockpit's live link: the client thread ([`client`]) keeps a session
//! to the backend and feeds a bounded channel of [`StreamEvent`]s; the
//! stream module's ingest applies them (the link knows nothing of bevy's
//! state). [`LinkHandle::into_source`] turns the handle into the cockpit's
//! [`LiveSource`].

pub mod client;

pub use client::{LinkConfig, LinkHandle, spawn_link};

pub use crate::cockpit::stream::{LiveSource, SourceRequest, SourceStatus, StreamEvent};
