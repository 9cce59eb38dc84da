//! The checkout saga end to end: payment outcomes, lost answers, crashes between steps,
//! issuance failure compensated by a refund, refunds — and after each, money and tickets
//! agree: every captured payment has tickets or a refund, every ticket a payment or a zero
//! price.

use std::collections::HashMap;

use guichet_domain::credential::Credential;
use guichet_domain::keyring::{EventKeyRing, KeyId, public_key_from_hex};
use serde_json::{Value, json};

use crate::support::{TestApp, event_input, on_both, str_of, ticket_input};

on_both!(
    checkout_journey,
    declined_payments_release_the_stock,
    lost_answers_and_restarts_never_charge_twice
);
on_both!(
    issuance_failure_is_compensated_by_a_refund,
    refunds_revoke_tickets_and_return_stock,
    free_tickets_skip_payment
);

on_both!(cancelling_an_event_refunds_its_orders, sales_report_adds_up);
on_both!(concurrent_duplicates_of_a_checkout_get_the_same_order);

const HOLD: &str = "mutation($e: ID!, $tt: ID!, $q: Int!, $k: String!) { holdTickets(eventId: $e, items: [{ticketTypeId: $tt, quantity: $q}], idempotencyKey: $k) { id status } }";
pub(crate) const CHECKOUT: &str = "mutation($h: ID!, $t: String!, $k: String!) { checkout(holdId: $h, payment: {token: $t}, idempotencyKey: $k) { id status totalMinor refundedMinor currency failure tickets { id status priceMinor } } }";
pub(crate) const REFUND: &str = "mutation($o: ID!, $t: [ID!]!) { refundOrder(orderId: $o, ticketIds: $t) { id status refundedMinor tickets { id status } } }";

/// A published event with one ticket type (capacity 20, `price` each).
pub(crate) async fn on_sale(app: &TestApp, org: &str, price: i64) -> (String, String) {
    on_sale_with(app, org, price, 20).await
}

