//! Doors against the real server in-process: pairing, online-first decisions within a
//! budget, batched pushes, pulls, revocation windows, revoked devices, and a seeded
//! simulation of several doors over a network that drops, delays, duplicates and
//! reorders requests and cuts doors off.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use guichet_domain::admission::{Decision, ScanRejection};
use guichet_domain::checkin::Direction;
use guichet_sdk::Error;
use guichet_sdk::scanner::{Door, DoorOptions, ScanResult};
use guichet_sdk::transport::{
    Call, HttpConfig, HttpTransport, RetryPolicy, Transport, TransportError,
};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};

use guichet_e2e::TestServer;

/// The network between one door and the server.
#[derive(Debug)]
pub(crate) struct Net {
    pub(crate) inner: HttpTransport,
    pub(crate) rng: Mutex<StdRng>,
    /// Nothing gets through.
    pub(crate) cut: AtomicBool,
    /// Drop requests, lose answers, answer too late, delay, duplicate and reorder (a
    /// partition phase's weather).
    pub(crate) stormy: AtomicBool,
    /// Delay before each `AdmitScan` answer, milliseconds.
    pub(crate) admit_delay_ms: AtomicU64,
    /// Copies of earlier requests, delivered late (after newer ones).
    pub(crate) late: Mutex<Vec<Call>>,
    /// Requests the door gave up on that are still on their way to the server.
    pub(crate) in_flight: Mutex<Vec<tokio::task::JoinHandle<()>>>,
    /// How many requests reached the server after the door gave up on them.
    pub(crate) too_slow: AtomicU64,
    /// Every `AdmitScan` reaches the server only after the door gave up on it.
    pub(crate) admit_late: AtomicBool,
    /// `AdmitScan` requests seen.
    pub(crate) admits: AtomicU64,
    /// `ScannerSync` requests seen, and whether they wait before going through.
    pub(crate) syncs: AtomicU64,
    pub(crate) hold_syncs: AtomicBool,
}

impl Net {
    pub(crate) fn over(url: &str, seed: u64) -> Arc<Net> {
        let config = HttpConfig {
            retry: RetryPolicy {
                max_attempts: 1,
                ..RetryPolicy::default()
            },
            ..HttpConfig::default()
        };
        Arc::new(Net {
            inner: HttpTransport::new(&format!("{url}/"), &config).unwrap(),
            rng: Mutex::new(StdRng::seed_from_u64(seed)),
            cut: AtomicBool::new(false),
            stormy: AtomicBool::new(false),
            admit_delay_ms: AtomicU64::new(0),
            late: Mutex::default(),
            in_flight: Mutex::default(),
            too_slow: AtomicU64::new(0),
            admit_late: AtomicBool::new(false),
            admits: AtomicU64::new(0),
            syncs: AtomicU64::new(0),
            hold_syncs: AtomicBool::new(false),
        })
    }

    pub(crate) fn roll(&self) -> f64 {
        self.rng.lock().unwrap().random::<f64>()
    }

    /// Sends `call` on its own: it reaches the server after `after`, whoever waits for it.
    pub(crate) fn send_later(&self, call: Call, after: Duration) {
        self.too_slow.fetch_add(1, Ordering::Relaxed);
        let inner = self.inner.clone();
        self.in_flight
            .lock()
            .unwrap()
            .push(tokio::spawn(async move {
                tokio::time::sleep(after).await;
                let _ = inner.send(call).await;
            }));
    }

    /// Waits until every request still on its way has reached the server.
    pub(crate) async fn land(&self) {
        let flying: Vec<_> = std::mem::take(&mut *self.in_flight.lock().unwrap());
        for request in flying {
            request.await.unwrap();
        }
    }
}

