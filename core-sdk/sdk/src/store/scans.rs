//! Scans and the tickets they concern.

use guichet_domain::admission::{Decision, Presence, ScanRejection};
use guichet_domain::checkin::Direction;
use guichet_domain::credential::TicketClaims;
use rusqlite::{OptionalExtension, Row, TransactionBehavior, params};
use uuid::Uuid;

use super::door_sync::refold_presence;
use super::{Store, uuid_column};
use crate::Error;

/// One scan as stored: every scan is kept, admitted or not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanRecord {
    /// Unique scan id (UUIDv7: time-ordered), the key for exactly-once sync.
    pub id: Uuid,
    /// The device that scanned.
    pub device_id: Uuid,
    /// The check-in list it was judged against.
    pub list_id: Uuid,
    /// Device clock at the scan, unix milliseconds.
    pub device_time_ms: i64,
    /// The gate.
    pub gate: String,
    /// Entry or exit.
    pub direction: Direction,
    /// The decision shown.
    pub decision: Decision,
    /// The ticket, when the credential proved genuine.
    pub ticket_id: Option<Uuid>,
}

#[cfg(any(test, feature = "internals"))]
/// A ticket this device has verified at least once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketRecord {
    /// What its credential certifies.
    pub claims: TicketClaims,
    /// Where it is.
    pub presence: Presence,
    /// Whether it is revoked.
    pub revoked: bool,
}

impl Store {
    /// A ticket's presence from the admitted scans known here: this device's, and other
    /// doors' once synced (never seen: no entries).
    pub fn presence(&self, ticket_id: &Uuid) -> Result<Presence, Error> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT entries, inside FROM presence WHERE ticket_id = ?1")?;
        let found = stmt
            .query_row([ticket_id.as_bytes()], |r| {
                Ok(Presence {
                    entries: r.get(0)?,
                    inside: r.get(1)?,
                })
            })
            .optional()?;
        Ok(found.unwrap_or(Presence::NEVER_SEEN))
    }

    /// Commits a scan durably, with the ticket's presence folded again, in one
    /// transaction: when this returns, the scan is on disk. `verdict` is the server's
    /// classification when the server already has the scan (an online decision).
    ///
    /// A pull running while the door waited for its online answer may have relayed this
    /// very scan already (filed with other doors' scans, since it was not stored here yet):
    /// the relayed copy is taken in, its classification being the newer one, and the scan
    /// counts as pushed only if the server holds the decision the door showed.
    pub(crate) fn record_scan(
        &mut self,
        scan: &ScanRecord,
        ticket: Option<&TicketClaims>,
        verdict: Option<&str>,
    ) -> Result<(), Error> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let (decision, reason, detail) = match scan.decision {
            Decision::Admitted => ("admitted", None, None),
            Decision::Rejected(r) => ("rejected", Some(r.code()), Some(r.detail())),
        };
        let relayed: Option<(String, String)> = tx
            .prepare_cached(
                "DELETE FROM peer_scans WHERE id = ?1 AND device_id = ?2
                 RETURNING decision, classification",
            )?
            .query_row([scan.id.as_bytes(), scan.device_id.as_bytes()], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .optional()?;
        let (pushed, classification) = match &relayed {
            Some((held, class)) => (held == decision, Some(class.as_str())),
            None => (verdict.is_some(), verdict),
        };
        tx.prepare_cached(
            "INSERT INTO scans (id, device_id, list_id, device_time_ms, gate, direction,
                                decision, reason, reason_detail, ticket_id, pushed,
                                classification)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
        )?
        .execute(params![
            scan.id.as_bytes(),
            scan.device_id.as_bytes(),
            scan.list_id.as_bytes(),
            scan.device_time_ms,
            scan.gate,
            scan.direction.as_str(),
            decision,
            reason,
            detail,
            scan.ticket_id.as_ref().map(|t| t.as_bytes()),
            pushed,
            classification,
        ])?;
        let presence = match scan.ticket_id {
            Some(ticket_id) => refold_presence(&tx, &ticket_id)?,
            None => Presence::default(),
        };
        if let Some(claims) = ticket {
            // The last admitted scan is the ticket's last scan; a refusal leaves it.
            let last = if scan.decision.is_admitted() {
                ", last_scan_id = excluded.last_scan_id"
            } else {
                ""
            };
            tx.prepare_cached(&format!(
                "INSERT INTO tickets (ticket_id, event_id, ticket_type_id, valid_from,
                                      valid_until, entries, inside, last_scan_id)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
                 ON CONFLICT (ticket_id) DO UPDATE SET entries = excluded.entries,
                     inside = excluded.inside{last}"
            ))?
            .execute(params![
                claims.ticket_id.as_bytes(),
                claims.event_id.as_bytes(),
                claims.ticket_type_id.as_bytes(),
                claims.validity.from(),
                claims.validity.until(),
                presence.entries,
                presence.inside,
                scan.id.as_bytes(),
            ])?;
        }
        tx.commit()?;
        Ok(())
    }

    /// One scan by id.
    pub fn scan(&self, id: &Uuid) -> Result<Option<ScanRecord>, Error> {
        let mut stmt = self
            .conn
            .prepare_cached(&format!("{SELECT_SCAN} WHERE id = ?1"))?;
        let row = stmt.query_row([id.as_bytes()], read_scan_row).optional()?;
        row.map(into_scan).transpose()
    }

    #[cfg(any(test, feature = "internals"))]
    /// Every scan, in the order sync uses: device time, then scan id.
    pub fn scans(&self) -> Result<Vec<ScanRecord>, Error> {
        let mut stmt = self
            .conn
            .prepare(&format!("{SELECT_SCAN} ORDER BY device_time_ms, id"))?;
        let rows = stmt
            .query_map([], read_scan_row)?
            .collect::<Result<Vec<_>, _>>()?;
        rows.into_iter().map(into_scan).collect()
    }

    #[cfg(any(test, feature = "internals"))]
    /// How many scans are stored.
    pub fn scan_count(&self) -> Result<i64, Error> {
        Ok(self
            .conn
            .query_row("SELECT count(*) FROM scans", [], |r| r.get(0))?)
    }

    #[cfg(any(test, feature = "internals"))]
    /// A known ticket.
    pub fn ticket(&self, ticket_id: &Uuid) -> Result<Option<TicketRecord>, Error> {
        let row = self
            .conn
            .query_row(
                "SELECT t.event_id, t.ticket_type_id, t.valid_from, t.valid_until,
                        coalesce(p.entries, 0), coalesce(p.inside, 0), r.ticket_id IS NOT NULL
                 FROM tickets t LEFT JOIN revocations r ON r.ticket_id = t.ticket_id
                 LEFT JOIN presence p ON p.ticket_id = t.ticket_id
                 WHERE t.ticket_id = ?1",
                [ticket_id.as_bytes()],
                |r| {
                    Ok((
                        uuid_column(r, 0)?,
                        uuid_column(r, 1)?,
                        r.get::<_, i64>(2)?,
                        r.get::<_, i64>(3)?,
                        Presence {
                            entries: r.get(4)?,
                            inside: r.get(5)?,
                        },
                        r.get::<_, bool>(6)?,
                    ))
                },
            )
            .optional()?;
        let Some((event_id, ticket_type_id, from, until, presence, revoked)) = row else {
            return Ok(None);
        };
        let validity = guichet_domain::credential::Validity::new(from, until)
            .map_err(|_| Error::Corrupt("ticket validity"))?;
        let claims = TicketClaims {
            ticket_id: *ticket_id,
            event_id,
            ticket_type_id,
            validity,
        };
        Ok(Some(TicketRecord {
            claims,
            presence,
            revoked,
        }))
    }
}

