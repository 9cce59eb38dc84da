//! The sales dashboard: the report (per type and per day) and its live feed.

use std::sync::Arc;

use guichet_sdk::live::{LiveState, SalesListener, SalesUpdate};
use guichet_sdk::organizer::SalesReportData;
use tauri::{AppHandle, Emitter, State};

use super::Answer;
use crate::app::Organizer;

/// Sold, held and revenue per ticket type and per day.
#[tauri::command]
pub async fn sales_report(app: State<'_, Organizer>, event_id: String) -> Answer<SalesReportData> {
    Ok(app.client.organizer().sales_report(&event_id).await?)
}

/// Hands the live feed's frames to the window as `sales-updated` and `sales-live` events.
struct ToWindow(AppHandle);

impl SalesListener for ToWindow {
    fn on_sales(&self, update: SalesUpdate) {
        let _ = self.0.emit("sales-updated", update);
    }
    fn on_state(&self, state: LiveState) {
        let _ = self.0.emit("sales-live", state);
    }
}

/// Watches an event's sales live for the dashboard, instead of the previous event's.
#[tauri::command]
pub fn watch_sales(window: AppHandle, app: State<'_, Organizer>, event_id: String) {
    let feed = app
        .client
        .organizer()
        .watch_sales(&event_id, Arc::new(ToWindow(window)));
    if let Ok(mut live) = app.live.lock() {
        *live = Some(feed);
    }
}
