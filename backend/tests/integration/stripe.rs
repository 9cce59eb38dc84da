//! The Stripe adapter against a local server that speaks Stripe's API and records every
//! request, and the checkout saga over it with signed, duplicated and reordered webhooks.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Request, StatusCode};
use axum::routing::post;
use guichet_server::payments::stripe::{StripeProvider, sign_webhook};
use guichet_server::payments::{Authorization, PaymentError, PaymentProvider};
use serde_json::{Value, json};

use crate::checkout::{CHECKOUT, hold, on_sale};
use crate::support::{TestApp, event_input, str_of, ticket_input};

/// One request as the fake received it.
#[derive(Debug, Clone)]
struct Recorded {
    path: String,
    authorization: String,
    idempotency_key: String,
    content_type: String,
    form: Vec<(String, String)>,
}

#[derive(Clone, Default)]
struct Fake {
    requests: Arc<Mutex<Vec<Recorded>>>,
    replies: Arc<Mutex<HashMap<String, (StatusCode, Value)>>>,
    /// While set, captures of `pm_capture_flaky` intents get a 502 from in front of Stripe
    /// (nothing executed, so nothing is remembered under the key).
    flaky_captures_fail: Arc<std::sync::atomic::AtomicBool>,
}

impl Fake {
    fn requests(&self) -> Vec<Recorded> {
        self.requests.lock().map(|r| r.clone()).unwrap_or_default()
    }
}

async fn record(
    fake: &Fake,
    path: String,
    headers: &HeaderMap,
    body: &str,
) -> Option<(StatusCode, Value)> {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned()
    };
    let form: Vec<(String, String)> = body
        .split('&')
        .filter(|kv| !kv.is_empty())
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            let decode = |s: &str| s.replace("%5B", "[").replace("%5D", "]").replace('+', " ");
            (decode(k), decode(v))
        })
        .collect();
    let key = header("idempotency-key");
    if let Ok(mut r) = fake.requests.lock() {
        r.push(Recorded {
            path,
            authorization: header("authorization"),
            idempotency_key: key.clone(),
            content_type: header("content-type"),
            form,
        });
    }
    // Stripe replays the first answer to a repeated idempotency key.
    fake.replies.lock().ok().and_then(|r| r.get(&key).cloned())
}

fn remember(
    fake: &Fake,
    headers: &HeaderMap,
    reply: (StatusCode, Value),
) -> (StatusCode, axum::Json<Value>) {
    if let Some(key) = headers.get("idempotency-key").and_then(|v| v.to_str().ok())
        && let Ok(mut r) = fake.replies.lock()
    {
        r.insert(key.to_owned(), reply.clone());
    }
    (reply.0, axum::Json(reply.1))
}

async fn intents(
    State(fake): State<Fake>,
    headers: HeaderMap,
    body: String,
) -> (StatusCode, axum::Json<Value>) {
    if let Some(replay) = record(&fake, "/v1/payment_intents".into(), &headers, &body).await {
        return (replay.0, axum::Json(replay.1));
    }
    let n = fake.requests().len();
    let reply = if body.contains("payment_method=pm_card_visa") {
        (
            StatusCode::OK,
            json!({ "id": format!("pi_{n}"), "status": "requires_capture" }),
        )
    } else if body.contains("payment_method=pm_card_authenticationRequired") {
        (
            StatusCode::OK,
            json!({ "id": format!("pi_{n}"), "status": "requires_action" }),
        )
    } else if body.contains("payment_method=pm_capture_fails") {
        // Authorises; every capture of this intent answers 500 (see `intent_action`).
        (
            StatusCode::OK,
            json!({ "id": format!("pi_{n}_capture_fails"), "status": "requires_capture" }),
        )
    } else if body.contains("payment_method=pm_capture_flaky") {
        (
            StatusCode::OK,
            json!({ "id": format!("pi_{n}_flaky"), "status": "requires_capture" }),
        )
    } else if body.contains("payment_method=pm_detached") {
        (
            StatusCode::BAD_REQUEST,
            json!({ "error": { "type": "invalid_request_error", "code": "resource_missing", "param": "payment_method" } }),
        )
    } else if body.contains("payment_method=pm_hangs") {
        std::future::pending::<()>().await;
        unreachable!("a pending future never completes")
    } else if body.contains("payment_method=pm_card_chargeDeclined") {
        (
            StatusCode::PAYMENT_REQUIRED,
            json!({ "error": { "type": "card_error", "code": "card_declined", "decline_code": "generic_decline" } }),
        )
    } else {
        (
            StatusCode::INTERNAL_SERVER_ERROR,
            json!({ "error": { "type": "api_error" } }),
        )
    };
    remember(&fake, &headers, reply)
}

