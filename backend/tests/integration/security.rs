//! What the server promises about its secrets, limits and defaults (README, "Security").

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use guichet_domain::credential::Credential;
use guichet_domain::keyring::{EventKeyRing, KeyId, public_key_from_hex};
use guichet_server::config::{Config, ConfigError};
use guichet_server::{AppState, StartError};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

use crate::support::{TestApp, error_code, event_input, on_both, str_of, ticket_input};

on_both!(
    standard_introspection_passes_the_limits,
    lists_weigh_what_they_cost
);

/// graphql-js `getIntrospectionQuery({ descriptions: true, specifiedByUrl: true,
/// directiveIsRepeatable: true, schemaDescription: true, inputValueDeprecation: true })`,
/// as GraphiQL, Apollo and codegen tools send it.
const INTROSPECTION_QUERY: &str = r"
    query IntrospectionQuery {
      __schema {
        description
        queryType { name }
        mutationType { name }
        subscriptionType { name }
        types {
          ...FullType
        }
        directives {
          name
          description
          isRepeatable
          locations
          args(includeDeprecated: true) {
            ...InputValue
          }
        }
      }
    }

    fragment FullType on __Type {
      kind
      name
      description
      specifiedByURL
      fields(includeDeprecated: true) {
        name
        description
        args(includeDeprecated: true) {
          ...InputValue
        }
        type {
          ...TypeRef
        }
        isDeprecated
        deprecationReason
      }
      inputFields(includeDeprecated: true) {
        ...InputValue
      }
      interfaces {
        ...TypeRef
      }
      enumValues(includeDeprecated: true) {
        name
        description
        isDeprecated
        deprecationReason
      }
      possibleTypes {
        ...TypeRef
      }
    }

    fragment InputValue on __InputValue {
      name
      description
      type { ...TypeRef }
      defaultValue
      isDeprecated
      deprecationReason
    }

    fragment TypeRef on __Type {
      kind
      name
      ofType {
        kind
        name
        ofType {
          kind
          name
          ofType {
            kind
            name
            ofType {
              kind
              name
              ofType {
                kind
                name
                ofType {
                  kind
                  name
                  ofType {
                    kind
                    name
                  }
                }
              }
            }
          }
        }
      }
    }
";

/// The SDK's catalog sync (core-sdk/sdk/graphql/catalog.graphql), pages of 1,000.
const SDK_CATALOG_SYNC: &str = "query CatalogChanges($after: String, $first: Int!) {
  catalogChanges(after: $after, first: $first) { cursor hasMore changes { eventId event {
    id title description venue city latitude longitude startsAt endsAt timeZone online status
    updatedAt ticketTypes { id name priceMinor currency saleStartsAt saleEndsAt maxPerOrder available }
  } } } }";

