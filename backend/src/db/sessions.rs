//! Sessions: one per log-in, shared id with its refresh-token family, named by every access
//! token issued in it. Ending a session is one row update; every request's token is checked
//! against the table by a read begun after the request arrived (shared by concurrent
//! requests: [`crate::auth::session_check`]), so no replica honours an ended session's
//! tokens.

use super::audit::AuditEntry;
use super::{BeginWrite, Db, StoreError};
use crate::{audit, with_pool};

/// Why a session ended (stored in `sessions.end_reason`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndReason {
    /// The holder logged out.
    LogOut,
    /// The password changed.
    PasswordChanged,
    /// The account's role changed.
    RoleChanged,
    /// An admin (or the holder) revoked every session.
    Revoked,
    /// The account was erased.
    AccountDeleted,
    /// A second factor was enabled or disabled.
    SecondFactorChanged,
}

impl EndReason {
    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            EndReason::LogOut => "log_out",
            EndReason::PasswordChanged => "password_changed",
            EndReason::RoleChanged => "role_changed",
            EndReason::Revoked => "revoked",
            EndReason::AccountDeleted => "account_deleted",
            EndReason::SecondFactorChanged => "second_factor_changed",
        }
    }
}

/// A new session with its first refresh token.
#[derive(Debug)]
pub struct NewSession<'a> {
    /// Session id, also the refresh-token family id.
    pub id: &'a str,
    /// The account.
    pub user_id: &'a str,
    /// SHA-256 of the first refresh token.
    pub refresh_hash: &'a str,
    /// Unix seconds.
    pub now: i64,
    /// When the first refresh token expires (sliding).
    pub refresh_expires_at: i64,
    /// When the session ends whatever the refreshes (absolute).
    pub expires_at: i64,
}

impl Db {
    /// Stores a session, its first refresh token and the audit entry of the log-in, in one
    /// transaction.
    pub async fn start_session(
        &self,
        session: &NewSession<'_>,
        entry: &AuditEntry,
    ) -> Result<(), StoreError> {
        with_pool!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            sqlx::query(
                "INSERT INTO sessions (id, user_id, created_at, expires_at) \
                 VALUES ($1, $2, $3, $4)",
            )
            .bind(session.id)
            .bind(session.user_id)
            .bind(session.now)
            .bind(session.expires_at)
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "INSERT INTO refresh_tokens \
                 (token_hash, family_id, user_id, created_at, expires_at) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(session.refresh_hash)
            .bind(session.id)
            .bind(session.user_id)
            .bind(session.now)
            .bind(session.refresh_expires_at.min(session.expires_at))
            .execute(&mut *tx)
            .await?;
            audit!(&mut *tx, entry)?;
            tx.commit().await?;
        });
        Ok(())
    }

    /// Whether the session `id` of `user_id` is live at `now`: one primary-key read, made on
    /// every authenticated request.
    pub async fn session_alive(
        &self,
        id: &str,
        user_id: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        let row: Option<(i64,)> = with_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT expires_at FROM sessions \
                 WHERE id = $1 AND user_id = $2 AND ended_at IS NULL",
            )
            .bind(id)
            .bind(user_id)
            .fetch_optional(pool)
            .await?
        });
        Ok(row.is_some_and(|(expires_at,)| expires_at > now))
    }

    /// The live sessions among `ids` at `now`, each with its account: one read for a batch
    /// of session checks (`id = ANY(…)` on PostgreSQL, `json_each` on SQLite, so the
    /// statement is the same whatever the batch's size and stays prepared).
    pub async fn live_sessions(
        &self,
        ids: &[&str],
        now: i64,
    ) -> Result<Vec<(String, String)>, StoreError> {
        let rows = match self {
            Db::Postgres(pool) => {
                sqlx::query_as(
                    "SELECT id, user_id FROM sessions \
                     WHERE id = ANY($1) AND ended_at IS NULL AND expires_at > $2",
                )
                .bind(ids)
                .bind(now)
                .fetch_all(pool)
                .await?
            }
            Db::Sqlite(pool) => {
                let ids = serde_json::to_string(ids)
                    .map_err(|e| StoreError::Database(sqlx::Error::Encode(Box::new(e))))?;
                sqlx::query_as(
                    "SELECT id, user_id FROM sessions \
                     WHERE id IN (SELECT value FROM json_each($1)) \
                     AND ended_at IS NULL AND expires_at > $2",
                )
                .bind(ids)
                .bind(now)
                .fetch_all(pool)
                .await?
            }
        };
        Ok(rows)
    }

    /// Ends the session that the refresh token `token_hash` belongs to (log-out), revoking its
    /// refresh tokens, with `entry` (whose object id is set to the session) in the same
    /// transaction. Returns whether a live session was found; nothing is written otherwise.
    pub async fn end_session_of_refresh(
        &self,
        token_hash: &str,
        now: i64,
        entry: AuditEntry,
    ) -> Result<bool, StoreError> {
        with_pool!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            let found: Option<(String, String)> = sqlx::query_as(
                "SELECT family_id, user_id FROM refresh_tokens WHERE token_hash = $1",
            )
            .bind(token_hash)
            .fetch_optional(&mut *tx)
            .await?;
            let Some((session, user)) = found else {
                return Ok(false);
            };
            let ended = sqlx::query(
                "UPDATE sessions SET ended_at = $1, end_reason = $2 \
                 WHERE id = $3 AND ended_at IS NULL",
            )
            .bind(now)
            .bind(EndReason::LogOut.as_str())
            .bind(&session)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            sqlx::query(
                "UPDATE refresh_tokens SET revoked_at = $1 \
                 WHERE family_id = $2 AND revoked_at IS NULL",
            )
            .bind(now)
            .bind(&session)
            .execute(&mut *tx)
            .await?;
            if ended == 0 {
                tx.commit().await?;
                return Ok(false);
            }
            let mut entry = entry;
            entry.object_id = Some(session);
            entry.actor_id = entry.actor_id.or(Some(user));
            audit!(&mut *tx, &entry)?;
            tx.commit().await?;
            Ok(true)
        })
    }

    /// Ends every live session of `user_id` and revokes their refresh tokens, with `entry`
    /// in the same transaction. Returns how many sessions ended.
    pub async fn end_sessions_of_user(
        &self,
        user_id: &str,
        reason: EndReason,
        now: i64,
        entry: &AuditEntry,
    ) -> Result<u64, StoreError> {
        with_pool!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            let ended = crate::end_all!(&mut tx, user_id, reason, now);
            audit!(&mut *tx, entry)?;
            tx.commit().await?;
            Ok(ended)
        })
    }
}

