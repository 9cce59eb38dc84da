//! Group commit for holds: concurrent hold requests are taken in batches, and one
//! transaction of five statements serves a whole batch — the idempotency insert, one read
//! of the stock, one conditional decrement per touched bucket (a single statement), the
//! allocations and the removal of the holds that found no stock — instead of five or more
//! statements and a commit per hold.
//!
//! Nothing about the guarantees changes: each bucket still moves only through
//! `UPDATE … WHERE available >= n` (backed by `CHECK (available >= 0)`), and the batch
//! checks that every decrement it planned found its stock. When one did not (another
//! replica sold the same bucket between the batch's read and its write), or the batch
//! fails for any reason, the batch is rolled back and each of its holds takes the
//! one-by-one path of [`Db::create_hold`], so a bad request never fails its neighbours.
//!
//! One batch is in flight per process; requests that arrive meanwhile form the next one,
//! so the batch size follows the load (1 when idle, up to [`MAX_BATCH`] at a spike).

use std::collections::HashMap;

use rand::Rng;
use tokio::sync::{mpsc, oneshot};

use super::holds::{HoldLine, HoldOutcome, HoldRow, NewHold};
use super::{BeginWrite, Db, StoreError};
use crate::with_pool;

/// Most holds in one transaction.
pub const MAX_BATCH: usize = 128;

type Reply = oneshot::Sender<Result<HoldOutcome, StoreError>>;

/// The hold path of one server process: queues hold requests for the batch writer.
#[derive(Debug)]
pub struct HoldBatcher {
    db: Db,
    batching: bool,
    queue: std::sync::OnceLock<mpsc::UnboundedSender<(NewHold, Reply)>>,
}

impl HoldBatcher {
    /// A batcher over `db`; its writer task starts with the first hold. Without
    /// `batching`, each hold takes its own transaction as it comes.
    pub fn new(db: Db, batching: bool) -> HoldBatcher {
        HoldBatcher {
            db,
            batching,
            queue: std::sync::OnceLock::new(),
        }
    }

    /// Reserves the items atomically, or nothing; idempotent by (buyer, key), exactly as
    /// [`Db::create_hold`].
    pub async fn create_hold(&self, hold: NewHold) -> Result<HoldOutcome, StoreError> {
        if !self.batching {
            return self.db.create_hold(&hold).await;
        }
        let queue = self.queue.get_or_init(|| {
            let (tx, rx) = mpsc::unbounded_channel();
            tokio::spawn(writer(self.db.clone(), rx));
            tx
        });
        let (reply, answer) = oneshot::channel();
        if queue.send((hold, reply)).is_err() {
            return Err(StoreError::Conflict("the hold writer has stopped"));
        }
        answer
            .await
            .map_err(|_| StoreError::Conflict("the hold writer has stopped"))?
    }
}

async fn writer(db: Db, mut queue: mpsc::UnboundedReceiver<(NewHold, Reply)>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while queue.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let jobs = std::mem::take(&mut batch);
        if jobs.len() == 1 {
            for (hold, reply) in jobs {
                let _ = reply.send(db.create_hold(&hold).await);
            }
            continue;
        }
        let holds: Vec<&NewHold> = jobs.iter().map(|(h, _)| h).collect();
        match db.create_holds_batch(&holds).await {
            Ok(outcomes) => {
                for ((hold, reply), outcome) in jobs.into_iter().zip(outcomes) {
                    let outcome = match outcome {
                        Some(outcome) => Ok(outcome),
                        // The key was taken (by an earlier request or one in this batch).
                        None => db.create_hold(&hold).await,
                    };
                    let _ = reply.send(outcome);
                }
            }
            Err(e) => {
                tracing::debug!(error = ?e, size = jobs.len(), "hold batch fell back to one by one");
                for (hold, reply) in jobs {
                    let _ = reply.send(db.create_hold(&hold).await);
                }
            }
        }
    }
}

/// Stock of one bucket as the batch read it, and what the batch takes from it.
#[derive(Debug, Clone, Copy)]
struct Bucket {
    bucket: i64,
    available: i64,
    taken: i64,
}

