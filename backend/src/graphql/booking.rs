//! Holds: reserve tickets for a few minutes while the buyer pays. Checkout, payments and
//! issuance build on these (issue 4).

use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use guichet_domain::hold_rules::{SaleTerms, check_hold_line};
use sha2::{Digest, Sha256};

use super::RequestContext;
use super::types::instant;
use crate::AppState;
use crate::db::holds::{HoldLine, HoldOutcome, HoldRow, NewHold};
use crate::db::now;
use crate::error::{ApiError, ApiResult, Code};

/// Most lines in one hold.
const MAX_ITEMS: usize = 20;

/// One line of a hold request.
#[derive(InputObject, Debug, Clone)]
pub struct HoldItemInput {
    /// The ticket type.
    pub ticket_type_id: ID,
    /// How many, 1 to the type's `maxPerOrder`.
    pub quantity: i64,
}

/// Where a hold is in its life.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum HoldStatus {
    /// Stock reserved until `expiresAt`.
    Active,
    /// Given back by the buyer.
    Released,
    /// Timed out; its stock went back on sale.
    Expired,
    /// Being paid for: reserved for its order.
    CheckingOut,
    /// Turned into an order.
    Converted,
}

/// A line of a hold.
#[derive(SimpleObject, Debug, Clone)]
pub struct HoldItem {
    /// The ticket type.
    pub ticket_type_id: ID,
    /// Tickets held.
    pub quantity: i64,
    /// Price of one, in minor units.
    pub unit_price_minor: i64,
}

/// Reserved tickets.
#[derive(SimpleObject, Debug, Clone)]
pub struct Hold {
    /// Stable id.
    pub id: ID,
    /// The event.
    pub event_id: ID,
    /// Status.
    pub status: HoldStatus,
    /// Sum of the lines, in minor units.
    pub total_minor: i64,
    /// ISO 4217 code.
    pub currency: String,
    /// When the reservation lapses.
    pub expires_at: DateTime<Utc>,
    /// Seconds left before it lapses (0 once past), for a countdown.
    pub seconds_left: i64,
    /// The lines.
    pub items: Vec<HoldItem>,
}

#[derive(Default, Debug)]
pub struct BookingQuery;

#[derive(Default, Debug)]
pub struct BookingMutation;

fn state<'a>(ctx: &Context<'a>) -> ApiResult<&'a AppState> {
    ctx.data::<AppState>()
        .map_err(|e| ApiError::internal(&e.message))
}

fn caller(ctx: &Context<'_>) -> ApiResult<String> {
    let req = ctx
        .data::<RequestContext>()
        .map_err(|e| ApiError::internal(&e.message))?;
    Ok(req.principal()?.user_id.clone())
}

async fn to_api(state: &AppState, row: HoldRow) -> ApiResult<Hold> {
    let lines = state.db.hold_lines(&row.id).await?;
    Ok(with_lines(row, lines))
}

fn with_lines(row: HoldRow, lines: Vec<HoldLine>) -> Hold {
    let status = match row.status.as_str() {
        "released" => HoldStatus::Released,
        "expired" => HoldStatus::Expired,
        "converting" => HoldStatus::CheckingOut,
        "converted" => HoldStatus::Converted,
        _ => HoldStatus::Active,
    };
    Hold {
        id: ID(row.id),
        event_id: ID(row.event_id),
        status,
        total_minor: row.total_minor,
        currency: row.currency,
        seconds_left: (row.expires_at - now()).max(0),
        expires_at: instant(row.expires_at),
        items: lines
            .into_iter()
            .map(|l| HoldItem {
                ticket_type_id: ID(l.ticket_type_id),
                quantity: l.quantity,
                unit_price_minor: l.unit_price_minor,
            })
            .collect(),
    }
}

/// Checks an idempotency key: 8–64 characters of `A–Z a–z 0–9 - _ : .`.
pub fn check_key(key: &str) -> ApiResult<()> {
    let ok = (8..=64).contains(&key.len())
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_:.".contains(c));
    if ok {
        Ok(())
    } else {
        Err(ApiError::invalid(
            "idempotencyKey",
            "use 8 to 64 characters of A-Z a-z 0-9 - _ : .",
        ))
    }
}

