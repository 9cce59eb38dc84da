//! The real Guichet server, in-process on a 127.0.0.1 port over a fresh SQLite file (or a
//! fresh PostgreSQL database: [`Engine`]), and a raw GraphQL client to check what the server
//! holds independently of the SDK.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use guichet_sdk::session::{Role, SignUp};
use guichet_sdk::{Client, ClientBuilder};
use guichet_server::config::Config;
use guichet_server::db::Db;
use guichet_server::payments::test_provider::TestProvider;
use guichet_server::{AppState, app};
use serde_json::{Value, json};

use crate::engine::{Engine, PgDatabase};

/// A server running on a loopback port until dropped.
pub struct TestServer {
    pub url: String,
    pub state: AppState,
    /// The payment provider's ledger: what was authorised, captured and refunded.
    pub payments: Arc<TestProvider>,
    http: reqwest::Client,
    task: tokio::task::JoinHandle<()>,
    /// Device tokens of the observers [`TestServer::scans`] paired, by check-in list.
    observers: Mutex<HashMap<String, String>>,
    _dir: tempfile::TempDir,
    /// The PostgreSQL database, dropped after the server (declared last).
    _pg: Option<PgDatabase>,
}

impl std::fmt::Debug for TestServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestServer")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

pub const PASSWORD: &str = "a long enough password";

impl TestServer {
    /// A server with generous rate limits and the test payment provider, on the engine
    /// `GUICHET_E2E_ENGINE` names ([`Engine::from_env`]).
    pub async fn start() -> TestServer {
        TestServer::start_with(|_| {}).await
    }

    /// A server whose configuration `tweak` adjusted first (rate limits, payment provider,
    /// page sizes), on the engine `GUICHET_E2E_ENGINE` names.
    pub async fn start_with(tweak: impl FnOnce(&mut Config)) -> TestServer {
        TestServer::start_on(Engine::from_env(), tweak).await
    }

    /// A server on `engine`, whatever `GUICHET_E2E_ENGINE` says (for tests that need the
    /// SQLite file itself, such as bulk seeding).
    pub async fn start_on(engine: Engine, tweak: impl FnOnce(&mut Config)) -> TestServer {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let dir = tempfile::tempdir().unwrap();
        let (database_url, pg, key_encryption_key) = match engine {
            Engine::Sqlite => (
                format!("sqlite://{}", dir.path().join("server.db").display()),
                None,
                None,
            ),
            // PostgreSQL has no file beside it for a generated key: give one.
            Engine::Postgres => {
                let pg = PgDatabase::create().await;
                (pg.url.clone(), Some(pg), Some([7; 32]))
            }
        };
        let mut config = Config {
            database_url,
            key_encryption_key,
            jwt_secret: Some(vec![42; 32]),
            auth_rate_per_minute: 100_000,
            auth_rate_burst: 100_000,
            hold_rate_per_minute: 1_000_000,
            ..Config::default()
        };
        tweak(&mut config);
        let db = Db::connect(&config.database_url, config.pool_size())
            .await
            .unwrap();
        db.migrate().await.unwrap();
        let secret = config.load_secret().unwrap();
        let payments = Arc::new(TestProvider::new());
        let state = AppState::with_provider(config, db, &secret, payments.clone()).unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let router = app(state.clone());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        TestServer {
            url,
            state,
            payments,
            http: reqwest::Client::new(),
            task,
            observers: Mutex::default(),
            _dir: dir,
            _pg: pg,
        }
    }

    /// Stops the server and waits until its port no longer answers.
    pub async fn stop(mut self) {
        self.task.abort();
        let _ = (&mut self.task).await;
    }

    /// A client of this server over HTTP, with its data in `dir`.
    pub fn client(&self, dir: &std::path::Path) -> ClientBuilder {
        Client::builder(&self.url, dir)
    }

    /// Runs a raw GraphQL operation and returns the whole response.
    pub async fn gql(&self, token: Option<&str>, query: &str, variables: Value) -> Value {
        let mut request = self
            .http
            .post(format!("{}/graphql", self.url))
            .json(&json!({ "query": query, "variables": variables }));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send().await.unwrap().json().await.unwrap()
    }

