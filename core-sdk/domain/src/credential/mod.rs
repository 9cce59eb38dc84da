//! The ticket credential: what a QR code on a ticket carries, and how a door reads it.
//!
//! A credential is a compact binary record — format version, key id, ticket id, event id,
//! ticket type, validity window — signed with Ed25519 by the event's issuing key and written
//! as base45 text, so the QR code uses alphanumeric mode. It carries no personal data. The
//! byte layout is documented in the crate README and in [`layout`].
//!
//! Parsing ([`Credential::parse`]) only checks the structure; the signature is checked
//! against an event's key ring ([`crate::keyring::EventKeyRing::verify`]) and the rest of
//! the admission rules live in [`crate::admission`].

pub mod base45;
mod claims;
mod format;
pub mod layout;

pub use claims::{TicketClaims, Validity, ValidityError, WindowPosition};
pub use format::{Credential, CredentialError};
