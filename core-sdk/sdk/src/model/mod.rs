//! The SDK's plain records, below both the store and the features: the store reads and
//! writes them, the features (`booking`, `catalog`, `wallet`) re-export them and add what
//! they do. The store never imports a feature.

pub mod booking;
pub mod catalog;
pub mod wallet;
