//! Holds never oversell, are idempotent by key, and give their stock back when released or
//! expired.

use guichet_server::db::audit::{Actor, AuditAction, AuditEntry};
use guichet_server::db::sessions::NewSession;
use std::sync::Arc;

use guichet_server::auth::{Principal, Role};
use guichet_server::db::accounts::UserRow;
use guichet_server::db::hold_batch::HoldBatcher;
use guichet_server::db::holds::{HoldOutcome, NewHold};
use serde_json::{Value, json};

use crate::support::{TestApp, error_code, event_input, on_both, str_of, ticket_input};

on_both!(
    hold_journey,
    last_tickets_race_sells_exactly_the_stock,
    bucketed_stock_never_goes_negative
);
on_both!(
    expired_holds_return_their_stock,
    a_batch_places_holds_in_order_all_lines_or_none,
    a_failing_batch_falls_back_one_by_one
);
on_both!(one_buyer_cannot_hoard_past_max_per_order);

const HOLD: &str = "mutation($e: ID!, $items: [HoldItemInput!]!, $k: String!) { holdTickets(eventId: $e, items: $items, idempotencyKey: $k) { id status totalMinor currency secondsLeft items { ticketTypeId quantity unitPriceMinor } } }";
const AVAILABLE: &str =
    "query($e: ID!) { event(id: $e) { ticketTypes { id available capacity } } }";

/// A published event with one ticket type of `capacity`; returns (event id, ticket type id).
async fn on_sale(app: &TestApp, org: &str, capacity: i64) -> (String, String) {
    let data = app
        .ok(
            Some(org),
            "mutation($i: EventInput!) { createEvent(input: $i) { id } }",
            json!({ "i": event_input("On sale", 30) }),
        )
        .await;
    let event = str_of(&data["createEvent"]["id"]);
    let mut ticket = ticket_input();
    ticket["capacity"] = json!(capacity);
    ticket["saleStartsAt"] = json!("2020-01-01T00:00:00Z");
    ticket["saleEndsAt"] = json!("2029-12-31T00:00:00Z");
    let tt = app.ok(Some(org), "mutation($e: ID!, $t: TicketTypeInput!) { addTicketType(eventId: $e, input: $t) { id } }", json!({ "e": event, "t": ticket })).await;
    app.ok(
        Some(org),
        "mutation($e: ID!) { publishEvent(id: $e) { id } }",
        json!({ "e": event }),
    )
    .await;
    (event, str_of(&tt["addTicketType"]["id"]))
}

async fn available(app: &TestApp, event: &str) -> i64 {
    app.ok(None, AVAILABLE, json!({ "e": event })).await["event"]["ticketTypes"][0]["available"]
        .as_i64()
        .unwrap_or(-1)
}

/// `n` buyers created straight in the database (no password hashing), with access tokens.
async fn buyers(app: &TestApp, n: usize) -> Vec<String> {
    let now = chrono::Utc::now().timestamp();
    let mut tokens = Vec::with_capacity(n);
    for i in 0..n {
        let id = uuid::Uuid::now_v7().to_string();
        let user = UserRow {
            id: id.clone(),
            email: format!("buyer{i}-{id}@example.org"),
            password_hash: "x".into(),
            display_name: "Buyer".into(),
            role: "attendee".into(),
            created_at: now,
        };
        app.db()
            .create_user(&user)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        // Every access token belongs to a live session.
        let session = uuid::Uuid::new_v4().to_string();
        let new_session = NewSession {
            id: &session,
            user_id: &id,
            refresh_hash: &session,
            now,
            refresh_expires_at: now + 3600,
            expires_at: now + 3600,
        };
        let entry = AuditEntry::new(
            &Actor::system(),
            AuditAction::LoginSucceeded,
            "session",
            Some(&session),
            now,
        );
        app.db()
            .start_session(&new_session, &entry)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let token = app.state.tokens.issue_access(
            &Principal {
                user_id: id,
                role: Role::Attendee,
                session_id: Some(session),
            },
            now,
        );
        tokens.push(token.unwrap_or_else(|| panic!("token")));
    }
    tokens
}

