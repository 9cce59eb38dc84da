//! What a host implements (listeners, its secure storage) and the task handle it keeps.

use std::sync::Arc;

use guichet_sdk::SecretStoreError;
use guichet_sdk::booking::Order;
use guichet_sdk::live::{self, CheckInsUpdate, LiveState, SalesUpdate};
use guichet_sdk::notify::{self, Change, Outcome, Progress, Task};
use guichet_sdk::session::oidc::{self, OpenError};

use crate::GuichetError;

/// Receives a task's progress and, once, its outcome. Called from the SDK's threads: post
/// to the UI thread and return.
#[uniffi::export(callback_interface)]
pub trait ProgressListener: Send + Sync {
    /// More work was done.
    fn on_progress(&self, progress: Progress);
    /// The task ended; nothing follows.
    fn on_finished(&self, task: Task, outcome: Outcome);
}

/// Receives changes of local data (read them back through the client).
#[uniffi::export(callback_interface)]
pub trait ChangeListener: Send + Sync {
    /// Something changed.
    fn on_change(&self, change: Change);
}

/// Receives an event's sales, live (see `Organizer.watch_sales`).
#[uniffi::export(callback_interface)]
pub trait SalesListener: Send + Sync {
    /// The sales now: first as they stand, then after every change.
    fn on_sales(&self, update: SalesUpdate);
    /// The connection's state changed (connecting, live, reconnecting, ended).
    fn on_state(&self, state: LiveState);
}

/// Receives a check-in list's counts and duplicate-entry alerts, live.
#[uniffi::export(callback_interface)]
pub trait CheckInsListener: Send + Sync {
    /// The counts now and the alerts since the previous update.
    fn on_check_ins(&self, update: CheckInsUpdate);
    /// The connection's state changed.
    fn on_state(&self, state: LiveState);
}

/// Receives one of the account's orders as the checkout saga moves it.
#[uniffi::export(callback_interface)]
pub trait OrderListener: Send + Sync {
    /// The order now.
    fn on_order(&self, order: Order);
    /// The connection's state changed.
    fn on_state(&self, state: LiveState);
}

/// Opens a URL in the system browser, for single sign-on on a desktop.
#[uniffi::export(callback_interface)]
pub trait BrowserOpener: Send + Sync {
    /// Opens `url`; an error ends the sign-in.
    fn open(&self, url: String) -> Result<(), GuichetError>;
}

/// The host's secure storage (Keychain, Android Keystore...) for the session tokens.
#[uniffi::export(callback_interface)]
pub trait SecretStore: Send + Sync {
    /// The secret under `key`, if any.
    fn load(&self, key: String) -> Result<Option<String>, GuichetError>;
    /// Stores `value` under `key` durably, replacing what was there.
    fn save(&self, key: String, value: String) -> Result<(), GuichetError>;
    /// Forgets `key` (no error if absent).
    fn delete(&self, key: String) -> Result<(), GuichetError>;
}

/// Controls a running task or a subscription; dropping it cancels, like `cancel()`.
#[derive(Debug, uniffi::Object)]
pub struct TaskHandle(notify::TaskHandle);

#[uniffi::export]
impl TaskHandle {
    /// Stops the task (or ends the subscription). Idempotent.
    pub fn cancel(&self) {
        self.0.cancel();
    }

    /// Whether the task has ended; when true, the listener has had the outcome.
    pub fn is_finished(&self) -> bool {
        self.0.is_finished()
    }
}

/// Wraps the SDK's handle for the host.
pub(crate) fn task(handle: notify::TaskHandle) -> Arc<TaskHandle> {
    Arc::new(TaskHandle(handle))
}

pub(crate) struct Progressing(pub(crate) Box<dyn ProgressListener>);

impl notify::ProgressListener for Progressing {
    fn on_progress(&self, progress: Progress) {
        self.0.on_progress(progress);
    }
    fn on_finished(&self, task: Task, outcome: Outcome) {
        self.0.on_finished(task, outcome);
    }
}

pub(crate) struct Changing(pub(crate) Box<dyn ChangeListener>);

impl notify::ChangeListener for Changing {
    fn on_change(&self, change: Change) {
        self.0.on_change(change);
    }
}

pub(crate) struct HostSecrets(pub(crate) Box<dyn SecretStore>);

impl std::fmt::Debug for HostSecrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("HostSecrets")
    }
}

impl guichet_sdk::session::SecretStore for HostSecrets {
    fn load(&self, key: &str) -> Result<Option<String>, SecretStoreError> {
        self.0
            .load(key.to_owned())
            .map_err(|e| SecretStoreError(e.to_string()))
    }
    fn save(&self, key: &str, value: &str) -> Result<(), SecretStoreError> {
        let saved = self.0.save(key.to_owned(), value.to_owned());
        saved.map_err(|e| SecretStoreError(e.to_string()))
    }
    fn delete(&self, key: &str) -> Result<(), SecretStoreError> {
        self.0
            .delete(key.to_owned())
            .map_err(|e| SecretStoreError(e.to_string()))
    }
}

/// Boxes a host's progress listener for the SDK.
pub(crate) fn progress(listener: Box<dyn ProgressListener>) -> Arc<dyn notify::ProgressListener> {
    Arc::new(Progressing(listener))
}

pub(crate) struct Sales(pub(crate) Box<dyn SalesListener>);

impl live::SalesListener for Sales {
    fn on_sales(&self, update: SalesUpdate) {
        self.0.on_sales(update);
    }
    fn on_state(&self, state: LiveState) {
        self.0.on_state(state);
    }
}

pub(crate) struct CheckIns(pub(crate) Box<dyn CheckInsListener>);

impl live::CheckInsListener for CheckIns {
    fn on_check_ins(&self, update: CheckInsUpdate) {
        self.0.on_check_ins(update);
    }
    fn on_state(&self, state: LiveState) {
        self.0.on_state(state);
    }
}

pub(crate) struct Orders(pub(crate) Box<dyn OrderListener>);

impl live::OrderListener for Orders {
    fn on_order(&self, order: Order) {
        self.0.on_order(order);
    }
    fn on_state(&self, state: LiveState) {
        self.0.on_state(state);
    }
}

pub(crate) struct Opener(pub(crate) Box<dyn BrowserOpener>);

impl oidc::BrowserOpener for Opener {
    fn open(&self, url: &str) -> Result<(), OpenError> {
        self.0
            .open(url.to_owned())
            .map_err(|e| OpenError(e.to_string()))
    }
}
