//! [`Door`]: a paired scanner that decides online when the server answers in time and
//! offline otherwise, and syncs with the server in batches.
//!
//! - **Pairing** redeems an organizer's one-time code for a device token (kept in the
//!   [`SecretStore`]), takes the server's device id, and pulls the snapshot.
//! - **Scanning** decides locally first (signature, revocation, validity, list, the history
//!   known here). An admitted scan then asks the server (`admitScan`) for at most the online
//!   budget (300 ms by default); the server's answer wins, and without one the local
//!   decision stands and the scan waits for the next push. Either way the scan is committed
//!   before the decision is returned. After a failed call the door stays offline (no
//!   waiting) until a sync succeeds or `retry_online_after` has passed.
//! - **Sync** pushes unpushed scans in batches of 200 (exactly once: the server keys them by
//!   scan id), then pulls pages until quiet, each page applied in one transaction with its
//!   cursor. A `DEVICE_REVOKED` answer wipes the event's data.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use guichet_domain::admission::{Decision, ScanRejection};
use guichet_domain::checkin::{CheckInList, CheckInListFields, Direction};
use guichet_domain::keyring::{EventKeyRing, KeyId, KeyStatus, public_key_from_hex};
use uuid::Uuid;

use super::{PendingScan, ScanOutcome, Scanner, now_ms};
use crate::Error;
use crate::api::operations::{AdmitScan, PushScans, RedeemPairing, ScannerSync};
use crate::api::operations::{admit_scan, push_scans, redeem_pairing, scanner_sync};
use crate::api::{Api, ErrorCode};
use crate::notify::{Progress, ProgressListener, Task, TaskHandle, spawn_task};
use crate::session::{FileSecretStore, SecretStore};
use crate::store::{EventConfig, KnownScan, PulledPage, ScanRecord, Store, SyncedScan};
use crate::transport::{HttpConfig, HttpTransport, Transport};

/// File name of the door's database in its data directory.
pub const DOOR_DATABASE_FILE: &str = "door.db";
/// Secret-store key of the device token.
const TOKEN_KEY: &str = "scanner-device-token";
/// Most scans per push (the server's limit).
pub const PUSH_BATCH: usize = 200;

/// How a door talks to the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DoorOptions {
    /// Longest wait for the server's online decision before deciding offline.
    pub online_budget: Duration,
    /// After a failed call, how long the door decides offline without asking.
    pub retry_online_after: Duration,
    /// Tickets per snapshot page and changes per feed page.
    pub page_limit: i64,
}

impl Default for DoorOptions {
    fn default() -> DoorOptions {
        DoorOptions {
            online_budget: Duration::from_millis(300),
            retry_online_after: Duration::from_secs(5),
            page_limit: 20_000,
        }
    }
}

/// A scan's outcome at the door, and whether the server took part in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DoorScan {
    /// What to show (already durable).
    pub outcome: ScanOutcome,
    /// The server decided (online); `false`: decided from local knowledge alone.
    pub online: bool,
}

/// What a [`Door::sync`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DoorSyncReport {
    /// Scans pushed.
    pub pushed: usize,
    /// Pages pulled.
    pub pages: usize,
    /// Snapshot tickets received.
    pub tickets: usize,
    /// Revocations received.
    pub revoked: usize,
    /// Scans received (new or re-classified).
    pub scans: usize,
}

/// Options for pairing or opening a [`Door`].
#[derive(Debug)]
pub struct DoorBuilder {
    server_url: String,
    data_dir: PathBuf,
    gate: String,
    transport: Option<Arc<dyn Transport>>,
    secrets: Option<Arc<dyn SecretStore>>,
    options: DoorOptions,
}

impl DoorBuilder {
    /// Uses `transport` instead of HTTP.
    pub fn transport(mut self, transport: Arc<dyn Transport>) -> DoorBuilder {
        self.transport = Some(transport);
        self
    }

