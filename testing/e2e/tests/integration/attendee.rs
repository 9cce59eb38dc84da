//! An attendee's whole journey through the SDK against the real server: sign up, hold with
//! a countdown, pay with a test card, wallet offline with QR codes, refund, release,
//! declined card, notifications.

use std::sync::{Arc, Mutex};

use guichet_sdk::Error;
use guichet_sdk::ErrorKind;
use guichet_sdk::booking::{HoldLine, HoldStatus, OrderStatus, TicketStatus};
use guichet_sdk::notify::{Change, ChangeListener, Outcome, Progress, ProgressListener, Task};
use guichet_sdk::session::Role;
use guichet_sdk::transport::{Call, Transport, TransportError};

use guichet_e2e::{TestServer, new_account};

#[derive(Default)]
struct Seen(Mutex<Vec<String>>);

impl ChangeListener for Seen {
    fn on_change(&self, change: Change) {
        self.0.lock().unwrap().push(format!("{change:?}"));
    }
}

impl ProgressListener for Seen {
    fn on_progress(&self, progress: Progress) {
        self.0
            .lock()
            .unwrap()
            .push(format!("{}/{:?}", progress.done, progress.total));
    }
    fn on_finished(&self, task: Task, outcome: Outcome) {
        self.0.lock().unwrap().push(format!("{task:?} {outcome:?}"));
    }
}

/// No network at all.
#[derive(Debug)]
struct Offline;

#[async_trait::async_trait]
impl Transport for Offline {
    async fn send(&self, _: Call) -> Result<serde_json::Value, TransportError> {
        Err(TransportError::Connect("offline".into()))
    }
}

