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
