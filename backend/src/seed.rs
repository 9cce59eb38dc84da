//! The demo: an organizer and two published events with ticket types, created once (fixed ids
//! make a second start a no-op).

use guichet_domain::catalog::{EventDetails, TicketTypeDetails};

use crate::auth::password;
use crate::db::accounts::UserRow;
use crate::db::audit::Actor;
use crate::db::catalog::Transition;
use crate::db::{Db, StoreError, now};

/// The demo organizer's e-mail.
pub const DEMO_EMAIL: &str = "demo-organizer@guichet.example";
/// The demo organizer's password (demo mode only; printed at start).
pub const DEMO_PASSWORD: &str = "guichet-demo-2026";

const ORGANIZER_ID: &str = "00000000-0000-7000-8000-000000000001";
const EVENTS: [&str; 2] = [
    "00000000-0000-7000-8000-0000000000e1",
    "00000000-0000-7000-8000-0000000000e2",
];

/// Why seeding failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SeedError {
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Hashing the demo password failed.
    #[error(transparent)]
    Hash(#[from] password::HashFailure),
}

/// Seeds the demo data if it is missing. Returns whether anything was created.
pub async fn demo(db: &Db) -> Result<bool, SeedError> {
    if db.user(ORGANIZER_ID).await?.is_some() {
        return Ok(false);
    }
    let now = now();
    db.create_user(&UserRow {
        id: ORGANIZER_ID.into(),
        email: DEMO_EMAIL.into(),
        password_hash: password::hash(DEMO_PASSWORD.into()).await?,
        display_name: "Guichet Demo Productions".into(),
        role: "organizer".into(),
        created_at: now,
    })
    .await?;
    let day = 24 * 3600;
    let start = now - now % day + 30 * day + 19 * 3600;
    let events = [
        EventDetails {
            title: "Nuit Électro au Fort".into(),
            description: "Eight hours of techno in a 19th-century fort, sunrise included.".into(),
            venue: "Fort de Vaise".into(),
            city: "Lyon".into(),
            latitude: Some(45.7797),
            longitude: Some(4.8052),
            starts_at: start,
            ends_at: start + 8 * 3600,
            time_zone: "Europe/Paris".into(),
            online: false,
        },
        EventDetails {
            title: "Festival des Cordes".into(),
            description: "Chamber music weekend: quartets, duos and a late-night jam. Streamed."
                .into(),
            venue: "Salle Gaveau".into(),
            city: "Paris".into(),
            latitude: Some(48.8748),
            longitude: Some(2.3106),
            starts_at: start + 14 * day,
            ends_at: start + 16 * day,
            time_zone: "Europe/Paris".into(),
            online: true,
        },
    ];
    let tickets: [&[(&str, i64, i64)]; 2] = [
        &[("Standing", 3500, 1200), ("Early bird", 2500, 300)],
        &[("Weekend pass", 9000, 400), ("Stream only", 1500, 5000)],
    ];
    for (e, ((id, details), types)) in EVENTS.iter().zip(events).zip(tickets).enumerate() {
        db.create_event(id, ORGANIZER_ID, &details, now).await?;
        for (n, (name, price, capacity)) in types.iter().enumerate() {
            let ticket = TicketTypeDetails {
                name: (*name).into(),
                price_minor: *price,
                currency: "EUR".into(),
                capacity: *capacity,
                sale_starts_at: now - day,
                sale_ends_at: details.starts_at,
                max_per_order: 8,
            };
            let ticket_id = format!("00000000-0000-7000-8000-0000000a{e:02x}{n:02x}");
            db.add_ticket_type(&ticket_id, id, &ticket, now, &Actor::system())
                .await?;
        }
        db.transition_event(id, Transition::Publish, now, &Actor::system())
            .await?;
    }
    Ok(true)
}
