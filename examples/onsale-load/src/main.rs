//! `onsale-load`: an on-sale spike against a running Guichet server.
//!
//! Creates an organizer, an event with two ticket types of `--capacity`, and `--buyers`
//! accounts; then `--concurrency` workers fire `--requests` one-ticket holds as fast as the
//! server answers, then pays for up to `--checkouts` of the holds, then (if the server runs
//! with `GUICHET_BENCH_ROUTES=1`) fires the same number of bare conditional decrements at the
//! twin ticket type: the storage ceiling. Prints rates, latency percentiles, held and refused,
//! the oversell count (tickets held beyond capacity, read back from the server: must be 0).
//!
//! In the checkout phase every third buyer also releases the hold at the moment they pay
//! (the race that once oversold on PostgreSQL); afterwards the sales report must add up:
//! sold + held + available = capacity, and the tickets issued are the checkouts that
//! completed. Holds per buyer are capped by the ticket type's `maxPerOrder` (100 here), so
//! `--buyers` × 100 must cover `--requests`.
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
    checkouts: usize,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        url: "http://127.0.0.1:8080".into(),
        capacity: 20_000,
        buyers: 320,
        requests: 30_000,
        concurrency: 64,
        checkouts: 5_000,
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
            "--checkouts" => args.checkouts = number()?,
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
                    "saleEndsAt": "2031-06-01T00:00:00Z", "maxPerOrder": 100 } }),
        )
        .await?;
    let tt = text(&tt["addTicketType"]["id"])?;
    // A twin ticket type that only the reference phase decrements.
    api.data(
        Some(&org),
        "mutation($e: ID!, $t: TicketTypeInput!) { addTicketType(eventId: $e, input: $t) { id } }",
        json!({ "e": event, "t": { "name": "Reference", "priceMinor": 4500, "currency": "EUR",
                "capacity": args.capacity, "saleStartsAt": "2020-01-01T00:00:00Z",
                "saleEndsAt": "2031-06-01T00:00:00Z", "maxPerOrder": 100 } }),
    )
    .await?;
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

    // Phase 1: the spike of holds.
    let holds = fire(args.requests, args.concurrency, {
        let (api, tokens, event, tt) = (api.clone(), tokens.clone(), event.clone(), tt.clone());
        move |n| {
            let (api, tokens, event, tt) = (api.clone(), tokens.clone(), event.clone(), tt.clone());
            async move {
                let token = tokens[n % tokens.len()].clone();
                let vars = json!({ "e": event, "items": [{ "ticketTypeId": tt, "quantity": 1 }], "k": format!("load-{n:08}") });
                let v = api.call(Some(&token), HOLD, vars).await?;
                match v["errors"][0]["extensions"]["code"].as_str() {
                    None => Ok(Outcome::Done(v["data"]["holdTickets"]["id"].as_str().unwrap_or("").to_owned(), n % tokens.len())),
                    Some("SOLD_OUT") => Ok(Outcome::Refused),
                    Some(code) => Err(code.to_owned()),
                }
            }
        }
    })
    .await;
    let held: Vec<(String, usize)> = holds.done.clone();
    let check = api
        .data(
            None,
            "query($e: ID!) { event(id: $e) { ticketTypes { id available } } }",
            json!({ "e": event }),
        )
        .await?;
    let available = check["event"]["ticketTypes"][0]["available"]
        .as_i64()
        .unwrap_or(-1);
    let held_count = i64::try_from(held.len()).unwrap_or(i64::MAX);
    let oversold = (held_count - args.capacity).max(0) + i64::from(available < 0);
    let consistent = available == args.capacity - held_count;
    holds.print("holds", "held", "sold out");
    println!(
        "available after {available} (capacity − held: {})",
        if consistent {
            "consistent"
        } else {
            "INCONSISTENT"
        }
    );
    println!("oversold        {oversold}");

    // Phase 2: pay for what was held (test provider, `tok_visa`).
    let to_pay = held.len().min(args.checkouts);
    let paid = fire(to_pay, args.concurrency, {
        let (api, tokens, held) = (api.clone(), tokens.clone(), Arc::new(held));
        move |n| {
            let (api, tokens, held) = (api.clone(), tokens.clone(), held.clone());
            async move {
                let (hold, buyer) = &held[n];
                let token = &tokens[*buyer];
                let vars = json!({ "h": hold, "k": format!("pay-{n:08}") });
                let pay = api.call(Some(token), CHECKOUT, vars);
                // Every third buyer releases the hold at the moment they pay.
                let v = if n % 3 == 0 {
                    let release = api.call(Some(token), RELEASE, json!({ "id": hold }));
                    let (v, released) = tokio::join!(pay, release);
                    if let Some(code) = released?["errors"][0]["extensions"]["code"].as_str() {
                        return Err(format!("release: {code}"));
                    }
                    v?
                } else {
                    pay.await?
                };
                match (
                    v["errors"][0]["extensions"]["code"].as_str(),
                    v["data"]["checkout"]["status"].as_str(),
                ) {
                    (None, Some("COMPLETED")) => Ok(Outcome::Done(String::new(), 0)),
                    // The release won: the hold is gone, its stock back on sale.
                    (Some("HOLD_EXPIRED"), _) if n % 3 == 0 => Ok(Outcome::Refused),
                    (Some(code), _) => Err(code.to_owned()),
                    (None, other) => Err(format!("status {other:?}")),
                }
            }
        }
    })
    .await;
    paid.print("checkouts", "completed", "released first");

    // The books after the race: per ticket type sold + held + available = capacity, and
    // the tickets issued are exactly the checkouts that completed.
    let sales = api
        .data(
            Some(&org),
            "query($e: ID!) { salesReport(eventId: $e) { byTicketType { ticketTypeId sold held } } }",
            json!({ "e": event }),
        )
        .await?;
    let stock = api
        .data(
            None,
            "query($e: ID!) { event(id: $e) { ticketTypes { id available } } }",
            json!({ "e": event }),
        )
        .await?;
    let report = json!({ "sales": sales, "stock": stock });
    let line = &report["sales"]["salesReport"]["byTicketType"][0];
    let sold = line["sold"].as_i64().unwrap_or(-1);
    let held_now = line["held"].as_i64().unwrap_or(-1);
    let available_now = report["stock"]["event"]["ticketTypes"][0]["available"]
        .as_i64()
        .unwrap_or(-1);
    let completed = i64::try_from(paid.done.len()).unwrap_or(i64::MAX);
    let books_add_up = sold + held_now + available_now == args.capacity && sold == completed;
    println!(
        "after checkouts sold {sold} + held {held_now} + available {available_now} = {} \
         (capacity {}), tickets issued for {completed} completed checkouts: {}",
        sold + held_now + available_now,
        args.capacity,
        if books_add_up {
            "consistent"
        } else {
            "INCONSISTENT"
        }
    );
    let oversold = oversold + (sold - completed).max(0) + i64::from(!books_add_up);
    println!("oversold        {oversold} (holds, then checkouts raced by releases)");

    // Phase 3: the storage ceiling — the bare conditional decrement over HTTP.
    let reference_tt = text(&check["event"]["ticketTypes"][1]["id"])?;
    let probe = api
        .http
        .post(format!(
            "{}/bench/decrement/{reference_tt}",
            args.url.trim_end_matches('/')
        ))
        .send()
        .await;
    if !probe.as_ref().is_ok_and(|r| r.status().as_u16() == 200) {
        println!(
            "reference       skipped: start the server with GUICHET_BENCH_ROUTES=1 to measure the bare decrement"
        );
    } else {
        let reference = fire(args.requests, args.concurrency, {
            let (api, url) = (
                api.clone(),
                format!(
                    "{}/bench/decrement/{reference_tt}",
                    args.url.trim_end_matches('/')
                ),
            );
            move |_| {
                let (api, url) = (api.clone(), url.clone());
                async move {
                    let body = api
                        .http
                        .post(&url)
                        .send()
                        .await
                        .map_err(|e| e.to_string())?
                        .text()
                        .await
                        .map_err(|e| e.to_string())?;
                    Ok(if body == "1" {
                        Outcome::Done(String::new(), 0)
                    } else {
                        Outcome::Refused
                    })
                }
            }
        })
        .await;
        reference.print("decrements", "taken", "empty bucket");
        println!(
            "holds / bare decrement throughput: {:.0} %",
            100.0 * holds.rate() / reference.rate()
        );
    }
    Ok(if consistent {
        oversold
    } else {
        oversold.max(1)
    })
}

