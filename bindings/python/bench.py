"""What the Python binding adds to a call: offline catalog search over 100,000 events (the
same 19 queries, top 20, 25 rounds with the first dropped, as the Rust benchmark
testing/e2e/examples/catalog_sync.rs), and the cost of one trivial call (sync and async).

The catalog is the client database that the Rust benchmark synced from a real server:

    GUICHET_BENCH_KEEP=/tmp/catalog.db cargo run -p guichet-e2e --example catalog_sync
    python bindings/python/bench.py /tmp/catalog.db

Compare its search line with the last line the Rust benchmark printed (same database, same
queries, same build profile).
"""

import asyncio
import shutil
import sqlite3
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import guichet

WORDS = ["jazz", "fete", "opéra", "noel", "sym", "nuit electro", "ZÜRICH", "cafe concert", "ete",
         "contes", "rock lyon", "baroque orchestre", "festival", "t", "lum"]
LYON = guichet.Near(latitude=45.76, longitude=4.84, radius_km=30.0)
ROUNDS = 25
CALLS = 100_000


def ms(iso: str) -> int:
    return int(datetime.fromisoformat(iso).replace(tzinfo=timezone.utc).timestamp() * 1000)


def query(text=None, near=None, after=None, before=None):
    return guichet.EventSearch(text=text, starts_after=after, starts_before=before, near=near,
                               include_past=False, limit=20, offset=0)


QUERIES = [query(text=w) for w in WORDS] + [
    query(near=LYON),
    query(text="jazz", near=LYON),
    query(after=ms("2030-06-01T00:00:00"), before=ms("2030-07-01T00:00:00")),
    query(),
]


def percentile(sorted_values, p):
    return sorted_values[round((len(sorted_values) - 1) * p)]


class Quiet(guichet.ChangeListener):
    def on_change(self, change):
        pass


async def main(catalog: Path):
    data_dir = Path(tempfile.mkdtemp(prefix="guichet-bench-"))
    shutil.copy(catalog, data_dir / "guichet.db")
    # The database belongs to the benchmark's server, gone since: every call below is local.
    with sqlite3.connect(data_dir / "guichet.db") as db:
        (server_url,) = db.execute("SELECT value FROM client_meta WHERE key = 'server_url'").fetchone()
    client = await guichet.open_client(server_url, str(data_dir), None)
    catalog_handle = client.catalog()

    times, results = [], 0
    for round_ in range(ROUNDS):
        for q in QUERIES:
            started = time.perf_counter()
            hits = await catalog_handle.search(q)
            elapsed = time.perf_counter() - started
            if round_ > 0:
                times.append(elapsed * 1e3)
            results += len(hits)
    times.sort()
    print(f"python: offline search, top 20 of 100000 events: {len(times)} searches "
          f"({len(QUERIES)} distinct queries), p50 {percentile(times, 0.5):.2f} ms, "
          f"p99 {percentile(times, 0.99):.2f} ms, max {times[-1]:.2f} ms ({results} results)")

    # One call that does nothing but cross: a sync method (an atomic load behind it)...
    handle = client.subscribe(Quiet())
    started = time.perf_counter()
    for _ in range(CALLS):
        handle.is_finished()
    sync_us = (time.perf_counter() - started) / CALLS * 1e6
    # ...and an async one (the signed-in account, read from memory: none here).
    rounds = CALLS // 10
    started = time.perf_counter()
    for _ in range(rounds):
        await client.account()
    async_us = (time.perf_counter() - started) / rounds * 1e6
    print(f"python: one sync call {sync_us:.2f} µs (TaskHandle.is_finished, {CALLS} calls), "
          f"one async call {async_us:.1f} µs (Client.account, {rounds} awaits)")
    handle.cancel()
    shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1])))
