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
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use guichet_domain::admission::{Decision, ScanRejection};
use guichet_domain::checkin::Direction;

use super::door_thread::DoorThread;
use super::wire::{
    admit_class, admit_input, decode_page, parse_uuid, push_class, push_input, scan_fields,
};
use super::{PendingScan, ScanOutcome, now_ms};
use crate::Error;
use crate::ErrorKind;
use crate::api::operations::{AdmitScan, PushScans, RedeemPairing, ScannerSync};
use crate::api::operations::{admit_scan, push_scans, redeem_pairing, scanner_sync};
use crate::core::{Core, Runtime, Setup, blocking, create_dir};
use crate::notify::{Progress, ProgressListener, Task, TaskHandle, spawn_task};
use crate::session::SecretStore;
use crate::store::{EventConfig, KnownScan, Store};
use crate::transport::{HttpConfig, Transport};

/// File name of the door's database in its data directory.
pub const DOOR_DATABASE_FILE: &str = "door.db";
/// Secret-store key of the device token.
const TOKEN_KEY: &str = "scanner-device-token";
/// Most scans per push (the server's limit).
pub const PUSH_BATCH: usize = 200;

/// How a door talks to the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
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
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct DoorScan {
    /// What to show (already durable).
    pub outcome: ScanOutcome,
    /// The server decided (online); `false`: decided from local knowledge alone.
    pub online: bool,
    /// The ticket type's name, as the door's last pull gave it (known offline too);
    /// `None` when the credential was not genuine or no pull named the type (a door
    /// opened from an exported configuration).
    pub ticket_type_name: Option<String>,
}

/// A door scan as every shell shows it: flat (no enum carrying data, so uniffi, Dart and
/// TypeScript hold it as a plain record), made from a [`DoorScan`] with `From`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct ScanResult {
    /// The stored scan's id (durable when this value exists).
    pub scan_id: String,
    /// Let them through.
    pub admitted: bool,
    /// Why not: the platform's closed set (`invalid`, `wrong_event`, `not_on_list`,
    /// `revoked`, `not_yet_valid`, `expired`, `already_inside`, `already_used`,
    /// `not_inside`); `None` when admitted.
    pub reason: Option<String>,
    /// The finer cause behind `invalid` (`malformed`, `unknown_key`, `retired_key`,
    /// `bad_signature`, `unsupported_version`); the reason itself otherwise.
    pub detail: Option<String>,
    /// The ticket, when the credential was genuine for this event.
    pub ticket_id: Option<String>,
    /// Its ticket type, when genuine.
    pub ticket_type_id: Option<String>,
    /// That ticket type's name, when the door knows it (from its pulls, offline too).
    pub ticket_type_name: Option<String>,
    /// The server took part in the decision.
    pub online: bool,
    /// Device clock at the scan, Unix milliseconds.
    pub device_time_ms: i64,
}

impl From<&DoorScan> for ScanResult {
    fn from(scan: &DoorScan) -> ScanResult {
        let outcome = &scan.outcome;
        let rejection = match outcome.decision {
            Decision::Admitted => None,
            Decision::Rejected(reason) => Some(reason),
        };
        ScanResult {
            scan_id: outcome.scan_id.to_string(),
            admitted: rejection.is_none(),
            reason: rejection.map(|r| r.code().to_owned()),
            detail: rejection.map(|r| r.detail().to_owned()),
            ticket_id: outcome.ticket.map(|t| t.ticket_id.to_string()),
            ticket_type_id: outcome.ticket.map(|t| t.ticket_type_id.to_string()),
            ticket_type_name: scan.ticket_type_name.clone(),
            online: scan.online,
            device_time_ms: outcome.device_time_ms,
        }
    }
}

/// What a [`Door::sync`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
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