async fn intent_action(
    State(fake): State<Fake>,
    Path((id, action)): Path<(String, String)>,
    headers: HeaderMap,
    body: String,
) -> (StatusCode, axum::Json<Value>) {
    if let Some(replay) = record(
        &fake,
        format!("/v1/payment_intents/{id}/{action}"),
        &headers,
        &body,
    )
    .await
    {
        return (replay.0, axum::Json(replay.1));
    }
    if action == "capture"
        && id.ends_with("_flaky")
        && fake
            .flaky_captures_fail
            .load(std::sync::atomic::Ordering::SeqCst)
    {
        return (
            StatusCode::BAD_GATEWAY,
            axum::Json(json!({ "error": { "type": "api_error" } })),
        );
    }
    if action == "capture" && id.ends_with("_capture_fails") {
        return remember(
            &fake,
            &headers,
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                json!({ "error": { "type": "api_error" } }),
            ),
        );
    }
    let status = if action == "capture" {
        "succeeded"
    } else {
        "canceled"
    };
    remember(
        &fake,
        &headers,
        (StatusCode::OK, json!({ "id": id, "status": status })),
    )
}

async fn refunds(
    State(fake): State<Fake>,
    headers: HeaderMap,
    body: String,
) -> (StatusCode, axum::Json<Value>) {
    if let Some(replay) = record(&fake, "/v1/refunds".into(), &headers, &body).await {
        return (replay.0, axum::Json(replay.1));
    }
    remember(
        &fake,
        &headers,
        (
            StatusCode::OK,
            json!({ "id": "re_1", "status": "succeeded" }),
        ),
    )
}

/// Starts the fake on a free loopback port; returns its base URL and its records.
async fn fake_stripe() -> (String, Fake) {
    let fake = Fake::default();
    let router = Router::new()
        .route("/v1/payment_intents", post(intents))
        .route("/v1/payment_intents/{id}/{action}", post(intent_action))
        .route("/v1/refunds", post(refunds))
        .with_state(fake.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let addr = listener.local_addr().unwrap_or_else(|e| panic!("{e}"));
    tokio::spawn(async move { axum::serve(listener, router).await });
    (format!("http://{addr}"), fake)
}

fn field<'a>(r: &'a Recorded, name: &str) -> Option<&'a str> {
    r.form
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