    /// Keeps the device token in the host's secure storage.
    pub fn secret_store(mut self, secrets: Arc<dyn SecretStore>) -> DoorBuilder {
        self.secrets = Some(secrets);
        self
    }

    /// Online budget, retry delay, page size.
    pub fn options(mut self, options: DoorOptions) -> DoorBuilder {
        self.options = options;
        self
    }

    fn parts(&self) -> Result<(Api, Arc<dyn SecretStore>), Error> {
        let transport = match &self.transport {
            Some(transport) => transport.clone(),
            None => Arc::new(HttpTransport::new(
                &self.server_url,
                &HttpConfig::default(),
            )?),
        };
        let secrets = self.secrets.clone().unwrap_or_else(|| {
            Arc::new(FileSecretStore::new(self.data_dir.join("secrets"))) as Arc<dyn SecretStore>
        });
        Ok((Api::new(transport), secrets))
    }

    /// Redeems a pairing code, pulls the event's snapshot and opens the door. A store that
    /// was paired before is wiped first.
    pub async fn pair(self, code: &str, device_name: &str) -> Result<Door, Error> {
        let (api, secrets) = self.parts()?;
        let vars = redeem_pairing::Variables {
            code: code.to_owned(),
            device_name: device_name.to_owned(),
        };
        let enrolled = api
            .run::<RedeemPairing>(vars, None, false)
            .await?
            .redeem_pairing;
        let device_id = parse_uuid(&enrolled.device.id)?;
        let token = enrolled.device_token;
        let saver = secrets.clone();
        let saved = token.clone();
        blocking(move || Ok(saver.save(TOKEN_KEY, &saved)?)).await?;
        let path = self.data_dir.join(DOOR_DATABASE_FILE);
        let dir = self.data_dir.clone();
        let url = self.server_url.clone();
        let store = blocking(move || {
            std::fs::create_dir_all(&dir).map_err(|e| Error::DataDir(format!("{e}")))?;
            let mut store = Store::open(&path)?;
            store.wipe_event()?;
            store.set_device_id(device_id)?;
            store.set_meta("server_url", &url)?;
            Ok(store)
        })
        .await?;
        // The first pull configures the store; the scanner opens on it afterwards.
        let thread = DoorThread::unconfigured(store).await?;
        let door = Door::assemble(api, secrets, thread, token, &self.gate, self.options);
        door.pull().await?;
        door.inner.thread.open_scanner(&self.gate).await?;
        Ok(door)
    }

    /// Opens a door paired before.
    pub async fn open(self) -> Result<Door, Error> {
        let (api, secrets) = self.parts()?;
        let loader = secrets.clone();
        let token = blocking(move || Ok(loader.load(TOKEN_KEY)?))
            .await?
            .ok_or(Error::NotPaired)?;
        let path = self.data_dir.join(DOOR_DATABASE_FILE);
        let store = blocking(move || Store::open(&path)).await?;
        let thread = DoorThread::unconfigured(store).await?;
        thread.open_scanner(&self.gate).await?;
        Ok(Door::assemble(
            api,
            secrets,
            thread,
            token,
            &self.gate,
            self.options,
        ))
    }
}

/// A paired door. Cheap to clone: clones share the scanner, its store and the token.
#[derive(Debug, Clone)]
pub struct Door {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    api: Api,
    secrets: Arc<dyn SecretStore>,
    thread: DoorThread,
    token: String,
    gate: String,
    options: DoorOptions,
    /// The last call reached the server.
    online: AtomicBool,
    /// When the last call failed.
    failed_at: Mutex<Option<Instant>>,
    /// One scan at a time (a decision reads the presence the previous one wrote).
    scanning: tokio::sync::Mutex<()>,
    /// One sync at a time.
    syncing: tokio::sync::Mutex<()>,
}

