"""Dependency license check for what third parties embed: every crate in guichet-ffi's
normal dependency tree (which holds guichet-sdk and guichet-domain) must carry a license
expression that offers a permissive choice (MPL-2.0, file-level only, is allowed). Fails
on GPL, AGPL or LGPL-only crates and on crates with no license field. Reads `cargo
metadata`, so it runs offline and needs nothing installed."""

import json
import re
import subprocess
import sys

ROOT_CRATE = sys.argv[1] if len(sys.argv) > 1 else "guichet-ffi"
PERMISSIVE = {
    "MIT", "Apache-2.0", "Apache-2.0 WITH LLVM-exception", "BSD-2-Clause", "BSD-3-Clause",
    "ISC", "Zlib", "Unicode-3.0", "Unicode-DFS-2016", "CC0-1.0", "Unlicense", "BSL-1.0",
    "0BSD", "CDLA-Permissive-2.0",
    # uniffi's runtime: file-level copyleft only (changes to its own files stay open);
    # apps that embed it unmodified may be closed, as Mozilla ships it in Firefox apps.
    "MPL-2.0",
}


# Crates that name only a license file (no SPDX expression in their metadata): the file
# was read and its license recorded here, per crate and version.
REVIEWED_LICENSE_FILES = {
    ("allo-isolate", "0.1.27"): "Apache-2.0",  # LICENSE: the Apache License 2.0 text
}


def acceptable(expression: str) -> bool:
    """True when one OR-alternative is made only of permissive licenses."""
    for alternative in re.split(r"\s+OR\s+|/", expression.replace("(", "").replace(")", "")):
        parts = [p.strip() for p in re.split(r"\s+AND\s+", alternative)]
        if all(p in PERMISSIVE for p in parts):
            return True
    return False


def license_of(package) -> str:
    return package["license"] or REVIEWED_LICENSE_FILES.get(
        (package["name"], package["version"]), "")


def main() -> int:
    meta = json.loads(subprocess.run(
        ["cargo", "metadata", "--format-version", "1", "--locked", "--filter-platform",
         "x86_64-unknown-linux-gnu"],
        check=True, capture_output=True, text=True).stdout)
    packages = {p["id"]: p for p in meta["packages"]}
    nodes = {n["id"]: n for n in meta["resolve"]["nodes"]}
    root = next(p["id"] for p in meta["packages"] if p["name"] == ROOT_CRATE)
    seen, todo = set(), [root]
    while todo:
        node = nodes[todo.pop()]
        if node["id"] in seen:
            continue
        seen.add(node["id"])
        for dep in node["deps"]:
            if any(k["kind"] in (None, "normal") for k in dep["dep_kinds"]):
                todo.append(dep["pkg"])
    bad = sorted(
        f'{packages[i]["name"]} {packages[i]["version"]}: {packages[i]["license"]}'
        for i in seen if not acceptable(license_of(packages[i]))
    )
    for line in bad:
        print("not embeddable:", line)
    print(f"{len(seen)} crates in {ROOT_CRATE}'s tree checked")
    print("1 failed (license check)" if bad else "1 passed (license check)")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
