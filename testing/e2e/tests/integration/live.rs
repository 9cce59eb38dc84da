//! Live updates through the SDK against the real server's subscriptions: an organizer
//! watches sales and check-ins move, a buyer watches an order through checkout and refund,
//! strangers' feeds end with the server's exact code, and a feed whose connection drops
//! comes back on its own and catches up.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use guichet_domain::checkin::Direction;
use guichet_sdk::booking::{HoldLine, Order, OrderStatus};
use guichet_sdk::check_in::CheckInListDraft;
use guichet_sdk::live::{
    CheckInsListener, CheckInsUpdate, LivePhase, LiveState, OrderListener, SalesListener,
    SalesUpdate,
};
use guichet_sdk::scanner::Door;
use guichet_sdk::session::Role;
use guichet_sdk::{Client, ErrorKind};

use guichet_e2e::{PASSWORD, TestServer, new_account};

use crate::scanner_sync::AT;

/// How long a test waits for a frame before it fails (a loaded 2-core machine included).
const WAIT: Duration = Duration::from_secs(30);

/// Records what a feed delivers.
struct Recorder<T> {
    updates: Mutex<Vec<T>>,
    states: Mutex<Vec<LiveState>>,
    changed: tokio::sync::Notify,
}

impl<T: Clone> Recorder<T> {
    fn new() -> Arc<Recorder<T>> {
        Arc::new(Recorder {
            updates: Mutex::default(),
            states: Mutex::default(),
            changed: tokio::sync::Notify::new(),
        })
    }

    fn push(&self, update: T) {
        self.updates.lock().unwrap().push(update);
        self.changed.notify_waiters();
    }

    fn state(&self, state: LiveState) {
        self.states.lock().unwrap().push(state);
        self.changed.notify_waiters();
    }

    fn updates(&self) -> Vec<T> {
        self.updates.lock().unwrap().clone()
    }

    fn states(&self) -> Vec<LiveState> {
        self.states.lock().unwrap().clone()
    }

    /// Waits until an update satisfies `wanted` and returns it; fails after [`WAIT`].
    async fn update_where(&self, what: &str, wanted: impl Fn(&T) -> bool) -> T {
        self.until(what, || {
            self.updates().into_iter().rev().find(|u| wanted(u))
        })
        .await
    }

    /// Waits until a state satisfies `wanted` and returns it; fails after [`WAIT`].
    async fn state_where(&self, what: &str, wanted: impl Fn(&LiveState) -> bool) -> LiveState {
        self.until(what, || self.states().into_iter().find(|s| wanted(s)))
            .await
    }

    async fn until<R>(&self, what: &str, found: impl Fn() -> Option<R>) -> R {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let changed = self.changed.notified();
            if let Some(found) = found() {
                return found;
            }
            if tokio::time::timeout_at(deadline, changed).await.is_err() {
                panic!("no {what} within {WAIT:?} (states: {:?})", self.states());
            }
        }
    }
}

impl SalesListener for Recorder<SalesUpdate> {
    fn on_sales(&self, update: SalesUpdate) {
        self.push(update);
    }
    fn on_state(&self, state: LiveState) {
        self.state(state);
    }
}

impl CheckInsListener for Recorder<CheckInsUpdate> {
    fn on_check_ins(&self, update: CheckInsUpdate) {
        self.push(update);
    }
    fn on_state(&self, state: LiveState) {
        self.state(state);
    }
}

impl OrderListener for Recorder<Order> {
    fn on_order(&self, order: Order) {
        self.push(order);
    }
    fn on_state(&self, state: LiveState) {
        self.state(state);
    }
}

async fn signed_in(
    server: &TestServer,
    url: &str,
    email: &str,
    role: Role,
) -> (Client, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let client = Client::builder(url, dir.path()).open().await.unwrap();
    match role {
        Role::Organizer => {
            server.token_for(email, "ORGANIZER").await;
            client.log_in(email, PASSWORD).await.unwrap();
        }
        _ => {
            client.sign_up(new_account(email, role)).await.unwrap();
        }
    }
    (client, dir)
}

