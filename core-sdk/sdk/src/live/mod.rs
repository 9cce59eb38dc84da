//! Live updates: the server's GraphQL subscriptions, as a listener plus a [`TaskHandle`].
//!
//! - [`Organizer::watch_sales`](crate::Organizer::watch_sales): an event's sold, held and
//!   available tickets and revenue, per ticket type, after every change.
//! - [`CheckIn::watch_check_ins`](crate::CheckIn::watch_check_ins): a check-in list's
//!   counts and each new duplicate-entry alert.
//! - [`Booking::watch_order`](crate::Booking::watch_order): the buyer's order as the
//!   checkout saga moves it.
//!
//! Each feed first delivers the current state, then every change. A dropped connection is
//! reconnected with back-off and full jitter (the first frame after it is the state then,
//! so nothing is missed); an expired access token is refreshed once. The feed ends, with
//! the error in its last [`LiveState`], when the server refuses it for good (FORBIDDEN,
//! NOT_FOUND, the session ended) or completes it; `cancel()` or dropping the handle ends
//! it at once.

mod socket;

use std::sync::Arc;
use std::time::Duration;

use graphql_client::GraphQLQuery;
use serde_json::Value;

use crate::api::operations::{
    CheckInsUpdated, OrderUpdated, SalesUpdated, check_ins_updated, order_updated, sales_updated,
};
use crate::booking::Order;
use crate::check_in::{AlertScan, DuplicateAlert};
use crate::notify::{TaskHandle, spawn_until_end};
use crate::transport::Backoff;
use crate::transport::RetryPolicy;
use crate::{BoundaryError, Client, Error, ErrorKind};

use socket::Subscription;

/// One ticket type's stock and sales, live.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct TicketTypeStock {
    /// The ticket type.
    pub ticket_type_id: String,
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

/// An event's sales as they stand, after a change.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct SalesUpdate {
    /// The event.
    pub event_id: String,
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

/// A check-in list's counts as they stand, and the duplicate entries seen since the
/// previous update.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct CheckInsUpdate {
    /// The list.
    pub list_id: String,
    /// Tickets inside now.
    pub inside: i64,
    /// Entries admitted, re-entries included.
    pub admitted: i64,
    /// Scans refused at the door.
    pub refused: i64,
    /// Entries classified as duplicates.
    pub duplicates: i64,
    /// Duplicate entries detected since the previous update (none in the first).
    pub new_alerts: Vec<DuplicateAlert>,
}

/// Where a feed's connection stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
#[serde(rename_all = "snake_case")]
pub enum LivePhase {
    /// Opening the first connection.
    Connecting,
    /// Subscribed: updates flow.
    Live,
    /// The connection dropped or could not be opened; trying again after a back-off.
    Reconnecting,
    /// The feed is over (see the error, if any); no more updates.
    Ended,
}

/// A feed's connection state, told to its listener on every change.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct LiveState {
    /// The phase.
    pub phase: LivePhase,
    /// Failed attempts since the feed was last live.
    pub attempt: u32,
    /// Why: the failure that made it reconnect or end; `None` when all is well, or when
    /// the server completed the feed or the host cancelled it.
    pub error: Option<BoundaryError>,
}

/// Receives an event's sales.
pub trait SalesListener: Send + Sync {
    /// The sales now (first the current state, then after every change).
    fn on_sales(&self, update: SalesUpdate);
    /// The connection's state changed.
    fn on_state(&self, state: LiveState);
}

/// Receives a check-in list's counts and alerts.
pub trait CheckInsListener: Send + Sync {
    /// The counts now and the new alerts.
    fn on_check_ins(&self, update: CheckInsUpdate);
    /// The connection's state changed.
    fn on_state(&self, state: LiveState);
}

/// Receives an order as it moves.
pub trait OrderListener: Send + Sync {
    /// The order now.
    fn on_order(&self, order: Order);
    /// The connection's state changed.
    fn on_state(&self, state: LiveState);
}

/// How a feed waits between reconnections: 0.5 s doubling to 30 s, with full jitter,
/// without end (a door or a dashboard waits out a long outage).
fn reconnect_policy() -> RetryPolicy {
    RetryPolicy {
        max_attempts: u32::MAX,
        base_delay: Duration::from_millis(500),
        max_delay: Duration::from_secs(30),
    }
}

