//! Guichet's domain rules, shared by the server and the SDK so both run the same code.
//!
//! Sans-I/O: no tokio, no SQL, no HTTP. Everything here is a pure function of its inputs.

pub mod catalog;
pub mod error_code;
pub mod geo;
pub mod hold_rules;
pub mod inventory;
pub mod money;
pub mod text;

// Ticket credentials and door admission.
pub mod admission;
pub mod checkin;
pub mod credential;
pub mod keyring;
pub mod revocation;
