//! Live updates over WebSocket (graphql-transport-ws): subscribers on replica A see changes
//! made through replica B. On PostgreSQL, A and B are two servers over one database, each on
//! its own socket; on the embedded SQLite default, one server plays both.

use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, header};
use futures_util::{SinkExt, StreamExt};
use guichet_server::AppState;
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tokio::net::{TcpSocket, TcpStream};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use tower::ServiceExt;

use crate::checkout::{CHECKOUT, on_sale_with};
use crate::scanner::{device, list, scan, sold, uuid};
use crate::support::{TestApp, error_code, str_of};

/// Runs `async fn(Pair)` as `<name>::sqlite` (one replica) and `<name>::postgres` (two
/// replicas on one database), with a configuration tweak.
macro_rules! live_both {
    ($($name:ident => $tweak:expr),* $(,)?) => { $(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let app = crate::support::TestApp::sqlite_with($tweak).await;
                super::$name(super::Pair::one(app).await).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            #[cfg_attr(skip_postgres, ignore = "built with GUICHET_SKIP_POSTGRES=1")]
            async fn postgres() {
                let app = crate::support::TestApp::postgres_with($tweak).await;
                super::$name(super::Pair::two(app).await).await
            }
        }
    )* };
}

live_both!(
    sales_reach_a_subscriber_on_another_replica => |_: &mut guichet_server::config::Config| {},
    check_ins_reach_a_subscriber_on_another_replica => |_: &mut guichet_server::config::Config| {},
    subscribers_see_only_what_their_queries_would => |_: &mut guichet_server::config::Config| {},
    a_subscriber_that_does_not_read_is_dropped => |c: &mut guichet_server::config::Config| c.live.send_buffer = 4,
    limits_and_idle_connections => |c: &mut guichet_server::config::Config| {
        c.live.per_connection = 2;
        c.live.idle_timeout_secs = 1;
    },
);

mod listener_reconnects {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    #[cfg_attr(skip_postgres, ignore = "built with GUICHET_SKIP_POSTGRES=1")]
    async fn postgres() {
        let app = crate::support::TestApp::postgres().await;
        super::a_replica_that_loses_its_listener_resumes(super::Pair::two(app).await).await
    }
}

const SALES: &str = "subscription($e: ID!) { salesUpdated(eventId: $e) { eventId sold held available revenueMinor byTicketType { ticketTypeId capacity sold held available refunded revenueMinor } } }";
const CHECK_INS: &str = "subscription($l: ID!) { checkInsUpdated(listId: $l) { listId inside admitted refused duplicates newAlerts { scan { id classification } firstEntry { id } } } }";
const ORDER: &str = "subscription($o: ID!) { orderUpdated(orderId: $o) { id status refundedMinor tickets { status } } }";
const HOLD: &str = "mutation($e: ID!, $tt: ID!, $q: Int!, $k: String!) { holdTickets(eventId: $e, items: [{ticketTypeId: $tt, quantity: $q}], idempotencyKey: $k) { id } }";
const RELEASE: &str = "mutation($h: ID!) { releaseHold(id: $h) { status } }";
const PUSH: &str = "mutation($t: String!, $s: [ScanInput!]!) { pushScans(deviceToken: $t, scans: $s) { classification } }";
const REFUND: &str = "mutation($o: ID!) { refundOrder(orderId: $o) { status } }";

/// A server on a real socket (a WebSocket needs one).
pub struct Replica {
    pub addr: SocketAddr,
    pub router: Router,
    pub state: AppState,
}

impl Replica {
    async fn serve(state: AppState) -> Replica {
        let socket = TcpSocket::new_v4().unwrap_or_else(|e| panic!("socket: {e}"));
        // Small kernel buffers, so that a client that stops reading fills them soon.
        socket
            .set_send_buffer_size(8 * 1024)
            .unwrap_or_else(|e| panic!("sndbuf: {e}"));
        socket
            .bind(SocketAddr::from(([127, 0, 0, 1], 0)))
            .unwrap_or_else(|e| panic!("bind: {e}"));
        let listener = socket
            .listen(1024)
            .unwrap_or_else(|e| panic!("listen: {e}"));
        let addr = listener.local_addr().unwrap_or_else(|e| panic!("{e}"));
        let router = guichet_server::app(state.clone());
        let service = router
            .clone()
            .into_make_service_with_connect_info::<SocketAddr>();
        tokio::spawn(async move {
            let _ = axum::serve(listener, service).await;
        });
        Replica {
            addr,
            router,
            state,
        }
    }

