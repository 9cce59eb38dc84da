//! Command-line parsing: a command and `--flag value` pairs.

use crate::Failure;

/// Where the server and the data are.
#[derive(Debug, PartialEq, Eq)]
pub struct Global {
    /// Server URL.
    pub server: String,
    /// Data directory.
    pub data: String,
}

/// What to do.
#[derive(Debug, PartialEq)]
pub enum Command {
    /// Create an account and sign in.
    SignUp {
        /// E-mail.
        email: String,
        /// Public name.
        name: String,
        /// Password.
        password: String,
    },
    /// Sign in.
    LogIn {
        /// E-mail.
        email: String,
        /// Password.
        password: String,
    },
    /// Sign out.
    LogOut,
    /// Who is signed in.
    WhoAmI,
    /// Refresh the wallet (and re-send pending operations).
    Sync,
    /// Ticket types of an event with what is left.
    Availability {
        /// The event.
        event: String,
    },
    /// Hold and pay.
    Book {
        /// The event.
        event: String,
        /// The ticket type (the event's first when absent).
        ticket_type: Option<String>,
        /// How many.
        quantity: i64,
        /// Test card token.
        card: String,
    },
    /// The wallet, offline.
    Tickets {
        /// Print QR codes.
        qr: bool,
    },
    /// Operations without a final answer.
    Pending,
    /// Re-send them.
    Resume,
    /// Refund an order.
    Refund {
        /// The order.
        order: String,
    },
    /// Search the cached catalog, offline.
    Search {
        /// Words (prefixes; case and accents do not matter).
        text: Option<String>,
        /// `LAT,LON,KM`.
        near: Option<(f64, f64, f64)>,
        /// Only events starting from this day (YYYY-MM-DD, UTC).
        from: Option<String>,
        /// Only events starting before this day.
        to: Option<String>,
        /// How many results.
        limit: usize,
    },
}

/// The usage text.
pub const USAGE: &str = "usage: attendee [--server URL] [--data DIR] COMMAND [FLAGS]

commands:
  signup --email E --name NAME [--password P]   create an account and sign in
  login --email E [--password P]                sign in (password also from GUICHET_PASSWORD)
  logout | whoami
  sync                                          refresh the catalog; signed in, also tickets
                                                and pending bookings
  search [--text WORDS] [--near LAT,LON,KM] [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--limit N]
                                                search the synced catalog, offline
  availability --event ID                       ticket types and what is left
  book --event ID [--ticket-type ID] [--quantity N] [--card tok_visa]
  tickets [--qr yes]                            the wallet, offline; QR codes in the terminal
  pending | resume                              operations waiting for an answer
  refund --order ID

defaults: --server http://127.0.0.1:8080 (GUICHET_SERVER), --data ./attendee-data
(GUICHET_DATA)";

/// `LAT,LON,KM`.
fn near(value: &str) -> Result<(f64, f64, f64), Failure> {
    let parts: Vec<f64> = value
        .split(',')
        .map(|p| p.trim().parse::<f64>())
        .collect::<Result<_, _>>()
        .map_err(|_| usage("--near takes LAT,LON,KM"))?;
    match parts[..] {
        [lat, lon, km] => Ok((lat, lon, km)),
        _ => Err(usage("--near takes LAT,LON,KM")),
    }
}

fn usage(problem: &str) -> Failure {
    Failure::Usage(problem.to_owned())
}

