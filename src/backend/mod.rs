//! The backend (authoritative): readings from the scenario simulator or from
//! authorised clients go through the rules; every change becomes the next
//! delta, journaled in SQLite with the notifications it caused, kept in a
//! resume window and streamed to every session over the protocol.
//!
//! | file | what lives there |
//! |---|---|
//! | `rules.rs` | fire-main rule: 0 MPa → at least 较大 + three SMS; restore after hold time |
//! | `dispatch.rs` | dispatch rules as data: suggested departments, case deadlines |
//! | `engine.rs` | the authoritative state: rules → delta → store → live state → window |
//! | `store.rs` | SQLite: buildings, sensors, readings summary, events, outbox, audit, journal |
//! | `window.rs` | recent deltas for lossless resume |
//! | `scenario.rs` | scenario files and the time-scaled, seeded simulator |
//! | `tokens.rs` | token file: token → name, role, scope |
//! | `server.rs` | tokio: listener, sessions, engine task, shutdown |
//! | `fast_forward.rs` | `citytwin record`: the scenario ticked as fast as it goes into a recording |

pub mod dispatch;
pub mod engine;
pub mod fast_forward;
pub mod feed;
pub mod hazard_sim;
pub mod rules;
pub mod scenario;
pub mod server;
pub mod store;
pub mod tokens;
pub mod window;
