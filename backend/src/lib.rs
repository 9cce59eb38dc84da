//! Guichet's API server: a stateless axum application over sqlx storage.
//!
//! [`app`] builds the whole router from an [`AppState`], so tests drive the real thing
//! in-process; `main.rs` only reads configuration and serves it.

pub mod auth;
pub mod checkout;
pub mod config;
pub mod db;
pub mod error;
pub mod graphql;
mod http;
pub mod issuing;
pub mod live;
pub mod mail;
pub mod metrics;
pub mod notify;
pub mod payments;
pub mod seed;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::http::HeaderName;
use axum::routing::get;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::auth::login_guard::LoginGuard;
use crate::auth::rate_limit::RateLimiter;
use crate::auth::tokens::TokenKeys;
use crate::config::Config;
use crate::db::Db;
use crate::graphql::GuichetSchema;
use crate::metrics::Metrics;
use crate::payments::PaymentProvider;
use crate::payments::stripe::StripeProvider;
use crate::payments::test_provider::TestProvider;

/// Everything a request handler may use. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

/// The shared parts behind [`AppState`].
pub struct Inner {
    /// Settings.
    pub config: Config,
    /// Storage.
    pub db: Db,
    /// Access-token keys.
    pub tokens: TokenKeys,
    /// Metrics registry.
    pub metrics: Metrics,
    /// Sign-up and pairing limiter (per client address).
    pub auth_limiter: RateLimiter,
    /// Log-in limiter (by address, by account and address, and failures by account).
    pub login_guard: LoginGuard,
    /// Per-buyer hold limiter.
    pub hold_limiter: RateLimiter,
    /// The hold path: batches concurrent holds into one transaction each (group commit).
    pub holds: db::hold_batch::HoldBatcher,
    /// The session check of every authenticated request (group reads).
    pub sessions: auth::session_check::SessionCheck,
    /// The hold path's short-lived read of events' sale terms.
    pub sale_terms: db::holds::SaleTermsCache,
    /// Parsed GraphQL documents by query text.
    pub documents: graphql::DocumentCache,
    /// The payment provider.
    pub payments: Arc<dyn PaymentProvider>,
    /// Seals events' issuing keys (and TOTP secrets) at rest.
    pub sealer: issuing::Sealer,
    /// Live updates: publishes changes to every replica and watches them for subscribers.
    pub live: live::Live,
    /// Verifies an external OpenID Connect issuer's access tokens, when one is configured.
    pub oidc: Option<auth::oidc::OidcVerifier>,
    /// The GraphQL schema (holds a clone of this state).
    schema: std::sync::OnceLock<GuichetSchema>,
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.inner
    }
}

impl std::fmt::Debug for Inner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inner")
            .field("engine", &self.db.engine())
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("engine", &self.db.engine())
            .finish_non_exhaustive()
    }
}

impl Inner {
    /// The schema.
    pub fn schema(&self) -> &GuichetSchema {
        // Invariant: AppState::new sets the schema before returning the state.
        self.schema.get_or_init(|| graphql::schema(None))
    }
}

