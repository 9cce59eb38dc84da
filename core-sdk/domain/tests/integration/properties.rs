//! Property tests: the encoding round-trips, no single-bit change survives, nothing panics.

use std::convert::Infallible;

use guichet_domain::admission::{Decision, Presence};
use guichet_domain::checkin::Direction;
use guichet_domain::credential::{Credential, TicketClaims, Validity, base45};
use proptest::prelude::*;
use uuid::Uuid;

use crate::fixture::{CLOSE, Door, EVENT, OPEN, STANDING, claims};

fn any_claims() -> impl Strategy<Value = TicketClaims> {
    (
        any::<u128>(),
        any::<u128>(),
        any::<u128>(),
        any::<u32>(),
        1..=u32::MAX,
    )
        .prop_map(|(ticket, event, ticket_type, from, span)| {
            let from = i64::from(from);
            let until = (from + i64::from(span)).min(i64::from(u32::MAX));
            let from = from.min(until - 1);
            TicketClaims {
                ticket_id: Uuid::from_u128(ticket),
                event_id: Uuid::from_u128(event),
                ticket_type_id: Uuid::from_u128(ticket_type),
                validity: Validity::new(from, until).unwrap(),
            }
        })
}

proptest! {
    #[test]
    fn encode_decode_round_trip(claims in any_claims(), key_id: u32, seed: [u8; 32]) {
        let key = guichet_domain::keyring::IssuingKey::from_seed(
            claims.event_id,
            guichet_domain::keyring::KeyId(key_id),
            seed,
        );
        let credential = key.issue(claims).unwrap();
        let text = credential.to_text();
        let parsed = Credential::parse(&text).unwrap();
        prop_assert_eq!(parsed.claims(), &claims);
        prop_assert_eq!(parsed.key_id().0, key_id);
        prop_assert_eq!(parsed.to_text(), text);
    }

    #[test]
    fn base45_round_trips_any_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        prop_assert_eq!(base45::decode(&base45::encode(&bytes)).unwrap(), bytes);
    }

    #[test]
    fn any_single_bit_change_is_rejected(n: u128, bit in 0..(125 * 8usize)) {
        let door = Door::new(true);
        let genuine = door.key.issue(claims(n, EVENT, STANDING, OPEN, CLOSE)).unwrap();
        let mut bytes = genuine.as_bytes().to_vec();
        bytes[bit / 8] ^= 1 << (bit % 8);
        let text = base45::encode(&bytes);
        let decision = door.judge_at(&text, Presence::NEVER_SEEN, Direction::Entry, OPEN).decision;
        prop_assert!(!decision.is_admitted(), "bit {} flipped was {:?}", bit, decision);
    }

    #[test]
    fn any_single_character_change_is_rejected(n: u128, at in 0..188usize, c in 0..45u8) {
        let door = Door::new(true);
        let text = door.ticket(n);
        let alphabet = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";
        let mut edited = text.clone().into_bytes();
        prop_assume!(edited[at] != alphabet[usize::from(c)]);
        edited[at] = alphabet[usize::from(c)];
        let edited = String::from_utf8(edited).unwrap();
        let decision = door.judge_at(&edited, Presence::NEVER_SEEN, Direction::Entry, OPEN).decision;
        prop_assert!(!decision.is_admitted());
    }

    #[test]
    fn the_decoder_never_panics_on_text(text in ".{0,400}") {
        let door = Door::new(true);
        let _ = Credential::parse(&text);
        let admission = door
            .checkpoint()
            .admit(&text, Direction::Entry, OPEN, |_| Ok::<_, Infallible>(Presence::NEVER_SEEN))
            .unwrap();
        prop_assert_ne!(admission.decision, Decision::Admitted);
    }

    #[test]
    fn the_decoder_never_panics_on_alphabet_text(text in "[0-9A-Z $%*+./:-]{0,300}") {
        let _ = base45::decode(&text);
        let _ = Credential::parse(&text);
    }

    #[test]
    fn the_decoder_never_panics_on_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let _ = Credential::from_bytes(&bytes);
        if let Ok(text) = std::str::from_utf8(&bytes) {
            let _ = Credential::parse(text);
        }
    }
}
