//! The catalog in the local store: pages applied with their cursor, search, reads.

use chrono::{DateTime, Utc};
use guichet_domain::geo::GeoPoint;
use guichet_domain::text;
use rusqlite::types::Value as SqlValue;
use rusqlite::{OptionalExtension, Row, params, params_from_iter};

use super::Store;
use crate::Error;
use crate::model::catalog::{CatalogEvent, CatalogTicketType, EventSearch, SearchHit};

/// Most matches a text search ranks by relevance (see [`Store::search_catalog`]).
const RANKED: usize = 1_000;

/// Where the feed cursor is kept (`client_meta`).
const CURSOR_KEY: &str = "catalog.cursor";

/// One feed entry: the event's current state, or `None` when it left the catalog.
pub(crate) type Change = (String, Option<CatalogEvent>);

const COLUMNS: &str = "e.id, e.title, e.description, e.venue, e.city, e.latitude, \
     e.longitude, e.starts_at, e.ends_at, e.time_zone, e.online, e.status, e.ticket_types, \
     e.updated_at";

fn instant(secs: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(secs, 0).unwrap_or_default()
}

fn read_event(r: &Row<'_>) -> rusqlite::Result<(CatalogEvent, String)> {
    Ok((
        CatalogEvent {
            id: r.get(0)?,
            title: r.get(1)?,
            description: r.get(2)?,
            venue: r.get(3)?,
            city: r.get(4)?,
            latitude: r.get(5)?,
            longitude: r.get(6)?,
            starts_at: instant(r.get(7)?),
            ends_at: instant(r.get(8)?),
            time_zone: r.get(9)?,
            online: r.get(10)?,
            status: r.get(11)?,
            ticket_types: Vec::new(),
            updated_at: instant(r.get(13)?),
        },
        r.get(12)?,
    ))
}

fn with_types((mut event, json): (CatalogEvent, String)) -> Result<CatalogEvent, Error> {
    event.ticket_types = serde_json::from_str::<Vec<CatalogTicketType>>(&json)
        .map_err(|_| Error::Corrupt("cached ticket types"))?;
    Ok(event)
}

impl Store {
    /// The catalog feed cursor (`None` before the first page).
    pub fn catalog_cursor(&self) -> Result<Option<String>, Error> {
        self.meta(CURSOR_KEY)
    }

