"""The live state's queues and the event bus's readers are found through indexes (issue 23: for
every AMI event the live state walked every live call, and the bus asked each of 200 agents'
streams whether it wanted each event). The same answers as the scans, for work proportional to
what an event touches."""

from __future__ import annotations

import random

import pytest

from appliance import dialplan_vars as v
from appliance.bus import EventBus, Subscription
from appliance.engine.live import Call, LiveState, Publish
from webui.areas.live import interest, visible

QUEUES = ("sales", "support", "cc-agent-1001")
AGENTS = ("1001", "1002", "1003")


def ev(name, **headers):
    return {"Event": name, **headers}


def random_event(rng: random.Random, n: int) -> dict:
    lid = f"1700000000.{rng.randrange(n)}"
    ids = {"Uniqueid": lid, "Linkedid": lid}
    queue, agent = rng.choice(QUEUES), rng.choice(AGENTS)
    return rng.choice([
        lambda: ev("Newchannel", Channel=f"PJSIP/trunk-pstn-{lid}", CallerIDNum="139", Exten="88001000",
                   Context=v.TRUNK_CONTEXT, **ids),
        lambda: ev("QueueCallerJoin", Queue=queue, **ids),
        lambda: ev("QueueCallerLeave", Queue=queue, **ids),
        lambda: ev("QueueCallerAbandon", Queue=queue, **ids),
        lambda: ev("AgentCalled", Queue=queue, MemberName=agent, Interface=f"PJSIP/{agent}", **ids),
        lambda: ev("AgentRingNoAnswer", Queue=queue, MemberName=agent, Interface=f"PJSIP/{agent}", **ids),
        lambda: ev("AgentConnect", Queue=queue, MemberName=agent, Interface=f"PJSIP/{agent}",
                   DestChannel=f"PJSIP/{agent}-{lid}", **ids),
        lambda: ev("UserEvent", UserEvent=v.QUEUE_EXIT_EVENT, Queue=queue, Status=rng.choice(["TIMEOUT", "CONTINUE"]),
                   **ids),
        lambda: ev("UserEvent", UserEvent=v.ROUTE_EVENT, Rule="vip", Queue=rng.choice(["sales", "support", ""]), **ids),
        lambda: ev("UserEvent", UserEvent=v.FALLBACK_EVENT, Reason="closed", Queue=queue, **ids),
        lambda: ev("UserEvent", UserEvent=v.CONTROL_EVENT, State=rng.choice(["held", "resumed"]), **ids),
        lambda: ev("AgentLogin", Agent=agent, **ids),
        lambda: ev("Hangup", Channel=f"PJSIP/trunk-pstn-{lid}", Cause="16", **ids),
        lambda: ev("QueueMemberAdded", Queue=queue, MemberName=agent, Interface=f"PJSIP/{agent}",
                   StateInterface=f"PJSIP/{agent}", Status="1", Paused="0"),
    ])()


def scanned(state: LiveState) -> dict[str, tuple]:
    """The queues' waiting calls as the live state found them before: every call looked at."""
    waiting: dict[str, list[str]] = {}
    for call in state.calls.values():
        if call.waiting:
            waiting.setdefault(call.queue, []).append(call.linkedid)
    return {name: tuple(sorted(lids)) for name, lids in waiting.items()}


@pytest.mark.parametrize("seed", range(8))
def test_the_queues_waiting_index_gives_what_scanning_every_call_gave(seed):
    rng, state, published = random.Random(seed), LiveState(), {}
    for step in range(600):
        now = 100.0 + step
        if rng.random() < 0.01:
            commands = state.close_calls_not_in({lid for lid in state.calls if rng.random() < 0.5}, now, "interrupted")
        else:
            commands = state.apply(random_event(rng, 12), now)
        waiting = scanned(state)
        assert {q: tuple(sorted(lids)) for q, lids in state.waiting_in.items()} == waiting
        expected = {q for q in set(waiting) | set(published) if waiting.get(q, ()) != published.get(q, ())}
        queue_changes = {c.data["name"]: c.data for c in commands if isinstance(c, Publish) and c.topic == "queue"}
        assert set(queue_changes) == expected, step
        for name in expected:
            published[name] = waiting.get(name, ())
            calls = [state.calls[lid] for lid in waiting.get(name, ())]
            assert queue_changes[name]["waiting"] == len(calls)
            assert queue_changes[name]["longest_wait"] == round(max((now - c.enter_time for c in calls), default=0.0), 1)
        if rng.random() < 0.05:  # a snapshot between events changes nothing of what the next publishes
            state.snapshot(now)


