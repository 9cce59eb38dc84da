//! Every hostile case from the credential issue, each with its exact rejection reason.

use guichet_domain::admission::{Decision, InvalidCause, Presence, ScanRejection};
use guichet_domain::checkin::Direction::{Entry, Exit};
use guichet_domain::credential::Credential;
use guichet_domain::keyring::{IssuingKey, KeyId};

use crate::fixture::{BALCONY, CLOSE, Door, EVENT, OPEN, OTHER_EVENT, STANDING, claims};

fn rejected(reason: ScanRejection) -> Decision {
    Decision::Rejected(reason)
}

fn invalid(cause: InvalidCause) -> Decision {
    Decision::Rejected(ScanRejection::Invalid(cause))
}

#[test]
fn a_genuine_ticket_is_admitted_with_its_verified_claims() {
    let door = Door::new(false);
    let admission = door.judge_at(&door.ticket(1), Presence::NEVER_SEEN, Entry, OPEN);
    assert_eq!(admission.decision, Decision::Admitted);
    assert_eq!(admission.ticket.unwrap().ticket_type_id, STANDING);
}

#[test]
fn forged_signature() {
    let door = Door::new(false);
    // Right event, right key id, signed with a key the organizer never had.
    let forger = IssuingKey::from_seed(EVENT, KeyId(2), [0x66; 32]);
    let forged = forger
        .issue(claims(1, EVENT, STANDING, OPEN, CLOSE))
        .unwrap()
        .to_text();
    assert_eq!(door.judge(&forged), invalid(InvalidCause::BadSignature));
    // A genuine ticket whose ticket type was edited after signing.
    let genuine = door
        .key
        .issue(claims(1, EVENT, BALCONY, OPEN, CLOSE))
        .unwrap();
    let mut bytes = genuine.as_bytes().to_vec();
    bytes[37..53].copy_from_slice(STANDING.as_bytes());
    let edited = Credential::from_bytes(&bytes).unwrap().to_text();
    let admission = door.judge_at(&edited, Presence::NEVER_SEEN, Entry, OPEN);
    assert_eq!(admission.decision, invalid(InvalidCause::BadSignature));
    assert_eq!(admission.ticket, None, "unverified claims are never shown");
}

#[test]
fn unknown_key_id() {
    let door = Door::new(false);
    let stranger = IssuingKey::from_seed(EVENT, KeyId(99), [2; 32]);
    let text = stranger
        .issue(claims(1, EVENT, STANDING, OPEN, CLOSE))
        .unwrap()
        .to_text();
    assert_eq!(door.judge(&text), invalid(InvalidCause::UnknownKey));
}

#[test]
fn retired_key_while_rotated_out_key_still_verifies() {
    let mut door = Door::new(false);
    let old_ticket = door
        .old_key
        .issue(claims(1, EVENT, STANDING, OPEN, CLOSE))
        .unwrap();
    assert_eq!(door.judge(&old_ticket.to_text()), Decision::Admitted);
    door.ring.retire(KeyId(1)).unwrap();
    assert_eq!(
        door.judge(&old_ticket.to_text()),
        invalid(InvalidCause::RetiredKey)
    );
    assert_eq!(door.judge(&door.ticket(2)), Decision::Admitted);
}

#[test]
fn wrong_event() {
    let door = Door::new(false);
    let other = IssuingKey::from_seed(OTHER_EVENT, KeyId(2), [2; 32]);
    let text = other
        .issue(claims(1, OTHER_EVENT, STANDING, OPEN, CLOSE))
        .unwrap()
        .to_text();
    let admission = door.judge_at(&text, Presence::NEVER_SEEN, Entry, OPEN);
    assert_eq!(admission.decision, rejected(ScanRejection::WrongEvent));
    assert_eq!(admission.ticket, None);
}

#[test]
fn revoked() {
    let mut door = Door::new(false);
    let text = door.ticket(7);
    door.revocations.revoke(uuid::Uuid::from_u128(7));
    assert_eq!(door.judge(&text), rejected(ScanRejection::Revoked));
    assert_eq!(door.judge(&door.ticket(8)), Decision::Admitted);
    // Revoked while inside: the holder may still leave.
    let inside = Presence {
        entries: 1,
        inside: true,
    };
    assert_eq!(
        door.judge_at(&text, inside, Exit, OPEN).decision,
        Decision::Admitted
    );
}

