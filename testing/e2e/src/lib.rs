//! guichet-e2e: the SDK driven against the real Guichet server, in-process.
//!
//! This crate is the one place that depends on both `guichet-sdk` and `guichet-server`
//! (ARCHITECTURE.md): the SDK's own tests never compile the server. It holds
//! - [`TestServer`], the one in-process start-up (a loopback port over a fresh SQLite
//!   file, or a fresh PostgreSQL database with `GUICHET_E2E_ENGINE=postgres`, and the test
//!   payment provider) with a raw GraphQL client, so suites check what the server holds
//!   through its API, independently of the SDK;
//! - [`seed_catalog`], the bulk seeding of published events for catalog tests and
//!   benchmarks;
//! - the end-to-end suites (`tests/integration`) and the two server-booting benchmarks
//!   (`examples/catalog_sync.rs`, `examples/door_sync.rs`).

// Test support: a failed precondition is a failed test, so helpers unwrap.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod engine;
pub mod seed_catalog;
mod server;

pub use engine::Engine;
pub use server::{PASSWORD, TestServer, event_input, new_account};
