//! The backend: rules that turn readings into state changes and
//! notifications, and the window of recent deltas that lets a client resume
//! without loss. (The tokio server, SQLite store and recorder build on these.)

pub mod rules;
pub mod window;
