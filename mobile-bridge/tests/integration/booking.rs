//! Hold with a countdown, checkout with the test card, the wallet's QR codes, a refund, a
//! declined card, and the change stream.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use guichet_flutter::api::error::ErrorKind;
use guichet_flutter::api::records::{ChangeKind, HoldLine, HoldStatus, OrderStatus, TicketStatus};
use guichet_flutter::api::wallet::{qr_png, qr_svg};

use crate::support::{attendee, world};

fn line(ticket_type: &str, quantity: i64) -> Vec<HoldLine> {
    vec![HoldLine {
        ticket_type_id: ticket_type.to_owned(),
        quantity,
    }]
}

/// The text a PNG QR code holds, read back by a decoder.
fn read_png(bytes: &[u8]) -> String {
    let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    let mut reader = decoder.read_info().unwrap();
    let mut pixels = vec![0; reader.output_buffer_size().unwrap()];
    let frame = reader.next_frame(&mut pixels).unwrap();
    assert_eq!(frame.color_type, png::ColorType::Grayscale);
    let width = frame.width as usize;
    let mut image =
        rqrr::PreparedImage::prepare_from_greyscale(width, frame.height as usize, |x, y| {
            pixels[y * width + x]
        });
    let grids = image.detect_grids();
    assert_eq!(grids.len(), 1);
    grids[0].decode().unwrap().1
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hold_count_down_pay_carry_the_qr_and_refund() {
    let world = world(10).await;
    let dir = tempfile::tempdir().unwrap();
    let client = Arc::new(attendee(&world, &dir, "ann@example.org").await);

    // Changes as the app's stream sees them.
    let changes = Arc::new(Mutex::new(Vec::new()));
    let feed = {
        let (client, sink) = (client.clone(), changes.clone());
        tokio::spawn(async move {
            client
                .changes_into(move |c| {
                    sink.lock().unwrap().push(c);
                    true
                })
                .await;
        })
    };

    // Live availability, then a hold counting down from the server's 10 minutes.
    let stock = client.availability(world.event.clone()).await.unwrap();
    assert_eq!(
        (stock[0].ticket_type_id.as_str(), stock[0].available),
        (world.ticket_type.as_str(), 10)
    );
    let hold = client
        .hold(world.event.clone(), line(&world.ticket_type, 2))
        .await
        .unwrap();
    assert_eq!((hold.status, hold.total_minor), (HoldStatus::Active, 5000));
    assert!(
        hold.seconds_left > 0 && hold.seconds_left <= 600,
        "{hold:?}"
    );
    let now_ms = chrono_now_ms();
    assert!(hold.expires_at_ms > now_ms && hold.expires_at_ms <= now_ms + 600_000);
    let status = client.hold_status(hold.id.clone()).await.unwrap();
    assert!(status.seconds_left <= hold.seconds_left);
    assert_eq!(
        client.availability(world.event.clone()).await.unwrap()[0].available,
        8
    );

    // Paid with the test provider's card.
    let order = client
        .checkout(hold.id.clone(), Some("tok_visa".into()))
        .await
        .unwrap();
    assert_eq!(
        (order.status, order.tickets.len()),
        (OrderStatus::Completed, 2)
    );
    assert_eq!(
        client.hold_status(hold.id.clone()).await.unwrap().status,
        HoldStatus::Converted
    );
    assert!(client.pending_operations().await.unwrap().is_empty());
    assert_eq!(world.server.money(), (1, 5000, 0));

    // The wallet after a sync: tickets with their event, QR codes that read back.
    let summary = client.sync().await.unwrap();
    assert_eq!((summary.orders, summary.tickets), (1, 2));
    let tickets = client.tickets().await.unwrap();
    assert_eq!(tickets.len(), 2);
    let first = &tickets[0];
    assert_eq!(first.event.as_ref().unwrap().title, "Concert");
    let svg = qr_svg(first.ticket.credential.clone(), 4).unwrap();
    assert!(svg.contains("<svg"), "{svg}");
    let png = qr_png(first.ticket.credential.clone(), 4).unwrap();
    assert_eq!(read_png(&png), first.ticket.credential);
    assert_eq!(
        qr_svg("x".repeat(5000), 4).unwrap_err().kind,
        ErrorKind::InvalidInput
    );

    // Refund one ticket: it is revoked, the money comes back.
    let refunded = client
        .refund(order.id.clone(), vec![first.ticket.id.clone()])
        .await
        .unwrap();
    assert_eq!(refunded.refunded_minor, 2500);
    let revoked = refunded
        .tickets
        .iter()
        .find(|t| t.id == first.ticket.id)
        .unwrap();
    assert_eq!(revoked.status, TicketStatus::Revoked);
    assert_eq!(
        client.order(order.id.clone()).await.unwrap().refunded_minor,
        2500
    );
    assert_eq!(world.server.money(), (1, 5000, 2500));

    // The change stream saw the hold, the order and the wallet.
    for _ in 0..50 {
        let seen = changes.lock().unwrap().clone();
        let kinds: Vec<_> = seen.iter().map(|c| c.kind).collect();
        if [ChangeKind::Hold, ChangeKind::Order, ChangeKind::Wallet]
            .iter()
            .all(|k| kinds.contains(k))
        {
            assert!(seen
                .iter()
                .any(|c| c.kind == ChangeKind::Hold && c.id.as_deref() == Some(hold.id.as_str())));
            feed.abort();
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("changes missing: {:?}", changes.lock().unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_declined_card_says_payment_declined_and_a_release_gives_stock_back() {
    let world = world(10).await;
    let dir = tempfile::tempdir().unwrap();
    let client = attendee(&world, &dir, "bob@example.org").await;
    let hold = client
        .hold(world.event.clone(), line(&world.ticket_type, 1))
        .await
        .unwrap();
    let declined = client
        .checkout(hold.id.clone(), Some("tok_declined".into()))
        .await
        .unwrap_err();
    assert_eq!(declined.kind, ErrorKind::PaymentDeclined, "{declined:?}");
    assert!(!declined.message.is_empty());
    assert_eq!(world.server.money().1, 0);

    let before = client.availability(world.event.clone()).await.unwrap()[0].available;
    let again = client
        .hold(world.event.clone(), line(&world.ticket_type, 3))
        .await
        .unwrap();
    let stock = client.availability(world.event.clone()).await.unwrap();
    assert_eq!(stock[0].available, before - 3);
    let released = client.release(again.id.clone()).await.unwrap();
    assert_eq!(
        (released.status, released.seconds_left),
        (HoldStatus::Released, 0)
    );
    let stock = client.availability(world.event.clone()).await.unwrap();
    assert_eq!(stock[0].available, before);
    let sold_out = client
        .hold(world.event.clone(), line(&world.ticket_type, 11))
        .await
        .unwrap_err();
    assert!(
        matches!(sold_out.kind, ErrorKind::SoldOut | ErrorKind::InvalidInput),
        "{sold_out:?}"
    );
}

fn chrono_now_ms() -> i64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    i64::try_from(now.as_millis()).unwrap()
}