#[tokio::test]
async fn adapter_sends_exactly_what_stripe_expects() {
    let (base, fake) = fake_stripe().await;
    let stripe = StripeProvider::new(&base, "sk_test_123").unwrap_or_else(|e| panic!("{e}"));
    let auth = |token: &str, key: &str| Authorization {
        amount_minor: 4500,
        currency: "EUR".into(),
        payment_token: token.into(),
        idempotency_key: key.into(),
        order_id: "order-1".into(),
    };
    let intent = stripe
        .authorize(&auth("pm_card_visa", "order-1:authorize"))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let first = &fake.requests()[0];
    assert_eq!(first.path, "/v1/payment_intents");
    assert_eq!(first.authorization, "Bearer sk_test_123");
    assert_eq!(first.idempotency_key, "order-1:authorize");
    assert_eq!(first.content_type, "application/x-www-form-urlencoded");
    let expected = [
        ("amount", "4500"),
        ("currency", "eur"),
        ("payment_method", "pm_card_visa"),
        ("confirm", "true"),
        ("capture_method", "manual"),
        ("automatic_payment_methods[enabled]", "true"),
        ("automatic_payment_methods[allow_redirects]", "never"),
        ("metadata[order_id]", "order-1"),
    ];
    let sent: Vec<(&str, &str)> = first
        .form
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    assert_eq!(sent, expected);
    // A retry with the same key gets the same intent (Stripe replays; nothing new happens).
    assert_eq!(
        stripe
            .authorize(&auth("pm_card_visa", "order-1:authorize"))
            .await,
        Ok(intent.clone())
    );

    stripe
        .capture(&intent, "order-1:capture")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    stripe
        .refund(&intent, 1000, "refund-1")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let requests = fake.requests();
    let capture = &requests[2];
    assert_eq!(
        (capture.path.as_str(), capture.idempotency_key.as_str()),
        (
            format!("/v1/payment_intents/{intent}/capture").as_str(),
            "order-1:capture"
        )
    );
    let refund = &requests[3];
    assert_eq!(refund.path, "/v1/refunds");
    assert_eq!(
        (field(refund, "payment_intent"), field(refund, "amount")),
        (Some(intent.as_str()), Some("1000"))
    );
    assert_eq!(refund.idempotency_key, "refund-1");

    assert_eq!(
        stripe
            .authorize(&auth("pm_card_chargeDeclined", "k2"))
            .await,
        Err(PaymentError::Declined("generic decline".into()))
    );
    assert_eq!(
        stripe
            .authorize(&auth("pm_card_authenticationRequired", "k3"))
            .await,
        Err(PaymentError::RequiresAction)
    );
    assert_eq!(
        stripe.authorize(&auth("pm_server_error", "k4")).await,
        Err(PaymentError::Timeout),
        "5xx: outcome unknown, retry"
    );
    let dead = StripeProvider::new("http://127.0.0.1:9", "sk").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        dead.authorize(&auth("pm_card_visa", "k5")).await,
        Err(PaymentError::Timeout),
        "unreachable: retry"
    );
}

const WEBHOOK_SECRET: &str = "whsec_local_test";

async fn deliver(app: &TestApp, payload: &str, signature: &str) -> StatusCode {
    let req = Request::post("/webhooks/payments/stripe")
        .header("content-type", "application/json")
        .header("stripe-signature", signature)
        .body(Body::from(payload.to_owned()))
        .unwrap_or_else(|e| panic!("{e}"));
    app.send(req).await.0
}

