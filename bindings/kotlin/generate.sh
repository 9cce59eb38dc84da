#!/usr/bin/env bash
# Regenerates the Kotlin sources into bindings/kotlin/generated from the built library
# (packages uniffi.guichet and uniffi.guichet_sdk; CI checks they are current).
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo build -p guichet-ffi --features cli --lib --bin uniffi-bindgen
target_dir="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"
rm -rf bindings/kotlin/generated
"$target_dir/debug/uniffi-bindgen" generate --library "$target_dir/debug/libguichet_ffi.so" \
    --language kotlin --config bindings/kotlin/bindgen.toml --out-dir bindings/kotlin/generated --no-format
