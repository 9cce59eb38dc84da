//! `attendee`: a terminal attendee app over the Guichet SDK. It signs in, syncs the wallet,
//! books with a test card, and shows tickets as QR codes in the terminal, offline.
//!
//! `sync` pulls the public catalog into the local cache; `search` then works offline.

mod args;

use std::process::ExitCode;

use args::Command;
use guichet_sdk::booking::{HoldLine, OperationState, TicketStatus};
use guichet_sdk::catalog::{EventSearch, Near};
use guichet_sdk::session::{Role, SignUp};
use guichet_sdk::{Client, Error};

/// Why the CLI stopped.
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    /// Bad command line.
    #[error("{0}\n\n{usage}", usage = args::USAGE)]
    Usage(String),
    /// The SDK refused or failed.
    #[error("{} ({})", .0, .0.code())]
    Sdk(#[from] Error),
}

#[tokio::main]
async fn main() -> ExitCode {
    let parsed = args::parse(std::env::args().skip(1), |name| std::env::var(name).ok());
    let result = match parsed {
        Ok((global, command)) => run(&global, command).await,
        Err(failure) => Err(failure),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("attendee: {failure}");
            ExitCode::FAILURE
        }
    }
}

/// A day (`YYYY-MM-DD`) at midnight UTC.
fn day(value: &str) -> Result<chrono::DateTime<chrono::Utc>, Failure> {
    chrono::NaiveDate::parse_from_str(value, "%Y-%m-%d")
        .map(|d| d.and_time(chrono::NaiveTime::MIN).and_utc())
        .map_err(|_| Failure::Usage(format!("not a day (YYYY-MM-DD): {value:?}")))
}

async fn search(
    client: &Client,
    text: Option<String>,
    near: Option<(f64, f64, f64)>,
    from: Option<String>,
    to: Option<String>,
    limit: usize,
) -> Result<(), Failure> {
    let query = EventSearch {
        text,
        near: near.map(|(latitude, longitude, radius_km)| Near {
            latitude,
            longitude,
            radius_km,
        }),
        starts_after: from.as_deref().map(day).transpose()?,
        starts_before: to.as_deref().map(day).transpose()?,
        limit,
        ..EventSearch::default()
    };
    let hits = client.catalog().search(query).await?;
    if hits.is_empty() {
        println!("no events (run `attendee sync` first to fill the offline catalog)");
    }
    for hit in hits {
        let e = &hit.event;
        let distance = hit
            .distance_km
            .map_or_else(String::new, |d| format!("  {d:.1} km"));
        let from_price = e.ticket_types.iter().map(|t| t.price_minor).min();
        let price = from_price.map_or_else(String::new, |p| format!("  from {}", money(p)));
        println!(
            "{}  {}  {} — {}, {}{distance}{price}",
            e.id,
            e.starts_at.format("%Y-%m-%d %H:%M UTC"),
            e.title,
            e.venue,
            e.city
        );
    }
    Ok(())
}

