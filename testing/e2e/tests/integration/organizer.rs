//! An organizer's journey through the SDK against the real server: create, edit and
//! publish an event and its ticket types, watch sales, search attendees, refund one, call
//! the event off.

use chrono::{DateTime, Utc};
use guichet_sdk::ErrorKind;
use guichet_sdk::booking::{HoldLine, OrderStatus, TicketStatus};
use guichet_sdk::organizer::{EventChanges, EventDraft, EventStatus, TicketTypeDraft};
use guichet_sdk::session::Role;

use guichet_e2e::{TestServer, new_account};

fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text).unwrap().to_utc()
}

fn standing(capacity: i64) -> TicketTypeDraft {
    TicketTypeDraft {
        name: "Standing".into(),
        price_minor: 3000,
        currency: "EUR".into(),
        capacity,
        sale_starts_at: at("2020-01-01T00:00:00Z"),
        sale_ends_at: at("2099-01-01T00:00:00Z"),
        max_per_order: 4,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn organizer_creates_publishes_sells_searches_refunds_and_cancels() {
    let server = TestServer::start().await;
    let org_dir = tempfile::tempdir().unwrap();
    let org = server.client(org_dir.path()).open().await.unwrap();
    org.sign_up(new_account("boss@example.org", Role::Organizer))
        .await
        .unwrap();

    // A draft with a place, a ticket type, then edits that leave the place alone.
    let draft = org
        .organizer()
        .create_event(EventDraft {
            title: "Jazz night".into(),
            description: "Quartet".into(),
            venue: "Cave".into(),
            city: "Lyon".into(),
            latitude: Some(45.76),
            longitude: Some(4.84),
            starts_at: at("2099-05-01T20:00:00Z"),
            ends_at: at("2099-05-01T23:00:00Z"),
            time_zone: "Europe/Paris".into(),
            online: false,
        })
        .await
        .unwrap();
    assert_eq!(draft.status, EventStatus::Draft);
    let ticket_type = org
        .organizer()
        .add_ticket_type(&draft.id, standing(10))
        .await
        .unwrap();
    assert_eq!(ticket_type.available, 10);
    let ticket_type = org
        .organizer()
        .update_ticket_type(&ticket_type.id, standing(8))
        .await
        .unwrap();
    assert_eq!(ticket_type.details.capacity, 8);
    let edited = org
        .organizer()
        .update_event(
            &draft.id,
            EventChanges {
                title: Some("Jazz night (late show)".into()),
                ..EventChanges::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(edited.details.title, "Jazz night (late show)");
    assert_eq!(
        edited.details.latitude,
        Some(45.76),
        "absent fields are kept"
    );
    assert_eq!(edited.details.venue, "Cave");
    let published = org.organizer().publish_event(&draft.id).await.unwrap();
    assert_eq!(published.status, EventStatus::Published);
    let mine = org.organizer().events().await.unwrap();
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0].ticket_types.len(), 1);

    // Two buyers.
    let mut orders = Vec::new();
    let mut buyers = Vec::new();
    for (email, name, quantity) in [
        ("ann@example.org", "Ann Lee", 2),
        ("bob@example.org", "Bob Ray", 1),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let buyer = server.client(dir.path()).open().await.unwrap();
        let mut account = new_account(email, Role::Attendee);
        account.display_name = name.into();
        buyer.sign_up(account).await.unwrap();
        let hold = buyer
            .booking()
            .hold(
                &draft.id,
                &[HoldLine {
                    ticket_type_id: ticket_type.id.clone(),
                    quantity,
                }],
            )
            .await
            .unwrap();
        orders.push(
            buyer
                .booking()
                .checkout(&hold.id, Some("tok_visa"))
                .await
                .unwrap(),
        );
        buyers.push((buyer, dir));
    }

    // Sales and attendees.
    let report = org.organizer().sales_report(&draft.id).await.unwrap();
    assert_eq!(
        (report.sold, report.held, report.revenue_minor),
        (3, 0, 9000)
    );
    assert_eq!(report.by_ticket_type[0].sold, 3);
    assert_eq!(report.currency.as_deref(), Some("EUR"));
    let everyone = org
        .organizer()
        .attendees(&draft.id, None, 50, None)
        .await
        .unwrap();
    assert_eq!(everyone.total_count, 3);
    let ann = org
        .organizer()
        .attendees(&draft.id, Some("ann lee"), 50, None)
        .await
        .unwrap();
    assert_eq!(ann.attendees.len(), 2);
    assert!(
        ann.attendees
            .iter()
            .all(|a| a.holder_email == "ann@example.org")
    );
    let page = org
        .organizer()
        .attendees(&draft.id, None, 2, None)
        .await
        .unwrap();
    assert!(page.has_next_page);
    let next = org
        .organizer()
        .attendees(&draft.id, None, 2, page.end_cursor.as_deref())
        .await
        .unwrap();
    assert_eq!(next.attendees.len(), 1);
    assert_eq!(next.attendees[0].holder_email, "bob@example.org");
    // Buyers do not see the list.
    let denied = buyers[0]
        .0
        .organizer()
        .attendees(&draft.id, None, 10, None)
        .await;
    assert_eq!(denied.unwrap_err().kind(), ErrorKind::Forbidden);

    // The organizer refunds one of Ann's tickets (a persisted operation like any other).
    let ticket = ann.attendees[0].ticket_id.clone();
    let refunded = org
        .booking()
        .refund(&ann.attendees[0].order_id, std::slice::from_ref(&ticket))
        .await
        .unwrap();
    assert_eq!(refunded.refunded_minor, 3000);
    assert!(
        org.wallet().tickets().await.unwrap().is_empty(),
        "not the organizer's tickets"
    );
    assert!(org.booking().pending_operations().await.unwrap().is_empty());
    assert_eq!(
        org.organizer().sales_report(&draft.id).await.unwrap().sold,
        2
    );
    let revoked = org
        .organizer()
        .attendees(&draft.id, Some("ann@"), 50, None)
        .await
        .unwrap();
    let statuses: Vec<_> = revoked
        .attendees
        .iter()
        .map(|a| (a.ticket_id == ticket, a.status))
        .collect();
    assert!(statuses.contains(&(true, TicketStatus::Revoked)));
    assert!(statuses.contains(&(false, TicketStatus::Valid)));
    let ann_client = &buyers[0].0;
    ann_client.wallet().sync().await.unwrap();
    let wallet = ann_client.wallet().tickets().await.unwrap();
    assert_eq!(
        wallet
            .iter()
            .filter(|t| t.ticket.status == TicketStatus::Revoked)
            .count(),
        1
    );

    // Calling the event off refunds the rest; buyers see it at their next sync.
    let cancelled = org.organizer().cancel_event(&draft.id).await.unwrap();
    assert_eq!(cancelled.status, EventStatus::Cancelled);
    for (buyer, _) in &buyers {
        buyer.wallet().sync().await.unwrap();
        let wallet = buyer.wallet().tickets().await.unwrap();
        assert!(!wallet.is_empty());
        assert!(
            wallet
                .iter()
                .all(|t| t.ticket.status == TicketStatus::Revoked),
            "{wallet:?}"
        );
        assert_eq!(wallet[0].event.as_ref().unwrap().status, "CANCELLED");
    }
    // Both orders were paid in full (2 and 1 tickets at 3000) before the call-off gave
    // every cent back, once: the provider's ledger, not what the test asked for.
    let bought: Vec<_> = orders
        .iter()
        .map(|o| (o.status, o.total_minor, o.tickets.len()))
        .collect();
    assert_eq!(
        bought,
        [
            (OrderStatus::Completed, 6000, 2),
            (OrderStatus::Completed, 3000, 1)
        ]
    );
    assert_eq!(
        server.money(),
        (2, 9000, 9000),
        "captured twice, all refunded once"
    );
}
