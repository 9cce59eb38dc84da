//! Refund policies: each event says until when its buyers may refund; its organizer may
//! refund at any time. Refunds fired at once (buyer and organizer, two replicas) give money
//! and stock back once; a ticket used at the door is not the buyer's to give back.

use std::sync::Arc;

use serde_json::json;

use crate::checkout::{
    CHECKOUT, REFUND, assert_money_consistent, assert_stock_consistent, hold, on_sale,
};
use crate::support::{TestApp, error_code, event_input, on_both, str_of, ticket_input};

on_both!(
    buyer_refunds_follow_the_events_policy,
    refunds_fired_at_once_refund_once,
    a_ticket_admitted_at_the_door_is_not_refundable_by_its_buyer
);
on_both!(a_refund_racing_the_events_cancellation_refunds_once);

const SET_POLICY: &str = "mutation($e: ID!, $p: RefundPolicyInput!) { setRefundPolicy(eventId: $e, policy: $p) { refundPolicy { buyerRefunds cutoffHoursBeforeStart buyerRefundsUntil } } }";

/// Buys one ticket of a fresh on-sale event and returns (event, order id).
async fn bought(app: &TestApp, org: &str, buyer: &str, key: &str) -> (String, String) {
    let (event, tt) = on_sale(app, org, 1000).await;
    let h = hold(app, buyer, &event, &tt, 1, &format!("hold-{key}")).await;
    let order = app
        .ok(
            Some(buyer),
            CHECKOUT,
            json!({ "h": h, "t": "tok_visa", "k": format!("checkout-{key}") }),
        )
        .await;
    (event, str_of(&order["checkout"]["id"]))
}