/// A published event with one ticket type of `capacity`, `price` each.
pub(crate) async fn on_sale_with(
    app: &TestApp,
    org: &str,
    price: i64,
    capacity: i64,
) -> (String, String) {
    let data = app
        .ok(
            Some(org),
            "mutation($i: EventInput!) { createEvent(input: $i) { id } }",
            json!({ "i": event_input("Checkout", 60) }),
        )
        .await;
    let event = str_of(&data["createEvent"]["id"]);
    let mut ticket = ticket_input();
    ticket["capacity"] = json!(capacity);
    ticket["priceMinor"] = json!(price);
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

pub(crate) async fn hold(
    app: &TestApp,
    token: &str,
    event: &str,
    tt: &str,
    quantity: i64,
    key: &str,
) -> String {
    let data = app
        .ok(
            Some(token),
            HOLD,
            json!({ "e": event, "tt": tt, "q": quantity, "k": key }),
        )
        .await;
    str_of(&data["holdTickets"]["id"])
}

async fn available(app: &TestApp, event: &str) -> i64 {
    let data = app
        .ok(
            None,
            "query($e: ID!) { event(id: $e) { ticketTypes { available } } }",
            json!({ "e": event }),
        )
        .await;
    data["event"]["ticketTypes"][0]["available"]
        .as_i64()
        .unwrap_or(-1)
}

async fn hold_status(app: &TestApp, token: &str, id: &str) -> String {
    let data = app
        .ok(
            Some(token),
            "query($id: ID!) { hold(id: $id) { status } }",
            json!({ "id": id }),
        )
        .await;
    str_of(&data["hold"]["status"])
}

/// Money and tickets agree, per order: what the provider kept (captured − refunded) is the
/// price of the order's valid tickets; nothing is captured for an order without tickets
/// unless it was refunded in full.
pub(crate) async fn assert_money_consistent(app: &TestApp) {
    let charges = app.payments.charges();
    let mut kept: HashMap<String, i64> = HashMap::new();
    for charge in charges.values() {
        *kept.entry(charge.order_id.clone()).or_default() +=
            charge.captured_minor - charge.refunded_minor;
    }
    let rows: Vec<(String, i64)> = guichet_server::with_pool!(app.db(), |pool| {
        sqlx::query_as(
            "SELECT o.id, CAST(COALESCE(SUM(CASE WHEN t.status = 'valid' THEN t.price_minor ELSE 0 END), 0) AS BIGINT) \
             FROM orders o LEFT JOIN tickets t ON t.order_id = o.id GROUP BY o.id",
        )
        .fetch_all(pool)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
    });
    let orders: std::collections::HashSet<&str> = rows.iter().map(|r| r.0.as_str()).collect();
    for (order, valid_value) in &rows {
        let money = kept.get(order).copied().unwrap_or(0);
        assert_eq!(
            money, *valid_value,
            "order {order}: provider kept {money}, valid tickets worth {valid_value}"
        );
    }
    // The other direction: every payment the provider took belongs to an order we know.
    for charge in charges.values().filter(|c| c.captured_minor > 0) {
        assert!(
            orders.contains(charge.order_id.as_str()),
            "the provider captured {} for order {}, which does not exist",
            charge.captured_minor,
            charge.order_id
        );
    }
    assert_stock_consistent(app).await;
}

/// Stock adds up, per ticket type: what is on sale, what holds keep (active or being paid
/// for) and the valid tickets make the capacity, never more, never less.
pub(crate) async fn assert_stock_consistent(app: &TestApp) {
    let rows: Vec<(String, i64, i64, i64, i64)> = guichet_server::with_pool!(app.db(), |pool| {
        sqlx::query_as(
            "SELECT tt.id, tt.capacity, \
             CAST((SELECT COALESCE(SUM(b.available), 0) FROM inventory_buckets b \
               WHERE b.ticket_type_id = tt.id) AS BIGINT), \
             CAST((SELECT COALESCE(SUM(a.quantity), 0) FROM hold_allocations a \
               JOIN holds h ON h.id = a.hold_id WHERE a.ticket_type_id = tt.id \
               AND h.status IN ('active', 'converting')) AS BIGINT), \
             CAST((SELECT COUNT(*) FROM tickets t WHERE t.ticket_type_id = tt.id \
               AND t.status = 'valid') AS BIGINT) \
             FROM ticket_types tt",
        )
        .fetch_all(pool)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
    });
    for (tt, capacity, available, held, valid) in rows {
        assert_eq!(
            available + held + valid,
            capacity,
            "ticket type {tt}: {available} on sale + {held} held + {valid} sold \
             != capacity {capacity}"
        );
    }
}

async fn checkout_journey(app: TestApp) {
    let org = app.organizer("shop@example.org").await;
    let (event, tt) = on_sale(&app, &org, 2500).await;
    let (buyer, _, _) = app.sign_up("pay@example.org", "ATTENDEE").await;
    let hold_id = hold(&app, &buyer, &event, &tt, 2, "hold-000001").await;
    let vars = json!({ "h": hold_id, "t": "tok_visa", "k": "checkout-000001" });
    let order = app.ok(Some(&buyer), CHECKOUT, vars.clone()).await["checkout"].clone();
    assert_eq!(order["status"], "COMPLETED");
    assert_eq!(order["totalMinor"], 5000);
    assert_eq!(order["tickets"].as_array().map(Vec::len), Some(2));
    assert!(
        order["tickets"]
            .as_array()
            .into_iter()
            .flatten()
            .all(|t| t["status"] == "VALID" && t["priceMinor"] == 2500)
    );
    // A retry after a lost response: the same order, no second charge.
    let again = app.ok(Some(&buyer), CHECKOUT, vars).await["checkout"].clone();
    assert_eq!(again["id"], order["id"]);
    assert_eq!(app.payments.charges().len(), 1);
    assert_eq!(
        app.payments
            .charges()
            .values()
            .map(|c| c.captured_minor)
            .sum::<i64>(),
        5000
    );
    // The same key for another request, a second checkout of the same hold.
    let other = json!({ "h": hold_id, "t": "tok_declined", "k": "checkout-000001" });
    assert_eq!(app.err(Some(&buyer), CHECKOUT, other).await, "CONFLICT");
    let second = json!({ "h": hold_id, "t": "tok_visa", "k": "checkout-000002" });
    assert_eq!(app.err(Some(&buyer), CHECKOUT, second).await, "CONFLICT");
    assert_eq!(hold_status(&app, &buyer, &hold_id).await, "CONVERTED");
    assert_eq!(available(&app, &event).await, 18, "sold tickets stay sold");
    // Nobody else can check out a buyer's hold.
    let (thief, _, _) = app.sign_up("thief@example.org", "ATTENDEE").await;
    let h2 = hold(&app, &buyer, &event, &tt, 1, "hold-000002").await;
    assert_eq!(
        app.err(
            Some(&thief),
            CHECKOUT,
            json!({ "h": h2, "t": "tok_visa", "k": "checkout-000003" })
        )
        .await,
        "NOT_FOUND"
    );
    let mine = app
        .ok(
            Some(&buyer),
            "{ myOrders { id status } myTickets { id status orderId } }",
            json!({}),
        )
        .await;
    assert_eq!(mine["myOrders"].as_array().map(Vec::len), Some(1));
    assert_eq!(mine["myTickets"].as_array().map(Vec::len), Some(2));
    assert_eq!(
        app.ok(Some(&thief), "{ myTickets { id } }", json!({}))
            .await["myTickets"],
        json!([])
    );
    // Every ticket carries a credential signed by the event's published key, certifying
    // exactly this ticket, event and type.
    let wallet = app
        .ok(
            Some(&buyer),
            "{ myTickets { id eventId ticketTypeId credential } }",
            json!({}),
        )
        .await;
    let keys = app
        .ok(
            None,
            "query($e: ID!) { eventKeys(eventId: $e) { keyId status publicKey } }",
            json!({ "e": event }),
        )
        .await;
    assert_eq!(keys["eventKeys"].as_array().map(Vec::len), Some(1));
    assert_eq!(keys["eventKeys"][0]["status"], "ACTIVE");
    let event_uuid = uuid::Uuid::parse_str(&event).unwrap_or_else(|e| panic!("{e}"));
    let mut ring = EventKeyRing::new(event_uuid);
    let key_id = u32::try_from(keys["eventKeys"][0]["keyId"].as_i64().unwrap_or(0)).unwrap_or(0);
    let public = public_key_from_hex(&str_of(&keys["eventKeys"][0]["publicKey"]))
        .unwrap_or_else(|e| panic!("{e}"));
    ring.rotate(KeyId(key_id), public)
        .unwrap_or_else(|e| panic!("{e}"));
    for t in wallet["myTickets"].as_array().into_iter().flatten() {
        let credential =
            Credential::parse(&str_of(&t["credential"])).unwrap_or_else(|e| panic!("{e}"));
        ring.verify(&credential)
            .unwrap_or_else(|e| panic!("signature: {e}"));
        let claims = credential.claims();
        assert_eq!(claims.ticket_id.to_string(), str_of(&t["id"]));
        assert_eq!(claims.event_id, event_uuid);
        assert_eq!(claims.ticket_type_id.to_string(), tt);
    }
    // The private key is stored sealed, never as its public-key-derivable seed in clear.
    let (sealed,): (String,) = guichet_server::with_pool!(app.db(), |pool| {
        sqlx::query_as("SELECT sealed_secret FROM event_keys")
            .fetch_one(pool)
            .await
            .unwrap_or_else(|e| panic!("{e}"))
    });
    assert!(sealed.len() > 60 && !sealed.contains(&str_of(&keys["eventKeys"][0]["publicKey"])));
    let outbox: (i64,) = guichet_server::with_pool!(app.db(), |pool| {
        sqlx::query_as("SELECT COUNT(*) FROM outbox WHERE topic = 'order.completed'")
            .fetch_one(pool)
            .await
            .unwrap_or_else(|e| panic!("{e}"))
    });
    assert_eq!(outbox.0, 1, "one confirmation queued");
    assert_money_consistent(&app).await;
}

async fn declined_payments_release_the_stock(app: TestApp) {
    let org = app.organizer("declines@example.org").await;
    let (event, tt) = on_sale(&app, &org, 1000).await;
    let (buyer, _, _) = app.sign_up("broke@example.org", "ATTENDEE").await;
    for (i, token) in [
        "tok_declined",
        "tok_insufficient_funds",
        "tok_requires_action",
        "tok_unknown",
    ]
    .into_iter()
    .enumerate()
    {
        let hold_id = hold(&app, &buyer, &event, &tt, 3, &format!("hold-decl-{i}")).await;
        assert_eq!(available(&app, &event).await, 17);
        let vars = json!({ "h": hold_id, "t": token, "k": format!("checkout-decl-{i}") });
        assert_eq!(
            app.err(Some(&buyer), CHECKOUT, vars.clone()).await,
            "PAYMENT_DECLINED",
            "{token}"
        );
        assert_eq!(
            available(&app, &event).await,
            20,
            "{token}: stock back on sale"
        );
        assert_eq!(hold_status(&app, &buyer, &hold_id).await, "RELEASED");
        // Retrying the declined checkout says the same, and charges nothing.
        assert_eq!(
            app.err(Some(&buyer), CHECKOUT, vars).await,
            "PAYMENT_DECLINED"
        );
    }
    let orders = app
        .ok(Some(&buyer), "{ myOrders { status failure } }", json!({}))
        .await;
    assert!(
        orders["myOrders"]
            .as_array()
            .into_iter()
            .flatten()
            .all(|o| o["status"] == "DECLINED" && o["failure"].is_string())
    );
    assert!(
        app.payments
            .charges()
            .values()
            .all(|c| c.captured_minor == 0)
    );
    // An expired hold cannot be checked out.
    let hold_id = hold(&app, &buyer, &event, &tt, 1, "hold-expired").await;
    app.db()
        .expire_holds(chrono::Utc::now().timestamp() + 601)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        app.err(
            Some(&buyer),
            CHECKOUT,
            json!({ "h": hold_id, "t": "tok_visa", "k": "checkout-expired" })
        )
        .await,
        "HOLD_EXPIRED"
    );
    assert_money_consistent(&app).await;
}

