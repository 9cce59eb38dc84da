//! The organizer console and the door scanner, end to end, as the proofs list them.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use guichet_domain::credential::base45;
use guichet_e2e::{PASSWORD, TestServer, new_account};
use guichet_sdk::booking::HoldLine;
use guichet_sdk::session::Role;
use serde_json::json;

use crate::relay::Relay;
use crate::webdriver::{Driver, PATIENCE, Session};

const APP: &str = env!("CARGO_BIN_EXE_guichet-desktop");
const ENTER: &str = "\u{E007}";

/// Screenshots land in `<target>/desktop-screenshots`, which CI keeps.
fn shots() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("../desktop-screenshots")
}

fn args(mode: &str, server: &str, dir: &Path) -> Vec<String> {
    ["--mode", mode, "--server", server, "--data-dir"]
        .iter()
        .map(|s| (*s).to_owned())
        .chain([dir.display().to_string()])
        .collect()
}

/// The same credential with one signature bit flipped: well-formed, not genuine.
fn forge(credential: &str) -> String {
    let mut bytes = base45::decode(credential).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0x01;
    base45::encode(&bytes)
}

/// `text` as a QR code in a greyscale PNG (4 pixels a module, with the quiet zone), as a
/// phone's screenshot of a ticket would hold it.
fn qr_png(text: &str) -> Vec<u8> {
    let code = qrcode::QrCode::new(text.as_bytes()).unwrap();
    let (modules, scale, quiet) = (code.width(), 4, 4);
    let side = (modules + 2 * quiet) * scale;
    let mut pixels = vec![255u8; side * side];
    for (i, color) in code.to_colors().iter().enumerate() {
        if *color == qrcode::Color::Dark {
            let (mx, my) = (i % modules + quiet, i / modules + quiet);
            for y in my * scale..(my + 1) * scale {
                pixels[y * side + mx * scale..y * side + (mx + 1) * scale].fill(0);
            }
        }
    }
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, side as u32, side as u32);
    encoder.set_color(png::ColorType::Grayscale);
    encoder
        .write_header()
        .unwrap()
        .write_image_data(&pixels)
        .unwrap();
    out
}

