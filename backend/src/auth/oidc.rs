//! Bearer access tokens from an external OpenID Connect issuer (`GUICHET_OIDC_ISSUER`).
//!
//! The issuer's keys come from its discovery document's `jwks_uri`, cached; a token naming
//! a key id the cache lacks triggers one refresh (at most one every [`REFRESH_EVERY`]), which
//! is how a key rotation at the provider is picked up. Tokens are checked for signature
//! (RS256 or ES256 only: the algorithm is pinned, never taken on the token's word), issuer,
//! audience and expiry (5 s of leeway for clock skew).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use tokio::sync::Mutex;

use super::Role;

/// Default least time between two key refreshes (an unknown `kid` cannot make us hammer the
/// issuer); `GUICHET_OIDC_KEYS_REFRESH_SECS` changes it.
pub const REFRESH_EVERY: Duration = Duration::from_secs(10);
/// Clock skew allowed on `exp` (and `nbf`).
const LEEWAY_SECS: u64 = 5;
/// Algorithms accepted from the issuer.
const ALGORITHMS: [Algorithm; 2] = [Algorithm::RS256, Algorithm::ES256];

/// The claims Guichet reads from an issuer's access token.
#[derive(Debug, Clone, Deserialize)]
pub struct ExternalClaims {
    /// Subject: stable id of the person at the issuer.
    pub sub: String,
    /// E-mail address, used to create the account on first use.
    #[serde(default)]
    pub email: Option<String>,
    /// Every other claim (the roles claim is read from here).
    #[serde(flatten)]
    pub other: HashMap<String, serde_json::Value>,
}

impl ExternalClaims {
    /// The role the `claim` gives: `guichet:admin`, then `guichet:organizer`, else attendee.
    pub fn role(&self, claim: &str) -> Role {
        let values: Vec<&str> = match self.other.get(claim) {
            Some(serde_json::Value::String(s)) => s.split_whitespace().collect(),
            Some(serde_json::Value::Array(a)) => a.iter().filter_map(|v| v.as_str()).collect(),
            _ => Vec::new(),
        };
        if values.contains(&"guichet:admin") {
            Role::Admin
        } else if values.contains(&"guichet:organizer") {
            Role::Organizer
        } else {
            Role::Attendee
        }
    }
}

#[derive(Debug, Default)]
struct Keys {
    by_kid: HashMap<String, (Algorithm, DecodingKey)>,
    fetched: Option<Instant>,
}

/// Why the issuer's keys could not be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OidcError {
    /// The issuer or its key set did not answer as expected.
    #[error("OpenID provider: {0}")]
    Provider(String),
}

/// Verifies the configured issuer's access tokens.
pub struct OidcVerifier {
    issuer: String,
    audience: String,
    roles_claim: String,
    refresh_every: Duration,
    http: reqwest::Client,
    keys: Mutex<Keys>,
}

impl std::fmt::Debug for OidcVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OidcVerifier")
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
struct Discovery {
    issuer: String,
    jwks_uri: String,
}

impl OidcVerifier {
    /// A verifier for `issuer` and `audience`, refreshing keys at most every
    /// `refresh_every`; keys are fetched on first use.
    pub fn new(
        issuer: &str,
        audience: &str,
        roles_claim: &str,
        refresh_every: Duration,
    ) -> Result<OidcVerifier, OidcError> {
        // Binaries install ring as rustls' provider; a second install is a harmless no-op.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| OidcError::Provider(e.to_string()))?;
        Ok(OidcVerifier {
            issuer: issuer.trim_end_matches('/').to_owned(),
            audience: audience.to_owned(),
            roles_claim: roles_claim.to_owned(),
            refresh_every,
            http,
            keys: Mutex::new(Keys::default()),
        })
    }

    /// The issuer, as configured.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The claim roles are read from.
    pub fn roles_claim(&self) -> &str {
        &self.roles_claim
    }

    async fn fetch(&self) -> Result<HashMap<String, (Algorithm, DecodingKey)>, OidcError> {
        let fail = |e: reqwest::Error| OidcError::Provider(e.to_string());
        let discovery: Discovery = self
            .http
            .get(format!("{}/.well-known/openid-configuration", self.issuer))
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(fail)?
            .json()
            .await
            .map_err(fail)?;
        if discovery.issuer.trim_end_matches('/') != self.issuer {
            return Err(OidcError::Provider(
                "the discovery document names another issuer".into(),
            ));
        }
        let set: JwkSet = self
            .http
            .get(&discovery.jwks_uri)
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(fail)?
            .json()
            .await
            .map_err(fail)?;
        let mut keys = HashMap::new();
        for jwk in &set.keys {
            let Some(kid) = jwk.common.key_id.clone() else {
                continue;
            };
            let alg = match &jwk.algorithm {
                jsonwebtoken::jwk::AlgorithmParameters::RSA(_) => Algorithm::RS256,
                jsonwebtoken::jwk::AlgorithmParameters::EllipticCurve(p)
                    if p.curve == jsonwebtoken::jwk::EllipticCurve::P256 =>
                {
                    Algorithm::ES256
                }
                _ => continue,
            };
            if let Ok(key) = DecodingKey::from_jwk(jwk) {
                keys.insert(kid, (alg, key));
            }
        }
        Ok(keys)
    }

    /// The key for `kid`, refreshing the set once if it is unknown and the last refresh is
    /// older than the refresh interval.
    async fn key(&self, kid: &str) -> Option<(Algorithm, DecodingKey)> {
        let mut keys = self.keys.lock().await;
        if let Some(found) = keys.by_kid.get(kid) {
            return Some(found.clone());
        }
        if keys
            .fetched
            .is_some_and(|at| at.elapsed() < self.refresh_every)
        {
            return None;
        }
        keys.fetched = Some(Instant::now());
        match self.fetch().await {
            Ok(fresh) => keys.by_kid = fresh,
            Err(e) => tracing::warn!(error = %e, "OpenID provider keys could not be refreshed"),
        }
        keys.by_kid.get(kid).cloned()
    }

    /// The claims of a valid token of the issuer, or `None`.
    pub async fn verify(&self, token: &str) -> Option<ExternalClaims> {
        let header = jsonwebtoken::decode_header(token).ok()?;
        if !ALGORITHMS.contains(&header.alg) {
            return None;
        }
        let (alg, key) = self.key(header.kid.as_deref()?).await?;
        if alg != header.alg {
            return None;
        }
        let mut validation = Validation::new(alg);
        validation.set_issuer(&[&self.issuer, &format!("{}/", self.issuer)]);
        validation.set_audience(&[&self.audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = LEEWAY_SECS;
        jsonwebtoken::decode::<ExternalClaims>(token, &key, &validation)
            .ok()
            .map(|data| data.claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_come_from_the_configured_claim() {
        let claims: ExternalClaims = serde_json::from_value(serde_json::json!({
            "sub": "s", "roles": ["x", "guichet:organizer"], "groups": "guichet:admin other"
        }))
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(claims.role("roles"), Role::Organizer);
        assert_eq!(claims.role("groups"), Role::Admin);
        assert_eq!(claims.role("absent"), Role::Attendee);
    }
}