#[test]
fn not_yet_valid_and_expired() {
    let door = Door::new(false);
    let text = door.ticket(1);
    let never = Presence::NEVER_SEEN;
    let at = |now| door.judge_at(&text, never, Entry, now).decision;
    assert_eq!(at(OPEN - 1), rejected(ScanRejection::NotYetValid));
    assert_eq!(at(OPEN), Decision::Admitted);
    assert_eq!(at(CLOSE - 1), Decision::Admitted);
    assert_eq!(at(CLOSE), rejected(ScanRejection::Expired));
    // Expired while inside: the holder may still leave.
    let inside = Presence {
        entries: 1,
        inside: true,
    };
    assert_eq!(
        door.judge_at(&text, inside, Exit, CLOSE + 5).decision,
        Decision::Admitted
    );
}

#[test]
fn not_on_this_list() {
    let door = Door::new(false);
    let text = door
        .key
        .issue(claims(1, EVENT, BALCONY, OPEN, CLOSE))
        .unwrap()
        .to_text();
    let admission = door.judge_at(&text, Presence::NEVER_SEEN, Entry, OPEN);
    assert_eq!(admission.decision, rejected(ScanRejection::NotOnList));
    assert_eq!(admission.ticket.unwrap().ticket_type_id, BALCONY);
}

#[test]
fn second_entry_without_exit() {
    let inside = Presence {
        entries: 1,
        inside: true,
    };
    for re_entry in [true, false] {
        let door = Door::new(re_entry);
        let decision = door.judge_at(&door.ticket(1), inside, Entry, OPEN).decision;
        assert_eq!(decision, rejected(ScanRejection::AlreadyInside));
    }
}

#[test]
fn entry_after_exit_depends_on_re_entry() {
    let went_out = Presence {
        entries: 1,
        inside: false,
    };
    let door = Door::new(false);
    let decision = door
        .judge_at(&door.ticket(1), went_out, Entry, OPEN)
        .decision;
    assert_eq!(decision, rejected(ScanRejection::AlreadyUsed));
    let door = Door::new(true);
    assert_eq!(
        door.judge_at(&door.ticket(1), went_out, Entry, OPEN)
            .decision,
        Decision::Admitted
    );
}

#[test]
fn exit_without_entry() {
    let door = Door::new(true);
    let text = door.ticket(1);
    for presence in [
        Presence::NEVER_SEEN,
        Presence {
            entries: 3,
            inside: false,
        },
    ] {
        let decision = door.judge_at(&text, presence, Exit, OPEN).decision;
        assert_eq!(decision, rejected(ScanRejection::NotInside));
    }
}

#[test]
fn truncated_text() {
    let door = Door::new(false);
    let text = door.ticket(1);
    for len in [0, 1, 2, 3, 60, 120, 186, 187] {
        let cut = &text[..len];
        assert_eq!(
            door.judge(cut),
            invalid(InvalidCause::Malformed),
            "length {len}"
        );
    }
}

#[test]
fn lowercase_and_garbage_characters() {
    let door = Door::new(false);
    let text = door.ticket(1);
    assert_eq!(
        door.judge(&text.to_lowercase()),
        invalid(InvalidCause::Malformed)
    );
    for garbage in [
        "hello",
        "{\"ticket\":1}",
        "ÉÉÉ",
        "\u{0}\u{0}\u{0}",
        "https://x.invalid/t/1",
    ] {
        assert_eq!(
            door.judge(garbage),
            invalid(InvalidCause::Malformed),
            "{garbage:?}"
        );
    }
    // One garbage character inside an otherwise genuine text.
    let mut with_newline = text.clone();
    with_newline.insert(90, '\n');
    assert_eq!(door.judge(&with_newline), invalid(InvalidCause::Malformed));
}

#[test]
fn ten_megabyte_input() {
    let door = Door::new(false);
    let huge = "A".repeat(10 * 1024 * 1024);
    assert_eq!(door.judge(&huge), invalid(InvalidCause::Malformed));
    // A genuine credential with 10 MB appended is still refused.
    let padded = door.ticket(1) + &huge;
    assert_eq!(door.judge(&padded), invalid(InvalidCause::Malformed));
}

#[test]
fn empty_input() {
    let door = Door::new(false);
    assert_eq!(door.judge(""), invalid(InvalidCause::Malformed));
}

#[test]
fn unsupported_format_version() {
    let door = Door::new(false);
    let mut bytes = Credential::parse(&door.ticket(1))
        .unwrap()
        .as_bytes()
        .to_vec();
    bytes[0] = 2;
    let text = guichet_domain::credential::base45::encode(&bytes);
    assert_eq!(door.judge(&text), invalid(InvalidCause::UnsupportedVersion));
}