impl Door {
    /// Options for pairing or opening the door whose data lives in `data_dir`, at `gate`.
    pub fn builder(server_url: &str, data_dir: impl AsRef<Path>, gate: &str) -> DoorBuilder {
        DoorBuilder {
            server_url: server_url.trim().trim_end_matches('/').to_owned(),
            data_dir: data_dir.as_ref().to_owned(),
            gate: gate.to_owned(),
            transport: None,
            secrets: None,
            options: DoorOptions::default(),
        }
    }

    fn assemble(
        api: Api,
        secrets: Arc<dyn SecretStore>,
        thread: DoorThread,
        token: String,
        gate: &str,
        options: DoorOptions,
    ) -> Door {
        Door {
            inner: Arc::new(Inner {
                api,
                secrets,
                thread,
                token,
                gate: gate.to_owned(),
                options,
                online: AtomicBool::new(true),
                failed_at: Mutex::new(None),
                scanning: tokio::sync::Mutex::new(()),
                syncing: tokio::sync::Mutex::new(()),
            }),
        }
    }

    /// The gate this door stands at.
    pub fn gate(&self) -> &str {
        &self.inner.gate
    }

    /// Whether the last call reached the server.
    pub fn is_online(&self) -> bool {
        self.inner.online.load(Ordering::Acquire)
    }

    /// Scans credential text now.
    pub async fn scan(&self, text: &str, direction: Direction) -> Result<DoorScan, Error> {
        self.scan_at(text, direction, now_ms()).await
    }

    /// Scans credential text at a device time (Unix milliseconds).
    pub async fn scan_at(
        &self,
        text: &str,
        direction: Direction,
        device_time_ms: i64,
    ) -> Result<DoorScan, Error> {
        let _one = self.inner.scanning.lock().await;
        let text = text.to_owned();
        let pending = self
            .inner
            .thread
            .call(move |s| s.decide(&text, direction, device_time_ms))
            .await?;
        let local = pending.scan.decision;
        if local.is_admitted() && self.should_ask() {
            let input = scan_fields(&pending.scan);
            let asked = tokio::time::timeout(self.inner.options.online_budget, async {
                let vars = admit_scan::Variables {
                    device_token: self.inner.token.clone(),
                    scan: admit_input(input),
                };
                self.inner.api.run::<AdmitScan>(vars, None, true).await
            })
            .await;
            match asked {
                Ok(Ok(answer)) => {
                    self.reached();
                    let answer = answer.admit_scan;
                    let decision = match (&answer.decision, answer.reason.as_deref()) {
                        (admit_scan::ScanDecision::ADMITTED, _) => Decision::Admitted,
                        (_, Some(code)) => Decision::Rejected(
                            ScanRejection::from_codes(code, code)
                                .ok_or(Error::Protocol("unknown rejection code"))?,
                        ),
                        _ => return Err(Error::Protocol("a rejection without its reason")),
                    };
                    let class = admit_class(&answer.classification);
                    let outcome = self.commit(pending, decision, Some(class)).await?;
                    return Ok(DoorScan {
                        outcome,
                        online: true,
                    });
                }
                Ok(Err(error)) if error.api_code() == Some(ErrorCode::DeviceRevoked) => {
                    self.wipe().await?;
                    return Err(Error::DeviceRevoked);
                }
                Ok(Err(error)) => {
                    tracing::warn!(
                        code = error.code(),
                        "online decision failed; deciding offline"
                    );
                    self.failed();
                }
                Err(_elapsed) => self.failed(),
            }
        }
        let outcome = self.commit(pending, local, None).await?;
        Ok(DoorScan {
            outcome,
            online: false,
        })
    }

    async fn commit(
        &self,
        pending: PendingScan,
        decision: Decision,
        verdict: Option<&'static str>,
    ) -> Result<ScanOutcome, Error> {
        self.inner
            .thread
            .call(move |s| s.commit(pending, decision, verdict))
            .await
    }

