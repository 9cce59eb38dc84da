//! uniffi custom types (feature `uniffi`): one representation of ids, times and counts at
//! the boundary. A `Uuid` crosses as its hyphenated text, a `DateTime<Utc>` as unix
//! milliseconds and a `usize` count as a `u64`, so every binding holds them the same way.

use chrono::{DateTime, TimeZone, Utc};
use uuid::Uuid;

/// The name a time has at the boundary (the macro takes a one-segment type).
pub type Timestamp = DateTime<Utc>;

uniffi::custom_type!(Uuid, String, {
    remote,
    lower: |id| id.to_string(),
    try_lift: |text| Ok(Uuid::parse_str(&text)?),
});

uniffi::custom_type!(Timestamp, i64, {
    remote,
    lower: |at| at.timestamp_millis(),
    try_lift: |ms| Utc
        .timestamp_millis_opt(ms)
        .single()
        .ok_or_else(|| uniffi::deps::anyhow::anyhow!("{ms} ms is out of range")),
});

uniffi::custom_type!(usize, u64, {
    remote,
    lower: |n| n as u64,
    try_lift: |n| Ok(usize::try_from(n)?),
});

// The domain's scanner vocabulary, declared here for uniffi (the domain crate stays free
// of binding code): a door scan crosses as the same enums a Rust host matches on.

use guichet_domain::admission::{Decision, InvalidCause, ScanClass, ScanRejection};
use guichet_domain::checkin::Direction;
use guichet_domain::credential::{TicketClaims, Validity};

/// Which way a person goes through a gate.
#[uniffi::remote(Enum)]
pub enum Direction {
    Entry,
    Exit,
}

/// Why a credential is `invalid`.
#[uniffi::remote(Enum)]
#[non_exhaustive]
pub enum InvalidCause {
    Malformed,
    UnsupportedVersion,
    UnknownKey,
    RetiredKey,
    BadSignature,
}

/// Why a scan was refused.
#[uniffi::remote(Enum)]
#[non_exhaustive]
pub enum ScanRejection {
    Invalid(InvalidCause),
    WrongEvent,
    NotOnList,
    Revoked,
    NotYetValid,
    Expired,
    AlreadyInside,
    AlreadyUsed,
    NotInside,
}

/// The door's answer.
#[uniffi::remote(Enum)]
pub enum Decision {
    Admitted,
    Rejected(ScanRejection),
}

/// The server's classification of one scan.
#[uniffi::remote(Enum)]
pub enum ScanClass {
    Admitted,
    DuplicateEntry,
    Exited,
    Rejected,
}

/// A ticket's validity window as it crosses: unix seconds, `from` inclusive, `until`
/// exclusive.
#[derive(Debug, Clone, Copy, uniffi::Record)]
pub struct ValidityWindow {
    /// Admits from (unix seconds, inclusive).
    pub from: i64,
    /// Admits until (unix seconds, exclusive).
    pub until: i64,
}

uniffi::custom_type!(Validity, ValidityWindow, {
    remote,
    lower: |v| ValidityWindow { from: v.from(), until: v.until() },
    try_lift: |w| Ok(Validity::new(w.from, w.until)?),
});

/// The facts a credential certifies.
#[uniffi::remote(Record)]
pub struct TicketClaims {
    pub ticket_id: Uuid,
    pub event_id: Uuid,
    pub ticket_type_id: Uuid,
    pub validity: Validity,
}
