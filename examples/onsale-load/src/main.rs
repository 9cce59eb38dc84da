//! `onsale-load`: an on-sale spike against a running Guichet server.
//!
//! Creates an organizer, an event with one ticket type of `--capacity`, and `--buyers`
//! accounts; then `--concurrency` workers fire `--requests` one-ticket holds as fast as the
//! server answers. Prints holds/s, latency percentiles, how many were held and refused, and
//! the oversell count (tickets held beyond capacity, read back from the server: must be 0).
//!
//! The server must allow the rate: start it with `GUICHET_HOLD_RATE_PER_MINUTE=100000000`
//! and `GUICHET_AUTH_RATE_PER_MINUTE=100000`.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

struct Args {
    url: String,
    capacity: i64,
    buyers: usize,
    requests: usize,
    concurrency: usize,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        url: "http://127.0.0.1:8080".into(),
        capacity: 20_000,
        buyers: 64,
        requests: 30_000,
        concurrency: 64,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().ok_or(format!("{flag} needs a value"))?;
        let number = || value.parse::<usize>().map_err(|e| format!("{flag}: {e}"));
        match flag.as_str() {
            "--url" => args.url = value.clone(),
            "--capacity" => args.capacity = i64::try_from(number()?).map_err(|e| e.to_string())?,
            "--buyers" => args.buyers = number()?.max(1),
            "--requests" => args.requests = number()?,
            "--concurrency" => args.concurrency = number()?.max(1),
            other => return Err(format!("unknown flag {other}")),
        }
    }
    Ok(args)
}

struct Api {
    http: reqwest::Client,
    endpoint: String,
}

impl Api {
    async fn call(
        &self,
        token: Option<&str>,
        query: &str,
        variables: Value,
    ) -> Result<Value, String> {
        let mut req = self
            .http
            .post(&self.endpoint)
            .json(&json!({ "query": query, "variables": variables }));
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        let response = req
            .send()
            .await
            .map_err(|e| format!("request failed: {e}"))?;
        response
            .json::<Value>()
            .await
            .map_err(|e| format!("bad response: {e}"))
    }

    async fn data(
        &self,
        token: Option<&str>,
        query: &str,
        variables: Value,
    ) -> Result<Value, String> {
        let v = self.call(token, query, variables).await?;
        match v.get("errors") {
            Some(errors) => Err(format!("server refused setup step: {errors}")),
            None => Ok(v["data"].clone()),
        }
    }

    async fn sign_up(&self, email: &str, role: &str) -> Result<String, String> {
        let d = self
            .data(
                None,
                "mutation($i: SignUpInput!) { signUp(input: $i) { accessToken } }",
                json!({ "i": { "email": email, "password": "load-test-password", "displayName": "Load", "role": role } }),
            )
            .await?;
        d["signUp"]["accessToken"]
            .as_str()
            .map(str::to_owned)
            .ok_or("no token".into())
    }
}

