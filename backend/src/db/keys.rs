//! Events' issuing keys.

use super::audit::{Actor, AuditAction, AuditEntry};
use super::{BeginWrite, Db, StoreError};
use crate::issuing::{Sealer, seal_context};
use crate::{audit, with_pool};

/// What [`Db::reseal_event_keys`] found.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Reseal {
    /// Keys already sealed under the current key-encryption key.
    pub current: usize,
    /// Keys that opened with an older key and are now sealed under the current one.
    pub resealed: usize,
    /// Keys that open with none of the keys given.
    pub unopenable: usize,
}

/// A public key of an event's ring.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EventKeyRow {
    /// Key id, as credentials name it.
    pub key_id: i64,
    /// `active`, `rotated_out` or `retired`.
    pub status: String,
    /// Ed25519 public key, hex.
    pub public_key: String,
}

impl Db {
    /// The event's active issuing key (id and seed), created on first use. Concurrent first
    /// issuances agree on one key: the insert is a no-op for all but the first.
    pub async fn ensure_event_key(
        &self,
        event_id: &str,
        sealer: &Sealer,
        public_key_of: impl Fn(&[u8; 32]) -> String,
        now: i64,
    ) -> Result<(i64, [u8; 32]), StoreError> {
        let active = self.active_key(event_id).await?;
        if let Some((key_id, sealed)) = active {
            let seed = sealer
                .open(&sealed, &seal_context(event_id, key_id))
                .map_err(|_| StoreError::Conflict("event key cannot be unsealed"))?;
            return Ok((key_id, seed));
        }
        let seed: [u8; 32] = rand::random();
        let sealed = sealer
            .seal(&seed, &seal_context(event_id, 1))
            .map_err(|_| StoreError::Conflict("event key cannot be sealed"))?;
        with_pool!(self, |pool| {
            sqlx::query(
                "INSERT INTO event_keys (event_id, key_id, status, public_key, sealed_secret, \
                 created_at) VALUES ($1, 1, 'active', $2, $3, $4) ON CONFLICT DO NOTHING",
            )
            .bind(event_id)
            .bind(public_key_of(&seed))
            .bind(&sealed)
            .bind(now)
            .execute(pool)
            .await?;
        });
        let (key_id, sealed) = self
            .active_key(event_id)
            .await?
            .ok_or(StoreError::NotFound)?;
        let seed = sealer
            .open(&sealed, &seal_context(event_id, key_id))
            .map_err(|_| StoreError::Conflict("event key cannot be unsealed"))?;
        Ok((key_id, seed))
    }

    async fn active_key(&self, event_id: &str) -> Result<Option<(i64, String)>, StoreError> {
        Ok(with_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT key_id, sealed_secret FROM event_keys \
                 WHERE event_id = $1 AND status = 'active' ORDER BY key_id DESC LIMIT 1",
            )
            .bind(event_id)
            .fetch_optional(pool)
            .await?
        }))
    }

    /// Re-seals under `current` every issuing key that opens only with one of `older`
    /// (the previous key-encryption key during a rotation, or the key earlier versions derived
    /// from the token secret). Each row is replaced only if it still holds what was read, so
    /// replicas starting together re-seal each row once. Runs at start.
    pub async fn reseal_event_keys(
        &self,
        current: &Sealer,
        older: &[Sealer],
    ) -> Result<Reseal, StoreError> {
        let rows: Vec<(String, i64, String)> = with_pool!(self, |pool| {
            sqlx::query_as("SELECT event_id, key_id, sealed_secret FROM event_keys")
                .fetch_all(pool)
                .await?
        });
        let mut report = Reseal::default();
        for (event_id, key_id, sealed) in rows {
            let context = seal_context(&event_id, key_id);
            if current.open(&sealed, &context).is_ok() {
                report.current += 1;
                continue;
            }
            let Some(seed) = older.iter().find_map(|s| s.open(&sealed, &context).ok()) else {
                report.unopenable += 1;
                continue;
            };
            let resealed = current
                .seal(&seed, &context)
                .map_err(|_| StoreError::Conflict("event key cannot be sealed"))?;
            let entry = AuditEntry::new(
                &Actor::system(),
                AuditAction::KeysRotated,
                "key",
                Some(&format!("{event_id}/{key_id}")),
                crate::db::now(),
            )
            .in_event(&event_id)
            .detail("resealed under a new key-encryption key");
            with_pool!(self, |pool| {
                let mut tx = pool.begin_write().await?;
                let changed = sqlx::query(
                    "UPDATE event_keys SET sealed_secret = $1 \
                     WHERE event_id = $2 AND key_id = $3 AND sealed_secret = $4",
                )
                .bind(&resealed)
                .bind(&event_id)
                .bind(key_id)
                .bind(&sealed)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if changed == 1 {
                    audit!(&mut *tx, &entry)?;
                }
                tx.commit().await?;
            });
            report.resealed += 1;
        }
        Ok(report)
    }

    /// The public half of an event's key ring.
    pub async fn event_keys(&self, event_id: &str) -> Result<Vec<EventKeyRow>, StoreError> {
        Ok(with_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT key_id, status, public_key FROM event_keys WHERE event_id = $1 \
                 ORDER BY key_id",
            )
            .bind(event_id)
            .fetch_all(pool)
            .await?
        }))
    }
}
