//! A test server: the real router over a fresh SQLite file or a fresh PostgreSQL database.

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use guichet_server::config::Config;
use guichet_server::db::Db;
use guichet_server::payments::test_provider::TestProvider;
use guichet_server::{AppState, app};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

/// Runs each named `async fn(TestApp)` once per engine, as `<name>::sqlite` and
/// `<name>::postgres`.
macro_rules! on_both {
    ($($name:ident),* $(,)?) => { $(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name(crate::support::TestApp::sqlite().await).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            #[cfg_attr(skip_postgres, ignore = "built with GUICHET_SKIP_POSTGRES=1")]
            async fn postgres() {
                super::$name(crate::support::TestApp::postgres().await).await
            }
        }
    )* };
}
pub(crate) use on_both;

/// Where the PostgreSQL tests connect to create their databases.
pub fn postgres_admin_url() -> String {
    std::env::var("GUICHET_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// A temporary PostgreSQL database, dropped (with its connections) when this is dropped.
pub struct PgDatabase {
    pub name: String,
    pub url: String,
}

impl PgDatabase {
    /// Creates a fresh database. PostgreSQL is required: an unreachable server fails the
    /// test (build with `GUICHET_SKIP_POSTGRES=1` to mark the PostgreSQL half skipped).
    pub async fn create() -> PgDatabase {
        let admin = postgres_admin_url();
        let pool = sqlx::PgPool::connect(&admin).await.unwrap_or_else(|e| {
            panic!(
                "PostgreSQL is required but unreachable at {admin}: {e} \
                 (set GUICHET_TEST_POSTGRES_URL, or build with GUICHET_SKIP_POSTGRES=1 to skip)"
            )
        });
        let name = format!("guichet_test_{}", uuid::Uuid::new_v4().simple());
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&pool)
            .await
            .unwrap_or_else(|e| panic!("create database: {e}"));
        pool.close().await;
        let base = admin
            .rsplit_once('/')
            .map_or(admin.as_str(), |(b, _)| b)
            .to_owned();
        PgDatabase {
            url: format!("{base}/{name}"),
            name,
        }
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        let name = self.name.clone();
        // Drop runs inside a tokio runtime: use a thread with its own runtime.
        let _ = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            rt.block_on(async {
                if let Ok(pool) = sqlx::PgPool::connect(&postgres_admin_url()).await {
                    let sql = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
                    let _ = sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&pool).await;
                    pool.close().await;
                }
            });
        })
        .join();
    }
}

/// A running server in-process.
pub struct TestApp {
    pub router: Router,
    pub state: AppState,
    /// The payment provider, shared across restarts like an external service.
    pub payments: std::sync::Arc<TestProvider>,
    url: String,
    config: Config,
    _dir: Option<tempfile::TempDir>,
    _pg: Option<PgDatabase>,
}

async fn boot(config: &Config, payments: std::sync::Arc<TestProvider>) -> AppState {
    let db = Db::connect(&config.database_url, config.pool_size())
        .await
        .unwrap_or_else(|e| panic!("connect {}: {e}", config.database_url));
    db.migrate()
        .await
        .unwrap_or_else(|e| panic!("migrate: {e}"));
    let secret = config.load_secret().unwrap_or_else(|e| panic!("{e}"));
    let state = if config.payment_provider == "stripe" {
        AppState::new(config.clone(), db, &secret)
    } else {
        AppState::with_provider(config.clone(), db, &secret, payments)
    };
    state.unwrap_or_else(|e| panic!("state: {e}"))
}

/// Test configuration: generous rate limits (one test lowers them on purpose) and an
/// explicit key-encryption key (PostgreSQL requires one).
pub fn test_config(url: &str) -> Config {
    Config {
        database_url: url.to_owned(),
        jwt_secret: Some(vec![42; 32]),
        key_encryption_key: Some([7; 32]),
        auth_rate_per_minute: 100_000,
        auth_rate_burst: 100_000,
        hold_rate_per_minute: 1_000_000,
        ..Config::default()
    }
}

impl TestApp {
    /// Over a fresh SQLite file.
    pub async fn sqlite() -> TestApp {
        TestApp::sqlite_with(|_| {}).await
    }

    /// Over a fresh SQLite file, with configuration tweaks.
    pub async fn sqlite_with(tweak: impl FnOnce(&mut Config)) -> TestApp {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
        let url = format!("sqlite://{}", dir.path().join("guichet.db").display());
        let mut app = TestApp::start(&url, tweak).await;
        app._dir = Some(dir);
        app
    }

    /// Over a fresh PostgreSQL database.
    pub async fn postgres() -> TestApp {
        TestApp::postgres_with(|_| {}).await
    }

    /// Over a fresh PostgreSQL database, with configuration tweaks.
    pub async fn postgres_with(tweak: impl FnOnce(&mut Config)) -> TestApp {
        let pg = PgDatabase::create().await;
        let mut app = TestApp::start(&pg.url.clone(), tweak).await;
        app._pg = Some(pg);
        app
    }

    async fn start(url: &str, tweak: impl FnOnce(&mut Config)) -> TestApp {
        let mut config = test_config(url);
        tweak(&mut config);
        let payments = std::sync::Arc::new(TestProvider::new());
        let state = boot(&config, payments.clone()).await;
        TestApp {
            router: app(state.clone()),
            state,
            payments,
            url: url.to_owned(),
            config,
            _dir: None,
            _pg: None,
        }
    }

