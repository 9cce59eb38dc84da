#!/usr/bin/env bash
# The Kotlin side of the binding benchmark (see bindings/README.md): compiles the generated
# sources with bench/Bench.kt and runs it on a client database kept by the Rust benchmark:
#   GUICHET_BENCH_KEEP=/tmp/catalog.db cargo run -p guichet-e2e --example catalog_sync
#   bash bindings/kotlin/bench.sh /tmp/catalog.db
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
catalog="$(realpath "$1")"
cd "$here/../.."
target_dir="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"
[ -x "$here/node_modules/kotlin-compiler/bin/kotlinc" ] || (cd "$here" && npm ci --no-audit --no-fund --loglevel=error)
compiler_lib="$here/node_modules/kotlin-compiler/lib"
classpath="/usr/share/java/jna.jar:$compiler_lib/kotlinx-coroutines-core-jvm.jar"
out="$target_dir/guichet-kotlin"
mkdir -p "$out"
# shellcheck disable=SC2046
"$here/node_modules/kotlin-compiler/bin/kotlinc" -nowarn -jvm-target 17 -classpath "$classpath" \
    -d "$out/guichet-bench.jar" $(find "$here/generated" "$here/bench" -name '*.kt' | sort)
# The database remembers the server it was synced from (gone: every call is local).
server_url="$(python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("SELECT value FROM client_meta WHERE key = '"'"'server_url'"'"'").fetchone()[0])' "$catalog")"
java -cp "$out/guichet-bench.jar:$compiler_lib/kotlin-stdlib.jar:$classpath" \
    -Djna.library.path="$target_dir/debug" guichet.bench.BenchKt "$catalog" "$server_url"
