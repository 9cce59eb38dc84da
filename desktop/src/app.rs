//! The Tauri application per mode: the state each window's commands reach, and the window.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use guichet_sdk::notify::{Outcome, Progress, ProgressListener, Task, TaskHandle};
use guichet_sdk::scanner::Door;
use guichet_sdk::session::oidc::OidcConfig;
use guichet_sdk::{BoundaryError, Client, ErrorKind};
use tauri::{Manager, WebviewUrl, WebviewWindowBuilder};

use crate::commands;
use crate::launch::{Launch, Mode};

/// How often a paired door syncs in the background (push scans, pull changes).
const DOOR_SYNC_EVERY: Duration = Duration::from_secs(2);

/// When `main` started, for the cold-start figure the front end reports at first paint.
#[derive(Debug)]
pub struct Boot(pub Instant);

/// The organizer console's state: one SDK client, and the live sales feed of the event on
/// screen.
#[derive(Debug)]
pub struct Organizer {
    /// The SDK client (session, organizer calls).
    pub client: Client,
    /// The dashboard's live feed (replacing it cancels the previous one).
    pub live: Mutex<Option<TaskHandle>>,
    /// Single sign-on through the OpenID provider, when configured.
    pub sso: Option<OidcConfig>,
}

/// The door scanner's state: the paired door, once there is one, and its background sync.
#[derive(Debug)]
pub struct DoorApp {
    /// Server, data directory and gate this door opens with.
    pub launch: Mutex<Launch>,
    door: tokio::sync::RwLock<Option<Door>>,
    watch: Mutex<Option<TaskHandle>>,
}

/// The background sync reports nothing the window needs: the window polls the door's status.
struct Quiet;

impl ProgressListener for Quiet {
    fn on_progress(&self, _: Progress) {}
    fn on_finished(&self, _: Task, _: Outcome) {}
}

impl DoorApp {
    /// The paired door, or `NOT_PAIRED`.
    pub async fn door(&self) -> Result<Door, BoundaryError> {
        self.door.read().await.clone().ok_or_else(|| BoundaryError {
            kind: ErrorKind::NotPaired,
            message: "this scanner is not paired yet".into(),
        })
    }

    /// Uses `door` from now on and syncs it in the background (the previous sync task is
    /// cancelled when its handle is replaced).
    pub async fn install(&self, door: Door) -> Door {
        let watch = door.watch(DOOR_SYNC_EVERY, std::sync::Arc::new(Quiet));
        *self.door.write().await = Some(door.clone());
        if let Ok(mut slot) = self.watch.lock() {
            *slot = Some(watch);
        }
        door
    }

    /// A copy of the launch settings.
    pub fn settings(&self) -> Launch {
        match self.launch.lock() {
            Ok(launch) => launch.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }
}

/// Builds and runs the app for `launch` until its window closes.
pub fn run(launch: Launch, boot: Instant) -> Result<(), Box<dyn std::error::Error>> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mode = launch.mode;
    let builder = tauri::Builder::default().manage(Boot(boot));
    let builder = match mode {
        Mode::Organizer => builder.invoke_handler(commands::organizer_handler()),
        Mode::Door => builder.invoke_handler(commands::door_handler()),
    };
    builder
        .setup(move |app| {
            match mode {
                Mode::Organizer => {
                    let client = tauri::async_runtime::block_on(Client::open(
                        &launch.server_url,
                        &launch.data_dir,
                    ))?;
                    let sso = launch.sso.clone().map(|sso| OidcConfig {
                        issuer: sso.issuer,
                        client_id: sso.client_id,
                        // A loopback redirect: the SDK picks the port.
                        redirect_uri: "http://127.0.0.1/callback".into(),
                        scopes: vec!["openid".into(), "email".into(), "offline_access".into()],
                        resource: sso.resource,
                    });
                    app.manage(Organizer {
                        client,
                        live: Mutex::default(),
                        sso,
                    });
                }
                Mode::Door => {
                    let state = DoorApp {
                        launch: Mutex::new(launch.clone()),
                        door: tokio::sync::RwLock::new(None),
                        watch: Mutex::new(None),
                    };
                    let reopened = tauri::async_runtime::block_on(
                        Door::builder(&launch.server_url, &launch.data_dir, &launch.gate).open(),
                    );
                    if let Ok(door) = reopened {
                        tauri::async_runtime::block_on(state.install(door));
                    }
                    app.manage(state);
                }
            }
            let title = match mode {
                Mode::Organizer => "Guichet — organizer console",
                Mode::Door => "Guichet — door scanner",
            };
            WebviewWindowBuilder::new(app, mode.label(), WebviewUrl::App(mode.page().into()))
                .title(title)
                .inner_size(1200.0, 800.0)
                .build()?;
            Ok(())
        })
        .run(tauri::generate_context!())?;
    Ok(())
}