    fn should_ask(&self) -> bool {
        if self.is_online() {
            return true;
        }
        let failed = *self
            .inner
            .failed_at
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        failed.is_none_or(|at| at.elapsed() >= self.inner.options.retry_online_after)
    }

    fn reached(&self) {
        self.inner.online.store(true, Ordering::Release);
    }

    fn failed(&self) {
        self.inner.online.store(false, Ordering::Release);
        *self
            .inner
            .failed_at
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(Instant::now());
    }

    /// Pushes unpushed scans, then pulls until quiet.
    pub async fn sync(&self) -> Result<DoorSyncReport, Error> {
        let _one = self.inner.syncing.lock().await;
        let outcome = async {
            let pushed = self.push().await?;
            let mut report = self.pull().await?;
            report.pushed = pushed;
            Ok(report)
        }
        .await;
        self.settle(outcome).await
    }

    async fn settle<T>(&self, outcome: Result<T, Error>) -> Result<T, Error> {
        match outcome {
            Ok(value) => {
                self.reached();
                Ok(value)
            }
            Err(error) if error.api_code() == Some(ErrorCode::DeviceRevoked) => {
                self.wipe().await?;
                Err(Error::DeviceRevoked)
            }
            Err(error) => {
                if matches!(error, Error::Transport(_)) {
                    self.failed();
                }
                Err(error)
            }
        }
    }

    async fn push(&self) -> Result<usize, Error> {
        let mut pushed = 0;
        loop {
            let batch = self
                .inner
                .thread
                .call_store(|store| store.unpushed(PUSH_BATCH))
                .await?;
            if batch.is_empty() {
                return Ok(pushed);
            }
            let vars = push_scans::Variables {
                device_token: self.inner.token.clone(),
                scans: batch.iter().map(|s| push_input(scan_fields(s))).collect(),
            };
            let results = self.inner.api.run::<PushScans>(vars, None, true).await?;
            let verdicts = results
                .push_scans
                .iter()
                .map(|r| Ok((parse_uuid(&r.id)?, push_class(&r.classification).to_owned())))
                .collect::<Result<Vec<_>, Error>>()?;
            if verdicts.len() != batch.len() {
                return Err(Error::Protocol(
                    "the server did not return every pushed scan",
                ));
            }
            pushed += verdicts.len();
            self.inner
                .thread
                .call_store(move |store| store.mark_pushed(&verdicts))
                .await?;
        }
    }

    async fn pull(&self) -> Result<DoorSyncReport, Error> {
        let mut report = DoorSyncReport::default();
        loop {
            let cursor = self.inner.thread.call_store(|s| s.sync_cursor()).await?;
            let vars = scanner_sync::Variables {
                device_token: self.inner.token.clone(),
                cursor,
                limit: self.inner.options.page_limit,
            };
            let data = self.inner.api.run::<ScannerSync>(vars, None, true).await?;
            let page = data.scanner_sync;
            let more = page.has_more;
            let page = decode_page(page)?;
            let applied = self.inner.thread.apply(page).await?;
            report.pages += 1;
            report.tickets += applied.tickets;
            report.revoked += applied.revoked;
            report.scans += applied.scans;
            if !more {
                return Ok(report);
            }
        }
    }

    /// Forgets the event and the device token (the organizer revoked this device).
    async fn wipe(&self) -> Result<(), Error> {
        let secrets = self.inner.secrets.clone();
        blocking(move || Ok(secrets.delete(TOKEN_KEY)?)).await?;
        self.inner.thread.call_wipe().await
    }

