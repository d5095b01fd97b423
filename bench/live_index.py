"""Micro-benchmark: the live state's waiting index and the event bus's index of readers (issue 23).

Before, ``LiveState._queue_changes`` walked every live call for every AMI event it applied, and
``EventBus`` asked every subscriber's filter about every event (200 agents' streams: 200 calls
an event). Both now look up what an event touches. This measures the two against the code they
replaced, in the same run: that code is read from git (``BEFORE``, the commit before the change)
and loaded beside the current one, and both are fed the same events in turns.

- ``live state apply per event``: ``LiveState.apply`` over a stream of queue calls (join, ring,
  answer, leave, hang up) with ``LIVE_CALLS`` calls live at once, 200 agents in two queues;
- ``event bus publish per event``: the ``Publish`` commands of that stream, published to 200
  agents' streams (each its own agent, its queue) and 2 supervisors', subscribed the way
  ``GET /api/v1/events`` subscribes (a filter function before, an ``Interest`` now).

Figures in microseconds per event; ``ratio`` is now over before (less than 1: faster). Not a
test: it measures. ``python -m bench.live_index [live_calls] [events]``.
"""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import time
import types
from pathlib import Path

from appliance import bus as bus_now
from appliance import dialplan_vars as v
from appliance.engine import live as live_now
from bench.common import figure, median, write_results
from webui.areas.live import interest, visible

REPO = Path(__file__).resolve().parent.parent
BEFORE = "c79e314"  # main before the indexes (tidy8)
LIVE_CALLS = 150
EVENTS = 30_000
AGENTS = [str(2000 + n) for n in range(200)]
ROUNDS = 5


def before(module: str, path: str) -> types.ModuleType:
    """``path`` as it was at ``BEFORE``, loaded as a module of its own."""
    source = subprocess.run(["git", "show", f"{BEFORE}:{path}"], cwd=REPO, check=True, capture_output=True,
                            text=True).stdout
    mod = types.ModuleType(module)
    mod.__file__ = f"{BEFORE}:{path}"
    sys.modules[module] = mod  # dataclasses look their module up
    exec(compile(source, mod.__file__, "exec"), mod.__dict__)
    return mod


def ev(name, **headers):
    return {"Event": name, **headers}


