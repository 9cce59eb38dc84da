//! The GraphQL API: schema assembly, per-request context, and the HTTP handler that turns
//! every failure (oversized body, bad JSON, parse, validation, depth, complexity, resolver)
//! into a response whose errors all carry a code from the closed set. `GET /graphql` with a
//! WebSocket upgrade serves subscriptions (graphql-transport-ws) through the same limits and
//! error codes ([`ws`]).

mod accounts;
mod attendees;
pub mod booking;
mod catalog;
pub mod limits;
mod orders;
mod scanner_types;
mod scanners;
mod security;
mod subscriptions;
mod types;

use std::sync::Arc;

use async_graphql::{MergedObject, Schema};
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use std::net::{IpAddr, SocketAddr};

use crate::AppState;
use crate::auth::Principal;
use crate::error::{ApiError, Code};

pub use limits::{MAX_COST, MAX_DEPTH, MAX_INTROSPECTION_DEPTH};

/// Root query.
#[derive(MergedObject, Default, Debug)]
pub struct Query(
    accounts::AccountQuery,
    catalog::CatalogQuery,
    booking::BookingQuery,
    orders::OrderQuery,
    attendees::AttendeeQuery,
    scanners::ScannerQuery,
    security::SecurityQuery,
);

/// Root mutation.
#[derive(MergedObject, Default, Debug)]
pub struct Mutation(
    accounts::AccountMutation,
    catalog::CatalogMutation,
    booking::BookingMutation,
    orders::OrderMutation,
    scanners::ScannerMutation,
    security::SecurityMutation,
);

pub use subscriptions::Subscription;

/// The schema type.
pub type GuichetSchema = Schema<Query, Mutation, Subscription>;

/// Builds the schema. Depth and cost are limited by the handler ([`limits`]) before the
/// schema runs, so that introspection is measured apart and lists weigh what they cost.
pub fn schema(state: Option<AppState>) -> GuichetSchema {
    let mut builder = Schema::build(Query::default(), Mutation::default(), Subscription)
        .limit_recursive_depth(32)
        .limit_directives(8);
    if let Some(state) = state {
        if !state.config.introspection {
            builder = builder.disable_introspection();
        }
        builder = builder.data(state);
    }
    builder.finish()
}

/// The exported SDL, as `schema.graphql` holds it.
pub fn sdl() -> String {
    schema(None).sdl()
}

/// Who is calling, as the bearer token says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    /// No token.
    Anonymous,
    /// A valid token.
    User(Principal),
    /// A token that is expired, forged or malformed.
    InvalidToken,
}

/// Per-request data every resolver can read.
#[derive(Debug, Clone)]
pub struct RequestContext {
    /// The caller.
    pub caller: Caller,
    /// The client's address (for rate limits).
    pub client: String,
}

impl RequestContext {
    /// The authenticated principal, or `UNAUTHENTICATED`.
    pub fn principal(&self) -> Result<&Principal, ApiError> {
        match &self.caller {
            Caller::User(p) => Ok(p),
            Caller::Anonymous => Err(ApiError::unauthenticated()),
            Caller::InvalidToken => Err(ApiError::new(
                Code::Unauthenticated,
                "the access token is expired or invalid; refresh the session",
            )),
        }
    }
}

fn error_response(status: StatusCode, code: Code, message: &str) -> Response {
    let body = serde_json::json!({
        "errors": [{ "message": message, "extensions": { "code": code.as_str() } }]
    });
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

async fn caller(state: &AppState, headers: &HeaderMap) -> Caller {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Caller::Anonymous;
    };
    caller_of(state, value.to_str().ok()).await
}

/// The caller an `Authorization` value names (`Bearer <token>`), verified as on every path.
async fn caller_of(state: &AppState, authorization: Option<&str>) -> Caller {
    let token = authorization
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    let Some(token) = token else {
        return Caller::InvalidToken;
    };
    match crate::auth::authenticate(state, token).await {
        Some(principal) => Caller::User(principal),
        None => Caller::InvalidToken,
    }
}

