//! PostgreSQL fan-out: `pg_notify` out, `LISTEN` in, across every replica on one database.
//!
//! Publishing never waits: topics go into a set that a publisher task empties into as few
//! `pg_notify` calls as fit (8000-byte payloads), so a burst of holds on one event is one
//! notification, and a failed call is retried with back-off without losing its topics.
//! Each replica holds one listening connection (`application_name = guichet_live`, its own
//! one-connection pool). When it breaks, the listener reconnects with back-off (100 ms
//! doubling to 10 s) and then wakes every local subscriber, because notifications sent while
//! it was away are gone: they re-read, and send a frame if what they see changed.

use std::collections::HashSet;
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::Duration;

use sqlx::PgPool;
use sqlx::postgres::{PgListener, PgPoolOptions};
use tokio::sync::Notify;

use super::{CHANNEL, Hub, Topic, lock};

/// PostgreSQL's notification payload limit is 8000 bytes; stay under it.
const MAX_PAYLOAD: usize = 7_900;
/// First wait after a failure; doubles up to [`MAX_BACKOFF`].
const MIN_BACKOFF: Duration = Duration::from_millis(100);
/// Longest wait between attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(10);

/// One replica's PostgreSQL route.
#[derive(Debug)]
pub(super) struct Fanout {
    shared: Arc<Shared>,
    hub: Weak<Hub>,
    publisher: OnceLock<()>,
    listener: OnceLock<()>,
}

#[derive(Debug)]
struct Shared {
    pool: PgPool,
    pending: Mutex<HashSet<Topic>>,
    wake: Arc<Notify>,
}

impl Fanout {
    pub(super) fn new(pool: PgPool, hub: Weak<Hub>) -> Fanout {
        Fanout {
            shared: Arc::new(Shared {
                pool,
                pending: Mutex::default(),
                wake: Arc::new(Notify::new()),
            }),
            hub,
            publisher: OnceLock::new(),
            listener: OnceLock::new(),
        }
    }

    /// Queues `topic` for the next notification.
    pub(super) fn publish(&self, topic: Topic) {
        self.publisher.get_or_init(|| {
            tokio::spawn(publish_loop(Arc::downgrade(&self.shared)));
        });
        lock(&self.shared.pending).insert(topic);
        self.shared.wake.notify_one();
    }

    /// Starts this replica's listener, once.
    pub(super) fn ensure_listening(&self) {
        self.listener.get_or_init(|| {
            let mut options = (*self.shared.pool.connect_options()).clone();
            options = options.application_name(CHANNEL);
            let pool = PgPoolOptions::new()
                .max_connections(1)
                .min_connections(0)
                .max_lifetime(None)
                .idle_timeout(None)
                .connect_lazy_with(options);
            tokio::spawn(listen_loop(pool, self.hub.clone()));
        });
    }
}

/// Empties the pending set into `pg_notify` calls until the fan-out is dropped.
async fn publish_loop(shared: Weak<Shared>) {
    let mut backoff = MIN_BACKOFF;
    loop {
        let Some(shared) = shared.upgrade() else {
            return;
        };
        let batch: Vec<Topic> = lock(&shared.pending).drain().collect();
        if batch.is_empty() {
            let wake = shared.wake.clone();
            drop(shared);
            wake.notified().await;
            continue;
        }
        match send(&shared.pool, &batch).await {
            Ok(()) => backoff = MIN_BACKOFF,
            Err(e) => {
                tracing::warn!(error = %e, topics = batch.len(), "live: pg_notify failed; retrying");
                lock(&shared.pending).extend(batch);
                drop(shared);
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        }
    }
}

/// Sends the topics as space-separated payloads of at most [`MAX_PAYLOAD`] bytes.
async fn send(pool: &PgPool, topics: &[Topic]) -> Result<(), sqlx::Error> {
    for payload in payloads(topics) {
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(CHANNEL)
            .bind(payload)
            .execute(pool)
            .await?;
    }
    Ok(())
}

fn payloads(topics: &[Topic]) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    for topic in topics {
        let text = topic.encode();
        if !current.is_empty() && current.len() + 1 + text.len() > MAX_PAYLOAD {
            out.push(std::mem::take(&mut current));
        }
        if !current.is_empty() {
            current.push(' ');
        }
        current.push_str(&text);
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

/// Listens until the hub is dropped, reconnecting with back-off.
async fn listen_loop(pool: PgPool, hub: Weak<Hub>) {
    let mut backoff = MIN_BACKOFF;
    loop {
        if hub.strong_count() == 0 {
            return;
        }
        let listener = async {
            let mut listener = PgListener::connect_with(&pool).await?;
            // Reconnections happen here, where they are seen, not inside try_recv.
            listener.eager_reconnect(false);
            listener.listen(CHANNEL).await?;
            Ok::<_, sqlx::Error>(listener)
        };
        let mut listener = match listener.await {
            Ok(listener) => listener,
            Err(e) => {
                tracing::warn!(error = %e, ?backoff, "live: LISTEN failed; retrying");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(MAX_BACKOFF);
                continue;
            }
        };
        backoff = MIN_BACKOFF;
        // Whatever was published while no connection listened is lost: re-read all.
        match hub.upgrade() {
            Some(hub) => hub.signal_all(),
            None => return,
        }
        loop {
            match listener.try_recv().await {
                Ok(Some(notification)) => {
                    let Some(hub) = hub.upgrade() else {
                        return;
                    };
                    for text in notification.payload().split(' ') {
                        if let Some(topic) = Topic::decode(text) {
                            hub.signal(&topic);
                        }
                    }
                }
                Ok(None) => {
                    tracing::warn!("live: the listening connection was lost; reconnecting");
                    break;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "live: the listening connection failed; reconnecting");
                    break;
                }
            }
        }
        drop(listener);
        tokio::time::sleep(backoff).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_stay_under_the_limit_and_keep_every_topic() {
        let topics: Vec<Topic> = (0..1000)
            .map(|i| Topic::Sales(format!("{i:036}")))
            .collect();
        let payloads = payloads(&topics);
        assert!(payloads.len() > 1);
        assert!(payloads.iter().all(|p| p.len() <= MAX_PAYLOAD));
        let back: Vec<Topic> = payloads
            .iter()
            .flat_map(|p| p.split(' ').map(Topic::decode))
            .map(|t| t.unwrap_or_else(|| panic!("undecodable")))
            .collect();
        assert_eq!(back, topics);
    }
}
