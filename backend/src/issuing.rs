//! Ticket issuance keys: each event gets an Ed25519 issuing key on its first issuance; the
//! private seed is stored sealed with ChaCha20-Poly1305 under a key-encryption key from
//! configuration, bound to its (event, key id) row so a sealed seed cannot be moved to
//! another event.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use guichet_domain::credential::{TicketClaims, Validity};
use guichet_domain::keyring::{IssuingKey, KeyId};
use sha2::{Digest, Sha256};

use crate::db::StoreError;
use crate::db::catalog::EventRow;

/// How long before an event's start its tickets admit (doors open early).
pub const VALID_BEFORE_START_SECS: i64 = 6 * 3600;
/// How long after its end they still admit (late exits, re-entry).
pub const VALID_AFTER_END_SECS: i64 = 6 * 3600;

/// Why a sealed secret could not be opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("sealed key cannot be opened (wrong key-encryption key or tampered row)")]
pub struct SealError;

/// Seals and opens issuing-key seeds.
#[derive(Clone)]
pub struct Sealer {
    cipher: ChaCha20Poly1305,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sealer(..)")
    }
}

impl Sealer {
    /// A sealer for a 32-byte key-encryption key.
    pub fn new(kek: &[u8; 32]) -> Sealer {
        Sealer {
            cipher: ChaCha20Poly1305::new(&Key::from(*kek)),
        }
    }

    /// The key-encryption key versions before the dedicated key derived from the token
    /// secret. Only read, at start, to re-seal what it sealed under the configured key
    /// ([`crate::db::Db::reseal_event_keys`]); never used to seal.
    pub fn legacy_derived_from(secret: &[u8]) -> Sealer {
        let kek: [u8; 32] = Sha256::new()
            .chain_update(b"guichet/key-encryption/v1\0")
            .chain_update(secret)
            .finalize()
            .into();
        Sealer::new(&kek)
    }

    /// `base64(nonce ‖ ciphertext)` of `seed`, authenticated with `context`.
    pub fn seal(&self, seed: &[u8; 32], context: &str) -> Result<String, SealError> {
        let nonce: [u8; 12] = rand::random();
        let sealed = self
            .cipher
            .encrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: seed,
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| SealError)?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        Ok(STANDARD.encode(out))
    }

    /// Opens what [`Sealer::seal`] produced for the same `context`.
    pub fn open(&self, sealed: &str, context: &str) -> Result<[u8; 32], SealError> {
        let bytes = STANDARD.decode(sealed).map_err(|_| SealError)?;
        if bytes.len() < 12 {
            return Err(SealError);
        }
        let (nonce, ciphertext) = bytes.split_at(12);
        let nonce: [u8; 12] = nonce.try_into().map_err(|_| SealError)?;
        let plain = self
            .cipher
            .decrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: ciphertext,
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| SealError)?;
        plain.try_into().map_err(|_| SealError)
    }
}

/// The context a sealed seed is bound to.
pub fn seal_context(event_id: &str, key_id: i64) -> String {
    format!("guichet/event-key/{event_id}/{key_id}")
}

/// What issuance needs for one event: its active key and the tickets' validity window.
#[derive(Debug)]
pub struct Issuer {
    key: IssuingKey,
    validity: Validity,
    event_id: uuid::Uuid,
}

impl Issuer {
    /// Builds the issuer of `event` from its active key.
    pub fn new(event: &EventRow, key_id: i64, seed: [u8; 32]) -> Result<Issuer, StoreError> {
        let event_id = uuid::Uuid::parse_str(&event.id)
            .map_err(|_| StoreError::Conflict("event id is not a UUID"))?;
        let key_id =
            u32::try_from(key_id).map_err(|_| StoreError::Conflict("key id out of range"))?;
        let validity = Validity::new(
            event.starts_at - VALID_BEFORE_START_SECS,
            event.ends_at + VALID_AFTER_END_SECS,
        )
        .map_err(|_| StoreError::Conflict("event window cannot make a validity window"))?;
        Ok(Issuer {
            key: IssuingKey::from_seed(event_id, KeyId(key_id), seed),
            validity,
            event_id,
        })
    }

    /// The signed credential text of one ticket.
    pub fn credential(&self, ticket_id: &str, ticket_type_id: &str) -> Result<String, StoreError> {
        let parse = |s: &str| {
            uuid::Uuid::parse_str(s).map_err(|_| StoreError::Conflict("ticket ids must be UUIDs"))
        };
        let claims = TicketClaims {
            ticket_id: parse(ticket_id)?,
            event_id: self.event_id,
            ticket_type_id: parse(ticket_type_id)?,
            validity: self.validity,
        };
        let credential = self
            .key
            .issue(claims)
            .map_err(|_| StoreError::Conflict("key signs for another event"))?;
        Ok(credential.to_text())
    }

    /// The public key of a seed, hex (what `event_keys` stores next to the sealed seed).
    pub fn public_key_hex(seed: &[u8; 32]) -> String {
        let key = IssuingKey::from_seed(uuid::Uuid::nil(), KeyId(0), *seed);
        hex::encode(key.public_key().as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_seeds_open_only_with_the_same_key_and_context() {
        let sealer = Sealer::new(&[1; 32]);
        let sealed = sealer.seal(&[9; 32], "ctx-a").unwrap_or_default();
        assert!(!sealed.contains(&hex::encode([9u8; 32])));
        assert_eq!(sealer.open(&sealed, "ctx-a"), Ok([9; 32]));
        assert_eq!(
            sealer.open(&sealed, "ctx-b"),
            Err(SealError),
            "moved to another row"
        );
        assert_eq!(
            Sealer::new(&[2; 32]).open(&sealed, "ctx-a"),
            Err(SealError),
            "wrong key"
        );
        let mut bytes = STANDARD.decode(&sealed).unwrap_or_default();
        bytes[20] ^= 1;
        assert_eq!(
            sealer.open(&STANDARD.encode(bytes), "ctx-a"),
            Err(SealError),
            "tampered"
        );
        assert_ne!(
            sealer.seal(&[9; 32], "ctx-a"),
            sealer.seal(&[9; 32], "ctx-a"),
            "fresh nonce"
        );
    }
}
