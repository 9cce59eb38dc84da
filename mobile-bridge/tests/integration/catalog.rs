//! Signing up, the catalog synced with its progress stream, searched offline.

use std::sync::{Arc, Mutex};

use guichet_flutter::api::error::ErrorKind;
use guichet_flutter::api::records::{EventQuery, Near, TaskKind, TaskOutcome};

use crate::support::{attendee, client, world};

fn query(text: Option<&str>) -> EventQuery {
    EventQuery {
        text: text.map(str::to_owned),
        starts_after_ms: None,
        starts_before_ms: None,
        near: None,
        include_past: false,
        limit: 0,
        offset: 0,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_up_then_log_out_and_in_again() {
    let world = world(10).await;
    let dir = tempfile::tempdir().unwrap();
    let client = attendee(&world, &dir, "ann@example.org").await;
    assert_eq!(client.account().await.unwrap().email, "ann@example.org");
    client.log_out().await.unwrap();
    assert!(client.account().await.is_none());
    let wrong = client
        .log_in("ann@example.org".into(), "not the password at all".into())
        .await
        .unwrap_err();
    assert_eq!(wrong.kind, ErrorKind::Unauthenticated, "{wrong:?}");
    let again = client
        .log_in("ann@example.org".into(), guichet_e2e::PASSWORD.into())
        .await
        .unwrap();
    assert_eq!(again.display_name, "Ann");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_progress_stream_reports_then_ends_and_search_works_offline() {
    let world = world(10).await;
    let dir = tempfile::tempdir().unwrap();
    let client = client(&world, &dir).await;

    let events = Arc::new(Mutex::new(Vec::new()));
    let sink = events.clone();
    client
        .sync_catalog_with_progress_into(move |e| {
            sink.lock().unwrap().push(e);
            true
        })
        .await;
    let events = events.lock().unwrap().clone();
    let (last, progress) = events.split_last().unwrap();
    assert_eq!(last.task, TaskKind::CatalogSync);
    assert_eq!(last.outcome, Some(TaskOutcome::Completed), "{last:?}");
    assert!(last.error.is_none());
    assert!(
        !progress.is_empty(),
        "no progress before the end: {events:?}"
    );
    assert!(progress
        .iter()
        .all(|p| p.outcome.is_none() && p.task == TaskKind::CatalogSync));
    assert!(progress.iter().any(|p| p.done > 0), "{progress:?}");

    // The server goes away: the catalog answers from the device.
    let url = world.server.url.clone();
    world.server.stop().await;
    let hits = client.search_events(query(Some("conc"))).await.unwrap();
    assert_eq!(hits.len(), 1);
    let event = &hits[0].event;
    assert_eq!(
        (event.title.as_str(), event.city.as_str()),
        ("Concert", "Paris")
    );
    assert_eq!(event.ticket_types[0].price_minor, 2500);
    assert!(client
        .search_events(query(Some("opera")))
        .await
        .unwrap()
        .is_empty());

    // Distance and dates: Paris is within 10 km of its centre, not of Lyon.
    let mut near = query(None);
    near.near = Some(Near {
        latitude: 48.85,
        longitude: 2.35,
        radius_km: 10.0,
    });
    let hits = client.search_events(near.clone()).await.unwrap();
    assert!(hits[0].distance_km.unwrap() < 10.0);
    near.near = Some(Near {
        latitude: 45.76,
        longitude: 4.83,
        radius_km: 10.0,
    });
    assert!(client.search_events(near).await.unwrap().is_empty());
    let mut later = query(None);
    later.starts_after_ms = Some(event.starts_at_ms + 3_600_000);
    assert!(client.search_events(later).await.unwrap().is_empty());
    let cached = client.event(event.id.clone()).await.unwrap().unwrap();
    assert_eq!(cached, *event);

    // What needs the network says so, with the kind the app branches on.
    let offline = client.availability(event.id.clone()).await.unwrap_err();
    assert_eq!(offline.kind, ErrorKind::Network, "{offline:?} ({url})");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_sync_ends_its_stream_with_the_error() {
    let world = world(10).await;
    let dir = tempfile::tempdir().unwrap();
    let client = client(&world, &dir).await;
    world.server.stop().await;
    let events = Arc::new(Mutex::new(Vec::new()));
    let sink = events.clone();
    client
        .sync_with_progress_into(move |e| {
            sink.lock().unwrap().push(e);
            true
        })
        .await;
    let events = events.lock().unwrap();
    let last = events.last().unwrap();
    assert_eq!(last.outcome, Some(TaskOutcome::Failed));
    assert_eq!(last.error.as_ref().unwrap().kind, ErrorKind::Network);
}
