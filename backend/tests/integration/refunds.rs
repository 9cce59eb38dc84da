//! Refund policies: each event says until when its buyers may refund; its organizer may
//! refund at any time.

use serde_json::json;

use crate::checkout::{CHECKOUT, REFUND, assert_money_consistent, hold, on_sale};
use crate::support::{TestApp, event_input, on_both, str_of, ticket_input};

on_both!(buyer_refunds_follow_the_events_policy);

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
