//! Sign-in through an OpenID Connect provider: the authorization-code flow with PKCE
//! (RFC 7636, S256) for native apps (RFC 8252).
//!
//! `begin` discovers the provider and draws a PKCE verifier, a `state` and a `nonce`;
//! the host sends the user to [`ProviderSignIn::authorization_url`]; the provider
//! redirects back; `ProviderSignIn::code_from` checks the redirect (state, issuer,
//! redirect URI; an `error=` becomes [`ProviderError::Refused`]); the code is exchanged at
//! the token endpoint with the verifier, and the ID token's issuer, audience and nonce are
//! checked. The [`crate::Client`] wraps this for hosts (`begin_provider_sign_in`,
//! `finish_provider_sign_in`, `sign_in_with_provider` over a `loopback` listener).

mod endpoints;
mod error;
pub(crate) mod loopback;
mod pkce;

pub(crate) use endpoints::{Endpoints, Tokens};
pub use error::ProviderError;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

use crate::Error;

/// Opens the authorization URL for the user: the desktop opens the system browser. Called
/// once per [`crate::Client::sign_in_with_provider`], which then waits for the redirect.
pub trait BrowserOpener: Send + Sync {
    /// Opens `url`, returning as soon as it is handed over (not when the user is done).
    fn open(&self, url: &str) -> Result<(), OpenError>;
}

/// Why the host could not open the browser.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct OpenError(pub String);

/// A provider and this app's registration at it, as plain data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct OidcConfig {
    /// The issuer (`https://login.example.org`); its discovery document is read from
    /// `<issuer>/.well-known/openid-configuration`.
    pub issuer: String,
    /// This app's public client id at the provider.
    pub client_id: String,
    /// Where the provider sends the user back: a loopback URL
    /// (`http://127.0.0.1/callback`) for desktop hosts, whose port the SDK picks, or the
    /// app's own scheme (`org.example.app:/callback`) for mobile hosts.
    pub redirect_uri: String,
    /// Scopes to ask for; `openid` is added when missing. `offline_access` asks for a
    /// refresh token (and makes the provider show its consent page).
    pub scopes: Vec<String>,
    /// The API the access token is for (RFC 8707), if the provider wants it named.
    pub resource: Option<String>,
}

/// A sign-in under way: the URL to open, and what checking the redirect and exchanging the
/// code need. Plain data, so a mobile host may keep it while the app is in the background;
/// it holds the PKCE verifier, so keep it private and use it once.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct ProviderSignIn {
    /// Where to send the user (the system browser, an in-app browser tab).
    pub authorization_url: String,
    /// The redirect URI the provider was given.
    pub redirect_uri: String,
    /// The `state` the redirect must carry.
    pub state: String,
    /// The `nonce` the ID token must carry.
    pub nonce: String,
    /// The PKCE verifier.
    pub code_verifier: String,
    /// The issuer, as discovered.
    pub issuer: String,
    /// This app's client id.
    pub client_id: String,
    /// The provider's token endpoint.
    pub token_endpoint: String,
    /// The provider's revocation endpoint, if it has one.
    pub revocation_endpoint: Option<String>,
    /// The resource asked for, if any.
    pub resource: Option<String>,
}

impl std::fmt::Debug for ProviderSignIn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProviderSignIn")
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field("redirect_uri", &self.redirect_uri)
            .finish_non_exhaustive()
    }
}

/// Where a session signed in through a provider refreshes and ends, kept with its tokens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct ProviderSession {
    pub issuer: String,
    pub client_id: String,
    pub token_endpoint: String,
    pub revocation_endpoint: Option<String>,
    pub resource: Option<String>,
}

fn invalid(field: &'static str, message: &str) -> Error {
    Error::InvalidArgument {
        field,
        message: message.to_owned(),
    }
}

