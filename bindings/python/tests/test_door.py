"""The door journey through the Python binding, against the live server: pair with the
organizer's code, scan (admitted, already inside, forged, expired, revoked after a refund
and a sync), a background sync with its listener, and doors without a server."""

import threading
import time
from datetime import timedelta

import pytest

import guichet
from conftest import HOUR_MS, now_ms, published_event, run, signed_in

BASE45 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
ENTRY = guichet.Direction.ENTRY
EXIT = guichet.Direction.EXIT


def b45decode(text: str) -> bytes:
    values = [BASE45.index(c) for c in text]
    out = bytearray()
    for i in range(0, len(values), 3):
        chunk = values[i : i + 3]
        n = sum(v * 45**k for k, v in enumerate(chunk))
        out += n.to_bytes(2 if len(chunk) == 3 else 1, "big")
    return bytes(out)


def b45encode(data: bytes) -> str:
    out = []
    for i in range(0, len(data), 2):
        pair = data[i : i + 2]
        n = int.from_bytes(pair, "big")
        digits = 3 if len(pair) == 2 else 2
        out += [BASE45[(n // 45**k) % 45] for k in range(digits)]
    return "".join(out)


def forged(credential: str) -> str:
    """The credential with one bit of its ticket id changed: well formed, badly signed."""
    raw = bytearray(b45decode(credential))
    raw[5] ^= 0x01  # bytes 5..21 are the ticket id (core-sdk/domain/src/credential/layout.rs)
    return b45encode(bytes(raw))


class Sale:
    """An event starting within the hour, a check-in list, two bought tickets, and a
    pairing code for the list."""

    def __init__(self, server_url: str):
        self.server_url = server_url

    async def setup(self):
        self.organizer = await signed_in(self.server_url, guichet.Role.ORGANIZER)
        self.event_id, self.type_id = await published_event(self.organizer, "Door night", starts_in_ms=HOUR_MS)
        self.tools = self.organizer.organizer()
        draft = guichet.CheckInListDraft(name="Main", ticket_type_ids=[self.type_id], gates=["north", "south"], re_entry=False)
        self.list = await self.tools.create_check_in_list(self.event_id, draft)
        self.buyer = await signed_in(self.server_url, guichet.Role.ATTENDEE)
        line = guichet.HoldLine(ticket_type_id=self.type_id, quantity=2)
        hold = await self.buyer.booking().hold(self.event_id, [line])
        self.order = await self.buyer.booking().checkout(hold.id, "tok_visa")
        self.tickets = sorted(self.order.tickets, key=lambda t: t.id)
        return self

    async def pair(self, data_dir, gate="north"):
        pairing = await self.tools.pairing_code(self.list.id)
        return await guichet.pair_door(self.server_url, str(data_dir), gate, pairing.code, "Door 1", None)


def refusal(scan):
    return (scan.admitted, scan.reason, scan.detail)


def test_door_journey(server, tmp_path):
    async def journey():
        sale = await Sale(server.url).setup()
        first, second = sale.tickets
        door = await sale.pair(tmp_path / "door")
        assert door.gate() == "north"
        status = await door.status()
        assert (status.list_name, status.gates, status.unpushed) == ("Main", ["north", "south"], 0)
        counts = await door.ticket_counts()
        assert (counts.tickets, counts.revoked) == (2, 0)

        admitted = await door.scan(first.credential, ENTRY)
        assert refusal(admitted) == (True, None, None)
        assert (admitted.ticket_id, admitted.ticket_type_id) == (first.id, sale.type_id)

        again = await door.scan(first.credential, ENTRY)
        assert refusal(again) == (False, "already_inside", "already_inside")
        assert again.ticket_id == first.id

        fake = await door.scan(forged(second.credential), ENTRY)
        assert refusal(fake) == (False, "invalid", "bad_signature")
        assert fake.ticket_id is None
        garbage = await door.scan("not a ticket", ENTRY)
        assert refusal(garbage) == (False, "invalid", "malformed")

        two_days_on = now_ms() + 48 * HOUR_MS
        late = await door.scan_at(second.credential, ENTRY, two_days_on)
        assert refusal(late) == (False, "expired", "expired")
        never_in = await door.scan(second.credential, EXIT)
        assert refusal(never_in) == (False, "not_inside", "not_inside")

        await door.sync()
        assert await door.unpushed_count() == 0

        # The organizer refunds the second ticket (buyers may not, this close to the start);
        # the next sync brings its revocation.
        await sale.organizer.booking().refund(sale.order.id, [second.id])
        report = await door.sync()
        assert report.revoked == 1
        counts = await door.ticket_counts()
        assert (counts.tickets, counts.revoked) == (2, 1)
        revoked = await door.scan(second.credential, ENTRY)
        assert refusal(revoked) == (False, "revoked", "revoked")
        assert revoked.ticket_id == second.id

        # The pairing code works once.
        with pytest.raises(guichet.GuichetError) as refused:
            await guichet.pair_door(server.url, str(tmp_path / "other"), "north", "ABCD-EFGH", "Door 2", None)
        assert refused.value.kind == guichet.ErrorKind.NOT_FOUND, refused.value

    run(journey())


class Recorder(guichet.ProgressListener):
    def __init__(self):
        self.progress = []
        self.finished = threading.Event()
        self.outcome = None

    def on_progress(self, progress):
        self.progress.append(progress)

    def on_finished(self, task, outcome):
        self.outcome = (task, outcome)
        self.finished.set()


def test_door_watch_reports_each_sync_and_stops_when_cancelled(server, tmp_path):
    async def journey():
        sale = await Sale(server.url).setup()
        door = await sale.pair(tmp_path / "door")
        await door.scan(sale.tickets[0].credential, ENTRY)
        recorder = Recorder()
        handle = door.watch(timedelta(milliseconds=100), recorder)
        deadline = time.monotonic() + 30
        while len(recorder.progress) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert [p.done for p in recorder.progress[:2]] == [1, 2]
        assert {p.task for p in recorder.progress} == {guichet.Task.DOOR_SYNC}
        assert await door.unpushed_count() == 0
        handle.cancel()
        assert recorder.finished.wait(10)
        assert recorder.outcome[0] == guichet.Task.DOOR_SYNC
        assert recorder.outcome[1].is_CANCELLED()
        # The flag is set just after the listener hears the outcome: wait for it.
        deadline = time.monotonic() + 10
        while not handle.is_finished() and time.monotonic() < deadline:
            time.sleep(0.01)
        assert handle.is_finished()

    run(journey())


def test_door_keeps_scanning_without_the_server(own_server, tmp_path):
    data_dir = tmp_path / "door"

    async def paired_then_offline():
        sale = await Sale(own_server.url).setup()
        door = await sale.pair(data_dir)
        own_server.stop()
        first, second = sale.tickets
        offline = await door.scan(first.credential, ENTRY)
        assert refusal(offline) == (True, None, None)
        assert not offline.online
        assert not door.is_online()
        again = await door.scan(first.credential, ENTRY)
        assert refusal(again) == (False, "already_inside", "already_inside")
        with pytest.raises(guichet.GuichetError) as cut:
            await door.sync()
        assert cut.value.kind == guichet.ErrorKind.NETWORK
        assert await door.unpushed_count() == 2
        return sale

    sale = run(paired_then_offline())
    first, second = sale.tickets

    async def no_server_at_all():
        # The same data directory opened with no server: the stored configuration and
        # the history it knew; syncing is not possible.
        config = guichet.OfflineDoorConfig(data_dir=str(data_dir), gate="south", event_json=None)
        door = await guichet.open_offline_door(config)
        assert not door.is_online()
        assert refusal(await door.scan(second.credential, ENTRY)) == (True, None, None)
        back = await door.scan(first.credential, ENTRY)
        assert refusal(back) == (False, "already_inside", "already_inside")
        with pytest.raises(guichet.GuichetError) as unpaired:
            await door.sync()
        assert unpaired.value.kind == guichet.ErrorKind.NOT_PAIRED
        assert await door.unpushed_count() == 4

        empty = guichet.OfflineDoorConfig(data_dir=str(tmp_path / "empty"), gate="north", event_json=None)
        with pytest.raises(guichet.GuichetError) as unconfigured:
            await guichet.open_offline_door(empty)
        assert unconfigured.value.kind == guichet.ErrorKind.NOT_FOUND

    run(no_server_at_all())

    async def server_back():
        # The paired door reopened once the server is back pushes every offline scan.
        own_server.start()
        door = await guichet.open_door(own_server.url, str(data_dir), "north", None)
        report = await door.sync()
        assert report.pushed == 4
        assert await door.unpushed_count() == 0
        assert door.is_online()

    run(server_back())
