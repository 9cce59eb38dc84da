//! The offline catalog against the real server in-process: sync, search with the network
//! off, deletions and cancellations, resumed syncs, and offline results equal to the
//! server's own search on a seeded catalog of 10,000 events.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use chrono::{DateTime, Utc};
use guichet_sdk::Client;
use guichet_sdk::catalog::{EventSearch, Near};
use guichet_sdk::transport::{Call, HttpConfig, HttpTransport, Transport, TransportError};
use serde_json::{Value, json};

use guichet_e2e::TestServer;

/// HTTP that can be switched off, or set to fail every catalog call after the first `n`.
#[derive(Debug)]
struct Switch {
    inner: HttpTransport,
    offline: AtomicBool,
    catalog_calls_left: AtomicUsize,
    catalog_calls: AtomicUsize,
}

impl Switch {
    fn over(url: &str) -> Arc<Switch> {
        Arc::new(Switch {
            inner: HttpTransport::new(&format!("{url}/"), &HttpConfig::default()).unwrap(),
            offline: AtomicBool::new(false),
            catalog_calls_left: AtomicUsize::new(usize::MAX),
            catalog_calls: AtomicUsize::new(0),
        })
    }
}

#[async_trait::async_trait]
impl Transport for Switch {
    async fn send(&self, call: Call) -> Result<Value, TransportError> {
        if self.offline.load(Ordering::Acquire) {
            return Err(TransportError::Connect("network off".into()));
        }
        if call.operation == "CatalogChanges" {
            let left = self.catalog_calls_left.load(Ordering::Acquire);
            if left == 0 {
                return Err(TransportError::Network("connection reset".into()));
            }
            self.catalog_calls_left
                .store(left.saturating_sub(1), Ordering::Release);
            self.catalog_calls.fetch_add(1, Ordering::AcqRel);
        }
        self.inner.send(call).await
    }
}

async fn create_event(server: &TestServer, org: &str, input: Value, publish: bool) -> String {
    let data = server
        .ok(
            Some(org),
            "mutation($i: EventInput!) { createEvent(input: $i) { id } }",
            json!({ "i": input }),
        )
        .await;
    let id = data["createEvent"]["id"].as_str().unwrap().to_owned();
    server
        .ok(
            Some(org),
            "mutation($e: ID!) { addTicketType(eventId: $e, input: {name: \"Fosse\", priceMinor: 3500, currency: \"EUR\", capacity: 100, saleStartsAt: \"2020-01-01T00:00:00Z\", saleEndsAt: \"2099-01-01T00:00:00Z\", maxPerOrder: 6}) { id } }",
            json!({ "e": id }),
        )
        .await;
    if publish {
        server
            .ok(
                Some(org),
                "mutation($e: ID!) { publishEvent(id: $e) { id } }",
                json!({ "e": id }),
            )
            .await;
    }
    id
}

fn event_at(title: &str, city: &str, lat: f64, lon: f64, start: &str) -> Value {
    let starts: DateTime<Utc> = start.parse().unwrap();
    json!({
        "title": title, "description": "Une soirée.", "venue": "Salle", "city": city,
        "latitude": lat, "longitude": lon, "startsAt": start,
        "endsAt": (starts + chrono::Duration::hours(4)).to_rfc3339(),
        "timeZone": "Europe/Paris",
    })
}

fn text(words: &str) -> EventSearch {
    EventSearch {
        text: Some(words.to_owned()),
        ..EventSearch::default()
    }
}

