//! Orders (the checkout saga's persisted state), tickets, refunds and revocations.
//!
//! Every saga step is a conditional status change (`… WHERE status = <expected>`), so two
//! workers advancing the same order (a client retry and the recovery sweep) can never both
//! take a step: one wins, the other sees nothing to do.

use super::audit::{Actor, AuditAction, AuditEntry};
use super::{BeginWrite, Db, StoreError, is_unique_violation};
use crate::{audit, with_pool};

/// A stored order.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OrderRow {
    /// UUID.
    pub id: String,
    /// The hold it converts.
    pub hold_id: String,
    /// Buyer.
    pub user_id: String,
    /// Event.
    pub event_id: String,
    /// Saga state.
    pub status: String,
    /// Amount due.
    pub total_minor: i64,
    /// Amount refunded so far.
    pub refunded_minor: i64,
    /// ISO 4217.
    pub currency: String,
    /// `test` or `stripe`.
    pub provider: String,
    /// Provider token of the payment method.
    pub payment_token: String,
    /// Provider intent, once authorised.
    pub intent_id: Option<String>,
    /// Why it was declined, when it was.
    pub failure: Option<String>,
    /// Provider attempts so far.
    pub attempts: i64,
    /// Fingerprint of the creating request.
    pub request_hash: String,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds.
    pub updated_at: i64,
}

/// A stored ticket.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TicketRow {
    /// UUID.
    pub id: String,
    /// Its order.
    pub order_id: String,
    /// Event.
    pub event_id: String,
    /// Ticket type.
    pub ticket_type_id: String,
    /// Holder.
    pub holder_id: String,
    /// Price paid.
    pub price_minor: i64,
    /// `valid` or `revoked`.
    pub status: String,
    /// Signed credential text (what the QR code holds).
    pub credential: String,
    /// Unix seconds.
    pub created_at: i64,
}

/// A stored refund.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RefundRow {
    /// UUID, also the provider idempotency key.
    pub id: String,
    /// Its order.
    pub order_id: String,
    /// Amount.
    pub amount_minor: i64,
    /// `pending` or `done`.
    pub status: String,
}

/// How starting a refund went.
#[derive(Debug)]
pub enum RefundStart {
    /// Tickets revoked; the refund is to be sent to the provider.
    Started(RefundRow),
    /// No valid ticket of those asked for was left (refunded before, or by a concurrent
    /// refund).
    NothingLeft,
    /// A buyer asked to refund a ticket already admitted at a door.
    AlreadyUsed,
}

/// A checkout request, validated.
#[derive(Debug, Clone)]
pub struct NewOrder {
    /// Order id.
    pub id: String,
    /// Hold to convert.
    pub hold_id: String,
    /// Buyer.
    pub user_id: String,
    /// Provider name.
    pub provider: String,
    /// Provider token.
    pub payment_token: String,
    /// Caller's key.
    pub idempotency_key: String,
    /// Fingerprint of the request.
    pub request_hash: String,
    /// Unix seconds.
    pub now: i64,
}

/// How starting a checkout went.
#[derive(Debug)]
pub enum CheckoutStart {
    /// A new order, its hold now reserved for it.
    Started(OrderRow),
    /// The same request was made before: its order.
    Existing(OrderRow),
    /// The key was used for another request.
    KeyReused,
    /// No such hold for this buyer.
    NoHold,
    /// The hold expired or was released.
    HoldExpired,
    /// The hold is already being checked out (under another key).
    HoldTaken,
}

const ORDER_COLUMNS: &str = "id, hold_id, user_id, event_id, status, total_minor, \
     refunded_minor, currency, provider, payment_token, intent_id, failure, attempts, \
     request_hash, created_at, updated_at";
const TICKET_COLUMNS: &str = "id, order_id, event_id, ticket_type_id, holder_id, price_minor, \
     status, credential, created_at";