async fn hold_journey(app: TestApp) {
    let org = app.organizer("seller@example.org").await;
    let (event, tt) = on_sale(&app, &org, 10).await;
    let (buyer, _, _) = app.sign_up("buyer@example.org", "ATTENDEE").await;
    let items = json!([{ "ticketTypeId": tt, "quantity": 3 }]);
    let first = app
        .ok(
            Some(&buyer),
            HOLD,
            json!({ "e": event, "items": items, "k": "order-0001" }),
        )
        .await["holdTickets"]
        .clone();
    assert_eq!(first["status"], "ACTIVE");
    assert_eq!(
        (first["totalMinor"].as_i64(), first["currency"].as_str()),
        (Some(7500), Some("EUR"))
    );
    assert!((590..=600).contains(&first["secondsLeft"].as_i64().unwrap_or(0)));
    assert_eq!(available(&app, &event).await, 7);
    // A retry (lost response) returns the same hold and takes nothing more.
    let again = app
        .ok(
            Some(&buyer),
            HOLD,
            json!({ "e": event, "items": items, "k": "order-0001" }),
        )
        .await["holdTickets"]
        .clone();
    assert_eq!(again["id"], first["id"]);
    assert_eq!(available(&app, &event).await, 7);
    // The same key for another request is a conflict.
    let other = json!([{ "ticketTypeId": tt, "quantity": 2 }]);
    assert_eq!(
        app.err(
            Some(&buyer),
            HOLD,
            json!({ "e": event, "items": other, "k": "order-0001" })
        )
        .await,
        "CONFLICT"
    );
    // Only its buyer sees it.
    let hold_id = str_of(&first["id"]);
    let (stranger, _, _) = app.sign_up("stranger@example.org", "ATTENDEE").await;
    let q = "query($id: ID!) { hold(id: $id) { id } }";
    assert_eq!(
        app.ok(Some(&stranger), q, json!({ "id": hold_id })).await["hold"],
        Value::Null
    );
    assert_eq!(
        app.ok(Some(&buyer), q, json!({ "id": hold_id })).await["hold"]["id"],
        first["id"]
    );
    let release = "mutation($id: ID!) { releaseHold(id: $id) { status } }";
    assert_eq!(
        app.err(Some(&stranger), release, json!({ "id": hold_id }))
            .await,
        "NOT_FOUND"
    );
    assert_eq!(
        app.ok(Some(&buyer), release, json!({ "id": hold_id }))
            .await["releaseHold"]["status"],
        "RELEASED"
    );
    assert_eq!(available(&app, &event).await, 10);
    app.ok(Some(&buyer), release, json!({ "id": hold_id }))
        .await;
    assert_eq!(
        available(&app, &event).await,
        10,
        "releasing twice returns stock once"
    );

    // Refusals.
    let too_many = json!([{ "ticketTypeId": tt, "quantity": 7 }]);
    assert_eq!(
        app.err(
            Some(&buyer),
            HOLD,
            json!({ "e": event, "items": too_many, "k": "order-0002" })
        )
        .await,
        "INVALID_INPUT"
    );
    let split =
        json!([{ "ticketTypeId": tt, "quantity": 4 }, { "ticketTypeId": tt, "quantity": 3 }]);
    assert_eq!(
        app.err(
            Some(&buyer),
            HOLD,
            json!({ "e": event, "items": split, "k": "order-0003" })
        )
        .await,
        "INVALID_INPUT",
        "lines of one type add up"
    );
    let (other_event, other_tt) = on_sale(&app, &org, 5).await;
    let foreign = json!([{ "ticketTypeId": other_tt, "quantity": 1 }]);
    assert_eq!(
        app.err(
            Some(&buyer),
            HOLD,
            json!({ "e": event, "items": foreign, "k": "order-0004" })
        )
        .await,
        "INVALID_INPUT"
    );
    assert_eq!(
        app.err(
            None,
            HOLD,
            json!({ "e": event, "items": items, "k": "order-0005" })
        )
        .await,
        "UNAUTHENTICATED"
    );
    assert_eq!(
        app.err(
            Some(&buyer),
            HOLD,
            json!({ "e": event, "items": items, "k": "short" })
        )
        .await,
        "INVALID_INPUT"
    );
    app.ok(
        Some(&org),
        "mutation($e: ID!) { cancelEvent(id: $e) { id } }",
        json!({ "e": other_event }),
    )
    .await;
    let on_cancelled = json!([{ "ticketTypeId": other_tt, "quantity": 1 }]);
    assert_eq!(
        app.err(
            Some(&buyer),
            HOLD,
            json!({ "e": other_event, "items": on_cancelled, "k": "order-0006" })
        )
        .await,
        "CONFLICT"
    );
    // Capacity can grow, and shrink only into unsold stock.
    app.ok(Some(&buyer), HOLD, json!({ "e": event, "items": json!([{ "ticketTypeId": tt, "quantity": 6 }]), "k": "order-0007" })).await;
    let set_capacity = "mutation($id: ID!, $t: TicketTypeInput!) { updateTicketType(id: $id, input: $t) { capacity available } }";
    let mut ticket = ticket_input();
    ticket["saleStartsAt"] = json!("2020-01-01T00:00:00Z");
    ticket["capacity"] = json!(5);
    assert_eq!(
        app.err(Some(&org), set_capacity, json!({ "id": tt, "t": ticket }))
            .await,
        "CONFLICT"
    );
    ticket["capacity"] = json!(15);
    let grown = app
        .ok(Some(&org), set_capacity, json!({ "id": tt, "t": ticket }))
        .await;
    assert_eq!(grown["updateTicketType"]["available"], 9);
    crate::checkout::assert_stock_consistent(&app).await;
}

