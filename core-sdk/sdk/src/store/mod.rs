//! The local SQLite store.
//!
//! One connection, one writer, WAL journal. `synchronous = FULL`: with WAL, `NORMAL` only
//! syncs at checkpoints, so a committed scan survives a crash of the app but can vanish if
//! the device loses power (a phone's battery dies at the door); `FULL` syncs the WAL on
//! every commit, so a scan whose decision was shown survives both. The cost is one fsync
//! per scan, measured in the crate README's benchmark.
//!
//! The store does blocking disk I/O; async hosts call it from a dedicated thread or
//! `spawn_blocking`. The SDK runs it on its one actor thread (`actor`): [`StoreHandle`] is
//! the client's, and a door's scanner store runs on the same kind of thread.

pub(crate) mod actor;
mod booking;
mod catalog;
mod client_meta;
mod door_sync;
mod event_config;
mod handle;
pub mod migrations;
mod scans;
mod wallet;

pub use booking::{Completion, OperationRow};
pub(crate) use catalog::Change as CatalogChange;
pub use door_sync::{Applied, KnownScan, PulledPage, SyncedScan};
pub use event_config::EventConfig;
pub use handle::StoreHandle;
pub use scans::ScanRecord;
#[cfg(any(test, feature = "internals"))]
pub use scans::TicketRecord;

use std::path::Path;

use rusqlite::{Connection, OpenFlags};
use uuid::Uuid;

use crate::Error;

/// The local database.
#[derive(Debug)]
pub struct Store {
    pub(crate) conn: Connection,
}

impl Store {
    /// Opens (creating if needed) and migrates the database at `path`.
    pub fn open(path: impl AsRef<Path>) -> Result<Store, Error> {
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        Self::setup(Connection::open_with_flags(path, flags)?)
    }

    #[cfg(any(test, feature = "internals"))]
    /// A private in-memory database (tests, previews).
    pub fn open_in_memory() -> Result<Store, Error> {
        Self::setup(Connection::open_in_memory()?)
    }

    fn setup(mut conn: Connection) -> Result<Store, Error> {
        // journal_mode answers with the mode in force ("memory" for in-memory databases).
        let _mode: String =
            conn.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", true)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.set_prepared_statement_cache_capacity(32);
        // 16 MiB of page cache (SQLite's default is 2 MiB): the offline catalog's search
        // and its sync's index merges read far more than that.
        conn.pragma_update(None, "cache_size", -16_384)?;
        migrations::migrate(&mut conn)?;
        let store = Store { conn };
        store.ensure_device()?;
        Ok(store)
    }

    #[cfg(any(test, feature = "internals"))]
    /// Schema version of the open database.
    pub fn schema_version(&self) -> Result<u32, Error> {
        migrations::version(&self.conn)
    }

    /// This device's id, drawn at first open and kept for the life of the database.
    pub fn device_id(&self) -> Result<Uuid, Error> {
        let raw: [u8; 16] = self.conn.query_row(
            "SELECT device_id FROM device WHERE singleton = 1",
            [],
            |r| r.get(0),
        )?;
        Ok(Uuid::from_bytes(raw))
    }

    fn ensure_device(&self) -> Result<(), Error> {
        self.conn.execute(
            "INSERT INTO device (singleton, device_id) VALUES (1, ?1)
             ON CONFLICT (singleton) DO NOTHING",
            [Uuid::new_v4().as_bytes()],
        )?;
        Ok(())
    }
}

/// Reads a 16-byte blob column as a UUID.
fn uuid_column(row: &rusqlite::Row<'_>, index: usize) -> rusqlite::Result<Uuid> {
    row.get::<_, [u8; 16]>(index).map(Uuid::from_bytes)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn file_store_uses_wal_full_sync_and_keeps_its_device_id() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("door.db");
        let first = Store::open(&path).unwrap();
        let mode: String = first
            .conn
            .pragma_query_value(None, "journal_mode", |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
        let sync: i64 = first
            .conn
            .pragma_query_value(None, "synchronous", |r| r.get(0))
            .unwrap();
        assert_eq!(sync, 2, "FULL");
        let id = first.device_id().unwrap();
        drop(first);
        let again = Store::open(&path).unwrap();
        assert_eq!(again.device_id().unwrap(), id);
        assert_eq!(again.schema_version().unwrap(), migrations::LATEST);
    }
}
