#!/usr/bin/env bash
# Gradle-free Kotlin build and test: compiles the generated sources and test/GuichetTest.kt
# with kotlinc (npm package kotlin-compiler, pinned in package.json), then runs the JUnit 4
# tests against a live guichet-server that the tests start themselves. Prints
# "kotlin: N passed, N failed".
#
# Needs the debug builds of libguichet_ffi.so and guichet-server (bindings/ci.sh builds
# both), Java 17+, npm, and Debian's libjna-java and junit4 (/usr/share/java).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here/../.."
target_dir="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"
library_dir="$target_dir/debug"
for built in "$library_dir/libguichet_ffi.so" "$library_dir/guichet-server"; do
    [ -f "$built" ] || { echo "missing $built: run bindings/ci.sh (or cargo build) first" >&2; exit 1; }
done

kotlinc="$here/node_modules/kotlin-compiler/bin/kotlinc"
if [ ! -x "$kotlinc" ]; then
    (cd "$here" && npm ci --no-audit --no-fund --loglevel=error)
fi
compiler_lib="$here/node_modules/kotlin-compiler/lib"
classpath="/usr/share/java/jna.jar:$compiler_lib/kotlinx-coroutines-core-jvm.jar"
classpath="$classpath:/usr/share/java/junit4.jar:/usr/share/java/hamcrest.jar"
for jar in ${classpath//:/ }; do
    [ -f "$jar" ] || { echo "missing $jar (apt-get install libjna-java junit4)" >&2; exit 1; }
done

# Compiling takes a minute or two: skip it when neither the sources nor the compiler changed.
out="$target_dir/guichet-kotlin"
mkdir -p "$out"
sources=$(find "$here/generated" "$here/test" -name '*.kt' | sort)
stamp="$(cat $sources "$here/package-lock.json" | sha256sum | cut -d' ' -f1)"
if [ ! -f "$out/guichet-test.jar" ] || [ "$(cat "$out/stamp" 2>/dev/null)" != "$stamp" ]; then
    rm -f "$out/guichet-test.jar" "$out/stamp"
    # shellcheck disable=SC2086
    "$kotlinc" -nowarn -jvm-target 17 -classpath "$classpath" -d "$out/guichet-test.jar" $sources
    echo "$stamp" >"$out/stamp"
fi

java -cp "$out/guichet-test.jar:$compiler_lib/kotlin-stdlib.jar:$classpath" \
    -Djna.library.path="$library_dir" \
    -Dguichet.server.bin="$library_dir/guichet-server" \
    guichet.test.GuichetTestKt
