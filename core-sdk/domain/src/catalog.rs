//! Events and ticket types as organizers describe them, and the rules they must satisfy.
//! Times are Unix seconds (UTC instants); the time zone is the IANA name the event is held in.

use crate::geo::{GeoError, GeoPoint};
use crate::money::{Money, MoneyError};

/// Longest accepted title, in characters.
pub const MAX_TITLE: usize = 200;
/// Longest accepted description, in characters.
pub const MAX_DESCRIPTION: usize = 10_000;
/// Longest accepted venue or city name, in characters.
pub const MAX_PLACE: usize = 200;
/// Longest accepted ticket type name, in characters.
pub const MAX_TICKET_NAME: usize = 100;
/// Largest capacity of one ticket type.
pub const MAX_CAPACITY: i64 = 10_000_000;
/// Largest number of tickets of one type in one order.
pub const MAX_PER_ORDER: i64 = 100;
/// Longest accepted event, in seconds (a year: festivals and season passes fit).
pub const MAX_EVENT_DURATION: i64 = 366 * 24 * 3600;

/// Why an event or ticket type was refused. Each variant names the offending field so that a
/// form can point at it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CatalogError {
    /// A text field is empty (after trimming) or longer than its limit.
    #[error("{field} must be between 1 and {max} characters")]
    Length {
        /// The field's API name.
        field: &'static str,
        /// Its upper bound in characters.
        max: usize,
    },
    /// A text field holds control characters.
    #[error("{field} contains control characters")]
    ControlCharacters {
        /// The field's API name.
        field: &'static str,
    },
    /// Latitude or longitude out of range.
    #[error("{0}")]
    Coordinates(#[from] GeoError),
    /// The end is not after the start (or the span is absurdly long).
    #[error("{field} must be after the start and within a year of it")]
    Window {
        /// The field's API name.
        field: &'static str,
    },
    /// The time zone is not an IANA name.
    #[error("timeZone is not a known IANA time zone")]
    TimeZone,
    /// Price or currency refused.
    #[error("{0}")]
    Money(#[from] MoneyError),
    /// A count outside its bounds.
    #[error("{field} must be between 1 and {max}")]
    Count {
        /// The field's API name.
        field: &'static str,
        /// Its upper bound.
        max: i64,
    },
}

impl CatalogError {
    /// The API field the error is about.
    pub fn field(&self) -> &'static str {
        match self {
            CatalogError::Length { field, .. }
            | CatalogError::ControlCharacters { field }
            | CatalogError::Window { field }
            | CatalogError::Count { field, .. } => field,
            CatalogError::Coordinates(GeoError::Latitude) => "latitude",
            CatalogError::Coordinates(GeoError::Longitude) => "longitude",
            CatalogError::Coordinates(_) => "radiusKm",
            CatalogError::TimeZone => "timeZone",
            CatalogError::Money(MoneyError::UnknownCurrency) => "currency",
            CatalogError::Money(_) => "priceMinor",
        }
    }
}

/// What an organizer says about an event.
#[derive(Debug, Clone, PartialEq)]
pub struct EventDetails {
    /// Public title.
    pub title: String,
    /// Public description (plain text).
    pub description: String,
    /// Venue name (may be empty for online events).
    pub venue: String,
    /// City (may be empty for online events).
    pub city: String,
    /// Latitude in degrees, when the event has a place.
    pub latitude: Option<f64>,
    /// Longitude in degrees, when the event has a place.
    pub longitude: Option<f64>,
    /// Start, Unix seconds.
    pub starts_at: i64,
    /// End, Unix seconds.
    pub ends_at: i64,
    /// IANA time zone name, e.g. `Europe/Paris`.
    pub time_zone: String,
    /// Whether the event is streamed online.
    pub online: bool,
}

/// What an organizer says about a ticket type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketTypeDetails {
    /// Public name ("Standing", "VIP").
    pub name: String,
    /// Price in minor units.
    pub price_minor: i64,
    /// ISO 4217 code.
    pub currency: String,
    /// How many can be sold.
    pub capacity: i64,
    /// Sale opens, Unix seconds.
    pub sale_starts_at: i64,
    /// Sale closes, Unix seconds.
    pub sale_ends_at: i64,
    /// Most tickets of this type in one order.
    pub max_per_order: i64,
}

fn check_text(
    field: &'static str,
    value: &str,
    min: usize,
    max: usize,
) -> Result<(), CatalogError> {
    let len = value.trim().chars().count();
    if len < min || value.chars().count() > max {
        return Err(CatalogError::Length { field, max });
    }
    if value
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t' && c != '\r')
    {
        return Err(CatalogError::ControlCharacters { field });
    }
    Ok(())
}

fn check_window(field: &'static str, start: i64, end: i64) -> Result<(), CatalogError> {
    if end <= start || end - start > MAX_EVENT_DURATION {
        return Err(CatalogError::Window { field });
    }
    Ok(())
}

/// Whether `name` is an IANA time zone name.
pub fn is_time_zone(name: &str) -> bool {
    name.parse::<chrono_tz::Tz>().is_ok()
}

