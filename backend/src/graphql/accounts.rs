//! Sign-up, log-in, refresh, log-out, `me`, and what ends sessions: password and role
//! changes and revocation.

use async_graphql::{ComplexObject, Context, Enum, ID, InputObject, Object};

use super::RequestContext;
use super::types::{AuthPayload, User, instant};
use crate::AppState;
use crate::auth::tokens::{hash_refresh_token, new_refresh_token};
use crate::auth::{Principal, Role, password};
use crate::db::accounts::{Rotation, UserRow};
use crate::db::audit::{Actor, AuditAction, AuditEntry};
use crate::db::now;
use crate::db::sessions::{EndReason, NewSession};
use crate::error::{ApiError, ApiResult, Code};

/// Roles a person can give themselves.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignUpRole {
    /// Books tickets.
    Attendee,
    /// Runs events.
    Organizer,
}

/// A new account.
#[derive(InputObject, Debug)]
pub struct SignUpInput {
    /// E-mail address (case-insensitive, at most 254 characters).
    pub email: String,
    /// 10 to 256 bytes.
    pub password: String,
    /// 1–100 characters.
    pub display_name: String,
    /// Defaults to ATTENDEE.
    #[graphql(default_with = "SignUpRole::Attendee")]
    pub role: SignUpRole,
    /// The language of the account's e-mails; English when not given.
    pub language: Option<Language>,
}

/// A language e-mails are written in.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Language {
    /// English.
    En,
    /// French.
    Fr,
    /// Arabic (right to left).
    Ar,
}

impl From<Language> for crate::mail::Language {
    fn from(language: Language) -> crate::mail::Language {
        match language {
            Language::En => crate::mail::Language::En,
            Language::Fr => crate::mail::Language::Fr,
            Language::Ar => crate::mail::Language::Ar,
        }
    }
}

#[ComplexObject]
impl User {
    /// The language of the account's e-mails; null when never chosen (English is used).
    async fn language(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Language>> {
        // `User` is only ever the caller's own account (`me`, `setLanguage`, and the session
        // payloads of sign-up, log-in and refresh), like its e-mail address.
        let state = ctx.data::<AppState>()?;
        let stored = state.db.language(&self.id).await.map_err(ApiError::from)?;
        Ok(
            match stored.as_deref().and_then(crate::mail::Language::parse) {
                Some(crate::mail::Language::En) => Some(Language::En),
                Some(crate::mail::Language::Fr) => Some(Language::Fr),
                Some(crate::mail::Language::Ar) => Some(Language::Ar),
                None => None,
            },
        )
    }
}

#[derive(Default, Debug)]
pub struct AccountQuery;

#[derive(Default, Debug)]
pub struct AccountMutation;

fn normalise_email(email: &str) -> ApiResult<String> {
    let email = email.trim().to_lowercase();
    let valid = email.len() <= 254
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !domain.contains('@')
        });
    if valid {
        Ok(email)
    } else {
        Err(ApiError::invalid("email", "not a valid e-mail address"))
    }
}

fn check_password(password: &str) -> ApiResult<()> {
    if password.chars().count() < password::MIN_LEN || password.len() > password::MAX_BYTES {
        return Err(ApiError::invalid(
            "password",
            format!(
                "use {} to {} characters",
                password::MIN_LEN,
                password::MAX_BYTES
            ),
        ));
    }
    Ok(())
}

fn rate_limit(state: &AppState, key: String) -> ApiResult<()> {
    if state.auth_limiter.allow(&key) {
        Ok(())
    } else {
        Err(ApiError::new(
            Code::RateLimited,
            "too many attempts; wait a minute and try again",
        ))
    }
}

/// Starts a session for `user` (a log-in or a sign-up) and records it in the audit log, in
/// one transaction.
async fn start_session(
    state: &AppState,
    req: &RequestContext,
    user: UserRow,
    how: &str,
) -> ApiResult<AuthPayload> {
    let now = now();
    let refresh = new_refresh_token();
    let session = uuid::Uuid::new_v4().to_string();
    let entry = AuditEntry::new(
        &Actor::user(&user.id, &req.client),
        AuditAction::LoginSucceeded,
        "session",
        Some(&session),
        now,
    )
    .detail(format!("method={how}"));
    state
        .db
        .start_session(
            &NewSession {
                id: &session,
                user_id: &user.id,
                refresh_hash: &hash_refresh_token(&refresh),
                now,
                refresh_expires_at: now + state.tokens.refresh_ttl,
                expires_at: now + state.config.session_max_secs,
            },
            &entry,
        )
        .await?;
    payload(state, user, refresh, session, now)
}

