//! The SDK's error type, its closed set of kinds, and the flat error every shell hands
//! its host.

use guichet_domain::error_code::ErrorCode;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::api::ApiError;
use crate::session::ProviderError;
use crate::transport::TransportError;

/// The closed set of error kinds a host branches on: every code of the API
/// ([`ErrorCode`]) plus the client's own. `Copy`, and serialised as its wire spelling
/// (`"SOLD_OUT"`, `"NETWORK"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ErrorKind {
    /// No valid credentials.
    Unauthenticated,
    /// Authenticated, but not allowed.
    Forbidden,
    /// No such thing (or not visible to the caller), on the server or here.
    NotFound,
    /// The request is malformed or breaks a rule; nothing was done.
    InvalidInput,
    /// Not enough inventory.
    SoldOut,
    /// The hold expired before checkout.
    HoldExpired,
    /// The payment provider refused.
    PaymentDeclined,
    /// Too many requests.
    RateLimited,
    /// The request conflicts with the current state.
    Conflict,
    /// The server's fault, or an SDK failure with no better kind.
    Internal,
    /// This scanner was revoked: its event data is wiped.
    DeviceRevoked,
    /// No answer from the server (offline, timeout, broken connection).
    Network,
    /// The session ended on the server; sign in again.
    SessionExpired,
    /// The operation needs a signed-in account.
    NotSignedIn,
    /// The local store, the data directory or the secret store failed.
    Storage,
    /// The server answered something this SDK cannot read.
    Protocol,
    /// The scanner is not paired.
    NotPaired,
    /// A server code this SDK does not know (a newer server).
    Unknown,
}

impl ErrorKind {
    /// The wire spelling (the API's own for its codes).
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Unauthenticated => ErrorCode::Unauthenticated.as_str(),
            ErrorKind::Forbidden => ErrorCode::Forbidden.as_str(),
            ErrorKind::NotFound => ErrorCode::NotFound.as_str(),
            ErrorKind::InvalidInput => ErrorCode::InvalidInput.as_str(),
            ErrorKind::SoldOut => ErrorCode::SoldOut.as_str(),
            ErrorKind::HoldExpired => ErrorCode::HoldExpired.as_str(),
            ErrorKind::PaymentDeclined => ErrorCode::PaymentDeclined.as_str(),
            ErrorKind::RateLimited => ErrorCode::RateLimited.as_str(),
            ErrorKind::Conflict => ErrorCode::Conflict.as_str(),
            ErrorKind::Internal => ErrorCode::Internal.as_str(),
            ErrorKind::DeviceRevoked => ErrorCode::DeviceRevoked.as_str(),
            ErrorKind::Network => "NETWORK",
            ErrorKind::SessionExpired => "SESSION_EXPIRED",
            ErrorKind::NotSignedIn => "NOT_SIGNED_IN",
            ErrorKind::Storage => "STORAGE",
            ErrorKind::Protocol => "PROTOCOL",
            ErrorKind::NotPaired => "NOT_PAIRED",
            ErrorKind::Unknown => "UNKNOWN",
        }
    }
}

impl ErrorKind {
    /// Every kind, in declaration order.
    pub const ALL: [ErrorKind; 18] = [
        ErrorKind::Unauthenticated,
        ErrorKind::Forbidden,
        ErrorKind::NotFound,
        ErrorKind::InvalidInput,
        ErrorKind::SoldOut,
        ErrorKind::HoldExpired,
        ErrorKind::PaymentDeclined,
        ErrorKind::RateLimited,
        ErrorKind::Conflict,
        ErrorKind::Internal,
        ErrorKind::DeviceRevoked,
        ErrorKind::Network,
        ErrorKind::SessionExpired,
        ErrorKind::NotSignedIn,
        ErrorKind::Storage,
        ErrorKind::Protocol,
        ErrorKind::NotPaired,
        ErrorKind::Unknown,
    ];

    /// Reads the wire spelling back.
    pub fn from_wire(code: &str) -> Option<ErrorKind> {
        ErrorKind::ALL.into_iter().find(|k| k.as_str() == code)
    }
}

impl From<ErrorCode> for ErrorKind {
    fn from(code: ErrorCode) -> ErrorKind {
        match code {
            ErrorCode::Unauthenticated => ErrorKind::Unauthenticated,
            ErrorCode::Forbidden => ErrorKind::Forbidden,
            ErrorCode::NotFound => ErrorKind::NotFound,
            ErrorCode::InvalidInput => ErrorKind::InvalidInput,
            ErrorCode::SoldOut => ErrorKind::SoldOut,
            ErrorCode::HoldExpired => ErrorKind::HoldExpired,
            ErrorCode::PaymentDeclined => ErrorKind::PaymentDeclined,
            ErrorCode::RateLimited => ErrorKind::RateLimited,
            ErrorCode::Conflict => ErrorKind::Conflict,
            ErrorCode::Internal => ErrorKind::Internal,
            ErrorCode::DeviceRevoked => ErrorKind::DeviceRevoked,
        }
    }
}

