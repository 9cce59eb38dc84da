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
    /// PostgreSQL (production) needs an explicit key-encryption key.
    #[error(
        "GUICHET_KEY_ENCRYPTION_KEY (64 hex characters, e.g. `openssl rand -hex 32`) or \
         GUICHET_KEY_ENCRYPTION_KEY_FILE is required with PostgreSQL; keep it apart from \
         GUICHET_JWT_SECRET"
    )]
    MissingKeyEncryptionKey,
    /// PostgreSQL (production) needs an explicit payment provider.
    #[error(
        "GUICHET_PAYMENT_PROVIDER is required with PostgreSQL: `stripe`, or `test` for a \
         staging server that must never take real money"
    )]
    MissingPaymentProvider,
    /// The secret file could not be read or written.
    #[error("secret file {path}: {source}")]
    SecretFile {
        /// The file.
        path: PathBuf,
        /// The I/O failure.
        source: std::io::Error,
    },
}

/// The server's settings. `Debug` shows every setting but the secrets, which it names as
/// set or unset.
#[derive(Clone)]
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
    /// `GUICHET_SESSION_CHECK_GROUPING`: concurrent requests' session checks share one read
    /// (default on; off reads each session on its own, for comparison).
    pub session_check_grouping: bool,
    /// `GUICHET_LIVE_*`: subscription limits (see [`crate::live::LiveLimits`]).
    pub live: crate::live::LiveLimits,
    /// `GUICHET_PAYMENT_PROVIDER`: `test` (deterministic test cards) or `stripe`. The
    /// embedded SQLite default assumes `test`; with PostgreSQL it must be set.
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
    /// `GUICHET_KEY_ENCRYPTION_KEY`: 64 hex characters sealing events' signing keys at rest,
    /// independent of the token secret; see [`Config::load_key_encryption_key`].
    pub key_encryption_key: Option<[u8; 32]>,
    /// `GUICHET_KEY_ENCRYPTION_KEY_FILE`: a file holding the key (64 hex characters). Default
    /// with SQLite: `<database file>.kek`, created on first start (mode 0600).
    pub key_encryption_key_file: Option<PathBuf>,
    /// `GUICHET_PREVIOUS_KEY_ENCRYPTION_KEY`: the key being rotated out; signing keys that
    /// open only with it are re-sealed under the current key at start.
    pub previous_key_encryption_key: Option<[u8; 32]>,
    /// `GUICHET_BENCH_ROUTES`: expose `POST /bench/decrement/{ticketTypeId}`, the bare
    /// conditional decrement the load generator compares holds with (default off; never in
    /// production: it takes stock without a hold).
    pub bench_routes: bool,
    /// `GUICHET_TRUSTED_PROXIES`: how many reverse proxies in front of the server append to
    /// `X-Forwarded-For` (default 0: the socket's address is the client). With N, the client
    /// is the Nth address from the right, the one the outermost trusted proxy saw.
    pub trusted_proxies: usize,
    /// `GUICHET_GRAPHIQL`: serve GraphiQL on `GET /graphql` (default on).
    pub graphiql: bool,
    /// `GUICHET_INTROSPECTION`: answer `__schema` and `__type` (default on).
    pub introspection: bool,
    /// `GUICHET_SMTP_URL`: where buyers' e-mail goes (see `notify` and `mail`):
    /// `smtps://user:password@host:465`, `smtp://user:password@host:587?tls=required`
    /// (STARTTLS), or `smtp://host:25` (no TLS: a local relay only). No e-mail is sent when
    /// unset (notifications wait in the outbox).
    pub smtp_url: Option<String>,
    /// `GUICHET_MAIL_FROM`: the sender, `Guichet <tickets@example.org>`; required with the
    /// SMTP URL. Its domain also ends every `Message-ID`.
    pub mail_from: Option<String>,
    /// `GUICHET_MAIL_TEMPLATES_DIR`: a directory of `<language>/<template>.{txt,html}` files
    /// replacing the built-in templates one by one (default: the built-in ones only).
    pub mail_templates_dir: Option<PathBuf>,
    /// `GUICHET_MAIL_MAX_ATTEMPTS`: failed attempts after which an e-mail becomes a dead
    /// letter (default 10: with the back-off, about 2.5 hours of trying).
    pub mail_max_attempts: i64,
    /// `GUICHET_SESSION_MAX_SECS`: absolute lifetime of a session, whatever its refreshes
    /// (default 90 days; refresh tokens slide within it).
    pub session_max_secs: i64,
    /// `GUICHET_REQUIRE_2FA_TO_PUBLISH`: organizers must enable TOTP before publishing an
    /// event (default off).
    pub require_2fa_to_publish: bool,
    /// `GUICHET_OIDC_ISSUER`: an OpenID Connect issuer whose access tokens are accepted
    /// (`https://…`, or `http://` on a loopback address); off when unset.
    pub oidc_issuer: Option<String>,
    /// `GUICHET_OIDC_AUDIENCE`: the audience its access tokens must name (required with the
    /// issuer).
    pub oidc_audience: Option<String>,
    /// `GUICHET_OIDC_ROLES_CLAIM`: the claim (string or array of strings) whose values
    /// `guichet:organizer` / `guichet:admin` give those roles (default `roles`).
    pub oidc_roles_claim: String,
    /// `GUICHET_OIDC_KEYS_REFRESH_SECS`: least time between two fetches of the issuer's keys
    /// when a token names an unknown key id (default 10).
    pub oidc_keys_refresh_secs: u64,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        fn secret<T>(value: &Option<T>) -> &'static str {
            if value.is_some() { "<set>" } else { "<unset>" }
        }
        f.debug_struct("Config")
            .field("database_url", &redact_url(&self.database_url))
            .field("db_max_connections", &self.db_max_connections)
            .field("bind", &self.bind)
            .field("jwt_secret", &secret(&self.jwt_secret))
            .field("secret_file", &self.secret_file)
            .field("access_ttl", &self.access_ttl)
            .field("refresh_ttl", &self.refresh_ttl)
            .field("demo", &self.demo)
            .field("json_logs", &self.json_logs)
            .field("max_body_bytes", &self.max_body_bytes)
            .field("auth_rate_per_minute", &self.auth_rate_per_minute)
            .field("auth_rate_burst", &self.auth_rate_burst)
            .field("hold_ttl_secs", &self.hold_ttl_secs)
            .field("hold_rate_per_minute", &self.hold_rate_per_minute)
            .field("hold_batching", &self.hold_batching)
            .field("session_check_grouping", &self.session_check_grouping)
            .field("live", &self.live)
            .field("payment_provider", &self.payment_provider)
            .field("stripe_api_base", &self.stripe_api_base)
            .field("stripe_secret_key", &secret(&self.stripe_secret_key))
            .field(
                "stripe_webhook_secret",
                &secret(&self.stripe_webhook_secret),
            )
            .field("notify_webhook_url", &self.notify_webhook_url)
            .field(
                "notify_webhook_secret",
                &secret(&self.notify_webhook_secret),
            )
            .field("refund_window_secs", &self.refund_window_secs)
            .field("key_encryption_key", &secret(&self.key_encryption_key))
            .field("key_encryption_key_file", &self.key_encryption_key_file)
            .field(
                "previous_key_encryption_key",
                &secret(&self.previous_key_encryption_key),
            )
            .field("bench_routes", &self.bench_routes)
            .field("trusted_proxies", &self.trusted_proxies)
            .field("graphiql", &self.graphiql)
            .field("introspection", &self.introspection)
            .field("smtp_url", &self.smtp_url.as_deref().map(redact_url))
            .field("mail_from", &self.mail_from)
            .field("mail_templates_dir", &self.mail_templates_dir)
            .field("mail_max_attempts", &self.mail_max_attempts)
            .field("session_max_secs", &self.session_max_secs)
            .field("require_2fa_to_publish", &self.require_2fa_to_publish)
            .field("oidc_issuer", &self.oidc_issuer)
            .field("oidc_audience", &self.oidc_audience)
            .field("oidc_roles_claim", &self.oidc_roles_claim)
            .field("oidc_keys_refresh_secs", &self.oidc_keys_refresh_secs)
            .finish()
    }
}

