//! Guichet for Python, Kotlin and Swift: uniffi objects that wrap the SDK's handles (the
//! client and its sub-handles, and the door scanner).
//!
//! Each exported method converts its arguments, calls the SDK and converts the result;
//! anything more belongs in the SDK. Records, enums and the error kinds come from
//! `guichet-sdk` (its `uniffi` feature). Async methods run on uniffi's tokio support and
//! the SDK's own runtime; listeners are foreign traits; long work returns a [`TaskHandle`]
//! that cancels when dropped.

mod client;
mod door;
mod listeners;

pub use client::{Booking, Catalog, Client, Organizer, Wallet, open_client};
pub use door::{Door, TicketCounts, open_door, open_offline_door, pair_door};
pub use listeners::{
    BrowserOpener, ChangeListener, CheckInsListener, OrderListener, ProgressListener,
    SalesListener, SecretStore, TaskHandle,
};

use guichet_sdk::{BoundaryError, ErrorKind};

uniffi::setup_scaffolding!("guichet");

/// The one exception a host catches: a stable code (`kind`) and a message to show.
#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum GuichetError {
    /// Any failure of the SDK.
    #[error("{kind}: {message}")]
    Failed {
        /// What went wrong, from the closed set (`SOLD_OUT`, `NETWORK`...).
        kind: ErrorKind,
        /// A human message, safe to show.
        message: String,
    },
}

impl From<guichet_sdk::Error> for GuichetError {
    fn from(error: guichet_sdk::Error) -> GuichetError {
        let BoundaryError { kind, message } = BoundaryError::from(error);
        GuichetError::Failed { kind, message }
    }
}

impl From<uniffi::UnexpectedUniFFICallbackError> for GuichetError {
    fn from(error: uniffi::UnexpectedUniFFICallbackError) -> GuichetError {
        GuichetError::Failed {
            kind: ErrorKind::Internal,
            message: error.reason,
        }
    }
}

type Result<T> = std::result::Result<T, GuichetError>;
