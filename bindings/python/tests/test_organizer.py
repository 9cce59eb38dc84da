"""The organizer journey through the Python binding, against the live server."""

import guichet
from conftest import published_event, run, signed_in


def test_organizer_journey(server):
    async def journey():
        organizer = await signed_in(server.url, guichet.Role.ORGANIZER)
        event_id, type_id = await published_event(organizer, "Organizer night", capacity=3)
        tools = organizer.organizer()
        events = await tools.events()
        assert [(e.id, e.status) for e in events] == [(event_id, guichet.EventStatus.PUBLISHED)]

        buyer = await signed_in(server.url, guichet.Role.ATTENDEE)
        hold = await buyer.booking().hold(event_id, [guichet.HoldLine(ticket_type_id=type_id, quantity=1)])
        await buyer.booking().checkout(hold.id, "tok_visa")

        report = await tools.sales_report(event_id)
        assert (report.sold, report.revenue_minor) == (1, 2500)
        assert [(t.ticket_type_id, t.sold, t.capacity) for t in report.by_ticket_type] == [(type_id, 1, 3)]
        page = await tools.attendees(event_id, None, 50, None)
        assert page.total_count == 1

        check_in = await tools.create_check_in_list(
            event_id,
            guichet.CheckInListDraft(name="VIP", ticket_type_ids=[type_id], gates=["a", "b"], re_entry=True),
        )
        assert [l.id for l in await tools.check_in_lists(event_id)] == [check_in.id]
        pairing = await tools.pairing_code(check_in.id)
        assert len(pairing.code.replace("-", "")) == 8
        assert pairing.list.id == check_in.id
        assert pairing.qr_text.startswith("GUICHET-PAIR:")

    run(journey())