/// A database URL without its password (`postgres://user:secret@host/db` keeps `user`).
fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => {
            let user = rest[..at].split(':').next().unwrap_or_default();
            format!("{scheme}://{user}:<redacted>@{}", &rest[at + 1..])
        }
        None => url.to_owned(),
    }
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
            session_check_grouping: true,
            live: crate::live::LiveLimits::default(),
            payment_provider: "test".into(),
            stripe_api_base: "https://api.stripe.com".into(),
            stripe_secret_key: None,
            stripe_webhook_secret: None,
            notify_webhook_url: None,
            notify_webhook_secret: None,
            refund_window_secs: 48 * 3600,
            key_encryption_key: None,
            key_encryption_key_file: None,
            previous_key_encryption_key: None,
            bench_routes: false,
            trusted_proxies: 0,
            graphiql: true,
            introspection: true,
            smtp_url: None,
            mail_from: None,
            mail_templates_dir: None,
            mail_max_attempts: 10,
            session_max_secs: 90 * 24 * 3600,
            require_2fa_to_publish: false,
            oidc_issuer: None,
            oidc_audience: None,
            oidc_roles_claim: "roles".into(),
            oidc_keys_refresh_secs: crate::auth::oidc::REFRESH_EVERY.as_secs(),
        }
    }
}

