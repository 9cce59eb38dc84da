//! A server with one published event, and an attendee's client opened through the bridge.

use guichet_e2e::{TestServer, PASSWORD};
use guichet_flutter::api::client::GuichetClient;
use guichet_flutter::api::records::{Role, SignUpForm};

/// The server, an event on sale (ids) and an organizer's token.
pub struct World {
    pub server: TestServer,
    pub event: String,
    pub ticket_type: String,
}

pub async fn world(capacity: i64) -> World {
    let server = TestServer::start().await;
    let organizer = server.token_for("org@example.org", "ORGANIZER").await;
    let (event, ticket_type) = server.published_event(&organizer, capacity).await;
    World {
        server,
        event,
        ticket_type,
    }
}

/// A client opened on a fresh data directory, the way the app opens it.
pub async fn client(world: &World, dir: &tempfile::TempDir) -> GuichetClient {
    let data_dir = dir.path().to_str().unwrap().to_owned();
    GuichetClient::open(world.server.url.clone(), data_dir)
        .await
        .unwrap()
}

/// A client with a new attendee signed in.
pub async fn attendee(world: &World, dir: &tempfile::TempDir, email: &str) -> GuichetClient {
    let client = client(world, dir).await;
    let account = client
        .sign_up(SignUpForm {
            email: email.to_owned(),
            password: PASSWORD.to_owned(),
            display_name: "Ann".to_owned(),
            role: Role::Attendee,
        })
        .await
        .unwrap();
    assert_eq!(
        (account.email.as_str(), account.role),
        (email, Role::Attendee)
    );
    client
}