fn payload(
    state: &AppState,
    user: UserRow,
    refresh: String,
    session: String,
    now: i64,
) -> ApiResult<AuthPayload> {
    let role = Role::parse(&user.role).ok_or_else(|| ApiError::internal(&"unknown role stored"))?;
    let principal = Principal {
        user_id: user.id.clone(),
        role,
        session_id: Some(session),
    };
    let access = state
        .tokens
        .issue_access(&principal, now)
        .ok_or_else(|| ApiError::internal(&"token signing failed"))?;
    Ok(AuthPayload {
        access_token: access,
        access_token_expires_at: instant(now + state.tokens.access_ttl),
        refresh_token: refresh,
        user: user.into(),
    })
}

/// Records a refused log-in (its own entry: a refusal writes nothing else).
async fn log_failure(state: &AppState, req: &RequestContext, user: Option<&UserRow>, why: &str) {
    let actor = Actor {
        user_id: user.map(|u| u.id.clone()),
        address: Some(req.client.clone()),
    };
    let entry = AuditEntry::new(
        &actor,
        AuditAction::LoginFailed,
        "account",
        user.map(|u| u.id.as_str()),
        now(),
    )
    .detail(format!("reason={why}"));
    if let Err(e) = state.db.append_audit(&entry).await {
        tracing::error!(error = %e, "could not record a refused log-in");
    }
}

/// The account's stored role.
fn role_of(user: &UserRow) -> ApiResult<Role> {
    Role::parse(&user.role).ok_or_else(|| ApiError::internal(&"unknown role stored"))
}

#[Object]
impl AccountQuery {
    /// Everything Guichet stores about the caller, as a JSON document: the account, its
    /// orders, tickets and sessions, and the audit entries of its own actions.
    async fn export_my_data(&self, ctx: &Context<'_>) -> async_graphql::Result<String> {
        let (state, req) = (ctx.data::<AppState>()?, ctx.data::<RequestContext>()?);
        let principal = req.principal()?;
        let data = state
            .db
            .export_personal_data(&principal.user_id)
            .await
            .map_err(ApiError::from)?;
        Ok(data.to_string())
    }

    /// The signed-in account, or null when anonymous.
    async fn me(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<User>> {
        let (state, req) = (ctx.data::<AppState>()?, ctx.data::<RequestContext>()?);
        if req.caller == super::Caller::Anonymous {
            return Ok(None);
        }
        let principal = req.principal()?;
        Ok(state
            .db
            .user(&principal.user_id)
            .await
            .map_err(ApiError::from)?
            .map(User::from))
    }
}

#[Object]
impl AccountMutation {
    /// Erases the caller's account (the password confirms it; accounts of an external
    /// provider have none): e-mail, name and password are erased, every session ends, and
    /// orders and tickets stay, anonymised, for accounting. `CONFLICT` for an organizer who
    /// owns events.
    async fn delete_my_account(
        &self,
        ctx: &Context<'_>,
        password: Option<String>,
    ) -> async_graphql::Result<bool> {
        let (state, req) = (ctx.data::<AppState>()?, ctx.data::<RequestContext>()?);
        let principal = req.principal()?;
        let user = state
            .db
            .user(&principal.user_id)
            .await
            .map_err(ApiError::from)?
            .ok_or_else(ApiError::unauthenticated)?;
        if principal.session_id.is_some() {
            let password = password.unwrap_or_default();
            if password.len() > password::MAX_BYTES {
                return Err(ApiError::invalid("password", "too long").into());
            }
            let attempt = state
                .login_guard
                .begin(&user.email, &req.client)
                .map_err(|_| {
                    ApiError::new(
                        Code::RateLimited,
                        "too many attempts; wait a minute and try again",
                    )
                })?;
            if !password::verify(password, Some(user.password_hash.clone())).await {
                state.login_guard.failed(attempt);
                return Err(ApiError::new(Code::Unauthenticated, "wrong password").into());
            }
            state.login_guard.succeeded(attempt);
        }
        let entry = AuditEntry::new(
            &Actor::user(&user.id, &req.client),
            AuditAction::AccountDeleted,
            "account",
            Some(&user.id),
            now(),
        );
        state
            .db
            .erase_account(&user.id, now(), &entry)
            .await
            .map_err(ApiError::from)?;
        Ok(true)
    }

