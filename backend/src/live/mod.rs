//! Live updates: what changed, told to every replica's subscribers.
//!
//! A change is a [`Topic`] (what kind of thing, and its id), never the data: each subscriber
//! re-reads what it may see, under the rules its query would apply, when its topic is
//! signalled. So a notification carries nothing private and a missed or repeated one costs a
//! read, never a wrong frame.
//!
//! - [`Live::publish`] is called after a write commits. On SQLite (one process) it signals
//!   this process's hub directly; on PostgreSQL it queues the topic for `pg_notify` and
//!   every replica's listener, this one's included, signals its hub ([`postgres`]).
//! - The hub keeps one `watch` channel per watched topic: a signal bumps a counter, so a
//!   subscriber that has not re-read yet sees one pending change however many arrived, and
//!   nothing is ever queued per subscriber. Fan-out costs one map lookup per change,
//!   whatever the number of subscribers.
//! - Subscriptions take a [`Slot`] that counts them per connection and per account.

mod postgres;
pub mod reads;
pub mod socket;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use tokio::sync::watch;

use crate::db::Db;
use crate::metrics::Metrics;

/// The PostgreSQL channel every replica listens on.
pub const CHANNEL: &str = "guichet_live";

/// What changed.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Topic {
    /// An event's stock, holds, sales or refunds.
    Sales(String),
    /// A check-in list's scans.
    CheckIns(String),
    /// An order's status or tickets.
    Order(String),
}

impl Topic {
    /// The wire form in a notification payload: `s:<id>`, `c:<id>`, `o:<id>`.
    pub fn encode(&self) -> String {
        match self {
            Topic::Sales(id) => format!("s:{id}"),
            Topic::CheckIns(id) => format!("c:{id}"),
            Topic::Order(id) => format!("o:{id}"),
        }
    }

    /// Reads [`Topic::encode`]'s form; anything else is `None`.
    pub fn decode(text: &str) -> Option<Topic> {
        let (kind, id) = text.split_once(':')?;
        if id.is_empty() || id.contains(char::is_whitespace) {
            return None;
        }
        match kind {
            "s" => Some(Topic::Sales(id.to_owned())),
            "c" => Some(Topic::CheckIns(id.to_owned())),
            "o" => Some(Topic::Order(id.to_owned())),
            _ => None,
        }
    }
}

/// Limits on subscribers (`GUICHET_LIVE_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LiveLimits {
    /// `GUICHET_LIVE_MAX_SUBSCRIPTIONS_PER_CONNECTION` (default 32).
    pub per_connection: usize,
    /// `GUICHET_LIVE_MAX_SUBSCRIPTIONS_PER_ACCOUNT`, on one replica (default 256).
    pub per_account: usize,
    /// `GUICHET_LIVE_IDLE_TIMEOUT_SECS`: a connection with no subscription, or from which
    /// nothing (not even a pong) arrived, for this long is closed (default 60).
    pub idle_timeout_secs: u64,
    /// `GUICHET_LIVE_SEND_BUFFER`: frames waiting for a connection's socket; a connection
    /// that lets more pile up is dropped as a slow consumer (default 64).
    pub send_buffer: usize,
}

impl Default for LiveLimits {
    fn default() -> LiveLimits {
        LiveLimits {
            per_connection: 32,
            per_account: 256,
            idle_timeout_secs: 60,
            send_buffer: 64,
        }
    }
}

/// One replica's fan-out: the hub of watched topics and the way changes leave this process.
#[derive(Debug, Clone)]
pub struct Live {
    hub: Arc<Hub>,
    route: Route,
}

#[derive(Debug, Clone)]
enum Route {
    /// SQLite: the process is the only writer; signal the hub directly.
    Local,
    /// PostgreSQL: through `pg_notify`, heard back by every replica's listener.
    Postgres(Arc<postgres::Fanout>),
}

