//! Check-in lists, one-time pairing codes and paired scanner devices.

use super::audit::{Actor, AuditAction, AuditEntry};
use super::{BeginWrite, Db, StoreError};
use crate::{audit, with_pool};

/// A check-in list as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckInListRecord {
    /// UUID.
    pub id: String,
    /// The event it checks in for.
    pub event_id: String,
    /// Display name.
    pub name: String,
    /// Ticket types admitted (sorted).
    pub ticket_type_ids: Vec<String>,
    /// Gates (sorted).
    pub gates: Vec<String>,
    /// Whether a ticket that went out may come back in.
    pub re_entry: bool,
}

#[derive(sqlx::FromRow)]
struct ListRow {
    id: String,
    event_id: String,
    name: String,
    ticket_type_ids: String,
    gates: String,
    re_entry: i64,
}

impl TryFrom<ListRow> for CheckInListRecord {
    type Error = StoreError;
    fn try_from(row: ListRow) -> Result<Self, StoreError> {
        let parse = |text: &str| {
            serde_json::from_str::<Vec<String>>(text)
                .map_err(|_| StoreError::Conflict("a stored check-in list is unreadable"))
        };
        Ok(CheckInListRecord {
            ticket_type_ids: parse(&row.ticket_type_ids)?,
            gates: parse(&row.gates)?,
            id: row.id,
            event_id: row.event_id,
            name: row.name,
            re_entry: row.re_entry == 1,
        })
    }
}

/// A paired scanner device.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct DeviceRow {
    /// UUID.
    pub id: String,
    /// The one event it may scan for.
    pub event_id: String,
    /// The one list it is paired to.
    pub list_id: String,
    /// Name given at pairing ("North gate 2").
    pub name: String,
    /// Unix seconds.
    pub paired_at: i64,
    /// Last sync or push, Unix seconds.
    pub last_seen_at: Option<i64>,
    /// Revoked at, Unix seconds.
    pub revoked_at: Option<i64>,
}

const LIST_COLUMNS: &str = "id, event_id, name, ticket_type_ids, gates, re_entry";
const DEVICE_COLUMNS: &str = "id, event_id, list_id, name, paired_at, last_seen_at, revoked_at";

