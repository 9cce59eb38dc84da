//! The admission decision: a pure function of (credential, check-in list, key ring,
//! revocations, scan history, now).
//!
//! Checks run in the design's order and the first failure decides:
//!
//! 1. decode — `invalid` (malformed, unsupported version);
//! 2. event id — `wrong_event` (read before the signature: this event's ring cannot judge
//!    another event's keys; it is a refusal either way, so a forger gains nothing);
//! 3. key id and signature — `invalid` (unknown key, retired key, bad signature);
//! 4. revocations — `revoked`;
//! 5. validity window — `not_yet_valid`, `expired`;
//! 6. the list's ticket types — `not_on_list`;
//! 7. scan history — `already_inside`, `already_used` for entries, `not_inside` for exits.
//!
//! Exits skip steps 4 and 5: a door records people leaving, it never keeps anyone in, so
//! a ticket revoked or expired while its holder is inside still lets them out.

mod classify;
mod decision;
mod presence;

pub use classify::{ScanClass, classify};
pub use decision::{Decision, InvalidCause, ScanRejection};
pub use presence::Presence;

use uuid::Uuid;

use crate::checkin::{CheckInList, Direction};
use crate::credential::{Credential, TicketClaims, WindowPosition};
use crate::keyring::EventKeyRing;
use crate::revocation::RevocationSet;

/// Why a checkpoint could not be assembled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CheckpointError {
    /// The key ring belongs to another event than the check-in list.
    #[error("the key ring and the check-in list belong to different events")]
    EventMismatch,
}

/// Everything a door knows before the ticket shows up: its list, the event's keys and the
/// revocations it has synced.
#[derive(Debug, Clone, Copy)]
pub struct Checkpoint<'a> {
    list: &'a CheckInList,
    keys: &'a EventKeyRing,
    revocations: &'a RevocationSet,
}

/// A decision and, when the credential proved genuine, what it certifies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Admission {
    /// Admitted or rejected, and why.
    pub decision: Decision,
    /// The verified claims: `None` when the credential was malformed, for another event
    /// or not genuine (unverified claims are never shown as a ticket summary).
    pub ticket: Option<TicketClaims>,
}

impl<'a> Checkpoint<'a> {
    /// Assembles a checkpoint; the ring and the list must be the same event's.
    pub fn new(
        list: &'a CheckInList,
        keys: &'a EventKeyRing,
        revocations: &'a RevocationSet,
    ) -> Result<Self, CheckpointError> {
        if list.event_id() != keys.event_id() {
            return Err(CheckpointError::EventMismatch);
        }
        Ok(Checkpoint {
            list,
            keys,
            revocations,
        })
    }

    /// Decides on credential text. `presence` is asked for the ticket's scan history only
    /// when every other check passed (one look-up, for genuine tickets only); its error, if
    /// any, is passed through.
    pub fn admit<E>(
        &self,
        text: &str,
        direction: Direction,
        now: i64,
        presence: impl FnOnce(&Uuid) -> Result<Presence, E>,
    ) -> Result<Admission, E> {
        match Credential::parse(text) {
            Ok(credential) => self.admit_credential(&credential, direction, now, presence),
            Err(error) => Ok(Admission {
                decision: Decision::Rejected(ScanRejection::Invalid((&error).into())),
                ticket: None,
            }),
        }
    }

    /// Decides on a parsed credential (see [`Checkpoint::admit`]).
    pub fn admit_credential<E>(
        &self,
        credential: &Credential,
        direction: Direction,
        now: i64,
        presence: impl FnOnce(&Uuid) -> Result<Presence, E>,
    ) -> Result<Admission, E> {
        let claims = credential.claims();
        let reject = |reason, ticket| {
            Ok(Admission {
                decision: Decision::Rejected(reason),
                ticket,
            })
        };
        if claims.event_id != self.list.event_id() {
            return reject(ScanRejection::WrongEvent, None);
        }
        if let Err(error) = self.keys.verify(credential) {
            return reject(ScanRejection::Invalid(error.into()), None);
        }
        let ticket = Some(*claims);
        if direction == Direction::Entry {
            if self.revocations.contains(&claims.ticket_id) {
                return reject(ScanRejection::Revoked, ticket);
            }
            match claims.validity.position(now) {
                WindowPosition::Before => return reject(ScanRejection::NotYetValid, ticket),
                WindowPosition::After => return reject(ScanRejection::Expired, ticket),
                WindowPosition::Within => {}
            }
        }
        if !self.list.admits_type(&claims.ticket_type_id) {
            return reject(ScanRejection::NotOnList, ticket);
        }
        let decision = decide_presence(presence(&claims.ticket_id)?, direction, self.list);
        Ok(Admission { decision, ticket })
    }
}

/// The scan-history rule.
fn decide_presence(presence: Presence, direction: Direction, list: &CheckInList) -> Decision {
    match direction {
        Direction::Entry => match presence.refuses_entry(list.re_entry()) {
            Some(refusal) => Decision::Rejected(refusal),
            None => Decision::Admitted,
        },
        Direction::Exit if presence.inside => Decision::Admitted,
        Direction::Exit => Decision::Rejected(ScanRejection::NotInside),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::checkin::CheckInListFields;
    use Direction::{Entry, Exit};

    fn list(re_entry: bool) -> CheckInList {
        CheckInList::new(CheckInListFields {
            id: Uuid::from_u128(1),
            event_id: Uuid::from_u128(2),
            name: "Main".into(),
            ticket_types: [Uuid::from_u128(3)].into(),
            gates: ["north".to_string()].into(),
            re_entry,
        })
        .unwrap()
    }

    #[test]
    fn presence_rules() {
        let inside = Presence {
            entries: 1,
            inside: true,
        };
        let out = Presence {
            entries: 1,
            inside: false,
        };
        let never = Presence::NEVER_SEEN;
        for re_entry in [true, false] {
            let l = list(re_entry);
            assert_eq!(decide_presence(never, Entry, &l), Decision::Admitted);
            assert_eq!(
                decide_presence(inside, Entry, &l),
                Decision::Rejected(ScanRejection::AlreadyInside)
            );
            assert_eq!(decide_presence(inside, Exit, &l), Decision::Admitted);
            assert_eq!(
                decide_presence(never, Exit, &l),
                Decision::Rejected(ScanRejection::NotInside)
            );
            assert_eq!(
                decide_presence(out, Exit, &l),
                Decision::Rejected(ScanRejection::NotInside)
            );
        }
        assert_eq!(decide_presence(out, Entry, &list(true)), Decision::Admitted);
        assert_eq!(
            decide_presence(out, Entry, &list(false)),
            Decision::Rejected(ScanRejection::AlreadyUsed)
        );
    }

    #[test]
    fn ring_and_list_must_share_the_event() {
        let l = list(true);
        let other = EventKeyRing::new(Uuid::from_u128(9));
        let revocations = RevocationSet::new();
        assert_eq!(
            Checkpoint::new(&l, &other, &revocations).unwrap_err(),
            CheckpointError::EventMismatch
        );
    }
}
