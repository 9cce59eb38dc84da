//! The session check of every authenticated request, as group reads.
//!
//! Every request with one of Guichet's access tokens must learn whether the token's session
//! is still live, so that a log-out, a password or role change or a revocation ends the
//! token on the very next request, on every replica. One primary-key read per request did
//! that at a measured cost of a third of PostgreSQL's hold throughput (README, "Identity and
//! sessions"): the read is cheap for the database, but each takes a pooled connection and a
//! round trip of its own.
//!
//! Here concurrent checks share one read: requests queue, and one query answers a whole
//! batch (`id = ANY(…)` on PostgreSQL, `json_each` on SQLite). [`READERS`] reads may be in
//! flight at once; each takes the checks queued when it begins, and requests that arrive
//! while it runs wait for another. That rule keeps the guarantee exact rather than "soon":
//! every read that answers a request *starts after the request arrived*, so a session ended
//! by a transaction that committed before the request arrived (on any replica) is seen as
//! ended. A cache — even one invalidated over
//! LISTEN/NOTIFY — cannot promise that across replicas: the notification reaches the other
//! replica some time after the commit, and a token used there in that window would pass.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::sync::{mpsc, oneshot};

use crate::db::{Db, StoreError};

/// Most sessions read by one query.
pub const MAX_BATCH: usize = 256;

/// Reads in flight at once, each for the checks queued when it began.
pub const READERS: usize = 4;

type Reply = oneshot::Sender<Result<bool, StoreError>>;

/// One waiting check.
#[derive(Debug)]
struct Check {
    session: String,
    user: String,
    reply: Reply,
}

/// The session check of one server process.
#[derive(Debug)]
pub struct SessionCheck {
    db: Db,
    grouped: bool,
    queue: std::sync::OnceLock<mpsc::UnboundedSender<Check>>,
    counts: Arc<Counts>,
}

/// How many checks were answered, by how many reads.
#[derive(Debug, Default)]
struct Counts {
    checks: AtomicU64,
    reads: AtomicU64,
}

/// Checks answered and reads made since the process started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionCheckStats {
    /// Session checks answered (live or not).
    pub checks: u64,
    /// Database reads that answered them.
    pub reads: u64,
}

impl SessionCheck {
    /// A check over `db`; its reader task starts with the first check. Without `grouped`,
    /// each check is its own read, as it comes.
    pub fn new(db: Db, grouped: bool) -> SessionCheck {
        SessionCheck {
            db,
            grouped,
            queue: std::sync::OnceLock::new(),
            counts: Arc::default(),
        }
    }

    /// Checks answered and reads made so far.
    pub fn stats(&self) -> SessionCheckStats {
        SessionCheckStats {
            checks: self.counts.checks.load(Ordering::Relaxed),
            reads: self.counts.reads.load(Ordering::Relaxed),
        }
    }

    /// Whether the session `session` of `user` is live now: not ended and not past its
    /// absolute lifetime, read after this call began.
    pub async fn alive(&self, session: &str, user: &str) -> Result<bool, StoreError> {
        if !self.grouped {
            self.counts.reads.fetch_add(1, Ordering::Relaxed);
            self.counts.checks.fetch_add(1, Ordering::Relaxed);
            return self.db.session_alive(session, user, crate::db::now()).await;
        }
        let queue = self.queue.get_or_init(|| {
            let (tx, rx) = mpsc::unbounded_channel();
            let rx = Arc::new(tokio::sync::Mutex::new(rx));
            for _ in 0..READERS {
                tokio::spawn(reader(self.db.clone(), rx.clone(), self.counts.clone()));
            }
            tx
        });
        let (reply, answer) = oneshot::channel();
        let check = Check {
            session: session.to_owned(),
            user: user.to_owned(),
            reply,
        };
        if queue.send(check).is_err() {
            return Err(StoreError::Conflict("the session reader has stopped"));
        }
        answer
            .await
            .map_err(|_| StoreError::Conflict("the session reader has stopped"))?
    }
}

/// Answers queued checks a batch at a time, one of [`READERS`] such tasks sharing the queue.
/// `recv_many` takes only what was queued before the batch's read starts: whoever arrives
/// during the read waits for another.
async fn reader(
    db: Db,
    queue: Arc<tokio::sync::Mutex<mpsc::UnboundedReceiver<Check>>>,
    counts: Arc<Counts>,
) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    loop {
        let taken = queue.lock().await.recv_many(&mut batch, MAX_BATCH).await;
        if taken == 0 {
            break;
        }
        let mut checks = std::mem::take(&mut batch);
        let now = crate::db::now();
        counts.reads.fetch_add(1, Ordering::Relaxed);
        counts.checks.fetch_add(
            checks.len().try_into().unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
        if checks.len() == 1
            && let Some(check) = checks.pop()
        {
            let alive = db.session_alive(&check.session, &check.user, now).await;
            let _ = check.reply.send(alive);
            continue;
        }
        let mut ids: Vec<&str> = checks.iter().map(|c| c.session.as_str()).collect();
        ids.sort_unstable();
        ids.dedup();
        match db.live_sessions(&ids, now).await {
            Ok(live) => {
                let owners: HashMap<String, String> = live.into_iter().collect();
                for check in checks {
                    let alive = owners.get(&check.session) == Some(&check.user);
                    let _ = check.reply.send(Ok(alive));
                }
            }
            Err(e) => {
                // Refused, never trusted: the caller logs and answers UNAUTHENTICATED.
                tracing::error!(error = %e, size = checks.len(), "session batch read failed");
                for check in checks {
                    let _ = check
                        .reply
                        .send(Err(StoreError::Conflict("the session read failed")));
                }
            }
        }
    }
}
