//! [`Client`]: the SDK's facade, opened on a server URL and a data directory.
//!
//! The data directory holds one SQLite file (`guichet.db`, owned by the store thread) and,
//! unless the host supplies its own [`SecretStore`], the session tokens
//! (`secrets/session.secret`). Every method is async and safe to call from any task; disk
//! work runs on the store thread or `spawn_blocking`, never on a tokio worker.

mod auth;
mod handles;
mod provider;
mod sync;

pub use handles::{Booking, Catalog, CheckIn, Organizer, Wallet};

pub use sync::SyncReport;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Mutex;

use crate::Error;
use crate::api::Api;
use crate::booking::operations::InFlight;
use crate::core::{Core, Setup, blocking};
use crate::notify::{Change, ChangeListener, Listeners, TaskHandle};
use crate::session::{SecretStore, Session};
use crate::store::StoreHandle;
use crate::transport::{HttpConfig, Transport};

/// File name of the database in the data directory.
pub const DATABASE_FILE: &str = "guichet.db";

/// The embeddable client. Cheap to clone: clones share one store, session and transport.
/// Callable from any thread: its background tasks spawn on the runtime it was opened
/// with (the host's, or one of the SDK's own when opened outside a runtime).
#[derive(Debug, Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    core: Core,
    store: StoreHandle,
    /// The session; held across a refresh so only one refresh runs at a time (presenting a
    /// refresh token twice ends the session everywhere).
    session: Mutex<Option<Session>>,
    listeners: Arc<Listeners>,
    in_flight: Arc<InFlight>,
}

/// Options for opening a [`Client`].
#[derive(Debug)]
pub struct ClientBuilder {
    server_url: String,
    data_dir: PathBuf,
    transport: Option<Arc<dyn Transport>>,
    secrets: Option<Arc<dyn SecretStore>>,
    http: HttpConfig,
    runtime: Option<tokio::runtime::Handle>,
}

impl ClientBuilder {
    /// Uses `transport` instead of HTTP (tests, hosts with their own networking).
    pub fn transport(mut self, transport: Arc<dyn Transport>) -> ClientBuilder {
        self.transport = Some(transport);
        self
    }

    /// Keeps the session tokens in the host's secure storage instead of the data directory.
    pub fn secret_store(mut self, secrets: Arc<dyn SecretStore>) -> ClientBuilder {
        self.secrets = Some(secrets);
        self
    }

    /// Timeouts and retries of the default HTTP transport.
    pub fn http(mut self, http: HttpConfig) -> ClientBuilder {
        self.http = http;
        self
    }

    /// Spawns the client's background tasks on `runtime` (by default: the runtime `open`
    /// runs on).
    pub fn runtime(mut self, runtime: tokio::runtime::Handle) -> ClientBuilder {
        self.runtime = Some(runtime);
        self
    }

    /// Opens the client: creates the data directory if needed, opens and migrates the
    /// database, and restores the saved session.
    pub async fn open(self) -> Result<Client, Error> {
        let core = Core::new(Setup {
            server_url: self.server_url,
            data_dir: self.data_dir,
            transport: self.transport,
            secrets: self.secrets,
            http: self.http,
            runtime: self.runtime,
        })?;
        core.create_data_dir().await?;
        let store = StoreHandle::open(core.file(DATABASE_FILE)).await?;
        let url = core.server_url.clone();
        store
            .call(move |s| match s.meta("server_url")? {
                Some(expected) if expected != url => Err(Error::ServerMismatch {
                    expected,
                    found: url,
                }),
                Some(_) => Ok(()),
                None => s.set_meta("server_url", &url),
            })
            .await?;
        let loader = core.secrets.clone();
        let saved = blocking(move || Ok(loader.load(Session::SECRET_KEY)?)).await?;
        // A session that does not parse (written by a future SDK, damaged) is dropped: the
        // user signs in again rather than being stuck.
        let session = saved.and_then(|text| serde_json::from_str::<Session>(&text).ok());
        Ok(Client {
            inner: Arc::new(Inner {
                core,
                store,
                session: Mutex::new(session),
                listeners: Arc::default(),
                in_flight: Arc::default(),
            }),
        })
    }
}

