//! Door scanners: check-in lists, pairing, devices, and the scanner sync (pull and push).
//!
//! Organizers create lists and pairing codes; a device redeems a code once for a device
//! token that can only pull its list's feed and push scans. The token travels as an
//! argument, never in logs; the server keeps only its SHA-256.

use std::collections::BTreeSet;

use async_graphql::{Context, ID, Object};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use chrono::{TimeZone, Utc};
use rand::RngCore;
use sha2::{Digest, Sha256};

use super::RequestContext;
use super::orders::EventKey;
use super::scanner_types::{
    CheckInList, CheckInListInput, DuplicateAlert, Scan, ScanClass, ScanDecision, ScanDirection,
    ScanInput, ScanResult, ScannerDevice, ScannerEnrollment, ScannerPairing, ScannerSyncPage,
    ScannerTicketType,
};
use super::types::instant;
use crate::AppState;
use crate::auth::{Principal, Role};
use crate::db::now;
use crate::db::scanners::{CheckInListRecord, DeviceRow};
use crate::db::scans::{NewScan, ScanRow};
use crate::error::{ApiError, Code};

type ApiResult<T> = Result<T, ApiError>;

/// How long a pairing code works.
const PAIRING_TTL_SECS: i64 = 15 * 60;
/// Most scans per push (a push of this many fits the default 64 KiB body limit).
pub const MAX_PUSH: usize = 200;
/// Most tickets per snapshot page.
const MAX_SNAPSHOT_PAGE: i64 = 20_000;
/// Most feed items (of each kind) per page.
const MAX_FEED_PAGE: i64 = 5_000;
/// Crockford's base32 alphabet (no I, L, O, U).
const CROCKFORD: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// Where a pull stands.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Cursor {
    /// Sending tickets: revocations are covered up to `revocations`; tickets after `after`.
    Snapshot { revocations: i64, after: String },
    /// Sending changes after these sequence numbers.
    Feed { revocations: i64, scans: i64 },
}

impl Cursor {
    fn encode(&self) -> String {
        match self {
            Cursor::Snapshot { revocations, after } => format!("t.{revocations}.{after}"),
            Cursor::Feed { revocations, scans } => format!("f.{revocations}.{scans}"),
        }
    }

    fn decode(text: &str) -> ApiResult<Cursor> {
        let bad = || ApiError::invalid("cursor", "not a cursor from scannerSync");
        let mut parts = text.splitn(3, '.');
        let (Some(kind), Some(first), Some(second)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(bad());
        };
        let revocations: i64 = first.parse().map_err(|_| bad())?;
        if revocations < 0 {
            return Err(bad());
        }
        match kind {
            "t" if second.is_empty() || uuid::Uuid::parse_str(second).is_ok() => {
                Ok(Cursor::Snapshot {
                    revocations,
                    after: second.to_owned(),
                })
            }
            "f" => {
                let scans: i64 = second.parse().map_err(|_| bad())?;
                if scans < 0 {
                    return Err(bad());
                }
                Ok(Cursor::Feed { revocations, scans })
            }
            _ => Err(bad()),
        }
    }
}

fn state<'a>(ctx: &Context<'a>) -> ApiResult<&'a AppState> {
    ctx.data::<AppState>()
        .map_err(|e| ApiError::internal(&e.message))
}

fn principal(ctx: &Context<'_>) -> ApiResult<Principal> {
    let req = ctx
        .data::<RequestContext>()
        .map_err(|e| ApiError::internal(&e.message))?;
    Ok(req.principal()?.clone())
}

/// Checks the caller may manage the event's scanners.
async fn organize(state: &AppState, me: &Principal, event_id: &str) -> ApiResult<()> {
    let event = state
        .db
        .event(event_id)
        .await?
        .ok_or_else(|| ApiError::not_found("event"))?;
    let mine =
        me.role == Role::Admin || (me.role == Role::Organizer && event.organizer_id == me.user_id);
    if mine {
        Ok(())
    } else {
        Err(ApiError::forbidden())
    }
}

