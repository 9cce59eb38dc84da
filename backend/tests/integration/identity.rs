//! Identity after a breach (issue 17): sessions that end at once (on every replica),
//! absolute session lifetime, TOTP with recovery codes, the audit log, and personal data
//! export and erasure.

use axum::Router;
use axum::body::Body;
use axum::http::{Request, header};
use guichet_server::auth::totp;
use guichet_server::db::Db;
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

use crate::checkout::{CHECKOUT, REFUND, hold, on_sale};
use crate::support::{TestApp, error_code, on_both, str_of};

on_both!(
    log_out_ends_access_tokens_on_the_next_request,
    log_out_reaches_every_replica,
    password_role_and_revocation_end_every_session
);
on_both!(
    no_request_begun_after_a_log_out_passes_on_another_replica,
    grouped_session_checks_answer_each_session_for_itself
);
on_both!(
    audited_actions_leave_exactly_one_entry,
    audit_log_is_append_only_and_private_to_its_event,
    totp_is_required_once_enabled_and_recovery_codes_work_once
);
on_both!(
    export_holds_everything_about_the_person_and_nothing_else,
    scanner_pairing_and_revocation_are_audited_once
);
on_both!(erasure_leaves_no_e_mail_and_the_sales_report_unchanged);

const ME: &str = "{ me { id email role } }";
const LOG_IN: &str = "mutation($e: String!, $p: String!, $f: String) { logIn(email: $e, password: $p, secondFactor: $f) { accessToken refreshToken } }";
const LOG_OUT: &str = "mutation($t: String!) { logOut(refreshToken: $t) }";
const REFRESH: &str =
    "mutation($t: String!) { refreshSession(refreshToken: $t) { accessToken refreshToken } }";
const AUDIT: &str = "query($e: ID, $n: Int) { auditLog(eventId: $e, first: $n) { entries { action objectType objectId eventId actorId address detail } hasMore } }";
const PASSWORD: &str = "a long enough password";

async fn log_in(app: &TestApp, email: &str, second: Option<&str>) -> (String, String) {
    let d = app
        .ok(
            None,
            LOG_IN,
            json!({ "e": email, "p": PASSWORD, "f": second }),
        )
        .await;
    (
        str_of(&d["logIn"]["accessToken"]),
        str_of(&d["logIn"]["refreshToken"]),
    )
}

/// Makes an account an admin straight in the database (no API grants the first admin).
async fn make_admin(db: &Db, user_id: &str) {
    guichet_server::with_pool!(db, |pool| {
        sqlx::query("UPDATE users SET role = 'admin' WHERE id = $1")
            .bind(user_id)
            .execute(pool)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
    });
}

async fn admin(app: &TestApp, email: &str) -> String {
    let (_, _, id) = app.sign_up(email, "ATTENDEE").await;
    make_admin(app.db(), &id).await;
    log_in(app, email, None).await.0
}

