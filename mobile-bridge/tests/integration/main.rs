//! The bridge's API functions against the real server in-process, the journeys the
//! attendee app takes; and the Dart syntax check of ci.sh.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod booking;
mod catalog;
mod dart_syntax;
mod live;
mod support;
