//! Holds: stock reserved for a buyer until checkout or expiry. Stock never goes below zero
//! whatever the concurrency: every decrement is a conditional `UPDATE … WHERE available >= n`
//! on one bucket row, backed by a `CHECK (available >= 0)`.

use rand::Rng;

use super::{BeginWrite, Db, StoreError, is_unique_violation};
use crate::with_pool;

/// A validated hold request.
#[derive(Debug, Clone)]
pub struct NewHold {
    /// Hold id.
    pub id: String,
    /// Buyer.
    pub user_id: String,
    /// Event.
    pub event_id: String,
    /// (ticket type, quantity, unit price), sorted by ticket type so that concurrent holds
    /// lock rows in one order.
    pub items: Vec<(String, i64, i64)>,
    /// The most tickets of each item's type one buyer may hold at once (the type's
    /// `maxPerOrder`), in the order of `items`.
    pub limits: Vec<i64>,
    /// Currency of every item.
    pub currency: String,
    /// Caller's idempotency key.
    pub idempotency_key: String,
    /// Fingerprint of the request, to tell a retry from a different request.
    pub request_hash: String,
    /// Unix seconds.
    pub now: i64,
    /// Unix seconds.
    pub expires_at: i64,
}

/// A stored hold.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct HoldRow {
    /// UUID.
    pub id: String,
    /// Buyer.
    pub user_id: String,
    /// Event.
    pub event_id: String,
    /// `active`, `released`, `expired` or `converted`.
    pub status: String,
    /// Sum of quantity × unit price.
    pub total_minor: i64,
    /// ISO 4217.
    pub currency: String,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds.
    pub expires_at: i64,
    /// The caller's key.
    pub idempotency_key: String,
    /// Fingerprint of the creating request.
    pub request_hash: String,
}

/// One line of a hold.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct HoldLine {
    /// Ticket type.
    pub ticket_type_id: String,
    /// Tickets held.
    pub quantity: i64,
    /// Price of one.
    pub unit_price_minor: i64,
}

/// How a hold attempt ended.
#[derive(Debug)]
pub enum HoldOutcome {
    /// Stock reserved (or the same request was already answered: the original hold), with
    /// its lines.
    Held(HoldRow, Vec<HoldLine>),
    /// Not enough stock for this ticket type.
    SoldOut(String),
    /// The key was used before for a different request.
    KeyReused,
    /// The buyer's holds (active or being paid) would exceed the ticket type's
    /// `maxPerOrder`: (ticket type, tickets the buyer already holds, the limit).
    OverLimit(String, i64, i64),
}

/// The statement that makes a buyer's concurrent holds queue behind each other while one of
/// them counts what the buyer holds. On PostgreSQL, a row lock on the buyer (`NO KEY`, so
/// that it never conflicts with the key-share locks the holds' foreign keys take); SQLite
/// runs one write transaction at a time already.
pub(super) fn buyer_lock_sql(db: &Db, buyers: usize) -> Option<String> {
    match db {
        Db::Postgres(_) => Some(format!(
            "SELECT id FROM users WHERE id IN ({}) ORDER BY id FOR NO KEY UPDATE",
            super::catalog::placeholders(1, buyers)
        )),
        Db::Sqlite(_) => None,
    }
}

/// What the buyers hold now, per (buyer, ticket type) among the given types: active holds
/// not yet past their expiry and holds being paid for. Placeholders: `$1` the time, then
/// the buyers, then the types.
pub(super) fn holdings_sql(buyers: usize, types: usize) -> String {
    format!(
        "SELECT h.user_id, a.ticket_type_id, CAST(SUM(a.quantity) AS BIGINT) \
         FROM holds h JOIN hold_allocations a ON a.hold_id = h.id \
         WHERE h.user_id IN ({}) AND a.ticket_type_id IN ({}) \
         AND (h.status = 'converting' OR (h.status = 'active' AND h.expires_at > $1)) \
         GROUP BY h.user_id, a.ticket_type_id",
        super::catalog::placeholders(2, buyers),
        super::catalog::placeholders(2 + buyers, types)
    )
}

const HOLD_COLUMNS: &str = "id, user_id, event_id, status, total_minor, currency, created_at, \
     expires_at, idempotency_key, request_hash";

/// Attempts before giving up on deadlocks between concurrent multi-bucket holds.
const ATTEMPTS: usize = 4;

