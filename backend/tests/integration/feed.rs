//! The catalog change feed: every change exactly once across pages, deletions included.

use std::collections::{HashMap, HashSet};

use serde_json::{Value, json};

use crate::support::{TestApp, event_input, on_both, str_of, ticket_input};

on_both!(
    feed_returns_each_change_once_across_pages,
    feed_is_exact_under_concurrent_writers
);

const FEED: &str = "query($after: String, $first: Int) { catalogChanges(after: $after, first: $first) { cursor hasMore changes { cursor eventId event { title status ticketTypes { name } } } } }";

/// Pages through the feed from `cursor` with pages of `first`, returning changes and the end.
async fn drain(
    app: &TestApp,
    mut cursor: Option<String>,
    first: i32,
) -> (Vec<Value>, Option<String>) {
    let mut all = Vec::new();
    loop {
        let page = app
            .ok(None, FEED, json!({ "after": cursor, "first": first }))
            .await["catalogChanges"]
            .clone();
        let changes = page["changes"].as_array().cloned().unwrap_or_default();
        assert!(changes.len() <= usize::try_from(first).unwrap_or(0));
        all.extend(changes);
        cursor = Some(str_of(&page["cursor"]));
        if page["hasMore"] != true {
            return (all, cursor);
        }
    }
}

async fn feed_returns_each_change_once_across_pages(app: TestApp) {
    let org = app.organizer("feed@example.org").await;
    let a = app.event(&org, event_input("A", 1), true).await;
    let b = app.event(&org, event_input("B", 2), true).await;
    let c = app.event(&org, event_input("C", 3), true).await;
    app.event(&org, event_input("Draft D", 4), false).await;
    app.ok(
        Some(&org),
        "mutation($id: ID!) { updateEvent(id: $id, patch: {title: \"A2\"}) { id } }",
        json!({ "id": a }),
    )
    .await;
    app.ok(
        Some(&org),
        "mutation($id: ID!) { cancelEvent(id: $id) { id } }",
        json!({ "id": b }),
    )
    .await;
    app.ok(Some(&org), "mutation($id: ID!, $t: TicketTypeInput!) { addTicketType(eventId: $id, input: $t) { id } }", json!({ "id": c, "t": ticket_input() })).await;

    let (changes, end) = drain(&app, None, 1).await;
    let ids: Vec<String> = changes.iter().map(|c| str_of(&c["eventId"])).collect();
    assert_eq!(
        ids,
        [a.clone(), b.clone(), c.clone()],
        "each event once, at its latest change"
    );
    assert_eq!(changes[0]["event"]["title"], "A2");
    assert_eq!(
        changes[1]["event"]["status"], "CANCELLED",
        "cancellations reach the feed"
    );
    assert_eq!(
        changes[2]["event"]["ticketTypes"].as_array().map(Vec::len),
        Some(2)
    );
    let cursors: Vec<i64> = changes
        .iter()
        .map(|c| str_of(&c["cursor"]).parse().unwrap_or(-1))
        .collect();
    assert!(cursors.windows(2).all(|w| w[0] < w[1]));

    // Caught up: nothing new, cursor unchanged.
    let (none, same) = drain(&app, end.clone(), 10).await;
    assert!(none.is_empty());
    assert_eq!(same, end);
    // A later change is delivered once more, alone.
    app.ok(
        Some(&org),
        "mutation($id: ID!) { updateEvent(id: $id, patch: {title: \"C2\"}) { id } }",
        json!({ "id": c }),
    )
    .await;
    let (later, _) = drain(&app, end, 10).await;
    assert_eq!(later.len(), 1);
    assert_eq!(later[0]["event"]["title"], "C2");
    assert_eq!(
        app.err(None, FEED, json!({ "after": "-1" })).await,
        "INVALID_INPUT"
    );
    assert_eq!(
        app.err(None, FEED, json!({ "after": "1; DROP TABLE events" }))
            .await,
        "INVALID_INPUT"
    );
}

async fn feed_is_exact_under_concurrent_writers(app: TestApp) {
    let org = app.organizer("busy@example.org").await;
    let app = std::sync::Arc::new(app);
    let mut writers = Vec::new();
    for w in 0..3 {
        let (app, org) = (app.clone(), org.clone());
        writers.push(tokio::spawn(async move {
            let mut ids = Vec::new();
            for i in 0..8 {
                ids.push(
                    app.event(&org, event_input(&format!("W{w}-{i}"), i), true)
                        .await,
                );
            }
            ids
        }));
    }
    // Read while they write.
    let mut cursor: Option<String> = None;
    let mut seen: Vec<(i64, String)> = Vec::new();
    let mut published = HashSet::new();
    let mut done = false;
    while !done {
        done = writers.iter().all(|w| w.is_finished());
        let (changes, end) = drain(&app, cursor.clone(), 3).await;
        for c in changes {
            seen.push((
                str_of(&c["cursor"]).parse().unwrap_or(-1),
                str_of(&c["eventId"]),
            ));
        }
        cursor = end;
    }
    for w in writers {
        published.extend(w.await.unwrap_or_else(|e| panic!("writer: {e}")));
    }
    let (rest, _) = drain(&app, cursor, 3).await;
    assert!(
        rest.is_empty(),
        "changes appeared after the writers were done and drained: {rest:?}"
    );
    let ids: HashSet<&String> = seen.iter().map(|(_, id)| id).collect();
    assert_eq!(
        ids.len(),
        published.len(),
        "every published event was delivered"
    );
    assert_eq!(seen.len(), published.len(), "one publication, one delivery");
    assert!(published.iter().all(|id| ids.contains(id)));
    let mut per_seq: HashMap<i64, usize> = HashMap::new();
    for (seq, _) in &seen {
        *per_seq.entry(*seq).or_default() += 1;
    }
    assert!(
        per_seq.values().all(|n| *n == 1),
        "a change was delivered twice"
    );
    assert!(
        seen.windows(2).all(|w| w[0].0 < w[1].0),
        "feed order is by sequence number"
    );
}
