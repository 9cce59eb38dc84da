//! `GUICHET_SKIP_POSTGRES=1` at build time marks the PostgreSQL half of every two-engine test
//! as ignored, so that a machine without PostgreSQL reports those tests as skipped instead of
//! passing them silently. Without it, PostgreSQL is required and an unreachable server fails.

fn main() {
    println!("cargo::rerun-if-env-changed=GUICHET_SKIP_POSTGRES");
    println!("cargo::rustc-check-cfg=cfg(skip_postgres)");
    if std::env::var("GUICHET_SKIP_POSTGRES").is_ok_and(|v| v == "1" || v == "true") {
        println!("cargo::rustc-cfg=skip_postgres");
    }
}
