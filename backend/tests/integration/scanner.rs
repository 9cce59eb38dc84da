//! Door scanners: pairing, the pull (snapshot, then revocations and scans by sequence), the
//! push (exactly once by id, late scans kept), the server's classification of double
//! entries, online decisions, revocation of devices, and hostile input.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

use crate::checkout::{CHECKOUT, REFUND, hold, on_sale};
use crate::support::{TestApp, on_both, str_of, ticket_input};

on_both!(
    pairing_codes_work_once_and_devices_can_be_revoked,
    the_first_pull_is_a_packed_snapshot_then_changes_follow,
);
on_both!(
    pushes_are_exactly_once_and_the_earlier_entry_wins,
    online_decisions_refuse_a_second_entry,
    hostile_scanner_input_is_refused_with_a_code,
);
on_both!(scans_the_server_cannot_vouch_for_are_rejected);

const LIST: &str = "mutation($e: ID!, $i: CheckInListInput!) { createCheckInList(eventId: $e, input: $i) { id ticketTypeIds gates reEntry } }";
const PAIR: &str =
    "mutation($l: ID!) { pairScanner(listId: $l) { code qrText qrSvg expiresAt list { id } } }";
const REDEEM: &str = "mutation($c: String!, $n: String!) { redeemPairing(code: $c, deviceName: $n) { deviceToken device { id name eventId listId revokedAt } } }";
const SYNC: &str = "query($t: String!, $c: String, $l: Int!) { scannerSync(deviceToken: $t, cursor: $c, limit: $l) { cursor hasMore list { id reEntry } keys { keyId publicKey } ticketTypeIds tickets revoked scans { id deviceId ticketId deviceTime gate direction decision reason classification } } }";
const PUSH: &str = "mutation($t: String!, $s: [ScanInput!]!) { pushScans(deviceToken: $t, scans: $s) { id decision reason classification } }";
const ADMIT: &str = "mutation($t: String!, $s: ScanInput!) { admitScan(deviceToken: $t, scan: $s) { id decision reason classification } }";
const ALERTS: &str = "query($e: ID!) { duplicateAlerts(eventId: $e) { scan { id classification } firstEntry { id classification } detectedAt } }";

/// An on-sale event with `n` tickets sold (one order each): (event, ticket type, [(order,
/// ticket)]).
pub(crate) async fn sold(
    app: &TestApp,
    org: &str,
    n: usize,
) -> (String, String, Vec<(String, String)>) {
    let (event, tt) = on_sale(app, org, 1000).await;
    let (buyer, _, _) = app
        .sign_up(&format!("buyer-{}@example.org", &event[..8]), "ATTENDEE")
        .await;
    let mut tickets = Vec::new();
    for i in 0..n {
        let h = hold(app, &buyer, &event, &tt, 1, &format!("h{i}-{event}")).await;
        let order = app
            .ok(
                Some(&buyer),
                CHECKOUT,
                json!({ "h": h, "t": "tok_visa", "k": format!("c{i}-{event}") }),
            )
            .await;
        let order = &order["checkout"];
        tickets.push((str_of(&order["id"]), str_of(&order["tickets"][0]["id"])));
    }
    (event, tt, tickets)
}

/// A list on `event` for `tt` at gates north and south; returns its id.
pub(crate) async fn list(
    app: &TestApp,
    org: &str,
    event: &str,
    tt: &str,
    re_entry: bool,
) -> String {
    let data = app
        .ok(
            Some(org),
            LIST,
            json!({ "e": event, "i": { "name": "Main", "ticketTypeIds": [tt],
                     "gates": ["north", "south"], "reEntry": re_entry } }),
        )
        .await;
    str_of(&data["createCheckInList"]["id"])
}

/// Pairs a device with the list: (token, device id).
pub(crate) async fn device(app: &TestApp, org: &str, list: &str, name: &str) -> (String, String) {
    let pairing = app.ok(Some(org), PAIR, json!({ "l": list })).await;
    let code = str_of(&pairing["pairScanner"]["code"]);
    let data = app.ok(None, REDEEM, json!({ "c": code, "n": name })).await;
    let enrolled = &data["redeemPairing"];
    (
        str_of(&enrolled["deviceToken"]),
        str_of(&enrolled["device"]["id"]),
    )
}

