//! Progress and change notifications: the one shape every binding reuses.
//!
//! A host passes a listener (a trait object: a uniffi callback interface, a Dart stream
//! sink, a Tauri event emitter) and gets a [`TaskHandle`] back. Long work (a sync, resuming
//! pending operations) reports [`Progress`] and then its [`Outcome`] to a
//! [`ProgressListener`]; [`Client::subscribe`](crate::Client::subscribe) reports every
//! [`Change`] of local data to a [`ChangeListener`]. `cancel()` (or dropping the handle)
//! stops the work at its next await point, or ends the subscription. Work stopped that way
//! leaves the store consistent: each store write is one transaction, and syncs resume from
//! their last saved cursor.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use crate::{BoundaryError, Error};

/// Which long-running task a progress report is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Task {
    /// Everything [`Client::sync`](crate::Client::sync) runs.
    Sync,
    /// Pulling the account's orders and tickets into the wallet.
    WalletSync,
    /// Re-sending persisted operations that have no answer yet.
    ResumePending,
    /// Pulling the public catalog's changes.
    CatalogSync,
    /// A door's background sync (push scans, pull changes), one unit per round.
    DoorSync,
}

/// How far a task has got.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Progress {
    /// The task.
    pub task: Task,
    /// Units done so far (tickets, operations, events).
    pub done: u64,
    /// Units in all, when known.
    pub total: Option<u64>,
}

/// How a task ended.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// It finished.
    Completed,
    /// It was cancelled through its handle.
    Cancelled,
    /// It failed, with the error as the flat shape every shell hands its host.
    Failed(BoundaryError),
}

impl Outcome {
    /// The outcome of a task's result.
    pub fn of(result: &Result<(), Error>) -> Outcome {
        match result {
            Ok(()) => Outcome::Completed,
            Err(error) => Outcome::Failed(error.to_boundary()),
        }
    }
}

/// Receives a task's progress and, once, its outcome. Called from the SDK's tasks: keep it
/// quick (post to the UI thread) and never block.
pub trait ProgressListener: Send + Sync {
    /// More work was done.
    fn on_progress(&self, progress: Progress);
    /// The task ended; nothing follows.
    fn on_finished(&self, task: Task, outcome: Outcome);
}

/// What changed in the local data.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Change {
    /// Signed in, signed out, or the session ended.
    Session,
    /// The wallet's tickets changed.
    Wallet,
    /// A hold was created or changed.
    Hold {
        /// The hold.
        id: String,
    },
    /// An order was placed or changed.
    Order {
        /// The order.
        id: String,
    },
    /// The pending-operations queue changed.
    Operations,
    /// The cached catalog changed.
    Catalog,
}

/// Receives changes of local data.
pub trait ChangeListener: Send + Sync {
    /// Something changed; read it back through the client.
    fn on_change(&self, change: Change);
}

/// Controls a running task or a subscription. Dropping it cancels, like `cancel()`.
pub struct TaskHandle {
    cancel: Mutex<Option<Box<dyn FnOnce() + Send>>>,
    finished: Arc<AtomicBool>,
}

impl std::fmt::Debug for TaskHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TaskHandle")
            .field("finished", &self.is_finished())
            .finish_non_exhaustive()
    }
}

impl TaskHandle {
    /// A handle that runs `cancel` once, on `cancel()` or drop.
    pub(crate) fn new(cancel: impl FnOnce() + Send + 'static, finished: Arc<AtomicBool>) -> Self {
        TaskHandle {
            cancel: Mutex::new(Some(Box::new(cancel))),
            finished,
        }
    }

    /// Stops the task (or ends the subscription). Idempotent.
    pub fn cancel(&self) {
        let cancel = match self.cancel.lock() {
            Ok(mut guard) => guard.take(),
            Err(poisoned) => poisoned.into_inner().take(),
        };
        if let Some(cancel) = cancel {
            cancel();
        }
    }

    /// Whether the task has ended (or the subscription was cancelled); when true, the
    /// listener has already received the outcome.
    pub fn is_finished(&self) -> bool {
        self.finished.load(Ordering::Acquire)
    }
}

impl Drop for TaskHandle {
    fn drop(&mut self) {
        self.cancel();
    }
}

/// Runs `work` on `runtime` as a task reporting to `listener`, and returns its handle.
/// Callable from any thread, inside a runtime or not. Cancelling aborts the future at its
/// next await point and reports [`Outcome::Cancelled`].
pub(crate) fn spawn_task<F>(
    runtime: &tokio::runtime::Handle,
    task: Task,
    listener: Arc<dyn ProgressListener>,
    work: F,
) -> TaskHandle
where
    F: std::future::Future<Output = Result<(), Error>> + Send + 'static,
{
    spawn_until_end(runtime, work, move |result| {
        let outcome = result.map_or(Outcome::Cancelled, |r| Outcome::of(&r));
        listener.on_finished(task, outcome);
    })
}