async fn lost_answers_and_restarts_never_charge_twice(app: TestApp) {
    let org = app.organizer("flaky@example.org").await;
    let (event, tt) = on_sale(&app, &org, 4000).await;
    let (buyer, _, _) = app.sign_up("patient@example.org", "ATTENDEE").await;
    // Capture done, answer lost once: the saga retries the capture with the same key.
    let h = hold(&app, &buyer, &event, &tt, 1, "hold-lost-1").await;
    let order = app
        .ok(
            Some(&buyer),
            CHECKOUT,
            json!({ "h": h, "t": "tok_capture_timeout", "k": "checkout-lost-1" }),
        )
        .await;
    assert_eq!(order["checkout"]["status"], "COMPLETED");
    // Authorisation answer lost: the order waits; the recovery pass finishes it.
    let h = hold(&app, &buyer, &event, &tt, 1, "hold-lost-2").await;
    let order = app
        .ok(
            Some(&buyer),
            CHECKOUT,
            json!({ "h": h, "t": "tok_timeout", "k": "checkout-lost-2" }),
        )
        .await;
    assert_eq!(order["checkout"]["status"], "PROCESSING");
    // The provider stops answering captures, and the server dies mid-saga.
    app.payments.fail_next_captures(3);
    let h = hold(&app, &buyer, &event, &tt, 2, "hold-crash").await;
    let order = app
        .ok(
            Some(&buyer),
            CHECKOUT,
            json!({ "h": h, "t": "tok_visa", "k": "checkout-crash" }),
        )
        .await;
    assert_eq!(order["checkout"]["status"], "PROCESSING");
    assert_eq!(hold_status(&app, &buyer, &h).await, "CHECKING_OUT");
    // The sweeper never expires a hold under a payment.
    app.db()
        .expire_holds(chrono::Utc::now().timestamp() + 601)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(hold_status(&app, &buyer, &h).await, "CHECKING_OUT");
    let (_, restarted) = app.restart().await;
    let later = chrono::Utc::now().timestamp() + 60;
    let finished = guichet_server::checkout::resume(&restarted, later)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(finished, 2);
    let orders = app
        .ok(
            Some(&buyer),
            "{ myOrders { status tickets { id } } }",
            json!({}),
        )
        .await;
    let statuses: Vec<&str> = orders["myOrders"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|o| o["status"].as_str())
        .collect();
    assert_eq!(statuses, ["COMPLETED", "COMPLETED", "COMPLETED"]);
    assert_eq!(
        app.ok(Some(&buyer), "{ myTickets { id } }", json!({}))
            .await["myTickets"]
            .as_array()
            .map(Vec::len),
        Some(4)
    );
    assert_eq!(
        app.payments.charges().len(),
        3,
        "one intent per order, whatever the retries"
    );
    assert_eq!(available(&app, &event).await, 16);
    // A second recovery pass finds nothing to do.
    assert_eq!(
        guichet_server::checkout::resume(&restarted, later)
            .await
            .unwrap_or_else(|e| panic!("{e}")),
        0
    );
    assert_money_consistent(&app).await;
}

