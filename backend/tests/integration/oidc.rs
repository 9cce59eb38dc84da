//! Bearer tokens from a real OpenID Connect provider: npm's `oidc-provider`, started by the
//! test on a loopback port (`backend/tests/oidc`, installed with `npm ci`). A token it
//! issues is accepted and maps to an account created from its e-mail claim, with the role
//! of its roles claim; tampered, expired, wrong-audience and wrong-issuer tokens are
//! refused with UNAUTHENTICATED; a key rotation at the provider is picked up.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use serde_json::json;

use crate::support::TestApp;

const ME: &str = "{ me { id email role } }";
const API: &str = "https://api.guichet.test";
/// How long the provider may take to start, and a token request to be answered.
const STARTUP: std::time::Duration = std::time::Duration::from_secs(60);

/// The provider, a child process killed when this is dropped.
struct Provider {
    child: Child,
    issuer: String,
}

impl Drop for Provider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn provider_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/oidc")
}

impl Provider {
    /// Starts the provider on `port` (0: any) with the signing key in `key_file` (created
    /// when missing) and waits until it serves.
    fn start(port: u16, key_file: &Path) -> Provider {
        let dir = provider_dir();
        assert!(
            dir.join("node_modules/oidc-provider").is_dir(),
            "the test OpenID provider is not installed: run `npm ci` in {}",
            dir.display()
        );
        let mut child = Command::new("node")
            .arg("provider.mjs")
            .current_dir(&dir)
            .env("PORT", port.to_string())
            .env("KEY_FILE", key_file)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("node: {e}"));
        let stdout = child.stdout.take().unwrap_or_else(|| panic!("no stdout"));
        // Read on a thread that then keeps draining the pipe: the provider never writes
        // into a closed pipe, and a provider that never says it listens fails the test
        // within a minute instead of holding it open.
        let (said, heard) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            let _ = said.send(lines.next());
            lines.for_each(drop);
        });
        let line = match heard.recv_timeout(STARTUP) {
            Ok(Some(Ok(line))) => line,
            other => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("the OpenID provider did not start within {STARTUP:?}: {other:?}")
            }
        };
        let issuer = line
            .trim()
            .strip_prefix("listening ")
            .unwrap_or_else(|| panic!("provider did not start: {line:?}"))
            .to_owned();
        Provider { child, issuer }
    }

    fn port(&self) -> u16 {
        self.issuer
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("{}", self.issuer))
    }

    /// An access token for `client` (client credentials) for `resource`.
    async fn token(&self, client: &str, resource: &str) -> String {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let response: serde_json::Value = reqwest::Client::builder()
            .timeout(STARTUP)
            .build()
            .unwrap_or_else(|e| panic!("client: {e}"))
            .post(format!("{}/token", self.issuer))
            .basic_auth(client, Some(format!("secret-{client}")))
            .form(&[
                ("grant_type", "client_credentials"),
                ("scope", "api"),
                ("resource", resource),
            ])
            .send()
            .await
            .unwrap_or_else(|e| panic!("token request: {e}"))
            .json()
            .await
            .unwrap_or_else(|e| panic!("token response: {e}"));
        response["access_token"]
            .as_str()
            .unwrap_or_else(|| panic!("no access token: {response}"))
            .to_owned()
    }
}

/// Runs a test body, failing it (instead of holding CI open) if it has not finished within
/// two minutes: a provider or a request that never answers is a failure with a message.
async fn within(body: impl std::future::Future<Output = ()>) {
    let limit = std::time::Duration::from_secs(120);
    tokio::time::timeout(limit, body)
        .await
        .unwrap_or_else(|_| panic!("the test did not finish within {limit:?}"));
}

