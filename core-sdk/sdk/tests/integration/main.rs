//! guichet-sdk integration suite.

// Tests state their preconditions with unwrap: a failure there is a test failure.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod attendee;
mod booking_faults;
mod catalog;
mod faults;
mod fixture;
mod organizer;
mod qr_zbar;
mod scanner_sync;
mod scanning;
mod server;
mod session;
mod threads;
mod transport;