fn sha256_hex(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// Upper-cases, drops dashes and spaces, maps the look-alikes Crockford allows.
fn normalize_code(code: &str) -> String {
    code.chars()
        .filter(|c| !matches!(c, '-' | ' '))
        .map(|c| match c.to_ascii_uppercase() {
            'O' => '0',
            'I' | 'L' => '1',
            other => other,
        })
        .collect()
}

fn new_pairing_code() -> String {
    let mut bytes = [0u8; 8];
    rand::rng().fill_bytes(&mut bytes);
    bytes
        .iter()
        .map(|b| char::from(CROCKFORD[usize::from(b % 32)]))
        .collect()
}

fn qr_svg(text: &str) -> ApiResult<String> {
    let code = qrcode::QrCode::with_error_correction_level(text, qrcode::EcLevel::M)
        .map_err(|e| ApiError::internal(&e))?;
    Ok(code
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(200, 200)
        .build())
}

/// The device behind a token, or why it may not act.
async fn device(state: &AppState, token: &str) -> ApiResult<DeviceRow> {
    let unknown = || ApiError::new(Code::Unauthenticated, "unknown device token; pair again");
    if !token.starts_with("gsd_") || token.len() > 100 {
        return Err(unknown());
    }
    let device = state
        .db
        .device_by_token(&sha256_hex(token))
        .await?
        .ok_or_else(unknown)?;
    if device.revoked_at.is_some() {
        return Err(ApiError::new(
            Code::DeviceRevoked,
            "this scanner was revoked by the organizer; wipe its event data",
        ));
    }
    Ok(device)
}

fn scan_uuid(field: &'static str, id: &str) -> ApiResult<String> {
    uuid::Uuid::parse_str(id)
        .map(|u| u.to_string())
        .map_err(|_| ApiError::invalid(field, "not a UUID"))
}

fn new_scan(input: ScanInput, list: &CheckInListRecord) -> ApiResult<NewScan> {
    let id = scan_uuid("scans.id", &input.id)?;
    let ticket_id = input
        .ticket_id
        .map(|t| scan_uuid("scans.ticketId", &t))
        .transpose()?;
    if !list.gates.contains(&input.gate) {
        return Err(ApiError::invalid("scans.gate", "not a gate of this list"));
    }
    let (decision, reason) = match (input.decision, input.reason) {
        (ScanDecision::Admitted, None) if ticket_id.is_some() => ("admitted", None),
        (ScanDecision::Admitted, None) => {
            return Err(ApiError::invalid(
                "scans.ticketId",
                "an admitted scan names its ticket",
            ));
        }
        (ScanDecision::Rejected, Some(code))
            if code == "invalid"
                || guichet_domain::admission::ScanRejection::from_codes(&code, &code).is_some() =>
        {
            ("rejected", Some(code))
        }
        _ => {
            return Err(ApiError::invalid(
                "scans.reason",
                "a rejection code iff REJECTED",
            ));
        }
    };
    Ok(NewScan {
        id,
        ticket_id,
        device_time_ms: input.device_time.timestamp_millis(),
        gate: input.gate,
        direction: match input.direction {
            ScanDirection::Entry => "entry".into(),
            ScanDirection::Exit => "exit".into(),
        },
        decision: decision.into(),
        reason,
    })
}

fn class(text: &str) -> ScanClass {
    match text {
        "admitted" => ScanClass::Admitted,
        "duplicate_entry" => ScanClass::DuplicateEntry,
        "exited" => ScanClass::Exited,
        _ => ScanClass::Rejected,
    }
}

fn decision(text: &str) -> ScanDecision {
    if text == "admitted" {
        ScanDecision::Admitted
    } else {
        ScanDecision::Rejected
    }
}

fn result(row: ScanRow) -> ScanResult {
    ScanResult {
        decision: decision(&row.decision),
        classification: class(&row.classification),
        id: ID(row.id),
        reason: row.reason,
    }
}

pub(super) fn scan(row: ScanRow) -> Scan {
    Scan {
        device_time: Utc
            .timestamp_millis_opt(row.device_time_ms)
            .single()
            .unwrap_or_default(),
        direction: if row.direction == "exit" {
            ScanDirection::Exit
        } else {
            ScanDirection::Entry
        },
        decision: decision(&row.decision),
        classification: class(&row.classification),
        id: ID(row.id),
        device_id: ID(row.device_id),
        ticket_id: row.ticket_id.map(ID),
        gate: row.gate,
        reason: row.reason,
    }
}

fn uuid_bytes(id: &str) -> [u8; 16] {
    uuid::Uuid::parse_str(id).map_or([0; 16], |u| *u.as_bytes())
}

async fn list_of(state: &AppState, device: &DeviceRow) -> ApiResult<CheckInListRecord> {
    state
        .db
        .checkin_list(&device.list_id)
        .await?
        .ok_or_else(|| ApiError::not_found("check-in list"))
}

async fn push(
    state: &AppState,
    token: &str,
    scans: Vec<ScanInput>,
    online: bool,
) -> ApiResult<Vec<ScanResult>> {
    if scans.len() > MAX_PUSH {
        return Err(ApiError::invalid(
            "scans",
            format!("at most {MAX_PUSH} scans per push"),
        ));
    }
    let device = device(state, token).await?;
    let list = list_of(state, &device).await?;
    let mut scans: Vec<NewScan> = scans
        .into_iter()
        .map(|s| new_scan(s, &list))
        .collect::<ApiResult<_>>()?;
    let ids: BTreeSet<&str> = scans.iter().map(|s| s.id.as_str()).collect();
    if ids.len() != scans.len() {
        return Err(ApiError::invalid("scans", "a scan id appears twice"));
    }
    state
        .db
        .refuse_unvouched_tickets(&device, &list.ticket_type_ids, &mut scans)
        .await?;
    let rows = state
        .db
        .push_scans(&device, list.re_entry, &scans, online, now())
        .await?;
    for row in &rows {
        state.metrics.scan(&row.classification);
    }
    state
        .live
        .publish(crate::live::Topic::CheckIns(list.id.clone()));
    Ok(rows.into_iter().map(result).collect())
}

#[derive(Default, Debug)]
pub struct ScannerQuery;

#[derive(Default, Debug)]
pub struct ScannerMutation;

#[Object]
impl ScannerQuery {
    /// An event's check-in lists (its organizer).
    async fn check_in_lists(
        &self,
        ctx: &Context<'_>,
        event_id: ID,
    ) -> async_graphql::Result<Vec<CheckInList>> {
        let (state, me) = (state(ctx)?, principal(ctx)?);
        organize(state, &me, &event_id).await?;
        let lists = state
            .db
            .checkin_lists(&event_id)
            .await
            .map_err(ApiError::from)?;
        Ok(lists.into_iter().map(CheckInList::from).collect())
    }

    /// An event's paired scanner devices, revoked ones included (its organizer).
    async fn scanner_devices(
        &self,
        ctx: &Context<'_>,
        event_id: ID,
    ) -> async_graphql::Result<Vec<ScannerDevice>> {
        let (state, me) = (state(ctx)?, principal(ctx)?);
        organize(state, &me, &event_id).await?;
        let devices = state
            .db
            .scanner_devices(&event_id)
            .await
            .map_err(ApiError::from)?;
        Ok(devices.into_iter().map(ScannerDevice::from).collect())
    }

    /// Tickets that got in twice at this event, newest first (its organizer).
    async fn duplicate_alerts(
        &self,
        ctx: &Context<'_>,
        event_id: ID,
    ) -> async_graphql::Result<Vec<DuplicateAlert>> {
        let (state, me) = (state(ctx)?, principal(ctx)?);
        organize(state, &me, &event_id).await?;
        let alerts = state
            .db
            .duplicate_alerts(&event_id)
            .await
            .map_err(ApiError::from)?;
        Ok(alerts
            .into_iter()
            .map(|(dup, first)| DuplicateAlert {
                detected_at: instant(dup.alerted_at.unwrap_or_default()),
                scan: scan(dup),
                first_entry: scan(first),
            })
            .collect())
    }

    /// A scanner's pull: changes after `cursor`, in pages. Start with no cursor (a compact
    /// snapshot of the list's tickets comes first), then pass back `cursor` until `hasMore`
    /// is false; keep the last cursor for the next sync. `limit` caps tickets per page
    /// (at most 20,000) and each kind of change per page (at most 5,000).
    async fn scanner_sync(
        &self,
        ctx: &Context<'_>,
        device_token: String,
        cursor: Option<String>,
        #[graphql(default = 5000)] limit: i64,
    ) -> async_graphql::Result<ScannerSyncPage> {
        let state = state(ctx)?;
        if limit < 1 {
            return Err(ApiError::invalid("limit", "at least 1").into());
        }
        let cursor = match cursor.as_deref().filter(|c| !c.is_empty()) {
            Some(text) if text.len() <= 64 => Cursor::decode(text)?,
            Some(_) => {
                return Err(ApiError::invalid("cursor", "not a cursor from scannerSync").into());
            }
            None => Cursor::Snapshot {
                revocations: state.db.revocation_head().await.map_err(ApiError::from)?,
                after: String::new(),
            },
        };
        let device = device(state, &device_token).await?;
        state
            .db
            .touch_device(&device.id, now())
            .await
            .map_err(ApiError::from)?;
        let list = list_of(state, &device).await?;
        let keys = state
            .db
            .event_keys(&device.event_id)
            .await
            .map_err(ApiError::from)?
            .into_iter()
            .map(|k| EventKey {
                key_id: k.key_id,
                status: k.status.to_uppercase(),
                public_key: k.public_key,
            })
            .collect();
        let ticket_types = state
            .db
            .ticket_types_of(std::slice::from_ref(&device.event_id))
            .await
            .map_err(ApiError::from)?
            .into_iter()
            .filter(|t| list.ticket_type_ids.contains(&t.id))
            .map(|t| ScannerTicketType {
                id: ID(t.id),
                name: t.name,
            })
            .collect();
        let mut page = ScannerSyncPage {
            cursor: String::new(),
            has_more: false,
            list: list.clone().into(),
            keys,
            ticket_type_ids: list.ticket_type_ids.iter().cloned().map(ID).collect(),
            ticket_types,
            tickets: String::new(),
            revoked: String::new(),
            scans: Vec::new(),
        };
        match cursor {
            Cursor::Snapshot { revocations, after } => {
                let limit = limit.min(MAX_SNAPSHOT_PAGE);
                let rows = state
                    .db
                    .snapshot_tickets(&device.event_id, &list.ticket_type_ids, &after, limit)
                    .await
                    .map_err(ApiError::from)?;
                page.tickets = pack_snapshot(&rows, &list.ticket_type_ids)?;
                page.has_more = true;
                page.cursor = match rows.last() {
                    Some((last, _, _)) if rows.len() as i64 == limit => Cursor::Snapshot {
                        revocations,
                        after: last.clone(),
                    },
                    _ => Cursor::Feed {
                        revocations,
                        scans: 0,
                    },
                }
                .encode();
            }
            Cursor::Feed { revocations, scans } => {
                let limit = limit.min(MAX_FEED_PAGE);
                let feed = state
                    .db
                    .scanner_feed(&device.event_id, &device.list_id, revocations, scans, limit)
                    .await
                    .map_err(ApiError::from)?;
                page.has_more =
                    feed.revoked.len() as i64 == limit || feed.scans.len() as i64 == limit;
                let next = Cursor::Feed {
                    revocations: feed.revoked.last().map_or(revocations, |(seq, _)| *seq),
                    scans: feed.scans.last().map_or(scans, |s| s.seq),
                };
                page.revoked = pack_revoked(feed.revoked.iter().map(|(_, ticket)| ticket));
                page.scans = feed.scans.into_iter().map(scan).collect();
                page.cursor = next.encode();
            }
        }
        Ok(page)
    }
}

#[Object]
impl ScannerMutation {
    /// Creates a check-in list for an event (its organizer).
    async fn create_check_in_list(
        &self,
        ctx: &Context<'_>,
        event_id: ID,
        input: CheckInListInput,
    ) -> async_graphql::Result<CheckInList> {
        let (state, me) = (state(ctx)?, principal(ctx)?);
        organize(state, &me, &event_id).await?;
        let name = input.name.trim().to_owned();
        let gates: BTreeSet<String> = input.gates.iter().map(|g| g.trim().to_owned()).collect();
        let types: BTreeSet<String> = input.ticket_type_ids.iter().map(|t| t.0.clone()).collect();
        guichet_domain::checkin::check_list_rules(&name, &gates, types.len())
            .map_err(ApiError::from)?;
        let known: BTreeSet<String> = state
            .db
            .ticket_types_of(std::slice::from_ref(&event_id.0))
            .await
            .map_err(ApiError::from)?
            .into_iter()
            .map(|t| t.id)
            .collect();
        if !types.is_subset(&known) {
            return Err(ApiError::invalid(
                "input.ticketTypeIds",
                "not a ticket type of this event",
            )
            .into());
        }
        let list = CheckInListRecord {
            id: uuid::Uuid::now_v7().to_string(),
            event_id: event_id.0,
            name,
            ticket_type_ids: types.into_iter().collect(),
            gates: gates.into_iter().collect(),
            re_entry: input.re_entry,
        };
        state
            .db
            .create_checkin_list(&list, now())
            .await
            .map_err(ApiError::from)?;
        Ok(list.into())
    }

    /// Makes a one-time code that pairs a scanner device with a check-in list (the list's
    /// organizer). The code works once, for 15 minutes.
    async fn pair_scanner(
        &self,
        ctx: &Context<'_>,
        list_id: ID,
    ) -> async_graphql::Result<ScannerPairing> {
        let (state, me) = (state(ctx)?, principal(ctx)?);
        let list = state
            .db
            .checkin_list(&list_id)
            .await
            .map_err(ApiError::from)?
            .ok_or_else(|| ApiError::not_found("check-in list"))?;
        organize(state, &me, &list.event_id).await?;
        let code = new_pairing_code();
        let at = now();
        state
            .db
            .create_pairing(
                &sha256_hex(&code),
                &list.id,
                &me.user_id,
                at,
                at + PAIRING_TTL_SECS,
            )
            .await
            .map_err(ApiError::from)?;
        let qr_text = format!("GUICHET-PAIR:{code}");
        Ok(ScannerPairing {
            code: format!("{}-{}", &code[..4], &code[4..]),
            qr_svg: qr_svg(&qr_text)?,
            qr_text,
            expires_at: instant(at + PAIRING_TTL_SECS),
            list: list.into(),
        })
    }

    /// Redeems a pairing code (no account needed; the code is the proof). Works once; an
    /// unknown, used or expired code is NOT_FOUND.
    async fn redeem_pairing(
        &self,
        ctx: &Context<'_>,
        code: String,
        device_name: String,
    ) -> async_graphql::Result<ScannerEnrollment> {
        let state = state(ctx)?;
        let client = ctx
            .data::<RequestContext>()
            .map_err(|e| ApiError::internal(&e.message))?
            .client
            .clone();
        if !state.auth_limiter.allow(&format!("pair:{client}")) {
            return Err(ApiError::new(
                Code::RateLimited,
                "too many pairing attempts; wait a minute",
            )
            .into());
        }
        let name = device_name.trim().to_owned();
        if name.is_empty() || name.chars().count() > 100 {
            return Err(ApiError::invalid("deviceName", "1 to 100 characters").into());
        }
        let code = normalize_code(&code);
        if code.len() != 8 || !code.bytes().all(|b| CROCKFORD.contains(&b)) {
            return Err(ApiError::not_found("pairing code").into());
        }
        let mut secret = [0u8; 32];
        rand::rng().fill_bytes(&mut secret);
        let token = format!("gsd_{}", URL_SAFE_NO_PAD.encode(secret));
        let wanted = DeviceRow {
            id: uuid::Uuid::now_v7().to_string(),
            event_id: String::new(),
            list_id: String::new(),
            name,
            paired_at: 0,
            last_seen_at: None,
            revoked_at: None,
        };
        let device = state
            .db
            .redeem_pairing(
                &sha256_hex(&code),
                &wanted,
                &sha256_hex(&token),
                now(),
                &ctx.data::<super::RequestContext>()?.actor(),
            )
            .await
            .map_err(|e| match e {
                crate::db::StoreError::NotFound => ApiError::not_found("pairing code"),
                other => ApiError::from(other),
            })?;
        Ok(ScannerEnrollment {
            device: device.into(),
            device_token: token,
        })
    }

    /// Revokes a scanner device (the event's organizer): its token stops working and the
    /// device wipes the event's data at its next contact.
    async fn revoke_scanner(
        &self,
        ctx: &Context<'_>,
        device_id: ID,
    ) -> async_graphql::Result<ScannerDevice> {
        let (state, me) = (state(ctx)?, principal(ctx)?);
        let device = state
            .db
            .scanner_device(&device_id)
            .await
            .map_err(ApiError::from)?
            .ok_or_else(|| ApiError::not_found("scanner device"))?;
        organize(state, &me, &device.event_id).await?;
        let device = state
            .db
            .revoke_device(
                &device.id,
                now(),
                &ctx.data::<super::RequestContext>()?.actor(),
            )
            .await
            .map_err(ApiError::from)?;
        Ok(device.into())
    }

    /// Stores scans exactly once by id (a retry returns the stored verdicts) and returns
    /// the server's classification of each. Late scans are never refused. At most 200 per
    /// push.
    async fn push_scans(
        &self,
        ctx: &Context<'_>,
        device_token: String,
        scans: Vec<ScanInput>,
    ) -> async_graphql::Result<Vec<ScanResult>> {
        Ok(push(state(ctx)?, &device_token, scans, false).await?)
    }

    /// The online door decision: stores the scan like `pushScans`, but an ADMITTED entry of
    /// a revoked ticket, or of one the server already knows inside (or used, on a list
    /// without re-entry), is stored and returned REJECTED (`revoked`, `already_inside`,
    /// `already_used`). Asking again with the same id returns the stored answer. If the
    /// answer never reaches the device, pushing the same id later with what the door
    /// showed replaces the stored decision.
    async fn admit_scan(
        &self,
        ctx: &Context<'_>,
        device_token: String,
        scan: ScanInput,
    ) -> async_graphql::Result<ScanResult> {
        let mut results = push(state(ctx)?, &device_token, vec![scan], true).await?;
        results
            .pop()
            .ok_or_else(|| ApiError::internal(&"a pushed scan was not returned").into())
    }
}

/// The snapshot's wire format: 18 bytes a ticket (its id, the index of its type in the
/// list's `ticketTypeIds`, 1 if revoked), base64. Doors decode it in
/// `guichet_sdk::scanner::wire`; a change is a protocol change (snapshot-tested below).
fn pack_snapshot(rows: &[(String, String, String)], types: &[String]) -> ApiResult<String> {
    let mut packed = Vec::with_capacity(rows.len() * 18);
    for (id, ticket_type, status) in rows {
        let index = types
            .iter()
            .position(|t| t == ticket_type)
            .and_then(|i| u8::try_from(i).ok())
            .ok_or_else(|| ApiError::internal(&"ticket type outside the list"))?;
        packed.extend_from_slice(&uuid_bytes(id));
        packed.push(index);
        packed.push(u8::from(status == "revoked"));
    }
    Ok(STANDARD.encode(&packed))
}

/// Revoked ticket ids on the wire: 16 bytes each, base64.
fn pack_revoked<'a>(tickets: impl Iterator<Item = &'a String>) -> String {
    let mut packed = Vec::new();
    for ticket in tickets {
        packed.extend_from_slice(&uuid_bytes(ticket));
    }
    STANDARD.encode(&packed)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// What doors in the field parse: a change here is a reviewed protocol change.
    #[test]
    fn the_scanner_wire_format_is_stable() {
        let types = vec![
            "00000000-0000-0000-0000-000000000071".to_owned(),
            "00000000-0000-0000-0000-000000000072".to_owned(),
        ];
        let rows = vec![
            (
                "01890a5d-ac96-774b-bcce-b302099a8057".to_owned(),
                types[1].clone(),
                "valid".to_owned(),
            ),
            (
                "01890a5d-ac96-774b-bcce-b302099a8058".to_owned(),
                types[0].clone(),
                "revoked".to_owned(),
            ),
        ];
        let revoked = ["01890a5d-ac96-774b-bcce-b302099a8058".to_owned()];
        let cursors = [
            Cursor::Snapshot {
                revocations: 0,
                after: String::new(),
            },
            Cursor::Snapshot {
                revocations: 12,
                after: rows[1].0.clone(),
            },
            Cursor::Feed {
                revocations: 12,
                scans: 340,
            },
        ]
        .map(|c| c.encode());
        insta::assert_snapshot!(format!(
            "tickets: {}\nrevoked: {}\ncursors: {}",
            pack_snapshot(&rows, &types).unwrap(),
            pack_revoked(revoked.iter()),
            cursors.join(" | ")
        ));
        let outside = [("x".to_owned(), "not-on-list".to_owned(), "valid".to_owned())];
        assert_eq!(
            pack_snapshot(&outside, &types).unwrap_err().code,
            Code::Internal
        );
    }

    #[test]
    fn cursors_round_trip_and_garbage_is_refused() {
        for cursor in [
            Cursor::Snapshot {
                revocations: 7,
                after: String::new(),
            },
            Cursor::Snapshot {
                revocations: 0,
                after: "01890a5d-ac96-774b-bcce-b302099a8057".into(),
            },
            Cursor::Feed {
                revocations: 3,
                scans: 99,
            },
        ] {
            assert_eq!(Cursor::decode(&cursor.encode()), Ok(cursor));
        }
        for bad in [
            "",
            "f.1",
            "f.-1.2",
            "f.1.x",
            "t.1.not-a-uuid",
            "x.1.2",
            "f.1.-4",
        ] {
            let refused = Cursor::decode(bad).err().map(|e| (e.code, e.field));
            assert_eq!(refused, Some((Code::InvalidInput, Some("cursor"))), "{bad}");
        }
    }

    #[test]
    fn pairing_codes_normalise_look_alikes() {
        assert_eq!(normalize_code("ab0o-1il2"), "AB001112");
        let code = new_pairing_code();
        assert_eq!(code.len(), 8);
        assert!(code.bytes().all(|b| CROCKFORD.contains(&b)));
    }
}
