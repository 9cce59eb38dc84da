//! An event's attendees for its organizer: one row per issued ticket, with its holder.

use super::{Db, StoreError};
use crate::with_pool;

/// A ticket and who holds it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AttendeeRow {
    /// The ticket.
    pub ticket_id: String,
    /// Its order.
    pub order_id: String,
    /// Its type.
    pub ticket_type_id: String,
    /// The type's name.
    pub ticket_type_name: String,
    /// `valid` or `revoked`.
    pub status: String,
    /// The holder's public name.
    pub holder_name: String,
    /// The holder's e-mail address.
    pub holder_email: String,
    /// Issued at (Unix seconds).
    pub created_at: i64,
}

/// Escapes `LIKE` wildcards so a search for `50%` means the characters `50%`.
fn like_pattern(search: &str) -> String {
    let mut pattern = String::with_capacity(search.len() + 2);
    pattern.push('%');
    for c in search.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

/// The filter both queries share: `$1` event, `$2` pattern ('' for none).
const FILTER: &str = "FROM tickets t \
     JOIN users u ON u.id = t.holder_id \
     JOIN ticket_types tt ON tt.id = t.ticket_type_id \
     WHERE t.event_id = $1 AND ($2 = '' \
       OR LOWER(u.email) LIKE $2 ESCAPE '\\' \
       OR LOWER(u.display_name) LIKE $2 ESCAPE '\\')";

impl Db {
    /// Up to `limit` tickets of an event after ticket id `after` (ids are time-ordered
    /// UUIDv7s, so this is issuance order), whose holder's e-mail or name contains
    /// `search` (case-insensitive), and how many match in all.
    pub async fn attendees(
        &self,
        event_id: &str,
        search: &str,
        after: &str,
        limit: i64,
    ) -> Result<(Vec<AttendeeRow>, i64), StoreError> {
        let pattern = if search.is_empty() {
            String::new()
        } else {
            like_pattern(search)
        };
        let page = sqlx::AssertSqlSafe(format!(
            "SELECT t.id AS ticket_id, t.order_id, t.ticket_type_id, \
             tt.name AS ticket_type_name, t.status, u.display_name AS holder_name, \
             u.email AS holder_email, t.created_at \
             {FILTER} AND t.id > $3 ORDER BY t.id LIMIT $4"
        ));
        let count = sqlx::AssertSqlSafe(format!("SELECT COUNT(*) {FILTER}"));
        Ok(with_pool!(self, |pool| {
            let rows = sqlx::query_as::<_, AttendeeRow>(page)
                .bind(event_id)
                .bind(&pattern)
                .bind(after)
                .bind(limit)
                .fetch_all(pool)
                .await?;
            let (total,): (i64,) = sqlx::query_as(count)
                .bind(event_id)
                .bind(&pattern)
                .fetch_one(pool)
                .await?;
            (rows, total)
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::like_pattern;

    #[test]
    fn wildcards_are_literal_and_case_is_folded() {
        assert_eq!(like_pattern("Ann"), "%ann%");
        assert_eq!(like_pattern("50%_a\\b"), "%50\\%\\_a\\\\b%");
    }
}
