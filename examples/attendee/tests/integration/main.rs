//! The attendee CLI end to end against the real server in-process.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod journey;