async fn buyer_refunds_follow_the_events_policy(app: TestApp) {
    let org = app.organizer("policy@example.org").await;
    let (buyer, _, _) = app.sign_up("policy-buyer@example.org", "ATTENDEE").await;

    // The default policy: refundable by the buyer until 48 hours before the start.
    let (event, order) = bought(&app, &org, &buyer, "default").await;
    let shown = app
        .ok(
            None,
            "query($e: ID!) { event(id: $e) { startsAt refundPolicy { buyerRefunds cutoffHoursBeforeStart buyerRefundsUntil } } }",
            json!({ "e": event }),
        )
        .await;
    let policy = &shown["event"]["refundPolicy"];
    assert_eq!(policy["buyerRefunds"], true);
    assert_eq!(policy["cutoffHoursBeforeStart"], 48);
    let starts = chrono::DateTime::parse_from_rfc3339(&str_of(&shown["event"]["startsAt"]))
        .unwrap_or_else(|e| panic!("{e}"));
    let until = chrono::DateTime::parse_from_rfc3339(&str_of(&policy["buyerRefundsUntil"]))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(starts - until, chrono::Duration::hours(48));

    // No buyer refunds: the buyer is refused, the organizer is not.
    let none = app
        .ok(
            Some(&org),
            SET_POLICY,
            json!({ "e": event, "p": { "buyerRefunds": false } }),
        )
        .await;
    assert_eq!(
        none["setRefundPolicy"]["refundPolicy"],
        json!({ "buyerRefunds": false, "cutoffHoursBeforeStart": null, "buyerRefundsUntil": null })
    );
    assert_eq!(
        app.err(Some(&buyer), REFUND, json!({ "o": order, "t": [] }))
            .await,
        "CONFLICT"
    );
    // Only the event's organizer sets its policy, and only a coherent one.
    let (other, _, _) = app.sign_up("policy-other@example.org", "ORGANIZER").await;
    assert_eq!(
        app.err(
            Some(&other),
            SET_POLICY,
            json!({ "e": event, "p": { "buyerRefunds": true, "cutoffHoursBeforeStart": 1 } })
        )
        .await,
        "FORBIDDEN"
    );
    for bad in [
        json!({ "buyerRefunds": true }),
        json!({ "buyerRefunds": true, "cutoffHoursBeforeStart": -1 }),
        json!({ "buyerRefunds": true, "cutoffHoursBeforeStart": 9000 }),
    ] {
        assert_eq!(
            app.err(Some(&org), SET_POLICY, json!({ "e": event, "p": bad }))
                .await,
            "INVALID_INPUT",
            "{bad}"
        );
    }
    // Refundable again: the buyer's refund goes through.
    app.ok(
        Some(&org),
        SET_POLICY,
        json!({ "e": event, "p": { "buyerRefunds": true, "cutoffHoursBeforeStart": 0 } }),
    )
    .await;
    let refunded = app
        .ok(Some(&buyer), REFUND, json!({ "o": order, "t": [] }))
        .await;
    assert_eq!(refunded["refundOrder"]["status"], "REFUNDED");

    // An event starting in two hours under a three-hour cutoff: the window has closed.
    let soon = chrono::Utc::now() + chrono::Duration::hours(2);
    let mut input = event_input("Soon", 0);
    input["startsAt"] = json!(soon.to_rfc3339());
    input["endsAt"] = json!((soon + chrono::Duration::hours(2)).to_rfc3339());
    let created = app
        .ok(
            Some(&org),
            "mutation($i: EventInput!, $p: RefundPolicyInput) { createEvent(input: $i, refundPolicy: $p) { id refundPolicy { cutoffHoursBeforeStart } } }",
            json!({ "i": input, "p": { "buyerRefunds": true, "cutoffHoursBeforeStart": 3 } }),
        )
        .await;
    assert_eq!(
        created["createEvent"]["refundPolicy"]["cutoffHoursBeforeStart"],
        3
    );
    let soon_event = str_of(&created["createEvent"]["id"]);
    let mut ticket = ticket_input();
    ticket["saleStartsAt"] = json!("2020-01-01T00:00:00Z");
    ticket["saleEndsAt"] = json!(soon.to_rfc3339());
    let tt = app.ok(Some(&org), "mutation($e: ID!, $t: TicketTypeInput!) { addTicketType(eventId: $e, input: $t) { id } }", json!({ "e": soon_event, "t": ticket })).await;
    let tt = str_of(&tt["addTicketType"]["id"]);
    app.ok(
        Some(&org),
        "mutation($e: ID!) { publishEvent(id: $e) { id } }",
        json!({ "e": soon_event }),
    )
    .await;
    let h = hold(&app, &buyer, &soon_event, &tt, 1, "hold-soon").await;
    let order = app
        .ok(
            Some(&buyer),
            CHECKOUT,
            json!({ "h": h, "t": "tok_visa", "k": "checkout-soon" }),
        )
        .await;
    let order = str_of(&order["checkout"]["id"]);
    assert_eq!(
        app.err(Some(&buyer), REFUND, json!({ "o": order, "t": [] }))
            .await,
        "CONFLICT"
    );
    let by_organizer = app
        .ok(Some(&org), REFUND, json!({ "o": order, "t": [] }))
        .await;
    assert_eq!(by_organizer["refundOrder"]["status"], "REFUNDED");
    assert_money_consistent(&app).await;
}