/// Discovers the provider of `config` and prepares a sign-in redirecting to
/// `redirect_uri`.
pub(crate) async fn begin(
    endpoints: &Endpoints,
    config: &OidcConfig,
    redirect_uri: &str,
) -> Result<ProviderSignIn, Error> {
    if config.client_id.trim().is_empty() {
        return Err(invalid("client_id", "the client id is empty"));
    }
    reqwest::Url::parse(redirect_uri).map_err(|e| invalid("redirect_uri", &e.to_string()))?;
    let issuer =
        reqwest::Url::parse(&config.issuer).map_err(|e| invalid("issuer", &e.to_string()))?;
    if !matches!(issuer.scheme(), "http" | "https") {
        return Err(invalid("issuer", "use an http:// or https:// URL"));
    }
    let found = endpoints.discover(&config.issuer).await?;
    let mut scopes: Vec<&str> = vec!["openid"];
    scopes.extend(
        config
            .scopes
            .iter()
            .map(String::as_str)
            .filter(|s| *s != "openid"),
    );
    let pending = ProviderSignIn {
        authorization_url: String::new(),
        redirect_uri: redirect_uri.to_owned(),
        state: pkce::random_token(),
        nonce: pkce::random_token(),
        code_verifier: pkce::random_token(),
        issuer: found.issuer,
        client_id: config.client_id.clone(),
        token_endpoint: found.token_endpoint,
        revocation_endpoint: found.revocation_endpoint,
        resource: config.resource.clone(),
    };
    let mut url = reqwest::Url::parse(&found.authorization_endpoint)
        .map_err(|_| ProviderError::Protocol("the authorization endpoint is not a URL"))?;
    {
        let mut query = url.query_pairs_mut();
        query
            .append_pair("response_type", "code")
            .append_pair("client_id", &pending.client_id)
            .append_pair("redirect_uri", &pending.redirect_uri)
            .append_pair("scope", &scopes.join(" "))
            .append_pair("state", &pending.state)
            .append_pair("nonce", &pending.nonce)
            .append_pair("code_challenge", &pkce::challenge(&pending.code_verifier))
            .append_pair("code_challenge_method", "S256");
        if let Some(resource) = &pending.resource {
            query.append_pair("resource", resource);
        }
        // A refresh token needs the user's consent (OpenID Connect Core §11).
        if scopes.contains(&"offline_access") {
            query.append_pair("prompt", "consent");
        }
    }
    Ok(ProviderSignIn {
        authorization_url: url.into(),
        ..pending
    })
}

impl ProviderSignIn {
    /// The authorization code of `redirect_url`, once it is proven to answer this sign-in:
    /// same redirect URI (scheme, host, port, path), same `state`, same issuer (RFC 9207,
    /// when given). An `error=` answer becomes [`ProviderError::Refused`].
    pub(crate) fn code_from(&self, redirect_url: &str) -> Result<String, ProviderError> {
        let url = reqwest::Url::parse(redirect_url).map_err(|_| ProviderError::Foreign("URL"))?;
        let expected =
            reqwest::Url::parse(&self.redirect_uri).map_err(|_| ProviderError::Foreign("URL"))?;
        let same_place = url.scheme() == expected.scheme()
            && url.host_str() == expected.host_str()
            && url.port_or_known_default() == expected.port_or_known_default()
            && url.path() == expected.path();
        if !same_place {
            return Err(ProviderError::Foreign("redirect URI"));
        }
        let param = |name: &str| {
            url.query_pairs()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.into_owned())
        };
        if param("state").as_deref() != Some(self.state.as_str()) {
            return Err(ProviderError::Foreign("state"));
        }
        if let Some(issuer) = param("iss")
            && issuer.trim_end_matches('/') != self.issuer.trim_end_matches('/')
        {
            return Err(ProviderError::Foreign("issuer"));
        }
        if let Some(code) = param("error") {
            return Err(ProviderError::Refused {
                code,
                description: param("error_description"),
            });
        }
        param("code")
            .filter(|c| !c.is_empty())
            .ok_or(ProviderError::Foreign("code"))
    }

    /// Exchanges `code` for tokens with the PKCE verifier, and checks the ID token, if any.
    pub(crate) async fn exchange(
        &self,
        endpoints: &Endpoints,
        code: &str,
    ) -> Result<Tokens, Error> {
        let mut form = vec![
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", self.redirect_uri.as_str()),
            ("client_id", self.client_id.as_str()),
            ("code_verifier", self.code_verifier.as_str()),
        ];
        if let Some(resource) = &self.resource {
            form.push(("resource", resource));
        }
        let tokens = endpoints.token(&self.token_endpoint, &form).await?;
        if let Some(id_token) = &tokens.id_token {
            self.check_id_token(id_token)?;
        }
        Ok(tokens)
    }

    /// The ID token came straight from the token endpoint over the connection the SDK
    /// opened, which OpenID Connect Core §3.1.3.7 (6) accepts in place of checking its
    /// signature: its claims are checked here. The access token's signature is the
    /// server's to verify, on every call.
    fn check_id_token(&self, id_token: &str) -> Result<(), ProviderError> {
        #[derive(Deserialize)]
        struct Claims {
            iss: String,
            aud: serde_json::Value,
            #[serde(default)]
            nonce: Option<String>,
        }
        let payload = id_token
            .split('.')
            .nth(1)
            .and_then(|p| URL_SAFE_NO_PAD.decode(p.trim_end_matches('=')).ok())
            .and_then(|bytes| serde_json::from_slice::<Claims>(&bytes).ok())
            .ok_or(ProviderError::Protocol("the ID token does not parse"))?;
        if payload.iss.trim_end_matches('/') != self.issuer.trim_end_matches('/') {
            return Err(ProviderError::Protocol("the ID token names another issuer"));
        }
        let for_us = match &payload.aud {
            serde_json::Value::String(aud) => *aud == self.client_id,
            serde_json::Value::Array(auds) => auds.iter().any(|a| *a == *self.client_id),
            _ => false,
        };
        if !for_us {
            return Err(ProviderError::Protocol(
                "the ID token is for another client",
            ));
        }
        if payload.nonce.as_deref() != Some(self.nonce.as_str()) {
            return Err(ProviderError::Protocol(
                "the ID token carries another nonce",
            ));
        }
        Ok(())
    }

    /// Where the session this sign-in opens refreshes and ends.
    pub(crate) fn session(&self) -> ProviderSession {
        ProviderSession {
            issuer: self.issuer.clone(),
            client_id: self.client_id.clone(),
            token_endpoint: self.token_endpoint.clone(),
            revocation_endpoint: self.revocation_endpoint.clone(),
            resource: self.resource.clone(),
        }
    }
}

