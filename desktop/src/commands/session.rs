//! Sign in (password, or single sign-on through the system browser) and out.

use std::sync::Arc;

use guichet_sdk::session::Account;
use guichet_sdk::{BoundaryError, ErrorKind};
use tauri::State;

use super::Answer;
use crate::app::Organizer;
use crate::browser::SystemBrowser;

/// Logs in with e-mail and password.
#[tauri::command]
pub async fn log_in(app: State<'_, Organizer>, email: String, password: String) -> Answer<Account> {
    Ok(app.client.log_in(&email, &password).await?)
}

/// Whether single sign-on is configured (the sign-in view shows its button).
#[tauri::command]
pub fn sso_available(app: State<'_, Organizer>) -> bool {
    app.sso.is_some()
}

/// Signs in through the OpenID provider: the system browser opens its sign-in page, the SDK
/// takes the redirect on a loopback port (PKCE), and the session is the provider's.
#[tauri::command]
pub async fn sign_in_with_provider(app: State<'_, Organizer>) -> Answer<Account> {
    let config = app.sso.clone().ok_or_else(|| BoundaryError {
        kind: ErrorKind::InvalidInput,
        message: "single sign-on is not configured (--sso-issuer, --sso-client-id)".into(),
    })?;
    let browser = Arc::new(SystemBrowser);
    Ok(app.client.sign_in_with_provider(config, browser).await?)
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
