//! Opening a URL in the system browser, for single sign-on: the SDK's
//! [`BrowserOpener`] for the organizer console, with no plugin (the platform's own opener:
//! `xdg-open`, `open`, or Windows' URL protocol handler). Only `http`/`https` URLs open.

use std::process::{Command, Stdio};

use guichet_sdk::session::oidc::{BrowserOpener, OpenError};

/// The system browser.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemBrowser;

/// The program and arguments that open `url` on this platform.
pub fn open_command(url: &str) -> (&'static str, Vec<String>) {
    if cfg!(target_os = "windows") {
        // Not `cmd /C start`: cmd would read the `&` between query parameters.
        (
            "rundll32",
            vec!["url.dll,FileProtocolHandler".into(), url.into()],
        )
    } else if cfg!(target_os = "macos") {
        ("open", vec![url.into()])
    } else {
        ("xdg-open", vec![url.into()])
    }
}

impl BrowserOpener for SystemBrowser {
    fn open(&self, url: &str) -> Result<(), OpenError> {
        if !(url.starts_with("https://") || url.starts_with("http://")) {
            return Err(OpenError(format!("refusing to open a non-web URL: {url}")));
        }
        let (program, args) = open_command(url);
        let mut child = Command::new(program)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| OpenError(format!("cannot start {program}: {e}")))?;
        // Reap the opener when it exits (it hands the URL over and ends).
        std::thread::spawn(move || child.wait());
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn only_web_urls_open() {
        let refused = SystemBrowser.open("file:///etc/passwd").unwrap_err();
        assert!(refused.0.contains("non-web URL"), "{refused:?}");
        assert!(SystemBrowser.open("javascript:alert(1)").is_err());
    }

    #[test]
    fn the_url_is_one_argument_whatever_it_holds() {
        let url = "https://id.example/auth?client_id=a&state=b c&redirect_uri=x";
        let (_, args) = open_command(url);
        assert_eq!(args.last().map(String::as_str), Some(url));
    }
}
