//! The blocking scanner under every [`Door`](super::Door): decides from what the device
//! knows, then commits the scan durably before returning. It runs on the door's store
//! thread; hosts never hold it.

use guichet_domain::admission::Checkpoint;
use uuid::Uuid;

use super::{Decision, Direction, EventConfig, ScanOutcome, TicketClaims};
use crate::Error;
use crate::store::{ScanRecord, Store};

/// A decision not yet stored.
#[derive(Debug, Clone)]
pub(crate) struct PendingScan {
    /// The scan as it will be stored, with the local decision.
    pub(crate) scan: ScanRecord,
    /// The verified claims, when genuine.
    pub(crate) ticket: Option<TicketClaims>,
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

    #[cfg(any(test, feature = "internals"))]
    /// Scans credential text now (device clock).
    pub fn scan(&mut self, text: &str, direction: Direction) -> Result<ScanOutcome, Error> {
        self.scan_at(text, direction, super::now_ms())
    }

    #[cfg(any(test, feature = "internals"))]
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
        let admission =
            checkpoint.admit(text, direction, device_time_ms.div_euclid(1000), |ticket| {
                store.presence(ticket)
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
        })
    }

    /// Stores a decided scan with its final `decision` (the local one, or the server's
    /// online answer, then `verdict` is the server's classification) and returns the
    /// outcome to show: durable once this returns.
    ///
    /// The ticket's presence is folded again from every admitted scan known at commit,
    /// not from what was known at the decision: between deciding and committing, a door
    /// waits for the server, and a sync may bring other doors' scans of the ticket
    /// meanwhile.
    pub(crate) fn commit(
        &mut self,
        pending: PendingScan,
        decision: Decision,
        verdict: Option<&str>,
    ) -> Result<ScanOutcome, Error> {
        let PendingScan { mut scan, ticket } = pending;
        scan.decision = decision;
        self.store.record_scan(&scan, ticket.as_ref(), verdict)?;
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

    #[cfg(any(test, feature = "internals"))]
    /// Revokes a ticket on this device (staff action or a synced revocation).
    pub fn revoke(&mut self, ticket_id: Uuid) -> Result<(), Error> {
        self.store.revoke(self.config.keys.event_id(), ticket_id)?;
        self.config.revocations.revoke(ticket_id);
        Ok(())
    }

    #[cfg(any(test, feature = "internals"))]
    /// The paired configuration.
    pub fn config(&self) -> &EventConfig {
        &self.config
    }

    #[cfg(any(test, feature = "internals"))]
    /// The gate this scanner stands at.
    pub fn gate(&self) -> &str {
        &self.gate
    }

    #[cfg(any(test, feature = "internals"))]
    /// The local store (scan history, known tickets).
    pub fn store(&self) -> &Store {
        &self.store
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use guichet_domain::checkin::{CheckInList, CheckInListFields};
    use guichet_domain::credential::Validity;
    use guichet_domain::keyring::{EventKeyRing, IssuingKey, KeyId};

    use super::*;
    use crate::store::{PulledPage, SyncedScan};

    const EVENT: Uuid = Uuid::from_u128(0xE1);
    const STANDING: Uuid = Uuid::from_u128(0x71);
    const OPEN: i64 = 1_800_000_000;

    fn paired(dir: &std::path::Path) -> (Scanner, IssuingKey) {
        let key = IssuingKey::from_seed(EVENT, KeyId(1), [5; 32]);
        let mut keys = EventKeyRing::new(EVENT);
        keys.rotate(key.key_id(), key.public_key()).unwrap();
        let list = CheckInList::new(CheckInListFields {
            id: Uuid::from_u128(0x11),
            event_id: EVENT,
            name: "Standing".into(),
            ticket_types: [STANDING].into(),
            gates: ["north".to_string()].into(),
            re_entry: true,
        })
        .unwrap();
        let mut store = Store::open(dir.join("door.db")).unwrap();
        store
            .save_event_config(&EventConfig {
                keys,
                list,
                revocations: Default::default(),
            })
            .unwrap();
        (Scanner::open(store, "north").unwrap(), key)
    }

    fn credential(key: &IssuingKey, ticket_id: Uuid) -> String {
        key.issue(TicketClaims {
            ticket_id,
            event_id: EVENT,
            ticket_type_id: STANDING,
            validity: Validity::new(OPEN, OPEN + 86_400).unwrap(),
        })
        .unwrap()
        .to_text()
    }

    const AT: i64 = (OPEN + 3_600) * 1_000;

    #[test]
    fn a_commit_folds_the_presence_from_every_scan_known_then() {
        let dir = tempfile::tempdir().unwrap();
        let (mut scanner, key) = paired(dir.path());
        let ticket_id = Uuid::from_u128(7);
        let text = credential(&key, ticket_id);
        // Decided on "never seen"; while the door waits for the server, the ticket goes in
        // and out (here through this store; a sync brings other doors' scans the same way).
        let pending = scanner.decide(&text, Direction::Entry, AT).unwrap();
        assert_eq!(pending.scan.decision, Decision::Admitted);
        scanner.scan_at(&text, Direction::Entry, AT + 1).unwrap();
        scanner.scan_at(&text, Direction::Exit, AT + 2).unwrap();
        scanner.commit(pending, Decision::Admitted, None).unwrap();
        // In the server's order (device time): entry, entry, exit.
        let presence = scanner.store().presence(&ticket_id).unwrap();
        assert_eq!((presence.entries, presence.inside), (2, false));
        let known = scanner.store().ticket(&ticket_id).unwrap().unwrap();
        assert_eq!(known.presence, presence, "the ticket row agrees");
    }

    fn relayed(scanner: &Scanner, scan: &ScanRecord, admitted: bool, class: &str) -> PulledPage {
        PulledPage {
            cursor: "7".into(),
            config: EventConfig {
                revocations: Default::default(),
                ..scanner.config().clone()
            },
            ticket_types: Vec::new(),
            tickets: Vec::new(),
            revoked: Vec::new(),
            scans: vec![SyncedScan {
                id: scan.id,
                device_id: scan.device_id,
                ticket_id: scan.ticket_id,
                device_time_ms: scan.device_time_ms,
                gate: scan.gate.clone(),
                direction: scan.direction,
                admitted,
                reason: (!admitted).then(|| "already_inside".to_owned()),
                classification: class.into(),
            }],
        }
    }

    #[test]
    fn a_scan_relayed_by_a_pull_before_its_commit_is_stored_once() {
        let dir = tempfile::tempdir().unwrap();
        let (mut scanner, key) = paired(dir.path());
        let ticket_id = Uuid::from_u128(8);
        let text = credential(&key, ticket_id);

        // The server answered (admitted); a pull relays the scan before the door commits.
        let pending = scanner.decide(&text, Direction::Entry, AT).unwrap();
        let page = relayed(&scanner, &pending.scan, true, "duplicate_entry");
        scanner.store_mut().apply_page(&page).unwrap();
        let id = pending.scan.id;
        scanner
            .commit(pending, Decision::Admitted, Some("admitted"))
            .unwrap();
        let known = scanner.store().known_scans().unwrap();
        assert_eq!(known.len(), 1, "{known:?}");
        assert!(known[0].own);
        assert_eq!(
            known[0].classification.as_deref(),
            Some("duplicate_entry"),
            "the relayed verdict is the newer one"
        );
        assert_eq!(scanner.store().unpushed_count().unwrap(), 0);
        assert_eq!(scanner.store().presence(&ticket_id).unwrap().entries, 1);

        // The answer never came: the door admitted on its own, the server stored a refusal
        // and a pull relays it before the commit. The door's decision must still be pushed.
        let pending = scanner.decide(&text, Direction::Exit, AT + 1).unwrap();
        let page = relayed(&scanner, &pending.scan, false, "rejected");
        scanner.store_mut().apply_page(&page).unwrap();
        scanner.commit(pending, Decision::Admitted, None).unwrap();
        assert_eq!(scanner.store().known_scans().unwrap().len(), 2);
        let unpushed = scanner.store().unpushed(10).unwrap();
        assert_eq!(unpushed.len(), 1);
        assert_eq!(unpushed[0].decision, Decision::Admitted);
        assert_ne!(unpushed[0].id, id);
        assert!(!scanner.store().presence(&ticket_id).unwrap().inside);
    }

    #[test]
    fn a_pull_marks_a_scan_pushed_only_if_the_server_holds_the_decision_shown() {
        let dir = tempfile::tempdir().unwrap();
        let (mut scanner, key) = paired(dir.path());
        let text = credential(&key, Uuid::from_u128(9));
        // Admitted offline; the server got the online question late and stored a refusal.
        let outcome = scanner.scan_at(&text, Direction::Entry, AT).unwrap();
        let stored = scanner.store().scan(&outcome.scan_id).unwrap().unwrap();
        let page = relayed(&scanner, &stored, false, "rejected");
        scanner.store_mut().apply_page(&page).unwrap();
        assert_eq!(scanner.store().unpushed_count().unwrap(), 1);
        // The server holds what the door showed: pushed.
        let page = relayed(&scanner, &stored, true, "admitted");
        scanner.store_mut().apply_page(&page).unwrap();
        assert_eq!(scanner.store().unpushed_count().unwrap(), 0);
    }

    #[test]
    fn a_pull_names_the_ticket_types_a_later_pull_renames_them_and_a_wipe_forgets_them() {
        let dir = tempfile::tempdir().unwrap();
        let (mut scanner, _) = paired(dir.path());
        assert_eq!(scanner.store().ticket_type_name(&STANDING).unwrap(), None);
        let mut page = PulledPage {
            cursor: "1".into(),
            config: EventConfig {
                revocations: Default::default(),
                ..scanner.config().clone()
            },
            ticket_types: vec![(STANDING, "Standing".into())],
            tickets: Vec::new(),
            revoked: Vec::new(),
            scans: Vec::new(),
        };
        scanner.store_mut().apply_page(&page).unwrap();
        assert_eq!(
            scanner
                .store()
                .ticket_type_name(&STANDING)
                .unwrap()
                .as_deref(),
            Some("Standing")
        );
        page.ticket_types = vec![(STANDING, "Standing (early bird)".into())];
        scanner.store_mut().apply_page(&page).unwrap();
        assert_eq!(
            scanner
                .store()
                .ticket_type_name(&STANDING)
                .unwrap()
                .as_deref(),
            Some("Standing (early bird)")
        );
        scanner.store_mut().wipe_event().unwrap();
        assert_eq!(scanner.store().ticket_type_name(&STANDING).unwrap(), None);
    }
}
