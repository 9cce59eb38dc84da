//! Mutations that must happen exactly once, whatever the network or the process does.
//!
//! Each booking call is first written to SQLite as a pending operation whose id is the
//! idempotency key (a UUIDv7), durably (`synchronous = FULL`), and only then sent. The
//! server deduplicates holds and checkouts on that key, so sending a pending operation
//! again — after a timeout, a lost answer, a duplicate delivery, or a crash followed by
//! [`Booking::resume_pending`](crate::Booking::resume_pending) — returns the first result instead of acting twice. Releasing
//! a hold is a no-op the second time. A refund names its tickets, and the server only
//! refunds tickets still valid, so a repeated refund finds nothing left (CONFLICT), which
//! the client resolves by reading the order back.
//!
//! An operation ends `succeeded` or `failed` (the server's definitive refusal: SOLD_OUT,
//! HOLD_EXPIRED, PAYMENT_DECLINED...). Anything else (no answer, RATE_LIMITED, INTERNAL, an
//! ended session) leaves it `pending` for the host to resume.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, TimeZone, Utc};
use serde::{Deserialize, Serialize};

use super::convert::{hold_from, order_from};
use super::{Hold, HoldLine, HoldStatus, Order, TicketStatus};
use crate::api::operations::{
    Checkout, HoldById, HoldTickets, OrderById, RefundOrder, ReleaseHold, checkout, hold_by_id,
    hold_tickets, order_by_id, refund_order, release_hold,
};
use crate::notify::{Change, Progress, ProgressListener, Task, TaskHandle, spawn_task};
use crate::store::{Completion, OperationRow};
use crate::{Booking, Client, Error};
use crate::{BoundaryError, ErrorKind};

/// What an operation does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
#[serde(rename_all = "snake_case")]
pub enum OperationKind {
    /// Reserve tickets.
    Hold,
    /// Pay for a hold.
    Checkout,
    /// Give a hold back.
    ReleaseHold,
    /// Refund tickets of an order.
    Refund,
}

impl OperationKind {
    fn as_str(self) -> &'static str {
        match self {
            OperationKind::Hold => "hold",
            OperationKind::Checkout => "checkout",
            OperationKind::ReleaseHold => "release_hold",
            OperationKind::Refund => "refund",
        }
    }
}

/// Where an operation is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
#[serde(rename_all = "snake_case")]
pub enum OperationState {
    /// Written, not answered for good yet: resume it.
    Pending,
    /// Done.
    Succeeded,
    /// Refused for good.
    Failed,
}

/// An operation's arguments, as persisted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum OperationRequest {
    /// Reserve tickets of an event.
    Hold {
        /// The event.
        event_id: String,
        /// The lines.
        items: Vec<HoldLine>,
    },
    /// Pay for a hold.
    Checkout {
        /// The hold.
        hold_id: String,
        /// The provider's payment token; dropped from the store once the operation ends.
        payment_token: Option<String>,
    },
    /// Give a hold back.
    ReleaseHold {
        /// The hold.
        hold_id: String,
    },
    /// Refund tickets (all of the order's valid tickets when empty).
    Refund {
        /// The order.
        order_id: String,
        /// The tickets.
        ticket_ids: Vec<String>,
    },
}

impl OperationRequest {
    fn kind(&self) -> OperationKind {
        match self {
            OperationRequest::Hold { .. } => OperationKind::Hold,
            OperationRequest::Checkout { .. } => OperationKind::Checkout,
            OperationRequest::ReleaseHold { .. } => OperationKind::ReleaseHold,
            OperationRequest::Refund { .. } => OperationKind::Refund,
        }
    }

    /// The arguments as kept after the operation ended (no payment token).
    fn settled(&self) -> OperationRequest {
        match self {
            OperationRequest::Checkout { hold_id, .. } => OperationRequest::Checkout {
                hold_id: hold_id.clone(),
                payment_token: None,
            },
            other => other.clone(),
        }
    }
}

/// An operation as the host sees it in the queue.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct PendingOperation {
    /// Id, also the idempotency key sent with it.
    pub id: String,
    /// What it does.
    pub kind: OperationKind,
    /// Its arguments.
    pub request: OperationRequest,
    /// Where it is.
    pub state: OperationState,
    /// Sends so far.
    pub attempts: u32,
    /// Once succeeded: the id of the hold or order it produced.
    pub result_id: Option<String>,
    /// The last error, as the host would have been given it.
    pub last_error: Option<BoundaryError>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
}

