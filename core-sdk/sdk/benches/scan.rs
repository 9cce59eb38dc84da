//! The offline scan path against its bare steps.
//!
//! `full_path`: `Scanner::scan` — base45 decode, Ed25519 verify, revocation and list
//! checks, presence look-up, and the durable commit of the scan and the ticket's presence
//! (WAL, synchronous=FULL), single-threaded, every scan admitted.
//!
//! `bare_steps`: the same text's base45 decode, one Ed25519 verify and one autocommit
//! insert into a one-table database with the same pragmas. The ratio of the two is the
//! cost of everything the scanner adds.
//!
//! After criterion's figures, a latency pass times 5,000 single scans of each and prints
//! p50/p99/max (criterion reports means, not tails).
//!
//! Run: `cargo bench -p guichet-sdk --bench scan`

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group};
use guichet_domain::checkin::{CheckInList, CheckInListFields, Direction};
use guichet_domain::credential::{Credential, TicketClaims, Validity, base45};
use guichet_domain::keyring::{EventKeyRing, IssuingKey, KeyId, VerifyingKey};
use guichet_domain::revocation::RevocationSet;
use guichet_sdk::scanner::{EventConfig, Scanner, now_ms};
use guichet_sdk::store::Store;
use rusqlite::Connection;
use uuid::Uuid;

const EVENT: Uuid = Uuid::from_u128(0xE1);
const STANDING: Uuid = Uuid::from_u128(0x71);
const TICKETS: usize = 4096;

struct Fixture {
    _dir: tempfile::TempDir,
    scanner: Scanner,
    texts: Vec<String>,
    public_key: VerifyingKey,
    bare: Connection,
    next: usize,
}

impl Fixture {
    fn new() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let key = IssuingKey::from_seed(EVENT, KeyId(1), [5; 32]);
        let mut keys = EventKeyRing::new(EVENT);
        keys.rotate(key.key_id(), key.public_key()).unwrap();
        let list = CheckInList::new(CheckInListFields {
            id: Uuid::from_u128(0x11),
            event_id: EVENT,
            name: "Standing".into(),
            ticket_types: [STANDING].into(),
            gates: ["north".to_string()].into(),
            re_entry: true,
        })
        .unwrap();
        let revocations: RevocationSet = (0..1000u128)
            .map(|n| Uuid::from_u128(1 << 100 | n))
            .collect();
        let mut store = Store::open(dir.path().join("door.db")).unwrap();
        store
            .save_event_config(&EventConfig {
                keys,
                list,
                revocations,
            })
            .unwrap();
        let scanner = Scanner::open(store, "north").unwrap();
        let now = now_ms() / 1000;
        let texts = (0..TICKETS as u128)
            .map(|n| {
                let claims = TicketClaims {
                    ticket_id: Uuid::from_u128(n),
                    event_id: EVENT,
                    ticket_type_id: STANDING,
                    validity: Validity::new(now - 3600, now + 30 * 86_400).unwrap(),
                };
                key.issue(claims).unwrap().to_text()
            })
            .collect();
        let bare = bare_connection(&dir.path().join("bare.db"));
        Fixture {
            _dir: dir,
            scanner,
            texts,
            public_key: key.public_key(),
            bare,
            next: 0,
        }
    }

    /// One full scan; entries on even rounds over the tickets, exits on odd ones, so every
    /// scan is admitted.
    fn full_scan(&mut self) {
        let i = self.next;
        self.next += 1;
        let direction = if (i / TICKETS).is_multiple_of(2) {
            Direction::Entry
        } else {
            Direction::Exit
        };
        let outcome = self
            .scanner
            .scan(&self.texts[i % TICKETS], direction)
            .unwrap();
        assert!(outcome.decision.is_admitted());
    }

    fn bare_steps(&mut self) {
        let i = self.next;
        self.next += 1;
        let text = &self.texts[i % TICKETS];
        let bytes = base45::decode(text).unwrap();
        let signed = &bytes[..61];
        let signature = Credential::from_bytes(&bytes).unwrap().signature();
        self.public_key
            .verify_strict(black_box(signed), &signature)
            .unwrap();
        self.bare
            .prepare_cached("INSERT INTO scans (id, body) VALUES (?1, ?2)")
            .unwrap()
            .execute((Uuid::now_v7().as_bytes(), &bytes[5..21]))
            .unwrap();
    }
}

fn bare_connection(path: &Path) -> Connection {
    let conn = Connection::open(path).unwrap();
    let _: String = conn
        .pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))
        .unwrap();
    conn.pragma_update(None, "synchronous", "FULL").unwrap();
    conn.execute_batch("CREATE TABLE scans (id BLOB PRIMARY KEY, body BLOB NOT NULL) STRICT")
        .unwrap();
    conn
}

fn scan_benches(c: &mut Criterion) {
    let mut group = c.benchmark_group("scan");
    group.throughput(Throughput::Elements(1));
    let mut fixture = Fixture::new();
    group.bench_function("full_path", |b| b.iter(|| fixture.full_scan()));
    let mut fixture = Fixture::new();
    group.bench_function("bare_steps", |b| b.iter(|| fixture.bare_steps()));
    group.finish();
}

fn percentiles(name: &str, mut samples: Vec<Duration>) {
    samples.sort();
    let at = |q: f64| samples[((samples.len() as f64 * q) as usize).min(samples.len() - 1)];
    println!(
        "latency {name:<10} n={} p50={:?} p99={:?} max={:?}",
        samples.len(),
        at(0.50),
        at(0.99),
        samples[samples.len() - 1]
    );
}

/// Times single operations (criterion's figures are means over batches).
fn latency_pass() {
    const N: usize = 5000;
    let mut fixture = Fixture::new();
    let timed = |f: &mut dyn FnMut()| {
        let start = Instant::now();
        f();
        start.elapsed()
    };
    let full: Vec<Duration> = (0..N).map(|_| timed(&mut || fixture.full_scan())).collect();
    let mut fixture = Fixture::new();
    let bare: Vec<Duration> = (0..N)
        .map(|_| timed(&mut || fixture.bare_steps()))
        .collect();
    percentiles("full_path", full);
    percentiles("bare_steps", bare);
}

criterion_group!(benches, scan_benches);

fn main() {
    benches();
    // `cargo test --benches` runs each benchmark once without `--bench`; skip the pass then.
    if std::env::args().any(|arg| arg == "--bench") {
        latency_pass();
    }
    Criterion::default().configure_from_args().final_summary();
}