/// Runs `work` on `runtime` and calls `end` exactly once: with its output when it ran to
/// the end, with `None` when the handle cancelled it first. `end` runs before
/// `is_finished` turns true, so once it is true the host has been told. The one mechanism
/// under tasks with progress and live feeds.
pub(crate) fn spawn_until_end<T, F, E>(
    runtime: &tokio::runtime::Handle,
    work: F,
    end: E,
) -> TaskHandle
where
    T: Send + 'static,
    F: std::future::Future<Output = T> + Send + 'static,
    E: Fn(Option<T>) + Send + Sync + 'static,
{
    let end = Arc::new(end);
    let finished = Arc::new(AtomicBool::new(false));
    let reported = Arc::new(AtomicBool::new(false));
    let (done, report, to_end) = (finished.clone(), reported.clone(), end.clone());
    let join = runtime.spawn(async move {
        let output = work.await;
        if !report.swap(true, Ordering::AcqRel) {
            to_end(Some(output));
            done.store(true, Ordering::Release);
        }
    });
    let abort = join.abort_handle();
    let done = finished.clone();
    TaskHandle::new(
        move || {
            abort.abort();
            if !reported.swap(true, Ordering::AcqRel) {
                end(None);
                done.store(true, Ordering::Release);
            }
        },
        finished,
    )
}

/// The client's change listeners.
#[derive(Default)]
pub(crate) struct Listeners {
    next: AtomicU64,
    listeners: Mutex<Vec<(u64, Arc<dyn ChangeListener>)>>,
}

impl std::fmt::Debug for Listeners {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Listeners").finish_non_exhaustive()
    }
}

impl Listeners {
    /// Adds a listener; the handle removes it.
    pub fn add(self: &Arc<Self>, listener: Arc<dyn ChangeListener>) -> TaskHandle {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        self.lock().push((id, listener));
        let finished = Arc::new(AtomicBool::new(false));
        let (me, done) = (Arc::downgrade(self), finished.clone());
        TaskHandle::new(
            move || {
                if let Some(me) = me.upgrade() {
                    me.lock().retain(|(other, _)| *other != id);
                }
                done.store(true, Ordering::Release);
            },
            finished,
        )
    }

    /// Tells every listener (outside the lock, so a listener may subscribe or cancel).
    pub fn emit(&self, change: Change) {
        let listeners: Vec<Arc<dyn ChangeListener>> =
            self.lock().iter().map(|(_, l)| l.clone()).collect();
        for listener in listeners {
            listener.on_change(change.clone());
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<(u64, Arc<dyn ChangeListener>)>> {
        match self.listeners.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[derive(Default)]
    struct Log(Mutex<Vec<String>>);

    impl ProgressListener for Log {
        fn on_progress(&self, progress: Progress) {
            self.0.lock().unwrap().push(format!("{}", progress.done));
        }
        fn on_finished(&self, _: Task, outcome: Outcome) {
            self.0.lock().unwrap().push(format!("{outcome:?}"));
        }
    }

    impl ChangeListener for Log {
        fn on_change(&self, change: Change) {
            self.0.lock().unwrap().push(format!("{change:?}"));
        }
    }

    #[tokio::test]
    async fn a_task_reports_its_outcome_once_and_cancel_stops_it() {
        let log = Arc::new(Log::default());
        let handle = spawn_task(
            &tokio::runtime::Handle::current(),
            Task::WalletSync,
            log.clone(),
            async { Ok(()) },
        );
        tokio::time::timeout(std::time::Duration::from_secs(30), async {
            while !handle.is_finished() {
                tokio::task::yield_now().await;
            }
        })
        .await
        .unwrap();
        handle.cancel();
        assert_eq!(*log.0.lock().unwrap(), vec!["Completed".to_owned()]);

        let log = Arc::new(Log::default());
        let handle = spawn_task(
            &tokio::runtime::Handle::current(),
            Task::WalletSync,
            log.clone(),
            async {
                std::future::pending::<()>().await;
                Ok(())
            },
        );
        assert!(!handle.is_finished());
        drop(handle);
        assert_eq!(*log.0.lock().unwrap(), vec!["Cancelled".to_owned()]);
    }

    #[test]
    fn outcomes_and_progress_cross_a_boundary_as_plain_json() {
        let failed = Outcome::of(&Err(Error::NotSignedIn));
        let json = serde_json::to_value(&failed).unwrap();
        assert_eq!(
            json,
            serde_json::json!({ "failed": { "kind": "NOT_SIGNED_IN", "message": "sign in first" } })
        );
        assert_eq!(serde_json::from_value::<Outcome>(json).unwrap(), failed);
        let progress = Progress {
            task: Task::DoorSync,
            done: 3,
            total: None,
        };
        assert_eq!(
            serde_json::to_value(&progress).unwrap(),
            serde_json::json!({ "task": "door_sync", "done": 3, "total": null })
        );
    }

    #[test]
    fn cancelling_a_subscription_stops_its_notifications() {
        let listeners = Arc::new(Listeners::default());
        let (a, b) = (Arc::new(Log::default()), Arc::new(Log::default()));
        let first = listeners.add(a.clone());
        let _second = listeners.add(b.clone());
        listeners.emit(Change::Wallet);
        first.cancel();
        assert!(first.is_finished());
        listeners.emit(Change::Operations);
        assert_eq!(a.0.lock().unwrap().len(), 1);
        assert_eq!(b.0.lock().unwrap().len(), 2);
    }
}
