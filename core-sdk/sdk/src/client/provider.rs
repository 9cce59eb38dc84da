//! Sign-in through an OpenID Connect provider ([`crate::session::oidc`]): the session then
//! holds the provider's tokens, which a server trusting that issuer accepts, and refreshes
//! at the provider's token endpoint (never through Guichet's `refreshSession`).
//!
//! Mobile hosts receive the redirect themselves: [`Client::begin_provider_sign_in`], open
//! the URL, then [`Client::finish_provider_sign_in`] with the redirect. Desktop hosts call
//! [`Client::sign_in_with_provider`], which listens on a loopback port for the redirect.

use std::sync::Arc;
use std::time::Duration;

use super::Client;
use crate::Error;
use crate::session::oidc::loopback::{FAILED_PAGE, Loopback, SIGNED_IN_PAGE};
use crate::session::oidc::{self, Endpoints, ProviderSession, Tokens};
use crate::session::{Account, BrowserOpener, OidcConfig, ProviderError, ProviderSignIn, Session};

/// How long a desktop sign-in waits for the user to come back from the browser.
pub(crate) const PROVIDER_SIGN_IN_WAIT: Duration = Duration::from_secs(300);

impl Client {
    /// Starts a sign-in through the provider `config` names: discovers it and draws the
    /// PKCE verifier, `state` and `nonce`. Open the returned `authorization_url`, then give
    /// the redirect to [`Client::finish_provider_sign_in`].
    pub async fn begin_provider_sign_in(
        &self,
        config: OidcConfig,
    ) -> Result<ProviderSignIn, Error> {
        let endpoints = self.provider_endpoints()?;
        oidc::begin(&endpoints, &config, &config.redirect_uri).await
    }

    /// Finishes the sign-in `pending` with the URL the provider redirected to: checks it
    /// answers this sign-in (INVALID_INPUT if not; an `error=` answer is UNAUTHENTICATED),
    /// exchanges the code with the verifier, and opens the session with the provider's
    /// tokens once the server accepts them.
    pub async fn finish_provider_sign_in(
        &self,
        pending: ProviderSignIn,
        redirect_url: &str,
    ) -> Result<Account, Error> {
        let code = pending.code_from(redirect_url)?;
        let endpoints = self.provider_endpoints()?;
        let tokens = pending.exchange(&endpoints, &code).await?;
        let account = self.me_with(&tokens.access_token).await?;
        self.start(provider_session(
            tokens,
            String::new(),
            account,
            pending.session(),
        ))
        .await
    }

    /// Signs in through the provider on a desktop: listens on a loopback port (the port of
    /// `config.redirect_uri`, `http://127.0.0.1/…`, or a free one when it names none), has
    /// `opener` open the authorization URL, waits up to five minutes for the browser's
    /// redirect, answers it with a page the user may close, and finishes as
    /// [`Client::finish_provider_sign_in`] does.
    pub async fn sign_in_with_provider(
        &self,
        config: OidcConfig,
        opener: Arc<dyn BrowserOpener>,
    ) -> Result<Account, Error> {
        let loopback = Loopback::bind(&config.redirect_uri).await?;
        let endpoints = self.provider_endpoints()?;
        let pending = oidc::begin(&endpoints, &config, loopback.redirect_uri()).await?;
        opener
            .open(&pending.authorization_url)
            .map_err(|e| ProviderError::Opener(e.0))?;
        let redirect = loopback.accept(PROVIDER_SIGN_IN_WAIT).await?;
        let url = redirect.url.clone();
        let result = self.finish_provider_sign_in(pending, &url).await;
        redirect
            .answer(if result.is_ok() {
                SIGNED_IN_PAGE
            } else {
                FAILED_PAGE
            })
            .await;
        result
    }

    /// The session `current` with new tokens from its provider.
    pub(super) async fn refresh_at_provider(&self, current: Session) -> Result<Session, Error> {
        let provider = current
            .provider
            .clone()
            .ok_or(Error::Protocol("not a provider session"))?;
        let endpoints = self.provider_endpoints()?;
        let tokens = provider.refresh(&endpoints, &current.refresh_token).await?;
        Ok(provider_session(
            tokens,
            current.refresh_token,
            current.account,
            provider,
        ))
    }

    /// Revokes the refresh token at the provider, if it offers revocation (best effort).
    pub(super) async fn end_at_provider(&self, provider: &ProviderSession, refresh_token: &str) {
        let (Some(endpoint), false) = (&provider.revocation_endpoint, refresh_token.is_empty())
        else {
            return;
        };
        if let Ok(endpoints) = self.provider_endpoints() {
            endpoints
                .revoke(endpoint, &provider.client_id, refresh_token)
                .await;
        }
    }

    fn provider_endpoints(&self) -> Result<Endpoints, Error> {
        Endpoints::new(&self.inner.core.http)
    }
}

/// A session holding a provider's `tokens` (keeping `previous_refresh` when the provider
/// did not rotate it).
fn provider_session(
    tokens: Tokens,
    previous_refresh: String,
    account: Account,
    provider: ProviderSession,
) -> Session {
    Session {
        access_token: tokens.access_token,
        access_expires_at: tokens.expires_at,
        refresh_token: tokens.refresh_token.unwrap_or(previous_refresh),
        account,
        provider: Some(provider),
    }
}