/// Waits until the door shows `unpushed` scans waiting to upload, in a count read after
/// at least `scans` decisions were on screen.
async fn waiting_to_upload(door: &Session, unpushed: u32, scans: u32) {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let shown = door
            .execute(
                "const e = document.getElementById('unpushed');\
                 return [e.textContent, e.dataset.scansBefore || '0'];",
                json!([]),
            )
            .await;
        let count: u32 = shown[0].as_str().unwrap().parse().unwrap();
        let after: u32 = shown[1].as_str().unwrap().parse().unwrap();
        if count == unpushed && after >= scans {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the door shows {count} waiting to upload (read after {after} scans), \
             not {unpushed} after {scans}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn first_paint_ms(app: &Session) -> f64 {
    for _ in 0..100 {
        let ms = app
            .execute(
                "return document.body.dataset.firstPaintMs || null",
                json!([]),
            )
            .await;
        if let Some(ms) = ms.as_str() {
            return ms.parse().unwrap();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the page never reported its first paint");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn organizer_and_door_in_real_windows() {
    let server = TestServer::start().await;
    let relay = Relay::start(&server.url).await;
    let organizer_token = server.token_for("org@example.org", "ORGANIZER").await;
    // One tauri-driver (and WebKitWebDriver) per window: a native driver runs one session.
    let (org_driver, door_driver) = (Driver::spawn().await, Driver::spawn().await);
    let data = tempfile::tempdir().unwrap();

    // Organizer: sign in, create an event with a ticket type, publish, see it listed.
    let org = Session::start(
        &org_driver,
        Path::new(APP),
        &args("organizer", &relay.url, data.path()),
    )
    .await;
    let org_paint = first_paint_ms(&org).await;
    org.type_into("#email", "org@example.org").await;
    org.type_into("#password", PASSWORD).await;
    org.screenshot(&shots().join("organizer-sign-in.png")).await;
    org.click("#sign-in").await;
    org.click("#new-event summary").await;
    org.type_into("#ev-title", "Desk Night").await;
    org.type_into("#ev-venue", "La Cigale").await;
    org.type_into("#ev-city", "Paris").await;
    org.type_into("#ev-lat", "48.8823").await;
    org.type_into("#ev-lon", "2.3404").await;
    org.execute(
        // Doors open now: tonight's event started an hour ago (local time, as typed).
        "const local = ms => new Date(ms - new Date().getTimezoneOffset() * 60000)\
           .toISOString().slice(0, 16);\
         document.getElementById('ev-start').value = local(Date.now() - 3600000);\
         document.getElementById('ev-end').value = local(Date.now() + 5 * 3600000);",
        json!([]),
    )
    .await;
    org.click("#ev-save").await;
    org.wait_text("#ev-heading", |t| t == "Desk Night").await;
    org.type_into("#tt-name", "Standing").await;
    org.type_into("#tt-price", "2500").await;
    org.type_into("#tt-capacity", "100").await;
    org.click("#tt-add").await;
    org.wait_text("#types tbody", |t| t.contains("Standing"))
        .await;
    org.click("#publish").await;
    org.wait_text("#ev-status", |t| t == "published").await;
    org.wait_text("#events", |t| t.contains("Desk Night published"))
        .await;

    // Two tickets bought through the SDK; the dashboard's poll shows them sold.
    let buyer_dir = tempfile::tempdir().unwrap();
    let buyer = server.client(buyer_dir.path()).open().await.unwrap();
    buyer
        .sign_up(new_account("fan@example.org", Role::Attendee))
        .await
        .unwrap();
    let mine = server
        .ok(
            Some(&organizer_token),
            "{ myEvents { id ticketTypes { id } } }",
            json!({}),
        )
        .await;
    let event_id = mine["myEvents"][0]["id"].as_str().unwrap().to_owned();
    let type_id = mine["myEvents"][0]["ticketTypes"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let line = HoldLine {
        ticket_type_id: type_id,
        quantity: 2,
    };
    let hold = buyer.booking().hold(&event_id, &[line]).await.unwrap();
    let order = buyer
        .booking()
        .checkout(&hold.id, Some("tok_visa"))
        .await
        .unwrap();
    let credentials: Vec<String> = order.tickets.iter().map(|t| t.credential.clone()).collect();
    assert_eq!(credentials.len(), 2);
    org.wait_text("#sold", |t| t == "2").await;
    org.wait_text("#types tbody", |t| t == "Standing25.00 EUR100209850.00 EUR")
        .await;
    org.screenshot(&shots().join("organizer-dashboard.png"))
        .await;

    // A check-in list and a pairing code; the door pairs with it.
    org.click("#list-create").await;
    org.click("#lists button").await;
    let code = org.wait_text("#pair-code", |t| t.len() == 9).await;
    let door_dir = tempfile::tempdir().unwrap();
    let door = Session::start(
        &door_driver,
        Path::new(APP),
        &args("door", &relay.url, door_dir.path()),
    )
    .await;
    let door_paint = first_paint_ms(&door).await;
    door.type_into("#pair-code", &code).await;
    door.screenshot(&shots().join("door-pairing.png")).await;
    door.click("#pair-submit").await;
    let paired = door
        .execute(
            "return new Promise(done => { const t = setInterval(() => {\
               const e = document.getElementById('pair-error').textContent;\
               const l = document.getElementById('list-name').textContent;\
               if (e || l) { clearInterval(t); done(e || l); } }, 50); })",
            json!([]),
        )
        .await;
    assert_eq!(paired, json!("Main entrance"), "pairing failed");
    door.wait_text("#list-name", |t| t == "Main entrance").await;
    org.wait_text("#devices", |t| t.contains("Door laptop"))
        .await;
    org.screenshot(&shots().join("organizer-doors.png")).await;

    // Scans typed the way a keyboard-wedge scanner types them: the text, then Enter.
    door.type_into("#scan-input", &format!("{}{ENTER}", credentials[0]))
        .await;
    let reason = door.wait_text("#reason", |t| t != "Scan a ticket").await;
    assert_eq!(door.text("#verdict").await, "ADMITTED", "refused: {reason}");
    assert_eq!(reason, "Welcome");
    assert_eq!(door.text("#ticket-type").await, "Standing");
    door.screenshot(&shots().join("door-admitted.png")).await;
    door.type_into("#scan-input", &format!("{}{ENTER}", credentials[0]))
        .await;
    door.wait_text("#count-refused", |t| t == "1").await;
    assert_eq!(door.text("#verdict").await, "REFUSED");
    assert_eq!(door.text("#reason").await, "Already inside");
    door.screenshot(&shots().join("door-already-inside.png"))
        .await;
    door.type_into("#scan-input", &format!("{}{ENTER}", forge(&credentials[1])))
        .await;
    door.wait_text("#count-refused", |t| t == "2").await;
    assert_eq!(door.text("#reason").await, "Forged ticket");

    // The server drops off the network (once the door has pushed what it has: a count read
    // after the three scans, not one still on screen from before the last of them): the
    // door still admits, offline, and says so.
    waiting_to_upload(&door, 0, 3).await;
    relay.cut().await;
    door.type_into("#scan-input", &format!("{}{ENTER}", credentials[1]))
        .await;
    door.wait_text("#count-admitted", |t| t == "2").await;
    assert_eq!(door.text("#verdict").await, "ADMITTED");
    assert_eq!(door.text("#reason").await, "Welcome (offline)");
    // Named from the door's own store: the server is unreachable.
    assert_eq!(door.text("#ticket-type").await, "Standing");
    door.wait_text("#net", |t| t == "Offline").await;
    waiting_to_upload(&door, 1, 4).await;
    door.screenshot(&shots().join("door-offline.png")).await;

    // Back online: the door syncs by itself and the offline admission reaches the server.
    relay.restore();
    waiting_to_upload(&door, 0, 4).await;
    door.wait_text("#net", |t| t == "Online").await;
    org.wait_text("#lists", |t| t.contains("2 checked in"))
        .await;
    org.screenshot(&shots().join("organizer-check-ins.png"))
        .await;
    let lists = server
        .ok(
            Some(&organizer_token),
            "query($e: ID!) { checkInLists(eventId: $e) { id } }",
            json!({ "e": event_id }),
        )
        .await;
    let list_id = lists["checkInLists"][0]["id"].as_str().unwrap();
    let on_server = server.scans(&organizer_token, list_id).await;
    let admitted: Vec<_> = on_server
        .values()
        .filter(|(decision, _)| decision == "admitted")
        .collect();
    assert_eq!(
        on_server.len(),
        4,
        "every scan reached the server: {on_server:?}"
    );
    assert_eq!(admitted.len(), 2, "{on_server:?}");

    // A ticket sent as a picture: the QR code in a PNG file, picked in the scan view.
    door.execute(
        "const png = new Uint8Array(arguments[0]);\
         const picked = new DataTransfer();\
         picked.items.add(new File([png], 'ticket.png', { type: 'image/png' }));\
         const file = document.getElementById('scan-file');\
         file.files = picked.files;\
         file.dispatchEvent(new Event('change'));",
        json!([qr_png(&credentials[0])]),
    )
    .await;
    door.wait_text("#count-refused", |t| t == "3").await;
    assert_eq!(door.text("#reason").await, "Already inside");
    assert_eq!(door.text("#ticket-type").await, "Standing");

    // Keyboard-wedge scan to decision on screen, offline, over 1,000 scans.
    relay.cut().await;
    // The lines arrive as a wedge ends them (Enter in the scan field), one after the other
    // as the queue moves: each waits for the previous decision to be on screen.
    let timings = door
        .execute_async(
            "const [creds, done] = [arguments[0], arguments[arguments.length - 1]];\
             const field = document.getElementById('scan-input');\
             const timings = window.__scanTimings; timings.length = 0;\
             let i = 0;\
             const next = () => {\
               if (i === 1000) return done(timings.slice());\
               field.value = creds[i % creds.length];\
               field.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true }));\
               const want = ++i;\
               const wait = () => timings.length >= want ? next() : setTimeout(wait, 0);\
               wait();\
             };\
             next();",
            json!([credentials]),
        )
        .await;
    let mut timings: Vec<f64> = timings
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    assert_eq!(
        timings.len(),
        1000,
        "every wedge scan got a decision on screen"
    );
    timings.sort_by(f64::total_cmp);
    let (p50, p99) = (timings[499], timings[989]);
    println!(
        "desktop figures: organizer first paint {org_paint} ms, door first paint {door_paint} ms, \
         wedge scan to decision offline p50 {p50:.1} ms p99 {p99:.1} ms (1000 scans)"
    );
    org.quit().await;
    door.quit().await;
}
