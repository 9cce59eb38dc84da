//! Scans pushed by doors, the server's classification of them, and the scanner feed.
//!
//! A push runs in one write transaction that first locks its list's scan counter, so pushes
//! to one list are serialised and the sequence numbers they hand out become visible in order:
//! a scanner that pulls "everything after n" never skips a change. Each scan is stored once
//! by id; the scans of every ticket the push touches are re-folded in (device time, id)
//! order, and each scan whose class is new or changed takes the next sequence number.

use std::collections::{BTreeMap, HashMap};

use guichet_domain::admission::{self, InvalidCause, ScanClass, ScanRejection};
use guichet_domain::checkin::Direction;

use super::scanners::DeviceRow;
use super::{BeginWrite, Db, StoreError};
use crate::with_pool;

/// A scan as the device reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewScan {
    /// UUID made by the device.
    pub id: String,
    /// The ticket, when its credential was genuine.
    pub ticket_id: Option<String>,
    /// Device clock, Unix milliseconds.
    pub device_time_ms: i64,
    /// Gate.
    pub gate: String,
    /// `entry` or `exit`.
    pub direction: String,
    /// `admitted` or `rejected`: what the door showed.
    pub decision: String,
    /// Rejection code, iff rejected.
    pub reason: Option<String>,
}

/// A stored scan.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ScanRow {
    /// UUID.
    pub id: String,
    /// The device that pushed it.
    pub device_id: String,
    /// The ticket, when genuine.
    pub ticket_id: Option<String>,
    /// Device clock, Unix milliseconds.
    pub device_time_ms: i64,
    /// Gate.
    pub gate: String,
    /// `entry` or `exit`.
    pub direction: String,
    /// `admitted` or `rejected`.
    pub decision: String,
    /// Rejection code.
    pub reason: Option<String>,
    /// `admitted`, `duplicate_entry`, `exited` or `rejected`.
    pub classification: String,
    /// Sequence number of its latest change on its list.
    pub seq: i64,
    /// When it was first classified a duplicate entry (Unix seconds).
    pub alerted_at: Option<i64>,
}

impl ScanRow {
    fn same_report(&self, scan: &NewScan) -> bool {
        self.ticket_id == scan.ticket_id
            && self.device_time_ms == scan.device_time_ms
            && self.gate == scan.gate
            && self.direction == scan.direction
            && self.decision == scan.decision
            && self.reason == scan.reason
    }

    fn take_report(&mut self, scan: &NewScan) {
        self.ticket_id.clone_from(&scan.ticket_id);
        self.device_time_ms = scan.device_time_ms;
        self.gate.clone_from(&scan.gate);
        self.direction.clone_from(&scan.direction);
        self.decision.clone_from(&scan.decision);
        self.reason.clone_from(&scan.reason);
    }
}

/// Where a ticket stands after a fold of its admitted scans: the domain's presence, whose
/// `refuses_entry` is the rule doors apply offline.
pub use guichet_domain::admission::Presence as Standing;

/// Classifies one ticket's scans, given in (device time, id) order, as (decision,
/// direction) in their stored spelling, through [`admission::classify`] (the one rule the
/// server and every door share). Returns the classes in input order and the final
/// standing.
pub fn classify<'a>(
    scans: impl IntoIterator<Item = (&'a str, &'a str)>,
    re_entry: bool,
) -> (Vec<&'static str>, Standing) {
    let scans = scans.into_iter().map(|(decision, direction)| {
        let direction = if direction == "exit" {
            Direction::Exit
        } else {
            Direction::Entry
        };
        (decision == "admitted", direction)
    });
    let (classes, standing) = admission::classify(scans, re_entry);
    (
        classes.into_iter().map(ScanClass::as_str).collect(),
        standing,
    )
}

const SCAN_COLUMNS: &str = "id, device_id, ticket_id, device_time_ms, gate, direction, \
     decision, reason, classification, seq, alerted_at";