async fn app_trusting(issuer: &str) -> TestApp {
    let issuer = issuer.to_owned();
    TestApp::sqlite_with(move |c| {
        c.oidc_issuer = Some(issuer);
        c.oidc_audience = Some("guichet-api".into());
        c.oidc_keys_refresh_secs = 0;
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn provider_tokens_are_accepted_and_bad_ones_refused() {
    within(async {
        let keys = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let provider = Provider::start(0, &keys.path().join("first.json"));
        let app = app_trusting(&provider.issuer).await;

        let organizer = provider.token("guichet-organizer", API).await;
        let me = app.ok(Some(&organizer), ME, json!({})).await["me"].clone();
        assert_eq!(me["email"], "olu@idp.test");
        assert_eq!(me["role"], "ORGANIZER");
        let create = "mutation($i: EventInput!) { createEvent(input: $i) { id } }";
        let input = json!({ "i": crate::support::event_input("Single sign-on", 9) });
        app.ok(Some(&organizer), create, input).await;
        // The subject maps to the same account on every use.
        let again = provider.token("guichet-organizer", API).await;
        assert_eq!(
            app.ok(Some(&again), ME, json!({})).await["me"]["id"],
            me["id"]
        );
        // Guichet's own log-in works beside it.
        let (own, _, _) = app.sign_up("local@example.org", "ATTENDEE").await;
        assert_eq!(
            app.ok(Some(&own), ME, json!({})).await["me"]["email"],
            "local@example.org"
        );

        // Tampered: the payload changed, the signature kept.
        let mut parts: Vec<String> = organizer.split('.').map(str::to_owned).collect();
        parts[1] = parts[1].replacen('e', "f", 1);
        let tampered = parts.join(".");
        assert_eq!(
            app.err(Some(&tampered), ME, json!({})).await,
            "UNAUTHENTICATED"
        );
        // Another audience.
        let elsewhere = provider
            .token("guichet-organizer", "https://other.test")
            .await;
        assert_eq!(
            app.err(Some(&elsewhere), ME, json!({})).await,
            "UNAUTHENTICATED"
        );
        // Another issuer signing with the very same key: only the issuer check refuses it.
        let impostor = Provider::start(0, &keys.path().join("first.json"));
        let foreign = impostor.token("guichet-organizer", API).await;
        assert_eq!(
            app.err(Some(&foreign), ME, json!({})).await,
            "UNAUTHENTICATED"
        );
        // Expired: tokens of `guichet-short` live 2 s; the verifier allows 5 s of skew.
        let short = provider.token("guichet-short", API).await;
        assert_eq!(
            app.ok(Some(&short), ME, json!({})).await["me"]["email"],
            "ada@idp.test"
        );
        tokio::time::sleep(std::time::Duration::from_secs(8)).await;
        assert_eq!(
            app.err(Some(&short), ME, json!({})).await,
            "UNAUTHENTICATED"
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_rotation_at_the_provider_is_picked_up() {
    within(async {
        let keys = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let first = Provider::start(0, &keys.path().join("first.json"));
        let app = app_trusting(&first.issuer).await;
        let before = first.token("guichet-attendee", API).await;
        let id = app.ok(Some(&before), ME, json!({})).await["me"]["id"].clone();
        assert!(id.is_string());
        // The provider restarts on the same address with a new signing key.
        let port = first.port();
        drop(first);
        let second = Provider::start(port, &keys.path().join("second.json"));
        let after = second.token("guichet-attendee", API).await;
        assert_ne!(
            jsonwebtoken::decode_header(&after).ok().and_then(|h| h.kid),
            jsonwebtoken::decode_header(&before)
                .ok()
                .and_then(|h| h.kid),
            "the provider did not rotate its key"
        );
        assert_eq!(app.ok(Some(&after), ME, json!({})).await["me"]["id"], id);
        // The retired key's tokens are no longer accepted.
        assert_eq!(
            app.err(Some(&before), ME, json!({})).await,
            "UNAUTHENTICATED"
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_e_mail_of_a_local_account_is_never_taken_over() {
    within(async {
        let keys = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let provider = Provider::start(0, &keys.path().join("key.json"));
        let app = app_trusting(&provider.issuer).await;
        app.sign_up("ada@idp.test", "ORGANIZER").await;
        let token = provider.token("guichet-attendee", API).await;
        assert_eq!(
            app.err(Some(&token), ME, json!({})).await,
            "UNAUTHENTICATED"
        );
    })
    .await;
}
