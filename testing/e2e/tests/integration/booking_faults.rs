//! Fault injection through the transport: lost answers, timeouts, duplicate deliveries and
//! a crash between persisting an operation and sending it. Whatever happens, the server
//! ends with exactly the bookings and charges the user asked for: none twice, none lost.

use std::sync::Arc;

use guichet_sdk::booking::{HoldLine, OperationKind, OperationState, OrderStatus};
use guichet_sdk::session::Role;
use guichet_sdk::{Client, Error};

use crate::faults::{Fault, Faulty};
use guichet_e2e::{TestServer, new_account};

struct Scene {
    server: TestServer,
    organizer: String,
    event: String,
    standing: String,
    dir: tempfile::TempDir,
}

async fn scene(email: &str) -> (Scene, Arc<Faulty>, Client) {
    let server = TestServer::start().await;
    let organizer = server.token_for("org@example.org", "ORGANIZER").await;
    let (event, standing) = server.published_event(&organizer, 20).await;
    let dir = tempfile::tempdir().unwrap();
    let faulty = Faulty::over(&server.url);
    let client = server
        .client(dir.path())
        .transport(faulty.clone())
        .open()
        .await
        .unwrap();
    client
        .sign_up(new_account(email, Role::Attendee))
        .await
        .unwrap();
    let scene = Scene {
        server,
        organizer,
        event,
        standing,
        dir,
    };
    (scene, faulty, client)
}