    /// Runs an operation through this replica; panics on errors.
    pub async fn ok(&self, token: Option<&str>, query: &str, variables: Value) -> Value {
        let response = self.gql(token, query, variables).await;
        assert!(response.get("errors").is_none(), "errors: {response}");
        response["data"].clone()
    }

    async fn gql(&self, token: Option<&str>, query: &str, variables: Value) -> Value {
        let mut req = Request::post("/graphql").header(header::CONTENT_TYPE, "application/json");
        if let Some(token) = token {
            req = req.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        let body = json!({ "query": query, "variables": variables }).to_string();
        let req = req
            .body(Body::from(body))
            .unwrap_or_else(|e| panic!("request: {e}"));
        let response = self
            .router
            .clone()
            .oneshot(req)
            .await
            .unwrap_or_else(|e| panic!("router: {e}"));
        let bytes = response
            .into_body()
            .collect()
            .await
            .unwrap_or_else(|e| panic!("body: {e}"))
            .to_bytes();
        serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("not JSON: {e}"))
    }

    /// Opens a subscription connection to this replica.
    pub async fn connect(&self, token: Option<&str>) -> Ws {
        Ws::connect(self.addr, token, None).await
    }
}

/// Replica A (subscribers) and B (writers), over the test app's database.
pub struct Pair {
    pub app: TestApp,
    pub a: Replica,
    pub b: Replica,
    pub two: bool,
}

impl Pair {
    /// The embedded default: one server is both.
    async fn one(app: TestApp) -> Pair {
        let a = Replica::serve(app.state.clone()).await;
        let b = Replica::serve(app.state.clone()).await;
        Pair {
            app,
            a,
            b,
            two: false,
        }
    }

    /// Two servers over one PostgreSQL database.
    async fn two(app: TestApp) -> Pair {
        let a = Replica::serve(app.state.clone()).await;
        let (_, state) = app.restart().await;
        let b = Replica::serve(state).await;
        Pair {
            app,
            a,
            b,
            two: true,
        }
    }
}

/// A graphql-transport-ws client, spoken by hand.
pub struct Ws {
    stream: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

/// How long a frame may take to arrive before a test fails.
const PATIENCE: Duration = Duration::from_secs(20);

impl Ws {
    /// Connects (with a receive buffer of `rcvbuf` bytes when given), sends
    /// `connection_init` with the token, and waits for the ack.
    pub async fn connect(addr: SocketAddr, token: Option<&str>, rcvbuf: Option<u32>) -> Ws {
        let socket = TcpSocket::new_v4().unwrap_or_else(|e| panic!("socket: {e}"));
        if let Some(size) = rcvbuf {
            socket
                .set_recv_buffer_size(size)
                .unwrap_or_else(|e| panic!("rcvbuf: {e}"));
        }
        let tcp = socket
            .connect(addr)
            .await
            .unwrap_or_else(|e| panic!("connect: {e}"));
        let mut request = format!("ws://{addr}/graphql")
            .into_client_request()
            .unwrap_or_else(|e| panic!("request: {e}"));
        request.headers_mut().insert(
            "Sec-WebSocket-Protocol",
            header::HeaderValue::from_static("graphql-transport-ws"),
        );
        let (stream, response) =
            tokio_tungstenite::client_async(request, MaybeTlsStream::Plain(tcp))
                .await
                .unwrap_or_else(|e| panic!("handshake: {e}"));
        assert_eq!(
            response
                .headers()
                .get("sec-websocket-protocol")
                .and_then(|v| v.to_str().ok()),
            Some("graphql-transport-ws")
        );
        let mut ws = Ws { stream };
        let payload = match token {
            Some(token) => json!({ "authorization": format!("Bearer {token}") }),
            None => json!({}),
        };
        ws.send(json!({ "type": "connection_init", "payload": payload }))
            .await;
        assert_eq!(ws.next().await["type"], json!("connection_ack"));
        ws
    }