async fn issuance_failure_is_compensated_by_a_refund(app: TestApp) {
    let org = app.organizer("broken@example.org").await;
    let (event, tt) = on_sale(&app, &org, 3000).await;
    let (buyer, _, _) = app.sign_up("unlucky@example.org", "ATTENDEE").await;
    // Inject a storage failure exactly at ticket issuance, after the capture.
    guichet_server::with_pool!(app.db(), |pool| {
        let statements: &[&'static str] = if matches!(app.db(), guichet_server::db::Db::Sqlite(_)) {
            &[
                "CREATE TRIGGER no_tickets BEFORE INSERT ON tickets BEGIN SELECT RAISE(ABORT, 'injected fault'); END",
            ]
        } else {
            &[
                "CREATE FUNCTION no_tickets() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'injected fault'; END $$ LANGUAGE plpgsql",
                "CREATE TRIGGER no_tickets BEFORE INSERT ON tickets FOR EACH ROW EXECUTE FUNCTION no_tickets()",
            ]
        };
        for sql in statements {
            sqlx::query(*sql)
                .execute(pool)
                .await
                .unwrap_or_else(|e| panic!("{e}"));
        }
    });
    let h = hold(&app, &buyer, &event, &tt, 2, "hold-broken").await;
    let order = app
        .ok(
            Some(&buyer),
            CHECKOUT,
            json!({ "h": h, "t": "tok_visa", "k": "checkout-broken" }),
        )
        .await["checkout"]
        .clone();
    assert_eq!(order["status"], "REFUNDED");
    assert_eq!(order["refundedMinor"], 6000);
    assert_eq!(order["tickets"], json!([]));
    let charge = app
        .payments
        .charges()
        .into_values()
        .next()
        .unwrap_or_default();
    assert_eq!((charge.captured_minor, charge.refunded_minor), (6000, 6000));
    assert_eq!(available(&app, &event).await, 20, "stock back on sale");
    assert_money_consistent(&app).await;
}