/// Posts an operation to one replica's router and returns the response.
async fn gql_on(router: &Router, token: &str, query: &str, variables: Value) -> Value {
    let body = json!({ "query": query, "variables": variables }).to_string();
    let mut req = Request::post("/graphql").header(header::CONTENT_TYPE, "application/json");
    if !token.is_empty() {
        req = req.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    let req = req.body(Body::from(body)).unwrap_or_else(|e| panic!("{e}"));
    let response = router
        .clone()
        .oneshot(req)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let bytes = response
        .into_body()
        .collect()
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .to_bytes();
    serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{e}"))
}

async fn log_out_ends_access_tokens_on_the_next_request(app: TestApp) {
    let (access, refresh, id) = app.sign_up("leaving@example.org", "ORGANIZER").await;
    assert_eq!(app.ok(Some(&access), ME, json!({})).await["me"]["id"], id);
    let out = app.ok(None, LOG_OUT, json!({ "t": refresh })).await;
    assert_eq!(out["logOut"], true);
    assert_eq!(
        app.err(Some(&access), ME, json!({})).await,
        "UNAUTHENTICATED"
    );
    let create = "mutation($i: EventInput!) { createEvent(input: $i) { id } }";
    let input = json!({ "i": crate::support::event_input("After log-out", 5) });
    assert_eq!(
        app.err(Some(&access), create, input).await,
        "UNAUTHENTICATED"
    );
    assert_eq!(
        app.err(None, REFRESH, json!({ "t": refresh })).await,
        "UNAUTHENTICATED"
    );
    // Another session of the same account is untouched.
    let (other, _) = log_in(&app, "leaving@example.org", None).await;
    assert_eq!(app.ok(Some(&other), ME, json!({})).await["me"]["id"], id);
}

async fn log_out_reaches_every_replica(app: TestApp) {
    let (access, refresh, id) = app.sign_up("two@example.org", "ATTENDEE").await;
    let (replica, _state) = app.restart().await;
    let seen = gql_on(&replica, &access, ME, json!({})).await;
    assert_eq!(seen["data"]["me"]["id"], id, "{seen}");
    // Log out through the first replica; the second must refuse the very next request.
    assert_eq!(
        app.ok(None, LOG_OUT, json!({ "t": refresh })).await["logOut"],
        true
    );
    let after = gql_on(&replica, &access, ME, json!({})).await;
    assert_eq!(
        error_code(&after).as_deref(),
        Some("UNAUTHENTICATED"),
        "{after}"
    );
}

/// A token in use on one replica while its holder logs out on another, the way a stolen
/// token is used: requests keep coming from several tasks during the log-out. Every request
/// begun after the log-out returned must be refused (the session check is a read begun after
/// the request arrived, never a cached answer), every one finished before it began must
/// pass, and enough of both happened for that to mean something.
async fn no_request_begun_after_a_log_out_passes_on_another_replica(app: TestApp) {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use std::time::Instant;

    let (access, refresh, id) = app.sign_up("stolen@example.org", "ATTENDEE").await;
    let (replica, _state) = app.restart().await;
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicUsize::new(0));
    let mut users = Vec::new();
    for _ in 0..6 {
        let (replica, access, stop, done) =
            (replica.clone(), access.clone(), stop.clone(), done.clone());
        let id = id.clone();
        users.push(tokio::spawn(async move {
            let mut seen = Vec::new();
            while !stop.load(Ordering::SeqCst) {
                let began = Instant::now();
                let answer = gql_on(&replica, &access, ME, json!({})).await;
                let passed = answer["data"]["me"]["id"] == id.as_str();
                let refused = error_code(&answer).as_deref() == Some("UNAUTHENTICATED");
                assert!(passed || refused, "neither served nor refused: {answer}");
                seen.push((began, Instant::now(), passed));
                done.fetch_add(1, Ordering::SeqCst);
            }
            seen
        }));
    }
    let wait_for = |n: usize| {
        let done = done.clone();
        async move {
            let deadline = Instant::now() + std::time::Duration::from_secs(60);
            while done.load(Ordering::SeqCst) < n {
                assert!(Instant::now() < deadline, "requests stopped coming");
                tokio::time::sleep(std::time::Duration::from_millis(2)).await;
            }
        }
    };
    wait_for(60).await;
    let out_began = Instant::now();
    assert_eq!(
        app.ok(None, LOG_OUT, json!({ "t": refresh })).await["logOut"],
        true
    );
    let out_done = Instant::now();
    let before = done.load(Ordering::SeqCst);
    wait_for(before + 120).await;
    stop.store(true, Ordering::SeqCst);
    let mut seen = Vec::new();
    for user in users {
        seen.extend(user.await.unwrap_or_else(|e| panic!("{e}")));
    }
    let after: Vec<_> = seen
        .iter()
        .filter(|(began, _, _)| *began > out_done)
        .collect();
    let earlier: Vec<_> = seen
        .iter()
        .filter(|(_, ended, _)| *ended < out_began)
        .collect();
    assert!(
        after.len() >= 100,
        "only {} requests began after the log-out",
        after.len()
    );
    assert!(
        earlier.len() >= 50,
        "only {} requests ended before it",
        earlier.len()
    );
    let passed_after = after.iter().filter(|(_, _, passed)| *passed).count();
    assert_eq!(
        passed_after, 0,
        "requests begun after the log-out were served"
    );
    assert!(
        earlier.iter().all(|(_, _, passed)| *passed),
        "a request refused before the log-out began"
    );
}

/// Checks that share one read each get their own session's answer: live, ended, past its
/// absolute lifetime, unknown, and a live session named with another account's id.
async fn grouped_session_checks_answer_each_session_for_itself(app: TestApp) {
    use guichet_server::auth::session_check::SessionCheck;
    use std::sync::Arc;

    let session_of = |token: &str| {
        let p = app
            .state
            .tokens
            .verify_access(token)
            .unwrap_or_else(|| panic!("token"));
        (
            p.session_id.unwrap_or_else(|| panic!("no session")),
            p.user_id,
        )
    };
    let (a, _, _) = app.sign_up("group-a@example.org", "ATTENDEE").await;
    let (b, _, _) = app.sign_up("group-b@example.org", "ATTENDEE").await;
    let (ended, ended_refresh) = log_in(&app, "group-a@example.org", None).await;
    let (expired, _, _) = app.sign_up("group-c@example.org", "ATTENDEE").await;
    let ((a, user_a), (b, user_b)) = (session_of(&a), session_of(&b));
    let ((ended, _), (expired, user_c)) = (session_of(&ended), session_of(&expired));
    assert_eq!(
        app.ok(None, LOG_OUT, json!({ "t": ended_refresh })).await["logOut"],
        true
    );
    guichet_server::with_pool!(app.db(), |pool| {
        sqlx::query("UPDATE sessions SET expires_at = 1 WHERE id = $1")
            .bind(&expired)
            .execute(pool)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
    });

    // The batch read on its own.
    let now = chrono::Utc::now().timestamp();
    let ids = [
        a.as_str(),
        b.as_str(),
        ended.as_str(),
        expired.as_str(),
        "no-such",
    ];
    let mut live = app
        .db()
        .live_sessions(&ids, now)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    live.sort();
    let mut want = vec![(a.clone(), user_a.clone()), (b.clone(), user_b.clone())];
    want.sort();
    assert_eq!(live, want);

    // Through the checker, 300 checks at once from 300 tasks.
    let cases = [
        (a.clone(), user_a.clone(), true),
        (b.clone(), user_b.clone(), true),
        (ended, user_a.clone(), false),
        (expired, user_c, false),
        ("no-such".to_owned(), user_a.clone(), false),
        (a, user_b, false),
    ];
    let check = Arc::new(SessionCheck::new(app.db().clone(), true));
    let mut tasks = Vec::new();
    for k in 0..300 {
        let (session, user, want) = cases[k % cases.len()].clone();
        let check = check.clone();
        tasks.push(tokio::spawn(async move {
            let alive = check
                .alive(&session, &user)
                .await
                .unwrap_or_else(|e| panic!("{e}"));
            (session, user, alive, want)
        }));
    }
    for task in tasks {
        let (session, user, alive, want) = task.await.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(alive, want, "session {session} of {user}");
    }
    let stats = check.stats();
    assert_eq!(stats.checks, 300);
    assert!(
        stats.reads < stats.checks,
        "300 concurrent checks made {} reads: none was shared",
        stats.reads
    );
}

