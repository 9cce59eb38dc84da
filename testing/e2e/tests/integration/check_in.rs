//! The organizer's doors through the SDK: check-in lists, pairing a scanner with a one-time
//! code, the devices list and revocation, the check-in count, and the door's status.

use guichet_domain::checkin::Direction;
use guichet_sdk::ErrorKind;
use guichet_sdk::booking::HoldLine;
use guichet_sdk::check_in::CheckInListDraft;
use guichet_sdk::scanner::Door;
use guichet_sdk::session::Role;

use guichet_e2e::{PASSWORD, TestServer, new_account};

use crate::scanner_sync::AT;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn organizer_pairs_a_door_counts_check_ins_and_revokes_it() {
    let server = TestServer::start().await;
    let token = server.token_for("doors@example.org", "ORGANIZER").await;
    let (event, tt) = server.published_event(&token, 10).await;
    let dir = tempfile::tempdir().unwrap();
    let org = server.client(dir.path()).open().await.unwrap();
    org.log_in("doors@example.org", PASSWORD).await.unwrap();
    assert!(org.check_in().lists(&event).await.unwrap().is_empty());

    let draft = |types: Vec<String>| CheckInListDraft {
        name: "Main entrance".into(),
        ticket_type_ids: types,
        gates: vec!["North".into(), "South".into()],
        re_entry: true,
    };
    let refused = org
        .check_in()
        .create_list(&event, draft(vec![]))
        .await
        .unwrap_err();
    assert_eq!(refused.kind(), ErrorKind::InvalidInput);
    let list = org
        .check_in()
        .create_list(&event, draft(vec![tt.clone()]))
        .await
        .unwrap();
    assert_eq!(
        (list.gates.len(), list.re_entry, list.checked_in),
        (2, true, 0)
    );
    assert_eq!(
        org.check_in().lists(&event).await.unwrap(),
        vec![list.clone()]
    );

    let pairing = org.check_in().pair_scanner(&list.id).await.unwrap();
    assert_eq!(pairing.code.len(), 9);
    assert_eq!(
        pairing.qr_text,
        format!("GUICHET-PAIR:{}", pairing.code.replace('-', ""))
    );
    assert_eq!(pairing.list.id, list.id);

    let door_dir = tempfile::tempdir().unwrap();
    let door = Door::builder(&server.url, door_dir.path(), "North")
        .pair(&pairing.code, "Door 1")
        .await
        .unwrap();
    let status = door.status().await.unwrap();
    assert_eq!(
        (status.gate.as_str(), status.list_name.as_str()),
        ("North", "Main entrance")
    );
    assert_eq!(status.gates, vec!["North".to_owned(), "South".to_owned()]);
    assert_eq!(
        (status.online, status.unpushed, status.last_synced_ms),
        (true, 0, None)
    );
    let devices = org.check_in().devices(&event).await.unwrap();
    assert_eq!(devices.len(), 1);
    assert_eq!(
        (devices[0].name.as_str(), devices[0].revoked_at),
        ("Door 1", None)
    );

    // A ticket bought and scanned in: the list's count says one.
    let buyer_dir = tempfile::tempdir().unwrap();
    let buyer = server.client(buyer_dir.path()).open().await.unwrap();
    buyer
        .sign_up(new_account("door-fan@example.org", Role::Attendee))
        .await
        .unwrap();
    let line = HoldLine {
        ticket_type_id: tt,
        quantity: 1,
    };
    let hold = buyer.booking().hold(&event, &[line]).await.unwrap();
    let order = buyer
        .booking()
        .checkout(&hold.id, Some("tok_visa"))
        .await
        .unwrap();
    // The event's signing key is made at its first sale, after the pairing's pull: the door
    // learns it at its next sync (the desktop app's door syncs every few seconds).
    door.sync().await.unwrap();
    // At the published event's time (the ticket is valid then), as the scanner suite does.
    let scan = door
        .scan_at(&order.tickets[0].credential, Direction::Entry, AT + 1_000)
        .await
        .unwrap();
    assert!(
        scan.outcome.decision.is_admitted(),
        "{:?}",
        scan.outcome.decision
    );
    door.sync().await.unwrap();
    let status = door.status().await.unwrap();
    assert_eq!(status.unpushed, 0);
    assert!(
        status.last_synced_ms.is_some(),
        "a successful sync is recorded"
    );
    assert_eq!(org.check_in().lists(&event).await.unwrap()[0].checked_in, 1);
    assert!(
        org.check_in()
            .duplicate_alerts(&event)
            .await
            .unwrap()
            .is_empty()
    );

    // Another organizer can neither pair nor revoke; the owner revokes and the door stops.
    let other_dir = tempfile::tempdir().unwrap();
    server
        .token_for("other-doors@example.org", "ORGANIZER")
        .await;
    let other = server.client(other_dir.path()).open().await.unwrap();
    other
        .log_in("other-doors@example.org", PASSWORD)
        .await
        .unwrap();
    assert_eq!(
        other
            .check_in()
            .pair_scanner(&list.id)
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::Forbidden
    );
    let revoked = org.check_in().revoke_scanner(&devices[0].id).await.unwrap();
    assert!(revoked.revoked_at.is_some());
    assert_eq!(
        door.sync().await.unwrap_err().kind(),
        ErrorKind::DeviceRevoked
    );
}