/// Takes `quantity` from `buckets` (one bucket at random if one holds it all, else gathered
/// across buckets), or nothing. Returns the (bucket index, quantity) taken.
fn allocate(buckets: &mut [Bucket], quantity: i64) -> Option<Vec<(usize, i64)>> {
    let n = buckets.len();
    if n == 0 || buckets.iter().map(|b| b.available).sum::<i64>() < quantity {
        return None;
    }
    let start = rand::rng().random_range(0..n);
    for k in 0..n {
        let i = (start + k) % n;
        if buckets[i].available >= quantity {
            buckets[i].available -= quantity;
            buckets[i].taken += quantity;
            return Some(vec![(i, quantity)]);
        }
    }
    let mut remaining = quantity;
    let mut taken = Vec::new();
    for k in 0..n {
        let i = (start + k) % n;
        let take = buckets[i].available.min(remaining);
        if take > 0 {
            buckets[i].available -= take;
            buckets[i].taken += take;
            taken.push((i, take));
            remaining -= take;
        }
        if remaining == 0 {
            break;
        }
    }
    Some(taken)
}

/// A hold the batch could not place: what it had taken goes back.
fn give_back(stock: &mut HashMap<String, Vec<Bucket>>, taken: &[(String, usize, i64)]) {
    for (ticket_type, i, quantity) in taken {
        if let Some(bucket) = stock.get_mut(ticket_type).and_then(|b| b.get_mut(*i)) {
            bucket.available += quantity;
            bucket.taken -= quantity;
        }
    }
}

