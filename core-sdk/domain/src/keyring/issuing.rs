//! The issuing side: an event's private signing key. Lives on the server (or, for demos,
//! in a local file); never on a scanner, whose configuration holds public keys only.

use ed25519_dalek::{Signer, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::KeyId;
use crate::credential::{Credential, TicketClaims};

/// Why a credential was not issued.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IssueError {
    /// The claims name another event than the key's.
    #[error("the key signs for another event")]
    WrongEvent,
    /// A key file's secret is not 32 bytes of hex.
    #[error("secret key must be 64 hex characters")]
    SecretKey,
}

/// An event's private Ed25519 key with its key id.
#[derive(Clone, Serialize, Deserialize)]
#[serde(try_from = "IssuingKeyFile", into = "IssuingKeyFile")]
pub struct IssuingKey {
    event_id: Uuid,
    key_id: KeyId,
    signing: SigningKey,
}

impl std::fmt::Debug for IssuingKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuingKey")
            .field("event_id", &self.event_id)
            .field("key_id", &self.key_id)
            .field("public_key", &hex::encode(self.public_key().as_bytes()))
            .finish_non_exhaustive()
    }
}

impl IssuingKey {
    /// Builds the key from a 32-byte secret seed, which the caller draws from a
    /// cryptographically secure generator (this crate does no I/O, randomness included).
    pub fn from_seed(event_id: Uuid, key_id: KeyId, seed: [u8; 32]) -> Self {
        IssuingKey {
            event_id,
            key_id,
            signing: SigningKey::from_bytes(&seed),
        }
    }

    /// The event it signs for.
    pub fn event_id(&self) -> Uuid {
        self.event_id
    }

    /// Its id in the event's key ring.
    pub fn key_id(&self) -> KeyId {
        self.key_id
    }

    /// The public half, for key rings.
    pub fn public_key(&self) -> VerifyingKey {
        self.signing.verifying_key()
    }

    /// Signs a credential for these claims.
    pub fn issue(&self, claims: TicketClaims) -> Result<Credential, IssueError> {
        if claims.event_id != self.event_id {
            return Err(IssueError::WrongEvent);
        }
        Ok(Credential::assemble(self.key_id, claims, |bytes| {
            self.signing.sign(bytes)
        }))
    }
}

/// The key as written in an issuer's key file: the secret seed as hex.
#[derive(Serialize, Deserialize)]
struct IssuingKeyFile {
    event_id: Uuid,
    key_id: KeyId,
    secret_key: String,
}

impl TryFrom<IssuingKeyFile> for IssuingKey {
    type Error = IssueError;

    fn try_from(file: IssuingKeyFile) -> Result<Self, Self::Error> {
        let mut seed = [0u8; 32];
        hex::decode_to_slice(&file.secret_key, &mut seed).map_err(|_| IssueError::SecretKey)?;
        Ok(IssuingKey::from_seed(file.event_id, file.key_id, seed))
    }
}

impl From<IssuingKey> for IssuingKeyFile {
    fn from(key: IssuingKey) -> Self {
        IssuingKeyFile {
            event_id: key.event_id,
            key_id: key.key_id,
            secret_key: hex::encode(key.signing.to_bytes()),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::credential::Validity;

    #[test]
    fn refuses_claims_for_another_event_and_hides_the_secret() {
        let key = IssuingKey::from_seed(Uuid::from_u128(1), KeyId(3), [7; 32]);
        let claims = TicketClaims {
            ticket_id: Uuid::from_u128(5),
            event_id: Uuid::from_u128(2),
            ticket_type_id: Uuid::from_u128(6),
            validity: Validity::new(0, 1).unwrap(),
        };
        assert_eq!(key.issue(claims).unwrap_err(), IssueError::WrongEvent);
        assert!(!format!("{key:?}").contains(&hex::encode([7u8; 32])));
    }

    #[test]
    fn key_file_round_trip() {
        let key = IssuingKey::from_seed(Uuid::from_u128(1), KeyId(3), [7; 32]);
        let json = serde_json::to_string(&key).unwrap();
        let back: IssuingKey = serde_json::from_str(&json).unwrap();
        assert_eq!(back.public_key(), key.public_key());
        assert_eq!(back.key_id(), KeyId(3));
        let refused = serde_json::from_str::<IssuingKey>(&json.replace("07", "0")).unwrap_err();
        assert!(
            refused
                .to_string()
                .starts_with(&IssueError::SecretKey.to_string()),
            "{refused}"
        );
    }
}