async fn checkout_over_stripe_survives_duplicate_and_reordered_webhooks(app: TestApp, fake: Fake) {
    let org = app.organizer("stripe-org@example.org").await;
    let event = str_of(
        &app.ok(
            Some(&org),
            "mutation($i: EventInput!) { createEvent(input: $i) { id } }",
            json!({ "i": event_input("Stripe night", 90) }),
        )
        .await["createEvent"]["id"],
    );
    let mut ticket = ticket_input();
    ticket["saleStartsAt"] = json!("2020-01-01T00:00:00Z");
    ticket["saleEndsAt"] = json!("2029-12-31T00:00:00Z");
    let tt = str_of(&app.ok(Some(&org), "mutation($e: ID!, $t: TicketTypeInput!) { addTicketType(eventId: $e, input: $t) { id } }", json!({ "e": event, "t": ticket })).await["addTicketType"]["id"]);
    app.ok(
        Some(&org),
        "mutation($e: ID!) { publishEvent(id: $e) { id } }",
        json!({ "e": event }),
    )
    .await;
    let (buyer, _, _) = app.sign_up("stripe-buyer@example.org", "ATTENDEE").await;
    let hold = str_of(&app.ok(Some(&buyer), "mutation($e: ID!, $tt: ID!) { holdTickets(eventId: $e, items: [{ticketTypeId: $tt, quantity: 2}], idempotencyKey: \"stripe-hold-1\") { id } }", json!({ "e": event, "tt": tt })).await["holdTickets"]["id"]);
    let order = app.ok(Some(&buyer), "mutation($h: ID!) { checkout(holdId: $h, payment: {token: \"pm_card_visa\"}, idempotencyKey: \"stripe-pay-1\") { id status tickets { id } } }", json!({ "h": hold })).await["checkout"].clone();
    assert_eq!(order["status"], "COMPLETED");
    let order_id = str_of(&order["id"]);
    let calls: Vec<(String, String)> = fake
        .requests()
        .iter()
        .map(|r| (r.path.clone(), r.idempotency_key.clone()))
        .collect();
    assert_eq!(calls.len(), 2);
    assert_eq!(
        calls[0],
        (
            "/v1/payment_intents".to_owned(),
            format!("{order_id}:authorize")
        )
    );
    assert!(calls[1].0.ends_with("/capture") && calls[1].1 == format!("{order_id}:capture"));

    let now = chrono::Utc::now().timestamp();
    let succeeded = json!({ "id": "evt_1", "type": "payment_intent.succeeded", "data": { "object": { "id": "pi_1", "metadata": { "order_id": order_id } } } }).to_string();
    let failed_late = json!({ "id": "evt_0", "type": "payment_intent.payment_failed", "data": { "object": { "id": "pi_1", "metadata": { "order_id": order_id } } } }).to_string();
    // Delivered twice, then an older event arrives last.
    assert_eq!(
        deliver(
            &app,
            &succeeded,
            &sign_webhook(succeeded.as_bytes(), WEBHOOK_SECRET, now)
        )
        .await,
        StatusCode::OK
    );
    assert_eq!(
        deliver(
            &app,
            &succeeded,
            &sign_webhook(succeeded.as_bytes(), WEBHOOK_SECRET, now)
        )
        .await,
        StatusCode::OK
    );
    assert_eq!(
        deliver(
            &app,
            &failed_late,
            &sign_webhook(failed_late.as_bytes(), WEBHOOK_SECRET, now - 30)
        )
        .await,
        StatusCode::OK
    );
    let after = app
        .ok(
            Some(&buyer),
            "query($id: ID!) { order(id: $id) { status tickets { id } } }",
            json!({ "id": order_id }),
        )
        .await;
    assert_eq!(after["order"]["status"], "COMPLETED");
    assert_eq!(after["order"]["tickets"].as_array().map(Vec::len), Some(2));
    assert_eq!(
        fake.requests().len(),
        2,
        "webhooks caused no further provider calls"
    );
    // Forged, tampered and stale deliveries are refused.
    assert_eq!(
        deliver(
            &app,
            &succeeded,
            &sign_webhook(succeeded.as_bytes(), "whsec_wrong", now)
        )
        .await,
        StatusCode::BAD_REQUEST
    );
    let tampered = succeeded.replace("evt_1", "evt_9");
    assert_eq!(
        deliver(
            &app,
            &tampered,
            &sign_webhook(succeeded.as_bytes(), WEBHOOK_SECRET, now)
        )
        .await,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        deliver(
            &app,
            &succeeded,
            &sign_webhook(succeeded.as_bytes(), WEBHOOK_SECRET, now - 3600)
        )
        .await,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(deliver(&app, &succeeded, "").await, StatusCode::BAD_REQUEST);
    // Unknown orders are acknowledged (Stripe would retry forever otherwise) and ignored.
    let stranger = json!({ "id": "evt_2", "type": "payment_intent.succeeded", "data": { "object": { "metadata": { "order_id": "nope" } } } }).to_string();
    assert_eq!(
        deliver(
            &app,
            &stranger,
            &sign_webhook(stranger.as_bytes(), WEBHOOK_SECRET, now)
        )
        .await,
        StatusCode::OK
    );
    // Refund through Stripe.
    let refunded = app
        .ok(
            Some(&org),
            "mutation($o: ID!) { refundOrder(orderId: $o) { status refundedMinor } }",
            json!({ "o": order_id }),
        )
        .await;
    assert_eq!(refunded["refundOrder"]["status"], "REFUNDED");
    let last = fake
        .requests()
        .last()
        .cloned()
        .unwrap_or_else(|| panic!("no refund call"));
    assert_eq!(
        (last.path.as_str(), field(&last, "amount")),
        ("/v1/refunds", Some("5000"))
    );
    // Refunded in full: every seat is back on sale, none kept by a hold or a ticket.
    crate::checkout::assert_stock_consistent(&app).await;
}

/// Runs each `async fn(TestApp, Fake)` on both engines, the server talking to a fresh fake.
macro_rules! on_both_with_stripe {
    ($($name:ident),* $(,)?) => { $(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let (base, fake) = super::fake_stripe().await;
                let app = crate::support::TestApp::sqlite_with(|c| super::use_stripe(c, &base)).await;
                super::$name(app, fake).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            #[cfg_attr(skip_postgres, ignore = "built with GUICHET_SKIP_POSTGRES=1")]
            async fn postgres() {
                let (base, fake) = super::fake_stripe().await;
                let app = crate::support::TestApp::postgres_with(|c| super::use_stripe(c, &base));
                super::$name(app.await, fake).await
            }
        }
    )* };
}