fn text(v: &Value) -> Result<String, String> {
    v.as_str()
        .map(str::to_owned)
        .ok_or_else(|| format!("expected a string, got {v}"))
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((sorted.len() as f64) * p).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    // reqwest is built without a default TLS provider (see the workspace Cargo.toml).
    let _ = rustls::crypto::ring::default_provider().install_default();
    match run().await {
        Ok(0) => std::process::ExitCode::SUCCESS,
        Ok(_) => std::process::ExitCode::from(3),
        Err(e) => {
            eprintln!("onsale-load: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<i64, String> {
    let args = parse_args()?;
    let api = Arc::new(Api {
        http: reqwest::Client::builder()
            .pool_max_idle_per_host(args.concurrency)
            .timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| e.to_string())?,
        endpoint: format!("{}/graphql", args.url.trim_end_matches('/')),
    });
    let run_id = uuid::Uuid::new_v4().simple().to_string();
    let org = api
        .sign_up(&format!("org-{run_id}@load.example"), "ORGANIZER")
        .await?;
    let event = api
        .data(
            Some(&org),
            "mutation($i: EventInput!) { createEvent(input: $i) { id } }",
            json!({ "i": { "title": format!("Load test {run_id}"), "startsAt": "2031-06-01T20:00:00Z",
                           "endsAt": "2031-06-01T23:00:00Z", "timeZone": "UTC" } }),
        )
        .await?;
    let event = text(&event["createEvent"]["id"])?;
    let tt = api
        .data(
            Some(&org),
            "mutation($e: ID!, $t: TicketTypeInput!) { addTicketType(eventId: $e, input: $t) { id } }",
            json!({ "e": event, "t": { "name": "GA", "priceMinor": 4500, "currency": "EUR",
                    "capacity": args.capacity, "saleStartsAt": "2020-01-01T00:00:00Z",
                    "saleEndsAt": "2031-06-01T00:00:00Z", "maxPerOrder": 4 } }),
        )
        .await?;
    let tt = text(&tt["addTicketType"]["id"])?;
    api.data(
        Some(&org),
        "mutation($e: ID!) { publishEvent(id: $e) { id } }",
        json!({ "e": event }),
    )
    .await?;
    let mut tokens = Vec::with_capacity(args.buyers);
    for i in 0..args.buyers {
        tokens.push(
            api.sign_up(&format!("buyer{i}-{run_id}@load.example"), "ATTENDEE")
                .await?,
        );
    }
    let tokens = Arc::new(tokens);
    println!(
        "event {event}: capacity {}, {} buyers, {} hold requests, concurrency {}",
        args.capacity, args.buyers, args.requests, args.concurrency
    );

    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..args.concurrency {
        let (api, tokens, next, event, tt) = (
            api.clone(),
            tokens.clone(),
            next.clone(),
            event.clone(),
            tt.clone(),
        );
        let total = args.requests;
        workers.push(tokio::spawn(async move {
            let (mut latencies, mut held, mut sold_out, mut failed) = (Vec::new(), 0usize, 0usize, 0usize);
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= total {
                    break;
                }
                let token = &tokens[n % tokens.len()];
                let vars = json!({ "e": event, "items": [{ "ticketTypeId": tt, "quantity": 1 }], "k": format!("load-{n:08}") });
                let t0 = Instant::now();
                let result = api
                    .call(Some(token), "mutation($e: ID!, $items: [HoldItemInput!]!, $k: String!) { holdTickets(eventId: $e, items: $items, idempotencyKey: $k) { id } }", vars)
                    .await;
                latencies.push(t0.elapsed());
                match result.as_ref().map(|v| v["errors"][0]["extensions"]["code"].as_str()) {
                    Ok(None) => held += 1,
                    Ok(Some("SOLD_OUT")) => sold_out += 1,
                    _ => failed += 1,
                }
            }
            (latencies, held, sold_out, failed)
        }));
    }
    let (mut latencies, mut held, mut sold_out, mut failed) = (Vec::new(), 0, 0, 0);
    for w in workers {
        let (l, h, s, f) = w.await.map_err(|e| e.to_string())?;
        latencies.extend(l);
        held += h;
        sold_out += s;
        failed += f;
    }
    let elapsed = started.elapsed();
    latencies.sort();
    let check = api
        .data(
            None,
            "query($e: ID!) { event(id: $e) { ticketTypes { available capacity } } }",
            json!({ "e": event }),
        )
        .await?;
    let available = check["event"]["ticketTypes"][0]["available"]
        .as_i64()
        .unwrap_or(-1);
    let held_i64 = i64::try_from(held).unwrap_or(i64::MAX);
    let oversold = (held_i64 - args.capacity).max(0) + i64::from(available < 0);
    let consistent = available == args.capacity - held_i64;
    let secs = elapsed.as_secs_f64();
    println!("holds/s         {:.0}", latencies.len() as f64 / secs);
    println!(
        "p50 / p99 / max {:.1} / {:.1} / {:.1} ms",
        ms(percentile(&latencies, 0.50)),
        ms(percentile(&latencies, 0.99)),
        ms(percentile(&latencies, 1.0))
    );
    println!("held            {held}");
    println!("sold out        {sold_out}");
    println!("other errors    {failed}");
    println!(
        "available after {available} (capacity − held: {})",
        if consistent {
            "consistent"
        } else {
            "INCONSISTENT"
        }
    );
    println!("oversold        {oversold}");
    Ok(if consistent {
        oversold
    } else {
        oversold.max(1)
    })
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
