//! The door scanner: offline admission decisions, each scan committed before its decision
//! is returned.
//!
//! ```no_run
//! use guichet_domain::checkin::Direction;
//! use guichet_sdk::scanner::{EventConfig, Scanner};
//! use guichet_sdk::store::Store;
//!
//! # fn run(config_json: &str, qr_text: &str) -> Result<(), Box<dyn std::error::Error>> {
//! let mut store = Store::open("door.db")?;
//! let config: EventConfig = serde_json::from_str(config_json)?;
//! store.save_event_config(&config)?;
//! let mut scanner = Scanner::open(store, "north")?;
//! let outcome = scanner.scan(qr_text, Direction::Entry)?;
//! println!("{} {:?}", outcome.scan_id, outcome.decision);
//! # Ok(()) }
//! ```

mod clock;
mod door;
mod door_thread;
mod wire;

pub use crate::store::EventConfig;
pub use clock::now_ms;
pub use door::{
    DOOR_DATABASE_FILE, Door, DoorBuilder, DoorOptions, DoorScan, DoorSyncReport, PUSH_BATCH,
};

use guichet_domain::admission::{Checkpoint, Decision};
use guichet_domain::checkin::Direction;
use guichet_domain::credential::TicketClaims;
use uuid::Uuid;

use crate::Error;
use crate::store::{ScanRecord, Store};

/// What a scan gave: the decision to show, and the stored scan's id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScanOutcome {
    /// The stored scan (already durable when this value exists).
    pub scan_id: Uuid,
    /// Admitted or rejected, and why.
    pub decision: Decision,
    /// The ticket's verified claims, for the staff screen; `None` if the credential was not
    /// genuine for this event.
    pub ticket: Option<TicketClaims>,
    /// Device clock at the scan, unix milliseconds.
    pub device_time_ms: i64,
}

/// A decision not yet stored.
#[derive(Debug, Clone)]
pub(crate) struct PendingScan {
    /// The scan as it will be stored, with the local decision.
    pub(crate) scan: ScanRecord,
    /// The verified claims, when genuine.
    pub(crate) ticket: Option<TicketClaims>,
    /// The ticket's presence before this scan.
    pub(crate) presence: guichet_domain::admission::Presence,
}

/// A scanner device paired with an event's check-in list, at one gate.
#[derive(Debug)]
pub struct Scanner {
    store: Store,
    config: EventConfig,
    device_id: Uuid,
    gate: String,
}

impl Scanner {
    /// Opens the scanner on a store already paired with an event
    /// ([`Store::save_event_config`]), at one of its list's gates.
    pub fn open(store: Store, gate: &str) -> Result<Scanner, Error> {
        let config = store.load_event_config()?.ok_or(Error::NotConfigured)?;
        Checkpoint::new(&config.list, &config.keys, &config.revocations)
            .map_err(|e| Error::Config(e.to_string()))?;
        if !config.list.has_gate(gate) {
            return Err(Error::GateNotOnList {
                gate: gate.to_owned(),
                list_id: config.list.id(),
            });
        }
        let device_id = store.device_id()?;
        Ok(Scanner {
            store,
            config,
            device_id,
            gate: gate.to_owned(),
        })
    }

    /// Scans credential text now (device clock).
    pub fn scan(&mut self, text: &str, direction: Direction) -> Result<ScanOutcome, Error> {
        self.scan_at(text, direction, now_ms())
    }

    /// Scans credential text at a given device time (unix milliseconds). Decides, then
    /// commits the scan (and the ticket's new presence) durably, then returns.
    pub fn scan_at(
        &mut self,
        text: &str,
        direction: Direction,
        device_time_ms: i64,
    ) -> Result<ScanOutcome, Error> {
        let pending = self.decide(text, direction, device_time_ms)?;
        let decision = pending.scan.decision;
        self.commit(pending, decision, None)
    }

    /// Decides on credential text from what this device knows, without storing anything.
    pub(crate) fn decide(
        &self,
        text: &str,
        direction: Direction,
        device_time_ms: i64,
    ) -> Result<PendingScan, Error> {
        let config = &self.config;
        let checkpoint = Checkpoint::new(&config.list, &config.keys, &config.revocations)
            .map_err(|e| Error::Config(e.to_string()))?;
        let store = &self.store;
        let mut presence = None;
        let admission =
            checkpoint.admit(text, direction, device_time_ms.div_euclid(1000), |ticket| {
                let found = store.presence(ticket)?;
                presence = Some(found);
                Ok::<_, Error>(found)
            })?;
        Ok(PendingScan {
            scan: ScanRecord {
                id: Uuid::now_v7(),
                device_id: self.device_id,
                list_id: config.list.id(),
                device_time_ms,
                gate: self.gate.clone(),
                direction,
                decision: admission.decision,
                ticket_id: admission.ticket.map(|t| t.ticket_id),
            },
            ticket: admission.ticket,
            presence: presence.unwrap_or_default(),
        })
    }

    /// Stores a decided scan with its final `decision` (the local one, or the server's
    /// online answer, then `verdict` is the server's classification) and returns the
    /// outcome to show: durable once this returns.
    pub(crate) fn commit(
        &mut self,
        pending: PendingScan,
        decision: Decision,
        verdict: Option<&str>,
    ) -> Result<ScanOutcome, Error> {
        let PendingScan {
            mut scan,
            ticket,
            presence,
        } = pending;
        scan.decision = decision;
        let new_presence = match decision {
            Decision::Admitted => presence.after(scan.direction),
            Decision::Rejected(_) => presence,
        };
        self.store
            .record_scan(&scan, ticket.as_ref(), new_presence, verdict)?;
        Ok(ScanOutcome {
            scan_id: scan.id,
            decision,
            ticket,
            device_time_ms: scan.device_time_ms,
        })
    }

    /// Reads the configuration again after a sync changed it (keys, revocations).
    pub(crate) fn reload(&mut self) -> Result<(), Error> {
        self.config = self
            .store
            .load_event_config()?
            .ok_or(Error::NotConfigured)?;
        self.device_id = self.store.device_id()?;
        Ok(())
    }

    /// The store, for sync.
    pub(crate) fn store_mut(&mut self) -> &mut Store {
        &mut self.store
    }

    /// Revokes a ticket on this device (staff action or a synced revocation).
    pub fn revoke(&mut self, ticket_id: Uuid) -> Result<(), Error> {
        self.store.revoke(self.config.keys.event_id(), ticket_id)?;
        self.config.revocations.revoke(ticket_id);
        Ok(())
    }

    /// The paired configuration.
    pub fn config(&self) -> &EventConfig {
        &self.config
    }

    /// The gate this scanner stands at.
    pub fn gate(&self) -> &str {
        &self.gate
    }

    /// The local store (scan history, known tickets).
    pub fn store(&self) -> &Store {
        &self.store
    }
}
