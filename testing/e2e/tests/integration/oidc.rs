//! Sign-in through a real OpenID Connect provider: npm's `oidc-provider`
//! (`backend/tests/oidc`, installed with `npm ci`), started on a loopback port, and the
//! server in-process trusting its issuer. The SDK runs the authorization-code flow with
//! PKCE; the test plays the browser on the provider's development log-in and consent
//! pages (plain HTML forms) with a cookie-keeping HTTP client.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use guichet_e2e::TestServer;
use guichet_sdk::ErrorKind;
use guichet_sdk::session::{BrowserOpener, OidcConfig, OpenError};

/// How long the provider may take to start, and a request to be answered.
const STARTUP: Duration = Duration::from_secs(60);
const API: &str = "https://api.guichet.test";

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
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../backend/tests/oidc")
}

impl Provider {
    /// Starts the provider on any free port and waits until it serves.
    fn start() -> Provider {
        let dir = provider_dir();
        assert!(
            dir.join("node_modules/oidc-provider").is_dir(),
            "the test OpenID provider is not installed: run `npm ci` in {}",
            dir.display()
        );
        let mut child = Command::new("node")
            .arg("provider.mjs")
            .current_dir(&dir)
            .env("PORT", "0")
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

    fn config(&self) -> OidcConfig {
        OidcConfig {
            issuer: self.issuer.clone(),
            client_id: "guichet-app".into(),
            redirect_uri: "http://127.0.0.1/callback".into(),
            scopes: vec!["openid".into(), "offline_access".into()],
            resource: Some(API.into()),
        }
    }
}

/// A browser on the provider's development pages: follows redirects by hand, keeps
/// cookies, fills the log-in form with any login name, accepts the consent form.
struct Browser {
    http: reqwest::Client,
    cookies: HashMap<String, String>,
}

/// What the user does at the provider.
#[derive(Debug, Clone)]
enum Plan {
    /// Logs in as this login name (e-mail `<name>@idp.test`) and consents.
    LogIn(&'static str),
    /// Presses "Cancel" on the log-in page.
    Cancel,
}

impl Browser {
    fn new() -> Browser {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(STARTUP)
            .build()
            .unwrap();
        Browser {
            http,
            cookies: HashMap::new(),
        }
    }

    async fn send(&mut self, request: reqwest::RequestBuilder) -> (u16, Option<String>, String) {
        let jar: Vec<String> = self
            .cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        let response = request
            .header(reqwest::header::COOKIE, jar.join("; "))
            .send()
            .await
            .unwrap();
        for set in response.headers().get_all(reqwest::header::SET_COOKIE) {
            let set = set.to_str().unwrap();
            let pair = set.split(';').next().unwrap();
            let (name, value) = pair.split_once('=').unwrap();
            let gone = value.is_empty() || set.to_ascii_lowercase().contains("1970");
            if gone {
                self.cookies.remove(name.trim());
            } else {
                self.cookies.insert(name.trim().into(), value.into());
            }
        }
        let status = response.status().as_u16();
        let location = response
            .headers()
            .get(reqwest::header::LOCATION)
            .map(|l| l.to_str().unwrap().to_owned());
        (status, location, response.text().await.unwrap())
    }

    /// Goes from the authorization URL through the provider's pages following `plan`,
    /// until the provider redirects to `redirect_uri`; returns that redirect URL.
    async fn walk(&mut self, authorization_url: &str, redirect_uri: &str, plan: &Plan) -> String {
        let mut url = reqwest::Url::parse(authorization_url).unwrap();
        for _ in 0..12 {
            if url.as_str().starts_with(redirect_uri) {
                return url.into();
            }
            let (status, location, page) = self.send(self.http.get(url.clone())).await;
            let (status, location) = if status == 200 {
                let form = Form::of(&page);
                match (plan, form.fields.get("prompt").map(String::as_str)) {
                    (Plan::Cancel, Some("login")) => {
                        let abort = url.join(&format!("{}/abort", url.path())).unwrap();
                        let (s, l, _) = self.send(self.http.get(abort)).await;
                        (s, l)
                    }
                    (Plan::LogIn(name), Some(prompt)) => {
                        let mut fields = form.fields.clone();
                        if prompt == "login" {
                            fields.insert("login".into(), (*name).into());
                            fields.insert("password".into(), "any".into());
                        }
                        let action = url.join(&form.action).unwrap();
                        let (s, l, _) = self.send(self.http.post(action).form(&fields)).await;
                        (s, l)
                    }
                    other => panic!("unexpected page at {url} for {other:?}: {page}"),
                }
            } else {
                (status, location)
            };
            assert!(
                (300..400).contains(&status),
                "expected a redirect from {url}, got {status}"
            );
            url = url.join(&location.unwrap()).unwrap();
        }
        panic!("the provider did not redirect back to {redirect_uri}")
    }
}

/// The one form of a development interaction page: its action and its named inputs.
struct Form {
    action: String,
    fields: HashMap<String, String>,
}

fn attribute(tag: &str, name: &str) -> Option<String> {
    let start = tag.find(&format!(" {name}=\""))? + name.len() + 3;
    let end = tag[start..].find('"')? + start;
    Some(tag[start..end].replace("&amp;", "&"))
}

impl Form {
    fn of(page: &str) -> Form {
        let form = &page[page
            .find("<form")
            .unwrap_or_else(|| panic!("no form: {page}"))..];
        let tag = &form[..form.find('>').unwrap()];
        let action = attribute(tag, "action").unwrap();
        let end = form.find("</form>").unwrap();
        let fields = form[..end]
            .split("<input")
            .skip(1)
            .filter_map(|input| {
                let tag = &input[..input.find('>')?];
                Some((
                    attribute(tag, "name")?,
                    attribute(tag, "value").unwrap_or_default(),
                ))
            })
            .collect();
        Form { action, fields }
    }
}

/// What a test's browser opener does once the SDK gives it the authorization URL.
#[derive(Debug, Clone)]
enum Opening {
    /// The user goes through the provider's pages.
    Provider(Plan),
    /// Something else calls the loopback address with a forged `state`.
    ForgedState,
}

/// The desktop host's opener: instead of a system browser, a task on the test's runtime
/// that plays the browser and keeps the page the SDK's loopback answered.
struct TestOpener {
    runtime: tokio::runtime::Handle,
    opening: Opening,
    page: Arc<Mutex<Option<String>>>,
}

impl TestOpener {
    fn new(opening: Opening) -> Arc<TestOpener> {
        Arc::new(TestOpener {
            runtime: tokio::runtime::Handle::current(),
            opening,
            page: Arc::default(),
        })
    }