/// Why the state could not be assembled.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// Bad configuration.
    #[error(transparent)]
    Config(#[from] config::ConfigError),
    /// Storage unreachable or migration failed.
    #[error("storage: {0}")]
    Store(#[from] db::StoreError),
    /// Metrics registration failed.
    #[error(transparent)]
    Metrics(#[from] metrics::MetricsError),
    /// The payment provider is misconfigured.
    #[error("payment provider: {0}")]
    Payments(String),
    /// The OpenID Connect verifier could not be built.
    #[error(transparent)]
    Oidc(#[from] auth::oidc::OidcError),
    /// Stored issuing keys do not open with the configured key-encryption key.
    #[error(
        "{0} event signing key(s) cannot be opened with the configured key-encryption key; \
         if it was just rotated, also set GUICHET_PREVIOUS_KEY_ENCRYPTION_KEY to the old one"
    )]
    Keys(usize),
}

impl AppState {
    /// Assembles the state over an already connected and migrated database, with the
    /// payment provider the configuration names.
    pub fn new(config: Config, db: Db, secret: &[u8]) -> Result<AppState, StartError> {
        let payments: Arc<dyn PaymentProvider> = match config.payment_provider.as_str() {
            "stripe" => {
                let key = config.stripe_secret_key.as_deref().ok_or_else(|| {
                    StartError::Payments("STRIPE_SECRET_KEY is required with stripe".into())
                })?;
                Arc::new(
                    StripeProvider::new(&config.stripe_api_base, key)
                        .map_err(|e| StartError::Payments(e.to_string()))?,
                )
            }
            _ => Arc::new(TestProvider::new()),
        };
        AppState::with_provider(config, db, secret, payments)
    }

    /// Assembles the state with a given payment provider (tests share one across restarts).
    /// The key-encryption key comes from [`Config::load_key_encryption_key`], never from
    /// `secret`.
    pub fn with_provider(
        config: Config,
        db: Db,
        secret: &[u8],
        payments: Arc<dyn PaymentProvider>,
    ) -> Result<AppState, StartError> {
        let tokens = TokenKeys::new(secret, config.access_ttl, config.refresh_ttl);
        let sealer = issuing::Sealer::new(&config.load_key_encryption_key()?);
        let auth_limiter = RateLimiter::new(config.auth_rate_per_minute, config.auth_rate_burst);
        let login_guard = LoginGuard::new(config.auth_rate_per_minute, config.auth_rate_burst);
        let oidc = match (&config.oidc_issuer, &config.oidc_audience) {
            (Some(issuer), Some(audience)) => Some(
                auth::oidc::OidcVerifier::new(
                    issuer,
                    audience,
                    &config.oidc_roles_claim,
                    Duration::from_secs(config.oidc_keys_refresh_secs),
                )
                .map_err(StartError::Oidc)?,
            ),
            _ => None,
        };
        let hold_limiter = RateLimiter::new(
            config.hold_rate_per_minute,
            config.hold_rate_per_minute.div_ceil(4),
        );
        let metrics = Metrics::new()?;
        let live = live::Live::new(&db, metrics.clone(), config.live);
        let state = AppState {
            inner: Arc::new(Inner {
                holds: db::hold_batch::HoldBatcher::new(db.clone(), config.hold_batching),
                sessions: auth::session_check::SessionCheck::new(
                    db.clone(),
                    config.session_check_grouping,
                ),
                db,
                tokens,
                metrics,
                auth_limiter,
                login_guard,
                hold_limiter,
                sale_terms: db::holds::SaleTermsCache::default(),
                documents: graphql::DocumentCache::default(),
                config,
                payments,
                sealer,
                live,
                oidc,
                schema: std::sync::OnceLock::new(),
            }),
        };
        // The schema holds a clone of the state; the cycle lives as long as the server.
        let _ = state.inner.schema.set(graphql::schema(Some(state.clone())));
        Ok(state)
    }

    /// Connects, migrates and assembles, from configuration alone, then re-seals issuing
    /// keys sealed under an older key-encryption key (see [`AppState::reseal_keys`]).
    pub async fn from_config(config: Config) -> Result<AppState, StartError> {
        let secret = config.load_secret()?;
        let db = Db::connect(&config.database_url, config.pool_size()).await?;
        db.migrate().await?;
        let state = AppState::new(config, db, &secret)?;
        state.reseal_keys(&secret).await?;
        Ok(state)
    }

    /// Re-seals under the configured key-encryption key the event signing keys sealed under
    /// `GUICHET_PREVIOUS_KEY_ENCRYPTION_KEY` (a rotation) or under the key that versions
    /// before the dedicated key derived from the token secret `secret` (an upgrade). Refuses
    /// to go on if some key opens with none of them: a server that cannot sign would refund
    /// every checkout.
    pub async fn reseal_keys(&self, secret: &[u8]) -> Result<db::keys::Reseal, StartError> {
        let mut older: Vec<issuing::Sealer> = self
            .config
            .previous_key_encryption_key
            .iter()
            .map(issuing::Sealer::new)
            .collect();
        older.push(issuing::Sealer::legacy_derived_from(secret));
        let report = self.db.reseal_event_keys(&self.sealer, &older).await?;
        if report.resealed > 0 {
            tracing::info!(
                resealed = report.resealed,
                "event signing keys re-sealed under the current key-encryption key"
            );
        }
        if report.unopenable > 0 {
            return Err(StartError::Keys(report.unopenable));
        }
        Ok(report)
    }
}

/// The whole HTTP application.
pub fn app(state: AppState) -> Router {
    let request_id = HeaderName::from_static("x-request-id");
    let mut router = Router::new();
    if state.config.bench_routes {
        router = router.route(
            "/bench/decrement/{ticket_type_id}",
            axum::routing::post(http::bench_decrement),
        );
    }
    // GET serves WebSocket subscriptions, and GraphiQL (when enabled) to a plain GET.
    let graphql_route = get(graphql::ws).post(graphql::post);
    router
        .route("/graphql", graphql_route)
        .route("/health", get(http::health))
        .route("/ready", get(http::ready))
        .route("/metrics", get(http::metrics))
        .route("/webhooks/payments/{provider}", axum::routing::post(http::webhook))
        .route_layer(axum::middleware::from_fn_with_state(state.clone(), http::track))
        .layer(TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(30),
        ))
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(TraceLayer::new_for_http().make_span_with(|req: &axum::http::Request<_>| {
            let id = req
                .headers()
                .get("x-request-id")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default();
            tracing::info_span!("request", method = %req.method(), uri = %req.uri().path(), request_id = %id)
        }))
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
        .with_state(state)
}