    /// Syncs now and then every `every`, reporting each sync as one unit of progress, until
    /// the handle is cancelled or dropped. Offline syncs are retried at the next tick; a
    /// revoked device ends the task (`DEVICE_REVOKED`).
    pub fn watch(&self, every: Duration, listener: Arc<dyn ProgressListener>) -> TaskHandle {
        let door = self.clone();
        let reporter = listener.clone();
        spawn_task(Task::DoorSync, listener, async move {
            let mut done = 0;
            loop {
                match door.sync().await {
                    Ok(_) => {}
                    Err(Error::DeviceRevoked) => return Err(Error::DeviceRevoked),
                    Err(error) => tracing::info!(code = error.code(), "door sync failed"),
                }
                done += 1;
                reporter.on_progress(Progress {
                    task: Task::DoorSync,
                    done,
                    total: None,
                });
                tokio::time::sleep(every).await;
            }
        })
    }

    /// Every scan known here with the server's verdict (this door's and synced ones).
    pub async fn known_scans(&self) -> Result<Vec<KnownScan>, Error> {
        self.inner.thread.call_store(|s| s.known_scans()).await
    }

    /// This door's scans the server does not have yet.
    pub async fn unpushed_count(&self) -> Result<i64, Error> {
        self.inner.thread.call_store(|s| s.unpushed_count()).await
    }

    /// The paired configuration (keys, list, revocations).
    pub async fn config(&self) -> Result<Option<EventConfig>, Error> {
        self.inner
            .thread
            .call_store(|s| s.load_event_config())
            .await
    }

    /// The snapshot's ticket count and how many of them are revoked.
    pub async fn ticket_counts(&self) -> Result<(i64, i64), Error> {
        self.inner
            .thread
            .call_store(|s| s.list_ticket_counts())
            .await
    }
}

impl Scanner {
    /// Applies a pulled page, then reads the configuration again.
    fn apply_page(&mut self, page: &PulledPage) -> Result<crate::store::Applied, Error> {
        let applied = self.store_mut().apply_page(page)?;
        self.reload()?;
        Ok(applied)
    }
}

/// The thread that owns the door's store: a scanner once configured, the bare store before.
#[derive(Debug, Clone)]
struct DoorThread {
    jobs: std::sync::mpsc::Sender<Job>,
}

enum Slot {
    Store(Store),
    Scanner(Box<Scanner>),
    Gone,
}

impl Slot {
    fn store(&mut self) -> Result<&mut Store, Error> {
        match self {
            Slot::Store(store) => Ok(store),
            Slot::Scanner(scanner) => Ok(scanner.store_mut()),
            Slot::Gone => Err(Error::DeviceRevoked),
        }
    }
}

type Job = Box<dyn FnOnce(&mut Slot) + Send>;

impl DoorThread {
    async fn unconfigured(store: Store) -> Result<DoorThread, Error> {
        let (jobs, queue) = std::sync::mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("guichet-door".into())
            .spawn(move || {
                let mut slot = Slot::Store(store);
                while let Ok(job) = queue.recv() {
                    job(&mut slot);
                }
            })
            .map_err(|e| Error::DataDir(format!("cannot start the door thread: {e}")))?;
        Ok(DoorThread { jobs })
    }

    async fn run<T, F>(&self, job: F) -> Result<T, Error>
    where
        F: FnOnce(&mut Slot) -> Result<T, Error> + Send + 'static,
        T: Send + 'static,
    {
        let (reply, answer) = tokio::sync::oneshot::channel();
        self.jobs
            .send(Box::new(move |slot| {
                let _ = reply.send(job(slot));
            }))
            .map_err(|_| Error::StoreClosed)?;
        answer.await.map_err(|_| Error::StoreClosed)?
    }

    /// Runs `job` on the scanner (paired and configured).
    async fn call<T, F>(&self, job: F) -> Result<T, Error>
    where
        F: FnOnce(&mut Scanner) -> Result<T, Error> + Send + 'static,
        T: Send + 'static,
    {
        self.run(move |slot| match slot {
            Slot::Scanner(scanner) => job(scanner),
            Slot::Store(_) => Err(Error::NotConfigured),
            Slot::Gone => Err(Error::DeviceRevoked),
        })
        .await
    }

