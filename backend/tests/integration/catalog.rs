//! Organizers own their events; the public sees only what is published.

use serde_json::json;

use crate::support::{TestApp, event_input, on_both, str_of, ticket_input};

on_both!(
    organizer_journey,
    nobody_else_can_touch_an_event,
    drafts_are_invisible_to_the_public
);
on_both!(an_event_with_sold_tickets_keeps_its_start_and_end);

async fn organizer_journey(app: TestApp) {
    let org = app.organizer("org@example.org").await;
    let id = app
        .event(&org, event_input("Jazz à Vienne", 10), false)
        .await;
    let patch = app
        .ok(
            Some(&org),
            "mutation($id: ID!, $p: EventPatch!) { updateEvent(id: $id, patch: $p) { title venue latitude status ticketTypes { name } } }",
            json!({ "id": id, "p": { "title": "Jazz à Vienne 2030", "latitude": null, "longitude": null } }),
        )
        .await;
    assert_eq!(patch["updateEvent"]["title"], "Jazz à Vienne 2030");
    assert_eq!(
        patch["updateEvent"]["venue"], "Hall",
        "absent fields keep their value"
    );
    assert_eq!(
        patch["updateEvent"]["latitude"],
        serde_json::Value::Null,
        "null clears"
    );
    assert_eq!(patch["updateEvent"]["status"], "DRAFT");
    let published = app
        .ok(
            Some(&org),
            "mutation($id: ID!) { publishEvent(id: $id) { status } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(published["publishEvent"]["status"], "PUBLISHED");
    let tt = app
        .ok(Some(&org), "{ myEvents { ticketTypes { id } } }", json!({}))
        .await;
    let tt_id = str_of(&tt["myEvents"][0]["ticketTypes"][0]["id"]);
    let mut input = ticket_input();
    input["priceMinor"] = json!(4000);
    let updated = app
        .ok(Some(&org), "mutation($id: ID!, $t: TicketTypeInput!) { updateTicketType(id: $id, input: $t) { priceMinor } }", json!({ "id": tt_id, "t": input }))
        .await;
    assert_eq!(updated["updateTicketType"]["priceMinor"], 4000);
    let cancelled = app
        .ok(
            Some(&org),
            "mutation($id: ID!) { cancelEvent(id: $id) { status } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(cancelled["cancelEvent"]["status"], "CANCELLED");
    // Cancelled is final.
    assert_eq!(
        app.err(
            Some(&org),
            "mutation($id: ID!) { publishEvent(id: $id) { status } }",
            json!({ "id": id })
        )
        .await,
        "CONFLICT"
    );
    assert_eq!(
        app.err(
            Some(&org),
            "mutation($id: ID!) { updateEvent(id: $id, patch: {title: \"x\"}) { id } }",
            json!({ "id": id })
        )
        .await,
        "CONFLICT"
    );
    // Publishing needs a ticket type.
    let bare = app
        .ok(
            Some(&org),
            "mutation($i: EventInput!) { createEvent(input: $i) { id } }",
            json!({ "i": event_input("Bare", 3) }),
        )
        .await;
    let bare = str_of(&bare["createEvent"]["id"]);
    assert_eq!(
        app.err(
            Some(&org),
            "mutation($id: ID!) { publishEvent(id: $id) { status } }",
            json!({ "id": bare })
        )
        .await,
        "CONFLICT"
    );
}

async fn nobody_else_can_touch_an_event(app: TestApp) {
    let owner = app.organizer("owner@example.org").await;
    let rival = app.organizer("rival@example.org").await;
    let (attendee, _, _) = app.sign_up("fan@example.org", "ATTENDEE").await;
    let id = app.event(&owner, event_input("Owned", 5), false).await;
    let tt = app
        .ok(
            Some(&owner),
            "{ myEvents { ticketTypes { id } } }",
            json!({}),
        )
        .await;
    let tt_id = str_of(&tt["myEvents"][0]["ticketTypes"][0]["id"]);
    let attempts = [
        (
            "mutation($id: ID!) { updateEvent(id: $id, patch: {title: \"Mine now\"}) { id } }",
            json!({ "id": id }),
        ),
        (
            "mutation($id: ID!) { publishEvent(id: $id) { id } }",
            json!({ "id": id }),
        ),
        (
            "mutation($id: ID!) { cancelEvent(id: $id) { id } }",
            json!({ "id": id }),
        ),
        (
            "mutation($id: ID!, $t: TicketTypeInput!) { addTicketType(eventId: $id, input: $t) { id } }",
            json!({ "id": id, "t": ticket_input() }),
        ),
        (
            "mutation($id: ID!, $t: TicketTypeInput!) { updateTicketType(id: $id, input: $t) { id } }",
            json!({ "id": tt_id, "t": ticket_input() }),
        ),
    ];
    for (query, vars) in &attempts {
        assert_eq!(
            app.err(Some(&rival), query, vars.clone()).await,
            "FORBIDDEN",
            "{query}"
        );
        assert_eq!(
            app.err(Some(&attendee), query, vars.clone()).await,
            "FORBIDDEN",
            "{query}"
        );
        assert_eq!(
            app.err(None, query, vars.clone()).await,
            "UNAUTHENTICATED",
            "{query}"
        );
    }
    assert_eq!(
        app.err(
            Some(&attendee),
            "mutation($i: EventInput!) { createEvent(input: $i) { id } }",
            json!({ "i": event_input("x", 1) })
        )
        .await,
        "FORBIDDEN"
    );
    let row = app
        .db()
        .event(&id)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .unwrap_or_else(|| panic!("gone"));
    assert_eq!(
        (row.title.as_str(), row.status.as_str()),
        ("Owned", "draft")
    );
    let tickets = app
        .db()
        .ticket_types_of(std::slice::from_ref(&id))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(tickets.len(), 1);
}

async fn drafts_are_invisible_to_the_public(app: TestApp) {
    let org = app.organizer("drafty@example.org").await;
    let draft = app.event(&org, event_input("Secret Draft", 4), false).await;
    let public = app.event(&org, event_input("Open Show", 4), true).await;
    let search = app
        .ok(None, "{ events(first: 50) { nodes { id } } }", json!({}))
        .await;
    let ids: Vec<&str> = search["events"]["nodes"]
        .as_array()
        .map(|a| a.iter().filter_map(|n| n["id"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(ids, vec![public.as_str()]);
    let by_text = app
        .ok(
            None,
            "{ events(filter: {text: \"secret\"}) { nodes { id } } }",
            json!({}),
        )
        .await;
    assert_eq!(by_text["events"]["nodes"], json!([]));
    let one = "query($id: ID!) { event(id: $id) { title } }";
    assert_eq!(
        app.ok(None, one, json!({ "id": draft })).await["event"],
        serde_json::Value::Null
    );
    let rival = app.organizer("peek@example.org").await;
    assert_eq!(
        app.ok(Some(&rival), one, json!({ "id": draft })).await["event"],
        serde_json::Value::Null
    );
    assert_eq!(
        app.ok(Some(&org), one, json!({ "id": draft })).await["event"]["title"],
        "Secret Draft"
    );
    let feed = app
        .ok(
            None,
            "{ catalogChanges { changes { eventId } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        feed["catalogChanges"]["changes"],
        json!([{ "eventId": public }])
    );
}

async fn an_event_with_sold_tickets_keeps_its_start_and_end(app: TestApp) {
    use crate::checkout::{CHECKOUT, REFUND, hold, on_sale};
    const UPDATE: &str = "mutation($id: ID!, $p: EventPatch!) { updateEvent(id: $id, patch: $p) { title startsAt endsAt } }";
    let org = app.organizer("reschedule@example.org").await;
    let (event, tt) = on_sale(&app, &org, 2500).await;
    let starts = "2030-03-02T19:00:00+00:00";
    let moved = app
        .ok(
            Some(&org),
            UPDATE,
            json!({ "id": event, "p": { "startsAt": starts } }),
        )
        .await;
    assert!(
        str_of(&moved["updateEvent"]["startsAt"]).starts_with("2030-03-02T19:00:00"),
        "before any sale the event may move: {moved}"
    );

    let (buyer, _, _) = app.sign_up("rescheduled@example.org", "ATTENDEE").await;
    let h = hold(&app, &buyer, &event, &tt, 1, "reschedule-hold").await;
    let order = app
        .ok(
            Some(&buyer),
            CHECKOUT,
            json!({ "h": h, "t": "tok_visa", "k": "reschedule-pay" }),
        )
        .await;
    let order_id = str_of(&order["checkout"]["id"]);
    let ticket = str_of(&order["checkout"]["tickets"][0]["id"]);

    for patch in [
        json!({ "startsAt": "2030-03-02T21:00:00Z" }),
        json!({ "endsAt": "2030-03-03T01:00:00Z" }),
        json!({ "startsAt": "2030-03-09T19:00:00Z", "endsAt": "2030-03-09T22:00:00Z" }),
    ] {
        let response = app
            .gql(Some(&org), UPDATE, json!({ "id": event, "p": patch }))
            .await;
        assert_eq!(
            crate::support::error_code(&response).as_deref(),
            Some("CONFLICT"),
            "{patch}"
        );
        assert!(
            response["errors"][0]["message"]
                .as_str()
                .is_some_and(|m| m.contains("sold tickets")),
            "{response}"
        );
    }
    // Nothing moved; other edits, and restating the same times, still go through.
    let kept = app
        .ok(
            Some(&org),
            UPDATE,
            json!({ "id": event, "p": { "title": "Renamed", "startsAt": starts } }),
        )
        .await;
    assert_eq!(kept["updateEvent"]["title"], "Renamed");
    assert!(str_of(&kept["updateEvent"]["startsAt"]).starts_with("2030-03-02T19:00:00"));

    // Once no ticket is valid any more, the event may move again.
    app.ok(Some(&org), REFUND, json!({ "o": order_id, "t": [ticket] }))
        .await;
    let moved = app
        .ok(
            Some(&org),
            UPDATE,
            json!({ "id": event, "p": { "startsAt": "2030-03-02T21:00:00Z" } }),
        )
        .await;
    assert!(str_of(&moved["updateEvent"]["startsAt"]).starts_with("2030-03-02T21:00:00"));
}