pub(crate) fn scan(id: &str, ticket: &str, ms: i64, direction: &str) -> Value {
    let time = chrono::DateTime::from_timestamp_millis(1_900_000_000_000 + ms)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    json!({ "id": id, "ticketId": ticket, "deviceTime": time, "gate": "north",
            "direction": direction, "decision": "ADMITTED" })
}

pub(crate) fn uuid(n: u128) -> String {
    uuid::Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0000 | n).to_string()
}

/// Pulls from `cursor` until quiet: (last cursor, every page).
async fn pull(
    app: &TestApp,
    token: &str,
    cursor: Option<String>,
    limit: i64,
) -> (String, Vec<Value>) {
    let mut cursor = cursor;
    let mut pages = Vec::new();
    for _ in 0..100 {
        let data = app
            .ok(None, SYNC, json!({ "t": token, "c": cursor, "l": limit }))
            .await;
        let page = data["scannerSync"].clone();
        cursor = Some(str_of(&page["cursor"]));
        let more = page["hasMore"] == json!(true);
        pages.push(page);
        if !more {
            break;
        }
    }
    (cursor.unwrap_or_default(), pages)
}

fn unpack(base64: &Value, width: usize) -> Vec<Vec<u8>> {
    let bytes = STANDARD
        .decode(str_of(base64))
        .unwrap_or_else(|e| panic!("not base64: {e}"));
    assert_eq!(bytes.len() % width, 0, "records of {width} bytes");
    bytes.chunks(width).map(<[u8]>::to_vec).collect()
}

fn uuid_of(bytes: &[u8]) -> String {
    uuid::Uuid::from_slice(&bytes[..16])
        .unwrap_or_else(|e| panic!("{e}"))
        .to_string()
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    let sql = sqlx::AssertSqlSafe(sql.to_owned());
    match app.db() {
        guichet_server::db::Db::Sqlite(pool) => {
            sqlx::query_scalar(sql).fetch_one(pool).await.unwrap_or(-1)
        }
        guichet_server::db::Db::Postgres(pool) => {
            sqlx::query_scalar(sql).fetch_one(pool).await.unwrap_or(-1)
        }
    }
}

