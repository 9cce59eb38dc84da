//! Sign-up, log-in, refresh rotation with reuse detection, log-out, rate limits.

use serde_json::json;

use crate::support::{TestApp, on_both, str_of};

const REFRESH: &str =
    "mutation($t: String!) { refreshSession(refreshToken: $t) { accessToken refreshToken } }";
const ME: &str = "{ me { email role displayName } }";

on_both!(
    session_lifecycle,
    reused_refresh_token_revokes_the_family,
    log_out_ends_the_session
);
on_both!(sign_up_and_log_in_refuse_bad_credentials);

async fn session_lifecycle(app: TestApp) {
    let (access, refresh, _) = app.sign_up("Ana@Example.org", "ATTENDEE").await;
    let me = app.ok(Some(&access), ME, json!({})).await;
    assert_eq!(me["me"]["email"], "ana@example.org");
    assert_eq!(me["me"]["role"], "ATTENDEE");
    assert_eq!(
        app.ok(None, ME, json!({})).await["me"],
        serde_json::Value::Null
    );

    let login = app
        .ok(
            None,
            "mutation { logIn(email: \"ANA@example.org\", password: \"a long enough password\") { accessToken user { email } } }",
            json!({}),
        )
        .await;
    assert_eq!(login["logIn"]["user"]["email"], "ana@example.org");

    let rotated = app.ok(None, REFRESH, json!({ "t": refresh })).await;
    let next_refresh = str_of(&rotated["refreshSession"]["refreshToken"]);
    assert_ne!(next_refresh, refresh);
    let next_access = str_of(&rotated["refreshSession"]["accessToken"]);
    assert_eq!(
        app.ok(Some(&next_access), ME, json!({})).await["me"]["email"],
        "ana@example.org"
    );
    // The successor keeps working.
    app.ok(None, REFRESH, json!({ "t": next_refresh })).await;
    assert_eq!(
        app.err(Some("garbage.token.here"), ME, json!({})).await,
        "UNAUTHENTICATED"
    );
}

async fn reused_refresh_token_revokes_the_family(app: TestApp) {
    let (_, first, _) = app.sign_up("bo@example.org", "ATTENDEE").await;
    let second = str_of(
        &app.ok(None, REFRESH, json!({ "t": first })).await["refreshSession"]["refreshToken"],
    );
    // An attacker replays the first token: refused, and the family dies.
    assert_eq!(
        app.err(None, REFRESH, json!({ "t": first })).await,
        "UNAUTHENTICATED"
    );
    // The legitimate holder's current token is now dead too.
    assert_eq!(
        app.err(None, REFRESH, json!({ "t": second })).await,
        "UNAUTHENTICATED"
    );
    // Another session of the same user (another family) is unaffected.
    let other = app
        .ok(None, "mutation { logIn(email: \"bo@example.org\", password: \"a long enough password\") { refreshToken } }", json!({}))
        .await;
    app.ok(
        None,
        REFRESH,
        json!({ "t": str_of(&other["logIn"]["refreshToken"]) }),
    )
    .await;
}

async fn log_out_ends_the_session(app: TestApp) {
    let (_, refresh, _) = app.sign_up("cy@example.org", "ORGANIZER").await;
    let out = app
        .ok(
            None,
            "mutation($t: String!) { logOut(refreshToken: $t) }",
            json!({ "t": refresh }),
        )
        .await;
    assert_eq!(out["logOut"], true);
    assert_eq!(
        app.err(None, REFRESH, json!({ "t": refresh })).await,
        "UNAUTHENTICATED"
    );
    let again = app
        .ok(
            None,
            "mutation($t: String!) { logOut(refreshToken: $t) }",
            json!({ "t": refresh }),
        )
        .await;
    assert_eq!(again["logOut"], false);
}

