//! `demo-setup` then `scan`: every demo ticket gets the decision its file is named after.

use guichet_sdk::store::Store;

use crate::{door_scanner, parse_line};

const EXPECTED: [(&str, &str, &str); 9] = [
    ("01-admitted", "ADMITTED", "-"),
    ("02-admitted-rotated-out-key", "ADMITTED", "-"),
    ("03-invalid-retired-key", "REJECTED", "invalid:retired_key"),
    ("04-invalid-forged", "REJECTED", "invalid:bad_signature"),
    ("05-wrong-event", "REJECTED", "wrong_event"),
    ("06-revoked", "REJECTED", "revoked"),
    ("07-not-yet-valid", "REJECTED", "not_yet_valid"),
    ("08-expired", "REJECTED", "expired"),
    ("09-not-on-list", "REJECTED", "not_on_list"),
];

fn setup(dir: &std::path::Path) {
    let status = door_scanner()
        .arg("demo-setup")
        .arg("--out")
        .arg(dir)
        .output()
        .unwrap();
    assert!(status.status.success(), "{status:?}");
    let config = std::fs::read_to_string(dir.join("scanner-config.json")).unwrap();
    assert!(
        !config.contains("secret"),
        "the scanner configuration holds public keys only"
    );
    let issuer = std::fs::read_to_string(dir.join("issuer-key.json")).unwrap();
    assert!(issuer.contains("secret_key"));
}

#[test]
fn demo_texts_on_stdin_get_their_named_decisions_and_persist() {
    let dir = tempfile::tempdir().unwrap();
    setup(dir.path());
    let db = dir.path().join("door.db");
    let tickets = std::fs::File::open(dir.path().join("tickets.txt")).unwrap();
    let output = door_scanner()
        .args(["scan", "--gate", "north", "--config"])
        .arg(dir.path().join("scanner-config.json"))
        .arg("--dir")
        .arg(dir.path())
        .stdin(tickets)
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let stdout = String::from_utf8(output.stdout).unwrap();
    let lines: Vec<_> = stdout.lines().map(parse_line).collect();
    assert_eq!(lines.len(), EXPECTED.len());
    for (line, (name, verdict, reason)) in lines.iter().zip(EXPECTED) {
        assert_eq!(
            (line.verdict.as_str(), line.reason.as_str()),
            (verdict, reason),
            "{name}"
        );
    }
    // A second run without --config uses the paired store and sees the first run's entries.
    let first = std::fs::File::open(dir.path().join("tickets/01-admitted.txt")).unwrap();
    let output = door_scanner()
        .args(["scan", "--gate", "south", "--dir"])
        .arg(dir.path())
        .stdin(first)
        .output()
        .unwrap();
    let line = parse_line(String::from_utf8(output.stdout).unwrap().trim_end());
    assert_eq!(line.reason, "already_inside");
    let store = Store::open(&db).unwrap();
    assert_eq!(store.scan_count().unwrap(), 10);
    assert_eq!(store.scan(&line.scan_id).unwrap().unwrap().gate, "south");
}

#[test]
fn demo_png_files_are_read_with_the_qr_decoder() {
    let dir = tempfile::tempdir().unwrap();
    setup(dir.path());
    let images: Vec<_> = EXPECTED
        .iter()
        .map(|(name, ..)| dir.path().join(format!("tickets/{name}.png")))
        .collect();
    let output = door_scanner()
        .args(["scan", "--gate", "north", "--config"])
        .arg(dir.path().join("scanner-config.json"))
        .arg("--dir")
        .arg(dir.path())
        .args(&images)
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let stdout = String::from_utf8(output.stdout).unwrap();
    let reasons: Vec<_> = stdout.lines().map(|l| parse_line(l).reason).collect();
    let expected: Vec<_> = EXPECTED
        .iter()
        .map(|(_, _, reason)| reason.to_string())
        .collect();
    assert_eq!(reasons, expected);
}

#[test]
fn bad_usage_and_unpaired_stores_fail_with_a_message() {
    let dir = tempfile::tempdir().unwrap();
    let output = door_scanner()
        .arg("scan")
        .arg("--gate")
        .arg("north")
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("missing --dir"));
    let output = door_scanner()
        .args(["scan", "--gate", "north", "--dir"])
        .arg(dir.path().join("new"))
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("not configured"));
}
