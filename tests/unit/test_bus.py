"""The event bus under many readers: a subscriber is woken only by what it takes, a queue's
snapshots reach the readers at most once per SNAPSHOT_SECONDS (the newest), the taps see every
event, and a web stream encodes an event once for all its readers (issue 23, the mixed load)."""

from appliance import bus as bus_mod
from appliance.bus import EventBus
from webui.areas import live


class Later:
    """``defer`` that runs when told: the test is the clock."""

    def __init__(self):
        self.due = []

    def __call__(self, seconds, fn):
        self.due.append((seconds, fn))

    def run(self):
        due, self.due = self.due, []
        for _, fn in due:
            fn()


def test_a_subscriber_takes_only_what_it_accepts():
    bus = EventBus()
    mine = bus.subscribe(accepts=lambda topic, data: data.get("offered_to") == "2001")
    everything = bus.subscribe()
    bus.publish("call", {"event": "offered", "offered_to": "2002"})
    assert not mine.items and not mine._ready.is_set()  # never woken for another agent's call
    bus.publish("call", {"event": "offered", "offered_to": "2001"})
    assert mine.drain() == [("call", {"event": "offered", "offered_to": "2001"})]
    assert len(everything.drain()) == 2


def test_queue_snapshots_are_coalesced_per_queue_and_taps_see_every_one():
    later, tapped = Later(), []
    bus = EventBus(defer=later)
    bus.taps.append(lambda topic, data: tapped.append(data))
    sub = bus.subscribe()
    for waiting in range(1, 6):
        bus.publish("queue", {"name": "sales", "waiting": waiting})
    bus.publish("queue", {"name": "support", "waiting": 1})
    bus.publish("call", {"event": "offered", "offered_to": "2001"})
    assert sub.drain() == [("call", {"event": "offered", "offered_to": "2001"})]  # a pop is not held back
    assert [s for s, _ in later.due] == [bus_mod.SNAPSHOT_SECONDS]  # one timer for the whole bus
    later.run()
    assert sub.drain() == [("queue", {"name": "sales", "waiting": 5}), ("queue", {"name": "support", "waiting": 1})]
    assert len(tapped) == 7
    bus.publish("queue", {"name": "sales", "waiting": 4})
    assert len(later.due) == 1  # the next change starts the next period


def test_without_defer_snapshots_go_out_at_once():
    bus = EventBus()
    sub = bus.subscribe()
    bus.publish("queue", {"name": "sales", "waiting": 1})
    bus.publish("queue", {"name": "sales", "waiting": 2})
    assert [d["waiting"] for _, d in sub.drain()] == [1, 2]


def test_an_event_is_encoded_once_for_every_stream(monkeypatch):
    bus, dumps = EventBus(), []
    real = live.json.dumps
    monkeypatch.setattr(live.json, "dumps", lambda *a, **k: dumps.append(1) or real(*a, **k))
    subs = [bus.subscribe() for _ in range(50)]
    streams = [live.event_stream(s, None, 60) for s in subs]
    for stream in streams:
        assert next(stream) == "retry: 2000\n\n"
    bus.publish("queue", {"name": "sales", "waiting": 3})
    bus.publish("agent", {"name": "2001", "state": "free"})
    texts = [next(stream) for stream in streams]
    assert len(dumps) == 2
    assert set(texts) == {'event: queue\ndata: {"name": "sales", "waiting": 3}\n\n'
                          'event: agent\ndata: {"name": "2001", "state": "free"}\n\n'}
