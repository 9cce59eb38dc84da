//! Configuration from the environment. Every variable is listed in the README.

use std::net::SocketAddr;
use std::path::PathBuf;

/// Why the configuration was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A variable holds an unusable value.
    #[error("{name}: {reason}")]
    Invalid {
        /// The variable.
        name: &'static str,
        /// Why.
        reason: String,
    },
    /// No signing secret and no way to make one.
    #[error(
        "GUICHET_JWT_SECRET is required with PostgreSQL (generate one with `openssl rand -hex 32`)"
    )]
    MissingSecret,
    /// The secret file could not be read or written.
    #[error("secret file {path}: {source}")]
    SecretFile {
        /// The file.
        path: PathBuf,
        /// The I/O failure.
        source: std::io::Error,
    },
}

/// The server's settings.
#[derive(Debug, Clone)]
pub struct Config {
    /// `DATABASE_URL`: `sqlite://guichet.db` (default) or `postgres://…`.
    pub database_url: String,
    /// `GUICHET_DB_MAX_CONNECTIONS` (default 4 with SQLite, 16 with PostgreSQL).
    pub db_max_connections: Option<u32>,
    /// `GUICHET_BIND` (default `127.0.0.1:8080`).
    pub bind: SocketAddr,
    /// `GUICHET_JWT_SECRET`, at least 32 bytes; see [`Config::load_secret`].
    pub jwt_secret: Option<Vec<u8>>,
    /// `GUICHET_SECRET_FILE` (default `guichet.secret` beside the SQLite file).
    pub secret_file: PathBuf,
    /// `GUICHET_ACCESS_TOKEN_TTL_SECS` (default 900).
    pub access_ttl: i64,
    /// `GUICHET_REFRESH_TOKEN_TTL_SECS` (default 30 days).
    pub refresh_ttl: i64,
    /// `GUICHET_DEMO`: seed the demo organizer and events (default on with the SQLite default).
    pub demo: bool,
    /// `GUICHET_LOG_FORMAT`: `pretty` (default) or `json`.
    pub json_logs: bool,
    /// `GUICHET_MAX_BODY_BYTES` (default 65536).
    pub max_body_bytes: usize,
    /// `GUICHET_AUTH_RATE_PER_MINUTE` per client address for log-in and sign-up (default 10).
    pub auth_rate_per_minute: u32,
    /// `GUICHET_AUTH_RATE_BURST` (default 10).
    pub auth_rate_burst: u32,
    /// `GUICHET_HOLD_TTL_SECS`: how long a hold reserves stock (default 600).
    pub hold_ttl_secs: i64,
    /// `GUICHET_HOLD_RATE_PER_MINUTE` per buyer (default 120, burst 30).
    pub hold_rate_per_minute: u32,
    /// `GUICHET_HOLD_BATCHING`: group concurrent holds into one transaction (default on;
    /// off takes each hold in its own transaction, for comparison).
    pub hold_batching: bool,
    /// `GUICHET_PAYMENT_PROVIDER`: `test` (default; deterministic test cards) or `stripe`.
    pub payment_provider: String,
    /// `STRIPE_API_BASE` (default `https://api.stripe.com`).
    pub stripe_api_base: String,
    /// `STRIPE_SECRET_KEY`, required with the `stripe` provider.
    pub stripe_secret_key: Option<String>,
    /// `STRIPE_WEBHOOK_SECRET`, required to accept Stripe webhooks.
    pub stripe_webhook_secret: Option<String>,
    /// `GUICHET_NOTIFY_WEBHOOK_URL`: where notifications are posted (see `notify`); none
    /// are sent when unset (they wait in the outbox).
    pub notify_webhook_url: Option<String>,
    /// `GUICHET_NOTIFY_WEBHOOK_SECRET`: signs notifications; required with the URL.
    pub notify_webhook_secret: Option<String>,
    /// `GUICHET_REFUND_WINDOW_SECS`: the refund policy of events created without one:
    /// buyers may refund until this long before the event starts (default 48 hours). Each
    /// event keeps its own policy (`setRefundPolicy`); organizers may refund any time.
    pub refund_window_secs: i64,
    /// `GUICHET_KEY_ENCRYPTION_KEY`: 64 hex characters sealing events' signing keys at rest;
    /// derived from the token secret when unset (set a distinct one in production).
    pub key_encryption_key: Option<[u8; 32]>,
    /// `GUICHET_BENCH_ROUTES`: expose `POST /bench/decrement/{ticketTypeId}`, the bare
    /// conditional decrement the load generator compares holds with (default off; never in
    /// production: it takes stock without a hold).
    pub bench_routes: bool,
    /// `GUICHET_TRUST_FORWARDED_FOR`: take the client address from `X-Forwarded-For`
    /// (only behind a proxy that sets it; default off).
    pub trust_forwarded_for: bool,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            database_url: "sqlite://guichet.db".into(),
            db_max_connections: None,
            bind: SocketAddr::from(([127, 0, 0, 1], 8080)),
            jwt_secret: None,
            secret_file: PathBuf::from("guichet.secret"),
            access_ttl: 900,
            refresh_ttl: 30 * 24 * 3600,
            demo: false,
            json_logs: false,
            max_body_bytes: 64 * 1024,
            auth_rate_per_minute: 10,
            auth_rate_burst: 10,
            hold_ttl_secs: 600,
            hold_rate_per_minute: 120,
            hold_batching: true,
            payment_provider: "test".into(),
            stripe_api_base: "https://api.stripe.com".into(),
            stripe_secret_key: None,
            stripe_webhook_secret: None,
            notify_webhook_url: None,
            notify_webhook_secret: None,
            refund_window_secs: 48 * 3600,
            key_encryption_key: None,
            bench_routes: false,
            trust_forwarded_for: false,
        }
    }
}

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn parsed<T: std::str::FromStr>(name: &'static str, default: T) -> Result<T, ConfigError>
where
    T::Err: std::fmt::Display,
{
    match var(name) {
        None => Ok(default),
        Some(v) => v.trim().parse().map_err(|e: T::Err| ConfigError::Invalid {
            name,
            reason: e.to_string(),
        }),
    }
}

fn flag(name: &'static str, default: bool) -> Result<bool, ConfigError> {
    match var(name).as_deref().map(str::to_ascii_lowercase).as_deref() {
        None => Ok(default),
        Some("1" | "true" | "yes" | "on") => Ok(true),
        Some("0" | "false" | "no" | "off") => Ok(false),
        Some(other) => Err(ConfigError::Invalid {
            name,
            reason: format!("expected true or false, got {other}"),
        }),
    }
}

impl Config {
    /// Pool size: SQLite has one writer, and more connections only make writers sleep in
    /// the busy handler (measured: p99 173 ms with 16, 66 ms with 4 under the on-sale load);
    /// PostgreSQL benefits from more.
    pub fn pool_size(&self) -> u32 {
        self.db_max_connections
            .unwrap_or(if self.database_url.starts_with("postgres") {
                16
            } else {
                4
            })
    }

    /// Reads the environment.
    pub fn from_env() -> Result<Config, ConfigError> {
        let d = Config::default();
        let explicit_db = var("DATABASE_URL");
        let database_url = explicit_db.clone().unwrap_or(d.database_url);
        let jwt_secret = match var("GUICHET_JWT_SECRET") {
            None => None,
            Some(s) if s.len() < 32 => {
                return Err(ConfigError::Invalid {
                    name: "GUICHET_JWT_SECRET",
                    reason: "must be at least 32 bytes".into(),
                });
            }
            Some(s) => Some(s.into_bytes()),
        };
        let log_format = var("GUICHET_LOG_FORMAT").unwrap_or_else(|| "pretty".into());
        if log_format != "pretty" && log_format != "json" {
            return Err(ConfigError::Invalid {
                name: "GUICHET_LOG_FORMAT",
                reason: "expected pretty or json".into(),
            });
        }
        Ok(Config {
            db_max_connections: match var("GUICHET_DB_MAX_CONNECTIONS") {
                None => None,
                Some(_) => Some(parsed("GUICHET_DB_MAX_CONNECTIONS", 0u32)?.max(1)),
            },
            bind: parsed("GUICHET_BIND", d.bind)?,
            jwt_secret,
            secret_file: var("GUICHET_SECRET_FILE")
                .map(PathBuf::from)
                .unwrap_or(d.secret_file),
            access_ttl: parsed("GUICHET_ACCESS_TOKEN_TTL_SECS", d.access_ttl)?,
            refresh_ttl: parsed("GUICHET_REFRESH_TOKEN_TTL_SECS", d.refresh_ttl)?,
            demo: flag("GUICHET_DEMO", explicit_db.is_none())?,
            json_logs: log_format == "json",
            max_body_bytes: parsed("GUICHET_MAX_BODY_BYTES", d.max_body_bytes)?,
            auth_rate_per_minute: parsed("GUICHET_AUTH_RATE_PER_MINUTE", d.auth_rate_per_minute)?,
            auth_rate_burst: parsed("GUICHET_AUTH_RATE_BURST", d.auth_rate_burst)?,
            hold_ttl_secs: parsed("GUICHET_HOLD_TTL_SECS", d.hold_ttl_secs)?,
            hold_rate_per_minute: parsed("GUICHET_HOLD_RATE_PER_MINUTE", d.hold_rate_per_minute)?,
            hold_batching: flag("GUICHET_HOLD_BATCHING", d.hold_batching)?,
            payment_provider: match var("GUICHET_PAYMENT_PROVIDER").as_deref() {
                None | Some("test") => "test".into(),
                Some("stripe") => "stripe".into(),
                Some(_) => {
                    return Err(ConfigError::Invalid {
                        name: "GUICHET_PAYMENT_PROVIDER",
                        reason: "expected test or stripe".into(),
                    });
                }
            },
            stripe_api_base: var("STRIPE_API_BASE").unwrap_or(d.stripe_api_base),
            stripe_secret_key: var("STRIPE_SECRET_KEY"),
            stripe_webhook_secret: var("STRIPE_WEBHOOK_SECRET"),
            notify_webhook_url: match (
                var("GUICHET_NOTIFY_WEBHOOK_URL"),
                var("GUICHET_NOTIFY_WEBHOOK_SECRET"),
            ) {
                (Some(url), Some(_))
                    if url.starts_with("https://") || url.starts_with("http://") =>
                {
                    Some(url)
                }
                (Some(_), Some(_)) => {
                    return Err(ConfigError::Invalid {
                        name: "GUICHET_NOTIFY_WEBHOOK_URL",
                        reason: "expected an http:// or https:// URL".into(),
                    });
                }
                (Some(_), None) => {
                    return Err(ConfigError::Invalid {
                        name: "GUICHET_NOTIFY_WEBHOOK_SECRET",
                        reason: "required with GUICHET_NOTIFY_WEBHOOK_URL".into(),
                    });
                }
                (None, _) => None,
            },
            notify_webhook_secret: var("GUICHET_NOTIFY_WEBHOOK_SECRET"),
            refund_window_secs: parsed("GUICHET_REFUND_WINDOW_SECS", d.refund_window_secs)?,
            key_encryption_key: match var("GUICHET_KEY_ENCRYPTION_KEY") {
                None => None,
                Some(hex_key) => {
                    let mut key = [0u8; 32];
                    hex::decode_to_slice(hex_key.trim(), &mut key).map_err(|_| {
                        ConfigError::Invalid {
                            name: "GUICHET_KEY_ENCRYPTION_KEY",
                            reason: "must be 64 hex characters (32 bytes)".into(),
                        }
                    })?;
                    Some(key)
                }
            },
            bench_routes: flag("GUICHET_BENCH_ROUTES", false)?,
            trust_forwarded_for: flag("GUICHET_TRUST_FORWARDED_FOR", false)?,
            database_url,
        })
    }

    /// The token-signing secret: `GUICHET_JWT_SECRET` if set; otherwise, with SQLite only,
    /// the secret file, created with 256 random bits (mode 0600) on first start. PostgreSQL
    /// deployments run several replicas, which must share one configured secret.
    pub fn load_secret(&self) -> Result<Vec<u8>, ConfigError> {
        if let Some(secret) = &self.jwt_secret {
            return Ok(secret.clone());
        }
        if self.database_url.starts_with("postgres") {
            return Err(ConfigError::MissingSecret);
        }
        let path = &self.secret_file;
        let io = |source| ConfigError::SecretFile {
            path: path.clone(),
            source,
        };
        match std::fs::read_to_string(path) {
            Ok(s) if s.trim().len() >= 32 => return Ok(s.trim().as_bytes().to_vec()),
            Ok(_) => {
                return Err(ConfigError::Invalid {
                    name: "GUICHET_SECRET_FILE",
                    reason: "holds fewer than 32 bytes".into(),
                });
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io(e)),
        }
        let mut bytes = [0u8; 32];
        rand::RngCore::fill_bytes(&mut rand::rng(), &mut bytes);
        let secret = hex::encode(bytes);
        write_private(path, &secret).map_err(io)?;
        Ok(secret.into_bytes())
    }
}

#[cfg(unix)]
fn write_private(path: &std::path::Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(contents.as_bytes())?;
    file.sync_all()
}

#[cfg(not(unix))]
fn write_private(path: &std::path::Path, contents: &str) -> std::io::Result<()> {
    std::fs::write(path, contents)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_secret_is_generated_once_and_reused() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let config = Config {
            secret_file: dir.path().join("s"),
            ..Config::default()
        };
        let first = config.load_secret().unwrap_or_default();
        assert_eq!(first.len(), 64);
        assert_eq!(config.load_secret().unwrap_or_default(), first);
    }

    #[test]
    fn postgres_requires_an_explicit_secret() {
        let config = Config {
            database_url: "postgres://x/y".into(),
            ..Config::default()
        };
        assert!(matches!(
            config.load_secret(),
            Err(ConfigError::MissingSecret)
        ));
    }
}
