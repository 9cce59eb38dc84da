//! Live-updates benchmark: real `guichet-server` processes over one PostgreSQL database.
//!
//! 1. Latency across replicas: replica A holds a `salesUpdated` subscription; checkouts go
//!    through replica B one after another; for each, the time from B's answer (the order's
//!    last commit precedes it) to the frame on A that shows the sale, and from the request's
//!    start to that frame.
//! 2. Idle subscriptions: one replica holds `--subscriptions` WebSocket connections with one
//!    `salesUpdated` subscription each; its resident memory (VmRSS) is read before and after.
//!
//! ```text
//! cargo build -p guichet-server --bin guichet-server --example live_bench
//! target/debug/examples/live_bench [--checkouts 300] [--subscriptions 10000]
//! ```
//! `GUICHET_BENCH_POSTGRES` (default `postgres://postgres@127.0.0.1:5432/postgres`) is where
//! a scratch database is created (and dropped after); `GUICHET_SERVER_BIN` overrides the
//! server binary (default: `guichet-server` beside the examples directory).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;
type Fallible<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

const SALES: &str = "subscription($e: ID!) { salesUpdated(eventId: $e) { sold held available } }";

/// A server process, killed when dropped.
struct Server {
    child: Child,
    addr: SocketAddr,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    fn start(bin: &PathBuf, database_url: &str) -> Fallible<Server> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let child = Command::new(bin)
            .env("DATABASE_URL", database_url)
            .env("GUICHET_BIND", addr.to_string())
            .env(
                "GUICHET_JWT_SECRET",
                "live-bench-secret-of-at-least-32-bytes!",
            )
            .env("GUICHET_KEY_ENCRYPTION_KEY", "07".repeat(32))
            .env("GUICHET_PAYMENT_PROVIDER", "test")
            .env("GUICHET_HOLD_RATE_PER_MINUTE", "1000000")
            .env("GUICHET_AUTH_RATE_PER_MINUTE", "100000")
            .env("GUICHET_AUTH_RATE_BURST", "100000")
            .env("GUICHET_LIVE_MAX_SUBSCRIPTIONS_PER_ACCOUNT", "1000000")
            .env("GUICHET_DEMO", "0")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()?;
        Ok(Server { child, addr })
    }

    fn rss_kib(&self) -> Fallible<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))?;
        let line = status
            .lines()
            .find(|l| l.starts_with("VmRSS:"))
            .ok_or("no VmRSS")?;
        Ok(line.split_whitespace().nth(1).ok_or("bad VmRSS")?.parse()?)
    }

    async fn ready(&self, http: &reqwest::Client) -> Fallible<()> {
        for _ in 0..300 {
            if let Ok(r) = http.get(format!("http://{}/ready", self.addr)).send().await
                && r.status().is_success()
            {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Err("server not ready".into())
    }

    async fn gql(
        &self,
        http: &reqwest::Client,
        token: Option<&str>,
        query: &str,
        variables: Value,
    ) -> Fallible<Value> {
        let mut req = http
            .post(format!("http://{}/graphql", self.addr))
            .json(&json!({ "query": query, "variables": variables }));
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        let body: Value = req.send().await?.json().await?;
        if body.get("errors").is_some() {
            return Err(format!("errors: {body}").into());
        }
        Ok(body["data"].clone())
    }

    async fn sign_up(&self, http: &reqwest::Client, email: &str, role: &str) -> Fallible<String> {
        let data = self
            .gql(
                http,
                None,
                "mutation($i: SignUpInput!) { signUp(input: $i) { accessToken } }",
                json!({ "i": { "email": email, "password": "a long enough password",
                               "displayName": "Bench", "role": role } }),
            )
            .await?;
        Ok(data["signUp"]["accessToken"]
            .as_str()
            .ok_or("no token")?
            .to_owned())
    }
}

async fn subscribe(addr: SocketAddr, token: &str, event: &str) -> Fallible<Ws> {
    let mut request = format!("ws://{addr}/graphql").into_client_request()?;
    request
        .headers_mut()
        .insert("Sec-WebSocket-Protocol", "graphql-transport-ws".parse()?);
    let tcp = TcpStream::connect(addr).await?;
    let (mut ws, _) = tokio_tungstenite::client_async(request, MaybeTlsStream::Plain(tcp)).await?;
    let init = json!({ "type": "connection_init",
                       "payload": { "authorization": format!("Bearer {token}") } });
    ws.send(Message::text(init.to_string())).await?;
    next_text(&mut ws).await?;
    let sub = json!({ "id": "1", "type": "subscribe",
                      "payload": { "query": SALES, "variables": { "e": event } } });
    ws.send(Message::text(sub.to_string())).await?;
    // The first frame: the subscription is registered.
    let first = next_text(&mut ws).await?;
    if first["type"] != json!("next") || first["payload"].get("errors").is_some() {
        return Err(format!("subscription refused: {first}").into());
    }
    Ok(ws)
}

async fn next_text(ws: &mut Ws) -> Fallible<Value> {
    loop {
        match ws.next().await {
            Some(Ok(Message::Text(text))) => return Ok(serde_json::from_str(&text)?),
            Some(Ok(Message::Close(frame))) => return Err(format!("closed: {frame:?}").into()),
            Some(Ok(_)) => {}
            Some(Err(e)) => return Err(e.into()),
            None => return Err("socket ended".into()),
        }
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let rank = ((p / 100.0) * (sorted.len() as f64 - 1.0)).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

struct ScratchDb {
    admin: String,
    name: String,
}

impl ScratchDb {
    async fn create(admin: &str) -> Fallible<(ScratchDb, String)> {
        let pool = sqlx::PgPool::connect(admin).await?;
        let name = format!("guichet_live_bench_{}", uuid::Uuid::new_v4().simple());
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&pool)
            .await?;
        pool.close().await;
        let base = admin.rsplit_once('/').map_or(admin, |(b, _)| b);
        let url = format!("{base}/{name}");
        Ok((
            ScratchDb {
                admin: admin.to_owned(),
                name,
            },
            url,
        ))
    }

    async fn drop_it(self) -> Fallible<()> {
        let pool = sqlx::PgPool::connect(&self.admin).await?;
        let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
        sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&pool).await?;
        pool.close().await;
        Ok(())
    }
}

fn arg(name: &str, default: usize) -> Fallible<usize> {
    let args: Vec<String> = std::env::args().collect();
    match args.iter().position(|a| a == name) {
        Some(i) => Ok(args.get(i + 1).ok_or("missing value")?.parse()?),
        None => Ok(default),
    }
}

#[tokio::main]
async fn main() -> Fallible<()> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let checkouts = arg("--checkouts", 300)?;
    let subscriptions = arg("--subscriptions", 10_000)?;
    let admin = std::env::var("GUICHET_BENCH_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let bin = match std::env::var("GUICHET_SERVER_BIN") {
        Ok(path) => PathBuf::from(path),
        Err(_) => std::env::current_exe()?
            .parent()
            .and_then(|examples| examples.parent())
            .ok_or("no target directory")?
            .join("guichet-server"),
    };
    let (scratch, url) = ScratchDb::create(&admin).await?;
    let outcome = run(&bin, &url, checkouts, subscriptions).await;
    scratch.drop_it().await?;
    outcome
}

