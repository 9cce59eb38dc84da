//! The checkout saga, orchestrated and persisted: authorise → capture → issue tickets and
//! queue the confirmation. Each step is recorded before the next starts, so a crash, a lost
//! answer or a retry resumes where it stopped and never repeats a charge:
//!
//! - provider calls carry idempotency keys derived from the order and the step;
//! - each transition is a conditional status change, so concurrent workers cannot both act;
//! - compensations: declined → stock released; issuance failed after capture → full refund
//!   and stock released;
//! - [`resume`] (run by the sweeper and at start) advances every unfinished order and
//!   retries pending refunds;
//! - an unknown outcome (timeout, 5xx, 429) is retried at most [`MAX_UNKNOWN_OUTCOMES`]
//!   times per order, then resolved: the authorisation is cancelled and the stock returned,
//!   so a checking-out hold never keeps its stock for longer than the provider's retries.

use std::future::Future;
use std::time::Duration;

use sha2::{Digest, Sha256};

use crate::AppState;
use crate::db::orders::{CheckoutStart, NewOrder, OrderRow, RefundRow, RefundStart};
use crate::db::{StoreError, now};
use crate::error::{ApiError, Code};
use crate::issuing::Issuer;
use crate::payments::{Authorization, PaymentError};

/// Immediate retries of a capture whose answer was lost, before leaving it to [`resume`].
const CAPTURE_TRIES: usize = 3;

/// Provider calls with an unknown outcome an order may meet (each noted in
/// `orders.attempts`) before the saga stops retrying and resolves it.
pub const MAX_UNKNOWN_OUTCOMES: i64 = 5;

/// The longest one provider call may take; after it the outcome counts as unknown.
const PROVIDER_CALL_TIMEOUT: Duration = Duration::from_secs(15);

/// Bounds a provider call by [`PROVIDER_CALL_TIMEOUT`].
async fn bounded<T>(
    call: impl Future<Output = Result<T, PaymentError>>,
) -> Result<T, PaymentError> {
    tokio::time::timeout(PROVIDER_CALL_TIMEOUT, call)
        .await
        .unwrap_or(Err(PaymentError::Timeout))
}

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
                match bounded(provider.authorize(&request)).await {
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
                    Err(e) if !e.is_retryable() => {
                        decline(state, &order, "pending", &e.to_string(), now).await?
                    }
                    Err(e) => {
                        tracing::warn!(order = %order.id, error = %e, "authorisation outcome unknown");
                        db.note_attempt(&order.id, now).await?;
                        if order.attempts + 1 < MAX_UNKNOWN_OUTCOMES {
                            return Ok(order);
                        }
                        // Authorisations are never captured without us (manual capture), so
                        // one the provider made without telling us lapses on its own.
                        let reason = "the payment provider did not answer; nothing was charged";
                        decline(state, &order, "pending", reason, now).await?
                    }
                }
            }
            "authorized" if order.attempts >= MAX_UNKNOWN_OUTCOMES => {
                // Captures went unanswered too often: release the authorisation instead.
                let reason = "the payment could not be completed; the authorisation was released";
                match void(state, &order, reason, now).await? {
                    Some(moved) => moved,
                    None => return Ok(order),
                }
            }
            "authorized" => {
                let intent = order.intent_id.clone().unwrap_or_default();
                let key = format!("{}:capture", order.id);
                let mut outcome = bounded(provider.capture(&intent, &key)).await;
                for _ in 1..CAPTURE_TRIES {
                    if !outcome.as_ref().is_err_and(PaymentError::is_retryable) {
                        break;
                    }
                    outcome = bounded(provider.capture(&intent, &key)).await;
                }
                match outcome {
                    Ok(()) => {
                        db.advance_order(&order.id, "authorized", "captured", None, None, now)
                            .await?
                    }
                    Err(e) if e.is_retryable() => {
                        tracing::warn!(order = %order.id, error = %e, "capture outcome unknown");
                        db.note_attempt(&order.id, now).await?;
                        if order.attempts + 1 < MAX_UNKNOWN_OUTCOMES {
                            return Ok(order);
                        }
                        // The next pass sees the attempts used up and releases the payment.
                        false
                    }
                    Err(e) => {
                        // The authorisation cannot be captured (expired, voided): give it
                        // back; it lapses anyway if the cancellation goes unanswered.
                        match void(state, &order, &e.to_string(), now).await? {
                            Some(moved) => moved,
                            None => {
                                decline(state, &order, "authorized", &e.to_string(), now).await?
                            }
                        }
                    }
                }
            }
            "captured" if event_cancelled(state, &order).await? => {
                let failure = "the event was cancelled; the payment is refunded";
                refund_all(state, &order, failure, now).await?
            }
            "captured" => match issue(state, &order, now).await {
                Ok(issued) => issued,
                Err(e) => {
                    tracing::error!(order = %order.id, error = ?e, "issuance failed after capture; refunding");
                    let failure = "tickets could not be issued; the payment is refunded";
                    refund_all(state, &order, failure, now).await?
                }
            },
            "refund_pending" => {
                let owed = order.total_minor - order.refunded_minor;
                let key = format!("{}:refund-all", order.id);
                let refunded = match order.intent_id.as_deref() {
                    Some(intent) if owed > 0 => bounded(provider.refund(intent, owed, &key)).await,
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
        state.live.order_changed(&order.id, &order.event_id);
    }
    Ok(order)
}

