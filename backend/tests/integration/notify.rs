//! The outbox reaches the notification webhook: signed, retried with back-off after a
//! failure, delivered once it is accepted, and never again after that.

use std::sync::{Arc, Mutex};

use axum::http::{HeaderMap, StatusCode};
use guichet_server::notify::{Webhook, deliver_due};
use guichet_server::payments::stripe::{WebhookError, verify_webhook};
use serde_json::{Value, json};

use crate::checkout::{CHECKOUT, hold, on_sale};
use crate::support::{TestApp, on_both, str_of};

on_both!(notifications_are_signed_retried_and_delivered_once);

/// What the receiver saw: (delivery id, signature, body).
type Seen = Arc<Mutex<Vec<(String, String, Vec<u8>)>>>;

/// A local receiver that refuses its first `failures` requests with 503.
async fn receiver(failures: usize) -> (String, Seen) {
    let seen: Seen = Arc::default();
    let log = seen.clone();
    let handler = move |headers: HeaderMap, body: axum::body::Bytes| {
        let log = log.clone();
        async move {
            let header = |name: &str| {
                headers
                    .get(name)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_owned()
            };
            let mut log = log.lock().unwrap_or_else(|e| e.into_inner());
            log.push((
                header("guichet-delivery"),
                header("guichet-signature"),
                body.to_vec(),
            ));
            if log.len() <= failures {
                StatusCode::SERVICE_UNAVAILABLE
            } else {
                StatusCode::NO_CONTENT
            }
        }
    };
    let router = axum::Router::new().route("/hook", axum::routing::post(handler));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let addr = listener.local_addr().unwrap_or_else(|e| panic!("{e}"));
    tokio::spawn(async move { axum::serve(listener, router).await });
    (format!("http://{addr}/hook"), seen)
}

async fn outbox_row(app: &TestApp) -> (String, i64, i64, Option<i64>) {
    guichet_server::with_pool!(app.db(), |pool| {
        sqlx::query_as(
            "SELECT id, attempts, next_attempt_at, delivered_at FROM outbox \
             WHERE topic = 'order.completed'",
        )
        .fetch_one(pool)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
    })
}

async fn notifications_are_signed_retried_and_delivered_once(app: TestApp) {
    let org = app.organizer("notify-org@example.org").await;
    let (event, tt) = on_sale(&app, &org, 1500).await;
    let (buyer, _, _) = app.sign_up("notify-buyer@example.org", "ATTENDEE").await;
    let h = hold(&app, &buyer, &event, &tt, 2, "hold-notify").await;
    let order = app
        .ok(
            Some(&buyer),
            CHECKOUT,
            json!({ "h": h, "t": "tok_visa", "k": "checkout-notify" }),
        )
        .await;
    let order_id = str_of(&order["checkout"]["id"]);
    let (url, seen) = receiver(1).await;
    let webhook = Webhook::new(&url, "whsec_test").unwrap_or_else(|e| panic!("{e}"));
    let (id, _, created, _) = outbox_row(&app).await;
    let now = created + 1;

    // Refused: left for later, ten seconds on.
    let delivered = deliver_due(&app.state, &webhook, now).await;
    assert_eq!(delivered.unwrap_or_else(|e| panic!("{e}")), 0);
    assert_eq!(outbox_row(&app).await, (id.clone(), 1, now + 10, None));
    // Not due yet: nothing is posted.
    let delivered = deliver_due(&app.state, &webhook, now + 5).await;
    assert_eq!(delivered.unwrap_or_else(|e| panic!("{e}")), 0);
    assert_eq!(seen.lock().unwrap_or_else(|e| e.into_inner()).len(), 1);
    // Due again and accepted.
    let delivered = deliver_due(&app.state, &webhook, now + 10).await;
    assert_eq!(delivered.unwrap_or_else(|e| panic!("{e}")), 1);
    assert_eq!(
        outbox_row(&app).await,
        (id.clone(), 2, now + 10 + 60, Some(now + 10))
    );
    // Never again.
    let delivered = deliver_due(&app.state, &webhook, now + 100_000).await;
    assert_eq!(delivered.unwrap_or_else(|e| panic!("{e}")), 0);

    let seen = seen.lock().unwrap_or_else(|e| e.into_inner()).clone();
    assert_eq!(seen.len(), 2);
    let (delivery, signature, body) = &seen[1];
    assert_eq!(delivery, &id);
    assert!(verify_webhook(body, signature, "whsec_test", now + 10, 300).is_ok());
    assert_eq!(
        verify_webhook(body, signature, "another_secret", now + 10, 300),
        Err(WebhookError::Mismatch)
    );
    let mut tampered = body.clone();
    tampered.push(b' ');
    assert_eq!(
        verify_webhook(&tampered, signature, "whsec_test", now + 10, 300),
        Err(WebhookError::Mismatch)
    );
    assert_eq!(
        verify_webhook(body, signature, "whsec_test", now + 10_000, 300),
        Err(WebhookError::Stale)
    );
    let body: Value = serde_json::from_slice(body).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(body["id"], json!(id));
    assert_eq!(body["topic"], "order.completed");
    assert_eq!(body["payload"]["orderId"], json!(order_id));
    assert_eq!(body["payload"]["tickets"].as_array().map(Vec::len), Some(2));
    assert_eq!(body["recipient"]["email"], "notify-buyer@example.org");
}
