//! guichet-e2e suite: the SDK against the real server in-process (one binary).

// Tests state their preconditions with unwrap: a failure there is a test failure.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod attendee;
mod booking_faults;
mod catalog;
mod check_in;
mod door_simulation;
mod faults;
mod live;
mod oidc;
mod organizer;
mod scanner_sync;
mod session;
mod threads;
mod transport;