async fn pairing_codes_work_once_and_devices_can_be_revoked(app: TestApp) {
    let org = app.organizer("pair@example.org").await;
    let other = app.organizer("pair-other@example.org").await;
    let (event, tt) = on_sale(&app, &org, 1000).await;
    let list = list(&app, &org, &event, &tt, false).await;

    assert_eq!(
        app.err(Some(&other), PAIR, json!({ "l": list })).await,
        "FORBIDDEN"
    );
    assert_eq!(
        app.err(None, PAIR, json!({ "l": list })).await,
        "UNAUTHENTICATED"
    );

    let pairing = app.ok(Some(&org), PAIR, json!({ "l": list })).await;
    let pairing = &pairing["pairScanner"];
    let code = str_of(&pairing["code"]);
    assert_eq!(code.len(), 9, "XXXX-XXXX: {code}");
    assert_eq!(
        str_of(&pairing["qrText"]),
        format!("GUICHET-PAIR:{}", code.replace('-', ""))
    );
    assert!(str_of(&pairing["qrSvg"]).contains("<svg"));

    // Case and dash do not matter; the code works once.
    let typed = code.to_lowercase().replace('-', "");
    let first = app
        .ok(None, REDEEM, json!({ "c": typed, "n": "North 1" }))
        .await;
    let token = str_of(&first["redeemPairing"]["deviceToken"]);
    let device_id = str_of(&first["redeemPairing"]["device"]["id"]);
    assert!(token.starts_with("gsd_"));
    assert_eq!(first["redeemPairing"]["device"]["listId"], json!(list));
    assert_eq!(
        app.err(None, REDEEM, json!({ "c": code, "n": "North 2" }))
            .await,
        "NOT_FOUND"
    );
    assert_eq!(
        app.err(None, REDEEM, json!({ "c": "ZZZZ-ZZZZ", "n": "x" }))
            .await,
        "NOT_FOUND"
    );
    assert_eq!(
        app.err(None, REDEEM, json!({ "c": "not a code at all", "n": "x" }))
            .await,
        "NOT_FOUND"
    );
    // The server keeps hashes only.
    assert_eq!(
        count(
            &app,
            &format!("SELECT COUNT(*) FROM scanner_devices WHERE token_hash = '{token}'")
        )
        .await,
        0
    );

    let devices = app
        .ok(
            Some(&org),
            "query($e: ID!) { scannerDevices(eventId: $e) { id name lastSeenAt revokedAt } }",
            json!({ "e": event }),
        )
        .await;
    assert_eq!(devices["scannerDevices"][0]["id"], json!(device_id));
    assert_eq!(devices["scannerDevices"][0]["revokedAt"], Value::Null);
    assert_eq!(
        app.err(
            Some(&other),
            "query($e: ID!) { scannerDevices(eventId: $e) { id } }",
            json!({ "e": event })
        )
        .await,
        "FORBIDDEN"
    );

    let (_, pages) = pull(&app, &token, None, 100).await;
    assert_eq!(pages[0]["list"]["id"], json!(list));
    let seen = app
        .ok(
            Some(&org),
            "query($e: ID!) { scannerDevices(eventId: $e) { lastSeenAt } }",
            json!({ "e": event }),
        )
        .await;
    assert_ne!(seen["scannerDevices"][0]["lastSeenAt"], Value::Null);

    // Revoked: every device call answers DEVICE_REVOKED; an unknown token UNAUTHENTICATED.
    assert_eq!(
        app.err(
            Some(&other),
            "mutation($d: ID!) { revokeScanner(deviceId: $d) { id } }",
            json!({ "d": device_id })
        )
        .await,
        "FORBIDDEN"
    );
    let revoked = app
        .ok(
            Some(&org),
            "mutation($d: ID!) { revokeScanner(deviceId: $d) { revokedAt } }",
            json!({ "d": device_id }),
        )
        .await;
    assert_ne!(revoked["revokeScanner"]["revokedAt"], Value::Null);
    let sync = json!({ "t": token, "c": null, "l": 10 });
    assert_eq!(app.err(None, SYNC, sync).await, "DEVICE_REVOKED");
    let push = json!({ "t": token, "s": [scan(&uuid(1), &uuid(2), 0, "ENTRY")] });
    assert_eq!(app.err(None, PUSH, push).await, "DEVICE_REVOKED");
    let admit = json!({ "t": token, "s": scan(&uuid(1), &uuid(2), 0, "ENTRY") });
    assert_eq!(app.err(None, ADMIT, admit).await, "DEVICE_REVOKED");
    let forged = json!({ "t": "gsd_forged", "c": null, "l": 10 });
    assert_eq!(app.err(None, SYNC, forged).await, "UNAUTHENTICATED");
    assert_eq!(count(&app, "SELECT COUNT(*) FROM scans").await, 0);
}