impl ProviderSession {
    /// New tokens for `refresh_token` from the token endpoint.
    pub(crate) async fn refresh(
        &self,
        endpoints: &Endpoints,
        refresh_token: &str,
    ) -> Result<Tokens, Error> {
        if refresh_token.is_empty() {
            return Err(ProviderError::TokenRefused {
                code: "no_refresh_token".into(),
            }
            .into());
        }
        let mut form = vec![
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
            ("client_id", self.client_id.as_str()),
        ];
        if let Some(resource) = &self.resource {
            form.push(("resource", resource));
        }
        endpoints.token(&self.token_endpoint, &form).await
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn pending() -> ProviderSignIn {
        ProviderSignIn {
            authorization_url: "https://idp.test/auth".into(),
            redirect_uri: "http://127.0.0.1:4711/callback".into(),
            state: "s1".into(),
            nonce: "n1".into(),
            code_verifier: "v".into(),
            issuer: "https://idp.test".into(),
            client_id: "app".into(),
            token_endpoint: "https://idp.test/token".into(),
            revocation_endpoint: None,
            resource: None,
        }
    }

    #[test]
    fn a_redirect_gives_its_code_only_when_it_answers_this_sign_in() {
        let p = pending();
        let base = "http://127.0.0.1:4711/callback";
        assert_eq!(
            p.code_from(&format!("{base}?code=c1&state=s1")).unwrap(),
            "c1"
        );
        let iss = "iss=https%3A%2F%2Fidp.test";
        assert_eq!(
            p.code_from(&format!("{base}?code=c1&state=s1&{iss}"))
                .unwrap(),
            "c1"
        );
        let cases = [
            (
                format!("{base}?code=c1&state=s2"),
                ProviderError::Foreign("state"),
            ),
            (format!("{base}?code=c1"), ProviderError::Foreign("state")),
            (
                format!("{base}?error=access_denied&state=s2"),
                ProviderError::Foreign("state"),
            ),
            (
                "http://127.0.0.1:4712/callback?code=c1&state=s1".into(),
                ProviderError::Foreign("redirect URI"),
            ),
            (
                format!("{base}?code=c1&state=s1&iss=https%3A%2F%2Fevil.test"),
                ProviderError::Foreign("issuer"),
            ),
            (format!("{base}?state=s1"), ProviderError::Foreign("code")),
            (
                format!("{base}?error=access_denied&error_description=no&state=s1"),
                ProviderError::Refused {
                    code: "access_denied".into(),
                    description: Some("no".into()),
                },
            ),
        ];
        for (url, expected) in cases {
            assert_eq!(p.code_from(&url).unwrap_err(), expected, "{url}");
        }
    }

    #[test]
    fn the_id_token_must_name_the_issuer_the_client_and_the_nonce() {
        let token = |claims: serde_json::Value| {
            format!("e30.{}.sig", URL_SAFE_NO_PAD.encode(claims.to_string()))
        };
        let p = pending();
        let good = serde_json::json!({"iss": "https://idp.test", "aud": ["app"], "nonce": "n1"});
        p.check_id_token(&token(good)).unwrap();
        for bad in [
            serde_json::json!({"iss": "https://evil.test", "aud": "app", "nonce": "n1"}),
            serde_json::json!({"iss": "https://idp.test", "aud": "other", "nonce": "n1"}),
            serde_json::json!({"iss": "https://idp.test", "aud": "app", "nonce": "n2"}),
            serde_json::json!({"iss": "https://idp.test", "aud": "app"}),
        ] {
            let error = p.check_id_token(&token(bad.clone())).unwrap_err();
            assert_eq!(error.kind(), crate::ErrorKind::Protocol, "{bad}");
        }
        assert!(matches!(
            p.check_id_token("not a token"),
            Err(ProviderError::Protocol(_))
        ));
    }

    #[test]
    fn the_pending_sign_in_never_shows_its_verifier() {
        let debug = format!("{:?}", pending());
        assert!(!debug.contains("\"v\"") && !debug.contains("s1"), "{debug}");
    }
}