/// The variables, from the process environment or (in tests) a map.
struct Env<'a>(&'a dyn Fn(&str) -> Option<String>);

impl Env<'_> {
    fn var(&self, name: &str) -> Option<String> {
        (self.0)(name).filter(|v| !v.trim().is_empty())
    }

    fn parsed<T: std::str::FromStr>(&self, name: &'static str, default: T) -> Result<T, ConfigError>
    where
        T::Err: std::fmt::Display,
    {
        match self.var(name) {
            None => Ok(default),
            Some(v) => v.trim().parse().map_err(|e: T::Err| ConfigError::Invalid {
                name,
                reason: e.to_string(),
            }),
        }
    }

    fn flag(&self, name: &'static str, default: bool) -> Result<bool, ConfigError> {
        match self
            .var(name)
            .as_deref()
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            None => Ok(default),
            Some("1" | "true" | "yes" | "on") => Ok(true),
            Some("0" | "false" | "no" | "off") => Ok(false),
            Some(other) => Err(ConfigError::Invalid {
                name,
                reason: format!("expected true or false, got {other}"),
            }),
        }
    }

    fn key(&self, name: &'static str) -> Result<Option<[u8; 32]>, ConfigError> {
        self.var(name)
            .map(|hex_key| parse_key(name, &hex_key))
            .transpose()
    }
}

fn parse_key(name: &'static str, hex_key: &str) -> Result<[u8; 32], ConfigError> {
    let mut key = [0u8; 32];
    hex::decode_to_slice(hex_key.trim(), &mut key).map_err(|_| ConfigError::Invalid {
        name,
        reason: "must be 64 hex characters (32 bytes)".into(),
    })?;
    Ok(key)
}