def call_stream(live_calls: int, events: int) -> list[dict]:
    """Queue calls in turn, ``live_calls`` of them live at once: each joins, rings an agent, is
    answered, leaves the queue, and hangs up ``live_calls`` calls later (about a third of the
    live ones are waiting at any time)."""
    out: list[dict] = []
    for n, agent in enumerate(AGENTS):
        out.append(ev("QueueMemberAdded", Queue="sales" if n % 2 else "support", MemberName=agent,
                      Interface=f"PJSIP/{agent}", StateInterface=f"PJSIP/{agent}", Status="1", Paused="0"))
    steps = []
    n = 0
    while len(out) + sum(len(s) for s in steps) < events:
        lid = f"1700000000.{n}"
        ids = {"Uniqueid": lid, "Linkedid": lid}
        agent, queue = AGENTS[n % len(AGENTS)], "sales" if n % 2 else "support"
        steps.append([
            ev("Newchannel", Channel=f"PJSIP/trunk-pstn-{n:08x}", CallerIDNum=f"139{n:08d}", Exten="88001000",
               Context=v.TRUNK_CONTEXT, **ids),
            ev("QueueCallerJoin", Queue=queue, **ids),
            ev("AgentCalled", Queue=queue, MemberName=agent, Interface=f"PJSIP/{agent}", **ids),
            ev("AgentConnect", Queue=queue, MemberName=agent, Interface=f"PJSIP/{agent}",
               DestChannel=f"PJSIP/{agent}-{n:08x}", **ids),
            ev("QueueCallerLeave", Queue=queue, **ids),
            ev("Hangup", Channel=f"PJSIP/trunk-pstn-{n:08x}", Cause="16", **ids),
        ])
        n += 1
    # interleave: call k's steps spread so that live_calls calls overlap
    spread = max(1, live_calls // 6)
    timeline: dict[int, list[dict]] = {}
    for k, call in enumerate(steps):
        for i, step in enumerate(call):
            timeline.setdefault(k + i * spread, []).append(step)
    for slot in sorted(timeline):
        out += timeline[slot]
    return out[:events]


def timed(fn, *args):
    """(seconds, result) of ``fn(*args)`` with the garbage collector off, as ``timeit`` does:
    its passes over everything the run keeps (the commands, the stream) were most of the time."""
    gc.collect()
    gc.disable()
    try:
        started = time.perf_counter()
        result = fn(*args)
        return time.perf_counter() - started, result
    finally:
        gc.enable()


def apply_all(module, stream: list[dict]) -> tuple[list, int]:
    """The stream applied to a new live state: the commands, the most calls live at once."""
    state, commands, most = module.LiveState(), [], 0
    for k, event in enumerate(stream):
        commands += state.apply(event, 1000.0 + k * 0.01)
        if not k % 512:
            most = max(most, len(state.calls))
    return commands, most


def readers(bus, old: bool) -> list:
    scopes = [(None, "sup1"), (None, "sup2")] + [(({a}, {"sales" if n % 2 else "support"}), f"agent{a}")
                                                 for n, a in enumerate(AGENTS)]
    if old:
        return [bus.subscribe(maxlen=100_000, accepts=lambda t, d, s=s, u=u: visible(t, d, s, u)) for s, u in scopes]
    return [bus.subscribe(maxlen=100_000, interest=interest(s, u)) for s, u in scopes]


def publish_all(bus, items: list[tuple]) -> None:
    for topic, data in items:
        bus.publish(topic, data)


def time_bus(module, items: list[tuple], old: bool) -> tuple[float, int]:
    bus = module.EventBus()  # no defer: every queue snapshot delivered, as the streams' worst case
    subs = readers(bus, old)
    seconds, _ = timed(publish_all, bus, items)
    return seconds, sum(len(s.drain()) for s in subs)


def run(live_calls: int = LIVE_CALLS, events: int = EVENTS, rounds: int = ROUNDS) -> Path:
    live_before, bus_before = before("live_before", "appliance/engine/live.py"), before("bus_before", "appliance/bus.py")
    stream = call_stream(live_calls, events)
    load_before = os.getloadavg()
    live_s: dict[str, list[float]] = {"now": [], "before": []}
    bus_s: dict[str, list[float]] = {"now": [], "before": []}
    published = {}
    for _ in range(rounds):  # in turns, so that what else runs on the machine weighs on both alike
        for name, module in (("before", live_before), ("now", live_now)):
            seconds, (commands, most) = timed(apply_all, module, stream)
            live_s[name].append(seconds)
            published[name] = [(c.topic, c.data) for c in commands if type(c).__name__ == "Publish"]
    assert published["now"] == published["before"], "the two live states published different changes"
    items = published["now"]
    delivered = {}
    for _ in range(rounds):
        for name, module in (("before", bus_before), ("now", bus_now)):
            seconds, delivered[name] = time_bus(module, items, old=name == "before")
            bus_s[name].append(seconds)
    assert delivered["now"] == delivered["before"], "the two buses delivered different counts"
    load_after = os.getloadavg()
    per_event = {k: [s / len(stream) * 1e6 for s in v] for k, v in live_s.items()}
    per_publish = {k: [s / len(items) * 1e6 for s in v] for k, v in bus_s.items()}
    common = {"rounds": rounds, "before": BEFORE, "load_before": [round(x, 2) for x in load_before],
              "load_after": [round(x, 2) for x in load_after]}
    figures = [
        figure("live state apply per event", median(per_event["now"]), "us", baseline=median(per_event["before"]),
               events=len(stream), live_calls_at_most=most, agents=len(AGENTS),
               per_round_now=[round(x, 2) for x in per_event["now"]],
               per_round_before=[round(x, 2) for x in per_event["before"]], **common),
        figure("event bus publish per event", median(per_publish["now"]), "us",
               baseline=median(per_publish["before"]), published=len(items), streams=len(AGENTS) + 2,
               delivered=delivered["now"], per_round_now=[round(x, 2) for x in per_publish["now"]],
               per_round_before=[round(x, 2) for x in per_publish["before"]], **common),
    ]
    return write_results("live-index", figures)


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:3]]
    print(run(*args).read_text())