fn is_retryable(e: &sqlx::Error) -> bool {
    // PostgreSQL deadlock_detected / serialization_failure.
    matches!(e, sqlx::Error::Database(d) if matches!(d.code().as_deref(), Some("40P01" | "40001")))
}

impl Db {
    /// Reserves the items atomically, or nothing. Idempotent by (user, key).
    pub async fn create_hold(&self, hold: &NewHold) -> Result<HoldOutcome, StoreError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            match self.try_create_hold(hold).await {
                Err(StoreError::Database(e)) if is_unique_violation(&e) => {
                    // A concurrent retry with the same key won the race: answer with its hold.
                    return self.replay_hold(hold).await?.ok_or(StoreError::Database(e));
                }
                Err(StoreError::Database(e)) if is_retryable(&e) && attempt < ATTEMPTS => continue,
                other => return other,
            }
        }
    }

    async fn replay_hold(&self, hold: &NewHold) -> Result<Option<HoldOutcome>, StoreError> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {HOLD_COLUMNS} FROM holds WHERE user_id = $1 AND idempotency_key = $2"
        ));
        let existing: Option<HoldRow> = with_pool!(self, |pool| {
            sqlx::query_as(sql)
                .bind(&hold.user_id)
                .bind(&hold.idempotency_key)
                .fetch_optional(pool)
                .await?
        });
        match existing {
            None => Ok(None),
            Some(row) if row.request_hash == hold.request_hash => {
                let lines = self.hold_lines(&row.id).await?;
                Ok(Some(HoldOutcome::Held(row, lines)))
            }
            Some(_) => Ok(Some(HoldOutcome::KeyReused)),
        }
    }

    async fn try_create_hold(&self, hold: &NewHold) -> Result<HoldOutcome, StoreError> {
        match self.insert_hold(hold).await? {
            Some(outcome) => Ok(outcome),
            None => self.replay_hold(hold).await?.ok_or(StoreError::NotFound),
        }
    }

    /// The hold's transaction; `None` when (buyer, key) was already used.
    async fn insert_hold(&self, hold: &NewHold) -> Result<Option<HoldOutcome>, StoreError> {
        let total: i64 = hold.items.iter().map(|(_, q, p)| q * p).sum();
        let lock_buyer = buyer_lock_sql(self, 1).map(sqlx::AssertSqlSafe);
        let holdings = sqlx::AssertSqlSafe(holdings_sql(1, hold.items.len()));
        with_pool!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            // The idempotency check is the insert itself: a repeated (buyer, key) inserts
            // nothing, and the transaction is dropped before any stock is touched.
            let inserted = sqlx::query(
                "INSERT INTO holds (id, user_id, event_id, status, total_minor, currency, \
                 idempotency_key, request_hash, created_at, expires_at) \
                 VALUES ($1, $2, $3, 'active', $4, $5, $6, $7, $8, $9) \
                 ON CONFLICT (user_id, idempotency_key) DO NOTHING",
            )
            .bind(&hold.id)
            .bind(&hold.user_id)
            .bind(&hold.event_id)
            .bind(total)
            .bind(&hold.currency)
            .bind(&hold.idempotency_key)
            .bind(&hold.request_hash)
            .bind(hold.now)
            .bind(hold.expires_at)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if inserted == 0 {
                return Ok(None);
            }
            // The buyer's limit, counted under the buyer's lock so that two holds of one
            // buyer racing on two replicas cannot both pass it.
            if let Some(lock) = lock_buyer {
                sqlx::query(lock)
                    .bind(&hold.user_id)
                    .execute(&mut *tx)
                    .await?;
            }
            let mut q = sqlx::query_as::<_, (String, String, i64)>(holdings)
                .bind(hold.now)
                .bind(&hold.user_id);
            for (ticket_type, _, _) in &hold.items {
                q = q.bind(ticket_type);
            }
            let held = q.fetch_all(&mut *tx).await?;
            for ((ticket_type, quantity, _), limit) in hold.items.iter().zip(&hold.limits) {
                let already = held
                    .iter()
                    .find(|(_, t, _)| t == ticket_type)
                    .map_or(0, |h| h.2);
                if already + quantity > *limit {
                    return Ok(Some(HoldOutcome::OverLimit(
                        ticket_type.clone(),
                        already,
                        *limit,
                    )));
                }
            }
            for (ticket_type, quantity, price) in &hold.items {
                let buckets: Vec<(i64, i64)> = sqlx::query_as(
                    "SELECT bucket, available FROM inventory_buckets WHERE ticket_type_id = $1 \
                     ORDER BY bucket",
                )
                .bind(ticket_type)
                .fetch_all(&mut *tx)
                .await?;
                if buckets.is_empty() || buckets.iter().map(|b| b.1).sum::<i64>() < *quantity {
                    return Ok(Some(HoldOutcome::SoldOut(ticket_type.clone())));
                }
                let n = buckets.len();
                let start = rand::rng().random_range(0..n);
                // Fast path: one bucket, picked at random, holds the whole quantity.
                let mut taken: Vec<(i64, i64)> = Vec::new();
                for k in 0..n {
                    let bucket = buckets[(start + k) % n].0;
                    let hit = sqlx::query(
                        "UPDATE inventory_buckets SET available = available - $3 \
                         WHERE ticket_type_id = $1 AND bucket = $2 AND available >= $3",
                    )
                    .bind(ticket_type)
                    .bind(bucket)
                    .bind(*quantity)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                    if hit == 1 {
                        taken.push((bucket, *quantity));
                        break;
                    }
                }
                // Slow path, near sell-out: gather the quantity across buckets.
                let mut remaining = if taken.is_empty() { *quantity } else { 0 };
                for k in 0..n {
                    if remaining == 0 {
                        break;
                    }
                    let bucket = buckets[(start + k) % n].0;
                    let (available,): (i64,) = sqlx::query_as(
                        "SELECT available FROM inventory_buckets \
                         WHERE ticket_type_id = $1 AND bucket = $2",
                    )
                    .bind(ticket_type)
                    .bind(bucket)
                    .fetch_one(&mut *tx)
                    .await?;
                    let take = available.min(remaining);
                    if take == 0 {
                        continue;
                    }
                    let hit = sqlx::query(
                        "UPDATE inventory_buckets SET available = available - $3 \
                         WHERE ticket_type_id = $1 AND bucket = $2 AND available >= $3",
                    )
                    .bind(ticket_type)
                    .bind(bucket)
                    .bind(take)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                    if hit == 1 {
                        taken.push((bucket, take));
                        remaining -= take;
                    }
                }
                if remaining > 0 {
                    // Dropping the transaction rolls back every decrement made so far.
                    return Ok(Some(HoldOutcome::SoldOut(ticket_type.clone())));
                }
                for (bucket, qty) in taken {
                    sqlx::query(
                        "INSERT INTO hold_allocations \
                         (hold_id, ticket_type_id, bucket, quantity, unit_price_minor) \
                         VALUES ($1, $2, $3, $4, $5)",
                    )
                    .bind(&hold.id)
                    .bind(ticket_type)
                    .bind(bucket)
                    .bind(qty)
                    .bind(*price)
                    .execute(&mut *tx)
                    .await?;
                }
            }
            tx.commit().await?;
            Ok(Some(HoldOutcome::Held(
                HoldRow {
                    id: hold.id.clone(),
                    user_id: hold.user_id.clone(),
                    event_id: hold.event_id.clone(),
                    status: "active".into(),
                    total_minor: total,
                    currency: hold.currency.clone(),
                    created_at: hold.now,
                    expires_at: hold.expires_at,
                    idempotency_key: hold.idempotency_key.clone(),
                    request_hash: hold.request_hash.clone(),
                },
                hold.items
                    .iter()
                    .map(|(t, q, p)| HoldLine {
                        ticket_type_id: t.clone(),
                        quantity: *q,
                        unit_price_minor: *p,
                    })
                    .collect(),
            )))
        })
    }

    /// One hold.
    pub async fn hold(&self, id: &str) -> Result<Option<HoldRow>, StoreError> {
        let sql = sqlx::AssertSqlSafe(format!("SELECT {HOLD_COLUMNS} FROM holds WHERE id = $1"));
        Ok(with_pool!(self, |pool| {
            sqlx::query_as(sql).bind(id).fetch_optional(pool).await?
        }))
    }

    /// A hold's lines, merged across buckets, in ticket-type order.
    pub async fn hold_lines(&self, hold_id: &str) -> Result<Vec<HoldLine>, StoreError> {
        Ok(with_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT ticket_type_id, CAST(SUM(quantity) AS BIGINT) AS quantity, \
                 MAX(unit_price_minor) AS unit_price_minor FROM hold_allocations \
                 WHERE hold_id = $1 GROUP BY ticket_type_id ORDER BY ticket_type_id",
            )
            .bind(hold_id)
            .fetch_all(pool)
            .await?
        }))
    }

    /// Ends an active hold (`released` by its buyer, `expired` by the sweeper) and returns its
    /// stock to the buckets it came from. Returns false if it was not active: a hold being
    /// checked out can neither be released nor expire under the payment.
    pub async fn end_hold(&self, id: &str, status: &'static str) -> Result<bool, StoreError> {
        self.end_hold_from(id, "active", status, None).await
    }

    /// Gives back the stock of a hold whose checkout failed (declined, or refunded in
    /// compensation).
    pub async fn release_converting_hold(&self, id: &str) -> Result<bool, StoreError> {
        self.end_hold_from(id, "converting", "released", None).await
    }

    /// Closes an order that will issue no ticket (`from` → `to`, `declined` or
    /// `refund_pending`, with its reason) and gives its hold's stock back, in one
    /// transaction: no crash between the two can leave a closed order keeping its seats.
    /// False if the order was not in `from` any more (another worker moved it).
    pub async fn close_order_releasing_hold(
        &self,
        order: &super::orders::OrderRow,
        from: &str,
        to: &str,
        failure: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        let closing = OrderClosing {
            order_id: &order.id,
            from,
            to,
            failure,
            now,
        };
        self.end_hold_from(&order.hold_id, "converting", "released", Some(closing))
            .await
    }

    async fn end_hold_from(
        &self,
        id: &str,
        from: &'static str,
        status: &'static str,
        order: Option<OrderClosing<'_>>,
    ) -> Result<bool, StoreError> {
        with_pool!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            if let Some(o) = &order {
                let moved = sqlx::query(
                    "UPDATE orders SET status = $3, failure = $4, updated_at = $5 \
                     WHERE id = $1 AND status = $2",
                )
                .bind(o.order_id)
                .bind(o.from)
                .bind(o.to)
                .bind(o.failure)
                .bind(o.now)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if moved == 0 {
                    return Ok(false);
                }
            }
            let ended = sqlx::query("UPDATE holds SET status = $2 WHERE id = $1 AND status = $3")
                .bind(id)
                .bind(status)
                .bind(from)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if ended == 0 {
                // With an order to close, closing it still counts (its hold was already
                // released); alone, nothing happened.
                if order.is_some() {
                    tx.commit().await?;
                }
                return Ok(order.is_some());
            }
            let allocations: Vec<(String, i64, i64)> = sqlx::query_as(
                "SELECT ticket_type_id, bucket, quantity FROM hold_allocations WHERE hold_id = $1 \
                 ORDER BY ticket_type_id, bucket",
            )
            .bind(id)
            .fetch_all(&mut *tx)
            .await?;
            for (ticket_type, bucket, quantity) in allocations {
                sqlx::query(
                    "UPDATE inventory_buckets SET available = available + $3 \
                     WHERE ticket_type_id = $1 AND bucket = $2",
                )
                .bind(ticket_type)
                .bind(bucket)
                .bind(quantity)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
            Ok(true)
        })
    }

    /// Expires every active hold whose time is up; returns how many. Run by the sweeper.
    pub async fn expire_holds(&self, now: i64) -> Result<usize, StoreError> {
        Ok(self.expire_due_holds(now).await?.len())
    }

    /// Expires every active hold whose time is up; returns the event of each one expired.
    pub async fn expire_due_holds(&self, now: i64) -> Result<Vec<String>, StoreError> {
        let due: Vec<(String, String)> = with_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT id, event_id FROM holds WHERE status = 'active' AND expires_at <= $1 \
                 ORDER BY expires_at LIMIT 500",
            )
            .bind(now)
            .fetch_all(pool)
            .await?
        });
        let mut expired = Vec::new();
        for (id, event_id) in due {
            if self.end_hold(&id, "expired").await? {
                expired.push(event_id);
            }
        }
        Ok(expired)
    }
}

