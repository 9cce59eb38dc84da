"""A live guichet-server for the tests: built if needed, on a temporary SQLite file and a
free port, demo data off, test payment provider. Started by the tests themselves."""

import asyncio
import json
import os
import socket
import subprocess
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

import pytest

import guichet

ROOT = Path(__file__).resolve().parents[3]
HOUR_MS = 3_600_000


def run(coro):
    """Runs one coroutine to completion (each test drives the async API this way)."""
    return asyncio.run(coro)


def server_binary() -> Path:
    explicit = os.environ.get("GUICHET_SERVER_BIN")
    if explicit:
        return Path(explicit)
    subprocess.run(
        ["cargo", "build", "-q", "-p", "guichet-server", "--bin", "guichet-server"],
        cwd=ROOT,
        check=True,
    )
    meta = subprocess.run(
        ["cargo", "metadata", "--format-version", "1", "--no-deps"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    return Path(json.loads(meta.stdout)["target_directory"]) / "debug" / "guichet-server"


class Server:
    """One guichet-server process on its own database; stop() and start() keep the data."""

    def __init__(self, binary: Path, workdir: Path):
        self.binary = binary
        self.workdir = workdir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = None

    def start(self):
        env = dict(os.environ)
        env.update(
            DATABASE_URL=f"sqlite://{self.workdir / 'server.db'}",
            GUICHET_SECRET_FILE=str(self.workdir / "server.secret"),
            GUICHET_BIND=f"127.0.0.1:{self.port}",
            GUICHET_DEMO="false",
            GUICHET_PAYMENT_PROVIDER="test",
            GUICHET_AUTH_RATE_PER_MINUTE="100000",
            GUICHET_AUTH_RATE_BURST="100000",
            GUICHET_HOLD_RATE_PER_MINUTE="100000",
        )
        log = open(self.workdir / "server.log", "ab")
        self.process = subprocess.Popen([str(self.binary)], env=env, stdout=log, stderr=log)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError((self.workdir / "server.log").read_text())
            try:
                with urllib.request.urlopen(self.url + "/ready", timeout=1) as r:
                    if r.status == 200:
                        return self
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("guichet-server did not become ready")

    def stop(self):
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=30)
            self.process = None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def binary():
    return server_binary()


@pytest.fixture(scope="session")
def server(binary, tmp_path_factory):
    s = Server(binary, tmp_path_factory.mktemp("server")).start()
    yield s
    s.stop()


@pytest.fixture
def own_server(binary, tmp_path):
    """A server this test may stop."""
    s = Server(binary, tmp_path / "own-server")
    s.workdir.mkdir()
    s.start()
    yield s
    s.stop()


async def open_client(server_url: str, data_dir=None, secrets=None):
    data_dir = data_dir or tempfile.mkdtemp(prefix="guichet-client-")
    return await guichet.open_client(server_url, str(data_dir), secrets)


def new_account(role) -> "guichet.SignUp":
    return guichet.SignUp(
        email=f"{uuid.uuid4().hex[:12]}@example.test",
        password="correct horse battery",
        display_name="Test person",
        role=role,
    )


async def signed_in(server_url: str, role, data_dir=None, secrets=None):
    client = await open_client(server_url, data_dir, secrets)
    await client.sign_up(new_account(role))
    return client


def now_ms() -> int:
    return int(time.time() * 1000)


async def published_event(
    client, title: str, capacity: int = 10, price_minor: int = 2500, starts_in_ms: int = 30 * 24 * HOUR_MS
):
    """An organizer's published event with one ticket type; returns (event id, type id).
    Tickets are valid from 6 hours before the start: a door test starts it within the hour."""
    organizer = client.organizer()
    start = now_ms() + starts_in_ms
    event = await organizer.create_event(
        guichet.EventDraft(
            title=title,
            description="An evening of music",
            venue="Salle Pleyel",
            city="Paris",
            latitude=48.8768,
            longitude=2.3006,
            starts_at=start,
            ends_at=start + 3 * HOUR_MS,
            time_zone="Europe/Paris",
            online=False,
        )
    )
    ticket_type = await organizer.add_ticket_type(
        event.id,
        guichet.TicketTypeDraft(
            name="Standard",
            price_minor=price_minor,
            currency="EUR",
            capacity=capacity,
            sale_starts_at=now_ms() - HOUR_MS,
            sale_ends_at=start,
            max_per_order=10,
        ),
    )
    await organizer.publish_event(event.id)
    return event.id, ticket_type.id


def search(text=None, limit=50) -> "guichet.EventSearch":
    return guichet.EventSearch(
        text=text,
        starts_after=None,
        starts_before=None,
        near=None,
        include_past=False,
        limit=limit,
        offset=0,
    )
