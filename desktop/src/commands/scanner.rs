//! The door scanner: pair, choose the gate, scan, status.

use guichet_domain::checkin::Direction;
use guichet_sdk::scanner::{Door, DoorScan, DoorStatus, DoorSyncReport};
use guichet_sdk::{BoundaryError, ErrorKind};
use tauri::State;

use super::Answer;
use crate::app::DoorApp;
use crate::qr_image::{QrImageError, read_qr};

/// Pairs with the organizer's one-time code (typed or scanned) and stands at `gate`.
#[tauri::command]
pub async fn pair(
    app: State<'_, DoorApp>,
    code: String,
    name: String,
    gate: String,
) -> Answer<DoorStatus> {
    let at = app.settings();
    let door = Door::builder(&at.server_url, &at.data_dir, &gate)
        .pair(&code, &name)
        .await?;
    Ok(app.install(door).await.status().await?)
}

/// Moves this paired door to another of its list's gates.
#[tauri::command]
pub async fn choose_gate(app: State<'_, DoorApp>, gate: String) -> Answer<DoorStatus> {
    let at = app.settings();
    let door = Door::builder(&at.server_url, &at.data_dir, &gate)
        .open()
        .await?;
    Ok(app.install(door).await.status().await?)
}

/// Decides on one credential (a wedge line, a paste, or a decoded QR image); the scan is on
/// disk before this returns.
#[tauri::command]
pub async fn scan(app: State<'_, DoorApp>, text: String, direction: Direction) -> Answer<DoorScan> {
    Ok(app.door().await?.scan(text.trim(), direction).await?)
}

/// Decides on the QR code in a PNG file the staff picked (decoded off the async workers).
#[tauri::command]
pub async fn scan_image(
    app: State<'_, DoorApp>,
    png: Vec<u8>,
    direction: Direction,
) -> Answer<DoorScan> {
    let text = tauri::async_runtime::spawn_blocking(move || read_qr(&png))
        .await
        .map_err(|_| unreadable(QrImageError::Unreadable))?
        .map_err(unreadable)?;
    Ok(app.door().await?.scan(text.trim(), direction).await?)
}

fn unreadable(error: QrImageError) -> BoundaryError {
    BoundaryError {
        kind: ErrorKind::InvalidInput,
        message: error.to_string(),
    }
}

/// Gate, list, online or not, scans waiting, last sync.
#[tauri::command]
pub async fn status(app: State<'_, DoorApp>) -> Answer<DoorStatus> {
    Ok(app.door().await?.status().await?)
}

/// Syncs now (the door also syncs by itself every few seconds).
#[tauri::command]
pub async fn sync_now(app: State<'_, DoorApp>) -> Answer<DoorSyncReport> {
    Ok(app.door().await?.sync().await?)
}
