//! Start-up figures.

use tauri::State;

use crate::app::Boot;

/// Called by the page at its first paint: milliseconds since `main` started.
#[tauri::command]
pub fn first_paint(boot: State<'_, Boot>) -> u64 {
    u64::try_from(boot.0.elapsed().as_millis()).unwrap_or(u64::MAX)
}