    /// Runs `job` on the store, configured or not.
    async fn call_store<T, F>(&self, job: F) -> Result<T, Error>
    where
        F: FnOnce(&mut Store) -> Result<T, Error> + Send + 'static,
        T: Send + 'static,
    {
        self.run(move |slot| job(slot.store()?)).await
    }

    /// Applies a pulled page to the scanner, or to the bare store before the first pull
    /// configured it.
    async fn apply(&self, page: PulledPage) -> Result<crate::store::Applied, Error> {
        self.run(move |slot| match slot {
            Slot::Scanner(scanner) => scanner.apply_page(&page),
            Slot::Store(store) => store.apply_page(&page),
            Slot::Gone => Err(Error::DeviceRevoked),
        })
        .await
    }

    /// Opens the scanner on the (now configured) store at `gate`.
    async fn open_scanner(&self, gate: &str) -> Result<(), Error> {
        let gate = gate.to_owned();
        self.run(move |slot| {
            let Slot::Store(_) = slot else {
                return Ok(());
            };
            let Slot::Store(store) = std::mem::replace(slot, Slot::Gone) else {
                return Ok(());
            };
            if !store.is_configured()? {
                *slot = Slot::Store(store);
                return Err(Error::NotPaired);
            }
            *slot = Slot::Scanner(Box::new(Scanner::open(store, &gate)?));
            Ok(())
        })
        .await
    }

    /// Wipes the event's data and closes the scanner: every later call is `DeviceRevoked`.
    async fn call_wipe(&self) -> Result<(), Error> {
        self.run(|slot| {
            let result = slot.store().and_then(Store::wipe_event);
            *slot = Slot::Gone;
            result
        })
        .await
    }
}

/// The fields a scan is pushed with, before they become one operation's input type.
struct ScanFields {
    id: String,
    ticket_id: Option<String>,
    device_time: chrono::DateTime<chrono::Utc>,
    gate: String,
    entry: bool,
    admitted: bool,
    reason: Option<String>,
}

fn scan_fields(scan: &ScanRecord) -> ScanFields {
    ScanFields {
        id: scan.id.to_string(),
        ticket_id: scan.ticket_id.map(|t| t.to_string()),
        device_time: chrono::DateTime::from_timestamp_millis(scan.device_time_ms)
            .unwrap_or_default(),
        gate: scan.gate.clone(),
        entry: scan.direction == Direction::Entry,
        admitted: scan.decision.is_admitted(),
        reason: match scan.decision {
            Decision::Admitted => None,
            Decision::Rejected(r) => Some(r.code().to_owned()),
        },
    }
}

macro_rules! scan_input {
    ($name:ident, $module:ident) => {
        fn $name(f: ScanFields) -> $module::ScanInput {
            $module::ScanInput {
                id: f.id,
                ticket_id: f.ticket_id,
                device_time: f.device_time,
                gate: f.gate,
                direction: if f.entry {
                    $module::ScanDirection::ENTRY
                } else {
                    $module::ScanDirection::EXIT
                },
                decision: if f.admitted {
                    $module::ScanDecision::ADMITTED
                } else {
                    $module::ScanDecision::REJECTED
                },
                reason: f.reason,
            }
        }
    };
}
scan_input!(admit_input, admit_scan);
scan_input!(push_input, push_scans);

macro_rules! class_name {
    ($name:ident, $module:ident) => {
        fn $name(class: &$module::ScanClass) -> &'static str {
            match class {
                $module::ScanClass::ADMITTED => "admitted",
                $module::ScanClass::DUPLICATE_ENTRY => "duplicate_entry",
                $module::ScanClass::EXITED => "exited",
                _ => "rejected",
            }
        }
    };
}
class_name!(admit_class, admit_scan);
class_name!(push_class, push_scans);
class_name!(sync_class, scanner_sync);

