#!/usr/bin/env bash
# The bindings' CI job (issue 13), run by .ci/run after `cargo test` and runnable alone:
# `bash bindings/ci.sh`. Builds the Python package into a virtualenv and runs pytest against
# a live server, checks that the generated Swift and Kotlin are current, compiles the Kotlin
# and runs its JUnit tests against a live server (bindings/kotlin/build.sh), and checks the
# licenses of the SDK side's crates.
# Prints "N passed" / "N failed" lines that .ci/run adds to its totals.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }
target_dir="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"
bindgen="$target_dir/debug/uniffi-bindgen"
status=0

step "bindings: cdylib, uniffi-bindgen, guichet-server"
cargo build --locked -p guichet-ffi --features cli --lib --bin uniffi-bindgen
cargo build --locked -p guichet-server --bin guichet-server
library="$target_dir/debug/libguichet_ffi.so"

step "bindings: license check (the SDK side stays MIT OR Apache-2.0 compatible)"
python3 bindings/license_check.py || status=1

step "bindings: generated Swift is current"
swift_tmp="$(mktemp -d)"
"$bindgen" generate --library "$library" --language swift --out-dir "$swift_tmp" --no-format >/dev/null
if diff -r "$swift_tmp" bindings/swift/generated; then echo "1 passed (swift sources current)"
else echo "1 failed (swift sources stale: run bindings/swift/generate.sh)"; status=1; fi
rm -rf "$swift_tmp"

step "bindings: generated Kotlin is current"
kotlin_tmp="$(mktemp -d)"
"$bindgen" generate --library "$library" --language kotlin --config bindings/kotlin/bindgen.toml \
    --out-dir "$kotlin_tmp" --no-format >/dev/null
if diff -r "$kotlin_tmp" bindings/kotlin/generated; then echo "1 passed (kotlin sources current)"
else echo "1 failed (kotlin sources stale: run bindings/kotlin/generate.sh)"; status=1; fi
rm -rf "$kotlin_tmp"

step "bindings: Python package and pytest"
venv="$HOME/.cache/guichet-bindings-venv"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install -q -r bindings/python/requirements-dev.txt
# A debug build: CI measures behaviour, and a release build takes minutes on two cores.
"$venv/bin/pip" install -q --force-reinstall --no-deps ./bindings/python \
    --config-settings=build-args="--profile dev"
GUICHET_SERVER_BIN="$target_dir/debug/guichet-server" \
    "$venv/bin/python" -m pytest -q bindings/python/tests || status=1

step "bindings: Kotlin (kotlinc, JUnit 4) against a live server"
bash bindings/kotlin/build.sh || status=1

exit "$status"