/// What a door's screen shows besides the decision: where it stands and how fresh it is.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct DoorStatus {
    /// The gate this door stands at.
    pub gate: String,
    /// The paired list's name.
    pub list_name: String,
    /// The paired list's gates (to choose from).
    pub gates: Vec<String>,
    /// Whether the last call reached the server.
    pub online: bool,
    /// This door's scans the server does not have yet.
    pub unpushed: i64,
    /// When the last sync succeeded (Unix milliseconds), if one has since the door opened.
    pub last_synced_ms: Option<i64>,
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
    http: HttpConfig,
    runtime: Option<tokio::runtime::Handle>,
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

    /// Timeouts and retries of the default HTTP transport.
    pub fn http(mut self, http: HttpConfig) -> DoorBuilder {
        self.http = http;
        self
    }

    /// Spawns the door's background sync on `runtime` (by default: the runtime `pair` or
    /// `open` runs on).
    pub fn runtime(mut self, runtime: tokio::runtime::Handle) -> DoorBuilder {
        self.runtime = Some(runtime);
        self
    }

    fn core(&self) -> Result<Core, Error> {
        Core::new(Setup {
            server_url: self.server_url.clone(),
            data_dir: self.data_dir.clone(),
            transport: self.transport.clone(),
            secrets: self.secrets.clone(),
            http: self.http.clone(),
            runtime: self.runtime.clone(),
        })
    }

    /// Redeems a pairing code, pulls the event's snapshot and opens the door. A store that
    /// was paired before is wiped first.
    pub async fn pair(self, code: &str, device_name: &str) -> Result<Door, Error> {
        let core = self.core()?;
        let vars = redeem_pairing::Variables {
            code: code.to_owned(),
            device_name: device_name.to_owned(),
        };
        let enrolled = core
            .api
            .run::<RedeemPairing>(vars, None, false)
            .await?
            .redeem_pairing;
        let device_id = parse_uuid(&enrolled.device.id)?;
        let token = enrolled.device_token;
        let saver = core.secrets.clone();
        let saved = token.clone();
        blocking(move || Ok(saver.save(TOKEN_KEY, &saved)?)).await?;
        let path = core.file(DOOR_DATABASE_FILE);
        let dir = core.data_dir.clone();
        let url = core.server_url.clone();
        let store = blocking(move || {
            create_dir(&dir)?;
            let mut store = Store::open(&path)?;
            store.wipe_event()?;
            store.set_device_id(device_id)?;
            store.set_meta("server_url", &url)?;
            Ok(store)
        })
        .await?;
        // The first pull configures the store; the scanner opens on it afterwards.
        let thread = DoorThread::unconfigured(store).await?;
        let door = Door::assemble(Link::of(core, token), thread, &self.gate, self.options);
        door.pull().await?;
        door.inner.thread.open_scanner(&self.gate).await?;
        Ok(door)
    }

    /// Opens a door paired before.
    pub async fn open(self) -> Result<Door, Error> {
        let core = self.core()?;
        let loader = core.secrets.clone();
        let token = blocking(move || Ok(loader.load(TOKEN_KEY)?))
            .await?
            .ok_or(Error::NotPaired)?;
        let path = core.file(DOOR_DATABASE_FILE);
        let store = blocking(move || Store::open(&path)).await?;
        let thread = DoorThread::unconfigured(store).await?;
        thread.open_scanner(&self.gate).await?;
        Ok(Door::assemble(
            Link::of(core, token),
            thread,
            &self.gate,
            self.options,
        ))
    }
}

/// A door opened from an exported configuration, with no server (what a venue without a
/// network, or a test bench, runs): see [`Door::open_offline`].
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct OfflineDoorConfig {
    /// Where the door keeps its database (created if missing).
    pub data_dir: String,
    /// The gate this door stands at (one of the list's gates).
    pub gate: String,
    /// The event's exported configuration as JSON (keys, list, revocations: the
    /// [`EventConfig`] a door-setup tool writes); `None` reopens the one stored by an
    /// earlier open.
    pub event_json: Option<String>,
}

/// The server side of a paired door: its API and device token.
#[derive(Debug)]
struct Link {
    core: Core,
    token: String,
}

impl Link {
    fn of(core: Core, token: String) -> Link {
        Link { core, token }
    }
}

