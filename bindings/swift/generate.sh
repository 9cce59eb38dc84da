#!/usr/bin/env bash
# Regenerates the Swift sources, C headers and module maps into bindings/swift/generated
# from the built library (no Swift toolchain is needed to generate; CI checks they are current).
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo build -p guichet-ffi --features cli --lib --bin uniffi-bindgen
target_dir="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"
rm -rf bindings/swift/generated
"$target_dir/debug/uniffi-bindgen" generate --library "$target_dir/debug/libguichet_ffi.so" \
    --language swift --out-dir bindings/swift/generated --no-format
