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
//!
//! # E-mail
//!
//! When SMTP is configured (`GUICHET_SMTP_URL`), [`mail_due`] also mails buyers, in two
//! steps per round:
//! 1. **Listing.** Each outbox row not yet listed (`mail_listed_at` null, and written less
//!    than a week ago: older ones are only marked listed) gets one pending
//!    row in `mail_deliveries` per recipient (the buyer of an order; every ticket holder of
//!    a cancelled or moved event), in one transaction that also marks the row listed, so
//!    two replicas never list it twice and the key (notification, recipient) holds each
//!    e-mail once.
//! 2. **Sending.** Each due delivery is claimed like a webhook row (its next attempt moved a
//!    minute ahead by a conditional update), rendered in the recipient's language at send
//!    time, and handed to the SMTP server. Accepted: `sent`, never sent again. Refused for
//!    a transient reason (no connection, timeout, 4xx): retried after the same back-off as
//!    webhooks. Refused for good (5xx), or failed `GUICHET_MAIL_MAX_ATTEMPTS` times: `dead`,
//!    the dead letter, counted in `/metrics` as
//!    `guichet_notifications_total{outcome="mail_dead_letter"}`.
//!
//! Delivery is at least once. Handing a message to an SMTP server cannot be one
//! transaction with recording it: if the process dies after the server accepted a message
//! and before `sent` is stored, the claim lapses and the message is sent again a minute
//! later. It carries the same `Message-ID` (derived from notification and recipient), so a
//! receiving system can drop the copy. Nothing else sends twice: a failed attempt was not
//! accepted, and a claim keeps other replicas off a delivery while it is being sent.

use std::time::Duration;

use std::collections::BTreeMap;

use crate::AppState;
use crate::db::mail::{DueMail, MailOutcome};
use crate::db::{Db, StoreError};
use crate::mail::{Email, Escape, Kind, Language, Mailer, SendError, Values};
use crate::with_pool;

/// Rows taken per round.
const BATCH: i64 = 100;
/// How long a claim keeps other workers off a row.
const CLAIM_SECS: i64 = 60;
/// Longest wait between two attempts.
const MAX_BACKOFF_SECS: i64 = 3600;
/// Notifications older than this when the mail worker first sees them are not mailed (SMTP
/// configured long after the changes, or a worker stopped for days): a week-old "your
/// tickets" is noise, and the wallet holds the tickets anyway.
const MAIL_HORIZON_SECS: i64 = 7 * 24 * 3600;

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

/// What one round of the mail worker did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct MailRound {
    /// Deliveries created from newly listed outbox rows.
    pub listed: usize,
    /// E-mails the SMTP server accepted.
    pub sent: usize,
    /// Attempts that failed and will be retried.
    pub retried: usize,
    /// E-mails given up on (dead letters).
    pub dead: usize,
}

/// Lists the recipients of new outbox rows, then sends every due e-mail once; see the
/// module documentation.
pub async fn mail_due(
    state: &AppState,
    mailer: &Mailer,
    now: i64,
) -> Result<MailRound, StoreError> {
    let mut round = MailRound::default();
    for row in state.db.unlisted_notifications(BATCH).await? {
        let fresh = row.created_at >= now - MAIL_HORIZON_SECS;
        if !fresh {
            tracing::warn!(
                notification = %row.id,
                topic = %row.topic,
                "notification older than a week: not mailed"
            );
        }
        round.listed += state.db.list_mail_recipients(&row, fresh, now).await?;
    }
    let max_attempts = state.config.mail_max_attempts.max(1);
    for row in state.db.due_mail(now, BATCH).await? {
        if !state.db.claim_mail(&row, now + CLAIM_SECS).await? {
            continue;
        }
        let sent = match compose(state, mailer, &row).await? {
            Ok(email) => mailer.send(&email).await,
            Err(reason) => Err(SendError::Permanent(reason)),
        };
        let (outcome, error) = match sent {
            Ok(()) => (MailOutcome::Sent, None),
            Err(SendError::Permanent(e)) => (MailOutcome::Dead, Some(e)),
            Err(SendError::Transient(e)) if row.attempts + 1 >= max_attempts => {
                (MailOutcome::Dead, Some(e))
            }
            Err(SendError::Transient(e)) => (
                MailOutcome::Retry(now + backoff_secs(row.attempts)),
                Some(e),
            ),
        };
        state
            .db
            .settle_mail(&row, outcome, error.as_deref(), now)
            .await?;
        match outcome {
            MailOutcome::Sent => {
                round.sent += 1;
                state.metrics.notification("mail_sent");
            }
            MailOutcome::Retry(_) => {
                round.retried += 1;
                state.metrics.notification("mail_failed");
                tracing::warn!(
                    notification = %row.notification_id,
                    attempts = row.attempts + 1,
                    error = error.as_deref().unwrap_or_default(),
                    "e-mail not delivered; will retry"
                );
            }
            MailOutcome::Dead => {
                round.dead += 1;
                state.metrics.notification("mail_dead_letter");
                tracing::error!(
                    notification = %row.notification_id,
                    recipient = %row.recipient_id,
                    attempts = row.attempts + 1,
                    error = error.as_deref().unwrap_or_default(),
                    "e-mail given up: dead letter"
                );
            }
        }
    }
    Ok(round)
}

