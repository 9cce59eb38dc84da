//! Catalog queries (public search, one event, the change feed, an organizer's events) and the
//! organizer's mutations. Every mutation checks ownership before it writes.

use std::collections::HashMap;

use async_graphql::{Context, ID, InputObject, Object, SimpleObject};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use guichet_domain::catalog::{EventDetails, TicketTypeDetails};
use guichet_domain::geo::GeoPoint;
use guichet_domain::text;

use super::RequestContext;
use super::types::{Event, EventInput, EventPatch, RefundPolicyInput, TicketType, TicketTypeInput};
use crate::AppState;
use crate::auth::{Principal, Role};
use crate::db::catalog::{EventRow, Transition};
use crate::db::{SearchQuery, now};
use crate::error::{ApiError, ApiResult};

/// Longest accepted search text, in characters.
const MAX_SEARCH_TEXT: usize = 200;
/// Largest page of search results.
const MAX_PAGE: i32 = 100;
/// Largest page of the change feed.
const MAX_FEED_PAGE: i32 = 1_000;

/// Search criteria; all optional and combined with AND.
#[derive(InputObject, Debug, Default)]
pub struct EventFilter {
    /// Words to find in title, venue, city or description: each word matches as a prefix,
    /// ignoring case and accents.
    pub text: Option<String>,
    /// Only events starting at or after this instant.
    pub starts_after: Option<DateTime<Utc>>,
    /// Only events starting before this instant.
    pub starts_before: Option<DateTime<Utc>>,
    /// Only events within a distance of a point.
    pub near: Option<NearInput>,
    /// Include events that have already ended (default false).
    #[graphql(default)]
    pub include_past: bool,
}

/// A circle on the map.
#[derive(InputObject, Debug)]
pub struct NearInput {
    /// Degrees, −90 to 90.
    pub latitude: f64,
    /// Degrees, −180 to 180.
    pub longitude: f64,
    /// Kilometres, more than 0 and at most 20,000.
    pub radius_km: f64,
}

/// Paging information.
#[derive(SimpleObject, Debug)]
pub struct PageInfo {
    /// Pass as `after` to get the next page.
    pub end_cursor: Option<String>,
    /// Whether there is a next page.
    pub has_next_page: bool,
}

/// A page of events, ordered by start time then id.
#[derive(SimpleObject, Debug)]
pub struct EventConnection {
    /// The events.
    pub nodes: Vec<Event>,
    /// Paging.
    pub page_info: PageInfo,
}

/// One changed event in the catalog feed.
#[derive(SimpleObject, Debug)]
pub struct CatalogChange {
    /// This change's position in the feed.
    pub cursor: String,
    /// The event that changed.
    pub event_id: ID,
    /// Its current public state; null means it left the public catalog (remove it).
    pub event: Option<Event>,
}

/// A page of the catalog change feed.
#[derive(SimpleObject, Debug)]
pub struct CatalogChangePage {
    /// Changed events, each once, in feed order.
    pub changes: Vec<CatalogChange>,
    /// Pass as `after` for the next page (unchanged when the page is empty).
    pub cursor: String,
    /// Whether more changes wait beyond this page.
    pub has_more: bool,
}

#[derive(Default, Debug)]
pub struct CatalogQuery;

#[derive(Default, Debug)]
pub struct CatalogMutation;

fn page_size(first: i32, max: i32) -> ApiResult<usize> {
    if !(1..=max).contains(&first) {
        return Err(ApiError::invalid(
            "first",
            format!("must be between 1 and {max}"),
        ));
    }
    Ok(usize::try_from(first).unwrap_or(1))
}

fn encode_cursor(row: &EventRow) -> String {
    URL_SAFE_NO_PAD.encode(format!("{}:{}", row.starts_at, row.id))
}

fn decode_cursor(cursor: &str) -> ApiResult<(i64, String)> {
    let invalid = || ApiError::invalid("after", "malformed cursor");
    if cursor.len() > 200 {
        return Err(invalid());
    }
    let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| invalid())?;
    let text = String::from_utf8(bytes).map_err(|_| invalid())?;
    let (start, id) = text.split_once(':').ok_or_else(invalid)?;
    Ok((start.parse().map_err(|_| invalid())?, id.to_owned()))
}