on_both_with_stripe!(
    a_refused_payment_method_declines_and_returns_the_stock,
    unanswered_captures_end_with_the_intent_cancelled_and_the_stock_returned,
    a_hanging_provider_does_not_delay_hold_expiry,
    webhooks_delivered_while_the_order_is_processing_complete_it_once,
    checkout_over_stripe_survives_duplicate_and_reordered_webhooks,
);

fn use_stripe(c: &mut guichet_server::config::Config, base: &str) {
    c.payment_provider = "stripe".into();
    c.stripe_api_base = base.to_owned();
    c.stripe_secret_key = Some("sk_test_123".into());
    c.stripe_webhook_secret = Some(WEBHOOK_SECRET.into());
    c.hold_ttl_secs = 2;
}

async fn scalar(app: &TestApp, sql: &str, bind: &str) -> i64 {
    let sql = sqlx::AssertSqlSafe(sql.to_owned());
    match app.db() {
        guichet_server::db::Db::Sqlite(pool) => {
            sqlx::query_scalar(sql).bind(bind).fetch_one(pool).await
        }
        guichet_server::db::Db::Postgres(pool) => {
            sqlx::query_scalar(sql).bind(bind).fetch_one(pool).await
        }
    }
    .unwrap_or_else(|e| panic!("{e}"))
}

async fn text(app: &TestApp, sql: &str, bind: &str) -> String {
    let sql = sqlx::AssertSqlSafe(sql.to_owned());
    match app.db() {
        guichet_server::db::Db::Sqlite(pool) => {
            sqlx::query_scalar(sql).bind(bind).fetch_one(pool).await
        }
        guichet_server::db::Db::Postgres(pool) => {
            sqlx::query_scalar(sql).bind(bind).fetch_one(pool).await
        }
    }
    .unwrap_or_else(|e| panic!("{e}"))
}