fn parse_uuid(text: &str) -> Result<Uuid, Error> {
    Uuid::parse_str(text).map_err(|_| Error::Protocol("an id is not a UUID"))
}

fn decode_page(page: scanner_sync::ScannerSyncScannerSync) -> Result<PulledPage, Error> {
    let list = page.list;
    let event = parse_uuid(&list.event_id)?;
    let fields = CheckInListFields {
        id: parse_uuid(&list.id)?,
        event_id: event,
        name: list.name,
        ticket_types: list
            .ticket_type_ids
            .iter()
            .map(|t| parse_uuid(t))
            .collect::<Result<_, _>>()?,
        gates: list.gates.into_iter().collect(),
        re_entry: list.re_entry,
    };
    let list = CheckInList::new(fields).map_err(|e| Error::Config(e.to_string()))?;
    let mut keys = EventKeyRing::new(event);
    for key in page.keys {
        let id = u32::try_from(key.key_id).map_err(|_| Error::Protocol("key id out of range"))?;
        let public = public_key_from_hex(&key.public_key)
            .map_err(|_| Error::Protocol("a public key is not Ed25519 hex"))?;
        let status = KeyStatus::parse(&key.status.to_lowercase())
            .ok_or(Error::Protocol("unknown key status"))?;
        keys.insert(KeyId(id), public, status)
            .map_err(|e| Error::Config(e.to_string()))?;
    }
    let types = page
        .ticket_type_ids
        .iter()
        .map(|t| parse_uuid(t))
        .collect::<Result<Vec<_>, _>>()?;
    let packed = STANDARD
        .decode(&page.tickets)
        .map_err(|_| Error::Protocol("tickets are not base64"))?;
    if packed.len() % 18 != 0 {
        return Err(Error::Protocol("tickets are not 18-byte records"));
    }
    let tickets = packed
        .chunks_exact(18)
        .map(|r| {
            let id = Uuid::from_slice(&r[..16]).map_err(|_| Error::Protocol("ticket id"))?;
            let ticket_type = *types
                .get(usize::from(r[16]))
                .ok_or(Error::Protocol("ticket type index"))?;
            Ok((id, ticket_type, r[17] == 1))
        })
        .collect::<Result<Vec<_>, Error>>()?;
    let revoked_bytes = STANDARD
        .decode(&page.revoked)
        .map_err(|_| Error::Protocol("revocations are not base64"))?;
    if revoked_bytes.len() % 16 != 0 {
        return Err(Error::Protocol("revocations are not 16-byte ids"));
    }
    let revoked = revoked_bytes
        .chunks_exact(16)
        .map(|r| Uuid::from_slice(r).map_err(|_| Error::Protocol("revoked id")))
        .collect::<Result<Vec<_>, _>>()?;
    let scans = page
        .scans
        .into_iter()
        .map(|s| {
            Ok(SyncedScan {
                id: parse_uuid(&s.id)?,
                device_id: parse_uuid(&s.device_id)?,
                ticket_id: s.ticket_id.as_deref().map(parse_uuid).transpose()?,
                device_time_ms: s.device_time.timestamp_millis(),
                gate: s.gate,
                direction: match s.direction {
                    scanner_sync::ScanDirection::EXIT => Direction::Exit,
                    _ => Direction::Entry,
                },
                admitted: matches!(s.decision, scanner_sync::ScanDecision::ADMITTED),
                reason: s.reason,
                classification: sync_class(&s.classification).to_owned(),
            })
        })
        .collect::<Result<Vec<_>, Error>>()?;
    Ok(PulledPage {
        cursor: page.cursor,
        config: EventConfig {
            keys,
            list,
            revocations: Default::default(),
        },
        tickets,
        revoked,
        scans,
    })
}

async fn blocking<T, F>(work: F) -> Result<T, Error>
where
    F: FnOnce() -> Result<T, Error> + Send + 'static,
    T: Send + 'static,
{
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|_| Error::StoreClosed)?
}
