//! Seeds a server's database (SQLite or PostgreSQL) with published events straight through
//! SQL, in one transaction, for catalog tests and benchmarks (creating 100,000 events
//! through the API would measure the API, not the catalog). Rows look like the server's own:
//! folded search text from `guichet_domain`, the full-text row on SQLite (PostgreSQL indexes
//! the text itself), one feed entry each. The same seed gives the same events on both.

use std::path::Path;

use guichet_domain::catalog::EventDetails;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const WORDS: &[&str] = &[
    "Nuit",
    "Électro",
    "Jazz",
    "Opéra",
    "Festival",
    "Fête",
    "Musique",
    "Théâtre",
    "Danse",
    "Cinéma",
    "Rock",
    "Symphonie",
    "Marché",
    "Noël",
    "Été",
    "Hiver",
    "Printemps",
    "Lumières",
    "Contes",
    "Cirque",
    "Gospel",
    "Techno",
    "Baroque",
    "Chanson",
    "Poésie",
    "Salsa",
    "Blues",
    "Café",
    "Concert",
    "Rencontres",
    "Forêt",
    "Océan",
    "Soirée",
    "Matinée",
    "Orchestre",
];
const CITIES: &[(&str, f64, f64)] = &[
    ("Paris", 48.8566, 2.3522),
    ("Lyon", 45.7640, 4.8357),
    ("Marseille", 43.2965, 5.3698),
    ("Bordeaux", 44.8378, -0.5792),
    ("Lille", 50.6292, 3.0573),
    ("Nantes", 47.2184, -1.5536),
    ("Toulouse", 43.6047, 1.4442),
    ("Nice", 43.7102, 7.2620),
    ("Strasbourg", 48.5734, 7.7521),
    ("Montréal", 45.5019, -73.5674),
    ("Genève", 46.2044, 6.1432),
    ("Zürich", 47.3769, 8.5417),
];
const VENUES: &[&str] = &[
    "Salle Pleyel",
    "La Sucrière",
    "Le Zénith",
    "Théâtre Antique",
    "Parc",
];

/// One generated event.
struct Seeded {
    id: String,
    status: &'static str,
    details: EventDetails,
    text: String,
}

/// `n` events (90 % published and upcoming, 5 % already over, 5 % cancelled; 10 % online
/// with no place), the same for the same seed.
fn generate(n: usize, seed: u64) -> Vec<Seeded> {
    let mut rng = StdRng::seed_from_u64(seed);
    (0..n)
        .map(|i| {
            let words: Vec<&str> = (0..rng.random_range(2..5))
                .map(|_| WORDS[rng.random_range(0..WORDS.len())])
                .collect();
            let (city, lat, lon) = CITIES[rng.random_range(0..CITIES.len())];
            let online = rng.random_bool(0.1);
            let roll = rng.random_range(0..100);
            // 2030–2031 for upcoming events, 2020 for past ones.
            let base = if roll < 5 {
                1_577_836_800
            } else {
                1_893_456_000
            };
            let starts_at = base + rng.random_range(0..63_072_000);
            let details = EventDetails {
                title: format!("{} {}", words.join(" "), i),
                description: format!(
                    "{} à {city}.",
                    (0..6)
                        .map(|_| WORDS[rng.random_range(0..WORDS.len())])
                        .collect::<Vec<_>>()
                        .join(" ")
                ),
                venue: if online {
                    String::new()
                } else {
                    VENUES[i % VENUES.len()].into()
                },
                city: if online { String::new() } else { city.into() },
                latitude: (!online).then(|| lat + rng.random_range(-0.2..0.2)),
                longitude: (!online).then(|| lon + rng.random_range(-0.2..0.2)),
                starts_at,
                ends_at: starts_at + 3_600 * rng.random_range(1..48),
                time_zone: "Europe/Paris".into(),
                online,
            };
            Seeded {
                id: uuid::Uuid::now_v7().to_string(),
                status: if roll >= 95 { "cancelled" } else { "published" },
                text: details.index_text(),
                details,
            }
        })
        .collect()
}

const INSERT_EVENT: &str = "INSERT INTO events (id, organizer_id, status, title, description,
     venue, city, latitude, longitude, starts_at, ends_at, time_zone, online, search_text,
     created_at, updated_at, buyer_refund_cutoff_secs)
 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $15, 172800)";