    /// Creates an account and signs it in.
    async fn sign_up(
        &self,
        ctx: &Context<'_>,
        input: SignUpInput,
    ) -> async_graphql::Result<AuthPayload> {
        let (state, req) = (ctx.data::<AppState>()?, ctx.data::<RequestContext>()?);
        rate_limit(state, format!("signup:{}", req.client))?;
        let email = normalise_email(&input.email)?;
        check_password(&input.password)?;
        let name = input.display_name.trim();
        if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
            return Err(ApiError::invalid("displayName", "use 1 to 100 characters").into());
        }
        let role = match input.role {
            SignUpRole::Attendee => Role::Attendee,
            SignUpRole::Organizer => Role::Organizer,
        };
        let hash = password::hash(input.password)
            .await
            .map_err(|e| ApiError::internal(&e))?;
        let user = UserRow {
            id: uuid::Uuid::now_v7().to_string(),
            email,
            password_hash: hash,
            display_name: name.to_owned(),
            role: role.as_str().to_owned(),
            created_at: now(),
        };
        state.db.create_user(&user).await.map_err(ApiError::from)?;
        if let Some(language) = input.language {
            let code = crate::mail::Language::from(language).code();
            state
                .db
                .set_language(&user.id, Some(code))
                .await
                .map_err(ApiError::from)?;
        }
        Ok(start_session(state, req, user, "sign_up").await?)
    }

    /// Sets the language of the signed-in account's e-mails (null: back to English).
    async fn set_language(
        &self,
        ctx: &Context<'_>,
        language: Option<Language>,
    ) -> async_graphql::Result<User> {
        let (state, req) = (ctx.data::<AppState>()?, ctx.data::<RequestContext>()?);
        let principal = req.principal()?;
        let code = language.map(|l| crate::mail::Language::from(l).code());
        state
            .db
            .set_language(&principal.user_id, code)
            .await
            .map_err(ApiError::from)?;
        let user = state
            .db
            .user(&principal.user_id)
            .await
            .map_err(ApiError::from)?
            .ok_or_else(|| ApiError::new(Code::NotFound, "account not found"))?;
        Ok(user.into())
    }

    /// Exchanges e-mail and password for a session. Unknown e-mail and wrong password give
    /// the same answer in the same time. An account with TOTP enabled also needs
    /// `secondFactor`: a current code from the authenticator app, or an unused recovery
    /// code. Without it the answer is `UNAUTHENTICATED` saying a second factor is required
    /// (only once the password was right), and the client asks for the code and sends both
    /// again.
    async fn log_in(
        &self,
        ctx: &Context<'_>,
        email: String,
        password: String,
        second_factor: Option<String>,
    ) -> async_graphql::Result<AuthPayload> {
        let (state, req) = (ctx.data::<AppState>()?, ctx.data::<RequestContext>()?);
        if email.len() > 254 || password.len() > password::MAX_BYTES {
            return Err(ApiError::invalid("email", "e-mail or password too long").into());
        }
        let email = email.trim().to_lowercase();
        let attempt = state.login_guard.begin(&email, &req.client).map_err(|_| {
            ApiError::new(
                Code::RateLimited,
                "too many attempts; wait a minute and try again",
            )
        })?;
        let user = state
            .db
            .user_by_email(&email)
            .await
            .map_err(ApiError::from)?;
        let ok = password::verify(password, user.as_ref().map(|u| u.password_hash.clone())).await;
        match user {
            Some(user) if ok => {
                match super::security::second_factor(state, req, &user, second_factor.as_deref())
                    .await
                {
                    Ok(()) => {}
                    Err(refusal) => {
                        if matches!(refusal, super::security::SecondFactorRefusal::Wrong) {
                            state.login_guard.failed(attempt);
                        } else {
                            drop(attempt);
                        }
                        log_failure(state, req, Some(&user), refusal.reason()).await;
                        return Err(refusal.into_error().into());
                    }
                }
                state.login_guard.succeeded(attempt);
                let how = if second_factor.is_some() {
                    "password+second_factor"
                } else {
                    "password"
                };
                Ok(start_session(state, req, user, how).await?)
            }
            user => {
                state.login_guard.failed(attempt);
                let why = if user.is_some() {
                    "wrong_password"
                } else {
                    "unknown_account"
                };
                log_failure(state, req, user.as_ref(), why).await;
                Err(ApiError::new(Code::Unauthenticated, "wrong e-mail or password").into())
            }
        }
    }

