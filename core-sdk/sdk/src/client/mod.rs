//! [`Client`]: the SDK's facade, opened on a server URL and a data directory.
//!
//! The data directory holds one SQLite file (`guichet.db`, owned by the store thread) and,
//! unless the host supplies its own [`SecretStore`], the session tokens
//! (`secrets/session.secret`). Every method is async and safe to call from any task; disk
//! work runs on the store thread or `spawn_blocking`, never on a tokio worker.

mod auth;
mod sync;

pub use sync::SyncReport;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokio::sync::Mutex;

use crate::Error;
use crate::api::Api;
use crate::booking::operations::InFlight;
use crate::notify::{Change, ChangeListener, Listeners, TaskHandle};
use crate::session::{FileSecretStore, SecretStore, Session};
use crate::store::StoreHandle;
use crate::transport::{HttpConfig, HttpTransport, Transport};

/// File name of the database in the data directory.
pub const DATABASE_FILE: &str = "guichet.db";

/// The embeddable client. Cheap to clone: clones share one store, session and transport.
#[derive(Debug, Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    server_url: String,
    data_dir: PathBuf,
    api: Api,
    store: StoreHandle,
    secrets: Arc<dyn SecretStore>,
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

    /// Opens the client: creates the data directory if needed, opens and migrates the
    /// database, and restores the saved session.
    pub async fn open(self) -> Result<Client, Error> {
        let server_url = normalise_url(&self.server_url)?;
        let data_dir = self.data_dir;
        let dir = data_dir.clone();
        blocking(move || std::fs::create_dir_all(&dir).map_err(|e| Error::DataDir(format!("{e}"))))
            .await?;
        let transport = match self.transport {
            Some(transport) => transport,
            None => Arc::new(HttpTransport::new(&server_url, &self.http)?),
        };
        let secrets = self.secrets.unwrap_or_else(|| {
            Arc::new(FileSecretStore::new(data_dir.join("secrets"))) as Arc<dyn SecretStore>
        });
        let store = StoreHandle::open(data_dir.join(DATABASE_FILE)).await?;
        let url = server_url.clone();
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
        let loader = secrets.clone();
        let saved = blocking(move || Ok(loader.load(Session::SECRET_KEY)?)).await?;
        // A session that does not parse (written by a future SDK, damaged) is dropped: the
        // user signs in again rather than being stuck.
        let session = saved.and_then(|text| serde_json::from_str::<Session>(&text).ok());
        Ok(Client {
            inner: Arc::new(Inner {
                server_url,
                data_dir,
                api: Api::new(transport),
                store,
                secrets,
                session: Mutex::new(session),
                listeners: Arc::default(),
                in_flight: Arc::default(),
            }),
        })
    }
}

impl Client {
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
        }
    }

    /// The server this client talks to.
    pub fn server_url(&self) -> &str {
        &self.inner.server_url
    }

    /// The data directory.
    pub fn data_dir(&self) -> &Path {
        &self.inner.data_dir
    }

    /// The local store's thread, for modules that keep data in it.
    pub fn store(&self) -> &StoreHandle {
        &self.inner.store
    }

    /// The typed GraphQL layer (anonymous calls; signed-in calls go through the client's
    /// session handling).
    pub fn api(&self) -> &Api {
        &self.inner.api
    }

    /// Tells `listener` about every change of local data until the handle is cancelled or
    /// dropped.
    pub fn subscribe(&self, listener: Arc<dyn ChangeListener>) -> TaskHandle {
        self.inner.listeners.add(listener)
    }

    pub(crate) fn inner_in_flight(&self) -> &Arc<InFlight> {
        &self.inner.in_flight
    }

    /// The signed-in account's id, or [`Error::NotSignedIn`].
    pub(crate) async fn account_id(&self) -> Result<String, Error> {
        self.account().await.map(|a| a.id).ok_or(Error::NotSignedIn)
    }

    /// Tells the subscribers that `change` happened.
    pub fn notify(&self, change: Change) {
        self.inner.listeners.emit(change);
    }
}

/// Runs blocking work (file I/O, the host's secret store) off the async workers.
pub(crate) async fn blocking<T, F>(work: F) -> Result<T, Error>
where
    F: FnOnce() -> Result<T, Error> + Send + 'static,
    T: Send + 'static,
{
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|_| Error::StoreClosed)?
}

/// `https://host/` and `https://host` are one server.
fn normalise_url(url: &str) -> Result<String, Error> {
    let trimmed = url.trim().trim_end_matches('/');
    let parsed = reqwest::Url::parse(trimmed).map_err(|e| Error::InvalidArgument {
        field: "server_url",
        message: e.to_string(),
    })?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return Err(Error::InvalidArgument {
            field: "server_url",
            message: "use an http:// or https:// URL".into(),
        });
    }
    Ok(format!("{trimmed}/"))
}
