//! Public search: prefix, accents, date range, distance, order, and stable pagination.

use std::collections::HashSet;

use serde_json::{Value, json};

use crate::support::{TestApp, event_input, on_both, str_of};

on_both!(
    search_finds_the_right_events_in_order,
    pagination_is_stable_under_concurrent_inserts
);

const SEARCH: &str = "query($f: EventFilter, $first: Int = 20, $after: String) { events(filter: $f, first: $first, after: $after) { nodes { id title distanceKm } pageInfo { endCursor hasNextPage } } }";

fn titles(data: &Value) -> Vec<String> {
    data["events"]["nodes"]
        .as_array()
        .map(|a| a.iter().map(|n| str_of(&n["title"])).collect())
        .unwrap_or_default()
}

fn placed(title: &str, days: i64, city: &str, lat: Option<f64>, lon: Option<f64>) -> Value {
    let mut input = event_input(title, days);
    input["city"] = json!(city);
    input["latitude"] = json!(lat);
    input["longitude"] = json!(lon);
    input
}

async fn search_finds_the_right_events_in_order(app: TestApp) {
    let org = app.organizer("search@example.org").await;
    // Paris, Lyon, Marseille and an online-only stream.
    app.event(
        &org,
        placed(
            "Fête de la Musique",
            171,
            "Paris",
            Some(48.8530),
            Some(2.3499),
        ),
        true,
    )
    .await;
    app.event(
        &org,
        placed("Festival Électro", 68, "Lyon", Some(45.7640), Some(4.8357)),
        true,
    )
    .await;
    app.event(
        &org,
        placed(
            "Jazz Festival",
            181,
            "Marseille",
            Some(43.2965),
            Some(5.3698),
        ),
        true,
    )
    .await;
    app.event(
        &org,
        placed("Rock Night", 31, "Paris", Some(48.8867), Some(2.3431)),
        true,
    )
    .await;
    app.event(
        &org,
        placed("Online Festival Stream", 100, "", None, None),
        true,
    )
    .await;
    let app = &app;
    let search = |f: Value| async move {
        titles(&app.ok(None, SEARCH, json!({ "f": f, "first": 20 })).await)
    };

    assert_eq!(
        search(json!({ "text": "fest" })).await,
        [
            "Festival Électro",
            "Online Festival Stream",
            "Jazz Festival"
        ]
    );
    assert_eq!(
        search(json!({ "text": "FETE" })).await,
        ["Fête de la Musique"]
    );
    assert_eq!(
        search(json!({ "text": "électro" })).await,
        ["Festival Électro"]
    );
    assert_eq!(
        search(json!({ "text": "electro lyon" })).await,
        ["Festival Électro"]
    );
    assert_eq!(
        search(json!({ "text": "electro paris" })).await,
        Vec::<String>::new()
    );
    assert_eq!(search(json!({ "text": "" })).await.len(), 5);
    assert_eq!(
        search(
            json!({ "startsAfter": "2030-03-01T00:00:00Z", "startsBefore": "2030-07-01T19:00:00Z" })
        )
        .await,
        [
            "Festival Électro",
            "Online Festival Stream",
            "Fête de la Musique"
        ],
        "startsBefore is exclusive"
    );
    let near_paris = app.ok(None, SEARCH, json!({ "f": { "near": { "latitude": 48.8566, "longitude": 2.3522, "radiusKm": 50 } } })).await;
    assert_eq!(titles(&near_paris), ["Rock Night", "Fête de la Musique"]);
    for node in near_paris["events"]["nodes"]
        .as_array()
        .into_iter()
        .flatten()
    {
        let d = node["distanceKm"].as_f64().unwrap_or(f64::MAX);
        assert!(d < 5.0, "distance {d}");
    }
    assert_eq!(
        search(json!({ "near": { "latitude": 45.76, "longitude": 4.84, "radiusKm": 10 } })).await,
        ["Festival Électro"]
    );
    // Lyon–Marseille is ~278 km and Lyon–Paris ~392 km: the circle's edge is exact.
    assert_eq!(
        search(json!({ "near": { "latitude": 45.764, "longitude": 4.8357, "radiusKm": 400 } }))
            .await
            .len(),
        4
    );
    assert_eq!(
        search(json!({ "near": { "latitude": 45.764, "longitude": 4.8357, "radiusKm": 380 } }))
            .await,
        ["Festival Électro", "Jazz Festival"]
    );
    assert_eq!(
        search(json!({ "near": { "latitude": 45.764, "longitude": 4.8357, "radiusKm": 270 } }))
            .await,
        ["Festival Électro"]
    );
    assert_eq!(
        search(json!({ "text": "fest", "near": { "latitude": 43.3, "longitude": 5.37, "radiusKm": 30 } })).await,
        ["Jazz Festival"]
    );
    // Past events are hidden unless asked for.
    let past = app
        .event(
            &org,
            placed(
                "Festival of Yesteryear",
                -3650,
                "Paris",
                Some(48.85),
                Some(2.35),
            ),
            true,
        )
        .await;
    assert!(
        !search(json!({ "text": "yesteryear" }))
            .await
            .contains(&"Festival of Yesteryear".to_owned())
    );
    let found = app
        .ok(
            None,
            SEARCH,
            json!({ "f": { "text": "yesteryear", "includePast": true } }),
        )
        .await;
    assert_eq!(titles(&found), ["Festival of Yesteryear"]);
    assert_eq!(
        found["events"]["nodes"][0]["id"],
        json!(past),
        "the event created"
    );
}

