//! Second factor (TOTP enrolment, recovery codes) and the audit log.

use async_graphql::{Context, ID, Object, SimpleObject};
use chrono::{DateTime, Utc};

use super::RequestContext;
use super::types::instant;
use crate::AppState;
use crate::auth::{Principal, Role, totp};
use crate::db::accounts::UserRow;
use crate::db::audit::{Actor, AuditAction, AuditEntry, AuditRow};
use crate::db::now;
use crate::error::{ApiError, ApiResult, Code};

/// What an authenticator app needs to start producing codes.
#[derive(SimpleObject, Debug)]
pub struct TotpEnrolment {
    /// `otpauth://totp/…` URI (holds the secret: show it once, never log it).
    pub otpauth_uri: String,
    /// The URI as an SVG QR code.
    pub qr_svg: String,
}

/// One audit-log entry.
#[derive(SimpleObject, Debug)]
pub struct AuditLogEntry {
    /// Entry id (time-ordered).
    pub id: ID,
    /// When.
    pub at: DateTime<Utc>,
    /// The acting account's id; null for the server or an unknown account.
    pub actor_id: Option<ID>,
    /// What was done, e.g. `event.published`, `login.failed`.
    pub action: String,
    /// `account`, `session`, `event`, `ticket_type`, `order`, `scanner`, `key`.
    pub object_type: String,
    /// The object's id.
    pub object_id: Option<ID>,
    /// The event concerned, when there is one.
    pub event_id: Option<ID>,
    /// The client's address.
    pub address: Option<String>,
    /// Detail without personal data.
    pub detail: Option<String>,
}

impl From<AuditRow> for AuditLogEntry {
    fn from(r: AuditRow) -> AuditLogEntry {
        AuditLogEntry {
            id: ID(r.id),
            at: instant(r.at),
            actor_id: r.actor_id.map(ID),
            action: r.action,
            object_type: r.object_type,
            object_id: r.object_id.map(ID),
            event_id: r.event_id.map(ID),
            address: r.address,
            detail: r.detail,
        }
    }
}

/// A page of the audit log, newest first.
#[derive(SimpleObject, Debug)]
pub struct AuditLogPage {
    /// Entries, newest first.
    pub entries: Vec<AuditLogEntry>,
    /// Pass as `after` for the next (older) page.
    pub end_cursor: Option<String>,
    /// Whether older entries remain.
    pub has_more: bool,
}

#[derive(Default, Debug)]
pub struct SecurityQuery;

#[derive(Default, Debug)]
pub struct SecurityMutation;

fn context<'a>(ctx: &Context<'a>) -> ApiResult<(&'a AppState, &'a RequestContext)> {
    let state = ctx
        .data::<AppState>()
        .map_err(|e| ApiError::internal(&e.message))?;
    let req = ctx
        .data::<RequestContext>()
        .map_err(|e| ApiError::internal(&e.message))?;
    Ok((state, req))
}

fn seal_context(user_id: &str) -> String {
    format!("totp:{user_id}")
}

/// The account's TOTP secret, opened with the key-encryption key, or during a rotation with
/// the previous one (`GUICHET_PREVIOUS_KEY_ENCRYPTION_KEY`).
fn open_secret(state: &AppState, user_id: &str, sealed: &str) -> ApiResult<[u8; 32]> {
    let context = seal_context(user_id);
    state.sealer.open(sealed, &context).or_else(|e| {
        state
            .config
            .previous_key_encryption_key
            .as_ref()
            .and_then(|previous| {
                crate::issuing::Sealer::new(previous)
                    .open(sealed, &context)
                    .ok()
            })
            .ok_or_else(|| ApiError::internal(&e))
    })
}

