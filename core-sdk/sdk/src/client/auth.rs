//! Sign-up, log-in, log-out, and the signed-in calls with their one refresh.
//!
//! Access tokens live minutes. A signed-in call refreshes first when the token is about to
//! expire, and once more, then retries once, if the server still says UNAUTHENTICATED.
//! Refreshes run one at a time under the session lock: the server treats a refresh token
//! presented twice as stolen and ends the session. A refresh is never retried by the
//! transport for the same reason; if its answer is lost, the next refresh fails and the
//! user signs in again ([`Error::SessionExpired`]).

use chrono::Utc;
use graphql_client::GraphQLQuery;
use tokio::sync::MutexGuard;

use super::Client;
use crate::Error;
use crate::ErrorKind;
use crate::api::operations::{
    LogIn, LogOut, Me, RefreshSession, SignUp, log_in, log_out, me, refresh_session, sign_up,
};
use crate::core::blocking;
use crate::notify::Change;
use crate::session::{Account, Role, Session, SignUp as NewAccount};

/// Refresh this long before the access token expires, so a call does not race its expiry.
const EXPIRY_MARGIN_SECS: i64 = 30;

fn role(wire: &str) -> Role {
    match wire {
        "ORGANIZER" => Role::Organizer,
        "ADMIN" => Role::Admin,
        _ => Role::Attendee,
    }
}

/// Builds a [`Session`] from one of the auth payloads (each operation has its own
/// generated type with the same fields).
macro_rules! session_from {
    ($payload:expr, $module:ident) => {{
        let p = $payload;
        let wire = match p.user.role {
            $module::Role::ATTENDEE => "ATTENDEE",
            $module::Role::ORGANIZER => "ORGANIZER",
            $module::Role::ADMIN => "ADMIN",
            $module::Role::Other(_) => "ATTENDEE",
        };
        Session {
            access_token: p.access_token,
            access_expires_at: p.access_token_expires_at,
            refresh_token: p.refresh_token,
            account: Account {
                id: p.user.id,
                email: p.user.email,
                display_name: p.user.display_name,
                role: role(wire),
            },
            provider: None,
        }
    }};
}

impl Client {
    /// Creates an account and signs it in.
    pub async fn sign_up(&self, new: NewAccount) -> Result<Account, Error> {
        let role = match new.role {
            Role::Organizer => sign_up::SignUpRole::ORGANIZER,
            Role::Attendee => sign_up::SignUpRole::ATTENDEE,
            Role::Admin => {
                return Err(Error::InvalidArgument {
                    field: "role",
                    message: "accounts sign up as attendee or organizer".into(),
                });
            }
        };
        let variables = sign_up::Variables {
            input: sign_up::SignUpInput {
                email: new.email,
                password: new.password,
                display_name: new.display_name,
                role,
                // The server's default (English) until the SDK's sign-up carries a language.
                language: None,
            },
        };
        let data = self.api().run::<SignUp>(variables, None, false).await?;
        self.start(session_from!(data.sign_up, sign_up)).await
    }

    /// Signs in with e-mail and password.
    pub async fn log_in(&self, email: &str, password: &str) -> Result<Account, Error> {
        let variables = log_in::Variables {
            email: email.to_owned(),
            password: password.to_owned(),
        };
        let data = self.api().run::<LogIn>(variables, None, false).await?;
        self.start(session_from!(data.log_in, log_in)).await
    }

    /// Ends the session here and on the server, and forgets the account's holds, orders and
    /// tickets on this device (its pending operations stay, for its next sign-in). The
    /// tokens are forgotten even when the server cannot be reached (its access tokens then
    /// lapse within minutes).
    pub async fn log_out(&self) -> Result<(), Error> {
        let mut guard = self.inner.session.lock().await;
        let Some(session) = guard.take() else {
            return Ok(());
        };
        self.forget_session().await?;
        drop(guard);
        let account = session.account.id.clone();
        self.store()
            .call(move |s| s.forget_account_data(&account))
            .await?;
        self.notify(Change::Session);
        self.notify(Change::Wallet);
        if let Some(provider) = &session.provider {
            // The provider's refresh token never goes to Guichet's server.
            self.end_at_provider(provider, &session.refresh_token).await;
            return Ok(());
        }
        let variables = log_out::Variables {
            refresh_token: session.refresh_token,
        };
        match self.api().run::<LogOut>(variables, None, true).await {
            Ok(_) => Ok(()),
            // Already ended on the server, or unreachable: locally signed out either way.
            Err(Error::Api(_) | Error::Transport(_)) => Ok(()),
            Err(other) => Err(other),
        }
    }

