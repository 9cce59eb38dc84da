//! Sign in and out.

use guichet_sdk::session::Account;
use tauri::State;

use super::Answer;
use crate::app::Organizer;

/// Logs in with e-mail and password.
#[tauri::command]
pub async fn log_in(app: State<'_, Organizer>, email: String, password: String) -> Answer<Account> {
    Ok(app.client.log_in(&email, &password).await?)
}

/// Logs out (the server forgets the refresh token; the device forgets the session).
#[tauri::command]
pub async fn log_out(app: State<'_, Organizer>) -> Answer<()> {
    if let Ok(mut live) = app.live.lock() {
        live.take();
    }
    Ok(app.client.log_out().await?)
}

/// The signed-in account, if any (kept across restarts).
#[tauri::command]
pub async fn account(app: State<'_, Organizer>) -> Answer<Option<Account>> {
    Ok(app.client.account().await)
}
