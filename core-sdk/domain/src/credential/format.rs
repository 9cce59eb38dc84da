//! Reading and writing the version 1 record (see [`super::layout`]).

use ed25519_dalek::Signature;
use uuid::Uuid;

use super::base45::{self, Base45Error};
use super::claims::{TicketClaims, Validity};
use super::layout::{
    EVENT_ID, KEY_ID, MAX_TEXT_LEN, SIGNATURE_LEN, SIGNED_LEN, TICKET_ID, TICKET_TYPE_ID, V1_LEN,
    VALID_FROM, VALID_UNTIL, VERSION_1,
};
use crate::keyring::KeyId;

/// Why a text or byte string is not a well-formed credential. Says nothing about whether
/// the credential is genuine: that is the key ring's call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CredentialError {
    /// Nothing was read.
    #[error("empty credential")]
    Empty,
    /// More text than any credential format produces (checked before decoding).
    #[error("credential text is too long")]
    TooLong,
    /// The text is not base45 (lower case, other characters, bad length or overflow).
    #[error("credential text is not base45: {0}")]
    Encoding(#[from] Base45Error),
    /// A format version this code does not know.
    #[error("unsupported credential format version {0}")]
    Version(u8),
    /// The record is shorter or longer than its format version prescribes.
    #[error("credential is {actual} bytes, format needs {expected}")]
    Length {
        /// Bytes the format version prescribes.
        expected: usize,
        /// Bytes present.
        actual: usize,
    },
    /// The validity window ends at or before its start.
    #[error("credential validity window is empty")]
    Window,
}

/// A structurally valid credential, not yet verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credential {
    key_id: KeyId,
    claims: TicketClaims,
    bytes: [u8; V1_LEN],
}

impl Credential {
    /// Parses base45 text as read from a QR code. Never panics; refuses over-long text
    /// before decoding it.
    pub fn parse(text: &str) -> Result<Self, CredentialError> {
        if text.is_empty() {
            return Err(CredentialError::Empty);
        }
        if text.len() > MAX_TEXT_LEN {
            return Err(CredentialError::TooLong);
        }
        let mut bytes = Vec::with_capacity(V1_LEN);
        base45::decode_into(text.as_bytes(), &mut bytes)?;
        Self::from_bytes(&bytes)
    }

    /// Parses the binary record.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, CredentialError> {
        let version = *bytes.first().ok_or(CredentialError::Empty)?;
        if version != VERSION_1 {
            return Err(CredentialError::Version(version));
        }
        let bytes: [u8; V1_LEN] = bytes.try_into().map_err(|_| CredentialError::Length {
            expected: V1_LEN,
            actual: bytes.len(),
        })?;
        let validity = Validity::from_raw(u32_at(&bytes, VALID_FROM), u32_at(&bytes, VALID_UNTIL))
            .map_err(|_| CredentialError::Window)?;
        let claims = TicketClaims {
            ticket_id: uuid_at(&bytes, TICKET_ID),
            event_id: uuid_at(&bytes, EVENT_ID),
            ticket_type_id: uuid_at(&bytes, TICKET_TYPE_ID),
            validity,
        };
        Ok(Credential {
            key_id: KeyId(u32_at(&bytes, KEY_ID)),
            claims,
            bytes,
        })
    }

    /// Lays out a record and signs it with `sign`, which receives the bytes to sign.
    pub(crate) fn assemble(
        key_id: KeyId,
        claims: TicketClaims,
        sign: impl FnOnce(&[u8]) -> Signature,
    ) -> Self {
        let mut bytes = [0u8; V1_LEN];
        bytes[0] = VERSION_1;
        bytes[KEY_ID..TICKET_ID].copy_from_slice(&key_id.0.to_be_bytes());
        bytes[TICKET_ID..EVENT_ID].copy_from_slice(claims.ticket_id.as_bytes());
        bytes[EVENT_ID..TICKET_TYPE_ID].copy_from_slice(claims.event_id.as_bytes());
        bytes[TICKET_TYPE_ID..VALID_FROM].copy_from_slice(claims.ticket_type_id.as_bytes());
        let (from, until) = claims.validity.raw();
        bytes[VALID_FROM..VALID_UNTIL].copy_from_slice(&from.to_be_bytes());
        bytes[VALID_UNTIL..SIGNED_LEN].copy_from_slice(&until.to_be_bytes());
        let signature = sign(&bytes[..SIGNED_LEN]);
        bytes[SIGNED_LEN..].copy_from_slice(&signature.to_bytes());
        Credential {
            key_id,
            claims,
            bytes,
        }
    }

    /// The key ring entry that must have signed it.
    pub fn key_id(&self) -> KeyId {
        self.key_id
    }

    /// What it asserts (unverified until the key ring says so).
    pub fn claims(&self) -> &TicketClaims {
        &self.claims
    }

    /// The whole binary record.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The bytes the signature covers.
    pub fn signed_bytes(&self) -> &[u8] {
        &self.bytes[..SIGNED_LEN]
    }

    /// The Ed25519 signature.
    pub fn signature(&self) -> Signature {
        let mut raw = [0u8; SIGNATURE_LEN];
        raw.copy_from_slice(&self.bytes[SIGNED_LEN..]);
        Signature::from_bytes(&raw)
    }

    /// The base45 text a QR code carries (upper case letters, digits and ` $%*+-./:`).
    pub fn to_text(&self) -> String {
        base45::encode(&self.bytes)
    }
}