/// `buyers` clients race for `capacity` tickets, one each, through the real router.
async fn race(app: TestApp, capacity: i64, clients: usize) -> (TestApp, String, usize, usize) {
    let org = app.organizer("race@example.org").await;
    let (event, tt) = on_sale(&app, &org, capacity).await;
    let tokens = buyers(&app, clients).await;
    let app = Arc::new(app);
    let mut tasks = Vec::new();
    for (i, token) in tokens.into_iter().enumerate() {
        let (app, event, tt) = (app.clone(), event.clone(), tt.clone());
        tasks.push(tokio::spawn(async move {
            let vars = json!({ "e": event, "items": [{ "ticketTypeId": tt, "quantity": 1 }], "k": format!("race-key-{i:04}") });
            app.gql(Some(&token), HOLD, vars).await
        }));
    }
    let (mut held, mut sold_out) = (0, 0);
    for task in tasks {
        let response = task.await.unwrap_or_else(|e| panic!("{e}"));
        match error_code(&response).as_deref() {
            None => held += 1,
            Some("SOLD_OUT") => sold_out += 1,
            Some(other) => panic!("unexpected error {other}: {response}"),
        }
    }
    let app = Arc::into_inner(app).unwrap_or_else(|| panic!("tasks still hold the app"));
    (app, event, held, sold_out)
}

async fn last_tickets_race_sells_exactly_the_stock(app: TestApp) {
    let (app, event, held, sold_out) = race(app, 50, 500).await;
    assert_eq!((held, sold_out), (50, 450));
    assert_eq!(available(&app, &event).await, 0);
    // No orphan holds: once they expire, every ticket is back on sale.
    let later = chrono::Utc::now().timestamp() + 601;
    assert_eq!(
        app.db()
            .expire_holds(later)
            .await
            .unwrap_or_else(|e| panic!("{e}")),
        50
    );
    assert_eq!(available(&app, &event).await, 50);
    crate::checkout::assert_stock_consistent(&app).await;
}

async fn bucketed_stock_never_goes_negative(app: TestApp) {
    // 200 tickets in 3 buckets: the fast path drains buckets unevenly and the last sales
    // gather across buckets.
    let (app, event, held, sold_out) = race(app, 200, 260).await;
    assert_eq!((held, sold_out), (200, 60));
    assert_eq!(available(&app, &event).await, 0);
    let (n,): (i64,) = guichet_server::with_pool!(app.db(), |pool| {
        sqlx::query_as("SELECT COUNT(*) FROM inventory_buckets WHERE available < 0")
            .fetch_one(pool)
            .await
            .unwrap_or_else(|e| panic!("{e}"))
    });
    assert_eq!(n, 0);
    crate::checkout::assert_stock_consistent(&app).await;
}