/// Loads ticket types for rows and builds the API objects, preserving order.
async fn with_tickets(
    state: &AppState,
    rows: Vec<(EventRow, Option<f64>)>,
) -> ApiResult<Vec<Event>> {
    let ids: Vec<String> = rows.iter().map(|(r, _)| r.id.clone()).collect();
    // Grouped once (they come in event, position order): a feed page of 1,000 events was
    // scanning the whole ticket list once per event.
    let mut by_event: HashMap<String, Vec<TicketType>> = HashMap::with_capacity(ids.len());
    for t in state.db.ticket_types_of(&ids).await? {
        by_event
            .entry(t.event_id.clone())
            .or_default()
            .push(t.into());
    }
    Ok(rows
        .into_iter()
        .map(|(row, distance)| {
            let mine = by_event.remove(&row.id).unwrap_or_default();
            Event::new(row, mine, distance)
        })
        .collect())
}

fn may_edit(principal: &Principal, event: &EventRow) -> bool {
    principal.role == Role::Admin
        || (principal.role == Role::Organizer && event.organizer_id == principal.user_id)
}

/// Loads an event the caller may edit, or says why not.
async fn owned_event(state: &AppState, principal: &Principal, id: &str) -> ApiResult<EventRow> {
    let event = state
        .db
        .event(id)
        .await?
        .ok_or_else(|| ApiError::not_found("event"))?;
    if !may_edit(principal, &event) {
        return Err(ApiError::forbidden());
    }
    Ok(event)
}

fn organizer(ctx: &Context<'_>) -> ApiResult<Principal> {
    let req = ctx
        .data::<RequestContext>()
        .map_err(|e| ApiError::internal(&e.message))?;
    let principal = req.principal()?;
    if principal.role == Role::Attendee {
        return Err(ApiError::forbidden());
    }
    Ok(principal.clone())
}

fn actor(ctx: &Context<'_>) -> ApiResult<crate::db::audit::Actor> {
    ctx.data::<RequestContext>()
        .map(RequestContext::actor)
        .map_err(|e| ApiError::internal(&e.message))
}

fn state<'a>(ctx: &Context<'a>) -> ApiResult<&'a AppState> {
    ctx.data::<AppState>()
        .map_err(|e| ApiError::internal(&e.message))
}

#[Object]
impl CatalogQuery {
    /// Public search over published events that have not ended, ordered by start time.
    async fn events(
        &self,
        ctx: &Context<'_>,
        filter: Option<EventFilter>,
        #[graphql(default = 20)] first: i32,
        after: Option<String>,
    ) -> async_graphql::Result<EventConnection> {
        let state = state(ctx)?;
        let filter = filter.unwrap_or_default();
        let limit = page_size(first, MAX_PAGE)?;
        let text = filter.text.unwrap_or_default();
        if text.chars().count() > MAX_SEARCH_TEXT {
            return Err(
                ApiError::invalid("text", format!("at most {MAX_SEARCH_TEXT} characters")).into(),
            );
        }
        let near = match filter.near {
            None => None,
            Some(n) => {
                let centre = GeoPoint::new(n.latitude, n.longitude).map_err(ApiError::from)?;
                centre.bounding_box(n.radius_km).map_err(ApiError::from)?;
                Some((centre, n.radius_km))
            }
        };
        let query = SearchQuery {
            tokens: text::tokens(&text).into_iter().take(16).collect(),
            starts_from: filter.starts_after.map(|t| t.timestamp()),
            starts_before: filter.starts_before.map(|t| t.timestamp()),
            ends_after: (!filter.include_past).then(now),
            near,
            after: after.as_deref().map(decode_cursor).transpose()?,
            limit,
        };
        let page = state
            .db
            .search_events(&query)
            .await
            .map_err(ApiError::from)?;
        let end_cursor = page.events.last().map(|(row, _)| encode_cursor(row));
        let nodes = with_tickets(state, page.events).await?;
        Ok(EventConnection {
            nodes,
            page_info: PageInfo {
                end_cursor,
                has_next_page: page.has_next,
            },
        })
    }

