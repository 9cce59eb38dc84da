//! The loopback redirect of a desktop sign-in (RFC 8252 §7.3): a listener on 127.0.0.1 at
//! a port the system picks, waiting for the browser's one request to the redirect path,
//! and answering it with a small page the user may close.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

use super::ProviderError;
use crate::Error;

/// Longest request head read, and longest wait for it on one connection (a browser may
/// open connections it never uses).
const MAX_HEAD: usize = 16 * 1024;
const HEAD_WAIT: Duration = Duration::from_secs(10);

/// The page the browser shows once the redirect has arrived.
pub(crate) const SIGNED_IN_PAGE: &str = "<!doctype html><html><head><meta charset=\"utf-8\">\
<title>Guichet</title></head><body><h1>Signed in</h1>\
<p>You can close this window and return to the app.</p></body></html>";
/// The page the browser shows when the sign-in failed (no detail: the app shows it).
pub(crate) const FAILED_PAGE: &str = "<!doctype html><html><head><meta charset=\"utf-8\">\
<title>Guichet</title></head><body><h1>Sign-in failed</h1>\
<p>You can close this window and return to the app.</p></body></html>";

/// A listener on a loopback port, for one redirect.
#[derive(Debug)]
pub(crate) struct Loopback {
    listener: TcpListener,
    redirect_uri: String,
    /// `http://127.0.0.1:<port>`.
    origin: String,
    path: String,
}

/// What the listener waits for next.
enum Event {
    /// A connection arrived (or accepting failed).
    Connection(std::io::Result<(TcpStream, std::net::SocketAddr)>),
    /// A connection's request head was read: its target, and the connection.
    Head(String, TcpStream),
}

/// The browser's request to the redirect path: its full URL, and the connection to answer.
#[derive(Debug)]
pub(crate) struct Redirect {
    pub url: String,
    stream: TcpStream,
}

impl Loopback {
    /// Listens on 127.0.0.1 for `redirect_uri` (`http://127.0.0.1[:port]/path`): on its port
    /// when it names one, else on one the system picks, which the redirect URI then names.
    pub(crate) async fn bind(redirect_uri: &str) -> Result<Loopback, Error> {
        let invalid = |message: &str| Error::InvalidArgument {
            field: "redirect_uri",
            message: message.to_owned(),
        };
        let mut url = reqwest::Url::parse(redirect_uri).map_err(|e| invalid(&e.to_string()))?;
        if url.scheme() != "http" || url.host_str() != Some("127.0.0.1") {
            return Err(invalid("a desktop sign-in redirects to http://127.0.0.1/…"));
        }
        let port = url.port().unwrap_or(0);
        let listener = TcpListener::bind(("127.0.0.1", port))
            .await
            .map_err(|e| invalid(&format!("cannot listen on the loopback port: {e}")))?;
        let bound = listener
            .local_addr()
            .map_err(|e| invalid(&e.to_string()))?
            .port();
        url.set_port(Some(bound))
            .map_err(|()| invalid("the redirect URI cannot take a port"))?;
        Ok(Loopback {
            listener,
            origin: format!("http://127.0.0.1:{bound}"),
            path: url.path().to_owned(),
            redirect_uri: url.into(),
        })
    }

    /// The redirect URI with the port listened on.
    pub(crate) fn redirect_uri(&self) -> &str {
        &self.redirect_uri
    }

