//! Checkout, refunds, and the buyer's orders and tickets.

use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};

use super::RequestContext;
use super::booking::check_key;
use super::types::instant;
use crate::AppState;
use crate::auth::{Principal, Role};
use crate::checkout;
use crate::db::now;
use crate::db::orders::{OrderRow, RefundStart, TicketRow};
use crate::error::{ApiError, ApiResult, Code};

/// How the buyer pays. Card data never reaches Guichet: the client tokenises the card with
/// the provider and sends the token (`tok_visa` and friends with the test provider).
#[derive(InputObject, Debug)]
pub struct PaymentInput {
    /// The provider's payment-method token.
    pub token: String,
}

/// Where an order stands.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderStatus {
    /// Payment or issuance still in progress (it finishes by itself).
    Processing,
    /// Paid and tickets issued.
    Completed,
    /// The payment was refused; nothing was charged.
    Declined,
    /// Being refunded in full.
    RefundPending,
    /// Refunded in full.
    Refunded,
}

/// Whether a ticket gets you in.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum TicketStatus {
    /// Valid.
    Valid,
    /// Refunded or cancelled: scanners reject it after their next sync.
    Revoked,
}

/// An issued ticket.
#[derive(SimpleObject, Debug, Clone)]
pub struct Ticket {
    /// Stable id.
    pub id: ID,
    /// Its order.
    pub order_id: ID,
    /// Event.
    pub event_id: ID,
    /// Ticket type.
    pub ticket_type_id: ID,
    /// Price paid, in minor units.
    pub price_minor: i64,
    /// Status.
    pub status: TicketStatus,
    /// The signed credential: base45 text to show as a QR code (alphanumeric mode). It
    /// carries no personal data; scanners verify it offline with the event's public keys.
    pub credential: String,
    /// Issued at.
    pub issued_at: DateTime<Utc>,
}

/// An order.
#[derive(SimpleObject, Debug, Clone)]
pub struct Order {
    /// Stable id.
    pub id: ID,
    /// Event.
    pub event_id: ID,
    /// Status.
    pub status: OrderStatus,
    /// Amount charged, in minor units.
    pub total_minor: i64,
    /// Amount refunded so far.
    pub refunded_minor: i64,
    /// ISO 4217.
    pub currency: String,
    /// Why the payment was refused, when it was.
    pub failure: Option<String>,
    /// Issued tickets.
    pub tickets: Vec<Ticket>,
    /// Placed at.
    pub created_at: DateTime<Utc>,
}

fn ticket(row: TicketRow) -> Ticket {
    Ticket {
        id: ID(row.id),
        order_id: ID(row.order_id),
        event_id: ID(row.event_id),
        ticket_type_id: ID(row.ticket_type_id),
        price_minor: row.price_minor,
        status: if row.status == "valid" {
            TicketStatus::Valid
        } else {
            TicketStatus::Revoked
        },
        credential: row.credential,
        issued_at: instant(row.created_at),
    }
}

pub(super) async fn order(state: &AppState, row: OrderRow) -> ApiResult<Order> {
    let tickets = state.db.tickets_of_order(&row.id).await?;
    let status = match row.status.as_str() {
        "completed" => OrderStatus::Completed,
        "declined" => OrderStatus::Declined,
        "refund_pending" => OrderStatus::RefundPending,
        "refunded" => OrderStatus::Refunded,
        _ => OrderStatus::Processing,
    };
    Ok(Order {
        id: ID(row.id),
        event_id: ID(row.event_id),
        status,
        total_minor: row.total_minor,
        refunded_minor: row.refunded_minor,
        currency: row.currency,
        failure: row.failure,
        tickets: tickets.into_iter().map(ticket).collect(),
        created_at: instant(row.created_at),
    })
}

fn parts<'a>(ctx: &Context<'a>) -> ApiResult<(&'a AppState, Principal)> {
    let state = ctx
        .data::<AppState>()
        .map_err(|e| ApiError::internal(&e.message))?;
    let req = ctx
        .data::<RequestContext>()
        .map_err(|e| ApiError::internal(&e.message))?;
    Ok((state, req.principal()?.clone()))
}

/// One ticket type's sales.
#[derive(SimpleObject, Debug, Clone)]
pub struct TicketTypeSales {
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
    /// Tickets reserved in holds right now.
    pub held: i64,
    /// Revenue of valid tickets, minor units.
    pub revenue_minor: i64,
}

