//! The organizer's attendee list: search by holder e-mail or name, pages, refunds shown,
//! other organizers and attendees refused.

use serde_json::{Value, json};

use crate::support::{TestApp, event_input, on_both, str_of};

on_both!(attendee_list_searches_pages_and_stays_private);

const ATTENDEES: &str = "query($e: ID!, $s: String, $f: Int!, $a: String) { attendees(eventId: $e, search: $s, first: $f, after: $a) { totalCount nodes { ticketId orderId ticketTypeName status holderName holderEmail } pageInfo { endCursor hasNextPage } } }";

/// A published event on sale now (ticket type capacity 50, 10 EUR).
async fn on_sale(app: &TestApp, org: &str) -> (String, String) {
    let data = app
        .ok(
            Some(org),
            "mutation($i: EventInput!) { createEvent(input: $i) { id } }",
            json!({ "i": event_input("Gala", 90) }),
        )
        .await;
    let event = str_of(&data["createEvent"]["id"]);
    let tt = app
        .ok(
            Some(org),
            "mutation($e: ID!, $t: TicketTypeInput!) { addTicketType(eventId: $e, input: $t) { id } }",
            json!({ "e": event, "t": { "name": "Seated", "priceMinor": 1000, "currency": "EUR",
                "capacity": 50, "saleStartsAt": "2020-01-01T00:00:00Z",
                "saleEndsAt": "2029-12-31T00:00:00Z", "maxPerOrder": 5 } }),
        )
        .await;
    app.ok(
        Some(org),
        "mutation($e: ID!) { publishEvent(id: $e) { id } }",
        json!({ "e": event }),
    )
    .await;
    (event, str_of(&tt["addTicketType"]["id"]))
}

/// A buyer with `quantity` tickets; returns (token, order id).
async fn buyer(
    app: &TestApp,
    email: &str,
    name: &str,
    event: &str,
    tt: &str,
    quantity: i64,
) -> (String, String) {
    let data = app
        .ok(
            None,
            "mutation($i: SignUpInput!) { signUp(input: $i) { accessToken } }",
            json!({ "i": { "email": email, "password": "a long enough password",
                           "displayName": name } }),
        )
        .await;
    let token = str_of(&data["signUp"]["accessToken"]);
    let hold = app
        .ok(
            Some(&token),
            "mutation($e: ID!, $t: ID!, $q: Int!, $k: String!) { holdTickets(eventId: $e, items: [{ticketTypeId: $t, quantity: $q}], idempotencyKey: $k) { id } }",
            json!({ "e": event, "t": tt, "q": quantity, "k": format!("hold-{}", email.replace('@', ".")) }),
        )
        .await;
    let order = app
        .ok(
            Some(&token),
            "mutation($h: ID!, $k: String!) { checkout(holdId: $h, payment: {token: \"tok_visa\"}, idempotencyKey: $k) { id status } }",
            json!({ "h": str_of(&hold["holdTickets"]["id"]), "k": format!("checkout-{}", email.replace('@', ".")) }),
        )
        .await;
    assert_eq!(order["checkout"]["status"], "COMPLETED");
    (token, str_of(&order["checkout"]["id"]))
}

async fn list(
    app: &TestApp,
    token: &str,
    event: &str,
    search: Value,
    first: i64,
    after: Value,
) -> Value {
    app.ok(
        Some(token),
        ATTENDEES,
        json!({ "e": event, "s": search, "f": first, "a": after }),
    )
    .await["attendees"]
        .clone()
}

fn emails(page: &Value) -> Vec<String> {
    page["nodes"]
        .as_array()
        .unwrap_or_else(|| panic!("no nodes: {page}"))
        .iter()
        .map(|n| str_of(&n["holderEmail"]))
        .collect()
}

async fn attendee_list_searches_pages_and_stays_private(app: TestApp) {
    let org = app.organizer("att-org@example.org").await;
    let (event, tt) = on_sale(&app, &org).await;
    let (ann, ann_order) = buyer(&app, "ann@example.org", "Ann Lee", &event, &tt, 2).await;
    buyer(&app, "bob@example.org", "Bob Marley", &event, &tt, 1).await;
    buyer(&app, "carla@example.net", "Carla 50%_Off", &event, &tt, 1).await;

    // Everyone: four tickets in issuance order, over two pages.
    let all = list(&app, &org, &event, Value::Null, 50, Value::Null).await;
    assert_eq!(all["totalCount"], 4);
    assert_eq!(
        emails(&all),
        [
            "ann@example.org",
            "ann@example.org",
            "bob@example.org",
            "carla@example.net"
        ]
    );
    assert_eq!(all["nodes"][0]["ticketTypeName"], "Seated");
    assert_eq!(all["nodes"][0]["holderName"], "Ann Lee");
    let first = list(&app, &org, &event, Value::Null, 3, Value::Null).await;
    assert_eq!(first["pageInfo"]["hasNextPage"], true);
    let rest = list(
        &app,
        &org,
        &event,
        Value::Null,
        3,
        first["pageInfo"]["endCursor"].clone(),
    )
    .await;
    assert_eq!(emails(&rest), ["carla@example.net"]);
    assert_eq!(rest["pageInfo"]["hasNextPage"], false);

    // Search by name or e-mail, any case; wildcards are plain characters.
    let found = list(&app, &org, &event, json!("MARLEY"), 50, Value::Null).await;
    assert_eq!(emails(&found), ["bob@example.org"]);
    assert_eq!(found["totalCount"], 1);
    let found = list(&app, &org, &event, json!("example.net"), 50, Value::Null).await;
    assert_eq!(emails(&found), ["carla@example.net"]);
    let found = list(&app, &org, &event, json!("50%_"), 50, Value::Null).await;
    assert_eq!(emails(&found), ["carla@example.net"]);
    let found = list(&app, &org, &event, json!("%"), 50, Value::Null).await;
    assert_eq!(emails(&found), ["carla@example.net"], "% is not a wildcard");
    let none = list(&app, &org, &event, json!("nobody"), 50, Value::Null).await;
    assert_eq!(none["totalCount"], 0);

    // A refund shows as REVOKED.
    app.ok(
        Some(&ann),
        "mutation($o: ID!) { refundOrder(orderId: $o) { status } }",
        json!({ "o": ann_order }),
    )
    .await;
    let ann_rows = list(&app, &org, &event, json!("ann@"), 50, Value::Null).await;
    let statuses: Vec<&Value> = ann_rows["nodes"]
        .as_array()
        .map(|nodes| nodes.iter().map(|n| &n["status"]).collect())
        .unwrap_or_default();
    assert_eq!(statuses, [&json!("REVOKED"), &json!("REVOKED")]);

    // Private: another organizer and a buyer are refused; bad pages are invalid input.
    let other = app.organizer("att-other@example.org").await;
    let vars = json!({ "e": event, "f": 10 });
    assert_eq!(
        app.err(Some(&other), ATTENDEES, vars.clone()).await,
        "FORBIDDEN"
    );
    assert_eq!(
        app.err(Some(&ann), ATTENDEES, vars.clone()).await,
        "FORBIDDEN"
    );
    assert_eq!(app.err(None, ATTENDEES, vars).await, "UNAUTHENTICATED");
    let vars = json!({ "e": event, "f": 0 });
    assert_eq!(app.err(Some(&org), ATTENDEES, vars).await, "INVALID_INPUT");
    let vars = json!({ "e": "no-such-event", "f": 10 });
    assert_eq!(app.err(Some(&org), ATTENDEES, vars).await, "NOT_FOUND");
}
