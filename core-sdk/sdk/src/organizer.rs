//! Organizer tools: events and ticket types, sales report, attendee list. Refunds go
//! through [`Booking::refund`](crate::Booking::refund), the same persisted operation buyers use.

use chrono::{DateTime, Utc};

use crate::Error;
use crate::api::operations::{
    AddTicketType, Attendees, Availability, CancelEvent, CreateEvent, MyEvents, PublishEvent,
    SalesReport, UpdateEvent, UpdateTicketType, add_ticket_type, attendees, availability,
    cancel_event, create_event, my_events, publish_event, sales_report, update_event,
    update_ticket_type,
};
use crate::booking::TicketStatus;
use crate::catalog::Catalog;
pub use crate::client::Organizer;

/// Where an event is in its lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
#[serde(rename_all = "snake_case")]
pub enum EventStatus {
    /// Visible to its organizer only.
    Draft,
    /// On sale and in the public catalog.
    Published,
    /// Called off.
    Cancelled,
}

/// A new event.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct EventDraft {
    /// 1–200 characters.
    pub title: String,
    /// Up to 10,000 characters.
    pub description: String,
    /// Venue name.
    pub venue: String,
    /// City.
    pub city: String,
    /// Degrees (WGS84); give both coordinates or neither.
    pub latitude: Option<f64>,
    /// Degrees (WGS84).
    pub longitude: Option<f64>,
    /// Start.
    pub starts_at: DateTime<Utc>,
    /// End, after the start.
    pub ends_at: DateTime<Utc>,
    /// IANA time zone (`Europe/Paris`).
    pub time_zone: String,
    /// Streamed online.
    pub online: bool,
}

/// Changes to an event; `None` keeps the current value. (Removing an event's place is not
/// offered here: give new coordinates instead.)
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct EventChanges {
    /// New title.
    pub title: Option<String>,
    /// New description.
    pub description: Option<String>,
    /// New venue.
    pub venue: Option<String>,
    /// New city.
    pub city: Option<String>,
    /// New latitude.
    pub latitude: Option<f64>,
    /// New longitude.
    pub longitude: Option<f64>,
    /// New start.
    pub starts_at: Option<DateTime<Utc>>,
    /// New end.
    pub ends_at: Option<DateTime<Utc>>,
    /// New time zone.
    pub time_zone: Option<String>,
    /// New online flag.
    pub online: Option<bool>,
}

/// A ticket type's details.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct TicketTypeDraft {
    /// 1–100 characters.
    pub name: String,
    /// Price in minor units (0 for free).
    pub price_minor: i64,
    /// ISO 4217, upper case.
    pub currency: String,
    /// How many can be sold.
    pub capacity: i64,
    /// Sale opens.
    pub sale_starts_at: DateTime<Utc>,
    /// Sale closes.
    pub sale_ends_at: DateTime<Utc>,
    /// Most per order (1–100).
    pub max_per_order: i64,
}

/// A ticket type as the server holds it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct TicketTypeInfo {
    /// Stable id.
    pub id: String,
    /// The event.
    pub event_id: String,
    /// The details.
    pub details: TicketTypeDraft,
    /// Neither sold nor held right now.
    pub available: i64,
}

/// One of the organizer's events.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct OrganizerEvent {
    /// Stable id.
    pub id: String,
    /// The details.
    pub details: EventDraft,
    /// Lifecycle status.
    pub status: EventStatus,
    /// Last change.
    pub updated_at: DateTime<Utc>,
    /// Ticket types in display order.
    pub ticket_types: Vec<TicketTypeInfo>,
}

/// One ticket type's sales.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct TicketTypeSales {
    /// Ticket type.
    pub ticket_type_id: String,
    /// Its name.
    pub name: String,
    /// Capacity.
    pub capacity: i64,
    /// Valid tickets sold.
    pub sold: i64,
    /// Tickets refunded.
    pub refunded: i64,
    /// Held right now.
    pub held: i64,
    /// Revenue of valid tickets, minor units.
    pub revenue_minor: i64,
}

/// One day's sales (UTC).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct DaySales {
    /// The day (00:00 UTC).
    pub day: DateTime<Utc>,
    /// Valid tickets issued that day.
    pub sold: i64,
    /// Their revenue, minor units.
    pub revenue_minor: i64,
}

/// An event's sales.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct SalesReportData {
    /// The event.
    pub event_id: String,
    /// ISO 4217 of the amounts.
    pub currency: Option<String>,
    /// Valid tickets in all.
    pub sold: i64,
    /// Held right now.
    pub held: i64,
    /// Revenue, minor units.
    pub revenue_minor: i64,
    /// By ticket type.
    pub by_ticket_type: Vec<TicketTypeSales>,
    /// By day of sale.
    pub by_day: Vec<DaySales>,
}