/// The client's address: the socket's peer, or with `GUICHET_TRUSTED_PROXIES=N` the Nth
/// address from the right of `X-Forwarded-For` (each trusted proxy appends the address it
/// was connected from, so entries further left were written by the client and prove
/// nothing). A header shorter than N gives its leftmost entry, which a trusted proxy wrote;
/// a missing or malformed one gives the socket's peer.
fn client_address(state: &AppState, req: &Request) -> String {
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip());
    let hops = state.config.trusted_proxies;
    let forwarded = (hops > 0)
        .then(|| forwarded_client(req.headers(), hops))
        .flatten();
    match forwarded.or(peer) {
        Some(ip) => ip.to_string(),
        None => "local".to_owned(),
    }
}

/// The Nth address from the right of every `X-Forwarded-For` line, in order.
fn forwarded_client(headers: &HeaderMap, hops: usize) -> Option<IpAddr> {
    let mut entries = Vec::new();
    for value in headers.get_all("x-forwarded-for") {
        entries.extend(value.to_str().ok()?.split(',').map(str::trim));
    }
    let entry = entries.iter().rev().nth(hops - 1).or(entries.first())?;
    entry.parse().ok()
}

fn refusal_response(state: &AppState, refusal: &limits::Refusal) -> Response {
    let code = match refusal {
        limits::Refusal::IntrospectionDisabled => Code::Forbidden,
        _ => Code::InvalidInput,
    };
    state.metrics.graphql_error(code);
    error_response(StatusCode::OK, code, &refusal.to_string())
}

/// `POST /graphql`.
pub async fn post(State(state): State<AppState>, req: Request) -> Response {
    // A GraphQL request is JSON. Refusing other types also keeps plain HTML forms (which can
    // post text/plain or form data cross-site without a preflight) away from mutations.
    let json = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"));
    if !json {
        state.metrics.graphql_error(Code::InvalidInput);
        return error_response(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Code::InvalidInput,
            "send the GraphQL request as Content-Type: application/json",
        );
    }
    let context = RequestContext {
        caller: caller(&state, req.headers()).await,
        client: client_address(&state, &req),
    };
    let limit = state.config.max_body_bytes;
    let bytes = match axum::body::to_bytes(req.into_body(), limit).await {
        Ok(bytes) => bytes,
        Err(_) => {
            state.metrics.graphql_error(Code::InvalidInput);
            return error_response(
                StatusCode::PAYLOAD_TOO_LARGE,
                Code::InvalidInput,
                &format!("request body exceeds {limit} bytes"),
            );
        }
    };
    let request: async_graphql::Request = match serde_json::from_slice(&bytes) {
        Ok(request) => request,
        Err(_) => {
            state.metrics.graphql_error(Code::InvalidInput);
            return error_response(
                StatusCode::BAD_REQUEST,
                Code::InvalidInput,
                "the body must be a JSON GraphQL request in UTF-8",
            );
        }
    };
    let (request, measure) = state.documents.attach(request);
    if let Some(Err(refusal)) = measure.map(|m| m.check(state.config.introspection)) {
        return refusal_response(&state, &refusal);
    }
    let mut response = state.schema().execute(request.data(context)).await;
    code_errors(&state, &mut response);
    match serde_json::to_vec(&response) {
        Ok(body) => ([(header::CONTENT_TYPE, "application/json")], body).into_response(),
        Err(e) => {
            let err = ApiError::internal(&e);
            error_response(StatusCode::INTERNAL_SERVER_ERROR, err.code, &err.message)
        }
    }
}

/// Gives every error without a code `INVALID_INPUT` and counts them all by code.
fn code_errors(state: &AppState, response: &mut async_graphql::Response) {
    for error in &mut response.errors {
        // Resolver errors carry their code; what reaches here without one was refused before
        // execution (syntax, validation, depth, complexity, variable coercion).
        let coded = error
            .extensions
            .as_ref()
            .is_some_and(|e| e.get("code").is_some());
        if !coded {
            error
                .extensions
                .get_or_insert_with(Default::default)
                .set("code", "INVALID_INPUT");
        }
        let code = error
            .extensions
            .as_ref()
            .and_then(|e| e.get("code"))
            .map(|v| v.to_string().trim_matches('"').to_owned())
            .unwrap_or_default();
        state.metrics.graphql_error_code(&code);
    }
}