async fn refunds_revoke_tickets_and_return_stock(app: TestApp) {
    let org = app.organizer("refunds@example.org").await;
    let (event, tt) = on_sale(&app, &org, 2000).await;
    let (buyer, _, _) = app.sign_up("regret@example.org", "ATTENDEE").await;
    let h = hold(&app, &buyer, &event, &tt, 3, "hold-refund").await;
    let order = app
        .ok(
            Some(&buyer),
            CHECKOUT,
            json!({ "h": h, "t": "tok_visa", "k": "checkout-refund" }),
        )
        .await["checkout"]
        .clone();
    let order_id = str_of(&order["id"]);
    let first = str_of(&order["tickets"][0]["id"]);
    let (stranger, _, _) = app.sign_up("nosy@example.org", "ATTENDEE").await;
    assert_eq!(
        app.err(Some(&stranger), REFUND, json!({ "o": order_id, "t": [] }))
            .await,
        "NOT_FOUND"
    );
    let partial = app
        .ok(Some(&buyer), REFUND, json!({ "o": order_id, "t": [first] }))
        .await["refundOrder"]
        .clone();
    assert_eq!(partial["status"], "COMPLETED");
    assert_eq!(partial["refundedMinor"], 2000);
    let revoked: Vec<&Value> = partial["tickets"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|t| t["status"] == "REVOKED")
        .collect();
    assert_eq!(revoked.len(), 1);
    assert_eq!(available(&app, &event).await, 18);
    // The revocation is recorded for scanners.
    let (n,): (i64,) = guichet_server::with_pool!(app.db(), |pool| {
        sqlx::query_as("SELECT COUNT(*) FROM revocations")
            .fetch_one(pool)
            .await
            .unwrap_or_else(|e| panic!("{e}"))
    });
    assert_eq!(n, 1);
    // The organizer refunds the rest.
    let rest = app
        .ok(Some(&org), REFUND, json!({ "o": order_id, "t": [] }))
        .await["refundOrder"]
        .clone();
    assert_eq!(
        (rest["status"].as_str(), rest["refundedMinor"].as_i64()),
        (Some("REFUNDED"), Some(6000))
    );
    assert_eq!(
        app.err(Some(&buyer), REFUND, json!({ "o": order_id, "t": [] }))
            .await,
        "CONFLICT"
    );
    assert_eq!(available(&app, &event).await, 20);
    let charge = app
        .payments
        .charges()
        .into_values()
        .next()
        .unwrap_or_default();
    assert_eq!(charge.refunded_minor, 6000);
    assert_money_consistent(&app).await;
}

