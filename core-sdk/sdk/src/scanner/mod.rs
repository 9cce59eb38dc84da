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

pub use crate::store::EventConfig;
pub use clock::now_ms;

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
        let scan = ScanRecord {
            id: Uuid::now_v7(),
            device_id: self.device_id,
            list_id: config.list.id(),
            device_time_ms,
            gate: self.gate.clone(),
            direction,
            decision: admission.decision,
            ticket_id: admission.ticket.map(|t| t.ticket_id),
        };
        let presence = presence.unwrap_or_default();
        let new_presence = match admission.decision {
            Decision::Admitted => presence.after(direction),
            Decision::Rejected(_) => presence,
        };
        self.store
            .record_scan(&scan, admission.ticket.as_ref(), new_presence)?;
        Ok(ScanOutcome {
            scan_id: scan.id,
            decision: admission.decision,
            ticket: admission.ticket,
            device_time_ms,
        })
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