async fn sign_up_and_log_in_refuse_bad_credentials(app: TestApp) {
    app.sign_up("dee@example.org", "ORGANIZER").await;
    let sign_up = "mutation($i: SignUpInput!) { signUp(input: $i) { accessToken } }";
    let input = |email: &str, password: &str| json!({ "i": { "email": email, "password": password, "displayName": "D" } });
    assert_eq!(
        app.err(
            None,
            sign_up,
            input("DEE@example.org", "another long password")
        )
        .await,
        "CONFLICT"
    );
    assert_eq!(
        app.err(
            None,
            sign_up,
            input("not-an-email", "another long password")
        )
        .await,
        "INVALID_INPUT"
    );
    assert_eq!(
        app.err(None, sign_up, input("ed@example.org", "short"))
            .await,
        "INVALID_INPUT"
    );
    let admin = json!({ "i": { "email": "x@example.org", "password": "another long password", "displayName": "X", "role": "ADMIN" } });
    assert_eq!(app.err(None, sign_up, admin).await, "INVALID_INPUT");
    let log_in =
        "mutation($e: String!, $p: String!) { logIn(email: $e, password: $p) { accessToken } }";
    let wrong = app
        .gql(
            None,
            log_in,
            json!({ "e": "dee@example.org", "p": "wrong password!!" }),
        )
        .await;
    let unknown = app
        .gql(
            None,
            log_in,
            json!({ "e": "nobody@example.org", "p": "wrong password!!" }),
        )
        .await;
    assert_eq!(wrong["errors"][0]["extensions"]["code"], "UNAUTHENTICATED");
    // The same answer for an unknown account: no account enumeration.
    assert_eq!(
        wrong["errors"][0]["message"],
        unknown["errors"][0]["message"]
    );
    assert!(
        app.db()
            .user_by_email("ed@example.org")
            .await
            .unwrap_or_else(|e| panic!("{e}"))
            .is_none()
    );
}

/// A failed log-in from `client` (through one trusted proxy) at `email`: its error code.
async fn failed_log_in(app: &TestApp, client: &str, email: &str) -> String {
    use axum::body::Body;
    use axum::http::{Request, header};
    let body = json!({
        "query": "mutation($e: String!) { logIn(email: $e, password: \"whatever password\") { accessToken } }",
        "variables": { "e": email },
    });
    let req = Request::post("/graphql")
        .header(header::CONTENT_TYPE, "application/json")
        .header("x-forwarded-for", client)
        .body(Body::from(body.to_string()))
        .unwrap_or_else(|e| panic!("{e}"));
    let (_, _, text) = app.send(req).await;
    let response: serde_json::Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
    crate::support::error_code(&response).unwrap_or_else(|| panic!("logged in: {text}"))
}

/// Each (client, account) pair has its own budget, and each client a larger one across
/// accounts: one key running out must not refuse another pair.
#[tokio::test]
async fn log_in_is_rate_limited_per_client_and_account() {
    let app = TestApp::sqlite_with(|c| {
        c.trusted_proxies = 1;
        c.auth_rate_per_minute = 1;
        c.auth_rate_burst = 3;
    })
    .await;
    let (client, other_client) = ("203.0.113.5", "198.51.100.7");
    for _ in 0..3 {
        assert_eq!(
            failed_log_in(&app, client, "e@example.org").await,
            "UNAUTHENTICATED"
        );
    }
    assert_eq!(
        failed_log_in(&app, client, "e@example.org").await,
        "RATE_LIMITED"
    );
    // The same client at another account, and the same account from another client: each
    // pair is a key of its own, with its whole budget.
    for _ in 0..3 {
        assert_eq!(
            failed_log_in(&app, client, "f@example.org").await,
            "UNAUTHENTICATED",
            "another account from the same client"
        );
        assert_eq!(
            failed_log_in(&app, other_client, "e@example.org").await,
            "UNAUTHENTICATED",
            "the same account from another client"
        );
    }
    assert_eq!(
        failed_log_in(&app, other_client, "e@example.org").await,
        "RATE_LIMITED"
    );
    // Across accounts a client has three bursts (9 attempts, refused ones included; 7
    // spent): two more at a fresh account, then the client is refused at any account.
    for _ in 0..2 {
        assert_eq!(
            failed_log_in(&app, client, "g@example.org").await,
            "UNAUTHENTICATED"
        );
    }
    assert_eq!(
        failed_log_in(&app, client, "h@example.org").await,
        "RATE_LIMITED"
    );
    let sign_up = "mutation { signUp(input: {email: \"f@example.org\", password: \"long enough pass\", displayName: \"F\"}) { accessToken } }";
    // Sign-up has its own bucket.
    app.ok(None, sign_up, json!({})).await;
}
