//! One GraphQL subscription over WebSocket, in the `graphql-transport-ws` protocol the
//! server speaks: `connection_init` with the bearer token, `connection_ack`, one
//! `subscribe`, then `next` frames until `complete`, `error` or a closed socket. Pings are
//! answered at both levels (the protocol's `ping` message and WebSocket ping frames).

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;

use crate::api::ApiError;
use crate::transport::TransportError;
use crate::{Error, ErrorKind};

/// A byte stream a WebSocket runs over: plain TCP or TLS.
trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// An open subscription.
pub(crate) struct Subscription {
    ws: WebSocketStream<Box<dyn Io>>,
}

/// The socket's address for a server URL: `http` → `ws`, `https` → `wss`, path `/graphql`.
pub(crate) fn socket_url(server_url: &str) -> Result<String, Error> {
    let (scheme, rest) = server_url
        .split_once("://")
        .ok_or_else(|| bad_url(format!("not a URL: {server_url}")))?;
    let scheme = match scheme {
        "http" => "ws",
        "https" => "wss",
        other => return Err(bad_url(format!("no WebSocket for {other} URLs"))),
    };
    Ok(format!("{scheme}://{}/graphql", rest.trim_end_matches('/')))
}

fn network(what: &str, e: impl std::fmt::Display) -> Error {
    Error::Transport(TransportError::Network(format!(
        "live updates: {what}: {e}"
    )))
}

fn bad_url(message: String) -> Error {
    Error::InvalidArgument {
        field: "server_url",
        message,
    }
}

impl Subscription {
    /// Connects, authenticates with `token` and subscribes to the named `operation` of
    /// `query` with `variables`.
    /// Errors the server answers before the first frame (FORBIDDEN, NOT_FOUND...) come back
    /// from the first [`Subscription::next`].
    pub(crate) async fn open(
        server_url: &str,
        token: &str,
        (operation, query): (&str, &str),
        variables: Value,
        timeout: Duration,
    ) -> Result<Subscription, Error> {
        let url = socket_url(server_url)?;
        let mut request = url
            .as_str()
            .into_client_request()
            .map_err(|e| bad_url(format!("{url}: {e}")))?;
        request.headers_mut().insert(
            "Sec-WebSocket-Protocol",
            HeaderValue::from_static("graphql-transport-ws"),
        );
        let uri = request.uri().clone();
        let host = uri.host().unwrap_or_default().to_owned();
        let tls = uri.scheme_str() == Some("wss");
        let port = uri.port_u16().unwrap_or(if tls { 443 } else { 80 });
        let connect = async {
            let tcp = tokio::net::TcpStream::connect((host.as_str(), port))
                .await
                .map_err(|e| Error::Transport(TransportError::Connect(e.to_string())))?;
            let _ = tcp.set_nodelay(true);
            let io: Box<dyn Io> = if tls {
                Box::new(tls_connect(&host, tcp).await?)
            } else {
                Box::new(tcp)
            };
            let (ws, _) = tokio_tungstenite::client_async(request, io)
                .await
                .map_err(|e| network("handshake", e))?;
            let mut sub = Subscription { ws };
            let init = json!({
                "type": "connection_init",
                "payload": { "authorization": format!("Bearer {token}") },
            });
            sub.send(init).await?;
            loop {
                match sub.message().await? {
                    Some(m) if m["type"] == "connection_ack" => break,
                    Some(_) => {}
                    None => {
                        return Err(Error::Api(ApiError {
                            code: ErrorKind::Unauthenticated,
                            message: "the server closed the live connection at sign-in".into(),
                            field: None,
                        }));
                    }
                }
            }
            let subscribe = json!({
                "id": "1",
                "type": "subscribe",
                "payload": { "operationName": operation, "query": query, "variables": variables },
            });
            sub.send(subscribe).await?;
            Ok(sub)
        };
        tokio::time::timeout(timeout, connect)
            .await
            .map_err(|_| Error::Transport(TransportError::Timeout))?
    }

    /// The next frame's `data`, `None` once the server completed the subscription, or the
    /// error it answered with.
    pub(crate) async fn next(&mut self) -> Result<Option<Value>, Error> {
        loop {
            let Some(message) = self.message().await? else {
                return Err(network("read", "the server closed the connection"));
            };
            match message["type"].as_str() {
                Some("next") => {
                    let payload = &message["payload"];
                    if let Some(error) = ApiError::from_response(payload) {
                        return Err(Error::Api(error));
                    }
                    return Ok(Some(payload["data"].clone()));
                }
                Some("error") => {
                    let errors = json!({ "errors": message["payload"] });
                    let error = ApiError::from_response(&errors).unwrap_or(ApiError {
                        code: ErrorKind::Unknown,
                        message: "the subscription failed".into(),
                        field: None,
                    });
                    return Err(Error::Api(error));
                }
                Some("complete") => return Ok(None),
                _ => {}
            }
        }
    }

    async fn send(&mut self, message: Value) -> Result<(), Error> {
        self.ws
            .send(Message::text(message.to_string()))
            .await
            .map_err(|e| network("write", e))
    }

    /// The next protocol message (answering pings on the way), `None` when the socket
    /// closed.
    async fn message(&mut self) -> Result<Option<Value>, Error> {
        while let Some(frame) = self.ws.next().await {
            match frame.map_err(|e| network("read", e))? {
                Message::Text(text) => {
                    let value: Value = serde_json::from_str(text.as_str())
                        .map_err(|e| network("a frame that is not JSON", e))?;
                    if value["type"] == "ping" {
                        self.send(json!({ "type": "pong" })).await?;
                        continue;
                    }
                    return Ok(Some(value));
                }
                Message::Close(frame) => {
                    // 4401/4403: the server refused the token at sign-in.
                    if let Some(frame) = frame {
                        let code = u16::from(frame.code);
                        if code == 4401 || code == 4403 {
                            return Err(Error::Api(ApiError {
                                code: ErrorKind::Unauthenticated,
                                message: frame.reason.to_string(),
                                field: None,
                            }));
                        }
                    }
                    return Ok(None);
                }
                // WebSocket pings are answered by tungstenite itself.
                _ => {}
            }
        }
        Ok(None)
    }

    /// Ends the subscription politely.
    pub(crate) async fn close(mut self) {
        let _ = self.send(json!({ "id": "1", "type": "complete" })).await;
        let _ = self.ws.close(None).await;
    }
}

async fn tls_connect(
    host: &str,
    tcp: tokio::net::TcpStream,
) -> Result<tokio_rustls::client::TlsStream<tokio::net::TcpStream>, Error> {
    use rustls_platform_verifier::ConfigVerifierExt;
    let _ = rustls::crypto::ring::default_provider().install_default();
    let config =
        rustls::ClientConfig::with_platform_verifier().map_err(|e| network("TLS set-up", e))?;
    let name = rustls::pki_types::ServerName::try_from(host.to_owned())
        .map_err(|e| network("TLS server name", e))?;
    tokio_rustls::TlsConnector::from(std::sync::Arc::new(config))
        .connect(name, tcp)
        .await
        .map_err(|e| network("TLS", e))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_socket_lives_beside_the_api() {
        assert_eq!(
            socket_url("http://127.0.0.1:8080").unwrap(),
            "ws://127.0.0.1:8080/graphql"
        );
        assert_eq!(
            socket_url("https://tickets.example/").unwrap(),
            "wss://tickets.example/graphql"
        );
        assert!(matches!(
            socket_url("ftp://x"),
            Err(Error::InvalidArgument { .. })
        ));
    }
}