/// A paired door. Cheap to clone: clones share the scanner, its store and the token.
#[derive(Debug, Clone)]
pub struct Door {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    /// Where background syncs run.
    runtime: Runtime,
    /// The server and this device's token; `None` for a door opened offline.
    link: Option<Link>,
    thread: DoorThread,
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
    /// When the last sync succeeded (Unix milliseconds), 0 before the first.
    synced_ms: AtomicI64,
}

impl Door {
    /// Options for pairing or opening the door whose data lives in `data_dir`, at `gate`.
    pub fn builder(server_url: &str, data_dir: impl AsRef<Path>, gate: &str) -> DoorBuilder {
        DoorBuilder {
            server_url: server_url.to_owned(),
            data_dir: data_dir.as_ref().to_owned(),
            gate: gate.to_owned(),
            transport: None,
            secrets: None,
            options: DoorOptions::default(),
            http: HttpConfig::default(),
            runtime: None,
        }
    }

    /// Opens a door on an exported event configuration, with no server: every decision is
    /// taken locally and committed before it returns, as when a paired door is offline;
    /// [`Door::sync`] answers `NOT_PAIRED`. The configuration given replaces the stored one
    /// (scans taken before are kept).
    pub async fn open_offline(config: OfflineDoorConfig) -> Result<Door, Error> {
        let runtime = Runtime::pick(None)?;
        let path = Path::new(&config.data_dir).join(DOOR_DATABASE_FILE);
        let dir = PathBuf::from(&config.data_dir);
        let event = config
            .event_json
            .as_deref()
            .map(serde_json::from_str::<EventConfig>)
            .transpose()
            .map_err(|e| Error::InvalidArgument {
                field: "event_json",
                message: format!("not an exported event configuration: {e}"),
            })?;
        let store = blocking(move || {
            create_dir(&dir)?;
            let mut store = Store::open(&path)?;
            if let Some(event) = &event {
                store.save_event_config(event)?;
            }
            Ok(store)
        })
        .await?;
        let thread = DoorThread::unconfigured(store).await?;
        // Nothing to pair with here: an empty store lacks a configuration, not a pairing.
        thread
            .open_scanner(&config.gate)
            .await
            .map_err(|e| match e {
                Error::NotPaired => Error::NotConfigured,
                other => other,
            })?;
        let door = Door::assemble_with(runtime, None, thread, &config.gate, DoorOptions::default());
        door.inner.online.store(false, Ordering::Release);
        Ok(door)
    }

    fn assemble(link: Link, thread: DoorThread, gate: &str, options: DoorOptions) -> Door {
        let runtime = link.core.runtime.clone();
        Door::assemble_with(runtime, Some(link), thread, gate, options)
    }

