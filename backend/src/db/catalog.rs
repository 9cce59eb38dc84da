//! Events and ticket types. Every change to a public event takes a feed sequence number in the
//! same transaction (see [`super::feed`]).

use guichet_domain::catalog::{EventDetails, TicketTypeDetails};
use guichet_domain::inventory;

use super::audit::{Actor, AuditAction, AuditEntry};
use super::{BeginWrite, Db, StoreError};
use crate::{audit, with_pool};

/// A stored event.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EventRow {
    /// UUID.
    pub id: String,
    /// Owner's user id.
    pub organizer_id: String,
    /// `draft`, `published` or `cancelled`.
    pub status: String,
    /// Title.
    pub title: String,
    /// Description.
    pub description: String,
    /// Venue name.
    pub venue: String,
    /// City.
    pub city: String,
    /// Degrees.
    pub latitude: Option<f64>,
    /// Degrees.
    pub longitude: Option<f64>,
    /// Unix seconds.
    pub starts_at: i64,
    /// Unix seconds.
    pub ends_at: i64,
    /// IANA name.
    pub time_zone: String,
    /// Streamed online.
    pub online: bool,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds.
    pub updated_at: i64,
    /// Buyers may refund until this many seconds before the start; never when `None`.
    pub buyer_refund_cutoff_secs: Option<i64>,
}

/// A stored ticket type.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TicketTypeRow {
    /// UUID.
    pub id: String,
    /// The event's UUID.
    pub event_id: String,
    /// Display order within the event.
    pub position: i64,
    /// Name.
    pub name: String,
    /// Minor units.
    pub price_minor: i64,
    /// ISO 4217.
    pub currency: String,
    /// Sellable count.
    pub capacity: i64,
    /// Unix seconds.
    pub sale_starts_at: i64,
    /// Unix seconds.
    pub sale_ends_at: i64,
    /// Per-order limit.
    pub max_per_order: i64,
    /// Not sold and not held right now.
    pub available: i64,
}

/// The lifecycle transitions an organizer can ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transition {
    /// draft → published.
    Publish,
    /// draft/published → cancelled.
    Cancel,
}

/// The refund cutoff of events created without an explicit policy: 48 hours before start.
pub const DEFAULT_BUYER_REFUND_CUTOFF_SECS: i64 = 48 * 3600;

pub(crate) const EVENT_COLUMNS: &str = "id, organizer_id, status, title, description, venue, \
     city, latitude, longitude, starts_at, ends_at, time_zone, online, created_at, updated_at, \
     buyer_refund_cutoff_secs";
const TICKET_COLUMNS: &str = "id, event_id, position, name, price_minor, currency, capacity, \
     sale_starts_at, sale_ends_at, max_per_order, (SELECT CAST(COALESCE(SUM(b.available), 0) AS BIGINT) \
     FROM inventory_buckets b WHERE b.ticket_type_id = ticket_types.id) AS available";

impl EventRow {
    /// The organizer-editable part of the row.
    pub fn details(&self) -> EventDetails {
        EventDetails {
            title: self.title.clone(),
            description: self.description.clone(),
            venue: self.venue.clone(),
            city: self.city.clone(),
            latitude: self.latitude,
            longitude: self.longitude,
            starts_at: self.starts_at,
            ends_at: self.ends_at,
            time_zone: self.time_zone.clone(),
            online: self.online,
        }
    }

    /// Whether the public can see the event (published or cancelled after publication).
    pub fn is_public(&self) -> bool {
        self.status != "draft"
    }

    /// Whether its buyers may still refund at `now` under the event's refund policy.
    pub fn buyer_may_refund(&self, now: i64) -> bool {
        self.buyer_refund_cutoff_secs
            .is_some_and(|cutoff| now <= self.starts_at.saturating_sub(cutoff))
    }
}

impl TicketTypeRow {
    /// The organizer-editable part of the row.
    pub fn details(&self) -> TicketTypeDetails {
        TicketTypeDetails {
            name: self.name.clone(),
            price_minor: self.price_minor,
            currency: self.currency.clone(),
            capacity: self.capacity,
            sale_starts_at: self.sale_starts_at,
            sale_ends_at: self.sale_ends_at,
            max_per_order: self.max_per_order,
        }
    }
}

