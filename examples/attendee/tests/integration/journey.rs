//! Sign up, look at availability, book with a test card, see the QR code, then show the
//! tickets again with the server gone.

use std::process::Command;

use guichet_e2e::TestServer;
use serde_json::{Value, json};

async fn start() -> TestServer {
    TestServer::start().await
}

async fn gql(url: &str, token: Option<&str>, query: &str, variables: Value) -> Value {
    let mut request = reqwest::Client::new()
        .post(format!("{url}/graphql"))
        .json(&json!({ "query": query, "variables": variables }));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response: Value = request.send().await.unwrap().json().await.unwrap();
    assert!(response.get("errors").is_none(), "{response}");
    response["data"].clone()
}

/// Runs the CLI and returns (success, stdout, stderr).
async fn attendee(server: &str, data: &std::path::Path, args: &[&str]) -> (bool, String, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_attendee"));
    command
        .arg("--server")
        .arg(server)
        .arg("--data")
        .arg(data)
        .args(args)
        .env("GUICHET_PASSWORD", "a long enough password");
    let output = tokio::task::spawn_blocking(move || command.output().unwrap())
        .await
        .unwrap();
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_up_book_with_a_test_card_and_show_the_qr_offline() {
    let server = start().await;
    let org = gql(
        &server.url,
        None,
        "mutation { signUp(input: {email: \"org@example.org\", password: \"a long enough password\", displayName: \"Org\", role: ORGANIZER}) { accessToken } }",
        json!({}),
    )
    .await["signUp"]["accessToken"]
        .as_str()
        .unwrap()
        .to_owned();
    let event = gql(
        &server.url,
        Some(&org),
        "mutation { createEvent(input: {title: \"Fado\", venue: \"Casa\", city: \"Lisboa\", startsAt: \"2099-01-01T20:00:00Z\", endsAt: \"2099-01-01T22:00:00Z\", timeZone: \"Europe/Lisbon\"}) { id } }",
        json!({}),
    )
    .await["createEvent"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    gql(
        &server.url,
        Some(&org),
        "mutation($e: ID!) { addTicketType(eventId: $e, input: {name: \"Seat\", priceMinor: 1800, currency: \"EUR\", capacity: 5, saleStartsAt: \"2020-01-01T00:00:00Z\", saleEndsAt: \"2098-01-01T00:00:00Z\"}) { id } }",
        json!({ "e": event }),
    )
    .await;
    gql(
        &server.url,
        Some(&org),
        "mutation($e: ID!) { publishEvent(id: $e) { id } }",
        json!({ "e": event }),
    )
    .await;

    let data = tempfile::tempdir().unwrap();
    let (ok, out, err) = attendee(
        &server.url,
        data.path(),
        &["signup", "--email", "fan@example.org", "--name", "Fan"],
    )
    .await;
    assert!(ok, "{out}{err}");
    assert!(out.contains("signed up as fan@example.org"), "{out}");

    let (ok, out, err) = attendee(
        &server.url,
        data.path(),
        &["availability", "--event", &event],
    )
    .await;
    assert!(ok, "{err}");
    assert!(out.contains("Seat") && out.contains("5 left"), "{out}");

    let (ok, out, err) = attendee(
        &server.url,
        data.path(),
        &[
            "book",
            "--event",
            &event,
            "--quantity",
            "2",
            "--card",
            "tok_visa",
        ],
    )
    .await;
    assert!(ok, "{out}{err}");
    assert!(out.contains("held 2 ticket(s), 36.00 EUR"), "{out}");
    assert!(out.contains("Completed"), "{out}");
    assert_eq!(out.matches("ticket ").count(), 2, "{out}");
    assert!(
        out.contains('\u{2580}') || out.contains('\u{2584}'),
        "half blocks: {out}"
    );

    let (ok, out, _) = attendee(&server.url, data.path(), &["sync"]).await;
    assert!(ok);
    assert!(out.contains("1 order(s), 2 ticket(s)"), "{out}");

    let (ok, out, err) = attendee(
        &server.url,
        data.path(),
        &[
            "book",
            "--event",
            &event,
            "--quantity",
            "1",
            "--card",
            "tok_declined",
        ],
    )
    .await;
    assert!(!ok, "{out}");
    assert!(err.contains("PAYMENT_DECLINED"), "{err}");

    // The server goes away: the wallet and its QR codes are still there.
    let url = server.url.clone();
    server.stop().await;
    let (ok, out, err) = attendee(&url, data.path(), &["tickets", "--qr", "yes"]).await;
    assert!(ok, "{err}");
    assert_eq!(out.matches("VALID  Fado").count(), 2, "{out}");
    assert!(out.contains('\u{2588}'), "{out}");
    let (ok, _, err) = attendee(&url, data.path(), &["sync"]).await;
    assert!(!ok);
    assert!(err.contains("NETWORK"), "{err}");
}
