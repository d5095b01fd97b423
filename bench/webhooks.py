"""Benchmark: does a webhook backlog slow the calls? (issue 22 point 4)

One appliance (in this process, with its Asterisk, its FastAGI server and its webhook
worker started as ``make run`` starts them: ``app.start``), a trunk, a queue ``bench`` and
DID 88001000.  This process speaks FastAGI to it (the ``route`` script, as Asterisk does for
every inbound call, answering each command ``200 result=1``) every ``AGI_INTERVAL`` seconds
in each phase of the same run:

- ``none``: no subscription, nothing pending: the baseline;
- ``backlog``: ``BACKLOG`` (1,000) deliveries pending to a receiver that accepts the
  connection and never answers (the worker waits its 10 s timeout, again and again);
  ``none`` and ``backlog`` take turns, ``ROUNDS`` times ``PHASE_SECONDS`` each, so that what
  else runs on the machine weighs on both alike;
- ``drain``: ``BACKLOG`` deliveries to a receiver that answers ``204`` at once, timed until
  the worker has sent them all (its SQLite reads and writes, its HTTP).

Figures: ``webhook backlog fastagi p99 ratio`` (FastAGI ``route`` p99 with the backlog
pending over the p99 with none; 1.0 means unchanged), the same for the drain, each phase's
route p50/p99 (the server's own timing, accept to last answer, as ``engine`` reports it) and
first-answer p99 seen by the client, the loop's worst lateness (``bench/loopwatch.py``: a
greenlet asking to wake every 10 ms, and the stacks that held the loop 20 ms or more, as the
mixed load reports them), and what the worker did in the phase (tries, delivered, still pending).

Not a test: it asserts nothing about speed, it measures.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import gevent
from gevent.server import StreamServer

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

from harness import wait_until  # noqa: E402

from bench.call_path import configure  # noqa: E402
from bench.common import figure, median, new_appliance, percentile, write_results  # noqa: E402
from bench.loopwatch import LoopWatch  # noqa: E402
from bench.web_flood import DID, FastAgiClient  # noqa: E402

BACKLOG = 1000
AGI_INTERVAL = 0.02
PHASE_SECONDS = 10.0
ROUNDS = 3
TICK = 0.01


class Receivers:
    """Two webhook receivers on loopback: ``dead`` accepts every connection and never answers
    (it reads and holds until the sender gives up); ``quick`` answers 204 to every POST."""

    def __init__(self):
        self.dead_connections = 0
        self.dead_open = 0
        self.quick_requests = 0
        self.dead = StreamServer(("127.0.0.1", 0), self._hold)
        self.quick = StreamServer(("127.0.0.1", 0), self._answer)
        self.dead.start()
        self.quick.start()

    def url(self, server) -> str:
        return f"http://127.0.0.1:{server.server_port}/hooks"

    def _hold(self, sock, _peer):
        self.dead_connections += 1
        self.dead_open += 1
        try:
            while sock.recv(65536):
                pass
        finally:
            self.dead_open -= 1

    def _answer(self, sock, _peer):
        data = b""
        while True:  # a keep-alive-less HTTP/1.1 server: one request, one answer
            while b"\r\n\r\n" not in data:
                chunk = sock.recv(65536)
                if not chunk:
                    return
                data += chunk
            head, _, rest = data.partition(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            while len(rest) < length:
                chunk = sock.recv(65536)
                if not chunk:
                    return
                rest += chunk
            self.quick_requests += 1
            sock.sendall(b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n")
            return

    def stop(self):
        self.dead.stop(timeout=1)
        self.quick.stop(timeout=1)


def phase(app, seconds: float, done=lambda: True) -> dict:
    """FastAGI ``route`` requests every ``AGI_INTERVAL`` s for ``seconds`` (and until ``done()``),
    and when they ran (the window of the loop's watch to read)."""
    agi = FastAgiClient(app.settings.agi_port)
    started = time.monotonic()
    deadline = started + seconds
    until = lambda: time.monotonic() > deadline and done()  # noqa: E731
    app.agi.latency.clear()
    agi.every(AGI_INTERVAL, until)
    route = [s * 1000 for script, s in app.agi.latency if script == "route"]
    return {"route_ms": route, "first_answer_ms": [s * 1000 for s in agi.latencies], "failed": len(agi.failures),
            "windows": [(started, time.monotonic())]}


def lateness_figure(name: str, watch: LoopWatch, windows) -> dict:
    """The loop's worst lateness in a phase's windows, with its p99 and what held the loop."""
    loop = watch.summary_over(windows)
    return figure(f"webhook {name} loop lateness max", loop["late_max_ms"], "ms", p99=loop["late_p99_ms"],
                  tick_ms=loop["tick_ms"], loop=loop)


def queue_backlog(hooks, url: str, n: int = BACKLOG) -> int:
    """A subscription to ``url`` and ``n`` call.ended events for it (n calls), as the bus tap
    would queue them; the subscription's id."""
    sub = hooks.create("bench", url, ["call.ended"])
    with hooks.db.atomic():
        for i in range(n):
            hooks.emit("call.ended", {"linkedid": f"bench.{i}", "caller": "13912345678", "agent": "2001",
                                      "queue": "bench", "talk_seconds": 42.0}, order_key=f"bench.{i}")
    return sub["id"]


def counts(sub_id: int) -> dict:
    """What the worker did for a subscription: tries, delivered, pending, and the seconds
    from the first event queued to the last delivered."""
    from peewee import fn

    from appliance.db import models as m

    rows = m.WebhookDelivery.select().where(m.WebhookDelivery.subscription == sub_id)
    first, last = rows.select(fn.MIN(m.WebhookDelivery.created_at), fn.MAX(m.WebhookDelivery.done_at)).scalar(
        as_tuple=True)
    return {"pending": rows.where(m.WebhookDelivery.state == "pending").count(),
            "delivered": rows.where(m.WebhookDelivery.state == "delivered").count(),
            "tries": sum(r.attempts for r in rows),
            "seconds": round(last - first, 2) if first is not None and last is not None else None}


def pending(sub_id: int) -> bool:
    from appliance.db import models as m

    return m.WebhookDelivery.select().where(m.WebhookDelivery.subscription == sub_id,
                                            m.WebhookDelivery.state == "pending").exists()


def merged(phases: list[dict]) -> dict:
    return {k: [v for p in phases for v in p[k]] if isinstance(phases[0][k], list) else sum(p[k] for p in phases)
            for k in phases[0]}


def run(seconds: float = PHASE_SECONDS, rounds: int = ROUNDS) -> Path:
    from appliance.services.webhooks import UrlGuard

    app, settings, work = new_appliance("webhooks")
    receivers = Receivers()
    nones, backlogs, tried = [], [], {"tries": 0, "pending_at_end": [], "connections": 0}
    loop = None
    try:
        configure(app, did=DID, agents=[])
        # the receivers listen on loopback, which the appliance refuses in production
        app.webhooks.guard = UrlGuard(allowed=("127.0.0.0/8",))
        app.start(web=False)
        wait_until(lambda: app.ami.connected, 30, "AMI")
        gevent.sleep(2)  # Asterisk's and AMI's own start settles
        loop = LoopWatch(tick=TICK).start()  # the supervisor's loop: this process's
        # none and backlog in turns, so that what else runs on the machine weighs on both alike
        for _ in range(rounds):
            wait_until(lambda: receivers.dead_open == 0, 30, "the worker done with the dead receiver")
            nones.append(phase(app, seconds))
            seen = receivers.dead_connections
            dead = queue_backlog(app.webhooks, receivers.url(receivers.dead))
            wait_until(lambda: receivers.dead_connections > seen, 10, "the worker's first try")
            backlogs.append(phase(app, seconds))
            done = counts(dead)
            tried["tries"] += done["tries"]
            tried["pending_at_end"].append(done["pending"])
            app.webhooks.delete("bench", dead)
        tried["connections"] = receivers.dead_connections
        wait_until(lambda: receivers.dead_open == 0, 30, "the worker done with the dead receiver")
        quick = queue_backlog(app.webhooks, receivers.url(receivers.quick))
        state = {"left": True}

        def watch():  # cheap: one indexed query every half second
            while state["left"]:
                gevent.sleep(0.5)
                state["left"] = pending(quick)
        watcher = gevent.spawn(watch)
        drain = phase(app, 1.0, done=lambda: not state["left"])
        watcher.kill()
        drain_counts = counts(quick)
    finally:
        if loop is not None:
            loop.stop()
        receivers.stop()
        app.stop()

    none, backlog = merged(nones), merged(backlogs)
    base = percentile(none["route_ms"], 99)
    common = {"backlog": BACKLOG, "agi_interval_s": AGI_INTERVAL, "phase_s": seconds, "rounds": rounds}
    figures = [
        figure("webhook backlog fastagi p99 ratio", percentile(backlog["route_ms"], 99) / base, "ratio",
               receiver="accepts, never answers", **common, **tried,
               per_round=[round(percentile(b["route_ms"], 99) / percentile(n["route_ms"], 99), 3)
                          for n, b in zip(nones, backlogs)]),
        figure("webhook drain fastagi p99 ratio", percentile(drain["route_ms"], 99) / base, "ratio",
               receiver="answers 204 at once", backlog=BACKLOG, **drain_counts),
        figure("webhook drain rate", drain_counts["delivered"] / (drain_counts["seconds"] or float("nan")),
               "deliveries/s", **drain_counts),
    ]
    for name, p in (("none", none), ("backlog", backlog), ("drain", drain)):
        figures += [
            figure(f"webhook {name} fastagi route p50", median(p["route_ms"]), "ms", requests=len(p["route_ms"]),
                   failed=p["failed"]),
            figure(f"webhook {name} fastagi route p99", percentile(p["route_ms"], 99), "ms",
                   baseline=None if name == "none" else base, requests=len(p["route_ms"])),
            figure(f"webhook {name} fastagi first answer p99", percentile(p["first_answer_ms"], 99), "ms"),
            lateness_figure(name, loop, p["windows"]),
        ]
    return write_results("webhooks", figures)


if __name__ == "__main__":
    from gevent import monkey

    monkey.patch_all()
    print(run(float(sys.argv[1]) if len(sys.argv) > 1 else PHASE_SECONDS).read_text())
