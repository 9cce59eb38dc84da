//! TOTP credentials and recovery codes. The TOTP secret is stored sealed with the
//! key-encryption key; recovery codes as SHA-256. Every change is audited in its
//! transaction.

use super::audit::AuditEntry;
use super::sessions::EndReason;
use super::{BeginWrite, Db, StoreError};
use crate::{audit, with_pool};

/// An account's TOTP credential.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TotpRow {
    /// The secret, sealed.
    pub sealed_secret: String,
    /// When the holder proved a first code; `None` while enrolment is pending.
    pub enabled_at: Option<i64>,
    /// The last step a code was accepted for.
    pub last_step: i64,
}

impl Db {
    /// The account's TOTP credential, pending or enabled.
    pub async fn totp(&self, user_id: &str) -> Result<Option<TotpRow>, StoreError> {
        Ok(with_pool!(self, |pool| {
            sqlx::query_as::<_, TotpRow>(
                "SELECT sealed_secret, enabled_at, last_step FROM totp_credentials \
                 WHERE user_id = $1",
            )
            .bind(user_id)
            .fetch_optional(pool)
            .await?
        }))
    }

    /// Whether the account has TOTP enabled.
    pub async fn totp_enabled(&self, user_id: &str) -> Result<bool, StoreError> {
        Ok(self
            .totp(user_id)
            .await?
            .is_some_and(|t| t.enabled_at.is_some()))
    }

    /// Stores a pending secret (replacing a pending one). `Conflict` once TOTP is enabled.
    pub async fn begin_totp(
        &self,
        user_id: &str,
        sealed_secret: &str,
        now: i64,
        entry: &AuditEntry,
    ) -> Result<(), StoreError> {
        with_pool!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            let enabled: Option<(Option<i64>,)> =
                sqlx::query_as("SELECT enabled_at FROM totp_credentials WHERE user_id = $1")
                    .bind(user_id)
                    .fetch_optional(&mut *tx)
                    .await?;
            if enabled.is_some_and(|(at,)| at.is_some()) {
                return Err(StoreError::Conflict(
                    "a second factor is already enabled; disable it first",
                ));
            }
            sqlx::query("DELETE FROM totp_credentials WHERE user_id = $1")
                .bind(user_id)
                .execute(&mut *tx)
                .await?;
            sqlx::query(
                "INSERT INTO totp_credentials (user_id, sealed_secret, created_at) \
                 VALUES ($1, $2, $3)",
            )
            .bind(user_id)
            .bind(sealed_secret)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            audit!(&mut *tx, entry)?;
            tx.commit().await?;
        });
        Ok(())
    }

    /// Enables the pending credential whose first code matched `step`, stores the recovery
    /// codes' hashes (replacing older ones) and ends the account's other sessions. False
    /// when nothing was pending (or it was enabled meanwhile).
    pub async fn enable_totp(
        &self,
        user_id: &str,
        step: i64,
        code_hashes: &[String],
        now: i64,
        entry: &AuditEntry,
    ) -> Result<bool, StoreError> {
        with_pool!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            let enabled = sqlx::query(
                "UPDATE totp_credentials SET enabled_at = $1, last_step = $2 \
                 WHERE user_id = $3 AND enabled_at IS NULL",
            )
            .bind(now)
            .bind(step)
            .bind(user_id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if enabled == 0 {
                return Ok(false);
            }
            sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1")
                .bind(user_id)
                .execute(&mut *tx)
                .await?;
            for hash in code_hashes {
                sqlx::query("INSERT INTO recovery_codes (user_id, code_hash) VALUES ($1, $2)")
                    .bind(user_id)
                    .bind(hash)
                    .execute(&mut *tx)
                    .await?;
            }
            audit!(&mut *tx, entry)?;
            tx.commit().await?;
            Ok(true)
        })
    }

    /// Claims `step` for the account's TOTP (a code works once): false when a code of this
    /// step or a later one was already accepted.
    pub async fn claim_totp_step(&self, user_id: &str, step: i64) -> Result<bool, StoreError> {
        let claimed = with_pool!(self, |pool| {
            sqlx::query(
                "UPDATE totp_credentials SET last_step = $1 \
                 WHERE user_id = $2 AND enabled_at IS NOT NULL AND last_step < $1",
            )
            .bind(step)
            .bind(user_id)
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(claimed == 1)
    }

    /// Uses a recovery code once, with `entry`, in one transaction. False when the code is
    /// unknown or used.
    pub async fn use_recovery_code(
        &self,
        user_id: &str,
        code_hash: &str,
        now: i64,
        entry: &AuditEntry,
    ) -> Result<bool, StoreError> {
        with_pool!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            let used = sqlx::query(
                "UPDATE recovery_codes SET used_at = $1 \
                 WHERE user_id = $2 AND code_hash = $3 AND used_at IS NULL",
            )
            .bind(now)
            .bind(user_id)
            .bind(code_hash)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if used == 0 {
                return Ok(false);
            }
            audit!(&mut *tx, entry)?;
            tx.commit().await?;
            Ok(true)
        })
    }

    /// Removes the account's TOTP credential and recovery codes and ends its sessions, with
    /// `entry`, in one transaction. False when none was enabled.
    pub async fn disable_totp(
        &self,
        user_id: &str,
        now: i64,
        entry: &AuditEntry,
    ) -> Result<bool, StoreError> {
        with_pool!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            let removed = sqlx::query(
                "DELETE FROM totp_credentials WHERE user_id = $1 AND enabled_at IS NOT NULL",
            )
            .bind(user_id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if removed == 0 {
                return Ok(false);
            }
            sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1")
                .bind(user_id)
                .execute(&mut *tx)
                .await?;
            crate::end_all!(&mut tx, user_id, EndReason::SecondFactorChanged, now);
            audit!(&mut *tx, entry)?;
            tx.commit().await?;
            Ok(true)
        })
    }
}