    /// The signed-in account, from the saved session (no network).
    pub async fn account(&self) -> Option<Account> {
        self.inner
            .session
            .lock()
            .await
            .as_ref()
            .map(|s| s.account.clone())
    }

    /// The signed-in account as the server sees it now (refreshing the session if needed).
    pub async fn me(&self) -> Result<Account, Error> {
        let data = self.authed::<Me>(me::Variables, true).await?;
        data.me.map(account_of).ok_or(Error::SessionExpired)
    }

    /// The account `access_token` belongs to, as the server sees it (no refresh).
    pub(super) async fn me_with(&self, access_token: &str) -> Result<Account, Error> {
        let token = Some(access_token.to_owned());
        let data = self.api().run::<Me>(me::Variables, token, true).await?;
        data.me.map(account_of).ok_or(Error::SessionExpired)
    }

    /// Runs a signed-in operation: a fresh access token, and on UNAUTHENTICATED one refresh
    /// and one retry.
    pub(crate) async fn authed<Q: GraphQLQuery>(
        &self,
        variables: Q::Variables,
        idempotent: bool,
    ) -> Result<Q::ResponseData, Error>
    where
        Q::Variables: Clone,
    {
        let token = self.access_token().await?;
        match self
            .api()
            .run::<Q>(variables.clone(), Some(token.clone()), idempotent)
            .await
        {
            Err(Error::Api(e)) if e.code == ErrorKind::Unauthenticated => {
                let token = self.refresh_after_rejection(&token).await?;
                self.api()
                    .run::<Q>(variables, Some(token), idempotent)
                    .await
            }
            other => other,
        }
    }

    pub(super) async fn start(&self, session: Session) -> Result<Account, Error> {
        let mut guard = self.inner.session.lock().await;
        self.save_session(&session).await?;
        let account = session.account.clone();
        *guard = Some(session);
        drop(guard);
        self.notify(Change::Session);
        Ok(account)
    }

    pub(crate) async fn access_token(&self) -> Result<String, Error> {
        let mut guard = self.inner.session.lock().await;
        let session = guard.as_ref().ok_or(Error::NotSignedIn)?;
        let margin = chrono::Duration::seconds(EXPIRY_MARGIN_SECS);
        if !session.access_stale(Utc::now(), margin) {
            return Ok(session.access_token.clone());
        }
        self.refresh_locked(&mut guard).await
    }

    pub(crate) async fn refresh_after_rejection(&self, rejected: &str) -> Result<String, Error> {
        let mut guard = self.inner.session.lock().await;
        let session = guard.as_ref().ok_or(Error::NotSignedIn)?;
        if session.access_token != rejected {
            // Another call refreshed while this one waited.
            return Ok(session.access_token.clone());
        }
        self.refresh_locked(&mut guard).await
    }

    async fn refresh_locked(
        &self,
        guard: &mut MutexGuard<'_, Option<Session>>,
    ) -> Result<String, Error> {
        let current = guard.as_ref().cloned().ok_or(Error::NotSignedIn)?;
        let refreshed = if current.provider.is_some() {
            self.refresh_at_provider(current).await
        } else {
            let variables = refresh_session::Variables {
                refresh_token: current.refresh_token,
            };
            self.api()
                .run::<RefreshSession>(variables, None, false)
                .await
                .map(|data| session_from!(data.refresh_session, refresh_session))
        };
        match refreshed {
            Ok(session) => {
                self.save_session(&session).await?;
                let token = session.access_token.clone();
                **guard = Some(session);
                Ok(token)
            }
            // Guichet's or the provider's refusal of the refresh token.
            Err(e) if e.kind() == ErrorKind::Unauthenticated => {
                **guard = None;
                self.forget_session().await?;
                self.notify(Change::Session);
                Err(Error::SessionExpired)
            }
            Err(other) => Err(other),
        }
    }

    async fn save_session(&self, session: &Session) -> Result<(), Error> {
        let text = serde_json::to_string(session)
            .map_err(|_| Error::Protocol("session does not serialise"))?;
        let secrets = self.inner.core.secrets.clone();
        blocking(move || Ok(secrets.save(Session::SECRET_KEY, &text)?)).await
    }

    async fn forget_session(&self) -> Result<(), Error> {
        let secrets = self.inner.core.secrets.clone();
        blocking(move || Ok(secrets.delete(Session::SECRET_KEY)?)).await
    }
}

/// An account as the server's `me` gives it.
fn account_of(user: me::MeMe) -> Account {
    let wire = match user.role {
        me::Role::ORGANIZER => "ORGANIZER",
        me::Role::ADMIN => "ADMIN",
        _ => "ATTENDEE",
    };
    Account {
        id: user.id,
        email: user.email,
        display_name: user.display_name,
        role: role(wire),
    }
}