/// `$from, $from+1, …` for `n` values.
fn placeholders(from: usize, n: usize) -> String {
    (from..from + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// One page of a list's feed.
#[derive(Debug, Clone, Default)]
pub struct FeedPage {
    /// Revocations after the cursor: (sequence number, ticket id).
    pub revoked: Vec<(i64, String)>,
    /// Scans whose class changed after the cursor, in sequence order.
    pub scans: Vec<ScanRow>,
}

impl Db {
    /// Stores a device's scans once each and re-classifies the tickets they concern, in one
    /// transaction. With `online`, a single admitted entry of a revoked ticket, or of one
    /// the server already knows inside (or used, on a list without re-entry), is stored as
    /// rejected instead, and a scan already stored is returned as it is.
    /// A scan id already stored for this device with a different report takes the new
    /// report (the device pushes what the door showed when an online answer never reached
    /// it); an id stored for another device is left alone. Returns the stored scans, in
    /// input order.
    pub async fn push_scans(
        &self,
        device: &DeviceRow,
        re_entry: bool,
        scans: &[NewScan],
        online: bool,
        now: i64,
    ) -> Result<Vec<ScanRow>, StoreError> {
        if scans.is_empty() {
            return Ok(Vec::new());
        }
        with_pool!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            // Locks the list's counter row until commit (PostgreSQL; SQLite has one writer).
            let (mut seq,): (i64,) = sqlx::query_as(
                "UPDATE scan_counters SET seq = seq WHERE list_id = $1 RETURNING seq",
            )
            .bind(&device.list_id)
            .fetch_one(&mut *tx)
            .await?;
            let ids = placeholders(1, scans.len());
            let sql = sqlx::AssertSqlSafe(format!(
                "SELECT {SCAN_COLUMNS} FROM scans WHERE id IN ({ids})"
            ));
            let mut query = sqlx::query_as::<_, ScanRow>(sql);
            for scan in scans {
                query = query.bind(&scan.id);
            }
            let stored: HashMap<String, ScanRow> = query
                .fetch_all(&mut *tx)
                .await?
                .into_iter()
                .map(|row| (row.id.clone(), row))
                .collect();

            // What this push changes: new reports and overridden ones.
            let mut changed: BTreeMap<String, NewScan> = BTreeMap::new();
            for scan in scans {
                match stored.get(&scan.id) {
                    // An online decision never replaces a stored scan: a duplicate or late
                    // delivery of the question must not undo what the door was told.
                    Some(row) if online || row.device_id != device.id || row.same_report(scan) => {}
                    _ => {
                        changed.insert(scan.id.clone(), scan.clone());
                    }
                }
            }
            let mut tickets: Vec<String> = changed
                .values()
                .filter_map(|s| s.ticket_id.clone())
                .chain(
                    changed
                        .keys()
                        .filter_map(|id| stored.get(id).and_then(|r| r.ticket_id.clone())),
                )
                .collect();
            tickets.sort();
            tickets.dedup();

            // Every scan of those tickets on this list, by ticket.
            let mut by_ticket: BTreeMap<String, Vec<ScanRow>> = BTreeMap::new();
            if !tickets.is_empty() {
                let ins = placeholders(2, tickets.len());
                let sql = sqlx::AssertSqlSafe(format!(
                    "SELECT {SCAN_COLUMNS} FROM scans WHERE list_id = $1 AND ticket_id IN ({ins})"
                ));
                let mut query = sqlx::query_as::<_, ScanRow>(sql).bind(&device.list_id);
                for t in &tickets {
                    query = query.bind(t);
                }
                for row in query.fetch_all(&mut *tx).await? {
                    if let Some(t) = row.ticket_id.clone() {
                        by_ticket.entry(t).or_default().push(row);
                    }
                }
            }
            // Rows as they will be, and whether each is new.
            let mut is_new: HashMap<String, bool> = HashMap::new();
            let mut loose: Vec<ScanRow> = Vec::new();
            for (id, report) in &changed {
                // Take an overridden row out of the ticket it was filed under.
                let previous = stored.get(id).cloned();
                if let Some(t) = previous.as_ref().and_then(|r| r.ticket_id.as_ref())
                    && let Some(rows) = by_ticket.get_mut(t)
                {
                    rows.retain(|r| &r.id != id);
                }
                is_new.insert(id.clone(), previous.is_none());
                let mut row = previous.unwrap_or_else(|| ScanRow {
                    id: id.clone(),
                    device_id: device.id.clone(),
                    ticket_id: None,
                    device_time_ms: 0,
                    gate: String::new(),
                    direction: String::new(),
                    decision: String::new(),
                    reason: None,
                    classification: String::new(),
                    seq: 0,
                    alerted_at: None,
                });
                let mut report = report.clone();
                if online
                    && report.decision == "admitted"
                    && report.direction == "entry"
                    && let Some(t) = &report.ticket_id
                {
                    let mut history: Vec<&ScanRow> = by_ticket
                        .get(t)
                        .map(|v| v.iter().collect())
                        .unwrap_or_default();
                    history
                        .sort_by(|a, b| (a.device_time_ms, &a.id).cmp(&(b.device_time_ms, &b.id)));
                    let (_, standing) = classify(
                        history
                            .iter()
                            .map(|r| (r.decision.as_str(), r.direction.as_str())),
                        re_entry,
                    );
                    let revoked: Option<(String,)> = sqlx::query_as(
                        "SELECT id FROM tickets WHERE id = $1 AND event_id = $2 \
                         AND status = 'revoked'",
                    )
                    .bind(t)
                    .bind(&device.event_id)
                    .fetch_optional(&mut *tx)
                    .await?;
                    let refusal = if revoked.is_some() {
                        Some("revoked")
                    } else {
                        standing.refuses_entry(re_entry).map(ScanRejection::code)
                    };
                    if let Some(reason) = refusal {
                        report.decision = "rejected".into();
                        report.reason = Some(reason.into());
                    }
                }
                row.take_report(&report);
                match &row.ticket_id {
                    Some(t) => by_ticket.entry(t.clone()).or_default().push(row),
                    None => loose.push(row),
                }
            }

            // Re-fold each touched ticket; every row whose class is new or changed takes
            // the next sequence number.
            let mut writes: Vec<ScanRow> = Vec::new();
            let mut alerts: Vec<(ScanRow, ScanRow)> = Vec::new();
            for rows in by_ticket.values_mut() {
                rows.sort_by(|a, b| (a.device_time_ms, &a.id).cmp(&(b.device_time_ms, &b.id)));
                let (classes, _) = classify(
                    rows.iter()
                        .map(|r| (r.decision.as_str(), r.direction.as_str())),
                    re_entry,
                );
                let first_entry = rows
                    .iter()
                    .zip(&classes)
                    .find(|(_, c)| **c == "admitted")
                    .map(|(r, _)| r.clone());
                for (row, class) in rows.iter_mut().zip(classes) {
                    let touched = changed.contains_key(&row.id);
                    if !touched && row.classification == class {
                        continue;
                    }
                    row.classification = class.to_owned();
                    seq += 1;
                    row.seq = seq;
                    if class == "duplicate_entry" && row.alerted_at.is_none() {
                        row.alerted_at = Some(now);
                        if let Some(first) = &first_entry {
                            alerts.push((row.clone(), first.clone()));
                        }
                    }
                    writes.push(row.clone());
                }
            }
            for mut row in loose {
                row.classification = "rejected".into();
                seq += 1;
                row.seq = seq;
                writes.push(row);
            }

            let (inserts, updates): (Vec<&ScanRow>, Vec<&ScanRow>) = writes
                .iter()
                .partition(|r| is_new.get(&r.id).copied().unwrap_or(false));
            for chunk in inserts.chunks(200) {
                let values = (0..chunk.len())
                    .map(|i| format!("({})", placeholders(i * 14 + 1, 14)))
                    .collect::<Vec<_>>()
                    .join(", ");
                let sql = sqlx::AssertSqlSafe(format!(
                    "INSERT INTO scans (id, list_id, event_id, device_id, ticket_id, \
                     device_time_ms, gate, direction, decision, reason, classification, seq, \
                     received_at, alerted_at) VALUES {values}"
                ));
                let mut query = sqlx::query(sql);
                for r in chunk {
                    query = query
                        .bind(&r.id)
                        .bind(&device.list_id)
                        .bind(&device.event_id)
                        .bind(&device.id)
                        .bind(&r.ticket_id)
                        .bind(r.device_time_ms)
                        .bind(&r.gate)
                        .bind(&r.direction)
                        .bind(&r.decision)
                        .bind(&r.reason)
                        .bind(&r.classification)
                        .bind(r.seq)
                        .bind(now)
                        .bind(r.alerted_at);
                }
                query.execute(&mut *tx).await?;
            }
            for r in updates {
                sqlx::query(
                    "UPDATE scans SET ticket_id = $2, device_time_ms = $3, gate = $4, \
                     direction = $5, decision = $6, reason = $7, classification = $8, \
                     seq = $9, alerted_at = $10 WHERE id = $1",
                )
                .bind(&r.id)
                .bind(&r.ticket_id)
                .bind(r.device_time_ms)
                .bind(&r.gate)
                .bind(&r.direction)
                .bind(&r.decision)
                .bind(&r.reason)
                .bind(&r.classification)
                .bind(r.seq)
                .bind(r.alerted_at)
                .execute(&mut *tx)
                .await?;
            }
            for (dup, first) in &alerts {
                let payload = serde_json::json!({
                    "eventId": device.event_id, "listId": device.list_id,
                    "ticketId": dup.ticket_id, "scanId": dup.id, "deviceId": dup.device_id,
                    "gate": dup.gate, "deviceTimeMs": dup.device_time_ms,
                    "firstScanId": first.id, "firstDeviceId": first.device_id,
                    "firstGate": first.gate, "firstDeviceTimeMs": first.device_time_ms,
                });
                sqlx::query(
                    "INSERT INTO outbox (id, topic, payload, created_at, next_attempt_at) \
                     VALUES ($1, 'scan.duplicate_entry', $2, $3, $3)",
                )
                .bind(uuid::Uuid::now_v7().to_string())
                .bind(payload.to_string())
                .bind(now)
                .execute(&mut *tx)
                .await?;
            }
            sqlx::query("UPDATE scan_counters SET seq = $2 WHERE list_id = $1")
                .bind(&device.list_id)
                .bind(seq)
                .execute(&mut *tx)
                .await?;
            sqlx::query("UPDATE scanner_devices SET last_seen_at = $2 WHERE id = $1")
                .bind(&device.id)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;

            let mut latest: HashMap<String, ScanRow> = stored;
            for row in writes {
                latest.insert(row.id.clone(), row);
            }
            Ok(scans
                .iter()
                .filter_map(|s| latest.get(&s.id).cloned())
                .collect())
        })
    }

    /// Up to `limit` ticket rows of `types` for the snapshot, after ticket id `after`, in id
    /// order: (id, type, status).
    pub async fn snapshot_tickets(
        &self,
        event_id: &str,
        types: &[String],
        after: &str,
        limit: i64,
    ) -> Result<Vec<(String, String, String)>, StoreError> {
        if types.is_empty() {
            return Ok(Vec::new());
        }
        let ins = placeholders(4, types.len());
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT id, ticket_type_id, status FROM tickets \
             WHERE event_id = $1 AND id > $2 AND ticket_type_id IN ({ins}) ORDER BY id LIMIT $3"
        ));
        Ok(with_pool!(self, |pool| {
            let mut query = sqlx::query_as(sql).bind(event_id).bind(after).bind(limit);
            for t in types {
                query = query.bind(t);
            }
            query.fetch_all(pool).await?
        }))
    }

    /// Tickets admitted through a list at least once (exits and re-entries count once).
    pub async fn checked_in(&self, list_id: &str) -> Result<i64, StoreError> {
        let (value,): (i64,) = with_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT COUNT(DISTINCT ticket_id) FROM scans \
                 WHERE list_id = $1 AND classification = 'admitted'",
            )
            .bind(list_id)
            .fetch_one(pool)
            .await?
        });
        Ok(value)
    }

    /// The newest revocation sequence number.
    pub async fn revocation_head(&self) -> Result<i64, StoreError> {
        let (value,): (i64,) = with_pool!(self, |pool| {
            sqlx::query_as("SELECT value FROM counters WHERE name = 'revocation_seq'")
                .fetch_one(pool)
                .await?
        });
        Ok(value)
    }

    /// A list's feed after (revocation seq, scan seq): up to `limit` of each.
    pub async fn scanner_feed(
        &self,
        event_id: &str,
        list_id: &str,
        after_revocation: i64,
        after_scan: i64,
        limit: i64,
    ) -> Result<FeedPage, StoreError> {
        let scans_sql = sqlx::AssertSqlSafe(format!(
            "SELECT {SCAN_COLUMNS} FROM scans WHERE list_id = $1 AND seq > $2 \
             ORDER BY seq LIMIT $3"
        ));
        Ok(with_pool!(self, |pool| {
            let revoked: Vec<(i64, String)> = sqlx::query_as(
                "SELECT seq, ticket_id FROM revocations WHERE event_id = $1 AND seq > $2 \
                 ORDER BY seq LIMIT $3",
            )
            .bind(event_id)
            .bind(after_revocation)
            .bind(limit)
            .fetch_all(pool)
            .await?;
            let scans: Vec<ScanRow> = sqlx::query_as(scans_sql)
                .bind(list_id)
                .bind(after_scan)
                .bind(limit)
                .fetch_all(pool)
                .await?;
            FeedPage { revoked, scans }
        }))
    }

    /// An event's duplicate entries, newest first, each with the entry that came first.
    pub async fn duplicate_alerts(
        &self,
        event_id: &str,
    ) -> Result<Vec<(ScanRow, ScanRow)>, StoreError> {
        let dup_sql = sqlx::AssertSqlSafe(format!(
            "SELECT {SCAN_COLUMNS}, list_id FROM scans \
             WHERE event_id = $1 AND classification = 'duplicate_entry' \
             ORDER BY alerted_at DESC, id DESC LIMIT 1000"
        ));
        let first_sql = format!(
            "SELECT {SCAN_COLUMNS} FROM scans WHERE list_id = $1 AND ticket_id = $2 \
             AND classification = 'admitted' ORDER BY device_time_ms, id LIMIT 1"
        );
        with_pool!(self, |pool| {
            let dups: Vec<DupRow> = sqlx::query_as(dup_sql)
                .bind(event_id)
                .fetch_all(pool)
                .await?;
            let mut alerts = Vec::with_capacity(dups.len());
            for dup in dups {
                let first: Option<ScanRow> = sqlx::query_as(sqlx::AssertSqlSafe(first_sql.clone()))
                    .bind(&dup.list_id)
                    .bind(&dup.scan.ticket_id)
                    .fetch_optional(pool)
                    .await?;
                if let Some(first) = first {
                    alerts.push((dup.scan, first));
                }
            }
            Ok(alerts)
        })
    }
}