/// A response holding one error.
fn refused(code: Code, message: &str) -> async_graphql::Response {
    let mut error = async_graphql::ServerError::new(message, None);
    error
        .extensions
        .get_or_insert_with(Default::default)
        .set("code", code.as_str());
    async_graphql::Response::from_errors(vec![error])
}

/// Runs the operations a WebSocket carries: subscriptions only (queries and mutations go
/// through `POST /graphql`, with its body limit and rate limits), through the same document
/// cache, depth and cost limits and error codes as the HTTP path.
#[derive(Clone)]
pub struct LiveExecutor(AppState);

impl async_graphql::Executor for LiveExecutor {
    async fn execute(&self, request: async_graphql::Request) -> async_graphql::Response {
        let mut response = self.0.schema().execute(request).await;
        code_errors(&self.0, &mut response);
        response
    }

    fn execute_stream(
        &self,
        request: async_graphql::Request,
        session_data: Option<Arc<async_graphql::Data>>,
    ) -> futures_util::stream::BoxStream<'static, async_graphql::Response> {
        use futures_util::StreamExt as _;
        let state = self.0.clone();
        let refuse = |code: Code, message: &str| {
            state.metrics.graphql_error(code);
            futures_util::stream::once(std::future::ready(refused(code, message))).boxed()
        };
        let (mut request, measure) = state.documents.attach(request);
        if let Some(Err(refusal)) = measure.map(|m| m.check(state.config.introspection)) {
            let code = match refusal {
                limits::Refusal::IntrospectionDisabled => Code::Forbidden,
                _ => Code::InvalidInput,
            };
            return refuse(code, &refusal.to_string());
        }
        if measure.is_some() && !is_subscription(&mut request) {
            return refuse(
                Code::InvalidInput,
                "only subscriptions run over WebSocket; send queries and mutations to \
                 POST /graphql",
            );
        }
        let responses = state
            .schema()
            .execute_stream_with_session_data(request, session_data.unwrap_or_default());
        responses
            .map(move |mut response| {
                code_errors(&state, &mut response);
                response
            })
            .boxed()
    }
}

impl std::fmt::Debug for LiveExecutor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("LiveExecutor").finish_non_exhaustive()
    }
}

/// Whether the operation the request selects is a subscription (an unknown operation is
/// left to the schema, which reports it).
fn is_subscription(request: &mut async_graphql::Request) -> bool {
    use async_graphql::parser::types::{DocumentOperations, OperationType};
    let name = request.operation_name.clone();
    let Ok(document) = request.parsed_query() else {
        return true;
    };
    let operation = match (&document.operations, name) {
        (DocumentOperations::Single(op), _) => Some(op),
        (DocumentOperations::Multiple(ops), Some(name)) => ops.get(name.as_str()),
        (DocumentOperations::Multiple(ops), None) if ops.len() == 1 => ops.values().next(),
        (DocumentOperations::Multiple(_), None) => None,
    };
    operation.is_none_or(|op| op.node.ty == OperationType::Subscription)
}

