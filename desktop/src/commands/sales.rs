//! The sales dashboard.

use guichet_sdk::organizer::SalesReportData;
use tauri::State;

use super::Answer;
use crate::app::Organizer;

/// Sold, held and revenue per ticket type and per day (the window polls it while open).
#[tauri::command]
pub async fn sales_report(app: State<'_, Organizer>, event_id: String) -> Answer<SalesReportData> {
    Ok(app.client.organizer().sales_report(&event_id).await?)
}