/// An order's move that travels with its hold's release.
#[derive(Debug)]
struct OrderClosing<'a> {
    order_id: &'a str,
    from: &'a str,
    to: &'a str,
    failure: &'a str,
    now: i64,
}

/// What a hold needs to know about one ticket type.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SaleTerms {
    /// Ticket type.
    pub id: String,
    /// Name.
    pub name: String,
    /// Price, minor units.
    pub price_minor: i64,
    /// ISO 4217.
    pub currency: String,
    /// Unix seconds.
    pub sale_starts_at: i64,
    /// Unix seconds.
    pub sale_ends_at: i64,
    /// Per-order limit.
    pub max_per_order: i64,
}

#[derive(sqlx::FromRow)]
struct SaleRow {
    status: String,
    id: Option<String>,
    name: Option<String>,
    price_minor: Option<i64>,
    currency: Option<String>,
    sale_starts_at: Option<i64>,
    sale_ends_at: Option<i64>,
    max_per_order: Option<i64>,
}

impl Db {
    /// An event's status and its ticket types' sale terms, in one read (the hold path).
    pub async fn sale_terms(
        &self,
        event_id: &str,
    ) -> Result<Option<(String, Vec<SaleTerms>)>, StoreError> {
        let rows: Vec<SaleRow> = with_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT e.status, t.id, t.name, t.price_minor, t.currency, t.sale_starts_at, \
                 t.sale_ends_at, t.max_per_order FROM events e \
                 LEFT JOIN ticket_types t ON t.event_id = e.id WHERE e.id = $1",
            )
            .bind(event_id)
            .fetch_all(pool)
            .await?
        });
        let Some(status) = rows.first().map(|r| r.status.clone()) else {
            return Ok(None);
        };
        let terms = rows
            .into_iter()
            .filter_map(|r| {
                Some(SaleTerms {
                    id: r.id?,
                    name: r.name?,
                    price_minor: r.price_minor?,
                    currency: r.currency?,
                    sale_starts_at: r.sale_starts_at?,
                    sale_ends_at: r.sale_ends_at?,
                    max_per_order: r.max_per_order?,
                })
            })
            .collect();
        Ok(Some((status, terms)))
    }
}

