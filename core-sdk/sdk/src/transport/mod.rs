//! How GraphQL requests reach the server, behind a trait so hosts and tests can swap it.
//!
//! A [`Transport`] moves one GraphQL request (operation name, JSON body, optional bearer
//! token) and returns the server's JSON answer, or a [`TransportError`] saying why there is
//! none. It knows nothing of operations' meaning: the typed layer ([`crate::api`]) builds
//! bodies and reads `errors[].extensions.code`. [`HttpTransport`] is the real one (reqwest
//! over rustls); tests wrap it to lose, delay or duplicate deliveries.

mod backoff;
mod http;

pub use backoff::Backoff;
pub(crate) use http::classify;
pub use http::{HttpConfig, HttpTransport};

use std::time::Duration;

/// One GraphQL request.
#[derive(Debug, Clone)]
pub struct Call {
    /// The operation's name (`LogIn`, `HoldTickets`), for logs and request routing.
    pub operation: &'static str,
    /// The JSON body: `{"query", "variables", "operationName"}`.
    pub body: serde_json::Value,
    /// Access token for `Authorization: Bearer`.
    pub bearer: Option<String>,
    /// Whether sending this twice has the effect of sending it once (queries, and mutations
    /// carrying an idempotency key). Only these are retried after an ambiguous failure.
    pub idempotent: bool,
}

/// Why a request got no GraphQL answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TransportError {
    /// The server could not be reached; the request never left.
    #[error("cannot reach the server: {0}")]
    Connect(String),
    /// No answer in time; the server may or may not have processed the request.
    #[error("the server did not answer in time")]
    Timeout,
    /// The connection broke after the request left; it may have been processed.
    #[error("the connection failed: {0}")]
    Network(String),
    /// The server answered with an HTTP status and no GraphQL body (a proxy's 502, a 429).
    #[error("the server answered HTTP {0}")]
    Status(u16),
    /// The answer is not a GraphQL JSON response.
    #[error("the server's answer is not a GraphQL response")]
    Decode,
    /// The request cannot be built (bad server URL, body not serialisable).
    #[error("invalid request: {0}")]
    Request(String),
}

impl TransportError {
    /// Whether the request certainly did not take effect on the server.
    pub fn never_sent(&self) -> bool {
        matches!(
            self,
            TransportError::Connect(_) | TransportError::Request(_)
        )
    }

    /// Whether trying again may succeed (for idempotent calls).
    pub fn is_transient(&self) -> bool {
        match self {
            TransportError::Connect(_) | TransportError::Timeout | TransportError::Network(_) => {
                true
            }
            TransportError::Status(status) => matches!(status, 429 | 502 | 503 | 504),
            TransportError::Decode | TransportError::Request(_) => false,
        }
    }
}

/// Carries GraphQL requests to a server. Object-safe: the client holds an
/// `Arc<dyn Transport>`.
#[async_trait::async_trait]
pub trait Transport: Send + Sync + std::fmt::Debug {
    /// Sends one request and returns the JSON response (which may hold GraphQL `errors`).
    async fn send(&self, call: Call) -> Result<serde_json::Value, TransportError>;
}

/// Timeouts and retry policy of a transport.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    /// Attempts in all for an idempotent call (1 = no retry).
    pub max_attempts: u32,
    /// First back-off delay; each retry doubles it, up to `max_delay`, with full jitter.
    pub base_delay: Duration,
    /// Longest back-off delay.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 4,
            base_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(5),
        }
    }
}
