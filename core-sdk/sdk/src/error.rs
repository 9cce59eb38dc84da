//! The SDK's error type.

use uuid::Uuid;

use crate::api::{ApiError, ErrorCode};
use crate::transport::TransportError;

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
}

impl Error {
    /// A stable machine code for bindings and hosts: the server's code for API errors,
    /// else one of `NETWORK`, `SESSION_EXPIRED`, `NOT_SIGNED_IN`, `INVALID_INPUT`,
    /// `NOT_FOUND`, `STORAGE`, `PROTOCOL`, `INTERNAL`, `DEVICE_REVOKED`, `NOT_PAIRED`.
    pub fn code(&self) -> &'static str {
        match self {
            Error::Api(e) => e.code.as_str(),
            Error::Transport(_) => "NETWORK",
            Error::SessionExpired => "SESSION_EXPIRED",
            Error::NotSignedIn => "NOT_SIGNED_IN",
            Error::InvalidArgument { .. } | Error::Config(_) | Error::GateNotOnList { .. } => {
                "INVALID_INPUT"
            }
            Error::QrCapacity => "INVALID_INPUT",
            Error::NotFound(_) | Error::NotConfigured => "NOT_FOUND",
            Error::Storage(_)
            | Error::SchemaTooNew { .. }
            | Error::Corrupt(_)
            | Error::DataDir(_)
            | Error::ServerMismatch { .. }
            | Error::StoreClosed
            | Error::Secrets(_) => "STORAGE",
            Error::Protocol(_) => "PROTOCOL",
            Error::Png => "INTERNAL",
            Error::DeviceRevoked => "DEVICE_REVOKED",
            Error::NotPaired => "NOT_PAIRED",
        }
    }

    /// The server's code, when the server refused the request.
    pub fn api_code(&self) -> Option<ErrorCode> {
        match self {
            Error::Api(e) => Some(e.code),
            _ => None,
        }
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
