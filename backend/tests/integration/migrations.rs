//! Migrating an empty database gives the schema the code expects, on both engines; migrating
//! again changes nothing.

use guichet_server::db::Db;

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
    assert_eq!(applied(app.db()).await, vec![(1, true)]);
}

#[tokio::test]
async fn postgres_fresh_schema_matches_snapshot() {
    let Some(pg) = PgDatabase::create().await else {
        return;
    };
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
    assert_eq!(applied(&db).await, vec![(1, true)]);
    db.close().await;
}
