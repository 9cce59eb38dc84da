//! What the wallet shows of its tickets' events.

use chrono::{TimeZone, Utc};
use rusqlite::params;

use super::Store;
use crate::Error;
use crate::model::wallet::EventSummary;

impl Store {
    /// Saves events' summaries (replacing older ones).
    pub fn save_wallet_events(&mut self, events: &[EventSummary]) -> Result<(), Error> {
        let tx = self.conn.transaction()?;
        for e in events {
            tx.execute(
                "INSERT INTO wallet_events (id, title, venue, city, starts_at, ends_at,
                                            time_zone, status)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
                 ON CONFLICT (id) DO UPDATE SET title = excluded.title, venue = excluded.venue,
                     city = excluded.city, starts_at = excluded.starts_at,
                     ends_at = excluded.ends_at, time_zone = excluded.time_zone,
                     status = excluded.status",
                params![
                    e.id,
                    e.title,
                    e.venue,
                    e.city,
                    e.starts_at.timestamp_millis(),
                    e.ends_at.timestamp_millis(),
                    e.time_zone,
                    e.status
                ],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// The summaries of the events the account has tickets for.
    pub fn wallet_events(&self, account_id: &str) -> Result<Vec<EventSummary>, Error> {
        let mut stmt = self.conn.prepare(
            "SELECT id, title, venue, city, starts_at, ends_at, time_zone, status
             FROM wallet_events
             WHERE id IN (SELECT event_id FROM wallet_tickets WHERE account_id = ?1)",
        )?;
        let instant = |ms: i64| Utc.timestamp_millis_opt(ms).single().unwrap_or_default();
        let rows = stmt.query_map([account_id], |r| {
            Ok(EventSummary {
                id: r.get(0)?,
                title: r.get(1)?,
                venue: r.get(2)?,
                city: r.get(3)?,
                starts_at: instant(r.get(4)?),
                ends_at: instant(r.get(5)?),
                time_zone: r.get(6)?,
                status: r.get(7)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}