    async fn send(&mut self, message: Value) {
        self.stream
            .send(Message::text(message.to_string()))
            .await
            .unwrap_or_else(|e| panic!("send: {e}"));
    }

    /// Starts operation `id`.
    pub async fn subscribe(&mut self, id: &str, query: &str, variables: Value) {
        self.send(json!({ "id": id, "type": "subscribe",
                          "payload": { "query": query, "variables": variables } }))
            .await;
    }

    /// The next protocol message (pings are answered by the client library).
    pub async fn next(&mut self) -> Value {
        let message = async {
            loop {
                match self.stream.next().await {
                    Some(Ok(Message::Text(text))) => {
                        return serde_json::from_str(&text)
                            .unwrap_or_else(|e| panic!("not JSON ({e}): {text}"));
                    }
                    Some(Ok(Message::Close(frame))) => panic!("closed: {frame:?}"),
                    Some(Ok(_)) => {}
                    Some(Err(e)) => panic!("socket: {e}"),
                    None => panic!("socket ended"),
                }
            }
        };
        tokio::time::timeout(PATIENCE, message)
            .await
            .unwrap_or_else(|_| panic!("no message within {PATIENCE:?}"))
    }

    /// The next `next` payload of operation `id`.
    pub async fn frame(&mut self, id: &str) -> Value {
        loop {
            let message = self.next().await;
            if message["id"] == json!(id) {
                assert_eq!(message["type"], json!("next"), "{message}");
                return message["payload"].clone();
            }
        }
    }

    /// Reads `id`'s frames until one's data satisfies `wanted`; returns that data.
    pub async fn until(&mut self, id: &str, wanted: impl Fn(&Value) -> bool) -> Value {
        loop {
            let payload = self.frame(id).await;
            assert!(payload.get("errors").is_none(), "errors: {payload}");
            if wanted(&payload["data"]) {
                return payload["data"].clone();
            }
        }
    }

    /// Reads (and so answers pings) for `time`, expecting no message.
    pub async fn listen_for(&mut self, time: Duration) {
        let quiet = tokio::time::timeout(time, async {
            loop {
                match self.stream.next().await {
                    Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
                    other => return other,
                }
            }
        })
        .await;
        if let Ok(message) = quiet {
            panic!("expected only pings, got {message:?}");
        }
    }