async fn the_first_pull_is_a_packed_snapshot_then_changes_follow(app: TestApp) {
    let org = app.organizer("snapshot@example.org").await;
    let (event, tt, tickets) = sold(&app, &org, 5).await;
    let list = list(&app, &org, &event, &tt, false).await;
    let (token, _) = device(&app, &org, &list, "North").await;

    // Pages of two tickets: three snapshot pages, then the (empty) feed.
    let (cursor, pages) = pull(&app, &token, None, 2).await;
    let mut snapshot = Vec::new();
    for page in &pages {
        assert_eq!(page["ticketTypeIds"], json!([tt]));
        assert!(
            page["keys"].as_array().is_some_and(|k| !k.is_empty()),
            "the key ring comes along"
        );
        snapshot.extend(unpack(&page["tickets"], 18));
    }
    let mut expected: Vec<String> = tickets.iter().map(|(_, t)| t.clone()).collect();
    expected.sort();
    let got: Vec<String> = snapshot.iter().map(|r| uuid_of(r)).collect();
    assert_eq!(got, expected, "every ticket once, in id order");
    assert!(
        snapshot.iter().all(|r| r[16] == 0 && r[17] == 0),
        "type 0, valid"
    );
    assert!(cursor.starts_with("f."), "{cursor}");

    // An interrupted pull resumes: the same cursor gives the same page.
    let again = app
        .ok(
            None,
            SYNC,
            json!({ "t": token, "c": pages[0]["cursor"], "l": 2 }),
        )
        .await;
    assert_eq!(again["scannerSync"]["tickets"], pages[1]["tickets"]);

    // A refund reaches the feed as a revocation; nothing else changed.
    let (order, ticket) = &tickets[2];
    app.ok(Some(&org), REFUND, json!({ "o": order, "t": [ticket] }))
        .await;
    let (cursor2, pages) = pull(&app, &token, Some(cursor.clone()), 100).await;
    let revoked: Vec<String> = pages
        .iter()
        .flat_map(|p| unpack(&p["revoked"], 16))
        .map(|r| uuid_of(&r))
        .collect();
    assert_eq!(revoked, std::slice::from_ref(ticket));
    assert_ne!(cursor2, cursor);
    let (_, quiet) = pull(&app, &token, Some(cursor2.clone()), 100).await;
    assert_eq!(quiet[0]["revoked"], json!(""));
    assert_eq!(quiet[0]["scans"], json!([]));

    // A fresh device's snapshot shows the refunded ticket revoked.
    let (token2, _) = device(&app, &org, &list, "South").await;
    let (_, pages) = pull(&app, &token2, None, 100).await;
    let records: Vec<Vec<u8>> = pages
        .iter()
        .flat_map(|p| unpack(&p["tickets"], 18))
        .collect();
    let refunded = records
        .iter()
        .find(|r| &uuid_of(r) == ticket)
        .unwrap_or_else(|| panic!("refunded ticket missing"));
    assert_eq!(refunded[17], 1);

    // Bytes on the wire per ticket in the snapshot: 24 characters of base64.
    assert_eq!(str_of(&pages[0]["tickets"]).len(), 24 * 5);
}