async fn password_role_and_revocation_end_every_session(app: TestApp) {
    let (first, _, id) = app.sign_up("moves@example.org", "ORGANIZER").await;
    let (second, second_refresh) = log_in(&app, "moves@example.org", None).await;
    let change = "mutation($c: String!, $n: String!) { changePassword(currentPassword: $c, newPassword: $n) { accessToken } }";
    assert_eq!(
        app.err(
            Some(&first),
            change,
            json!({ "c": "not the password", "n": "another long password" })
        )
        .await,
        "UNAUTHENTICATED"
    );
    let changed = app
        .ok(
            Some(&first),
            change,
            json!({ "c": PASSWORD, "n": "another long password" }),
        )
        .await;
    let fresh = str_of(&changed["changePassword"]["accessToken"]);
    for old in [&first, &second] {
        assert_eq!(app.err(Some(old), ME, json!({})).await, "UNAUTHENTICATED");
    }
    assert_eq!(
        app.err(None, REFRESH, json!({ "t": second_refresh })).await,
        "UNAUTHENTICATED"
    );
    assert_eq!(app.ok(Some(&fresh), ME, json!({})).await["me"]["id"], id);
    let old_password = json!({ "e": "moves@example.org", "p": PASSWORD, "f": null });
    assert_eq!(app.err(None, LOG_IN, old_password).await, "UNAUTHENTICATED");

    // A role change by an admin ends the account's sessions (tokens carry the role).
    let boss = admin(&app, "boss@example.org").await;
    let set_role = "mutation($u: ID!, $r: Role!) { setRole(userId: $u, role: $r) { role } }";
    assert_eq!(
        app.err(Some(&fresh), set_role, json!({ "u": id, "r": "ADMIN" }))
            .await,
        "FORBIDDEN"
    );
    let demoted = app
        .ok(Some(&boss), set_role, json!({ "u": id, "r": "ATTENDEE" }))
        .await;
    assert_eq!(demoted["setRole"]["role"], "ATTENDEE");
    assert_eq!(
        app.err(Some(&fresh), ME, json!({})).await,
        "UNAUTHENTICATED"
    );

    // An admin's "revoke all sessions".
    let login = json!({ "e": "moves@example.org", "p": "another long password", "f": null });
    let again = str_of(&app.ok(None, LOG_IN, login).await["logIn"]["accessToken"]);
    assert_eq!(
        app.ok(Some(&again), ME, json!({})).await["me"]["role"],
        "ATTENDEE"
    );
    let revoke = "mutation($u: ID) { revokeSessions(userId: $u) }";
    let (stranger, _, _) = app.sign_up("stranger@example.org", "ATTENDEE").await;
    assert_eq!(
        app.err(Some(&stranger), revoke, json!({ "u": id })).await,
        "FORBIDDEN"
    );
    let ended = app.ok(Some(&boss), revoke, json!({ "u": id })).await;
    assert_eq!(ended["revokeSessions"], 1);
    assert_eq!(
        app.err(Some(&again), ME, json!({})).await,
        "UNAUTHENTICATED"
    );
    // The stranger's own session was never touched.
    assert!(app.ok(Some(&stranger), ME, json!({})).await["me"]["id"].is_string());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_end_at_their_absolute_lifetime_whatever_the_refreshes() {
    let app = TestApp::sqlite_with(|c| {
        c.session_max_secs = 2;
        c.access_ttl = 600;
    })
    .await;
    let (access, refresh, _) = app.sign_up("short@example.org", "ATTENDEE").await;
    let next = app.ok(None, REFRESH, json!({ "t": refresh })).await;
    let refresh = str_of(&next["refreshSession"]["refreshToken"]);
    tokio::time::sleep(std::time::Duration::from_millis(2_100)).await;
    assert_eq!(
        app.err(Some(&access), ME, json!({})).await,
        "UNAUTHENTICATED"
    );
    assert_eq!(
        app.err(None, REFRESH, json!({ "t": refresh })).await,
        "UNAUTHENTICATED"
    );
}

/// The audit entries of one event (or all, with `None`), oldest first, as (action, object).
async fn entries(app: &TestApp, token: &str, event: Option<&str>) -> Vec<Value> {
    let d = app
        .ok(Some(token), AUDIT, json!({ "e": event, "n": 200 }))
        .await;
    let mut list = d["auditLog"]["entries"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    list.reverse();
    list
}

fn actions(list: &[Value]) -> Vec<String> {
    list.iter().map(|e| str_of(&e["action"])).collect()
}

async fn audited_actions_leave_exactly_one_entry(app: TestApp) {
    let (org, _, org_id) = app.sign_up("audited@example.org", "ORGANIZER").await;
    let (event, tt) = on_sale(&app, &org, 1500).await;
    let update_tt =
        "mutation($t: ID!, $i: TicketTypeInput!) { updateTicketType(id: $t, input: $i) { id } }";
    let mut input = crate::support::ticket_input();
    input["capacity"] = json!(30);
    input["priceMinor"] = json!(1500);
    input["saleStartsAt"] = json!("2020-01-01T00:00:00Z");
    input["saleEndsAt"] = json!("2029-12-31T00:00:00Z");
    app.ok(Some(&org), update_tt, json!({ "t": tt, "i": input }))
        .await;
    // Repeating a publish changes nothing and records nothing.
    let publish = "mutation($e: ID!) { publishEvent(id: $e) { id } }";
    app.ok(Some(&org), publish, json!({ "e": event })).await;
    // A failed action leaves no entry: capacity below what is held.
    let (buyer, _, buyer_id) = app.sign_up("buyer-a@example.org", "ATTENDEE").await;
    let hold_id = hold(&app, &buyer, &event, &tt, 2, "audit-hold-1").await;
    let mut too_small = input.clone();
    too_small["capacity"] = json!(1);
    assert_eq!(
        app.err(Some(&org), update_tt, json!({ "t": tt, "i": too_small }))
            .await,
        "CONFLICT"
    );
    let order = app
        .ok(
            Some(&buyer),
            CHECKOUT,
            json!({ "h": hold_id, "t": "tok_visa", "k": "audit-checkout-1" }),
        )
        .await["checkout"]
        .clone();
    let ticket = str_of(&order["tickets"][0]["id"]);
    app.ok(
        Some(&org),
        REFUND,
        json!({ "o": order["id"], "t": [ticket] }),
    )
    .await;
    let cancel = "mutation($e: ID!) { cancelEvent(id: $e) { id } }";
    app.ok(Some(&org), cancel, json!({ "e": event })).await;
    // Publishing a cancelled event fails: no entry.
    assert_eq!(
        app.err(Some(&org), publish, json!({ "e": event })).await,
        "CONFLICT"
    );
    let list = entries(&app, &org, Some(&event)).await;
    let got = actions(&list);
    assert_eq!(
        got[..5],
        [
            "ticket_type.added",
            "event.published",
            "ticket_type.updated",
            "refund.started",
            "event.cancelled",
        ],
        "{list:?}"
    );
    // Cancelling refunds the remaining ticket of the order (the server acting).
    assert_eq!(got.len(), 6, "{list:?}");
    assert_eq!(got[5], "refund.started");
    assert_eq!(list[5]["actorId"], Value::Null);
    for entry in &list[..5] {
        assert_eq!(entry["eventId"], json!(event));
        assert_eq!(entry["actorId"], json!(org_id), "{entry}");
        assert_eq!(entry["address"], "local");
    }
    assert_eq!(list[3]["objectId"], order["id"]);
    // Log-ins: success and failure, with the account id and never the e-mail.
    let wrong = json!({ "e": "buyer-a@example.org", "p": "not the password", "f": null });
    assert_eq!(app.err(None, LOG_IN, wrong).await, "UNAUTHENTICATED");
    let boss = admin(&app, "auditor@example.org").await;
    let all = entries(&app, &boss, None).await;
    let failures: Vec<&Value> = all
        .iter()
        .filter(|e| e["action"] == "login.failed")
        .collect();
    assert_eq!(failures.len(), 1, "{all:?}");
    assert_eq!(failures[0]["actorId"], json!(buyer_id));
    assert_eq!(failures[0]["detail"], "reason=wrong_password");
    assert!(!all.iter().any(|e| e.to_string().contains("@example.org")));
    let sign_ins = all
        .iter()
        .filter(|e| e["action"] == "login.succeeded")
        .count();
    assert_eq!(sign_ins, 4, "three sign-ups and the admin's log-in");
}

async fn audit_log_is_append_only_and_private_to_its_event(app: TestApp) {
    let org = app.organizer("mine@example.org").await;
    let event = app
        .event(&org, crate::support::event_input("Mine", 3), true)
        .await;
    let other = app.organizer("theirs@example.org").await;
    let (attendee, _, _) = app.sign_up("reader@example.org", "ATTENDEE").await;
    assert_eq!(entries(&app, &org, Some(&event)).await.len(), 2);
    let vars = json!({ "e": event, "n": 10 });
    assert_eq!(
        app.err(Some(&other), AUDIT, vars.clone()).await,
        "FORBIDDEN"
    );
    assert_eq!(
        app.err(Some(&attendee), AUDIT, vars.clone()).await,
        "FORBIDDEN"
    );
    assert_eq!(app.err(None, AUDIT, vars).await, "UNAUTHENTICATED");
    let everything = json!({ "e": null, "n": 10 });
    assert_eq!(app.err(Some(&org), AUDIT, everything).await, "FORBIDDEN");
    // The API has no way to edit it, and the database refuses to.
    let (updated, deleted) = guichet_server::with_pool!(app.db(), |pool| {
        let updated = sqlx::query("UPDATE audit_log SET action = 'nothing'")
            .execute(pool)
            .await;
        let deleted = sqlx::query("DELETE FROM audit_log").execute(pool).await;
        (
            updated
                .map(|r| r.rows_affected())
                .map_err(|e| e.to_string()),
            deleted
                .map(|r| r.rows_affected())
                .map_err(|e| e.to_string()),
        )
    });
    // Refused by the append-only trigger, not by some other failure.
    for (what, outcome) in [("update", updated), ("delete", deleted)] {
        let refusal = outcome
            .err()
            .unwrap_or_else(|| panic!("the audit log accepted a {what}"));
        assert!(
            refusal.contains("append-only"),
            "{what} refused for another reason: {refusal}"
        );
    }
    assert_eq!(entries(&app, &org, Some(&event)).await.len(), 2);
}

async fn scanner_pairing_and_revocation_are_audited_once(app: TestApp) {
    let (org, _, org_id) = app.sign_up("doors@example.org", "ORGANIZER").await;
    let (event, tt) = on_sale(&app, &org, 500).await;
    let list = "mutation($e: ID!, $i: CheckInListInput!) { createCheckInList(eventId: $e, input: $i) { id } }";
    let input =
        json!({ "name": "Main", "ticketTypeIds": [tt], "gates": ["north"], "reEntry": false });
    let list_id = str_of(
        &app.ok(Some(&org), list, json!({ "e": event, "i": input }))
            .await["createCheckInList"]["id"],
    );
    let pair = "mutation($l: ID!) { pairScanner(listId: $l) { code } }";
    let code =
        str_of(&app.ok(Some(&org), pair, json!({ "l": list_id })).await["pairScanner"]["code"]);
    let redeem = "mutation($c: String!, $n: String!) { redeemPairing(code: $c, deviceName: $n) { device { id } } }";
    let device = app
        .ok(None, redeem, json!({ "c": code, "n": "North door" }))
        .await;
    let device = str_of(&device["redeemPairing"]["device"]["id"]);
    // A code works once: the second redemption fails and records nothing.
    assert_eq!(
        app.err(None, redeem, json!({ "c": code, "n": "Again" }))
            .await,
        "NOT_FOUND"
    );
    let revoke = "mutation($d: ID!) { revokeScanner(deviceId: $d) { revokedAt } }";
    app.ok(Some(&org), revoke, json!({ "d": device })).await;
    // Revoking again changes nothing and records nothing.
    app.ok(Some(&org), revoke, json!({ "d": device })).await;
    let list = entries(&app, &org, Some(&event)).await;
    let scanner: Vec<&Value> = list
        .iter()
        .filter(|e| e["objectType"] == "scanner")
        .collect();
    assert_eq!(
        actions(&scanner.iter().map(|e| (*e).clone()).collect::<Vec<_>>()),
        ["scanner.paired", "scanner.revoked"],
        "{list:?}"
    );
    assert!(scanner.iter().all(|e| e["objectId"] == json!(device)));
    assert_eq!(scanner[1]["actorId"], json!(org_id));
}

/// Decodes RFC 4648 base32 (no padding).
fn base32_decode(text: &str) -> Vec<u8> {
    let (mut out, mut buffer, mut bits) = (Vec::new(), 0u32, 0u32);
    for c in text.bytes() {
        let value = match c {
            b'A'..=b'Z' => c - b'A',
            b'2'..=b'7' => c - b'2' + 26,
            _ => panic!("not base32: {c}"),
        };
        buffer = (buffer << 5) | u32::from(value);
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push(((buffer >> bits) & 0xff) as u8);
        }
    }
    out
}

async fn totp_is_required_once_enabled_and_recovery_codes_work_once(app: TestApp) {
    let (token, _, id) = app.sign_up("twofa@example.org", "ORGANIZER").await;
    let begin = "mutation { beginTotpEnrolment { otpauthUri qrSvg } }";
    let enrol = app.ok(Some(&token), begin, json!({})).await["beginTotpEnrolment"].clone();
    let uri = str_of(&enrol["otpauthUri"]);
    assert!(
        uri.starts_with("otpauth://totp/Guichet:twofa%40example.org?secret="),
        "{uri}"
    );
    assert!(str_of(&enrol["qrSvg"]).contains("<svg"));
    let secret_b32 = uri
        .split("secret=")
        .nth(1)
        .and_then(|s| s.split('&').next())
        .unwrap_or_else(|| panic!("{uri}"));
    let secret = base32_decode(secret_b32);
    // Before confirmation, log-in needs no code.
    log_in(&app, "twofa@example.org", None).await;
    let confirm = "mutation($c: String!) { confirmTotp(code: $c) }";
    assert_eq!(
        app.err(Some(&token), confirm, json!({ "c": "000000" }))
            .await,
        "INVALID_INPUT"
    );
    let now = chrono::Utc::now().timestamp();
    let code = format!("{:06}", totp::totp(&secret, now, 6));
    let codes = app.ok(Some(&token), confirm, json!({ "c": code })).await["confirmTotp"].clone();
    let codes: Vec<String> = codes
        .as_array()
        .unwrap_or_else(|| panic!("{codes}"))
        .iter()
        .map(str_of)
        .collect();
    assert_eq!(codes.len(), 10);
    // Stored hashed: no code appears in the database.
    let stored: Vec<(String,)> = guichet_server::with_pool!(app.db(), |pool| {
        sqlx::query_as("SELECT code_hash FROM recovery_codes WHERE user_id = $1")
            .bind(&id)
            .fetch_all(pool)
            .await
            .unwrap_or_else(|e| panic!("{e}"))
    });
    assert_eq!(stored.len(), 10);
    assert!(
        stored
            .iter()
            .all(|(h,)| !codes.contains(h) && h.len() == 64)
    );

    let plain = json!({ "e": "twofa@example.org", "p": PASSWORD, "f": null });
    let refused = app.gql(None, LOG_IN, plain).await;
    assert_eq!(error_code(&refused).as_deref(), Some("UNAUTHENTICATED"));
    assert!(
        refused.to_string().contains("requires a second factor"),
        "{refused}"
    );
    let wrong = json!({ "e": "twofa@example.org", "p": PASSWORD, "f": "123456" });
    let wrong_code = if code == "123456" { "654321" } else { "123456" };
    let wrong = json!({ "e": wrong["e"], "p": PASSWORD, "f": wrong_code });
    assert_eq!(app.err(None, LOG_IN, wrong).await, "UNAUTHENTICATED");
    // The confirmation's code is spent; the next step's code (one step of drift) works once.
    let replay = json!({ "e": "twofa@example.org", "p": PASSWORD, "f": code });
    assert_eq!(app.err(None, LOG_IN, replay).await, "UNAUTHENTICATED");
    let next = format!("{:06}", totp::totp(&secret, now + 30, 6));
    let (with_code, _) = log_in(&app, "twofa@example.org", Some(&next)).await;
    assert_eq!(
        app.ok(Some(&with_code), ME, json!({})).await["me"]["id"],
        id
    );
    let again = json!({ "e": "twofa@example.org", "p": PASSWORD, "f": next });
    assert_eq!(app.err(None, LOG_IN, again).await, "UNAUTHENTICATED");
    // A recovery code works once, typed in any case.
    let (recovered, _) = log_in(&app, "twofa@example.org", Some(&codes[3].to_uppercase())).await;
    assert!(app.ok(Some(&recovered), ME, json!({})).await["me"]["id"].is_string());
    let reuse = json!({ "e": "twofa@example.org", "p": PASSWORD, "f": codes[3] });
    assert_eq!(app.err(None, LOG_IN, reuse).await, "UNAUTHENTICATED");
    let boss = admin(&app, "sec@example.org").await;
    let all = actions(&entries(&app, &boss, None).await);
    for (action, count) in [
        ("totp.enrolment_started", 1),
        ("totp.enabled", 1),
        ("recovery_code.used", 1),
        ("login.failed", 5),
    ] {
        assert_eq!(
            all.iter().filter(|a| *a == action).count(),
            count,
            "{action}: {all:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publishing_can_require_a_second_factor_and_codes_are_rate_limited() {
    let app = TestApp::sqlite_with(|c| {
        c.require_2fa_to_publish = true;
        c.auth_rate_per_minute = 1;
        c.auth_rate_burst = 3;
    })
    .await;
    let (token, _, _) = app.sign_up("publisher@example.org", "ORGANIZER").await;
    let event = app
        .event(&token, crate::support::event_input("Needs 2FA", 4), false)
        .await;
    let publish = "mutation($e: ID!) { publishEvent(id: $e) { status } }";
    assert_eq!(
        app.err(Some(&token), publish, json!({ "e": event })).await,
        "FORBIDDEN"
    );
    let enrol = app
        .ok(
            Some(&token),
            "mutation { beginTotpEnrolment { otpauthUri } }",
            json!({}),
        )
        .await;
    let uri = str_of(&enrol["beginTotpEnrolment"]["otpauthUri"]);
    let secret = base32_decode(
        uri.split("secret=")
            .nth(1)
            .and_then(|s| s.split('&').next())
            .unwrap_or_default(),
    );
    let code = format!(
        "{:06}",
        totp::totp(&secret, chrono::Utc::now().timestamp(), 6)
    );
    app.ok(
        Some(&token),
        "mutation($c: String!) { confirmTotp(code: $c) }",
        json!({ "c": code }),
    )
    .await;
    let published = app.ok(Some(&token), publish, json!({ "e": event })).await;
    assert_eq!(published["publishEvent"]["status"], "PUBLISHED");
    // Wrong codes count as failed log-ins: the limiter stops the guessing.
    let mut codes = Vec::new();
    for _ in 0..4 {
        let guess = json!({ "e": "publisher@example.org", "p": PASSWORD, "f": "000001" });
        codes.push(app.err(None, LOG_IN, guess).await);
    }
    assert_eq!(codes[0], "UNAUTHENTICATED");
    assert_eq!(codes[3], "RATE_LIMITED", "{codes:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn totp_secrets_open_during_a_key_encryption_key_rotation() {
    let app = TestApp::sqlite().await;
    let (token, _, _) = app.sign_up("rotating@example.org", "ORGANIZER").await;
    let enrol = app
        .ok(
            Some(&token),
            "mutation { beginTotpEnrolment { otpauthUri } }",
            json!({}),
        )
        .await;
    let uri = str_of(&enrol["beginTotpEnrolment"]["otpauthUri"]);
    let secret = base32_decode(
        uri.split("secret=")
            .nth(1)
            .and_then(|s| s.split('&').next())
            .unwrap_or_default(),
    );
    let now = chrono::Utc::now().timestamp();
    let code = format!("{:06}", totp::totp(&secret, now, 6));
    app.ok(
        Some(&token),
        "mutation($c: String!) { confirmTotp(code: $c) }",
        json!({ "c": code }),
    )
    .await;
    // A replica started with a new key-encryption key and the old one as previous.
    let mut config = crate::support::test_config("sqlite://unused");
    config.previous_key_encryption_key = config.key_encryption_key;
    config.key_encryption_key = Some([9; 32]);
    let state = guichet_server::AppState::with_provider(
        config,
        app.db().clone(),
        &[42; 32],
        app.payments.clone(),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let router = guichet_server::app(state);
    let next = format!("{:06}", totp::totp(&secret, now + 30, 6));
    let vars = json!({ "e": "rotating@example.org", "p": PASSWORD, "f": next });
    let answer = gql_on(&router, "", LOG_IN, vars).await;
    assert!(
        answer["data"]["logIn"]["accessToken"].is_string(),
        "{answer}"
    );
}

/// A buyer with one completed order of two tickets; returns (token, order id, ticket ids).
async fn buyer_with_tickets(
    app: &TestApp,
    org: &str,
    event: &str,
    tt: &str,
    email: &str,
) -> (String, String, Vec<String>) {
    let (token, _, _) = app.sign_up(email, "ATTENDEE").await;
    // Keys the client makes up (not from the e-mail: the erasure test looks for it).
    let key = uuid::Uuid::new_v4().simple().to_string();
    let hold_id = hold(app, &token, event, tt, 2, &format!("hold-{key}")).await;
    let order = app
        .ok(
            Some(&token),
            CHECKOUT,
            json!({ "h": hold_id, "t": "tok_visa", "k": format!("checkout-{key}") }),
        )
        .await["checkout"]
        .clone();
    let _ = org;
    let tickets = order["tickets"]
        .as_array()
        .unwrap_or_else(|| panic!("{order}"))
        .iter()
        .map(|t| str_of(&t["id"]))
        .collect();
    (token, str_of(&order["id"]), tickets)
}

async fn export_holds_everything_about_the_person_and_nothing_else(app: TestApp) {
    let org = app.organizer("exporter-org@example.org").await;
    let (event, tt) = on_sale(&app, &org, 900).await;
    let (me, my_order, my_tickets) =
        buyer_with_tickets(&app, &org, &event, &tt, "me@example.org").await;
    let (_, their_order, their_tickets) =
        buyer_with_tickets(&app, &org, &event, &tt, "them@example.org").await;
    let text = str_of(&app.ok(Some(&me), "{ exportMyData }", json!({})).await["exportMyData"]);
    let data: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
    assert_eq!(data["account"]["email"], "me@example.org");
    assert_eq!(data["orders"].as_array().map(Vec::len), Some(1));
    assert_eq!(data["orders"][0]["id"], json!(my_order));
    assert_eq!(data["orders"][0]["totalMinor"], 1800);
    let exported: Vec<String> = data["tickets"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|t| str_of(&t["id"]))
        .collect();
    assert_eq!(exported.len(), 2);
    assert!(my_tickets.iter().all(|t| exported.contains(t)));
    assert_eq!(data["sessions"].as_array().map(Vec::len), Some(1));
    assert!(
        data["actions"]
            .as_array()
            .is_some_and(|a| a.iter().any(|e| e["action"] == "login.succeeded"))
    );
    for foreign in [
        their_order.as_str(),
        "them@example.org",
        "exporter-org@example.org",
    ]
    .into_iter()
    .chain(their_tickets.iter().map(String::as_str))
    {
        assert!(!text.contains(foreign), "export leaks {foreign}");
    }
    assert_eq!(
        app.err(None, "{ exportMyData }", json!({})).await,
        "UNAUTHENTICATED"
    );
}

/// How many rows of any text column of any table mention `needle`.
async fn mentions(db: &Db, needle: &str) -> Vec<String> {
    let columns: Vec<(String, String)> = match db {
        Db::Sqlite(pool) => {
            let tables: Vec<(String,)> = sqlx::query_as(
                "SELECT name FROM sqlite_master WHERE type = 'table' \
                 AND name NOT LIKE 'sqlite_%'",
            )
            .fetch_all(pool)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
            let mut all = Vec::new();
            for (table,) in tables {
                let sql = format!("SELECT name FROM pragma_table_info('{table}')");
                let cols: Vec<(String,)> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
                    .fetch_all(pool)
                    .await
                    .unwrap_or_else(|e| panic!("{e}"));
                // Every column, whatever its declared type (SQLite stores text anywhere).
                all.extend(cols.into_iter().map(|(c,)| (table.clone(), c)));
            }
            all
        }
        Db::Postgres(pool) => sqlx::query_as(
            "SELECT table_name::text, column_name::text FROM information_schema.columns \
             WHERE table_schema = 'public' AND data_type IN \
             ('text', 'character varying', 'character', 'json', 'jsonb', 'bytea')",
        )
        .fetch_all(pool)
        .await
        .unwrap_or_else(|e| panic!("{e}")),
    };
    assert!(columns.len() > 40, "too few columns found: {columns:?}");
    let mut hits = Vec::new();
    for (table, column) in columns {
        let cast = match db {
            Db::Sqlite(_) => format!("CAST(\"{column}\" AS TEXT)"),
            Db::Postgres(_) => format!("\"{column}\"::text"),
        };
        let sql = format!("SELECT COUNT(*) FROM \"{table}\" WHERE {cast} LIKE $1");
        let (n,): (i64,) = guichet_server::with_pool!(db, |pool| {
            sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
                .bind(format!("%{needle}%"))
                .fetch_one(pool)
                .await
                .unwrap_or_else(|e| panic!("{sql}: {e}"))
        });
        if n > 0 {
            hits.push(format!("{table}.{column}"));
        }
    }
    hits
}

async fn erasure_leaves_no_e_mail_and_the_sales_report_unchanged(app: TestApp) {
    let org = app.organizer("eraser-org@example.org").await;
    let (event, tt) = on_sale(&app, &org, 1200).await;
    let (me, _, _) = buyer_with_tickets(&app, &org, &event, &tt, "forget.me@example.org").await;
    buyer_with_tickets(&app, &org, &event, &tt, "stay@example.org").await;
    let report_q = "query($e: ID!) { salesReport(eventId: $e) { currency sold held revenueMinor byTicketType { name sold refunded held revenueMinor } byDay { sold revenueMinor } } }";
    let before = app.ok(Some(&org), report_q, json!({ "e": event })).await;
    assert_eq!(before["salesReport"]["sold"], 4);
    assert_eq!(
        mentions(app.db(), "forget.me@example.org").await,
        ["users.email"]
    );
    let delete = "mutation($p: String) { deleteMyAccount(password: $p) }";
    assert_eq!(
        app.err(Some(&me), delete, json!({ "p": "not the password" }))
            .await,
        "UNAUTHENTICATED"
    );
    assert_eq!(
        app.err(Some(&org), delete, json!({ "p": PASSWORD })).await,
        "CONFLICT",
        "an organizer owning events"
    );
    assert_eq!(
        app.ok(Some(&me), delete, json!({ "p": PASSWORD })).await["deleteMyAccount"],
        true
    );
    assert!(mentions(app.db(), "forget.me@example.org").await.is_empty());
    assert!(mentions(app.db(), "forget.me").await.is_empty());
    let after = app.ok(Some(&org), report_q, json!({ "e": event })).await;
    assert_eq!(after, before, "the sales report changed");
    assert_eq!(app.err(Some(&me), ME, json!({})).await, "UNAUTHENTICATED");
    let login = json!({ "e": "forget.me@example.org", "p": PASSWORD, "f": null });
    assert_eq!(app.err(None, LOG_IN, login).await, "UNAUTHENTICATED");
    // The audit log keeps the account id of the erasure, and the e-mail nowhere.
    let boss = admin(&app, "dpo@example.org").await;
    let all = entries(&app, &boss, None).await;
    let erased: Vec<&Value> = all
        .iter()
        .filter(|e| e["action"] == "account.deleted")
        .collect();
    assert_eq!(erased.len(), 1);
    assert!(erased[0]["actorId"].is_string());
    crate::checkout::assert_stock_consistent(&app).await;
}

/// Not a behaviour test: measures what the session check adds to each authenticated
/// request, on both engines, in this (debug) build. Prints figures, asserts none.
/// `integration identity::measure_session_check --ignored --nocapture`
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "measurement: run with --ignored --nocapture"]
async fn measure_session_check() {
    use std::time::Instant;
    for app in [TestApp::sqlite().await, TestApp::postgres().await] {
        let (token, _, _) = app.sign_up("measured@example.org", "ATTENDEE").await;
        let principal = app
            .state
            .tokens
            .verify_access(&token)
            .unwrap_or_else(|| panic!("token"));
        let session = principal.session_id.clone().unwrap_or_default();
        let now = chrono::Utc::now().timestamp();
        let n = 5_000u32;
        let started = Instant::now();
        for _ in 0..n {
            let _ = app.state.tokens.verify_access(&token);
        }
        let verify = started.elapsed() / n;
        let started = Instant::now();
        for _ in 0..n {
            let _ = app
                .db()
                .session_alive(&session, &principal.user_id, now)
                .await;
        }
        let lookup = started.elapsed() / n;
        // 64 concurrent callers, as under an on-sale: checks per second.
        let started = Instant::now();
        let mut tasks = Vec::new();
        for _ in 0..64 {
            let db = app.db().clone();
            let (session, user) = (session.clone(), principal.user_id.clone());
            tasks.push(tokio::spawn(async move {
                for _ in 0..200 {
                    let _ = db.session_alive(&session, &user, now).await;
                }
            }));
        }
        for task in tasks {
            let _ = task.await;
        }
        let per_second = f64::from(64 * 200) / started.elapsed().as_secs_f64();
        // The same through the server's check, each read on its own and grouped.
        let mut through = Vec::new();
        for grouped in [false, true] {
            let check = std::sync::Arc::new(
                guichet_server::auth::session_check::SessionCheck::new(app.db().clone(), grouped),
            );
            let started = Instant::now();
            let mut tasks = Vec::new();
            for _ in 0..64 {
                let check = check.clone();
                let (session, user) = (session.clone(), principal.user_id.clone());
                tasks.push(tokio::spawn(async move {
                    for _ in 0..200 {
                        let _ = check.alive(&session, &user).await;
                    }
                }));
            }
            for task in tasks {
                let _ = task.await;
            }
            let stats = check.stats();
            through.push(format!(
                "{} {:.0} checks/s ({} reads)",
                if grouped { "grouped" } else { "one read each" },
                f64::from(64 * 200) / started.elapsed().as_secs_f64(),
                stats.reads
            ));
        }
        let started = Instant::now();
        for _ in 0..1_000 {
            let _ = app.gql(Some(&token), ME, json!({})).await;
        }
        let request = started.elapsed() / 1_000;
        println!(
            "{:?}: JWT verify {verify:?}, session read {lookup:?} sequential, \
             {per_second:.0} session reads/s with 64 concurrent callers, \
             whole authenticated `me` request {request:?}; the check, 64 callers: {}",
            app.db().engine(),
            through.join(", ")
        );
    }
}
