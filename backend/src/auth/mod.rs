//! Accounts and sessions: argon2id passwords, short-lived JWT access tokens, rotating refresh
//! tokens, and the rate limiter that guards log-in and sign-up.

pub mod password;
pub mod rate_limit;
pub mod tokens;

pub use tokens::{Principal, Role};