/// Whether a failure ends the feed rather than being retried.
fn is_final(error: &Error) -> bool {
    !matches!(
        error.kind(),
        ErrorKind::Network | ErrorKind::Internal | ErrorKind::RateLimited
    )
}

/// A typed feed: how to build its subscription and read its frames.
trait Feed: Send + Sync + 'static {
    type Update: Send + 'static;
    fn decode(data: Value) -> Result<Self::Update, Error>;
}

fn decode<Q: GraphQLQuery>(data: Value) -> Result<Q::ResponseData, Error> {
    serde_json::from_value(data).map_err(|_| Error::Protocol("a live update frame"))
}

struct Sales;
impl Feed for Sales {
    type Update = SalesUpdate;
    fn decode(data: Value) -> Result<SalesUpdate, Error> {
        let s = decode::<SalesUpdated>(data)?.sales_updated;
        Ok(SalesUpdate {
            event_id: s.event_id,
            currency: s.currency,
            sold: s.sold,
            held: s.held,
            available: s.available,
            revenue_minor: s.revenue_minor,
            by_ticket_type: s
                .by_ticket_type
                .into_iter()
                .map(|t| TicketTypeStock {
                    ticket_type_id: t.ticket_type_id,
                    name: t.name,
                    capacity: t.capacity,
                    sold: t.sold,
                    refunded: t.refunded,
                    held: t.held,
                    available: t.available,
                    revenue_minor: t.revenue_minor,
                })
                .collect(),
        })
    }
}

struct CheckIns;
impl Feed for CheckIns {
    type Update = CheckInsUpdate;
    fn decode(data: Value) -> Result<CheckInsUpdate, Error> {
        let c = decode::<CheckInsUpdated>(data)?.check_ins_updated;
        let scan = |s: check_ins_updated::AlertScanFields| AlertScan {
            id: s.id,
            device_id: s.device_id,
            ticket_id: s.ticket_id,
            device_time: s.device_time,
            gate: s.gate,
        };
        Ok(CheckInsUpdate {
            list_id: c.list_id,
            inside: c.inside,
            admitted: c.admitted,
            refused: c.refused,
            duplicates: c.duplicates,
            new_alerts: c
                .new_alerts
                .into_iter()
                .map(|a| DuplicateAlert {
                    scan: scan(a.scan),
                    first_entry: scan(a.first_entry),
                    detected_at: a.detected_at,
                })
                .collect(),
        })
    }
}

struct Orders;
impl Feed for Orders {
    type Update = Order;
    fn decode(data: Value) -> Result<Order, Error> {
        let o = decode::<OrderUpdated>(data)?.order_updated;
        Ok(crate::booking::convert::order_from!(order_updated, o))
    }
}

/// The listener's two calls, whatever the feed.
struct Sink<U> {
    update: Box<dyn Fn(U) + Send + Sync>,
    state: Box<dyn Fn(LiveState) + Send + Sync>,
}

impl Client {
    /// Runs a feed on the client's runtime until it ends or the handle is cancelled.
    fn watch<F: Feed>(
        &self,
        query: (&'static str, &'static str),
        variables: Value,
        sink: Sink<F::Update>,
    ) -> TaskHandle {
        let client = self.clone();
        let sink = Arc::new(sink);
        let to_sink = sink.clone();
        let work = async move { client.run_feed::<F>(query, variables, &to_sink).await };
        // Ended once: with the error that ended the feed, or none (completed, cancelled).
        spawn_until_end(self.runtime(), work, move |error: Option<Option<Error>>| {
            (sink.state)(LiveState {
                phase: LivePhase::Ended,
                attempt: 0,
                error: error.flatten().map(|e| e.to_boundary()),
            });
        })
    }