async fn pushes_are_exactly_once_and_the_earlier_entry_wins(app: TestApp) {
    let org = app.organizer("push@example.org").await;
    let (event, tt, tickets) = sold(&app, &org, 2).await;
    let list = list(&app, &org, &event, &tt, false).await;
    let (a, a_id) = device(&app, &org, &list, "A").await;
    let (b, b_id) = device(&app, &org, &list, "B").await;
    let (cursor_b, _) = pull(&app, &b, None, 1000).await;
    let ticket = &tickets[0].1;

    // A admitted the ticket at t=1000 and pushes first.
    let pushed = app
        .ok(
            None,
            PUSH,
            json!({ "t": a, "s": [scan(&uuid(10), ticket, 1000, "ENTRY")] }),
        )
        .await;
    assert_eq!(pushed["pushScans"][0]["classification"], json!("ADMITTED"));

    // B, offline, admitted it at t=500 and pushes later: B's entry came first, so A's
    // becomes the duplicate. A scan from a week ago is accepted too.
    let late = scan(&uuid(11), &tickets[1].1, -7 * 86_400_000, "ENTRY");
    let pushed = app
        .ok(
            None,
            PUSH,
            json!({ "t": b, "s": [scan(&uuid(20), ticket, 500, "ENTRY"), late] }),
        )
        .await;
    assert_eq!(pushed["pushScans"][0]["classification"], json!("ADMITTED"));
    assert_eq!(pushed["pushScans"][1]["classification"], json!("ADMITTED"));

    // B pulls: its own scans and A's, A's now DUPLICATE_ENTRY.
    let (cursor_b2, pages) = pull(&app, &b, Some(cursor_b), 1000).await;
    let scans: Vec<&Value> = pages
        .iter()
        .flat_map(|p| p["scans"].as_array().into_iter().flatten())
        .collect();
    let class_of = |id: &str| {
        scans
            .iter()
            .rev()
            .find(|s| s["id"] == json!(id))
            .map(|s| s["classification"].clone())
    };
    assert_eq!(class_of(&uuid(10)), Some(json!("DUPLICATE_ENTRY")));
    assert_eq!(class_of(&uuid(20)), Some(json!("ADMITTED")));
    assert!(scans.iter().any(|s| s["deviceId"] == json!(a_id)));
    assert!(scans.iter().any(|s| s["deviceId"] == json!(b_id)));

    // Retries change nothing: same verdicts, one row per id, nothing new in the feed.
    for _ in 0..3 {
        let again = app
            .ok(
                None,
                PUSH,
                json!({ "t": a, "s": [scan(&uuid(10), ticket, 1000, "ENTRY")] }),
            )
            .await;
        assert_eq!(
            again["pushScans"][0]["classification"],
            json!("DUPLICATE_ENTRY")
        );
    }
    assert_eq!(count(&app, "SELECT COUNT(*) FROM scans").await, 3);
    let (_, quiet) = pull(&app, &b, Some(cursor_b2), 1000).await;
    assert_eq!(quiet[0]["scans"], json!([]));

    // A scan id already pushed by another device is not taken over.
    let stolen = app
        .ok(
            None,
            PUSH,
            json!({ "t": a, "s": [scan(&uuid(20), ticket, 1, "EXIT")] }),
        )
        .await;
    assert_eq!(stolen["pushScans"][0]["classification"], json!("ADMITTED"));

    // The organizer sees one alert, and the outbox carries it.
    let alerts = app.ok(Some(&org), ALERTS, json!({ "e": event })).await;
    let alerts = alerts["duplicateAlerts"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0]["scan"]["id"], json!(uuid(10)));
    assert_eq!(alerts[0]["firstEntry"]["id"], json!(uuid(20)));
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM outbox WHERE topic = 'scan.duplicate_entry'"
        )
        .await,
        1
    );

    // Concurrent pushes of one ticket from both devices keep the sequence gap-free.
    let batch = |i: u128, token: &str| {
        let scans: Vec<Value> = (0..20u128)
            .map(|j| {
                let direction = if j % 2 == 0 { "EXIT" } else { "ENTRY" };
                scan(
                    &uuid(1000 + i * 100 + j),
                    &tickets[1].1,
                    2000 + j as i64,
                    direction,
                )
            })
            .collect();
        json!({ "t": token, "s": scans })
    };
    let stored_before = count(&app, "SELECT COUNT(*) FROM scans").await;
    let app = std::sync::Arc::new(app);
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(4));
    let pushes: Vec<_> = [(0, &a), (1, &b), (2, &a), (3, &b)]
        .into_iter()
        .map(|(i, token)| {
            let (app, barrier, vars) = (app.clone(), barrier.clone(), batch(i, token));
            tokio::spawn(async move {
                barrier.wait().await;
                app.ok(None, PUSH, vars).await
            })
        })
        .collect();
    for push in pushes {
        let answer = push.await.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(answer["pushScans"].as_array().map(Vec::len), Some(20));
    }
    let rows = count(&app, "SELECT COUNT(*) FROM scans").await;
    assert_eq!(rows, stored_before + 80, "every pushed scan landed, once");
    let seqs = count(&app, "SELECT COUNT(DISTINCT seq) FROM scans").await;
    assert_eq!(seqs, rows, "every stored scan has its own sequence number");
    // The counter handed out exactly the numbers the rows hold last: none skipped past.
    let top = count(&app, "SELECT MAX(seq) FROM scans").await;
    let counter = count(&app, "SELECT MAX(seq) FROM scan_counters").await;
    assert_eq!(top, counter, "the list's counter and its newest scan agree");
}

