//! Errors the server reports: `errors[].extensions.code` from the API's closed set
//! ([`guichet_domain::error_code::ErrorCode`]).

use crate::ErrorKind;
use guichet_domain::error_code::ErrorCode;

/// An error the server answered with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct ApiError {
    /// Stable code: the server's, or [`ErrorKind::Unknown`] for a code outside the set.
    pub code: ErrorKind,
    /// The server's message, safe to show.
    pub message: String,
    /// The input field at fault, when the server names one.
    pub field: Option<String>,
}

impl ApiError {
    /// The first error of a GraphQL response, if it has any.
    pub fn from_response(response: &serde_json::Value) -> Option<ApiError> {
        let first = response.get("errors")?.as_array()?.first()?;
        let extensions = first.get("extensions");
        let code = extensions
            .and_then(|e| e.get("code"))
            .and_then(|c| c.as_str())
            .and_then(ErrorCode::from_wire)
            .map_or(ErrorKind::Unknown, ErrorKind::from);
        Some(ApiError {
            code,
            message: first
                .get("message")
                .and_then(|m| m.as_str())
                .unwrap_or_default()
                .to_owned(),
            field: extensions
                .and_then(|e| e.get("field"))
                .and_then(|f| f.as_str())
                .map(str::to_owned),
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_code_outside_the_set_is_unknown_and_a_missing_one_too() {
        let teapot = serde_json::json!({
            "errors": [{ "message": "short and stout", "extensions": { "code": "TEAPOT" } }]
        });
        assert_eq!(
            ApiError::from_response(&teapot).unwrap().code,
            ErrorKind::Unknown
        );
        let bare = serde_json::json!({ "errors": [{ "message": "no code" }] });
        assert_eq!(
            ApiError::from_response(&bare).unwrap().code,
            ErrorKind::Unknown
        );
    }

    #[test]
    fn the_first_error_gives_code_message_and_field() {
        let response = serde_json::json!({
            "data": null,
            "errors": [
                { "message": "not a valid e-mail address",
                  "extensions": { "code": "INVALID_INPUT", "field": "email" } },
                { "message": "second", "extensions": { "code": "INTERNAL" } }
            ]
        });
        let error = ApiError::from_response(&response).unwrap();
        assert_eq!(error.code, ErrorKind::InvalidInput);
        assert_eq!(error.field.as_deref(), Some("email"));
        assert!(ApiError::from_response(&serde_json::json!({ "data": {} })).is_none());
    }
}