async fn standard_introspection_passes_the_limits(app: TestApp) {
    let data = app.ok(None, INTROSPECTION_QUERY, json!({})).await;
    let types = data["__schema"]["types"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(
        types.iter().any(|t| t["name"] == "Event"),
        "the schema's types are listed"
    );
    assert_eq!(data["__schema"]["queryType"]["name"], "Query");
    // An ordinary query one level deeper than the limit is still refused.
    let deep = "{ a { b { c { d { e { f { g { h { i { j { k } } } } } } } } } } }";
    let response = app.gql(None, deep, json!({})).await;
    assert_eq!(error_code(&response).as_deref(), Some("INVALID_INPUT"));
    assert!(
        response["errors"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("deeper than 10")),
        "{response}"
    );
    // Introspection nested past its own bound is refused too.
    let mut chain = String::from("name");
    for _ in 0..20 {
        chain = format!("ofType {{ {chain} }}");
    }
    let too_deep = format!("{{ __type(name: \"Event\") {{ {chain} }} }}");
    assert_eq!(app.err(None, &too_deep, json!({})).await, "INVALID_INPUT");
}

async fn lists_weigh_what_they_cost(app: TestApp) {
    // 200 aliased searches: 600 fields, but 200 storage reads.
    let aliased: String = (0..200)
        .map(|i| format!("s{i}: events {{ nodes {{ id }} }} "))
        .collect();
    let response = app.gql(None, &format!("{{ {aliased} }}"), json!({})).await;
    assert_eq!(
        error_code(&response).as_deref(),
        Some("INVALID_INPUT"),
        "{response}"
    );
    assert!(
        response["errors"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("costs more than")),
        "{response}"
    );
    assert!(response["data"].is_null(), "nothing ran: {response}");
    // A few searches in one request, and the SDK's 1,000-entry catalog pages, still pass.
    let few: String = (0..10)
        .map(|i| format!("s{i}: events {{ nodes {{ id }} }} "))
        .collect();
    app.ok(None, &format!("{{ {few} }}"), json!({})).await;
    let page = app
        .ok(
            None,
            SDK_CATALOG_SYNC,
            json!({ "after": null, "first": 1000 }),
        )
        .await;
    assert_eq!(page["catalogChanges"]["hasMore"], false);
}

#[tokio::test]
async fn introspection_and_graphiql_can_be_turned_off() {
    let app = TestApp::sqlite_with(|c| {
        c.introspection = false;
        c.graphiql = false;
    })
    .await;
    let response = app.gql(None, INTROSPECTION_QUERY, json!({})).await;
    assert_eq!(
        error_code(&response).as_deref(),
        Some("FORBIDDEN"),
        "{response}"
    );
    assert!(response["data"].is_null());
    assert_eq!(
        app.err(None, "{ __type(name: \"Event\") { name } }", json!({}))
            .await,
        "FORBIDDEN"
    );
    // Ordinary queries, `__typename` included, are unaffected.
    let data = app
        .ok(None, "{ __typename events { nodes { id } } }", json!({}))
        .await;
    assert_eq!(data["__typename"], "Query");
    let req = Request::get("/graphql")
        .body(Body::empty())
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(app.send(req).await.0, StatusCode::METHOD_NOT_ALLOWED);

    let on = TestApp::sqlite().await;
    let req = Request::get("/graphql")
        .body(Body::empty())
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        on.send(req).await.0,
        StatusCode::OK,
        "GraphiQL on by default"
    );
}

