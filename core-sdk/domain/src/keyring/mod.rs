//! An event's signing keys as a door sees them: public keys by key id, with their status.
//!
//! Keys rotate: the issuer signs new tickets with the one `Active` key; a key rotated out
//! still verifies the tickets it signed, until the organizer retires it, after which
//! every ticket it signed is refused (re-issue them under the new key first).

mod issuing;

pub use issuing::{IssueError, IssuingKey};

use std::collections::BTreeMap;

pub use ed25519_dalek::VerifyingKey;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::credential::Credential;

/// A key's id within its event's ring (written in every credential it signs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct KeyId(pub u32);

impl std::fmt::Display for KeyId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Where a key is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyStatus {
    /// Signs new tickets; verifies.
    Active,
    /// No longer signs; still verifies the tickets it signed.
    RotatedOut,
    /// Verifies nothing: its tickets are refused.
    Retired,
}

impl KeyStatus {
    /// Stable lower-case name, as stored and serialised.
    pub fn as_str(self) -> &'static str {
        match self {
            KeyStatus::Active => "active",
            KeyStatus::RotatedOut => "rotated_out",
            KeyStatus::Retired => "retired",
        }
    }

    /// Parses [`KeyStatus::as_str`]'s output.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "active" => Some(KeyStatus::Active),
            "rotated_out" => Some(KeyStatus::RotatedOut),
            "retired" => Some(KeyStatus::Retired),
            _ => None,
        }
    }
}

/// Why a key ring change or file was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyRingError {
    /// The key id is already in the ring.
    #[error("key id {0} is already in the ring")]
    DuplicateKeyId(KeyId),
    /// The key id is not in the ring.
    #[error("key id {0} is not in the ring")]
    UnknownKeyId(KeyId),
    /// More than one key is marked active.
    #[error("a key ring has at most one active key")]
    SeveralActive,
    /// The bytes are not an Ed25519 public key.
    #[error("not an Ed25519 public key")]
    PublicKey,
}

/// Why a credential's signature was not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// No key with the credential's key id in this ring.
    #[error("unknown key id")]
    UnknownKey,
    /// The key exists but was retired.
    #[error("key retired")]
    RetiredKey,
    /// The signature does not verify under the key.
    #[error("bad signature")]
    Signature,
}

/// One public key in a ring.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RingKey {
    /// Its id.
    pub key_id: KeyId,
    /// The Ed25519 public key (decompressed once, when the ring is built).
    pub public_key: VerifyingKey,
    /// Its status.
    pub status: KeyStatus,
}

/// An event's public keys.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "KeyRingFile", into = "KeyRingFile")]
pub struct EventKeyRing {
    event_id: Uuid,
    keys: BTreeMap<KeyId, RingKey>,
}

impl EventKeyRing {
    /// An empty ring for an event.
    pub fn new(event_id: Uuid) -> Self {
        EventKeyRing {
            event_id,
            keys: BTreeMap::new(),
        }
    }

    /// The event the ring belongs to.
    pub fn event_id(&self) -> Uuid {
        self.event_id
    }

    /// Adds a key with a given status (loading a ring from storage or the server).
    pub fn insert(
        &mut self,
        key_id: KeyId,
        public_key: VerifyingKey,
        status: KeyStatus,
    ) -> Result<(), KeyRingError> {
        if self.keys.contains_key(&key_id) {
            return Err(KeyRingError::DuplicateKeyId(key_id));
        }
        if status == KeyStatus::Active && self.active().is_some() {
            return Err(KeyRingError::SeveralActive);
        }
        self.keys.insert(
            key_id,
            RingKey {
                key_id,
                public_key,
                status,
            },
        );
        Ok(())
    }