async fn expired_holds_return_their_stock(app: TestApp) {
    let org = app.organizer("expiry@example.org").await;
    let (event, tt) = on_sale(&app, &org, 130).await;
    // Three buyers (one buyer may hold at most `maxPerOrder` = 6 at once).
    let mut buyers = Vec::new();
    let mut ids = Vec::new();
    for (i, q) in [5, 6, 4].into_iter().enumerate() {
        let (buyer, _, _) = app
            .sign_up(&format!("late-{i}@example.org"), "ATTENDEE")
            .await;
        let vars = json!({ "e": event, "items": [{ "ticketTypeId": tt, "quantity": q }], "k": format!("expiring-{i}") });
        ids.push(str_of(
            &app.ok(Some(&buyer), HOLD, vars).await["holdTickets"]["id"],
        ));
        buyers.push(buyer);
    }
    assert_eq!(available(&app, &event).await, 115);
    let now = chrono::Utc::now().timestamp();
    assert_eq!(
        app.db()
            .expire_holds(now)
            .await
            .unwrap_or_else(|e| panic!("{e}")),
        0,
        "nothing is due yet"
    );
    assert_eq!(
        app.db()
            .expire_holds(now + 601)
            .await
            .unwrap_or_else(|e| panic!("{e}")),
        3
    );
    assert_eq!(available(&app, &event).await, 130);
    assert_eq!(
        app.db()
            .expire_holds(now + 601)
            .await
            .unwrap_or_else(|e| panic!("{e}")),
        0,
        "expiry happens once"
    );
    let hold = app
        .ok(
            Some(&buyers[0]),
            "query($id: ID!) { hold(id: $id) { status secondsLeft } }",
            json!({ "id": ids[0] }),
        )
        .await;
    assert_eq!(hold["hold"]["status"], "EXPIRED");
    let release = "mutation($id: ID!) { releaseHold(id: $id) { status } }";
    assert_eq!(
        app.ok(Some(&buyers[1]), release, json!({ "id": ids[1] }))
            .await["releaseHold"]["status"],
        "EXPIRED"
    );
    assert_eq!(
        available(&app, &event).await,
        130,
        "releasing an expired hold returns nothing twice"
    );
    crate::checkout::assert_stock_consistent(&app).await;
}

/// A buyer created straight in the database; returns its id.
async fn buyer_id(app: &TestApp, name: &str) -> String {
    let id = uuid::Uuid::now_v7().to_string();
    let user = UserRow {
        id: id.clone(),
        email: format!("{name}-{id}@example.org"),
        password_hash: "x".into(),
        display_name: name.into(),
        role: "attendee".into(),
        created_at: 0,
    };
    app.db()
        .create_user(&user)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    id
}

fn new_hold(user: &str, event: &str, tt: &str, quantity: i64, key: &str) -> NewHold {
    let now = chrono::Utc::now().timestamp();
    NewHold {
        id: uuid::Uuid::now_v7().to_string(),
        user_id: user.into(),
        event_id: event.into(),
        items: vec![(tt.into(), quantity, 2500)],
        // These tests place holds straight in the store: no per-buyer limit in the way.
        limits: vec![i64::MAX / 2],
        currency: "EUR".into(),
        idempotency_key: key.into(),
        request_hash: format!("{event}|{tt}:{quantity};"),
        now,
        expires_at: now + 600,
    }
}

async fn allocated(app: &TestApp, hold_id: &str) -> (i64, i64) {
    guichet_server::with_pool!(app.db(), |pool| {
        sqlx::query_as(
            "SELECT CAST(COALESCE(SUM(quantity), 0) AS BIGINT), COUNT(*) FROM hold_allocations \
             WHERE hold_id = $1",
        )
        .bind(hold_id)
        .fetch_one(pool)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
    })
}

