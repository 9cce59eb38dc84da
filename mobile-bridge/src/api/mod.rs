//! The bridge's API, read by `flutter_rust_bridge_codegen` (`rust_input: crate::api`).

pub mod booking;
pub mod catalog;
pub mod client;
pub mod error;
pub mod records;
pub mod wallet;
