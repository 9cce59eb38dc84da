//! The audit log: append-only, one entry per security- or money-relevant action, written in
//! the transaction of the action itself (so a failed action leaves none). Entries name
//! accounts by id, never by e-mail, so erasing an account leaves the log intact and
//! anonymous.

use super::{Db, StoreError};
use crate::with_pool;

/// What was done. The stored spelling is [`AuditAction::as_str`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditAction {
    /// A log-in succeeded (password, and second factor when enabled).
    LoginSucceeded,
    /// A log-in was refused (wrong password, unknown account, wrong second factor).
    LoginFailed,
    /// One session was ended (log-out).
    SessionEnded,
    /// Every session of an account was ended (admin, password change, role change).
    SessionsRevoked,
    /// The account's password changed.
    PasswordChanged,
    /// The account's role changed.
    RoleChanged,
    /// TOTP enrolment started (secret issued, not yet enabled).
    TotpEnrolmentStarted,
    /// TOTP enabled, recovery codes issued.
    TotpEnabled,
    /// TOTP disabled.
    TotpDisabled,
    /// A recovery code was used in place of a TOTP code.
    RecoveryCodeUsed,
    /// An event was published.
    EventPublished,
    /// An event was cancelled.
    EventCancelled,
    /// An event's details changed (a move included).
    EventUpdated,
    /// A ticket type was added.
    TicketTypeAdded,
    /// A ticket type changed.
    TicketTypeUpdated,
    /// A refund was started.
    RefundStarted,
    /// A scanner device was paired.
    ScannerPaired,
    /// A scanner device was revoked.
    ScannerRevoked,
    /// Event signing keys were re-sealed under a new key-encryption key.
    KeysRotated,
    /// An account was created on first use of an external identity.
    ExternalAccountCreated,
    /// An account was erased at its owner's request.
    AccountDeleted,
}

impl AuditAction {
    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            AuditAction::LoginSucceeded => "login.succeeded",
            AuditAction::LoginFailed => "login.failed",
            AuditAction::SessionEnded => "session.ended",
            AuditAction::SessionsRevoked => "sessions.revoked",
            AuditAction::PasswordChanged => "password.changed",
            AuditAction::RoleChanged => "role.changed",
            AuditAction::TotpEnrolmentStarted => "totp.enrolment_started",
            AuditAction::TotpEnabled => "totp.enabled",
            AuditAction::TotpDisabled => "totp.disabled",
            AuditAction::RecoveryCodeUsed => "recovery_code.used",
            AuditAction::EventPublished => "event.published",
            AuditAction::EventCancelled => "event.cancelled",
            AuditAction::EventUpdated => "event.updated",
            AuditAction::TicketTypeAdded => "ticket_type.added",
            AuditAction::TicketTypeUpdated => "ticket_type.updated",
            AuditAction::RefundStarted => "refund.started",
            AuditAction::ScannerPaired => "scanner.paired",
            AuditAction::ScannerRevoked => "scanner.revoked",
            AuditAction::KeysRotated => "keys.rotated",
            AuditAction::ExternalAccountCreated => "account.created_external",
            AuditAction::AccountDeleted => "account.deleted",
        }
    }
}

/// Who acts, from where: the caller of a request, or the server itself.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Actor {
    /// The account acting; `None` for the server or an unknown account.
    pub user_id: Option<String>,
    /// The client's address, when a request is behind the action.
    pub address: Option<String>,
}

impl Actor {
    /// An account acting from an address.
    pub fn user(user_id: &str, address: &str) -> Actor {
        Actor {
            user_id: Some(user_id.to_owned()),
            address: Some(address.to_owned()),
        }
    }

    /// The server itself (start-up, sweepers).
    pub fn system() -> Actor {
        Actor::default()
    }
}

