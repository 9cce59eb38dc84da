//! The API's closed set of error codes: what the server puts in `extensions.code` and what
//! every client branches on. One list, so the server and the SDK cannot drift apart.

use serde::{Deserialize, Serialize};

/// A stable machine code from the API's closed set (DESIGN.md, "API").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
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
    /// A scanner device's token was revoked: it must wipe its event data.
    DeviceRevoked,
}

impl ErrorCode {
    /// Every code, in declaration order.
    pub const ALL: [ErrorCode; 11] = [
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
        ErrorCode::DeviceRevoked,
    ];

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
        }
    }

    /// Reads the wire spelling; `None` for a code outside the set (a newer server).
    pub fn from_wire(code: &str) -> Option<ErrorCode> {
        ErrorCode::ALL.into_iter().find(|c| c.as_str() == code)
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn every_code_round_trips_through_its_wire_spelling_and_serde() {
        for code in ErrorCode::ALL {
            assert_eq!(ErrorCode::from_wire(code.as_str()), Some(code));
            let json = serde_json::to_string(&code).unwrap();
            assert_eq!(json, format!("\"{}\"", code.as_str()));
            assert_eq!(serde_json::from_str::<ErrorCode>(&json).unwrap(), code);
        }
        assert_eq!(ErrorCode::from_wire("TEAPOT"), None);
        assert_eq!(ErrorCode::from_wire("sold_out"), None);
    }

    #[test]
    fn the_set_is_designs_ten_codes_plus_device_revoked() {
        let spellings: Vec<&str> = ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
        assert_eq!(
            spellings,
            [
                "UNAUTHENTICATED",
                "FORBIDDEN",
                "NOT_FOUND",
                "INVALID_INPUT",
                "SOLD_OUT",
                "HOLD_EXPIRED",
                "PAYMENT_DECLINED",
                "RATE_LIMITED",
                "CONFLICT",
                "INTERNAL",
                "DEVICE_REVOKED",
            ]
        );
    }
}
