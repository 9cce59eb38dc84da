//! The organizer console and the door scanner, end to end, as the proofs list them.

use std::path::{Path, PathBuf};
use std::time::Duration;

use guichet_domain::credential::base45;
use guichet_e2e::{PASSWORD, TestServer, new_account};
use guichet_sdk::booking::HoldLine;
use guichet_sdk::session::Role;
use serde_json::json;

use crate::relay::Relay;
use crate::webdriver::{Driver, Session};

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

    // The server drops off the network (once the door has pushed what it has): the door
    // still admits, offline, and says so.
    door.wait_text("#unpushed", |t| t == "0").await;
    relay.cut().await;
    door.type_into("#scan-input", &format!("{}{ENTER}", credentials[1]))
        .await;
    door.wait_text("#count-admitted", |t| t == "2").await;
    assert_eq!(door.text("#verdict").await, "ADMITTED");
    assert_eq!(door.text("#reason").await, "Welcome (offline)");
    door.wait_text("#net", |t| t == "Offline").await;
    door.wait_text("#unpushed", |t| t == "1").await;
    door.screenshot(&shots().join("door-offline.png")).await;

    // Back online: the door syncs by itself and the offline admission reaches the server.
    relay.restore();
    door.wait_text("#unpushed", |t| t == "0").await;
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
