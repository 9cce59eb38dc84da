//! One event with a two-key ring (key 1 rotated out, key 2 active), a check-in list for the
//! standing ticket type, and helpers to issue and judge tickets.

use std::convert::Infallible;

use guichet_domain::admission::{Admission, Checkpoint, Decision, Presence};
use guichet_domain::checkin::{CheckInList, CheckInListFields, Direction};
use guichet_domain::credential::{TicketClaims, Validity};
use guichet_domain::keyring::{EventKeyRing, IssuingKey, KeyId};
use guichet_domain::revocation::RevocationSet;
use uuid::Uuid;

pub const EVENT: Uuid = Uuid::from_u128(0xE1);
pub const OTHER_EVENT: Uuid = Uuid::from_u128(0xE2);
pub const STANDING: Uuid = Uuid::from_u128(0x71);
pub const BALCONY: Uuid = Uuid::from_u128(0x72);
/// Doors open at this instant (unix seconds); tickets are valid for a day from it.
pub const OPEN: i64 = 1_800_000_000;
pub const CLOSE: i64 = OPEN + 86_400;

pub struct Door {
    pub old_key: IssuingKey,
    pub key: IssuingKey,
    pub ring: EventKeyRing,
    pub list: CheckInList,
    pub revocations: RevocationSet,
}

impl Door {
    pub fn new(re_entry: bool) -> Door {
        let old_key = IssuingKey::from_seed(EVENT, KeyId(1), [1; 32]);
        let key = IssuingKey::from_seed(EVENT, KeyId(2), [2; 32]);
        let mut ring = EventKeyRing::new(EVENT);
        ring.rotate(old_key.key_id(), old_key.public_key()).unwrap();
        ring.rotate(key.key_id(), key.public_key()).unwrap();
        let list = CheckInList::new(CheckInListFields {
            id: Uuid::from_u128(0x11),
            event_id: EVENT,
            name: "Standing".into(),
            ticket_types: [STANDING].into(),
            gates: ["north".to_string()].into(),
            re_entry,
        })
        .unwrap();
        Door {
            old_key,
            key,
            ring,
            list,
            revocations: RevocationSet::new(),
        }
    }

    pub fn checkpoint(&self) -> Checkpoint<'_> {
        Checkpoint::new(&self.list, &self.ring, &self.revocations).unwrap()
    }

    /// A standing ticket for the event, valid for the day, signed by the active key.
    pub fn ticket(&self, n: u128) -> String {
        self.key
            .issue(claims(n, EVENT, STANDING, OPEN, CLOSE))
            .unwrap()
            .to_text()
    }

    /// Judges text for a ticket with the given presence, at `now`.
    pub fn judge_at(
        &self,
        text: &str,
        presence: Presence,
        direction: Direction,
        now: i64,
    ) -> Admission {
        self.checkpoint()
            .admit(text, direction, now, |_| Ok::<_, Infallible>(presence))
            .unwrap()
    }

    /// An entry for a never-seen ticket, an hour after doors open.
    pub fn judge(&self, text: &str) -> Decision {
        self.judge_at(text, Presence::NEVER_SEEN, Direction::Entry, OPEN + 3600)
            .decision
    }
}

pub fn claims(n: u128, event: Uuid, ticket_type: Uuid, from: i64, until: i64) -> TicketClaims {
    TicketClaims {
        ticket_id: Uuid::from_u128(n),
        event_id: event,
        ticket_type_id: ticket_type,
        validity: Validity::new(from, until).unwrap(),
    }
}
