//! Seeds a server's SQLite database with published events straight through SQL, in one
//! transaction, for catalog tests and benchmarks (creating 100,000 events through the API
//! would measure the API, not the catalog). Rows look like the server's own: folded search
//! text from `guichet_domain`, the full-text row, one feed entry each.

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

/// Inserts `n` events owned by `organizer_id` (90 % published and upcoming, 5 % already
/// over, 5 % cancelled; 10 % online with no place) and returns their ids.
pub fn seed_events(server_db: &Path, organizer_id: &str, n: usize, seed: u64) -> Vec<String> {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut conn = rusqlite::Connection::open(server_db).expect("server database");
    let tx = conn.transaction().expect("transaction");
    let mut ids = Vec::with_capacity(n);
    {
        let mut insert = tx
            .prepare(
                "INSERT INTO events (id, organizer_id, status, title, description, venue, city,
                     latitude, longitude, starts_at, ends_at, time_zone, online, search_text,
                     created_at, updated_at, buyer_refund_cutoff_secs)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?15,
                     172800)",
            )
            .expect("prepare events");
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
        for i in 0..n {
            let id = uuid::Uuid::now_v7().to_string();
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
            let status = if roll >= 95 { "cancelled" } else { "published" };
            let text = details.index_text();
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
            ids.push(id);
        }
        tx.execute(
            "UPDATE counters SET value = ?1 WHERE name = 'catalog_seq'",
            [seq],
        )
        .expect("counter");
    }
    tx.commit().expect("commit");
    ids
}
