//! The catalog change feed: which public events changed after a server-assigned cursor.
//!
//! Each change takes the next value of the `catalog_seq` counter inside its transaction, and
//! the counter row is locked until commit, so sequence numbers become visible in order and a
//! cursor never skips a change. A page returns each changed event once, at its latest
//! sequence number, so a first pull from cursor 0 is a snapshot of the public catalog.

use super::{Db, StoreError};
use crate::with_pool;

/// One entry of a feed page: the event changed; its current state is read separately.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// Sequence number of the event's latest change.
    pub seq: i64,
    /// The event that changed.
    pub event_id: String,
}

impl Db {
    /// Up to `limit` changed events after `cursor`, in sequence order.
    pub async fn catalog_changes(
        &self,
        cursor: i64,
        limit: i64,
    ) -> Result<Vec<Change>, StoreError> {
        let rows: Vec<(String, i64)> = with_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT event_id, MAX(seq) AS latest FROM catalog_changes WHERE seq > $1 \
                 GROUP BY event_id ORDER BY latest LIMIT $2",
            )
            .bind(cursor)
            .bind(limit)
            .fetch_all(pool)
            .await?
        });
        Ok(rows
            .into_iter()
            .map(|(event_id, seq)| Change { seq, event_id })
            .collect())
    }

    /// The newest sequence number handed out.
    pub async fn catalog_head(&self) -> Result<i64, StoreError> {
        let (value,): (i64,) = with_pool!(self, |pool| {
            sqlx::query_as("SELECT value FROM counters WHERE name = 'catalog_seq'")
                .fetch_one(pool)
                .await?
        });
        Ok(value)
    }
}