const HOLD: &str = "mutation($e: ID!, $items: [HoldItemInput!]!, $k: String!) { holdTickets(eventId: $e, items: $items, idempotencyKey: $k) { id } }";
const RELEASE: &str = "mutation($id: ID!) { releaseHold(id: $id) { status } }";
const CHECKOUT: &str = "mutation($h: ID!, $k: String!) { checkout(holdId: $h, payment: {token: \"tok_visa\"}, idempotencyKey: $k) { status } }";

enum Outcome {
    Done(String, usize),
    Refused,
}

struct Phase {
    latencies: Vec<Duration>,
    done: Vec<(String, usize)>,
    refused: usize,
    failed: Vec<String>,
    elapsed: Duration,
}

impl Phase {
    fn rate(&self) -> f64 {
        self.latencies.len() as f64 / self.elapsed.as_secs_f64().max(f64::EPSILON)
    }

    fn print(&self, what: &str, done: &str, refused: &str) {
        println!(
            "{what:<15} {:.0}/s over {} requests",
            self.rate(),
            self.latencies.len()
        );
        println!(
            "  p50 / p99 / max {:.1} / {:.1} / {:.1} ms",
            ms(percentile(&self.latencies, 0.50)),
            ms(percentile(&self.latencies, 0.99)),
            ms(percentile(&self.latencies, 1.0))
        );
        println!(
            "  {done} {}, {refused} {}, errors {}",
            self.done.len(),
            self.refused,
            self.failed.len()
        );
        if let Some(first) = self.failed.first() {
            println!("  first error: {first}");
        }
    }
}