fn line(ticket_type: &str, quantity: i64) -> Vec<HoldLine> {
    vec![HoldLine {
        ticket_type_id: ticket_type.to_owned(),
        quantity,
    }]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attendee_books_pays_carries_tickets_offline_and_refunds() {
    let server = TestServer::start().await;
    let organizer = server.token_for("org@example.org", "ORGANIZER").await;
    let (event, standing) = server.published_event(&organizer, 10).await;
    let dir = tempfile::tempdir().unwrap();
    let client = server.client(dir.path()).open().await.unwrap();
    let seen = Arc::new(Seen::default());
    let subscription = client.subscribe(seen.clone());
    client
        .sign_up(new_account("ann@example.org", Role::Attendee))
        .await
        .unwrap();

    // Hold two tickets: a countdown under the server's 10 minutes.
    let hold = client
        .booking()
        .hold(&event, &line(&standing, 2))
        .await
        .unwrap();
    assert_eq!(hold.status, HoldStatus::Active);
    assert_eq!(hold.total_minor, 5000);
    let left = hold.remaining();
    assert!(left.as_secs() > 0 && left.as_secs() <= 600, "{left:?}");
    assert_eq!(
        client.booking().hold_status(&hold.id).await.unwrap().id,
        hold.id
    );
    let fresh = client.booking().refresh_hold(&hold.id).await.unwrap();
    assert_eq!(
        (fresh.status, fresh.total_minor),
        (HoldStatus::Active, 5000)
    );
    assert_eq!(server.sales(&organizer, &event).await, (0, 2));

    // Pay with the test provider's card.
    let order = client
        .booking()
        .checkout(&hold.id, Some("tok_visa"))
        .await
        .unwrap();
    assert_eq!(order.status, OrderStatus::Completed);
    assert_eq!(order.tickets.len(), 2);
    assert_eq!(
        client.booking().hold_status(&hold.id).await.unwrap().status,
        HoldStatus::Converted
    );
    assert!(
        client
            .booking()
            .pending_operations()
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(server.sales(&organizer, &event).await, (2, 0));
    assert_eq!(server.money(), (1, 5000, 0));

    // The wallet: the checkout's tickets at once, and the event after a sync.
    assert_eq!(client.wallet().tickets().await.unwrap().len(), 2);
    let synced = client.wallet().sync().await.unwrap();
    assert_eq!((synced.orders, synced.tickets), (1, 2));
    let tickets = client.wallet().tickets().await.unwrap();
    assert_eq!(tickets.len(), 2);
    let first = &tickets[0];
    assert_eq!(first.event.as_ref().unwrap().title, "Concert");
    assert!(first.qr_svg(4).unwrap().contains("<svg"));
    assert!(first.qr_png(4).unwrap().starts_with(b"\x89PNG"));
    assert!(!first.ticket.credential.is_empty());

    // Offline: a new process with no network still shows the tickets and QR codes.
    drop(client);
    let offline = server
        .client(dir.path())
        .transport(Arc::new(Offline))
        .open()
        .await
        .unwrap();
    let shown = offline.wallet().tickets().await.unwrap();
    assert_eq!(shown, tickets);
    assert!(matches!(
        offline.wallet().sync().await,
        Err(Error::Transport(_))
    ));
    assert_eq!(offline.wallet().tickets().await.unwrap(), tickets);
    drop(offline);

    // Back online: refund one ticket; the wallet shows it revoked after the answer.
    let client = server.client(dir.path()).open().await.unwrap();
    let refunded = client
        .booking()
        .refund(&order.id, std::slice::from_ref(&first.ticket.id))
        .await
        .unwrap();
    assert_eq!(refunded.refunded_minor, 2500);
    let after = client.wallet().tickets().await.unwrap();
    let revoked: Vec<_> = after
        .iter()
        .filter(|t| t.ticket.status == TicketStatus::Revoked)
        .collect();
    assert_eq!(revoked.len(), 1);
    assert_eq!(revoked[0].ticket.id, first.ticket.id);
    assert_eq!(server.sales(&organizer, &event).await, (1, 0));
    assert_eq!(server.money(), (1, 5000, 2500));

    // Cancel a booking in progress: the hold's stock goes back.
    let second = client
        .booking()
        .hold(&event, &line(&standing, 3))
        .await
        .unwrap();
    assert_eq!(server.sales(&organizer, &event).await, (1, 3));
    let released = client.booking().release(&second.id).await.unwrap();
    assert_eq!(released.status, HoldStatus::Released);
    assert_eq!(released.remaining(), std::time::Duration::ZERO);
    assert_eq!(server.sales(&organizer, &event).await, (1, 0));

    // A declined card: a definitive failure, not a pending operation; nothing charged.
    let third = client
        .booking()
        .hold(&event, &line(&standing, 1))
        .await
        .unwrap();
    let declined = client
        .booking()
        .checkout(&third.id, Some("tok_declined"))
        .await;
    assert_eq!(declined.unwrap_err().kind(), ErrorKind::PaymentDeclined);
    assert!(
        client
            .booking()
            .pending_operations()
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(server.money().0, 1);

    // One buyer holds at most maxPerOrder (6) at once; past the stock, another buyer gets
    // the server's SOLD_OUT.
    let greedy = client
        .booking()
        .hold(&event, &line(&standing, 6))
        .await
        .unwrap();
    let hoarding = client.booking().hold(&event, &line(&standing, 1)).await;
    assert_eq!(hoarding.unwrap_err().kind(), ErrorKind::InvalidInput);
    let other_dir = tempfile::tempdir().unwrap();
    let other = server.client(other_dir.path()).open().await.unwrap();
    other
        .sign_up(new_account("bob@example.org", Role::Attendee))
        .await
        .unwrap();
    let too_many = other.booking().hold(&event, &line(&standing, 6)).await;
    assert_eq!(too_many.unwrap_err().kind(), ErrorKind::SoldOut);
    client.booking().release(&greedy.id).await.unwrap();

    // A wallet sync as a task with progress, and change notifications all along.
    let progress = Arc::new(Seen::default());
    let task = client.wallet().sync_task(progress.clone());
    tokio::time::timeout(std::time::Duration::from_secs(60), async {
        while !task.is_finished() {
            tokio::task::yield_now().await;
        }
    })
    .await
    .expect("the wallet sync task never finished");
    let log = progress.0.lock().unwrap().clone();
    assert_eq!(log.last().unwrap(), "WalletSync Completed");
    assert!(log.iter().any(|l| l.starts_with("1/")));
    let changes = seen.0.lock().unwrap().clone();
    assert!(changes.iter().any(|c| c == "Session"));
    assert!(changes.iter().any(|c| c == "Wallet"));
    assert!(changes.iter().any(|c| c.starts_with("Order")));
    subscription.cancel();
    let before = seen.0.lock().unwrap().len();
    client.wallet().sync().await.unwrap();
    assert_eq!(seen.0.lock().unwrap().len(), before, "no news after cancel");

    // Log-out forgets the tickets on this device.
    client.log_out().await.unwrap();
    assert!(matches!(
        client.wallet().tickets().await,
        Err(Error::NotSignedIn)
    ));
    client
        .log_in("ann@example.org", guichet_e2e::PASSWORD)
        .await
        .unwrap();
    assert!(client.wallet().tickets().await.unwrap().is_empty());
    client.wallet().sync().await.unwrap();
    assert_eq!(client.wallet().tickets().await.unwrap().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_order_left_processing_reaches_the_wallet_when_the_server_finishes_it() {
    let server = TestServer::start().await;
    let organizer = server.token_for("org@example.org", "ORGANIZER").await;
    let (event, standing) = server.published_event(&organizer, 10).await;
    let dir = tempfile::tempdir().unwrap();
    let client = server.client(dir.path()).open().await.unwrap();
    client
        .sign_up(new_account("slow@example.org", Role::Attendee))
        .await
        .unwrap();
    let hold = client
        .booking()
        .hold(&event, &line(&standing, 2))
        .await
        .unwrap();
    // The provider does not answer the authorisation: the order comes back PROCESSING.
    let order = client
        .booking()
        .checkout(&hold.id, Some("tok_timeout"))
        .await
        .unwrap();
    assert_eq!(order.status, OrderStatus::Processing);
    assert!(order.tickets.is_empty());
    assert!(
        client
            .booking()
            .pending_operations()
            .await
            .unwrap()
            .is_empty(),
        "an answer is final"
    );
    // The server's recovery sweep finishes it (as its sweeper does every few seconds).
    let now = chrono::Utc::now().timestamp() + 60;
    server.resume_orders(now).await;
    client.wallet().sync().await.unwrap();
    assert_eq!(
        client.wallet().order(&order.id).await.unwrap().status,
        OrderStatus::Completed
    );
    assert_eq!(client.wallet().tickets().await.unwrap().len(), 2);
    assert_eq!(server.money(), (1, 5000, 0));
}
