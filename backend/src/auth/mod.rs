//! Accounts and sessions: argon2id passwords, short-lived JWT access tokens bound to a
//! session that can end at once, rotating refresh tokens, second factors, external
//! OpenID Connect issuers, and the limiters that guard log-in and sign-up.

pub mod login_guard;
pub mod oidc;
pub mod password;
pub mod rate_limit;
pub mod session_check;
pub mod tokens;
pub mod totp;

pub use tokens::{Principal, Role};

use crate::AppState;
use crate::db::audit::{Actor, AuditAction, AuditEntry};
use crate::db::sessions::ExternalAccount;

/// The principal of a bearer token, or `None` when the token is expired, forged, malformed,
/// or names a session that has ended. Guichet's own tokens (HS256) are checked against the
/// session table on every call (a read that starts after the call began, shared with the
/// calls that came at the same time: [`session_check`]), so a log-out, a password or role
/// change or a revocation ends them on the very next request, on every replica. Other
/// tokens go to the configured OpenID Connect issuer, if any. A storage failure refuses the
/// token rather than trusting it.
pub async fn authenticate(state: &AppState, token: &str) -> Option<Principal> {
    let header = jsonwebtoken::decode_header(token).ok()?;
    if header.alg != jsonwebtoken::Algorithm::HS256 {
        return external(state, token).await;
    }
    let principal = state.tokens.verify_access(token)?;
    let session = principal.session_id.as_deref()?;
    match state.sessions.alive(session, &principal.user_id).await {
        Ok(true) => Some(principal),
        Ok(false) => None,
        Err(e) => {
            tracing::error!(error = %e, "session check failed; token refused");
            None
        }
    }
}

/// The principal of an external issuer's access token: its subject's account, created on
/// first use from the e-mail claim, with the role the roles claim gives.
async fn external(state: &AppState, token: &str) -> Option<Principal> {
    let verifier = state.oidc.as_ref()?;
    let claims = verifier.verify(token).await?;
    let role = claims.role(verifier.roles_claim());
    let email = claims
        .email
        .as_deref()
        .map(|e| e.trim().to_lowercase())
        .filter(|e| e.len() <= 254 && e.contains('@'));
    let now = crate::db::now();
    let entry = AuditEntry::new(
        &Actor::system(),
        AuditAction::ExternalAccountCreated,
        "account",
        None,
        now,
    )
    .detail("issuer=oidc");
    let who = ExternalAccount {
        issuer: verifier.issuer(),
        subject: &claims.sub,
        email: email.as_deref(),
        role: role.as_str(),
    };
    match state.db.external_account(&who, now, &entry).await {
        Ok(Some(user)) => Some(Principal {
            user_id: user.id,
            role,
            session_id: None,
        }),
        Ok(None) => {
            tracing::warn!("external token refused: no e-mail claim, or the e-mail is taken");
            None
        }
        Err(e) => {
            tracing::error!(error = %e, "external account lookup failed; token refused");
            None
        }
    }
}
