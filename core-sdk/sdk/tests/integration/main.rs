//! guichet-sdk integration suite: the store, the scanner and QR codes, without a server
//! (the suites against the real server live in `testing/e2e`).

// Tests state their preconditions with unwrap: a failure there is a test failure.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod fixture;
mod offline_door;
mod qr_zbar;
mod scanning;