#[derive(sqlx::FromRow)]
struct DupRow {
    #[sqlx(flatten)]
    scan: ScanRow,
    list_id: String,
}

/// What the server knows of a ticket a door admitted: its event and type.
#[derive(sqlx::FromRow)]
struct TicketPlace {
    id: String,
    event_id: String,
    ticket_type_id: String,
}

impl Db {
    /// Turns every admitted report this list cannot vouch for into the rejection the door
    /// should have shown: a ticket the server never issued is `invalid` (and names no
    /// ticket), one of another event `wrong_event`, one whose type the list does not admit
    /// `not_on_list`. A door that decides by the same rules never meets this; it guards
    /// against a faulty or forged device turning an unknown ticket into an admission.
    /// Tickets never change event or type and are never deleted, so this read needs no
    /// lock against the push that follows.
    pub async fn refuse_unvouched_tickets(
        &self,
        device: &DeviceRow,
        list_types: &[String],
        scans: &mut [NewScan],
    ) -> Result<(), StoreError> {
        let mut admitted: Vec<&str> = scans
            .iter()
            .filter(|s| s.decision == "admitted")
            .filter_map(|s| s.ticket_id.as_deref())
            .collect();
        admitted.sort_unstable();
        admitted.dedup();
        if admitted.is_empty() {
            return Ok(());
        }
        let ins = placeholders(1, admitted.len());
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT id, event_id, ticket_type_id FROM tickets WHERE id IN ({ins})"
        ));
        let known: Vec<TicketPlace> = with_pool!(self, |pool| {
            let mut query = sqlx::query_as(sql);
            for id in &admitted {
                query = query.bind(*id);
            }
            query.fetch_all(pool).await?
        });
        let known: HashMap<String, TicketPlace> =
            known.into_iter().map(|t| (t.id.clone(), t)).collect();
        for scan in scans.iter_mut().filter(|s| s.decision == "admitted") {
            let (refusal, names_ticket) = match scan.ticket_id.as_ref().and_then(|t| known.get(t)) {
                None => (ScanRejection::Invalid(InvalidCause::UnknownKey), false),
                Some(t) if t.event_id != device.event_id => (ScanRejection::WrongEvent, true),
                Some(t) if !list_types.contains(&t.ticket_type_id) => {
                    (ScanRejection::NotOnList, true)
                }
                Some(_) => continue,
            };
            if !names_ticket {
                scan.ticket_id = None;
            }
            scan.decision = "rejected".into();
            scan.reason = Some(refusal.code().into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_spellings_reach_the_domains_classification() {
        let scans = [
            ("admitted", "entry"),
            ("rejected", "entry"),
            ("admitted", "exit"),
            ("admitted", "entry"),
        ];
        let (classes, standing) = classify(scans, false);
        assert_eq!(
            classes,
            ["admitted", "rejected", "exited", "duplicate_entry"]
        );
        assert_eq!(
            standing.refuses_entry(false).map(ScanRejection::code),
            Some("already_used")
        );
        assert_eq!(classify(scans, true).0[3], "admitted");
    }

    #[test]
    fn placeholders_count_from_their_start() {
        assert_eq!(placeholders(3, 3), "$3, $4, $5");
    }
}
