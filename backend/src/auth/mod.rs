//! Accounts and sessions: argon2id passwords, short-lived JWT access tokens, rotating refresh
//! tokens, and the limiters that guard log-in and sign-up.

pub mod login_guard;
pub mod password;
pub mod rate_limit;
pub mod tokens;

pub use tokens::{Principal, Role};
