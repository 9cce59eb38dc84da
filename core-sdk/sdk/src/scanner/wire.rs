//! What a door sends and receives: scans as the generated operations' input types, and a
//! pulled page decoded (packed tickets and revocations, keys, list, scans).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use guichet_domain::admission::{Decision, ScanClass};
use guichet_domain::checkin::{CheckInList, CheckInListFields, Direction};
use guichet_domain::keyring::{EventKeyRing, KeyId, KeyStatus, public_key_from_hex};
use uuid::Uuid;

use crate::Error;
use crate::api::operations::{admit_scan, push_scans, scanner_sync};
use crate::store::{EventConfig, PulledPage, ScanRecord, SyncedScan};

/// The fields a scan is pushed with, before they become one operation's input type.
pub(super) struct ScanFields {
    id: String,
    ticket_id: Option<String>,
    device_time: chrono::DateTime<chrono::Utc>,
    gate: String,
    entry: bool,
    admitted: bool,
    reason: Option<String>,
}

pub(super) fn scan_fields(scan: &ScanRecord) -> ScanFields {
    ScanFields {
        id: scan.id.to_string(),
        ticket_id: scan.ticket_id.map(|t| t.to_string()),
        device_time: chrono::DateTime::from_timestamp_millis(scan.device_time_ms)
            .unwrap_or_default(),
        gate: scan.gate.clone(),
        entry: scan.direction == Direction::Entry,
        admitted: scan.decision.is_admitted(),
        reason: match scan.decision {
            Decision::Admitted => None,
            Decision::Rejected(r) => Some(r.code().to_owned()),
        },
    }
}

macro_rules! scan_input {
    ($name:ident, $module:ident) => {
        pub(super) fn $name(f: ScanFields) -> $module::ScanInput {
            $module::ScanInput {
                id: f.id,
                ticket_id: f.ticket_id,
                device_time: f.device_time,
                gate: f.gate,
                direction: if f.entry {
                    $module::ScanDirection::ENTRY
                } else {
                    $module::ScanDirection::EXIT
                },
                decision: if f.admitted {
                    $module::ScanDecision::ADMITTED
                } else {
                    $module::ScanDecision::REJECTED
                },
                reason: f.reason,
            }
        }
    };
}
scan_input!(admit_input, admit_scan);
scan_input!(push_input, push_scans);

macro_rules! class_name {
    ($name:ident, $module:ident) => {
        /// The server's class in the domain's stored spelling (an unknown class reads as
        /// rejected: it never lets anyone count as inside).
        pub(super) fn $name(class: &$module::ScanClass) -> &'static str {
            match class {
                $module::ScanClass::ADMITTED => ScanClass::Admitted,
                $module::ScanClass::DUPLICATE_ENTRY => ScanClass::DuplicateEntry,
                $module::ScanClass::EXITED => ScanClass::Exited,
                _ => ScanClass::Rejected,
            }
            .as_str()
        }
    };
}
class_name!(admit_class, admit_scan);
class_name!(push_class, push_scans);
class_name!(sync_class, scanner_sync);

pub(super) fn parse_uuid(text: &str) -> Result<Uuid, Error> {
    Uuid::parse_str(text).map_err(|_| Error::Protocol("an id is not a UUID"))
}

