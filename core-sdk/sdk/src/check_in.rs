//! The organizer's side of the doors: check-in lists, one-time pairing codes for scanner
//! devices, the devices and their revocation, and duplicate-entry alerts.

use chrono::{DateTime, Utc};

use crate::Error;
use crate::api::operations::{
    CheckInLists, CreateCheckInList, DuplicateAlerts, PairScanner, RevokeScanner, ScannerDevices,
    check_in_lists, create_check_in_list, duplicate_alerts, pair_scanner, revoke_scanner,
    scanner_devices,
};
pub use crate::client::CheckIn;

/// Which tickets a door admits, at which gates, and whether people may come back in.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct CheckInListInfo {
    /// The list.
    pub id: String,
    /// Its event.
    pub event_id: String,
    /// Display name.
    pub name: String,
    /// Ticket types admitted.
    pub ticket_type_ids: Vec<String>,
    /// Gates it is used at.
    pub gates: Vec<String>,
    /// Whether a ticket that went out may come back in.
    pub re_entry: bool,
    /// Tickets admitted through it at least once, as far as scans reached the server.
    pub checked_in: i64,
}

/// A new check-in list.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct CheckInListDraft {
    /// Display name, 1 to 100 characters.
    pub name: String,
    /// Ticket types admitted (at least one).
    pub ticket_type_ids: Vec<String>,
    /// Gates (at least one).
    pub gates: Vec<String>,
    /// Whether a ticket that went out may come back in.
    pub re_entry: bool,
}

/// A one-time code that pairs one scanner with a list: type it, or scan its QR code.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct ScannerPairing {
    /// The code to type (`XXXX-XXXX`), works once.
    pub code: String,
    /// What the QR code encodes.
    pub qr_text: String,
    /// The QR code as SVG.
    pub qr_svg: String,
    /// The code stops working then.
    pub expires_at: DateTime<Utc>,
    /// The list the scanner will serve.
    pub list: CheckInListInfo,
}

/// A paired scanner device.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct ScannerDevice {
    /// The device.
    pub id: String,
    /// The name given when pairing.
    pub name: String,
    /// Its event.
    pub event_id: String,
    /// Its list.
    pub list_id: String,
    /// Paired at.
    pub paired_at: DateTime<Utc>,
    /// Its last pull or push.
    pub last_seen_at: Option<DateTime<Utc>>,
    /// Revoked at (it stops working and wipes its data).
    pub revoked_at: Option<DateTime<Utc>>,
}

/// One scan in a duplicate-entry alert.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct AlertScan {
    /// The scan.
    pub id: String,
    /// The device that made it.
    pub device_id: String,
    /// The ticket.
    pub ticket_id: Option<String>,
    /// The device's clock at the scan.
    pub device_time: DateTime<Utc>,
    /// The gate.
    pub gate: String,
}

/// A ticket that got in twice.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct DuplicateAlert {
    /// The entry classified as a duplicate.
    pub scan: AlertScan,
    /// The first entry of that ticket.
    pub first_entry: AlertScan,
    /// When the server saw the duplicate.
    pub detected_at: DateTime<Utc>,
}

macro_rules! list_from {
    ($l:expr) => {{
        let l = $l;
        CheckInListInfo {
            id: l.id,
            event_id: l.event_id,
            name: l.name,
            ticket_type_ids: l.ticket_type_ids,
            gates: l.gates,
            re_entry: l.re_entry,
            checked_in: l.checked_in,
        }
    }};
}

macro_rules! device_from {
    ($d:expr) => {{
        let d = $d;
        ScannerDevice {
            id: d.id,
            name: d.name,
            event_id: d.event_id,
            list_id: d.list_id,
            paired_at: d.paired_at,
            last_seen_at: d.last_seen_at,
            revoked_at: d.revoked_at,
        }
    }};
}

macro_rules! alert_scan_from {
    ($s:expr) => {{
        let s = $s;
        AlertScan {
            id: s.id,
            device_id: s.device_id,
            ticket_id: s.ticket_id,
            device_time: s.device_time,
            gate: s.gate,
        }
    }};
}

impl CheckIn {
    /// An event's check-in lists.
    pub async fn lists(&self, event_id: &str) -> Result<Vec<CheckInListInfo>, Error> {
        let variables = check_in_lists::Variables {
            event_id: event_id.to_owned(),
        };
        let data = self.client.authed::<CheckInLists>(variables, true).await?;
        Ok(data
            .check_in_lists
            .into_iter()
            .map(|l| list_from!(l))
            .collect())
    }

    /// Creates a check-in list for an event.
    pub async fn create_list(
        &self,
        event_id: &str,
        draft: CheckInListDraft,
    ) -> Result<CheckInListInfo, Error> {
        let variables = create_check_in_list::Variables {
            event_id: event_id.to_owned(),
            input: create_check_in_list::CheckInListInput {
                name: draft.name,
                ticket_type_ids: draft.ticket_type_ids,
                gates: draft.gates,
                re_entry: draft.re_entry,
            },
        };
        let data = self
            .client
            .authed::<CreateCheckInList>(variables, false)
            .await?;
        Ok(list_from!(data.create_check_in_list))
    }

    /// Makes a one-time code (and its QR code) that pairs a scanner with `list_id`.
    pub async fn pair_scanner(&self, list_id: &str) -> Result<ScannerPairing, Error> {
        let variables = pair_scanner::Variables {
            list_id: list_id.to_owned(),
        };
        let p = self
            .client
            .authed::<PairScanner>(variables, false)
            .await?
            .pair_scanner;
        Ok(ScannerPairing {
            code: p.code,
            qr_text: p.qr_text,
            qr_svg: p.qr_svg,
            expires_at: p.expires_at,
            list: list_from!(p.list),
        })
    }

    /// An event's paired scanners, revoked ones included.
    pub async fn devices(&self, event_id: &str) -> Result<Vec<ScannerDevice>, Error> {
        let variables = scanner_devices::Variables {
            event_id: event_id.to_owned(),
        };
        let data = self
            .client
            .authed::<ScannerDevices>(variables, true)
            .await?;
        Ok(data
            .scanner_devices
            .into_iter()
            .map(|d| device_from!(d))
            .collect())
    }

    /// Revokes a scanner: its token stops working and it wipes the event's data.
    pub async fn revoke_scanner(&self, device_id: &str) -> Result<ScannerDevice, Error> {
        let variables = revoke_scanner::Variables {
            device_id: device_id.to_owned(),
        };
        let data = self.client.authed::<RevokeScanner>(variables, true).await?;
        Ok(device_from!(data.revoke_scanner))
    }

    /// Tickets that got in twice at an event, newest first.
    pub async fn duplicate_alerts(&self, event_id: &str) -> Result<Vec<DuplicateAlert>, Error> {
        let variables = duplicate_alerts::Variables {
            event_id: event_id.to_owned(),
        };
        let data = self
            .client
            .authed::<DuplicateAlerts>(variables, true)
            .await?;
        Ok(data
            .duplicate_alerts
            .into_iter()
            .map(|a| DuplicateAlert {
                scan: alert_scan_from!(a.scan),
                first_entry: alert_scan_from!(a.first_entry),
                detected_at: a.detected_at,
            })
            .collect())
    }
}
