//! Versioned schema migrations: numbered SQL files, applied in order, never edited once
//! landed (a change is a new file). `PRAGMA user_version` holds the applied version.

use rusqlite::Connection;

use crate::Error;

/// The migrations, in order; the version after applying `MIGRATIONS[i]` is `i + 1`.
const MIGRATIONS: &[&str] = &[
    include_str!("migrations/0001_event_config.sql"),
    include_str!("migrations/0002_scans.sql"),
    include_str!("migrations/0003_client.sql"),
    include_str!("migrations/0004_catalog.sql"),
    include_str!("migrations/0005_scanner_sync.sql"),
    include_str!("migrations/0006_ticket_type_names.sql"),
];

/// The schema version this SDK writes.
pub const LATEST: u32 = MIGRATIONS.len() as u32;

/// The schema version of a database.
pub fn version(conn: &Connection) -> Result<u32, Error> {
    Ok(conn.pragma_query_value(None, "user_version", |row| row.get(0))?)
}

/// Brings the schema to [`LATEST`], one transaction per migration.
pub fn migrate(conn: &mut Connection) -> Result<(), Error> {
    migrate_to(conn, LATEST)
}

/// Brings the schema to `target` (tests use it to build every older version).
pub fn migrate_to(conn: &mut Connection, target: u32) -> Result<(), Error> {
    let found = version(conn)?;
    if found > LATEST {
        return Err(Error::SchemaTooNew {
            found,
            supported: LATEST,
        });
    }
    for (index, sql) in MIGRATIONS
        .iter()
        .enumerate()
        .take(target as usize)
        .skip(found as usize)
    {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", index as u32 + 1)?;
        tx.commit()?;
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// The schema as SQLite describes it, in a stable order.
    fn schema(conn: &Connection) -> Vec<(String, String, Option<String>)> {
        let mut stmt = conn
            .prepare("SELECT type, name, sql FROM sqlite_schema ORDER BY type, name")
            .unwrap();
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    }

    #[test]
    fn migrating_from_every_older_version_equals_a_fresh_schema() {
        let mut fresh = Connection::open_in_memory().unwrap();
        migrate(&mut fresh).unwrap();
        assert_eq!(version(&fresh).unwrap(), LATEST);
        let expected = schema(&fresh);
        assert!(expected.iter().any(|(_, name, _)| name == "scans"));
        for start in 0..LATEST {
            let mut conn = Connection::open_in_memory().unwrap();
            migrate_to(&mut conn, start).unwrap();
            assert_eq!(version(&conn).unwrap(), start);
            migrate(&mut conn).unwrap();
            assert_eq!(schema(&conn), expected, "upgrading from version {start}");
        }
    }

    #[test]
    fn migrating_twice_is_a_no_op_and_newer_schemas_are_refused() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate(&mut conn).unwrap();
        migrate(&mut conn).unwrap();
        assert_eq!(version(&conn).unwrap(), LATEST);
        conn.pragma_update(None, "user_version", LATEST + 1)
            .unwrap();
        assert!(matches!(
            migrate(&mut conn),
            Err(Error::SchemaTooNew { .. })
        ));
    }
}