impl Db {
    /// Starts a checkout: reserves the hold for the order (the sweeper no longer expires it)
    /// and stores the order as `pending`. Idempotent by (buyer, key).
    pub async fn begin_checkout(&self, o: &NewOrder) -> Result<CheckoutStart, StoreError> {
        if let Some(existing) = self.order_by_key(&o.user_id, &o.idempotency_key).await? {
            return Ok(if existing.request_hash == o.request_hash {
                CheckoutStart::Existing(existing)
            } else {
                CheckoutStart::KeyReused
            });
        }
        // In an async block, so that its early returns and `?` land in `result` (and reach
        // the duplicate handling below) instead of leaving the function.
        let result: Result<CheckoutStart, StoreError> = async {
            with_pool!(self, |pool| {
                let mut tx = pool.begin_write().await?;
                let hold: Option<(String, String, i64, i64, String, String)> = sqlx::query_as(
                    "SELECT user_id, status, expires_at, total_minor, currency, event_id \
                 FROM holds WHERE id = $1",
                )
                .bind(&o.hold_id)
                .fetch_optional(&mut *tx)
                .await?;
                let Some((owner, status, expires_at, total, currency, event_id)) =
                    hold.filter(|h| h.0 == o.user_id)
                else {
                    return Ok(CheckoutStart::NoHold);
                };
                let _ = owner;
                match status.as_str() {
                    "active" if expires_at > o.now => {}
                    "active" | "expired" | "released" => return Ok(CheckoutStart::HoldExpired),
                    _ => return Ok(CheckoutStart::HoldTaken),
                }
                // The read above is no lock: a release, the sweeper's expiry or another
                // checkout may have moved the hold since (PostgreSQL runs at READ COMMITTED).
                // The move is conditional on what the read saw and on the clock, and only a
                // move that happened lets the order in.
                let moved = sqlx::query(
                    "UPDATE holds SET status = 'converting' \
                     WHERE id = $1 AND status = 'active' AND expires_at > $2",
                )
                .bind(&o.hold_id)
                .bind(o.now)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if moved == 0 {
                    let (status,): (String,) =
                        sqlx::query_as("SELECT status FROM holds WHERE id = $1")
                            .bind(&o.hold_id)
                            .fetch_one(&mut *tx)
                            .await?;
                    return Ok(match status.as_str() {
                        "active" | "expired" | "released" => CheckoutStart::HoldExpired,
                        _ => CheckoutStart::HoldTaken,
                    });
                }
                sqlx::query(
                    "INSERT INTO orders (id, hold_id, user_id, event_id, status, total_minor, \
                 currency, provider, payment_token, idempotency_key, request_hash, created_at, \
                 updated_at) VALUES ($1, $2, $3, $4, 'pending', $5, $6, $7, $8, $9, $10, $11, $11)",
                )
                .bind(&o.id)
                .bind(&o.hold_id)
                .bind(&o.user_id)
                .bind(&event_id)
                .bind(total)
                .bind(&currency)
                .bind(&o.provider)
                .bind(&o.payment_token)
                .bind(&o.idempotency_key)
                .bind(&o.request_hash)
                .bind(o.now)
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(CheckoutStart::Started(OrderRow {
                    id: o.id.clone(),
                    hold_id: o.hold_id.clone(),
                    user_id: o.user_id.clone(),
                    event_id,
                    status: "pending".into(),
                    total_minor: total,
                    refunded_minor: 0,
                    currency,
                    provider: o.provider.clone(),
                    payment_token: o.payment_token.clone(),
                    intent_id: None,
                    failure: None,
                    attempts: 0,
                    request_hash: o.request_hash.clone(),
                    created_at: o.now,
                    updated_at: o.now,
                }))
            })
        }
        .await;
        match result {
            // A concurrent duplicate (same key, or same hold) won the race.
            Err(StoreError::Database(e)) if is_unique_violation(&e) => {
                match self.order_by_key(&o.user_id, &o.idempotency_key).await? {
                    Some(existing) if existing.request_hash == o.request_hash => {
                        Ok(CheckoutStart::Existing(existing))
                    }
                    Some(_) => Ok(CheckoutStart::KeyReused),
                    None => Ok(CheckoutStart::HoldTaken),
                }
            }
            // A concurrent duplicate with the same key committed between the look-up above
            // and this transaction, and took the hold: answer with its order.
            Ok(CheckoutStart::HoldTaken) => {
                match self.order_by_key(&o.user_id, &o.idempotency_key).await? {
                    Some(existing) if existing.request_hash == o.request_hash => {
                        Ok(CheckoutStart::Existing(existing))
                    }
                    Some(_) => Ok(CheckoutStart::KeyReused),
                    None => Ok(CheckoutStart::HoldTaken),
                }
            }
            other => other,
        }
    }

