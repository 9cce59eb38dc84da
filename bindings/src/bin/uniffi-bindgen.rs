//! `uniffi-bindgen`, pinned to the library's uniffi: generates the Python, Kotlin and Swift
//! sources from the built library (`generate --library <lib> --language <lang>`).

fn main() {
    uniffi::uniffi_bindgen_main()
}