/// Parses the arguments after the program name; `env` reads environment variables.
pub fn parse(
    args: impl IntoIterator<Item = String>,
    env: impl Fn(&str) -> Option<String>,
) -> Result<(Global, Command), Failure> {
    let mut flags: Vec<(String, String)> = Vec::new();
    let mut command = None;
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        if let Some(name) = arg.strip_prefix("--") {
            let value = args
                .next()
                .ok_or_else(|| usage(&format!("--{name} needs a value")))?;
            flags.push((name.to_owned(), value));
        } else if command.is_none() {
            command = Some(arg);
        } else {
            return Err(usage(&format!("unexpected argument {arg:?}")));
        }
    }
    let mut take = |name: &str| {
        flags
            .iter()
            .position(|(n, _)| n == name)
            .map(|i| flags.swap_remove(i).1)
    };
    let global = Global {
        server: take("server")
            .or_else(|| env("GUICHET_SERVER"))
            .unwrap_or_else(|| "http://127.0.0.1:8080".into()),
        data: take("data")
            .or_else(|| env("GUICHET_DATA"))
            .unwrap_or_else(|| "attendee-data".into()),
    };
    let command = command.ok_or_else(|| usage("missing command"))?;
    let password = |given: Option<String>| {
        given
            .or_else(|| env("GUICHET_PASSWORD"))
            .ok_or_else(|| usage("--password (or GUICHET_PASSWORD)"))
    };
    let parsed = match command.as_str() {
        "signup" => Command::SignUp {
            email: take("email").ok_or_else(|| usage("--email"))?,
            name: take("name").ok_or_else(|| usage("--name"))?,
            password: password(take("password"))?,
        },
        "login" => Command::LogIn {
            email: take("email").ok_or_else(|| usage("--email"))?,
            password: password(take("password"))?,
        },
        "logout" => Command::LogOut,
        "whoami" => Command::WhoAmI,
        "sync" => Command::Sync,
        "availability" => Command::Availability {
            event: take("event").ok_or_else(|| usage("--event"))?,
        },
        "book" => Command::Book {
            event: take("event").ok_or_else(|| usage("--event"))?,
            ticket_type: take("ticket-type"),
            quantity: take("quantity")
                .map(|q| q.parse().map_err(|_| usage("--quantity takes a number")))
                .transpose()?
                .unwrap_or(1),
            card: take("card").unwrap_or_else(|| "tok_visa".into()),
        },
        "tickets" => Command::Tickets {
            qr: take("qr").is_some_and(|v| matches!(v.as_str(), "yes" | "true" | "1")),
        },
        "pending" => Command::Pending,
        "resume" => Command::Resume,
        "refund" => Command::Refund {
            order: take("order").ok_or_else(|| usage("--order"))?,
        },
        "search" => Command::Search {
            text: take("text"),
            near: take("near").map(|v| near(&v)).transpose()?,
            from: take("from"),
            to: take("to"),
            limit: take("limit")
                .map(|n| n.parse().map_err(|_| usage("--limit takes a number")))
                .transpose()?
                .unwrap_or(10),
        },
        other => return Err(usage(&format!("unknown command {other:?}"))),
    };
    if let Some((name, _)) = flags.first() {
        return Err(usage(&format!("unknown flag --{name} for {command}")));
    }
    Ok((global, parsed))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn args(text: &str) -> Vec<String> {
        text.split_whitespace().map(str::to_owned).collect()
    }

    /// The usage problem `text` is refused with (panics if it parses or fails otherwise).
    fn refusal(text: &str, env: impl Fn(&str) -> Option<String>) -> String {
        match parse(args(text), env) {
            Err(Failure::Usage(problem)) => problem,
            other => panic!("{text}: expected a usage error, got {other:?}"),
        }
    }

    #[test]
    fn parses_a_search() {
        let (_, command) = parse(
            args("search --text jazz --near 45.76,4.84,25 --from 2030-01-01 --limit 5"),
            |_| None,
        )
        .unwrap();
        assert_eq!(
            command,
            Command::Search {
                text: Some("jazz".into()),
                near: Some((45.76, 4.84, 25.0)),
                from: Some("2030-01-01".into()),
                to: None,
                limit: 5
            }
        );
        assert_eq!(
            refusal("search --near 1,2", |_| None),
            "--near takes LAT,LON,KM"
        );
    }

    #[test]
    fn parses_commands_defaults_and_the_environment() {
        let env = |name: &str| (name == "GUICHET_PASSWORD").then(|| "from env".to_owned());
        let (global, command) = parse(args("login --email a@b.c"), env).unwrap();
        assert_eq!(global.server, "http://127.0.0.1:8080");
        assert_eq!(
            command,
            Command::LogIn {
                email: "a@b.c".into(),
                password: "from env".into()
            }
        );
        let (_, command) = parse(args("--data d book --event e --quantity 2"), |_| None).unwrap();
        assert_eq!(
            command,
            Command::Book {
                event: "e".into(),
                ticket_type: None,
                quantity: 2,
                card: "tok_visa".into()
            }
        );
        assert_eq!(
            refusal("book --event e --quantity two", |_| None),
            "--quantity takes a number"
        );
        assert_eq!(
            refusal("tickets --colour red", |_| None),
            "unknown flag --colour for tickets"
        );
        assert_eq!(
            refusal("login --email a@b.c", |_| None),
            "--password (or GUICHET_PASSWORD)",
            "no password"
        );
    }
}
