//! The signed-in account and its tokens.

pub mod oidc;
mod secrets;

pub use oidc::{BrowserOpener, OidcConfig, OpenError, ProviderError, ProviderSignIn};
pub use secrets::{FileSecretStore, SecretStore};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// What an account may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[non_exhaustive]
pub enum Role {
    /// Books tickets.
    Attendee,
    /// Creates and runs its own events.
    Organizer,
    /// Operates the platform.
    Admin,
}

/// The signed-in account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Account {
    /// Stable id.
    pub id: String,
    /// E-mail address.
    pub email: String,
    /// Public name.
    pub display_name: String,
    /// Role.
    pub role: Role,
}

/// A new account's details for [`crate::Client::sign_up`].
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct SignUp {
    /// E-mail address.
    pub email: String,
    /// 10 to 256 bytes.
    pub password: String,
    /// 1–100 characters.
    pub display_name: String,
    /// Attendee or organizer.
    pub role: Role,
}

impl std::fmt::Debug for SignUp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignUp")
            .field("email", &self.email)
            .field("display_name", &self.display_name)
            .field("role", &self.role)
            .finish_non_exhaustive()
    }
}

/// Tokens of a session, as kept in the [`SecretStore`].
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Session {
    pub access_token: String,
    pub access_expires_at: DateTime<Utc>,
    /// Empty when a provider gave no refresh token.
    pub refresh_token: String,
    pub account: Account,
    /// The identity provider that issued the tokens, for a session signed in through one:
    /// it refreshes at the provider's token endpoint. `None` for Guichet's own log-in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<oidc::ProviderSession>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("access_expires_at", &self.access_expires_at)
            .field("account", &self.account.id)
            .finish_non_exhaustive()
    }
}

impl Session {
    /// Name of the session in the secret store.
    pub const SECRET_KEY: &'static str = "session";

    /// Whether the access token is expired or about to be (within `margin`).
    pub fn access_stale(&self, now: DateTime<Utc>, margin: chrono::Duration) -> bool {
        self.access_expires_at - margin <= now
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// The saved session outlives SDK versions: its JSON is a reviewed format, and its
    /// debug output never shows a token.
    #[test]
    fn the_saved_session_keeps_its_format_and_hides_its_tokens() {
        let session = Session {
            access_token: "access-secret".into(),
            access_expires_at: DateTime::parse_from_rfc3339("2030-01-01T00:00:00Z")
                .unwrap()
                .to_utc(),
            refresh_token: "refresh-secret".into(),
            account: Account {
                id: "u1".into(),
                email: "ann@example.org".into(),
                display_name: "Ann".into(),
                role: Role::Organizer,
            },
            provider: None,
        };
        let text = serde_json::to_string_pretty(&session).unwrap();
        insta::assert_snapshot!(text);
        assert_eq!(serde_json::from_str::<Session>(&text).unwrap(), session);
        let debug = format!("{session:?}");
        assert!(!debug.contains("secret"), "{debug}");
        // A session signed in through a provider also names where it refreshes.
        let provider = Session {
            provider: Some(oidc::ProviderSession {
                issuer: "https://idp.example.org".into(),
                client_id: "guichet-app".into(),
                token_endpoint: "https://idp.example.org/token".into(),
                revocation_endpoint: None,
                resource: Some("https://api.example.org".into()),
            }),
            ..session.clone()
        };
        let text = serde_json::to_string_pretty(&provider).unwrap();
        insta::assert_snapshot!("provider_session", text);
        assert_eq!(serde_json::from_str::<Session>(&text).unwrap(), provider);
        let new = SignUp {
            email: "a@b.c".into(),
            password: "hunter2hunter2".into(),
            display_name: "A".into(),
            role: Role::Attendee,
        };
        assert!(!format!("{new:?}").contains("hunter2"));
    }
}
