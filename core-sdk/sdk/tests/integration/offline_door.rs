//! The door a shell opens with no server: `Door::open_offline` on an exported event
//! configuration, its flat `ScanResult`, and what it refuses.

use guichet_sdk::ErrorKind;
use guichet_sdk::scanner::{Direction, Door, OfflineDoorConfig, ScanResult};

use crate::fixture::{AT_MS, BALCONY, config, ticket, ticket_of_type};

fn offline(dir: &std::path::Path, gate: &str, event_json: Option<String>) -> OfflineDoorConfig {
    OfflineDoorConfig {
        data_dir: dir.to_string_lossy().into_owned(),
        gate: gate.to_owned(),
        event_json,
    }
}

async fn scan(door: &Door, text: &str, at_ms: i64) -> ScanResult {
    ScanResult::from(&door.scan_at(text, Direction::Entry, at_ms).await.unwrap())
}

#[tokio::test]
async fn an_offline_door_decides_locally_keeps_its_scans_and_cannot_sync() {
    let dir = tempfile::tempdir().unwrap();
    let json = serde_json::to_string(&config(false)).unwrap();
    let door = Door::open_offline(offline(dir.path(), "north", Some(json)))
        .await
        .unwrap();
    assert!(!door.is_online());

    let first = scan(&door, &ticket(1), AT_MS).await;
    assert!(first.admitted, "{first:?}");
    assert_eq!((first.reason, first.detail), (None, None));
    assert_eq!(
        first.ticket_id.as_deref(),
        Some(uuid::Uuid::from_u128(1).to_string().as_str())
    );
    assert!(!first.online);
    assert_eq!(first.device_time_ms, AT_MS);

    let again = scan(&door, &ticket(1), AT_MS + 1_000).await;
    assert!(!again.admitted);
    assert_eq!(again.reason.as_deref(), Some("already_inside"));

    let mut forged = ticket(2);
    forged.pop();
    forged.push(if ticket(2).ends_with('A') { 'B' } else { 'A' });
    let forged = scan(&door, &forged, AT_MS).await;
    assert_eq!(forged.reason.as_deref(), Some("invalid"));
    assert_ne!(
        forged.detail.as_deref(),
        Some("invalid"),
        "the cause is kept"
    );
    assert_eq!(forged.ticket_id, None);

    let balcony = scan(&door, &ticket_of_type(3, BALCONY), AT_MS).await;
    assert_eq!(balcony.reason.as_deref(), Some("not_on_list"));
    assert!(balcony.ticket_type_id.is_some());

    // No server to push to: NOT_PAIRED, and the scans stay waiting for a paired door.
    assert_eq!(door.sync().await.unwrap_err().kind(), ErrorKind::NotPaired);
    assert_eq!(door.unpushed_count().await.unwrap(), 4);
    drop(door);

    // Reopened without a configuration: the stored one, and the history it knew.
    let door = Door::open_offline(offline(dir.path(), "south", None))
        .await
        .unwrap();
    let later = scan(&door, &ticket(1), AT_MS + 2_000).await;
    assert_eq!(later.reason.as_deref(), Some("already_inside"));
    assert_eq!(door.known_scans().await.unwrap().len(), 5);
}

#[tokio::test]
async fn an_offline_door_refuses_bad_configurations_and_unknown_gates() {
    let dir = tempfile::tempdir().unwrap();
    let error = Door::open_offline(offline(dir.path(), "north", Some("{\"keys\":".into())))
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::InvalidInput);

    let empty = tempfile::tempdir().unwrap();
    let error = Door::open_offline(offline(empty.path(), "north", None))
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::NotFound, "{error}");

    let json = serde_json::to_string(&config(true)).unwrap();
    let error = Door::open_offline(offline(dir.path(), "west", Some(json)))
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::InvalidInput, "{error}");
}

#[test]
fn an_offline_door_opens_from_a_thread_without_a_runtime() {
    let dir = tempfile::tempdir().unwrap();
    let json = serde_json::to_string(&config(true)).unwrap();
    let path = dir.path().to_owned();
    let admitted = std::thread::spawn(move || {
        assert!(tokio::runtime::Handle::try_current().is_err());
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let door = Door::open_offline(offline(&path, "north", Some(json)))
                .await
                .unwrap();
            scan(&door, &ticket(9), AT_MS).await.admitted
        })
    })
    .join()
    .unwrap();
    assert!(admitted);
}
