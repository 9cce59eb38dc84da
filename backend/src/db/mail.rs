//! E-mail bookkeeping: which outbox rows had their recipients listed, and one delivery per
//! (notification, recipient) with its attempts, back-off and final state.

use super::{BeginWrite, Db, StoreError};
use crate::with_pool;

/// An outbox row whose recipients are not listed yet.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Unlisted {
    /// Outbox id.
    pub id: String,
    /// `order.completed`, `order.refunded`, `event.cancelled`, `event.moved`, …
    pub topic: String,
    /// JSON.
    pub payload: String,
    /// When the change it announces committed (Unix seconds).
    pub created_at: i64,
}

/// A delivery due for an attempt, with its notification.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DueMail {
    /// Outbox id.
    pub notification_id: String,
    /// The account it goes to.
    pub recipient_id: String,
    /// Failed attempts so far.
    pub attempts: i64,
    /// When it became due (the claim's guard).
    pub next_attempt_at: i64,
    /// The notification's topic.
    pub topic: String,
    /// The notification's JSON payload.
    pub payload: String,
}

/// How an attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailOutcome {
    /// The SMTP server accepted it.
    Sent,
    /// Try again at the given time.
    Retry(i64),
    /// No more attempts: a dead letter.
    Dead,
}

/// The accounts an outbox row is mailed to, read in the listing transaction.
macro_rules! recipients {
    ($tx:expr, $topic:expr, $payload:expr, $at:expr) => {{
        let payload: &serde_json::Value = $payload;
        let field = |name: &str| payload[name].as_str().unwrap_or_default().to_owned();
        let rows: Vec<(String,)> =
            match $topic {
                "order.completed" => vec![(field("userId"),)],
                "order.refunded" => {
                    sqlx::query_as("SELECT user_id FROM orders WHERE id = $1")
                        .bind(field("orderId"))
                        .fetch_all(&mut *$tx)
                        .await?
                }
                // Everyone who bought a ticket, refunded or not (a cancellation refunds them).
                "event.cancelled" => sqlx::query_as(
                    "SELECT DISTINCT holder_id FROM tickets WHERE event_id = $1 ORDER BY holder_id",
                )
                .bind(field("eventId"))
                .fetch_all(&mut *$tx)
                .await?,
                // Everyone who held a valid ticket when the event moved (the list is made later:
                // a ticket refunded since, say by a cancellation, still counts).
                "event.moved" => {
                    sqlx::query_as(
                        "SELECT DISTINCT holder_id FROM tickets WHERE event_id = $1 \
                     AND created_at <= $2 AND (status = 'valid' OR revoked_at >= $2) \
                     ORDER BY holder_id",
                    )
                    .bind(field("eventId"))
                    .bind($at)
                    .fetch_all(&mut *$tx)
                    .await?
                }
                _ => Vec::new(),
            };
        rows.into_iter()
            .map(|(id,)| id)
            .filter(|id| !id.is_empty())
            .collect::<Vec<String>>()
    }};
}

impl Db {
    /// Outbox rows whose recipients are not listed yet, oldest first.
    pub async fn unlisted_notifications(&self, limit: i64) -> Result<Vec<Unlisted>, StoreError> {
        Ok(with_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT id, topic, payload, created_at FROM outbox WHERE mail_listed_at IS NULL \
                 ORDER BY created_at, id LIMIT $1",
            )
            .bind(limit)
            .fetch_all(pool)
            .await?
        }))
    }

    /// Lists the recipients of one outbox row and creates one pending delivery for each, in
    /// one transaction guarded by the row's `mail_listed_at`, so two workers never list a
    /// row twice. With `mail` false the row is only marked listed (too old to mail).
    /// Returns how many deliveries were created.
    pub async fn list_mail_recipients(
        &self,
        row: &Unlisted,
        mail: bool,
        now: i64,
    ) -> Result<usize, StoreError> {
        let payload: serde_json::Value =
            serde_json::from_str(&row.payload).unwrap_or(serde_json::Value::Null);
        with_pool!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            let won = sqlx::query(
                "UPDATE outbox SET mail_listed_at = $2 WHERE id = $1 AND mail_listed_at IS NULL",
            )
            .bind(&row.id)
            .bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if won == 0 {
                return Ok(0);
            }
            let recipients = if mail {
                recipients!(tx, row.topic.as_str(), &payload, row.created_at)
            } else {
                Vec::new()
            };
            let mut created = 0;
            for recipient in &recipients {
                created += sqlx::query(
                    "INSERT INTO mail_deliveries \
                     (notification_id, recipient_id, status, next_attempt_at, created_at) \
                     VALUES ($1, $2, 'pending', $3, $3) \
                     ON CONFLICT (notification_id, recipient_id) DO NOTHING",
                )
                .bind(&row.id)
                .bind(recipient)
                .bind(now)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            }
            tx.commit().await?;
            Ok(usize::try_from(created).unwrap_or(usize::MAX))
        })
    }

    /// Pending deliveries due at `now`, soonest first.
    pub async fn due_mail(&self, now: i64, limit: i64) -> Result<Vec<DueMail>, StoreError> {
        Ok(with_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT d.notification_id, d.recipient_id, d.attempts, d.next_attempt_at, \
                 o.topic, o.payload FROM mail_deliveries d \
                 JOIN outbox o ON o.id = d.notification_id \
                 WHERE d.status = 'pending' AND d.next_attempt_at <= $1 \
                 ORDER BY d.next_attempt_at, d.notification_id, d.recipient_id LIMIT $2",
            )
            .bind(now)
            .bind(limit)
            .fetch_all(pool)
            .await?
        }))
    }

    /// Takes a due delivery for `until`, unless another worker took it first.
    pub async fn claim_mail(&self, row: &DueMail, until: i64) -> Result<bool, StoreError> {
        let n = with_pool!(self, |pool| {
            sqlx::query(
                "UPDATE mail_deliveries SET next_attempt_at = $4 \
                 WHERE notification_id = $1 AND recipient_id = $2 AND next_attempt_at = $3 \
                 AND status = 'pending'",
            )
            .bind(&row.notification_id)
            .bind(&row.recipient_id)
            .bind(row.next_attempt_at)
            .bind(until)
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(n == 1)
    }

    /// Records an attempt's outcome (`error`: why it failed, for operators).
    pub async fn settle_mail(
        &self,
        row: &DueMail,
        outcome: MailOutcome,
        error: Option<&str>,
        now: i64,
    ) -> Result<(), StoreError> {
        let (status, next, sent_at) = match outcome {
            MailOutcome::Sent => ("sent", now, Some(now)),
            MailOutcome::Retry(at) => ("pending", at, None),
            MailOutcome::Dead => ("dead", now, None),
        };
        with_pool!(self, |pool| {
            sqlx::query(
                "UPDATE mail_deliveries SET status = $3, attempts = attempts + 1, \
                 next_attempt_at = $4, sent_at = $5, last_error = $6 \
                 WHERE notification_id = $1 AND recipient_id = $2 AND status = 'pending'",
            )
            .bind(&row.notification_id)
            .bind(&row.recipient_id)
            .bind(status)
            .bind(next)
            .bind(sent_at)
            .bind(error)
            .execute(pool)
            .await?;
        });
        Ok(())
    }
}
