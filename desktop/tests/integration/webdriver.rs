//! A small WebDriver client (W3C JSON over HTTP) for tauri-driver, and tauri-driver itself.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::{Value, json};

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";
/// How long a page may take to show what a step waits for.
pub const PATIENCE: Duration = Duration::from_secs(30);

/// `tauri-driver` on a free port, killed when dropped.
pub struct Driver {
    pub url: String,
    child: Child,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Driver {
    pub async fn spawn() -> Driver {
        let (port, native) = (free_port(), free_port());
        let program = std::env::var("TAURI_DRIVER").unwrap_or_else(|_| "tauri-driver".into());
        let child = Command::new(&program)
            .args([
                "--port",
                &port.to_string(),
                "--native-port",
                &native.to_string(),
            ])
            .stdout(Stdio::null())
            // The apps inherit it: their background syncs' failures land in the test's log.
            .env(
                "RUST_LOG",
                std::env::var("RUST_LOG").unwrap_or_else(|_| "warn,guichet_sdk=info".into()),
            )
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot start {program} (install it: cargo install tauri-driver): {e}")
            });
        let url = format!("http://127.0.0.1:{port}");
        let http = reqwest::Client::new();
        let deadline = Instant::now() + PATIENCE;
        while http.get(format!("{url}/status")).send().await.is_err() {
            assert!(Instant::now() < deadline, "tauri-driver did not come up");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Driver { url, child }
    }
}

/// One app window under WebDriver.
pub struct Session {
    http: reqwest::Client,
    base: String,
}

impl Session {
    /// Starts `app` with `args` and waits for its window.
    pub async fn start(driver: &Driver, app: &Path, args: &[String]) -> Session {
        let http = reqwest::Client::new();
        let caps = json!({ "capabilities": { "alwaysMatch": {
            "tauri:options": { "application": app, "args": args }
        } } });
        let reply: Value = http
            .post(format!("{}/session", driver.url))
            .json(&caps)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let id = reply["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {reply}"))
            .to_owned();
        Session {
            http,
            base: format!("{}/session/{id}", driver.url),
        }
    }

    async fn send(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        if let Some(body) = body {
            request = request.json(&body);
        }
        request.send().await.unwrap().json::<Value>().await.unwrap()["value"].take()
    }

    async fn post(&self, path: &str, body: Value) -> Value {
        self.send(reqwest::Method::POST, path, Some(body)).await
    }

    /// The element matching `css`, waiting for it to exist.
    pub async fn find(&self, css: &str) -> String {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let found = self
                .post("/element", json!({ "using": "css selector", "value": css }))
                .await;
            if let Some(id) = found[ELEMENT].as_str() {
                return id.to_owned();
            }
            assert!(Instant::now() < deadline, "no element {css}: {found}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Clicks `css`, waiting until it exists and can be clicked (shown, enabled).
    pub async fn click(&self, css: &str) {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let id = self.find(css).await;
            let reply = self.post(&format!("/element/{id}/click"), json!({})).await;
            if reply.is_null() {
                return;
            }
            assert!(Instant::now() < deadline, "click {css}: {reply}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Types `text` into `css` as a keyboard would (a wedge scanner types the same way).
    pub async fn type_into(&self, css: &str, text: &str) {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let id = self.find(css).await;
            let reply = self
                .post(&format!("/element/{id}/value"), json!({ "text": text }))
                .await;
            if reply.is_null() {
                return;
            }
            assert!(Instant::now() < deadline, "type into {css}: {reply}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub async fn text(&self, css: &str) -> String {
        let id = self.find(css).await;
        self.send(reqwest::Method::GET, &format!("/element/{id}/text"), None)
            .await
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// Waits until the text of `css` satisfies `ok`; returns it.
    pub async fn wait_text(&self, css: &str, ok: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let text = self.text(css).await;
            if ok(&text) {
                return text;
            }
            assert!(Instant::now() < deadline, "{css} still shows {text:?}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub async fn execute(&self, script: &str, args: Value) -> Value {
        self.post("/execute/sync", json!({ "script": script, "args": args }))
            .await
    }

    /// Runs an asynchronous script (its last argument is the callback), for up to 5 minutes.
    pub async fn execute_async(&self, script: &str, args: Value) -> Value {
        self.post("/timeouts", json!({ "script": 300_000 })).await;
        self.post("/execute/async", json!({ "script": script, "args": args }))
            .await
    }

    /// Saves a PNG of the window.
    pub async fn screenshot(&self, path: &Path) {
        let data = self.send(reqwest::Method::GET, "/screenshot", None).await;
        let png = base64::engine::general_purpose::STANDARD
            .decode(data.as_str().unwrap())
            .unwrap();
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, png).unwrap();
    }

    pub async fn quit(self) {
        let _ = self.send(reqwest::Method::DELETE, "", None).await;
    }
}
