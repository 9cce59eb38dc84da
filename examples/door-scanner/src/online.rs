//! `pair`, `sync` and `watch`: the door with a server, online-first.

use std::io::BufRead;
use std::sync::Arc;
use std::time::Duration;

use guichet_sdk::notify::{Outcome, Progress, ProgressListener, Task};
use guichet_sdk::scanner::{Door, DoorOptions};

use crate::args::{Command, DoorArgs};
use crate::error::Error;
use crate::scan::describe;

/// Runs one of the online commands on a tokio runtime.
pub fn run(command: Command) -> Result<(), Error> {
    // reqwest is built without a default TLS provider: install ring once.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(Error::Runtime)?;
    runtime.block_on(async move {
        match command {
            Command::Pair { door, code, name } => pair(&door, &code, &name).await,
            Command::Sync(door) => sync(&door).await,
            Command::Watch {
                door,
                every_secs,
                direction,
                budget_ms,
            } => {
                let options = DoorOptions {
                    online_budget: Duration::from_millis(budget_ms),
                    ..DoorOptions::default()
                };
                let door = Door::builder(&door.server, &door.dir, &door.gate)
                    .options(options)
                    .open()
                    .await?;
                watch(door, Duration::from_secs(every_secs), direction).await
            }
            Command::DemoSetup { .. } | Command::Scan(_) => Ok(()),
        }
    })
}

async fn pair(args: &DoorArgs, code: &str, name: &str) -> Result<(), Error> {
    let door = Door::builder(&args.server, &args.dir, &args.gate)
        .pair(code, name)
        .await?;
    let (tickets, revoked) = door.ticket_counts().await?;
    let list = door
        .config()
        .await?
        .map(|c| c.list.fields().name.clone())
        .unwrap_or_default();
    println!(
        "paired with list {list:?} at gate {}: {tickets} tickets ({revoked} revoked)",
        door.gate()
    );
    Ok(())
}

async fn sync(args: &DoorArgs) -> Result<(), Error> {
    let door = Door::builder(&args.server, &args.dir, &args.gate)
        .open()
        .await?;
    let report = door.sync().await?;
    println!(
        "pushed {} scans; pulled {} pages: {} tickets, {} revocations, {} scans",
        report.pushed, report.pages, report.tickets, report.revoked, report.scans
    );
    Ok(())
}

/// Prints background sync failures on stderr (the scan lines stay on stdout).
struct Log;

impl ProgressListener for Log {
    fn on_progress(&self, _progress: Progress) {}
    fn on_finished(&self, _task: Task, outcome: Outcome) {
        if let Outcome::Failed(error) = outcome {
            eprintln!("background sync stopped: {error}");
        }
    }
}

async fn watch(
    door: Door,
    every: Duration,
    direction: guichet_domain::checkin::Direction,
) -> Result<(), Error> {
    let background = door.watch(every, Arc::new(Log));
    let (lines, mut incoming) = tokio::sync::mpsc::channel::<String>(64);
    std::thread::spawn(move || {
        for line in std::io::stdin().lock().split(b'\n') {
            let Ok(line) = line else { break };
            let line = String::from_utf8_lossy(&line);
            let text = line.strip_suffix('\r').unwrap_or(&line).to_owned();
            if lines.blocking_send(text).is_err() {
                break;
            }
        }
    });
    while let Some(text) = incoming.recv().await {
        let scanned = door.scan(&text, direction).await?;
        let mode = if scanned.online { "online" } else { "local" };
        println!("{} {mode}", describe(&scanned.outcome));
    }
    background.cancel();
    match door.sync().await {
        Ok(report) => eprintln!("final sync: pushed {} scans", report.pushed),
        Err(error) => eprintln!("final sync failed ({error}); scans stay queued on disk"),
    }
    Ok(())
}