async fn ids(client: &Client, search: EventSearch) -> Vec<String> {
    client
        .catalog()
        .search(search)
        .await
        .unwrap()
        .into_iter()
        .map(|h| h.event.id)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_catalog_syncs_once_then_searches_with_the_network_off() {
    let server = TestServer::start().await;
    let org = server.token_for("catalog@example.org", "ORGANIZER").await;
    let electro = create_event(
        &server,
        &org,
        event_at("Nuit Électro", "Lyon", 45.76, 4.84, "2030-06-21T20:00:00Z"),
        true,
    )
    .await;
    let jazz = create_event(
        &server,
        &org,
        event_at(
            "Jazz à Vienne",
            "Vienne",
            45.52,
            4.87,
            "2030-07-01T20:00:00Z",
        ),
        true,
    )
    .await;
    let opera = create_event(
        &server,
        &org,
        event_at(
            "Opéra de nuit",
            "Paris",
            48.86,
            2.35,
            "2030-09-01T19:00:00Z",
        ),
        true,
    )
    .await;
    let draft = create_event(
        &server,
        &org,
        event_at("Nuit secrète", "Lyon", 45.76, 4.84, "2030-06-22T20:00:00Z"),
        false,
    )
    .await;

    let dir = tempfile::tempdir().unwrap();
    let net = Switch::over(&server.url);
    let client = server
        .client(dir.path())
        .transport(net.clone())
        .open()
        .await
        .unwrap();
    let report = client.catalog().sync().await.unwrap();
    assert_eq!(report.upserted, 3, "drafts never reach the catalog");

    net.offline.store(true, Ordering::Release);
    // Prefixes, any case, accents folded both ways.
    assert_eq!(ids(&client, text("ÉLEC")).await, vec![electro.clone()]);
    assert_eq!(
        ids(&client, text("electro nuit")).await,
        vec![electro.clone()]
    );
    assert_eq!(ids(&client, text("opera")).await, vec![opera.clone()]);
    let nuit: BTreeSet<String> = ids(&client, text("nuit")).await.into_iter().collect();
    assert_eq!(nuit, BTreeSet::from([electro.clone(), opera.clone()]));
    assert!(!nuit.contains(&draft));
    // Operators are words, not syntax.
    assert!(ids(&client, text("\"nuit\" OR *")).await.is_empty());
    // Distance: within 40 km of Lyon are Lyon and Vienne, nearest first by start.
    let near_lyon = EventSearch {
        near: Some(Near {
            latitude: 45.76,
            longitude: 4.84,
            radius_km: 40.0,
        }),
        ..EventSearch::default()
    };
    let hits = client.catalog().search(near_lyon).await.unwrap();
    assert_eq!(
        hits.iter().map(|h| h.event.id.clone()).collect::<Vec<_>>(),
        [electro.clone(), jazz.clone()]
    );
    assert!(hits[1].distance_km.unwrap() > 20.0 && hits[1].distance_km.unwrap() < 40.0);
    // Dates: only July.
    let july = EventSearch {
        starts_after: Some("2030-07-01T00:00:00Z".parse().unwrap()),
        starts_before: Some("2030-08-01T00:00:00Z".parse().unwrap()),
        ..EventSearch::default()
    };
    assert_eq!(ids(&client, july).await, vec![jazz.clone()]);
    // One event, with its ticket types, from the cache.
    let cached = client.catalog().event(&electro).await.unwrap().unwrap();
    assert_eq!(cached.title, "Nuit Électro");
    assert_eq!(cached.ticket_types[0].name, "Fosse");
    assert_eq!(cached.ticket_types[0].price_minor, 3500);
    assert_eq!(
        client.catalog().sync().await.unwrap_err().kind(),
        guichet_sdk::ErrorKind::Network,
        "the network is off"
    );
    // A bad radius is refused, not guessed.
    let bad = EventSearch {
        near: Some(Near {
            latitude: 45.0,
            longitude: 4.0,
            radius_km: -1.0,
        }),
        ..EventSearch::default()
    };
    assert_eq!(
        client.catalog().search(bad).await.unwrap_err().kind(),
        guichet_sdk::ErrorKind::InvalidInput
    );

    // Cancelled: stays cached with its status, leaves the results.
    net.offline.store(false, Ordering::Release);
    server
        .ok(
            Some(&org),
            "mutation($e: ID!) { cancelEvent(id: $e) { id } }",
            json!({ "e": jazz }),
        )
        .await;
    server
        .ok(
            Some(&org),
            "mutation($e: ID!, $p: EventPatch!) { updateEvent(id: $e, patch: $p) { id } }",
            json!({ "e": opera, "p": { "title": "Opéra d'été" } }),
        )
        .await;
    let report = client.catalog().sync().await.unwrap();
    assert_eq!(report.upserted, 2, "only what changed comes again");
    net.offline.store(true, Ordering::Release);
    assert_eq!(
        client.catalog().event(&jazz).await.unwrap().unwrap().status,
        "CANCELLED"
    );
    assert!(ids(&client, text("jazz")).await.is_empty());
    assert_eq!(ids(&client, text("ete")).await, vec![opera.clone()]);
    assert_eq!(ids(&client, text("nuit")).await, vec![electro.clone()]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interrupted_sync_resumes_where_it_stopped() {
    let server = TestServer::start().await;
    let org = server.token_for("resume@example.org", "ORGANIZER").await;
    let me = server.ok(Some(&org), "{ me { id } }", json!({})).await;
    let org_id = me["me"]["id"].as_str().unwrap().to_owned();
    server.seed_events(&org_id, 2_500, 7).await;

    let dir = tempfile::tempdir().unwrap();
    let net = Switch::over(&server.url);
    let client = server
        .client(dir.path())
        .transport(net.clone())
        .open()
        .await
        .unwrap();
    // Two pages of 1,000 arrive, then the connection breaks.
    net.catalog_calls_left.store(2, Ordering::Release);
    assert_eq!(
        client.catalog().sync().await.unwrap_err().kind(),
        guichet_sdk::ErrorKind::Network
    );
    let stored = client
        .catalog()
        .search(EventSearch {
            include_past: true,
            limit: 500,
            ..EventSearch::default()
        })
        .await
        .unwrap();
    assert!(!stored.is_empty());
    // Back online: the sync goes on from the third page, not from the start.
    net.catalog_calls_left.store(usize::MAX, Ordering::Release);
    let before = net.catalog_calls.load(Ordering::Acquire);
    let report = client.catalog().sync().await.unwrap();
    assert_eq!(report.upserted, 500);
    assert_eq!(net.catalog_calls.load(Ordering::Acquire) - before, 1);
    assert_eq!(client.catalog().sync().await.unwrap().upserted, 0);
}

/// Every id the server's own search returns, page by page.
async fn online(server: &TestServer, filter: Value) -> Vec<String> {
    let mut ids = Vec::new();
    let mut after: Option<String> = None;
    // A server that never says "last page" must fail the test, not hang it.
    for _ in 0..PAGE_BOUND {
        let data = server
            .ok(None, "query($f: EventFilter, $a: String) { events(filter: $f, first: 100, after: $a) { nodes { id } pageInfo { endCursor hasNextPage } } }", json!({ "f": filter, "a": after }))
            .await;
        let page = &data["events"];
        ids.extend(
            page["nodes"]
                .as_array()
                .unwrap()
                .iter()
                .map(|n| n["id"].as_str().unwrap().to_owned()),
        );
        if page["pageInfo"]["hasNextPage"] != json!(true) {
            return ids;
        }
        after = page["pageInfo"]["endCursor"].as_str().map(str::to_owned);
    }
    panic!("the server's search had more than {PAGE_BOUND} pages");
}

/// More pages than any search here can have (10,000 events, 100 a page online).
const PAGE_BOUND: usize = 1_000;

/// Every id the offline search returns, page by page.
async fn offline(client: &Client, search: &EventSearch) -> Vec<String> {
    let mut ids = Vec::new();
    for _ in 0..PAGE_BOUND {
        let page = EventSearch {
            limit: 500,
            offset: ids.len(),
            ..search.clone()
        };
        let hits = ids_of(client, page).await;
        let done = hits.len() < 500;
        ids.extend(hits);
        if done {
            return ids;
        }
    }
    panic!("the offline search had more than {PAGE_BOUND} pages");
}

async fn ids_of(client: &Client, search: EventSearch) -> Vec<String> {
    ids(client, search).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offline_results_equal_the_servers_on_ten_thousand_events() {
    let server = TestServer::start().await;
    let org = server.token_for("tenk@example.org", "ORGANIZER").await;
    let me = server.ok(Some(&org), "{ me { id } }", json!({})).await;
    let org_id = me["me"]["id"].as_str().unwrap().to_owned();
    server.seed_events(&org_id, 10_000, 42).await;
    let dir = tempfile::tempdir().unwrap();
    let net = Switch::over(&server.url);
    let client = server
        .client(dir.path())
        .transport(net.clone())
        .open()
        .await
        .unwrap();
    assert_eq!(client.catalog().sync().await.unwrap().upserted, 10_000);

    let lyon = json!({ "latitude": 45.76, "longitude": 4.84, "radiusKm": 30.0 });
    let near_lyon = Near {
        latitude: 45.76,
        longitude: 4.84,
        radius_km: 30.0,
    };
    let cases: Vec<(Value, EventSearch)> = vec![
        (json!({}), EventSearch::default()),
        (json!({ "text": "jazz" }), text("jazz")),
        (json!({ "text": "fete ete" }), text("Fête ÉTÉ")),
        (json!({ "text": "sym" }), text("sym")),
        (json!({ "text": "zurich" }), text("Zürich")),
        (
            json!({ "text": "nuit electro 12" }),
            text("nuit electro 12"),
        ),
        (json!({ "text": "nothingmatches" }), text("nothingmatches")),
        (
            json!({ "near": lyon }),
            EventSearch {
                near: Some(near_lyon),
                ..EventSearch::default()
            },
        ),
        (
            json!({ "text": "opera", "near": lyon, "startsAfter": "2031-01-01T00:00:00Z" }),
            EventSearch {
                text: Some("opera".into()),
                near: Some(near_lyon),
                starts_after: Some("2031-01-01T00:00:00Z".parse().unwrap()),
                ..EventSearch::default()
            },
        ),
        (
            json!({ "startsAfter": "2030-03-01T00:00:00Z", "startsBefore": "2030-04-01T00:00:00Z" }),
            EventSearch {
                starts_after: Some("2030-03-01T00:00:00Z".parse().unwrap()),
                starts_before: Some("2030-04-01T00:00:00Z".parse().unwrap()),
                ..EventSearch::default()
            },
        ),
        (
            json!({ "text": "concert", "includePast": true }),
            EventSearch {
                text: Some("concert".into()),
                include_past: true,
                ..EventSearch::default()
            },
        ),
    ];
    net.offline.store(true, Ordering::Release);
    let mut compared = 0;
    for (filter, search) in cases {
        net.offline.store(false, Ordering::Release);
        let online_ids = online(&server, filter.clone()).await;
        net.offline.store(true, Ordering::Release);
        let offline_ids = offline(&client, &search).await;
        // The server orders by start time; offline ranks text matches by relevance, so
        // those are compared as sets; without text both are in start-time order.
        if search.text.is_none() {
            assert_eq!(offline_ids, online_ids, "{filter}");
        } else {
            let a: BTreeSet<_> = offline_ids.iter().collect();
            let b: BTreeSet<_> = online_ids.iter().collect();
            assert_eq!(a, b, "{filter}");
            assert_eq!(
                offline_ids.len(),
                a.len(),
                "no duplicates offline: {filter}"
            );
        }
        compared += online_ids.len();
    }
    assert!(
        compared > 10_000,
        "the queries cover many events ({compared})"
    );
}