    /// Runs an operation that must succeed and returns `data`.
    pub async fn ok(&self, token: Option<&str>, query: &str, variables: Value) -> Value {
        let response = self.gql(token, query, variables).await;
        assert!(response.get("errors").is_none(), "errors: {response}");
        response["data"].clone()
    }

    /// Signs an account up directly (not through the SDK) and returns its access token.
    pub async fn token_for(&self, email: &str, role: &str) -> String {
        let data = self
            .ok(
                None,
                "mutation($i: SignUpInput!) { signUp(input: $i) { accessToken } }",
                json!({ "i": { "email": email, "password": PASSWORD,
                               "displayName": "Someone", "role": role } }),
            )
            .await;
        data["signUp"]["accessToken"].as_str().unwrap().to_owned()
    }

    /// A published event (sale open now) with one ticket type; returns (event, type) ids.
    pub async fn published_event(&self, organizer: &str, capacity: i64) -> (String, String) {
        let data = self
            .ok(
                Some(organizer),
                "mutation($i: EventInput!) { createEvent(input: $i) { id } }",
                json!({ "i": event_input("Concert") }),
            )
            .await;
        let event = data["createEvent"]["id"].as_str().unwrap().to_owned();
        let data = self
            .ok(
                Some(organizer),
                "mutation($e: ID!, $t: TicketTypeInput!) { addTicketType(eventId: $e, input: $t) { id } }",
                json!({ "e": event, "t": {
                    "name": "Standing", "priceMinor": 2500, "currency": "EUR",
                    "capacity": capacity, "saleStartsAt": "2020-01-01T00:00:00Z",
                    "saleEndsAt": "2099-01-01T00:00:00Z", "maxPerOrder": 6 } }),
            )
            .await;
        let ticket_type = data["addTicketType"]["id"].as_str().unwrap().to_owned();
        self.ok(
            Some(organizer),
            "mutation($e: ID!) { publishEvent(id: $e) { status } }",
            json!({ "e": event }),
        )
        .await;
        (event, ticket_type)
    }
}

impl TestServer {
    /// A fresh access token for an existing account (a separate session).
    pub async fn log_in(&self, email: &str) -> String {
        let data = self
            .ok(
                None,
                "mutation($e: String!, $p: String!) { logIn(email: $e, password: $p) { accessToken } }",
                json!({ "e": email, "p": PASSWORD }),
            )
            .await;
        data["logIn"]["accessToken"].as_str().unwrap().to_owned()
    }

    /// (sold, held) of an event, as its organizer's sales report says.
    pub async fn sales(&self, organizer: &str, event: &str) -> (i64, i64) {
        let data = self
            .ok(
                Some(organizer),
                "query($e: ID!) { salesReport(eventId: $e) { sold held } }",
                json!({ "e": event }),
            )
            .await;
        let report = &data["salesReport"];
        (
            report["sold"].as_i64().unwrap(),
            report["held"].as_i64().unwrap(),
        )
    }

    /// The buyer's orders on the server: (status, ticket count).
    pub async fn orders_of(&self, email: &str) -> Vec<(String, usize)> {
        let token = self.log_in(email).await;
        let data = self
            .ok(
                Some(&token),
                "{ myOrders { status tickets { id } } }",
                json!({}),
            )
            .await;
        data["myOrders"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| {
                (
                    o["status"].as_str().unwrap().to_owned(),
                    o["tickets"].as_array().unwrap().len(),
                )
            })
            .collect()
    }

    /// (charges captured, total captured, total refunded) at the payment provider.
    pub fn money(&self) -> (usize, i64, i64) {
        let charges = self.payments.charges();
        let captured: Vec<_> = charges.values().filter(|c| c.captured_minor > 0).collect();
        (
            captured.len(),
            captured.iter().map(|c| c.captured_minor).sum(),
            charges.values().map(|c| c.refunded_minor).sum(),
        )
    }
}

impl TestServer {
    /// The server's SQLite file, for seeding in bulk (creating 100,000 events through the
    /// API would measure the API). Tests read the server through GraphQL, never this file.
    pub fn database_file(&self) -> PathBuf {
        match &self.state.db {
            Db::Sqlite(pool) => pool.connect_options().get_filename().to_path_buf(),
            Db::Postgres(_) => panic!("a PostgreSQL test server has no file: use seed_events"),
        }
    }

