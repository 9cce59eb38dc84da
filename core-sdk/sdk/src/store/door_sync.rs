//! What a paired door keeps for sync: which scans reached the server and its verdict on
//! them, other doors' scans, the list's tickets, and the pull cursor. A pulled page is
//! applied in one transaction together with its cursor, so an interrupted sync resumes
//! from the last page applied.

use std::collections::BTreeSet;

use guichet_domain::admission::Presence;
use guichet_domain::checkin::Direction;
use rusqlite::{OptionalExtension, Transaction, params};
use uuid::Uuid;

use super::{EventConfig, ScanRecord, Store, uuid_column};
use crate::Error;

/// Where the pull cursor is kept (`client_meta`).
const CURSOR_KEY: &str = "scanner.cursor";

/// A scan as the server relays it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncedScan {
    /// Scan id.
    pub id: Uuid,
    /// The device that took it.
    pub device_id: Uuid,
    /// The ticket, when genuine.
    pub ticket_id: Option<Uuid>,
    /// Device clock, Unix milliseconds.
    pub device_time_ms: i64,
    /// Gate.
    pub gate: String,
    /// Entry or exit.
    pub direction: Direction,
    /// Whether the door let the person through.
    pub admitted: bool,
    /// The rejection code, when refused.
    pub reason: Option<String>,
    /// The server's verdict: `admitted`, `duplicate_entry`, `exited` or `rejected`.
    pub classification: String,
}

/// One pulled page, decoded.
#[derive(Debug, Clone)]
pub struct PulledPage {
    /// The cursor to keep once the page is applied.
    pub cursor: String,
    /// The event's keys and this device's list as the server has them now.
    pub config: EventConfig,
    /// The list's ticket types and their names (every page carries them all).
    pub ticket_types: Vec<(Uuid, String)>,
    /// Snapshot tickets: (ticket, ticket type, revoked).
    pub tickets: Vec<(Uuid, Uuid, bool)>,
    /// Tickets revoked since the last page.
    pub revoked: Vec<Uuid>,
    /// Scans whose verdict is new or changed.
    pub scans: Vec<SyncedScan>,
}

/// What applying a page changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Applied {
    /// Snapshot tickets stored.
    pub tickets: usize,
    /// Revocations learnt.
    pub revoked: usize,
    /// Scans stored or re-classified.
    pub scans: usize,
}

/// A scan as this store knows it, with the server's verdict once known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownScan {
    /// Scan id.
    pub id: Uuid,
    /// The ticket, when genuine.
    pub ticket_id: Option<Uuid>,
    /// Taken by this device (false: relayed from another door).
    pub own: bool,
    /// Whether the door let the person through.
    pub admitted: bool,
    /// The server's verdict, `None` until the server has it.
    pub classification: Option<String>,
}

impl Store {
    /// Takes the server's id for this device (at pairing, so scans carry it).
    pub(crate) fn set_device_id(&mut self, id: Uuid) -> Result<(), Error> {
        self.conn
            .execute("UPDATE device SET device_id = ?1", [id.as_bytes()])?;
        Ok(())
    }

    /// The pull cursor (`None` before the first page).
    pub fn sync_cursor(&self) -> Result<Option<String>, Error> {
        self.meta(CURSOR_KEY)
    }

