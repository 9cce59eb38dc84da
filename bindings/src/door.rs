//! The door scanner: pair with an organizer's code, open (paired or offline), scan, sync.

use std::sync::Arc;
use std::time::Duration;

use guichet_sdk::scanner::{
    Direction, DoorBuilder, DoorStatus, DoorSyncReport, OfflineDoorConfig, ScanResult,
};

use crate::Result;
use crate::listeners::{HostSecrets, ProgressListener, SecretStore, TaskHandle, progress, task};

// The SDK declares the domain's `Direction` for uniffi; this crate uses that declaration.
uniffi::use_remote_type!(guichet_sdk::Direction);

/// The snapshot's tickets and how many of them are revoked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Record)]
pub struct TicketCounts {
    /// Tickets the door knows.
    pub tickets: i64,
    /// Of which revoked (refunded, cancelled).
    pub revoked: i64,
}

fn builder(
    server_url: &str,
    data_dir: &str,
    gate: &str,
    secrets: Option<Box<dyn SecretStore>>,
) -> DoorBuilder {
    let builder = guichet_sdk::scanner::Door::builder(server_url, data_dir, gate);
    match secrets {
        Some(secrets) => builder.secret_store(Arc::new(HostSecrets(secrets))),
        None => builder,
    }
}

/// Redeems an organizer's one-time pairing code, pulls the event's tickets and opens the
/// door at `gate`; `secrets` keeps the device token (by default: a file in `data_dir`).
#[uniffi::export(async_runtime = "tokio")]
pub async fn pair_door(
    server_url: String,
    data_dir: String,
    gate: String,
    code: String,
    device_name: String,
    secrets: Option<Box<dyn SecretStore>>,
) -> Result<Arc<Door>> {
    let paired = builder(&server_url, &data_dir, &gate, secrets).pair(&code, &device_name);
    Ok(Arc::new(Door(paired.await?)))
}

/// Opens a door paired before (`NOT_PAIRED` if none was), standing at `gate`.
#[uniffi::export(async_runtime = "tokio")]
pub async fn open_door(
    server_url: String,
    data_dir: String,
    gate: String,
    secrets: Option<Box<dyn SecretStore>>,
) -> Result<Arc<Door>> {
    let opened = builder(&server_url, &data_dir, &gate, secrets).open();
    Ok(Arc::new(Door(opened.await?)))
}

/// Opens a door with no server on an exported event configuration (or the one stored by
/// an earlier open): every decision is local; `sync` answers `NOT_PAIRED`.
#[uniffi::export(async_runtime = "tokio")]
pub async fn open_offline_door(config: OfflineDoorConfig) -> Result<Arc<Door>> {
    let door = guichet_sdk::scanner::Door::open_offline(config).await?;
    Ok(Arc::new(Door(door)))
}

/// A door scanner: decides online when the server answers in time, offline otherwise, and
/// commits every scan before returning its decision. Usable from any thread.
#[derive(Debug, uniffi::Object)]
pub struct Door(guichet_sdk::scanner::Door);

#[uniffi::export(async_runtime = "tokio")]
impl Door {
    /// Decides on a credential's text (a QR code's content) now.
    pub async fn scan(&self, text: String, direction: Direction) -> Result<ScanResult> {
        Ok(ScanResult::from(&self.0.scan(&text, direction).await?))
    }

    /// [`Door::scan`] at a device time (Unix milliseconds).
    pub async fn scan_at(
        &self,
        text: String,
        direction: Direction,
        device_time_ms: i64,
    ) -> Result<ScanResult> {
        let scan = self.0.scan_at(&text, direction, device_time_ms).await?;
        Ok(ScanResult::from(&scan))
    }

    /// Pushes the scans the server lacks, then pulls tickets, revocations and other doors'
    /// scans.
    pub async fn sync(&self) -> Result<DoorSyncReport> {
        Ok(self.0.sync().await?)
    }

    /// Syncs now and then every `every`, one unit of progress per sync, until the handle
    /// is cancelled or dropped.
    pub fn watch(&self, every: Duration, listener: Box<dyn ProgressListener>) -> Arc<TaskHandle> {
        task(self.0.watch(every, progress(listener)))
    }

    /// Whether the last call reached the server.
    pub fn is_online(&self) -> bool {
        self.0.is_online()
    }

    /// The gate this door stands at.
    pub fn gate(&self) -> String {
        self.0.gate().to_owned()
    }

    /// Gate, list, online state, scans waiting for a push and the last successful sync.
    pub async fn status(&self) -> Result<DoorStatus> {
        Ok(self.0.status().await?)
    }

    /// This door's scans the server does not have yet.
    pub async fn unpushed_count(&self) -> Result<i64> {
        Ok(self.0.unpushed_count().await?)
    }

    /// The snapshot's ticket count and how many are revoked.
    pub async fn ticket_counts(&self) -> Result<TicketCounts> {
        let (tickets, revoked) = self.0.ticket_counts().await?;
        Ok(TicketCounts { tickets, revoked })
    }
}
