//! What [`Client`](crate::Client) and [`Door`](crate::scanner::Door) share: the tokio
//! runtime they spawn on, the server URL's one spelling, the transport and secret-store
//! set-up, and running blocking work off the async workers.
//!
//! A host calls the SDK from threads the SDK does not control (a Kotlin, Swift or Dart
//! thread, a Tauri command). So every handle keeps a [`Runtime`] and spawns through it,
//! never through `tokio::spawn`, which panics outside a runtime.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokio::runtime::Handle;

use crate::Error;
use crate::api::Api;
use crate::session::{FileSecretStore, SecretStore};
use crate::transport::{HttpConfig, HttpTransport, Transport};

/// Worker threads of the runtime the SDK starts when the host gives none.
const OWN_WORKERS: usize = 2;

/// The runtime a handle spawns on: the host's, or one the SDK started and owns.
#[derive(Clone)]
pub(crate) struct Runtime {
    handle: Handle,
    /// Keeps the SDK's own runtime alive while any handle uses it.
    _owned: Option<Arc<OwnedRuntime>>,
}

impl std::fmt::Debug for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runtime")
            .field("owned", &self._owned.is_some())
            .finish_non_exhaustive()
    }
}

/// A runtime the SDK started. Shut down in the background when the last handle goes, so
/// dropping a client inside an async task never blocks that task.
struct OwnedRuntime(Option<tokio::runtime::Runtime>);

impl Drop for OwnedRuntime {
    fn drop(&mut self) {
        if let Some(runtime) = self.0.take() {
            runtime.shutdown_background();
        }
    }
}

impl Runtime {
    /// The host's runtime when it gives one, else the runtime the caller runs on, else a
    /// small multi-threaded runtime of the SDK's own.
    pub(crate) fn pick(given: Option<Handle>) -> Result<Runtime, Error> {
        if let Some(handle) = given.or_else(|| Handle::try_current().ok()) {
            return Ok(Runtime {
                handle,
                _owned: None,
            });
        }
        Runtime::owned()
    }

    /// A runtime of the SDK's own.
    pub(crate) fn owned() -> Result<Runtime, Error> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(OWN_WORKERS)
            .thread_name("guichet-sdk")
            .enable_all()
            .build()
            .map_err(|e| Error::DataDir(format!("cannot start the SDK's runtime: {e}")))?;
        Ok(Runtime {
            handle: runtime.handle().clone(),
            _owned: Some(Arc::new(OwnedRuntime(Some(runtime)))),
        })
    }

    /// The handle to spawn on.
    pub(crate) fn handle(&self) -> &Handle {
        &self.handle
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

/// `https://host/` and `https://host` are one server: the URL without surrounding blanks,
/// with exactly one trailing slash. Only `http` and `https` URLs with a host are accepted.
pub(crate) fn normalise_url(url: &str) -> Result<String, Error> {
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

/// What a handle is opened on: the parts every handle's configuration has.
pub(crate) struct Setup {
    pub server_url: String,
    pub data_dir: PathBuf,
    pub transport: Option<Arc<dyn Transport>>,
    pub secrets: Option<Arc<dyn SecretStore>>,
    pub http: HttpConfig,
    pub runtime: Option<Handle>,
}

/// The shared core of a handle, built from a [`Setup`].
#[derive(Debug, Clone)]
pub(crate) struct Core {
    /// The server's URL, normalised.
    pub server_url: String,
    pub data_dir: PathBuf,
    pub api: Api,
    pub secrets: Arc<dyn SecretStore>,
    pub runtime: Runtime,
    /// Timeouts and user agent, also for requests to an identity provider.
    pub http: HttpConfig,
}

impl Core {
    /// Normalises the URL, and picks the transport (HTTP unless given), the secret store
    /// (files under `data_dir/secrets` unless given) and the runtime.
    pub(crate) fn new(setup: Setup) -> Result<Core, Error> {
        let server_url = normalise_url(&setup.server_url)?;
        let transport = match setup.transport {
            Some(transport) => transport,
            None => Arc::new(HttpTransport::new(&server_url, &setup.http)?),
        };
        let secrets = setup.secrets.unwrap_or_else(|| {
            Arc::new(FileSecretStore::new(setup.data_dir.join("secrets"))) as Arc<dyn SecretStore>
        });
        Ok(Core {
            server_url,
            data_dir: setup.data_dir,
            api: Api::new(transport),
            secrets,
            runtime: Runtime::pick(setup.runtime)?,
            http: setup.http,
        })
    }

    /// A file in the data directory.
    pub(crate) fn file(&self, name: &str) -> PathBuf {
        self.data_dir.join(name)
    }

    /// Creates the data directory if needed.
    pub(crate) async fn create_data_dir(&self) -> Result<(), Error> {
        let dir = self.data_dir.clone();
        blocking(move || create_dir(&dir)).await
    }
}

/// Creates `dir` and its parents.
pub(crate) fn create_dir(dir: &Path) -> Result<(), Error> {
    std::fs::create_dir_all(dir).map_err(|e| Error::DataDir(format!("{e}")))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_url_has_one_spelling_and_only_http_urls_are_accepted() {
        assert_eq!(
            normalise_url(" https://tickets.example.org// ").unwrap(),
            "https://tickets.example.org/"
        );
        assert_eq!(
            normalise_url("http://127.0.0.1:8080").unwrap(),
            "http://127.0.0.1:8080/"
        );
        for bad in ["ftp://example.org", "not a url", "file:///tmp"] {
            assert_eq!(normalise_url(bad).unwrap_err().code(), "INVALID_INPUT");
        }
    }

    #[test]
    fn outside_a_runtime_the_sdk_starts_its_own_and_spawns_on_it() {
        assert!(Handle::try_current().is_err());
        let runtime = Runtime::pick(None).unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        runtime.handle().spawn(async move {
            tokio::task::yield_now().await;
            tx.send(Handle::try_current().is_ok()).unwrap();
        });
        assert!(rx.recv_timeout(std::time::Duration::from_secs(10)).unwrap());
    }

    #[tokio::test]
    async fn inside_a_runtime_the_sdk_uses_it_or_the_one_it_is_given() {
        assert!(Runtime::pick(None).unwrap()._owned.is_none());
        let other = std::thread::spawn(|| {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .thread_name("host")
                .build()
                .unwrap()
        })
        .join()
        .unwrap();
        let given = Runtime::pick(Some(other.handle().clone())).unwrap();
        assert!(given._owned.is_none());
        let on = given
            .handle()
            .spawn(async { std::thread::current().name().map(str::to_owned) });
        assert_eq!(on.await.unwrap().as_deref(), Some("host"));
        std::thread::spawn(move || drop(other)).join().unwrap();
    }
}