/// Records a feed entry for `event_id` inside the caller's transaction.
macro_rules! record_change {
    ($tx:expr, $event_id:expr, $now:expr) => {{
        let (seq,): (i64,) = sqlx::query_as(
            "UPDATE counters SET value = value + 1 WHERE name = 'catalog_seq' RETURNING value",
        )
        .fetch_one(&mut *$tx)
        .await?;
        sqlx::query("INSERT INTO catalog_changes (seq, event_id, changed_at) VALUES ($1, $2, $3)")
            .bind(seq)
            .bind($event_id)
            .bind($now)
            .execute(&mut *$tx)
            .await?;
    }};
}

/// Reads an event's status inside the caller's transaction: `NotFound` if there is no such
/// event, `Conflict` if it is cancelled (cancelled events are frozen).
/// Why an event with sold tickets keeps its start and end.
pub const MOVED_WITH_SALES: &str = "the event has sold tickets and their credentials carry its \
     start and end: cancel the event (its orders are refunded) and create a new one to reschedule";

macro_rules! editable_status {
    ($tx:expr, $event_id:expr) => {{
        let status: Option<(String,)> = sqlx::query_as("SELECT status FROM events WHERE id = $1")
            .bind($event_id)
            .fetch_optional(&mut *$tx)
            .await?;
        match status {
            None => return Err(StoreError::NotFound),
            Some((s,)) if s == "cancelled" => {
                return Err(StoreError::Conflict("a cancelled event cannot be edited"));
            }
            Some((s,)) => s,
        }
    }};
}

/// Rewrites the SQLite full-text row of an event (PostgreSQL indexes `search_text` itself).
macro_rules! reindex {
    ($db:expr, $tx:expr, $event_id:expr, $text:expr) => {{
        if matches!($db, Db::Sqlite(_)) {
            sqlx::query("DELETE FROM events_fts WHERE event_id = $1")
                .bind($event_id)
                .execute(&mut *$tx)
                .await?;
            sqlx::query("INSERT INTO events_fts (event_id, body) VALUES ($1, $2)")
                .bind($event_id)
                .bind($text)
                .execute(&mut *$tx)
                .await?;
        }
    }};
}

impl Db {
    /// Stores a new draft event (validated by the caller) under the default refund policy:
    /// buyers may refund until [`DEFAULT_BUYER_REFUND_CUTOFF_SECS`] before the start.
    pub async fn create_event(
        &self,
        id: &str,
        organizer_id: &str,
        d: &EventDetails,
        now: i64,
    ) -> Result<EventRow, StoreError> {
        self.create_event_with_policy(
            id,
            organizer_id,
            d,
            Some(DEFAULT_BUYER_REFUND_CUTOFF_SECS),
            now,
        )
        .await
    }

