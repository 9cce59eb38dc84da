//! Access tokens (HS256 JWT, minutes) and refresh tokens (random, hashed at rest, rotating).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

const ISSUER: &str = "guichet";

/// What a user may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, async_graphql::Enum)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Books and holds tickets.
    Attendee,
    /// Creates and runs its own events.
    Organizer,
    /// Operates the platform.
    Admin,
}

impl Role {
    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Attendee => "attendee",
            Role::Organizer => "organizer",
            Role::Admin => "admin",
        }
    }

    /// Parses the stored spelling.
    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "attendee" => Some(Role::Attendee),
            "organizer" => Some(Role::Organizer),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }
}

/// The authenticated caller of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// User id.
    pub user_id: String,
    /// Role at the time the token was issued (a role change ends the account's sessions).
    pub role: Role,
    /// The Guichet session the token belongs to; `None` for an external issuer's token.
    pub session_id: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    sub: String,
    role: Role,
    /// The session: checked against the session table on every request.
    sid: String,
    iss: String,
    iat: i64,
    exp: i64,
}

/// Signs and checks access tokens with the configured secret.
#[derive(Clone)]
pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    /// Access token lifetime in seconds.
    pub access_ttl: i64,
    /// Refresh token lifetime in seconds.
    pub refresh_ttl: i64,
}

impl std::fmt::Debug for TokenKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenKeys")
            .field("access_ttl", &self.access_ttl)
            .field("refresh_ttl", &self.refresh_ttl)
            .finish_non_exhaustive()
    }
}

impl TokenKeys {
    /// Keys from a secret of at least 32 bytes.
    pub fn new(secret: &[u8], access_ttl: i64, refresh_ttl: i64) -> TokenKeys {
        TokenKeys {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            access_ttl,
            refresh_ttl,
        }
    }

    /// A signed access token for `principal` in its session, valid `access_ttl` seconds from
    /// `now`. `None` without a session: every Guichet access token belongs to one.
    pub fn issue_access(&self, principal: &Principal, now: i64) -> Option<String> {
        let claims = Claims {
            sub: principal.user_id.clone(),
            role: principal.role,
            sid: principal.session_id.clone()?,
            iss: ISSUER.into(),
            iat: now,
            exp: now + self.access_ttl,
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding).ok()
    }

    /// The principal of a valid, unexpired access token (no leeway on expiry). Whether its
    /// session is still live is the caller's check (`Db::session_alive`).
    pub fn verify_access(&self, token: &str) -> Option<Principal> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.leeway = 0;
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &validation).ok()?;
        Some(Principal {
            user_id: data.claims.sub,
            role: data.claims.role,
            session_id: Some(data.claims.sid),
        })
    }
}

/// A fresh refresh token: 256 random bits, URL-safe.
pub fn new_refresh_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// What the database stores instead of the token itself.
pub fn hash_refresh_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> TokenKeys {
        TokenKeys::new(&[7u8; 32], 900, 3600)
    }

    #[test]
    fn access_tokens_round_trip_and_expire() {
        let p = Principal {
            user_id: "u1".into(),
            role: Role::Organizer,
            session_id: Some("s1".into()),
        };
        let now = chrono::Utc::now().timestamp();
        let token = keys()
            .issue_access(&p, now)
            .unwrap_or_else(|| panic!("issued"));
        assert_eq!(keys().verify_access(&token), Some(p.clone()));
        let stale = keys()
            .issue_access(&p, now - 901)
            .unwrap_or_else(|| panic!("issued"));
        assert_ne!(stale, token);
        assert_eq!(keys().verify_access(&stale), None);
    }

    #[test]
    fn tokens_signed_with_another_secret_or_tampered_are_refused() {
        let p = Principal {
            user_id: "u1".into(),
            role: Role::Attendee,
            session_id: Some("s1".into()),
        };
        let now = chrono::Utc::now().timestamp();
        let other = TokenKeys::new(&[8u8; 32], 900, 3600)
            .issue_access(&p, now)
            .unwrap_or_else(|| panic!("issued"));
        // The same claims under the other secret verify there, not here.
        assert_eq!(
            TokenKeys::new(&[8u8; 32], 900, 3600).verify_access(&other),
            Some(p.clone())
        );
        assert_eq!(keys().verify_access(&other), None);
        let token = keys()
            .issue_access(&p, now)
            .unwrap_or_else(|| panic!("issued"));
        let forged = token.replacen("eyJ", "eyK", 2);
        assert_ne!(forged, token);
        assert_eq!(keys().verify_access(&forged), None);
        assert_eq!(keys().verify_access("not a jwt"), None);
    }

    #[test]
    fn every_access_token_names_its_session() {
        let now = chrono::Utc::now().timestamp();
        let sessionless = Principal {
            user_id: "u1".into(),
            role: Role::Admin,
            session_id: None,
        };
        assert_eq!(keys().issue_access(&sessionless, now), None);
        // A token of the format before sessions (no `sid`) no longer verifies.
        let old = serde_json::json!({ "sub": "u1", "role": "admin", "iss": ISSUER,
                                      "iat": now, "exp": now + 60 });
        let token = jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &old,
            &EncodingKey::from_secret(&[7u8; 32]),
        )
        .unwrap_or_default();
        assert!(!token.is_empty());
        assert_eq!(keys().verify_access(&token), None);
    }

    #[test]
    fn refresh_tokens_are_random_and_hashed() {
        let (a, b) = (new_refresh_token(), new_refresh_token());
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert_eq!(hash_refresh_token(&a).len(), 64);
        assert_ne!(hash_refresh_token(&a), a);
    }
}
