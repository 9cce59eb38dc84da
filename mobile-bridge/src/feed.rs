//! The SDK's listeners forwarded to a Dart `Stream` (any `emit` function in tests).
//!
//! The SDK's shape is a listener plus a [`TaskHandle`] that cancels when dropped. A bridge
//! function holds the handle while it waits for the end: the task's outcome, or the Dart
//! side no longer listening (`emit` returns false), which drops the handle and so cancels.

use std::sync::{Arc, Mutex};

use guichet_sdk::booking::Order;
use guichet_sdk::live::{LivePhase, LiveState, OrderListener};
use guichet_sdk::notify::{
    Change, ChangeListener, Outcome, Progress, ProgressListener, Task, TaskHandle,
};
use tokio::sync::oneshot;

use crate::api::records::{ChangeEvent, OrderUpdate, TaskEvent};
use crate::convert;

/// Fires once: the first of the task's end and the stream's closing.
#[derive(Debug)]
struct End(Mutex<Option<oneshot::Sender<()>>>);

impl End {
    fn new() -> (Arc<End>, oneshot::Receiver<()>) {
        let (tx, rx) = oneshot::channel();
        (Arc::new(End(Mutex::new(Some(tx)))), rx)
    }

    fn fire(&self) {
        let sender = match self.0.lock() {
            Ok(mut guard) => guard.take(),
            Err(poisoned) => poisoned.into_inner().take(),
        };
        if let Some(sender) = sender {
            let _ = sender.send(());
        }
    }
}

struct Reports<F> {
    emit: F,
    end: Arc<End>,
}

impl<F: Fn(TaskEvent) -> bool + Send + Sync> ProgressListener for Reports<F> {
    fn on_progress(&self, progress: Progress) {
        if !(self.emit)(convert::progress(progress)) {
            self.end.fire();
        }
    }

    fn on_finished(&self, task: Task, outcome: Outcome) {
        (self.emit)(convert::finished(task, outcome));
        self.end.fire();
    }
}

struct Changes<F> {
    emit: F,
    end: Arc<End>,
}

impl<F: Fn(ChangeEvent) -> bool + Send + Sync> ChangeListener for Changes<F> {
    fn on_change(&self, change: Change) {
        if !(self.emit)(convert::change(change)) {
            self.end.fire();
        }
    }
}

/// Runs the task `start` begins, emitting its progress then its outcome, until it ends or
/// nobody listens any more.
pub async fn task<F>(emit: F, start: impl FnOnce(Arc<dyn ProgressListener>) -> TaskHandle)
where
    F: Fn(TaskEvent) -> bool + Send + Sync + 'static,
{
    let (end, ended) = End::new();
    let handle = start(Arc::new(Reports { emit, end }));
    let _ = ended.await;
    drop(handle);
}

/// Emits every change of local data until nobody listens any more.
pub async fn changes<F>(emit: F, start: impl FnOnce(Arc<dyn ChangeListener>) -> TaskHandle)
where
    F: Fn(ChangeEvent) -> bool + Send + Sync + 'static,
{
    let (end, ended) = End::new();
    let handle = start(Arc::new(Changes { emit, end }));
    let _ = ended.await;
    drop(handle);
}

struct Orders<F> {
    emit: F,
    end: Arc<End>,
}

impl<F: Fn(OrderUpdate) -> bool + Send + Sync> OrderListener for Orders<F> {
    fn on_order(&self, order: Order) {
        if !(self.emit)(convert::order_frame(order)) {
            self.end.fire();
        }
    }

    fn on_state(&self, state: LiveState) {
        let ended = state.phase == LivePhase::Ended;
        if !(self.emit)(convert::live_state(state)) || ended {
            self.end.fire();
        }
    }
}

/// Emits an order's frames and connection states until the feed ends or nobody listens.
pub async fn order<F>(emit: F, start: impl FnOnce(Arc<dyn OrderListener>) -> TaskHandle)
where
    F: Fn(OrderUpdate) -> bool + Send + Sync + 'static,
{
    let (end, ended) = End::new();
    let handle = start(Arc::new(Orders { emit, end }));
    let _ = ended.await;
    drop(handle);
}
