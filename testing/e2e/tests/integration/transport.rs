//! The HTTP transport against a local HTTP server that fails on purpose: retries with
//! back-off for idempotent calls only, timeouts, and answers that are not GraphQL.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::http::StatusCode;
use axum::routing::post;
use guichet_sdk::transport::{
    Call, HttpConfig, HttpTransport, RetryPolicy, Transport, TransportError,
};
use serde_json::json;

/// A server whose `/graphql` answers 503 `failures` times, then a GraphQL response; or
/// never answers when `hang` is set. Returns its URL and its hit counter.
async fn flaky(failures: usize, hang: bool) -> (String, Arc<AtomicUsize>) {
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    let router = Router::new().route(
        "/graphql",
        post(move || {
            let counter = counter.clone();
            async move {
                let n = counter.fetch_add(1, Ordering::SeqCst);
                if hang {
                    std::future::pending::<()>().await;
                }
                if n < failures {
                    (StatusCode::SERVICE_UNAVAILABLE, "busy".to_owned())
                } else {
                    (StatusCode::OK, json!({ "data": { "ok": n } }).to_string())
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    (url, hits)
}

/// A server that answers (503s, then an answer) is given 10 s per request: a loaded 2-core
/// machine answers well within it, so the retry counts below depend on the retry rules
/// alone, never on the machine's speed.
fn config() -> HttpConfig {
    HttpConfig {
        timeout: Duration::from_secs(10),
        connect_timeout: Duration::from_secs(10),
        retry: RetryPolicy {
            max_attempts: 4,
            base_delay: Duration::from_millis(5),
            max_delay: Duration::from_millis(20),
        },
        ..HttpConfig::default()
    }
}

fn call(idempotent: bool) -> Call {
    Call {
        operation: "Probe",
        body: json!({ "query": "{ ok }" }),
        bearer: None,
        idempotent,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idempotent_calls_are_retried_and_others_are_not() {
    let (url, hits) = flaky(2, false).await;
    let transport = HttpTransport::new(&url, &config()).unwrap();
    let answer = transport.send(call(true)).await.unwrap();
    assert_eq!(answer["data"]["ok"], 2);
    assert_eq!(hits.load(Ordering::SeqCst), 3);

    let (url, hits) = flaky(2, false).await;
    let transport = HttpTransport::new(&url, &config()).unwrap();
    assert_eq!(
        transport.send(call(false)).await,
        Err(TransportError::Status(503))
    );
    assert_eq!(
        hits.load(Ordering::SeqCst),
        1,
        "a mutation without a key is sent once"
    );

    let (url, hits) = flaky(10, false).await;
    let transport = HttpTransport::new(&url, &config()).unwrap();
    assert_eq!(
        transport.send(call(true)).await,
        Err(TransportError::Status(503))
    );
    assert_eq!(hits.load(Ordering::SeqCst), 4, "attempts are bounded");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_does_not_answer_is_a_timeout_and_a_closed_port_a_connect_error() {
    let (url, hits) = flaky(0, true).await;
    // This server never answers: a short timeout is a timeout however busy the machine.
    let silent = HttpConfig {
        timeout: Duration::from_millis(300),
        ..config()
    };
    let transport = HttpTransport::new(&url, &silent).unwrap();
    assert_eq!(
        transport.send(call(false)).await,
        Err(TransportError::Timeout)
    );
    assert_eq!(hits.load(Ordering::SeqCst), 1);
    // A query may be repeated: every attempt times out, each one reached the server.
    assert_eq!(
        transport.send(call(true)).await,
        Err(TransportError::Timeout)
    );
    assert_eq!(hits.load(Ordering::SeqCst), 5);

    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/", closed.local_addr().unwrap());
    drop(closed);
    let transport = HttpTransport::new(&url, &config()).unwrap();
    let error = transport.send(call(true)).await.unwrap_err();
    assert!(matches!(error, TransportError::Connect(_)), "{error:?}");
    assert!(error.never_sent());
    let refused = HttpTransport::new("ftp://example.org/", &config()).unwrap_err();
    assert!(
        matches!(&refused, TransportError::Request(m) if m.contains("http:// or https://")),
        "{refused:?}"
    );
}
