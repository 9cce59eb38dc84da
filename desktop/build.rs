//! Tauri's build step (capabilities, the app manifest) runs only for the GUI build.

fn main() {
    #[cfg(feature = "gui")]
    tauri_build::build();
}
