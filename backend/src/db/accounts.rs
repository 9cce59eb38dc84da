//! Users and refresh-token families.

use super::{BeginWrite, Db, StoreError, is_unique_violation};
use crate::with_pool;

/// A stored account.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UserRow {
    /// UUID.
    pub id: String,
    /// Lower-cased e-mail address.
    pub email: String,
    /// PHC string of the argon2id hash.
    pub password_hash: String,
    /// Name shown to others (organizer name on events).
    pub display_name: String,
    /// `attendee`, `organizer` or `admin`.
    pub role: String,
    /// Unix seconds.
    pub created_at: i64,
}

/// What presenting a refresh token led to.
#[derive(Debug)]
pub enum Rotation {
    /// The token was live; it is now used and a successor was stored in the same family.
    /// Carries the account and the session (the family's id).
    Rotated(UserRow, String),
    /// The token had already been used: its whole family is now revoked and its session
    /// ended (theft suspected).
    Reused,
    /// Unknown, expired or revoked, or its session ended or reached its absolute lifetime.
    Invalid,
}

/// The stored state of one refresh token.
#[derive(Debug, sqlx::FromRow)]
struct RefreshRow {
    family_id: String,
    user_id: String,
    expires_at: i64,
    used_at: Option<i64>,
    revoked_at: Option<i64>,
}

const USER_COLUMNS: &str = "id, email, password_hash, display_name, role, created_at";

impl Db {
    /// Stores a new account; a taken e-mail is a [`StoreError::Conflict`].
    pub async fn create_user(&self, user: &UserRow) -> Result<(), StoreError> {
        let result = with_pool!(self, |pool| {
            sqlx::query(
                "INSERT INTO users (id, email, password_hash, display_name, role, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(&user.id)
            .bind(&user.email)
            .bind(&user.password_hash)
            .bind(&user.display_name)
            .bind(&user.role)
            .bind(user.created_at)
            .execute(pool)
            .await
            .map(|_| ())
        });
        match result {
            Ok(_) => Ok(()),
            Err(e) if is_unique_violation(&e) => Err(StoreError::Conflict(
                "an account with this e-mail already exists",
            )),
            Err(e) => Err(e.into()),
        }
    }

    /// The account with this (lower-cased) e-mail.
    pub async fn user_by_email(&self, email: &str) -> Result<Option<UserRow>, StoreError> {
        let sql = sqlx::AssertSqlSafe(format!("SELECT {USER_COLUMNS} FROM users WHERE email = $1"));
        Ok(with_pool!(self, |pool| {
            sqlx::query_as::<_, UserRow>(sql)
                .bind(email)
                .fetch_optional(pool)
                .await?
        }))
    }

    /// The account with this id.
    pub async fn user(&self, id: &str) -> Result<Option<UserRow>, StoreError> {
        let sql = sqlx::AssertSqlSafe(format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1"));
        Ok(with_pool!(self, |pool| {
            sqlx::query_as::<_, UserRow>(sql)
                .bind(id)
                .fetch_optional(pool)
                .await?
        }))
    }

    /// The language the account reads its mail in (`en`, `fr`, `ar`; `None`: not chosen).
    pub async fn language(&self, user_id: &str) -> Result<Option<String>, StoreError> {
        let row: Option<(Option<String>,)> = with_pool!(self, |pool| {
            sqlx::query_as("SELECT language FROM users WHERE id = $1")
                .bind(user_id)
                .fetch_optional(pool)
                .await?
        });
        Ok(row.and_then(|(language,)| language))
    }

    /// Sets (or with `None` clears) the account's language; [`StoreError::NotFound`] for an
    /// unknown account.
    pub async fn set_language(
        &self,
        user_id: &str,
        language: Option<&str>,
    ) -> Result<(), StoreError> {
        let n = with_pool!(self, |pool| {
            sqlx::query("UPDATE users SET language = $2 WHERE id = $1")
                .bind(user_id)
                .bind(language)
                .execute(pool)
                .await?
                .rows_affected()
        });
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    /// Stores the first refresh token of a new family (a log-in).
    pub async fn insert_refresh_token(
        &self,
        token_hash: &str,
        family_id: &str,
        user_id: &str,
        now: i64,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        with_pool!(self, |pool| {
            sqlx::query(
                "INSERT INTO refresh_tokens \
                 (token_hash, family_id, user_id, created_at, expires_at) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(token_hash)
            .bind(family_id)
            .bind(user_id)
            .bind(now)
            .bind(expires_at)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// Exchanges a live refresh token for its successor, atomically. Presenting a token twice
    /// revokes the family: whoever holds either copy must log in again.
    pub async fn rotate_refresh_token(
        &self,
        presented_hash: &str,
        successor_hash: &str,
        now: i64,
        expires_at: i64,
    ) -> Result<Rotation, StoreError> {
        with_pool!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            let row: Option<RefreshRow> = sqlx::query_as(
                "SELECT family_id, user_id, expires_at, used_at, revoked_at \
                 FROM refresh_tokens WHERE token_hash = $1",
            )
            .bind(presented_hash)
            .fetch_optional(&mut *tx)
            .await?;
            let Some(RefreshRow {
                family_id: family,
                user_id,
                expires_at: token_expires,
                used_at,
                revoked_at,
            }) = row
            else {
                return Ok(Rotation::Invalid);
            };
            if revoked_at.is_some() || token_expires <= now {
                return Ok(Rotation::Invalid);
            }
            let session: Option<(i64,)> = sqlx::query_as(
                "SELECT expires_at FROM sessions WHERE id = $1 AND ended_at IS NULL",
            )
            .bind(&family)
            .fetch_optional(&mut *tx)
            .await?;
            let Some((session_expires,)) = session.filter(|(at,)| *at > now) else {
                return Ok(Rotation::Invalid);
            };
            let claimed = if used_at.is_none() {
                sqlx::query(
                    "UPDATE refresh_tokens SET used_at = $1 \
                     WHERE token_hash = $2 AND used_at IS NULL AND revoked_at IS NULL",
                )
                .bind(now)
                .bind(presented_hash)
                .execute(&mut *tx)
                .await?
                .rows_affected()
                    == 1
            } else {
                false
            };
            if !claimed {
                sqlx::query(
                    "UPDATE refresh_tokens SET revoked_at = $1 \
                     WHERE family_id = $2 AND revoked_at IS NULL",
                )
                .bind(now)
                .bind(&family)
                .execute(&mut *tx)
                .await?;
                sqlx::query(
                    "UPDATE sessions SET ended_at = $1, end_reason = 'refresh_reused' \
                     WHERE id = $2 AND ended_at IS NULL",
                )
                .bind(now)
                .bind(&family)
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                return Ok(Rotation::Reused);
            }
            sqlx::query(
                "INSERT INTO refresh_tokens \
                 (token_hash, family_id, user_id, created_at, expires_at) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(successor_hash)
            .bind(&family)
            .bind(&user_id)
            .bind(now)
            .bind(expires_at.min(session_expires))
            .execute(&mut *tx)
            .await?;
            let sql =
                sqlx::AssertSqlSafe(format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1"));
            let user = sqlx::query_as::<_, UserRow>(sql)
                .bind(&user_id)
                .fetch_optional(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(user.map_or(Rotation::Invalid, |u| Rotation::Rotated(u, family)))
        })
    }
}