impl TryFrom<OperationRow> for PendingOperation {
    type Error = Error;

    fn try_from(row: OperationRow) -> Result<PendingOperation, Error> {
        let request: OperationRequest =
            serde_json::from_str(&row.request).map_err(|_| Error::Corrupt("operation"))?;
        let state = match row.state.as_str() {
            "succeeded" => OperationState::Succeeded,
            "failed" => OperationState::Failed,
            _ => OperationState::Pending,
        };
        Ok(PendingOperation {
            id: row.id,
            kind: request.kind(),
            request,
            state,
            attempts: u32::try_from(row.attempts).unwrap_or(u32::MAX),
            result_id: row.result,
            last_error: row.error.map(|(code, message)| BoundaryError {
                kind: ErrorKind::from_wire(&code).unwrap_or(ErrorKind::Unknown),
                message,
            }),
            created_at: Utc
                .timestamp_millis_opt(row.created_at)
                .single()
                .unwrap_or_default(),
        })
    }
}

/// What the server answered an operation with.
#[derive(Debug, Clone)]
enum Answer {
    Hold(Hold),
    Order(Order),
}

/// Operations being sent right now by this process, so a resume never sends one
/// concurrently with the call that created it.
#[derive(Debug, Default)]
pub(crate) struct InFlight(Mutex<HashSet<String>>);

struct Claim {
    set: Arc<InFlight>,
    id: String,
}

impl InFlight {
    fn claim(self: &Arc<Self>, id: &str) -> Option<Claim> {
        let mut set = match self.0.lock() {
            Ok(set) => set,
            Err(poisoned) => poisoned.into_inner(),
        };
        set.insert(id.to_owned()).then(|| Claim {
            set: self.clone(),
            id: id.to_owned(),
        })
    }
}

impl Drop for Claim {
    fn drop(&mut self) {
        let mut set = match self.set.0.lock() {
            Ok(set) => set,
            Err(poisoned) => poisoned.into_inner(),
        };
        set.remove(&self.id);
    }
}

/// Whether an error is the server's final word on an operation.
fn is_final(error: &Error) -> bool {
    match error {
        Error::Api(e) => !matches!(
            e.code,
            ErrorKind::RateLimited
                | ErrorKind::Internal
                | ErrorKind::Unknown
                | ErrorKind::Unauthenticated
        ),
        _ => false,
    }
}

fn now_ms() -> i64 {
    Utc::now().timestamp_millis()
}

impl Client {
    async fn resume_pending_reporting(
        &self,
        listener: Option<Arc<dyn ProgressListener>>,
    ) -> Result<Vec<PendingOperation>, Error> {
        let pending = self.booking().pending_operations().await?;
        let total = pending.len() as u64;
        let mut after = Vec::with_capacity(pending.len());
        for (done, operation) in pending.into_iter().enumerate() {
            let id = operation.id.clone();
            if let Some(claim) = self.inner_in_flight().claim(&id) {
                // An ended session stops the round: every other send would fail the same way.
                if let Err(e @ (Error::SessionExpired | Error::NotSignedIn)) =
                    self.send(&operation, claim).await
                {
                    return Err(e);
                }
            }
            after.push(self.booking().operation(&id).await?);
            if let Some(listener) = &listener {
                listener.on_progress(Progress {
                    task: Task::ResumePending,
                    done: done as u64 + 1,
                    total: Some(total),
                });
            }
        }
        Ok(after)
    }

    /// Persists an operation, then sends it.
    async fn perform(&self, request: OperationRequest) -> Result<Answer, Error> {
        let account = self.account_id().await?;
        let text =
            serde_json::to_string(&request).map_err(|_| Error::Corrupt("operation request"))?;
        let row = OperationRow {
            id: uuid::Uuid::now_v7().to_string(),
            account_id: account,
            kind: request.kind().as_str().to_owned(),
            request: text,
            state: "pending".into(),
            attempts: 0,
            result: None,
            error: None,
            created_at: now_ms(),
            updated_at: now_ms(),
        };
        let stored = row.clone();
        self.store()
            .call(move |s| s.insert_operation(&stored))
            .await?;
        self.notify(Change::Operations);
        let operation = PendingOperation::try_from(row)?;
        let claim = self
            .inner_in_flight()
            .claim(&operation.id)
            .ok_or(Error::Protocol("a fresh operation id is already in flight"))?;
        self.send(&operation, claim).await
    }

