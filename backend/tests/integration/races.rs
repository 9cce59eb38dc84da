//! What buyers fire at once on one hold: a checkout, a release and the sweeper's expiry,
//! raced from spawned tasks behind a barrier, round after round. Whoever wins, stock adds up
//! (on sale + held + sold = capacity), every ticket issued was paid for, and the losers get
//! a code that says what happened (`HOLD_EXPIRED`, `CONFLICT`), never `INTERNAL`.
//!
//! On PostgreSQL this issued 55 tickets for 50 seats before checkout's move of the hold was
//! made conditional: the release's stock return and the order's insertion both went through.
//! `GUICHET_RACE_ROUNDS` sets the number of rounds (default 30).

use std::sync::Arc;

use serde_json::{Value, json};
use tokio::sync::Barrier;

use crate::checkout::{CHECKOUT, assert_money_consistent, assert_stock_consistent, on_sale_with};
use crate::support::{TestApp, error_code, on_both, str_of};

on_both!(release_expiry_and_checkout_of_one_hold_race);

const HOLD: &str = "mutation($e: ID!, $tt: ID!, $q: Int!, $k: String!) { holdTickets(eventId: $e, items: [{ticketTypeId: $tt, quantity: $q}], idempotencyKey: $k) { id } }";
const RELEASE: &str = "mutation($id: ID!) { releaseHold(id: $id) { id status } }";

fn rounds() -> usize {
    std::env::var("GUICHET_RACE_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(30)
}

/// What one racer saw.
#[derive(Debug)]
enum Seen {
    /// The checkout completed: tickets issued for `quantity`.
    Paid(i64),
    /// A checkout or release answered with this error code.
    Refused(String),
    /// A release or the expiry went through (or found nothing to do).
    Done,
}

async fn release_expiry_and_checkout_of_one_hold_race(app: TestApp) {
    let app = Arc::new(app);
    let org = app.organizer("race-org@example.org").await;
    let (event, tt) = on_sale_with(&app, &org, 1500, 1000).await;
    let mut buyers = Vec::new();
    for i in 0..6 {
        buyers.push(
            app.sign_up(&format!("race-{i}@example.org"), "ATTENDEE")
                .await
                .0,
        );
    }
    let mut sold = 0;
    for round in 0..rounds() {
        // Each buyer holds 1 or 2 tickets.
        let mut holds = Vec::new();
        for (b, buyer) in buyers.iter().enumerate() {
            let quantity = 1 + ((round + b) % 2) as i64;
            let vars =
                json!({ "e": event, "tt": tt, "q": quantity, "k": format!("race-{round}-{b}") });
            let answer = app.gql(Some(buyer), HOLD, vars).await;
            match error_code(&answer).as_deref() {
                None => holds.push((
                    buyer.clone(),
                    str_of(&answer["data"]["holdTickets"]["id"]),
                    quantity,
                )),
                Some("SOLD_OUT") => {}
                Some(other) => panic!("round {round}: hold refused with {other}: {answer}"),
            }
        }
        assert!(!holds.is_empty(), "round {round}: no hold placed");
        let barrier = Arc::new(Barrier::new(holds.len() * 3));
        let mut racers = Vec::new();
        for (h, (buyer, hold, quantity)) in holds.iter().enumerate() {
            let (app1, barrier1, buyer1, hold1) =
                (app.clone(), barrier.clone(), buyer.clone(), hold.clone());
            let quantity = *quantity;
            racers.push(tokio::spawn(async move {
                barrier1.wait().await;
                let vars =
                    json!({ "h": hold1, "t": "tok_visa", "k": format!("race-pay-{round}-{h}") });
                let answer = app1.gql(Some(&buyer1), CHECKOUT, vars).await;
                checkout_seen(&answer, quantity)
            }));
            let (app2, barrier2, buyer2, hold2) =
                (app.clone(), barrier.clone(), buyer.clone(), hold.clone());
            racers.push(tokio::spawn(async move {
                barrier2.wait().await;
                let answer = app2
                    .gql(Some(&buyer2), RELEASE, json!({ "id": hold2 }))
                    .await;
                match error_code(&answer) {
                    None => Seen::Done,
                    Some(code) => Seen::Refused(format!("{code} (release: {answer})")),
                }
            }));
            let (app3, barrier3, hold3) = (app.clone(), barrier.clone(), hold.clone());
            racers.push(tokio::spawn(async move {
                barrier3.wait().await;
                // What the sweeper does to a hold whose time is up.
                app3.db()
                    .end_hold(&hold3, "expired")
                    .await
                    .unwrap_or_else(|e| panic!("expiry failed: {e}"));
                Seen::Done
            }));
        }
        for racer in racers {
            match racer
                .await
                .unwrap_or_else(|e| panic!("racer panicked: {e}"))
            {
                Seen::Paid(quantity) => sold += quantity,
                Seen::Refused(code) => assert!(
                    code.starts_with("HOLD_EXPIRED") || code.starts_with("CONFLICT"),
                    "round {round}: a loser got {code}"
                ),
                Seen::Done => {}
            }
        }
        assert_stock_consistent(&app).await;
        let valid = valid_tickets(&app, &event).await;
        assert_eq!(
            valid, sold,
            "round {round}: tickets issued != tickets paid for"
        );
    }
    assert!(sold > 0, "no checkout ever won: the race proved nothing");
    assert_money_consistent(&app).await;
}

fn checkout_seen(answer: &Value, quantity: i64) -> Seen {
    match error_code(answer) {
        Some(code) => Seen::Refused(format!("{code} (checkout: {answer})")),
        None => {
            let order = &answer["data"]["checkout"];
            assert_eq!(order["status"], json!("COMPLETED"), "{answer}");
            let tickets = order["tickets"].as_array().map_or(0, Vec::len) as i64;
            assert_eq!(tickets, quantity, "{answer}");
            Seen::Paid(quantity)
        }
    }
}

async fn valid_tickets(app: &TestApp, event: &str) -> i64 {
    let (n,): (i64,) = guichet_server::with_pool!(app.db(), |pool| {
        sqlx::query_as(
            "SELECT CAST(COUNT(*) AS BIGINT) FROM tickets WHERE event_id = $1 AND status = 'valid'",
        )
        .bind(event)
        .fetch_one(pool)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
    });
    n
}