async fn run(global: &args::Global, command: Command) -> Result<(), Failure> {
    let client = Client::open(&global.server, &global.data).await?;
    match command {
        Command::SignUp {
            email,
            name,
            password,
        } => {
            let account = client
                .sign_up(SignUp {
                    email,
                    password,
                    display_name: name,
                    role: Role::Attendee,
                })
                .await?;
            println!("signed up as {} ({})", account.email, account.id);
        }
        Command::LogIn { email, password } => {
            let account = client.log_in(&email, &password).await?;
            println!("signed in as {}", account.email);
        }
        Command::LogOut => {
            client.log_out().await?;
            println!("signed out");
        }
        Command::WhoAmI => match client.account().await {
            Some(account) => println!("{} {} {:?}", account.email, account.id, account.role),
            None => println!("not signed in"),
        },
        Command::Sync if client.account().await.is_none() => {
            let report = client.catalog().sync().await?;
            println!(
                "catalog: {} event(s) updated, {} removed (sign in to sync tickets too)",
                report.upserted, report.removed
            );
        }
        Command::Search {
            text,
            near,
            from,
            to,
            limit,
        } => search(&client, text, near, from, to, limit).await?,
        Command::Sync => {
            let report = client.sync().await?;
            println!(
                "catalog: {} event(s) updated, {} removed",
                report.catalog.upserted, report.catalog.removed
            );
            if !report.resumed.is_empty() {
                println!("re-sent {} pending operation(s)", report.resumed.len());
            }
            println!(
                "wallet: {} order(s), {} ticket(s)",
                report.wallet.orders, report.wallet.tickets
            );
        }
        Command::Availability { event } => {
            for t in client.catalog().availability(&event).await? {
                println!(
                    "{}  {}  {} {}  {} left (max {} per order)",
                    t.id,
                    t.details.name,
                    money(t.details.price_minor),
                    t.details.currency,
                    t.available,
                    t.details.max_per_order
                );
            }
        }
        Command::Book {
            event,
            ticket_type,
            quantity,
            card,
        } => book(&client, &event, ticket_type, quantity, &card).await?,
        Command::Tickets { qr } => {
            let tickets = client.wallet().tickets().await?;
            if tickets.is_empty() {
                println!("no tickets (run `attendee sync` after booking elsewhere)");
            }
            for t in tickets {
                let event = t.event.as_ref().map_or_else(
                    || t.ticket.event_id.clone(),
                    |e| {
                        format!(
                            "{} — {} {}",
                            e.title,
                            e.venue,
                            e.starts_at.format("%Y-%m-%d %H:%M UTC")
                        )
                    },
                );
                let status = match t.ticket.status {
                    TicketStatus::Valid => "VALID",
                    TicketStatus::Revoked => "REVOKED",
                };
                println!("ticket {} {status}  {event}", t.ticket.id);
                if qr && t.ticket.status == TicketStatus::Valid {
                    print!("{}", t.qr()?.to_terminal());
                    println!("{}", t.ticket.credential);
                }
            }
        }
        Command::Pending => {
            for op in client.booking().pending_operations().await? {
                let error = op
                    .last_error
                    .as_ref()
                    .map_or_else(String::new, |e| format!(" last error {}", e.kind));
                println!("{} {:?} attempts {}{error}", op.id, op.kind, op.attempts);
            }
        }
        Command::Resume => {
            for op in client.booking().resume_pending().await? {
                println!("{} {:?} {:?}", op.id, op.kind, op.state);
            }
        }
        Command::Refund { order } => {
            let order = client.booking().refund(&order, &[]).await?;
            println!(
                "order {} {:?}, refunded {}",
                order.id,
                order.status,
                money(order.refunded_minor)
            );
        }
    }
    Ok(())
}

async fn book(
    client: &Client,
    event: &str,
    ticket_type: Option<String>,
    quantity: i64,
    card: &str,
) -> Result<(), Failure> {
    let ticket_type_id = match ticket_type {
        Some(id) => id,
        None => client
            .catalog()
            .availability(event)
            .await?
            .into_iter()
            .next()
            .map(|t| t.id)
            .ok_or_else(|| Failure::Usage("this event has no ticket types".into()))?,
    };
    let hold = client
        .booking()
        .hold(
            event,
            &[HoldLine {
                ticket_type_id,
                quantity,
            }],
        )
        .await?;
    println!(
        "held {quantity} ticket(s), {} {}, {} s left to pay",
        money(hold.total_minor),
        hold.currency,
        hold.remaining().as_secs()
    );
    let order = client.booking().checkout(&hold.id, Some(card)).await?;
    println!("order {} {:?}", order.id, order.status);
    for ticket in &order.tickets {
        println!("ticket {}", ticket.id);
        print!("{}", ticket.qr()?.to_terminal());
        println!("{}", ticket.credential);
    }
    let pending = client.booking().pending_operations().await?;
    if pending.iter().any(|op| op.state == OperationState::Pending) {
        println!(
            "{} operation(s) still pending: run `attendee resume`",
            pending.len()
        );
    }
    Ok(())
}

fn money(minor: i64) -> String {
    format!("{}.{:02}", minor / 100, minor.rem_euclid(100))
}
