//! Guichet SDK: the embeddable offline-first client.
//!
//! - [`Client`] — the facade a host opens on a server URL and a data directory: session
//!   (sign up, log in, refresh, log out) over a swappable [`transport`], state in one
//!   SQLite file owned by a store thread.
//! - [`catalog`] — the public catalog cached offline from the server's change feed, with
//!   full-text (prefix, accents folded), date and distance search, ranked.
//! - [`booking`] — holds with a countdown, checkout, release and refund as persisted
//!   operations with idempotency keys, and the pending-operations queue.
//! - [`transport`] — the [`transport::Transport`] trait and its reqwest implementation
//!   (timeouts, retries with back-off and jitter for idempotent calls).
//! - [`Error`], [`ErrorKind`] and [`BoundaryError`] — the SDK's error, its closed set of
//!   kinds, and the flat `{kind, message}` every shell hands its host.
//! - [`session`] — the account, the [`session::SecretStore`] hook for the host's secure
//!   storage, and sign-in through an OpenID Connect provider ([`session::oidc`]).
//! - [`wallet`] — the account's tickets offline, with QR codes, refreshed by a sync.
//! - [`organizer`] — events, ticket types, sales report, attendee list with search.
//! - [`check_in`] — the organizer's doors: check-in lists, scanner pairing, devices, alerts.
//! - [`live`] — live updates (sales, check-ins, an order) over the server's GraphQL
//!   subscriptions, reconnecting with back-off.
//! - [`notify`] — progress and change listeners with cancellable [`notify::TaskHandle`]s.
//! - [`scanner`] — the door scanner: offline admission decisions over the domain's
//!   credential rules, every scan committed to the local store before its decision returns.
//! - `store` — the local SQLite store (WAL, versioned migrations) on the SDK's one actor
//!   thread; internal (the `internals` feature opens it to the SDK's own tests).
//! - [`qr`] — a ticket credential as a QR code (SVG, PNG), in alphanumeric mode.
//!
//! The [`Client`] and the [`scanner::Door`] are async, callable from any thread (they spawn
//! on their own runtime), and keep disk work on their store thread, off the async workers.

#[cfg(feature = "uniffi")]
uniffi::setup_scaffolding!();

#[cfg(feature = "uniffi")]
mod ffi_types;

mod api;
pub mod booking;
pub mod catalog;
pub mod check_in;
mod client;
mod core;
mod error;
pub mod live;
mod model;
pub mod notify;
pub mod organizer;
pub mod qr;
pub mod scanner;
pub mod session;
/// The local SQLite store. Internal: public only with the `internals` feature, for the
/// SDK's own tests and benchmarks (no stability promise); hosts use [`Client`] and
/// [`scanner::Door`].
#[cfg(feature = "internals")]
pub mod store;
#[cfg(not(feature = "internals"))]
pub(crate) mod store;
pub mod transport;
pub mod wallet;

pub use api::ApiError;
pub use client::{
    Booking, Catalog, CheckIn, Client, ClientBuilder, ClientConfig, DATABASE_FILE, Organizer,
    SyncReport, Wallet,
};
pub use error::{BoundaryError, Error, ErrorKind, SecretStoreError, StorageError};