/// `GET /graphql`: a WebSocket upgrade for subscriptions (`graphql-transport-ws`, or the
/// older `graphql-ws`), else GraphiQL when enabled.
///
/// The connection's caller comes from `connection_init`'s `{"authorization": "Bearer …"}`
/// (browsers cannot set headers on a WebSocket), else from the upgrade request's
/// `Authorization` header, verified as the HTTP path verifies it. A missing or invalid token
/// does not refuse the connection: each subscription then answers `UNAUTHENTICATED`, as a
/// query would.
pub async fn ws(State(state): State<AppState>, req: Request) -> Response {
    let client = client_address(&state, &req);
    let header_caller = caller(&state, req.headers()).await;
    let (mut parts, _) = req.into_parts();
    let protocol =
        async_graphql_axum::GraphQLProtocol::from_request_parts(&mut parts, &state).await;
    let upgrade = WebSocketUpgrade::from_request_parts(&mut parts, &state).await;
    let (upgrade, protocol) = match (upgrade, protocol) {
        (Ok(upgrade), Ok(protocol)) => (upgrade, protocol),
        (Ok(_), Err(_)) => {
            return error_response(
                StatusCode::BAD_REQUEST,
                Code::InvalidInput,
                "ask for the graphql-transport-ws subprotocol",
            );
        }
        (Err(_), _) if state.config.graphiql => return graphiql().await.into_response(),
        (Err(_), _) => {
            return error_response(
                StatusCode::METHOD_NOT_ALLOWED,
                Code::InvalidInput,
                "POST GraphQL requests, or open a WebSocket for subscriptions",
            );
        }
    };
    let executor = LiveExecutor(state.clone());
    let limits = state.live.limits();
    // Small socket buffers: an idle subscriber must cost little (tungstenite's default is
    // 128 KiB of read buffer per connection); client messages obey the HTTP body limit.
    let max_message = state.config.max_body_bytes;
    upgrade
        .read_buffer_size(4 * 1024)
        .write_buffer_size(0)
        .max_message_size(max_message)
        .max_frame_size(max_message)
        .protocols(async_graphql::http::ALL_WEBSOCKET_PROTOCOLS)
        .on_upgrade(move |socket| async move {
            let slots = Arc::new(crate::live::ConnectionSlots::default());
            let on_init = {
                let (state, slots) = (state.clone(), slots.clone());
                move |payload: serde_json::Value| async move {
                    let named = payload
                        .get("authorization")
                        .or_else(|| payload.get("Authorization"));
                    let caller = match named {
                        Some(value) => caller_of(&state, value.as_str()).await,
                        None => header_caller,
                    };
                    let mut data = async_graphql::Data::default();
                    data.insert(RequestContext { caller, client });
                    data.insert(slots);
                    Ok(data)
                }
            };
            let metrics = state.metrics.clone();
            crate::live::socket::serve(socket, executor, protocol, on_init, slots, metrics, limits)
                .await;
        })
}

/// `GET /graphql`: GraphiQL.
pub async fn graphiql() -> impl IntoResponse {
    Html(
        async_graphql::http::GraphiQLSource::build()
            .endpoint("/graphql")
            .finish(),
    )
}

type Document = (
    async_graphql::parser::types::ExecutableDocument,
    limits::Measure,
);

/// Parsed query documents by query text, with their depth and cost. Clients send the same
/// few operations over and over (an on-sale is one `holdTickets` text with new variables),
/// so each text is parsed and measured once; validation and directive limits still run on
/// every request, against its variables. Texts that fail to parse are not kept (the schema
/// reports the error), nor are long ones (parsed and measured on every request).
#[derive(Debug)]
pub struct DocumentCache {
    shapes: limits::Shapes,
    documents: std::sync::Mutex<std::collections::HashMap<String, Document>>,
}

impl Default for DocumentCache {
    fn default() -> DocumentCache {
        DocumentCache {
            shapes: limits::Shapes::from_sdl(&sdl()),
            documents: std::sync::Mutex::default(),
        }
    }
}

impl DocumentCache {
    /// Longest query text kept.
    const MAX_TEXT: usize = 8 * 1024;
    /// Texts kept before the cache starts over.
    const CAPACITY: usize = 1_000;

    /// The request with its parsed document attached, and the document's measure, when
    /// the text is known or parses.
    pub fn attach(
        &self,
        mut request: async_graphql::Request,
    ) -> (async_graphql::Request, Option<limits::Measure>) {
        let known = self.lock().get(&request.query).cloned();
        let (document, measure) = match known {
            Some(document) => document,
            None => match async_graphql::parser::parse_query(&request.query) {
                Ok(document) => {
                    let measure = self.shapes.measure(&document);
                    if request.query.len() <= Self::MAX_TEXT {
                        let mut documents = self.lock();
                        if documents.len() >= Self::CAPACITY {
                            documents.clear();
                        }
                        documents.insert(request.query.clone(), (document.clone(), measure));
                    }
                    (document, measure)
                }
                Err(_) => return (request, None),
            },
        };
        request.set_parsed_query(document);
        (request, Some(measure))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, std::collections::HashMap<String, Document>> {
        self.documents
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}
