//! The attendee list of an event, for its organizer.

use async_graphql::{Context, ID, Object, SimpleObject};
use chrono::{DateTime, Utc};

use super::RequestContext;
use super::catalog::PageInfo;
use super::orders::TicketStatus;
use super::types::instant;
use crate::AppState;
use crate::auth::Role;
use crate::error::ApiError;

/// Longest page.
const MAX_PAGE: i64 = 200;

/// A ticket of the event and who holds it.
#[derive(SimpleObject, Debug, Clone)]
pub struct Attendee {
    /// The ticket.
    pub ticket_id: ID,
    /// Its order.
    pub order_id: ID,
    /// Its type.
    pub ticket_type_id: ID,
    /// The type's name.
    pub ticket_type_name: String,
    /// VALID, or REVOKED once refunded.
    pub status: TicketStatus,
    /// The holder's public name.
    pub holder_name: String,
    /// The holder's e-mail address.
    pub holder_email: String,
    /// Issued at.
    pub issued_at: DateTime<Utc>,
}

/// A page of attendees, in issuance order.
#[derive(SimpleObject, Debug)]
pub struct AttendeeConnection {
    /// The tickets.
    pub nodes: Vec<Attendee>,
    /// Paging.
    pub page_info: PageInfo,
    /// Tickets matching the search in all.
    pub total_count: i64,
}

#[derive(Default, Debug)]
pub struct AttendeeQuery;

#[Object]
impl AttendeeQuery {
    /// An event's tickets and their holders (its organizer): `search` keeps those whose
    /// holder's e-mail or name contains it, ignoring case.
    async fn attendees(
        &self,
        ctx: &Context<'_>,
        event_id: ID,
        search: Option<String>,
        #[graphql(default = 50)] first: i64,
        after: Option<String>,
    ) -> async_graphql::Result<AttendeeConnection> {
        let state = ctx
            .data::<AppState>()
            .map_err(|e| ApiError::internal(&e.message))?;
        let me = ctx
            .data::<RequestContext>()
            .map_err(|e| ApiError::internal(&e.message))?
            .principal()?
            .clone();
        if !(1..=MAX_PAGE).contains(&first) {
            return Err(ApiError::invalid("first", format!("1 to {MAX_PAGE}")).into());
        }
        let search = search.unwrap_or_default();
        let search = search.trim();
        if search.chars().count() > 200 {
            return Err(ApiError::invalid("search", "at most 200 characters").into());
        }
        let after = after.unwrap_or_default();
        if after.len() > 64 {
            return Err(ApiError::invalid("after", "not a cursor from this list").into());
        }
        let event = state.db.event(&event_id).await.map_err(ApiError::from)?;
        let Some(event) = event else {
            return Err(ApiError::not_found("event").into());
        };
        if !(me.role == Role::Admin
            || (me.role == Role::Organizer && event.organizer_id == me.user_id))
        {
            return Err(ApiError::forbidden().into());
        }
        let (mut rows, total) = state
            .db
            .attendees(&event.id, search, &after, first + 1)
            .await
            .map_err(ApiError::from)?;
        let has_next_page = rows.len() as i64 > first;
        rows.truncate(first as usize);
        Ok(AttendeeConnection {
            page_info: PageInfo {
                end_cursor: rows.last().map(|r| r.ticket_id.clone()),
                has_next_page,
            },
            total_count: total,
            nodes: rows
                .into_iter()
                .map(|r| Attendee {
                    ticket_id: ID(r.ticket_id),
                    order_id: ID(r.order_id),
                    ticket_type_id: ID(r.ticket_type_id),
                    ticket_type_name: r.ticket_type_name,
                    status: if r.status == "valid" {
                        TicketStatus::Valid
                    } else {
                        TicketStatus::Revoked
                    },
                    holder_name: r.holder_name,
                    holder_email: r.holder_email,
                    issued_at: instant(r.created_at),
                })
                .collect(),
        })
    }
}
