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
}

/// Arguments of `scan`.
#[derive(Debug, PartialEq, Eq)]
pub struct ScanArgs {
    /// The store.
    pub db: String,
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
        "scan" => {
            let direction = match take("direction").as_deref() {
                None | Some("entry") => Direction::Entry,
                Some("exit") => Direction::Exit,
                Some(other) => return Err(usage(&format!("unknown direction {other:?}"))),
            };
            Command::Scan(ScanArgs {
                db: take("db").ok_or_else(|| usage("--db"))?,
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
            args("scan --db x.db --gate north --direction exit a.png b.png").unwrap()
        else {
            panic!("not a scan");
        };
        assert_eq!(scan.direction, Direction::Exit);
        assert_eq!(scan.images, ["a.png", "b.png"]);
        assert_eq!(scan.config, None);
    }

    #[test]
    fn refuses_bad_lines() {
        assert!(matches!(args(""), Err(Error::Usage(_))));
        assert!(matches!(args("scan --gate north"), Err(Error::Usage(m)) if m == "missing --db"));
        assert!(matches!(
            args("scan --db x --gate n --direction up"),
            Err(Error::Usage(_))
        ));
        assert!(matches!(
            args("scan --db x --gate n --colour red"),
            Err(Error::Usage(_))
        ));
        assert!(matches!(
            args("demo-setup --out d extra"),
            Err(Error::Usage(_))
        ));
        assert!(matches!(args("dance"), Err(Error::Usage(_))));
    }
}
