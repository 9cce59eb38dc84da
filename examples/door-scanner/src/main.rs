//! `door-scanner`: an offline door scanner over the Guichet SDK.
//!
//! See the crate README, or run it without arguments for usage.

mod args;
mod demo;
mod error;
mod image;
mod online;
mod scan;

use std::path::Path;
use std::process::ExitCode;

use args::Command;

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("door-scanner: {error}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), error::Error> {
    match args::parse(std::env::args().skip(1))? {
        Command::DemoSetup { out } => {
            let written = demo::write(Path::new(&out))?;
            println!("wrote {out}/scanner-config.json (public keys, list, revocations)");
            println!("wrote {out}/issuer-key.json (PRIVATE signing key: issuing side only)");
            for name in written {
                println!("wrote {out}/tickets/{name}.txt and .png");
            }
            println!(
                "try: door-scanner scan --config {out}/scanner-config.json --dir door \
                 --gate {} < {out}/tickets.txt",
                demo::GATES[0]
            );
            Ok(())
        }
        Command::Scan(scan_args) => {
            let stdin = std::io::stdin().lock();
            scan::run(&scan_args, stdin, &mut std::io::stdout().lock())
        }
        online @ (Command::Pair { .. } | Command::Sync(_) | Command::Watch { .. }) => {
            online::run(online)
        }
    }
}