impl EventDetails {
    /// Checks every rule; the first broken one is returned.
    pub fn validate(&self) -> Result<(), CatalogError> {
        check_text("title", &self.title, 1, MAX_TITLE)?;
        check_text("description", &self.description, 0, MAX_DESCRIPTION)?;
        check_text("venue", &self.venue, 0, MAX_PLACE)?;
        check_text("city", &self.city, 0, MAX_PLACE)?;
        match (self.latitude, self.longitude) {
            (Some(lat), Some(lon)) => {
                GeoPoint::new(lat, lon)?;
            }
            (None, None) => {}
            (None, Some(_)) => return Err(GeoError::Latitude.into()),
            (Some(_), None) => return Err(GeoError::Longitude.into()),
        }
        check_window("endsAt", self.starts_at, self.ends_at)?;
        if !is_time_zone(&self.time_zone) {
            return Err(CatalogError::TimeZone);
        }
        Ok(())
    }

    /// The event's place, if it has one.
    pub fn point(&self) -> Option<GeoPoint> {
        GeoPoint::new(self.latitude?, self.longitude?).ok()
    }

    /// The text the search index holds for this event.
    pub fn index_text(&self) -> String {
        crate::text::index_text(&[&self.title, &self.venue, &self.city, &self.description])
    }
}

impl TicketTypeDetails {
    /// Checks every rule; the first broken one is returned.
    pub fn validate(&self) -> Result<(), CatalogError> {
        check_text("name", &self.name, 1, MAX_TICKET_NAME)?;
        Money::price(self.price_minor, &self.currency)?;
        if !(1..=MAX_CAPACITY).contains(&self.capacity) {
            return Err(CatalogError::Count {
                field: "capacity",
                max: MAX_CAPACITY,
            });
        }
        if !(1..=MAX_PER_ORDER).contains(&self.max_per_order) {
            return Err(CatalogError::Count {
                field: "maxPerOrder",
                max: MAX_PER_ORDER,
            });
        }
        if self.sale_ends_at <= self.sale_starts_at {
            return Err(CatalogError::Window {
                field: "saleEndsAt",
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type Case<T> = (Box<dyn Fn(&mut T)>, &'static str);

    fn event() -> EventDetails {
        EventDetails {
            title: "Nuit Électro".into(),
            description: "Eight hours of techno.".into(),
            venue: "La Sucrière".into(),
            city: "Lyon".into(),
            latitude: Some(45.7376),
            longitude: Some(4.8156),
            starts_at: 1_800_000_000,
            ends_at: 1_800_028_800,
            time_zone: "Europe/Paris".into(),
            online: false,
        }
    }

    fn ticket() -> TicketTypeDetails {
        TicketTypeDetails {
            name: "Standing".into(),
            price_minor: 3500,
            currency: "EUR".into(),
            capacity: 1000,
            sale_starts_at: 1_790_000_000,
            sale_ends_at: 1_800_000_000,
            max_per_order: 6,
        }
    }

    #[test]
    fn a_well_formed_event_and_ticket_pass() {
        assert_eq!(event().validate(), Ok(()));
        assert_eq!(ticket().validate(), Ok(()));
    }

    #[test]
    fn each_event_rule_names_its_field() {
        let cases: Vec<Case<EventDetails>> = vec![
            (Box::new(|e| e.title = "   ".into()), "title"),
            (Box::new(|e| e.title = "x".repeat(MAX_TITLE + 1)), "title"),
            (Box::new(|e| e.title = "a\u{0}b".into()), "title"),
            (
                Box::new(|e| e.description = "d".repeat(MAX_DESCRIPTION + 1)),
                "description",
            ),
            (Box::new(|e| e.latitude = Some(91.0)), "latitude"),
            (Box::new(|e| e.longitude = Some(-181.0)), "longitude"),
            (Box::new(|e| e.latitude = None), "latitude"),
            (Box::new(|e| e.ends_at = e.starts_at), "endsAt"),
            (Box::new(|e| e.ends_at = e.starts_at - 1), "endsAt"),
            (
                Box::new(|e| e.ends_at = e.starts_at + MAX_EVENT_DURATION + 1),
                "endsAt",
            ),
            (
                Box::new(|e| e.time_zone = "Mars/Olympus".into()),
                "timeZone",
            ),
        ];
        for (mutate, field) in cases {
            let mut e = event();
            mutate(&mut e);
            assert_eq!(e.validate().map_err(|e| e.field()), Err(field));
        }
    }

    #[test]
    fn each_ticket_rule_names_its_field() {
        let cases: Vec<Case<TicketTypeDetails>> = vec![
            (Box::new(|t| t.name = String::new()), "name"),
            (Box::new(|t| t.price_minor = -1), "priceMinor"),
            (Box::new(|t| t.currency = "ABC".into()), "currency"),
            (Box::new(|t| t.capacity = 0), "capacity"),
            (
                Box::new(|t| t.max_per_order = MAX_PER_ORDER + 1),
                "maxPerOrder",
            ),
            (
                Box::new(|t| t.sale_ends_at = t.sale_starts_at),
                "saleEndsAt",
            ),
        ];
        for (mutate, field) in cases {
            let mut t = ticket();
            mutate(&mut t);
            assert_eq!(t.validate().map_err(|e| e.field()), Err(field));
        }
    }

    #[test]
    fn online_events_need_no_place() {
        let mut e = event();
        e.latitude = None;
        e.longitude = None;
        e.venue.clear();
        e.city.clear();
        e.online = true;
        assert_eq!(e.validate(), Ok(()));
        assert_eq!(e.point(), None);
    }

    #[test]
    fn index_text_is_folded() {
        assert!(
            event()
                .index_text()
                .starts_with("nuit electro la sucriere lyon")
        );
    }
}
