//! The client's store on its [`Actor`] thread: async code sends it closures over
//! `&mut Store` and awaits their results.

use std::path::PathBuf;

use super::Store;
use super::actor::Actor;
use crate::Error;

/// A handle to the thread that owns the client's [`Store`]. Cheap to clone; the thread
/// ends, closing the database, when the last handle is dropped.
#[derive(Debug, Clone)]
pub struct StoreHandle {
    actor: Actor<Store>,
}

impl StoreHandle {
    /// Opens (creating and migrating) the database at `path` on a new thread.
    pub async fn open(path: PathBuf) -> Result<StoreHandle, Error> {
        let actor = Actor::start("guichet-store", move || Store::open(&path)).await?;
        Ok(StoreHandle { actor })
    }

    /// Runs `job` on the store thread and returns its result. Jobs run one at a time, in
    /// the order they were sent.
    pub async fn call<T, F>(&self, job: F) -> Result<T, Error>
    where
        F: FnOnce(&mut Store) -> Result<T, Error> + Send + 'static,
        T: Send + 'static,
    {
        self.actor.call(job).await
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_store_lives_on_its_own_thread() {
        let dir = tempfile::tempdir().unwrap();
        let store = StoreHandle::open(dir.path().join("client.db"))
            .await
            .unwrap();
        store.call(|s| s.set_meta("k", "1")).await.unwrap();
        store.call(|s| s.set_meta("k", "2")).await.unwrap();
        let value = store.call(|s| s.meta("k")).await.unwrap();
        assert_eq!(value.as_deref(), Some("2"));
    }

    #[tokio::test]
    async fn an_unopenable_database_is_an_error_not_a_thread() {
        let dir = tempfile::tempdir().unwrap();
        // A directory where the file should be.
        let failed = StoreHandle::open(dir.path().to_path_buf()).await;
        assert!(
            matches!(failed, Err(Error::Storage(_))),
            "{:?}",
            failed.err()
        );
    }
}