/// What a client is opened on, as plain data a host builds in any language (the
/// [`ClientBuilder`] is the Rust spelling of the same, plus a custom transport).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct ClientConfig {
    /// The server, `https://…` (one trailing slash or none).
    pub server_url: String,
    /// Where the client keeps its database (and, without a host secret store, its tokens).
    pub data_dir: String,
    /// Longest wait for one request, connection included, in milliseconds.
    pub timeout_ms: u64,
    /// Longest wait to open a connection, in milliseconds.
    pub connect_timeout_ms: u64,
    /// Appended to the SDK's `User-Agent` (the host app's name and version), if any.
    pub user_agent: Option<String>,
}

impl ClientConfig {
    /// The defaults for a server and a data directory: 20 s per request, 5 s to connect.
    pub fn new(server_url: &str, data_dir: &str) -> ClientConfig {
        let http = HttpConfig::default();
        ClientConfig {
            server_url: server_url.to_owned(),
            data_dir: data_dir.to_owned(),
            timeout_ms: millis(http.timeout),
            connect_timeout_ms: millis(http.connect_timeout),
            user_agent: None,
        }
    }

    fn http(&self) -> HttpConfig {
        let mut http = HttpConfig {
            timeout: Duration::from_millis(self.timeout_ms),
            connect_timeout: Duration::from_millis(self.connect_timeout_ms),
            ..HttpConfig::default()
        };
        if let Some(app) = &self.user_agent {
            http.user_agent = format!("{} {app}", http.user_agent);
        }
        http
    }
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

impl Client {
    /// Opens the client `config` describes; `secrets` keeps the session tokens in the
    /// host's secure storage (by default: a file in the data directory). A timeout of zero
    /// is refused.
    pub async fn open_with(
        config: ClientConfig,
        secrets: Option<Arc<dyn SecretStore>>,
    ) -> Result<Client, Error> {
        if config.timeout_ms == 0 || config.connect_timeout_ms == 0 {
            return Err(Error::InvalidArgument {
                field: "timeout_ms",
                message: "timeouts must be at least one millisecond".into(),
            });
        }
        let mut builder = Client::builder(&config.server_url, &config.data_dir).http(config.http());
        if let Some(secrets) = secrets {
            builder = builder.secret_store(secrets);
        }
        builder.open().await
    }

    /// Opens a client for the server at `server_url` with its data in `data_dir`, over
    /// HTTP with default timeouts and the file secret store.
    pub async fn open(server_url: &str, data_dir: impl AsRef<Path>) -> Result<Client, Error> {
        Client::builder(server_url, data_dir).open().await
    }

    /// Options for opening a client.
    pub fn builder(server_url: &str, data_dir: impl AsRef<Path>) -> ClientBuilder {
        ClientBuilder {
            server_url: server_url.to_owned(),
            data_dir: data_dir.as_ref().to_owned(),
            transport: None,
            secrets: None,
            http: HttpConfig::default(),
            runtime: None,
        }
    }

    /// The server this client talks to.
    pub fn server_url(&self) -> &str {
        &self.inner.core.server_url
    }

    /// The data directory.
    pub fn data_dir(&self) -> &Path {
        &self.inner.core.data_dir
    }

    /// The local store's thread, for modules that keep data in it.
    pub(crate) fn store(&self) -> &StoreHandle {
        &self.inner.store
    }

    /// The typed GraphQL layer (anonymous calls; signed-in calls go through the client's
    /// session handling).
    pub(crate) fn api(&self) -> &Api {
        &self.inner.core.api
    }

    /// Tells `listener` about every change of local data until the handle is cancelled or
    /// dropped.
    pub fn subscribe(&self, listener: Arc<dyn ChangeListener>) -> TaskHandle {
        self.inner.listeners.add(listener)
    }

    /// How long opening a live-updates connection may take.
    pub(crate) fn live_connect_timeout(&self) -> std::time::Duration {
        self.inner.core.http.timeout
    }

    /// The runtime the client's background tasks spawn on.
    pub(crate) fn runtime(&self) -> &tokio::runtime::Handle {
        self.inner.core.runtime.handle()
    }

    pub(crate) fn inner_in_flight(&self) -> &Arc<InFlight> {
        &self.inner.in_flight
    }

    /// The signed-in account's id, or [`Error::NotSignedIn`].
    pub(crate) async fn account_id(&self) -> Result<String, Error> {
        self.account().await.map(|a| a.id).ok_or(Error::NotSignedIn)
    }

    /// Tells the subscribers that `change` happened.
    pub(crate) fn notify(&self, change: Change) {
        self.inner.listeners.emit(change);
    }
}
