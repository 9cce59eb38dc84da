//! The task-spawning methods called from a plain `std::thread`, as a Kotlin, Swift or Dart
//! thread calls them: no tokio runtime is entered there, and the tasks still run.

use std::sync::Arc;
use std::sync::mpsc::{Sender, channel};
use std::time::{Duration, Instant};

use guichet_sdk::booking::HoldLine;
use guichet_sdk::notify::{Outcome, Progress, ProgressListener, Task};
use guichet_sdk::scanner::Door;
use guichet_sdk::session::Role;

use crate::scanner_sync::{list, pairing_code, sold};
use guichet_e2e::{PASSWORD, TestServer, new_account};

/// Forwards each task's outcome to the test.
struct Finished(std::sync::Mutex<Sender<(Task, Outcome)>>);

impl ProgressListener for Finished {
    fn on_progress(&self, _: Progress) {}
    fn on_finished(&self, task: Task, outcome: Outcome) {
        let _ = self.0.lock().unwrap().send((task, outcome));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tasks_started_from_a_thread_without_a_runtime_run_to_completion() {
    let server = TestServer::start().await;
    let organizer = server.token_for("org@example.org", "ORGANIZER").await;
    let (event, standing) = server.published_event(&organizer, 10).await;
    let buyer_dir = tempfile::tempdir().unwrap();
    let buyer = server.client(buyer_dir.path()).open().await.unwrap();
    buyer
        .sign_up(new_account("ann@example.org", Role::Attendee))
        .await
        .unwrap();
    let line = [HoldLine {
        ticket_type_id: standing.clone(),
        quantity: 2,
    }];
    let hold = buyer.booking().hold(&event, &line).await.unwrap();
    buyer
        .booking()
        .checkout(&hold.id, Some("tok_visa"))
        .await
        .unwrap();

    // A second device of the same account: empty wallet, empty catalog.
    let dir = tempfile::tempdir().unwrap();
    let client = server.client(dir.path()).open().await.unwrap();
    client.log_in("ann@example.org", PASSWORD).await.unwrap();

    // A paired door with its first pull done.
    let (org, door_event, tt, _) = sold(&server, "thread", 1).await;
    let door_list = list(&server, &org, &door_event, &tt, false).await;
    let code = pairing_code(&server, &org, &door_list).await;
    let door_dir = tempfile::tempdir().unwrap();
    let door = Door::builder(&server.url, door_dir.path(), "north")
        .pair(&code, "door")
        .await
        .unwrap();

    let (to_test, outcomes) = channel();
    let listener = Arc::new(Finished(std::sync::Mutex::new(to_test)));
    let (thread_client, thread_door) = (client.clone(), door.clone());
    let thread = std::thread::spawn(move || {
        assert!(tokio::runtime::Handle::try_current().is_err());
        let handles = [
            thread_client.catalog().sync_task(listener.clone()),
            thread_client.wallet().sync_task(listener.clone()),
            thread_client
                .booking()
                .resume_pending_task(listener.clone()),
            thread_client.sync_task(listener.clone()),
            thread_door.watch(Duration::from_secs(3600), listener.clone()),
        ];
        let mut seen = Vec::new();
        // The four client tasks end by themselves; the watch runs until cancelled.
        for _ in 0..4 {
            seen.push(outcomes.recv_timeout(Duration::from_secs(60)).unwrap());
        }
        let [catalog, wallet, resume, sync, watch] = handles;
        // A task marks itself finished just after telling its listener.
        let deadline = Instant::now() + Duration::from_secs(10);
        while ![&catalog, &wallet, &resume, &sync]
            .iter()
            .all(|h| h.is_finished())
        {
            assert!(
                Instant::now() < deadline,
                "a task told its outcome but never finished"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
        assert!(!watch.is_finished());
        watch.cancel();
        assert!(watch.is_finished());
        seen.push(outcomes.recv_timeout(Duration::from_secs(60)).unwrap());
        seen
    });
    let mut seen = tokio::task::spawn_blocking(move || thread.join().unwrap())
        .await
        .unwrap();
    let watch = seen.pop().unwrap();
    assert_eq!(watch, (Task::DoorSync, Outcome::Cancelled));
    seen.sort_by_key(|(task, _)| format!("{task:?}"));
    assert_eq!(
        seen,
        vec![
            (Task::CatalogSync, Outcome::Completed),
            (Task::ResumePending, Outcome::Completed),
            (Task::Sync, Outcome::Completed),
            (Task::WalletSync, Outcome::Completed),
        ]
    );

    // What the tasks did is in the second device's store.
    assert_eq!(client.wallet().tickets().await.unwrap().len(), 2);
    assert!(client.catalog().event(&event).await.unwrap().is_some());
}