    /// Exchanges a refresh token for a new session; the presented token stops working. A token
    /// presented a second time revokes every token of its session.
    async fn refresh_session(
        &self,
        ctx: &Context<'_>,
        refresh_token: String,
    ) -> async_graphql::Result<AuthPayload> {
        let state = ctx.data::<AppState>()?;
        if refresh_token.len() > 128 {
            return Err(ApiError::invalid("refreshToken", "malformed refresh token").into());
        }
        let now = now();
        let successor = new_refresh_token();
        let rotation = state
            .db
            .rotate_refresh_token(
                &hash_refresh_token(&refresh_token),
                &hash_refresh_token(&successor),
                now,
                now + state.tokens.refresh_ttl,
            )
            .await
            .map_err(ApiError::from)?;
        match rotation {
            Rotation::Rotated(user, session) => Ok(payload(state, user, successor, session, now)?),
            Rotation::Reused => {
                tracing::warn!("refresh token reuse detected; session family revoked");
                Err(ApiError::new(
                    Code::Unauthenticated,
                    "this session was ended; sign in again",
                )
                .into())
            }
            Rotation::Invalid => Err(ApiError::new(
                Code::Unauthenticated,
                "the refresh token is invalid or expired",
            )
            .into()),
        }
    }

    /// Ends the session the refresh token belongs to: its refresh tokens and every access
    /// token issued in it stop working at once. False when the session had already ended.
    async fn log_out(
        &self,
        ctx: &Context<'_>,
        refresh_token: String,
    ) -> async_graphql::Result<bool> {
        let (state, req) = (ctx.data::<AppState>()?, ctx.data::<RequestContext>()?);
        if refresh_token.len() > 128 {
            return Err(ApiError::invalid("refreshToken", "malformed refresh token").into());
        }
        let now = now();
        let actor = match &req.caller {
            super::Caller::User(p) => Actor::user(&p.user_id, &req.client),
            _ => Actor {
                user_id: None,
                address: Some(req.client.clone()),
            },
        };
        let entry = AuditEntry::new(&actor, AuditAction::SessionEnded, "session", None, now)
            .detail("reason=log_out");
        Ok(state
            .db
            .end_session_of_refresh(&hash_refresh_token(&refresh_token), now, entry)
            .await
            .map_err(ApiError::from)?)
    }