/// One day's sales (UTC).
#[derive(SimpleObject, Debug, Clone)]
pub struct DaySales {
    /// The day (00:00 UTC).
    pub day: DateTime<Utc>,
    /// Valid tickets issued that day.
    pub sold: i64,
    /// Their revenue, minor units.
    pub revenue_minor: i64,
}

/// An event's sales, for its organizer.
#[derive(SimpleObject, Debug, Clone)]
pub struct SalesReport {
    /// The event.
    pub event_id: ID,
    /// ISO 4217 of the amounts (the first ticket type's).
    pub currency: Option<String>,
    /// Valid tickets in all.
    pub sold: i64,
    /// Held right now in all.
    pub held: i64,
    /// Revenue in all, minor units.
    pub revenue_minor: i64,
    /// By ticket type.
    pub by_ticket_type: Vec<TicketTypeSales>,
    /// By day of sale.
    pub by_day: Vec<DaySales>,
}

/// A public key of an event's issuing key ring.
#[derive(SimpleObject, Debug, Clone)]
pub struct EventKey {
    /// The key id credentials name.
    pub key_id: i64,
    /// ACTIVE (signs new tickets), ROTATED_OUT (still verifies its tickets) or RETIRED.
    pub status: String,
    /// Ed25519 public key, hex.
    pub public_key: String,
}

#[derive(Default, Debug)]
pub struct OrderQuery;

#[derive(Default, Debug)]
pub struct OrderMutation;

