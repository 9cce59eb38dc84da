"""Live updates through the Python binding, against the live server: an organizer's sales
feed follows a hold and a checkout, a buyer's order feed follows a refund, a stranger's
feed ends with the server's code, and a dropped handle stops the feed."""

import asyncio
import threading
import time

import guichet
from conftest import published_event, run, signed_in

WAIT_S = 30


class Recorder:
    """Collects what a feed delivers; the SDK calls it from its own threads."""

    def __init__(self):
        self.updates = []
        self.states = []
        self.lock = threading.Lock()

    def _update(self, update):
        with self.lock:
            self.updates.append(update)

    def on_state(self, state):
        with self.lock:
            self.states.append(state)

    async def update_where(self, what, wanted):
        deadline = time.monotonic() + WAIT_S
        while time.monotonic() < deadline:
            with self.lock:
                found = [u for u in self.updates if wanted(u)]
            if found:
                return found[-1]
            await asyncio.sleep(0.05)
        raise AssertionError(f"no {what} within {WAIT_S} s; states: {self.states}")

    async def state_where(self, what, wanted):
        deadline = time.monotonic() + WAIT_S
        while time.monotonic() < deadline:
            with self.lock:
                found = [s for s in self.states if wanted(s)]
            if found:
                return found[0]
            await asyncio.sleep(0.05)
        raise AssertionError(f"no {what} within {WAIT_S} s; states: {self.states}")


class Sales(Recorder, guichet.SalesListener):
    def on_sales(self, update):
        self._update(update)


class Orders(Recorder, guichet.OrderListener):
    def on_order(self, order):
        self._update(order)


def test_sales_and_order_feeds(server):
    async def journey():
        organizer = await signed_in(server.url, guichet.Role.ORGANIZER)
        event_id, type_id = await published_event(organizer, "Live night", capacity=10)
        sales = Sales()
        feed = organizer.organizer().watch_sales(event_id, sales)
        first = await sales.update_where("first frame", lambda u: True)
        assert (first.event_id, first.sold, first.held, first.available) == (event_id, 0, 0, 10)
        assert [s.phase for s in sales.states] == [guichet.LivePhase.CONNECTING, guichet.LivePhase.LIVE]

        buyer = await signed_in(server.url, guichet.Role.ATTENDEE)
        hold = await buyer.booking().hold(event_id, [guichet.HoldLine(ticket_type_id=type_id, quantity=2)])
        await sales.update_where("the hold", lambda u: u.held == 2 and u.available == 8)
        order = await buyer.booking().checkout(hold.id, "tok_visa")
        paid = await sales.update_where("the sale", lambda u: u.sold == 2 and u.held == 0)
        assert paid.revenue_minor == 5000

        orders = Orders()
        order_feed = buyer.booking().watch_order(order.id, orders)
        now = await orders.update_where("the order", lambda o: True)
        assert now.status == guichet.OrderStatus.COMPLETED
        await buyer.booking().refund(order.id, [])
        refunded = await orders.update_where("the refund", lambda o: o.status == guichet.OrderStatus.REFUNDED)
        assert refunded.refunded_minor == 5000

        # Another organizer's feed of this event ends with FORBIDDEN and delivers nothing.
        stranger = await signed_in(server.url, guichet.Role.ORGANIZER)
        refused = Sales()
        stranger_feed = stranger.organizer().watch_sales(event_id, refused)
        end = await refused.state_where("the end", lambda s: s.phase == guichet.LivePhase.ENDED)
        assert end.error.kind == guichet.ErrorKind.FORBIDDEN
        assert refused.updates == []
        # Finished is set just after the listener heard the end.
        deadline = time.monotonic() + 10
        while not stranger_feed.is_finished() and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        assert stranger_feed.is_finished()

        # Cancelled: told once with no error, and nothing more arrives.
        feed.cancel()
        assert feed.is_finished()
        assert (sales.states[-1].phase, sales.states[-1].error) == (guichet.LivePhase.ENDED, None)
        seen = len(sales.updates)
        await buyer.booking().hold(event_id, [guichet.HoldLine(ticket_type_id=type_id, quantity=1)])
        await asyncio.sleep(0.5)
        assert len(sales.updates) == seen
        order_feed.cancel()

    run(journey())