/// Ends every live session of an account inside a transaction: `end_all!(&mut tx, user,
/// reason, now)` evaluates to the number of sessions ended (`?` on errors).
#[macro_export]
macro_rules! end_all {
    ($tx:expr, $user:expr, $reason:expr, $now:expr) => {{
        let tx = $tx;
        let ended = sqlx::query(
            "UPDATE sessions SET ended_at = $1, end_reason = $2 \
             WHERE user_id = $3 AND ended_at IS NULL",
        )
        .bind($now)
        .bind($reason.as_str())
        .bind($user)
        .execute(&mut **tx)
        .await?
        .rows_affected();
        sqlx::query(
            "UPDATE refresh_tokens SET revoked_at = $1 \
             WHERE user_id = $2 AND revoked_at IS NULL",
        )
        .bind($now)
        .bind($user)
        .execute(&mut **tx)
        .await?;
        ended
    }};
}

impl Db {
    /// Replaces the account's password hash and ends every session, with `entry`, in one
    /// transaction. The caller starts the new session afterwards.
    pub async fn change_password(
        &self,
        user_id: &str,
        password_hash: &str,
        now: i64,
        entry: &AuditEntry,
    ) -> Result<(), StoreError> {
        with_pool!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            let changed = sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
                .bind(password_hash)
                .bind(user_id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if changed == 0 {
                return Err(StoreError::NotFound);
            }
            crate::end_all!(&mut tx, user_id, EndReason::PasswordChanged, now);
            audit!(&mut *tx, entry)?;
            tx.commit().await?;
        });
        Ok(())
    }

    /// Gives the account a new role and ends every session (tokens carry the role), with
    /// `entry`, in one transaction. Returns whether the role changed.
    pub async fn change_role(
        &self,
        user_id: &str,
        role: &str,
        now: i64,
        entry: &AuditEntry,
    ) -> Result<bool, StoreError> {
        with_pool!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            let current: Option<(String,)> =
                sqlx::query_as("SELECT role FROM users WHERE id = $1 AND deleted_at IS NULL")
                    .bind(user_id)
                    .fetch_optional(&mut *tx)
                    .await?;
            let Some((current,)) = current else {
                return Err(StoreError::NotFound);
            };
            if current == role {
                return Ok(false);
            }
            sqlx::query("UPDATE users SET role = $1 WHERE id = $2")
                .bind(role)
                .bind(user_id)
                .execute(&mut *tx)
                .await?;
            crate::end_all!(&mut tx, user_id, EndReason::RoleChanged, now);
            audit!(&mut *tx, entry)?;
            tx.commit().await?;
            Ok(true)
        })
    }
}

