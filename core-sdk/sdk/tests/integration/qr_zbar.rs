//! A PNG rendered by the SDK decodes back to the same text with zbarimg (zbar-tools).
//!
//! With `CI=true` a missing zbarimg fails the test; elsewhere the test prints why it skips.

use std::process::Command;

use guichet_sdk::qr::TicketQr;

use crate::fixture::ticket;

fn zbarimg_available() -> bool {
    match Command::new("zbarimg").arg("--version").output() {
        Ok(output) => output.status.success(),
        Err(_) => false,
    }
}

#[test]
fn rendered_png_decodes_to_the_same_text_with_zbarimg() {
    if !zbarimg_available() {
        let on_ci = std::env::var("CI").is_ok_and(|v| v == "true");
        assert!(!on_ci, "zbarimg is missing: apt-get install -y zbar-tools");
        println!("skipping: zbarimg not installed (apt-get install -y zbar-tools)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    for (n, module_px) in [(1u128, 4u32), (2, 8)] {
        let text = ticket(n);
        let qr = TicketQr::new(&text).unwrap();
        let path = dir.path().join(format!("ticket-{n}.png"));
        std::fs::write(&path, qr.to_png(module_px).unwrap()).unwrap();
        let output = Command::new("zbarimg")
            .args(["--quiet", "--raw", "-Sdisable", "-Sqrcode.enable"])
            .arg(&path)
            .output()
            .unwrap();
        assert!(output.status.success(), "zbarimg failed: {output:?}");
        let decoded = String::from_utf8(output.stdout).unwrap();
        assert_eq!(decoded.strip_suffix('\n').unwrap_or(&decoded), text);
    }
}
