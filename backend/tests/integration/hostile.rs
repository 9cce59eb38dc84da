//! Hostile input: each refused with INVALID_INPUT, and nothing changes in the database.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use serde_json::{Value, json};

use crate::support::{TestApp, error_code, event_input, on_both, str_of, ticket_input};

on_both!(
    hostile_input_is_refused_without_state_change,
    sql_looking_strings_are_just_text
);

/// Rows in every table, and the feed head: a fingerprint of the state.
async fn fingerprint(app: &TestApp) -> Vec<i64> {
    let mut counts = Vec::new();
    for table in [
        "users",
        "refresh_tokens",
        "events",
        "ticket_types",
        "catalog_changes",
    ] {
        let sql = sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM {table}"));
        let (n,): (i64,) = guichet_server::with_pool!(app.db(), |pool| {
            sqlx::query_as(sql)
                .fetch_one(pool)
                .await
                .unwrap_or_else(|e| panic!("{e}"))
        });
        counts.push(n);
    }
    counts.push(
        app.db()
            .catalog_head()
            .await
            .unwrap_or_else(|e| panic!("{e}")),
    );
    counts
}

fn with(mut v: Value, key: &str, value: Value) -> Value {
    v[key] = value;
    v
}

async fn hostile_input_is_refused_without_state_change(app: TestApp) {
    let org = app.organizer("hostile@example.org").await;
    let event = app.event(&org, event_input("Target", 9), false).await;
    let before = fingerprint(&app).await;

    // Oversized body.
    let huge = format!(
        "{{\"query\":\"{{ events {{ nodes {{ id }} }} }}\",\"x\":\"{}\"}}",
        "a".repeat(70_000)
    );
    let (status, body) = app.post_raw(huge.into_bytes()).await;
    assert_eq!(
        (status, error_code(&body).as_deref()),
        (StatusCode::PAYLOAD_TOO_LARGE, Some("INVALID_INPUT"))
    );
    // Invalid UTF-8, malformed JSON, empty body.
    for raw in [
        b"{\"query\":\"{ events { nodes { id } } }\xff\xfe\"}".to_vec(),
        b"{\"query\":".to_vec(),
        Vec::new(),
    ] {
        let (status, body) = app.post_raw(raw).await;
        assert_eq!(
            (status, error_code(&body).as_deref()),
            (StatusCode::BAD_REQUEST, Some("INVALID_INPUT"))
        );
    }
    // Too deep, and too complex (over a thousand aliased fields): refused every time,
    // although the server parses each text once and keeps the document.
    let deep = "{ a { b { c { d { e { f { g { h { i { j { k } } } } } } } } } } }";
    let wide: String = (0..1_100).map(|i| format!("a{i}: me {{ id }} ")).collect();
    for _ in 0..2 {
        assert_eq!(app.err(None, deep, json!({})).await, "INVALID_INPUT");
        assert_eq!(
            app.err(None, &format!("{{ {wide} }}"), json!({})).await,
            "INVALID_INPUT"
        );
    }
    // Syntax errors and unknown fields.
    assert_eq!(
        app.err(None, "{ events { nodes { id }", json!({})).await,
        "INVALID_INPUT"
    );
    assert_eq!(
        app.err(None, "{ events { nodes { password } } }", json!({}))
            .await,
        "INVALID_INPUT"
    );

    let create = "mutation($i: EventInput!) { createEvent(input: $i) { id } }";
    let base = event_input("Bad", 3);
    let bad_events = [
        (with(base.clone(), "latitude", json!(91.5)), "latitude"),
        (with(base.clone(), "longitude", json!(-200)), "longitude"),
        (
            with(base.clone(), "endsAt", json!("2030-01-01T00:00:00Z")),
            "endsAt",
        ),
        (
            with(base.clone(), "timeZone", json!("Europe/Atlantis")),
            "timeZone",
        ),
        (with(base.clone(), "title", json!("")), "title"),
        (with(base.clone(), "title", json!("x".repeat(201))), "title"),
        (
            with(base.clone(), "description", json!("y".repeat(10_001))),
            "description",
        ),
        (with(base.clone(), "title", json!("bell\u{7}")), "title"),
    ];
    for (input, field) in bad_events {
        let response = app.gql(Some(&org), create, json!({ "i": input })).await;
        assert_eq!(
            error_code(&response).as_deref(),
            Some("INVALID_INPUT"),
            "{field}: {response}"
        );
        assert_eq!(
            response["errors"][0]["extensions"]["field"], field,
            "{response}"
        );
    }
    for (input, what) in [
        (
            with(base.clone(), "startsAt", json!("2030-13-45T99:00:00Z")),
            "impossible date",
        ),
        (with(base.clone(), "latitude", json!("north")), "wrong type"),
    ] {
        assert_eq!(
            app.err(Some(&org), create, json!({ "i": input })).await,
            "INVALID_INPUT",
            "{what}"
        );
    }
    let add =
        "mutation($e: ID!, $t: TicketTypeInput!) { addTicketType(eventId: $e, input: $t) { id } }";
    let bad_tickets = [
        (
            with(ticket_input(), "priceMinor", json!(-100)),
            "priceMinor",
        ),
        (
            with(ticket_input(), "priceMinor", json!(10_000_000_000_i64)),
            "priceMinor",
        ),
        (with(ticket_input(), "currency", json!("XYZ")), "currency"),
        (with(ticket_input(), "currency", json!("eur")), "currency"),
        (with(ticket_input(), "capacity", json!(0)), "capacity"),
        (
            with(ticket_input(), "maxPerOrder", json!(1000)),
            "maxPerOrder",
        ),
        (
            with(ticket_input(), "saleEndsAt", json!("2028-01-01T00:00:00Z")),
            "saleEndsAt",
        ),
    ];
    for (input, field) in bad_tickets {
        let response = app
            .gql(Some(&org), add, json!({ "e": event, "t": input }))
            .await;
        assert_eq!(
            error_code(&response).as_deref(),
            Some("INVALID_INPUT"),
            "{field}: {response}"
        );
        assert_eq!(
            response["errors"][0]["extensions"]["field"], field,
            "{response}"
        );
    }
    let search = "query($f: EventFilter) { events(filter: $f) { nodes { id } } }";
    for filter in [
        json!({ "near": { "latitude": 200, "longitude": 0, "radiusKm": 5 } }),
        json!({ "near": { "latitude": 0, "longitude": 0, "radiusKm": -5 } }),
        json!({ "text": "z".repeat(201) }),
    ] {
        assert_eq!(
            app.err(None, search, json!({ "f": filter })).await,
            "INVALID_INPUT",
            "{filter}"
        );
    }
    assert_eq!(
        app.err(None, "{ events(first: 1000) { nodes { id } } }", json!({}))
            .await,
        "INVALID_INPUT"
    );
    assert_eq!(
        app.err(
            None,
            "{ events(after: \"' OR 1=1 --\") { nodes { id } } }",
            json!({})
        )
        .await,
        "INVALID_INPUT"
    );
    let sign_up = "mutation($i: SignUpInput!) { signUp(input: $i) { accessToken } }";
    let long_password = json!({ "i": { "email": "p@example.org", "password": "p".repeat(300), "displayName": "P" } });
    assert_eq!(app.err(None, sign_up, long_password).await, "INVALID_INPUT");

    assert_eq!(
        fingerprint(&app).await,
        before,
        "hostile input changed the database"
    );
    let row = app
        .db()
        .event(&event)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .unwrap_or_else(|| panic!("gone"));
    assert_eq!(row.title, "Target");
}