fn two(ticket_type: &str) -> Vec<HoldLine> {
    vec![HoldLine {
        ticket_type_id: ticket_type.to_owned(),
        quantity: 2,
    }]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lost_answers_and_timeouts_then_resume_book_and_charge_once() {
    let (s, faulty, client) = scene("lost@example.org").await;

    // The hold is made on the server but its answer is lost.
    faulty.inject("HoldTickets", Fault::LoseResponse);
    let lost = client.booking().hold(&s.event, &two(&s.standing)).await;
    assert!(matches!(lost, Err(Error::Transport(_))), "{lost:?}");
    let pending = client.booking().pending_operations().await.unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].kind, OperationKind::Hold);
    assert_eq!(s.server.sales(&s.organizer, &s.event).await, (0, 2));
    // Resuming re-sends with the same key: the same hold, not a second one.
    let resumed = client.booking().resume_pending().await.unwrap();
    assert_eq!(resumed[0].state, OperationState::Succeeded);
    assert_eq!(resumed[0].attempts, 2);
    assert_eq!(s.server.sales(&s.organizer, &s.event).await, (0, 2));
    let hold = client.booking().holds().await.unwrap().remove(0);

    // The checkout times out before it leaves, then its retry's answer is lost too.
    faulty.inject("Checkout", Fault::TimeOutUnsent);
    let unsent = client.booking().checkout(&hold.id, Some("tok_visa")).await;
    assert!(matches!(unsent, Err(Error::Transport(_))));
    assert_eq!(s.server.money().0, 0, "nothing reached the provider");
    faulty.inject("Checkout", Fault::LoseResponse);
    let after = client.booking().resume_pending().await.unwrap();
    assert_eq!(after[0].state, OperationState::Pending);
    assert_eq!(s.server.money(), (1, 5000, 0));
    // `sync` re-sends what is pending, then refreshes the wallet.
    let report = client.sync().await.unwrap();
    assert_eq!(report.resumed[0].state, OperationState::Succeeded);
    assert_eq!(report.wallet.tickets, 2);
    assert!(
        client
            .booking()
            .pending_operations()
            .await
            .unwrap()
            .is_empty()
    );

    // The server: one order of two tickets, two sold, one charge.
    assert_eq!(
        s.server.orders_of("lost@example.org").await,
        vec![("COMPLETED".to_owned(), 2)]
    );
    assert_eq!(s.server.sales(&s.organizer, &s.event).await, (2, 0));
    assert_eq!(s.server.money(), (1, 5000, 0));
    assert_eq!(client.wallet().tickets().await.unwrap().len(), 2);

    // A refund whose answer is lost: resuming finds nothing left to refund, reads the
    // order back and settles; the money went back once.
    let order = client.wallet().orders().await.unwrap().remove(0);
    faulty.inject("RefundOrder", Fault::LoseResponse);
    assert_eq!(
        client
            .booking()
            .refund(&order.id, &[])
            .await
            .unwrap_err()
            .kind(),
        guichet_sdk::ErrorKind::Network
    );
    let settled = client.booking().resume_pending().await.unwrap();
    assert_eq!(settled[0].state, OperationState::Succeeded);
    assert_eq!(faulty.delivered("RefundOrder"), 2);
    assert_eq!(s.server.money(), (1, 5000, 5000));
    assert_eq!(
        s.server.orders_of("lost@example.org").await,
        vec![("REFUNDED".to_owned(), 2)]
    );
    assert_eq!(
        client.wallet().order(&order.id).await.unwrap().status,
        OrderStatus::Refunded
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicate_deliveries_book_and_charge_once() {
    let (s, faulty, client) = scene("dup@example.org").await;
    faulty.inject("HoldTickets", Fault::Duplicate);
    let hold = client
        .booking()
        .hold(&s.event, &two(&s.standing))
        .await
        .unwrap();
    assert_eq!(faulty.delivered("HoldTickets"), 2);
    assert_eq!(s.server.sales(&s.organizer, &s.event).await, (0, 2));
    faulty.inject("Checkout", Fault::Duplicate);
    let order = client
        .booking()
        .checkout(&hold.id, Some("tok_visa"))
        .await
        .unwrap();
    assert_eq!(faulty.delivered("Checkout"), 2);
    assert_eq!(order.tickets.len(), 2);
    assert_eq!(s.server.sales(&s.organizer, &s.event).await, (2, 0));
    assert_eq!(s.server.money(), (1, 5000, 0));
    assert_eq!(
        s.server.orders_of("dup@example.org").await,
        vec![("COMPLETED".to_owned(), 2)]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_between_persisting_and_sending_is_resumed_by_the_next_process() {
    let (s, faulty, client) = scene("crash@example.org").await;

    // Process 1 persists the hold, then dies before the request leaves.
    faulty.inject("HoldTickets", Fault::HangUnsent);
    let (event, lines) = (s.event.clone(), two(&s.standing));
    let call = {
        let client = client.clone();
        tokio::spawn(async move { client.booking().hold(&event, &lines).await })
    };
    faulty.wait_hung().await;
    call.abort();
    let _ = call.await;
    drop(client);
    assert_eq!(faulty.delivered("HoldTickets"), 0);
    assert_eq!(s.server.sales(&s.organizer, &s.event).await, (0, 0));

    // Process 2 finds it pending and sends it: the booking is not lost.
    let faulty = Faulty::over(&s.server.url);
    let client = s
        .server
        .client(s.dir.path())
        .transport(faulty.clone())
        .open()
        .await
        .unwrap();
    let pending = client.booking().pending_operations().await.unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].attempts, 1, "counted before the crash");
    let resumed = client.booking().resume_pending().await.unwrap();
    assert_eq!(resumed[0].state, OperationState::Succeeded);
    assert_eq!(s.server.sales(&s.organizer, &s.event).await, (0, 2));
    let hold = client.booking().holds().await.unwrap().remove(0);

    // Process 2 pays; the server charges, then the process dies before reading the answer.
    faulty.inject("Checkout", Fault::HangAfterProcessing);
    let call = {
        let (client, hold) = (client.clone(), hold.id.clone());
        tokio::spawn(async move { client.booking().checkout(&hold, Some("tok_visa")).await })
    };
    faulty.wait_hung().await;
    call.abort();
    let _ = call.await;
    drop(client);
    assert_eq!(s.server.money(), (1, 5000, 0));

    // Process 3 resumes: the same order comes back, nothing is charged again.
    let client = s.server.client(s.dir.path()).open().await.unwrap();
    let resumed = client.booking().resume_pending().await.unwrap();
    assert_eq!(resumed.len(), 1);
    assert_eq!(resumed[0].kind, OperationKind::Checkout);
    assert_eq!(resumed[0].state, OperationState::Succeeded);
    assert_eq!(s.server.money(), (1, 5000, 0));
    assert_eq!(s.server.sales(&s.organizer, &s.event).await, (2, 0));
    assert_eq!(
        s.server.orders_of("crash@example.org").await,
        vec![("COMPLETED".to_owned(), 2)]
    );
    client.wallet().sync().await.unwrap();
    assert_eq!(client.wallet().tickets().await.unwrap().len(), 2);
    // The payment token is not kept once the operation ended.
    let checkout = client.booking().operation(&resumed[0].id).await.unwrap();
    assert!(matches!(
        checkout.request,
        guichet_sdk::booking::operations::OperationRequest::Checkout {
            payment_token: None,
            ..
        }
    ));
}

/// One booking step of the randomised run.
#[derive(Debug, Clone)]
enum Step {
    Hold,
    Checkout(String),
}

impl Step {
    fn operation(&self) -> &'static str {
        match self {
            Step::Hold => "HoldTickets",
            Step::Checkout(_) => "Checkout",
        }
    }

    fn kind(&self) -> OperationKind {
        match self {
            Step::Hold => OperationKind::Hold,
            Step::Checkout(_) => OperationKind::Checkout,
        }
    }
}