    /// Stores a new draft event (validated by the caller) with its refund policy: buyers may
    /// refund until `buyer_refund_cutoff_secs` before the start, never when `None`.
    pub async fn create_event_with_policy(
        &self,
        id: &str,
        organizer_id: &str,
        d: &EventDetails,
        buyer_refund_cutoff_secs: Option<i64>,
        now: i64,
    ) -> Result<EventRow, StoreError> {
        with_pool!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            sqlx::query(
                "INSERT INTO events (id, organizer_id, status, title, description, venue, city, \
                 latitude, longitude, starts_at, ends_at, time_zone, online, search_text, \
                 created_at, updated_at, buyer_refund_cutoff_secs) \
                 VALUES ($1, $2, 'draft', $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14, \
                 $15)",
            )
            .bind(id)
            .bind(organizer_id)
            .bind(&d.title)
            .bind(&d.description)
            .bind(&d.venue)
            .bind(&d.city)
            .bind(d.latitude)
            .bind(d.longitude)
            .bind(d.starts_at)
            .bind(d.ends_at)
            .bind(&d.time_zone)
            .bind(d.online)
            .bind(d.index_text())
            .bind(now)
            .bind(buyer_refund_cutoff_secs)
            .execute(&mut *tx)
            .await?;
            reindex!(self, tx, id, d.index_text());
            tx.commit().await?;
        });
        self.event(id).await?.ok_or(StoreError::NotFound)
    }

    /// Replaces an event's refund policy. Cancelled events are frozen
    /// ([`StoreError::Conflict`]); a published event's change reaches the catalog feed.
    pub async fn set_refund_policy(
        &self,
        id: &str,
        buyer_refund_cutoff_secs: Option<i64>,
        now: i64,
    ) -> Result<EventRow, StoreError> {
        with_pool!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            let status = editable_status!(tx, id);
            sqlx::query(
                "UPDATE events SET buyer_refund_cutoff_secs = $2, updated_at = $3 WHERE id = $1",
            )
            .bind(id)
            .bind(buyer_refund_cutoff_secs)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            if status == "published" {
                record_change!(tx, id, now);
            }
            tx.commit().await?;
        });
        self.event(id).await?.ok_or(StoreError::NotFound)
    }

    /// The event with this id, whatever its status.
    pub async fn event(&self, id: &str) -> Result<Option<EventRow>, StoreError> {
        let sql = sqlx::AssertSqlSafe(format!("SELECT {EVENT_COLUMNS} FROM events WHERE id = $1"));
        Ok(with_pool!(self, |pool| {
            sqlx::query_as::<_, EventRow>(sql)
                .bind(id)
                .fetch_optional(pool)
                .await?
        }))
    }

    /// Events with these ids (any status), in no particular order.
    pub async fn events_by_ids(&self, ids: &[String]) -> Result<Vec<EventRow>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {EVENT_COLUMNS} FROM events WHERE id IN ({})",
            placeholders(1, ids.len())
        ));
        Ok(with_pool!(self, |pool| {
            let mut q = sqlx::query_as::<_, EventRow>(sql);
            for id in ids {
                q = q.bind(id);
            }
            q.fetch_all(pool).await?
        }))
    }

    /// Every event of one organizer, drafts included, by start time.
    pub async fn events_of_organizer(
        &self,
        organizer_id: &str,
    ) -> Result<Vec<EventRow>, StoreError> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {EVENT_COLUMNS} FROM events WHERE organizer_id = $1 ORDER BY starts_at, id"
        ));
        Ok(with_pool!(self, |pool| {
            sqlx::query_as::<_, EventRow>(sql)
                .bind(organizer_id)
                .fetch_all(pool)
                .await?
        }))
    }

    /// Replaces an event's details. Cancelled events are frozen, and an event with valid
    /// tickets or orders in progress keeps its start and end ([`StoreError::Conflict`]).
    pub async fn update_event(
        &self,
        id: &str,
        d: &EventDetails,
        now: i64,
        actor: &Actor,
    ) -> Result<EventRow, StoreError> {
        with_pool!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            let status = editable_status!(tx, id);
            // Credentials carry the event's window: refuse to move it under sold tickets.
            let (starts_at, ends_at, venue, city): (i64, i64, String, String) =
                sqlx::query_as("SELECT starts_at, ends_at, venue, city FROM events WHERE id = $1")
                    .bind(id)
                    .fetch_one(&mut *tx)
                    .await?;
            if (starts_at, ends_at) != (d.starts_at, d.ends_at) {
                let (sold,): (i64,) = sqlx::query_as(
                    "SELECT (SELECT COUNT(*) FROM tickets WHERE event_id = $1 AND status = 'valid') \
                     + (SELECT COUNT(*) FROM orders WHERE event_id = $1 \
                        AND status IN ('pending', 'authorized', 'captured'))",
                )
                .bind(id)
                .fetch_one(&mut *tx)
                .await?;
                if sold > 0 {
                    return Err(StoreError::Conflict(MOVED_WITH_SALES));
                }
            }
            sqlx::query(
                "UPDATE events SET title = $2, description = $3, venue = $4, city = $5, \
                 latitude = $6, longitude = $7, starts_at = $8, ends_at = $9, time_zone = $10, \
                 online = $11, search_text = $12, updated_at = $13 WHERE id = $1",
            )
            .bind(id)
            .bind(&d.title)
            .bind(&d.description)
            .bind(&d.venue)
            .bind(&d.city)
            .bind(d.latitude)
            .bind(d.longitude)
            .bind(d.starts_at)
            .bind(d.ends_at)
            .bind(&d.time_zone)
            .bind(d.online)
            .bind(d.index_text())
            .bind(now)
            .execute(&mut *tx)
            .await?;
            reindex!(self, tx, id, d.index_text());
            if status == "published" {
                record_change!(tx, id, now);
            }
            // Ticket holders are told when the time or the place changes.
            if status == "published"
                && (starts_at, ends_at, venue.as_str(), city.as_str())
                    != (d.starts_at, d.ends_at, d.venue.as_str(), d.city.as_str())
            {
                sqlx::query(
                    "INSERT INTO outbox (id, topic, payload, created_at, next_attempt_at) \
                     VALUES ($1, 'event.moved', $2, $3, $3)",
                )
                .bind(uuid::Uuid::now_v7().to_string())
                .bind(serde_json::json!({ "eventId": id }).to_string())
                .bind(now)
                .execute(&mut *tx)
                .await?;
            }
            let moved = (starts_at, ends_at) != (d.starts_at, d.ends_at);
            let entry = AuditEntry::new(actor, AuditAction::EventUpdated, "event", Some(id), now)
                .in_event(id)
                .detail(if moved { "moved=true" } else { "moved=false" });
            audit!(&mut *tx, &entry)?;
            tx.commit().await?;
        });
        self.event(id).await?.ok_or(StoreError::NotFound)
    }

    /// Moves an event along its lifecycle. Repeating a transition already made is a no-op;
    /// publishing needs at least one ticket type; nothing leaves `cancelled`.
    pub async fn transition_event(
        &self,
        id: &str,
        transition: Transition,
        now: i64,
        actor: &Actor,
    ) -> Result<EventRow, StoreError> {
        with_pool!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            let status: Option<(String,)> =
                sqlx::query_as("SELECT status FROM events WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&mut *tx)
                    .await?;
            let Some((status,)) = status else {
                return Err(StoreError::NotFound);
            };
            let target = match (transition, status.as_str()) {
                (Transition::Publish, "published") | (Transition::Cancel, "cancelled") => None,
                (Transition::Publish, "cancelled") => {
                    return Err(StoreError::Conflict(
                        "a cancelled event cannot be published",
                    ));
                }
                (Transition::Publish, _) => Some("published"),
                (Transition::Cancel, _) => Some("cancelled"),
            };
            if let Some(target) = target {
                if target == "published" {
                    let (count,): (i64,) =
                        sqlx::query_as("SELECT COUNT(*) FROM ticket_types WHERE event_id = $1")
                            .bind(id)
                            .fetch_one(&mut *tx)
                            .await?;
                    if count == 0 {
                        return Err(StoreError::Conflict(
                            "add at least one ticket type before publishing",
                        ));
                    }
                }
                sqlx::query("UPDATE events SET status = $2, updated_at = $3 WHERE id = $1")
                    .bind(id)
                    .bind(target)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                // A draft cancelled before publication was never public: no feed entry.
                if status != "draft" || target == "published" {
                    record_change!(tx, id, now);
                }
                if target == "cancelled" && status != "draft" {
                    sqlx::query(
                        "INSERT INTO outbox (id, topic, payload, created_at, next_attempt_at) \
                         VALUES ($1, 'event.cancelled', $2, $3, $3)",
                    )
                    .bind(uuid::Uuid::now_v7().to_string())
                    .bind(serde_json::json!({ "eventId": id }).to_string())
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                }
                let action = match transition {
                    Transition::Publish => AuditAction::EventPublished,
                    Transition::Cancel => AuditAction::EventCancelled,
                };
                let entry = AuditEntry::new(actor, action, "event", Some(id), now).in_event(id);
                audit!(&mut *tx, &entry)?;
            }
            tx.commit().await?;
        });
        self.event(id).await?.ok_or(StoreError::NotFound)
    }

    /// Adds a ticket type at the end of an event's list.
    pub async fn add_ticket_type(
        &self,
        id: &str,
        event_id: &str,
        d: &TicketTypeDetails,
        now: i64,
        actor: &Actor,
    ) -> Result<TicketTypeRow, StoreError> {
        with_pool!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            let status = editable_status!(tx, event_id);
            sqlx::query(
                "INSERT INTO ticket_types (id, event_id, position, name, price_minor, currency, \
                 capacity, sale_starts_at, sale_ends_at, max_per_order, created_at, updated_at) \
                 VALUES ($1, $2, (SELECT COALESCE(MAX(position), 0) + 1 FROM ticket_types \
                 WHERE event_id = $2), $3, $4, $5, $6, $7, $8, $9, $10, $10)",
            )
            .bind(id)
            .bind(event_id)
            .bind(&d.name)
            .bind(d.price_minor)
            .bind(&d.currency)
            .bind(d.capacity)
            .bind(d.sale_starts_at)
            .bind(d.sale_ends_at)
            .bind(d.max_per_order)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            for (bucket, stock) in inventory::split(d.capacity).into_iter().enumerate() {
                sqlx::query(
                    "INSERT INTO inventory_buckets (ticket_type_id, bucket, available) \
                     VALUES ($1, $2, $3)",
                )
                .bind(id)
                .bind(i64::try_from(bucket).unwrap_or_default())
                .bind(stock)
                .execute(&mut *tx)
                .await?;
            }
            if status == "published" {
                record_change!(tx, event_id, now);
            }
            let entry = AuditEntry::new(
                actor,
                AuditAction::TicketTypeAdded,
                "ticket_type",
                Some(id),
                now,
            )
            .in_event(event_id);
            audit!(&mut *tx, &entry)?;
            tx.commit().await?;
        });
        self.ticket_type(id).await?.ok_or(StoreError::NotFound)
    }

    /// Replaces a ticket type's details.
    pub async fn update_ticket_type(
        &self,
        id: &str,
        d: &TicketTypeDetails,
        now: i64,
        actor: &Actor,
    ) -> Result<TicketTypeRow, StoreError> {
        with_pool!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            let row: Option<(String, String, i64)> = sqlx::query_as(
                "SELECT e.id, e.status, t.capacity FROM ticket_types t \
                 JOIN events e ON e.id = t.event_id WHERE t.id = $1",
            )
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
            let Some((event_id, status, old_capacity)) = row else {
                return Err(StoreError::NotFound);
            };
            if status == "cancelled" {
                return Err(StoreError::Conflict("a cancelled event cannot be edited"));
            }
            // A capacity change moves the difference in or out of the unsold stock; it can
            // never take back tickets already sold or held.
            let mut delta = d.capacity - old_capacity;
            let buckets: Vec<(i64, i64)> = sqlx::query_as(
                "SELECT bucket, available FROM inventory_buckets WHERE ticket_type_id = $1 \
                 ORDER BY bucket",
            )
            .bind(id)
            .fetch_all(&mut *tx)
            .await?;
            for (bucket, available) in buckets {
                let change = if delta >= 0 {
                    delta
                } else {
                    -available.min(-delta)
                };
                if change == 0 {
                    break;
                }
                sqlx::query(
                    "UPDATE inventory_buckets SET available = available + $3 \
                     WHERE ticket_type_id = $1 AND bucket = $2",
                )
                .bind(id)
                .bind(bucket)
                .bind(change)
                .execute(&mut *tx)
                .await?;
                delta -= change;
            }
            if delta != 0 {
                return Err(StoreError::Conflict(
                    "capacity cannot go below the tickets already sold or held",
                ));
            }
            sqlx::query(
                "UPDATE ticket_types SET name = $2, price_minor = $3, currency = $4, \
                 capacity = $5, sale_starts_at = $6, sale_ends_at = $7, max_per_order = $8, \
                 updated_at = $9 WHERE id = $1",
            )
            .bind(id)
            .bind(&d.name)
            .bind(d.price_minor)
            .bind(&d.currency)
            .bind(d.capacity)
            .bind(d.sale_starts_at)
            .bind(d.sale_ends_at)
            .bind(d.max_per_order)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            if status == "published" {
                record_change!(tx, &event_id, now);
            }
            let entry = AuditEntry::new(
                actor,
                AuditAction::TicketTypeUpdated,
                "ticket_type",
                Some(id),
                now,
            )
            .in_event(&event_id);
            audit!(&mut *tx, &entry)?;
            tx.commit().await?;
        });
        self.ticket_type(id).await?.ok_or(StoreError::NotFound)
    }

    /// One ticket type.
    pub async fn ticket_type(&self, id: &str) -> Result<Option<TicketTypeRow>, StoreError> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {TICKET_COLUMNS} FROM ticket_types WHERE id = $1"
        ));
        Ok(with_pool!(self, |pool| {
            sqlx::query_as::<_, TicketTypeRow>(sql)
                .bind(id)
                .fetch_optional(pool)
                .await?
        }))
    }

    /// The ticket types of several events, in display order.
    pub async fn ticket_types_of(
        &self,
        event_ids: &[String],
    ) -> Result<Vec<TicketTypeRow>, StoreError> {
        if event_ids.is_empty() {
            return Ok(Vec::new());
        }
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {TICKET_COLUMNS} FROM ticket_types WHERE event_id IN ({}) \
             ORDER BY event_id, position",
            placeholders(1, event_ids.len())
        ));
        Ok(with_pool!(self, |pool| {
            let mut q = sqlx::query_as::<_, TicketTypeRow>(sql);
            for id in event_ids {
                q = q.bind(id);
            }
            q.fetch_all(pool).await?
        }))
    }
}

/// `$first, $first+1, …` for `count` parameters.
pub(crate) fn placeholders(first: usize, count: usize) -> String {
    (first..first + count)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}
