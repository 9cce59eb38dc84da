//! Why a sign-in through an identity provider failed, with the kind a host branches on.

use std::time::Duration;

use crate::ErrorKind;

/// A failed sign-in or refresh through an OpenID Connect provider. Unreachable providers
/// are [`crate::Error::Transport`] (NETWORK), invalid configurations
/// [`crate::Error::InvalidArgument`] (INVALID_INPUT).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProviderError {
    /// The provider answered the sign-in with an `error=` redirect: `access_denied` when the
    /// user refused or cancelled. UNAUTHENTICATED, or INVALID_INPUT for the codes that say
    /// the request itself is wrong (`invalid_request`, `invalid_scope`...).
    #[error("the identity provider did not sign you in ({code})")]
    Refused {
        /// The provider's `error` code.
        code: String,
        /// The provider's `error_description`, if any.
        description: Option<String>,
    },
    /// The redirect is not the answer to this sign-in: another `state` (a forged or stale
    /// redirect), another issuer, another redirect URI, or no code. INVALID_INPUT.
    #[error("the redirect does not answer this sign-in (its {0} does not match)")]
    Foreign(&'static str),
    /// The token endpoint refused the code or the refresh token (`invalid_grant`: used,
    /// expired or revoked). UNAUTHENTICATED, or INVALID_INPUT for a misconfigured client.
    #[error("the identity provider refused the token request ({code})")]
    TokenRefused {
        /// The provider's `error` code.
        code: String,
    },
    /// The provider's discovery document, token answer or ID token cannot be used.
    /// PROTOCOL.
    #[error("unexpected answer from the identity provider: {0}")]
    Protocol(&'static str),
    /// The browser did not come back to the loopback address in time. UNAUTHENTICATED.
    #[error("the sign-in was not completed within {} s", .0.as_secs())]
    TimedOut(Duration),
    /// The host could not open the browser. INTERNAL.
    #[error("the browser could not be opened: {0}")]
    Opener(String),
}

/// Codes (RFC 6749 §4.1.2.1, §5.2; RFC 8707) that mean the client's request is wrong, not
/// that the user or their grant was refused.
const REQUEST_ERRORS: [&str; 8] = [
    "invalid_request",
    "invalid_client",
    "unauthorized_client",
    "unsupported_response_type",
    "unsupported_grant_type",
    "invalid_scope",
    "invalid_target",
    "invalid_request_uri",
];

impl ProviderError {
    /// The kind a host branches on.
    pub fn kind(&self) -> ErrorKind {
        match self {
            ProviderError::Refused { code, .. } | ProviderError::TokenRefused { code }
                if REQUEST_ERRORS.contains(&code.as_str()) =>
            {
                ErrorKind::InvalidInput
            }
            ProviderError::Refused { .. }
            | ProviderError::TokenRefused { .. }
            | ProviderError::TimedOut(_) => ErrorKind::Unauthenticated,
            ProviderError::Foreign(_) => ErrorKind::InvalidInput,
            ProviderError::Protocol(_) => ErrorKind::Protocol,
            ProviderError::Opener(_) => ErrorKind::Internal,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_by_the_user_and_mistakes_of_the_client_have_their_own_kinds() {
        let refused = |code: &str| ProviderError::Refused {
            code: code.into(),
            description: None,
        };
        assert_eq!(refused("access_denied").kind(), ErrorKind::Unauthenticated);
        assert_eq!(refused("login_required").kind(), ErrorKind::Unauthenticated);
        assert_eq!(refused("invalid_scope").kind(), ErrorKind::InvalidInput);
        let grant = ProviderError::TokenRefused {
            code: "invalid_grant".into(),
        };
        assert_eq!(grant.kind(), ErrorKind::Unauthenticated);
        assert_eq!(
            ProviderError::Foreign("state").kind(),
            ErrorKind::InvalidInput
        );
        assert_eq!(
            ProviderError::Protocol("no token").kind(),
            ErrorKind::Protocol
        );
    }
}
