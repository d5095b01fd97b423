"""The internal event bus: every live state change is published here once, and
anything that shows it (the web UI's live views, later Server-Sent Events) subscribes.
Subscribers get their own bounded queue so a slow reader never blocks the publisher.

Measured with 200 agents' event streams open and calls at 10 per second (bench/mixed_load.py),
the streams took most of the supervisor's processor time: every event woke every reader, and
every change of a queue's waiting calls (two per call) went, as JSON encoded once per reader,
to each of the queue's 200 agents. So a subscriber says which events it takes (``Interest``:
the others never wake it), and snapshot topics (``SNAPSHOTS``: a queue's whole view) reach the
subscribers at most once per ``SNAPSHOT_SECONDS`` per queue, the newest, when the bus is given a
way to act later (``defer``, the appliance's ``gevent.spawn_later``); the taps still see every
one.

A subscriber's ``Interest`` is data, not a function: per topic, the whole topic or the events
whose field (an agent's ``name``, a call's ``agent`` or ``offered_to``, a queue's ``name``) is
one of its values. The bus keeps the subscribers in an index by topic, field and value, so an
event costs the subscribers it reaches, not one filter call per open stream (200 agents'
streams: 200 calls an event before). ``accepts`` (a predicate asked for every event) remains for
a subscriber whose choice the index cannot say.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field

logger = logging.getLogger(__name__)


# topic -> the field naming the thing whose whole view each event of the topic is
SNAPSHOTS = {"queue": "name"}
SNAPSHOT_SECONDS = 0.25


@dataclass(frozen=True)
class Interest:
    """What a subscriber takes. ``topics``: topic -> None for all its events, or {field: values}
    for the events whose ``data[field]`` is one of the values (any of the fields; {} for none of
    the topic's events); ``other_topics``: every event of a topic not named, too."""

    topics: Mapping[str, Mapping[str, Collection] | None] = field(default_factory=dict)
    other_topics: bool = False


EVERYTHING = Interest(other_topics=True)


class Subscription:
    def __init__(self, bus: "EventBus", maxlen: int, accepts=None, interest: Interest = EVERYTHING):
        self._bus = bus
        self.accepts = accepts  # (topic, data) -> whether this subscriber takes it, asked of every event
        self.interest = interest
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
        self._bus._remove(self)


class EventBus:
    def __init__(self, defer=None) -> None:
        self._subs: set[Subscription] = set()
        # the index of the subscribers by what they take (``Interest``)
        self._whole: dict[str, set[Subscription]] = {}  # topic -> who takes all its events
        self._keyed: dict[str, dict[str, dict[object, set[Subscription]]]] = {}  # topic -> field -> value -> who
        self._others: set[Subscription] = set()  # who takes the topics they do not name
        self._asking: set[Subscription] = set()  # who is asked (``accepts``) of every event
        self._defer = defer  # (seconds, fn) -> runs fn later; None: snapshots go out at once
        self._snapshots: dict[tuple, dict] = {}  # (topic, name) -> the newest not yet delivered
        self.published = 0
        # called with (topic, data) on every publication, before the subscribers' queues: for
        # what must see every event (the webhooks' outbox), where a bounded queue could drop one
        self.taps: list = []

    def subscribe(self, maxlen: int = 1000, accepts=None, interest: Interest = EVERYTHING) -> Subscription:
        """A subscriber of what ``interest`` says (everything by default) or, given ``accepts``,
        of the events it accepts."""
        sub = Subscription(self, maxlen, accepts, interest)
        self._subs.add(sub)
        if accepts is not None:
            self._asking.add(sub)
            return sub
        for topic, fields in interest.topics.items():
            if fields is None:
                self._whole.setdefault(topic, set()).add(sub)
                continue
            for name, values in fields.items():
                by_value = self._keyed.setdefault(topic, {}).setdefault(name, {})
                for value in values:
                    by_value.setdefault(value, set()).add(sub)
        if interest.other_topics:
            self._others.add(sub)
        return sub

    def _remove(self, sub: Subscription) -> None:
        if sub not in self._subs:
            return
        self._subs.discard(sub)
        self._asking.discard(sub)
        self._others.discard(sub)
        for topic, fields in sub.interest.topics.items():
            if fields is None:
                self._whole[topic].discard(sub)
                if not self._whole[topic]:
                    del self._whole[topic]
                continue
            for name, values in fields.items():
                by_value = self._keyed[topic][name]
                for value in values:
                    by_value[value].discard(sub)
                    if not by_value[value]:
                        del by_value[value]

    def reaching(self, topic: str, data: dict) -> set[Subscription]:
        """The subscribers an event reaches: looked up, not asked one by one (but ``accepts``)."""
        found = set(self._whole.get(topic, ()))
        for name, by_value in self._keyed.get(topic, {}).items():
            value = data.get(name)
            try:
                found.update(by_value.get(value, ()))
            except TypeError:  # a list or a dict there: never one of a subscriber's values
                pass
        found.update(sub for sub in self._others if topic not in sub.interest.topics)
        found.update(sub for sub in self._asking if sub.accepts(topic, data))
        return found

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
        """One tuple for every subscriber it reaches: the web streams encode it once (``id`` and all)."""
        for sub in self.reaching(*item):
            sub._put(item)

    def _deliver_snapshots(self) -> None:
        snapshots, self._snapshots = self._snapshots, {}
        for (topic, _), data in snapshots.items():
            self._deliver((topic, data))
