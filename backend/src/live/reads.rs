//! What a subscriber re-reads when its topic is signalled. Each read is one statement (or
//! bounded by one), so a frame is a consistent snapshot: on each ticket type,
//! `available + held + sold = capacity` holds in every frame.

use crate::db::scans::ScanRow;
use crate::db::{Db, StoreError};
use crate::with_pool;

/// One ticket type's stock and sales.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct TypeStock {
    /// Ticket type.
    pub ticket_type_id: String,
    /// Name.
    pub name: String,
    /// Currency of its price.
    pub currency: String,
    /// Capacity.
    pub capacity: i64,
    /// Valid tickets.
    pub sold: i64,
    /// Revoked (refunded) tickets.
    pub refunded: i64,
    /// In active or checking-out holds.
    pub held: i64,
    /// Unsold and unheld stock.
    pub available: i64,
    /// Price of valid tickets, minor units.
    pub revenue_minor: i64,
}

/// A check-in list's counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::FromRow)]
pub struct CheckInCounts {
    /// Tickets whose latest admitted movement is an entry.
    pub inside: i64,
    /// Entries admitted (first entries and re-entries).
    pub admitted: i64,
    /// Scans refused at the door.
    pub refused: i64,
    /// Entries classified duplicate.
    pub duplicates: i64,
    /// The list's latest sequence number (alerts up to here are covered by this read).
    pub head: i64,
}

const SCAN_COLUMNS: &str = "id, device_id, ticket_id, device_time_ms, gate, direction, \
     decision, reason, classification, seq, alerted_at";

/// Most alerts in one frame; the rest follow in the next.
const MAX_ALERTS: i64 = 100;

impl Db {
    /// An event's stock and sales per ticket type, in one statement.
    pub async fn live_sales(&self, event_id: &str) -> Result<Vec<TypeStock>, StoreError> {
        Ok(with_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT tt.id AS ticket_type_id, tt.name, tt.currency, tt.capacity, \
                 CAST((SELECT COUNT(*) FROM tickets t WHERE t.ticket_type_id = tt.id \
                   AND t.status = 'valid') AS BIGINT) AS sold, \
                 CAST((SELECT COUNT(*) FROM tickets t WHERE t.ticket_type_id = tt.id \
                   AND t.status = 'revoked') AS BIGINT) AS refunded, \
                 CAST((SELECT COALESCE(SUM(a.quantity), 0) FROM hold_allocations a \
                   JOIN holds h ON h.id = a.hold_id WHERE a.ticket_type_id = tt.id \
                   AND h.status IN ('active', 'converting')) AS BIGINT) AS held, \
                 CAST((SELECT COALESCE(SUM(b.available), 0) FROM inventory_buckets b \
                   WHERE b.ticket_type_id = tt.id) AS BIGINT) AS available, \
                 CAST((SELECT COALESCE(SUM(t.price_minor), 0) FROM tickets t \
                   WHERE t.ticket_type_id = tt.id AND t.status = 'valid') AS BIGINT) \
                   AS revenue_minor \
                 FROM ticket_types tt WHERE tt.event_id = $1 ORDER BY tt.position",
            )
            .bind(event_id)
            .fetch_all(pool)
            .await?
        }))
    }

    /// A check-in list's counts, in one statement.
    pub async fn live_check_ins(&self, list_id: &str) -> Result<CheckInCounts, StoreError> {
        Ok(with_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT \
                 CAST((SELECT COUNT(*) FROM (SELECT DISTINCT s.ticket_id FROM scans s \
                   WHERE s.list_id = $1 AND s.ticket_id IS NOT NULL \
                   AND s.classification IN ('admitted', 'duplicate_entry', 'exited')) AS k \
                   WHERE (SELECT l.classification FROM scans l WHERE l.list_id = $1 \
                     AND l.ticket_id = k.ticket_id \
                     AND l.classification IN ('admitted', 'duplicate_entry', 'exited') \
                     ORDER BY l.device_time_ms DESC, l.id DESC LIMIT 1) <> 'exited') \
                   AS BIGINT) AS inside, \
                 CAST((SELECT COUNT(*) FROM scans WHERE list_id = $1 \
                   AND classification = 'admitted') AS BIGINT) AS admitted, \
                 CAST((SELECT COUNT(*) FROM scans WHERE list_id = $1 \
                   AND classification = 'rejected') AS BIGINT) AS refused, \
                 CAST((SELECT COUNT(*) FROM scans WHERE list_id = $1 \
                   AND classification = 'duplicate_entry') AS BIGINT) AS duplicates, \
                 CAST((SELECT COALESCE(MAX(seq), 0) FROM scans WHERE list_id = $1) AS BIGINT) \
                   AS head",
            )
            .bind(list_id)
            .fetch_one(pool)
            .await?
        }))
    }

    /// Duplicate entries on a list whose latest change is in `(after, upto]`, oldest first,
    /// each with the entry that came first.
    pub async fn live_alerts(
        &self,
        list_id: &str,
        after: i64,
        upto: i64,
    ) -> Result<Vec<(ScanRow, ScanRow)>, StoreError> {
        let dup_sql = sqlx::AssertSqlSafe(format!(
            "SELECT {SCAN_COLUMNS} FROM scans WHERE list_id = $1 \
             AND classification = 'duplicate_entry' AND seq > $2 AND seq <= $3 \
             ORDER BY seq LIMIT {MAX_ALERTS}"
        ));
        let first_sql = format!(
            "SELECT {SCAN_COLUMNS} FROM scans WHERE list_id = $1 AND ticket_id = $2 \
             AND classification = 'admitted' ORDER BY device_time_ms, id LIMIT 1"
        );
        with_pool!(self, |pool| {
            let dups: Vec<ScanRow> = sqlx::query_as(dup_sql)
                .bind(list_id)
                .bind(after)
                .bind(upto)
                .fetch_all(pool)
                .await?;
            let mut alerts = Vec::with_capacity(dups.len());
            for dup in dups {
                let first: Option<ScanRow> = sqlx::query_as(sqlx::AssertSqlSafe(first_sql.clone()))
                    .bind(list_id)
                    .bind(&dup.ticket_id)
                    .fetch_optional(pool)
                    .await?;
                if let Some(first) = first {
                    alerts.push((dup, first));
                }
            }
            Ok(alerts)
        })
    }
}