    async fn order_by_key(&self, user: &str, key: &str) -> Result<Option<OrderRow>, StoreError> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {ORDER_COLUMNS} FROM orders WHERE user_id = $1 AND idempotency_key = $2"
        ));
        Ok(with_pool!(self, |pool| {
            sqlx::query_as(sql)
                .bind(user)
                .bind(key)
                .fetch_optional(pool)
                .await?
        }))
    }

    /// One order.
    pub async fn order(&self, id: &str) -> Result<Option<OrderRow>, StoreError> {
        let sql = sqlx::AssertSqlSafe(format!("SELECT {ORDER_COLUMNS} FROM orders WHERE id = $1"));
        Ok(with_pool!(self, |pool| sqlx::query_as(sql)
            .bind(id)
            .fetch_optional(pool)
            .await?))
    }

    /// A buyer's orders, newest first.
    pub async fn orders_of_user(&self, user: &str) -> Result<Vec<OrderRow>, StoreError> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {ORDER_COLUMNS} FROM orders WHERE user_id = $1 ORDER BY created_at DESC, id"
        ));
        Ok(with_pool!(self, |pool| sqlx::query_as(sql)
            .bind(user)
            .fetch_all(pool)
            .await?))
    }

    /// Orders in a non-final state not touched since `before`, for the recovery sweep.
    pub async fn unfinished_orders(&self, before: i64) -> Result<Vec<OrderRow>, StoreError> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {ORDER_COLUMNS} FROM orders WHERE status IN \
             ('pending', 'authorized', 'captured', 'refund_pending') AND updated_at <= $1 \
             ORDER BY updated_at LIMIT 200"
        ));
        Ok(with_pool!(self, |pool| sqlx::query_as(sql)
            .bind(before)
            .fetch_all(pool)
            .await?))
    }

    /// Moves an order from `from` to `to` (recording the intent or failure); false if it
    /// was not in `from` any more.
    pub async fn advance_order(
        &self,
        id: &str,
        from: &str,
        to: &str,
        intent_id: Option<&str>,
        failure: Option<&str>,
        now: i64,
    ) -> Result<bool, StoreError> {
        let n = with_pool!(self, |pool| {
            sqlx::query(
                "UPDATE orders SET status = $3, intent_id = COALESCE($4, intent_id), \
                 failure = COALESCE($5, failure), updated_at = $6 WHERE id = $1 AND status = $2",
            )
            .bind(id)
            .bind(from)
            .bind(to)
            .bind(intent_id)
            .bind(failure)
            .bind(now)
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(n == 1)
    }

    /// Counts a provider attempt that ended with an unknown outcome.
    pub async fn note_attempt(&self, id: &str, now: i64) -> Result<(), StoreError> {
        with_pool!(self, |pool| {
            sqlx::query("UPDATE orders SET attempts = attempts + 1, updated_at = $2 WHERE id = $1")
                .bind(id)
                .bind(now)
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// Issues the tickets of a captured order and queues its confirmation, in one
    /// transaction: `captured → completed`, hold `converting → converted`. False if the order
    /// was not `captured` (another worker issued it).
    pub async fn issue_tickets(
        &self,
        order: &OrderRow,
        issuer: &crate::issuing::Issuer,
        now: i64,
    ) -> Result<bool, StoreError> {
        with_pool!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            let moved = sqlx::query(
                "UPDATE orders SET status = 'completed', updated_at = $2 \
                 WHERE id = $1 AND status = 'captured'",
            )
            .bind(&order.id)
            .bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if moved == 0 {
                return Ok(false);
            }
            let converted = sqlx::query(
                "UPDATE holds SET status = 'converted' WHERE id = $1 AND status = 'converting'",
            )
            .bind(&order.hold_id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if converted == 0 {
                // The hold's stock went back on sale (it cannot while converting: every way
                // out of `converting` is this one or a compensation of this order). Issuing
                // now would sell its seats twice; the caller compensates the capture.
                return Err(StoreError::Conflict(
                    "the order's hold is no longer reserved",
                ));
            }
            let lines: Vec<(String, i64, i64)> = sqlx::query_as(
                "SELECT ticket_type_id, quantity, unit_price_minor FROM hold_allocations \
                 WHERE hold_id = $1 ORDER BY ticket_type_id, bucket",
            )
            .bind(&order.hold_id)
            .fetch_all(&mut *tx)
            .await?;
            let mut ids = Vec::new();
            for (ticket_type, quantity, price) in lines {
                for _ in 0..quantity {
                    let id = uuid::Uuid::now_v7().to_string();
                    let credential = issuer.credential(&id, &ticket_type)?;
                    sqlx::query(
                        "INSERT INTO tickets (id, order_id, event_id, ticket_type_id, holder_id, \
                         price_minor, status, credential, created_at) \
                         VALUES ($1, $2, $3, $4, $5, $6, 'valid', $8, $7)",
                    )
                    .bind(&id)
                    .bind(&order.id)
                    .bind(&order.event_id)
                    .bind(&ticket_type)
                    .bind(&order.user_id)
                    .bind(price)
                    .bind(now)
                    .bind(&credential)
                    .execute(&mut *tx)
                    .await?;
                    ids.push(id);
                }
            }
            let payload = serde_json::json!({
                "orderId": order.id, "userId": order.user_id, "eventId": order.event_id,
                "tickets": ids, "totalMinor": order.total_minor, "currency": order.currency,
            });
            sqlx::query(
                "INSERT INTO outbox (id, topic, payload, created_at, next_attempt_at) \
                 VALUES ($1, 'order.completed', $2, $3, $3)",
            )
            .bind(uuid::Uuid::now_v7().to_string())
            .bind(payload.to_string())
            .bind(now)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(true)
        })
    }

    /// Tickets of an order.
    pub async fn tickets_of_order(&self, order_id: &str) -> Result<Vec<TicketRow>, StoreError> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {TICKET_COLUMNS} FROM tickets WHERE order_id = $1 ORDER BY id"
        ));
        Ok(with_pool!(self, |pool| sqlx::query_as(sql)
            .bind(order_id)
            .fetch_all(pool)
            .await?))
    }

    /// Tickets a user holds, newest first.
    pub async fn tickets_of_user(&self, user: &str) -> Result<Vec<TicketRow>, StoreError> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {TICKET_COLUMNS} FROM tickets WHERE holder_id = $1 ORDER BY created_at DESC, id"
        ));
        Ok(with_pool!(self, |pool| sqlx::query_as(sql)
            .bind(user)
            .fetch_all(pool)
            .await?))
    }

    /// Revokes the order's valid tickets among `ticket_ids` (all of them when empty), returns
    /// their stock to sale, records their revocations for scanners and a pending refund of
    /// their price — one transaction. A `buyer_refund` refuses tickets already admitted at a
    /// door.
    pub async fn begin_refund(
        &self,
        order_id: &str,
        ticket_ids: &[String],
        buyer_refund: bool,
        now: i64,
        actor: &Actor,
    ) -> Result<RefundStart, StoreError> {
        with_pool!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            let sql = sqlx::AssertSqlSafe(format!(
                "SELECT {TICKET_COLUMNS} FROM tickets WHERE order_id = $1 AND status = 'valid' \
                 ORDER BY id"
            ));
            let valid: Vec<TicketRow> = sqlx::query_as(sql)
                .bind(order_id)
                .fetch_all(&mut *tx)
                .await?;
            let chosen: Vec<TicketRow> = valid
                .into_iter()
                .filter(|t| ticket_ids.is_empty() || ticket_ids.contains(&t.id))
                .collect();
            if chosen.is_empty() {
                return Ok(RefundStart::NothingLeft);
            }
            if buyer_refund {
                // A ticket that went through a door was used: its buyer cannot give it back
                // (its seat would go on sale again). The organizer still may.
                let used = sqlx::AssertSqlSafe(format!(
                    "SELECT DISTINCT s.ticket_id FROM scans s \
                     JOIN checkin_lists l ON l.id = s.list_id \
                     WHERE l.event_id = $1 AND s.decision = 'admitted' AND s.ticket_id IN ({})",
                    super::catalog::placeholders(2, chosen.len())
                ));
                let mut q = sqlx::query_as::<_, (String,)>(used).bind(&chosen[0].event_id);
                for t in &chosen {
                    q = q.bind(&t.id);
                }
                if !q.fetch_all(&mut *tx).await?.is_empty() {
                    return Ok(RefundStart::AlreadyUsed);
                }
            }
            let mut amount = 0;
            let mut revoked = 0;
            for t in &chosen {
                // Conditional on the status read above: a concurrent refund (the buyer and
                // the organizer at once, or two replicas) that revoked the ticket first wins
                // it, and this one neither revokes it again nor returns its stock twice.
                let won = sqlx::query(
                    "UPDATE tickets SET status = 'revoked', revoked_at = $2 \
                     WHERE id = $1 AND status = 'valid'",
                )
                .bind(&t.id)
                .bind(now)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if won == 0 {
                    continue;
                }
                revoked += 1;
                amount += t.price_minor;
                let (seq,): (i64,) = sqlx::query_as(
                    "UPDATE counters SET value = value + 1 WHERE name = 'revocation_seq' \
                     RETURNING value",
                )
                .fetch_one(&mut *tx)
                .await?;
                sqlx::query(
                    "INSERT INTO revocations (seq, ticket_id, event_id, revoked_at) \
                     VALUES ($1, $2, $3, $4)",
                )
                .bind(seq)
                .bind(&t.id)
                .bind(&t.event_id)
                .bind(now)
                .execute(&mut *tx)
                .await?;
                sqlx::query(
                    "UPDATE inventory_buckets SET available = available + 1 \
                     WHERE ticket_type_id = $1 AND bucket = 0",
                )
                .bind(&t.ticket_type_id)
                .execute(&mut *tx)
                .await?;
            }
            if revoked == 0 {
                return Ok(RefundStart::NothingLeft);
            }
            let refund = RefundRow {
                id: uuid::Uuid::now_v7().to_string(),
                order_id: order_id.to_owned(),
                amount_minor: amount,
                status: "pending".into(),
            };
            sqlx::query(
                "INSERT INTO refunds (id, order_id, amount_minor, status, created_at, updated_at) \
                 VALUES ($1, $2, $3, 'pending', $4, $4)",
            )
            .bind(&refund.id)
            .bind(order_id)
            .bind(amount)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            let entry = AuditEntry::new(
                actor,
                AuditAction::RefundStarted,
                "order",
                Some(order_id),
                now,
            )
            .in_event(&chosen[0].event_id)
            .detail(format!("refund={} amount_minor={amount}", refund.id));
            audit!(&mut *tx, &entry)?;
            tx.commit().await?;
            Ok(RefundStart::Started(refund))
        })
    }

    /// Marks a refund done and adds it to the order; the order becomes `refunded` when no
    /// valid ticket is left.
    pub async fn finish_refund(&self, refund: &RefundRow, now: i64) -> Result<bool, StoreError> {
        with_pool!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            let done = sqlx::query(
                "UPDATE refunds SET status = 'done', updated_at = $2 WHERE id = $1 AND status = 'pending'",
            )
            .bind(&refund.id)
            .bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if done == 0 {
                return Ok(false);
            }
            sqlx::query(
                "UPDATE orders SET refunded_minor = refunded_minor + $2, updated_at = $3, \
                 status = CASE WHEN NOT EXISTS (SELECT 1 FROM tickets t WHERE t.order_id = orders.id \
                 AND t.status = 'valid') THEN 'refunded' ELSE status END WHERE id = $1",
            )
            .bind(&refund.order_id)
            .bind(refund.amount_minor)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            let payload = serde_json::json!({
                "orderId": refund.order_id, "refundId": refund.id,
                "amountMinor": refund.amount_minor,
            });
            sqlx::query(
                "INSERT INTO outbox (id, topic, payload, created_at, next_attempt_at) \
                 VALUES ($1, 'order.refunded', $2, $3, $3)",
            )
            .bind(uuid::Uuid::now_v7().to_string())
            .bind(payload.to_string())
            .bind(now)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(true)
        })
    }

    /// Completed orders of cancelled events that still hold valid tickets.
    pub async fn orders_of_cancelled_events(
        &self,
        event_id: Option<&str>,
    ) -> Result<Vec<String>, StoreError> {
        let rows: Vec<(String,)> = with_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT o.id FROM orders o JOIN events e ON e.id = o.event_id \
                 WHERE e.status = 'cancelled' AND o.status = 'completed' \
                 AND ($1 IS NULL OR o.event_id = $1) AND EXISTS (SELECT 1 FROM tickets t \
                 WHERE t.order_id = o.id AND t.status = 'valid') ORDER BY o.created_at LIMIT 500",
            )
            .bind(event_id)
            .fetch_all(pool)
            .await?
        });
        Ok(rows.into_iter().map(|(id,)| id).collect())
    }

    /// Refunds not yet confirmed by the provider.
    pub async fn pending_refunds(&self) -> Result<Vec<RefundRow>, StoreError> {
        Ok(with_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT id, order_id, amount_minor, status FROM refunds WHERE status = 'pending' \
                 ORDER BY created_at LIMIT 200",
            )
            .fetch_all(pool)
            .await?
        }))
    }

    /// Marks an order whose whole payment was given back (compensation) as refunded.
    pub async fn close_refunded(&self, order: &OrderRow, now: i64) -> Result<bool, StoreError> {
        let n = with_pool!(self, |pool| {
            sqlx::query(
                "UPDATE orders SET status = 'refunded', refunded_minor = total_minor, \
                 updated_at = $2 WHERE id = $1 AND status = 'refund_pending'",
            )
            .bind(&order.id)
            .bind(now)
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(n == 1)
    }
}

/// One ticket type's line of a sales report.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SalesByType {
    /// Ticket type.
    pub ticket_type_id: String,
    /// Its name.
    pub name: String,
    /// Capacity.
    pub capacity: i64,
    /// Valid tickets.
    pub sold: i64,
    /// Revoked (refunded) tickets.
    pub refunded: i64,
    /// Tickets in active or checking-out holds.
    pub held: i64,
    /// Price of valid tickets, minor units.
    pub revenue_minor: i64,
}