fn u32_at(bytes: &[u8; V1_LEN], at: usize) -> u32 {
    let mut raw = [0u8; 4];
    raw.copy_from_slice(&bytes[at..at + 4]);
    u32::from_be_bytes(raw)
}

fn uuid_at(bytes: &[u8; V1_LEN], at: usize) -> Uuid {
    let mut raw = [0u8; 16];
    raw.copy_from_slice(&bytes[at..at + 16]);
    Uuid::from_bytes(raw)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::credential::layout::V1_TEXT_LEN;

    fn sample() -> Credential {
        let claims = TicketClaims {
            ticket_id: Uuid::from_u128(1),
            event_id: Uuid::from_u128(2),
            ticket_type_id: Uuid::from_u128(3),
            validity: Validity::new(1_000, 2_000).unwrap(),
        };
        Credential::assemble(KeyId(7), claims, |_| Signature::from_bytes(&[9; 64]))
    }

    #[test]
    fn text_round_trip_keeps_every_field() {
        let credential = sample();
        let text = credential.to_text();
        assert_eq!(text.len(), V1_TEXT_LEN);
        let parsed = Credential::parse(&text).unwrap();
        assert_eq!(parsed, credential);
        assert_eq!(parsed.key_id(), KeyId(7));
        assert_eq!(parsed.claims().ticket_type_id, Uuid::from_u128(3));
        assert_eq!(parsed.claims().validity.until(), 2_000);
        assert_eq!(parsed.signature().to_bytes(), [9; 64]);
    }

    #[test]
    fn refuses_structural_faults() {
        let bytes = sample().as_bytes().to_vec();
        assert_eq!(Credential::parse(""), Err(CredentialError::Empty));
        assert_eq!(
            Credential::from_bytes(&bytes[..124]),
            Err(CredentialError::Length {
                expected: 125,
                actual: 124
            })
        );
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(matches!(
            Credential::from_bytes(&longer),
            Err(CredentialError::Length { .. })
        ));
        let mut v2 = bytes.clone();
        v2[0] = 2;
        assert_eq!(
            Credential::from_bytes(&v2),
            Err(CredentialError::Version(2))
        );
        let mut empty_window = bytes;
        empty_window[VALID_UNTIL..SIGNED_LEN].copy_from_slice(&1_000u32.to_be_bytes());
        assert_eq!(
            Credential::from_bytes(&empty_window),
            Err(CredentialError::Window)
        );
        assert_eq!(
            Credential::parse(&"0".repeat(2000)),
            Err(CredentialError::TooLong)
        );
    }
}
