//! The checkout saga, orchestrated and persisted: authorise → capture → issue tickets and
//! queue the confirmation. Each step is recorded before the next starts, so a crash, a lost
//! answer or a retry resumes where it stopped and never repeats a charge:
//!
//! - provider calls carry idempotency keys derived from the order and the step;
//! - each transition is a conditional status change, so concurrent workers cannot both act;
//! - compensations: declined → stock released; issuance failed after capture → full refund
//!   and stock released;
//! - [`resume`] (run by the sweeper and at start) advances every unfinished order and
//!   retries pending refunds.

use sha2::{Digest, Sha256};

use crate::AppState;
use crate::db::orders::{CheckoutStart, NewOrder, OrderRow, RefundRow, RefundStart};
use crate::db::{StoreError, now};
use crate::error::{ApiError, Code};
use crate::issuing::Issuer;
use crate::payments::{Authorization, PaymentError};

/// Immediate retries of a capture whose answer was lost, before leaving it to [`resume`].
const CAPTURE_TRIES: usize = 3;

/// Starts (or replays) a checkout and drives it as far as it can go now.
pub async fn checkout(
    state: &AppState,
    user_id: &str,
    hold_id: &str,
    payment_token: &str,
    idempotency_key: &str,
) -> Result<OrderRow, ApiError> {
    let request_hash = hex::encode(Sha256::digest(format!("{hold_id}|{payment_token}")));
    let start = state
        .db
        .begin_checkout(&NewOrder {
            id: uuid::Uuid::now_v7().to_string(),
            hold_id: hold_id.to_owned(),
            user_id: user_id.to_owned(),
            provider: state.payments.name().to_owned(),
            payment_token: payment_token.to_owned(),
            idempotency_key: idempotency_key.to_owned(),
            request_hash,
            now: now(),
        })
        .await?;
    let order = match start {
        CheckoutStart::Started(order) | CheckoutStart::Existing(order) => order,
        CheckoutStart::KeyReused => {
            return Err(ApiError::new(
                Code::Conflict,
                "this idempotency key was used for a different request",
            ));
        }
        CheckoutStart::NoHold => return Err(ApiError::not_found("hold")),
        CheckoutStart::HoldExpired => {
            return Err(ApiError::new(
                Code::HoldExpired,
                "the hold expired; hold the tickets again",
            ));
        }
        CheckoutStart::HoldTaken => {
            return Err(ApiError::new(
                Code::Conflict,
                "this hold is already being checked out",
            ));
        }
    };
    let order = advance(state, order).await?;
    if order.status == "declined" {
        let reason = order
            .failure
            .clone()
            .unwrap_or_else(|| "payment declined".into());
        return Err(ApiError::new(Code::PaymentDeclined, reason));
    }
    Ok(order)
}

/// Drives an order through every step it can take now; returns its state afterwards.
pub async fn advance(state: &AppState, mut order: OrderRow) -> Result<OrderRow, StoreError> {
    let db = &state.db;
    let provider = &state.payments;
    // Each pass takes at most one step; five steps finish any order.
    for _ in 0..6 {
        let now = now();
        let step_done = match order.status.as_str() {
            "pending" if order.total_minor == 0 => {
                db.advance_order(&order.id, "pending", "captured", None, None, now)
                    .await?
            }
            "pending" => {
                let request = Authorization {
                    amount_minor: order.total_minor,
                    currency: order.currency.clone(),
                    payment_token: order.payment_token.clone(),
                    idempotency_key: format!("{}:authorize", order.id),
                    order_id: order.id.clone(),
                };
                match provider.authorize(&request).await {
                    Ok(intent) => {
                        db.advance_order(
                            &order.id,
                            "pending",
                            "authorized",
                            Some(&intent),
                            None,
                            now,
                        )
                        .await?
                    }
                    Err(e @ (PaymentError::Declined(_) | PaymentError::RequiresAction)) => {
                        let reason = e.to_string();
                        let moved = db
                            .advance_order(
                                &order.id,
                                "pending",
                                "declined",
                                None,
                                Some(&reason),
                                now,
                            )
                            .await?;
                        if moved {
                            db.release_converting_hold(&order.hold_id).await?;
                        }
                        moved
                    }
                    Err(e) => {
                        tracing::warn!(order = %order.id, error = %e, "authorisation outcome unknown");
                        db.note_attempt(&order.id, now).await?;
                        return Ok(order);
                    }
                }
            }
            "authorized" => {
                let intent = order.intent_id.clone().unwrap_or_default();
                let key = format!("{}:capture", order.id);
                let mut outcome = provider.capture(&intent, &key).await;
                for _ in 1..CAPTURE_TRIES {
                    if !outcome.as_ref().is_err_and(PaymentError::is_retryable) {
                        break;
                    }
                    outcome = provider.capture(&intent, &key).await;
                }
                match outcome {
                    Ok(()) => {
                        db.advance_order(&order.id, "authorized", "captured", None, None, now)
                            .await?
                    }
                    Err(e) if e.is_retryable() => {
                        tracing::warn!(order = %order.id, error = %e, "capture outcome unknown");
                        db.note_attempt(&order.id, now).await?;
                        return Ok(order);
                    }
                    Err(e) => {
                        // The authorisation cannot be captured (expired, voided): give it back.
                        let _ = provider
                            .cancel(&intent, &format!("{}:cancel", order.id))
                            .await;
                        let reason = e.to_string();
                        let moved = db
                            .advance_order(
                                &order.id,
                                "authorized",
                                "declined",
                                None,
                                Some(&reason),
                                now,
                            )
                            .await?;
                        if moved {
                            db.release_converting_hold(&order.hold_id).await?;
                        }
                        moved
                    }
                }
            }
            "captured" if event_cancelled(state, &order).await? => {
                let failure = "the event was cancelled; the payment is refunded";
                db.advance_order(
                    &order.id,
                    "captured",
                    "refund_pending",
                    None,
                    Some(failure),
                    now,
                )
                .await?
            }
            "captured" => match issue(state, &order, now).await {
                Ok(issued) => issued,
                Err(e) => {
                    tracing::error!(order = %order.id, error = ?e, "issuance failed after capture; refunding");
                    let failure = "tickets could not be issued; the payment is refunded";
                    db.advance_order(
                        &order.id,
                        "captured",
                        "refund_pending",
                        None,
                        Some(failure),
                        now,
                    )
                    .await?
                }
            },
            "refund_pending" => {
                let owed = order.total_minor - order.refunded_minor;
                let key = format!("{}:refund-all", order.id);
                let refunded = match order.intent_id.as_deref() {
                    Some(intent) if owed > 0 => provider.refund(intent, owed, &key).await,
                    _ => Ok(()),
                };
                match refunded {
                    Ok(()) => {
                        let closed = db.close_refunded(&order, now).await?;
                        if closed {
                            db.release_converting_hold(&order.hold_id).await?;
                        }
                        closed
                    }
                    Err(e) => {
                        tracing::warn!(order = %order.id, error = %e, "compensating refund failed; will retry");
                        db.note_attempt(&order.id, now).await?;
                        return Ok(order);
                    }
                }
            }
            _ => return Ok(order),
        };
        let _ = step_done;
        order = db.order(&order.id).await?.ok_or(StoreError::NotFound)?;
    }
    Ok(order)
}