#[async_trait::async_trait]
impl Transport for Net {
    async fn send(&self, call: Call) -> Result<Value, TransportError> {
        if self.cut.load(Ordering::Acquire) {
            return Err(TransportError::Connect("cut off".into()));
        }
        // Requests held back earlier arrive now, after newer ones went through.
        let late: Vec<Call> = std::mem::take(&mut *self.late.lock().unwrap());
        for old in late {
            let _ = self.inner.send(old).await;
        }
        if call.operation == "ScannerSync" {
            self.syncs.fetch_add(1, Ordering::AcqRel);
            // Held until the test lets it go; a test that never does fails, not hangs.
            let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
            while self.hold_syncs.load(Ordering::Acquire) {
                assert!(
                    tokio::time::Instant::now() < deadline,
                    "a held sync was never let go"
                );
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }
        if call.operation == "AdmitScan" {
            self.admits.fetch_add(1, Ordering::AcqRel);
        }
        if call.operation == "AdmitScan" && self.admit_late.load(Ordering::Acquire) {
            self.send_later(call, Duration::ZERO);
            return Err(TransportError::Timeout);
        }
        let delay = self.admit_delay_ms.load(Ordering::Acquire);
        if delay > 0 && call.operation == "AdmitScan" {
            tokio::time::sleep(Duration::from_millis(delay)).await;
        }
        let roll = self.roll();
        if self.stormy.load(Ordering::Acquire) {
            let wait = (self.roll() * 15.0) as u64;
            tokio::time::sleep(Duration::from_millis(wait)).await;
            if roll < 0.1 {
                return Err(TransportError::Timeout); // dropped before the server
            }
            if roll < 0.2 {
                let _ = self.inner.send(call).await;
                return Err(TransportError::Network("answer lost".into()));
            }
            if roll < 0.3 {
                // Too slow: the door stops waiting, the request reaches the server later,
                // maybe after the door's next requests.
                let after = Duration::from_millis((self.roll() * 40.0) as u64);
                self.send_later(call, after);
                return Err(TransportError::Timeout);
            }
        }
        // Only requests a client may repeat get repeated (as HTTP retries and proxies do).
        if call.idempotent && roll > 0.85 {
            let _ = self.inner.send(call.clone()).await; // delivered twice
        } else if call.idempotent && roll > 0.7 {
            self.late.lock().unwrap().push(call.clone()); // and once more, later
        }
        self.inner.send(call).await
    }
}

/// Sells `n` tickets of a fresh event (in orders of up to 6) and returns
/// (organizer token, event, ticket type, [(order, ticket, credential)]).
pub(crate) async fn sold(
    server: &TestServer,
    tag: &str,
    n: usize,
) -> (String, String, String, Vec<(String, String, String)>) {
    let org = server
        .token_for(&format!("org-{tag}@example.org"), "ORGANIZER")
        .await;
    let (event, tt) = server.published_event(&org, 1_000).await;
    let buyer = server
        .token_for(&format!("buyer-{tag}@example.org"), "ATTENDEE")
        .await;
    let mut tickets = Vec::new();
    let mut left = n;
    let mut i = 0;
    while left > 0 {
        let q = left.min(6);
        let hold = server
            .ok(
                Some(&buyer),
                "mutation($e: ID!, $t: ID!, $q: Int!, $k: String!) { holdTickets(eventId: $e, items: [{ticketTypeId: $t, quantity: $q}], idempotencyKey: $k) { id } }",
                json!({ "e": event, "t": tt, "q": q, "k": format!("h-{tag}-{i}") }),
            )
            .await;
        let order = server
            .ok(
                Some(&buyer),
                "mutation($h: ID!, $k: String!) { checkout(holdId: $h, payment: {token: \"tok_visa\"}, idempotencyKey: $k) { id tickets { id credential } } }",
                json!({ "h": hold["holdTickets"]["id"], "k": format!("c-{tag}-{i}") }),
            )
            .await;
        let order = &order["checkout"];
        for t in order["tickets"].as_array().unwrap() {
            tickets.push((
                order["id"].as_str().unwrap().to_owned(),
                t["id"].as_str().unwrap().to_owned(),
                t["credential"].as_str().unwrap().to_owned(),
            ));
        }
        left -= q;
        i += 1;
    }
    (org, event, tt, tickets)
}

/// A check-in list at gates north and south; returns its id.
pub(crate) async fn list(
    server: &TestServer,
    org: &str,
    event: &str,
    tt: &str,
    re_entry: bool,
) -> String {
    let data = server
        .ok(
            Some(org),
            "mutation($e: ID!, $i: CheckInListInput!) { createCheckInList(eventId: $e, input: $i) { id } }",
            json!({ "e": event, "i": { "name": "Main", "ticketTypeIds": [tt], "gates": ["north", "south"], "reEntry": re_entry } }),
        )
        .await;
    data["createCheckInList"]["id"].as_str().unwrap().to_owned()
}

pub(crate) async fn pairing_code(server: &TestServer, org: &str, list: &str) -> String {
    let data = server
        .ok(
            Some(org),
            "mutation($l: ID!) { pairScanner(listId: $l) { code } }",
            json!({ "l": list }),
        )
        .await;
    data["pairScanner"]["code"].as_str().unwrap().to_owned()
}

pub(crate) async fn pair(
    server: &TestServer,
    org: &str,
    list: &str,
    dir: &std::path::Path,
    net: Arc<Net>,
    options: DoorOptions,
) -> Door {
    let code = pairing_code(server, org, list).await;
    Door::builder(&server.url, dir, "north")
        .transport(net)
        .options(options)
        .pair(&code, "door")
        .await
        .unwrap()
}

async fn refund(server: &TestServer, org: &str, order: &str, ticket: &str) {
    server
        .ok(
            Some(org),
            "mutation($o: ID!, $t: [ID!]!) { refundOrder(orderId: $o, ticketIds: $t) { id } }",
            json!({ "o": order, "t": [ticket] }),
        )
        .await;
}

/// The test event's start (2099-06-01T19:00:00Z), Unix milliseconds: tickets are valid
/// around it.
pub(crate) const AT: i64 = 4_084_023_600_000;

pub(crate) const PATIENT: DoorOptions = DoorOptions {
    online_budget: Duration::from_secs(30),
    retry_online_after: Duration::ZERO,
    page_limit: 20_000,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paired_door_decides_online_and_falls_back_within_its_budget() {
    let server = TestServer::start().await;
    let (org, event, tt, tickets) = sold(&server, "budget", 5).await;
    let list = list(&server, &org, &event, &tt, false).await;
    let dir = tempfile::tempdir().unwrap();
    let net = Net::over(&server.url, 1);
    let options = DoorOptions {
        // Wide enough that a busy 2-core machine answers in time when it should (an
        // online decision is a few milliseconds of work); "too late" below is ten times it.
        online_budget: Duration::from_millis(3_000),
        retry_online_after: Duration::ZERO,
        page_limit: 2,
    };
    let door = pair(&server, &org, &list, dir.path(), net.clone(), options).await;
    assert_eq!(
        door.ticket_counts().await.unwrap(),
        (5, 0),
        "snapshot in pages of two"
    );

    // Online: the server decides and already has the scan.
    let first = door
        .scan_at(&tickets[0].2, Direction::Entry, AT + 1_000)
        .await
        .unwrap();
    assert!(first.online);
    assert_eq!(first.outcome.decision, Decision::Admitted);
    assert_eq!(door.unpushed_count().await.unwrap(), 0);

    // The server answers too late (after the 3 s budget): the door decides alone, admits,
    // and queues the scan.
    net.admit_delay_ms.store(30_000, Ordering::Release);
    let late = door
        .scan_at(&tickets[1].2, Direction::Entry, AT + 2_000)
        .await
        .unwrap();
    assert!(!late.online);
    assert!(!door.is_online());
    assert_eq!(late.outcome.decision, Decision::Admitted);
    assert_eq!(door.unpushed_count().await.unwrap(), 1);

    // Back by itself: the network answers in time again, and the next scan is decided
    // online (no sync needed).
    net.admit_delay_ms.store(0, Ordering::Release);
    let back = door
        .scan_at(&tickets[2].2, Direction::Entry, AT + 2_500)
        .await
        .unwrap();
    assert!(back.online);
    assert!(door.is_online());
    assert_eq!(
        door.unpushed_count().await.unwrap(),
        1,
        "only the late one waits"
    );

    // A sync pushes the late one exactly once.
    let report = door.sync().await.unwrap();
    assert_eq!(report.pushed, 1);
    assert!(door.is_online());
    assert_eq!(door.unpushed_count().await.unwrap(), 0);
    let on_server = server.scans(&org, &list).await;
    assert_eq!(on_server.len(), 3);
    assert_eq!(on_server[&late.outcome.scan_id.to_string()].1, "admitted");

    // A second entry of the first ticket is refused locally, without asking.
    let again = door
        .scan_at(&tickets[0].2, Direction::Entry, AT + 3_000)
        .await
        .unwrap();
    assert_eq!(
        again.outcome.decision,
        Decision::Rejected(ScanRejection::AlreadyInside)
    );
    assert!(!again.online);

    // A door that failed to get an answer does not ask again before `retry_online_after`:
    // meanwhile no scan waits on the network at all.
    let dir = tempfile::tempdir().unwrap();
    let net = Net::over(&server.url, 7);
    let options = DoorOptions {
        online_budget: Duration::from_millis(1_000),
        retry_online_after: Duration::from_secs(3_600),
        page_limit: 5_000,
    };
    let wary = pair(&server, &org, &list, dir.path(), net.clone(), options).await;
    net.admit_delay_ms.store(10_000, Ordering::Release);
    let slow = wary
        .scan_at(&tickets[3].2, Direction::Entry, AT + 4_000)
        .await
        .unwrap();
    assert!(!slow.online && !wary.is_online());
    net.admit_delay_ms.store(0, Ordering::Release);
    let asked = net.admits.load(Ordering::Acquire);
    let quick = wary
        .scan_at(&tickets[4].2, Direction::Entry, AT + 5_000)
        .await
        .unwrap();
    assert!(quick.outcome.decision.is_admitted() && !quick.online);
    assert_eq!(net.admits.load(Ordering::Acquire), asked, "not asked");
    // A sync that reaches the server ends the wait.
    wary.sync().await.unwrap();
    assert!(wary.is_online());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refund_reaches_a_door_at_its_next_sync() {
    let server = TestServer::start().await;
    let (org, event, tt, tickets) = sold(&server, "refund", 3).await;
    let list = list(&server, &org, &event, &tt, false).await;
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let net_a = Net::over(&server.url, 2);
    let net_b = Net::over(&server.url, 3);
    let offline = pair(&server, &org, &list, dir_a.path(), net_a.clone(), PATIENT).await;
    let online = pair(&server, &org, &list, dir_b.path(), net_b, PATIENT).await;

    refund(&server, &org, &tickets[0].0, &tickets[0].1).await;
    refund(&server, &org, &tickets[1].0, &tickets[1].1).await;

    // The window: a door without network still admits a refunded ticket until it syncs.
    net_a.cut.store(true, Ordering::Release);
    let stale = offline
        .scan_at(&tickets[0].2, Direction::Entry, AT + 4_000)
        .await
        .unwrap();
    assert_eq!(stale.outcome.decision, Decision::Admitted);
    assert!(!stale.online);
    // An online door is told by the server at once.
    let told = online
        .scan_at(&tickets[1].2, Direction::Entry, AT + 5_000)
        .await
        .unwrap();
    assert_eq!(
        told.outcome.decision,
        Decision::Rejected(ScanRejection::Revoked)
    );
    assert!(told.online);

    // After its next sync the offline door refuses it on its own.
    net_a.cut.store(false, Ordering::Release);
    let report = offline.sync().await.unwrap();
    assert_eq!(
        report.revoked, 2,
        "the two refunds, nothing else: {report:?}"
    );
    net_a.cut.store(true, Ordering::Release);
    let refused = offline
        .scan_at(&tickets[1].2, Direction::Entry, AT + 6_000)
        .await
        .unwrap();
    assert_eq!(
        refused.outcome.decision,
        Decision::Rejected(ScanRejection::Revoked)
    );
    assert!(!refused.online);
    // The valid ticket still gets in offline.
    let fine = offline
        .scan_at(&tickets[2].2, Direction::Entry, AT + 7_000)
        .await
        .unwrap();
    assert_eq!(fine.outcome.decision, Decision::Admitted);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_door_names_the_ticket_type_offline() {
    let server = TestServer::start().await;
    let (org, event, tt, tickets) = sold(&server, "names", 2).await;
    let list = list(&server, &org, &event, &tt, false).await;
    let dir = tempfile::tempdir().unwrap();
    let net = Net::over(&server.url, 4);
    let door = pair(&server, &org, &list, dir.path(), net.clone(), PATIENT).await;
    let online = door
        .scan_at(&tickets[0].2, Direction::Entry, AT + 1_000)
        .await
        .unwrap();
    assert!(online.online && online.outcome.decision.is_admitted());
    assert_eq!(online.ticket_type_name.as_deref(), Some("Standing"));

    // The network is gone: the name comes from the door's store, as its pull left it.
    net.cut.store(true, Ordering::Release);
    let offline = door
        .scan_at(&tickets[1].2, Direction::Entry, AT + 2_000)
        .await
        .unwrap();
    assert!(!offline.online && offline.outcome.decision.is_admitted());
    assert_eq!(offline.ticket_type_name.as_deref(), Some("Standing"));
    let shown = ScanResult::from(&offline);
    assert_eq!(shown.ticket_type_name.as_deref(), Some("Standing"));
    assert_eq!(shown.ticket_type_id.as_deref(), Some(tt.as_str()));
    // Not a ticket: no type to name.
    let garbage = door
        .scan_at("not a ticket", Direction::Entry, AT + 3_000)
        .await
        .unwrap();
    assert!(!garbage.outcome.decision.is_admitted());
    assert_eq!(ScanResult::from(&garbage).ticket_type_name, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_door_wipes_its_event_data() {
    let server = TestServer::start().await;
    let (org, event, tt, tickets) = sold(&server, "wipe", 2).await;
    let list = list(&server, &org, &event, &tt, false).await;
    let dir = tempfile::tempdir().unwrap();
    let net = Net::over(&server.url, 4);
    let door = pair(&server, &org, &list, dir.path(), net.clone(), PATIENT).await;
    net.cut.store(true, Ordering::Release);
    door.scan_at(&tickets[0].2, Direction::Entry, AT + 8_000)
        .await
        .unwrap();
    net.cut.store(false, Ordering::Release);

    let devices = server
        .ok(
            Some(&org),
            "query($e: ID!) { scannerDevices(eventId: $e) { id } }",
            json!({ "e": event }),
        )
        .await;
    let device = devices["scannerDevices"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    server
        .ok(
            Some(&org),
            "mutation($d: ID!) { revokeScanner(deviceId: $d) { id } }",
            json!({ "d": device }),
        )
        .await;

    assert!(matches!(door.sync().await, Err(Error::DeviceRevoked)));
    let config = door.config().await;
    assert!(
        matches!(config, Err(Error::DeviceRevoked)),
        "a revoked door still answers with {config:?}"
    );
    assert!(matches!(
        door.scan_at(&tickets[1].2, Direction::Entry, AT + 9_000)
            .await,
        Err(Error::DeviceRevoked)
    ));
    // Nothing of the event is left on disk.
    let store = guichet_sdk::store::Store::open(dir.path().join("door.db")).unwrap();
    assert_eq!(store.scan_count().unwrap(), 0);
    assert!(store.load_event_config().unwrap().is_none());
    assert_eq!(store.list_ticket_counts().unwrap(), (0, 0));
    // Nor the token: the door does not open again without a new pairing.
    drop(door);
    let reopened = Door::builder(&server.url, dir.path(), "north")
        .transport(net)
        .open()
        .await;
    assert_eq!(
        reopened.unwrap_err().kind(),
        guichet_sdk::ErrorKind::NotPaired
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admission_whose_online_answer_came_too_late_reaches_the_server_during_a_watch() {
    let server = TestServer::start().await;
    let (org, event, tt, tickets) = sold(&server, "late", 1).await;
    let list = list(&server, &org, &event, &tt, false).await;
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let net_a = Net::over(&server.url, 5);
    let net_b = Net::over(&server.url, 6);
    let a = pair(&server, &org, &list, dir_a.path(), net_a.clone(), PATIENT).await;
    let b = pair(&server, &org, &list, dir_b.path(), net_b, PATIENT).await;
    let first = b
        .scan_at(&tickets[0].2, Direction::Entry, AT)
        .await
        .unwrap();
    assert!(first.online && first.outcome.decision.is_admitted());

    // Door A syncs in the background; its pull waits on the network after its push found
    // nothing to send. Meanwhile A scans the same ticket: the online question reaches the
    // server (which stores a refusal, already used) only after A gave up and let the
    // person in. Then the pull goes through and relays the server's version of A's scan.
    net_a.hold_syncs.store(true, Ordering::Release);
    let syncs = net_a.syncs.load(Ordering::Acquire);
    let background = tokio::spawn({
        let a = a.clone();
        async move { a.sync().await }
    });
    tokio::time::timeout(Duration::from_secs(30), async {
        while net_a.syncs.load(Ordering::Acquire) == syncs {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
    .expect("the background sync never reached the network");
    net_a.admit_late.store(true, Ordering::Release);
    let second = a
        .scan_at(&tickets[0].2, Direction::Entry, AT + 1_000)
        .await
        .unwrap();
    assert!(!second.online);
    assert!(second.outcome.decision.is_admitted(), "A knew nothing yet");
    net_a.land().await;
    let id = second.outcome.scan_id.to_string();
    assert_eq!(
        server.scans(&org, &list).await[&id],
        ("rejected".to_owned(), "rejected".to_owned()),
        "the server stored its own online answer"
    );
    net_a.hold_syncs.store(false, Ordering::Release);
    background.await.unwrap().unwrap();

    // The relayed refusal is not what the door showed: the scan still waits for a push.
    assert_eq!(a.unpushed_count().await.unwrap(), 1);
    net_a.admit_late.store(false, Ordering::Release);
    let report = a.sync().await.unwrap();
    assert_eq!(report.pushed, 1);
    assert_eq!(
        server.scans(&org, &list).await[&id],
        ("admitted".to_owned(), "duplicate_entry".to_owned()),
        "the server has what the door showed, flagged"
    );
    b.sync().await.unwrap();
    for door in [&a, &b] {
        let known = door.known_scans().await.unwrap();
        assert_eq!(known.len(), 2);
        let class = known.iter().find(|k| k.id == second.outcome.scan_id);
        assert_eq!(
            class.and_then(|k| k.classification.as_deref()),
            Some("duplicate_entry")
        );
    }
    let alerts = server
        .ok(
            Some(&org),
            "query($e: ID!) { duplicateAlerts(eventId: $e) { scan { id } firstEntry { id } } }",
            json!({ "e": event }),
        )
        .await;
    assert_eq!(
        alerts["duplicateAlerts"],
        json!([{ "scan": { "id": id }, "firstEntry": { "id": first.outcome.scan_id.to_string() } }])
    );
}
