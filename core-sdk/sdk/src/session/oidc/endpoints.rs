//! The provider's HTTP endpoints: discovery (`/.well-known/openid-configuration`) and the
//! token endpoint (code exchange, refresh) and revocation, over reqwest with the SDK's
//! timeouts and rustls (ring).

use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::ProviderError;
use crate::Error;
use crate::transport::{HttpConfig, TransportError, classify};

/// Lifetime assumed for an access token whose answer gives none (the server's refusal then
/// triggers a refresh anyway).
const DEFAULT_LIFETIME_SECS: i64 = 300;

/// What the SDK reads from a provider's discovery document.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Discovery {
    pub issuer: String,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    #[serde(default)]
    pub revocation_endpoint: Option<String>,
    #[serde(default)]
    pub code_challenge_methods_supported: Option<Vec<String>>,
}

/// The tokens of a token endpoint answer.
#[derive(Clone)]
pub(crate) struct Tokens {
    pub access_token: String,
    pub expires_at: DateTime<Utc>,
    pub refresh_token: Option<String>,
    pub id_token: Option<String>,
}

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: String,
    #[serde(default)]
    token_type: Option<String>,
    #[serde(default)]
    expires_in: Option<i64>,
    #[serde(default)]
    refresh_token: Option<String>,
    #[serde(default)]
    id_token: Option<String>,
}

#[derive(Deserialize)]
struct ErrorAnswer {
    error: String,
}

/// An HTTP client for one provider.
#[derive(Debug, Clone)]
pub(crate) struct Endpoints {
    http: reqwest::Client,
}

impl Endpoints {
    /// A client with the SDK's timeouts and user agent.
    pub(crate) fn new(config: &HttpConfig) -> Result<Endpoints, Error> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.connect_timeout)
            .user_agent(config.user_agent.clone())
            .build()
            .map_err(|e| TransportError::Request(format!("http client: {e}")))?;
        Ok(Endpoints { http })
    }

    /// The discovery document of `issuer`, checked: it names the same issuer and offers
    /// PKCE with S256 (when it lists its methods).
    pub(crate) async fn discover(&self, issuer: &str) -> Result<Discovery, Error> {
        let base = issuer.trim_end_matches('/');
        let url = format!("{base}/.well-known/openid-configuration");
        let response = self.http.get(url).send().await.map_err(classify)?;
        if !response.status().is_success() {
            return Err(TransportError::Status(response.status().as_u16()).into());
        }
        let found: Discovery = response
            .json()
            .await
            .map_err(|_| ProviderError::Protocol("the discovery document does not parse"))?;
        if found.issuer.trim_end_matches('/') != base {
            return Err(
                ProviderError::Protocol("the discovery document names another issuer").into(),
            );
        }
        if let Some(methods) = &found.code_challenge_methods_supported
            && !methods.iter().any(|m| m == "S256")
        {
            return Err(
                ProviderError::Protocol("the provider does not offer PKCE with S256").into(),
            );
        }
        Ok(found)
    }

    /// Posts `form` to the token endpoint and reads the tokens.
    pub(crate) async fn token(
        &self,
        endpoint: &str,
        form: &[(&str, &str)],
    ) -> Result<Tokens, Error> {
        let response = self
            .http
            .post(endpoint)
            .header(reqwest::header::ACCEPT, "application/json")
            .form(form)
            .send()
            .await
            .map_err(classify)?;
        let status = response.status();
        let bytes = response.bytes().await.map_err(classify)?;
        if !status.is_success() {
            return Err(match serde_json::from_slice::<ErrorAnswer>(&bytes) {
                Ok(answer) => ProviderError::TokenRefused { code: answer.error }.into(),
                Err(_) => TransportError::Status(status.as_u16()).into(),
            });
        }
        let answer: TokenAnswer = serde_json::from_slice(&bytes)
            .map_err(|_| ProviderError::Protocol("the token answer does not parse"))?;
        if let Some(kind) = &answer.token_type
            && !kind.eq_ignore_ascii_case("bearer")
        {
            return Err(ProviderError::Protocol("the token is not a bearer token").into());
        }
        let lifetime = answer.expires_in.unwrap_or(DEFAULT_LIFETIME_SECS).max(0);
        Ok(Tokens {
            access_token: answer.access_token,
            expires_at: Utc::now() + chrono::Duration::seconds(lifetime),
            refresh_token: answer.refresh_token.filter(|t| !t.is_empty()),
            id_token: answer.id_token,
        })
    }

    /// Revokes `token` (RFC 7009), best effort: a failure is logged, not returned.
    pub(crate) async fn revoke(&self, endpoint: &str, client_id: &str, token: &str) {
        let form = [
            ("token", token),
            ("token_type_hint", "refresh_token"),
            ("client_id", client_id),
        ];
        match self.http.post(endpoint).form(&form).send().await {
            Ok(response) if response.status().is_success() => {}
            Ok(response) => tracing::debug!(status = %response.status(), "revocation refused"),
            Err(e) => tracing::debug!(error = %e, "revocation failed"),
        }
    }
}