    /// One event: published and cancelled events for everyone, drafts for their organizer.
    async fn event(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Option<Event>> {
        let state = state(ctx)?;
        let Some(row) = state.db.event(&id).await.map_err(ApiError::from)? else {
            return Ok(None);
        };
        if !row.is_public() {
            let req = ctx.data::<RequestContext>()?;
            let visible = matches!(&req.caller, super::Caller::User(p) if may_edit(p, &row));
            if !visible {
                return Ok(None);
            }
        }
        Ok(with_tickets(state, vec![(row, None)]).await?.pop())
    }

    /// Changes to the public catalog after a cursor, for offline caches. Start with no cursor
    /// (a snapshot of every public event), then pass back `cursor` until `hasMore` is false.
    async fn catalog_changes(
        &self,
        ctx: &Context<'_>,
        after: Option<String>,
        #[graphql(default = 200)] first: i32,
    ) -> async_graphql::Result<CatalogChangePage> {
        let state = state(ctx)?;
        let limit = page_size(first, MAX_FEED_PAGE)?;
        let cursor: i64 = match after.as_deref() {
            None => 0,
            Some(c) => c
                .parse()
                .ok()
                .filter(|c| *c >= 0)
                .ok_or_else(|| ApiError::invalid("after", "malformed cursor"))?,
        };
        let limit_i64 = i64::try_from(limit).unwrap_or(i64::MAX);
        let mut changes = state
            .db
            .catalog_changes(cursor, limit_i64 + 1)
            .await
            .map_err(ApiError::from)?;
        let has_more = changes.len() > limit;
        changes.truncate(limit);
        let ids: Vec<String> = changes.iter().map(|c| c.event_id.clone()).collect();
        let rows = state.db.events_by_ids(&ids).await.map_err(ApiError::from)?;
        let public: Vec<(EventRow, Option<f64>)> = rows
            .into_iter()
            .filter(EventRow::is_public)
            .map(|r| (r, None))
            .collect();
        let mut events: HashMap<String, Event> = with_tickets(state, public)
            .await?
            .into_iter()
            .map(|e| (e.id.to_string(), e))
            .collect();
        let next = changes.last().map_or(cursor, |c| c.seq);
        let changes = changes
            .into_iter()
            .map(|c| {
                let event = events.remove(&c.event_id);
                CatalogChange {
                    cursor: c.seq.to_string(),
                    event_id: ID(c.event_id),
                    event,
                }
            })
            .collect();
        Ok(CatalogChangePage {
            changes,
            cursor: next.to_string(),
            has_more,
        })
    }

    /// The caller's own events, drafts included (organizers; admins see their own too).
    async fn my_events(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Event>> {
        let (state, principal) = (state(ctx)?, organizer(ctx)?);
        let rows = state
            .db
            .events_of_organizer(&principal.user_id)
            .await
            .map_err(ApiError::from)?;
        Ok(with_tickets(state, rows.into_iter().map(|r| (r, None)).collect()).await?)
    }
}

#[Object]
impl CatalogMutation {
    /// Creates a draft event owned by the caller (organizers only). Without a
    /// `refundPolicy`, buyers may refund until the server's default cutoff before the start.
    async fn create_event(
        &self,
        ctx: &Context<'_>,
        input: EventInput,
        refund_policy: Option<RefundPolicyInput>,
    ) -> async_graphql::Result<Event> {
        let (state, principal) = (state(ctx)?, organizer(ctx)?);
        let details = EventDetails::from(input);
        details.validate().map_err(ApiError::from)?;
        let cutoff = match refund_policy {
            Some(policy) => policy.cutoff_secs()?,
            None => Some(state.config.refund_window_secs),
        };
        let id = uuid::Uuid::now_v7().to_string();
        let row = state
            .db
            .create_event_with_policy(&id, &principal.user_id, &details, cutoff, now())
            .await
            .map_err(ApiError::from)?;
        Ok(Event::new(row, Vec::new(), None))
    }

    /// Replaces an event's refund policy (its organizer only; not once cancelled). It
    /// applies to every refund asked from then on, tickets already sold included.
    async fn set_refund_policy(
        &self,
        ctx: &Context<'_>,
        event_id: ID,
        policy: RefundPolicyInput,
    ) -> async_graphql::Result<Event> {
        let (state, principal) = (state(ctx)?, organizer(ctx)?);
        let cutoff = policy.cutoff_secs()?;
        owned_event(state, &principal, &event_id).await?;
        let row = state
            .db
            .set_refund_policy(&event_id, cutoff, now())
            .await
            .map_err(ApiError::from)?;
        Ok(with_tickets(state, vec![(row, None)]).await?.remove(0))
    }

    /// Changes an event's details (its organizer only). Published events' changes reach the
    /// catalog feed.
    async fn update_event(
        &self,
        ctx: &Context<'_>,
        id: ID,
        patch: EventPatch,
    ) -> async_graphql::Result<Event> {
        let (state, principal) = (state(ctx)?, organizer(ctx)?);
        let event = owned_event(state, &principal, &id).await?;
        let details = patch.apply(event.details());
        details.validate().map_err(ApiError::from)?;
        let row = state
            .db
            .update_event(&id, &details, now(), &actor(ctx)?)
            .await
            .map_err(ApiError::from)?;
        state.sale_terms.forget(&id);
        Ok(with_tickets(state, vec![(row, None)]).await?.remove(0))
    }

    /// Puts a draft on sale: it enters the public catalog and the feed.
    async fn publish_event(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Event> {
        transition(ctx, id, Transition::Publish).await
    }

    /// Calls an event off. It stays visible with status CANCELLED; this cannot be undone.
    async fn cancel_event(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Event> {
        transition(ctx, id, Transition::Cancel).await
    }

    /// Adds a ticket type to an event (its organizer only).
    async fn add_ticket_type(
        &self,
        ctx: &Context<'_>,
        event_id: ID,
        input: TicketTypeInput,
    ) -> async_graphql::Result<TicketType> {
        let (state, principal) = (state(ctx)?, organizer(ctx)?);
        owned_event(state, &principal, &event_id).await?;
        let details = TicketTypeDetails::from(input);
        details.validate().map_err(ApiError::from)?;
        let id = uuid::Uuid::now_v7().to_string();
        let row = state
            .db
            .add_ticket_type(&id, &event_id, &details, now(), &actor(ctx)?)
            .await
            .map_err(ApiError::from)?;
        state.sale_terms.forget(&event_id);
        Ok(row.into())
    }

    /// Replaces a ticket type's details (its event's organizer only).
    async fn update_ticket_type(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: TicketTypeInput,
    ) -> async_graphql::Result<TicketType> {
        let (state, principal) = (state(ctx)?, organizer(ctx)?);
        let current = state
            .db
            .ticket_type(&id)
            .await
            .map_err(ApiError::from)?
            .ok_or_else(|| ApiError::not_found("ticket type"))?;
        owned_event(state, &principal, &current.event_id).await?;
        let details = TicketTypeDetails::from(input);
        details.validate().map_err(ApiError::from)?;
        let row = state
            .db
            .update_ticket_type(&id, &details, now(), &actor(ctx)?)
            .await
            .map_err(ApiError::from)?;
        state.sale_terms.forget(&current.event_id);
        Ok(row.into())
    }
}

async fn transition(
    ctx: &Context<'_>,
    id: ID,
    transition: Transition,
) -> async_graphql::Result<Event> {
    let (state, principal) = (state(ctx)?, organizer(ctx)?);
    owned_event(state, &principal, &id).await?;
    if transition == Transition::Publish {
        super::security::may_publish(state, &principal).await?;
    }
    let row = state
        .db
        .transition_event(&id, transition, now(), &actor(ctx)?)
        .await
        .map_err(ApiError::from)?;
    state.sale_terms.forget(&id);
    if transition == Transition::Cancel {
        // Ticket holders get their money back now; what fails here the sweeper retries.
        if let Err(e) = crate::checkout::refund_cancelled(state, Some(&id)).await {
            tracing::warn!(event = %row.id, error = ?e, "refunds after cancellation will be retried");
        }
    }
    Ok(with_tickets(state, vec![(row, None)]).await?.remove(0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Code;

    #[test]
    fn cursors_round_trip_and_garbage_is_refused() {
        let row_cursor = URL_SAFE_NO_PAD.encode("1800000000:0190-abc");
        assert_eq!(
            decode_cursor(&row_cursor),
            Ok((1_800_000_000, "0190-abc".to_owned()))
        );
        for bad in [
            "%%%".to_owned(),
            URL_SAFE_NO_PAD.encode("nocolon"),
            URL_SAFE_NO_PAD.encode("x:1"),
            "a".repeat(201),
        ] {
            let refused = decode_cursor(&bad).err().map(|e| (e.code, e.field));
            assert_eq!(refused, Some((Code::InvalidInput, Some("after"))), "{bad}");
        }
    }
}
