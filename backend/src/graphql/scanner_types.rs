//! The scanner API's types: check-in lists, pairings, devices, scans and sync pages.

use async_graphql::{ComplexObject, Context, Enum, ID, InputObject, SimpleObject};
use chrono::{DateTime, Utc};

use super::orders::EventKey;
use super::types::instant;
use crate::db::scanners::{CheckInListRecord, DeviceRow};

/// Which tickets a door admits, at which gates, and whether people may come back in.
#[derive(SimpleObject, Debug, Clone)]
#[graphql(complex)]
pub struct CheckInList {
    /// The list.
    pub id: ID,
    /// Its event.
    pub event_id: ID,
    /// Display name.
    pub name: String,
    /// Ticket types admitted.
    pub ticket_type_ids: Vec<ID>,
    /// Gates it is used at.
    pub gates: Vec<String>,
    /// Whether a ticket that went out may come back in.
    pub re_entry: bool,
}

#[ComplexObject]
impl CheckInList {
    /// Tickets admitted through this list at least once (its check-in count), as far as
    /// the doors' scans have reached the server.
    async fn checked_in(&self, ctx: &Context<'_>) -> async_graphql::Result<i64> {
        let state = ctx
            .data::<crate::AppState>()
            .map_err(|e| crate::error::ApiError::internal(&e.message))?;
        let count = state.db.checked_in(&self.id).await;
        Ok(count.map_err(crate::error::ApiError::from)?)
    }
}

impl From<CheckInListRecord> for CheckInList {
    fn from(r: CheckInListRecord) -> CheckInList {
        CheckInList {
            id: ID(r.id),
            event_id: ID(r.event_id),
            name: r.name,
            ticket_type_ids: r.ticket_type_ids.into_iter().map(ID).collect(),
            gates: r.gates,
            re_entry: r.re_entry,
        }
    }
}

/// A new check-in list.
#[derive(InputObject, Debug)]
pub struct CheckInListInput {
    /// Display name, 1 to 100 characters.
    pub name: String,
    /// Ticket types admitted: at least one, each a ticket type of the event.
    pub ticket_type_ids: Vec<ID>,
    /// Gates: at least one, 1 to 100 characters each.
    pub gates: Vec<String>,
    /// Whether a ticket that went out may come back in.
    #[graphql(default = false)]
    pub re_entry: bool,
}

/// A one-time code that pairs one scanner device with a check-in list.
#[derive(SimpleObject, Debug)]
pub struct ScannerPairing {
    /// The code to type in (`XXXX-XXXX`; case and dash do not matter). Works once.
    pub code: String,
    /// What the pairing QR encodes: `GUICHET-PAIR:` and the code without its dash.
    pub qr_text: String,
    /// That QR code as SVG.
    pub qr_svg: String,
    /// The code stops working then (15 minutes after it was made).
    pub expires_at: DateTime<Utc>,
    /// The list the device will scan for.
    pub list: CheckInList,
}

/// A paired scanner device.
#[derive(SimpleObject, Debug)]
pub struct ScannerDevice {
    /// The device.
    pub id: ID,
    /// The name given when pairing.
    pub name: String,
    /// The one event it scans for.
    pub event_id: ID,
    /// The one list it is paired to.
    pub list_id: ID,
    /// Paired at.
    pub paired_at: DateTime<Utc>,
    /// Last pull or push.
    pub last_seen_at: Option<DateTime<Utc>>,
    /// Revoked at: the device's token stops working and it wipes its event data.
    pub revoked_at: Option<DateTime<Utc>>,
}

impl From<DeviceRow> for ScannerDevice {
    fn from(d: DeviceRow) -> ScannerDevice {
        ScannerDevice {
            id: ID(d.id),
            name: d.name,
            event_id: ID(d.event_id),
            list_id: ID(d.list_id),
            paired_at: instant(d.paired_at),
            last_seen_at: d.last_seen_at.map(instant),
            revoked_at: d.revoked_at.map(instant),
        }
    }
}

/// A redeemed pairing: the device and its secret token.
#[derive(SimpleObject, Debug)]
pub struct ScannerEnrollment {
    /// The device as the organizer sees it.
    pub device: ScannerDevice,
    /// The device's secret (`gsd_…`): shown once, stored by the server only as a hash.
    pub device_token: String,
}