async fn run(bin: &PathBuf, url: &str, checkouts: usize, subscriptions: usize) -> Fallible<()> {
    let http = reqwest::Client::builder().build()?;
    // A first, alone, so that it migrates the database before B starts.
    let a = Server::start(bin, url)?;
    a.ready(&http).await?;
    let b = Server::start(bin, url)?;
    b.ready(&http).await?;

    let org = a
        .sign_up(&http, "bench-org@example.org", "ORGANIZER")
        .await?;
    let buyer = a
        .sign_up(&http, "bench-buyer@example.org", "ATTENDEE")
        .await?;
    let event = a
        .gql(
            &http,
            Some(&org),
            "mutation($i: EventInput!) { createEvent(input: $i) { id } }",
            json!({ "i": { "title": "Bench", "description": "Live bench.", "venue": "Hall",
                           "city": "Paris", "latitude": 48.85, "longitude": 2.35,
                           "startsAt": "2031-01-01T19:00:00Z", "endsAt": "2031-01-01T22:00:00Z",
                           "timeZone": "Europe/Paris" } }),
        )
        .await?["createEvent"]["id"]
        .as_str()
        .ok_or("no event")?
        .to_owned();
    let tt = a
        .gql(
            &http,
            Some(&org),
            "mutation($e: ID!, $t: TicketTypeInput!) { addTicketType(eventId: $e, input: $t) { id } }",
            json!({ "e": event, "t": { "name": "Standing", "priceMinor": 2500, "currency": "EUR",
                    "capacity": checkouts.max(1) as i64 + 10,
                    "saleStartsAt": "2020-01-01T00:00:00Z",
                    "saleEndsAt": "2030-12-31T00:00:00Z", "maxPerOrder": 6 } }),
        )
        .await?["addTicketType"]["id"]
        .as_str()
        .ok_or("no ticket type")?
        .to_owned();
    a.gql(
        &http,
        Some(&org),
        "mutation($e: ID!) { publishEvent(id: $e) { id } }",
        json!({ "e": event }),
    )
    .await?;

    // 1. Latency: subscriber on A, checkouts through B.
    let mut ws = subscribe(a.addr, &org, &event).await?;
    let mut after_answer = Vec::with_capacity(checkouts);
    let mut after_request = Vec::with_capacity(checkouts);
    let mut frame_first = 0;
    for i in 1..=checkouts {
        let hold = b
            .gql(
                &http,
                Some(&buyer),
                "mutation($e: ID!, $tt: ID!, $k: String!) { holdTickets(eventId: $e, items: [{ticketTypeId: $tt, quantity: 1}], idempotencyKey: $k) { id } }",
                json!({ "e": event, "tt": tt, "k": format!("bench-hold-{i}") }),
            )
            .await?["holdTickets"]["id"]
            .as_str()
            .ok_or("no hold")?
            .to_owned();
        // Frames for the hold itself arrive meanwhile; the wait below skips them.
        let sent = Instant::now();
        let checkout = b.gql(
            &http,
            Some(&buyer),
            "mutation($h: ID!, $k: String!) { checkout(holdId: $h, payment: {token: \"tok_visa\"}, idempotencyKey: $k) { status } }",
            json!({ "h": hold, "k": format!("bench-checkout-{i}") }),
        );
        let frame = async {
            loop {
                let message = next_text(&mut ws).await?;
                if message["payload"]["data"]["salesUpdated"]["sold"] == json!(i) {
                    return Ok::<Instant, Box<dyn std::error::Error + Send + Sync>>(Instant::now());
                }
            }
        };
        let (answer, seen) = tokio::join!(
            async {
                let r = checkout.await;
                (r, Instant::now())
            },
            frame
        );
        let (result, answered) = answer;
        if result?["checkout"]["status"] != json!("COMPLETED") {
            return Err("checkout did not complete".into());
        }
        let seen = seen?;
        match seen.checked_duration_since(answered) {
            Some(d) => after_answer.push(d),
            None => {
                frame_first += 1;
                after_answer.push(Duration::ZERO);
            }
        }
        after_request.push(seen - sent);
    }
    after_answer.sort();
    after_request.sort();
    println!("checkouts through replica B, frames on replica A: {checkouts}");
    println!(
        "  B's answer -> A's frame: p50 {} p99 {} max {} ({frame_first} frames arrived before the answer, counted 0)",
        ms(percentile(&after_answer, 50.0)),
        ms(percentile(&after_answer, 99.0)),
        ms(after_answer[after_answer.len() - 1]),
    );
    println!(
        "  checkout request sent -> A's frame: p50 {} p99 {}",
        ms(percentile(&after_request, 50.0)),
        ms(percentile(&after_request, 99.0)),
    );
    drop(ws);

    // 2. Idle subscriptions held by replica A.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let before = a.rss_kib()?;
    let started = Instant::now();
    let mut readers = Vec::with_capacity(subscriptions);
    let mut pending = futures_util::stream::iter(0..subscriptions)
        .map(|_| subscribe(a.addr, &org, &event))
        .buffer_unordered(64);
    while let Some(ws) = pending.next().await {
        // Each client keeps reading, so it answers the server's pings like a live one.
        let mut ws = ws?;
        readers.push(tokio::spawn(
            async move { while ws.next().await.is_some() {} },
        ));
    }
    let opened = started.elapsed();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let after = a.rss_kib()?;
    let metrics = http
        .get(format!("http://{}/metrics", a.addr))
        .send()
        .await?
        .text()
        .await?;
    let gauge = |name: &str| {
        metrics
            .lines()
            .find(|l| l.starts_with(name))
            .map(str::to_owned)
            .unwrap_or_default()
    };
    println!(
        "idle subscriptions on replica A: {subscriptions} (one per connection), opened in {:.1} s",
        opened.as_secs_f64()
    );
    println!(
        "  A's VmRSS: {:.1} MiB before, {:.1} MiB with them ({:.1} KiB per subscription)",
        before as f64 / 1024.0,
        after as f64 / 1024.0,
        (after.saturating_sub(before)) as f64 / subscriptions.max(1) as f64,
    );
    println!("  {}", gauge("guichet_live_connections "));
    println!("  {}", gauge("guichet_live_subscriptions "));
    for reader in readers {
        reader.abort();
    }
    Ok(())
}
