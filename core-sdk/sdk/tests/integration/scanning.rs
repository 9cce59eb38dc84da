//! The scanner end to end over a real SQLite file.

use guichet_domain::admission::{Decision, InvalidCause, Presence, ScanRejection};
use guichet_domain::checkin::Direction::{Entry, Exit};
use guichet_sdk::Error;
use guichet_sdk::scanner::Scanner;
use guichet_sdk::store::Store;
use uuid::Uuid;

use crate::fixture::{AT_MS, BALCONY, CLOSE, EVENT, config, scanner_at, ticket, ticket_of_type};

fn rejected(reason: ScanRejection) -> Decision {
    Decision::Rejected(reason)
}

#[test]
fn every_scan_is_stored_with_its_decision_and_presence() {
    let dir = tempfile::tempdir().unwrap();
    let mut scanner = scanner_at(&dir.path().join("door.db"), false);
    let first = scanner.scan_at(&ticket(1), Entry, AT_MS).unwrap();
    assert_eq!(first.decision, Decision::Admitted);
    assert_eq!(first.ticket.unwrap().ticket_id, Uuid::from_u128(1));
    let again = scanner.scan_at(&ticket(1), Entry, AT_MS + 1).unwrap();
    assert_eq!(again.decision, rejected(ScanRejection::AlreadyInside));
    let garbage = scanner.scan_at("not a ticket", Entry, AT_MS + 2).unwrap();
    assert_eq!(
        garbage.decision,
        rejected(ScanRejection::Invalid(InvalidCause::Malformed))
    );

    let store = scanner.store();
    assert_eq!(store.scan_count().unwrap(), 3);
    let stored = store.scan(&first.scan_id).unwrap().unwrap();
    assert_eq!(stored.decision, Decision::Admitted);
    assert_eq!((stored.gate.as_str(), stored.direction), ("north", Entry));
    assert_eq!(stored.device_time_ms, AT_MS);
    assert_eq!(stored.device_id, store.device_id().unwrap());
    let stored = store.scan(&garbage.scan_id).unwrap().unwrap();
    assert_eq!(stored.ticket_id, None);
    assert_eq!(stored.decision, garbage.decision);
    let ids: Vec<Uuid> = store.scans().unwrap().iter().map(|s| s.id).collect();
    assert_eq!(ids, [first.scan_id, again.scan_id, garbage.scan_id]);
    let known = store.ticket(&Uuid::from_u128(1)).unwrap().unwrap();
    assert_eq!(
        known.presence,
        Presence {
            entries: 1,
            inside: true
        }
    );
    assert!(!known.revoked);
}

#[test]
fn history_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("door.db");
    {
        let mut scanner = scanner_at(&path, false);
        assert!(
            scanner
                .scan_at(&ticket(1), Entry, AT_MS)
                .unwrap()
                .decision
                .is_admitted()
        );
        assert!(
            scanner
                .scan_at(&ticket(1), Exit, AT_MS + 1)
                .unwrap()
                .decision
                .is_admitted()
        );
    }
    let mut scanner = scanner_at(&path, false);
    assert_eq!(scanner.store().scan_count().unwrap(), 2);
    let decision = scanner
        .scan_at(&ticket(1), Entry, AT_MS + 2)
        .unwrap()
        .decision;
    assert_eq!(decision, rejected(ScanRejection::AlreadyUsed));
}

#[test]
fn re_entry_lists_let_people_back_in() {
    let dir = tempfile::tempdir().unwrap();
    let mut scanner = scanner_at(&dir.path().join("door.db"), true);
    let mut decide = |direction, t| scanner.scan_at(&ticket(1), direction, AT_MS + t).unwrap();
    assert_eq!(decide(Exit, 0).decision, rejected(ScanRejection::NotInside));
    assert_eq!(decide(Entry, 1).decision, Decision::Admitted);
    assert_eq!(
        decide(Entry, 2).decision,
        rejected(ScanRejection::AlreadyInside)
    );
    assert_eq!(decide(Exit, 3).decision, Decision::Admitted);
    assert_eq!(decide(Exit, 4).decision, rejected(ScanRejection::NotInside));
    assert_eq!(decide(Entry, 5).decision, Decision::Admitted);
    let known = scanner
        .store()
        .ticket(&Uuid::from_u128(1))
        .unwrap()
        .unwrap();
    assert_eq!(
        known.presence,
        Presence {
            entries: 2,
            inside: true
        }
    );
}