    fn assemble_with(
        runtime: Runtime,
        link: Option<Link>,
        thread: DoorThread,
        gate: &str,
        options: DoorOptions,
    ) -> Door {
        Door {
            inner: Arc::new(Inner {
                runtime,
                link,
                thread,
                gate: gate.to_owned(),
                options,
                online: AtomicBool::new(true),
                failed_at: Mutex::new(None),
                scanning: tokio::sync::Mutex::new(()),
                syncing: tokio::sync::Mutex::new(()),
                synced_ms: AtomicI64::new(0),
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
        if local.is_admitted()
            && let Some(link) = &self.inner.link
            && self.should_ask()
        {
            let input = scan_fields(&pending.scan);
            let asked = tokio::time::timeout(self.inner.options.online_budget, async {
                let vars = admit_scan::Variables {
                    device_token: link.token.clone(),
                    scan: admit_input(input),
                };
                link.core.api.run::<AdmitScan>(vars, None, true).await
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
                    let (outcome, ticket_type_name) =
                        self.commit(pending, decision, Some(class)).await?;
                    return Ok(DoorScan {
                        outcome,
                        online: true,
                        ticket_type_name,
                    });
                }
                Ok(Err(error)) if error.kind() == ErrorKind::DeviceRevoked => {
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
        let (outcome, ticket_type_name) = self.commit(pending, local, None).await?;
        Ok(DoorScan {
            outcome,
            online: false,
            ticket_type_name,
        })
    }

    /// Commits the scan, then reads its ticket type's name in the same store call.
    async fn commit(
        &self,
        pending: PendingScan,
        decision: Decision,
        verdict: Option<&'static str>,
    ) -> Result<(ScanOutcome, Option<String>), Error> {
        self.inner
            .thread
            .call(move |s| {
                let outcome = s.commit(pending, decision, verdict)?;
                let Some(ticket) = outcome.ticket else {
                    return Ok((outcome, None));
                };
                // The scan is durable: a name that cannot be read only leaves it unnamed.
                let name = s
                    .store_mut()
                    .ticket_type_name(&ticket.ticket_type_id)
                    .unwrap_or_else(|error| {
                        tracing::warn!(code = error.code(), "ticket type name unreadable");
                        None
                    });
                Ok((outcome, name))
            })
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
        let report = self.settle(outcome).await?;
        self.inner.synced_ms.store(now_ms(), Ordering::Release);
        Ok(report)
    }

    async fn settle<T>(&self, outcome: Result<T, Error>) -> Result<T, Error> {
        match outcome {
            Ok(value) => {
                self.reached();
                Ok(value)
            }
            Err(error) if error.kind() == ErrorKind::DeviceRevoked => {
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

    /// The server link, or `NOT_PAIRED` for a door opened offline.
    fn link(&self) -> Result<&Link, Error> {
        self.inner.link.as_ref().ok_or(Error::NotPaired)
    }

    async fn push(&self) -> Result<usize, Error> {
        let link = self.link()?;
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
                device_token: link.token.clone(),
                scans: batch.iter().map(|s| push_input(scan_fields(s))).collect(),
            };
            let results = link.core.api.run::<PushScans>(vars, None, true).await?;
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
        let link = self.link()?;
        let mut report = DoorSyncReport::default();
        loop {
            let cursor = self.inner.thread.call_store(|s| s.sync_cursor()).await?;
            let vars = scanner_sync::Variables {
                device_token: link.token.clone(),
                cursor,
                limit: self.inner.options.page_limit,
            };
            let data = link.core.api.run::<ScannerSync>(vars, None, true).await?;
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
        if let Some(link) = &self.inner.link {
            let secrets = link.core.secrets.clone();
            blocking(move || Ok(secrets.delete(TOKEN_KEY)?)).await?;
        }
        self.inner.thread.call_wipe().await
    }

    /// Syncs now and then every `every`, reporting each sync as one unit of progress, until
    /// the handle is cancelled or dropped. Offline syncs are retried at the next tick; a
    /// revoked device ends the task (`DEVICE_REVOKED`).
    pub fn watch(&self, every: Duration, listener: Arc<dyn ProgressListener>) -> TaskHandle {
        let door = self.clone();
        let reporter = listener.clone();
        spawn_task(
            self.inner.runtime.handle(),
            Task::DoorSync,
            listener,
            async move {
                let mut done = 0;
                loop {
                    match door.sync().await {
                        Ok(_) => {}
                        Err(Error::DeviceRevoked) => return Err(Error::DeviceRevoked),
                        Err(error) => {
                            tracing::info!(code = error.code(), %error, "door sync failed");
                        }
                    }
                    done += 1;
                    reporter.on_progress(Progress {
                        task: Task::DoorSync,
                        done,
                        total: None,
                    });
                    tokio::time::sleep(every).await;
                }
            },
        )
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

    /// Gate, list, online state, scans waiting for a push and the last successful sync.
    pub async fn status(&self) -> Result<DoorStatus, Error> {
        let list = self.config().await?.ok_or(Error::NotPaired)?.list;
        let synced = self.inner.synced_ms.load(Ordering::Acquire);
        Ok(DoorStatus {
            gate: self.inner.gate.clone(),
            list_name: list.fields().name.clone(),
            gates: list.fields().gates.iter().cloned().collect(),
            online: self.is_online(),
            unpushed: self.unpushed_count().await?,
            last_synced_ms: (synced > 0).then_some(synced),
        })
    }

    /// The snapshot's ticket count and how many of them are revoked.
    pub async fn ticket_counts(&self) -> Result<(i64, i64), Error> {
        self.inner
            .thread
            .call_store(|s| s.list_ticket_counts())
            .await
    }
}