impl Db {
    /// The bare conditional decrement of one bucket (the benchmark reference).
    pub async fn bench_decrement(
        &self,
        ticket_type_id: &str,
        bucket: i64,
    ) -> Result<bool, StoreError> {
        let n = with_pool!(self, |pool| {
            sqlx::query(
                "UPDATE inventory_buckets SET available = available - 1 \
                 WHERE ticket_type_id = $1 AND bucket = $2 AND available >= 1",
            )
            .bind(ticket_type_id)
            .bind(bucket)
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(n == 1)
    }
}

/// An event's status and its ticket types' sale terms, as the hold path reads them.
pub type EventSaleTerms = Option<(String, Vec<SaleTerms>)>;

/// The hold path's read of an event's sale terms, kept for [`SaleTermsCache::TTL`]: at an
/// on-sale every hold asks for the same few rows, and one read a second serves them all.
/// This process forgets an event's entry when it changes the event or its ticket types;
/// a change made through another replica reaches this one within the TTL. Stock is never
/// cached: it moves only through the conditional decrements.
#[derive(Debug, Default)]
pub struct SaleTermsCache {
    entries: std::sync::Mutex<
        std::collections::HashMap<String, (std::time::Instant, std::sync::Arc<EventSaleTerms>)>,
    >,
}

impl SaleTermsCache {
    /// How long a read serves.
    pub const TTL: std::time::Duration = std::time::Duration::from_secs(1);
    /// Entries kept before the cache starts over.
    const CAPACITY: usize = 10_000;

    /// The event's sale terms, from the cache when fresh.
    pub async fn get(
        &self,
        db: &Db,
        event_id: &str,
    ) -> Result<std::sync::Arc<EventSaleTerms>, StoreError> {
        let now = std::time::Instant::now();
        if let Some((at, terms)) = self.lock().get(event_id)
            && now.duration_since(*at) < Self::TTL
        {
            return Ok(terms.clone());
        }
        let terms = std::sync::Arc::new(db.sale_terms(event_id).await?);
        let mut entries = self.lock();
        if entries.len() >= Self::CAPACITY {
            entries.clear();
        }
        entries.insert(event_id.to_owned(), (now, terms.clone()));
        Ok(terms)
    }

    /// Drops the event's entry (after this process changed it).
    pub fn forget(&self, event_id: &str) {
        self.lock().remove(event_id);
    }

    fn lock(
        &self,
    ) -> std::sync::MutexGuard<
        '_,
        std::collections::HashMap<String, (std::time::Instant, std::sync::Arc<EventSaleTerms>)>,
    > {
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}