/// Checks the second factor of a log-in whose password was right: nothing to check without
/// TOTP enabled; otherwise a current TOTP code (once) or an unused recovery code. Refusals
/// are `UNAUTHENTICATED`; the caller counts them as failed attempts.
pub(super) async fn second_factor(
    state: &AppState,
    req: &RequestContext,
    user: &UserRow,
    code: Option<&str>,
) -> Result<(), SecondFactorRefusal> {
    let Some(credential) = state.db.totp(&user.id).await.map_err(internal)? else {
        return Ok(());
    };
    if credential.enabled_at.is_none() {
        return Ok(());
    }
    let Some(code) = code.map(str::trim).filter(|c| !c.is_empty()) else {
        return Err(SecondFactorRefusal::Missing);
    };
    if code.len() > 32 {
        return Err(SecondFactorRefusal::Wrong);
    }
    let secret = open_secret(state, &user.id, &credential.sealed_secret)
        .map_err(SecondFactorRefusal::Internal)?;
    if let Some(step) = totp::verify(&secret, code, now(), credential.last_step) {
        return if state
            .db
            .claim_totp_step(&user.id, step)
            .await
            .map_err(internal)?
        {
            Ok(())
        } else {
            Err(SecondFactorRefusal::Wrong)
        };
    }
    let entry = AuditEntry::new(
        &Actor::user(&user.id, &req.client),
        AuditAction::RecoveryCodeUsed,
        "account",
        Some(&user.id),
        now(),
    );
    let used = state
        .db
        .use_recovery_code(&user.id, &totp::hash_recovery_code(code), now(), &entry)
        .await
        .map_err(internal)?;
    if used {
        Ok(())
    } else {
        Err(SecondFactorRefusal::Wrong)
    }
}

fn internal(e: crate::db::StoreError) -> SecondFactorRefusal {
    SecondFactorRefusal::Internal(ApiError::from(e))
}

/// Why a second factor was refused.
#[derive(Debug)]
pub(super) enum SecondFactorRefusal {
    /// TOTP is enabled and no code was given.
    Missing,
    /// The code is wrong, replayed, or a used recovery code.
    Wrong,
    /// Storage or sealing failed.
    Internal(ApiError),
}

impl SecondFactorRefusal {
    /// The stored reason, for the audit log.
    pub(super) fn reason(&self) -> &'static str {
        match self {
            SecondFactorRefusal::Missing => "second_factor_missing",
            SecondFactorRefusal::Wrong => "second_factor_wrong",
            SecondFactorRefusal::Internal(_) => "internal",
        }
    }

    /// The API error.
    pub(super) fn into_error(self) -> ApiError {
        match self {
            SecondFactorRefusal::Missing => ApiError::new(
                Code::Unauthenticated,
                "this account requires a second factor: pass secondFactor (a code from the \
                 authenticator app, or a recovery code)",
            ),
            SecondFactorRefusal::Wrong => {
                ApiError::new(Code::Unauthenticated, "wrong or already used second factor")
            }
            SecondFactorRefusal::Internal(e) => e,
        }
    }
}

/// Refuses publishing for an organizer without TOTP when the server requires it.
pub(crate) async fn may_publish(state: &AppState, principal: &Principal) -> ApiResult<()> {
    if !state.config.require_2fa_to_publish || principal.role == Role::Admin {
        return Ok(());
    }
    if state.db.totp_enabled(&principal.user_id).await? {
        Ok(())
    } else {
        Err(ApiError::new(
            Code::Forbidden,
            "enable a second factor (TOTP) before publishing an event",
        ))
    }
}

#[Object]
impl SecurityQuery {
    /// The audit log, newest first: one event's entries (its organizer, or an admin), or
    /// with no `eventId` the whole platform's (admins only).
    async fn audit_log(
        &self,
        ctx: &Context<'_>,
        event_id: Option<ID>,
        #[graphql(default = 50)] first: i32,
        after: Option<String>,
    ) -> async_graphql::Result<AuditLogPage> {
        let (state, req) = context(ctx)?;
        let principal = req.principal()?;
        if !(1..=200).contains(&first) {
            return Err(ApiError::invalid("first", "give 1 to 200").into());
        }
        match &event_id {
            None if principal.role != Role::Admin => return Err(ApiError::forbidden().into()),
            None => {}
            Some(id) => {
                let event = state
                    .db
                    .event(id)
                    .await
                    .map_err(ApiError::from)?
                    .ok_or_else(|| ApiError::not_found("event"))?;
                let owner =
                    principal.role == Role::Organizer && event.organizer_id == principal.user_id;
                if !owner && principal.role != Role::Admin {
                    return Err(ApiError::forbidden().into());
                }
            }
        }
        if after.as_ref().is_some_and(|a| a.len() > 64) {
            return Err(ApiError::invalid("after", "malformed cursor").into());
        }
        let mut rows = state
            .db
            .audit_entries(
                event_id.as_ref().map(|id| id.as_str()),
                after.as_deref(),
                i64::from(first) + 1,
            )
            .await
            .map_err(ApiError::from)?;
        let has_more = rows.len() > usize::try_from(first).unwrap_or(0);
        rows.truncate(usize::try_from(first).unwrap_or(0));
        Ok(AuditLogPage {
            end_cursor: rows.last().map(|r| r.id.clone()),
            entries: rows.into_iter().map(AuditLogEntry::from).collect(),
            has_more,
        })
    }
}

