//! The door's state on the SDK's one [`Actor`]: the bare store until the first pull
//! configured it, then the scanner; gone once the device was revoked and wiped.

use super::Scanner;
use crate::Error;
use crate::store::actor::Actor;
use crate::store::{Applied, PulledPage, Store};

impl Scanner {
    /// Applies a pulled page, then reads the configuration again.
    fn apply_page(&mut self, page: &PulledPage) -> Result<Applied, Error> {
        let applied = self.store_mut().apply_page(page)?;
        self.reload()?;
        Ok(applied)
    }
}

/// The thread that owns the door's store: a scanner once configured, the bare store before.
#[derive(Debug, Clone)]
pub(super) struct DoorThread {
    actor: Actor<Slot>,
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

impl DoorThread {
    pub(super) async fn unconfigured(store: Store) -> Result<DoorThread, Error> {
        let actor = Actor::start("guichet-door", move || Ok(Slot::Store(store))).await?;
        Ok(DoorThread { actor })
    }

    async fn run<T, F>(&self, job: F) -> Result<T, Error>
    where
        F: FnOnce(&mut Slot) -> Result<T, Error> + Send + 'static,
        T: Send + 'static,
    {
        self.actor.call(job).await
    }

    /// Runs `job` on the scanner (paired and configured).
    pub(super) async fn call<T, F>(&self, job: F) -> Result<T, Error>
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
    pub(super) async fn call_store<T, F>(&self, job: F) -> Result<T, Error>
    where
        F: FnOnce(&mut Store) -> Result<T, Error> + Send + 'static,
        T: Send + 'static,
    {
        self.run(move |slot| job(slot.store()?)).await
    }

    /// Applies a pulled page to the scanner, or to the bare store before the first pull
    /// configured it.
    pub(super) async fn apply(&self, page: PulledPage) -> Result<Applied, Error> {
        self.run(move |slot| match slot {
            Slot::Scanner(scanner) => scanner.apply_page(&page),
            Slot::Store(store) => store.apply_page(&page),
            Slot::Gone => Err(Error::DeviceRevoked),
        })
        .await
    }

    /// Opens the scanner on the (now configured) store at `gate`.
    pub(super) async fn open_scanner(&self, gate: &str) -> Result<(), Error> {
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
    pub(super) async fn call_wipe(&self) -> Result<(), Error> {
        self.run(|slot| {
            let result = slot.store().and_then(Store::wipe_event);
            *slot = Slot::Gone;
            result
        })
        .await
    }
}