/// An account of an external issuer's subject, as the first use creates it.
#[derive(Debug)]
pub struct ExternalAccount<'a> {
    /// The issuer.
    pub issuer: &'a str,
    /// The subject at the issuer.
    pub subject: &'a str,
    /// Lower-cased e-mail from the token, for a new account.
    pub email: Option<&'a str>,
    /// The role the issuer's roles claim gives.
    pub role: &'a str,
}

impl Db {
    /// The account mapped to an external subject: the one linked before (its role brought in
    /// line with the issuer's), or a new one created from the e-mail claim with the link and
    /// `entry` in one transaction. `None` when there is no link and no usable e-mail, or the
    /// e-mail already belongs to a local account (linking it would hand that account to
    /// whoever controls the address at the issuer).
    pub async fn external_account(
        &self,
        who: &ExternalAccount<'_>,
        now: i64,
        entry: &AuditEntry,
    ) -> Result<Option<super::accounts::UserRow>, StoreError> {
        for _ in 0..2 {
            let linked: Option<(String, String)> = with_pool!(self, |pool| {
                sqlx::query_as(
                    "SELECT u.id, u.role FROM external_identities x JOIN users u \
                     ON u.id = x.user_id WHERE x.issuer = $1 AND x.subject = $2 \
                     AND u.deleted_at IS NULL",
                )
                .bind(who.issuer)
                .bind(who.subject)
                .fetch_optional(pool)
                .await?
            });
            if let Some((id, role)) = linked {
                if role != who.role {
                    with_pool!(self, |pool| {
                        sqlx::query("UPDATE users SET role = $1 WHERE id = $2")
                            .bind(who.role)
                            .bind(&id)
                            .execute(pool)
                            .await?;
                    });
                }
                return self.user(&id).await;
            }
            let Some(email) = who.email else {
                return Ok(None);
            };
            if self.user_by_email(email).await?.is_some() {
                return Ok(None);
            }
            let user = super::accounts::UserRow {
                id: uuid::Uuid::now_v7().to_string(),
                email: email.to_owned(),
                password_hash: "!".into(),
                display_name: email.split('@').next().unwrap_or_default().to_owned(),
                role: who.role.to_owned(),
                created_at: now,
            };
            let mut entry = entry.clone();
            entry.actor_id = Some(user.id.clone());
            entry.object_id = Some(user.id.clone());
            let created: Result<(), sqlx::Error> = with_pool!(self, |pool| {
                async {
                    let mut tx = pool.begin_write().await?;
                    sqlx::query(
                        "INSERT INTO users (id, email, password_hash, display_name, role, \
                         created_at) VALUES ($1, $2, $3, $4, $5, $6)",
                    )
                    .bind(&user.id)
                    .bind(&user.email)
                    .bind(&user.password_hash)
                    .bind(&user.display_name)
                    .bind(&user.role)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                    sqlx::query(
                        "INSERT INTO external_identities (issuer, subject, user_id, created_at) \
                         VALUES ($1, $2, $3, $4)",
                    )
                    .bind(who.issuer)
                    .bind(who.subject)
                    .bind(&user.id)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                    audit!(&mut *tx, &entry)?;
                    tx.commit().await
                }
                .await
            });
            match created {
                Ok(()) => return Ok(Some(user)),
                // A concurrent first use linked it (or took the e-mail): read again.
                Err(e) if super::is_unique_violation(&e) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Ok(None)
    }
}