    /// Reads until the server closes; returns the close code and reason.
    pub async fn closed(&mut self) -> (u16, String) {
        let close = async {
            loop {
                match self.stream.next().await {
                    Some(Ok(Message::Close(Some(frame)))) => {
                        return (u16::from(frame.code), frame.reason.to_string());
                    }
                    Some(Ok(Message::Close(None))) | None => return (1005, String::new()),
                    Some(Ok(_)) => {}
                    Some(Err(e)) => panic!("socket failed before a close frame: {e}"),
                }
            }
        };
        tokio::time::timeout(PATIENCE, close)
            .await
            .unwrap_or_else(|_| panic!("not closed within {PATIENCE:?}"))
    }
}

/// Checks one frame's stock invariant per ticket type: available + held + sold = capacity.
fn stock_adds_up(sales: &Value) {
    for t in sales["byTicketType"].as_array().into_iter().flatten() {
        let n = |k: &str| t[k].as_i64().unwrap_or_else(|| panic!("{k} in {t}"));
        assert_eq!(n("available") + n("held") + n("sold"), n("capacity"), "{t}");
    }
}

async fn hold_on(
    replica: &Replica,
    token: &str,
    event: &str,
    tt: &str,
    q: i64,
    key: &str,
) -> String {
    let data = replica
        .ok(
            Some(token),
            HOLD,
            json!({ "e": event, "tt": tt, "q": q, "k": key }),
        )
        .await;
    str_of(&data["holdTickets"]["id"])
}

async fn sales_reach_a_subscriber_on_another_replica(pair: Pair) {
    let Pair { app, a, b, .. } = &pair;
    let org = app.organizer("live-sales@example.org").await;
    let (event, tt) = on_sale_with(app, &org, 2500, 20).await;
    let (buyer, _, _) = app.sign_up("live-buyer@example.org", "ATTENDEE").await;

    let mut ws = a.connect(Some(&org)).await;
    ws.subscribe("s", SALES, json!({ "e": event })).await;
    let first = ws.frame("s").await["data"]["salesUpdated"].clone();
    assert_eq!(first["eventId"], json!(event));
    assert_eq!(
        (
            first["sold"].clone(),
            first["held"].clone(),
            first["available"].clone()
        ),
        (json!(0), json!(0), json!(20))
    );

    // A hold through B reaches A.
    let hold = hold_on(b, &buyer, &event, &tt, 2, "key-live-h1").await;
    let held = ws
        .until("s", |d| d["salesUpdated"]["held"] == json!(2))
        .await;
    assert_eq!(held["salesUpdated"]["available"], json!(18));
    stock_adds_up(&held["salesUpdated"]);

    // The buyer watches the order on A while checking out through B.
    let order = b
        .ok(
            Some(&buyer),
            CHECKOUT,
            json!({ "h": hold, "t": "tok_visa", "k": "key-live-c1" }),
        )
        .await;
    let order_id = str_of(&order["checkout"]["id"]);
    assert_eq!(order["checkout"]["status"], json!("COMPLETED"));
    let sold = ws
        .until("s", |d| d["salesUpdated"]["sold"] == json!(2))
        .await;
    let sales = &sold["salesUpdated"];
    assert_eq!(
        (
            sales["held"].clone(),
            sales["available"].clone(),
            sales["revenueMinor"].clone()
        ),
        (json!(0), json!(18), json!(5000))
    );
    stock_adds_up(sales);

    let mut buyer_ws = a.connect(Some(&buyer)).await;
    buyer_ws
        .subscribe("o", ORDER, json!({ "o": order_id }))
        .await;
    let now = buyer_ws.frame("o").await;
    assert_eq!(now["data"]["orderUpdated"]["status"], json!("COMPLETED"));

    // A refund through B: the buyer sees REFUNDED, the organizer the stock back.
    let refunded = b.ok(Some(&org), REFUND, json!({ "o": order_id })).await;
    assert_eq!(refunded["refundOrder"]["status"], json!("REFUNDED"));
    let order_now = buyer_ws
        .until("o", |d| d["orderUpdated"]["status"] == json!("REFUNDED"))
        .await;
    assert_eq!(order_now["orderUpdated"]["refundedMinor"], json!(5000));
    assert_eq!(
        order_now["orderUpdated"]["tickets"],
        json!([{ "status": "REVOKED" }, { "status": "REVOKED" }])
    );
    let back = ws
        .until("s", |d| d["salesUpdated"]["sold"] == json!(0))
        .await;
    assert_eq!(back["salesUpdated"]["available"], json!(20));
    assert_eq!(
        back["salesUpdated"]["byTicketType"][0]["refunded"],
        json!(2)
    );
    stock_adds_up(&back["salesUpdated"]);

    // A release through B.
    let hold = hold_on(b, &buyer, &event, &tt, 3, "key-live-h2").await;
    ws.until("s", |d| d["salesUpdated"]["held"] == json!(3))
        .await;
    b.ok(Some(&buyer), RELEASE, json!({ "h": hold })).await;
    let released = ws
        .until("s", |d| d["salesUpdated"]["held"] == json!(0))
        .await;
    assert_eq!(released["salesUpdated"]["available"], json!(20));
}

async fn check_ins_reach_a_subscriber_on_another_replica(pair: Pair) {
    let Pair { app, a, b, .. } = &pair;
    let org = app.organizer("live-doors@example.org").await;
    let (event, tt, tickets) = sold(app, &org, 2).await;
    let list = list(app, &org, &event, &tt, false).await;
    let (door, _) = device(app, &org, &list, "North").await;

    let mut ws = a.connect(Some(&org)).await;
    ws.subscribe("c", CHECK_INS, json!({ "l": list })).await;
    let first = ws.frame("c").await["data"]["checkInsUpdated"].clone();
    assert_eq!(first["listId"], json!(list));
    assert_eq!(
        (
            first["inside"].clone(),
            first["admitted"].clone(),
            first["newAlerts"].clone()
        ),
        (json!(0), json!(0), json!([]))
    );

    // Two entries pushed through B.
    let pushed = b
        .ok(
            None,
            PUSH,
            json!({ "t": door, "s": [scan(&uuid(1), &tickets[0].1, 1000, "ENTRY"),
                                    scan(&uuid(2), &tickets[1].1, 1100, "ENTRY")] }),
        )
        .await;
    assert_eq!(pushed["pushScans"][1]["classification"], json!("ADMITTED"));
    let counted = ws
        .until("c", |d| d["checkInsUpdated"]["admitted"] == json!(2))
        .await;
    assert_eq!(counted["checkInsUpdated"]["inside"], json!(2));
    assert_eq!(counted["checkInsUpdated"]["newAlerts"], json!([]));

    // The first ticket again, later: a duplicate entry, alerted once.
    b.ok(
        None,
        PUSH,
        json!({ "t": door, "s": [scan(&uuid(3), &tickets[0].1, 5000, "ENTRY")] }),
    )
    .await;
    let alerted = ws
        .until("c", |d| d["checkInsUpdated"]["duplicates"] == json!(1))
        .await;
    let update = &alerted["checkInsUpdated"];
    assert_eq!(update["inside"], json!(2));
    assert_eq!(
        update["newAlerts"],
        json!([{ "scan": { "id": uuid(3), "classification": "DUPLICATE_ENTRY" },
                 "firstEntry": { "id": uuid(1) } }])
    );

    // An exit and a refused scan: the next frame carries no old alert.
    let mut refused = scan(&uuid(5), &tickets[1].1, 6100, "ENTRY");
    refused["decision"] = json!("REJECTED");
    refused["reason"] = json!("already_inside");
    b.ok(
        None,
        PUSH,
        json!({ "t": door, "s": [scan(&uuid(4), &tickets[1].1, 6000, "EXIT"), refused] }),
    )
    .await;
    let after = ws
        .until("c", |d| d["checkInsUpdated"]["inside"] == json!(1))
        .await;
    assert_eq!(after["checkInsUpdated"]["refused"], json!(1));
    assert_eq!(after["checkInsUpdated"]["newAlerts"], json!([]));
}

async fn subscribers_see_only_what_their_queries_would(pair: Pair) {
    let Pair { app, a, .. } = &pair;
    let owner = app.organizer("live-owner@example.org").await;
    let other = app.organizer("live-other@example.org").await;
    let (event, tt, tickets) = sold(app, &owner, 1).await;
    let list = list(app, &owner, &event, &tt, false).await;
    let (stranger, _, _) = app.sign_up("live-stranger@example.org", "ATTENDEE").await;

    let mut ws = a.connect(Some(&other)).await;
    ws.subscribe("1", SALES, json!({ "e": event })).await;
    let refused = ws.frame("1").await;
    assert_eq!(
        error_code(&refused).as_deref(),
        Some("FORBIDDEN"),
        "{refused}"
    );
    assert_eq!(ws.next().await, json!({ "id": "1", "type": "complete" }));
    ws.subscribe("2", CHECK_INS, json!({ "l": list })).await;
    assert_eq!(
        error_code(&ws.frame("2").await).as_deref(),
        Some("FORBIDDEN")
    );
    // Another buyer's order is hidden, as the `order` query hides it.
    ws.subscribe("3", ORDER, json!({ "o": tickets[0].0 })).await;
    assert_eq!(
        error_code(&ws.frame("3").await).as_deref(),
        Some("NOT_FOUND")
    );
    ws.subscribe("4", SALES, json!({ "e": uuid(99) })).await;
    assert_eq!(
        error_code(&ws.frame("4").await).as_deref(),
        Some("NOT_FOUND")
    );
    // Queries and mutations are for POST /graphql.
    ws.subscribe("5", "query { me { id } }", json!({})).await;
    assert_eq!(
        error_code(&ws.frame("5").await).as_deref(),
        Some("INVALID_INPUT")
    );

    let mut attendee = a.connect(Some(&stranger)).await;
    attendee.subscribe("1", SALES, json!({ "e": event })).await;
    assert_eq!(
        error_code(&attendee.frame("1").await).as_deref(),
        Some("FORBIDDEN")
    );

    let mut anonymous = a.connect(None).await;
    anonymous.subscribe("1", SALES, json!({ "e": event })).await;
    assert_eq!(
        error_code(&anonymous.frame("1").await).as_deref(),
        Some("UNAUTHENTICATED")
    );
    let mut forged = a.connect(Some("not-a-token")).await;
    forged.subscribe("1", SALES, json!({ "e": event })).await;
    assert_eq!(
        error_code(&forged.frame("1").await).as_deref(),
        Some("UNAUTHENTICATED")
    );
    // None of the refusals holds a subscription.
    assert_eq!(a.state.metrics.live_subscriptions_open(), 0);
}

async fn a_subscriber_that_does_not_read_is_dropped(pair: Pair) {
    let Pair { app, a, b, .. } = &pair;
    let org = app.organizer("live-slow@example.org").await;
    let (event, tt) = on_sale_with(app, &org, 1000, 20).await;
    let (buyer, _, _) = app.sign_up("live-slow-buyer@example.org", "ATTENDEE").await;

    let mut fast = a.connect(Some(&org)).await;
    fast.subscribe("s", SALES, json!({ "e": event })).await;
    fast.frame("s").await;
    // The slow one reads its first frame, then nothing (a tiny receive buffer fills soon).
    let mut slow = Ws::connect(a.addr, Some(&org), Some(2048)).await;
    slow.subscribe("s", SALES, json!({ "e": event })).await;
    slow.frame("s").await;
    assert_eq!(a.state.metrics.live_subscriptions_open(), 2);
    assert_eq!(a.state.metrics.live_connections_open(), 2);

    // Changes through B until A drops the slow subscriber; the fast one keeps up.
    let mut rounds = 0;
    while !a
        .state
        .metrics
        .render()
        .contains("guichet_live_connections_closed_total{reason=\"slow_consumer\"} 1")
    {
        rounds += 1;
        assert!(rounds <= 3000, "the slow subscriber was never dropped");
        let hold = hold_on(b, &buyer, &event, &tt, 1, &format!("key-slow-{rounds}")).await;
        fast.until("s", |d| d["salesUpdated"]["held"] == json!(1))
            .await;
        b.ok(Some(&buyer), RELEASE, json!({ "h": hold })).await;
        fast.until("s", |d| d["salesUpdated"]["held"] == json!(0))
            .await;
    }
    // Its subscription is gone at once; the fast one still receives.
    assert_eq!(a.state.metrics.live_subscriptions_open(), 1);
    hold_on(b, &buyer, &event, &tt, 2, "key-slow-last").await;
    let last = fast
        .until("s", |d| d["salesUpdated"]["held"] == json!(2))
        .await;
    stock_adds_up(&last["salesUpdated"]);
    // The slow client, reading at last, finds the frames that were queued, then the close.
    let (code, reason) = slow.closed().await;
    assert_eq!((code, reason.as_str()), (1008, "slow consumer"));
    tokio::time::timeout(PATIENCE, async {
        while a.state.metrics.live_connections_open() != 1 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .unwrap_or_else(|_| panic!("the slow connection is still counted"));
    assert!(rounds >= 1);
}

async fn limits_and_idle_connections(pair: Pair) {
    let Pair { app, a, .. } = &pair;
    let org = app.organizer("live-limits@example.org").await;
    let (event, _) = on_sale_with(app, &org, 1000, 20).await;

    let mut ws = a.connect(Some(&org)).await;
    ws.subscribe("1", SALES, json!({ "e": event })).await;
    ws.frame("1").await;
    ws.subscribe("2", SALES, json!({ "e": event })).await;
    ws.frame("2").await;
    ws.subscribe("3", SALES, json!({ "e": event })).await;
    let refused = ws.frame("3").await;
    assert_eq!(
        error_code(&refused).as_deref(),
        Some("RATE_LIMITED"),
        "{refused}"
    );
    let metrics = a.state.metrics.render();
    assert!(
        metrics.contains("guichet_live_subscriptions 2"),
        "{metrics}"
    );
    assert!(metrics.contains("guichet_live_connections 1"), "{metrics}");
    // Completing one gives its slot back.
    ws.send(json!({ "id": "1", "type": "complete" })).await;
    tokio::time::timeout(PATIENCE, async {
        while a.state.metrics.live_subscriptions_open() != 1 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .unwrap_or_else(|_| panic!("the completed subscription still holds its slot"));
    ws.subscribe("4", SALES, json!({ "e": event })).await;
    assert!(ws.frame("4").await.get("errors").is_none());

    // A connection holding no subscription is closed after the idle timeout (1 s here),
    // while the one with subscriptions, answering pings, stays open.
    let mut idle = a.connect(Some(&org)).await;
    let ((code, reason), ()) = tokio::join!(idle.closed(), ws.listen_for(Duration::from_secs(3)));
    assert_eq!((code, reason.as_str()), (1000, "idle: no subscription"));
    ws.subscribe("5", SALES, json!({ "e": event })).await;
    let answer = ws.frame("5").await;
    assert_eq!(
        error_code(&answer).as_deref(),
        Some("RATE_LIMITED"),
        "{answer}"
    );
    assert_eq!(ws.next().await, json!({ "id": "5", "type": "complete" }));
    assert!(
        a.state
            .metrics
            .render()
            .contains("guichet_live_connections_closed_total{reason=\"idle\"} 1")
    );

    // A client holding a subscription but answering nothing (no read, so no pong) for the
    // idle timeout is closed as unresponsive, and its subscription given back.
    let mut mute = a.connect(Some(&org)).await;
    mute.subscribe("1", SALES, json!({ "e": event })).await;
    assert!(mute.frame("1").await.get("errors").is_none());
    assert_eq!(a.state.metrics.live_subscriptions_open(), 3);
    // (Its client, reading at last, would first write the pongs it owes to a closed socket,
    // so the server's word is read from its metrics.)
    ws.listen_for(Duration::from_secs(3)).await;
    let metrics = a.state.metrics.render();
    assert!(
        metrics.contains("guichet_live_connections_closed_total{reason=\"unresponsive\"} 1"),
        "{metrics}"
    );
    assert_eq!(a.state.metrics.live_subscriptions_open(), 2);
    assert_eq!(a.state.metrics.live_connections_open(), 1);
    drop(mute);
}

async fn a_replica_that_loses_its_listener_resumes(pair: Pair) {
    let Pair { app, a, b, two } = &pair;
    assert!(two);
    let org = app.organizer("live-reconnect@example.org").await;
    let (event, tt) = on_sale_with(app, &org, 1000, 20).await;
    let (buyer, _, _) = app
        .sign_up("live-reconnect-buyer@example.org", "ATTENDEE")
        .await;
    let mut ws = a.connect(Some(&org)).await;
    ws.subscribe("s", SALES, json!({ "e": event })).await;
    ws.frame("s").await;
    hold_on(b, &buyer, &event, &tt, 1, "key-before").await;
    ws.until("s", |d| d["salesUpdated"]["held"] == json!(1))
        .await;

    let guichet_server::db::Db::Postgres(pool) = app.db() else {
        panic!("PostgreSQL expected");
    };
    let listeners = "SELECT pid FROM pg_stat_activity WHERE application_name = 'guichet_live' \
                     AND datname = current_database()";
    let before: Vec<(i32,)> = sqlx::query_as(listeners)
        .fetch_all(pool)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(before.len(), 1, "replica A listens on one connection");
    let killed: Vec<(bool,)> = sqlx::query_as(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE application_name = 'guichet_live' AND datname = current_database()",
    )
    .fetch_all(pool)
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(killed, vec![(true,)]);

    // Changes through B still reach A: the listener reconnects and A's subscriber re-reads.
    hold_on(b, &buyer, &event, &tt, 2, "key-after").await;
    let now = ws
        .until("s", |d| d["salesUpdated"]["held"] == json!(3))
        .await;
    stock_adds_up(&now["salesUpdated"]);
    let after: Vec<(i32,)> = sqlx::query_as(listeners)
        .fetch_all(pool)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(after.len(), 1);
    assert_ne!(after[0].0, before[0].0, "a new listening connection");
    // And a change after the reconnection travels by notification again.
    hold_on(b, &buyer, &event, &tt, 1, "key-later").await;
    ws.until("s", |d| d["salesUpdated"]["held"] == json!(4))
        .await;
}
