//! door-scanner integration suite: the real binary, end to end.

// Tests state their preconditions with unwrap: a failure there is a test failure.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod crash;
mod demo;

use std::process::Command;

/// The binary under test (cargo builds it for this suite).
pub fn door_scanner() -> Command {
    Command::new(env!("CARGO_BIN_EXE_door-scanner"))
}

/// A printed decision line: `<scan id> <ADMITTED|REJECTED> <reason> ticket=<id|->`.
#[derive(Debug)]
pub struct Line {
    pub scan_id: uuid::Uuid,
    pub verdict: String,
    pub reason: String,
}

pub fn parse_line(line: &str) -> Line {
    let parts: Vec<&str> = line.split(' ').collect();
    assert_eq!(parts.len(), 4, "unexpected line {line:?}");
    assert!(parts[3].starts_with("ticket="), "unexpected line {line:?}");
    Line {
        scan_id: parts[0].parse().unwrap(),
        verdict: parts[1].to_owned(),
        reason: parts[2].to_owned(),
    }
}
