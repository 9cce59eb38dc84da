//! Guichet SDK: the embeddable offline-first client.
//!
//! - [`scanner`] — the door scanner: offline admission decisions over the domain's
//!   credential rules, every scan committed to the local store before its decision returns.
//! - [`store`] — the local SQLite store (WAL, versioned migrations).
//! - [`qr`] — a ticket credential as a QR code (SVG, PNG), in alphanumeric mode.
//!
//! The API is synchronous and does blocking disk I/O: async hosts call it from
//! `spawn_blocking` or a dedicated thread, never from an async worker.

mod error;
pub mod qr;
pub mod scanner;
pub mod store;

pub use error::{Error, StorageError};