/// Events published while a client pages through the list: between every two pages some
/// land before the client's position and some after it. Nothing that existed is skipped,
/// nothing shows twice, and what lands ahead of the position is found.
async fn pagination_is_stable_under_concurrent_inserts(app: TestApp) {
    let org = app.organizer("pager@example.org").await;
    let mut before = HashSet::new();
    for i in 0..24 {
        before.insert(
            app.event(
                &org,
                event_input(&format!("Existing {i}"), (i * 7) % 40),
                true,
            )
            .await,
        );
    }
    let mut seen: Vec<(String, String)> = Vec::new();
    let mut after: Option<String> = None;
    let (mut behind, mut ahead) = (HashSet::new(), HashSet::new());
    for page in 0.. {
        let data = app.ok(None, "query($after: String) { events(first: 5, after: $after) { nodes { id startsAt } pageInfo { endCursor hasNextPage } } }", json!({ "after": after })).await;
        for n in data["events"]["nodes"].as_array().into_iter().flatten() {
            seen.push((str_of(&n["startsAt"]), str_of(&n["id"])));
        }
        if data["events"]["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = Some(str_of(&data["events"]["pageInfo"]["endCursor"]));
        // While the client is between pages: two events start before everything it has
        // seen, two after everything that existed.
        if page < 4 {
            for k in 0..2 {
                let n = page * 2 + k;
                behind.insert(
                    app.event(&org, event_input(&format!("Early {n}"), -10 - n), true)
                        .await,
                );
                ahead.insert(
                    app.event(&org, event_input(&format!("Late {n}"), 100 + n), true)
                        .await,
                );
            }
        }
    }
    assert_eq!(
        (behind.len(), ahead.len()),
        (8, 8),
        "the inserts landed mid-paging"
    );
    let ids: HashSet<&String> = seen.iter().map(|(_, id)| id).collect();
    assert_eq!(ids.len(), seen.len(), "an event appeared on two pages");
    for id in &before {
        assert!(
            ids.contains(id),
            "event {id} that existed before paging was skipped"
        );
    }
    for id in &ahead {
        assert!(
            ids.contains(id),
            "event {id} published ahead of the client was missed"
        );
    }
    for id in &behind {
        assert!(
            !ids.contains(id),
            "event {id} published behind the client came back"
        );
    }
    let keys: Vec<(chrono::DateTime<chrono::Utc>, &String)> = seen
        .iter()
        .map(|(t, id)| (t.parse().unwrap_or_else(|e| panic!("{e}")), id))
        .collect();
    assert!(
        keys.windows(2).all(|w| w[0] < w[1]),
        "pages are not in (start, id) order"
    );
}
