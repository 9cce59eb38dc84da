//! GraphQL object and input types shared by the resolvers, and their conversions.

use async_graphql::{Enum, ID, InputObject, MaybeUndefined, SimpleObject};
use chrono::{DateTime, TimeZone, Utc};
use guichet_domain::catalog::{EventDetails, TicketTypeDetails};

use crate::auth::Role;
use crate::db::accounts::UserRow;
use crate::db::catalog::{EventRow, TicketTypeRow};

pub(crate) fn instant(seconds: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(seconds, 0).single().unwrap_or_default()
}

/// Where an event is in its lifecycle.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventStatus {
    /// Visible to its organizer only.
    Draft,
    /// On sale and in the public catalog.
    Published,
    /// Called off; kept visible so ticket holders learn of it.
    Cancelled,
}

impl EventStatus {
    fn parse(s: &str) -> EventStatus {
        match s {
            "published" => EventStatus::Published,
            "cancelled" => EventStatus::Cancelled,
            _ => EventStatus::Draft,
        }
    }
}

/// An event in the catalog.
#[derive(SimpleObject, Debug, Clone)]
pub struct Event {
    /// Stable id.
    pub id: ID,
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
    /// Start instant.
    pub starts_at: DateTime<Utc>,
    /// End instant.
    pub ends_at: DateTime<Utc>,
    /// IANA time zone the event is held in, for local display.
    pub time_zone: String,
    /// Streamed online.
    pub online: bool,
    /// Lifecycle status.
    pub status: EventStatus,
    /// Ticket types in display order.
    pub ticket_types: Vec<TicketType>,
    /// Distance from the search point in kilometres, when the search gave one.
    pub distance_km: Option<f64>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
    /// When buyers may refund their tickets themselves.
    pub refund_policy: RefundPolicy,
}

/// An event's refund policy for its buyers (its organizer may refund at any time).
#[derive(SimpleObject, Debug, Clone, PartialEq, Eq)]
pub struct RefundPolicy {
    /// Whether buyers may refund at all.
    pub buyer_refunds: bool,
    /// Buyers may refund until this many hours before the start (when they may at all).
    pub cutoff_hours_before_start: Option<i64>,
    /// The last instant buyers may refund (when they may at all).
    pub buyer_refunds_until: Option<DateTime<Utc>>,
}

impl RefundPolicy {
    fn of(row: &EventRow) -> RefundPolicy {
        RefundPolicy {
            buyer_refunds: row.buyer_refund_cutoff_secs.is_some(),
            cutoff_hours_before_start: row.buyer_refund_cutoff_secs.map(|s| s / 3600),
            buyer_refunds_until: row
                .buyer_refund_cutoff_secs
                .map(|s| instant(row.starts_at.saturating_sub(s))),
        }
    }
}

/// A refund policy to set on an event.
#[derive(InputObject, Debug, Clone, Copy)]
pub struct RefundPolicyInput {
    /// Whether buyers may refund their tickets themselves.
    pub buyer_refunds: bool,
    /// Until how many hours before the start (0 to 8,760; required when `buyerRefunds`).
    pub cutoff_hours_before_start: Option<i64>,
}

impl RefundPolicyInput {
    /// The stored form: the cutoff in seconds, `None` when buyers may not refund.
    pub(crate) fn cutoff_secs(self) -> Result<Option<i64>, crate::error::ApiError> {
        match (self.buyer_refunds, self.cutoff_hours_before_start) {
            (false, _) => Ok(None),
            (true, Some(hours)) if (0..=8_760).contains(&hours) => Ok(Some(hours * 3600)),
            (true, Some(_)) => Err(crate::error::ApiError::invalid(
                "cutoffHoursBeforeStart",
                "give 0 to 8760 hours",
            )),
            (true, None) => Err(crate::error::ApiError::invalid(
                "cutoffHoursBeforeStart",
                "required when buyers may refund",
            )),
        }
    }
}

impl Event {
    pub(crate) fn new(row: EventRow, tickets: Vec<TicketType>, distance_km: Option<f64>) -> Event {
        let refund_policy = RefundPolicy::of(&row);
        Event {
            refund_policy,
            id: ID(row.id),
            title: row.title,
            description: row.description,
            venue: row.venue,
            city: row.city,
            latitude: row.latitude,
            longitude: row.longitude,
            starts_at: instant(row.starts_at),
            ends_at: instant(row.ends_at),
            time_zone: row.time_zone,
            online: row.online,
            status: EventStatus::parse(&row.status),
            ticket_types: tickets,
            distance_km,
            updated_at: instant(row.updated_at),
        }
    }
}

/// A kind of ticket for an event.
#[derive(SimpleObject, Debug, Clone)]
pub struct TicketType {
    /// Stable id.
    pub id: ID,
    /// The event.
    pub event_id: ID,
    /// Name ("Standing", "VIP").
    pub name: String,
    /// Price in minor units of `currency` (cents for EUR).
    pub price_minor: i64,
    /// ISO 4217 code.
    pub currency: String,
    /// How many can be sold.
    pub capacity: i64,
    /// Sale opens.
    pub sale_starts_at: DateTime<Utc>,
    /// Sale closes.
    pub sale_ends_at: DateTime<Utc>,
    /// Most tickets of this type in one order.
    pub max_per_order: i64,
    /// Neither sold nor held right now.
    pub available: i64,
}

