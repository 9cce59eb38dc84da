//! What a door says, and why it refuses.

use serde::{Deserialize, Serialize};

use crate::credential::CredentialError;
use crate::keyring::VerifyError;

/// Why a credential is `invalid`: the detail behind the one public reason.
///
/// Doors, the API and the organizer's reports group all of these under `invalid` (the
/// design's closed set of reasons); the detail is kept for staff screens and audit logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum InvalidCause {
    /// Not a credential: empty, too long, not base45, wrong length or empty window.
    Malformed,
    /// A format version this scanner does not read.
    UnsupportedVersion,
    /// Signed under a key id the event's ring does not hold.
    UnknownKey,
    /// Signed under a key the organizer retired.
    RetiredKey,
    /// The signature does not verify: forged or altered.
    BadSignature,
}

impl InvalidCause {
    /// Stable snake_case code.
    pub fn code(self) -> &'static str {
        match self {
            InvalidCause::Malformed => "malformed",
            InvalidCause::UnsupportedVersion => "unsupported_version",
            InvalidCause::UnknownKey => "unknown_key",
            InvalidCause::RetiredKey => "retired_key",
            InvalidCause::BadSignature => "bad_signature",
        }
    }
}

impl From<&CredentialError> for InvalidCause {
    fn from(error: &CredentialError) -> Self {
        match error {
            CredentialError::Version(_) => InvalidCause::UnsupportedVersion,
            _ => InvalidCause::Malformed,
        }
    }
}

impl From<VerifyError> for InvalidCause {
    fn from(error: VerifyError) -> Self {
        match error {
            VerifyError::UnknownKey => InvalidCause::UnknownKey,
            VerifyError::RetiredKey => InvalidCause::RetiredKey,
            VerifyError::Signature => InvalidCause::BadSignature,
        }
    }
}

/// Why a scan was refused. [`ScanRejection::code`] is the closed set the whole platform
/// uses: `invalid`, `wrong_event`, `not_on_list`, `revoked`, `not_yet_valid`, `expired`,
/// `already_inside`, `already_used`, plus `not_inside` for exits (see its doc).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ScanRejection {
    /// Not a genuine credential for this event's keys; the cause says which check failed.
    Invalid(InvalidCause),
    /// A credential for another event.
    WrongEvent,
    /// Its ticket type is not admitted by this check-in list.
    NotOnList,
    /// The ticket was revoked (refund, cancellation, re-issue).
    Revoked,
    /// The validity window has not opened yet.
    NotYetValid,
    /// The validity window has closed.
    Expired,
    /// Entry refused: the ticket is inside already (entered, no exit since).
    AlreadyInside,
    /// Entry refused: the ticket entered before and the list allows no re-entry.
    AlreadyUsed,
    /// Exit refused: the ticket is not inside (never entered, or already went out). The
    /// design's reasons cover entries only; an exit without an entry needs its own.
    NotInside,
}

impl ScanRejection {
    /// Stable snake_case code.
    pub fn code(self) -> &'static str {
        match self {
            ScanRejection::Invalid(_) => "invalid",
            ScanRejection::WrongEvent => "wrong_event",
            ScanRejection::NotOnList => "not_on_list",
            ScanRejection::Revoked => "revoked",
            ScanRejection::NotYetValid => "not_yet_valid",
            ScanRejection::Expired => "expired",
            ScanRejection::AlreadyInside => "already_inside",
            ScanRejection::AlreadyUsed => "already_used",
            ScanRejection::NotInside => "not_inside",
        }
    }

    /// The detail code: the invalid cause for `invalid`, the code itself otherwise.
    pub fn detail(self) -> &'static str {
        match self {
            ScanRejection::Invalid(cause) => cause.code(),
            other => other.code(),
        }
    }

    /// Parses `(code, detail)` as produced by [`ScanRejection::code`] and
    /// [`ScanRejection::detail`] (for storage).
    pub fn from_codes(code: &str, detail: &str) -> Option<Self> {
        Some(match code {
            "invalid" => ScanRejection::Invalid(match detail {
                "malformed" => InvalidCause::Malformed,
                "unsupported_version" => InvalidCause::UnsupportedVersion,
                "unknown_key" => InvalidCause::UnknownKey,
                "retired_key" => InvalidCause::RetiredKey,
                "bad_signature" => InvalidCause::BadSignature,
                _ => return None,
            }),
            "wrong_event" => ScanRejection::WrongEvent,
            "not_on_list" => ScanRejection::NotOnList,
            "revoked" => ScanRejection::Revoked,
            "not_yet_valid" => ScanRejection::NotYetValid,
            "expired" => ScanRejection::Expired,
            "already_inside" => ScanRejection::AlreadyInside,
            "already_used" => ScanRejection::AlreadyUsed,
            "not_inside" => ScanRejection::NotInside,
            _ => return None,
        })
    }
}

impl std::fmt::Display for ScanRejection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ScanRejection::Invalid(cause) => write!(f, "invalid ({})", cause.code()),
            other => f.write_str(other.code()),
        }
    }
}

/// The door's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// Let them through.
    Admitted,
    /// Stop them, for this reason.
    Rejected(ScanRejection),
}

impl Decision {
    /// Whether the person may pass.
    pub fn is_admitted(self) -> bool {
        matches!(self, Decision::Admitted)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        let all = [
            ScanRejection::Invalid(InvalidCause::Malformed),
            ScanRejection::Invalid(InvalidCause::UnsupportedVersion),
            ScanRejection::Invalid(InvalidCause::UnknownKey),
            ScanRejection::Invalid(InvalidCause::RetiredKey),
            ScanRejection::Invalid(InvalidCause::BadSignature),
            ScanRejection::WrongEvent,
            ScanRejection::NotOnList,
            ScanRejection::Revoked,
            ScanRejection::NotYetValid,
            ScanRejection::Expired,
            ScanRejection::AlreadyInside,
            ScanRejection::AlreadyUsed,
            ScanRejection::NotInside,
        ];
        for r in all {
            assert_eq!(ScanRejection::from_codes(r.code(), r.detail()), Some(r));
        }
        assert_eq!(ScanRejection::from_codes("invalid", "nonsense"), None);
        assert_eq!(ScanRejection::from_codes("INVALID", "malformed"), None);
        assert_eq!(
            ScanRejection::Invalid(InvalidCause::RetiredKey).to_string(),
            "invalid (retired_key)"
        );
    }
}
