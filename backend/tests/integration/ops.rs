//! Health, readiness, metrics, request ids, GraphiQL, the SDL contract and the demo seed.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::json;

use crate::support::{TestApp, on_both};

on_both!(operational_routes_answer, demo_seed_is_idempotent);

fn get(path: &str) -> Request<Body> {
    Request::get(path)
        .body(Body::empty())
        .unwrap_or_else(|e| panic!("{e}"))
}

async fn operational_routes_answer(app: TestApp) {
    let (status, headers, body) = app.send(get("/health")).await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "ok"));
    assert!(
        headers.get("x-request-id").is_some_and(|v| v.len() >= 32),
        "request id propagated"
    );
    let (status, _, body) = app.send(get("/ready")).await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "ready"));
    let (status, _, body) = app.send(get("/graphql")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.to_lowercase().contains("graphiql"));

    app.ok(None, "{ events { nodes { id } } }", json!({})).await;
    app.err(None, "{ nope }", json!({})).await;
    let (status, _, metrics) = app.send(get("/metrics")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        metrics.contains(
            "guichet_http_requests_total{method=\"POST\",route=\"/graphql\",status=\"200\"} 2"
        ),
        "{metrics}"
    );
    assert!(
        metrics.contains(
            "guichet_http_request_duration_seconds_count{method=\"GET\",route=\"/ready\"} 1"
        ),
        "{metrics}"
    );
    assert!(
        metrics.contains("guichet_graphql_errors_total{code=\"INVALID_INPUT\"} 1"),
        "{metrics}"
    );
    let (status, _, _) = app.send(get("/nowhere")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    app.db().close().await;
    let (status, _, _) = app.send(get("/ready")).await;
    assert_eq!(
        status,
        StatusCode::SERVICE_UNAVAILABLE,
        "readiness follows the database"
    );
}

async fn demo_seed_is_idempotent(app: TestApp) {
    assert!(
        guichet_server::seed::demo(app.db())
            .await
            .unwrap_or_else(|e| panic!("{e}"))
    );
    assert!(
        !guichet_server::seed::demo(app.db())
            .await
            .unwrap_or_else(|e| panic!("{e}"))
    );
    let events = app
        .ok(
            None,
            "{ events { nodes { title ticketTypes { name } } } }",
            json!({}),
        )
        .await;
    assert_eq!(events["events"]["nodes"].as_array().map(Vec::len), Some(2));
    let login = format!(
        "mutation {{ logIn(email: \"{}\", password: \"{}\") {{ user {{ role }} }} }}",
        guichet_server::seed::DEMO_EMAIL,
        guichet_server::seed::DEMO_PASSWORD
    );
    assert_eq!(
        app.ok(None, &login, json!({})).await["logIn"]["user"]["role"],
        "ORGANIZER"
    );
}

#[test]
fn schema_file_matches_the_server() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../schema.graphql");
    let file = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let sdl = guichet_server::graphql::sdl();
    assert!(
        file == sdl,
        "schema.graphql differs from the server's SDL; regenerate it with \
         `cargo run -p guichet-server -- print-schema > schema.graphql` and review the diff"
    );
}

#[tokio::test]
async fn bench_route_exists_only_when_enabled() {
    let req = || {
        Request::post("/bench/decrement/x")
            .body(Body::empty())
            .unwrap_or_else(|e| panic!("{e}"))
    };
    let off = TestApp::sqlite().await;
    assert_eq!(off.send(req()).await.0, StatusCode::NOT_FOUND);

    let app = TestApp::sqlite_with(|c| c.bench_routes = true).await;
    let org = app.organizer("bench@example.org").await;
    let mut input = crate::support::event_input("Bench", 5);
    input["title"] = json!("Bench");
    let event = app.event(&org, input, false).await;
    let tt = app
        .ok(
            Some(&org),
            "query($e: ID!) { event(id: $e) { ticketTypes { id } } }",
            json!({ "e": event }),
        )
        .await;
    let tt = crate::support::str_of(&tt["event"]["ticketTypes"][0]["id"]);
    // 100 tickets in one bucket: 16 random buckets are tried, so some calls take nothing.
    let mut taken = 0;
    for _ in 0..200 {
        let r = Request::post(format!("/bench/decrement/{tt}"))
            .body(Body::empty())
            .unwrap_or_else(|e| panic!("{e}"));
        let (status, _, body) = app.send(r).await;
        assert_eq!(status, StatusCode::OK);
        taken += i64::from(body == "1");
    }
    let left = app
        .db()
        .ticket_types_of(&[event])
        .await
        .unwrap_or_else(|e| panic!("{e}"))[0]
        .available;
    assert!(taken > 0, "bucket 0 was never picked in 200 tries");
    assert_eq!(
        left,
        100 - taken,
        "every reported decrement took exactly one ticket"
    );
}
