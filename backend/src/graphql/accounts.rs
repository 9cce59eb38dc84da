//! Sign-up, log-in, refresh, log-out and `me`.

use async_graphql::{ComplexObject, Context, Enum, InputObject, Object};

use super::RequestContext;
use super::types::{AuthPayload, User, instant};
use crate::AppState;
use crate::auth::tokens::{hash_refresh_token, new_refresh_token};
use crate::auth::{Principal, Role, password};
use crate::db::accounts::{Rotation, UserRow};
use crate::db::now;
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

async fn start_session(state: &AppState, user: UserRow) -> ApiResult<AuthPayload> {
    let now = now();
    let refresh = new_refresh_token();
    let family = uuid::Uuid::new_v4().to_string();
    state
        .db
        .insert_refresh_token(
            &hash_refresh_token(&refresh),
            &family,
            &user.id,
            now,
            now + state.tokens.refresh_ttl,
        )
        .await?;
    payload(state, user, refresh, now)
}

fn payload(state: &AppState, user: UserRow, refresh: String, now: i64) -> ApiResult<AuthPayload> {
    let role = Role::parse(&user.role).ok_or_else(|| ApiError::internal(&"unknown role stored"))?;
    let principal = Principal {
        user_id: user.id.clone(),
        role,
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

#[Object]
impl AccountQuery {
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
        Ok(start_session(state, user).await?)
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
    /// the same answer in the same time.
    async fn log_in(
        &self,
        ctx: &Context<'_>,
        email: String,
        password: String,
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
                state.login_guard.succeeded(attempt);
                Ok(start_session(state, user).await?)
            }
            _ => {
                state.login_guard.failed(attempt);
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
            Rotation::Rotated(user) => Ok(payload(state, user, successor, now)?),
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

    /// Ends the session the refresh token belongs to. Access tokens already issued expire on
    /// their own within minutes.
    async fn log_out(
        &self,
        ctx: &Context<'_>,
        refresh_token: String,
    ) -> async_graphql::Result<bool> {
        let state = ctx.data::<AppState>()?;
        if refresh_token.len() > 128 {
            return Err(ApiError::invalid("refreshToken", "malformed refresh token").into());
        }
        Ok(state
            .db
            .revoke_refresh_family(&hash_refresh_token(&refresh_token), now())
            .await
            .map_err(ApiError::from)?)
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