fn line(ticket_type: &str, quantity: i64) -> [HoldLine; 1] {
    [HoldLine {
        ticket_type_id: ticket_type.to_owned(),
        quantity,
    }]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_organizer_watches_sales_move_and_a_stranger_is_refused() {
    let server = TestServer::start().await;
    let (org, _d1) = signed_in(
        &server,
        &server.url,
        "live-org@example.org",
        Role::Organizer,
    )
    .await;
    let token = server.log_in("live-org@example.org").await;
    let (event, tt) = server.published_event(&token, 10).await;

    let sales = Recorder::<SalesUpdate>::new();
    let feed = org.organizer().watch_sales(&event, sales.clone());
    let first = sales.update_where("first frame", |_| true).await;
    assert_eq!(
        (
            first.event_id.as_str(),
            first.sold,
            first.held,
            first.available
        ),
        (event.as_str(), 0, 0, 10)
    );
    assert_eq!(first.by_ticket_type.len(), 1);
    assert_eq!(first.by_ticket_type[0].ticket_type_id, tt);
    let phases: Vec<LivePhase> = sales.states().iter().map(|s| s.phase).collect();
    assert_eq!(phases, [LivePhase::Connecting, LivePhase::Live]);

    let (buyer, _d2) =
        signed_in(&server, &server.url, "live-fan@example.org", Role::Attendee).await;
    let hold = buyer.booking().hold(&event, &line(&tt, 2)).await.unwrap();
    sales
        .update_where("a frame with the hold", |u| u.held == 2 && u.available == 8)
        .await;
    buyer
        .booking()
        .checkout(&hold.id, Some("tok_visa"))
        .await
        .unwrap();
    let paid = sales
        .update_where("a frame with the sale", |u| u.sold == 2 && u.held == 0)
        .await;
    assert_eq!((paid.available, paid.revenue_minor), (8, 5_000));
    assert_eq!(paid.by_ticket_type[0].sold, 2);

    // Another organizer's feed of this event ends with FORBIDDEN and delivers nothing.
    let (other, _d3) = signed_in(
        &server,
        &server.url,
        "live-other@example.org",
        Role::Organizer,
    )
    .await;
    let refused = Recorder::<SalesUpdate>::new();
    let other_feed = other.organizer().watch_sales(&event, refused.clone());
    let end = refused
        .state_where("the end of a stranger's feed", |s| {
            s.phase == LivePhase::Ended
        })
        .await;
    assert_eq!(end.error.map(|e| e.kind), Some(ErrorKind::Forbidden));
    assert!(refused.updates().is_empty());
    // Finished is set just after the listener heard the end.
    let deadline = tokio::time::Instant::now() + WAIT;
    while !other_feed.is_finished() && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(other_feed.is_finished());

    // Cancelling ends the feed: told once, with no error, and nothing after.
    feed.cancel();
    assert!(feed.is_finished());
    let last = sales.states().last().cloned().unwrap();
    assert_eq!((last.phase, last.error), (LivePhase::Ended, None));
    let seen = sales.updates().len();
    buyer.booking().hold(&event, &line(&tt, 1)).await.unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(sales.updates().len(), seen, "a cancelled feed delivered");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_buyer_watches_an_order_to_refunded_and_no_one_else_can() {
    let server = TestServer::start().await;
    let token = server.token_for("order-org@example.org", "ORGANIZER").await;
    let (event, tt) = server.published_event(&token, 10).await;
    let (buyer, _d1) = signed_in(
        &server,
        &server.url,
        "order-fan@example.org",
        Role::Attendee,
    )
    .await;
    let hold = buyer.booking().hold(&event, &line(&tt, 1)).await.unwrap();
    let order = buyer
        .booking()
        .checkout(&hold.id, Some("tok_visa"))
        .await
        .unwrap();

    let seen = Recorder::<Order>::new();
    let _feed = buyer.booking().watch_order(&order.id, seen.clone());
    let first = seen.update_where("first frame", |_| true).await;
    assert_eq!(
        (first.id.as_str(), first.status),
        (order.id.as_str(), OrderStatus::Completed)
    );
    assert_eq!(first.tickets.len(), 1);
    let ticket = first.tickets[0].id.clone();
    buyer.booking().refund(&order.id, &[ticket]).await.unwrap();
    let refunded = seen
        .update_where("the refund", |o| o.status == OrderStatus::Refunded)
        .await;
    assert_eq!(refunded.refunded_minor, 2_500);

    let (stranger, _d2) = signed_in(
        &server,
        &server.url,
        "order-stranger@example.org",
        Role::Attendee,
    )
    .await;
    let hidden = Recorder::<Order>::new();
    let _stranger_feed = stranger.booking().watch_order(&order.id, hidden.clone());
    let end = hidden
        .state_where("the end of a stranger's feed", |s| {
            s.phase == LivePhase::Ended
        })
        .await;
    assert_eq!(end.error.map(|e| e.kind), Some(ErrorKind::NotFound));
    assert!(hidden.updates().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_organizer_watches_a_door_admit_a_ticket() {
    let server = TestServer::start().await;
    let (org, _d1) = signed_in(
        &server,
        &server.url,
        "live-doors@example.org",
        Role::Organizer,
    )
    .await;
    let token = server.log_in("live-doors@example.org").await;
    let (event, tt) = server.published_event(&token, 10).await;
    let list = org
        .check_in()
        .create_list(
            &event,
            CheckInListDraft {
                name: "Main".into(),
                ticket_type_ids: vec![tt.clone()],
                gates: vec!["North".into()],
                re_entry: false,
            },
        )
        .await
        .unwrap();
    let counts = Recorder::<CheckInsUpdate>::new();
    let _feed = org.check_in().watch_check_ins(&list.id, counts.clone());
    let first = counts.update_where("first frame", |_| true).await;
    assert_eq!(
        (
            first.list_id.as_str(),
            first.inside,
            first.admitted,
            first.refused
        ),
        (list.id.as_str(), 0, 0, 0)
    );

    let (buyer, _d2) = signed_in(
        &server,
        &server.url,
        "door-live-fan@example.org",
        Role::Attendee,
    )
    .await;
    let hold = buyer.booking().hold(&event, &line(&tt, 1)).await.unwrap();
    let order = buyer
        .booking()
        .checkout(&hold.id, Some("tok_visa"))
        .await
        .unwrap();
    let pairing = org.check_in().pair_scanner(&list.id).await.unwrap();
    let door_dir = tempfile::tempdir().unwrap();
    let door = Door::builder(&server.url, door_dir.path(), "North")
        .pair(&pairing.code, "Door 1")
        .await
        .unwrap();
    door.sync().await.unwrap();
    let credential = &order.tickets[0].credential;
    let admitted = door
        .scan_at(credential, Direction::Entry, AT + 1_000)
        .await
        .unwrap();
    assert!(admitted.outcome.decision.is_admitted());
    let refused = door
        .scan_at(credential, Direction::Entry, AT + 2_000)
        .await
        .unwrap();
    assert!(!refused.outcome.decision.is_admitted());
    door.sync().await.unwrap();
    let after = counts
        .update_where("the door's scans", |u| u.admitted == 1 && u.refused == 1)
        .await;
    assert_eq!((after.inside, after.duplicates), (1, 0));
}

/// A loopback proxy whose connections can be cut, as a venue's network drops them.
struct Proxy {
    url: String,
    connections: Arc<Mutex<Vec<tokio::task::AbortHandle>>>,
    accept: tokio::task::JoinHandle<()>,
}

impl Proxy {
    async fn start(upstream: &str) -> Proxy {
        let target = upstream
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .to_owned();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let connections: Arc<Mutex<Vec<tokio::task::AbortHandle>>> = Arc::default();
        let held = connections.clone();
        let accept = tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let target = target.clone();
                let task = tokio::spawn(async move {
                    if let Ok(mut outbound) = tokio::net::TcpStream::connect(target).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                held.lock().unwrap().push(task.abort_handle());
            }
        });
        Proxy {
            url,
            connections,
            accept,
        }
    }

    /// Drops every open connection (new ones still pass).
    fn cut(&self) {
        for connection in self.connections.lock().unwrap().drain(..) {
            connection.abort();
        }
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.accept.abort();
        self.cut();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_feed_reconnects_and_catches_up() {
    let server = TestServer::start().await;
    let proxy = Proxy::start(&server.url).await;
    let (org, _d1) = signed_in(
        &server,
        &proxy.url,
        "reconnect-org@example.org",
        Role::Organizer,
    )
    .await;
    let token = server.log_in("reconnect-org@example.org").await;
    let (event, tt) = server.published_event(&token, 10).await;
    let sales = Recorder::<SalesUpdate>::new();
    let _feed = org.organizer().watch_sales(&event, sales.clone());
    sales.update_where("first frame", |u| u.held == 0).await;

    proxy.cut();
    let dropped = sales
        .state_where("a reconnection", |s| s.phase == LivePhase::Reconnecting)
        .await;
    assert_eq!(dropped.attempt, 1);
    assert_eq!(dropped.error.map(|e| e.kind), Some(ErrorKind::Network));
    // Sold while the feed was down or coming back: the feed shows it either way.
    let (buyer, _d2) = signed_in(
        &server,
        &server.url,
        "reconnect-fan@example.org",
        Role::Attendee,
    )
    .await;
    buyer.booking().hold(&event, &line(&tt, 3)).await.unwrap();
    sales
        .update_where("the hold made during the outage", |u| u.held == 3)
        .await;
    let phases: Vec<LivePhase> = sales.states().iter().map(|s| s.phase).collect();
    assert_eq!(
        phases,
        [
            LivePhase::Connecting,
            LivePhase::Live,
            LivePhase::Reconnecting,
            LivePhase::Live
        ]
    );
}
