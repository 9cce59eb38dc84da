//! The SDK's error type.

use uuid::Uuid;

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
}

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