/// Stock of one ticket type: available + held (active or checking out) + valid tickets =
/// capacity. Returns what is available.
async fn stock_adds_up(app: &TestApp, tt: &str) -> i64 {
    let capacity = scalar(app, "SELECT capacity FROM ticket_types WHERE id = $1", tt).await;
    let available = scalar(
        app,
        "SELECT CAST(COALESCE(SUM(available), 0) AS BIGINT) FROM inventory_buckets \
         WHERE ticket_type_id = $1",
        tt,
    )
    .await;
    let held = scalar(
        app,
        "SELECT CAST(COALESCE(SUM(a.quantity), 0) AS BIGINT) FROM hold_allocations a \
         JOIN holds h ON h.id = a.hold_id \
         WHERE a.ticket_type_id = $1 AND h.status IN ('active', 'converting')",
        tt,
    )
    .await;
    let sold = scalar(
        app,
        "SELECT COUNT(*) FROM tickets WHERE ticket_type_id = $1 AND status = 'valid'",
        tt,
    )
    .await;
    assert_eq!(
        available + held + sold,
        capacity,
        "available {available} + held {held} + sold {sold} = capacity {capacity}"
    );
    available
}

fn calls_to(fake: &Fake, suffix: &str) -> Vec<Recorded> {
    fake.requests()
        .into_iter()
        .filter(|r| r.path.ends_with(suffix))
        .collect()
}

async fn a_refused_payment_method_declines_and_returns_the_stock(app: TestApp, fake: Fake) {
    let org = app.organizer("refused-org@example.org").await;
    let (event, tt) = on_sale(&app, &org, 2500).await;
    let (buyer, _, _) = app.sign_up("refused@example.org", "ATTENDEE").await;
    let h = hold(&app, &buyer, &event, &tt, 3, "refused-hold").await;
    assert_eq!(stock_adds_up(&app, &tt).await, 17);

    // Stripe answers 400 `resource_missing` on the payment method: definitive.
    let vars = json!({ "h": h, "t": "pm_detached", "k": "refused-pay" });
    assert_eq!(
        app.err(Some(&buyer), CHECKOUT, vars.clone()).await,
        "PAYMENT_DECLINED"
    );
    assert_eq!(
        calls_to(&fake, "/v1/payment_intents").len(),
        1,
        "not retried"
    );
    let status = "SELECT status FROM orders WHERE hold_id = $1";
    assert_eq!(text(&app, status, &h).await, "declined");
    assert_eq!(
        text(&app, "SELECT status FROM holds WHERE id = $1", &h).await,
        "released"
    );
    assert_eq!(
        stock_adds_up(&app, &tt).await,
        20,
        "the stock is back on sale"
    );

    // The recovery sweep has nothing to retry, and a retry of the request is answered the same.
    let later = chrono::Utc::now().timestamp() + 3600;
    guichet_server::checkout::resume(&app.state, later)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        app.err(Some(&buyer), CHECKOUT, vars).await,
        "PAYMENT_DECLINED"
    );
    assert_eq!(calls_to(&fake, "/v1/payment_intents").len(), 1);
    assert_eq!(stock_adds_up(&app, &tt).await, 20);
}