#[test]
fn revocations_list_rules_and_windows_apply() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("door.db");
    let mut scanner = scanner_at(&path, false);
    scanner.revoke(Uuid::from_u128(2)).unwrap();
    let scan = |s: &mut Scanner, text: &str, at| s.scan_at(text, Entry, at).unwrap().decision;
    assert_eq!(
        scan(&mut scanner, &ticket(2), AT_MS),
        rejected(ScanRejection::Revoked)
    );
    let balcony = ticket_of_type(3, BALCONY);
    assert_eq!(
        scan(&mut scanner, &balcony, AT_MS),
        rejected(ScanRejection::NotOnList)
    );
    assert_eq!(
        scan(&mut scanner, &ticket(4), CLOSE * 1000),
        rejected(ScanRejection::Expired)
    );
    assert_eq!(
        scan(&mut scanner, &ticket(4), 0),
        rejected(ScanRejection::NotYetValid)
    );
    drop(scanner);
    // The revocation was stored, not only held in memory.
    let mut scanner = scanner_at(&path, false);
    assert_eq!(
        scan(&mut scanner, &ticket(2), AT_MS),
        rejected(ScanRejection::Revoked)
    );
    assert!(
        scanner
            .store()
            .ticket(&Uuid::from_u128(2))
            .unwrap()
            .unwrap()
            .revoked
    );
    assert_eq!(scanner.store().scan_count().unwrap(), 5);
}

#[test]
fn hostile_input_is_stored_as_invalid_without_panicking() {
    let dir = tempfile::tempdir().unwrap();
    let mut scanner = scanner_at(&dir.path().join("door.db"), false);
    let huge = "A".repeat(10 * 1024 * 1024);
    let truncated = ticket(1)[..100].to_string();
    let lower = ticket(1).to_lowercase();
    for text in [
        "",
        huge.as_str(),
        truncated.as_str(),
        lower.as_str(),
        "\u{feff}%%%",
    ] {
        let outcome = scanner.scan_at(text, Entry, AT_MS).unwrap();
        assert_eq!(
            outcome.decision,
            rejected(ScanRejection::Invalid(InvalidCause::Malformed))
        );
        assert_eq!(outcome.ticket, None);
    }
    assert_eq!(scanner.store().scan_count().unwrap(), 5);
}

#[test]
fn scanner_refuses_unknown_gates_and_unpaired_stores() {
    let store = Store::open_in_memory().unwrap();
    assert!(matches!(
        Scanner::open(store, "north"),
        Err(Error::NotConfigured)
    ));
    let mut store = Store::open_in_memory().unwrap();
    store.save_event_config(&config(false)).unwrap();
    assert!(matches!(
        Scanner::open(store, "west"),
        Err(Error::GateNotOnList { .. })
    ));
}

#[test]
fn event_config_round_trips_through_the_store_and_json() {
    let mut cfg = config(true);
    cfg.revocations.revoke(Uuid::from_u128(9));
    let mut store = Store::open_in_memory().unwrap();
    store.save_event_config(&cfg).unwrap();
    assert_eq!(store.load_event_config().unwrap().unwrap(), cfg);
    // Re-pairing replaces the keys and list and keeps earlier revocations.
    let mut second = config(false);
    second.revocations.revoke(Uuid::from_u128(10));
    store.save_event_config(&second).unwrap();
    let loaded = store.load_event_config().unwrap().unwrap();
    assert!(!loaded.list.re_entry());
    assert!(loaded.revocations.contains(&Uuid::from_u128(9)));
    assert!(loaded.revocations.contains(&Uuid::from_u128(10)));
    let json = serde_json::to_string(&cfg).unwrap();
    assert!(
        !json.contains("secret"),
        "scanner configuration holds public keys only"
    );
    assert_eq!(
        serde_json::from_str::<guichet_sdk::scanner::EventConfig>(&json).unwrap(),
        cfg
    );
    assert_eq!(loaded.keys.event_id(), EVENT);
}
