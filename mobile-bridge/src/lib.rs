//! Guichet for Flutter: the functions the attendee app calls through flutter_rust_bridge.
//!
//! - [`api`] — what the generated Dart sees: the opaque [`api::client::GuichetClient`]
//!   (session, catalog, booking, wallet) and plain records and enums without data, so the
//!   Dart side needs no `freezed` build step.
//! - `convert` — SDK records to the bridge's records, one function each.
//! - `feed` — progress and change listeners forwarded to a Dart `Stream`.
//!
//! Every function is the SDK's: convert, call, convert. The rules live in `guichet-sdk`.

pub mod api;
mod convert;
mod feed;
#[allow(
    unsafe_code,
    clippy::all,
    clippy::unwrap_used,
    clippy::expect_used,
    missing_debug_implementations
)]
mod frb_generated;
