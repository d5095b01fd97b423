"""The internal event bus: every live state change is published here once, and
anything that shows it (the web UI's live views, later Server-Sent Events) subscribes.
Subscribers get their own bounded queue so a slow reader never blocks the publisher.
"""

from __future__ import annotations

import logging
import threading
from collections import deque

logger = logging.getLogger(__name__)


class Subscription:
    def __init__(self, bus: "EventBus", maxlen: int):
        self._bus = bus
        self.items: deque = deque(maxlen=maxlen)
        self.dropped = 0
        self._ready = threading.Event()  # a gevent Event once the process is monkey-patched

    def _put(self, item) -> None:
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
    def __init__(self) -> None:
        self._subs: set[Subscription] = set()
        self.published = 0
        # called with (topic, data) on every publication, before the subscribers' queues: for
        # what must see every event (the webhooks' outbox), where a bounded queue could drop one
        self.taps: list = []

    def subscribe(self, maxlen: int = 1000) -> Subscription:
        sub = Subscription(self, maxlen)
        self._subs.add(sub)
        return sub

    def publish(self, topic: str, data: dict) -> None:
        self.published += 1
        for tap in self.taps:
            try:
                tap(topic, data)
            except Exception:
                logger.exception("a tap of the event bus failed on %s", topic)
        for sub in list(self._subs):
            sub._put((topic, data))
