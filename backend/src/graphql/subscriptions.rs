//! Subscriptions (over WebSocket only): `salesUpdated`, `checkInsUpdated`, `orderUpdated`.
//!
//! Each checks the caller once, with the rules of the matching query (an event's or list's
//! organizer, or an admin; an order's buyer), then sends the current state at once and again
//! after every change it is told of ([`crate::live`]), re-read from the database. A re-read
//! that finds nothing new sends nothing.

use std::sync::Arc;

use async_graphql::{Context, ID, SimpleObject, Subscription};
use futures_util::Stream;

use super::RequestContext;
use super::orders::{Order, OrderStatus, TicketStatus, order};
use super::scanner_types::DuplicateAlert;
use super::scanners::scan;
use super::types::instant;
use crate::AppState;
use crate::auth::{Principal, Role};
use crate::error::{ApiError, ApiResult, Code};
use crate::live::{ConnectionSlots, Limit, Slot, Topic, Watch};

/// One ticket type's stock and sales, live.
#[derive(SimpleObject, Debug, Clone, PartialEq, Eq)]
pub struct TicketTypeStock {
    /// Ticket type.
    pub ticket_type_id: ID,
    /// Its name.
    pub name: String,
    /// Capacity.
    pub capacity: i64,
    /// Valid tickets sold.
    pub sold: i64,
    /// Tickets refunded.
    pub refunded: i64,
    /// Reserved in holds right now.
    pub held: i64,
    /// On sale right now: capacity − sold − held.
    pub available: i64,
    /// Revenue of valid tickets, minor units.
    pub revenue_minor: i64,
}

/// An event's sales after a change.
#[derive(SimpleObject, Debug, Clone, PartialEq, Eq)]
pub struct SalesUpdate {
    /// The event.
    pub event_id: ID,
    /// ISO 4217 of the amounts (the first ticket type's).
    pub currency: Option<String>,
    /// Valid tickets in all.
    pub sold: i64,
    /// Held right now in all.
    pub held: i64,
    /// On sale right now in all.
    pub available: i64,
    /// Revenue in all, minor units.
    pub revenue_minor: i64,
    /// By ticket type.
    pub by_ticket_type: Vec<TicketTypeStock>,
}

/// A check-in list's doors after a change.
#[derive(SimpleObject, Debug)]
pub struct CheckInsUpdate {
    /// The list.
    pub list_id: ID,
    /// Tickets inside now (their latest admitted movement is an entry).
    pub inside: i64,
    /// Entries admitted, re-entries included.
    pub admitted: i64,
    /// Scans refused at the door.
    pub refused: i64,
    /// Entries classified DUPLICATE_ENTRY.
    pub duplicates: i64,
    /// Duplicate entries detected since the previous frame (none in the first).
    pub new_alerts: Vec<DuplicateAlert>,
}

/// What a feed sends: a frame, and whether it says something the last one did not.
trait Frame: Send + 'static {
    /// What two frames are compared by.
    type Key: PartialEq + Send + 'static;
    /// This frame's key.
    fn key(&self) -> Self::Key;
    /// Whether it carries news whatever the key (alerts).
    fn news(&self) -> bool {
        false
    }
}

impl Frame for SalesUpdate {
    type Key = SalesUpdate;
    fn key(&self) -> SalesUpdate {
        self.clone()
    }
}

impl Frame for CheckInsUpdate {
    type Key = (i64, i64, i64, i64);
    fn key(&self) -> Self::Key {
        (self.inside, self.admitted, self.refused, self.duplicates)
    }
    fn news(&self) -> bool {
        !self.new_alerts.is_empty()
    }
}

impl Frame for Order {
    type Key = (OrderStatus, i64, Option<String>, Vec<TicketStatus>);
    fn key(&self) -> Self::Key {
        (
            self.status,
            self.refunded_minor,
            self.failure.clone(),
            self.tickets.iter().map(|t| t.status).collect(),
        )
    }
}

/// The root subscription.
#[derive(Default, Debug)]
pub struct Subscription;