/// Inserts `n` events owned by `organizer_id` into a server's SQLite file (see [`generate`])
/// and returns their ids.
pub fn seed_events(server_db: &Path, organizer_id: &str, n: usize, seed: u64) -> Vec<String> {
    let mut conn = rusqlite::Connection::open(server_db).expect("server database");
    let tx = conn.transaction().expect("transaction");
    let events = generate(n, seed);
    {
        let mut insert = tx.prepare(INSERT_EVENT).expect("prepare events");
        let mut fts = tx
            .prepare("INSERT INTO events_fts (event_id, body) VALUES (?1, ?2)")
            .expect("prepare fts");
        let mut change = tx
            .prepare("INSERT INTO catalog_changes (seq, event_id, changed_at) VALUES (?1, ?2, ?3)")
            .expect("prepare changes");
        let mut seq: i64 = tx
            .query_row(
                "SELECT value FROM counters WHERE name = 'catalog_seq'",
                [],
                |r| r.get(0),
            )
            .expect("catalog_seq");
        let now = chrono::Utc::now().timestamp();
        for Seeded {
            id,
            status,
            details,
            text,
        } in &events
        {
            insert
                .execute(rusqlite::params![
                    id,
                    organizer_id,
                    status,
                    details.title,
                    details.description,
                    details.venue,
                    details.city,
                    details.latitude,
                    details.longitude,
                    details.starts_at,
                    details.ends_at,
                    details.time_zone,
                    details.online,
                    text,
                    now,
                ])
                .expect("insert event");
            fts.execute(rusqlite::params![id, text])
                .expect("insert fts");
            seq += 1;
            change
                .execute(rusqlite::params![seq, id, now])
                .expect("insert change");
        }
        tx.execute(
            "UPDATE counters SET value = ?1 WHERE name = 'catalog_seq'",
            [seq],
        )
        .expect("counter");
    }
    tx.commit().expect("commit");
    events.into_iter().map(|e| e.id).collect()
}

/// Inserts the same events as [`seed_events`] into a server's PostgreSQL database, in two
/// statements over arrays (one round trip per table, not per row), and returns their ids.
pub async fn seed_events_postgres(
    pool: &sqlx::PgPool,
    organizer_id: &str,
    n: usize,
    seed: u64,
) -> Vec<String> {
    let events = generate(n, seed);
    let column = |f: fn(&Seeded) -> String| events.iter().map(f).collect::<Vec<_>>();
    let mut tx = pool.begin().await.expect("transaction");
    let (first,): (i64,) = sqlx::query_as(
        "UPDATE counters SET value = value + $1 WHERE name = 'catalog_seq' RETURNING value - $1",
    )
    .bind(i64::try_from(n).expect("count"))
    .fetch_one(&mut *tx)
    .await
    .expect("catalog_seq");
    let now = chrono::Utc::now().timestamp();
    sqlx::query(
        "INSERT INTO events (id, organizer_id, status, title, description, venue, city,
             latitude, longitude, starts_at, ends_at, time_zone, online, search_text,
             created_at, updated_at, buyer_refund_cutoff_secs)
         SELECT id, $2, status, title, description, venue, city, latitude, longitude,
             starts_at, ends_at, time_zone, online, search_text, $3, $3, 172800
         FROM UNNEST($1::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
             $9::float8[], $10::float8[], $11::int8[], $12::int8[], $13::text[], $14::bool[],
             $15::text[])
             AS e(id, status, title, description, venue, city, latitude, longitude,
                  starts_at, ends_at, time_zone, online, search_text)",
    )
    .bind(column(|e| e.id.clone()))
    .bind(organizer_id)
    .bind(now)
    .bind(column(|e| e.status.to_owned()))
    .bind(column(|e| e.details.title.clone()))
    .bind(column(|e| e.details.description.clone()))
    .bind(column(|e| e.details.venue.clone()))
    .bind(column(|e| e.details.city.clone()))
    .bind(
        events
            .iter()
            .map(|e| e.details.latitude)
            .collect::<Vec<_>>(),
    )
    .bind(
        events
            .iter()
            .map(|e| e.details.longitude)
            .collect::<Vec<_>>(),
    )
    .bind(
        events
            .iter()
            .map(|e| e.details.starts_at)
            .collect::<Vec<_>>(),
    )
    .bind(events.iter().map(|e| e.details.ends_at).collect::<Vec<_>>())
    .bind(column(|e| e.details.time_zone.clone()))
    .bind(events.iter().map(|e| e.details.online).collect::<Vec<_>>())
    .bind(column(|e| e.text.clone()))
    .execute(&mut *tx)
    .await
    .expect("insert events");
    // Feed entries in the order the events were generated, numbered after the last one.
    sqlx::query(
        "INSERT INTO catalog_changes (seq, event_id, changed_at)
         SELECT $2 + n, id, $3 FROM UNNEST($1::text[]) WITH ORDINALITY AS c(id, n)",
    )
    .bind(column(|e| e.id.clone()))
    .bind(first)
    .bind(now)
    .execute(&mut *tx)
    .await
    .expect("insert changes");
    tx.commit().await.expect("commit");
    events.into_iter().map(|e| e.id).collect()
}
