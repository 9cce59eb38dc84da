//! The store's own thread: async code sends it closures over `&mut Store` and awaits their
//! results, so SQLite never blocks a tokio worker and there is exactly one writer.

use std::path::PathBuf;
use std::sync::mpsc;

use tokio::sync::oneshot;

use super::Store;
use crate::Error;

type Job = Box<dyn FnOnce(&mut Store) + Send>;

/// A handle to the thread that owns the [`Store`]. Cheap to clone; the thread ends, closing
/// the database, when the last handle is dropped.
#[derive(Debug, Clone)]
pub struct StoreHandle {
    jobs: mpsc::Sender<Job>,
}

impl StoreHandle {
    /// Opens (creating and migrating) the database at `path` on a new thread.
    pub async fn open(path: PathBuf) -> Result<StoreHandle, Error> {
        let (jobs, queue) = mpsc::channel::<Job>();
        let (ready, opened) = oneshot::channel();
        std::thread::Builder::new()
            .name("guichet-store".into())
            .spawn(move || {
                let mut store = match Store::open(&path) {
                    Ok(store) => {
                        let _ = ready.send(Ok(()));
                        store
                    }
                    Err(error) => {
                        let _ = ready.send(Err(error));
                        return;
                    }
                };
                while let Ok(job) = queue.recv() {
                    job(&mut store);
                }
            })
            .map_err(|e| Error::DataDir(format!("cannot start the store thread: {e}")))?;
        opened.await.map_err(|_| Error::StoreClosed)??;
        Ok(StoreHandle { jobs })
    }

    /// Runs `job` on the store thread and returns its result. Jobs run one at a time, in
    /// the order they were sent.
    pub async fn call<T, F>(&self, job: F) -> Result<T, Error>
    where
        F: FnOnce(&mut Store) -> Result<T, Error> + Send + 'static,
        T: Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        self.jobs
            .send(Box::new(move |store| {
                let _ = reply.send(job(store));
            }))
            .map_err(|_| Error::StoreClosed)?;
        answer.await.map_err(|_| Error::StoreClosed)?
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn jobs_run_off_the_runtime_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let store = StoreHandle::open(dir.path().join("client.db"))
            .await
            .unwrap();
        let here = std::thread::current().id();
        let there = store
            .call(|_| Ok(std::thread::current().id()))
            .await
            .unwrap();
        assert_ne!(here, there);
        store.call(|s| s.set_meta("k", "1")).await.unwrap();
        store.call(|s| s.set_meta("k", "2")).await.unwrap();
        let value = store.call(|s| s.meta("k")).await.unwrap();
        assert_eq!(value.as_deref(), Some("2"));
    }
}