/// Signs and stores the order's tickets with its event's active key (created on the
/// event's first issuance, before the issuing transaction, so concurrent first issuances
/// agree on one key instead of failing).
async fn issue(state: &AppState, order: &OrderRow, now: i64) -> Result<bool, StoreError> {
    let event = state
        .db
        .event(&order.event_id)
        .await?
        .ok_or(StoreError::NotFound)?;
    let (key_id, seed) = state
        .db
        .ensure_event_key(&event.id, &state.sealer, Issuer::public_key_hex, now)
        .await?;
    let issuer = Issuer::new(&event, key_id, seed)?;
    state.db.issue_tickets(order, &issuer, now).await
}

/// Sends a recorded refund to the provider and books it when the provider confirms.
pub async fn settle_refund(state: &AppState, refund: &RefundRow) -> Result<bool, StoreError> {
    let order = state
        .db
        .order(&refund.order_id)
        .await?
        .ok_or(StoreError::NotFound)?;
    let outcome = match order.intent_id.as_deref() {
        Some(intent) if refund.amount_minor > 0 => {
            state
                .payments
                .refund(intent, refund.amount_minor, &refund.id)
                .await
        }
        _ => Ok(()),
    };
    match outcome {
        Ok(()) => state.db.finish_refund(refund, now()).await,
        Err(e) => {
            tracing::warn!(refund = %refund.id, error = %e, "refund not confirmed; will retry");
            Ok(false)
        }
    }
}

async fn event_cancelled(state: &AppState, order: &OrderRow) -> Result<bool, StoreError> {
    Ok(state
        .db
        .event(&order.event_id)
        .await?
        .is_none_or(|e| e.status == "cancelled"))
}

/// Refunds every completed order of cancelled events (of one event, or all) that still has
/// valid tickets: they are revoked, their stock returned, the money sent back. Safe to
/// repeat; [`resume`] runs it too, which catches an order that completed while its event
/// was being cancelled. Returns how many refunds were settled.
pub async fn refund_cancelled(
    state: &AppState,
    event_id: Option<&str>,
) -> Result<usize, StoreError> {
    let mut settled = 0;
    for order_id in state.db.orders_of_cancelled_events(event_id).await? {
        if let RefundStart::Started(refund) =
            state.db.begin_refund(&order_id, &[], false, now()).await?
            && settle_refund(state, &refund).await?
        {
            settled += 1;
        }
    }
    Ok(settled)
}

/// Advances every order left unfinished since `before` and retries pending refunds.
/// Returns how many orders and refunds reached a final state.
pub async fn resume(state: &AppState, before: i64) -> Result<usize, StoreError> {
    let mut finished = 0;
    for order in state.db.unfinished_orders(before).await? {
        let order = advance(state, order).await?;
        if matches!(order.status.as_str(), "completed" | "declined" | "refunded") {
            finished += 1;
        }
    }
    for refund in state.db.pending_refunds().await? {
        if settle_refund(state, &refund).await? {
            finished += 1;
        }
    }
    finished += refund_cancelled(state, None).await?;
    Ok(finished)
}
