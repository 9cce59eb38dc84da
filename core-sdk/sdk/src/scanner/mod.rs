//! The door scanner: offline admission decisions, each scan committed before its decision
//! is returned.
//!
//! [`Door`] is the scanner a host opens: paired with the server ([`Door::builder`] then
//! `pair`/`open`) or offline from an exported event configuration:
//!
//! ```no_run
//! use guichet_sdk::scanner::{Direction, Door, OfflineDoorConfig, ScanResult};
//!
//! # async fn run(event_json: String, qr_text: &str) -> Result<(), guichet_sdk::Error> {
//! let door = Door::open_offline(OfflineDoorConfig {
//!     data_dir: "door".into(),
//!     gate: "north".into(),
//!     event_json: Some(event_json),
//! })
//! .await?;
//! let scan = ScanResult::from(&door.scan(qr_text, Direction::Entry).await?);
//! println!("admitted: {}, reason: {:?}", scan.admitted, scan.reason);
//! # Ok(()) }
//! ```
//!
//! Under it, the blocking `Scanner` decides and commits on the door's store thread; it is
//! public only with the `internals` feature (the SDK's own tests and benchmarks).

mod blocking;
mod clock;
mod door;
mod door_thread;
mod wire;

pub use crate::store::EventConfig;
pub(crate) use blocking::PendingScan;
#[cfg(feature = "internals")]
pub use blocking::Scanner;
#[cfg(not(feature = "internals"))]
pub(crate) use blocking::Scanner;
pub use clock::now_ms;
pub use door::{
    DOOR_DATABASE_FILE, Door, DoorBuilder, DoorOptions, DoorScan, DoorStatus, DoorSyncReport,
    OfflineDoorConfig, PUSH_BATCH, ScanResult,
};
/// The domain's scanner vocabulary, re-exported so a host needs no `guichet-domain`.
pub use guichet_domain::admission::{Decision, InvalidCause, ScanClass, ScanRejection};
pub use guichet_domain::checkin::{CheckInList, Direction};
pub use guichet_domain::credential::{TicketClaims, Validity};

use uuid::Uuid;

/// What a scan gave: the decision to show, and the stored scan's id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
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
