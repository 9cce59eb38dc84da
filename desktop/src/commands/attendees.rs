//! Orders and attendees: search, refund.

use guichet_sdk::booking::Order;
use guichet_sdk::organizer::AttendeePage;
use tauri::State;

use super::Answer;
use crate::app::Organizer;

/// A page of 50 attendees whose name or e-mail contains `search`.
#[tauri::command]
pub async fn attendees(
    app: State<'_, Organizer>,
    event_id: String,
    search: Option<String>,
    after: Option<String>,
) -> Answer<AttendeePage> {
    let (search, after) = (search.filter(|s| !s.is_empty()), after);
    Ok(app
        .client
        .organizer()
        .attendees(&event_id, search.as_deref(), 50, after.as_deref())
        .await?)
}

/// Refunds an order, or only `ticket_ids` of it (the window asked for confirmation).
#[tauri::command]
pub async fn refund(
    app: State<'_, Organizer>,
    order_id: String,
    ticket_ids: Vec<String>,
) -> Answer<Order> {
    Ok(app.client.booking().refund(&order_id, &ticket_ids).await?)
}
