//! `guichet-desktop --mode organizer|door [--server URL] [--data-dir DIR] [--gate NAME]`

use std::process::ExitCode;
use std::time::Instant;

use guichet_desktop::launch::Launch;
use tracing_subscriber::EnvFilter;

fn main() -> ExitCode {
    let boot = Instant::now();
    // The SDK's own account of the door's syncs and the dashboard's feed, on stderr
    // (`RUST_LOG=guichet_sdk=info` for every failed background sync).
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
    let launch = match Launch::parse(std::env::args().skip(1), |var| std::env::var(var).ok()) {
        Ok(launch) => launch,
        Err(usage) => {
            eprintln!("{usage}");
            return ExitCode::from(2);
        }
    };
    match guichet_desktop::app::run(launch, boot) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("guichet-desktop: {error}");
            ExitCode::FAILURE
        }
    }
}