    /// The feed's loop; returns the error that ended it (`None`: completed by the server).
    async fn run_feed<F: Feed>(
        &self,
        query: (&'static str, &'static str),
        variables: Value,
        sink: &Sink<F::Update>,
    ) -> Option<Error> {
        let policy = reconnect_policy();
        let mut backoff = Backoff::new(policy);
        let mut attempt = 0_u32;
        let mut refreshed = false;
        let timeout = self.live_connect_timeout();
        let state = |phase, attempt, error: Option<&Error>| {
            (sink.state)(LiveState {
                phase,
                attempt,
                error: error.map(Error::to_boundary),
            });
        };
        state(LivePhase::Connecting, 0, None);
        loop {
            let token = match self.access_token().await {
                Ok(token) => token,
                Err(e) => return Some(e),
            };
            let url = self.server_url().to_owned();
            let failure =
                match Subscription::open(&url, &token, query, variables.clone(), timeout).await {
                    Err(e) => e,
                    Ok(mut sub) => {
                        let mut live = false;
                        loop {
                            match sub.next().await {
                                Ok(Some(data)) => {
                                    let update = match F::decode(data) {
                                        Ok(update) => update,
                                        Err(e) => {
                                            sub.close().await;
                                            return Some(e);
                                        }
                                    };
                                    if !live {
                                        live = true;
                                        attempt = 0;
                                        refreshed = false;
                                        backoff = Backoff::new(policy);
                                        state(LivePhase::Live, 0, None);
                                    }
                                    (sink.update)(update);
                                }
                                Ok(None) => {
                                    sub.close().await;
                                    return None;
                                }
                                Err(e) => break e,
                            }
                        }
                    }
                };
            if failure.kind() == ErrorKind::Unauthenticated && !refreshed {
                // The access token expired while the feed ran: refresh once and reconnect.
                refreshed = true;
                match self.refresh_after_rejection(&token).await {
                    Ok(_) => continue,
                    Err(e) => return Some(e),
                }
            }
            if is_final(&failure) {
                return Some(failure);
            }
            attempt = attempt.saturating_add(1);
            state(LivePhase::Reconnecting, attempt, Some(&failure));
            let delay = backoff.next_delay().unwrap_or(policy.max_delay);
            tokio::time::sleep(delay).await;
        }
    }
}

impl crate::Organizer {
    /// An event's sales, live: first as they stand, then after every hold, release,
    /// expiry, checkout step and refund (the event's organizer; anyone else's feed ends
    /// with FORBIDDEN).
    pub fn watch_sales(&self, event_id: &str, listener: Arc<dyn SalesListener>) -> TaskHandle {
        let variables = sales_updated::Variables {
            event_id: event_id.to_owned(),
        };
        let (update, state) = (listener.clone(), listener);
        self.client.watch::<Sales>(
            (sales_updated::OPERATION_NAME, sales_updated::QUERY),
            serde_json::to_value(variables).unwrap_or_default(),
            Sink {
                update: Box::new(move |u| update.on_sales(u)),
                state: Box::new(move |s| state.on_state(s)),
            },
        )
    }
}

impl crate::CheckIn {
    /// A check-in list's counts and duplicate-entry alerts, live: first as they stand,
    /// then after every push or online decision (the event's organizer).
    pub fn watch_check_ins(
        &self,
        list_id: &str,
        listener: Arc<dyn CheckInsListener>,
    ) -> TaskHandle {
        let variables = check_ins_updated::Variables {
            list_id: list_id.to_owned(),
        };
        let (update, state) = (listener.clone(), listener);
        self.client.watch::<CheckIns>(
            (check_ins_updated::OPERATION_NAME, check_ins_updated::QUERY),
            serde_json::to_value(variables).unwrap_or_default(),
            Sink {
                update: Box::new(move |u| update.on_check_ins(u)),
                state: Box::new(move |s| state.on_state(s)),
            },
        )
    }
}

impl crate::Booking {
    /// One of the account's orders, live: first as it stands, then after each step of
    /// the checkout saga and each refund (another buyer's order ends with NOT_FOUND).
    pub fn watch_order(&self, order_id: &str, listener: Arc<dyn OrderListener>) -> TaskHandle {
        let variables = order_updated::Variables {
            order_id: order_id.to_owned(),
        };
        let (update, state) = (listener.clone(), listener);
        self.client.watch::<Orders>(
            (order_updated::OPERATION_NAME, order_updated::QUERY),
            serde_json::to_value(variables).unwrap_or_default(),
            Sink {
                update: Box::new(move |u| update.on_order(u)),
                state: Box::new(move |s| state.on_state(s)),
            },
        )
    }
}
