//! My events and their ticket types.

use guichet_sdk::organizer::{
    EventChanges, EventDraft, OrganizerEvent, TicketTypeDraft, TicketTypeInfo,
};
use tauri::State;

use super::Answer;
use crate::app::Organizer;

/// The signed-in organizer's events, drafts included.
#[tauri::command]
pub async fn my_events(app: State<'_, Organizer>) -> Answer<Vec<OrganizerEvent>> {
    Ok(app.client.organizer().events().await?)
}

/// Creates a draft event.
#[tauri::command]
pub async fn create_event(app: State<'_, Organizer>, draft: EventDraft) -> Answer<OrganizerEvent> {
    Ok(app.client.organizer().create_event(draft).await?)
}

/// Changes an event's details (fields left out stay as they are).
#[tauri::command]
pub async fn update_event(
    app: State<'_, Organizer>,
    event_id: String,
    changes: EventChanges,
) -> Answer<OrganizerEvent> {
    Ok(app
        .client
        .organizer()
        .update_event(&event_id, changes)
        .await?)
}

/// Adds a ticket type to an event.
#[tauri::command]
pub async fn add_ticket_type(
    app: State<'_, Organizer>,
    event_id: String,
    draft: TicketTypeDraft,
) -> Answer<TicketTypeInfo> {
    Ok(app
        .client
        .organizer()
        .add_ticket_type(&event_id, draft)
        .await?)
}

/// Replaces a ticket type's details.
#[tauri::command]
pub async fn update_ticket_type(
    app: State<'_, Organizer>,
    ticket_type_id: String,
    draft: TicketTypeDraft,
) -> Answer<TicketTypeInfo> {
    Ok(app
        .client
        .organizer()
        .update_ticket_type(&ticket_type_id, draft)
        .await?)
}

/// Puts a draft on sale.
#[tauri::command]
pub async fn publish_event(app: State<'_, Organizer>, event_id: String) -> Answer<OrganizerEvent> {
    Ok(app.client.organizer().publish_event(&event_id).await?)
}

/// Calls an event off (the window asked for confirmation first).
#[tauri::command]
pub async fn cancel_event(app: State<'_, Organizer>, event_id: String) -> Answer<OrganizerEvent> {
    Ok(app.client.organizer().cancel_event(&event_id).await?)
}