async fn a_batch_places_holds_in_order_all_lines_or_none(app: TestApp) {
    let org = app.organizer("batch@example.org").await;
    // 200 tickets in three buckets of 67, 67 and 66.
    let (event, tt) = on_sale(&app, &org, 200).await;
    let (a, b, c) = (
        buyer_id(&app, "a").await,
        buyer_id(&app, "b").await,
        buyer_id(&app, "c").await,
    );
    let first = new_hold(&a, &event, &tt, 150, "batch-key-a");
    let too_many = new_hold(&b, &event, &tt, 60, "batch-key-b");
    let retry_of_first = NewHold {
        id: uuid::Uuid::now_v7().to_string(),
        ..first.clone()
    };
    let last = new_hold(&c, &event, &tt, 50, "batch-key-c");
    let outcomes = app
        .db()
        .create_holds_batch(&[&first, &too_many, &retry_of_first, &last])
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let kinds: Vec<&str> = outcomes
        .iter()
        .map(|o| match o {
            Some(HoldOutcome::Held(..)) => "held",
            Some(HoldOutcome::SoldOut(_)) => "sold out",
            Some(HoldOutcome::KeyReused) => "key reused",
            Some(HoldOutcome::OverLimit(..)) => "over limit",
            None => "key taken",
        })
        .collect();
    // In arrival order: 150 taken across buckets, 60 of the 50 left refused, the retry's
    // key already taken, the last 50 served.
    assert_eq!(kinds, ["held", "sold out", "key taken", "held"]);
    assert_eq!(available(&app, &event).await, 0);
    let (quantity, rows) = allocated(&app, &first.id).await;
    assert_eq!(quantity, 150);
    assert!(
        rows >= 2,
        "150 of 67-ticket buckets must span buckets: {rows}"
    );
    assert_eq!(allocated(&app, &last.id).await.0, 50);
    // The refused hold left nothing behind, so its key is free for a later try.
    assert!(
        app.db()
            .hold(&too_many.id)
            .await
            .unwrap_or_else(|e| panic!("{e}"))
            .is_none()
    );
    assert!(
        app.db()
            .hold(&retry_of_first.id)
            .await
            .unwrap_or_else(|e| panic!("{e}"))
            .is_none()
    );
    // The retry is answered with the first hold.
    match app.db().create_hold(&retry_of_first).await {
        Ok(HoldOutcome::Held(row, lines)) => {
            assert_eq!(row.id, first.id);
            assert_eq!(lines[0].quantity, 150);
        }
        other => panic!("the retry should replay the first hold: {other:?}"),
    }
    let (negative,): (i64,) = guichet_server::with_pool!(app.db(), |pool| {
        sqlx::query_as("SELECT COUNT(*) FROM inventory_buckets WHERE available < 0")
            .fetch_one(pool)
            .await
            .unwrap_or_else(|e| panic!("{e}"))
    });
    assert_eq!(negative, 0);
    crate::checkout::assert_stock_consistent(&app).await;
}

async fn a_failing_batch_falls_back_one_by_one(app: TestApp) {
    let org = app.organizer("fallback@example.org").await;
    let (event, tt) = on_sale(&app, &org, 10).await;
    let good = buyer_id(&app, "good").await;
    let fine = new_hold(&good, &event, &tt, 2, "fallback-good");
    // No such buyer: its insert breaks the batch's foreign key.
    let broken = new_hold("no-such-user", &event, &tt, 2, "fallback-bad");
    let refused = app.db().create_holds_batch(&[&fine, &broken]).await;
    assert!(
        matches!(refused, Err(guichet_server::db::StoreError::Database(_))),
        "{refused:?}"
    );
    // The failed batch left nothing: no hold, no stock taken.
    assert!(
        app.db()
            .hold(&fine.id)
            .await
            .unwrap_or_else(|e| panic!("{e}"))
            .is_none()
    );
    assert_eq!(available(&app, &event).await, 10);
    // Through the batcher, both at once: the good hold is served whatever the batching.
    let batcher = Arc::new(HoldBatcher::new(app.db().clone(), true));
    let (ok, bad) = tokio::join!(
        batcher.create_hold(fine.clone()),
        batcher.create_hold(broken.clone())
    );
    assert!(matches!(ok, Ok(HoldOutcome::Held(..))), "{ok:?}");
    assert!(
        matches!(bad, Err(guichet_server::db::StoreError::Database(_))),
        "{bad:?}"
    );
    assert_eq!(available(&app, &event).await, 8);
    crate::checkout::assert_stock_consistent(&app).await;
}