/// `GUICHET_OIDC_ISSUER` and `GUICHET_OIDC_AUDIENCE`: both or neither; the issuer over
/// HTTPS, or plain HTTP only on a loopback address (tests, a provider on the same host).
fn oidc_settings(env: &Env<'_>) -> Result<(Option<String>, Option<String>), ConfigError> {
    let issuer = env.var("GUICHET_OIDC_ISSUER").map(|i| i.trim().to_owned());
    let audience = env
        .var("GUICHET_OIDC_AUDIENCE")
        .map(|a| a.trim().to_owned());
    match (&issuer, &audience) {
        (None, None) => Ok((None, None)),
        (Some(_), None) => Err(ConfigError::Invalid {
            name: "GUICHET_OIDC_AUDIENCE",
            reason: "required with GUICHET_OIDC_ISSUER".into(),
        }),
        (None, Some(_)) => Err(ConfigError::Invalid {
            name: "GUICHET_OIDC_ISSUER",
            reason: "required with GUICHET_OIDC_AUDIENCE".into(),
        }),
        (Some(i), Some(_)) => {
            let loopback = ["http://127.0.0.1:", "http://[::1]:", "http://localhost:"]
                .iter()
                .any(|p| i.starts_with(p));
            if i.starts_with("https://") || loopback {
                Ok((issuer, audience))
            } else {
                Err(ConfigError::Invalid {
                    name: "GUICHET_OIDC_ISSUER",
                    reason: "expected an https:// URL (http:// only on a loopback address)".into(),
                })
            }
        }
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
        Config::from_lookup(&|name| std::env::var(name).ok())
    }

    /// Reads the settings from `lookup` (the environment, or a map in tests). Production
    /// choices are explicit with PostgreSQL: the payment provider and the key-encryption key
    /// must be set, and demo data needs `GUICHET_DEMO=true`.
    pub fn from_lookup(lookup: &dyn Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let env = Env(lookup);
        let d = Config::default();
        let explicit_db = env.var("DATABASE_URL");
        let database_url = explicit_db.clone().unwrap_or(d.database_url);
        let postgres = database_url.starts_with("postgres");
        let jwt_secret = match env.var("GUICHET_JWT_SECRET") {
            None => None,
            Some(s) if s.len() < 32 => {
                return Err(ConfigError::Invalid {
                    name: "GUICHET_JWT_SECRET",
                    reason: "must be at least 32 bytes".into(),
                });
            }
            Some(s) => Some(s.into_bytes()),
        };
        let log_format = env
            .var("GUICHET_LOG_FORMAT")
            .unwrap_or_else(|| "pretty".into());
        if log_format != "pretty" && log_format != "json" {
            return Err(ConfigError::Invalid {
                name: "GUICHET_LOG_FORMAT",
                reason: "expected pretty or json".into(),
            });
        }
        if env.var("GUICHET_TRUST_FORWARDED_FOR").is_some() {
            return Err(ConfigError::Invalid {
                name: "GUICHET_TRUST_FORWARDED_FOR",
                reason: "replaced by GUICHET_TRUSTED_PROXIES=<number of proxies in front>".into(),
            });
        }
        let payment_provider = match env.var("GUICHET_PAYMENT_PROVIDER").as_deref() {
            None if postgres => return Err(ConfigError::MissingPaymentProvider),
            None | Some("test") => "test".into(),
            Some("stripe") => "stripe".into(),
            Some(_) => {
                return Err(ConfigError::Invalid {
                    name: "GUICHET_PAYMENT_PROVIDER",
                    reason: "expected test or stripe".into(),
                });
            }
        };
        let key_encryption_key = env.key("GUICHET_KEY_ENCRYPTION_KEY")?;
        let key_encryption_key_file = env
            .var("GUICHET_KEY_ENCRYPTION_KEY_FILE")
            .map(PathBuf::from);
        if postgres && key_encryption_key.is_none() && key_encryption_key_file.is_none() {
            return Err(ConfigError::MissingKeyEncryptionKey);
        }
        let (oidc_issuer, oidc_audience) = oidc_settings(&env)?;
        Ok(Config {
            db_max_connections: match env.var("GUICHET_DB_MAX_CONNECTIONS") {
                None => None,
                Some(_) => Some(env.parsed("GUICHET_DB_MAX_CONNECTIONS", 0u32)?.max(1)),
            },
            bind: env.parsed("GUICHET_BIND", d.bind)?,
            jwt_secret,
            secret_file: env
                .var("GUICHET_SECRET_FILE")
                .map(PathBuf::from)
                .unwrap_or(d.secret_file),
            access_ttl: env.parsed("GUICHET_ACCESS_TOKEN_TTL_SECS", d.access_ttl)?,
            refresh_ttl: env.parsed("GUICHET_REFRESH_TOKEN_TTL_SECS", d.refresh_ttl)?,
            demo: env.flag("GUICHET_DEMO", explicit_db.is_none())?,
            json_logs: log_format == "json",
            max_body_bytes: env.parsed("GUICHET_MAX_BODY_BYTES", d.max_body_bytes)?,
            auth_rate_per_minute: env
                .parsed("GUICHET_AUTH_RATE_PER_MINUTE", d.auth_rate_per_minute)?,
            auth_rate_burst: env.parsed("GUICHET_AUTH_RATE_BURST", d.auth_rate_burst)?,
            hold_ttl_secs: env.parsed("GUICHET_HOLD_TTL_SECS", d.hold_ttl_secs)?,
            hold_rate_per_minute: env
                .parsed("GUICHET_HOLD_RATE_PER_MINUTE", d.hold_rate_per_minute)?,
            hold_batching: env.flag("GUICHET_HOLD_BATCHING", d.hold_batching)?,
            session_check_grouping: env
                .flag("GUICHET_SESSION_CHECK_GROUPING", d.session_check_grouping)?,
            live: crate::live::LiveLimits {
                per_connection: env.parsed(
                    "GUICHET_LIVE_MAX_SUBSCRIPTIONS_PER_CONNECTION",
                    d.live.per_connection,
                )?,
                per_account: env.parsed(
                    "GUICHET_LIVE_MAX_SUBSCRIPTIONS_PER_ACCOUNT",
                    d.live.per_account,
                )?,
                idle_timeout_secs: env
                    .parsed("GUICHET_LIVE_IDLE_TIMEOUT_SECS", d.live.idle_timeout_secs)?,
                send_buffer: env.parsed("GUICHET_LIVE_SEND_BUFFER", d.live.send_buffer)?,
            },
            payment_provider,
            stripe_api_base: env.var("STRIPE_API_BASE").unwrap_or(d.stripe_api_base),
            stripe_secret_key: env.var("STRIPE_SECRET_KEY"),
            stripe_webhook_secret: env.var("STRIPE_WEBHOOK_SECRET"),
            notify_webhook_url: match (
                env.var("GUICHET_NOTIFY_WEBHOOK_URL"),
                env.var("GUICHET_NOTIFY_WEBHOOK_SECRET"),
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
            notify_webhook_secret: env.var("GUICHET_NOTIFY_WEBHOOK_SECRET"),
            refund_window_secs: env.parsed("GUICHET_REFUND_WINDOW_SECS", d.refund_window_secs)?,
            key_encryption_key,
            key_encryption_key_file,
            previous_key_encryption_key: env.key("GUICHET_PREVIOUS_KEY_ENCRYPTION_KEY")?,
            bench_routes: env.flag("GUICHET_BENCH_ROUTES", false)?,
            trusted_proxies: env.parsed("GUICHET_TRUSTED_PROXIES", d.trusted_proxies)?,
            graphiql: env.flag("GUICHET_GRAPHIQL", d.graphiql)?,
            introspection: env.flag("GUICHET_INTROSPECTION", d.introspection)?,
            smtp_url: match (env.var("GUICHET_SMTP_URL"), env.var("GUICHET_MAIL_FROM")) {
                (Some(url), Some(_))
                    if url.starts_with("smtp://") || url.starts_with("smtps://") =>
                {
                    Some(url)
                }
                (Some(_), Some(_)) => {
                    return Err(ConfigError::Invalid {
                        name: "GUICHET_SMTP_URL",
                        reason: "expected an smtp:// or smtps:// URL".into(),
                    });
                }
                (Some(_), None) => {
                    return Err(ConfigError::Invalid {
                        name: "GUICHET_MAIL_FROM",
                        reason: "required with GUICHET_SMTP_URL".into(),
                    });
                }
                (None, _) => None,
            },
            mail_from: env.var("GUICHET_MAIL_FROM"),
            mail_templates_dir: env.var("GUICHET_MAIL_TEMPLATES_DIR").map(PathBuf::from),
            mail_max_attempts: env
                .parsed("GUICHET_MAIL_MAX_ATTEMPTS", d.mail_max_attempts)?
                .max(1),
            session_max_secs: env.parsed("GUICHET_SESSION_MAX_SECS", d.session_max_secs)?,
            require_2fa_to_publish: env
                .flag("GUICHET_REQUIRE_2FA_TO_PUBLISH", d.require_2fa_to_publish)?,
            oidc_issuer,
            oidc_audience,
            oidc_roles_claim: env
                .var("GUICHET_OIDC_ROLES_CLAIM")
                .unwrap_or(d.oidc_roles_claim),
            oidc_keys_refresh_secs: env
                .parsed("GUICHET_OIDC_KEYS_REFRESH_SECS", d.oidc_keys_refresh_secs)?,
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
    /// The key-encryption key that seals events' signing keys, never derived from the token
    /// secret (rotating one must not touch the other):
    /// 1. `GUICHET_KEY_ENCRYPTION_KEY` if set;
    /// 2. else `GUICHET_KEY_ENCRYPTION_KEY_FILE`, which must exist (replicas share one key,
    ///    so a missing file is an error rather than a new key);
    /// 3. else, with a SQLite file, `<database file>.kek` beside it, created with 256 random
    ///    bits (mode 0600) on first start and read afterwards; an in-memory SQLite database
    ///    gets a key for the life of the process;
    /// 4. else (PostgreSQL) an error.
    pub fn load_key_encryption_key(&self) -> Result<[u8; 32], ConfigError> {
        if let Some(key) = self.key_encryption_key {
            return Ok(key);
        }
        if let Some(path) = &self.key_encryption_key_file {
            return read_key_file(path)?.ok_or_else(|| ConfigError::SecretFile {
                path: path.clone(),
                source: std::io::ErrorKind::NotFound.into(),
            });
        }
        let path = match sqlite_file(&self.database_url) {
            SqliteFile::NotSqlite => return Err(ConfigError::MissingKeyEncryptionKey),
            SqliteFile::Memory => return Ok(rand::random()),
            SqliteFile::Path(db) => {
                let mut name = db.into_os_string();
                name.push(".kek");
                PathBuf::from(name)
            }
        };
        if let Some(key) = read_key_file(&path)? {
            return Ok(key);
        }
        let key: [u8; 32] = rand::random();
        match write_private(&path, &hex::encode(key)) {
            Ok(()) => {
                tracing::info!(path = %path.display(), "generated the key-encryption key file");
                Ok(key)
            }
            // Another process created it first: use theirs.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                read_key_file(&path)?.ok_or(ConfigError::SecretFile { path, source: e })
            }
            Err(source) => Err(ConfigError::SecretFile { path, source }),
        }
    }
}

/// Where a SQLite URL keeps its database.
enum SqliteFile {
    /// Not a SQLite URL.
    NotSqlite,
    /// In memory.
    Memory,
    /// This file.
    Path(PathBuf),
}

fn sqlite_file(url: &str) -> SqliteFile {
    let Some(rest) = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
    else {
        return SqliteFile::NotSqlite;
    };
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    if path.is_empty() || path == ":memory:" || query.split('&').any(|p| p == "mode=memory") {
        SqliteFile::Memory
    } else {
        SqliteFile::Path(PathBuf::from(path))
    }
}

/// The key in `path` (64 hex characters), or `None` if there is no such file.
fn read_key_file(path: &std::path::Path) -> Result<Option<[u8; 32]>, ConfigError> {
    match std::fs::read_to_string(path) {
        Ok(text) => parse_key("GUICHET_KEY_ENCRYPTION_KEY_FILE", &text).map(Some),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(ConfigError::SecretFile {
            path: path.to_owned(),
            source,
        }),
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
    fn smtp_needs_a_sender_and_an_smtp_url_and_hides_its_password() {
        let lookup = |vars: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                vars.iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| (*v).to_owned())
            }
        };
        let ok = Config::from_lookup(&lookup(&[
            (
                "GUICHET_SMTP_URL",
                "smtps://mailer:hunter22@smtp.example.org:465",
            ),
            ("GUICHET_MAIL_FROM", "Guichet <tickets@example.org>"),
            ("GUICHET_MAIL_MAX_ATTEMPTS", "4"),
        ]))
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(ok.mail_max_attempts, 4);
        assert_eq!(
            ok.mail_from.as_deref(),
            Some("Guichet <tickets@example.org>")
        );
        let shown = format!("{ok:?}");
        assert!(!shown.contains("hunter22"), "{shown}");
        assert!(
            shown.contains("smtps://mailer:<redacted>@smtp.example.org:465"),
            "{shown}"
        );
        let no_from = Config::from_lookup(&lookup(&[("GUICHET_SMTP_URL", "smtp://127.0.0.1:25")]));
        assert!(
            matches!(
                no_from,
                Err(ConfigError::Invalid {
                    name: "GUICHET_MAIL_FROM",
                    ..
                })
            ),
            "{no_from:?}"
        );
        let http = Config::from_lookup(&lookup(&[
            ("GUICHET_SMTP_URL", "http://127.0.0.1:25"),
            ("GUICHET_MAIL_FROM", "a@example.org"),
        ]));
        assert!(
            matches!(
                http,
                Err(ConfigError::Invalid {
                    name: "GUICHET_SMTP_URL",
                    ..
                })
            ),
            "{http:?}"
        );
        let off = Config::from_lookup(&lookup(&[])).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((off.smtp_url, off.mail_max_attempts), (None, 10));
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
