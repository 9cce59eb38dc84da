//! Migrating an empty database gives the schema the code expects, on both engines; migrating
//! again changes nothing; and upgrading a database left at any older version (with data in
//! it) gives exactly the schema of a fresh one.

use guichet_server::db::Db;
use sqlx::migrate::Migrator;

use crate::support::{PgDatabase, TestApp};

async fn sqlite_schema(db: &Db) -> String {
    let Db::Sqlite(pool) = db else {
        panic!("not SQLite")
    };
    let rows: Vec<(String, String, Option<String>)> = sqlx::query_as(
        "SELECT type, name, sql FROM sqlite_master \
         WHERE name NOT LIKE 'sqlite_%' AND name NOT LIKE '_sqlx%' ORDER BY type, name",
    )
    .fetch_all(pool)
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    rows.into_iter()
        .map(|(kind, name, sql)| format!("{kind} {name}\n{}\n", sql.unwrap_or_default()))
        .collect()
}

async fn postgres_schema(db: &Db) -> String {
    let Db::Postgres(pool) = db else {
        panic!("not PostgreSQL")
    };
    let columns: Vec<(String, String, String, String, Option<String>)> = sqlx::query_as(
        "SELECT table_name::text, column_name::text, data_type::text, is_nullable::text, \
         column_default::text FROM information_schema.columns \
         WHERE table_schema = 'public' AND table_name NOT LIKE '_sqlx%' \
         ORDER BY table_name, ordinal_position",
    )
    .fetch_all(pool)
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    let indexes: Vec<(String, String)> = sqlx::query_as(
        "SELECT indexname::text, indexdef::text FROM pg_indexes WHERE schemaname = 'public' \
         AND tablename NOT LIKE '_sqlx%' ORDER BY indexname",
    )
    .fetch_all(pool)
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    let mut out = String::new();
    for (table, column, kind, nullable, default) in columns {
        out.push_str(&format!(
            "{table}.{column} {kind} null={nullable} default={default:?}\n"
        ));
    }
    for (name, def) in indexes {
        out.push_str(&format!("{name}: {def}\n"));
    }
    out
}

async fn applied(db: &Db) -> Vec<(i64, bool)> {
    guichet_server::with_pool!(db, |pool| {
        sqlx::query_as("SELECT version, success FROM _sqlx_migrations ORDER BY version")
            .fetch_all(pool)
            .await
            .unwrap_or_else(|e| panic!("{e}"))
    })
}

/// Every migration file of one engine, in order.
fn migration_files(engine: &str) -> Vec<std::path::PathBuf> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("migrations")
        .join(engine);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{e}"))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "sql"))
        .collect();
    files.sort();
    files
}

/// A migrator holding only the first `k` migrations of an engine.
async fn first_migrations(engine: &str, k: usize) -> (Migrator, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    for file in migration_files(engine).into_iter().take(k) {
        let name = file.file_name().unwrap_or_else(|| panic!("file name"));
        std::fs::copy(&file, dir.path().join(name)).unwrap_or_else(|e| panic!("{e}"));
    }
    let migrator = Migrator::new(dir.path())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    (migrator, dir)
}

/// Seeds a little data as a server at `version` would have written it.
async fn seed_old_data(db: &Db, version: usize) {
    guichet_server::with_pool!(db, |pool| {
        for sql in [
            "INSERT INTO users (id, email, password_hash, display_name, role, created_at) \
             VALUES ('u1', 'o@example.org', 'x', 'O', 'organizer', 0)",
            "INSERT INTO events (id, organizer_id, status, title, description, venue, city, \
             starts_at, ends_at, time_zone, online, search_text, created_at, updated_at) \
             VALUES ('e1', 'u1', 'published', 'Old', '', '', '', 10, 20, 'UTC', FALSE, 'old', 0, 0)",
            "INSERT INTO ticket_types VALUES ('t1', 'e1', 1, 'Old', 100, 'EUR', 42, 0, 5, 4, 0, 0)",
        ] {
            sqlx::query(sql)
                .execute(pool)
                .await
                .unwrap_or_else(|e| panic!("{sql}: {e}"));
        }
        if version >= 2 {
            // From 0002 on, a ticket type's stock lives in its buckets.
            sqlx::query("INSERT INTO inventory_buckets VALUES ('t1', 0, 42)")
                .execute(pool)
                .await
                .unwrap_or_else(|e| panic!("{e}"));
        }
    });
}