/// A ticket of the organizer's event and who holds it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Attendee {
    /// The ticket.
    pub ticket_id: String,
    /// Its order (what [`Booking::refund`](crate::Booking::refund) takes).
    pub order_id: String,
    /// Its type.
    pub ticket_type_id: String,
    /// The type's name.
    pub ticket_type_name: String,
    /// Valid or revoked.
    pub status: TicketStatus,
    /// The holder's public name.
    pub holder_name: String,
    /// The holder's e-mail address.
    pub holder_email: String,
    /// Issued at.
    pub issued_at: DateTime<Utc>,
}

/// A page of attendees, in issuance order.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct AttendeePage {
    /// The tickets.
    pub attendees: Vec<Attendee>,
    /// Pass as `after` for the next page.
    pub end_cursor: Option<String>,
    /// Whether another page follows.
    pub has_next_page: bool,
    /// Matches in all.
    pub total_count: i64,
}

macro_rules! ticket_type_from {
    ($module:ident, $t:expr) => {{
        let t = $t;
        TicketTypeInfo {
            id: t.id,
            event_id: t.event_id,
            details: TicketTypeDraft {
                name: t.name,
                price_minor: t.price_minor,
                currency: t.currency,
                capacity: t.capacity,
                sale_starts_at: t.sale_starts_at,
                sale_ends_at: t.sale_ends_at,
                max_per_order: t.max_per_order,
            },
            available: t.available,
        }
    }};
}

macro_rules! event_from {
    ($module:ident, $e:expr) => {{
        let e = $e;
        OrganizerEvent {
            id: e.id,
            details: EventDraft {
                title: e.title,
                description: e.description,
                venue: e.venue,
                city: e.city,
                latitude: e.latitude,
                longitude: e.longitude,
                starts_at: e.starts_at,
                ends_at: e.ends_at,
                time_zone: e.time_zone,
                online: e.online,
            },
            status: match e.status {
                $module::EventStatus::PUBLISHED => EventStatus::Published,
                $module::EventStatus::CANCELLED => EventStatus::Cancelled,
                _ => EventStatus::Draft,
            },
            updated_at: e.updated_at,
            ticket_types: e
                .ticket_types
                .into_iter()
                .map(|t| ticket_type_from!($module, t))
                .collect(),
        }
    }};
}

macro_rules! ticket_type_input {
    ($module:ident, $d:expr) => {{
        let d = $d;
        $module::TicketTypeInput {
            name: d.name,
            price_minor: d.price_minor,
            currency: d.currency,
            capacity: d.capacity,
            sale_starts_at: d.sale_starts_at,
            sale_ends_at: d.sale_ends_at,
            max_per_order: d.max_per_order,
        }
    }};
}

impl Catalog {
    /// An event's ticket types with what is left of each right now (online: availability
    /// changes by the second, so it is never served from the cache).
    pub async fn availability(&self, event_id: &str) -> Result<Vec<TicketTypeInfo>, Error> {
        let variables = availability::Variables {
            id: event_id.to_owned(),
        };
        let data = self
            .client
            .api()
            .run::<Availability>(variables, None, true)
            .await?;
        let event = data.event.ok_or(Error::NotFound("event"))?;
        Ok(event
            .ticket_types
            .into_iter()
            .map(|t| ticket_type_from!(availability, t))
            .collect())
    }
}

impl Organizer {
    /// Creates a draft event owned by the signed-in organizer.
    pub async fn create_event(&self, draft: EventDraft) -> Result<OrganizerEvent, Error> {
        let variables = create_event::Variables {
            input: create_event::EventInput {
                title: draft.title,
                description: draft.description,
                venue: draft.venue,
                city: draft.city,
                latitude: draft.latitude,
                longitude: draft.longitude,
                starts_at: draft.starts_at,
                ends_at: draft.ends_at,
                time_zone: draft.time_zone,
                online: draft.online,
            },
        };
        let data = self.client.authed::<CreateEvent>(variables, false).await?;
        Ok(event_from!(create_event, data.create_event))
    }

    /// Changes an event's details.
    pub async fn update_event(
        &self,
        event_id: &str,
        changes: EventChanges,
    ) -> Result<OrganizerEvent, Error> {
        let variables = update_event::Variables {
            id: event_id.to_owned(),
            patch: update_event::EventPatch {
                title: changes.title,
                description: changes.description,
                venue: changes.venue,
                city: changes.city,
                latitude: changes.latitude,
                longitude: changes.longitude,
                starts_at: changes.starts_at,
                ends_at: changes.ends_at,
                time_zone: changes.time_zone,
                online: changes.online,
            },
        };
        let data = self.client.authed::<UpdateEvent>(variables, true).await?;
        Ok(event_from!(update_event, data.update_event))
    }