async fn online_decisions_refuse_a_second_entry(app: TestApp) {
    let org = app.organizer("online@example.org").await;
    let (event, tt, tickets) = sold(&app, &org, 2).await;
    let list = list(&app, &org, &event, &tt, true).await;
    let (a, _) = device(&app, &org, &list, "A").await;
    let (b, _) = device(&app, &org, &list, "B").await;
    let ticket = &tickets[0].1;

    // A refunded ticket is refused online at once, before any door has synced.
    let (order, refunded) = &tickets[1];
    app.ok(Some(&org), REFUND, json!({ "o": order, "t": [refunded] }))
        .await;
    let stale = app
        .ok(
            None,
            ADMIT,
            json!({ "t": a, "s": scan(&uuid(9), refunded, 0, "ENTRY") }),
        )
        .await;
    assert_eq!(stale["admitScan"]["decision"], json!("REJECTED"));
    assert_eq!(stale["admitScan"]["reason"], json!("revoked"));

    let first = app
        .ok(
            None,
            ADMIT,
            json!({ "t": a, "s": scan(&uuid(1), ticket, 0, "ENTRY") }),
        )
        .await;
    assert_eq!(first["admitScan"]["decision"], json!("ADMITTED"));
    // Inside already: the second door refuses, even with re-entry.
    let second = app
        .ok(
            None,
            ADMIT,
            json!({ "t": b, "s": scan(&uuid(2), ticket, 10, "ENTRY") }),
        )
        .await;
    assert_eq!(second["admitScan"]["decision"], json!("REJECTED"));
    assert_eq!(second["admitScan"]["reason"], json!("already_inside"));
    assert_eq!(second["admitScan"]["classification"], json!("REJECTED"));
    // The same question delivered again (a duplicate on the network) gets the same answer.
    let replay = app
        .ok(
            None,
            ADMIT,
            json!({ "t": b, "s": scan(&uuid(2), ticket, 10, "ENTRY") }),
        )
        .await;
    assert_eq!(replay["admitScan"]["decision"], json!("REJECTED"));
    // Out, then in again: allowed on a re-entry list.
    let out = app
        .ok(
            None,
            ADMIT,
            json!({ "t": b, "s": scan(&uuid(3), ticket, 20, "EXIT") }),
        )
        .await;
    assert_eq!(out["admitScan"]["classification"], json!("EXITED"));
    let back = app
        .ok(
            None,
            ADMIT,
            json!({ "t": a, "s": scan(&uuid(4), ticket, 30, "ENTRY") }),
        )
        .await;
    assert_eq!(back["admitScan"]["decision"], json!("ADMITTED"));

    // B asked at t=40 but never heard back, admitted offline, and pushes what it showed:
    // the stored decision follows the door, and the server flags the double entry.
    let lost = app
        .ok(
            None,
            ADMIT,
            json!({ "t": b, "s": scan(&uuid(5), ticket, 40, "ENTRY") }),
        )
        .await;
    assert_eq!(lost["admitScan"]["decision"], json!("REJECTED"));
    let shown = app
        .ok(
            None,
            PUSH,
            json!({ "t": b, "s": [scan(&uuid(5), ticket, 40, "ENTRY")] }),
        )
        .await;
    assert_eq!(shown["pushScans"][0]["decision"], json!("ADMITTED"));
    assert_eq!(
        shown["pushScans"][0]["classification"],
        json!("DUPLICATE_ENTRY")
    );
    assert_eq!(count(&app, "SELECT COUNT(*) FROM scans").await, 6);
}