/// The buyer and the organizer refund the same order at the same moment, round after
/// round, from spawned tasks behind a barrier (as from two replicas): one of them refunds
/// it, the other gets CONFLICT — before, the loser failed INTERNAL on the revocations'
/// unique key, or returned the stock a second time.
async fn refunds_fired_at_once_refund_once(app: TestApp) {
    let app = Arc::new(app);
    let org = app.organizer("twice-org@example.org").await;
    let (buyer, _, _) = app.sign_up("twice-buyer@example.org", "ATTENDEE").await;
    let (event, tt) = on_sale(&app, &org, 1000).await;
    for round in 0..8 {
        let h = hold(&app, &buyer, &event, &tt, 2, &format!("twice-hold-{round}")).await;
        let order = app
            .ok(
                Some(&buyer),
                CHECKOUT,
                json!({ "h": h, "t": "tok_visa", "k": format!("twice-pay-{round}") }),
            )
            .await;
        let order = str_of(&order["checkout"]["id"]);
        let barrier = Arc::new(tokio::sync::Barrier::new(2));
        let tasks: Vec<_> = [buyer.clone(), org.clone()]
            .into_iter()
            .map(|token| {
                let (app, barrier, order) = (app.clone(), barrier.clone(), order.clone());
                tokio::spawn(async move {
                    barrier.wait().await;
                    app.gql(Some(&token), REFUND, json!({ "o": order, "t": [] }))
                        .await
                })
            })
            .collect();
        let mut won = 0;
        for task in tasks {
            let answer = task.await.unwrap_or_else(|e| panic!("{e}"));
            match error_code(&answer).as_deref() {
                None => {
                    won += 1;
                    assert_eq!(answer["data"]["refundOrder"]["refundedMinor"], json!(2000));
                }
                Some("CONFLICT") => {}
                Some(other) => panic!("round {round}: the losing refund got {other}: {answer}"),
            }
        }
        assert_eq!(won, 1, "round {round}: exactly one refund goes through");
        let shown = app
            .ok(
                Some(&buyer),
                "query($id: ID!) { order(id: $id) { status refundedMinor } }",
                json!({ "id": order }),
            )
            .await;
        assert_eq!(shown["order"]["status"], json!("REFUNDED"));
        assert_eq!(shown["order"]["refundedMinor"], json!(2000));
        assert_money_consistent(&app).await;
    }
}

