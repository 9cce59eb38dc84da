//! Public event search: folded full-text prefix match, start-time range and distance, in
//! stable keyset pages ordered by (start, id).

use guichet_domain::geo::GeoPoint;

use super::catalog::{EVENT_COLUMNS, EventRow};
use super::{Db, StoreError};
use crate::with_pool;

/// A validated public search.
#[derive(Debug, Clone, Default)]
pub struct SearchQuery {
    /// Folded tokens; every one must prefix-match a word of the event.
    pub tokens: Vec<String>,
    /// Only events starting at or after this instant (Unix seconds).
    pub starts_from: Option<i64>,
    /// Only events starting before this instant (Unix seconds).
    pub starts_before: Option<i64>,
    /// Only events ending after this instant (hides past events).
    pub ends_after: Option<i64>,
    /// Only events within this many kilometres of the point.
    pub near: Option<(GeoPoint, f64)>,
    /// Keyset cursor: start and id of the last event of the previous page.
    pub after: Option<(i64, String)>,
    /// Page size.
    pub limit: usize,
}

/// One page of results.
#[derive(Debug, Clone)]
pub struct SearchPage {
    /// Matching events with their distance from the search point, if one was given.
    pub events: Vec<(EventRow, Option<f64>)>,
    /// Whether more results follow.
    pub has_next: bool,
}

enum Arg {
    Int(i64),
    Float(f64),
    Text(String),
}

impl Db {
    /// Runs a search. Distance is checked exactly (haversine) after a bounding-box pre-filter
    /// in SQL; the loop keeps reading keyset batches until the page is full, so pages stay
    /// full and stable whatever the share of the box outside the circle.
    pub async fn search_events(&self, q: &SearchQuery) -> Result<SearchPage, StoreError> {
        let want = q.limit + 1;
        let batch = if q.near.is_some() {
            (want * 4).max(64)
        } else {
            want
        };
        let mut found: Vec<(EventRow, Option<f64>)> = Vec::with_capacity(want);
        let mut after = q.after.clone();
        loop {
            let rows = self.search_batch(q, after.as_ref(), batch).await?;
            let exhausted = rows.len() < batch;
            for row in rows {
                after = Some((row.starts_at, row.id.clone()));
                let distance = match &q.near {
                    None => None,
                    Some((centre, radius)) => {
                        let Some(d) = row_point(&row).map(|p| centre.distance_km(&p)) else {
                            continue;
                        };
                        if d > *radius {
                            continue;
                        }
                        Some(d)
                    }
                };
                found.push((row, distance));
                if found.len() == want {
                    break;
                }
            }
            if exhausted || found.len() == want {
                break;
            }
        }
        let has_next = found.len() > q.limit;
        found.truncate(q.limit);
        Ok(SearchPage {
            events: found,
            has_next,
        })
    }

    async fn search_batch(
        &self,
        q: &SearchQuery,
        after: Option<&(i64, String)>,
        limit: usize,
    ) -> Result<Vec<EventRow>, StoreError> {
        let mut sql = format!("SELECT {EVENT_COLUMNS} FROM events e WHERE e.status = 'published'");
        let mut args: Vec<Arg> = Vec::new();
        let mut push = |sql: &mut String, fragment: &str, arg: Arg| {
            args.push(arg);
            sql.push_str(&fragment.replace("$?", &format!("${}", args.len())));
        };
        if let Some(t) = q.starts_from {
            push(&mut sql, " AND e.starts_at >= $?", Arg::Int(t));
        }
        if let Some(t) = q.starts_before {
            push(&mut sql, " AND e.starts_at < $?", Arg::Int(t));
        }
        if let Some(t) = q.ends_after {
            push(&mut sql, " AND e.ends_at > $?", Arg::Int(t));
        }
        if let Some((centre, radius)) = &q.near {
            // The radius was validated by the caller; an invalid one matches nothing.
            let Ok(bbox) = centre.bounding_box(*radius) else {
                return Ok(Vec::new());
            };
            push(&mut sql, " AND e.latitude >= $?", Arg::Float(bbox.min_lat));
            push(&mut sql, " AND e.latitude <= $?", Arg::Float(bbox.max_lat));
            push(&mut sql, " AND e.longitude >= $?", Arg::Float(bbox.min_lon));
            push(&mut sql, " AND e.longitude <= $?", Arg::Float(bbox.max_lon));
        }
        if !q.tokens.is_empty() {
            // Tokens are alphanumeric runs (guichet_domain::text::tokens): no query syntax.
            match self {
                Db::Sqlite(_) => {
                    let expr = q
                        .tokens
                        .iter()
                        .map(|t| format!("\"{t}\"*"))
                        .collect::<Vec<_>>();
                    push(
                        &mut sql,
                        " AND e.id IN (SELECT event_id FROM events_fts WHERE events_fts MATCH $?)",
                        Arg::Text(expr.join(" AND ")),
                    );
                }
                Db::Postgres(_) => {
                    let expr = q
                        .tokens
                        .iter()
                        .map(|t| format!("{t}:*"))
                        .collect::<Vec<_>>();
                    push(
                        &mut sql,
                        " AND to_tsvector('simple', e.search_text) @@ to_tsquery('simple', $?)",
                        Arg::Text(expr.join(" & ")),
                    );
                }
            }
        }
        if let Some((start, id)) = after {
            args.push(Arg::Int(*start));
            let n = args.len();
            args.push(Arg::Text(id.clone()));
            sql.push_str(&format!(
                " AND (e.starts_at > ${n} OR (e.starts_at = ${n} AND e.id > ${}))",
                n + 1
            ));
        }
        args.push(Arg::Int(i64::try_from(limit).unwrap_or(i64::MAX)));
        sql.push_str(&format!(
            " ORDER BY e.starts_at, e.id LIMIT ${}",
            args.len()
        ));
        let sql = sqlx::AssertSqlSafe(sql);
        Ok(with_pool!(self, |pool| {
            let mut query = sqlx::query_as::<_, EventRow>(sql);
            for arg in args {
                query = match arg {
                    Arg::Int(v) => query.bind(v),
                    Arg::Float(v) => query.bind(v),
                    Arg::Text(v) => query.bind(v),
                };
            }
            query.fetch_all(pool).await?
        }))
    }
}

fn row_point(row: &EventRow) -> Option<GeoPoint> {
    GeoPoint::new(row.latitude?, row.longitude?).ok()
}
