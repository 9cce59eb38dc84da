//! One call for "come online" and pull-to-refresh: every sync the client knows, in order.

use std::sync::Arc;

use super::Client;
use crate::Error;
use crate::booking::PendingOperation;
use crate::catalog::CatalogSync;
use crate::notify::{Progress, ProgressListener, Task, TaskHandle, spawn_task};
use crate::wallet::WalletSync;

/// What [`Client::sync`] did.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct SyncReport {
    /// The offline catalog's refresh.
    pub catalog: CatalogSync,
    /// The pending operations re-sent, as they stand afterwards.
    pub resumed: Vec<PendingOperation>,
    /// The wallet's refresh.
    pub wallet: WalletSync,
}

impl Client {
    /// Refreshes the offline catalog, re-sends pending operations (so their results are in
    /// what follows), then refreshes the wallet. Needs a signed-in account for the last two
    /// steps (`NOT_SIGNED_IN` after the catalog otherwise).
    pub async fn sync(&self) -> Result<SyncReport, Error> {
        self.sync_reporting(None).await
    }

    /// [`Client::sync`] as a cancellable task reporting to `listener` (one unit per step).
    pub fn sync_task(&self, listener: Arc<dyn ProgressListener>) -> TaskHandle {
        let client = self.clone();
        let reporter = listener.clone();
        spawn_task(self.runtime(), Task::Sync, listener, async move {
            client.sync_reporting(Some(reporter)).await.map(|_| ())
        })
    }

    async fn sync_reporting(
        &self,
        listener: Option<Arc<dyn ProgressListener>>,
    ) -> Result<SyncReport, Error> {
        let report = |done: u64| {
            if let Some(listener) = &listener {
                listener.on_progress(Progress {
                    task: Task::Sync,
                    done,
                    total: Some(3),
                });
            }
        };
        let catalog = self.catalog().sync().await?;
        report(1);
        let resumed = self.booking().resume_pending().await?;
        report(2);
        let wallet = self.wallet().sync().await?;
        report(3);
        Ok(SyncReport {
            catalog,
            resumed,
            wallet,
        })
    }
}