fn parts<'a>(ctx: &Context<'a>) -> ApiResult<(&'a AppState, Principal, Arc<ConnectionSlots>)> {
    let state = ctx
        .data::<AppState>()
        .map_err(|e| ApiError::internal(&e.message))?;
    let req = ctx
        .data::<RequestContext>()
        .map_err(|_| ApiError::invalid("operation", "subscriptions run over WebSocket only"))?;
    let me = req.principal()?.clone();
    let slots = ctx
        .data::<Arc<ConnectionSlots>>()
        .map_err(|_| ApiError::invalid("operation", "subscriptions run over WebSocket only"))?
        .clone();
    Ok((state, me, slots))
}

/// Whether `me` organizes events of `organizer_id` (or is an admin).
fn organizes(me: &Principal, organizer_id: &str) -> bool {
    me.role == Role::Admin || (me.role == Role::Organizer && organizer_id == me.user_id)
}

fn admit(state: &AppState, slots: &Arc<ConnectionSlots>, me: &Principal) -> ApiResult<Slot> {
    state
        .live
        .admit(slots, &me.user_id)
        .map_err(|limit: Limit| ApiError::new(Code::RateLimited, limit.to_string()))
}

/// The frames of one subscription: the current state at once, then after each change.
/// `read` takes and returns a cursor (what the previous frame covered).
fn feed<T, C, F, Fut>(
    state: AppState,
    watch: Watch,
    slot: Slot,
    cursor: C,
    read: F,
) -> impl Stream<Item = async_graphql::Result<T>> + Send + 'static
where
    T: Frame,
    C: Clone + Send + 'static,
    F: Fn(AppState, C) -> Fut + Send + 'static,
    Fut: Future<Output = ApiResult<(T, C)>> + Send,
{
    struct Feed<T: Frame, C, F> {
        state: AppState,
        watch: Watch,
        _slot: Slot,
        cursor: C,
        read: F,
        last: Option<T::Key>,
        first: bool,
        done: bool,
    }
    let start: Feed<T, C, F> = Feed {
        state,
        watch,
        _slot: slot,
        cursor,
        read,
        last: None,
        first: true,
        done: false,
    };
    futures_util::stream::unfold(start, |mut feed| async move {
        if feed.done {
            return None;
        }
        loop {
            if !feed.first {
                feed.watch.changed().await;
            }
            feed.first = false;
            match (feed.read)(feed.state.clone(), feed.cursor.clone()).await {
                Ok((frame, cursor)) => {
                    feed.cursor = cursor;
                    let key = frame.key();
                    if !frame.news() && feed.last.as_ref() == Some(&key) {
                        continue;
                    }
                    feed.last = Some(key);
                    return Some((Ok(frame), feed));
                }
                Err(e) => {
                    feed.done = true;
                    return Some((Err(e.into()), feed));
                }
            }
        }
    })
}

async fn read_sales(state: AppState, event_id: String) -> ApiResult<(SalesUpdate, String)> {
    let types = state.db.live_sales(&event_id).await?;
    let update = SalesUpdate {
        event_id: ID(event_id.clone()),
        currency: types.first().map(|t| t.currency.clone()),
        sold: types.iter().map(|t| t.sold).sum(),
        held: types.iter().map(|t| t.held).sum(),
        available: types.iter().map(|t| t.available).sum(),
        revenue_minor: types.iter().map(|t| t.revenue_minor).sum(),
        by_ticket_type: types
            .into_iter()
            .map(|t| TicketTypeStock {
                ticket_type_id: ID(t.ticket_type_id),
                name: t.name,
                capacity: t.capacity,
                sold: t.sold,
                refunded: t.refunded,
                held: t.held,
                available: t.available,
                revenue_minor: t.revenue_minor,
            })
            .collect(),
    };
    Ok((update, event_id))
}

/// The list and the last sequence number whose alerts were sent (`None`: first frame).
type ListCursor = (String, Option<i64>);