    /// Applies a pulled page and its cursor atomically.
    pub(crate) fn apply_page(&mut self, page: &PulledPage) -> Result<Applied, Error> {
        let current = self.load_event_config()?;
        let changed = current
            .as_ref()
            .is_none_or(|c| c.keys != page.config.keys || c.list != page.config.list);
        if changed {
            let mut config = page.config.clone();
            if let Some(current) = current {
                config.revocations = current.revocations;
            }
            self.save_event_config(&config)?;
        }
        let event = page.config.keys.event_id();
        let me = self.device_id()?;
        let tx = self.conn.transaction()?;
        let mut touched = BTreeSet::new();
        for (id, name) in &page.ticket_types {
            tx.prepare_cached(
                "INSERT INTO ticket_type_names (id, name) VALUES (?1, ?2)
                 ON CONFLICT (id) DO UPDATE SET name = excluded.name",
            )?
            .execute(params![id.as_bytes(), name])?;
        }
        for (ticket, ticket_type, revoked) in &page.tickets {
            tx.prepare_cached(
                "INSERT INTO list_tickets (ticket_id, ticket_type_id, revoked) VALUES (?1, ?2, ?3)
                 ON CONFLICT (ticket_id) DO UPDATE SET revoked = max(revoked, excluded.revoked)",
            )?
            .execute(params![ticket.as_bytes(), ticket_type.as_bytes(), revoked])?;
            if *revoked {
                revoke(&tx, event, *ticket)?;
            }
        }
        for ticket in &page.revoked {
            revoke(&tx, event, *ticket)?;
        }
        for scan in &page.scans {
            let decision = if scan.admitted {
                "admitted"
            } else {
                "rejected"
            };
            // This door's scan: the server's verdict, and it counts as pushed only if the
            // server holds the decision the door showed (an online question whose answer
            // never came back may have stored another; the next push corrects it). Not
            // stored here yet (its commit is still on its way), it waits with the relayed
            // scans until the commit takes it in.
            let own = scan.device_id == me
                && tx
                    .prepare_cached(
                        "UPDATE scans SET classification = ?2,
                             pushed = max(pushed, decision = ?3)
                         WHERE id = ?1",
                    )?
                    .execute(params![scan.id.as_bytes(), scan.classification, decision])?
                    == 1;
            if !own {
                tx.prepare_cached(
                    "INSERT INTO peer_scans (id, device_id, ticket_id, device_time_ms, gate,
                                             direction, decision, reason, classification)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
                     ON CONFLICT (id) DO UPDATE SET ticket_id = excluded.ticket_id,
                         device_time_ms = excluded.device_time_ms, gate = excluded.gate,
                         direction = excluded.direction, decision = excluded.decision,
                         reason = excluded.reason, classification = excluded.classification",
                )?
                .execute(params![
                    scan.id.as_bytes(),
                    scan.device_id.as_bytes(),
                    scan.ticket_id.as_ref().map(|t| t.as_bytes()),
                    scan.device_time_ms,
                    scan.gate,
                    scan.direction.as_str(),
                    decision,
                    scan.reason,
                    scan.classification,
                ])?;
            }
            if let Some(ticket) = scan.ticket_id {
                touched.insert(ticket);
            }
        }
        for ticket in &touched {
            refold_presence(&tx, ticket)?;
        }
        tx.execute(
            "INSERT INTO client_meta (key, value) VALUES (?1, ?2)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            params![CURSOR_KEY, page.cursor],
        )?;
        tx.commit()?;
        Ok(Applied {
            tickets: page.tickets.len(),
            revoked: page.revoked.len(),
            scans: page.scans.len(),
        })
    }

    /// Up to `limit` of this device's scans the server does not have yet, oldest first.
    pub(crate) fn unpushed(&self, limit: usize) -> Result<Vec<ScanRecord>, Error> {
        let ids: Vec<Uuid> = self
            .conn
            .prepare_cached("SELECT id FROM scans WHERE pushed = 0 ORDER BY id LIMIT ?1")?
            .query_map([limit as i64], |r| uuid_column(r, 0))?
            .collect::<Result<_, _>>()?;
        let mut scans = Vec::with_capacity(ids.len());
        for id in ids {
            scans.extend(self.scan(&id)?);
        }
        Ok(scans)
    }

    /// Records the server's verdicts on pushed scans (and that it has them).
    pub(crate) fn mark_pushed(&mut self, verdicts: &[(Uuid, String)]) -> Result<(), Error> {
        let tx = self.conn.transaction()?;
        for (id, class) in verdicts {
            tx.prepare_cached("UPDATE scans SET pushed = 1, classification = ?2 WHERE id = ?1")?
                .execute(params![id.as_bytes(), class])?;
        }
        tx.commit()?;
        Ok(())
    }

    /// A ticket type's name, as the last pull gave it (`None` before a pull named it, or on
    /// a door opened from an exported configuration).
    pub fn ticket_type_name(&self, id: &Uuid) -> Result<Option<String>, Error> {
        Ok(self
            .conn
            .prepare_cached("SELECT name FROM ticket_type_names WHERE id = ?1")?
            .query_row([id.as_bytes()], |r| r.get(0))
            .optional()?)
    }

    /// How many of this device's scans wait for a push.
    pub fn unpushed_count(&self) -> Result<i64, Error> {
        Ok(self
            .conn
            .query_row("SELECT count(*) FROM scans WHERE pushed = 0", [], |r| {
                r.get(0)
            })?)
    }

    /// Every scan known here, this device's and the synced ones, with the server's verdict.
    pub fn known_scans(&self) -> Result<Vec<KnownScan>, Error> {
        let mut stmt = self.conn.prepare(
            "SELECT id, ticket_id, 1, reason IS NULL, classification FROM scans
             UNION ALL
             SELECT id, ticket_id, 0, decision = 'admitted', classification FROM peer_scans
             ORDER BY 1",
        )?;
        let rows = stmt.query_map([], |r| {
            let ticket: Option<[u8; 16]> = r.get(1)?;
            Ok(KnownScan {
                id: uuid_column(r, 0)?,
                ticket_id: ticket.map(Uuid::from_bytes),
                own: r.get(2)?,
                admitted: r.get(3)?,
                classification: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// How many of the list's tickets the snapshot brought, and how many are revoked.
    pub fn list_ticket_counts(&self) -> Result<(i64, i64), Error> {
        Ok(self.conn.query_row(
            "SELECT count(*), coalesce(sum(revoked), 0) FROM list_tickets",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?)
    }

    /// Forgets the event: keys, list, revocations, tickets, presence, scans, cursor. What
    /// stays is the device id and the server it belonged to.
    pub(crate) fn wipe_event(&mut self) -> Result<(), Error> {
        let tx = self.conn.transaction()?;
        tx.execute_batch(
            "UPDATE device SET list_id = NULL;
             DELETE FROM checkin_lists;
             DELETE FROM event_keys;
             DELETE FROM revocations;
             DELETE FROM tickets;
             DELETE FROM presence;
             DELETE FROM scans;
             DELETE FROM peer_scans;
             DELETE FROM list_tickets;
             DELETE FROM ticket_type_names;",
        )?;
        tx.execute("DELETE FROM client_meta WHERE key = ?1", [CURSOR_KEY])?;
        tx.commit()?;
        Ok(())
    }

    /// Whether this store holds an event (keys, list).
    pub fn is_configured(&self) -> Result<bool, Error> {
        Ok(self
            .conn
            .query_row("SELECT 1 FROM device WHERE list_id IS NOT NULL", [], |r| {
                r.get::<_, i64>(0)
            })
            .optional()?
            .is_some())
    }
}

fn revoke(tx: &Transaction<'_>, event: Uuid, ticket: Uuid) -> Result<(), Error> {
    tx.prepare_cached(
        "INSERT INTO revocations (ticket_id, event_id) VALUES (?1, ?2)
         ON CONFLICT (ticket_id) DO NOTHING",
    )?
    .execute([ticket.as_bytes(), event.as_bytes()])?;
    tx.prepare_cached("UPDATE list_tickets SET revoked = 1 WHERE ticket_id = ?1")?
        .execute([ticket.as_bytes()])?;
    Ok(())
}

/// Recomputes a ticket's presence from every admitted scan known here, in the server's
/// order (device time, then scan id), stores it and returns it.
pub(super) fn refold_presence(tx: &Transaction<'_>, ticket: &Uuid) -> Result<Presence, Error> {
    let mut stmt = tx.prepare_cached(
        "SELECT direction FROM (
             SELECT device_time_ms AS t, id, direction FROM scans
              WHERE ticket_id = ?1 AND reason IS NULL
             UNION ALL
             SELECT device_time_ms, id, direction FROM peer_scans
              WHERE ticket_id = ?1 AND decision = 'admitted'
         ) ORDER BY t, id",
    )?;
    let directions = stmt
        .query_map([ticket.as_bytes()], |r| r.get::<_, String>(0))?
        .collect::<Result<Vec<_>, _>>()?;
    let history = directions
        .iter()
        .map(|d| Direction::parse(d).ok_or(Error::Corrupt("scan direction")))
        .collect::<Result<Vec<_>, _>>()?;
    let presence = Presence::from_history(history);
    tx.prepare_cached(
        "INSERT INTO presence (ticket_id, entries, inside) VALUES (?1, ?2, ?3)
         ON CONFLICT (ticket_id) DO UPDATE SET entries = excluded.entries,
             inside = excluded.inside",
    )?
    .execute(params![
        ticket.as_bytes(),
        presence.entries,
        presence.inside
    ])?;
    Ok(presence)
}
