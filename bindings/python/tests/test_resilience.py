"""What a third party's app relies on beyond the happy path, through the Python binding:
a sync task reports progress and its outcome, a cancelled one stops; refusals arrive as
exceptions with the server's code; the client keeps answering from its store when the
server goes away mid-way; two clients on two threads at once."""

import threading
import time

import pytest

import guichet
from conftest import open_client, published_event, run, search, signed_in


class Progress(guichet.ProgressListener):
    def __init__(self):
        self.progress = []
        self.outcomes = []
        self.finished = threading.Event()

    def on_progress(self, progress):
        self.progress.append(progress)

    def on_finished(self, task, outcome):
        self.outcomes.append((task, outcome))
        self.finished.set()


def finished(handle, within_s=10):
    """Whether the handle says finished within `within_s` (it is set just after the
    listener hears the outcome)."""
    deadline = time.monotonic() + within_s
    while not handle.is_finished():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def test_tasks_report_progress_and_a_cancelled_one_stops(server, tmp_path):
    async def setup():
        organizer = await signed_in(server.url, guichet.Role.ORGANIZER)
        for i in range(3):
            await published_event(organizer, f"Progress night {i}")
        # Signed in: a wallet sync needs an account (else it fails NOT_SIGNED_IN at once).
        return await signed_in(server.url, guichet.Role.ATTENDEE, tmp_path / "client")

    client = run(setup())
    listener = Progress()
    handle = client.catalog().sync_task(listener)
    assert listener.finished.wait(30), "the sync never finished"
    assert finished(handle)
    assert [(task, outcome) for task, outcome in listener.outcomes] == [
        (guichet.Task.CATALOG_SYNC, guichet.Outcome.COMPLETED())
    ]
    assert listener.progress and listener.progress[-1].done >= 3

    cancelled = Progress()
    handle = client.wallet().sync_task(cancelled)
    handle.cancel()
    assert cancelled.finished.wait(30)
    assert finished(handle)
    # Told once: cancelled, or completed if it had already finished; never twice.
    assert len(cancelled.outcomes) == 1
    assert cancelled.outcomes[0][1] in (guichet.Outcome.CANCELLED(), guichet.Outcome.COMPLETED())
    handle.cancel()  # idempotent
    assert len(cancelled.outcomes) == 1


def test_refusals_carry_the_servers_code(server, tmp_path):
    async def journey():
        organizer = await signed_in(server.url, guichet.Role.ORGANIZER)
        event_id, type_id = await published_event(organizer, "Tiny room", capacity=1)
        buyer = await signed_in(server.url, guichet.Role.ATTENDEE)
        await buyer.booking().hold(event_id, [guichet.HoldLine(ticket_type_id=type_id, quantity=1)])
        late = await signed_in(server.url, guichet.Role.ATTENDEE)
        with pytest.raises(guichet.GuichetError) as sold_out:
            await late.booking().hold(event_id, [guichet.HoldLine(ticket_type_id=type_id, quantity=1)])
        assert sold_out.value.kind == guichet.ErrorKind.SOLD_OUT
        with pytest.raises(guichet.GuichetError) as forbidden:
            await late.organizer().sales_report(event_id)
        assert forbidden.value.kind == guichet.ErrorKind.FORBIDDEN
        with pytest.raises(guichet.GuichetError) as bad_password:
            await (await open_client(server.url, tmp_path / "x")).log_in("nobody@example.test", "wrong password!")
        assert bad_password.value.kind == guichet.ErrorKind.UNAUTHENTICATED

    run(journey())


def test_the_client_answers_from_its_store_when_the_server_goes(own_server, tmp_path):
    data_dir = tmp_path / "offline"

    async def online():
        organizer = await signed_in(own_server.url, guichet.Role.ORGANIZER)
        event_id, type_id = await published_event(organizer, "Concert sans réseau", capacity=5)
        client = await signed_in(own_server.url, guichet.Role.ATTENDEE, data_dir)
        await client.catalog().sync()
        hold = await client.booking().hold(event_id, [guichet.HoldLine(ticket_type_id=type_id, quantity=1)])
        order = await client.booking().checkout(hold.id, "tok_visa")
        await client.wallet().sync()
        return client, event_id, order

    client, event_id, order = run(online())
    own_server.stop()

    async def offline():
        hits = await client.catalog().search(search("concert sans reseau"))
        assert [h.event.id for h in hits] == [event_id]
        tickets = await client.wallet().tickets()
        assert [t.ticket.id for t in tickets] == [order.tickets[0].id]
        with pytest.raises(guichet.GuichetError) as cut:
            await client.catalog().availability(event_id)
        assert cut.value.kind == guichet.ErrorKind.NETWORK
        # A client opened afresh on the same directory, still without a server.
        again = await open_client(own_server.url, data_dir)
        assert [t.ticket.id for t in await again.wallet().tickets()] == [order.tickets[0].id]

    run(offline())


def test_two_clients_on_two_threads_at_once(server, tmp_path):
    async def setup():
        organizer = await signed_in(server.url, guichet.Role.ORGANIZER)
        return await published_event(organizer, "Two at once", capacity=10)

    event_id, type_id = run(setup())
    results, errors = {}, []

    def buy(name):
        async def journey():
            client = await signed_in(server.url, guichet.Role.ATTENDEE, tmp_path / name)
            hold = await client.booking().hold(event_id, [guichet.HoldLine(ticket_type_id=type_id, quantity=2)])
            order = await client.booking().checkout(hold.id, "tok_visa")
            return len(order.tickets)

        try:
            results[name] = run(journey())
        except Exception as e:  # reported below, with the thread's name
            errors.append((name, e))

    threads = [threading.Thread(target=buy, args=(n,)) for n in ("left", "right")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    assert results == {"left": 2, "right": 2}

    async def sold():
        organizer_view = await open_client(server.url, tmp_path / "check")
        return [t.available for t in await organizer_view.catalog().availability(event_id)]

    assert run(sold()) == [6]
