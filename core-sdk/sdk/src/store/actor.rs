//! The one actor the SDK runs its SQLite work on: a thread that owns a value (the client's
//! [`Store`](super::Store), a door's store or scanner) and runs the closures async code
//! sends it, one at a time, in order. SQLite never blocks a tokio worker, there is exactly
//! one writer, and the value is never shared.

use std::sync::mpsc;

use tokio::sync::oneshot;

use crate::Error;

type Job<S> = Box<dyn FnOnce(&mut S) + Send>;

/// A handle to the thread that owns an `S`. Cheap to clone; the thread ends, dropping the
/// value (closing its database), when the last handle is dropped.
pub(crate) struct Actor<S> {
    jobs: mpsc::Sender<Job<S>>,
}

impl<S> Clone for Actor<S> {
    fn clone(&self) -> Actor<S> {
        Actor {
            jobs: self.jobs.clone(),
        }
    }
}

impl<S> std::fmt::Debug for Actor<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Actor").finish_non_exhaustive()
    }
}

impl<S: 'static> Actor<S> {
    /// Starts the thread `name`, which builds its value with `open` (the database is opened
    /// on the thread that will own it) and then serves jobs. Fails with what `open` failed.
    pub(crate) async fn start<F>(name: &str, open: F) -> Result<Actor<S>, Error>
    where
        F: FnOnce() -> Result<S, Error> + Send + 'static,
    {
        let (jobs, queue) = mpsc::channel::<Job<S>>();
        let (ready, opened) = oneshot::channel();
        std::thread::Builder::new()
            .name(name.into())
            .spawn(move || {
                let mut value = match open() {
                    Ok(value) => {
                        let _ = ready.send(Ok(()));
                        value
                    }
                    Err(error) => {
                        let _ = ready.send(Err(error));
                        return;
                    }
                };
                while let Ok(job) = queue.recv() {
                    job(&mut value);
                }
            })
            .map_err(|e| Error::DataDir(format!("cannot start the {name} thread: {e}")))?;
        opened.await.map_err(|_| Error::StoreClosed)??;
        Ok(Actor { jobs })
    }

    /// Runs `job` on the actor's thread and returns its result. Jobs run one at a time, in
    /// the order they were sent; a job that panics ends the actor (later calls:
    /// `StoreClosed`), never the caller.
    pub(crate) async fn call<T, F>(&self, job: F) -> Result<T, Error>
    where
        F: FnOnce(&mut S) -> Result<T, Error> + Send + 'static,
        T: Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        self.jobs
            .send(Box::new(move |value| {
                let _ = reply.send(job(value));
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
        let actor = Actor::start("test", || Ok(Vec::<u32>::new()))
            .await
            .unwrap();
        let here = std::thread::current().id();
        let there = actor
            .call(|_| Ok(std::thread::current().id()))
            .await
            .unwrap();
        assert_ne!(here, there);
        // Five calls in flight at once (join! sends each at its first poll, in order, and
        // none waits for another; the earlier jobs are the slower ones): an actor that ran
        // jobs concurrently or out of order would not leave 0..5 in order.
        let push = |i: u32| {
            actor.call(move |v: &mut Vec<u32>| {
                std::thread::sleep(std::time::Duration::from_millis(u64::from(5 - i)));
                v.push(i);
                Ok(())
            })
        };
        let (a, b, c, d, e) = tokio::join!(push(0), push(1), push(2), push(3), push(4));
        for done in [a, b, c, d, e] {
            done.unwrap();
        }
        assert_eq!(
            actor.call(|v| Ok(v.clone())).await.unwrap(),
            [0, 1, 2, 3, 4]
        );
    }

    #[tokio::test]
    async fn a_failed_open_is_the_callers_error() {
        let failed = Actor::<()>::start("test", || Err(Error::NotConfigured)).await;
        assert!(matches!(failed, Err(Error::NotConfigured)), "{failed:?}");
    }

    #[tokio::test]
    async fn a_panicking_job_closes_the_actor_not_the_caller() {
        let actor = Actor::start("test", || Ok(0_u8)).await.unwrap();
        let panicked = actor.call::<(), _>(|_| panic!("a bug in a job")).await;
        assert!(matches!(panicked, Err(Error::StoreClosed)), "{panicked:?}");
        let after = actor.call(|v| Ok(*v)).await;
        assert!(matches!(after, Err(Error::StoreClosed)), "{after:?}");
    }
}
