//! An order's live feed as the app's stream sees it.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use guichet_flutter::api::error::ErrorKind;
use guichet_flutter::api::records::{HoldLine, LivePhase, OrderStatus, OrderUpdate};

use crate::support::{attendee, world};

/// Waits until a frame matches (the feed runs on the SDK's runtime).
async fn frame_where(frames: &Mutex<Vec<OrderUpdate>>, wanted: impl Fn(&OrderUpdate) -> bool) {
    for _ in 0..100 {
        if frames.lock().unwrap().iter().any(&wanted) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no such frame in {:?}", frames.lock().unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_order_stream_follows_a_refund_and_a_strangers_ends_not_found() {
    let world = world(10).await;
    let dir = tempfile::tempdir().unwrap();
    let client = Arc::new(attendee(&world, &dir, "ann@example.org").await);
    let lines = vec![HoldLine {
        ticket_type_id: world.ticket_type.clone(),
        quantity: 1,
    }];
    let hold = client.hold(world.event.clone(), lines).await.unwrap();
    let order = client
        .checkout(hold.id.clone(), Some("tok_visa".into()))
        .await
        .unwrap();

    let frames = Arc::new(Mutex::new(Vec::new()));
    let feed = {
        let (client, sink, id) = (client.clone(), frames.clone(), order.id.clone());
        tokio::spawn(async move {
            client
                .watch_order_into(id, move |u| {
                    sink.lock().unwrap().push(u);
                    true
                })
                .await;
        })
    };
    frame_where(&frames, |f| f.phase == Some(LivePhase::Live)).await;
    frame_where(&frames, |f| {
        f.order.as_ref().map(|o| o.status) == Some(OrderStatus::Completed)
    })
    .await;
    client.refund(order.id.clone(), vec![]).await.unwrap();
    frame_where(&frames, |f| {
        f.order.as_ref().map(|o| o.refunded_minor) == Some(2500)
    })
    .await;
    feed.abort();

    // Another attendee may not watch it: the stream ends, NOT_FOUND, and the call returns.
    let other_dir = tempfile::tempdir().unwrap();
    let stranger = attendee(&world, &other_dir, "eve@example.org").await;
    let hidden = Arc::new(Mutex::new(Vec::new()));
    let sink = hidden.clone();
    tokio::time::timeout(
        Duration::from_secs(30),
        stranger.watch_order_into(order.id.clone(), move |u| {
            sink.lock().unwrap().push(u);
            true
        }),
    )
    .await
    .unwrap();
    let hidden = hidden.lock().unwrap();
    let last = hidden.last().unwrap();
    assert_eq!(last.phase, Some(LivePhase::Ended));
    assert_eq!(last.error.as_ref().unwrap().kind, ErrorKind::NotFound);
    assert!(hidden.iter().all(|f| f.order.is_none()));
}