/// One day's line of a sales report.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SalesByDay {
    /// Day start, Unix seconds (UTC).
    pub day: i64,
    /// Tickets issued that day and still valid.
    pub sold: i64,
    /// Their price, minor units.
    pub revenue_minor: i64,
}

impl Db {
    /// Sales of an event by ticket type.
    pub async fn sales_by_type(&self, event_id: &str) -> Result<Vec<SalesByType>, StoreError> {
        Ok(with_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT tt.id AS ticket_type_id, tt.name, tt.capacity, \
                 CAST((SELECT COUNT(*) FROM tickets t WHERE t.ticket_type_id = tt.id \
                   AND t.status = 'valid') AS BIGINT) AS sold, \
                 CAST((SELECT COUNT(*) FROM tickets t WHERE t.ticket_type_id = tt.id \
                   AND t.status = 'revoked') AS BIGINT) AS refunded, \
                 CAST((SELECT COALESCE(SUM(a.quantity), 0) FROM hold_allocations a \
                   JOIN holds h ON h.id = a.hold_id WHERE a.ticket_type_id = tt.id \
                   AND h.status IN ('active', 'converting')) AS BIGINT) AS held, \
                 CAST((SELECT COALESCE(SUM(t.price_minor), 0) FROM tickets t \
                   WHERE t.ticket_type_id = tt.id AND t.status = 'valid') AS BIGINT) AS revenue_minor \
                 FROM ticket_types tt WHERE tt.event_id = $1 ORDER BY tt.position",
            )
            .bind(event_id)
            .fetch_all(pool)
            .await?
        }))
    }

    /// Sales of an event by UTC day of issuance.
    pub async fn sales_by_day(&self, event_id: &str) -> Result<Vec<SalesByDay>, StoreError> {
        Ok(with_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT CAST(created_at - (created_at % 86400) AS BIGINT) AS day, \
                 CAST(COUNT(*) AS BIGINT) AS sold, \
                 CAST(COALESCE(SUM(price_minor), 0) AS BIGINT) AS revenue_minor \
                 FROM tickets WHERE event_id = $1 AND status = 'valid' \
                 GROUP BY created_at - (created_at % 86400) ORDER BY day",
            )
            .bind(event_id)
            .fetch_all(pool)
            .await?
        }))
    }
}
