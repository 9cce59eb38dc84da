//! The GraphQL API: schema assembly, per-request context, and the HTTP handler that turns
//! every failure (oversized body, bad JSON, parse, validation, depth, complexity, resolver)
//! into a response whose errors all carry a code from the closed set.

mod accounts;
mod attendees;
pub mod booking;
mod catalog;
mod orders;
mod scanner_types;
mod scanners;
mod types;

use async_graphql::{EmptySubscription, MergedObject, Schema};
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use std::net::SocketAddr;

use crate::AppState;
use crate::auth::Principal;
use crate::error::{ApiError, Code};

/// Deepest accepted query (fields within fields).
pub const MAX_DEPTH: usize = 10;
/// Largest accepted query complexity (one point a field; lists multiply by their `first`).
pub const MAX_COMPLEXITY: usize = 2_000;

/// Root query.
#[derive(MergedObject, Default, Debug)]
pub struct Query(
    accounts::AccountQuery,
    catalog::CatalogQuery,
    booking::BookingQuery,
    orders::OrderQuery,
    attendees::AttendeeQuery,
    scanners::ScannerQuery,
);

/// Root mutation.
#[derive(MergedObject, Default, Debug)]
pub struct Mutation(
    accounts::AccountMutation,
    catalog::CatalogMutation,
    booking::BookingMutation,
    orders::OrderMutation,
    scanners::ScannerMutation,
);

/// The schema type.
pub type GuichetSchema = Schema<Query, Mutation, EmptySubscription>;

/// Builds the schema with its limits.
pub fn schema(state: Option<AppState>) -> GuichetSchema {
    let mut builder = Schema::build(Query::default(), Mutation::default(), EmptySubscription)
        .limit_depth(MAX_DEPTH)
        .limit_complexity(MAX_COMPLEXITY)
        .limit_recursive_depth(32)
        .limit_directives(8);
    if let Some(state) = state {
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

fn caller(state: &AppState, headers: &HeaderMap) -> Caller {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Caller::Anonymous;
    };
    let token = value
        .to_str()
        .ok()
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    match token.and_then(|t| state.tokens.verify_access(t)) {
        Some(principal) => Caller::User(principal),
        None => Caller::InvalidToken,
    }
}

fn client_address(state: &AppState, req: &Request) -> String {
    if state.config.trust_forwarded_for {
        let forwarded = req
            .headers()
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok());
        if let Some(first) = forwarded.and_then(|v| v.split(',').next()) {
            return first.trim().to_owned();
        }
    }
    req.extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or_else(
            || "local".to_owned(),
            |ConnectInfo(addr)| addr.ip().to_string(),
        )
}

/// `POST /graphql`.
pub async fn post(State(state): State<AppState>, req: Request) -> Response {
    let context = RequestContext {
        caller: caller(&state, req.headers()),
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
    let request = state.documents.attach(request);
    let mut response = state.schema().execute(request.data(context)).await;
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
    match serde_json::to_vec(&response) {
        Ok(body) => ([(header::CONTENT_TYPE, "application/json")], body).into_response(),
        Err(e) => {
            let err = ApiError::internal(&e);
            error_response(StatusCode::INTERNAL_SERVER_ERROR, err.code, &err.message)
        }
    }
}

/// `GET /graphql`: GraphiQL.
pub async fn graphiql() -> impl IntoResponse {
    Html(
        async_graphql::http::GraphiQLSource::build()
            .endpoint("/graphql")
            .finish(),
    )
}

/// Parsed query documents by query text. Clients send the same few operations over and
/// over (an on-sale is one `holdTickets` text with new variables), so each text is parsed
/// once; validation, depth, complexity and directive limits still run on every request,
/// against its variables. Texts that fail to parse are not kept (the schema reports the
/// error), nor are long ones.
#[derive(Debug, Default)]
pub struct DocumentCache {
    documents: std::sync::Mutex<
        std::collections::HashMap<String, async_graphql::parser::types::ExecutableDocument>,
    >,
}

impl DocumentCache {
    /// Longest query text kept.
    const MAX_TEXT: usize = 8 * 1024;
    /// Texts kept before the cache starts over.
    const CAPACITY: usize = 1_000;

    /// The request with its parsed document attached when the text is known or parses.
    pub fn attach(&self, mut request: async_graphql::Request) -> async_graphql::Request {
        if request.query.len() > Self::MAX_TEXT {
            return request;
        }
        let known = self.lock().get(&request.query).cloned();
        let document = match known {
            Some(document) => document,
            None => match async_graphql::parser::parse_query(&request.query) {
                Ok(document) => {
                    let mut documents = self.lock();
                    if documents.len() >= Self::CAPACITY {
                        documents.clear();
                    }
                    documents.insert(request.query.clone(), document.clone());
                    document
                }
                Err(_) => return request,
            },
        };
        request.set_parsed_query(document);
        request
    }

    fn lock(
        &self,
    ) -> std::sync::MutexGuard<
        '_,
        std::collections::HashMap<String, async_graphql::parser::types::ExecutableDocument>,
    > {
        self.documents
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}