async fn upgrades_match_fresh(engine: &str, fresh: &str, connect: impl AsyncFn() -> Db) {
    let total = migration_files(engine).len();
    for k in 1..total {
        let db = connect().await;
        let (old, _dir) = first_migrations(engine, k).await;
        guichet_server::with_pool!(&db, |pool| old
            .run(pool)
            .await
            .unwrap_or_else(|e| panic!("{e}")));
        seed_old_data(&db, k).await;
        db.migrate()
            .await
            .unwrap_or_else(|e| panic!("upgrade from version {k}: {e}"));
        let schema = match engine {
            "sqlite" => sqlite_schema(&db).await,
            _ => postgres_schema(&db).await,
        };
        assert_eq!(
            schema, fresh,
            "upgrading from version {k} differs from a fresh database"
        );
        let tickets = db
            .ticket_types_of(&["e1".to_owned()])
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            tickets[0].available, 42,
            "upgrade from {k} lost or invented stock"
        );
        db.close().await;
    }
}

/// Every migration's version (its file name's number), applied: versions may skip a number
/// while a parallel branch holds it.
fn all_applied(engine: &str) -> Vec<(i64, bool)> {
    migration_files(engine)
        .iter()
        .map(|file| {
            let name = file
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default();
            let version = name.split('_').next().and_then(|v| v.parse().ok());
            (
                version.unwrap_or_else(|| panic!("unnumbered migration {name}")),
                true,
            )
        })
        .collect()
}

#[tokio::test]
async fn sqlite_fresh_schema_matches_snapshot() {
    let app = TestApp::sqlite().await;
    let schema = sqlite_schema(app.db()).await;
    insta::assert_snapshot!("sqlite_schema", schema);
    app.db()
        .migrate()
        .await
        .unwrap_or_else(|e| panic!("second migration run: {e}"));
    assert_eq!(
        sqlite_schema(app.db()).await,
        schema,
        "re-running migrations changed the schema"
    );
    assert_eq!(applied(app.db()).await, all_applied("sqlite"));
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let counter = std::sync::atomic::AtomicUsize::new(0);
    upgrades_match_fresh("sqlite", &schema, async || {
        let n = counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let url = format!(
            "sqlite://{}",
            dir.path().join(format!("old{n}.db")).display()
        );
        Db::connect(&url, 2).await.unwrap_or_else(|e| panic!("{e}"))
    })
    .await;
}

#[tokio::test]
#[cfg_attr(skip_postgres, ignore = "built with GUICHET_SKIP_POSTGRES=1")]
async fn postgres_fresh_schema_matches_snapshot() {
    let pg = PgDatabase::create().await;
    let db = Db::connect(&pg.url, 2)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    db.migrate().await.unwrap_or_else(|e| panic!("{e}"));
    let schema = postgres_schema(&db).await;
    insta::assert_snapshot!("postgres_schema", schema);
    db.migrate()
        .await
        .unwrap_or_else(|e| panic!("second migration run: {e}"));
    assert_eq!(postgres_schema(&db).await, schema);
    assert_eq!(applied(&db).await, all_applied("postgres"));
    db.close().await;
    let olds = std::sync::Mutex::new(Vec::new());
    upgrades_match_fresh("postgres", &schema, async || {
        let old = PgDatabase::create().await;
        let db = Db::connect(&old.url, 2)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        olds.lock().unwrap_or_else(|e| e.into_inner()).push(old);
        db
    })
    .await;
}