/// Sends an operation to `router` as if from `client` (through one trusted proxy).
async fn call(
    router: &Router,
    token: Option<&str>,
    client: Option<&str>,
    query: &str,
    variables: Value,
) -> Value {
    let mut req = Request::post("/graphql").header(header::CONTENT_TYPE, "application/json");
    if let Some(token) = token {
        req = req.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    if let Some(client) = client {
        req = req.header("x-forwarded-for", client);
    }
    let body = json!({ "query": query, "variables": variables }).to_string();
    let response = router
        .clone()
        .oneshot(req.body(Body::from(body)).unwrap_or_else(|e| panic!("{e}")))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(response.status(), StatusCode::OK);
    let bytes = response
        .into_body()
        .collect()
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .to_bytes();
    serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{e}"))
}

const LOG_IN: &str =
    "mutation($e: String!, $p: String!) { logIn(email: $e, password: $p) { accessToken } }";
const SIGN_UP: &str = "mutation($e: String!) { signUp(input: {email: $e, password: \"a long enough password\", displayName: \"X\"}) { accessToken } }";

#[tokio::test]
async fn forwarded_for_is_read_from_the_trusted_proxy_side() {
    let app = TestApp::sqlite_with(|c| {
        c.trusted_proxies = 1;
        c.auth_rate_per_minute = 1;
        c.auth_rate_burst = 2;
    })
    .await;
    let router = &app.router;
    // The client writes whatever it likes on the left; the proxy appends the real address.
    for (i, spoofed) in ["1.1.1.1", "2.2.2.2"].into_iter().enumerate() {
        let xff = format!("{spoofed}, 203.0.113.7");
        let r = call(
            router,
            None,
            Some(&xff),
            SIGN_UP,
            json!({ "e": format!("s{i}@x.org") }),
        )
        .await;
        assert!(r.get("errors").is_none(), "{r}");
    }
    let r = call(
        router,
        None,
        Some("3.3.3.3, 203.0.113.7"),
        SIGN_UP,
        json!({ "e": "s3@x.org" }),
    )
    .await;
    assert_eq!(error_code(&r).as_deref(), Some("RATE_LIMITED"), "{r}");
    // Several header lines are one list; another real address has its own budget.
    let req = Request::post("/graphql")
        .header(header::CONTENT_TYPE, "application/json")
        .header("x-forwarded-for", "203.0.113.7")
        .header("x-forwarded-for", "198.51.100.9")
        .body(Body::from(
            json!({ "query": SIGN_UP, "variables": { "e": "s4@x.org" } }).to_string(),
        ))
        .unwrap_or_else(|e| panic!("{e}"));
    let (_, _, text) = app.send(req).await;
    assert!(!text.contains("errors"), "{text}");

    // Two proxies: the second address from the right is the client.
    let two = TestApp::sqlite_with(|c| {
        c.trusted_proxies = 2;
        c.auth_rate_per_minute = 1;
        c.auth_rate_burst = 1;
    })
    .await;
    let first = call(
        &two.router,
        None,
        Some("9.9.9.9, 192.0.2.50, 10.0.0.1"),
        SIGN_UP,
        json!({ "e": "t1@x.org" }),
    )
    .await;
    assert!(first.get("errors").is_none(), "{first}");
    let again = call(
        &two.router,
        None,
        Some("8.8.8.8, 192.0.2.50, 10.0.0.2"),
        SIGN_UP,
        json!({ "e": "t2@x.org" }),
    )
    .await;
    assert_eq!(error_code(&again).as_deref(), Some("RATE_LIMITED"));

    // No trusted proxy: the header is ignored (every request here has the same peer).
    let none = TestApp::sqlite_with(|c| {
        c.auth_rate_per_minute = 1;
        c.auth_rate_burst = 1;
    })
    .await;
    let ok = call(
        &none.router,
        None,
        Some("7.7.7.7"),
        SIGN_UP,
        json!({ "e": "u1@x.org" }),
    )
    .await;
    assert!(ok.get("errors").is_none(), "{ok}");
    let r = call(
        &none.router,
        None,
        Some("6.6.6.6"),
        SIGN_UP,
        json!({ "e": "u2@x.org" }),
    )
    .await;
    assert_eq!(error_code(&r).as_deref(), Some("RATE_LIMITED"));
}

#[tokio::test]
async fn attackers_cannot_lock_a_victim_out() {
    let app = TestApp::sqlite_with(|c| {
        c.trusted_proxies = 1;
        c.auth_rate_per_minute = 1;
        c.auth_rate_burst = 3;
    })
    .await;
    let router = &app.router;
    let victim = json!({ "e": "victim@example.org", "p": "a long enough password" });
    let wrong = json!({ "e": "victim@example.org", "p": "not the password" });
    call(
        router,
        None,
        Some("192.0.2.10"),
        SIGN_UP,
        json!({ "e": "victim@example.org" }),
    )
    .await;

    // One attacker address: limited after its burst...
    for _ in 0..3 {
        let r = call(router, None, Some("203.0.113.66"), LOG_IN, wrong.clone()).await;
        assert_eq!(error_code(&r).as_deref(), Some("UNAUTHENTICATED"));
    }
    let r = call(router, None, Some("203.0.113.66"), LOG_IN, wrong.clone()).await;
    assert_eq!(error_code(&r).as_deref(), Some("RATE_LIMITED"));
    let r = call(router, None, Some("203.0.113.66"), LOG_IN, victim.clone()).await;
    assert_eq!(
        error_code(&r).as_deref(),
        Some("RATE_LIMITED"),
        "even with the password"
    );
    // ...while the victim, elsewhere, gets in.
    let r = call(router, None, Some("198.51.100.20"), LOG_IN, victim.clone()).await;
    assert!(r["data"]["logIn"]["accessToken"].is_string(), "{r}");

    // Many attacker addresses: the account's failure budget (5 × burst = 15, three spent
    // above) runs out, strangers
    // are refused, the victim's known address still gets in.
    for i in 0..12 {
        let r = call(
            router,
            None,
            Some(&format!("203.0.113.{i}")),
            LOG_IN,
            wrong.clone(),
        )
        .await;
        assert_eq!(
            error_code(&r).as_deref(),
            Some("UNAUTHENTICATED"),
            "attempt {i}"
        );
    }
    let r = call(router, None, Some("203.0.113.200"), LOG_IN, victim.clone()).await;
    assert_eq!(error_code(&r).as_deref(), Some("RATE_LIMITED"), "{r}");
    let r = call(router, None, Some("198.51.100.20"), LOG_IN, victim).await;
    assert!(r["data"]["logIn"]["accessToken"].is_string(), "{r}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn password_hashing_is_bounded() {
    let app = TestApp::sqlite().await;
    app.sign_up("many@example.org", "ATTENDEE").await;
    let mut tasks = Vec::new();
    for i in 0..50 {
        let router = app.router.clone();
        tasks.push(tokio::spawn(async move {
            let password = if i % 2 == 0 {
                "a long enough password"
            } else {
                "wrong password!"
            };
            call(
                &router,
                None,
                None,
                LOG_IN,
                json!({ "e": "many@example.org", "p": password }),
            )
            .await
        }));
    }
    let mut signed_in = 0;
    for task in tasks {
        let r = task.await.unwrap_or_else(|e| panic!("{e}"));
        if r["data"]["logIn"]["accessToken"].is_string() {
            signed_in += 1;
        } else {
            assert_eq!(error_code(&r).as_deref(), Some("UNAUTHENTICATED"), "{r}");
        }
    }
    assert_eq!(signed_in, 25);
    let bound = guichet_server::auth::password::max_concurrent();
    let peak = guichet_server::auth::password::peak_concurrent();
    assert!(
        peak >= 1 && peak <= bound,
        "peak {peak} hashes at once, bound {bound}"
    );
}

/// `response` after checking it has no errors.
fn no_errors(response: Value) -> Value {
    assert!(response.get("errors").is_none(), "{response}");
    response
}

const HOLD: &str = "mutation($e: ID!, $tt: ID!, $k: String!) { holdTickets(eventId: $e, items: [{ticketTypeId: $tt, quantity: 1}], idempotencyKey: $k) { id } }";
const CHECKOUT: &str = "mutation($h: ID!, $k: String!) { checkout(holdId: $h, payment: {token: \"tok_visa\"}, idempotencyKey: $k) { status tickets { id credential } } }";

/// A published event on sale; returns (event, ticket type).
async fn on_sale(router: &Router, org: &str) -> (String, String) {
    let data = no_errors(
        call(
            router,
            Some(org),
            None,
            "mutation($i: EventInput!) { createEvent(input: $i) { id } }",
            json!({ "i": event_input("Keys", 60) }),
        )
        .await,
    );
    let event = str_of(&data["data"]["createEvent"]["id"]);
    let mut ticket = ticket_input();
    ticket["saleStartsAt"] = json!("2020-01-01T00:00:00Z");
    ticket["saleEndsAt"] = json!("2029-12-31T00:00:00Z");
    let tt = no_errors(call(router, Some(org), None, "mutation($e: ID!, $t: TicketTypeInput!) { addTicketType(eventId: $e, input: $t) { id } }", json!({ "e": event, "t": ticket })).await);
    no_errors(
        call(
            router,
            Some(org),
            None,
            "mutation($e: ID!) { publishEvent(id: $e) { id } }",
            json!({ "e": event }),
        )
        .await,
    );
    (event, str_of(&tt["data"]["addTicketType"]["id"]))
}

/// Holds and pays one ticket; returns its credential text.
async fn buy(router: &Router, token: &str, event: &str, tt: &str, key: &str) -> String {
    let hold = no_errors(
        call(
            router,
            Some(token),
            None,
            HOLD,
            json!({ "e": event, "tt": tt, "k": key }),
        )
        .await,
    );
    let hold = str_of(&hold["data"]["holdTickets"]["id"]);
    let order = no_errors(
        call(
            router,
            Some(token),
            None,
            CHECKOUT,
            json!({ "h": hold, "k": key }),
        )
        .await,
    );
    assert_eq!(order["data"]["checkout"]["status"], "COMPLETED", "{order}");
    str_of(&order["data"]["checkout"]["tickets"][0]["credential"])
}

/// Checks `credential` against the event's published key 1.
async fn assert_signed(router: &Router, event: &str, credential: &str) {
    let keys = no_errors(
        call(
            router,
            None,
            None,
            "query($e: ID!) { eventKeys(eventId: $e) { keyId publicKey } }",
            json!({ "e": event }),
        )
        .await,
    );
    assert_eq!(
        keys["data"]["eventKeys"].as_array().map(Vec::len),
        Some(1),
        "{keys}"
    );
    let mut ring =
        EventKeyRing::new(uuid::Uuid::parse_str(event).unwrap_or_else(|e| panic!("{e}")));
    let public = public_key_from_hex(&str_of(&keys["data"]["eventKeys"][0]["publicKey"]))
        .unwrap_or_else(|e| panic!("{e}"));
    ring.rotate(KeyId(1), public)
        .unwrap_or_else(|e| panic!("{e}"));
    let credential = Credential::parse(credential).unwrap_or_else(|e| panic!("{e}"));
    ring.verify(&credential)
        .unwrap_or_else(|e| panic!("signature: {e}"));
}

async fn sign_up(router: &Router, email: &str, role: &str) -> String {
    let r = no_errors(call(router, None, None, "mutation($i: SignUpInput!) { signUp(input: $i) { accessToken } }", json!({ "i": { "email": email, "password": "a long enough password", "displayName": "K", "role": role } })).await);
    str_of(&r["data"]["signUp"]["accessToken"])
}

#[tokio::test]
async fn rotating_the_token_secret_keeps_event_keys() {
    // The embedded default: no key-encryption key configured, so a key file is made.
    let app = TestApp::sqlite_with(|c| c.key_encryption_key = None).await;
    let org = sign_up(&app.router, "org@example.org", "ORGANIZER").await;
    let buyer = sign_up(&app.router, "buyer@example.org", "ATTENDEE").await;
    let (event, tt) = on_sale(&app.router, &org).await;
    let first = buy(&app.router, &buyer, &event, &tt, "key-0001").await;

    let db_path = app
        .state
        .config
        .database_url
        .trim_start_matches("sqlite://")
        .to_owned();
    let kek_file = format!("{db_path}.kek");
    let meta = std::fs::metadata(&kek_file).unwrap_or_else(|e| panic!("{kek_file}: {e}"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    }
    let kek_before = std::fs::read_to_string(&kek_file).unwrap_or_default();

    // A new token secret, as after a compromise.
    let mut config = app.state.config.clone();
    config.jwt_secret = Some(vec![99; 32]);
    let rotated = AppState::from_config(config)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let router = guichet_server::app(rotated);
    let r = call(
        &router,
        Some(&buyer),
        None,
        "{ myTickets { id } }",
        json!({}),
    )
    .await;
    assert_eq!(
        error_code(&r).as_deref(),
        Some("UNAUTHENTICATED"),
        "old sessions end"
    );
    let r = call(
        &router,
        None,
        None,
        LOG_IN,
        json!({ "e": "buyer@example.org", "p": "a long enough password" }),
    )
    .await;
    let buyer = str_of(&r["data"]["logIn"]["accessToken"]);
    let second = buy(&router, &buyer, &event, &tt, "key-0002").await;
    assert_signed(&router, &event, &first).await;
    assert_signed(&router, &event, &second).await;
    assert_eq!(
        std::fs::read_to_string(&kek_file).unwrap_or_default(),
        kek_before
    );
}

#[tokio::test]
async fn keys_sealed_by_older_versions_are_resealed_once() {
    let app = TestApp::sqlite_with(|c| c.key_encryption_key = None).await;
    let org = sign_up(&app.router, "org2@example.org", "ORGANIZER").await;
    let buyer = sign_up(&app.router, "buyer2@example.org", "ATTENDEE").await;
    let (event, tt) = on_sale(&app.router, &org).await;
    // The event's key as the previous version sealed it: under a key derived from the
    // token secret.
    let legacy = guichet_server::issuing::Sealer::legacy_derived_from(&[42; 32]);
    let (key_id, _) = app
        .db()
        .ensure_event_key(
            &event,
            &legacy,
            guichet_server::issuing::Issuer::public_key_hex,
            0,
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(key_id, 1);

    // A wrong key-encryption key refuses to start rather than refund every checkout.
    let mut wrong = app.state.config.clone();
    wrong.key_encryption_key = Some([5; 32]);
    wrong.jwt_secret = Some(vec![43; 32]);
    match AppState::from_config(wrong).await {
        Err(StartError::Keys(1)) => {}
        other => panic!("expected StartError::Keys(1), got {other:?}"),
    }

    let started = AppState::from_config(app.state.config.clone())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let again = started
        .reseal_keys(&[42; 32])
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((again.current, again.resealed, again.unopenable), (1, 0, 0));
    // Re-sealed: the legacy key no longer opens it, and issuing works under the new one.
    let (sealed,): (String,) = guichet_server::with_pool!(app.db(), |pool| {
        sqlx::query_as("SELECT sealed_secret FROM event_keys WHERE event_id = $1")
            .bind(&event)
            .fetch_one(pool)
            .await
            .unwrap_or_else(|e| panic!("{e}"))
    });
    let context = guichet_server::issuing::seal_context(&event, 1);
    assert!(legacy.open(&sealed, &context).is_err());
    let router = guichet_server::app(started);
    let credential = buy(&router, &buyer, &event, &tt, "key-0003").await;
    assert_signed(&router, &event, &credential).await;
}

fn lookup(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let vars: Vec<(String, String)> = vars
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    move |name| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
}

#[test]
fn postgres_needs_explicit_production_choices() {
    let pg = ("DATABASE_URL", "postgres://guichet:pw@db/guichet");
    let jwt = ("GUICHET_JWT_SECRET", "0123456789abcdef0123456789abcdef");
    let kek = ("GUICHET_KEY_ENCRYPTION_KEY", "11".repeat(32).leak() as &str);
    assert!(matches!(
        Config::from_lookup(&lookup(&[pg, jwt, kek])),
        Err(ConfigError::MissingPaymentProvider)
    ));
    assert!(matches!(
        Config::from_lookup(&lookup(&[pg, jwt, ("GUICHET_PAYMENT_PROVIDER", "test")])),
        Err(ConfigError::MissingKeyEncryptionKey)
    ));
    let chosen = Config::from_lookup(&lookup(&[
        pg,
        jwt,
        kek,
        ("GUICHET_PAYMENT_PROVIDER", "test"),
    ]))
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(chosen.payment_provider, "test");
    assert!(!chosen.demo, "no demo data unless asked");
    let demo = Config::from_lookup(&lookup(&[
        pg,
        jwt,
        kek,
        ("GUICHET_PAYMENT_PROVIDER", "stripe"),
        ("GUICHET_DEMO", "true"),
    ]))
    .unwrap_or_else(|e| panic!("{e}"));
    assert!(demo.demo);
    assert!(matches!(
        Config::from_lookup(&lookup(&[
            pg,
            jwt,
            kek,
            ("GUICHET_PAYMENT_PROVIDER", "paypal")
        ])),
        Err(ConfigError::Invalid {
            name: "GUICHET_PAYMENT_PROVIDER",
            ..
        })
    ));
    assert!(matches!(
        Config::from_lookup(&lookup(&[("GUICHET_TRUST_FORWARDED_FOR", "true")])),
        Err(ConfigError::Invalid {
            name: "GUICHET_TRUST_FORWARDED_FOR",
            ..
        })
    ));
    // The embedded default keeps working with no configuration at all.
    let embedded = Config::from_lookup(&lookup(&[])).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(embedded.payment_provider, "test");
    assert!(embedded.demo && embedded.graphiql && embedded.introspection);
    assert_eq!(embedded.trusted_proxies, 0);
    let off = Config::from_lookup(&lookup(&[
        ("GUICHET_GRAPHIQL", "off"),
        ("GUICHET_INTROSPECTION", "false"),
        ("GUICHET_TRUSTED_PROXIES", "2"),
    ]))
    .unwrap_or_else(|e| panic!("{e}"));
    assert!(!off.graphiql && !off.introspection);
    assert_eq!(off.trusted_proxies, 2);
}

#[test]
fn postgres_without_a_key_encryption_key_cannot_seal() {
    let config = Config {
        database_url: "postgres://postgres@127.0.0.1/none".into(),
        ..Config::default()
    };
    assert!(matches!(
        config.load_key_encryption_key(),
        Err(ConfigError::MissingKeyEncryptionKey)
    ));
    let message = ConfigError::MissingKeyEncryptionKey.to_string();
    assert!(message.contains("GUICHET_KEY_ENCRYPTION_KEY"), "{message}");
}

#[test]
fn secrets_never_show_in_debug_output() {
    let secrets = [
        "jwt-secret-0123456789-0123456789-0123",
        "sk_live_stripe_secret_key_value",
        "whsec_stripe_webhook_secret_value",
        "notify-webhook-secret-value",
        "db-password-value",
    ];
    let kek = [0xab; 32];
    let config = Config {
        database_url: format!("postgres://guichet:{}@db:5432/guichet", secrets[4]),
        jwt_secret: Some(secrets[0].as_bytes().to_vec()),
        stripe_secret_key: Some(secrets[1].into()),
        stripe_webhook_secret: Some(secrets[2].into()),
        notify_webhook_url: Some("https://hooks.example.org/guichet".into()),
        notify_webhook_secret: Some(secrets[3].into()),
        key_encryption_key: Some(kek),
        previous_key_encryption_key: Some([0xcd; 32]),
        ..Config::default()
    };
    let stripe =
        guichet_server::payments::stripe::StripeProvider::new("https://api.stripe.com", secrets[1])
            .unwrap_or_else(|e| panic!("{e}"));
    let webhook = guichet_server::notify::Webhook::new("https://hooks.example.org/g", secrets[3])
        .unwrap_or_else(|e| panic!("{e}"));
    let outputs = [
        format!("{config:?}"),
        format!("{config:#?}"),
        format!("{stripe:?}"),
        format!("{webhook:#?}"),
    ];
    for output in &outputs {
        for secret in secrets {
            assert!(!output.contains(secret), "{secret} in {output}");
        }
        for key in [kek, [0xcd; 32]] {
            assert!(!output.contains(&hex::encode(key)), "key in {output}");
            assert!(!output.contains("171, 171, 171"), "key bytes in {output}");
        }
    }
    assert!(
        outputs[0].contains("stripe_secret_key: \"<set>\""),
        "{}",
        outputs[0]
    );
    assert!(
        outputs[0].contains("guichet:<redacted>@db:5432"),
        "{}",
        outputs[0]
    );
    assert!(outputs[2].contains("api.stripe.com"), "{}", outputs[2]);
}
