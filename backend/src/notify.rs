//! Delivery of the outbox: every notification the server decided to send (an order
//! completed: "your tickets are ready") is written to `outbox` in the same transaction as
//! the change it announces, and this worker posts it to the operator's notification
//! webhook (an e-mail or push relay), at least once.
//!
//! Each delivery is `POST <GUICHET_NOTIFY_WEBHOOK_URL>` with a JSON body
//! `{ id, topic, createdAt, payload, recipient }` and two headers: `Guichet-Delivery` (the
//! outbox id, for the receiver to drop duplicates) and `Guichet-Signature`
//! (`t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">` keyed with
//! `GUICHET_NOTIFY_WEBHOOK_SECRET`, the scheme Stripe uses, so receivers can reuse its
//! verification; [`crate::payments::stripe::verify_webhook`] verifies it in Rust).
//! `recipient` (the buyer's e-mail and display name) is read at delivery time and never
//! stored in the outbox.
//!
//! A 2xx answer marks the row delivered. Anything else (an error status, a timeout, no
//! connection) leaves it for a later attempt after an exponential back-off (10 s doubling
//! up to an hour). Before posting, a worker claims the row by moving its next attempt a
//! minute ahead in a conditional update, so several replicas do not post the same row at
//! the same time.

use std::time::Duration;

use crate::AppState;
use crate::db::{Db, StoreError};
use crate::with_pool;

/// Rows taken per round.
const BATCH: i64 = 100;
/// How long a claim keeps other workers off a row.
const CLAIM_SECS: i64 = 60;
/// Longest wait between two attempts.
const MAX_BACKOFF_SECS: i64 = 3600;

/// Where notifications go.
#[derive(Clone)]
pub struct Webhook {
    url: String,
    secret: String,
    http: reqwest::Client,
}

/// Never shows the signing secret.
impl std::fmt::Debug for Webhook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Webhook")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

impl Webhook {
    /// A webhook for `url`, signed with `secret`.
    pub fn new(url: &str, secret: &str) -> Result<Webhook, reqwest::Error> {
        // Binaries install ring as rustls' provider; a second install is a harmless no-op.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .connect_timeout(Duration::from_secs(5))
            .build()?;
        Ok(Webhook {
            url: url.to_owned(),
            secret: secret.to_owned(),
            http,
        })
    }

    async fn post(&self, id: &str, body: Vec<u8>, now: i64) -> bool {
        let signature = crate::payments::stripe::sign_webhook(&body, &self.secret, now);
        let sent = self
            .http
            .post(&self.url)
            .header("content-type", "application/json")
            .header("guichet-delivery", id)
            .header("guichet-signature", signature)
            .body(body)
            .send()
            .await;
        match sent {
            Ok(response) if response.status().is_success() => true,
            Ok(response) => {
                tracing::warn!(id, status = %response.status(), "notification refused");
                false
            }
            Err(e) => {
                tracing::warn!(id, error = %e, "notification not delivered");
                false
            }
        }
    }
}

#[derive(Debug, sqlx::FromRow)]
struct Due {
    id: String,
    topic: String,
    payload: String,
    created_at: i64,
    attempts: i64,
    next_attempt_at: i64,
}

/// The wait after `attempts` failed attempts.
pub fn backoff_secs(attempts: i64) -> i64 {
    let exponent = u32::try_from(attempts.clamp(0, 20)).unwrap_or(20);
    10_i64
        .saturating_mul(2_i64.saturating_pow(exponent))
        .min(MAX_BACKOFF_SECS)
}

/// Posts every due notification once; returns how many were delivered.
pub async fn deliver_due(
    state: &AppState,
    webhook: &Webhook,
    now: i64,
) -> Result<usize, StoreError> {
    let due: Vec<Due> = with_pool!(&state.db, |pool| {
        sqlx::query_as(
            "SELECT id, topic, payload, created_at, attempts, next_attempt_at FROM outbox \
             WHERE delivered_at IS NULL AND next_attempt_at <= $1 \
             ORDER BY next_attempt_at LIMIT $2",
        )
        .bind(now)
        .bind(BATCH)
        .fetch_all(pool)
        .await?
    });
    let mut delivered = 0;
    for row in due {
        if !claim(&state.db, &row, now).await? {
            continue;
        }
        let payload: serde_json::Value =
            serde_json::from_str(&row.payload).unwrap_or(serde_json::Value::Null);
        let recipient =
            match payload["userId"].as_str() {
                Some(user) => state.db.user(user).await?.map(
                    |u| serde_json::json!({ "email": u.email, "displayName": u.display_name }),
                ),
                None => None,
            };
        let body = serde_json::json!({
            "id": row.id,
            "topic": row.topic,
            "createdAt": row.created_at,
            "payload": payload,
            "recipient": recipient,
        });
        let ok = webhook
            .post(&row.id, body.to_string().into_bytes(), now)
            .await;
        settle(&state.db, &row, ok, now).await?;
        if ok {
            delivered += 1;
            state.metrics.notification("delivered");
        } else {
            state.metrics.notification("failed");
        }
    }
    Ok(delivered)
}

/// Moves the row's next attempt a minute ahead if no other worker did first.
async fn claim(db: &Db, row: &Due, now: i64) -> Result<bool, StoreError> {
    let claimed = with_pool!(db, |pool| {
        sqlx::query(
            "UPDATE outbox SET next_attempt_at = $3 \
             WHERE id = $1 AND next_attempt_at = $2 AND delivered_at IS NULL",
        )
        .bind(&row.id)
        .bind(row.next_attempt_at)
        .bind(now + CLAIM_SECS)
        .execute(pool)
        .await?
        .rows_affected()
    });
    Ok(claimed == 1)
}

async fn settle(db: &Db, row: &Due, delivered: bool, now: i64) -> Result<(), StoreError> {
    let attempts = row.attempts + 1;
    with_pool!(db, |pool| {
        if delivered {
            sqlx::query("UPDATE outbox SET delivered_at = $2, attempts = $3 WHERE id = $1")
                .bind(&row.id)
                .bind(now)
                .bind(attempts)
                .execute(pool)
                .await?;
        } else {
            sqlx::query("UPDATE outbox SET next_attempt_at = $2, attempts = $3 WHERE id = $1")
                .bind(&row.id)
                .bind(now + backoff_secs(row.attempts))
                .bind(attempts)
                .execute(pool)
                .await?;
        }
    });
    Ok(())
}

/// Delivers due notifications every `every` while the server runs.
pub fn spawn_worker(
    state: AppState,
    webhook: Webhook,
    every: Duration,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        loop {
            tick.tick().await;
            match deliver_due(&state, &webhook, crate::db::now()).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(delivered = n, "notifications delivered"),
                Err(e) => tracing::warn!(error = ?e, "notification delivery failed"),
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_ten_seconds_up_to_an_hour() {
        assert_eq!(backoff_secs(0), 10);
        assert_eq!(backoff_secs(1), 20);
        assert_eq!(backoff_secs(5), 320);
        assert_eq!(backoff_secs(9), 3600);
        assert_eq!(backoff_secs(1_000), 3600);
        assert_eq!(backoff_secs(-3), 10);
    }
}
