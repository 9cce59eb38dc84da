//! Door sync benchmark against the real server in-process (SQLite, loopback HTTP):
//! pairing a door with a 100,000-ticket event (redeem + the whole first pull), then
//! 10,000 scans taken offline and pushed in one sync.
//!
//! Run: `cargo run --release -p guichet-sdk --example door_sync [-- TICKETS SCANS]`

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use guichet_domain::checkin::Direction;
use guichet_sdk::scanner::{Door, DoorOptions};
use guichet_sdk::transport::{Call, HttpConfig, HttpTransport, Transport, TransportError};
use guichet_server::config::Config;
use guichet_server::db::{Db, now};
use guichet_server::issuing::Issuer;
use guichet_server::payments::test_provider::TestProvider;
use guichet_server::{AppState, app};
use serde_json::{Value, json};

/// HTTP, counting the JSON bytes of every answer; `offline` makes every call fail unsent.
#[derive(Debug)]
struct Metered {
    inner: HttpTransport,
    bytes: AtomicUsize,
    requests: AtomicUsize,
    offline: AtomicBool,
}

#[async_trait::async_trait]
impl Transport for Metered {
    async fn send(&self, call: Call) -> Result<Value, TransportError> {
        if self.offline.load(Ordering::Acquire) {
            return Err(TransportError::Connect("offline".into()));
        }
        let answer = self.inner.send(call).await?;
        let size = serde_json::to_vec(&answer).map_or(0, |v| v.len());
        self.bytes.fetch_add(size, Ordering::Relaxed);
        self.requests.fetch_add(1, Ordering::Relaxed);
        Ok(answer)
    }
}

async fn gql(
    http: &reqwest::Client,
    url: &str,
    token: Option<&str>,
    query: &str,
    vars: Value,
) -> Value {
    let mut request = http
        .post(format!("{url}/graphql"))
        .json(&json!({ "query": query, "variables": vars }));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let answer: Value = request.send().await.unwrap().json().await.unwrap();
    assert!(answer.get("errors").is_none(), "{answer}");
    answer["data"].clone()
}

fn file_size(path: &std::path::Path) -> u64 {
    ["", "-wal"]
        .iter()
        .map(|suffix| {
            let mut name = path.as_os_str().to_owned();
            name.push(suffix);
            std::fs::metadata(name).map_or(0, |m| m.len())
        })
        .sum()
}

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .map(|a| a.parse().unwrap())
        .collect();
    let tickets = args.first().copied().unwrap_or(100_000);
    let scans = args.get(1).copied().unwrap_or(10_000).min(tickets);
    let _ = rustls::crypto::ring::default_provider().install_default();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(run(tickets, scans));
}

