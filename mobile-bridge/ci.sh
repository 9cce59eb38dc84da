#!/usr/bin/env bash
# The Flutter bridge's CI job (issue 14), run by .ci/run after `cargo test` and runnable
# alone: `bash mobile-bridge/ci.sh`. There is no Dart or Flutter SDK on these machines, so
# it checks what can be checked without one:
#   1. the committed generated code is what flutter_rust_bridge_codegen 2.13.0 generates
#      (with stub `dart`/`flutter` commands, its format/fix/build_runner steps off);
#   2. every `frbgen_…` symbol the generated Dart looks up (and every `frb_…` one the
#      flutter_rust_bridge Dart runtime looks up) is exported by the cdylib;
#   3. every Dart file (generated, the package's, the attendee app's) parses with the
#      tree-sitter Dart grammar (tests/integration/dart_syntax.rs).
# Prints "N passed" / "N failed" lines that .ci/run adds to its totals. In a clean
# checkout (step 1 compares against git).
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }
status=0
passed() { echo "1 passed ($*)"; }
failed() { echo "1 failed ($*)"; status=1; }

generated=(mobile-bridge/src/frb_generated.rs mobile-bridge/dart/lib/src/rust)

step "flutter: generated code is current (flutter_rust_bridge_codegen $(flutter_rust_bridge_codegen --version 2>/dev/null | awk '{print $2}'))"
stubs="$(mktemp -d)"
printf '#!/bin/sh\n# A stand-in: no Dart SDK on this machine.\nexit 0\n' >"$stubs/dart"
cp "$stubs/dart" "$stubs/flutter"
chmod +x "$stubs/dart" "$stubs/flutter"
if (cd mobile-bridge && PATH="$stubs:$PATH" flutter_rust_bridge_codegen generate \
        --no-dart-format --no-dart-fix --no-build-runner) >"$stubs/codegen.log" 2>&1; then
    if git diff --exit-code --stat -- "${generated[@]}" \
        && [ -z "$(git status --porcelain --untracked-files=all -- "${generated[@]}")" ]; then
        passed "generated Rust and Dart current"
    else
        git status --short -- "${generated[@]}"
        failed "generated code stale: run flutter_rust_bridge_codegen generate in mobile-bridge/"
    fi
else
    cat "$stubs/codegen.log"
    failed "flutter_rust_bridge_codegen generate"
fi
rm -rf "$stubs"

step "flutter: every frbgen symbol the Dart looks up is in the library"
target_dir="$(cargo metadata --format-version 1 --no-deps \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"
cargo build --locked -p guichet-flutter --lib
library="$target_dir/debug/libguichet_flutter.so"
# The generated Dart's lookups, and those of the flutter_rust_bridge Dart runtime itself
# (its frb_dart/lib looks these 14 names up; the crate's boilerplate macro exports them).
runtime=(frb_create_shutdown_callback frb_dart_fn_deliver_output
    frb_dart_opaque_dart2rust_encode frb_dart_opaque_drop_thread_box_persistent_handle
    frb_dart_opaque_rust2dart_decode frb_free_wire_sync_rust2dart_dco
    frb_free_wire_sync_rust2dart_sse frb_get_rust_content_hash frb_init_frb_dart_api_dl
    frb_pde_ffi_dispatcher_primary frb_pde_ffi_dispatcher_sync frb_rust_vec_u8_free
    frb_rust_vec_u8_new frb_rust_vec_u8_resize)
wanted="$({ grep -rhoE "frbgen_[A-Za-z0-9_]+" mobile-bridge/dart/lib/src/rust
    printf '%s\n' "${runtime[@]}"; } | sort -u)"
exported="$(nm -D --defined-only "$library" | awk '{print $3}' | grep -E '^frb(gen)?_' | sort -u)"
missing="$(comm -23 <(echo "$wanted") <(echo "$exported"))"
count="$(echo "$wanted" | grep -c . || true)"
if [ "$count" -gt 0 ] && [ -z "$missing" ]; then
    passed "all $count frbgen_/frb_ symbols exported by $(basename "$library")"
else
    echo "missing: ${missing:-<no symbols found in the generated Dart>}"
    failed "frbgen symbols"
fi

step "flutter: license check (what an app embeds stays MIT OR Apache-2.0 compatible)"
if python3 bindings/license_check.py guichet-flutter; then :; else status=1; fi

step "flutter: every Dart file parses (tree-sitter-dart)"
syntax_log="$(mktemp)"
if [ "${GUICHET_DART_SYNTAX_DONE:-0}" = 1 ]; then
    # .ci/run's `cargo test --workspace` ran it (and counted it) already.
    echo "(run by cargo test --workspace: integration::dart_syntax)"
elif cargo test --locked -p guichet-flutter --test integration dart_syntax -- --nocapture \
    >"$syntax_log" 2>&1; then
    grep '^dart ' "$syntax_log" || true
    passed "Dart syntax"
else
    grep -E '^dart |panicked|error' "$syntax_log" || cat "$syntax_log"
    failed "Dart syntax"
fi
rm -f "$syntax_log"

exit "$status"