/// The report's SQL differs in places between engines (casts, day arithmetic): on both.
async fn sales_report_adds_up(app: TestApp) {
    let org = app.organizer("report@example.org").await;
    let (event, tt) = on_sale(&app, &org, 1500).await;
    let (buyer, _, _) = app.sign_up("fan1@example.org", "ATTENDEE").await;
    let h = hold(&app, &buyer, &event, &tt, 3, "hold-report-1").await;
    let order = app
        .ok(
            Some(&buyer),
            CHECKOUT,
            json!({ "h": h, "t": "tok_visa", "k": "checkout-report" }),
        )
        .await["checkout"]
        .clone();
    let one = str_of(&order["tickets"][0]["id"]);
    app.ok(Some(&org), REFUND, json!({ "o": order["id"], "t": [one] }))
        .await;
    hold(&app, &buyer, &event, &tt, 4, "hold-report-2").await;
    let q = "query($e: ID!) { salesReport(eventId: $e) { currency sold held revenueMinor byTicketType { name capacity sold refunded held revenueMinor } byDay { sold revenueMinor } } }";
    let report = app.ok(Some(&org), q, json!({ "e": event })).await["salesReport"].clone();
    assert_eq!(report["currency"], "EUR");
    assert_eq!(
        (
            report["sold"].as_i64(),
            report["held"].as_i64(),
            report["revenueMinor"].as_i64()
        ),
        (Some(2), Some(4), Some(3000))
    );
    assert_eq!(report["byTicketType"][0]["refunded"], 1);
    assert_eq!(report["byTicketType"][0]["capacity"], 20);
    assert_eq!(
        report["byDay"],
        json!([{ "sold": 2, "revenueMinor": 3000 }])
    );
    // Sold + held + on sale = capacity, as the report and the catalog show them.
    assert_eq!(available(&app, &event).await, 20 - 2 - 4);
    assert_stock_consistent(&app).await;
    assert_eq!(
        app.err(Some(&buyer), q, json!({ "e": event })).await,
        "FORBIDDEN"
    );
    let rival = app.organizer("rival-report@example.org").await;
    assert_eq!(
        app.err(Some(&rival), q, json!({ "e": event })).await,
        "FORBIDDEN"
    );
}

async fn free_tickets_skip_payment(app: TestApp) {
    let org = app.organizer("free@example.org").await;
    let (event, tt) = on_sale(&app, &org, 0).await;
    let (buyer, _, _) = app.sign_up("gratis@example.org", "ATTENDEE").await;
    let h = hold(&app, &buyer, &event, &tt, 2, "hold-free").await;
    let q = "mutation($h: ID!, $k: String!) { checkout(holdId: $h, idempotencyKey: $k) { status totalMinor tickets { id } } }";
    let order = app
        .ok(Some(&buyer), q, json!({ "h": h, "k": "checkout-free" }))
        .await["checkout"]
        .clone();
    assert_eq!(
        (order["status"].as_str(), order["totalMinor"].as_i64()),
        (Some("COMPLETED"), Some(0))
    );
    assert_eq!(order["tickets"].as_array().map(Vec::len), Some(2));
    assert!(
        app.payments.charges().is_empty(),
        "no provider call for a free order"
    );
    assert_money_consistent(&app).await;
}

