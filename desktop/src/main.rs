//! `guichet-desktop --mode organizer|door [--server URL] [--data-dir DIR] [--gate NAME]`

use std::process::ExitCode;
use std::time::Instant;

use guichet_desktop::launch::Launch;

fn main() -> ExitCode {
    let boot = Instant::now();
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