/// Watched topics and the subscription counts.
#[derive(Debug)]
pub(crate) struct Hub {
    topics: Mutex<HashMap<Topic, watch::Sender<u64>>>,
    accounts: Mutex<HashMap<String, usize>>,
    metrics: Metrics,
    limits: LiveLimits,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Hub {
    /// Wakes the subscribers of `topic`, if any.
    pub(crate) fn signal(&self, topic: &Topic) {
        if let Some(tx) = lock(&self.topics).get(topic) {
            tx.send_modify(|v| *v = v.wrapping_add(1));
        }
    }

    /// Wakes every subscriber (after a lost connection, when changes may have been missed).
    pub(crate) fn signal_all(&self) {
        for tx in lock(&self.topics).values() {
            tx.send_modify(|v| *v = v.wrapping_add(1));
        }
    }
}

impl Live {
    /// The fan-out for `db`'s engine. Background tasks (PostgreSQL's listener and
    /// publisher) start on first use, on the runtime of the caller.
    pub fn new(db: &Db, metrics: Metrics, limits: LiveLimits) -> Live {
        let hub = Arc::new(Hub {
            topics: Mutex::default(),
            accounts: Mutex::default(),
            metrics,
            limits,
        });
        let route = match db {
            Db::Sqlite(_) => Route::Local,
            Db::Postgres(pool) => Route::Postgres(Arc::new(postgres::Fanout::new(
                pool.clone(),
                Arc::downgrade(&hub),
            ))),
        };
        Live { hub, route }
    }

    /// The limits in force.
    pub fn limits(&self) -> LiveLimits {
        self.hub.limits
    }

    /// Tells every replica that `topic` changed. Call after the change commits; never
    /// waits on the network (PostgreSQL's notifications leave from a task of their own).
    pub fn publish(&self, topic: Topic) {
        match &self.route {
            Route::Local => self.hub.signal(&topic),
            Route::Postgres(fanout) => fanout.publish(topic),
        }
    }

    /// Tells that an order moved: its status, and its event's sales.
    pub fn order_changed(&self, order_id: &str, event_id: &str) {
        self.publish(Topic::Order(order_id.to_owned()));
        self.publish(Topic::Sales(event_id.to_owned()));
    }

    /// Starts watching `topic`: the returned watch wakes after each change signalled from
    /// now on (changes coalesce while the subscriber is busy).
    pub fn watch(&self, topic: Topic) -> Watch {
        if let Route::Postgres(fanout) = &self.route {
            fanout.ensure_listening();
        }
        let rx = lock(&self.hub.topics)
            .entry(topic.clone())
            .or_insert_with(|| watch::channel(0).0)
            .subscribe();
        Watch {
            rx: Some(rx),
            topic,
            hub: self.hub.clone(),
        }
    }

    /// Takes a subscription slot for `account` on `connection`, or says which limit is
    /// reached.
    pub fn admit(&self, connection: &Arc<ConnectionSlots>, account: &str) -> Result<Slot, Limit> {
        let limits = self.hub.limits;
        let mut accounts = lock(&self.hub.accounts);
        let held = accounts.get(account).copied().unwrap_or(0);
        if held >= limits.per_account {
            return Err(Limit::PerAccount(limits.per_account));
        }
        let mut open = lock(&connection.open);
        if *open >= limits.per_connection {
            return Err(Limit::PerConnection(limits.per_connection));
        }
        *open += 1;
        accounts.insert(account.to_owned(), held + 1);
        self.hub.metrics.live_subscriptions(1);
        Ok(Slot {
            account: account.to_owned(),
            connection: connection.clone(),
            hub: self.hub.clone(),
        })
    }

    /// Watched topics right now (for tests and the benchmark).
    pub fn watched_topics(&self) -> usize {
        lock(&self.hub.topics).len()
    }
}

/// A subscription's view of its topic's changes.
#[derive(Debug)]
pub struct Watch {
    rx: Option<watch::Receiver<u64>>,
    topic: Topic,
    hub: Arc<Hub>,
}

impl Watch {
    /// Waits for the next change (returns at once if one arrived since the last call).
    pub async fn changed(&mut self) {
        match self.rx.as_mut() {
            Some(rx) => {
                if rx.changed().await.is_err() {
                    // The sender lives in the hub's map while any receiver does.
                    std::future::pending::<()>().await;
                }
            }
            None => std::future::pending::<()>().await,
        }
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        drop(self.rx.take());
        let mut topics = lock(&self.hub.topics);
        if topics
            .get(&self.topic)
            .is_some_and(|tx| tx.receiver_count() == 0)
        {
            topics.remove(&self.topic);
        }
    }
}

/// Which subscription limit refused a subscription.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Limit {
    /// Too many on one connection.
    #[error("at most {0} subscriptions per connection")]
    PerConnection(usize),
    /// Too many for one account on this server.
    #[error("at most {0} subscriptions per account")]
    PerAccount(usize),
}