async fn hostile_scanner_input_is_refused_with_a_code(app: TestApp) {
    let org = app.organizer("hostile-scan@example.org").await;
    let (event, tt, tickets) = sold(&app, &org, 1).await;
    let list = list(&app, &org, &event, &tt, false).await;
    let (token, _) = device(&app, &org, &list, "A").await;
    let ticket = &tickets[0].1;

    let mut bad_cases = Vec::new();
    let mut s = scan("not-a-uuid", ticket, 0, "ENTRY");
    bad_cases.push(vec![s.clone()]);
    s = scan(&uuid(1), ticket, 0, "ENTRY");
    s["gate"] = json!("west");
    bad_cases.push(vec![s.clone()]);
    s = scan(&uuid(1), ticket, 0, "ENTRY");
    s["ticketId"] = Value::Null;
    bad_cases.push(vec![s.clone()]);
    s = scan(&uuid(1), ticket, 0, "ENTRY");
    s["decision"] = json!("REJECTED");
    bad_cases.push(vec![s.clone()]);
    s["reason"] = json!("because");
    bad_cases.push(vec![s.clone()]);
    s = scan(&uuid(1), ticket, 0, "ENTRY");
    s["reason"] = json!("already_used");
    bad_cases.push(vec![s.clone()]);
    bad_cases.push(vec![
        scan(&uuid(1), ticket, 0, "ENTRY"),
        scan(&uuid(1), ticket, 5, "EXIT"),
    ]);
    bad_cases.push(
        (0..201)
            .map(|i| scan(&uuid(100 + i), ticket, 0, "ENTRY"))
            .collect(),
    );
    for scans in bad_cases {
        let code = app.err(None, PUSH, json!({ "t": token, "s": scans })).await;
        assert_eq!(code, "INVALID_INPUT");
    }
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM scans").await,
        0,
        "nothing half-stored"
    );

    // A genuine rejection is kept, with its reason.
    let mut rejected = scan(&uuid(7), ticket, 0, "ENTRY");
    rejected["decision"] = json!("REJECTED");
    rejected["reason"] = json!("revoked");
    let kept = app
        .ok(None, PUSH, json!({ "t": token, "s": [rejected] }))
        .await;
    assert_eq!(kept["pushScans"][0]["classification"], json!("REJECTED"));
    let mut forged = scan(&uuid(8), ticket, 0, "ENTRY");
    forged["ticketId"] = Value::Null;
    forged["decision"] = json!("REJECTED");
    forged["reason"] = json!("invalid");
    let kept = app
        .ok(None, PUSH, json!({ "t": token, "s": [forged] }))
        .await;
    assert_eq!(kept["pushScans"][0]["reason"], json!("invalid"));

    for cursor in [
        "garbage",
        "f.1",
        "f.-1.0",
        "t.0.not-a-uuid",
        &"f.1.".repeat(30),
    ] {
        let code = app
            .err(None, SYNC, json!({ "t": token, "c": cursor, "l": 10 }))
            .await;
        assert_eq!(code, "INVALID_INPUT", "{cursor}");
    }
    let zero = json!({ "t": token, "c": null, "l": 0 });
    assert_eq!(app.err(None, SYNC, zero).await, "INVALID_INPUT");
    let other_org = app.organizer("hostile-other@example.org").await;
    let code = app
        .err(
            Some(&other_org),
            LIST,
            json!({ "e": event, "i": { "name": "X", "ticketTypeIds": [tt], "gates": ["g"] } }),
        )
        .await;
    assert_eq!(code, "FORBIDDEN");
    let code = app
        .err(
            Some(&org),
            LIST,
            json!({ "e": event, "i": { "name": "X", "ticketTypeIds": [uuid(3)], "gates": ["g"] } }),
        )
        .await;
    assert_eq!(code, "INVALID_INPUT");
    let code = app
        .err(
            Some(&org),
            LIST,
            json!({ "e": event, "i": { "name": "X", "ticketTypeIds": [tt], "gates": [] } }),
        )
        .await;
    assert_eq!(code, "INVALID_INPUT");
}

/// Buys one ticket of `tt` for a new buyer; returns the ticket id.
async fn one_ticket(app: &TestApp, event: &str, tt: &str, buyer: &str) -> String {
    let (token, _, _) = app.sign_up(buyer, "ATTENDEE").await;
    let key = buyer.replace('@', "-");
    let h = hold(app, &token, event, tt, 1, &format!("hold-{key}")).await;
    let order = app
        .ok(
            Some(&token),
            CHECKOUT,
            json!({ "h": h, "t": "tok_visa", "k": format!("pay-{key}") }),
        )
        .await;
    str_of(&order["checkout"]["tickets"][0]["id"])
}

