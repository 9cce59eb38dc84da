//! guichet-domain integration suite: credentials and admission as a door sees them.

// Tests state their preconditions with unwrap: a failure there is a test failure.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod fixture;
mod hostile;
mod properties;