/// A WebSocket connection's count of open subscriptions.
#[derive(Debug, Default)]
pub struct ConnectionSlots {
    open: Mutex<usize>,
}

impl ConnectionSlots {
    /// Subscriptions open now.
    pub fn open(&self) -> usize {
        *lock(&self.open)
    }
}

/// One open subscription, counted until dropped.
#[derive(Debug)]
pub struct Slot {
    account: String,
    connection: Arc<ConnectionSlots>,
    hub: Arc<Hub>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut accounts = lock(&self.hub.accounts);
        match accounts.get_mut(&self.account) {
            Some(n) if *n > 1 => *n -= 1,
            _ => {
                accounts.remove(&self.account);
            }
        }
        let mut open = lock(&self.connection.open);
        *open = open.saturating_sub(1);
        self.hub.metrics.live_subscriptions(-1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topics_round_trip_and_garbage_is_ignored() {
        for topic in [
            Topic::Sales("e1".into()),
            Topic::CheckIns("l-2".into()),
            Topic::Order("0190-abc".into()),
        ] {
            assert_eq!(Topic::decode(&topic.encode()), Some(topic));
        }
        for bad in ["", "s:", "x:1", "s", "s:a b", "o:\n"] {
            assert_eq!(Topic::decode(bad), None, "{bad:?}");
        }
    }

    #[tokio::test]
    async fn signals_coalesce_and_unwatched_topics_are_forgotten() {
        let metrics = Metrics::new().unwrap_or_else(|e| panic!("{e}"));
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let url = format!("sqlite://{}", dir.path().join("t.db").display());
        let db = Db::connect(&url, 1).await.unwrap_or_else(|e| panic!("{e}"));
        let live = Live::new(&db, metrics, LiveLimits::default());
        let mut a = live.watch(Topic::Sales("e".into()));
        let mut b = live.watch(Topic::Sales("e".into()));
        assert_eq!(live.watched_topics(), 1);
        for _ in 0..5 {
            live.publish(Topic::Sales("e".into()));
        }
        live.publish(Topic::Sales("other".into()));
        tokio::time::timeout(std::time::Duration::from_secs(1), a.changed())
            .await
            .unwrap_or_else(|_| panic!("a was not woken"));
        // Five signals are one pending change: the second wait does not return.
        let again = tokio::time::timeout(std::time::Duration::from_millis(50), a.changed()).await;
        assert!(again.is_err(), "signals did not coalesce");
        tokio::time::timeout(std::time::Duration::from_secs(1), b.changed())
            .await
            .unwrap_or_else(|_| panic!("b was not woken"));
        drop(a);
        assert_eq!(live.watched_topics(), 1);
        drop(b);
        assert_eq!(live.watched_topics(), 0);
    }

    #[tokio::test]
    async fn slots_are_limited_per_connection_and_per_account() {
        let metrics = Metrics::new().unwrap_or_else(|e| panic!("{e}"));
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let url = format!("sqlite://{}", dir.path().join("t.db").display());
        let db = Db::connect(&url, 1).await.unwrap_or_else(|e| panic!("{e}"));
        let limits = LiveLimits {
            per_connection: 2,
            per_account: 3,
            ..LiveLimits::default()
        };
        let live = Live::new(&db, metrics, limits);
        let (c1, c2) = (Arc::default(), Arc::default());
        let s1 = live.admit(&c1, "u").unwrap_or_else(|e| panic!("{e}"));
        let _s2 = live.admit(&c1, "u").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(live.admit(&c1, "u").err(), Some(Limit::PerConnection(2)));
        let _s3 = live.admit(&c2, "u").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(live.admit(&c2, "u").err(), Some(Limit::PerAccount(3)));
        assert!(
            live.admit(&c2, "v").is_ok(),
            "another account has its own count"
        );
        drop(s1);
        assert_eq!(c1.open(), 1);
        assert!(live.admit(&c2, "u").is_ok(), "a dropped slot is given back");
    }
}