pub(super) fn decode_page(page: scanner_sync::ScannerSyncScannerSync) -> Result<PulledPage, Error> {
    let list = page.list;
    let event = parse_uuid(&list.event_id)?;
    let fields = CheckInListFields {
        id: parse_uuid(&list.id)?,
        event_id: event,
        name: list.name,
        ticket_types: list
            .ticket_type_ids
            .iter()
            .map(|t| parse_uuid(t))
            .collect::<Result<_, _>>()?,
        gates: list.gates.into_iter().collect(),
        re_entry: list.re_entry,
    };
    let list = CheckInList::new(fields).map_err(|e| Error::Config(e.to_string()))?;
    let mut keys = EventKeyRing::new(event);
    for key in page.keys {
        let id = u32::try_from(key.key_id).map_err(|_| Error::Protocol("key id out of range"))?;
        let public = public_key_from_hex(&key.public_key)
            .map_err(|_| Error::Protocol("a public key is not Ed25519 hex"))?;
        let status = KeyStatus::parse(&key.status.to_lowercase())
            .ok_or(Error::Protocol("unknown key status"))?;
        keys.insert(KeyId(id), public, status)
            .map_err(|e| Error::Config(e.to_string()))?;
    }
    let types = page
        .ticket_type_ids
        .iter()
        .map(|t| parse_uuid(t))
        .collect::<Result<Vec<_>, _>>()?;
    let ticket_types = page
        .ticket_types
        .into_iter()
        .map(|t| Ok((parse_uuid(&t.id)?, t.name)))
        .collect::<Result<Vec<_>, Error>>()?;
    let packed = STANDARD
        .decode(&page.tickets)
        .map_err(|_| Error::Protocol("tickets are not base64"))?;
    if packed.len() % 18 != 0 {
        return Err(Error::Protocol("tickets are not 18-byte records"));
    }
    let tickets = packed
        .chunks_exact(18)
        .map(|r| {
            let id = Uuid::from_slice(&r[..16]).map_err(|_| Error::Protocol("ticket id"))?;
            let ticket_type = *types
                .get(usize::from(r[16]))
                .ok_or(Error::Protocol("ticket type index"))?;
            Ok((id, ticket_type, r[17] == 1))
        })
        .collect::<Result<Vec<_>, Error>>()?;
    let revoked_bytes = STANDARD
        .decode(&page.revoked)
        .map_err(|_| Error::Protocol("revocations are not base64"))?;
    if revoked_bytes.len() % 16 != 0 {
        return Err(Error::Protocol("revocations are not 16-byte ids"));
    }
    let revoked = revoked_bytes
        .chunks_exact(16)
        .map(|r| Uuid::from_slice(r).map_err(|_| Error::Protocol("revoked id")))
        .collect::<Result<Vec<_>, _>>()?;
    let scans = page
        .scans
        .into_iter()
        .map(|s| {
            Ok(SyncedScan {
                id: parse_uuid(&s.id)?,
                device_id: parse_uuid(&s.device_id)?,
                ticket_id: s.ticket_id.as_deref().map(parse_uuid).transpose()?,
                device_time_ms: s.device_time.timestamp_millis(),
                gate: s.gate,
                direction: match s.direction {
                    scanner_sync::ScanDirection::EXIT => Direction::Exit,
                    _ => Direction::Entry,
                },
                admitted: matches!(s.decision, scanner_sync::ScanDecision::ADMITTED),
                reason: s.reason,
                classification: sync_class(&s.classification).to_owned(),
            })
        })
        .collect::<Result<Vec<_>, Error>>()?;
    Ok(PulledPage {
        cursor: page.cursor,
        config: EventConfig {
            keys,
            list,
            revocations: Default::default(),
        },
        ticket_types,
        tickets,
        revoked,
        scans,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// The bytes the server's `the_scanner_wire_format_is_stable` snapshot pins
    /// (backend/src/graphql/scanners.rs): a door must read exactly what the server writes.
    #[test]
    fn a_page_in_the_servers_pinned_wire_format_decodes() {
        let page: scanner_sync::ScannerSyncScannerSync = serde_json::from_value(serde_json::json!({
            "cursor": "f.12.340",
            "hasMore": false,
            "list": {
                "id": "00000000-0000-0000-0000-000000000011",
                "eventId": "00000000-0000-0000-0000-0000000000e1",
                "name": "Standing",
                "ticketTypeIds": ["00000000-0000-0000-0000-000000000071", "00000000-0000-0000-0000-000000000072"],
                "gates": ["north"],
                "reEntry": false
            },
            "keys": [],
            "ticketTypeIds": ["00000000-0000-0000-0000-000000000071", "00000000-0000-0000-0000-000000000072"],
            "ticketTypes": [
                { "id": "00000000-0000-0000-0000-000000000071", "name": "Standing" },
                { "id": "00000000-0000-0000-0000-000000000072", "name": "Balcony" }
            ],
            "tickets": "AYkKXayWd0u8zrMCCZqAVwEAAYkKXayWd0u8zrMCCZqAWAAB",
            "revoked": "AYkKXayWd0u8zrMCCZqAWA==",
            "scans": []
        }))
        .unwrap();
        let decoded = decode_page(page).unwrap();
        let first = Uuid::parse_str("01890a5d-ac96-774b-bcce-b302099a8057").unwrap();
        let second = Uuid::parse_str("01890a5d-ac96-774b-bcce-b302099a8058").unwrap();
        assert_eq!(
            decoded.tickets,
            vec![
                (first, Uuid::from_u128(0x72), false),
                (second, Uuid::from_u128(0x71), true),
            ]
        );
        assert_eq!(decoded.revoked, vec![second]);
        assert_eq!(
            decoded.ticket_types,
            vec![
                (Uuid::from_u128(0x71), "Standing".to_owned()),
                (Uuid::from_u128(0x72), "Balcony".to_owned()),
            ]
        );
        assert_eq!(decoded.cursor, "f.12.340");
    }
}