async fn unanswered_captures_end_with_the_intent_cancelled_and_the_stock_returned(
    app: TestApp,
    fake: Fake,
) {
    let org = app.organizer("unanswered-org@example.org").await;
    let (event, tt) = on_sale(&app, &org, 2500).await;
    let (buyer, _, _) = app.sign_up("unanswered@example.org", "ATTENDEE").await;
    let h = hold(&app, &buyer, &event, &tt, 2, "unanswered-hold").await;
    let order = app
        .ok(
            Some(&buyer),
            CHECKOUT,
            json!({ "h": h, "t": "pm_capture_fails", "k": "unanswered-pay" }),
        )
        .await;
    assert_eq!(
        order["checkout"]["status"], "PROCESSING",
        "capture outcome unknown"
    );
    let order_id = str_of(&order["checkout"]["id"]);
    assert_eq!(
        stock_adds_up(&app, &tt).await,
        18,
        "held while the outcome is unknown"
    );

    // The sweep retries; after the bounded attempts it cancels and returns the stock.
    let later = chrono::Utc::now().timestamp() + 3600;
    let mut sweeps = 0;
    while text(&app, "SELECT status FROM orders WHERE id = $1", &order_id).await == "authorized" {
        sweeps += 1;
        assert!(sweeps <= 10, "still retrying after {sweeps} sweeps");
        guichet_server::checkout::resume(&app.state, later)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
    }
    let max = guichet_server::checkout::MAX_UNKNOWN_OUTCOMES;
    assert_eq!(
        scalar(&app, "SELECT attempts FROM orders WHERE id = $1", &order_id).await,
        max
    );
    assert_eq!(
        text(&app, "SELECT status FROM orders WHERE id = $1", &order_id).await,
        "declined"
    );
    assert_eq!(
        text(&app, "SELECT status FROM holds WHERE id = $1", &h).await,
        "released"
    );
    let cancels = calls_to(&fake, "/cancel");
    assert_eq!(cancels.len(), 1);
    assert_eq!(cancels[0].idempotency_key, format!("{order_id}:cancel"));
    let captures = calls_to(&fake, "/capture");
    assert!(
        captures
            .iter()
            .all(|c| c.idempotency_key == format!("{order_id}:capture")),
        "every capture carried the same key"
    );
    assert_eq!(stock_adds_up(&app, &tt).await, 20);

    // Resolved for good: later sweeps call nobody.
    let calls = fake.requests().len();
    guichet_server::checkout::resume(&app.state, later)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(fake.requests().len(), calls);
    let seen = app
        .ok(
            Some(&buyer),
            "query($id: ID!) { order(id: $id) { status failure } }",
            json!({ "id": order_id }),
        )
        .await;
    assert_eq!(seen["order"]["status"], "DECLINED");
    assert!(
        str_of(&seen["order"]["failure"]).contains("authorisation was released"),
        "{seen}"
    );
}