/// `maxPerOrder` bounds what one buyer holds at once across all their holds, counting the
/// ones being paid for — not just each hold — also when the holds arrive together (one
/// batch) and through the one-by-one path. Before, one account held 120 tickets of a type
/// limited to 4 per order by opening 30 holds.
async fn one_buyer_cannot_hoard_past_max_per_order(app: TestApp) {
    let org = app.organizer("hoard-org@example.org").await;
    // ticket_input(): maxPerOrder 6.
    let (event, tt) = on_sale(&app, &org, 200).await;
    let (buyer, _, _) = app.sign_up("hoarder@example.org", "ATTENDEE").await;
    let hold = |q: i64, k: &str| json!({ "e": event, "items": [{ "ticketTypeId": tt, "quantity": q }], "k": k });
    let four = app.ok(Some(&buyer), HOLD, hold(4, "hoard-0001")).await;
    let two = app.ok(Some(&buyer), HOLD, hold(2, "hoard-0002")).await;
    assert_eq!(
        app.err(Some(&buyer), HOLD, hold(1, "hoard-0003")).await,
        "INVALID_INPUT"
    );
    // A retry of an accepted hold is still answered with that hold.
    let again = app.ok(Some(&buyer), HOLD, hold(2, "hoard-0002")).await;
    assert_eq!(again["holdTickets"]["id"], two["holdTickets"]["id"]);
    // Releasing makes room again.
    app.ok(
        Some(&buyer),
        "mutation($id: ID!) { releaseHold(id: $id) { status } }",
        json!({ "id": two["holdTickets"]["id"] }),
    )
    .await;
    app.ok(Some(&buyer), HOLD, hold(2, "hoard-0004")).await;
    // A hold being paid for still counts: this payment's outcome stays unknown.
    let paying = app
        .gql(
            Some(&buyer),
            "mutation($h: ID!, $k: String!) { checkout(holdId: $h, payment: {token: \"tok_timeout\"}, idempotencyKey: $k) { status } }",
            json!({ "h": four["holdTickets"]["id"], "k": "hoard-pay-1" }),
        )
        .await;
    assert_eq!(
        paying["data"]["checkout"]["status"],
        json!("PROCESSING"),
        "{paying}"
    );
    assert_eq!(
        app.err(Some(&buyer), HOLD, hold(1, "hoard-0005")).await,
        "INVALID_INPUT"
    );
    // Other buyers are not affected.
    let (other, _, _) = app.sign_up("neighbour@example.org", "ATTENDEE").await;
    app.ok(Some(&other), HOLD, hold(6, "hoard-other")).await;

    // Thirty one-ticket holds fired at once by one buyer: exactly six get through.
    let (greedy, _, _) = app.sign_up("greedy@example.org", "ATTENDEE").await;
    let app = Arc::new(app);
    let barrier = Arc::new(tokio::sync::Barrier::new(30));
    let mut tasks = Vec::new();
    for i in 0..30 {
        let (app, barrier, greedy) = (app.clone(), barrier.clone(), greedy.clone());
        let vars = hold(1, &format!("greedy-{i:04}"));
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            app.gql(Some(&greedy), HOLD, vars).await
        }));
    }
    let mut codes = std::collections::BTreeMap::new();
    for task in tasks {
        let response = task.await.unwrap_or_else(|e| panic!("{e}"));
        let code = error_code(&response).unwrap_or_else(|| "held".into());
        *codes.entry(code).or_insert(0) += 1;
    }
    assert_eq!(
        codes,
        std::collections::BTreeMap::from([
            ("INVALID_INPUT".to_owned(), 24),
            ("held".to_owned(), 6)
        ])
    );
    // 200 − (4 being paid + 2 + 6 + 6).
    assert_eq!(available(&app, &event).await, 182);
    crate::checkout::assert_stock_consistent(&app).await;
}
