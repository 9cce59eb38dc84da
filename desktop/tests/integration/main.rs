//! The desktop apps in real windows (Xvfb), driven through WebDriver (tauri-driver +
//! WebKitWebDriver) against a live server. Needs `--features gui`, a display and
//! `tauri-driver` on PATH (or `TAURI_DRIVER`); `.ci/run` provides all three.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod apps;
mod relay;
mod webdriver;
