//! Prometheus metrics: the golden signals per route and GraphQL errors by code. One registry
//! per server instance, so in-process tests never share counters.

use std::time::Duration;

use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, Opts, Registry, TextEncoder,
};

use crate::error::Code;

/// The server's metrics.
#[derive(Debug, Clone)]
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    http_errors: IntCounterVec,
    graphql_errors: IntCounterVec,
    holds: IntCounterVec,
    notifications: IntCounterVec,
    scans: IntCounterVec,
    live_connections: IntGauge,
    live_subscriptions: IntGauge,
    live_closed: IntCounterVec,
}

/// Why metrics could not be registered (a name clash: a programming error).
#[derive(Debug, thiserror::Error)]
#[error("metrics registration failed: {0}")]
pub struct MetricsError(#[from] prometheus::Error);

impl Metrics {
    /// A fresh registry with every metric registered.
    pub fn new() -> Result<Metrics, MetricsError> {
        let registry = Registry::new_custom(Some("guichet".into()), None)?;
        let requests = IntCounterVec::new(
            Opts::new(
                "http_requests_total",
                "HTTP requests by route, method and status",
            ),
            &["route", "method", "status"],
        )?;
        let latency = HistogramVec::new(
            HistogramOpts::new("http_request_duration_seconds", "HTTP request latency").buckets(
                vec![
                    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
                ],
            ),
            &["route", "method"],
        )?;
        let http_errors = IntCounterVec::new(
            Opts::new(
                "http_errors_total",
                "HTTP responses with status >= 400 by route",
            ),
            &["route", "status"],
        )?;
        let graphql_errors = IntCounterVec::new(
            Opts::new("graphql_errors_total", "GraphQL errors by code"),
            &["code"],
        )?;
        let holds = IntCounterVec::new(
            Opts::new(
                "holds_total",
                "Hold attempts by outcome (held, sold_out, expired)",
            ),
            &["outcome"],
        )?;
        let notifications = IntCounterVec::new(
            Opts::new(
                "notifications_total",
                "Notification delivery attempts by outcome (delivered, failed)",
            ),
            &["outcome"],
        )?;
        let scans = IntCounterVec::new(
            Opts::new(
                "scans_total",
                "Scans stored by the server's classification (admitted, duplicate_entry, \
                 exited, rejected)",
            ),
            &["classification"],
        )?;
        let live_connections = IntGauge::new(
            "live_connections",
            "GraphQL WebSocket connections open on this replica",
        )?;
        let live_subscriptions = IntGauge::new(
            "live_subscriptions",
            "GraphQL subscriptions open on this replica",
        )?;
        let live_closed = IntCounterVec::new(
            Opts::new(
                "live_connections_closed_total",
                "WebSocket connections the server closed, by reason (slow_consumer, idle, \
                 unresponsive)",
            ),
            &["reason"],
        )?;
        registry.register(Box::new(live_connections.clone()))?;
        registry.register(Box::new(live_subscriptions.clone()))?;
        registry.register(Box::new(live_closed.clone()))?;
        registry.register(Box::new(scans.clone()))?;
        registry.register(Box::new(notifications.clone()))?;
        registry.register(Box::new(holds.clone()))?;
        registry.register(Box::new(requests.clone()))?;
        registry.register(Box::new(latency.clone()))?;
        registry.register(Box::new(http_errors.clone()))?;
        registry.register(Box::new(graphql_errors.clone()))?;
        Ok(Metrics {
            registry,
            requests,
            latency,
            http_errors,
            graphql_errors,
            holds,
            notifications,
            scans,
            live_connections,
            live_subscriptions,
            live_closed,
        })
    }

    /// Records one finished request.
    pub fn request(&self, route: &str, method: &str, status: u16, elapsed: Duration) {
        let status_text = status.to_string();
        self.requests
            .with_label_values(&[route, method, &status_text])
            .inc();
        self.latency
            .with_label_values(&[route, method])
            .observe(elapsed.as_secs_f64());
        if status >= 400 {
            self.http_errors
                .with_label_values(&[route, &status_text])
                .inc();
        }
    }

    /// Records a GraphQL error.
    pub fn graphql_error(&self, code: Code) {
        self.graphql_error_code(code.as_str());
    }

    /// Records a GraphQL error by its wire code.
    pub fn graphql_error_code(&self, code: &str) {
        self.graphql_errors.with_label_values(&[code]).inc();
    }

    /// Records a hold attempt's outcome (`held`, `sold_out`: an oversell refused).
    pub fn hold(&self, outcome: &str) {
        self.holds.with_label_values(&[outcome]).inc();
    }

    /// Records a notification delivery attempt (`delivered`, `failed`).
    pub fn notification(&self, outcome: &str) {
        self.notifications.with_label_values(&[outcome]).inc();
    }

    /// Records a stored scan's classification.
    pub fn scan(&self, classification: &str) {
        self.scans.with_label_values(&[classification]).inc();
    }

    /// Records holds returned to stock by the sweeper.
    pub fn holds_expired(&self, n: usize) {
        self.holds
            .with_label_values(&["expired"])
            .inc_by(u64::try_from(n).unwrap_or(0));
    }

    /// Counts a WebSocket connection opening (`1`) or closing (`-1`).
    pub fn live_connections(&self, delta: i64) {
        self.live_connections.add(delta);
    }

    /// Counts a subscription opening (`1`) or ending (`-1`).
    pub fn live_subscriptions(&self, delta: i64) {
        self.live_subscriptions.add(delta);
    }

    /// Records a connection the server closed (`slow_consumer`, `idle`, `unresponsive`).
    pub fn live_closed(&self, reason: &str) {
        self.live_closed.with_label_values(&[reason]).inc();
    }

    /// WebSocket connections open now.
    pub fn live_connections_open(&self) -> i64 {
        self.live_connections.get()
    }

    /// Subscriptions open now.
    pub fn live_subscriptions_open(&self) -> i64 {
        self.live_subscriptions.get()
    }

    /// The text exposition format.
    pub fn render(&self) -> String {
        let mut buf = Vec::new();
        if TextEncoder::new()
            .encode(&self.registry.gather(), &mut buf)
            .is_err()
        {
            return String::new();
        }
        String::from_utf8(buf).unwrap_or_default()
    }
}
