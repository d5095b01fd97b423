"""The internal event bus: every live state change is published here once, and
anything that shows it (the web UI's live views, later Server-Sent Events) subscribes.
Subscribers get their own bounded queue so a slow reader never blocks the publisher.

Measured with 200 agents' event streams open and calls at 10 per second (bench/mixed_load.py),
the streams took most of the supervisor's processor time: every event woke every reader, and
every change of a queue's waiting calls (two per call) went, as JSON encoded once per reader,
to each of the queue's 200 agents. So a subscriber says which events it takes (``accepts``:
the others never wake it), and snapshot topics (``SNAPSHOTS``: a queue's whole view) reach the
subscribers at most once per ``SNAPSHOT_SECONDS`` per queue, the newest, when the bus is given a
way to act later (``defer``, the appliance's ``gevent.spawn_later``); the taps still see every
one.
"""

from __future__ import annotations

import logging
import threading
from collections import deque

logger = logging.getLogger(__name__)


# topic -> the field naming the thing whose whole view each event of the topic is
SNAPSHOTS = {"queue": "name"}
SNAPSHOT_SECONDS = 0.25


class Subscription:
    def __init__(self, bus: "EventBus", maxlen: int, accepts=None):
        self._bus = bus
        self.accepts = accepts  # (topic, data) -> whether this subscriber takes it; None: everything
        self.items: deque = deque(maxlen=maxlen)
        self.dropped = 0
        self._ready = threading.Event()  # a gevent Event once the process is monkey-patched

    def _put(self, item) -> None:
        if self.accepts is not None and not self.accepts(*item):
            return
        if len(self.items) == self.items.maxlen:
            self.dropped += 1
        self.items.append(item)
        self._ready.set()

    def wait(self, timeout: float) -> list:
        """Block (this greenlet only) until something is published or ``timeout`` passes."""
        if not self.items:
            self._ready.wait(timeout)
        self._ready.clear()
        return self.drain()

    def drain(self) -> list:
        out = list(self.items)
        self.items.clear()
        return out

    def close(self) -> None:
        self._bus._subs.discard(self)


class EventBus:
    def __init__(self, defer=None) -> None:
        self._subs: set[Subscription] = set()
        self._defer = defer  # (seconds, fn) -> runs fn later; None: snapshots go out at once
        self._snapshots: dict[tuple, dict] = {}  # (topic, name) -> the newest not yet delivered
        self.published = 0
        # called with (topic, data) on every publication, before the subscribers' queues: for
        # what must see every event (the webhooks' outbox), where a bounded queue could drop one
        self.taps: list = []

    def subscribe(self, maxlen: int = 1000, accepts=None) -> Subscription:
        sub = Subscription(self, maxlen, accepts)
        self._subs.add(sub)
        return sub

    def publish(self, topic: str, data: dict) -> None:
        self.published += 1
        for tap in self.taps:
            try:
                tap(topic, data)
            except Exception:
                logger.exception("a tap of the event bus failed on %s", topic)
        key = SNAPSHOTS.get(topic)
        if key is not None and self._defer is not None:
            if not self._snapshots:
                self._defer(SNAPSHOT_SECONDS, self._deliver_snapshots)
            self._snapshots.pop((topic, data.get(key)), None)
            self._snapshots[(topic, data.get(key))] = data
            return
        self._deliver((topic, data))

    def _deliver(self, item: tuple) -> None:
        """One tuple for every subscriber: the web streams encode it once (``id`` and all)."""
        for sub in list(self._subs):
            sub._put(item)

    def _deliver_snapshots(self) -> None:
        snapshots, self._snapshots = self._snapshots, {}
        for (topic, _), data in snapshots.items():
            self._deliver((topic, data))
