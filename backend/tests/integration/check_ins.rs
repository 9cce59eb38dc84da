//! A check-in list's count (`CheckInList.checkedIn`): tickets admitted through it at least
//! once, as the doors' pushes reach the server; exits, re-entries and refusals do not add.

use serde_json::{Value, json};

use crate::checkout::{CHECKOUT, hold, on_sale};
use crate::support::{TestApp, on_both, str_of};

on_both!(the_check_in_count_counts_each_admitted_ticket_once);

const LISTS: &str = "query($e: ID!) { checkInLists(eventId: $e) { id checkedIn } }";

fn scan(n: u128, ticket: &str, ms: i64, direction: &str) -> Value {
    let id = uuid::Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0000 | n).to_string();
    let time = chrono::DateTime::from_timestamp_millis(1_900_000_000_000 + ms)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    json!({ "id": id, "ticketId": ticket, "deviceTime": time, "gate": "north",
            "direction": direction, "decision": "ADMITTED" })
}

async fn checked_in(app: &TestApp, org: &str, event: &str) -> i64 {
    let data = app.ok(Some(org), LISTS, json!({ "e": event })).await;
    data["checkInLists"][0]["checkedIn"]
        .as_i64()
        .unwrap_or_else(|| panic!("no count: {data}"))
}

async fn the_check_in_count_counts_each_admitted_ticket_once(app: TestApp) {
    let org = app.organizer("count@example.org").await;
    let (event, tt) = on_sale(&app, &org, 1000).await;
    let (buyer, _, _) = app.sign_up("count-buyer@example.org", "ATTENDEE").await;
    let mut tickets = Vec::new();
    for i in 0..3 {
        let h = hold(&app, &buyer, &event, &tt, 1, &format!("count-h{i}")).await;
        let order = app
            .ok(
                Some(&buyer),
                CHECKOUT,
                json!({ "h": h, "t": "tok_visa", "k": format!("count-c{i}") }),
            )
            .await;
        tickets.push(str_of(&order["checkout"]["tickets"][0]["id"]));
    }
    let list = app
        .ok(
            Some(&org),
            "mutation($e: ID!, $i: CheckInListInput!) { createCheckInList(eventId: $e, input: $i) { id checkedIn } }",
            json!({ "e": event, "i": { "name": "Main", "ticketTypeIds": [tt],
                     "gates": ["north"], "reEntry": true } }),
        )
        .await;
    assert_eq!(list["createCheckInList"]["checkedIn"], json!(0));
    let list = str_of(&list["createCheckInList"]["id"]);
    let pairing = app
        .ok(
            Some(&org),
            "mutation($l: ID!) { pairScanner(listId: $l) { code } }",
            json!({ "l": list }),
        )
        .await;
    let enrolled = app
        .ok(
            None,
            "mutation($c: String!) { redeemPairing(code: $c, deviceName: \"n\") { deviceToken } }",
            json!({ "c": str_of(&pairing["pairScanner"]["code"]) }),
        )
        .await;
    let token = str_of(&enrolled["redeemPairing"]["deviceToken"]);
    let push =
        "mutation($t: String!, $s: [ScanInput!]!) { pushScans(deviceToken: $t, scans: $s) { id } }";

    // One ticket in, out and back in (re-entry): one check-in.
    let scans = json!([
        scan(1, &tickets[0], 0, "ENTRY"),
        scan(2, &tickets[0], 1_000, "EXIT"),
        scan(3, &tickets[0], 2_000, "ENTRY"),
    ]);
    app.ok(None, push, json!({ "t": token, "s": scans })).await;
    assert_eq!(checked_in(&app, &org, &event).await, 1);

    // A second ticket in: two. A third ticket that only goes out is no check-in: still two.
    let scans = json!([
        scan(4, &tickets[1], 3_000, "ENTRY"),
        scan(5, &tickets[2], 4_000, "EXIT")
    ]);
    app.ok(None, push, json!({ "t": token, "s": scans })).await;
    assert_eq!(checked_in(&app, &org, &event).await, 2);

    // Another organizer cannot read the list, so not its count either.
    let other = app.organizer("count-other@example.org").await;
    assert_eq!(
        app.err(Some(&other), LISTS, json!({ "e": event })).await,
        "FORBIDDEN"
    );
}
