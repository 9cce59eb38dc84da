//! How the binary was started: which app, against which server, with its data where.

use std::path::PathBuf;

/// Which of the two apps the window runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// The organizer console: events, sales, attendees, doors.
    Organizer,
    /// The door scanner: pair once, then scan, online or not.
    Door,
}

impl Mode {
    /// The page the window opens and the window's label.
    pub fn page(self) -> &'static str {
        match self {
            Mode::Organizer => "organizer.html",
            Mode::Door => "door.html",
        }
    }

    /// The window label (capabilities name it).
    pub fn label(self) -> &'static str {
        match self {
            Mode::Organizer => "organizer",
            Mode::Door => "door",
        }
    }
}

/// Single sign-on for the organizer console: the OpenID provider the server trusts and this
/// app's public client id there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sso {
    /// The provider's issuer URL.
    pub issuer: String,
    /// The console's public client id at the provider.
    pub client_id: String,
    /// The API the access token is for (RFC 8707 resource), when the provider wants it.
    pub resource: Option<String>,
}

/// The command line, with the environment as fallback (`GUICHET_MODE`, `GUICHET_SERVER_URL`,
/// `GUICHET_DATA_DIR`, `GUICHET_GATE`, `GUICHET_SSO_ISSUER`, `GUICHET_SSO_CLIENT_ID`,
/// `GUICHET_SSO_RESOURCE`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Launch {
    /// Organizer console or door scanner.
    pub mode: Mode,
    /// The Guichet server.
    pub server_url: String,
    /// Where the SDK keeps its SQLite file and secrets.
    pub data_dir: PathBuf,
    /// The door's gate (door mode).
    pub gate: String,
    /// Single sign-on, when both an issuer and a client id are given.
    pub sso: Option<Sso>,
}

/// A command line that cannot be used, with the usage text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{0}\nusage: guichet-desktop [--mode organizer|door] [--server URL] [--data-dir DIR] [--gate NAME] [--sso-issuer URL --sso-client-id ID [--sso-resource URI]]"
)]
pub struct UsageError(pub String);

impl Launch {
    /// Reads `args` (without the program name), then the environment through `env`.
    pub fn parse(
        args: impl IntoIterator<Item = String>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Launch, UsageError> {
        let mut flags = std::collections::HashMap::new();
        let mut args = args.into_iter();
        while let Some(flag) = args.next() {
            let key = match flag.as_str() {
                "--mode" | "--server" | "--data-dir" | "--gate" | "--sso-issuer"
                | "--sso-client-id" | "--sso-resource" => flag,
                other => return Err(UsageError(format!("unknown argument `{other}`"))),
            };
            let value = args
                .next()
                .ok_or_else(|| UsageError(format!("`{key}` needs a value")))?;
            flags.insert(key, value);
        }
        let pick = |flag: &str, var: &str| flags.get(flag).cloned().or_else(|| env(var));
        let mode = match pick("--mode", "GUICHET_MODE").as_deref() {
            None | Some("organizer") => Mode::Organizer,
            Some("door") => Mode::Door,
            Some(other) => return Err(UsageError(format!("unknown mode `{other}`"))),
        };
        let data_dir = pick("--data-dir", "GUICHET_DATA_DIR")
            .map(PathBuf::from)
            .or_else(|| env("HOME").map(|h| PathBuf::from(h).join(".local/share/guichet")))
            .ok_or_else(|| UsageError("no --data-dir and no HOME".into()))?;
        Ok(Launch {
            mode,
            server_url: pick("--server", "GUICHET_SERVER_URL")
                .unwrap_or_else(|| "http://127.0.0.1:8080".into()),
            data_dir: data_dir.join(mode.label()),
            gate: pick("--gate", "GUICHET_GATE").unwrap_or_else(|| "Main".into()),
            sso: match (
                pick("--sso-issuer", "GUICHET_SSO_ISSUER"),
                pick("--sso-client-id", "GUICHET_SSO_CLIENT_ID"),
            ) {
                (Some(issuer), Some(client_id)) => Some(Sso {
                    issuer,
                    client_id,
                    resource: pick("--sso-resource", "GUICHET_SSO_RESOURCE"),
                }),
                (None, None) => None,
                _ => {
                    return Err(UsageError(
                        "single sign-on needs both --sso-issuer and --sso-client-id".into(),
                    ));
                }
            },
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn flags_win_over_the_environment() {
        let env = |var: &str| match var {
            "GUICHET_MODE" => Some("organizer".to_owned()),
            "GUICHET_SERVER_URL" => Some("http://env:1".to_owned()),
            "HOME" => Some("/home/x".to_owned()),
            _ => None,
        };
        let launch = Launch::parse(
            args(&["--mode", "door", "--data-dir", "/d", "--gate", "North"]),
            env,
        )
        .unwrap();
        assert_eq!(launch.mode, Mode::Door);
        assert_eq!(launch.server_url, "http://env:1");
        assert_eq!(launch.data_dir, PathBuf::from("/d/door"));
        assert_eq!(launch.gate, "North");
        assert_eq!(launch.mode.page(), "door.html");
    }

    #[test]
    fn defaults_to_the_organizer_console_under_home() {
        let launch = Launch::parse(args(&[]), |v| (v == "HOME").then(|| "/h".to_owned())).unwrap();
        assert_eq!(launch.mode, Mode::Organizer);
        assert_eq!(
            launch.data_dir,
            PathBuf::from("/h/.local/share/guichet/organizer")
        );
        assert_eq!(launch.gate, "Main");
        assert_eq!(launch.sso, None);
    }

    #[test]
    fn single_sign_on_needs_an_issuer_and_a_client_id() {
        let env = |var: &str| match var {
            "HOME" => Some("/h".to_owned()),
            "GUICHET_SSO_CLIENT_ID" => Some("guichet-app".to_owned()),
            _ => None,
        };
        let launch = Launch::parse(args(&["--sso-issuer", "https://id.example"]), env).unwrap();
        assert_eq!(
            launch.sso,
            Some(Sso {
                issuer: "https://id.example".into(),
                client_id: "guichet-app".into(),
                resource: None,
            })
        );
        let half = Launch::parse(args(&["--sso-issuer", "https://id.example"]), |v| {
            (v == "HOME").then(|| "/h".to_owned())
        })
        .unwrap_err();
        assert_eq!(
            half.0,
            "single sign-on needs both --sso-issuer and --sso-client-id"
        );
    }

    #[test]
    fn refuses_unknown_modes_and_flags_without_values() {
        let none = |_: &str| None;
        let err = Launch::parse(args(&["--mode", "kiosk"]), none).unwrap_err();
        assert_eq!(err.0, "unknown mode `kiosk`");
        let err = Launch::parse(args(&["--server"]), none).unwrap_err();
        assert_eq!(err.0, "`--server` needs a value");
        let err = Launch::parse(args(&["-x"]), none).unwrap_err();
        assert_eq!(err.0, "unknown argument `-x`");
    }
}