const SELECT_SCAN: &str = "SELECT id, device_id, list_id, device_time_ms, gate, direction,
                                  reason, reason_detail, ticket_id FROM scans";

type ScanRow = (
    Uuid,
    Uuid,
    Uuid,
    i64,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<Uuid>,
);

fn read_scan_row(r: &Row<'_>) -> rusqlite::Result<ScanRow> {
    let ticket: Option<[u8; 16]> = r.get(8)?;
    Ok((
        uuid_column(r, 0)?,
        uuid_column(r, 1)?,
        uuid_column(r, 2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
        r.get(7)?,
        ticket.map(Uuid::from_bytes),
    ))
}

fn into_scan(row: ScanRow) -> Result<ScanRecord, Error> {
    let (id, device_id, list_id, device_time_ms, gate, direction, reason, detail, ticket_id) = row;
    let direction = Direction::parse(&direction).ok_or(Error::Corrupt("scan direction"))?;
    let decision = match (reason, detail) {
        (None, _) => Decision::Admitted,
        (Some(code), detail) => Decision::Rejected(
            ScanRejection::from_codes(&code, detail.as_deref().unwrap_or(&code))
                .ok_or(Error::Corrupt("scan reason"))?,
        ),
    };
    Ok(ScanRecord {
        id,
        device_id,
        list_id,
        device_time_ms,
        gate,
        direction,
        decision,
        ticket_id,
    })
}