#[Object]
impl OrderQuery {
    /// The caller's orders, newest first.
    async fn my_orders(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Order>> {
        let (state, me) = parts(ctx)?;
        let mut out = Vec::new();
        for row in state
            .db
            .orders_of_user(&me.user_id)
            .await
            .map_err(ApiError::from)?
        {
            out.push(order(state, row).await?);
        }
        Ok(out)
    }

    /// The caller's tickets, newest first.
    async fn my_tickets(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Ticket>> {
        let (state, me) = parts(ctx)?;
        let rows = state
            .db
            .tickets_of_user(&me.user_id)
            .await
            .map_err(ApiError::from)?;
        Ok(rows.into_iter().map(ticket).collect())
    }

    /// The public keys an event's tickets are signed with (what scanners verify against).
    async fn event_keys(
        &self,
        ctx: &Context<'_>,
        event_id: ID,
    ) -> async_graphql::Result<Vec<EventKey>> {
        let state = ctx.data::<AppState>()?;
        let keys = state
            .db
            .event_keys(&event_id)
            .await
            .map_err(ApiError::from)?;
        Ok(keys
            .into_iter()
            .map(|k| EventKey {
                key_id: k.key_id,
                status: k.status.to_uppercase(),
                public_key: k.public_key,
            })
            .collect())
    }

    /// Sales of an event: sold, held and revenue by ticket type and by day (its organizer).
    async fn sales_report(
        &self,
        ctx: &Context<'_>,
        event_id: ID,
    ) -> async_graphql::Result<SalesReport> {
        let (state, me) = parts(ctx)?;
        let event = state.db.event(&event_id).await.map_err(ApiError::from)?;
        let Some(event) = event else {
            return Err(ApiError::not_found("event").into());
        };
        if !(me.role == Role::Admin
            || (me.role == Role::Organizer && event.organizer_id == me.user_id))
        {
            return Err(ApiError::forbidden().into());
        }
        let types = state
            .db
            .sales_by_type(&event.id)
            .await
            .map_err(ApiError::from)?;
        let days = state
            .db
            .sales_by_day(&event.id)
            .await
            .map_err(ApiError::from)?;
        let currency = state
            .db
            .ticket_types_of(std::slice::from_ref(&event.id))
            .await
            .map_err(ApiError::from)?
            .first()
            .map(|t| t.currency.clone());
        Ok(SalesReport {
            event_id: ID(event.id),
            currency,
            sold: types.iter().map(|t| t.sold).sum(),
            held: types.iter().map(|t| t.held).sum(),
            revenue_minor: types.iter().map(|t| t.revenue_minor).sum(),
            by_ticket_type: types
                .into_iter()
                .map(|t| TicketTypeSales {
                    ticket_type_id: ID(t.ticket_type_id),
                    name: t.name,
                    capacity: t.capacity,
                    sold: t.sold,
                    refunded: t.refunded,
                    held: t.held,
                    revenue_minor: t.revenue_minor,
                })
                .collect(),
            by_day: days
                .into_iter()
                .map(|d| DaySales {
                    day: instant(d.day),
                    sold: d.sold,
                    revenue_minor: d.revenue_minor,
                })
                .collect(),
        })
    }

    /// One of the caller's orders.
    async fn order(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Option<Order>> {
        let (state, me) = parts(ctx)?;
        match state.db.order(&id).await.map_err(ApiError::from)? {
            Some(row) if row.user_id == me.user_id => Ok(Some(order(state, row).await?)),
            _ => Ok(None),
        }
    }
}

#[Object]
impl OrderMutation {
    /// Pays for a hold and issues its tickets. Retrying with the same key returns the same
    /// order (never a second charge). Errors: HOLD_EXPIRED, PAYMENT_DECLINED (stock released),
    /// CONFLICT (key reused for another request, or hold already being checked out). An
    /// order whose provider did not answer comes back PROCESSING and completes by itself.
    async fn checkout(
        &self,
        ctx: &Context<'_>,
        hold_id: ID,
        payment: Option<PaymentInput>,
        idempotency_key: String,
    ) -> async_graphql::Result<Order> {
        let (state, me) = parts(ctx)?;
        check_key(&idempotency_key)?;
        let token = payment.map(|p| p.token).unwrap_or_default();
        if token.len() > 255 || token.chars().any(|c| c.is_control() || c.is_whitespace()) {
            return Err(ApiError::invalid("token", "malformed payment token").into());
        }
        let row =
            checkout::checkout(state, &me.user_id, &hold_id, &token, &idempotency_key).await?;
        if row.total_minor > 0 && token.is_empty() && row.status == "declined" {
            return Err(ApiError::invalid("payment", "this order needs a payment").into());
        }
        Ok(order(state, row).await?)
    }

    /// Refunds some tickets of an order (all when `ticketIds` is empty) and revokes them;
    /// their stock goes back on sale and scanners reject them after their next sync. Buyers
    /// may refund as the event's `refundPolicy` allows; its organizer any time.
    async fn refund_order(
        &self,
        ctx: &Context<'_>,
        order_id: ID,
        #[graphql(default)] ticket_ids: Vec<ID>,
    ) -> async_graphql::Result<Order> {
        let (state, me) = parts(ctx)?;
        if ticket_ids.len() > 100 {
            return Err(ApiError::invalid("ticketIds", "at most 100 tickets at once").into());
        }
        let row = state.db.order(&order_id).await.map_err(ApiError::from)?;
        let Some(row) = row else {
            return Err(ApiError::not_found("order").into());
        };
        let event = state
            .db
            .event(&row.event_id)
            .await
            .map_err(ApiError::from)?
            .ok_or_else(|| ApiError::not_found("event"))?;
        let organizer = me.role == Role::Admin
            || (me.role == Role::Organizer && event.organizer_id == me.user_id);
        let buyer = row.user_id == me.user_id;
        if !organizer && !buyer {
            return Err(ApiError::not_found("order").into());
        }
        if !organizer && !event.buyer_may_refund(now()) {
            let message = if event.buyer_refund_cutoff_secs.is_some() {
                "the refund window for this event has closed"
            } else {
                "this event's tickets are not refundable; ask the organizer"
            };
            return Err(ApiError::new(Code::Conflict, message).into());
        }
        if row.status != "completed" {
            return Err(
                ApiError::new(Code::Conflict, "only completed orders can be refunded").into(),
            );
        }
        let ids: Vec<String> = ticket_ids.into_iter().map(|i| i.0).collect();
        let refund = match state
            .db
            .begin_refund(
                &row.id,
                &ids,
                !organizer,
                now(),
                &ctx.data::<super::RequestContext>()?.actor(),
            )
            .await
            .map_err(ApiError::from)?
        {
            RefundStart::Started(refund) => refund,
            RefundStart::NothingLeft => {
                return Err(ApiError::new(Code::Conflict, "nothing left to refund").into());
            }
            RefundStart::AlreadyUsed => {
                return Err(ApiError::new(
                    Code::Conflict,
                    "a ticket was already used at the door; ask the organizer",
                )
                .into());
            }
        };
        checkout::settle_refund(state, &refund)
            .await
            .map_err(ApiError::from)?;
        let row = state
            .db
            .order(&row.id)
            .await
            .map_err(ApiError::from)?
            .ok_or_else(|| ApiError::not_found("order"))?;
        Ok(order(state, row).await?)
    }
}