    /// Makes `public_key` the active key; the previous active key is rotated out and keeps
    /// verifying the tickets it signed.
    pub fn rotate(&mut self, key_id: KeyId, public_key: VerifyingKey) -> Result<(), KeyRingError> {
        if self.keys.contains_key(&key_id) {
            return Err(KeyRingError::DuplicateKeyId(key_id));
        }
        for key in self.keys.values_mut() {
            if key.status == KeyStatus::Active {
                key.status = KeyStatus::RotatedOut;
            }
        }
        self.keys.insert(
            key_id,
            RingKey {
                key_id,
                public_key,
                status: KeyStatus::Active,
            },
        );
        Ok(())
    }

    /// Retires a key: the tickets it signed stop verifying.
    pub fn retire(&mut self, key_id: KeyId) -> Result<(), KeyRingError> {
        let key = self
            .keys
            .get_mut(&key_id)
            .ok_or(KeyRingError::UnknownKeyId(key_id))?;
        key.status = KeyStatus::Retired;
        Ok(())
    }

    /// The key that signs new tickets, if any.
    pub fn active(&self) -> Option<&RingKey> {
        self.keys.values().find(|k| k.status == KeyStatus::Active)
    }

    /// A key by id.
    pub fn get(&self, key_id: KeyId) -> Option<&RingKey> {
        self.keys.get(&key_id)
    }

    /// All keys, by id.
    pub fn keys(&self) -> impl Iterator<Item = &RingKey> {
        self.keys.values()
    }

    /// Checks the credential's signature under its key id (strict RFC 8032 verification:
    /// non-canonical and small-order encodings are refused, so signatures are not
    /// malleable). Does not look at the event id or any other claim.
    pub fn verify(&self, credential: &Credential) -> Result<(), VerifyError> {
        let key = self
            .keys
            .get(&credential.key_id())
            .ok_or(VerifyError::UnknownKey)?;
        if key.status == KeyStatus::Retired {
            return Err(VerifyError::RetiredKey);
        }
        key.public_key
            .verify_strict(credential.signed_bytes(), &credential.signature())
            .map_err(|_| VerifyError::Signature)
    }
}

/// The ring as written in scanner configuration files: public keys as hex.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct KeyRingFile {
    event_id: Uuid,
    keys: Vec<KeyFileEntry>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct KeyFileEntry {
    key_id: KeyId,
    public_key: String,
    status: KeyStatus,
}

/// Decodes a hex Ed25519 public key.
pub fn public_key_from_hex(text: &str) -> Result<VerifyingKey, KeyRingError> {
    let mut raw = [0u8; 32];
    hex::decode_to_slice(text, &mut raw).map_err(|_| KeyRingError::PublicKey)?;
    public_key_from_bytes(&raw)
}

/// Decodes a compressed Ed25519 public key.
pub fn public_key_from_bytes(raw: &[u8; 32]) -> Result<VerifyingKey, KeyRingError> {
    VerifyingKey::from_bytes(raw).map_err(|_| KeyRingError::PublicKey)
}

impl TryFrom<KeyRingFile> for EventKeyRing {
    type Error = KeyRingError;

    fn try_from(file: KeyRingFile) -> Result<Self, Self::Error> {
        let mut ring = EventKeyRing::new(file.event_id);
        for entry in file.keys {
            ring.insert(
                entry.key_id,
                public_key_from_hex(&entry.public_key)?,
                entry.status,
            )?;
        }
        Ok(ring)
    }
}