    /// Applies a feed page and its cursor in one transaction. Returns (upserted, removed).
    pub(crate) fn apply_catalog_page(
        &mut self,
        changes: &[Change],
        cursor: &str,
    ) -> Result<(usize, usize), Error> {
        let tx = self.conn.transaction()?;
        let (mut upserted, mut removed) = (0, 0);
        let ids = serde_json::to_string(&changes.iter().map(|(id, _)| id).collect::<Vec<_>>())
            .map_err(|_| Error::Protocol("event ids do not serialise"))?;
        // The page's events leave the full-text index in one statement...
        tx.execute(
            "INSERT INTO catalog_fts (catalog_fts, rowid, search_text)
             SELECT 'delete', rowid, search_text FROM catalog_events
             WHERE id IN (SELECT value FROM json_each(?1))",
            [&ids],
        )?;
        for (id, event) in changes {
            let Some(e) = event else {
                removed += tx
                    .prepare_cached("DELETE FROM catalog_events WHERE id = ?1")?
                    .execute([id])?;
                continue;
            };
            let types = serde_json::to_string(&e.ticket_types)
                .map_err(|_| Error::Protocol("ticket types do not serialise"))?;
            let search = text::index_text(&[&e.title, &e.venue, &e.city, &e.description]);
            tx.prepare_cached(
                "INSERT INTO catalog_events (id, title, description, venue, city, latitude,
                     longitude, starts_at, ends_at, time_zone, online, status, ticket_types,
                     updated_at, search_text)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)
                 ON CONFLICT (id) DO UPDATE SET title = excluded.title,
                     description = excluded.description, venue = excluded.venue,
                     city = excluded.city, latitude = excluded.latitude,
                     longitude = excluded.longitude, starts_at = excluded.starts_at,
                     ends_at = excluded.ends_at, time_zone = excluded.time_zone,
                     online = excluded.online, status = excluded.status,
                     ticket_types = excluded.ticket_types, updated_at = excluded.updated_at,
                     search_text = excluded.search_text",
            )?
            .execute(params![
                e.id,
                e.title,
                e.description,
                e.venue,
                e.city,
                e.latitude,
                e.longitude,
                e.starts_at.timestamp(),
                e.ends_at.timestamp(),
                e.time_zone,
                e.online,
                e.status,
                types,
                e.updated_at.timestamp(),
                search,
            ])?;
            upserted += 1;
        }
        // ...and those still in the catalog come back, in one statement.
        tx.execute(
            "INSERT INTO catalog_fts (rowid, search_text)
             SELECT rowid, search_text FROM catalog_events
             WHERE id IN (SELECT value FROM json_each(?1))",
            [&ids],
        )?;
        tx.execute(
            "INSERT INTO client_meta (key, value) VALUES (?1, ?2)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            params![CURSOR_KEY, cursor],
        )?;
        tx.commit()?;
        Ok((upserted, removed))
    }

    /// One cached event.
    pub fn catalog_event(&self, id: &str) -> Result<Option<CatalogEvent>, Error> {
        let found = self
            .conn
            .prepare_cached(&format!(
                "SELECT {COLUMNS} FROM catalog_events e WHERE e.id = ?1"
            ))?
            .query_row([id], read_event)
            .optional()?;
        found.map(with_types).transpose()
    }

    #[cfg(any(test, feature = "internals"))]
    /// How many events are cached.
    pub fn catalog_len(&self) -> Result<i64, Error> {
        Ok(self
            .conn
            .query_row("SELECT count(*) FROM catalog_events", [], |r| r.get(0))?)
    }

    /// Searches the cache: published events matching every criterion, ranked by relevance
    /// (bm25) then start time when there is text matching at most 1,000 events, by start
    /// time otherwise. `now` hides events that ended unless `include_past`.
    pub fn search_catalog(&self, q: &EventSearch, now: i64) -> Result<Vec<SearchHit>, Error> {
        let limit = match q.limit {
            0 => 20,
            n => n.min(500),
        };
        let near = match q.near {
            Some(n) => {
                let centre =
                    GeoPoint::new(n.latitude, n.longitude).map_err(|_| Error::InvalidArgument {
                        field: "near",
                        message: "latitude −90..90 and longitude −180..180".into(),
                    })?;
                if !(n.radius_km > 0.0 && n.radius_km <= 20_000.0) {
                    return Err(Error::InvalidArgument {
                        field: "near.radius_km",
                        message: "more than 0 and at most 20,000".into(),
                    });
                }
                Some((centre, n.radius_km))
            }
            None => None,
        };
        let tokens = q.text.as_deref().map(text::tokens).unwrap_or_default();
        // Tokens are alphanumeric runs: no FTS5 syntax can reach the query.
        let expr = tokens
            .iter()
            .map(|t| format!("\"{t}\"*"))
            .collect::<Vec<_>>()
            .join(" AND ");
        // A selective query is ranked by bm25. One matching more than RANKED events (a
        // word in a large share of the catalog) says little about relevance, and scoring
        // every match costs ~1 µs each: those list the matches soonest first, reading the
        // start-time index and keeping the rows whose id is in the match set.
        let mut members: Option<Vec<i64>> = None;
        let ranked = !tokens.is_empty() && {
            let mut stmt = self.conn.prepare_cached(
                "SELECT rowid FROM catalog_fts WHERE catalog_fts MATCH ?1 LIMIT ?2",
            )?;
            let found = stmt
                .query_map(params![expr, RANKED as i64 + 1], |r| r.get::<_, i64>(0))?
                .count();
            if found > RANKED {
                let mut stmt = self
                    .conn
                    .prepare_cached("SELECT rowid FROM catalog_fts WHERE catalog_fts MATCH ?1")?;
                // FTS5 returns row ids in ascending order: a sorted list to binary-search.
                let mut ids: Vec<i64> = stmt
                    .query_map([&expr], |r| r.get::<_, i64>(0))?
                    .collect::<Result<_, _>>()?;
                ids.sort_unstable();
                members = Some(ids);
            }
            found <= RANKED
        };
        let mut sql = String::new();
        let mut args: Vec<SqlValue> = Vec::new();
        if ranked {
            // CROSS JOIN keeps the full-text match as the outer loop: left to itself the
            // planner may walk the events and run the match once per event.
            args.push(SqlValue::Text(expr));
            sql.push_str(&format!(
                "SELECT {COLUMNS}, e.rowid, bm25(catalog_fts) AS rank FROM catalog_fts \
                 CROSS JOIN catalog_events e ON e.rowid = catalog_fts.rowid \
                 WHERE catalog_fts MATCH ?1 AND e.status = 'PUBLISHED'"
            ));
        } else {
            sql.push_str(&format!(
                "SELECT {COLUMNS}, e.rowid FROM catalog_events e WHERE e.status = 'PUBLISHED'"
            ));
        }
        let mut bind = |sql: &mut String, fragment: &str, value: SqlValue| {
            args.push(value);
            sql.push_str(&fragment.replace("?#", &format!("?{}", args.len())));
        };
        if let Some(t) = q.starts_after {
            bind(
                &mut sql,
                " AND e.starts_at >= ?#",
                SqlValue::Integer(t.timestamp()),
            );
        }
        if let Some(t) = q.starts_before {
            bind(
                &mut sql,
                " AND e.starts_at < ?#",
                SqlValue::Integer(t.timestamp()),
            );
        }
        if !q.include_past {
            bind(&mut sql, " AND e.ends_at > ?#", SqlValue::Integer(now));
        }
        if let Some((centre, radius)) = &near {
            // Unary `+`: the box is checked on the start-time index (it covers the
            // coordinates), which keeps results in order and stops at the page's end,
            // instead of sorting every event in the box.
            let bbox = centre
                .bounding_box(*radius)
                .map_err(|_| Error::InvalidArgument {
                    field: "near.radius_km",
                    message: "more than 0 and at most 20,000".into(),
                })?;
            bind(
                &mut sql,
                " AND +e.latitude >= ?#",
                SqlValue::Real(bbox.min_lat),
            );
            bind(
                &mut sql,
                " AND +e.latitude <= ?#",
                SqlValue::Real(bbox.max_lat),
            );
            bind(
                &mut sql,
                " AND +e.longitude >= ?#",
                SqlValue::Real(bbox.min_lon),
            );
            bind(
                &mut sql,
                " AND +e.longitude <= ?#",
                SqlValue::Real(bbox.max_lon),
            );
        }
        sql.push_str(if ranked {
            " ORDER BY rank, e.starts_at, e.id"
        } else {
            " ORDER BY e.starts_at, e.id"
        });
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let mut rows = stmt.query(params_from_iter(args.iter()))?;
        let mut hits = Vec::with_capacity(limit);
        let mut skipped = 0;
        while let Some(row) = rows.next()? {
            if let Some(members) = &members
                && members.binary_search(&row.get::<_, i64>(14)?).is_err()
            {
                continue;
            }
            let read = read_event(row)?;
            let distance = match &near {
                None => None,
                Some((centre, radius)) => {
                    let point = read
                        .0
                        .latitude
                        .zip(read.0.longitude)
                        .and_then(|(lat, lon)| GeoPoint::new(lat, lon).ok());
                    match point.map(|p| centre.distance_km(&p)) {
                        Some(d) if d <= *radius => Some(d),
                        _ => continue,
                    }
                }
            };
            if skipped < q.offset {
                skipped += 1;
                continue;
            }
            hits.push(SearchHit {
                event: with_types(read)?,
                distance_km: distance,
            });
            if hits.len() == limit {
                break;
            }
        }
        Ok(hits)
    }
}
