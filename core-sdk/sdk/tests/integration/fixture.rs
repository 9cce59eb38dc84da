//! An event, its issuing key, a paired store and tickets to scan.

use guichet_domain::checkin::{CheckInList, CheckInListFields};
use guichet_domain::credential::{TicketClaims, Validity};
use guichet_domain::keyring::{EventKeyRing, IssuingKey, KeyId};
use guichet_domain::revocation::RevocationSet;
use guichet_sdk::scanner::{EventConfig, Scanner};
use guichet_sdk::store::Store;
use uuid::Uuid;

pub const EVENT: Uuid = Uuid::from_u128(0xE1);
pub const STANDING: Uuid = Uuid::from_u128(0x71);
pub const BALCONY: Uuid = Uuid::from_u128(0x72);
pub const OPEN: i64 = 1_800_000_000;
pub const CLOSE: i64 = OPEN + 86_400;
/// An hour after doors open, in milliseconds.
pub const AT_MS: i64 = (OPEN + 3600) * 1000;

pub fn issuing_key() -> IssuingKey {
    IssuingKey::from_seed(EVENT, KeyId(1), [5; 32])
}

pub fn config(re_entry: bool) -> EventConfig {
    let key = issuing_key();
    let mut keys = EventKeyRing::new(EVENT);
    keys.rotate(key.key_id(), key.public_key()).unwrap();
    let list = CheckInList::new(CheckInListFields {
        id: Uuid::from_u128(0x11),
        event_id: EVENT,
        name: "Standing".into(),
        ticket_types: [STANDING].into(),
        gates: ["north".to_string(), "south".to_string()].into(),
        re_entry,
    })
    .unwrap();
    EventConfig {
        keys,
        list,
        revocations: RevocationSet::new(),
    }
}

pub fn ticket_of_type(n: u128, ticket_type: Uuid) -> String {
    let claims = TicketClaims {
        ticket_id: Uuid::from_u128(n),
        event_id: EVENT,
        ticket_type_id: ticket_type,
        validity: Validity::new(OPEN, CLOSE).unwrap(),
    };
    issuing_key().issue(claims).unwrap().to_text()
}

pub fn ticket(n: u128) -> String {
    ticket_of_type(n, STANDING)
}

pub fn scanner_at(path: &std::path::Path, re_entry: bool) -> Scanner {
    let mut store = Store::open(path).unwrap();
    if store.load_event_config().unwrap().is_none() {
        store.save_event_config(&config(re_entry)).unwrap();
    }
    Scanner::open(store, "north").unwrap()
}
