//! The real transport: GraphQL over HTTP(S) with reqwest and rustls (ring provider).

use std::time::Duration;

use reqwest::header;

use super::{Backoff, Call, RetryPolicy, Transport, TransportError};

/// Settings of an [`HttpTransport`].
#[derive(Debug, Clone, PartialEq)]
pub struct HttpConfig {
    /// Longest wait for a whole request, connection included.
    pub timeout: Duration,
    /// Longest wait to open a connection.
    pub connect_timeout: Duration,
    /// Retries of idempotent calls.
    pub retry: RetryPolicy,
    /// `User-Agent` header.
    pub user_agent: String,
}

impl Default for HttpConfig {
    fn default() -> HttpConfig {
        HttpConfig {
            timeout: Duration::from_secs(20),
            connect_timeout: Duration::from_secs(5),
            retry: RetryPolicy::default(),
            user_agent: concat!("guichet-sdk/", env!("CARGO_PKG_VERSION")).to_owned(),
        }
    }
}

/// GraphQL over HTTP to `<server>/graphql`.
#[derive(Debug, Clone)]
pub struct HttpTransport {
    http: reqwest::Client,
    endpoint: reqwest::Url,
    retry: RetryPolicy,
}

impl HttpTransport {
    /// A transport to the server at `server_url` (`https://tickets.example.org`).
    pub fn new(server_url: &str, config: &HttpConfig) -> Result<HttpTransport, TransportError> {
        // The workspace builds reqwest without a TLS provider; install ring (a second
        // install, by the host or another client, is a harmless no-op).
        let _ = rustls::crypto::ring::default_provider().install_default();
        let base = reqwest::Url::parse(server_url)
            .map_err(|e| TransportError::Request(format!("server URL: {e}")))?;
        if !matches!(base.scheme(), "http" | "https") {
            return Err(TransportError::Request(
                "server URL must be http:// or https://".into(),
            ));
        }
        let endpoint = base
            .join("graphql")
            .map_err(|e| TransportError::Request(format!("server URL: {e}")))?;
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.connect_timeout)
            .user_agent(config.user_agent.clone())
            .build()
            .map_err(|e| TransportError::Request(format!("http client: {e}")))?;
        Ok(HttpTransport {
            http,
            endpoint,
            retry: config.retry,
        })
    }

    /// The GraphQL endpoint.
    pub fn endpoint(&self) -> &str {
        self.endpoint.as_str()
    }

    async fn attempt(&self, call: &Call) -> Result<serde_json::Value, TransportError> {
        let mut request = self
            .http
            .post(self.endpoint.clone())
            .header(header::CONTENT_TYPE, "application/json")
            .header("x-graphql-operation", call.operation)
            .json(&call.body);
        if let Some(token) = &call.bearer {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.map_err(classify)?;
        let status = response.status();
        let bytes = response.bytes().await.map_err(classify)?;
        // The server answers GraphQL errors with a JSON body even on 4xx (oversized or
        // malformed requests); anything else without such a body is a transport failure.
        match serde_json::from_slice::<serde_json::Value>(&bytes) {
            Ok(json) if json.get("data").is_some() || json.get("errors").is_some() => Ok(json),
            _ if !status.is_success() => Err(TransportError::Status(status.as_u16())),
            _ => Err(TransportError::Decode),
        }
    }
}

pub(crate) fn classify(error: reqwest::Error) -> TransportError {
    if error.is_timeout() {
        TransportError::Timeout
    } else if error.is_connect() {
        TransportError::Connect(with_causes(&error))
    } else if error.is_builder() {
        TransportError::Request(with_causes(&error))
    } else {
        TransportError::Network(with_causes(&error))
    }
}

/// The error and its causes (reqwest's own text says only which request failed; the cause,
/// "connection closed before message completed", says why).
fn with_causes(error: &reqwest::Error) -> String {
    let mut text = error.to_string();
    let mut cause = std::error::Error::source(error);
    while let Some(inner) = cause {
        text.push_str(": ");
        text.push_str(&inner.to_string());
        cause = inner.source();
    }
    text
}

#[async_trait::async_trait]
impl Transport for HttpTransport {
    async fn send(&self, call: Call) -> Result<serde_json::Value, TransportError> {
        let mut backoff = Backoff::new(self.retry);
        loop {
            let result = self.attempt(&call).await;
            let error = match result {
                Ok(json) => return Ok(json),
                Err(error) => error,
            };
            // Only calls whose repetition is harmless are retried: a sign-up or a session
            // refresh sent twice is not the same as sent once.
            let retry = error.is_transient() && call.idempotent;
            match backoff.next_delay() {
                Some(delay) if retry => {
                    tracing::debug!(operation = call.operation, %error, ?delay, "retrying");
                    tokio::time::sleep(delay).await;
                }
                _ => return Err(error),
            }
        }
    }
}
