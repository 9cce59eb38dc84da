//! Errors the server reports: `errors[].extensions.code` from the API's closed set.

/// The API's stable error codes (`backend/src/error.rs`, DESIGN.md "API").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorCode {
    /// No valid credentials.
    Unauthenticated,
    /// Authenticated, but not allowed.
    Forbidden,
    /// No such thing (or not visible to the caller).
    NotFound,
    /// The request is malformed or breaks a rule.
    InvalidInput,
    /// Not enough inventory.
    SoldOut,
    /// The hold expired before checkout.
    HoldExpired,
    /// The payment provider refused.
    PaymentDeclined,
    /// Too many requests.
    RateLimited,
    /// The request conflicts with the current state.
    Conflict,
    /// The server's fault.
    Internal,
    /// This scanner device was revoked: it must wipe its event data.
    DeviceRevoked,
    /// A code this SDK does not know (a newer server).
    Unknown,
}

impl ErrorCode {
    /// Reads the wire spelling; unknown codes become [`ErrorCode::Unknown`].
    pub fn from_wire(code: &str) -> ErrorCode {
        match code {
            "UNAUTHENTICATED" => ErrorCode::Unauthenticated,
            "FORBIDDEN" => ErrorCode::Forbidden,
            "NOT_FOUND" => ErrorCode::NotFound,
            "INVALID_INPUT" => ErrorCode::InvalidInput,
            "SOLD_OUT" => ErrorCode::SoldOut,
            "HOLD_EXPIRED" => ErrorCode::HoldExpired,
            "PAYMENT_DECLINED" => ErrorCode::PaymentDeclined,
            "RATE_LIMITED" => ErrorCode::RateLimited,
            "CONFLICT" => ErrorCode::Conflict,
            "INTERNAL" => ErrorCode::Internal,
            "DEVICE_REVOKED" => ErrorCode::DeviceRevoked,
            _ => ErrorCode::Unknown,
        }
    }

    /// The wire spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::Unauthenticated => "UNAUTHENTICATED",
            ErrorCode::Forbidden => "FORBIDDEN",
            ErrorCode::NotFound => "NOT_FOUND",
            ErrorCode::InvalidInput => "INVALID_INPUT",
            ErrorCode::SoldOut => "SOLD_OUT",
            ErrorCode::HoldExpired => "HOLD_EXPIRED",
            ErrorCode::PaymentDeclined => "PAYMENT_DECLINED",
            ErrorCode::RateLimited => "RATE_LIMITED",
            ErrorCode::Conflict => "CONFLICT",
            ErrorCode::Internal => "INTERNAL",
            ErrorCode::DeviceRevoked => "DEVICE_REVOKED",
            ErrorCode::Unknown => "UNKNOWN",
        }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An error the server answered with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct ApiError {
    /// Stable code.
    pub code: ErrorCode,
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
            .map_or(ErrorCode::Unknown, ErrorCode::from_wire);
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
    fn codes_round_trip_and_unknown_codes_are_kept_apart() {
        for code in [
            ErrorCode::Unauthenticated,
            ErrorCode::Forbidden,
            ErrorCode::NotFound,
            ErrorCode::InvalidInput,
            ErrorCode::SoldOut,
            ErrorCode::HoldExpired,
            ErrorCode::PaymentDeclined,
            ErrorCode::RateLimited,
            ErrorCode::Conflict,
            ErrorCode::Internal,
        ] {
            assert_eq!(ErrorCode::from_wire(code.as_str()), code);
        }
        assert_eq!(ErrorCode::from_wire("TEAPOT"), ErrorCode::Unknown);
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
        assert_eq!(error.code, ErrorCode::InvalidInput);
        assert_eq!(error.field.as_deref(), Some("email"));
        assert!(ApiError::from_response(&serde_json::json!({ "data": {} })).is_none());
    }
}
