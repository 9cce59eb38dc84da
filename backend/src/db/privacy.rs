//! Personal data: the export of everything stored about one person, and the erasure of an
//! account. Orders and tickets stay (accounting needs them) but point at an account that no
//! longer holds anything personal; the audit log keeps the account id only.

use serde_json::{Value, json};

use super::audit::AuditEntry;
use super::sessions::EndReason;
use super::{BeginWrite, Db, StoreError};
use crate::{audit, with_pool};

type OrderLine = (String, String, String, i64, i64, String, i64, i64);
type TicketLine = (
    String,
    String,
    String,
    String,
    i64,
    String,
    i64,
    Option<i64>,
);
type SessionLine = (String, i64, i64, Option<i64>, Option<String>);
type AuditLine = (String, i64, String, String, Option<String>, Option<String>);
/// Everything read for an export, apart from the account row.
type ExportRows = (
    Vec<OrderLine>,
    Vec<TicketLine>,
    Vec<SessionLine>,
    Vec<AuditLine>,
    Option<(Option<i64>,)>,
);

/// The placeholder an erased account's e-mail becomes: unique, and nothing about the person.
pub fn erased_email(user_id: &str) -> String {
    format!("erased-{user_id}@erased.invalid")
}

impl Db {
    /// Everything stored about the account `user_id`, as one JSON document: the account,
    /// its orders, tickets, sessions, second-factor state and the audit entries of its own
    /// actions. Nothing about anyone else.
    pub async fn export_personal_data(&self, user_id: &str) -> Result<Value, StoreError> {
        let user = self.user(user_id).await?.ok_or(StoreError::NotFound)?;
        let (orders, tickets, sessions, actions, totp): ExportRows = with_pool!(self, |pool| {
            let orders = sqlx::query_as(
                "SELECT id, event_id, status, total_minor, refunded_minor, currency, \
                 created_at, updated_at FROM orders WHERE user_id = $1 ORDER BY created_at, id",
            )
            .bind(user_id)
            .fetch_all(pool)
            .await?;
            let tickets = sqlx::query_as(
                "SELECT id, order_id, event_id, ticket_type_id, price_minor, status, \
                 created_at, revoked_at FROM tickets WHERE holder_id = $1 \
                 ORDER BY created_at, id",
            )
            .bind(user_id)
            .fetch_all(pool)
            .await?;
            let sessions = sqlx::query_as(
                "SELECT id, created_at, expires_at, ended_at, end_reason FROM sessions \
                 WHERE user_id = $1 ORDER BY created_at, id",
            )
            .bind(user_id)
            .fetch_all(pool)
            .await?;
            let actions = sqlx::query_as(
                "SELECT id, at, action, object_type, object_id, address FROM audit_log \
                 WHERE actor_id = $1 ORDER BY id",
            )
            .bind(user_id)
            .fetch_all(pool)
            .await?;
            let totp = sqlx::query_as("SELECT enabled_at FROM totp_credentials WHERE user_id = $1")
                .bind(user_id)
                .fetch_optional(pool)
                .await?;
            (orders, tickets, sessions, actions, totp)
        });
        Ok(json!({
            "account": {
                "id": user.id,
                "email": user.email,
                "displayName": user.display_name,
                "role": user.role,
                "createdAt": user.created_at,
                "secondFactorEnabled": totp.is_some_and(|(at,)| at.is_some()),
            },
            "orders": orders.into_iter().map(|o| json!({
                "id": o.0, "eventId": o.1, "status": o.2, "totalMinor": o.3,
                "refundedMinor": o.4, "currency": o.5, "createdAt": o.6, "updatedAt": o.7,
            })).collect::<Vec<_>>(),
            "tickets": tickets.into_iter().map(|t| json!({
                "id": t.0, "orderId": t.1, "eventId": t.2, "ticketTypeId": t.3,
                "priceMinor": t.4, "status": t.5, "createdAt": t.6, "revokedAt": t.7,
            })).collect::<Vec<_>>(),
            "sessions": sessions.into_iter().map(|s| json!({
                "id": s.0, "createdAt": s.1, "expiresAt": s.2, "endedAt": s.3, "endReason": s.4,
            })).collect::<Vec<_>>(),
            "actions": actions.into_iter().map(|a| json!({
                "id": a.0, "at": a.1, "action": a.2, "objectType": a.3, "objectId": a.4,
                "address": a.5,
            })).collect::<Vec<_>>(),
        }))
    }

    /// Erases the account: e-mail replaced by [`erased_email`], name cleared, password made
    /// unusable, sessions ended, second factor, recovery codes and external identities
    /// removed, with `entry`, in one transaction. Orders and tickets are kept; they point at
    /// the erased account. `Conflict` for an organizer who still owns events.
    pub async fn erase_account(
        &self,
        user_id: &str,
        now: i64,
        entry: &AuditEntry,
    ) -> Result<(), StoreError> {
        with_pool!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            let (events,): (i64,) =
                sqlx::query_as("SELECT COUNT(*) FROM events WHERE organizer_id = $1")
                    .bind(user_id)
                    .fetch_one(&mut *tx)
                    .await?;
            if events > 0 {
                return Err(StoreError::Conflict(
                    "an organizer's events must stay attributed; ask an admin to close the account",
                ));
            }
            let erased = sqlx::query(
                "UPDATE users SET email = $1, display_name = '', password_hash = '!', \
                 deleted_at = $2 WHERE id = $3 AND deleted_at IS NULL",
            )
            .bind(erased_email(user_id))
            .bind(now)
            .bind(user_id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if erased == 0 {
                return Err(StoreError::NotFound);
            }
            for table in ["totp_credentials", "recovery_codes", "external_identities"] {
                let sql = sqlx::AssertSqlSafe(format!("DELETE FROM {table} WHERE user_id = $1"));
                sqlx::query(sql).bind(user_id).execute(&mut *tx).await?;
            }
            crate::end_all!(&mut tx, user_id, EndReason::AccountDeleted, now);
            audit!(&mut *tx, entry)?;
            tx.commit().await?;
        });
        Ok(())
    }
}
