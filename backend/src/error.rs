//! The API's one error shape: a stable machine code from a closed set and a human message.
//! Every failure crosses the GraphQL boundary through [`ApiError`]; database and library
//! errors are logged here and leave as `INTERNAL` with a generic message.

use async_graphql::ErrorExtensions;
use guichet_domain::catalog::CatalogError;
use guichet_domain::checkin::CheckInListError;
use guichet_domain::geo::GeoError;
use guichet_domain::hold_rules::HoldRuleError;

use crate::db::StoreError;

/// The closed set of error codes (DESIGN.md, "API"), shared with the SDK through the domain.
pub use guichet_domain::error_code::ErrorCode as Code;

/// An error as the API reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// Stable code.
    pub code: Code,
    /// Human message, safe to show (no personal data, no SQL).
    pub message: String,
    /// The input field at fault, when there is one.
    pub field: Option<&'static str>,
}

impl ApiError {
    /// An error with a code and message.
    pub fn new(code: Code, message: impl Into<String>) -> ApiError {
        ApiError {
            code,
            message: message.into(),
            field: None,
        }
    }

    /// `INVALID_INPUT` about one field.
    pub fn invalid(field: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            code: Code::InvalidInput,
            message: message.into(),
            field: Some(field),
        }
    }

    /// `UNAUTHENTICATED`.
    pub fn unauthenticated() -> ApiError {
        ApiError::new(Code::Unauthenticated, "sign in to do this")
    }

    /// `FORBIDDEN`.
    pub fn forbidden() -> ApiError {
        ApiError::new(Code::Forbidden, "you are not allowed to do this")
    }

    /// `NOT_FOUND`.
    pub fn not_found(what: &str) -> ApiError {
        ApiError::new(Code::NotFound, format!("{what} not found"))
    }

    /// `INTERNAL`, after logging the cause.
    pub fn internal(cause: &dyn std::fmt::Debug) -> ApiError {
        tracing::error!(?cause, "internal error");
        ApiError::new(Code::Internal, "internal error")
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        match e {
            StoreError::NotFound => ApiError::not_found("resource"),
            StoreError::Conflict(message) => ApiError::new(Code::Conflict, message),
            StoreError::Database(cause) => ApiError::internal(&cause),
            StoreError::Migration(cause) => ApiError::internal(&cause),
        }
    }
}

impl From<CatalogError> for ApiError {
    fn from(e: CatalogError) -> ApiError {
        ApiError::invalid(e.field(), e.to_string())
    }
}

impl From<CheckInListError> for ApiError {
    fn from(e: CheckInListError) -> ApiError {
        let field = match e.field() {
            "name" => "input.name",
            "gates" => "input.gates",
            _ => "input.ticketTypeIds",
        };
        ApiError::invalid(field, e.to_string())
    }
}

impl From<HoldRuleError> for ApiError {
    fn from(e: HoldRuleError) -> ApiError {
        match e.field() {
            Some(field) => ApiError::invalid(field, e.to_string()),
            None => ApiError::new(Code::Conflict, e.to_string()),
        }
    }
}

impl From<GeoError> for ApiError {
    fn from(e: GeoError) -> ApiError {
        CatalogError::from(e).into()
    }
}

impl From<ApiError> for async_graphql::Error {
    fn from(e: ApiError) -> async_graphql::Error {
        let field = e.field;
        async_graphql::Error::new(e.message).extend_with(|_, ext| {
            ext.set("code", e.code.as_str());
            if let Some(field) = field {
                ext.set("field", field);
            }
        })
    }
}

/// Result type of resolvers.
pub type ApiResult<T> = Result<T, ApiError>;
