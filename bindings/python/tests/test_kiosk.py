"""The third-party example, examples/python/kiosk.py, run as a visitor would run it against
the live server: it books a ticket and writes a QR code that a decoder we did not write
reads back as the ticket's credential."""

import shutil
import subprocess
import sys

import guichet
from conftest import ROOT, published_event, run, signed_in

import pytest


def test_the_kiosk_books_and_prints_a_readable_qr(server, tmp_path):
    async def setup():
        organizer = await signed_in(server.url, guichet.Role.ORGANIZER)
        await published_event(organizer, "Kiosk Quartet", capacity=3)

    run(setup())
    data = tmp_path / "kiosk"
    done = subprocess.run(
        [sys.executable, str(ROOT / "examples/python/kiosk.py"), "--server", server.url,
         "--data", str(data), "kiosk quartet"],
        capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Kiosk Quartet" in done.stdout
    assert ": COMPLETED, 25.00 EUR" in done.stdout
    pngs = list(data.glob("ticket-*.png"))
    assert len(pngs) == 1
    credential = done.stdout.split("credential text: ")[1].strip()
    if shutil.which("zbarimg") is None:
        pytest.skip("zbarimg is not installed")
    decoded = subprocess.run(["zbarimg", "-q", "--raw", str(pngs[0])], capture_output=True, text=True)
    assert decoded.stdout.strip() == credential