#[Object]
impl BookingQuery {
    /// One of the caller's holds.
    async fn hold(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Option<Hold>> {
        let (state, user) = (state(ctx)?, caller(ctx)?);
        match state.db.hold(&id).await.map_err(ApiError::from)? {
            Some(row) if row.user_id == user => Ok(Some(to_api(state, row).await?)),
            _ => Ok(None),
        }
    }
}

#[Object]
impl BookingMutation {
    /// Reserves tickets atomically — all lines or none — until `expiresAt`. Retrying with
    /// the same `idempotencyKey` returns the same hold; reusing a key for a different request
    /// is a CONFLICT. SOLD_OUT when there is not enough stock for a line.
    async fn hold_tickets(
        &self,
        ctx: &Context<'_>,
        event_id: ID,
        items: Vec<HoldItemInput>,
        idempotency_key: String,
    ) -> async_graphql::Result<Hold> {
        let (state, user) = (state(ctx)?, caller(ctx)?);
        check_key(&idempotency_key)?;
        if !state.hold_limiter.allow(&format!("hold:{user}")) {
            return Err(ApiError::new(Code::RateLimited, "too many holds; wait a moment").into());
        }
        if items.is_empty() || items.len() > MAX_ITEMS {
            return Err(ApiError::invalid("items", format!("give 1 to {MAX_ITEMS} lines")).into());
        }
        let mut merged: Vec<(String, i64)> = Vec::new();
        for item in items {
            if item.quantity < 1 {
                return Err(ApiError::invalid("quantity", "must be at least 1").into());
            }
            match merged
                .iter_mut()
                .find(|(t, _)| *t == item.ticket_type_id.as_str())
            {
                Some((_, q)) => *q = q.saturating_add(item.quantity),
                None => merged.push((item.ticket_type_id.to_string(), item.quantity)),
            }
        }
        merged.sort();
        let terms = state
            .sale_terms
            .get(&state.db, &event_id)
            .await
            .map_err(ApiError::from)?;
        let types = match terms.as_ref() {
            Some((status, types)) if status == "published" => types,
            Some((status, _)) if status == "cancelled" => {
                return Err(ApiError::new(Code::Conflict, "this event was cancelled").into());
            }
            _ => return Err(ApiError::not_found("event").into()),
        };
        let now = now();
        let mut lines = Vec::with_capacity(merged.len());
        let mut limits = Vec::with_capacity(merged.len());
        let mut currency: Option<String> = None;
        for (type_id, quantity) in &merged {
            let Some(t) = types.iter().find(|t| t.id == *type_id) else {
                return Err(
                    ApiError::invalid("ticketTypeId", "not a ticket type of this event").into(),
                );
            };
            let terms = SaleTerms {
                name: &t.name,
                currency: &t.currency,
                sale_starts_at: t.sale_starts_at,
                sale_ends_at: t.sale_ends_at,
                max_per_order: t.max_per_order,
            };
            check_hold_line(&terms, *quantity, now, currency.as_deref()).map_err(ApiError::from)?;
            currency = Some(t.currency.clone());
            lines.push((type_id.clone(), *quantity, t.price_minor));
            limits.push(t.max_per_order);
        }
        let request: String = merged.iter().map(|(t, q)| format!("{t}:{q};")).collect();
        let hold = NewHold {
            id: uuid::Uuid::now_v7().to_string(),
            user_id: user,
            event_id: event_id.to_string(),
            items: lines,
            limits,
            currency: currency.unwrap_or_default(),
            idempotency_key,
            request_hash: hex::encode(Sha256::digest(format!("{}|{request}", event_id.as_str()))),
            now,
            expires_at: now + state.config.hold_ttl_secs,
        };
        match state
            .holds
            .create_hold(hold)
            .await
            .map_err(ApiError::from)?
        {
            HoldOutcome::Held(row, lines) => {
                state.metrics.hold("held");
                Ok(with_lines(row, lines))
            }
            HoldOutcome::SoldOut(_) => {
                state.metrics.hold("sold_out");
                Err(ApiError::new(Code::SoldOut, "not enough tickets left").into())
            }
            HoldOutcome::OverLimit(type_id, already, limit) => {
                state.metrics.hold("over_limit");
                let name = types
                    .iter()
                    .find(|t| t.id == type_id)
                    .map_or("this ticket type", |t| t.name.as_str());
                Err(ApiError::invalid(
                    "quantity",
                    format!(
                        "at most {limit} of {name} held at once per buyer; you hold {already} \
                         (release or pay for them first)"
                    ),
                )
                .into())
            }
            HoldOutcome::KeyReused => Err(ApiError::new(
                Code::Conflict,
                "this idempotency key was used for a different request",
            )
            .into()),
        }
    }

    /// Gives a hold's tickets back before it expires. Releasing twice is a no-op.
    async fn release_hold(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Hold> {
        let (state, user) = (state(ctx)?, caller(ctx)?);
        let row = state.db.hold(&id).await.map_err(ApiError::from)?;
        let Some(row) = row.filter(|r| r.user_id == user) else {
            return Err(ApiError::not_found("hold").into());
        };
        state
            .db
            .end_hold(&row.id, "released")
            .await
            .map_err(ApiError::from)?;
        let row = state
            .db
            .hold(&id)
            .await
            .map_err(ApiError::from)?
            .ok_or_else(|| ApiError::not_found("hold"))?;
        Ok(to_api(state, row).await?)
    }
}

/// Expires due holds every `every` until the state is dropped by every other owner, and
/// resumes unfinished orders on a task of its own (aborted with this one), so that a slow
/// payment provider never delays expiry.
pub fn spawn_sweeper(state: AppState, every: std::time::Duration) -> tokio::task::JoinHandle<()> {
    let recovery = crate::checkout::spawn_recovery(state.clone(), every);
    tokio::spawn(async move {
        let _recovery = recovery;
        let mut tick = tokio::time::interval(every);
        loop {
            tick.tick().await;
            match state.db.expire_holds(now()).await {
                Ok(0) => {}
                Ok(n) => {
                    state.metrics.holds_expired(n);
                    tracing::info!(expired = n, "holds expired");
                }
                Err(e) => tracing::warn!(error = ?e, "hold sweeper failed"),
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idempotency_keys_are_bounded_and_plain() {
        assert!(check_key("0190-abcd-ef").is_ok());
        for bad in [
            "short",
            &"k".repeat(65),
            "has space in it",
            "semi;colon;key",
        ] {
            let refused = check_key(bad).err().map(|e| (e.code, e.field));
            assert_eq!(
                refused,
                Some((Code::InvalidInput, Some("idempotencyKey"))),
                "{bad}"
            );
        }
    }
}
