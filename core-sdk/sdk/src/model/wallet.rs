//! What the wallet keeps of its tickets' events.

use chrono::{DateTime, Utc};

/// What the wallet shows of an event.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct EventSummary {
    /// The event.
    pub id: String,
    /// Title.
    pub title: String,
    /// Venue.
    pub venue: String,
    /// City.
    pub city: String,
    /// Start.
    pub starts_at: DateTime<Utc>,
    /// End.
    pub ends_at: DateTime<Utc>,
    /// IANA time zone for local display.
    pub time_zone: String,
    /// `DRAFT`, `PUBLISHED` or `CANCELLED`.
    pub status: String,
}