/// Runs `step` with `fault` injected, killing and restarting the "process" on a hang, then
/// resumes until nothing is pending; returns the hold or order the step produced.
async fn booked(
    s: &Scene,
    client: &mut Client,
    faulty: &mut Arc<Faulty>,
    step: Step,
    fault: Option<Fault>,
) -> String {
    if let Some(fault) = fault {
        faulty.inject(step.operation(), fault);
    }
    let call = {
        let (client, event, standing, step) = (
            client.clone(),
            s.event.clone(),
            s.standing.clone(),
            step.clone(),
        );
        tokio::spawn(async move {
            match step {
                Step::Hold => client
                    .booking()
                    .hold(&event, &two(&standing))
                    .await
                    .map(|_| ()),
                Step::Checkout(hold) => client
                    .booking()
                    .checkout(&hold, Some("tok_visa"))
                    .await
                    .map(|_| ()),
            }
        })
    };
    if matches!(fault, Some(Fault::HangUnsent | Fault::HangAfterProcessing)) {
        faulty.wait_hung().await;
        call.abort();
        let _ = call.await;
        // The process died: a new one opens the same data directory.
        *faulty = Faulty::over(&s.server.url);
        *client = s
            .server
            .client(s.dir.path())
            .transport(faulty.clone())
            .open()
            .await
            .unwrap();
    } else {
        let _ = call.await.unwrap();
    }
    for _ in 0..3 {
        if client
            .booking()
            .pending_operations()
            .await
            .unwrap()
            .is_empty()
        {
            break;
        }
        client.booking().resume_pending().await.unwrap();
    }
    let operations = client.booking().operations().await.unwrap();
    let last = operations
        .iter()
        .rev()
        .find(|op| op.kind == step.kind())
        .unwrap();
    assert_eq!(
        last.state,
        OperationState::Succeeded,
        "{step:?} {fault:?}: {last:?}"
    );
    last.result_id.clone().unwrap()
}

/// Seeded random faults on every booking call, crashes included; `GUICHET_FAULT_SEEDS=N`
/// runs seeds 1..=N (default 1), each over a fresh server.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_faults_and_crashes_never_double_or_lose_a_booking() {
    use rand::{Rng, SeedableRng};
    let seeds: u64 = std::env::var("GUICHET_FAULT_SEEDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1);
    const ROUNDS: usize = 6;
    let faults = [
        None,
        Some(Fault::LoseResponse),
        Some(Fault::TimeOutUnsent),
        Some(Fault::Duplicate),
        Some(Fault::HangUnsent),
        Some(Fault::HangAfterProcessing),
    ];
    for seed in 1..=seeds {
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        let (s, faulty, client) = scene(&format!("seed{seed}@example.org")).await;
        let (mut faulty, mut client) = (faulty, client);
        let mut orders = std::collections::BTreeSet::new();
        for _ in 0..ROUNDS {
            let fault = faults[rng.random_range(0..faults.len())];
            let hold = booked(&s, &mut client, &mut faulty, Step::Hold, fault).await;
            let fault = faults[rng.random_range(0..faults.len())];
            let order = booked(&s, &mut client, &mut faulty, Step::Checkout(hold), fault).await;
            assert!(orders.insert(order), "seed {seed}: one order per booking");
        }
        let rounds = ROUNDS as i64;
        let email = format!("seed{seed}@example.org");
        assert_eq!(
            s.server.sales(&s.organizer, &s.event).await,
            (2 * rounds, 0),
            "seed {seed}: every booking sold once, no hold left"
        );
        assert_eq!(
            s.server.money(),
            (ROUNDS, 5000 * rounds, 0),
            "seed {seed}: one charge per booking"
        );
        let server_orders = s.server.orders_of(&email).await;
        assert_eq!(server_orders.len(), ROUNDS, "seed {seed}");
        assert!(
            server_orders
                .iter()
                .all(|(status, tickets)| status == "COMPLETED" && *tickets == 2)
        );
        client.wallet().sync().await.unwrap();
        assert_eq!(client.wallet().tickets().await.unwrap().len(), 2 * ROUNDS);
    }
}
