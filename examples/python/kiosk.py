"""A venue kiosk on Guichet's Python package: it syncs the catalog once, then searches it
offline as visitors type, books a ticket with a test card and prints the ticket's QR code.

    pip install ./bindings/python          # in a virtualenv
    cargo run -p guichet-server            # the demo server, in another terminal
    python examples/python/kiosk.py "jazz"

Options: --server URL (default http://127.0.0.1:8080), --data DIR (the kiosk's offline
store; default: a new temporary directory), --card TOKEN (default tok_visa, the test
provider's accepted card; tok_declined is refused). The QR code is written as a PNG next
to the store and its text printed, for a receipt printer.
"""

import argparse
import asyncio
import sys
import tempfile
import uuid
from datetime import datetime, timezone
from pathlib import Path

import guichet


def search(text: str) -> "guichet.EventSearch":
    return guichet.EventSearch(
        text=text or None, starts_after=None, starts_before=None, near=None,
        include_past=False, limit=10, offset=0,
    )


async def kiosk(server: str, data: Path, words: str, card: str) -> int:
    client = await guichet.open_client(server, str(data), None)
    synced = await client.catalog().sync()
    print(f"catalog: {synced.upserted} events stored for offline search")

    hits = await client.catalog().search(search(words))  # no network: the local store
    if not hits:
        print(f"nothing matches {words!r}")
        return 1
    for i, hit in enumerate(hits):
        e = hit.event
        starts = datetime.fromtimestamp(e.starts_at / 1000, timezone.utc)  # unix ms at the boundary
        print(f"  [{i}] {e.title} — {e.venue}, {e.city}, {starts:%Y-%m-%d %H:%M} UTC")
    event = hits[0].event
    on_sale = [t for t in await client.catalog().availability(event.id) if t.available > 0]
    if not on_sale:
        print(f"{event.title}: sold out")
        return 1
    ticket_type = on_sale[0]

    # A visitor's account (a real kiosk would ask for an e-mail address).
    await client.sign_up(guichet.SignUp(
        email=f"kiosk-{uuid.uuid4().hex[:8]}@example.test", password="kiosk visitor pass",
        display_name="Kiosk visitor", role=guichet.Role.ATTENDEE,
    ))
    booking = client.booking()
    hold = await booking.hold(event.id, [guichet.HoldLine(ticket_type_id=ticket_type.id, quantity=1)])
    print(f"held 1 × {ticket_type.details.name} for {booking.seconds_left(hold)} s")
    try:
        order = await booking.checkout(hold.id, card)
    except guichet.GuichetError as e:
        print(f"payment refused: {e.kind} {e.message}")
        await booking.release(hold.id)
        return 2
    print(f"order {order.id}: {order.status.name}, {order.total_minor / 100:.2f} {order.currency}")

    wallet = client.wallet()
    for ticket in await wallet.tickets():
        png = data / f"ticket-{ticket.ticket.id}.png"
        png.write_bytes(wallet.qr_png(ticket, 8))
        print(f"ticket {ticket.ticket.id}: QR in {png}")
        print(f"  credential text: {ticket.ticket.credential}")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("words", nargs="*", help="what the visitor typed")
    parser.add_argument("--server", default="http://127.0.0.1:8080")
    parser.add_argument("--data", type=Path, default=None)
    parser.add_argument("--card", default="tok_visa")
    args = parser.parse_args()
    data = args.data or Path(tempfile.mkdtemp(prefix="guichet-kiosk-"))
    data.mkdir(parents=True, exist_ok=True)
    return asyncio.run(kiosk(args.server, data, " ".join(args.words), args.card))


if __name__ == "__main__":
    sys.exit(main())
