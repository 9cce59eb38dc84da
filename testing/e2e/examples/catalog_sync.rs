//! Offline catalog benchmark against the real server in-process (SQLite, loopback HTTP):
//! `sync_catalog` of 100,000 events into an empty client, then offline searches, ranked
//! top 20, timed one by one (p50/p99).
//!
//! Run: `cargo run --release -p guichet-sdk --example catalog_sync [-- EVENTS]`

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use guichet_e2e::seed_catalog;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use guichet_sdk::Client;
use guichet_sdk::catalog::{EventSearch, Near};
use guichet_sdk::transport::{Call, HttpConfig, HttpTransport, Transport, TransportError};
use guichet_server::config::Config;
use guichet_server::db::Db;
use guichet_server::payments::test_provider::TestProvider;
use guichet_server::{AppState, app};
use serde_json::{Value, json};

/// HTTP, counting the JSON bytes of every answer.
#[derive(Debug)]
struct Metered {
    inner: HttpTransport,
    bytes: AtomicUsize,
    requests: AtomicUsize,
    /// Microseconds spent waiting for answers.
    waiting_us: AtomicUsize,
}

#[async_trait::async_trait]
impl Transport for Metered {
    async fn send(&self, call: Call) -> Result<Value, TransportError> {
        let started = Instant::now();
        let answer = self.inner.send(call).await?;
        self.waiting_us
            .fetch_add(started.elapsed().as_micros() as usize, Ordering::Relaxed);
        let size = serde_json::to_vec(&answer).map_or(0, |v| v.len());
        self.bytes.fetch_add(size, Ordering::Relaxed);
        self.requests.fetch_add(1, Ordering::Relaxed);
        Ok(answer)
    }
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

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1e3
}

fn main() {
    let events = std::env::args()
        .nth(1)
        .map_or(100_000, |n| n.parse().unwrap());
    let _ = rustls::crypto::ring::default_provider().install_default();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(run(events));
}

async fn run(events: usize) {
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
    tokio::spawn(async move { axum::serve(listener, app(state)).await.unwrap() });

    let http = reqwest::Client::new();
    let signed: Value = http
        .post(format!("{url}/graphql"))
        .json(&json!({ "query": "mutation { signUp(input: {email: \"bench@example.org\", password: \"a long enough password\", displayName: \"Bench\", role: ORGANIZER}) { user { id } } }" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let organizer = signed["data"]["signUp"]["user"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let started = Instant::now();
    seed_catalog::seed_events(&server_db, &organizer, events, 1);
    println!(
        "seeded {events} events in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    let net = Arc::new(Metered {
        inner: HttpTransport::new(&format!("{url}/"), &HttpConfig::default()).unwrap(),
        bytes: AtomicUsize::new(0),
        requests: AtomicUsize::new(0),
        waiting_us: AtomicUsize::new(0),
    });
    let client_dir = tempfile::tempdir().unwrap();
    let client = Client::builder(&url, client_dir.path())
        .transport(net.clone())
        .open()
        .await
        .unwrap();
    let started = Instant::now();
    let report = client.catalog().sync().await.unwrap();
    let synced = started.elapsed();
    let bytes = net.bytes.load(Ordering::Relaxed);
    println!(
        "sync_catalog of {} events from empty: {:.2} s, {} requests, {:.1} MB of JSON ({:.0} bytes/event), client database {:.1} MB",
        report.upserted,
        synced.as_secs_f64(),
        net.requests.load(Ordering::Relaxed),
        bytes as f64 / 1e6,
        bytes as f64 / report.upserted as f64,
        file_size(&client_dir.path().join("guichet.db")) as f64 / 1e6
    );
    println!(
        "  of which waiting for the server (request, render, transfer, JSON parse): {:.2} s",
        net.waiting_us.load(Ordering::Relaxed) as f64 / 1e6
    );

    if std::env::var("GUICHET_BENCH_SYNC_ONLY").is_ok() {
        return;
    }
    if let Ok(keep) = std::env::var("GUICHET_BENCH_KEEP") {
        std::fs::copy(client_dir.path().join("guichet.db"), keep).unwrap();
    }

    // Offline searches, top 20, ranked: single words, prefixes, several words, accents,
    // dates, distance, and combinations.
    let lyon = Near {
        latitude: 45.76,
        longitude: 4.84,
        radius_km: 30.0,
    };
    let words = [
        "jazz",
        "fete",
        "opéra",
        "noel",
        "sym",
        "nuit electro",
        "ZÜRICH",
        "cafe concert",
        "ete",
        "contes",
        "rock lyon",
        "baroque orchestre",
        "festival",
        "t",
        "lum",
    ];
    let mut queries: Vec<EventSearch> = words
        .iter()
        .map(|w| EventSearch {
            text: Some((*w).to_owned()),
            ..EventSearch::default()
        })
        .collect();
    queries.push(EventSearch {
        near: Some(lyon),
        ..EventSearch::default()
    });
    queries.push(EventSearch {
        text: Some("jazz".into()),
        near: Some(lyon),
        ..EventSearch::default()
    });
    queries.push(EventSearch {
        starts_after: Some("2030-06-01T00:00:00Z".parse().unwrap()),
        starts_before: Some("2030-07-01T00:00:00Z".parse().unwrap()),
        ..EventSearch::default()
    });
    queries.push(EventSearch::default());
    let mut times = Vec::new();
    let mut results = 0;
    let mut slowest = vec![Duration::ZERO; queries.len()];
    for round in 0..25 {
        for (i, q) in queries.iter().enumerate() {
            let q = EventSearch {
                limit: 20,
                ..q.clone()
            };
            let started = Instant::now();
            let hits = client.catalog().search(q).await.unwrap();
            if round > 0 {
                times.push(started.elapsed());
                slowest[i] = slowest[i].max(started.elapsed());
            }
            results += hits.len();
        }
    }
    if std::env::var("GUICHET_BENCH_VERBOSE").is_ok() {
        for (q, t) in queries.iter().zip(&slowest) {
            println!(
                "  {:7.2} ms  {:?} near={}",
                t.as_secs_f64() * 1e3,
                q.text,
                q.near.is_some()
            );
        }
    }
    times.sort();
    println!(
        "offline search, top 20 of {} events: {} searches ({} distinct queries), p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms ({} results)",
        report.upserted,
        times.len(),
        queries.len(),
        percentile(&times, 0.5),
        percentile(&times, 0.99),
        times.last().unwrap().as_secs_f64() * 1e3,
        results
    );
}