impl From<EventKeyRing> for KeyRingFile {
    fn from(ring: EventKeyRing) -> Self {
        KeyRingFile {
            event_id: ring.event_id,
            keys: ring
                .keys
                .into_values()
                .map(|k| KeyFileEntry {
                    key_id: k.key_id,
                    public_key: hex::encode(k.public_key.as_bytes()),
                    status: k.status,
                })
                .collect(),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::credential::{TicketClaims, Validity};

    const EVENT: Uuid = Uuid::from_u128(0xe);

    fn claims() -> TicketClaims {
        TicketClaims {
            ticket_id: Uuid::from_u128(1),
            event_id: EVENT,
            ticket_type_id: Uuid::from_u128(2),
            validity: Validity::new(0, 10).unwrap(),
        }
    }

    #[test]
    fn rotation_keeps_old_tickets_until_retirement() {
        let old = IssuingKey::from_seed(EVENT, KeyId(1), [1; 32]);
        let new = IssuingKey::from_seed(EVENT, KeyId(2), [2; 32]);
        let mut ring = EventKeyRing::new(EVENT);
        ring.rotate(old.key_id(), old.public_key()).unwrap();
        let old_ticket = old.issue(claims()).unwrap();
        ring.rotate(new.key_id(), new.public_key()).unwrap();
        assert_eq!(ring.get(KeyId(1)).unwrap().status, KeyStatus::RotatedOut);
        assert_eq!(ring.active().unwrap().key_id, KeyId(2));
        assert_eq!(ring.verify(&old_ticket), Ok(()));
        assert_eq!(ring.verify(&new.issue(claims()).unwrap()), Ok(()));
        ring.retire(KeyId(1)).unwrap();
        assert_eq!(ring.verify(&old_ticket), Err(VerifyError::RetiredKey));
        assert_eq!(
            ring.retire(KeyId(9)),
            Err(KeyRingError::UnknownKeyId(KeyId(9)))
        );
        assert_eq!(
            ring.rotate(KeyId(2), new.public_key()),
            Err(KeyRingError::DuplicateKeyId(KeyId(2)))
        );
    }

    #[test]
    fn a_key_id_signed_by_another_key_fails() {
        let real = IssuingKey::from_seed(EVENT, KeyId(1), [1; 32]);
        let forger = IssuingKey::from_seed(EVENT, KeyId(1), [66; 32]);
        let mut ring = EventKeyRing::new(EVENT);
        ring.rotate(real.key_id(), real.public_key()).unwrap();
        assert_eq!(
            ring.verify(&forger.issue(claims()).unwrap()),
            Err(VerifyError::Signature)
        );
        let stranger = IssuingKey::from_seed(EVENT, KeyId(5), [1; 32]);
        assert_eq!(
            ring.verify(&stranger.issue(claims()).unwrap()),
            Err(VerifyError::UnknownKey)
        );
    }

    #[test]
    fn json_round_trip_and_validation() {
        let mut ring = EventKeyRing::new(EVENT);
        ring.rotate(
            KeyId(1),
            IssuingKey::from_seed(EVENT, KeyId(1), [1; 32]).public_key(),
        )
        .unwrap();
        ring.rotate(
            KeyId(2),
            IssuingKey::from_seed(EVENT, KeyId(2), [2; 32]).public_key(),
        )
        .unwrap();
        let json = serde_json::to_string(&ring).unwrap();
        assert!(json.contains("\"rotated_out\""));
        assert_eq!(serde_json::from_str::<EventKeyRing>(&json).unwrap(), ring);
        let two_active = json.replace("rotated_out", "active");
        let refused = serde_json::from_str::<EventKeyRing>(&two_active).unwrap_err();
        assert!(
            refused
                .to_string()
                .starts_with(&KeyRingError::SeveralActive.to_string()),
            "{refused}"
        );
        let hex_key = hex::encode(ring.get(KeyId(1)).unwrap().public_key.as_bytes());
        let bad_key = json.replace(&hex_key, "zz");
        let refused = serde_json::from_str::<EventKeyRing>(&bad_key).unwrap_err();
        assert!(
            refused
                .to_string()
                .starts_with(&KeyRingError::PublicKey.to_string()),
            "{refused}"
        );
    }

    #[test]
    fn status_names_round_trip() {
        for status in [KeyStatus::Active, KeyStatus::RotatedOut, KeyStatus::Retired] {
            assert_eq!(KeyStatus::parse(status.as_str()), Some(status));
        }
        assert_eq!(KeyStatus::parse("Active"), None);
    }
}