    /// Sends a persisted operation once and records what came of it.
    async fn send(&self, operation: &PendingOperation, _claim: Claim) -> Result<Answer, Error> {
        let id = operation.id.clone();
        self.store()
            .call(move |s| s.count_attempt(&id, now_ms()))
            .await?;
        let result = self.execute(operation).await;
        let id = operation.id.clone();
        let settled = serde_json::to_string(&operation.request.settled())
            .map_err(|_| Error::Corrupt("operation request"))?;
        match &result {
            Ok(answer) => {
                let answer = answer.clone();
                let converted = match (&operation.request, &answer) {
                    (OperationRequest::Checkout { hold_id, .. }, Answer::Order(_)) => {
                        Some(hold_id.clone())
                    }
                    _ => None,
                };
                let known_order_only = operation.kind == OperationKind::Refund;
                let change = match &answer {
                    Answer::Hold(h) => Change::Hold { id: h.id.clone() },
                    Answer::Order(o) => Change::Order { id: o.id.clone() },
                };
                self.store()
                    .call(move |s| {
                        let (hold, order) = match &answer {
                            Answer::Hold(h) => (Some(h), None),
                            Answer::Order(o) => (None, Some(o)),
                        };
                        s.complete_operation(
                            &id,
                            &settled,
                            Completion::Succeeded {
                                hold,
                                order,
                                known_order_only,
                            },
                            now_ms(),
                        )?;
                        if let Some(hold_id) = converted {
                            s.set_hold_status(&hold_id, HoldStatus::Converted)?;
                        }
                        Ok(())
                    })
                    .await?;
                self.notify(change);
                if matches!(
                    operation.kind,
                    OperationKind::Checkout | OperationKind::Refund
                ) {
                    self.notify(Change::Wallet);
                }
            }
            Err(error) if is_final(error) => {
                let (code, message) = (error.code().to_owned(), error.to_string());
                self.store()
                    .call(move |s| {
                        s.complete_operation(
                            &id,
                            &settled,
                            Completion::Failed {
                                code: &code,
                                message: &message,
                            },
                            now_ms(),
                        )
                    })
                    .await?;
            }
            Err(error) => {
                let (code, message) = (error.code().to_owned(), error.to_string());
                self.store()
                    .call(move |s| s.note_error(&id, &code, &message, now_ms()))
                    .await?;
            }
        }
        self.notify(Change::Operations);
        result
    }

    async fn execute(&self, operation: &PendingOperation) -> Result<Answer, Error> {
        let key = operation.id.clone();
        match &operation.request {
            OperationRequest::Hold { event_id, items } => {
                let variables = hold_tickets::Variables {
                    event_id: event_id.clone(),
                    items: items
                        .iter()
                        .map(|i| hold_tickets::HoldItemInput {
                            ticket_type_id: i.ticket_type_id.clone(),
                            quantity: i.quantity,
                        })
                        .collect(),
                    idempotency_key: key,
                };
                let data = self.authed::<HoldTickets>(variables, true).await?;
                Ok(Answer::Hold(hold_from!(hold_tickets, data.hold_tickets)))
            }
            OperationRequest::Checkout {
                hold_id,
                payment_token,
            } => {
                let variables = checkout::Variables {
                    hold_id: hold_id.clone(),
                    payment: payment_token
                        .clone()
                        .map(|token| checkout::PaymentInput { token }),
                    idempotency_key: key,
                };
                let data = self.authed::<Checkout>(variables, true).await?;
                Ok(Answer::Order(order_from!(checkout, data.checkout)))
            }
            OperationRequest::ReleaseHold { hold_id } => {
                let variables = release_hold::Variables {
                    id: hold_id.clone(),
                };
                let data = self.authed::<ReleaseHold>(variables, true).await?;
                Ok(Answer::Hold(hold_from!(release_hold, data.release_hold)))
            }
            OperationRequest::Refund {
                order_id,
                ticket_ids,
            } => {
                let variables = refund_order::Variables {
                    order_id: order_id.clone(),
                    ticket_ids: ticket_ids.clone(),
                };
                match self.authed::<RefundOrder>(variables, true).await {
                    Ok(data) => Ok(Answer::Order(order_from!(refund_order, data.refund_order))),
                    Err(Error::Api(e)) if e.code == ErrorKind::Conflict => {
                        // Nothing left to refund: done already (by an earlier send whose
                        // answer was lost), or never refundable. The order tells which.
                        let order = self.fetch_order(order_id).await?;
                        if refunded(&order, ticket_ids) {
                            Ok(Answer::Order(order))
                        } else {
                            Err(Error::Api(e))
                        }
                    }
                    Err(other) => Err(other),
                }
            }
        }
    }