impl Db {
    /// Stores a new check-in list and its scan counter.
    pub async fn create_checkin_list(
        &self,
        list: &CheckInListRecord,
        now: i64,
    ) -> Result<(), StoreError> {
        let types = serde_json::to_string(&list.ticket_type_ids)
            .map_err(|_| StoreError::Conflict("ticket types cannot be stored"))?;
        let gates = serde_json::to_string(&list.gates)
            .map_err(|_| StoreError::Conflict("gates cannot be stored"))?;
        with_pool!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            sqlx::query(
                "INSERT INTO checkin_lists \
                 (id, event_id, name, ticket_type_ids, gates, re_entry, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(&list.id)
            .bind(&list.event_id)
            .bind(&list.name)
            .bind(&types)
            .bind(&gates)
            .bind(i64::from(list.re_entry))
            .bind(now)
            .execute(&mut *tx)
            .await?;
            sqlx::query("INSERT INTO scan_counters (list_id, seq) VALUES ($1, 0)")
                .bind(&list.id)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
        });
        Ok(())
    }

    /// One check-in list.
    pub async fn checkin_list(&self, id: &str) -> Result<Option<CheckInListRecord>, StoreError> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {LIST_COLUMNS} FROM checkin_lists WHERE id = $1"
        ));
        let row: Option<ListRow> = with_pool!(self, |pool| {
            sqlx::query_as(sql).bind(id).fetch_optional(pool).await?
        });
        row.map(CheckInListRecord::try_from).transpose()
    }

    /// An event's check-in lists, oldest first.
    pub async fn checkin_lists(
        &self,
        event_id: &str,
    ) -> Result<Vec<CheckInListRecord>, StoreError> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {LIST_COLUMNS} FROM checkin_lists WHERE event_id = $1 \
             ORDER BY created_at, id"
        ));
        let rows: Vec<ListRow> = with_pool!(self, |pool| {
            sqlx::query_as(sql).bind(event_id).fetch_all(pool).await?
        });
        rows.into_iter().map(CheckInListRecord::try_from).collect()
    }

    /// Stores a pairing code (as its hash) for a list.
    pub async fn create_pairing(
        &self,
        code_hash: &str,
        list_id: &str,
        user_id: &str,
        now: i64,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        with_pool!(self, |pool| {
            sqlx::query(
                "INSERT INTO scanner_pairings (code_hash, list_id, created_by, created_at, \
                 expires_at) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(code_hash)
            .bind(list_id)
            .bind(user_id)
            .bind(now)
            .bind(expires_at)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// Redeems a pairing code once: marks it used and enrols the device, in one transaction.
    /// An unknown, expired or already used code is `NotFound`.
    pub async fn redeem_pairing(
        &self,
        code_hash: &str,
        device: &DeviceRow,
        token_hash: &str,
        now: i64,
        actor: &Actor,
    ) -> Result<DeviceRow, StoreError> {
        with_pool!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            let claimed: Option<(String,)> = sqlx::query_as(
                "UPDATE scanner_pairings SET redeemed_at = $2, device_id = $3 \
                 WHERE code_hash = $1 AND redeemed_at IS NULL AND expires_at > $2 \
                 RETURNING list_id",
            )
            .bind(code_hash)
            .bind(now)
            .bind(&device.id)
            .fetch_optional(&mut *tx)
            .await?;
            let Some((list_id,)) = claimed else {
                return Err(StoreError::NotFound);
            };
            let (event_id,): (String,) =
                sqlx::query_as("SELECT event_id FROM checkin_lists WHERE id = $1")
                    .bind(&list_id)
                    .fetch_one(&mut *tx)
                    .await?;
            sqlx::query(
                "INSERT INTO scanner_devices (id, event_id, list_id, name, token_hash, \
                 paired_at) VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(&device.id)
            .bind(&event_id)
            .bind(&list_id)
            .bind(&device.name)
            .bind(token_hash)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            let entry = AuditEntry::new(
                actor,
                AuditAction::ScannerPaired,
                "scanner",
                Some(&device.id),
                now,
            )
            .in_event(&event_id)
            .detail(format!("list={list_id}"));
            audit!(&mut *tx, &entry)?;
            tx.commit().await?;
            Ok(DeviceRow {
                id: device.id.clone(),
                event_id,
                list_id,
                name: device.name.clone(),
                paired_at: now,
                last_seen_at: None,
                revoked_at: None,
            })
        })
    }

    /// An event's devices, in pairing order.
    pub async fn scanner_devices(&self, event_id: &str) -> Result<Vec<DeviceRow>, StoreError> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {DEVICE_COLUMNS} FROM scanner_devices WHERE event_id = $1 \
             ORDER BY paired_at, id"
        ));
        Ok(with_pool!(self, |pool| {
            sqlx::query_as(sql).bind(event_id).fetch_all(pool).await?
        }))
    }

    /// One device.
    pub async fn scanner_device(&self, id: &str) -> Result<Option<DeviceRow>, StoreError> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {DEVICE_COLUMNS} FROM scanner_devices WHERE id = $1"
        ));
        Ok(with_pool!(self, |pool| {
            sqlx::query_as(sql).bind(id).fetch_optional(pool).await?
        }))
    }

    /// The device a token belongs to, revoked or not.
    pub async fn device_by_token(&self, token_hash: &str) -> Result<Option<DeviceRow>, StoreError> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {DEVICE_COLUMNS} FROM scanner_devices WHERE token_hash = $1"
        ));
        Ok(with_pool!(self, |pool| {
            sqlx::query_as(sql)
                .bind(token_hash)
                .fetch_optional(pool)
                .await?
        }))
    }

    /// Records a device's contact (at most one write a minute per device).
    pub async fn touch_device(&self, id: &str, now: i64) -> Result<(), StoreError> {
        with_pool!(self, |pool| {
            sqlx::query(
                "UPDATE scanner_devices SET last_seen_at = $2 \
                 WHERE id = $1 AND (last_seen_at IS NULL OR last_seen_at < $3)",
            )
            .bind(id)
            .bind(now)
            .bind(now - 60)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// Revokes a device (idempotent: the first revocation time stays, and only the first
    /// revocation is audited, in its transaction).
    pub async fn revoke_device(
        &self,
        id: &str,
        now: i64,
        actor: &Actor,
    ) -> Result<DeviceRow, StoreError> {
        let revoke = sqlx::AssertSqlSafe(format!(
            "UPDATE scanner_devices SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL \
             RETURNING {DEVICE_COLUMNS}"
        ));
        let read = sqlx::AssertSqlSafe(format!(
            "SELECT {DEVICE_COLUMNS} FROM scanner_devices WHERE id = $1"
        ));
        let row: Option<DeviceRow> = with_pool!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            let revoked: Option<DeviceRow> = sqlx::query_as(revoke)
                .bind(id)
                .bind(now)
                .fetch_optional(&mut *tx)
                .await?;
            match revoked {
                Some(device) => {
                    let entry = AuditEntry::new(
                        actor,
                        AuditAction::ScannerRevoked,
                        "scanner",
                        Some(id),
                        now,
                    )
                    .in_event(&device.event_id);
                    audit!(&mut *tx, &entry)?;
                    tx.commit().await?;
                    Some(device)
                }
                None => {
                    let row = sqlx::query_as(read)
                        .bind(id)
                        .fetch_optional(&mut *tx)
                        .await?;
                    tx.commit().await?;
                    row
                }
            }
        });
        row.ok_or(StoreError::NotFound)
    }
}
