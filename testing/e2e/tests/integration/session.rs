//! Sign-up, log-in, refresh and log-out against the real server.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use guichet_sdk::ErrorKind;
use guichet_sdk::session::{Role, SecretStore};
use guichet_sdk::{Error, SecretStoreError};

use crate::faults::Recorder;
use guichet_e2e::{PASSWORD, TestServer, new_account};

/// A host's secure storage (a Keychain stand-in): secrets in memory, inspectable.
#[derive(Debug, Default)]
struct MemorySecrets(Mutex<HashMap<String, String>>);

impl SecretStore for MemorySecrets {
    fn load(&self, key: &str) -> Result<Option<String>, SecretStoreError> {
        Ok(self.0.lock().unwrap().get(key).cloned())
    }
    fn save(&self, key: &str, value: &str) -> Result<(), SecretStoreError> {
        self.0.lock().unwrap().insert(key.into(), value.into());
        Ok(())
    }
    fn delete(&self, key: &str) -> Result<(), SecretStoreError> {
        self.0.lock().unwrap().remove(key);
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_up_survives_a_restart_and_log_out_ends_the_session() {
    let server = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let client = server.client(dir.path()).open().await.unwrap();
    assert!(client.account().await.is_none());
    assert!(matches!(client.me().await, Err(Error::NotSignedIn)));
    let account = client
        .sign_up(new_account("ada@example.org", Role::Organizer))
        .await
        .unwrap();
    assert_eq!(account.role, Role::Organizer);
    assert!(dir.path().join("secrets/session.secret").exists());
    drop(client);

    let again = server.client(dir.path()).open().await.unwrap();
    assert_eq!(again.account().await.unwrap().id, account.id);
    assert_eq!(again.me().await.unwrap().email, "ada@example.org");
    again.log_out().await.unwrap();
    assert!(again.account().await.is_none());
    assert!(!dir.path().join("secrets/session.secret").exists());
    assert!(matches!(again.me().await, Err(Error::NotSignedIn)));

    // Wrong password: the server's code, not a panic or a transport error.
    let error = again.log_in("ada@example.org", "wrong password!").await;
    assert_eq!(error.unwrap_err().kind(), ErrorKind::Unauthenticated);
    let back = again.log_in("ADA@example.org", PASSWORD).await.unwrap();
    assert_eq!(back.id, account.id);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expiring_access_token_is_refreshed_before_the_call() {
    // Access tokens live 1 s, under the client's 30 s margin: every call must refresh first.
    let server = TestServer::start_with(|c| c.access_ttl = 1).await;
    let dir = tempfile::tempdir().unwrap();
    let recorder = Recorder::over(&server.url);
    let client = server
        .client(dir.path())
        .transport(recorder.clone())
        .open()
        .await
        .unwrap();
    client
        .sign_up(new_account("bob@example.org", Role::Attendee))
        .await
        .unwrap();
    assert_eq!(client.me().await.unwrap().email, "bob@example.org");
    assert_eq!(client.me().await.unwrap().email, "bob@example.org");
    assert_eq!(recorder.count("RefreshSession"), 2);
    assert_eq!(recorder.count("Me"), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rejected_token_is_refreshed_once_through_the_hosts_secret_store() {
    let server = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let secrets = Arc::new(MemorySecrets::default());
    let recorder = Recorder::over(&server.url);
    let client = server
        .client(dir.path())
        .transport(recorder.clone())
        .secret_store(secrets.clone())
        .open()
        .await
        .unwrap();
    client
        .sign_up(new_account("cy@example.org", Role::Attendee))
        .await
        .unwrap();
    // Tokens went to the host's store, not the data directory.
    assert!(!dir.path().join("secrets").exists());
    let saved = secrets.load("session").unwrap().unwrap();
    let mut session: serde_json::Value = serde_json::from_str(&saved).unwrap();
    // The server stops accepting the access token (forged here) before it looks expired.
    session["access_token"] = "not.a.token".into();
    secrets.save("session", &session.to_string()).unwrap();
    drop(client);

    let client = server
        .client(dir.path())
        .transport(recorder.clone())
        .secret_store(secrets.clone())
        .open()
        .await
        .unwrap();
    assert_eq!(client.me().await.unwrap().email, "cy@example.org");
    assert_eq!(recorder.count("RefreshSession"), 1);
    assert_eq!(recorder.count("Me"), 2, "rejected once, then retried once");
    let rotated: serde_json::Value =
        serde_json::from_str(&secrets.load("session").unwrap().unwrap()).unwrap();
    assert_ne!(rotated["refresh_token"], session["refresh_token"]);

    // A revoked session (refresh token presented twice: theft) ends with SessionExpired.
    server
        .ok(
            None,
            "mutation($t: String!) { logOut(refreshToken: $t) }",
            serde_json::json!({ "t": rotated["refresh_token"] }),
        )
        .await;
    let mut stale = rotated.clone();
    stale["access_token"] = "not.a.token".into();
    secrets.save("session", &stale.to_string()).unwrap();
    drop(client);
    let client = server
        .client(dir.path())
        .secret_store(secrets.clone())
        .open()
        .await
        .unwrap();
    assert!(matches!(client.me().await, Err(Error::SessionExpired)));
    assert!(client.account().await.is_none());
    assert!(secrets.load("session").unwrap().is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_data_directory_belongs_to_one_server() {
    let server = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    drop(server.client(dir.path()).open().await.unwrap());
    let other = guichet_sdk::Client::open("http://127.0.0.1:9/", dir.path()).await;
    assert!(matches!(other, Err(Error::ServerMismatch { .. })));
    assert!(matches!(
        guichet_sdk::Client::open("ftp://example.org", dir.path()).await,
        Err(Error::InvalidArgument { .. })
    ));
}
