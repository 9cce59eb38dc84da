//! The organizer's doors: check-in lists, pairing scanners, devices, duplicate alerts.

use guichet_sdk::check_in::{
    CheckInListDraft, CheckInListInfo, DuplicateAlert, ScannerDevice, ScannerPairing,
};
use tauri::State;

use super::Answer;
use crate::app::Organizer;

/// An event's check-in lists.
#[tauri::command]
pub async fn check_in_lists(
    app: State<'_, Organizer>,
    event_id: String,
) -> Answer<Vec<CheckInListInfo>> {
    Ok(app.client.check_in().lists(&event_id).await?)
}

/// Creates a check-in list (types, gates, re-entry).
#[tauri::command]
pub async fn create_check_in_list(
    app: State<'_, Organizer>,
    event_id: String,
    draft: CheckInListDraft,
) -> Answer<CheckInListInfo> {
    Ok(app.client.check_in().create_list(&event_id, draft).await?)
}

/// A one-time pairing code and its QR code for a list.
#[tauri::command]
pub async fn pair_scanner(app: State<'_, Organizer>, list_id: String) -> Answer<ScannerPairing> {
    Ok(app.client.check_in().pair_scanner(&list_id).await?)
}

/// An event's scanners, revoked ones included.
#[tauri::command]
pub async fn scanner_devices(
    app: State<'_, Organizer>,
    event_id: String,
) -> Answer<Vec<ScannerDevice>> {
    Ok(app.client.check_in().devices(&event_id).await?)
}

/// Revokes a scanner (the window asked for confirmation).
#[tauri::command]
pub async fn revoke_scanner(app: State<'_, Organizer>, device_id: String) -> Answer<ScannerDevice> {
    Ok(app.client.check_in().revoke_scanner(&device_id).await?)
}

/// Tickets that got in twice.
#[tauri::command]
pub async fn duplicate_alerts(
    app: State<'_, Organizer>,
    event_id: String,
) -> Answer<Vec<DuplicateAlert>> {
    Ok(app.client.check_in().duplicate_alerts(&event_id).await?)
}