    /// An order as the server holds it now.
    pub(crate) async fn fetch_order(&self, order_id: &str) -> Result<Order, Error> {
        let variables = order_by_id::Variables {
            id: order_id.to_owned(),
        };
        let data = self.authed::<OrderById>(variables, true).await?;
        let order = data.order.ok_or(Error::NotFound("order"))?;
        Ok(order_from!(order_by_id, order))
    }
}

/// Whether the refund asked for is in effect on `order`.
fn refunded(order: &Order, ticket_ids: &[String]) -> bool {
    if ticket_ids.is_empty() {
        return !order.tickets.is_empty()
            && order
                .tickets
                .iter()
                .all(|t| t.status == TicketStatus::Revoked);
    }
    ticket_ids.iter().all(|id| {
        order
            .tickets
            .iter()
            .any(|t| t.id == *id && t.status == TicketStatus::Revoked)
    })
}

impl Booking {
    /// Reserves tickets, all lines or none, until the hold's `expires_at`.
    pub async fn hold(&self, event_id: &str, items: &[HoldLine]) -> Result<Hold, Error> {
        if items.is_empty() || items.iter().any(|i| i.quantity < 1) {
            return Err(Error::InvalidArgument {
                field: "items",
                message: "give at least one line, each of at least one ticket".into(),
            });
        }
        let request = OperationRequest::Hold {
            event_id: event_id.to_owned(),
            items: items.to_vec(),
        };
        match self.client.perform(request).await? {
            Answer::Hold(hold) => Ok(hold),
            Answer::Order(_) => Err(Error::Protocol("an order where a hold was expected")),
        }
    }

    /// Pays for a hold with the provider's payment token (`tok_visa` with the test
    /// provider; none for free tickets) and returns the order. An order still PROCESSING
    /// completes by itself; [`Wallet::sync`](crate::Wallet::sync) brings its tickets.
    pub async fn checkout(
        &self,
        hold_id: &str,
        payment_token: Option<&str>,
    ) -> Result<Order, Error> {
        let request = OperationRequest::Checkout {
            hold_id: hold_id.to_owned(),
            payment_token: payment_token.map(str::to_owned),
        };
        match self.client.perform(request).await? {
            Answer::Order(order) => Ok(order),
            Answer::Hold(_) => Err(Error::Protocol("a hold where an order was expected")),
        }
    }

    /// Gives a hold's tickets back before it expires (cancelling a booking in progress).
    pub async fn release(&self, hold_id: &str) -> Result<Hold, Error> {
        let request = OperationRequest::ReleaseHold {
            hold_id: hold_id.to_owned(),
        };
        match self.client.perform(request).await? {
            Answer::Hold(hold) => Ok(hold),
            Answer::Order(_) => Err(Error::Protocol("an order where a hold was expected")),
        }
    }

    /// Refunds tickets of an order (all its valid tickets when `ticket_ids` is empty) and
    /// revokes them. Buyers may refund until the event's refund window; its organizer any
    /// time.
    pub async fn refund(&self, order_id: &str, ticket_ids: &[String]) -> Result<Order, Error> {
        let request = OperationRequest::Refund {
            order_id: order_id.to_owned(),
            ticket_ids: ticket_ids.to_vec(),
        };
        match self.client.perform(request).await? {
            Answer::Order(order) => Ok(order),
            Answer::Hold(_) => Err(Error::Protocol("a hold where an order was expected")),
        }
    }

    /// A hold as last heard from the server, with its countdown (no network).
    pub async fn hold_status(&self, hold_id: &str) -> Result<Hold, Error> {
        let account = self.client.account_id().await?;
        let id = hold_id.to_owned();
        self.client
            .store()
            .call(move |s| s.hold(&account, &id))
            .await?
            .ok_or(Error::NotFound("hold"))
    }

    /// A hold as the server holds it now (its status and countdown), saved locally.
    pub async fn refresh_hold(&self, hold_id: &str) -> Result<Hold, Error> {
        let account = self.client.account_id().await?;
        let variables = hold_by_id::Variables {
            id: hold_id.to_owned(),
        };
        let data = self.client.authed::<HoldById>(variables, true).await?;
        let hold = hold_from!(hold_by_id, data.hold.ok_or(Error::NotFound("hold"))?);
        let saved = hold.clone();
        self.client
            .store()
            .call(move |s| s.upsert_hold(&account, &saved, now_ms()))
            .await?;
        self.client.notify(Change::Hold {
            id: hold.id.clone(),
        });
        Ok(hold)
    }