impl From<TicketTypeRow> for TicketType {
    fn from(row: TicketTypeRow) -> TicketType {
        TicketType {
            id: ID(row.id),
            event_id: ID(row.event_id),
            name: row.name,
            price_minor: row.price_minor,
            currency: row.currency,
            capacity: row.capacity,
            sale_starts_at: instant(row.sale_starts_at),
            sale_ends_at: instant(row.sale_ends_at),
            max_per_order: row.max_per_order,
            available: row.available,
        }
    }
}

/// A new event.
#[derive(InputObject, Debug)]
pub struct EventInput {
    /// 1–200 characters.
    pub title: String,
    /// Up to 10,000 characters.
    #[graphql(default)]
    pub description: String,
    /// Up to 200 characters.
    #[graphql(default)]
    pub venue: String,
    /// Up to 200 characters.
    #[graphql(default)]
    pub city: String,
    /// −90 to 90; give both coordinates or neither.
    pub latitude: Option<f64>,
    /// −180 to 180.
    pub longitude: Option<f64>,
    /// Start instant.
    pub starts_at: DateTime<Utc>,
    /// End instant, after the start and within a year of it.
    pub ends_at: DateTime<Utc>,
    /// IANA time zone, e.g. `Europe/Paris`.
    pub time_zone: String,
    /// Streamed online.
    #[graphql(default)]
    pub online: bool,
}

impl From<EventInput> for EventDetails {
    fn from(i: EventInput) -> EventDetails {
        EventDetails {
            title: i.title,
            description: i.description,
            venue: i.venue,
            city: i.city,
            latitude: i.latitude,
            longitude: i.longitude,
            starts_at: i.starts_at.timestamp(),
            ends_at: i.ends_at.timestamp(),
            time_zone: i.time_zone,
            online: i.online,
        }
    }
}

/// Changes to an event; absent fields keep their value, `null` coordinates clear the place.
#[derive(InputObject, Debug, Default)]
pub struct EventPatch {
    /// New title.
    pub title: Option<String>,
    /// New description.
    pub description: Option<String>,
    /// New venue.
    pub venue: Option<String>,
    /// New city.
    pub city: Option<String>,
    /// New latitude (`null` clears).
    pub latitude: MaybeUndefined<f64>,
    /// New longitude (`null` clears).
    pub longitude: MaybeUndefined<f64>,
    /// New start.
    pub starts_at: Option<DateTime<Utc>>,
    /// New end.
    pub ends_at: Option<DateTime<Utc>>,
    /// New time zone.
    pub time_zone: Option<String>,
    /// New online flag.
    pub online: Option<bool>,
}

impl EventPatch {
    /// The details after applying the patch.
    pub fn apply(self, mut d: EventDetails) -> EventDetails {
        fn set<T>(slot: &mut T, value: Option<T>) {
            if let Some(v) = value {
                *slot = v;
            }
        }
        fn maybe(slot: &mut Option<f64>, value: MaybeUndefined<f64>) {
            match value {
                MaybeUndefined::Undefined => {}
                MaybeUndefined::Null => *slot = None,
                MaybeUndefined::Value(v) => *slot = Some(v),
            }
        }
        set(&mut d.title, self.title);
        set(&mut d.description, self.description);
        set(&mut d.venue, self.venue);
        set(&mut d.city, self.city);
        maybe(&mut d.latitude, self.latitude);
        maybe(&mut d.longitude, self.longitude);
        set(&mut d.starts_at, self.starts_at.map(|t| t.timestamp()));
        set(&mut d.ends_at, self.ends_at.map(|t| t.timestamp()));
        set(&mut d.time_zone, self.time_zone);
        set(&mut d.online, self.online);
        d
    }
}

/// A ticket type's details.
#[derive(InputObject, Debug)]
pub struct TicketTypeInput {
    /// 1–100 characters.
    pub name: String,
    /// Price in minor units, 0 (free) or more.
    pub price_minor: i64,
    /// ISO 4217 code in upper case.
    pub currency: String,
    /// 1 to 10,000,000.
    pub capacity: i64,
    /// Sale opens.
    pub sale_starts_at: DateTime<Utc>,
    /// Sale closes (after it opens).
    pub sale_ends_at: DateTime<Utc>,
    /// 1 to 100 (default 10).
    #[graphql(default = 10)]
    pub max_per_order: i64,
}

impl From<TicketTypeInput> for TicketTypeDetails {
    fn from(i: TicketTypeInput) -> TicketTypeDetails {
        TicketTypeDetails {
            name: i.name,
            price_minor: i.price_minor,
            currency: i.currency,
            capacity: i.capacity,
            sale_starts_at: i.sale_starts_at.timestamp(),
            sale_ends_at: i.sale_ends_at.timestamp(),
            max_per_order: i.max_per_order,
        }
    }
}

/// An account.
#[derive(SimpleObject, Debug, Clone)]
#[graphql(complex)]
pub struct User {
    /// Stable id.
    pub id: ID,
    /// E-mail address (only ever shown to its owner).
    pub email: String,
    /// Public name.
    pub display_name: String,
    /// Role.
    pub role: Role,
}

impl From<UserRow> for User {
    fn from(row: UserRow) -> User {
        User {
            role: Role::parse(&row.role).unwrap_or(Role::Attendee),
            id: ID(row.id),
            email: row.email,
            display_name: row.display_name,
        }
    }
}

/// Tokens for a session.
#[derive(SimpleObject, Debug)]
pub struct AuthPayload {
    /// Bearer token for `Authorization`, valid a few minutes.
    pub access_token: String,
    /// When the access token expires.
    pub access_token_expires_at: DateTime<Utc>,
    /// One-use token for `refreshSession`; presenting it twice ends the session everywhere.
    pub refresh_token: String,
    /// The account.
    pub user: User,
}