async fn read_check_ins(
    state: AppState,
    (list_id, after): ListCursor,
) -> ApiResult<(CheckInsUpdate, ListCursor)> {
    let counts = state.db.live_check_ins(&list_id).await?;
    let (alerts, covered) = match after {
        // The first frame is the state now; alerts are what happens next.
        None => (Vec::new(), counts.head),
        Some(after) => {
            let alerts = state.db.live_alerts(&list_id, after, counts.head).await?;
            // A full page leaves the rest for the next frame.
            let covered = match alerts.last() {
                Some((dup, _)) if alerts.len() >= 100 => dup.seq,
                _ => counts.head,
            };
            (alerts, covered)
        }
    };
    let update = CheckInsUpdate {
        list_id: ID(list_id.clone()),
        inside: counts.inside,
        admitted: counts.admitted,
        refused: counts.refused,
        duplicates: counts.duplicates,
        new_alerts: alerts
            .into_iter()
            .map(|(dup, first)| DuplicateAlert {
                detected_at: instant(dup.alerted_at.unwrap_or_default()),
                scan: scan(dup),
                first_entry: scan(first),
            })
            .collect(),
    };
    Ok((update, (list_id, Some(covered))))
}

async fn read_order(state: AppState, order_id: String) -> ApiResult<(Order, String)> {
    let row = state
        .db
        .order(&order_id)
        .await?
        .ok_or_else(|| ApiError::not_found("order"))?;
    Ok((order(&state, row).await?, order_id))
}

#[Subscription]
impl Subscription {
    /// An event's sold, held and available tickets and revenue per ticket type: now, then
    /// after every hold, release, expiry, checkout step and refund (its organizer).
    /// FORBIDDEN for anyone else, NOT_FOUND for an unknown event, RATE_LIMITED past the
    /// subscription limits.
    async fn sales_updated(
        &self,
        ctx: &Context<'_>,
        event_id: ID,
    ) -> async_graphql::Result<impl Stream<Item = async_graphql::Result<SalesUpdate>> + use<>> {
        let (state, me, slots) = parts(ctx)?;
        let event = state
            .db
            .event(&event_id)
            .await
            .map_err(ApiError::from)?
            .ok_or_else(|| ApiError::not_found("event"))?;
        if !organizes(&me, &event.organizer_id) {
            return Err(ApiError::forbidden().into());
        }
        let slot = admit(state, &slots, &me)?;
        let watch = state.live.watch(Topic::Sales(event.id.clone()));
        Ok(feed(state.clone(), watch, slot, event.id, read_sales))
    }

    /// A check-in list's counts (inside, admitted, refused, duplicates) and each new
    /// duplicate-entry alert: now, then after every push or online decision (the event's
    /// organizer). FORBIDDEN for anyone else, NOT_FOUND for an unknown list.
    async fn check_ins_updated(
        &self,
        ctx: &Context<'_>,
        list_id: ID,
    ) -> async_graphql::Result<impl Stream<Item = async_graphql::Result<CheckInsUpdate>> + use<>>
    {
        let (state, me, slots) = parts(ctx)?;
        let list = state
            .db
            .checkin_list(&list_id)
            .await
            .map_err(ApiError::from)?
            .ok_or_else(|| ApiError::not_found("check-in list"))?;
        let event = state
            .db
            .event(&list.event_id)
            .await
            .map_err(ApiError::from)?
            .ok_or_else(|| ApiError::not_found("check-in list"))?;
        if !organizes(&me, &event.organizer_id) {
            return Err(ApiError::forbidden().into());
        }
        let slot = admit(state, &slots, &me)?;
        let watch = state.live.watch(Topic::CheckIns(list.id.clone()));
        Ok(feed(
            state.clone(),
            watch,
            slot,
            (list.id, None),
            read_check_ins,
        ))
    }

    /// The caller's order as the saga moves it (PROCESSING, then COMPLETED, DECLINED,
    /// REFUND_PENDING or REFUNDED) and as tickets are refunded: now, then after each move.
    /// Another buyer's order is NOT_FOUND, as the `order` query hides it.
    async fn order_updated(
        &self,
        ctx: &Context<'_>,
        order_id: ID,
    ) -> async_graphql::Result<impl Stream<Item = async_graphql::Result<Order>> + use<>> {
        let (state, me, slots) = parts(ctx)?;
        let row = state
            .db
            .order(&order_id)
            .await
            .map_err(ApiError::from)?
            .filter(|o| o.user_id == me.user_id)
            .ok_or_else(|| ApiError::not_found("order"))?;
        let slot = admit(state, &slots, &me)?;
        let watch = state.live.watch(Topic::Order(row.id.clone()));
        Ok(feed(state.clone(), watch, slot, row.id, read_order))
    }
}