    /// A second server process over the same database and payment provider, as after a
    /// crash and restart (the first one's in-flight work is simply abandoned).
    pub async fn restart(&self) -> (Router, AppState) {
        let state = boot(&self.config, self.payments.clone()).await;
        let _ = &self.url;
        (app(state.clone()), state)
    }

    /// The database.
    pub fn db(&self) -> &Db {
        &self.state.db
    }

    /// Sends a raw request and returns status and body text.
    pub async fn send(&self, req: Request<Body>) -> (StatusCode, axum::http::HeaderMap, String) {
        let response = self
            .router
            .clone()
            .oneshot(req)
            .await
            .unwrap_or_else(|e| panic!("router failed: {e}"));
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response
            .into_body()
            .collect()
            .await
            .unwrap_or_else(|e| panic!("body: {e}"))
            .to_bytes();
        (
            status,
            headers,
            String::from_utf8_lossy(&bytes).into_owned(),
        )
    }

    /// POSTs raw bytes to /graphql.
    pub async fn post_raw(&self, body: Vec<u8>) -> (StatusCode, Value) {
        let req = Request::post("/graphql")
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body))
            .unwrap_or_else(|e| panic!("request: {e}"));
        let (status, _, text) = self.send(req).await;
        (
            status,
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}")),
        )
    }

    /// Runs a GraphQL operation and returns the whole response.
    pub async fn gql(&self, token: Option<&str>, query: &str, variables: Value) -> Value {
        let body = json!({ "query": query, "variables": variables }).to_string();
        let mut req = Request::post("/graphql").header(header::CONTENT_TYPE, "application/json");
        if let Some(token) = token {
            req = req.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        let req = req
            .body(Body::from(body))
            .unwrap_or_else(|e| panic!("request: {e}"));
        let (status, _, text) = self.send(req).await;
        assert_eq!(status, StatusCode::OK, "{text}");
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
    }

    /// Runs an operation that must succeed and returns `data`.
    pub async fn ok(&self, token: Option<&str>, query: &str, variables: Value) -> Value {
        let response = self.gql(token, query, variables).await;
        assert!(
            response.get("errors").is_none(),
            "unexpected errors: {response}"
        );
        response["data"].clone()
    }

    /// Runs an operation that must fail and returns its first error code.
    pub async fn err(&self, token: Option<&str>, query: &str, variables: Value) -> String {
        let response = self.gql(token, query, variables).await;
        error_code(&response).unwrap_or_else(|| {
            let text: String = response.to_string().chars().take(400).collect();
            panic!("expected an error: {text}")
        })
    }

    /// Signs up and returns (access token, refresh token, user id).
    pub async fn sign_up(&self, email: &str, role: &str) -> (String, String, String) {
        let data = self
            .ok(
                None,
                "mutation($i: SignUpInput!) { signUp(input: $i) { accessToken refreshToken user { id } } }",
                json!({ "i": { "email": email, "password": "a long enough password",
                               "displayName": "Test Person", "role": role } }),
            )
            .await;
        let p = &data["signUp"];
        (
            str_of(&p["accessToken"]),
            str_of(&p["refreshToken"]),
            str_of(&p["user"]["id"]),
        )
    }

    /// An organizer's access token.
    pub async fn organizer(&self, email: &str) -> String {
        self.sign_up(email, "ORGANIZER").await.0
    }

    /// Creates an event (with one ticket type) and returns its id; published if asked.
    pub async fn event(&self, token: &str, input: Value, publish: bool) -> String {
        let data = self
            .ok(
                Some(token),
                "mutation($i: EventInput!) { createEvent(input: $i) { id } }",
                json!({ "i": input }),
            )
            .await;
        let id = str_of(&data["createEvent"]["id"]);
        self.ok(
            Some(token),
            "mutation($e: ID!, $t: TicketTypeInput!) { addTicketType(eventId: $e, input: $t) { id } }",
            json!({ "e": id, "t": ticket_input() }),
        )
        .await;
        if publish {
            self.ok(
                Some(token),
                "mutation($e: ID!) { publishEvent(id: $e) { status } }",
                json!({ "e": id }),
            )
            .await;
        }
        id
    }
}

/// The first error's `extensions.code`.
pub fn error_code(response: &Value) -> Option<String> {
    response["errors"][0]["extensions"]["code"]
        .as_str()
        .map(str::to_owned)
}

/// A JSON string's contents.
pub fn str_of(v: &Value) -> String {
    v.as_str()
        .unwrap_or_else(|| panic!("expected a string, got {v}"))
        .to_owned()
}

/// A valid event input, starting `days` from 2030-01-01.
pub fn event_input(title: &str, days: i64) -> Value {
    let start = chrono::DateTime::parse_from_rfc3339("2030-01-01T19:00:00Z")
        .unwrap_or_else(|e| panic!("{e}"))
        + chrono::Duration::days(days);
    json!({
        "title": title,
        "description": "A test event.",
        "venue": "Hall",
        "city": "Paris",
        "latitude": 48.8566,
        "longitude": 2.3522,
        "startsAt": start.to_rfc3339(),
        "endsAt": (start + chrono::Duration::hours(3)).to_rfc3339(),
        "timeZone": "Europe/Paris",
    })
}

/// A valid ticket type input.
pub fn ticket_input() -> Value {
    json!({
        "name": "Standing",
        "priceMinor": 2500,
        "currency": "EUR",
        "capacity": 100,
        "saleStartsAt": "2029-01-01T00:00:00Z",
        "saleEndsAt": "2030-01-01T00:00:00Z",
        "maxPerOrder": 6,
    })
}
