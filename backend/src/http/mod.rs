//! Plain HTTP routes: health, readiness, metrics, and the request-metrics middleware.

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::AppState;

/// `GET /health`: the process is up.
pub async fn health() -> &'static str {
    "ok"
}

/// `GET /ready`: the database answers.
pub async fn ready(State(state): State<AppState>) -> Response {
    match state.db.ping().await {
        Ok(()) => (StatusCode::OK, "ready").into_response(),
        Err(e) => {
            tracing::warn!(error = ?e, "readiness check failed");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable").into_response()
        }
    }
}

/// `GET /metrics`: Prometheus text format.
pub async fn metrics(State(state): State<AppState>) -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(),
    )
        .into_response()
}

/// Records count, latency and errors of every request under its route template.
pub async fn track(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let method = req.method().to_string();
    let started = Instant::now();
    let response = next.run(req).await;
    state.metrics.request(
        &route,
        &method,
        response.status().as_u16(),
        started.elapsed(),
    );
    response
}

/// `POST /webhooks/payments/{provider}`: a signed notice from the provider. It only nudges
/// the saga: the order is advanced with the same idempotent steps a retry would take, so
/// duplicate and out-of-order deliveries change nothing.
pub async fn webhook(
    State(state): State<AppState>,
    axum::extract::Path(provider): axum::extract::Path<String>,
    headers: axum::http::HeaderMap,
    body: axum::body::Body,
) -> Response {
    if provider != "stripe" || state.payments.name() != "stripe" {
        return (StatusCode::NOT_FOUND, "unknown payment provider").into_response();
    }
    let Some(secret) = state.config.stripe_webhook_secret.as_deref() else {
        return (StatusCode::NOT_FOUND, "webhooks are not configured").into_response();
    };
    let Ok(payload) = axum::body::to_bytes(body, state.config.max_body_bytes).await else {
        return (StatusCode::PAYLOAD_TOO_LARGE, "body too large").into_response();
    };
    let signature = headers
        .get("stripe-signature")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let now = crate::db::now();
    if let Err(e) = crate::payments::stripe::verify_webhook(&payload, signature, secret, now, 300) {
        tracing::warn!(error = %e, "webhook refused");
        return (StatusCode::BAD_REQUEST, e.to_string()).into_response();
    }
    let event: serde_json::Value = serde_json::from_slice(&payload).unwrap_or_default();
    let order_id = event["data"]["object"]["metadata"]["order_id"]
        .as_str()
        .unwrap_or_default();
    if !order_id.is_empty() {
        match state.db.order(order_id).await {
            Ok(Some(order)) => {
                if let Err(e) = crate::checkout::advance(&state, order).await {
                    tracing::warn!(error = ?e, "webhook could not advance the order");
                    return (StatusCode::SERVICE_UNAVAILABLE, "retry later").into_response();
                }
            }
            Ok(None) => {}
            Err(e) => {
                tracing::warn!(error = ?e, "webhook lookup failed");
                return (StatusCode::SERVICE_UNAVAILABLE, "retry later").into_response();
            }
        }
    }
    (StatusCode::OK, "received").into_response()
}

/// `POST /bench/decrement/{ticket_type_id}` (only with `GUICHET_BENCH_ROUTES=1`): one
/// conditional decrement of a random bucket, nothing else — the storage ceiling the hold
/// path is measured against. Answers `1` if a ticket was taken, `0` if not.
pub async fn bench_decrement(
    State(state): State<AppState>,
    axum::extract::Path(ticket_type_id): axum::extract::Path<String>,
) -> Response {
    let bucket: i64 = rand::random_range(0..guichet_domain::inventory::MAX_BUCKETS);
    match state.db.bench_decrement(&ticket_type_id, bucket).await {
        Ok(taken) => (StatusCode::OK, if taken { "1" } else { "0" }).into_response(),
        Err(e) => {
            tracing::warn!(error = ?e, "bench decrement failed");
            (StatusCode::SERVICE_UNAVAILABLE, "storage error").into_response()
        }
    }
}
