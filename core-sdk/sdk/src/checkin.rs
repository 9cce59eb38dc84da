//! An organizer's door set-up: check-in lists (which ticket types, which gates, re-entry)
//! and the one-time codes that pair a scanner device with a list.

use chrono::{DateTime, Utc};

use crate::api::operations::{
    CheckInLists, CreateCheckInList, PairScanner, check_in_lists, create_check_in_list,
    pair_scanner,
};
use crate::{Client, Error};

/// A new check-in list.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct CheckInListDraft {
    /// Display name, 1 to 100 characters.
    pub name: String,
    /// Ticket types admitted: at least one, each of the event.
    pub ticket_type_ids: Vec<String>,
    /// Gates: at least one.
    pub gates: Vec<String>,
    /// Whether a ticket that went out may come back in.
    pub re_entry: bool,
}

/// A check-in list as the server keeps it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct CheckInListInfo {
    /// The list.
    pub id: String,
    /// Its event.
    pub event_id: String,
    /// What it admits and where.
    pub details: CheckInListDraft,
}

/// A one-time code that pairs one scanner device with a check-in list.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct PairingCode {
    /// The code to type in (`XXXX-XXXX`); works once.
    pub code: String,
    /// What the pairing QR code encodes.
    pub qr_text: String,
    /// That QR code as SVG.
    pub qr_svg: String,
    /// The code stops working then.
    pub expires_at: DateTime<Utc>,
    /// The list the device will scan for.
    pub list: CheckInListInfo,
}

macro_rules! list_from {
    ($l:expr) => {{
        let l = $l;
        CheckInListInfo {
            id: l.id,
            event_id: l.event_id,
            details: CheckInListDraft {
                name: l.name,
                ticket_type_ids: l.ticket_type_ids,
                gates: l.gates,
                re_entry: l.re_entry,
            },
        }
    }};
}

impl Client {
    /// Creates a check-in list for one of the signed-in organizer's events.
    pub async fn create_check_in_list(
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
        let data = self.authed::<CreateCheckInList>(variables, false).await?;
        Ok(list_from!(data.create_check_in_list))
    }

    /// An event's check-in lists.
    pub async fn check_in_lists(&self, event_id: &str) -> Result<Vec<CheckInListInfo>, Error> {
        let variables = check_in_lists::Variables {
            event_id: event_id.to_owned(),
        };
        let data = self.authed::<CheckInLists>(variables, true).await?;
        Ok(data
            .check_in_lists
            .into_iter()
            .map(|l| list_from!(l))
            .collect())
    }

    /// Makes a one-time code (valid 15 minutes) that pairs a scanner with `list_id`.
    pub async fn pair_scanner(&self, list_id: &str) -> Result<PairingCode, Error> {
        let variables = pair_scanner::Variables {
            list_id: list_id.to_owned(),
        };
        let data = self.authed::<PairScanner>(variables, false).await?;
        let p = data.pair_scanner;
        Ok(PairingCode {
            code: p.code,
            qr_text: p.qr_text,
            qr_svg: p.qr_svg,
            expires_at: p.expires_at,
            list: list_from!(p.list),
        })
    }
}