    /// The page the loopback answered (the browser task stores it just after the SDK
    /// returns, so this waits a little for it).
    async fn page(&self) -> String {
        for _ in 0..200 {
            if let Some(page) = self.page.lock().unwrap().clone() {
                return page;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the browser got no answer from the loopback address")
    }
}

impl BrowserOpener for TestOpener {
    fn open(&self, url: &str) -> Result<(), OpenError> {
        let url = reqwest::Url::parse(url).map_err(|e| OpenError(e.to_string()))?;
        let redirect_uri = url
            .query_pairs()
            .find(|(k, _)| k == "redirect_uri")
            .map(|(_, v)| v.into_owned())
            .ok_or_else(|| OpenError("no redirect_uri".into()))?;
        assert!(
            redirect_uri.starts_with("http://127.0.0.1:"),
            "{redirect_uri}"
        );
        let (opening, page) = (self.opening.clone(), self.page.clone());
        self.runtime.spawn(async move {
            let mut browser = Browser::new();
            let back = match opening {
                Opening::Provider(plan) => browser.walk(url.as_str(), &redirect_uri, &plan).await,
                Opening::ForgedState => format!("{redirect_uri}?code=forged&state=forged"),
            };
            let (_, _, answer) = browser.send(browser.http.get(back)).await;
            *page.lock().unwrap() = Some(answer);
        });
        Ok(())
    }
}

async fn server_trusting(provider: &Provider) -> TestServer {
    let issuer = provider.issuer.clone();
    TestServer::start_with(move |c| {
        c.oidc_issuer = Some(issuer);
        c.oidc_audience = Some("guichet-api".into());
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_desktop_signs_in_through_the_provider_and_the_server_knows_the_account() {
    let provider = Provider::start();
    let server = server_trusting(&provider).await;
    let dir = tempfile::tempdir().unwrap();
    let client = server.client(dir.path()).open().await.unwrap();

    // A redirect with another state is refused, and nobody is signed in.
    let forged = TestOpener::new(Opening::ForgedState);
    let error = client
        .sign_in_with_provider(provider.config(), forged.clone())
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::InvalidInput, "{error}");
    let page = forged.page().await;
    assert!(page.contains("Sign-in failed"), "{page}");
    assert!(client.account().await.is_none());

    // The user cancels at the provider: its `error=access_denied` redirect.
    let cancel = TestOpener::new(Opening::Provider(Plan::Cancel));
    let error = client
        .sign_in_with_provider(provider.config(), cancel.clone())
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Unauthenticated, "{error}");
    assert!(error.to_string().contains("access_denied"), "{error}");
    assert!(client.account().await.is_none());

    // The user logs in and consents.
    let grace = TestOpener::new(Opening::Provider(Plan::LogIn("grace")));
    let account = client
        .sign_in_with_provider(provider.config(), grace.clone())
        .await
        .unwrap();
    assert_eq!(account.email, "grace@idp.test");
    let page = grace.page().await;
    assert!(page.contains("Signed in"), "{page}");
    let me = client.me().await.unwrap();
    assert_eq!(
        (me.id.as_str(), me.email.as_str()),
        (account.id.as_str(), "grace@idp.test")
    );
    // The server holds the same account for that token.
    let session = std::fs::read_to_string(dir.path().join("secrets/session.secret")).unwrap();
    let saved: serde_json::Value = serde_json::from_str(&session).unwrap();
    let token = saved["access_token"].as_str().unwrap();
    let seen = server
        .ok(Some(token), "{ me { id email } }", serde_json::json!({}))
        .await;
    assert_eq!(seen["me"]["id"], account.id.as_str());
    assert_eq!(saved["provider"]["issuer"], provider.issuer.as_str());
    assert!(!saved["refresh_token"].as_str().unwrap().is_empty());

    // The session survives a restart; log-out forgets it.
    drop(client);
    let again = server.client(dir.path()).open().await.unwrap();
    assert_eq!(again.me().await.unwrap().id, account.id);
    again.log_out().await.unwrap();
    assert_eq!(again.me().await.unwrap_err().kind(), ErrorKind::NotSignedIn);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mobile_host_gives_the_redirect_to_the_sdk() {
    let provider = Provider::start();
    let server = server_trusting(&provider).await;
    let dir = tempfile::tempdir().unwrap();
    let client = server.client(dir.path()).open().await.unwrap();
    let mut config = provider.config();
    // The app's own address: nothing listens there, the host catches the redirect.
    config.redirect_uri = "http://127.0.0.1:9/callback".into();

    let pending = client.begin_provider_sign_in(config.clone()).await.unwrap();
    let url = reqwest::Url::parse(&pending.authorization_url).unwrap();
    let query: HashMap<String, String> = url.query_pairs().into_owned().collect();
    assert_eq!(query["code_challenge_method"], "S256");
    assert_eq!(query["state"], pending.state);
    assert_ne!(query["code_challenge"], pending.code_verifier);
    let back = Browser::new()
        .walk(
            &pending.authorization_url,
            &config.redirect_uri,
            &Plan::LogIn("hedy"),
        )
        .await;

    // The same redirect with another state is not this sign-in's answer.
    let forged = back.replace(&format!("state={}", pending.state), "state=forged");
    let error = client
        .finish_provider_sign_in(pending.clone(), &forged)
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::InvalidInput, "{error}");
    assert!(client.account().await.is_none());

    let account = client
        .finish_provider_sign_in(pending.clone(), &back)
        .await
        .unwrap();
    assert_eq!(account.email, "hedy@idp.test");
    assert_eq!(client.me().await.unwrap().id, account.id);
    // A code is good once: the provider refuses it the second time.
    let error = client
        .finish_provider_sign_in(pending, &back)
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Unauthenticated, "{error}");

    // Another sign-in that the user cancels.
    let pending = client.begin_provider_sign_in(config.clone()).await.unwrap();
    let cancelled = Browser::new()
        .walk(
            &pending.authorization_url,
            &config.redirect_uri,
            &Plan::Cancel,
        )
        .await;
    assert!(cancelled.contains("error=access_denied"), "{cancelled}");
    let error = client
        .finish_provider_sign_in(pending, &cancelled)
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Unauthenticated, "{error}");
}

/// The saved session, as the file secret store keeps it.
fn saved_session(dir: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(dir.join("secrets/session.secret")).unwrap();
    serde_json::from_str(&text).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_provider_session_refreshes_at_the_provider_and_ends_when_it_refuses() {
    let provider = Provider::start();
    let server = server_trusting(&provider).await;
    let dir = tempfile::tempdir().unwrap();
    let client = server.client(dir.path()).open().await.unwrap();
    // Access tokens of this client live 20 s: inside the SDK's refresh margin, so every
    // signed-in call refreshes first.
    let mut config = provider.config();
    config.client_id = "guichet-app-short".into();
    let opener = TestOpener::new(Opening::Provider(Plan::LogIn("ida")));
    let account = client.sign_in_with_provider(config, opener).await.unwrap();
    let first = saved_session(dir.path());

    assert_eq!(client.me().await.unwrap().id, account.id);
    let second = saved_session(dir.path());
    assert_ne!(second["access_token"], first["access_token"]);
    // The provider rotates refresh tokens of public clients.
    assert_ne!(second["refresh_token"], first["refresh_token"]);
    assert_eq!(second["provider"], first["provider"]);
    drop(client);

    // The first refresh token again: the provider refuses it (and ends the grant), so the
    // session ends here too.
    std::fs::write(dir.path().join("secrets/session.secret"), first.to_string()).unwrap();
    let again = server.client(dir.path()).open().await.unwrap();
    assert_eq!(again.account().await.unwrap().id, account.id);
    assert_eq!(
        again.me().await.unwrap_err().kind(),
        ErrorKind::SessionExpired
    );
    assert!(again.account().await.is_none());
    assert!(!dir.path().join("secrets/session.secret").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_does_not_trust_the_issuer_refuses_its_tokens() {
    let provider = Provider::start();
    let server = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let client = server.client(dir.path()).open().await.unwrap();
    let mut config = provider.config();
    config.redirect_uri = "http://127.0.0.1:9/callback".into();
    let pending = client.begin_provider_sign_in(config.clone()).await.unwrap();
    let back = Browser::new()
        .walk(
            &pending.authorization_url,
            &config.redirect_uri,
            &Plan::LogIn("ivy"),
        )
        .await;
    // The provider signed the user in; the server does not accept its token.
    let error = client
        .finish_provider_sign_in(pending, &back)
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Unauthenticated, "{error}");
    assert!(client.account().await.is_none());
    assert!(!dir.path().join("secrets/session.secret").exists());
}