impl std::fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The one error a shell gives its host: a kind to branch on and a message to show. Built
/// from an [`Error`] by `From`, the only mapping every binding reuses. The message never
/// carries SQL, driver detail or personal data: the server's messages are written to be
/// shown, and local failures keep their cause out of it (it stays in the source chain of
/// the [`Error`] for logs).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[error("{kind}: {message}")]
pub struct BoundaryError {
    /// What went wrong, from the closed set.
    pub kind: ErrorKind,
    /// A human message, safe to show.
    pub message: String,
}

impl From<&Error> for BoundaryError {
    fn from(error: &Error) -> BoundaryError {
        let message = match error {
            Error::Api(api) => api.message.clone(),
            Error::Secrets(_) => "the secure storage failed".to_owned(),
            Error::DataDir(_) => "the data directory cannot be used".to_owned(),
            other => other.to_string(),
        };
        BoundaryError {
            kind: error.kind(),
            message,
        }
    }
}

impl From<Error> for BoundaryError {
    fn from(error: Error) -> BoundaryError {
        BoundaryError::from(&error)
    }
}

/// Everything the SDK can fail with. Rejections at the door are not errors: they are
/// [`guichet_domain::admission::Decision::Rejected`] values.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The local database failed (disk full, file locked, corrupt file...).
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// The database was written by a newer SDK (its schema version is higher than ours).
    #[error("local store schema version {found} is newer than this SDK's {supported}")]
    SchemaTooNew {
        /// Version found in the file.
        found: u32,
        /// Latest version this SDK knows.
        supported: u32,
    },
    /// Stored data does not parse back (a row this SDK could not have written).
    #[error("local store holds an unreadable {0}")]
    Corrupt(&'static str),
    /// The scanner has no event configuration yet.
    #[error("the scanner is not configured with an event's keys and check-in list")]
    NotConfigured,
    /// The scanner configuration is inconsistent (keys and list of different events,
    /// invalid list or key).
    #[error("invalid scanner configuration: {0}")]
    Config(String),
    /// The device's gate is not one of its check-in list's gates.
    #[error("gate {gate:?} is not on check-in list {list_id}")]
    GateNotOnList {
        /// The gate asked for.
        gate: String,
        /// The list the device is paired to.
        list_id: Uuid,
    },
    /// The text does not fit in a QR code.
    #[error("text too long for a QR code")]
    QrCapacity,
    /// Writing the PNG failed.
    #[error("PNG encoding failed")]
    Png,
    /// The server refused the request; the code says why.
    #[error(transparent)]
    Api(#[from] ApiError),
    /// The request got no answer from the server (offline, timeout, broken connection).
    #[error(transparent)]
    Transport(#[from] TransportError),
    /// The server answered something this SDK cannot read.
    #[error("unexpected answer from the server: {0}")]
    Protocol(&'static str),
    /// The operation needs a signed-in account.
    #[error("sign in first")]
    NotSignedIn,
    /// The session ended on the server (logged out elsewhere, refresh token expired or
    /// reused); sign in again.
    #[error("the session has ended; sign in again")]
    SessionExpired,
    /// The host's secret store failed.
    #[error(transparent)]
    Secrets(#[from] SecretStoreError),
    /// The data directory cannot be used (permissions, not a directory...).
    #[error("data directory: {0}")]
    DataDir(String),
    /// The data directory belongs to another server.
    #[error("this data directory belongs to {expected}, not {found}")]
    ServerMismatch {
        /// The server the directory was created for.
        expected: String,
        /// The server asked for now.
        found: String,
    },
    /// The organizer revoked this scanner: its event data was wiped; pair it again.
    #[error("this scanner was revoked by the organizer; its event data was wiped")]
    DeviceRevoked,
    /// The scanner is not paired with a server (no device token).
    #[error("this scanner is not paired; redeem a pairing code first")]
    NotPaired,
    /// The store thread is gone (the client was shut down or a store job panicked).
    #[error("the local store is closed")]
    StoreClosed,
    /// An argument is invalid; nothing was sent.
    #[error("invalid {field}: {message}")]
    InvalidArgument {
        /// The argument at fault.
        field: &'static str,
        /// What is wrong.
        message: String,
    },
    /// No such thing in the local store.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// A sign-in or refresh through an OpenID Connect provider failed; its
    /// [`ProviderError::kind`] says how.
    #[error(transparent)]
    Provider(#[from] ProviderError),
}

impl Error {
    /// The kind a host branches on: the server's code for API errors, else the client's.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Api(e) => e.code,
            Error::Transport(_) => ErrorKind::Network,
            Error::SessionExpired => ErrorKind::SessionExpired,
            Error::NotSignedIn => ErrorKind::NotSignedIn,
            Error::InvalidArgument { .. }
            | Error::Config(_)
            | Error::GateNotOnList { .. }
            | Error::QrCapacity => ErrorKind::InvalidInput,
            Error::NotFound(_) | Error::NotConfigured => ErrorKind::NotFound,
            Error::Storage(_)
            | Error::SchemaTooNew { .. }
            | Error::Corrupt(_)
            | Error::DataDir(_)
            | Error::ServerMismatch { .. }
            | Error::StoreClosed
            | Error::Secrets(_) => ErrorKind::Storage,
            Error::Protocol(_) => ErrorKind::Protocol,
            Error::Png => ErrorKind::Internal,
            Error::DeviceRevoked => ErrorKind::DeviceRevoked,
            Error::NotPaired => ErrorKind::NotPaired,
            Error::Provider(e) => e.kind(),
        }
    }

    /// The kind's wire spelling (`"SOLD_OUT"`, `"NETWORK"`), for logs.
    pub fn code(&self) -> &'static str {
        self.kind().as_str()
    }

    /// This error as the flat `{kind, message}` a shell hands its host.
    pub fn to_boundary(&self) -> BoundaryError {
        BoundaryError::from(self)
    }
}

/// A failure of the host's secret store (Keychain, Keystore, the default file store).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("secret store: {0}")]
pub struct SecretStoreError(pub String);

/// A failure of the local database, kept opaque so no SQL or driver detail leaks past the
/// SDK; the driver error stays available as the error's source for logs.
#[derive(Debug, thiserror::Error)]
#[error("local store failure")]
pub struct StorageError(#[source] rusqlite::Error);

impl From<rusqlite::Error> for Error {
    fn from(error: rusqlite::Error) -> Self {
        Error::Storage(StorageError(error))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn every_api_code_keeps_its_spelling_as_a_kind() {
        for code in ErrorCode::ALL {
            let kind = ErrorKind::from(code);
            assert_eq!(kind.as_str(), code.as_str());
            let json = serde_json::to_string(&kind).unwrap();
            assert_eq!(json, serde_json::to_string(&code).unwrap());
            assert_eq!(serde_json::from_str::<ErrorKind>(&json).unwrap(), kind);
        }
        for kind in ErrorKind::ALL {
            assert_eq!(ErrorKind::from_wire(kind.as_str()), Some(kind));
        }
        assert_eq!(ErrorKind::from_wire("TEAPOT"), None);
        assert_eq!(
            serde_json::to_string(&ErrorKind::SessionExpired).unwrap(),
            "\"SESSION_EXPIRED\""
        );
    }

    #[test]
    fn the_boundary_error_is_the_kind_and_a_message_without_causes() {
        let sql = rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(1),
            Some("no such table: wallet_tickets (ann@example.org)".into()),
        );
        let flat = BoundaryError::from(Error::from(sql));
        assert_eq!(flat.kind, ErrorKind::Storage);
        assert_eq!(flat.message, "local store failure");

        let server = Error::Api(ApiError {
            code: ErrorKind::SoldOut,
            message: "only 2 left".into(),
            field: None,
        });
        assert_eq!(
            server.to_boundary(),
            BoundaryError {
                kind: ErrorKind::SoldOut,
                message: "only 2 left".into()
            }
        );

        let keychain = Error::Secrets(SecretStoreError("item ann@example.org locked".into()));
        let flat = keychain.to_boundary();
        assert_eq!(flat.kind, ErrorKind::Storage);
        assert!(!flat.message.contains("ann@"), "{}", flat.message);

        let offline = Error::Transport(TransportError::Timeout);
        assert_eq!(offline.to_boundary().kind, ErrorKind::Network);
        assert_eq!(Error::NotPaired.to_boundary().kind, ErrorKind::NotPaired);
        assert_eq!(
            serde_json::to_value(Error::SessionExpired.to_boundary()).unwrap(),
            serde_json::json!({
                "kind": "SESSION_EXPIRED",
                "message": "the session has ended; sign in again"
            })
        );
    }
}