/// One entry, ready to be written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    /// UUIDv7 (time-ordered).
    pub id: String,
    /// Unix seconds.
    pub at: i64,
    /// The acting account.
    pub actor_id: Option<String>,
    /// What was done.
    pub action: AuditAction,
    /// `account`, `session`, `event`, `ticket_type`, `order`, `scanner`, `key`.
    pub object_type: &'static str,
    /// The object's id.
    pub object_id: Option<String>,
    /// The event the object belongs to, for organizers' reading.
    pub event_id: Option<String>,
    /// The client's address.
    pub address: Option<String>,
    /// A short detail without personal data (e.g. `reason=wrong_password`).
    pub detail: Option<String>,
}

impl AuditEntry {
    /// An entry by `actor` about one object, stamped `now`.
    pub fn new(
        actor: &Actor,
        action: AuditAction,
        object_type: &'static str,
        object_id: Option<&str>,
        now: i64,
    ) -> AuditEntry {
        AuditEntry {
            id: uuid::Uuid::now_v7().to_string(),
            at: now,
            actor_id: actor.user_id.clone(),
            action,
            object_type,
            object_id: object_id.map(str::to_owned),
            event_id: None,
            address: actor.address.clone(),
            detail: None,
        }
    }

    /// The event the object belongs to.
    pub fn in_event(mut self, event_id: &str) -> AuditEntry {
        self.event_id = Some(event_id.to_owned());
        self
    }

    /// A detail (never personal data).
    pub fn detail(mut self, detail: impl Into<String>) -> AuditEntry {
        self.detail = Some(detail.into());
        self
    }
}

/// The one statement that writes an entry.
pub const INSERT: &str = "INSERT INTO audit_log \
     (id, at, actor_id, action, object_type, object_id, event_id, address, detail) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";

/// Appends `entry` through `conn` (a transaction of either engine): `audit!(&mut *tx, &e)`.
/// Evaluates to the `sqlx` result of the insert.
#[macro_export]
macro_rules! audit {
    ($conn:expr, $entry:expr) => {{
        let entry: &$crate::db::audit::AuditEntry = $entry;
        sqlx::query($crate::db::audit::INSERT)
            .bind(&entry.id)
            .bind(entry.at)
            .bind(&entry.actor_id)
            .bind(entry.action.as_str())
            .bind(entry.object_type)
            .bind(&entry.object_id)
            .bind(&entry.event_id)
            .bind(&entry.address)
            .bind(&entry.detail)
            .execute($conn)
            .await
    }};
}

/// A stored entry, as read back.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AuditRow {
    /// UUIDv7.
    pub id: String,
    /// Unix seconds.
    pub at: i64,
    /// Acting account id.
    pub actor_id: Option<String>,
    /// Stored action spelling.
    pub action: String,
    /// Object kind.
    pub object_type: String,
    /// Object id.
    pub object_id: Option<String>,
    /// Event id.
    pub event_id: Option<String>,
    /// Client address.
    pub address: Option<String>,
    /// Detail.
    pub detail: Option<String>,
}

const COLUMNS: &str = "id, at, actor_id, action, object_type, object_id, event_id, address, detail";

impl Db {
    /// Appends one entry on its own (for actions that write nothing else, such as a refused
    /// log-in).
    pub async fn append_audit(&self, entry: &AuditEntry) -> Result<(), StoreError> {
        with_pool!(self, |pool| {
            audit!(pool, entry)?;
        });
        Ok(())
    }

    /// Entries newest first, of one event or (with `None`) of the whole platform, strictly
    /// older than the `before` entry id, at most `limit`.
    pub async fn audit_entries(
        &self,
        event_id: Option<&str>,
        before: Option<&str>,
        limit: i64,
    ) -> Result<Vec<AuditRow>, StoreError> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM audit_log \
             WHERE ($1 IS NULL OR event_id = $1) AND ($2 IS NULL OR id < $2) \
             ORDER BY id DESC LIMIT $3"
        ));
        Ok(with_pool!(self, |pool| {
            sqlx::query_as::<_, AuditRow>(sql)
                .bind(event_id)
                .bind(before)
                .bind(limit)
                .fetch_all(pool)
                .await?
        }))
    }
}