async fn scans_the_server_cannot_vouch_for_are_rejected(app: TestApp) {
    let org = app.organizer("vouch@example.org").await;
    let (event, tt, tickets) = sold(&app, &org, 1).await;
    let genuine = &tickets[0].1;
    // A ticket of the same event whose type the list leaves out.
    let mut balcony = ticket_input();
    balcony["name"] = json!("Balcony");
    balcony["saleStartsAt"] = json!("2020-01-01T00:00:00Z");
    balcony["saleEndsAt"] = json!("2029-12-31T00:00:00Z");
    let added = app.ok(Some(&org), "mutation($e: ID!, $t: TicketTypeInput!) { addTicketType(eventId: $e, input: $t) { id } }", json!({ "e": event, "t": balcony })).await;
    let balcony = str_of(&added["addTicketType"]["id"]);
    let unlisted = one_ticket(&app, &event, &balcony, "balcony@example.org").await;
    // A ticket of another event.
    let (other, other_tt) = on_sale(&app, &org, 1000).await;
    let foreign = one_ticket(&app, &other, &other_tt, "elsewhere@example.org").await;
    let random = uuid(4242);

    let list = list(&app, &org, &event, &tt, false).await;
    let (door, _) = device(&app, &org, &list, "North").await;

    // Online: each is answered with its rejection, never ADMITTED.
    for (n, ticket, reason) in [
        (1, &random, "invalid"),
        (2, &foreign, "wrong_event"),
        (3, &unlisted, "not_on_list"),
    ] {
        let answer = app
            .ok(
                None,
                ADMIT,
                json!({ "t": door, "s": scan(&uuid(n), ticket, n as i64, "ENTRY") }),
            )
            .await;
        assert_eq!(
            (
                &answer["admitScan"]["decision"],
                &answer["admitScan"]["reason"]
            ),
            (&json!("REJECTED"), &json!(reason)),
            "{reason}"
        );
        assert_eq!(answer["admitScan"]["classification"], json!("REJECTED"));
    }

    // Offline pushes claiming admissions are stored as rejections; the genuine one stands.
    let batch = json!([
        scan(&uuid(11), &random, 10, "ENTRY"),
        scan(&uuid(12), &foreign, 11, "ENTRY"),
        scan(&uuid(13), &unlisted, 12, "EXIT"),
        scan(&uuid(14), genuine, 13, "ENTRY"),
    ]);
    let pushed = app
        .ok(None, PUSH, json!({ "t": door, "s": batch.clone() }))
        .await;
    let got: Vec<(Value, Value)> = (0..4)
        .map(|i| {
            let r = &pushed["pushScans"][i];
            (r["classification"].clone(), r["reason"].clone())
        })
        .collect();
    assert_eq!(
        got,
        vec![
            (json!("REJECTED"), json!("invalid")),
            (json!("REJECTED"), json!("wrong_event")),
            (json!("REJECTED"), json!("not_on_list")),
            (json!("ADMITTED"), Value::Null),
        ]
    );
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM scans WHERE decision = 'admitted'"
        )
        .await,
        1,
        "only the genuine ticket was admitted"
    );
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM scans WHERE reason = 'invalid' AND ticket_id IS NULL"
        )
        .await,
        2,
        "a ticket the server never issued is not recorded as one"
    );
    // The door pushes the same reports again (it keeps what it showed): nothing changes.
    let head = count(&app, "SELECT MAX(seq) FROM scans").await;
    let again = app.ok(None, PUSH, json!({ "t": door, "s": batch })).await;
    assert_eq!(again["pushScans"][1]["reason"], json!("wrong_event"));
    assert_eq!(count(&app, "SELECT MAX(seq) FROM scans").await, head);
}
