//! The offline catalog's records: cached events, their ticket types, searches and hits.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A public event as cached.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct CatalogEvent {
    /// Stable id.
    pub id: String,
    /// Public title.
    pub title: String,
    /// Plain-text description.
    pub description: String,
    /// Venue name.
    pub venue: String,
    /// City.
    pub city: String,
    /// Degrees (WGS84), when the event has a place.
    pub latitude: Option<f64>,
    /// Degrees (WGS84), when the event has a place.
    pub longitude: Option<f64>,
    /// Start.
    pub starts_at: DateTime<Utc>,
    /// End.
    pub ends_at: DateTime<Utc>,
    /// IANA time zone, for local display.
    pub time_zone: String,
    /// Streamed online.
    pub online: bool,
    /// `PUBLISHED` or `CANCELLED`.
    pub status: String,
    /// Ticket types in display order.
    pub ticket_types: Vec<CatalogTicketType>,
    /// Last change on the server.
    pub updated_at: DateTime<Utc>,
}

/// A ticket type of a cached event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[serde(rename_all = "camelCase")]
pub struct CatalogTicketType {
    /// Stable id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Price in minor units.
    pub price_minor: i64,
    /// ISO 4217.
    pub currency: String,
    /// Sale opens.
    pub sale_starts_at: DateTime<Utc>,
    /// Sale closes.
    pub sale_ends_at: DateTime<Utc>,
    /// Most per order.
    pub max_per_order: i64,
    /// Available when the catalog was synced (live stock needs the network).
    pub available: i64,
}

/// An offline search. Every criterion is optional; they combine with AND.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct EventSearch {
    /// Words to find in title, venue, city or description, each as a prefix, ignoring case
    /// and accents.
    pub text: Option<String>,
    /// Only events starting at or after this instant.
    pub starts_after: Option<DateTime<Utc>>,
    /// Only events starting before this instant.
    pub starts_before: Option<DateTime<Utc>>,
    /// Only events within `radius_km` of a point.
    pub near: Option<Near>,
    /// Include events that have ended (default: only events not over yet).
    pub include_past: bool,
    /// Results per page (1 to 500; 0 means 20).
    pub limit: usize,
    /// Results to skip.
    pub offset: usize,
}

/// A point and a radius.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Near {
    /// Degrees, −90 to 90.
    pub latitude: f64,
    /// Degrees, −180 to 180.
    pub longitude: f64,
    /// Kilometres, more than 0 and at most 20,000.
    pub radius_km: f64,
}

/// One search result.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct SearchHit {
    /// The event.
    pub event: CatalogEvent,
    /// Distance from the search point, when the search gave one.
    pub distance_km: Option<f64>,
}