    /// Seeds `n` events of `organizer_id` straight into the server's database, whichever
    /// the engine ([`crate::seed_catalog`]); returns their ids.
    pub async fn seed_events(&self, organizer_id: &str, n: usize, seed: u64) -> Vec<String> {
        match &self.state.db {
            Db::Sqlite(_) => {
                let (file, organizer) = (self.database_file(), organizer_id.to_owned());
                tokio::task::spawn_blocking(move || {
                    crate::seed_catalog::seed_events(&file, &organizer, n, seed)
                })
                .await
                .unwrap()
            }
            Db::Postgres(pool) => {
                crate::seed_catalog::seed_events_postgres(pool, organizer_id, n, seed).await
            }
        }
    }

    /// Runs the server's recovery sweep as its sweeper does, at `now` (unix seconds).
    pub async fn resume_orders(&self, now: i64) {
        guichet_server::checkout::resume(&self.state, now)
            .await
            .unwrap();
    }

    /// Every scan of a check-in list as the server holds it: id → (decision,
    /// classification), in the database's lower-case spelling (`admitted`,
    /// `duplicate_entry`). Read like a door reads it, through `scannerSync` with a device
    /// paired for the purpose (once per list), from the start of the feed.
    pub async fn scans(&self, organizer: &str, list: &str) -> HashMap<String, (String, String)> {
        let token = self.observer(organizer, list).await;
        let mut scans = HashMap::new();
        let mut cursor: Option<String> = None;
        // A feed that never says "no more" fails the test instead of hanging it.
        for _ in 0..10_000 {
            let data = self
                .ok(
                    None,
                    "query($t: String!, $c: String) { scannerSync(deviceToken: $t, cursor: $c) { cursor hasMore scans { id decision classification } } }",
                    json!({ "t": token, "c": cursor }),
                )
                .await;
            let page = &data["scannerSync"];
            for scan in page["scans"].as_array().unwrap() {
                let text = |field: &str| scan[field].as_str().unwrap().to_ascii_lowercase();
                // A later page carries a scan again when its class changed: it wins.
                scans.insert(
                    scan["id"].as_str().unwrap().to_owned(),
                    (text("decision"), text("classification")),
                );
            }
            cursor = Some(page["cursor"].as_str().unwrap().to_owned());
            if !page["hasMore"].as_bool().unwrap() {
                return scans;
            }
        }
        panic!("scannerSync still had more after 10,000 pages");
    }

    async fn observer(&self, organizer: &str, list: &str) -> String {
        if let Some(token) = self.observers.lock().unwrap().get(list) {
            return token.clone();
        }
        let data = self
            .ok(
                Some(organizer),
                "mutation($l: ID!) { pairScanner(listId: $l) { code } }",
                json!({ "l": list }),
            )
            .await;
        let code = data["pairScanner"]["code"].as_str().unwrap();
        let data = self
            .ok(
                None,
                "mutation($c: String!) { redeemPairing(code: $c, deviceName: \"observer\") { deviceToken } }",
                json!({ "c": code }),
            )
            .await;
        let token = data["redeemPairing"]["deviceToken"]
            .as_str()
            .unwrap()
            .to_owned();
        self.observers
            .lock()
            .unwrap()
            .insert(list.to_owned(), token.clone());
        token
    }
}

/// An event input starting in 2099.
pub fn event_input(title: &str) -> Value {
    json!({
        "title": title,
        "description": "A test event.",
        "venue": "Hall",
        "city": "Paris",
        "latitude": 48.8566,
        "longitude": 2.3522,
        "startsAt": "2099-06-01T19:00:00Z",
        "endsAt": "2099-06-01T23:00:00Z",
        "timeZone": "Europe/Paris",
    })
}

/// Sign-up details for an account.
pub fn new_account(email: &str, role: Role) -> SignUp {
    SignUp {
        email: email.to_owned(),
        password: PASSWORD.to_owned(),
        display_name: "Test Person".to_owned(),
        role,
    }
}