    /// The account's holds as last heard from the server, newest first (no network).
    pub async fn holds(&self) -> Result<Vec<Hold>, Error> {
        let account = self.client.account_id().await?;
        self.client.store().call(move |s| s.holds(&account)).await
    }

    /// The signed-in account's operations that have no final answer yet, oldest first.
    pub async fn pending_operations(&self) -> Result<Vec<PendingOperation>, Error> {
        let account = self.client.account_id().await?;
        let rows = self
            .client
            .store()
            .call(move |s| s.operations(&account, true))
            .await?;
        rows.into_iter().map(PendingOperation::try_from).collect()
    }

    /// Every operation of the signed-in account, oldest first, whatever its state (what
    /// came of each booking call, for an activity view or after a resume).
    pub async fn operations(&self) -> Result<Vec<PendingOperation>, Error> {
        let account = self.client.account_id().await?;
        let rows = self
            .client
            .store()
            .call(move |s| s.operations(&account, false))
            .await?;
        rows.into_iter().map(PendingOperation::try_from).collect()
    }

    /// One operation, whatever its state.
    pub async fn operation(&self, id: &str) -> Result<PendingOperation, Error> {
        let id = id.to_owned();
        let row = self.client.store().call(move |s| s.operation(&id)).await?;
        row.ok_or(Error::NotFound("operation"))?.try_into()
    }

    /// Sends every pending operation of the signed-in account again, oldest first, and
    /// returns them as they stand afterwards. An operation that still gets no final answer
    /// stays pending; one being sent by another call right now is left to that call.
    pub async fn resume_pending(&self) -> Result<Vec<PendingOperation>, Error> {
        self.client.resume_pending_reporting(None).await
    }

    /// [`Booking::resume_pending`](crate::Booking::resume_pending) as a cancellable task reporting to `listener`.
    pub fn resume_pending_task(&self, listener: Arc<dyn ProgressListener>) -> TaskHandle {
        let client = self.client.clone();
        let reporter = listener.clone();
        spawn_task(
            self.client.runtime(),
            Task::ResumePending,
            listener,
            async move {
                client
                    .resume_pending_reporting(Some(reporter))
                    .await
                    .map(|_| ())
            },
        )
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// Operations sit on disk across SDK versions: their JSON is a reviewed format.
    #[test]
    fn stored_operation_requests_keep_their_format() {
        let requests = [
            OperationRequest::Hold {
                event_id: "e1".into(),
                items: vec![HoldLine {
                    ticket_type_id: "t1".into(),
                    quantity: 2,
                }],
            },
            OperationRequest::Checkout {
                hold_id: "h1".into(),
                payment_token: Some("tok_visa".into()),
            },
            OperationRequest::ReleaseHold {
                hold_id: "h1".into(),
            },
            OperationRequest::Refund {
                order_id: "o1".into(),
                ticket_ids: vec!["k1".into()],
            },
        ];
        let lines: Vec<String> = requests
            .iter()
            .map(|r| serde_json::to_string(r).unwrap())
            .collect();
        insta::assert_snapshot!(lines.join("\n"));
        for (request, line) in requests.iter().zip(&lines) {
            let back: OperationRequest = serde_json::from_str(line).unwrap();
            assert_eq!(&back, request);
        }
        assert_eq!(
            requests[1].settled(),
            OperationRequest::Checkout {
                hold_id: "h1".into(),
                payment_token: None
            }
        );
    }

    #[test]
    fn only_the_servers_definitive_refusals_end_an_operation() {
        let api = |code| {
            Error::Api(crate::api::ApiError {
                code,
                message: String::new(),
                field: None,
            })
        };
        assert!(is_final(&api(ErrorKind::SoldOut)));
        assert!(is_final(&api(ErrorKind::PaymentDeclined)));
        assert!(is_final(&api(ErrorKind::Conflict)));
        assert!(!is_final(&api(ErrorKind::Internal)));
        assert!(!is_final(&api(ErrorKind::RateLimited)));
        assert!(!is_final(&api(ErrorKind::Unauthenticated)));
        assert!(!is_final(&Error::SessionExpired));
        assert!(!is_final(&Error::Transport(
            crate::transport::TransportError::Timeout
        )));
    }
}