/// Once a ticket went through a door its buyer cannot refund it (its seat would go on sale
/// again while someone sits in it); its organizer still can, and the ticket is revoked.
async fn a_ticket_admitted_at_the_door_is_not_refundable_by_its_buyer(app: TestApp) {
    let org = app.organizer("door-org@example.org").await;
    let (buyer, _, _) = app.sign_up("door-buyer@example.org", "ATTENDEE").await;
    let (event, tt) = on_sale(&app, &org, 1000).await;
    let h = hold(&app, &buyer, &event, &tt, 2, "door-hold").await;
    let order = app
        .ok(
            Some(&buyer),
            CHECKOUT,
            json!({ "h": h, "t": "tok_visa", "k": "door-pay" }),
        )
        .await;
    let order_id = str_of(&order["checkout"]["id"]);
    let used = str_of(&order["checkout"]["tickets"][0]["id"]);
    let unused = str_of(&order["checkout"]["tickets"][1]["id"]);
    // A door on the event's list admits the first ticket online.
    let list = app
        .ok(
            Some(&org),
            "mutation($e: ID!, $i: CheckInListInput!) { createCheckInList(eventId: $e, input: $i) { id } }",
            json!({ "e": event, "i": { "name": "Main", "ticketTypeIds": [tt], "gates": ["north"], "reEntry": false } }),
        )
        .await;
    let pairing = app
        .ok(
            Some(&org),
            "mutation($l: ID!) { pairScanner(listId: $l) { code } }",
            json!({ "l": list["createCheckInList"]["id"] }),
        )
        .await;
    let device = app
        .ok(
            None,
            "mutation($c: String!) { redeemPairing(code: $c, deviceName: \"North\") { deviceToken } }",
            json!({ "c": pairing["pairScanner"]["code"] }),
        )
        .await;
    let scan = json!({ "id": uuid::Uuid::now_v7().to_string(), "ticketId": used,
        "deviceTime": chrono::Utc::now().to_rfc3339(), "gate": "north",
        "direction": "ENTRY", "decision": "ADMITTED" });
    let admitted = app
        .ok(
            None,
            "mutation($t: String!, $s: ScanInput!) { admitScan(deviceToken: $t, scan: $s) { decision } }",
            json!({ "t": device["redeemPairing"]["deviceToken"], "s": scan }),
        )
        .await;
    assert_eq!(admitted["admitScan"]["decision"], json!("ADMITTED"));

    // The buyer can refund neither the used ticket nor the whole order…
    for tickets in [json!([used]), json!([])] {
        assert_eq!(
            app.err(Some(&buyer), REFUND, json!({ "o": order_id, "t": tickets }))
                .await,
            "CONFLICT"
        );
    }
    // …but can refund the ticket nobody used.
    let partial = app
        .ok(
            Some(&buyer),
            REFUND,
            json!({ "o": order_id, "t": [unused] }),
        )
        .await;
    assert_eq!(partial["refundOrder"]["refundedMinor"], json!(1000));
    // The organizer may refund the used one; it is revoked.
    let all = app
        .ok(Some(&org), REFUND, json!({ "o": order_id, "t": [used] }))
        .await;
    assert_eq!(all["refundOrder"]["status"], json!("REFUNDED"));
    let statuses: Vec<&str> = all["refundOrder"]["tickets"]
        .as_array()
        .map(|t| t.iter().filter_map(|t| t["status"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(statuses, ["REVOKED", "REVOKED"]);
    assert_money_consistent(&app).await;
}

/// A buyer's refund and the organizer's cancellation of the event (which refunds every order)
/// fired at once, several rounds: the order is refunded once, for its total, whichever wins;
/// money and stock add up afterwards.
async fn a_refund_racing_the_events_cancellation_refunds_once(app: TestApp) {
    let app = Arc::new(app);
    let org = app.organizer("racing-cancel-org@example.org").await;
    let (buyer, _, _) = app
        .sign_up("racing-cancel-buyer@example.org", "ATTENDEE")
        .await;
    for round in 0..6 {
        let (event, order) = bought(&app, &org, &buyer, &format!("racing-cancel-{round}")).await;
        let barrier = Arc::new(tokio::sync::Barrier::new(2));
        let refund = {
            let (app, barrier, buyer, order) =
                (app.clone(), barrier.clone(), buyer.clone(), order.clone());
            tokio::spawn(async move {
                barrier.wait().await;
                app.gql(Some(&buyer), REFUND, json!({ "o": order, "t": [] }))
                    .await
            })
        };
        let cancel = {
            let (app, barrier, org, event) =
                (app.clone(), barrier.clone(), org.clone(), event.clone());
            tokio::spawn(async move {
                barrier.wait().await;
                app.gql(
                    Some(&org),
                    "mutation($e: ID!) { cancelEvent(id: $e) { status } }",
                    json!({ "e": event }),
                )
                .await
            })
        };
        let refund = refund.await.unwrap_or_else(|e| panic!("{e}"));
        let cancel = cancel.await.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            cancel["data"]["cancelEvent"]["status"],
            json!("CANCELLED"),
            "round {round}: {cancel}"
        );
        match error_code(&refund).as_deref() {
            None => assert_eq!(refund["data"]["refundOrder"]["refundedMinor"], json!(1000)),
            Some("CONFLICT") => {}
            Some(other) => panic!("round {round}: the buyer's refund got {other}: {refund}"),
        }
        // The cancellation's refunds that were still to do.
        let later = chrono::Utc::now().timestamp() + 60;
        guichet_server::checkout::resume(&app.state, later)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let shown = app
            .ok(
                Some(&buyer),
                "query($id: ID!) { order(id: $id) { status refundedMinor } }",
                json!({ "id": order }),
            )
            .await;
        assert_eq!(shown["order"]["status"], json!("REFUNDED"), "round {round}");
        assert_eq!(
            shown["order"]["refundedMinor"],
            json!(1000),
            "round {round}"
        );
        assert_money_consistent(&app).await;
        assert_stock_consistent(&app).await;
    }
}
