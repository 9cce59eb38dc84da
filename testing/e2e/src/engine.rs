//! Which database a [`crate::TestServer`] runs on: a fresh SQLite file (the default) or,
//! with `GUICHET_E2E_ENGINE=postgres`, a fresh PostgreSQL database of its own, created on
//! the server at `GUICHET_TEST_POSTGRES_URL` and dropped with the test server.

/// The server's database engine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    /// A SQLite file in the server's temporary directory.
    Sqlite,
    /// A database of its own on the PostgreSQL server at `GUICHET_TEST_POSTGRES_URL`.
    Postgres,
}

impl Engine {
    /// From `GUICHET_E2E_ENGINE`: unset or `sqlite` gives SQLite, `postgres` PostgreSQL.
    /// Anything else fails the test rather than quietly running on SQLite.
    pub fn from_env() -> Engine {
        match std::env::var("GUICHET_E2E_ENGINE").as_deref() {
            Err(std::env::VarError::NotPresent) | Ok("" | "sqlite") => Engine::Sqlite,
            Ok("postgres") => Engine::Postgres,
            other => panic!("GUICHET_E2E_ENGINE must be sqlite or postgres, not {other:?}"),
        }
    }
}

/// Where the PostgreSQL test databases are created.
fn admin_url() -> String {
    std::env::var("GUICHET_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// A fresh PostgreSQL database, dropped (its connections with it) when this is dropped.
#[derive(Debug)]
pub(crate) struct PgDatabase {
    name: String,
    pub(crate) url: String,
}

impl PgDatabase {
    /// Creates the database; an unreachable server fails the test.
    pub(crate) async fn create() -> PgDatabase {
        let admin = admin_url();
        let pool = sqlx::PgPool::connect(&admin).await.unwrap_or_else(|e| {
            panic!("GUICHET_E2E_ENGINE=postgres but PostgreSQL is unreachable at {admin}: {e}")
        });
        let name = format!("guichet_e2e_{}", uuid::Uuid::new_v4().simple());
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&pool)
            .await
            .unwrap();
        pool.close().await;
        let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b);
        PgDatabase {
            url: format!("{base}/{name}"),
            name,
        }
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
        // Drop may run inside a runtime, which cannot be blocked on: a thread with its own.
        let _ = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            rt.block_on(async {
                if let Ok(pool) = sqlx::PgPool::connect(&admin_url()).await {
                    let _ = sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&pool).await;
                    pool.close().await;
                }
            });
        })
        .join();
    }
}
