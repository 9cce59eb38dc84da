//! `demo-setup`: a demo event to try the scanner end to end without a server.
//!
//! The key ring has three keys: 1 retired, 2 rotated out, 3 active. The ticket files are
//! named after what the door says about them.

use std::path::Path;

use guichet_domain::checkin::{CheckInList, CheckInListFields};
use guichet_domain::credential::{TicketClaims, Validity};
use guichet_domain::keyring::{EventKeyRing, IssuingKey, KeyId};
use guichet_domain::revocation::RevocationSet;
use guichet_sdk::qr::TicketQr;
use guichet_sdk::scanner::{EventConfig, now_ms};
use uuid::Uuid;

use crate::error::Error;

const DAY: i64 = 86_400;

/// A demo ticket: file name, signer, ticket id, ticket type, validity window.
type DemoTicket<'a> = (&'a str, &'a IssuingKey, Uuid, Uuid, (i64, i64));

/// Gates on the demo list.
pub const GATES: [&str; 2] = ["north", "south"];

/// Writes the demo event into `out`; returns the ticket files written, in order.
pub fn write(out: &Path) -> Result<Vec<String>, Error> {
    let event = Uuid::new_v4();
    let (standing, balcony) = (Uuid::new_v4(), Uuid::new_v4());
    let key = |id| IssuingKey::from_seed(event, KeyId(id), rand::random());
    let (retired, rotated, active) = (key(1), key(2), key(3));
    let mut keys = EventKeyRing::new(event);
    for k in [&retired, &rotated, &active] {
        keys.rotate(k.key_id(), k.public_key())
            .map_err(|e| Error::Issue(e.to_string()))?;
    }
    keys.retire(retired.key_id())
        .map_err(|e| Error::Issue(e.to_string()))?;
    let list = CheckInList::new(CheckInListFields {
        id: Uuid::new_v4(),
        event_id: event,
        name: "Standing, all gates".into(),
        ticket_types: [standing].into(),
        gates: GATES.iter().map(|g| (*g).to_owned()).collect(),
        re_entry: true,
    })
    .map_err(|e| Error::Issue(e.to_string()))?;

    let now = now_ms().div_euclid(1000);
    let valid = (now - DAY, now + 30 * DAY);
    let revoked_ticket = Uuid::new_v4();
    let stranger = IssuingKey::from_seed(Uuid::new_v4(), KeyId(3), rand::random());
    let forger = IssuingKey::from_seed(event, KeyId(3), rand::random());
    let tickets: [DemoTicket<'_>; 9] = [
        ("01-admitted", &active, Uuid::new_v4(), standing, valid),
        (
            "02-admitted-rotated-out-key",
            &rotated,
            Uuid::new_v4(),
            standing,
            valid,
        ),
        (
            "03-invalid-retired-key",
            &retired,
            Uuid::new_v4(),
            standing,
            valid,
        ),
        (
            "04-invalid-forged",
            &forger,
            Uuid::new_v4(),
            standing,
            valid,
        ),
        ("05-wrong-event", &stranger, Uuid::new_v4(), standing, valid),
        ("06-revoked", &active, revoked_ticket, standing, valid),
        (
            "07-not-yet-valid",
            &active,
            Uuid::new_v4(),
            standing,
            (now + DAY, now + 2 * DAY),
        ),
        (
            "08-expired",
            &active,
            Uuid::new_v4(),
            standing,
            (now - 2 * DAY, now - DAY),
        ),
        ("09-not-on-list", &active, Uuid::new_v4(), balcony, valid),
    ];

    let dir = out.join("tickets");
    std::fs::create_dir_all(&dir).map_err(|source| file_error(&dir, source))?;
    let mut written = Vec::new();
    let mut all = String::new();
    for (name, signer, ticket_id, ticket_type_id, (from, until)) in tickets {
        let claims = TicketClaims {
            ticket_id,
            event_id: signer.event_id(),
            ticket_type_id,
            validity: Validity::new(from, until).map_err(|e| Error::Issue(e.to_string()))?,
        };
        let text = signer
            .issue(claims)
            .map_err(|e| Error::Issue(e.to_string()))?
            .to_text();
        let png = TicketQr::new(&text)?.to_png(6)?;
        write_file(
            &dir.join(format!("{name}.txt")),
            format!("{text}\n").as_bytes(),
        )?;
        write_file(&dir.join(format!("{name}.png")), &png)?;
        all.push_str(&text);
        all.push('\n');
        written.push(name.to_owned());
    }
    write_file(&out.join("tickets.txt"), all.as_bytes())?;

    let revocations: RevocationSet = [revoked_ticket].into_iter().collect();
    let config = EventConfig {
        keys,
        list,
        revocations,
    };
    write_json(&out.join("scanner-config.json"), &config)?;
    write_json(&out.join("issuer-key.json"), &active)?;
    Ok(written)
}

fn write_json(path: &Path, value: &impl serde::Serialize) -> Result<(), Error> {
    let json = serde_json::to_vec_pretty(value).map_err(|source| Error::Json {
        path: path.display().to_string(),
        source,
    })?;
    write_file(path, &json)
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    std::fs::write(path, bytes).map_err(|source| file_error(path, source))
}

fn file_error(path: &Path, source: std::io::Error) -> Error {
    Error::File {
        path: path.display().to_string(),
        source,
    }
}