async fn cancelling_an_event_refunds_its_orders(app: TestApp) {
    let org = app.organizer("calloff@example.org").await;
    let (event, tt) = on_sale(&app, &org, 2500).await;
    let (buyer, _, _) = app.sign_up("disappointed@example.org", "ATTENDEE").await;
    let h = hold(&app, &buyer, &event, &tt, 2, "hold-calloff-1").await;
    let done = app
        .ok(
            Some(&buyer),
            CHECKOUT,
            json!({ "h": h, "t": "tok_visa", "k": "checkout-calloff-1" }),
        )
        .await;
    assert_eq!(done["checkout"]["status"], "COMPLETED");
    // A second order is mid-payment (captures failing) when the event is called off.
    app.payments.fail_next_captures(3);
    let h2 = hold(&app, &buyer, &event, &tt, 1, "hold-calloff-2").await;
    let pending = app
        .ok(
            Some(&buyer),
            CHECKOUT,
            json!({ "h": h2, "t": "tok_visa", "k": "checkout-calloff-2" }),
        )
        .await;
    assert_eq!(pending["checkout"]["status"], "PROCESSING");
    app.ok(
        Some(&org),
        "mutation($e: ID!) { cancelEvent(id: $e) { status } }",
        json!({ "e": event }),
    )
    .await;
    let later = chrono::Utc::now().timestamp() + 60;
    guichet_server::checkout::resume(&app.state, later)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let orders = app
        .ok(
            Some(&buyer),
            "{ myOrders { status refundedMinor tickets { status } } }",
            json!({}),
        )
        .await;
    let orders = orders["myOrders"].as_array().cloned().unwrap_or_default();
    assert_eq!(orders.len(), 2);
    for o in &orders {
        assert_eq!(o["status"], "REFUNDED", "{o}");
        assert!(
            o["tickets"]
                .as_array()
                .into_iter()
                .flatten()
                .all(|t| t["status"] == "REVOKED")
        );
    }
    let refunded: i64 = orders
        .iter()
        .filter_map(|o| o["refundedMinor"].as_i64())
        .sum();
    assert_eq!(refunded, 7500);
    let charges = app.payments.charges();
    assert_eq!(
        charges.values().map(|c| c.refunded_minor).sum::<i64>(),
        charges.values().map(|c| c.captured_minor).sum::<i64>()
    );
    assert_money_consistent(&app).await;
}

/// The same checkout (same key) delivered several times at once, as a client's retry racing
/// its first attempt: every delivery answers with the one order, charged once. Each delivery
/// is its own task, released together by a barrier, so they really run at once on the
/// runtime's threads.
async fn concurrent_duplicates_of_a_checkout_get_the_same_order(app: TestApp) {
    let app = std::sync::Arc::new(app);
    let org = app.organizer("dupe-org@example.org").await;
    let (event, tt) = on_sale(&app, &org, 1500).await;
    let (buyer, _, _) = app.sign_up("dupe-buyer@example.org", "ATTENDEE").await;
    for round in 0..5 {
        let hold_id = hold(&app, &buyer, &event, &tt, 1, &format!("dupe-hold-{round}")).await;
        let key = format!("dupe-checkout-{round}");
        let vars = json!({ "h": hold_id, "t": "tok_visa", "k": key });
        let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(3));
        let deliveries: Vec<_> = (0..3)
            .map(|_| {
                let (app, barrier, buyer, vars) =
                    (app.clone(), barrier.clone(), buyer.clone(), vars.clone());
                tokio::spawn(async move {
                    barrier.wait().await;
                    app.gql(Some(&buyer), CHECKOUT, vars).await
                })
            })
            .collect();
        let mut ids = Vec::new();
        for delivery in deliveries {
            let a = delivery.await.unwrap_or_else(|e| panic!("{e}"));
            assert!(a.get("errors").is_none(), "round {round}: {a}");
            assert_eq!(
                a["data"]["checkout"]["status"],
                json!("COMPLETED"),
                "round {round}"
            );
            ids.push(str_of(&a["data"]["checkout"]["id"]));
        }
        assert!(ids.iter().all(|id| *id == ids[0]), "round {round}: {ids:?}");
    }
    let captured: Vec<_> = app
        .payments
        .charges()
        .into_values()
        .filter(|c| c.captured_minor > 0)
        .collect();
    assert_eq!(captured.len(), 5);
    // Five orders of one ticket each: 5 sold, nothing held, 15 on sale.
    assert_eq!(available(&app, &event).await, 15);
    assert_money_consistent(&app).await;
}