/// Which way a person goes through a gate.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScanDirection {
    /// Coming in.
    Entry,
    /// Going out.
    Exit,
}

/// What the door showed.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScanDecision {
    /// Let in (or out).
    Admitted,
    /// Refused, with a reason.
    Rejected,
}

/// The server's verdict on a scan, from every device's scans of the ticket on its list.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScanClass {
    /// A valid entry.
    Admitted,
    /// An entry of a ticket already inside, or already used on a list without re-entry:
    /// someone got in twice.
    DuplicateEntry,
    /// An exit.
    Exited,
    /// The door refused it.
    Rejected,
}

/// A scan as a device reports it.
#[derive(InputObject, Debug, Clone)]
pub struct ScanInput {
    /// UUID made by the device: the idempotency key.
    pub id: ID,
    /// The ticket, when its credential was genuine; null otherwise.
    pub ticket_id: Option<ID>,
    /// Device clock at the scan (millisecond precision).
    pub device_time: DateTime<Utc>,
    /// Gate, one of the list's.
    pub gate: String,
    /// Entry or exit.
    pub direction: ScanDirection,
    /// What the door showed.
    pub decision: ScanDecision,
    /// The rejection code (`already_used`, `revoked`, …) iff REJECTED.
    pub reason: Option<String>,
}

/// The stored verdict on a pushed scan.
#[derive(SimpleObject, Debug, Clone)]
pub struct ScanResult {
    /// The scan.
    pub id: ID,
    /// The decision as stored (`admitScan` may turn ADMITTED into REJECTED).
    pub decision: ScanDecision,
    /// The rejection code, when rejected.
    pub reason: Option<String>,
    /// The server's verdict.
    pub classification: ScanClass,
}

/// A stored scan.
#[derive(SimpleObject, Debug, Clone)]
pub struct Scan {
    /// The scan.
    pub id: ID,
    /// The device that took it.
    pub device_id: ID,
    /// The ticket, when genuine.
    pub ticket_id: Option<ID>,
    /// Device clock at the scan.
    pub device_time: DateTime<Utc>,
    /// Gate.
    pub gate: String,
    /// Entry or exit.
    pub direction: ScanDirection,
    /// What the door showed.
    pub decision: ScanDecision,
    /// The rejection code, when rejected.
    pub reason: Option<String>,
    /// The server's verdict.
    pub classification: ScanClass,
}

/// Someone got in twice: the duplicate entry and the entry that came first.
#[derive(SimpleObject, Debug)]
pub struct DuplicateAlert {
    /// The entry classified DUPLICATE_ENTRY.
    pub scan: Scan,
    /// The first entry of that ticket.
    pub first_entry: Scan,
    /// When the server saw the duplicate.
    pub detected_at: DateTime<Utc>,
}

/// A ticket type as a door shows it: its id and name.
#[derive(SimpleObject, Debug, Clone)]
pub struct ScannerTicketType {
    /// The ticket type.
    pub id: ID,
    /// Its name, as the organizer typed it.
    pub name: String,
}

/// One page of a scanner's pull.
#[derive(SimpleObject, Debug)]
pub struct ScannerSyncPage {
    /// Pass back as `cursor` for the next page.
    pub cursor: String,
    /// Whether more is waiting now.
    pub has_more: bool,
    /// The list this device is paired to.
    pub list: CheckInList,
    /// The event's key ring.
    pub keys: Vec<EventKey>,
    /// What the type indexes in `tickets` refer to.
    pub ticket_type_ids: Vec<ID>,
    /// The list's ticket types with their names, so a door names them offline.
    pub ticket_types: Vec<ScannerTicketType>,
    /// First pull only (the snapshot): the list's tickets, packed as base64 of 18-byte
    /// records: 16-byte ticket UUID, 1-byte index into `ticketTypeIds`, 1-byte status
    /// (0 valid, 1 revoked).
    pub tickets: String,
    /// Ticket ids revoked after the cursor: base64 of 16-byte UUIDs.
    pub revoked: String,
    /// Scans of this list (every device's) whose class is new or changed after the cursor.
    pub scans: Vec<Scan>,
}
