//! The seeded door simulation: several doors scan the same tickets through partitions,
//! late answers and duplicated deliveries, then heal; every scan must reach the server
//! exactly once with the decision its door showed, and every door must end up agreeing
//! with an independent re-implementation of the classification.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use guichet_domain::admission::{Decision, ScanRejection};
use guichet_domain::checkin::Direction;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};

use guichet_e2e::TestServer;

use crate::scanner_sync::{AT, Net, PATIENT, list, pair, sold};

/// One scan the simulation took.
#[derive(Debug, Clone)]
struct Taken {
    id: String,
    ticket: usize,
    device_time_ms: i64,
    direction: Direction,
    admitted: bool,
}

/// Seeds for the simulation: `GUICHET_SIM_SEEDS=200` runs 200 (outside the default run).
/// Even seeds use a list with re-entry, odd ones a list without.
fn seeds() -> Vec<u64> {
    let n = std::env::var("GUICHET_SIM_SEEDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(4u64);
    (1..=n).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn doors_converge_after_partitions_and_flag_every_double_entry() {
    for seed in seeds() {
        println!("simulation seed {seed}");
        simulate(seed, false).await;
    }
}

/// The same with every door also syncing in the background (`Door::watch`, every 5 to
/// 40 ms) during partitions, so pulls and pushes interleave with scans waiting for their
/// online answer. The scenario (who scans what, when, who is cut off) still follows the
/// seed; which requests the network drops then depends on timing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn doors_converge_while_they_sync_in_the_background() {
    let n = seeds().len() as u64;
    for seed in (1..=n.div_ceil(2)).map(|s| 1_000 + s) {
        println!("simulation seed {seed}, background syncs");
        simulate(seed, true).await;
    }
}

/// Hears nothing: the simulation checks the outcome, not the progress.
struct Quiet;

impl guichet_sdk::notify::ProgressListener for Quiet {
    fn on_progress(&self, _: guichet_sdk::notify::Progress) {}
    fn on_finished(&self, _: guichet_sdk::notify::Task, _: guichet_sdk::notify::Outcome) {}
}

/// Where a ticket stands for the people at the doors: its admitted scans so far, in the
/// order the doors took them.
#[derive(Debug, Clone, Copy, Default)]
struct Standing {
    entered: bool,
    inside: bool,
}

impl Standing {
    /// Whether one more entry would let a second person in on this ticket.
    fn refuses_entry(self, re_entry: bool) -> bool {
        self.inside || (self.entered && !re_entry)
    }
}

/// The contract's classification, written again independently of the server: per ticket,
/// admitted scans in (device time, scan id) order; an entry while the ticket is inside, or
/// after an entry on a list without re-entry, is a duplicate. Also returns where each
/// ticket stands at the end of that order.
fn expected_classes(
    taken: &[Taken],
    re_entry: bool,
) -> (HashMap<String, &'static str>, BTreeMap<usize, Standing>) {
    let mut by_ticket: BTreeMap<usize, Vec<&Taken>> = BTreeMap::new();
    for scan in taken {
        by_ticket.entry(scan.ticket).or_default().push(scan);
    }
    let mut classes = HashMap::new();
    let mut standings = BTreeMap::new();
    for (ticket, scans) in &mut by_ticket {
        scans.sort_by(|a, b| (a.device_time_ms, &a.id).cmp(&(b.device_time_ms, &b.id)));
        let mut standing = Standing::default();
        for scan in scans.iter() {
            let class = match (scan.admitted, scan.direction) {
                (false, _) => "rejected",
                (true, Direction::Exit) => {
                    standing.inside = false;
                    "exited"
                }
                (true, Direction::Entry) if standing.refuses_entry(re_entry) => "duplicate_entry",
                (true, Direction::Entry) => {
                    standing = Standing {
                        entered: true,
                        inside: true,
                    };
                    "admitted"
                }
            };
            classes.insert(scan.id.clone(), class);
        }
        standings.insert(*ticket, standing);
    }
    (classes, standings)
}

async fn simulate(seed: u64, background: bool) {
    const DOORS: usize = 4;
    const TICKETS: usize = 10;
    let re_entry = seed.is_multiple_of(2);
    let server = TestServer::start().await;
    let (org, event, tt, tickets) = sold(&server, &format!("sim{seed}"), TICKETS).await;
    let list = list(&server, &org, &event, &tt, re_entry).await;
    let mut rng = StdRng::seed_from_u64(seed);
    let dirs: Vec<_> = (0..DOORS).map(|_| tempfile::tempdir().unwrap()).collect();
    let mut nets = Vec::new();
    let mut doors = Vec::new();
    for (i, dir) in dirs.iter().enumerate() {
        let net = Net::over(&server.url, seed * 100 + i as u64);
        doors.push(pair(&server, &org, &list, dir.path(), net.clone(), PATIENT).await);
        nets.push(net);
    }
    // Doors' clocks disagree by up to 2 s. With re-entry, exits make the order of a
    // ticket's scans matter, and the server orders by device time: there the clocks agree
    // within 20 ms and scans are 100 ms apart, so the server's order is the doors' order.
    let (max_skew, min_step) = if re_entry { (20, 100) } else { (2_000, 1) };
    let skew: Vec<i64> = (0..DOORS)
        .map(|_| rng.random_range(-max_skew..max_skew))
        .collect();
    let mut clock: i64 = AT - 3_600_000;
    let mut taken: Vec<Taken> = Vec::new();
    let mut standing = vec![Standing::default(); TICKETS];

    for round in 0..4 {
        // All connected: every door catches up, then decides online.
        for net in &nets {
            net.cut.store(false, Ordering::Release);
            net.stormy.store(false, Ordering::Release);
            net.land().await;
        }
        for door in &doors {
            door.sync()
                .await
                .unwrap_or_else(|e| panic!("seed {seed}: connected sync: {e}"));
        }
        for _ in 0..8 {
            clock += rng.random_range(min_step..2_000);
            let (d, t) = (rng.random_range(0..DOORS), rng.random_range(0..TICKETS));
            let direction = if rng.random_bool(0.3) {
                Direction::Exit
            } else {
                Direction::Entry
            };
            let scan = doors[d]
                .scan_at(&tickets[t].2, direction, clock + skew[d])
                .await
                .unwrap();
            let admitted = scan.outcome.decision.is_admitted();
            assert!(
                !(admitted && direction == Direction::Entry && standing[t].refuses_entry(re_entry)),
                "seed {seed} round {round}: ticket {t} let a second person in while every door was connected"
            );
            assert!(
                scan.online || !admitted,
                "seed {seed}: connected, an admission is the server's"
            );
            take(
                &mut taken,
                &mut standing,
                &scan,
                t,
                direction,
                clock + skew[d],
            );
        }
        // A partition: some doors cut off, the others on a stormy network.
        for net in &nets {
            net.stormy.store(true, Ordering::Release);
            net.cut.store(rng.random_bool(0.5), Ordering::Release);
        }
        let watches: Vec<_> = if background {
            doors
                .iter()
                .map(|door| {
                    let every = Duration::from_millis(rng.random_range(5..40));
                    door.watch(every, Arc::new(Quiet))
                })
                .collect()
        } else {
            Vec::new()
        };
        for _ in 0..12 {
            clock += rng.random_range(min_step..2_000);
            let d = rng.random_range(0..DOORS);
            if rng.random_bool(0.25) {
                let _ = doors[d].sync().await;
                continue;
            }
            let t = rng.random_range(0..TICKETS);
            let direction = if rng.random_bool(0.3) {
                Direction::Exit
            } else {
                Direction::Entry
            };
            let scan = doors[d]
                .scan_at(&tickets[t].2, direction, clock + skew[d])
                .await
                .unwrap();
            take(
                &mut taken,
                &mut standing,
                &scan,
                t,
                direction,
                clock + skew[d],
            );
        }
        for watch in watches {
            watch.cancel();
        }
    }

    // Heal: calm network, every request in flight lands, sync until a whole round moves
    // nothing.
    for net in &nets {
        net.cut.store(false, Ordering::Release);
        net.stormy.store(false, Ordering::Release);
        net.land().await;
    }
    for pass in 0.. {
        assert!(pass < 20, "seed {seed}: sync never went quiet");
        let mut moved = 0;
        for door in &doors {
            let report = door
                .sync()
                .await
                .unwrap_or_else(|e| panic!("seed {seed}: heal: {e}"));
            moved += report.pushed + report.scans;
        }
        if moved == 0 {
            break;
        }
    }

    // Every scan is on the server exactly once, with the decision the door showed.
    let on_server = server.scans(&org, &list).await;
    assert_eq!(
        on_server.len(),
        taken.len(),
        "seed {seed}: scans on the server"
    );
    for scan in &taken {
        let (decision, _) = on_server
            .get(&scan.id)
            .unwrap_or_else(|| panic!("seed {seed}: scan {} lost", scan.id));
        assert_eq!(
            decision == "admitted",
            scan.admitted,
            "seed {seed}: decision of {}",
            scan.id
        );
    }
    // The server classified every scan as the contract says.
    let (expected, settled) = expected_classes(&taken, re_entry);
    for (id, class) in &expected {
        assert_eq!(on_server[id].1, *class, "seed {seed}: server, scan {id}");
    }
    // Every door agrees with the server on every scan's class.
    for (i, door) in doors.iter().enumerate() {
        let known: BTreeMap<String, Option<String>> = door
            .known_scans()
            .await
            .unwrap()
            .into_iter()
            .map(|k| (k.id.to_string(), k.classification))
            .collect();
        assert_eq!(
            known.len(),
            taken.len(),
            "seed {seed}: door {i} knows every scan"
        );
        for (id, (_, class)) in &on_server {
            assert_eq!(
                known.get(id),
                Some(&Some(class.clone())),
                "seed {seed}: door {i}, scan {id}"
            );
        }
        assert_eq!(door.unpushed_count().await.unwrap(), 0, "seed {seed}");
    }
    // The organizer is alerted to exactly the double entries.
    let duplicates: HashSet<&String> = expected
        .iter()
        .filter(|(_, class)| **class == "duplicate_entry")
        .map(|(id, _)| id)
        .collect();
    let alerts = server
        .ok(
            Some(&org),
            "query($e: ID!) { duplicateAlerts(eventId: $e) { scan { id } } }",
            json!({ "e": event }),
        )
        .await;
    let alerted: HashSet<&String> = alerts["duplicateAlerts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| match &a["scan"]["id"] {
            Value::String(id) => id,
            other => panic!("seed {seed}: alert without a scan id: {other}"),
        })
        .collect();
    assert_eq!(alerted, duplicates, "seed {seed}: duplicate alerts");
    // Every door now decides from the same history: cut off, each refuses a ticket inside
    // (or used, without re-entry) wherever it went in, and admits the others. (Without
    // re-entry the reason may be either: a door counts a second person let in after the
    // first left as inside, the server's fold as a duplicate that changed nothing.)
    for net in &nets {
        net.cut.store(true, Ordering::Release);
    }
    for (d, door) in doors.iter().enumerate() {
        for (t, ticket) in tickets.iter().enumerate() {
            let standing = settled.get(&t).copied().unwrap_or_default();
            let scan = door
                .scan_at(&ticket.2, Direction::Entry, clock + 60_000 + skew[d])
                .await
                .unwrap();
            assert!(!scan.online, "seed {seed}: door {d} is cut off");
            let decision = scan.outcome.decision;
            let right = if standing.inside {
                decision == Decision::Rejected(ScanRejection::AlreadyInside)
            } else if standing.entered && !re_entry {
                matches!(
                    decision,
                    Decision::Rejected(ScanRejection::AlreadyUsed | ScanRejection::AlreadyInside)
                )
            } else {
                decision == Decision::Admitted
            };
            assert!(
                right,
                "seed {seed}: door {d}, ticket {t} after the heal: {decision:?}, standing {standing:?}"
            );
        }
    }
    let exits = taken
        .iter()
        .filter(|s| s.admitted && s.direction == Direction::Exit)
        .count();
    let too_slow: u64 = nets
        .iter()
        .map(|n| n.too_slow.load(Ordering::Relaxed))
        .sum();
    println!(
        "seed {seed} (re-entry {re_entry}): {} scans, {exits} exits, {too_slow} answers too late, {} double entries flagged on every door",
        taken.len(),
        duplicates.len()
    );
}

/// Notes a scan the simulation took, and what it did to its ticket.
fn take(
    taken: &mut Vec<Taken>,
    standing: &mut [Standing],
    scan: &guichet_sdk::scanner::DoorScan,
    ticket: usize,
    direction: Direction,
    device_time_ms: i64,
) {
    let admitted = scan.outcome.decision.is_admitted();
    if admitted {
        let s = &mut standing[ticket];
        match direction {
            Direction::Entry => {
                s.entered = true;
                s.inside = true;
            }
            Direction::Exit => s.inside = false,
        }
    }
    taken.push(Taken {
        id: scan.outcome.scan_id.to_string(),
        ticket,
        device_time_ms,
        direction,
        admitted,
    });
}