async fn sql_looking_strings_are_just_text(app: TestApp) {
    let org = app.organizer("bobby@example.org").await;
    // A second event, so that an injected "match everything" would show up.
    let bystander = app
        .event(&org, event_input("Unrelated concert", 3), true)
        .await;
    let title = "Robert'); DROP TABLE events;-- \"quoted\" * OR 1=1";
    let id = app
        .event(
            &org,
            with(
                event_input(title, 2),
                "description",
                json!("'; DELETE FROM users; --"),
            ),
            true,
        )
        .await;
    let data = app
        .ok(
            None,
            "query($id: ID!) { event(id: $id) { title description } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(data["event"]["title"], title, "stored verbatim");
    for text in [
        "' OR 1=1 --",
        "\") OR (\"1\"=\"1",
        "robert'); drop",
        "NEAR(a b) OR *",
        "events_fts MATCH '*'",
    ] {
        let found = app
            .ok(
                None,
                "query($t: String) { events(filter: {text: $t}) { nodes { id } } }",
                json!({ "t": text }),
            )
            .await;
        let nodes = found["events"]["nodes"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        // Each is plain text: it can find the event whose title holds those words, never
        // the bystander (an injected condition or FTS operator would match everything).
        assert!(
            nodes.iter().all(|n| n["id"] == json!(id)),
            "{text}: {nodes:?}"
        );
        assert!(!nodes.iter().any(|n| n["id"] == json!(bystander)), "{text}");
    }
    let hit = app
        .ok(
            None,
            "{ events(filter: {text: \"robert drop\"}) { nodes { id } } }",
            json!({}),
        )
        .await;
    assert_eq!(str_of(&hit["events"]["nodes"][0]["id"]), id);
    let none = app
        .ok(
            None,
            "query($id: ID!) { event(id: $id) { id } }",
            json!({ "id": "1' OR '1'='1" }),
        )
        .await;
    assert_eq!(none["event"], Value::Null);
    // Every table is still there and the account still logs in.
    app.ok(None, "mutation { logIn(email: \"bobby@example.org\", password: \"a long enough password\") { accessToken } }", json!({})).await;
}

#[tokio::test]
async fn content_type_and_method_are_checked() {
    let app = TestApp::sqlite().await;
    let req = Request::put("/graphql")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from("{}"))
        .unwrap_or_else(|e| panic!("{e}"));
    let (status, _, _) = app.send(req).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    // A mutation sent as a form or as text (what a cross-site HTML form can post) is refused
    // before anything runs; JSON with a charset is fine.
    let sign_up = r#"{"query":"mutation { signUp(input: {email: \"form@example.org\", password: \"a long enough password\", displayName: \"F\"}) { accessToken } }"}"#;
    for content_type in [
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        Some("multipart/form-data; boundary=x"),
        None,
    ] {
        let mut req = Request::post("/graphql");
        if let Some(content_type) = content_type {
            req = req.header(header::CONTENT_TYPE, content_type);
        }
        let req = req
            .body(Body::from(sign_up))
            .unwrap_or_else(|e| panic!("{e}"));
        let (status, _, text) = app.send(req).await;
        assert_eq!(
            status,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "{content_type:?}"
        );
        let body: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
        assert_eq!(body["errors"][0]["extensions"]["code"], "INVALID_INPUT");
    }
    let req = Request::post("/graphql")
        .header(header::CONTENT_TYPE, "application/json; charset=utf-8")
        .body(Body::from(sign_up))
        .unwrap_or_else(|e| panic!("{e}"));
    let (status, _, text) = app.send(req).await;
    assert_eq!(status, StatusCode::OK, "{text}");
    assert!(text.contains("accessToken"), "{text}");
    // Only the JSON attempt created an account.
    let (n,): (i64,) = guichet_server::with_pool!(app.db(), |pool| {
        sqlx::query_as(
            "SELECT CAST(COUNT(*) AS BIGINT) FROM users WHERE email = 'form@example.org'",
        )
        .fetch_one(pool)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
    });
    assert_eq!(n, 1);
}