/// Runs `total` calls of `call(n)` from `concurrency` workers, timing each.
async fn fire<F, Fut>(total: usize, concurrency: usize, call: F) -> Phase
where
    F: Fn(usize) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = Result<Outcome, String>> + Send,
{
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..concurrency {
        let (next, call) = (next.clone(), call.clone());
        workers.push(tokio::spawn(async move {
            let mut phase = Phase {
                latencies: Vec::new(),
                done: Vec::new(),
                refused: 0,
                failed: Vec::new(),
                elapsed: Duration::ZERO,
            };
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= total {
                    break;
                }
                let t0 = Instant::now();
                let outcome = call(n).await;
                phase.latencies.push(t0.elapsed());
                match outcome {
                    Ok(Outcome::Done(id, who)) => phase.done.push((id, who)),
                    Ok(Outcome::Refused) => phase.refused += 1,
                    Err(e) => phase.failed.push(e),
                }
            }
            phase
        }));
    }
    let mut all = Phase {
        latencies: Vec::new(),
        done: Vec::new(),
        refused: 0,
        failed: Vec::new(),
        elapsed: Duration::ZERO,
    };
    for w in workers {
        if let Ok(p) = w.await {
            all.latencies.extend(p.latencies);
            all.done.extend(p.done);
            all.refused += p.refused;
            all.failed.extend(p.failed);
        }
    }
    all.elapsed = started.elapsed();
    all.latencies.sort();
    all
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
