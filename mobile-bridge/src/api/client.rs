//! The client: opening it on the app's data directory, the session, full sync, changes.

use flutter_rust_bridge::frb;

use crate::api::error::BridgeError;
use crate::api::records::{Account, ChangeEvent, SignUpForm, SyncSummary, TaskEvent};
use crate::convert;
use crate::feed;
use crate::frb_generated::StreamSink;

/// The embeddable client (opaque in Dart): session, offline catalog, booking and wallet.
#[frb(opaque)]
#[derive(Debug)]
pub struct GuichetClient {
    pub(crate) sdk: guichet_sdk::Client,
}

impl GuichetClient {
    /// Opens the client of `server_url` with its data in `data_dir` (the app's support
    /// directory); the session tokens are kept in a file there.
    pub async fn open(server_url: String, data_dir: String) -> Result<GuichetClient, BridgeError> {
        let sdk = guichet_sdk::Client::open(&server_url, data_dir)
            .await
            .map_err(convert::error)?;
        Ok(GuichetClient { sdk })
    }

    /// Creates an account and signs it in.
    pub async fn sign_up(&self, form: SignUpForm) -> Result<Account, BridgeError> {
        let account = self.sdk.sign_up(convert::sign_up(form)).await;
        account.map(convert::account).map_err(convert::error)
    }

    /// Signs in.
    pub async fn log_in(&self, email: String, password: String) -> Result<Account, BridgeError> {
        let account = self.sdk.log_in(&email, &password).await;
        account.map(convert::account).map_err(convert::error)
    }

    /// Signs out here and on the server.
    pub async fn log_out(&self) -> Result<(), BridgeError> {
        self.sdk.log_out().await.map_err(convert::error)
    }

    /// The signed-in account, if any (no network).
    pub async fn account(&self) -> Option<Account> {
        self.sdk.account().await.map(convert::account)
    }

    /// Catalog, pending operations and wallet in one go (pull to refresh).
    pub async fn sync(&self) -> Result<SyncSummary, BridgeError> {
        let report = self.sdk.sync().await;
        report.map(convert::sync_report).map_err(convert::error)
    }

    /// [`GuichetClient::sync`] as a stream of progress reports ending with its outcome.
    pub async fn sync_with_progress(&self, sink: StreamSink<TaskEvent>) {
        self.sync_with_progress_into(move |e| sink.add(e).is_ok())
            .await;
    }

    /// [`GuichetClient::sync_with_progress`] into any `emit` (false: stop).
    #[frb(ignore)]
    pub async fn sync_with_progress_into(
        &self,
        emit: impl Fn(TaskEvent) -> bool + Send + Sync + 'static,
    ) {
        feed::task(emit, |listener| self.sdk.sync_task(listener)).await;
    }

    /// Every change of local data, until the stream is cancelled.
    pub async fn changes(&self, sink: StreamSink<ChangeEvent>) {
        self.changes_into(move |e| sink.add(e).is_ok()).await;
    }

    /// [`GuichetClient::changes`] into any `emit` (false: stop).
    #[frb(ignore)]
    pub async fn changes_into(&self, emit: impl Fn(ChangeEvent) -> bool + Send + Sync + 'static) {
        feed::changes(emit, |listener| self.sdk.subscribe(listener)).await;
    }
}