/// The e-mail for one delivery, rendered now in the recipient's language; `Err(reason)`
/// when it can never be sent (account or order gone, unknown topic).
async fn compose(
    state: &AppState,
    mailer: &Mailer,
    row: &DueMail,
) -> Result<Result<Email, String>, StoreError> {
    let db = &state.db;
    let Some(user) = db.user(&row.recipient_id).await? else {
        return Ok(Err("the recipient's account is gone".into()));
    };
    let language = db
        .language(&user.id)
        .await?
        .as_deref()
        .and_then(Language::parse)
        .unwrap_or(Language::En);
    let payload: serde_json::Value =
        serde_json::from_str(&row.payload).unwrap_or(serde_json::Value::Null);
    let field = |name: &str| payload[name].as_str().unwrap_or_default().to_owned();
    let kind = match row.topic.as_str() {
        "order.completed" => Kind::OrderConfirmed,
        "order.refunded" => Kind::OrderRefunded,
        "event.cancelled" => Kind::EventCancelled,
        "event.moved" => Kind::EventMoved,
        other => return Ok(Err(format!("no e-mail for topic {other}"))),
    };
    let order = match kind {
        Kind::OrderConfirmed | Kind::OrderRefunded => match db.order(&field("orderId")).await? {
            Some(order) => Some(order),
            None => return Ok(Err("the order is gone".into())),
        },
        Kind::EventCancelled | Kind::EventMoved => None,
    };
    let event_id = order
        .as_ref()
        .map_or_else(|| field("eventId"), |o| o.event_id.clone());
    let Some(event) = db.event(&event_id).await? else {
        return Ok(Err("the event is gone".into()));
    };
    let mut values = Values::default();
    values.top.insert("name", user.display_name.clone());
    values.top.insert("event_title", event.title.clone());
    values.top.insert(
        "event_starts",
        local_time(event.starts_at, &event.time_zone),
    );
    values.top.insert("event_venue", event.venue.clone());
    values.top.insert("event_city", event.city.clone());
    let mut images = Vec::new();
    if let Some(order) = &order {
        values.top.insert("order_ref", order.id.clone());
        match kind {
            Kind::OrderConfirmed => {
                values
                    .top
                    .insert("order_total", money(order.total_minor, &order.currency));
                let types: BTreeMap<String, String> = db
                    .ticket_types_of(std::slice::from_ref(&event.id))
                    .await?
                    .into_iter()
                    .map(|t| (t.id, t.name))
                    .collect();
                let tickets = db.tickets_of_order(&order.id).await?;
                for ticket in tickets
                    .iter()
                    .filter(|t| t.status == "valid" && t.holder_id == user.id)
                {
                    let cid = format!("ticket-{}@{}", ticket.id, mailer.domain());
                    match crate::mail::qr::png(&ticket.credential, 6) {
                        Ok(png) => images.push((cid.clone(), png)),
                        Err(e) => return Ok(Err(format!("ticket {}: {e}", ticket.id))),
                    }
                    let mut t = BTreeMap::new();
                    t.insert("ticket_id", ticket.id.clone());
                    t.insert(
                        "ticket_type",
                        types
                            .get(&ticket.ticket_type_id)
                            .cloned()
                            .unwrap_or_default(),
                    );
                    t.insert("credential", ticket.credential.clone());
                    t.insert("qr_cid", cid);
                    values.tickets.push(t);
                }
                values
                    .top
                    .insert("ticket_count", values.tickets.len().to_string());
            }
            _ => {
                let amount = payload["amountMinor"].as_i64().unwrap_or_default();
                values
                    .top
                    .insert("refund_amount", money(amount, &order.currency));
            }
        }
    }
    let Some(templates) = mailer.templates().get(language, kind) else {
        return Ok(Err(format!(
            "no template for {kind:?} in {}",
            language.code()
        )));
    };
    Ok(Ok(Email {
        to: user.email.clone(),
        to_name: user.display_name.clone(),
        message_id: crate::mail::message_id(
            &row.notification_id,
            &row.recipient_id,
            mailer.domain(),
        ),
        subject: templates.subject.render(&values, Escape::None),
        text: templates.text.render(&values, Escape::None),
        html: templates.html.render(&values, Escape::Html),
        images,
    }))
}

/// `2026-06-01 20:30 (Europe/Paris)`: the event's wall-clock time where it happens.
fn local_time(unix: i64, time_zone: &str) -> String {
    let utc = chrono::DateTime::from_timestamp(unix, 0).unwrap_or_default();
    match time_zone.parse::<chrono_tz::Tz>() {
        Ok(tz) => format!(
            "{} ({})",
            utc.with_timezone(&tz).format("%Y-%m-%d %H:%M"),
            tz.name()
        ),
        Err(_) => format!("{} (UTC)", utc.format("%Y-%m-%d %H:%M")),
    }
}

/// `12.50 EUR`, or the bare minor units when the stored currency is unknown.
fn money(minor: i64, currency: &str) -> String {
    match guichet_domain::money::Currency::parse(currency) {
        Ok(currency) => guichet_domain::money::Money { minor, currency }.to_string(),
        Err(_) => format!("{minor} {currency}"),
    }
}

/// Mails due notifications every `every` while the server runs.
pub fn spawn_mail_worker(
    state: AppState,
    mailer: Mailer,
    every: Duration,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        loop {
            tick.tick().await;
            match mail_due(&state, &mailer, crate::db::now()).await {
                Ok(round) if round == MailRound::default() => {}
                Ok(round) => tracing::info!(?round, "e-mail round"),
                Err(e) => tracing::warn!(error = ?e, "e-mail round failed"),
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

    #[test]
    fn event_times_are_shown_in_the_event_time_zone() {
        // 2026-06-01T18:30:00Z
        assert_eq!(
            local_time(1_780_338_600, "Europe/Paris"),
            "2026-06-01 20:30 (Europe/Paris)"
        );
        assert_eq!(
            local_time(1_780_338_600, "Nowhere/Else"),
            "2026-06-01 18:30 (UTC)"
        );
        assert_eq!(money(1250, "EUR"), "12.50 EUR");
        assert_eq!(money(1500, "XXQ"), "1500 XXQ");
    }
}