/// `($1, $2, …), ($k, …), …`: `rows` tuples of `width` numbered placeholders.
fn tuples(rows: usize, width: usize) -> String {
    (0..rows)
        .map(|r| {
            let cells: Vec<String> = (1..=width).map(|c| format!("${}", r * width + c)).collect();
            format!("({})", cells.join(", "))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

impl Db {
    /// One transaction for many holds. Per hold, in order: `Some(Held)` or
    /// `Some(SoldOut)`, or `None` when its (buyer, key) was already taken (the caller
    /// answers those through [`Db::create_hold`], which replays or refuses the key). An
    /// error rolls everything back.
    pub async fn create_holds_batch(
        &self,
        holds: &[&NewHold],
    ) -> Result<Vec<Option<HoldOutcome>>, StoreError> {
        let totals: Vec<i64> = holds
            .iter()
            .map(|h| h.items.iter().map(|(_, q, p)| q * p).sum())
            .collect();
        let mut types: Vec<&str> = holds
            .iter()
            .flat_map(|h| h.items.iter().map(|(t, _, _)| t.as_str()))
            .collect();
        types.sort_unstable();
        types.dedup();
        let insert_holds = sqlx::AssertSqlSafe(format!(
            "INSERT INTO holds (id, user_id, event_id, status, total_minor, currency, \
             idempotency_key, request_hash, created_at, expires_at) VALUES {} \
             ON CONFLICT (user_id, idempotency_key) DO NOTHING RETURNING id",
            (0..holds.len())
                .map(|r| {
                    let b = r * 9;
                    format!(
                        "(${}, ${}, ${}, 'active', ${}, ${}, ${}, ${}, ${}, ${})",
                        b + 1,
                        b + 2,
                        b + 3,
                        b + 4,
                        b + 5,
                        b + 6,
                        b + 7,
                        b + 8,
                        b + 9
                    )
                })
                .collect::<Vec<_>>()
                .join(", ")
        ));
        let mut buyers: Vec<&str> = holds.iter().map(|h| h.user_id.as_str()).collect();
        buyers.sort_unstable();
        buyers.dedup();
        let lock_buyers = super::holds::buyer_lock_sql(self, buyers.len()).map(sqlx::AssertSqlSafe);
        let read_holdings =
            sqlx::AssertSqlSafe(super::holds::holdings_sql(buyers.len(), types.len()));
        let now = holds.iter().map(|h| h.now).max().unwrap_or_default();
        let read_stock = sqlx::AssertSqlSafe(format!(
            "SELECT ticket_type_id, bucket, available FROM inventory_buckets \
             WHERE ticket_type_id IN ({}) ORDER BY ticket_type_id, bucket",
            super::catalog::placeholders(1, types.len())
        ));
        with_pool!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            let mut q = sqlx::query_as::<_, (String,)>(insert_holds);
            for (hold, total) in holds.iter().zip(&totals) {
                q = q
                    .bind(&hold.id)
                    .bind(&hold.user_id)
                    .bind(&hold.event_id)
                    .bind(*total)
                    .bind(&hold.currency)
                    .bind(&hold.idempotency_key)
                    .bind(&hold.request_hash)
                    .bind(hold.now)
                    .bind(hold.expires_at);
            }
            let inserted: std::collections::HashSet<String> = q
                .fetch_all(&mut *tx)
                .await?
                .into_iter()
                .map(|(id,)| id)
                .collect();

            // What each buyer holds already, under the buyers' locks (in id order, as every
            // hold transaction takes them, before any stock row).
            if let Some(lock) = lock_buyers {
                let mut q = sqlx::query(lock);
                for b in &buyers {
                    q = q.bind(*b);
                }
                q.execute(&mut *tx).await?;
            }
            let mut q = sqlx::query_as::<_, (String, String, i64)>(read_holdings).bind(now);
            for b in &buyers {
                q = q.bind(*b);
            }
            for t in &types {
                q = q.bind(*t);
            }
            let mut holdings: HashMap<(String, String), i64> = q
                .fetch_all(&mut *tx)
                .await?
                .into_iter()
                .map(|(user, ticket_type, n)| ((user, ticket_type), n))
                .collect();

            let mut q = sqlx::query_as::<_, (String, i64, i64)>(read_stock);
            for t in &types {
                q = q.bind(*t);
            }
            let mut stock: HashMap<String, Vec<Bucket>> = HashMap::new();
            for (ticket_type, bucket, available) in q.fetch_all(&mut *tx).await? {
                stock.entry(ticket_type).or_default().push(Bucket {
                    bucket,
                    available,
                    taken: 0,
                });
            }

            // Place the new holds in arrival order, all lines or none.
            let mut outcomes: Vec<Option<HoldOutcome>> = Vec::with_capacity(holds.len());
            let mut allocations: Vec<(usize, String, usize, i64, i64)> = Vec::new();
            let mut refused: Vec<&str> = Vec::new();
            for (h, hold) in holds.iter().enumerate() {
                if !inserted.contains(&hold.id) {
                    outcomes.push(None);
                    continue;
                }
                let over = hold
                    .items
                    .iter()
                    .zip(&hold.limits)
                    .find_map(|((t, q, _), limit)| {
                        let already = holdings
                            .get(&(hold.user_id.clone(), t.clone()))
                            .copied()
                            .unwrap_or(0);
                        (already + q > *limit)
                            .then(|| HoldOutcome::OverLimit(t.clone(), already, *limit))
                    });
                if let Some(over) = over {
                    refused.push(&hold.id);
                    outcomes.push(Some(over));
                    continue;
                }
                let mut taken: Vec<(String, usize, i64)> = Vec::new();
                let mut short = None;
                for (ticket_type, quantity, _) in &hold.items {
                    let buckets = stock.get_mut(ticket_type).map(Vec::as_mut_slice);
                    match buckets.and_then(|b| allocate(b, *quantity)) {
                        Some(parts) => taken
                            .extend(parts.into_iter().map(|(i, q)| (ticket_type.clone(), i, q))),
                        None => {
                            short = Some(ticket_type.clone());
                            break;
                        }
                    }
                }
                if let Some(ticket_type) = short {
                    give_back(&mut stock, &taken);
                    refused.push(&hold.id);
                    outcomes.push(Some(HoldOutcome::SoldOut(ticket_type)));
                    continue;
                }
                for (ticket_type, quantity, _) in &hold.items {
                    *holdings
                        .entry((hold.user_id.clone(), ticket_type.clone()))
                        .or_default() += quantity;
                }
                for (ticket_type, i, quantity) in taken {
                    let price = hold
                        .items
                        .iter()
                        .find(|(t, _, _)| *t == ticket_type)
                        .map_or(0, |(_, _, p)| *p);
                    allocations.push((h, ticket_type, i, quantity, price));
                }
                outcomes.push(Some(HoldOutcome::Held(
                    HoldRow {
                        id: hold.id.clone(),
                        user_id: hold.user_id.clone(),
                        event_id: hold.event_id.clone(),
                        status: "active".into(),
                        total_minor: totals[h],
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
                )));
            }

            // One conditional decrement per touched bucket, in one statement, in key order.
            let decrements: Vec<(&str, i64, i64)> = stock
                .iter()
                .flat_map(|(t, buckets)| {
                    buckets
                        .iter()
                        .filter(|b| b.taken > 0)
                        .map(move |b| (t.as_str(), b.bucket, b.taken))
                })
                .collect();
            if !decrements.is_empty() {
                let sql = sqlx::AssertSqlSafe(format!(
                    "UPDATE inventory_buckets SET available = available - d.quantity \
                     FROM ({}) AS d \
                     WHERE inventory_buckets.ticket_type_id = d.ticket_type_id \
                     AND inventory_buckets.bucket = d.bucket \
                     AND inventory_buckets.available >= d.quantity",
                    (0..decrements.len())
                        .map(|r| format!(
                            "SELECT ${} AS ticket_type_id, ${} AS bucket, ${} AS quantity",
                            r * 3 + 1,
                            r * 3 + 2,
                            r * 3 + 3
                        ))
                        .collect::<Vec<_>>()
                        .join(" UNION ALL ")
                ));
                let mut q = sqlx::query(sql);
                for (t, bucket, quantity) in &decrements {
                    q = q.bind(*t).bind(*bucket).bind(*quantity);
                }
                let hit = q.execute(&mut *tx).await?.rows_affected();
                if hit != decrements.len() as u64 {
                    // Another writer sold from these buckets since the read: start over one
                    // by one (dropping the transaction rolls it back).
                    return Err(StoreError::Conflict("the stock moved under the batch"));
                }
            }
            if !allocations.is_empty() {
                let sql = sqlx::AssertSqlSafe(format!(
                    "INSERT INTO hold_allocations \
                     (hold_id, ticket_type_id, bucket, quantity, unit_price_minor) VALUES {}",
                    tuples(allocations.len(), 5)
                ));
                let mut q = sqlx::query(sql);
                for (h, ticket_type, i, quantity, price) in &allocations {
                    let bucket = stock
                        .get(ticket_type)
                        .and_then(|b| b.get(*i))
                        .map_or(-1, |b| b.bucket);
                    q = q
                        .bind(&holds[*h].id)
                        .bind(ticket_type.as_str())
                        .bind(bucket)
                        .bind(*quantity)
                        .bind(*price);
                }
                q.execute(&mut *tx).await?;
            }
            if !refused.is_empty() {
                let sql = sqlx::AssertSqlSafe(format!(
                    "DELETE FROM holds WHERE id IN ({})",
                    super::catalog::placeholders(1, refused.len())
                ));
                let mut q = sqlx::query(sql);
                for id in &refused {
                    q = q.bind(*id);
                }
                q.execute(&mut *tx).await?;
            }
            tx.commit().await?;
            Ok(outcomes)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn buckets(stock: &[i64]) -> Vec<Bucket> {
        stock
            .iter()
            .enumerate()
            .map(|(i, &available)| Bucket {
                bucket: i as i64,
                available,
                taken: 0,
            })
            .collect()
    }

    #[test]
    fn allocation_takes_exactly_the_quantity_or_nothing() {
        for _ in 0..200 {
            let mut b = buckets(&[3, 0, 5, 1]);
            let parts = allocate(&mut b, 6).unwrap_or_default();
            assert_eq!(parts.iter().map(|p| p.1).sum::<i64>(), 6);
            assert_eq!(b.iter().map(|x| x.available).sum::<i64>(), 3);
            assert!(b.iter().all(|x| x.available >= 0 && x.taken >= 0));
            assert_eq!(b.iter().map(|x| x.taken).sum::<i64>(), 6);
            // A single bucket serves a quantity it holds whole.
            let mut b = buckets(&[3, 0, 5, 1]);
            let parts = allocate(&mut b, 4).unwrap_or_default();
            assert_eq!(parts.len(), 1);
            assert_eq!(b[2].taken, 4);
        }
        let mut b = buckets(&[3, 0, 5, 1]);
        assert!(allocate(&mut b, 10).is_none());
        assert_eq!(b.iter().map(|x| x.taken).sum::<i64>(), 0);
        assert!(allocate(&mut [], 1).is_none());
    }

    #[test]
    fn placeholders_are_numbered_row_by_row() {
        assert_eq!(tuples(2, 3), "($1, $2, $3), ($4, $5, $6)");
    }
}