/// Closes an order as declined (from `from`) and returns its hold's stock; false if another
/// worker moved the order first.
async fn decline(
    state: &AppState,
    order: &OrderRow,
    from: &str,
    reason: &str,
    now: i64,
) -> Result<bool, StoreError> {
    state
        .db
        .close_order_releasing_hold(order, from, "declined", reason, now)
        .await
}

/// Cancels an authorised order's intent (idempotent key `<order>:cancel`) and declines it.
/// An intent captured after all moves the order on to `captured` (the money was taken, so
/// the tickets are issued). `None` when the outcome is unknown: the attempt is noted and
/// the cancellation repeated on a later pass, because stock must not return while the
/// money may have been taken.
async fn void(
    state: &AppState,
    order: &OrderRow,
    reason: &str,
    now: i64,
) -> Result<Option<bool>, StoreError> {
    let intent = order.intent_id.clone().unwrap_or_default();
    let key = format!("{}:cancel", order.id);
    match bounded(state.payments.cancel(&intent, &key)).await {
        Ok(()) => decline(state, order, "authorized", reason, now)
            .await
            .map(Some),
        Err(PaymentError::Captured) => state
            .db
            .advance_order(&order.id, "authorized", "captured", None, None, now)
            .await
            .map(Some),
        Err(e) if e.is_retryable() => {
            tracing::warn!(order = %order.id, error = %e, "cancellation outcome unknown");
            state.db.note_attempt(&order.id, now).await?;
            Ok(None)
        }
        // Nothing left to cancel (the intent expired or is unknown): nothing can be taken.
        Err(_) => decline(state, order, "authorized", reason, now)
            .await
            .map(Some),
    }
}

/// Moves a captured order that cannot complete to `refund_pending` and returns its stock at
/// once: no ticket can be issued from there, so the stock need not wait for the refund.
async fn refund_all(
    state: &AppState,
    order: &OrderRow,
    failure: &str,
    now: i64,
) -> Result<bool, StoreError> {
    state
        .db
        .close_order_releasing_hold(order, "captured", "refund_pending", failure, now)
        .await
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
            bounded(
                state
                    .payments
                    .refund(intent, refund.amount_minor, &refund.id),
            )
            .await
        }
        _ => Ok(()),
    };
    // The refund's revocations committed before this call; its settlement may follow.
    let settled = match outcome {
        Ok(()) => state.db.finish_refund(refund, now()).await,
        Err(e) => {
            tracing::warn!(refund = %refund.id, error = %e, "refund not confirmed; will retry");
            Ok(false)
        }
    };
    state.live.order_changed(&order.id, &order.event_id);
    settled
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
        if let RefundStart::Started(refund) = state
            .db
            .begin_refund(
                &order_id,
                &[],
                false,
                now(),
                &crate::db::audit::Actor::system(),
            )
            .await?
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

/// The recovery loop; aborted when dropped.
#[derive(Debug)]
pub struct RecoveryTask(tokio::task::JoinHandle<()>);

impl Drop for RecoveryTask {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Runs [`resume`] every `every` on a task of its own, so that provider calls (each bounded
/// by a timeout, but several per order) never delay the hold expiry that runs beside it.
pub fn spawn_recovery(state: AppState, every: Duration) -> RecoveryTask {
    RecoveryTask(tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            match resume(&state, now() - 10).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(finished = n, "unfinished orders and refunds resumed"),
                Err(e) => tracing::warn!(error = ?e, "order recovery failed"),
            }
        }
    }))
}
