//! Guichet desktop: one binary, two apps over the SDK — the organizer console and the door
//! scanner — chosen at start with `--mode organizer|door`.
//!
//! - [`launch`] — the command line: mode, server URL, data directory, gate (GUI-free, so it
//!   builds and is tested without WebKitGTK).
//! - `browser` — the system browser for single sign-on (GUI-free, unit-tested).
//! - `qr_image` — a QR code read out of a PNG file the door's staff picked (GUI-free).
//! - `app` — the Tauri builder per mode (feature `gui`).
//! - `commands` — the Tauri commands, one module per domain, each a few lines: convert,
//!   call the SDK, `?`, convert (feature `gui`).

pub mod browser;
pub mod launch;
pub mod qr_image;

#[cfg(feature = "gui")]
pub mod app;
#[cfg(feature = "gui")]
pub mod commands;
