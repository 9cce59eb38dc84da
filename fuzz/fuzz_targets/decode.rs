//! Fuzzes the credential decoder: arbitrary bytes as a binary record and as QR text, then
//! the admission decision on that text. Nothing may panic, and nothing but a genuine
//! credential may be admitted (the fuzzer cannot forge the fixed ring's signature).
#![no_main]

use std::convert::Infallible;

use guichet_domain::admission::{Checkpoint, Presence};
use guichet_domain::checkin::{CheckInList, CheckInListFields, Direction};
use guichet_domain::credential::{Credential, base45};
use guichet_domain::keyring::{EventKeyRing, IssuingKey, KeyId};
use guichet_domain::revocation::RevocationSet;
use libfuzzer_sys::fuzz_target;
use uuid::Uuid;

fuzz_target!(|data: &[u8]| {
    let _ = Credential::from_bytes(data);
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(bytes) = base45::decode(text) {
        assert_eq!(base45::encode(&bytes), text, "base45 decoding is canonical");
    }
    let Ok(credential) = Credential::parse(text) else {
        return;
    };
    assert_eq!(
        credential.to_text(),
        text,
        "a parsed credential re-encodes to its text"
    );

    let event = credential.claims().event_id;
    let key = IssuingKey::from_seed(event, KeyId(1), [7; 32]);
    let mut keys = EventKeyRing::new(event);
    if keys.rotate(key.key_id(), key.public_key()).is_err() {
        return;
    }
    let Ok(list) = CheckInList::new(CheckInListFields {
        id: Uuid::nil(),
        event_id: event,
        name: "fuzz".into(),
        ticket_types: [credential.claims().ticket_type_id].into(),
        gates: ["gate".to_string()].into(),
        re_entry: true,
    }) else {
        return;
    };
    let revocations = RevocationSet::new();
    let Ok(checkpoint) = Checkpoint::new(&list, &keys, &revocations) else {
        return;
    };
    let now = credential.claims().validity.from();
    let Ok(admission) = checkpoint.admit(text, Direction::Entry, now, |_| {
        Ok::<_, Infallible>(Presence::NEVER_SEEN)
    });
    assert!(
        !admission.decision.is_admitted(),
        "forged credential admitted"
    );
});
