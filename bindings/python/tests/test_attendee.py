"""The attendee journey through the Python binding, against the live server."""

import guichet
from conftest import open_client, published_event, run, search, signed_in


def test_attendee_journey(server, tmp_path):
    async def journey():
        organizer = await signed_in(server.url, guichet.Role.ORGANIZER)
        event_id, type_id = await published_event(organizer, "Nuit Étoilée Pyjazz", capacity=5)

        data_dir = tmp_path / "attendee"
        client = await signed_in(server.url, guichet.Role.ATTENDEE, data_dir)
        synced = await client.catalog().sync()
        assert synced.upserted >= 1

        offline = await client.catalog().search(search("etoilee pyjaz"))
        assert [hit.event.id for hit in offline] == [event_id]
        online = await client.catalog().availability(event_id)
        assert [(t.id, t.available) for t in online] == [(type_id, 5)]

        booking = client.booking()
        hold = await booking.hold(event_id, [guichet.HoldLine(ticket_type_id=type_id, quantity=2)])
        assert hold.status == guichet.HoldStatus.ACTIVE
        assert hold.total_minor == 5000
        assert 0 < booking.seconds_left(hold) <= 600
        assert [t.available for t in await client.catalog().availability(event_id)] == [3]

        order = await booking.checkout(hold.id, "tok_visa")
        assert order.status == guichet.OrderStatus.COMPLETED
        assert len(order.tickets) == 2
        assert await booking.pending() == []
        return order

    order = run(journey())

    async def after_restart():
        # A new process' client on the same data directory: session and wallet are back.
        client = await open_client(server.url, tmp_path / "attendee")
        assert (await client.account()) is not None
        wallet = client.wallet()
        await wallet.sync()
        tickets = await wallet.tickets()
        assert sorted(t.ticket.id for t in tickets) == sorted(t.id for t in order.tickets)
        svg = wallet.qr_svg(tickets[0], 4)
        assert svg.startswith("<?xml") or svg.startswith("<svg")
        png = wallet.qr_png(tickets[0], 4)
        assert png[:8] == b"\x89PNG\r\n\x1a\n"

        refunded = await client.booking().refund(order.id, [])
        assert refunded.status == guichet.OrderStatus.REFUNDED
        assert refunded.refunded_minor == 5000
        await wallet.sync()
        statuses = {t.ticket.status for t in await wallet.tickets()}
        assert statuses == {guichet.TicketStatus.REVOKED}

    run(after_restart())
