//! The CLI's error type.

/// What can stop the door scanner.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Bad command line; the message says what to type.
    #[error("{0}\n\n{USAGE}")]
    Usage(String),
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    File {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// A configuration or key file is not valid JSON of the right shape.
    #[error("{path}: {source}")]
    Json {
        /// The file.
        path: String,
        /// Why.
        source: serde_json::Error,
    },
    /// An image is not a readable PNG, or holds no QR code.
    #[error("{path}: {reason}")]
    Image {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
    /// The SDK failed (store, configuration).
    #[error(transparent)]
    Sdk(#[from] guichet_sdk::Error),
    /// The async runtime could not start.
    #[error("cannot start the runtime: {0}")]
    Runtime(std::io::Error),
    /// Issuing a demo credential failed.
    #[error("issuing a demo ticket: {0}")]
    Issue(String),
}

/// The help text.
pub const USAGE: &str = "\
usage:
  door-scanner demo-setup --out DIR
      Writes a demo event: DIR/issuer-key.json (PRIVATE, issuing side only),
      DIR/scanner-config.json (public keys + check-in list + revocations) and
      DIR/tickets/*.txt and *.png (one credential each, named after what the door says).
  door-scanner scan --dir DIR --gate GATE [--config FILE] [--direction entry|exit] [PNG...]
      Scans credential texts, one per line on stdin, or the QR codes in PNG files, with
      the door opened offline (no server is asked; a paired DIR works too, and its
      next sync pushes these scans).
      --config loads the event's exported configuration first (needed on the first run).
      Prints one line per scan: scan id, ADMITTED or REJECTED, reason, ticket id.
      DIR/door.db keeps every scan between runs.
  door-scanner pair --server URL --dir DIR --gate GATE --code CODE [--name NAME]
      Redeems the organizer's pairing code: the device token goes to DIR/secrets, the
      event's keys, check-in list and tickets to DIR/door.db.
  door-scanner sync --server URL --dir DIR --gate GATE
      Pushes this door's scans, pulls revocations and the other doors' scans.
  door-scanner watch --server URL --dir DIR --gate GATE [--every SECS] [--direction entry|exit]
                     [--budget-ms MS]
      Scans credential texts from stdin, asking the server first (for at most MS, default
      300) and deciding offline when it does not answer; syncs every SECS (default 5) in
      the background and once more at the end of input.";