async fn run(tickets: usize, scans: usize) {
    let dir = tempfile::tempdir().unwrap();
    let server_db = dir.path().join("server.db");
    let config = Config {
        database_url: format!("sqlite://{}", server_db.display()),
        jwt_secret: Some(vec![42; 32]),
        ..Config::default()
    };
    let db = Db::connect(&config.database_url, config.pool_size())
        .await
        .unwrap();
    db.migrate().await.unwrap();
    let secret = config.load_secret().unwrap();
    let state =
        AppState::with_provider(config, db, &secret, Arc::new(TestProvider::new())).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let router = app(state.clone());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });

    // An event, its signing key, and `tickets` issued credentials written straight to the
    // server's database (the checkout saga is not what this measures).
    let http = reqwest::Client::new();
    let org = gql(&http, &url, None, "mutation { signUp(input: {email: \"bench@example.org\", password: \"a long enough password\", displayName: \"Bench\", role: ORGANIZER}) { accessToken user { id } } }", json!({})).await;
    let token = org["signUp"]["accessToken"].as_str().unwrap().to_owned();
    let user = org["signUp"]["user"]["id"].as_str().unwrap().to_owned();
    let event = gql(&http, &url, Some(&token), "mutation { createEvent(input: {title: \"Stadium\", venue: \"Stade\", city: \"Lyon\", startsAt: \"2099-06-01T19:00:00Z\", endsAt: \"2099-06-01T23:00:00Z\", timeZone: \"Europe/Paris\"}) { id } }", json!({})).await;
    let event = event["createEvent"]["id"].as_str().unwrap().to_owned();
    let tt = gql(&http, &url, Some(&token), "mutation($e: ID!) { addTicketType(eventId: $e, input: {name: \"Pitch\", priceMinor: 5000, currency: \"EUR\", capacity: 200000, saleStartsAt: \"2020-01-01T00:00:00Z\", saleEndsAt: \"2099-01-01T00:00:00Z\", maxPerOrder: 6}) { id } }", json!({ "e": event })).await;
    let tt = tt["addTicketType"]["id"].as_str().unwrap().to_owned();
    let row = state.db.event(&event).await.unwrap().unwrap();
    let (key_id, seed) = state
        .db
        .ensure_event_key(&event, &state.sealer, Issuer::public_key_hex, now())
        .await
        .unwrap();
    let issuer = Issuer::new(&row, key_id, seed).unwrap();
    let started = Instant::now();
    let mut credentials = Vec::with_capacity(scans);
    {
        let mut conn = rusqlite::Connection::open(&server_db).unwrap();
        // The tickets name an order that does not exist (no checkout ran).
        conn.pragma_update(None, "foreign_keys", false).unwrap();
        let tx = conn.transaction().unwrap();
        {
            let mut insert = tx
                .prepare("INSERT INTO tickets (id, order_id, event_id, ticket_type_id, holder_id, price_minor, status, credential, created_at) VALUES (?1, 'bench', ?2, ?3, ?4, 5000, 'valid', ?5, ?6)")
                .unwrap();
            for i in 0..tickets {
                let id = uuid::Uuid::now_v7().to_string();
                let credential = issuer.credential(&id, &tt).unwrap();
                insert
                    .execute(rusqlite::params![id, event, tt, user, credential, now()])
                    .unwrap();
                if i < scans {
                    credentials.push(credential);
                }
            }
        }
        tx.commit().unwrap();
    }
    println!(
        "seeded {tickets} tickets in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    let list = gql(&http, &url, Some(&token), "mutation($e: ID!, $t: ID!) { createCheckInList(eventId: $e, input: {name: \"All gates\", ticketTypeIds: [$t], gates: [\"north\"]}) { id } }", json!({ "e": event, "t": tt })).await;
    let list = list["createCheckInList"]["id"].as_str().unwrap().to_owned();
    let code = gql(
        &http,
        &url,
        Some(&token),
        "mutation($l: ID!) { pairScanner(listId: $l) { code } }",
        json!({ "l": list }),
    )
    .await;
    let code = code["pairScanner"]["code"].as_str().unwrap().to_owned();

    let net = Arc::new(Metered {
        inner: HttpTransport::new(&format!("{url}/"), &HttpConfig::default()).unwrap(),
        bytes: AtomicUsize::new(0),
        requests: AtomicUsize::new(0),
        offline: AtomicBool::new(false),
    });
    let door_dir = tempfile::tempdir().unwrap();
    let options = DoorOptions {
        retry_online_after: Duration::from_secs(3_600),
        ..DoorOptions::default()
    };
    let started = Instant::now();
    let door = Door::builder(&url, door_dir.path(), "north")
        .transport(net.clone())
        .options(options)
        .pair(&code, "bench")
        .await
        .unwrap();
    let paired = started.elapsed();
    let bytes = net.bytes.load(Ordering::Relaxed);
    let size = file_size(&door_dir.path().join("door.db"));
    assert_eq!(door.ticket_counts().await.unwrap().0, tickets as i64);
    println!(
        "initial sync of {tickets} tickets: {:.2} s, {} requests, {bytes} bytes of JSON ({:.1} bytes/ticket), door.db {:.1} MB",
        paired.as_secs_f64(),
        net.requests.load(Ordering::Relaxed),
        bytes as f64 / tickets as f64,
        size as f64 / 1e6
    );

    // Offline at the door: every scan decided and committed locally.
    net.offline.store(true, Ordering::Release);
    let _ = door.sync().await; // the failed call switches the door offline
    let at = 4_084_023_600_000; // the event's start, Unix ms
    let started = Instant::now();
    for (i, credential) in credentials.iter().enumerate() {
        let scan = door
            .scan_at(credential, Direction::Entry, at + i as i64)
            .await
            .unwrap();
        assert!(scan.outcome.decision.is_admitted() && !scan.online);
    }
    let scanned = started.elapsed();
    println!(
        "{scans} offline scans: {:.2} s ({:.0} scans/s, each durable before its decision)",
        scanned.as_secs_f64(),
        scans as f64 / scanned.as_secs_f64()
    );

    net.offline.store(false, Ordering::Release);
    let before = net.requests.load(Ordering::Relaxed);
    let started = Instant::now();
    let report = door.sync().await.unwrap();
    let pushed = started.elapsed();
    assert_eq!(report.pushed, scans);
    println!(
        "push of {scans} scans (and the pull after it): {:.2} s, {} requests",
        pushed.as_secs_f64(),
        net.requests.load(Ordering::Relaxed) - before
    );
}