async fn a_hanging_provider_does_not_delay_hold_expiry(app: TestApp, fake: Fake) {
    let org = app.organizer("hang-org@example.org").await;
    let (event, tt) = on_sale(&app, &org, 2500).await;
    let (payer, _, payer_id) = app.sign_up("hang-payer@example.org", "ATTENDEE").await;
    let paying = hold(&app, &payer, &event, &tt, 1, "hang-hold").await;
    // The payer's checkout never gets an answer from the provider.
    let state = app.state.clone();
    let stuck = paying.clone();
    let checkout = tokio::spawn(async move {
        guichet_server::checkout::checkout(&state, &payer_id, &stuck, "pm_hangs", "hang-pay").await
    });
    let orders = "SELECT COUNT(*) FROM orders WHERE hold_id = $1";
    while scalar(&app, orders, &paying).await == 0 || fake.requests().is_empty() {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    // Old enough for the recovery sweep to pick it up (and hang on it too).
    let backdate = "UPDATE orders SET updated_at = updated_at - 60 WHERE hold_id = $1";
    scalar_exec(&app, backdate, &paying).await;

    let (other, _, _) = app.sign_up("hang-other@example.org", "ATTENDEE").await;
    let idle = hold(&app, &other, &event, &tt, 2, "hang-idle").await;
    let sweeper = guichet_server::graphql::booking::spawn_sweeper(
        app.state.clone(),
        std::time::Duration::from_millis(200),
    );
    let hold_status = "SELECT status FROM holds WHERE id = $1";
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(8);
    while text(&app, hold_status, &idle).await == "active" {
        assert!(
            std::time::Instant::now() < deadline,
            "the idle hold (2 s) was not expired within 8 s while the provider hung"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(text(&app, hold_status, &idle).await, "expired");
    assert!(!checkout.is_finished(), "the provider was still hanging");
    assert!(
        calls_to(&fake, "/v1/payment_intents").len() >= 2,
        "the recovery sweep was waiting on the provider too"
    );
    assert_eq!(text(&app, hold_status, &paying).await, "converting");
    assert_eq!(stock_adds_up(&app, &tt).await, 19);
    sweeper.abort();
    checkout.abort();
}

async fn scalar_exec(app: &TestApp, sql: &str, bind: &str) {
    let sql = sqlx::AssertSqlSafe(sql.to_owned());
    let affected = match app.db() {
        guichet_server::db::Db::Sqlite(pool) => sqlx::query(sql)
            .bind(bind)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()),
        guichet_server::db::Db::Postgres(pool) => sqlx::query(sql)
            .bind(bind)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()),
    }
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(affected, 1);
}

/// The provider's notices arrive while the order is still processing (its capture's answer
/// was lost three times), twice and out of order, all at once: they complete it, once —
/// one capture key, the hold's tickets issued a single time, stock adding up.
async fn webhooks_delivered_while_the_order_is_processing_complete_it_once(
    app: TestApp,
    fake: Fake,
) {
    let app = Arc::new(app);
    let org = app.organizer("nudge-org@example.org").await;
    let (event, tt) = on_sale(&app, &org, 2500).await;
    let (buyer, _, _) = app.sign_up("nudge@example.org", "ATTENDEE").await;
    let h = hold(&app, &buyer, &event, &tt, 2, "nudge-hold").await;
    fake.flaky_captures_fail
        .store(true, std::sync::atomic::Ordering::SeqCst);
    let order = app
        .ok(
            Some(&buyer),
            CHECKOUT,
            json!({ "h": h, "t": "pm_capture_flaky", "k": "nudge-pay" }),
        )
        .await;
    assert_eq!(order["checkout"]["status"], json!("PROCESSING"), "{order}");
    let order_id = str_of(&order["checkout"]["id"]);
    assert_eq!(
        text(&app, "SELECT status FROM orders WHERE id = $1", &order_id).await,
        "authorized"
    );
    // Stripe's side recovers; its notices arrive — all at once, duplicated, one stale.
    fake.flaky_captures_fail
        .store(false, std::sync::atomic::Ordering::SeqCst);
    let now = chrono::Utc::now().timestamp();
    let succeeded = json!({ "id": "evt_1", "type": "payment_intent.succeeded", "data": { "object": { "id": "pi_1", "metadata": { "order_id": order_id } } } }).to_string();
    let failed_late = json!({ "id": "evt_0", "type": "payment_intent.payment_failed", "data": { "object": { "id": "pi_1", "metadata": { "order_id": order_id } } } }).to_string();
    let barrier = Arc::new(tokio::sync::Barrier::new(3));
    let deliveries: Vec<_> = [
        (succeeded.clone(), now),
        (succeeded, now),
        (failed_late, now - 30),
    ]
    .into_iter()
    .map(|(payload, at)| {
        let (app, barrier) = (app.clone(), barrier.clone());
        tokio::spawn(async move {
            barrier.wait().await;
            let signature = sign_webhook(payload.as_bytes(), WEBHOOK_SECRET, at);
            deliver(&app, &payload, &signature).await
        })
    })
    .collect();
    for delivery in deliveries {
        assert_eq!(
            delivery.await.unwrap_or_else(|e| panic!("{e}")),
            StatusCode::OK
        );
    }
    let after = app
        .ok(
            Some(&buyer),
            "query($id: ID!) { order(id: $id) { status tickets { id status } } }",
            json!({ "id": order_id }),
        )
        .await;
    assert_eq!(after["order"]["status"], json!("COMPLETED"), "{after}");
    assert_eq!(after["order"]["tickets"].as_array().map(Vec::len), Some(2));
    let issued = scalar(
        &app,
        "SELECT CAST(COUNT(*) AS BIGINT) FROM tickets WHERE order_id = $1",
        &order_id,
    )
    .await;
    assert_eq!(issued, 2, "tickets issued once");
    let captures = calls_to(&fake, "/capture");
    assert!(
        captures
            .iter()
            .all(|c| c.idempotency_key == format!("{order_id}:capture")),
        "every capture carries the one key"
    );
    crate::checkout::assert_stock_consistent(&app).await;
}
