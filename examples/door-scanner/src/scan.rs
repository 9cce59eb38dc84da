//! `scan`: credentials in, one decision line out per scan.

use std::io::{BufRead, Write};

use guichet_domain::admission::Decision;
use guichet_sdk::scanner::{Door, OfflineDoorConfig, ScanOutcome};

use crate::args::ScanArgs;
use crate::error::Error;
use crate::image::read_qr;

/// Runs the scan loop: images if any were named, stdin lines otherwise. A line is printed
/// only after its scan is durable in the store. The door opens offline on its data
/// directory (`DIR/door.db`), with `--config` replacing the stored event configuration:
/// the same door the shells open, with no server to ask.
pub fn run(args: &ScanArgs, stdin: impl BufRead, out: &mut impl Write) -> Result<(), Error> {
    let event_json = match &args.config {
        Some(path) => Some(std::fs::read_to_string(path).map_err(|source| Error::File {
            path: path.clone(),
            source,
        })?),
        None => None,
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(Error::Runtime)?;
    let door = runtime.block_on(Door::open_offline(OfflineDoorConfig {
        data_dir: args.dir.clone(),
        gate: args.gate.clone(),
        event_json,
    }))?;
    let mut emit = |text: &str| -> Result<(), Error> {
        let scanned = runtime.block_on(door.scan(text, args.direction))?;
        writeln!(out, "{}", describe(&scanned.outcome))
            .and_then(|()| out.flush())
            .map_err(|source| Error::File {
                path: "stdout".into(),
                source,
            })
    };
    if args.images.is_empty() {
        for line in stdin.split(b'\n') {
            let line = line.map_err(|source| Error::File {
                path: "stdin".into(),
                source,
            })?;
            let line = String::from_utf8_lossy(&line);
            // Only the line break goes: spaces are base45 symbols.
            emit(line.strip_suffix('\r').unwrap_or(&line))?;
        }
    } else {
        for path in &args.images {
            match read_qr(path) {
                Ok(text) => emit(&text)?,
                Err(error) => eprintln!("{error}"),
            }
        }
    }
    Ok(())
}

/// `<scan id> ADMITTED - ticket=<id>` or `<scan id> REJECTED <reason>[:<detail>] ticket=…`.
pub fn describe(outcome: &ScanOutcome) -> String {
    let ticket = outcome
        .ticket
        .map_or_else(|| "-".to_owned(), |t| t.ticket_id.to_string());
    let verdict = match outcome.decision {
        Decision::Admitted => "ADMITTED -".to_owned(),
        Decision::Rejected(reason) if reason.code() == reason.detail() => {
            format!("REJECTED {}", reason.code())
        }
        Decision::Rejected(reason) => format!("REJECTED {}:{}", reason.code(), reason.detail()),
    };
    format!("{} {verdict} ticket={ticket}", outcome.scan_id)
}