#[Object]
impl SecurityMutation {
    /// Starts TOTP enrolment: a new secret, as an `otpauth://` URI and its QR code. Nothing
    /// changes at log-in until `confirmTotp` proves a first code. `CONFLICT` when TOTP is
    /// already enabled.
    async fn begin_totp_enrolment(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<TotpEnrolment> {
        let (state, req) = context(ctx)?;
        let principal = req.principal()?;
        let user = state
            .db
            .user(&principal.user_id)
            .await
            .map_err(ApiError::from)?
            .ok_or_else(ApiError::unauthenticated)?;
        let secret = totp::new_secret();
        let sealed = state
            .sealer
            .seal(&secret, &seal_context(&user.id))
            .map_err(|e| ApiError::internal(&e))?;
        let entry = AuditEntry::new(
            &Actor::user(&user.id, &req.client),
            AuditAction::TotpEnrolmentStarted,
            "account",
            Some(&user.id),
            now(),
        );
        state
            .db
            .begin_totp(&user.id, &sealed, now(), &entry)
            .await
            .map_err(ApiError::from)?;
        let uri = totp::otpauth_uri(&secret, "Guichet", &user.email);
        let qr_svg = totp::qr_svg(&uri).ok_or_else(|| ApiError::internal(&"QR code"))?;
        Ok(TotpEnrolment {
            otpauth_uri: uri,
            qr_svg,
        })
    }

    /// Enables TOTP with a first code from the app, and returns ten recovery codes (shown
    /// once; each works once in place of a code). Rate-limited like log-in.
    async fn confirm_totp(
        &self,
        ctx: &Context<'_>,
        code: String,
    ) -> async_graphql::Result<Vec<String>> {
        let (state, req) = context(ctx)?;
        let principal = req.principal()?;
        let attempt = state
            .login_guard
            .begin(&principal.user_id, &req.client)
            .map_err(|_| {
                ApiError::new(
                    Code::RateLimited,
                    "too many attempts; wait a minute and try again",
                )
            })?;
        let pending = state
            .db
            .totp(&principal.user_id)
            .await
            .map_err(ApiError::from)?
            .filter(|t| t.enabled_at.is_none())
            .ok_or_else(|| {
                ApiError::new(Code::Conflict, "no enrolment pending: begin one first")
            })?;
        let secret = open_secret(state, &principal.user_id, &pending.sealed_secret)?;
        let Some(step) = totp::verify(&secret, &code, now(), 0) else {
            state.login_guard.failed(attempt);
            return Err(ApiError::invalid("code", "wrong code; check the app's clock").into());
        };
        state.login_guard.succeeded(attempt);
        let codes = totp::new_recovery_codes();
        let hashes: Vec<String> = codes.iter().map(|c| totp::hash_recovery_code(c)).collect();
        let entry = AuditEntry::new(
            &Actor::user(&principal.user_id, &req.client),
            AuditAction::TotpEnabled,
            "account",
            Some(&principal.user_id),
            now(),
        );
        let enabled = state
            .db
            .enable_totp(&principal.user_id, step, &hashes, now(), &entry)
            .await
            .map_err(ApiError::from)?;
        if !enabled {
            return Err(ApiError::new(Code::Conflict, "no enrolment pending").into());
        }
        Ok(codes)
    }

    /// Disables TOTP given a current code or a recovery code; every session of the account
    /// ends.
    async fn disable_totp(&self, ctx: &Context<'_>, code: String) -> async_graphql::Result<bool> {
        let (state, req) = context(ctx)?;
        let principal = req.principal()?;
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
        match second_factor(state, req, &user, Some(&code)).await {
            Ok(()) => state.login_guard.succeeded(attempt),
            Err(refusal) => {
                state.login_guard.failed(attempt);
                return Err(refusal.into_error().into());
            }
        }
        let entry = AuditEntry::new(
            &Actor::user(&user.id, &req.client),
            AuditAction::TotpDisabled,
            "account",
            Some(&user.id),
            now(),
        );
        Ok(state
            .db
            .disable_totp(&user.id, now(), &entry)
            .await
            .map_err(ApiError::from)?)
    }
}

impl RequestContext {
    /// Who acts in this request, for the audit log: the signed-in account (if any) and the
    /// client's address.
    pub(crate) fn actor(&self) -> Actor {
        Actor {
            user_id: match &self.caller {
                super::Caller::User(p) => Some(p.user_id.clone()),
                _ => None,
            },
            address: Some(self.client.clone()),
        }
    }
}
