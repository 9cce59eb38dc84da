//! Command-line parsing (two subcommands, a handful of flags).

use guichet_domain::checkin::Direction;

use crate::error::Error;

/// What to do.
#[derive(Debug, PartialEq, Eq)]
pub enum Command {
    /// Write a demo event to a directory.
    DemoSetup {
        /// Output directory.
        out: String,
    },
    /// Scan credentials.
    Scan(ScanArgs),
    /// Redeem a pairing code with a server.
    Pair {
        /// Where the door is.
        door: DoorArgs,
        /// The organizer's one-time code.
        code: String,
        /// Name shown to the organizer.
        name: String,
    },
    /// Push scans and pull changes once.
    Sync(DoorArgs),
    /// Scan stdin online-first while syncing in the background.
    Watch {
        /// Where the door is.
        door: DoorArgs,
        /// Seconds between background syncs.
        every_secs: u64,
        /// Entry or exit.
        direction: Direction,
        /// Milliseconds to wait for the server's online decision.
        budget_ms: u64,
    },
}

/// The server and the paired door's data.
#[derive(Debug, PartialEq, Eq)]
pub struct DoorArgs {
    /// Server URL.
    pub server: String,
    /// Data directory (store and device token).
    pub dir: String,
    /// The gate this device stands at.
    pub gate: String,
}

/// Arguments of `scan`.
#[derive(Debug, PartialEq, Eq)]
pub struct ScanArgs {
    /// The door's data directory (its store, `door.db`).
    pub dir: String,
    /// The gate this device stands at.
    pub gate: String,
    /// Configuration to pair with first.
    pub config: Option<String>,
    /// Entry or exit.
    pub direction: Direction,
    /// PNG files to scan instead of stdin.
    pub images: Vec<String>,
}

/// Parses the arguments after the program name.
pub fn parse(args: impl IntoIterator<Item = String>) -> Result<Command, Error> {
    let mut args = args.into_iter();
    let command = args.next().ok_or_else(|| usage("missing command"))?;
    let mut flags: Vec<(String, String)> = Vec::new();
    let mut positional = Vec::new();
    while let Some(arg) = args.next() {
        if let Some(name) = arg.strip_prefix("--") {
            let value = args
                .next()
                .ok_or_else(|| usage(&format!("--{name} needs a value")))?;
            flags.push((name.to_owned(), value));
        } else {
            positional.push(arg);
        }
    }
    let mut take = |name: &str| {
        flags
            .iter()
            .position(|(n, _)| n == name)
            .map(|i| flags.swap_remove(i).1)
    };
    let command = match command.as_str() {
        "demo-setup" => Command::DemoSetup {
            out: take("out").ok_or_else(|| usage("--out"))?,
        },
        "pair" => Command::Pair {
            door: door_args(&mut take)?,
            code: take("code").ok_or_else(|| usage("--code"))?,
            name: take("name").unwrap_or_else(|| "door-scanner".to_owned()),
        },
        "sync" => Command::Sync(door_args(&mut take)?),
        "watch" => Command::Watch {
            door: door_args(&mut take)?,
            every_secs: number(take("every"), 5)?,
            direction: direction(take("direction"))?,
            budget_ms: number(take("budget-ms"), 300)?,
        },
        "scan" => {
            let direction = direction(take("direction"))?;
            Command::Scan(ScanArgs {
                dir: take("dir").ok_or_else(|| usage("--dir"))?,
                gate: take("gate").ok_or_else(|| usage("--gate"))?,
                config: take("config"),
                direction,
                images: std::mem::take(&mut positional),
            })
        }
        other => return Err(usage(&format!("unknown command {other:?}"))),
    };
    if let Some((name, _)) = flags.first() {
        return Err(usage(&format!("unknown flag --{name}")));
    }
    if !positional.is_empty() {
        return Err(usage("unexpected arguments"));
    }
    Ok(command)
}

fn door_args(take: &mut impl FnMut(&str) -> Option<String>) -> Result<DoorArgs, Error> {
    Ok(DoorArgs {
        server: take("server").ok_or_else(|| usage("--server"))?,
        dir: take("dir").ok_or_else(|| usage("--dir"))?,
        gate: take("gate").ok_or_else(|| usage("--gate"))?,
    })
}

fn direction(value: Option<String>) -> Result<Direction, Error> {
    match value.as_deref() {
        None | Some("entry") => Ok(Direction::Entry),
        Some("exit") => Ok(Direction::Exit),
        Some(other) => Err(usage(&format!("unknown direction {other:?}"))),
    }
}

fn number(value: Option<String>, default: u64) -> Result<u64, Error> {
    value.map_or(Ok(default), |v| {
        v.parse()
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| usage(&format!("not a positive number: {v:?}")))
    })
}

fn usage(what: &str) -> Error {
    if what.starts_with("--") {
        Error::Usage(format!("missing {what}"))
    } else {
        Error::Usage(what.to_owned())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn args(line: &str) -> Result<Command, Error> {
        parse(line.split_whitespace().map(String::from))
    }

    #[test]
    fn parses_both_commands() {
        assert_eq!(
            args("demo-setup --out d").unwrap(),
            Command::DemoSetup { out: "d".into() }
        );
        let Command::Scan(scan) =
            args("scan --dir x --gate north --direction exit a.png b.png").unwrap()
        else {
            panic!("not a scan");
        };
        assert_eq!(scan.direction, Direction::Exit);
        assert_eq!(scan.images, ["a.png", "b.png"]);
        assert_eq!(scan.config, None);
    }

    #[test]
    fn parses_the_online_commands() {
        let door = DoorArgs {
            server: "http://s".into(),
            dir: "d".into(),
            gate: "north".into(),
        };
        assert_eq!(
            args("pair --server http://s --dir d --gate north --code AB12-CD34").unwrap(),
            Command::Pair {
                door,
                code: "AB12-CD34".into(),
                name: "door-scanner".into()
            }
        );
        let Command::Watch {
            every_secs,
            budget_ms,
            direction,
            ..
        } = args("watch --server http://s --dir d --gate n --every 2 --direction exit").unwrap()
        else {
            panic!("not watch");
        };
        assert_eq!(
            (every_secs, budget_ms, direction),
            (2, 300, Direction::Exit)
        );
        assert!(matches!(
            args("sync --server http://s --gate n"),
            Err(Error::Usage(m)) if m == "missing --dir"
        ));
        assert!(matches!(
            args("watch --server s --dir d --gate n --every 0"),
            Err(Error::Usage(_))
        ));
    }

    #[test]
    fn refuses_bad_lines() {
        assert!(matches!(args(""), Err(Error::Usage(_))));
        assert!(matches!(args("scan --gate north"), Err(Error::Usage(m)) if m == "missing --dir"));
        assert!(matches!(
            args("scan --dir x --gate n --direction up"),
            Err(Error::Usage(_))
        ));
        assert!(matches!(
            args("scan --dir x --gate n --colour red"),
            Err(Error::Usage(_))
        ));
        assert!(matches!(
            args("demo-setup --out d extra"),
            Err(Error::Usage(_))
        ));
        assert!(matches!(args("dance"), Err(Error::Usage(_))));
    }
}