def test_an_event_looks_at_the_calls_it_touches_not_at_every_live_call(monkeypatch):
    state = LiveState()
    for n in range(500):
        lid = f"1700000000.{n}"
        state.apply(ev("Newchannel", Channel=f"PJSIP/trunk-pstn-{n}", Context=v.TRUNK_CONTEXT, Uniqueid=lid,
                       Linkedid=lid), 100.0)
        state.apply(ev("QueueCallerJoin", Queue="sales", Uniqueid=lid, Linkedid=lid), 100.0)
    looked = []
    real = Call.waiting
    monkeypatch.setattr(Call, "waiting", property(lambda call: looked.append(call.linkedid) or real.fget(call)))
    commands = state.apply(ev("AgentConnect", Queue="sales", MemberName="1001", Interface="PJSIP/1001",
                              DestChannel="PJSIP/1001-1", Uniqueid="1700000000.7", Linkedid="1700000000.7"), 101.0)
    assert set(looked) == {"1700000000.7"}  # 500 before: every live call, for every event
    assert [c.data["waiting"] for c in commands if isinstance(c, Publish) and c.topic == "queue"] == [499]


def readers(bus):
    staff = bus.subscribe(interest=interest(None, "sup"))
    alice = bus.subscribe(interest=interest(({"1001"}, {"sales"}), "alice"))
    bob = bus.subscribe(interest=interest(({"1002", "1003"}, set()), "bob"))
    nobody = bus.subscribe(interest=interest(({"1009"}, {"support"}), ""))
    return {"staff": (staff, None, "sup"), "alice": (alice, ({"1001"}, {"sales"}), "alice"),
            "bob": (bob, ({"1002", "1003"}, set()), "bob"), "nobody": (nobody, ({"1009"}, {"support"}), "")}


EVENTS = [("agent", {"name": "1001", "state": "ringing"}), ("agent", {"name": "1002"}), ("agent", {}),
          ("call", {"event": "offered", "agent": "", "offered_to": "1001"}),
          ("call", {"event": "answered", "agent": "1002", "offered_to": "1002"}),
          ("call", {"event": "new", "agent": ""}), ("queue", {"name": "sales", "waiting": 1}),
          ("queue", {"name": "support"}), ("message", {"from": "alice", "to": "sup"}),
          ("message", {"from": "bob", "to": ""}), ("survey", {"score": 1}),
          ("workorder", {"id": 3})]


def test_the_bus_index_delivers_what_each_readers_filter_lets_through():
    bus = EventBus()
    subs = readers(bus)
    for topic, data in EVENTS:
        bus.publish(topic, data)
    for name, (sub, scope, username) in subs.items():
        assert sub.drain() == [(t, d) for t, d in EVENTS if visible(t, d, scope, username)], name


def test_an_event_reaches_its_readers_without_asking_the_others(monkeypatch):
    bus = EventBus()
    agents = [bus.subscribe(interest=interest(({f"{2000 + n}"}, {"sales"}), f"agent{n}")) for n in range(200)]
    put = []
    real = Subscription._put
    monkeypatch.setattr(Subscription, "_put", lambda sub, item: put.append(sub) or real(sub, item))
    bus.publish("call", {"event": "offered", "agent": "", "offered_to": "2007"})
    assert put == [agents[7]]  # 200 filter calls before: one per open stream
    put.clear()
    bus.publish("queue", {"name": "sales", "waiting": 3})
    assert len(put) == 200
    for sub in agents:
        sub.close()
    assert bus._subs == set() and bus._keyed == {"agent": {"name": {}}, "call": {"agent": {}, "offered_to": {}},
                                                  "queue": {"name": {}}, "message": {"from": {}, "to": {}}}