    /// Waits up to `wait` for a request to the redirect path; other requests (a favicon)
    /// get a 404.
    pub(crate) async fn accept(self, wait: Duration) -> Result<Redirect, Error> {
        let (heads, mut arrived) = mpsc::channel::<(String, TcpStream)>(8);
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let next = tokio::time::timeout_at(deadline, async {
                tokio::select! {
                    accepted = self.listener.accept() => Event::Connection(accepted),
                    Some((target, stream)) = arrived.recv() => Event::Head(target, stream),
                }
            });
            match next.await {
                Err(_) => return Err(ProviderError::TimedOut(wait).into()),
                Ok(Event::Connection(Ok((stream, _)))) => {
                    let heads = heads.clone();
                    tokio::spawn(async move {
                        if let Some(head) = read_target(stream).await {
                            let _ = heads.send(head).await;
                        }
                    });
                }
                Ok(Event::Connection(Err(e))) => {
                    tracing::debug!(error = %e, "loopback accept failed");
                }
                Ok(Event::Head(target, mut stream)) => {
                    let path = target.split('?').next().unwrap_or_default();
                    if path == self.path {
                        return Ok(Redirect {
                            url: format!("{}{target}", self.origin),
                            stream,
                        });
                    }
                    let _ = stream
                        .write_all(response("404 Not Found", "").as_bytes())
                        .await;
                }
            }
        }
    }
}

impl Redirect {
    /// Answers the browser with `page`.
    pub(crate) async fn answer(mut self, page: &str) {
        let _ = self
            .stream
            .write_all(response("200 OK", page).as_bytes())
            .await;
        let _ = self.stream.shutdown().await;
    }
}

/// Reads a request head and returns its target (`/callback?code=…`) with the connection.
async fn read_target(mut stream: TcpStream) -> Option<(String, TcpStream)> {
    let mut head = Vec::with_capacity(1024);
    let read = async {
        let mut buf = [0u8; 2048];
        while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < MAX_HEAD {
            let n = stream.read(&mut buf).await.ok()?;
            if n == 0 {
                return None;
            }
            head.extend_from_slice(&buf[..n]);
        }
        Some(())
    };
    tokio::time::timeout(HEAD_WAIT, read).await.ok()??;
    let line = std::str::from_utf8(&head).ok()?.lines().next()?.to_owned();
    let mut parts = line.split(' ');
    let (method, target) = (parts.next()?, parts.next()?);
    (method == "GET" && target.starts_with('/')).then(|| (target.to_owned(), stream))
}

fn response(status: &str, page: &str) -> String {
    format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\n\
         Content-Length: {}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n{page}",
        page.len()
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    async fn get(url: &str) -> (u16, String) {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let response = reqwest::get(url).await.unwrap();
        (response.status().as_u16(), response.text().await.unwrap())
    }

    #[tokio::test]
    async fn the_redirect_path_is_answered_once_and_other_paths_get_404() {
        let loopback = Loopback::bind("http://127.0.0.1/callback").await.unwrap();
        let uri = loopback.redirect_uri().to_owned();
        assert!(
            uri.starts_with("http://127.0.0.1:") && uri.ends_with("/callback"),
            "{uri}"
        );
        let origin = uri.trim_end_matches("/callback").to_owned();
        let browser = tokio::spawn(async move {
            assert_eq!(get(&format!("{origin}/favicon.ico")).await.0, 404);
            get(&format!("{origin}/callback?code=c&state=s")).await
        });
        let redirect = loopback.accept(Duration::from_secs(30)).await.unwrap();
        assert_eq!(redirect.url, format!("{uri}?code=c&state=s"));
        redirect.answer(SIGNED_IN_PAGE).await;
        let (status, page) = browser.await.unwrap();
        assert_eq!(status, 200);
        assert!(page.contains("close this window"), "{page}");
    }

    #[tokio::test]
    async fn no_redirect_in_time_is_a_timeout_and_only_loopback_uris_are_taken() {
        let loopback = Loopback::bind("http://127.0.0.1/cb").await.unwrap();
        let error = loopback
            .accept(Duration::from_millis(50))
            .await
            .unwrap_err();
        assert_eq!(error.kind(), crate::ErrorKind::Unauthenticated);
        for bad in ["https://127.0.0.1/cb", "http://example.org/cb", "app:/cb"] {
            let error = Loopback::bind(bad).await.unwrap_err();
            assert_eq!(error.kind(), crate::ErrorKind::InvalidInput, "{bad}");
        }
    }
}