    /// Puts a draft on sale: it enters the public catalog.
    pub async fn publish_event(&self, event_id: &str) -> Result<OrganizerEvent, Error> {
        let variables = publish_event::Variables {
            id: event_id.to_owned(),
        };
        let data = self.client.authed::<PublishEvent>(variables, true).await?;
        Ok(event_from!(publish_event, data.publish_event))
    }

    /// Calls an event off (refunding its orders); cannot be undone.
    pub async fn cancel_event(&self, event_id: &str) -> Result<OrganizerEvent, Error> {
        let variables = cancel_event::Variables {
            id: event_id.to_owned(),
        };
        let data = self.client.authed::<CancelEvent>(variables, true).await?;
        Ok(event_from!(cancel_event, data.cancel_event))
    }

    /// Adds a ticket type to an event.
    pub async fn add_ticket_type(
        &self,
        event_id: &str,
        draft: TicketTypeDraft,
    ) -> Result<TicketTypeInfo, Error> {
        let variables = add_ticket_type::Variables {
            event_id: event_id.to_owned(),
            input: ticket_type_input!(add_ticket_type, draft),
        };
        let data = self
            .client
            .authed::<AddTicketType>(variables, false)
            .await?;
        Ok(ticket_type_from!(add_ticket_type, data.add_ticket_type))
    }

    /// Replaces a ticket type's details.
    pub async fn update_ticket_type(
        &self,
        ticket_type_id: &str,
        draft: TicketTypeDraft,
    ) -> Result<TicketTypeInfo, Error> {
        let variables = update_ticket_type::Variables {
            id: ticket_type_id.to_owned(),
            input: ticket_type_input!(update_ticket_type, draft),
        };
        let data = self
            .client
            .authed::<UpdateTicketType>(variables, true)
            .await?;
        Ok(ticket_type_from!(
            update_ticket_type,
            data.update_ticket_type
        ))
    }

    /// The signed-in organizer's events, drafts included.
    pub async fn events(&self) -> Result<Vec<OrganizerEvent>, Error> {
        let data = self
            .client
            .authed::<MyEvents>(my_events::Variables, true)
            .await?;
        Ok(data
            .my_events
            .into_iter()
            .map(|e| event_from!(my_events, e))
            .collect())
    }

    /// An event's sales: sold, held and revenue by ticket type and by day.
    pub async fn sales_report(&self, event_id: &str) -> Result<SalesReportData, Error> {
        let variables = sales_report::Variables {
            event_id: event_id.to_owned(),
        };
        let r = self
            .client
            .authed::<SalesReport>(variables, true)
            .await?
            .sales_report;
        Ok(SalesReportData {
            event_id: r.event_id,
            currency: r.currency,
            sold: r.sold,
            held: r.held,
            revenue_minor: r.revenue_minor,
            by_ticket_type: r
                .by_ticket_type
                .into_iter()
                .map(|t| TicketTypeSales {
                    ticket_type_id: t.ticket_type_id,
                    name: t.name,
                    capacity: t.capacity,
                    sold: t.sold,
                    refunded: t.refunded,
                    held: t.held,
                    revenue_minor: t.revenue_minor,
                })
                .collect(),
            by_day: r
                .by_day
                .into_iter()
                .map(|d| DaySales {
                    day: d.day,
                    sold: d.sold,
                    revenue_minor: d.revenue_minor,
                })
                .collect(),
        })
    }

    /// A page of an event's attendees (up to `first`, 1–200), those whose e-mail or name
    /// contains `search` if given; pass the previous page's `end_cursor` as `after`.
    pub async fn attendees(
        &self,
        event_id: &str,
        search: Option<&str>,
        first: i64,
        after: Option<&str>,
    ) -> Result<AttendeePage, Error> {
        let variables = attendees::Variables {
            event_id: event_id.to_owned(),
            search: search.map(str::to_owned),
            first,
            after: after.map(str::to_owned),
        };
        let page = self
            .client
            .authed::<Attendees>(variables, true)
            .await?
            .attendees;
        Ok(AttendeePage {
            attendees: page
                .nodes
                .into_iter()
                .map(|a| Attendee {
                    ticket_id: a.ticket_id,
                    order_id: a.order_id,
                    ticket_type_id: a.ticket_type_id,
                    ticket_type_name: a.ticket_type_name,
                    status: match a.status {
                        attendees::TicketStatus::REVOKED => TicketStatus::Revoked,
                        _ => TicketStatus::Valid,
                    },
                    holder_name: a.holder_name,
                    holder_email: a.holder_email,
                    issued_at: a.issued_at,
                })
                .collect(),
            end_cursor: page.page_info.end_cursor,
            has_next_page: page.page_info.has_next_page,
            total_count: page.total_count,
        })
    }
}