    /// Changes the caller's password. Every session of the account ends (on every device);
    /// the answer is a new session for this one.
    async fn change_password(
        &self,
        ctx: &Context<'_>,
        current_password: String,
        new_password: String,
    ) -> async_graphql::Result<AuthPayload> {
        let (state, req) = (ctx.data::<AppState>()?, ctx.data::<RequestContext>()?);
        let principal = req.principal()?.clone();
        if current_password.len() > password::MAX_BYTES {
            return Err(ApiError::invalid("currentPassword", "too long").into());
        }
        check_password(&new_password).map_err(|_| {
            ApiError::invalid(
                "newPassword",
                format!(
                    "use {} to {} characters",
                    password::MIN_LEN,
                    password::MAX_BYTES
                ),
            )
        })?;
        let user = state
            .db
            .user(&principal.user_id)
            .await
            .map_err(ApiError::from)?
            .ok_or_else(ApiError::unauthenticated)?;
        let attempt = state
            .login_guard
            .begin(&user.email, &req.client)
            .map_err(|_| {
                ApiError::new(
                    Code::RateLimited,
                    "too many attempts; wait a minute and try again",
                )
            })?;
        if !password::verify(current_password, Some(user.password_hash.clone())).await {
            state.login_guard.failed(attempt);
            return Err(ApiError::new(Code::Unauthenticated, "wrong current password").into());
        }
        state.login_guard.succeeded(attempt);
        let hash = password::hash(new_password)
            .await
            .map_err(|e| ApiError::internal(&e))?;
        let entry = AuditEntry::new(
            &Actor::user(&user.id, &req.client),
            AuditAction::PasswordChanged,
            "account",
            Some(&user.id),
            now(),
        );
        state
            .db
            .change_password(&user.id, &hash, now(), &entry)
            .await
            .map_err(ApiError::from)?;
        let user = UserRow {
            password_hash: hash,
            ..user
        };
        Ok(start_session(state, req, user, "password_change").await?)
    }

    /// Ends every session of an account at once: the caller's own (any account), or any
    /// account's (admins). Returns how many sessions ended.
    async fn revoke_sessions(
        &self,
        ctx: &Context<'_>,
        user_id: Option<ID>,
    ) -> async_graphql::Result<i32> {
        let (state, req) = (ctx.data::<AppState>()?, ctx.data::<RequestContext>()?);
        let principal = req.principal()?;
        let target = user_id.map_or_else(|| principal.user_id.clone(), |id| id.0);
        if target != principal.user_id && principal.role != Role::Admin {
            return Err(ApiError::forbidden().into());
        }
        if state
            .db
            .user(&target)
            .await
            .map_err(ApiError::from)?
            .is_none()
        {
            return Err(ApiError::not_found("account").into());
        }
        let entry = AuditEntry::new(
            &Actor::user(&principal.user_id, &req.client),
            AuditAction::SessionsRevoked,
            "account",
            Some(&target),
            now(),
        );
        let ended = state
            .db
            .end_sessions_of_user(&target, EndReason::Revoked, now(), &entry)
            .await
            .map_err(ApiError::from)?;
        Ok(i32::try_from(ended).unwrap_or(i32::MAX))
    }

    /// Gives an account another role (admins only). Its sessions end at once, since tokens
    /// carry the role. Returns the account.
    async fn set_role(
        &self,
        ctx: &Context<'_>,
        user_id: ID,
        role: Role,
    ) -> async_graphql::Result<User> {
        let (state, req) = (ctx.data::<AppState>()?, ctx.data::<RequestContext>()?);
        let principal = req.principal()?;
        if principal.role != Role::Admin {
            return Err(ApiError::forbidden().into());
        }
        let user = state
            .db
            .user(&user_id)
            .await
            .map_err(ApiError::from)?
            .ok_or_else(|| ApiError::not_found("account"))?;
        let entry = AuditEntry::new(
            &Actor::user(&principal.user_id, &req.client),
            AuditAction::RoleChanged,
            "account",
            Some(&user.id),
            now(),
        )
        .detail(format!(
            "from={} to={}",
            role_of(&user)?.as_str(),
            role.as_str()
        ));
        state
            .db
            .change_role(&user.id, role.as_str(), now(), &entry)
            .await
            .map_err(ApiError::from)?;
        Ok(UserRow {
            role: role.as_str().to_owned(),
            ..user
        }
        .into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalised_and_checked() {
        assert_eq!(
            normalise_email(" Ana@Example.ORG "),
            Ok("ana@example.org".to_owned())
        );
        for bad in [
            "",
            "ana",
            "ana@",
            "@x.org",
            "a b@x.org",
            "ana@x",
            "ana@.org",
            "a@b@c.org",
        ] {
            let refused = normalise_email(bad).err().map(|e| (e.code, e.field));
            assert_eq!(refused, Some((Code::InvalidInput, Some("email"))), "{bad}");
        }
        let long = format!("{}@x.org", "a".repeat(250));
        let refused = normalise_email(&long).err().map(|e| (e.code, e.field));
        assert_eq!(refused, Some((Code::InvalidInput, Some("email"))));
    }
}
