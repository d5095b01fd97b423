"""Benchmark: the engine under 50 new calls per second.

The appliance runs with 100,000 customers (a tenth with an account manager, so VIP
routing looks each caller up), a queue that keeps callers with their agent (so every
routing decision also looks up the caller's last agent) over 100,000 call records, 8
auto-answering SIPp agents, and SIPp trunk calls arriving at 50 per second. The calling
number is one of the customers, without an account manager, so the call goes on to the
queue after both lookups. Figures:

- ``fastagi route latency p50/p99``: from FastAGI accepting Asterisk's connection to its
  last answer, for the ``route`` script (blacklist, DID, opening hours, VIP and sticky
  lookups);
- ``call setup latency p50/p99`` (INVITE -> 200 OK) through FastAGI, against the same calls
  through a static dialplan on the same Asterisk in the same run (the ratio);
- ``ami events received``: events our client took in during the run, against what Asterisk
  sent (a second, bare AMI connection counting frames): 1.0 means nothing was lost;
- ``ami ingest capacity``: the bytes that bare connection captured, replayed through our
  decoder and live state as fast as they go, in events per second, against the rate
  Asterisk produced them at 50 calls/s (the ratio is the headroom).

Not a test: it asserts nothing about speed, it measures.
"""

from __future__ import annotations

import datetime as dt
import random
import socket
import sys
import time
from pathlib import Path

import gevent

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

from harness import Phone, TRUNK_IP, wait_until  # noqa: E402

from bench.call_path import STATIC_DIALPLAN, run_calls  # noqa: E402
from bench.common import figure, new_appliance, percentile, write_results  # noqa: E402

DID = "88001000"
STATIC_DID = "77001000"
AGENTS = [str(2001 + i) for i in range(8)]
HISTORY_ROWS = 100_000
CUSTOMERS = 100_000


def configure(app) -> None:
    cfg = app.config
    cfg.create("trunks", {"name": "pstn", "host": TRUNK_IP, "port": 5060, "match": TRUNK_IP}, actor="bench")
    cfg.create("queues", {"name": "bench", "strategy": "rrmemory", "ring_timeout": 10, "sticky_lookback_days": 30,
                          "sticky_min_talk_seconds": 10, "autopause_after": 0}, actor="bench")
    cfg.create("dids", {"number": DID, "queue": "bench"}, actor="bench")
    for ext in AGENTS:
        cfg.create("phones", {"extension": ext, "secret": f"pw-{ext}-bench"}, actor="bench")
        cfg.create("agents", {"number": ext, "name": f"Agent {ext}", "phone": ext}, actor="bench")
        cfg.add_member("bench", ext, actor="bench")


def fill_history(db) -> None:
    """100,000 past calls from 100,000 callers, spread over 60 days."""
    from appliance.db.models import CallRecord

    rng = random.Random(7)
    now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    rows = []
    for i in range(HISTORY_ROWS):
        end = now - dt.timedelta(seconds=rng.randint(60, 60 * 86400))
        talk = rng.randint(0, 600)
        rows.append({"linkedid": f"hist.{i}", "caller": f"139{i:08d}", "did": DID, "queue": "bench",
                     "agent": rng.choice(AGENTS), "enter_time": end - dt.timedelta(seconds=talk + 20),
                     "answer_time": end - dt.timedelta(seconds=talk), "end_time": end, "wait_seconds": 20,
                     "talk_seconds": talk, "disposition": "answered"})
    with db.atomic():
        for start in range(0, len(rows), 5000):
            CallRecord.insert_many(rows[start:start + 5000]).execute()


def fill_customers(db) -> None:
    """100,000 customers with the callers' numbers; every tenth has an account manager
    (never the benchmark's caller, 13900000000, so its calls are not held for the VIP choice)."""
    from appliance.db.models import Agent, Customer

    managers = [a.id for a in Agent.select(Agent.id)]
    rows = [{"name": f"Customer {i}", "phone": f"139{i:08d}", "category": ("retail", "wholesale", "vip")[i % 3],
             "account_manager": managers[i % len(managers)] if i % 10 == 5 else None}
            for i in range(CUSTOMERS)]
    with db.atomic():
        for start in range(0, len(rows), 5000):
            Customer.insert_many(rows[start:start + 5000]).execute()


class BareAmi:
    """A minimal AMI reader on its own connection: what Asterisk sent, frame for frame."""

    def __init__(self, port: int, user: str, secret: str):
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.sock.sendall(f"Action: Login\r\nUsername: {user}\r\nSecret: {secret}\r\nEvents: on\r\n\r\n".encode())
        self.data = bytearray()
        self.counting = False
        self.reader = gevent.spawn(self._read)

    def _read(self) -> None:
        while True:
            chunk = self.sock.recv(65536)
            if not chunk:
                return
            if self.counting:
                self.data += chunk

    def events(self) -> int:
        return bytes(self.data).count(b"\r\nEvent: ") + (1 if bytes(self.data).startswith(b"Event: ") else 0)

    def close(self) -> None:
        self.reader.kill()
        self.sock.close()


def ingest_capacity(raw: bytes) -> tuple[float, int]:
    """Events per second our decoder + live state take in, replaying ``raw``."""
    from appliance.ami.codec import Decoder, Frame
    from appliance.engine.live import LiveState

    decoder, live = Decoder(), LiveState()
    decoder.banner = ""
    started = time.perf_counter()
    events = 0
    for start in range(0, len(raw), 4096):
        for frame in decoder.feed(raw[start:start + 4096]):
            if isinstance(frame, Frame) and frame.kind == "event":
                live.apply(frame.as_dict(), 0.0)
                events += 1
    return events / (time.perf_counter() - started), events


def run(calls: int = 500, rate: float = 50.0) -> Path:
    from appliance.main import AMI_USER

    app, settings, work = new_appliance("engine")
    phones, bare = [], None
    try:
        configure(app)
        fill_history(app.db)
        fill_customers(app.db)
        custom = settings.asterisk_dir / "etc" / "custom"
        custom.mkdir(parents=True, exist_ok=True)
        (custom / "extensions.conf").write_text(STATIC_DIALPLAN)
        app.start(web=False)
        wait_until(lambda: app.ami.connected, 30, "AMI")
        for ext in AGENTS:
            phones.append(Phone(ext, f"pw-{ext}-bench", ("127.0.0.1", settings.sip_port), work / "sipp",
                                ring_ms=0, calls=calls * 2).start())
            app.agents.login(ext)
        wait_until(lambda: all(app.live.agents.get(a) and app.live.agents[a].state == "free" for a in AGENTS),
                   20, "agents free")
        baseline = run_calls(app, STATIC_DID, calls, rate, work / "sipp")
        bare = BareAmi(settings.ami_port, AMI_USER, app.secrets["ami_secret"])
        gevent.sleep(1)
        app.agi.latency.clear()
        events_before = app.ami.stats.events + app.ami.stats.list_events
        bare.counting = True
        started = time.monotonic()
        ours = run_calls(app, DID, calls, rate, work / "sipp")
        wait_until(lambda: not app.live.calls, 60, "every call ended")
        gevent.sleep(1)
        elapsed = time.monotonic() - started
        bare.counting = False
        received = app.ami.stats.events + app.ami.stats.list_events - events_before
        sent = bare.events()
        raw = bytes(bare.data)
        route_ms = [s * 1000 for script, s in app.agi.latency if script == "route"]
    finally:
        if bare is not None:
            bare.close()
        for phone in phones:
            phone.stop()
        app.stop()

    capacity, replayed = ingest_capacity(raw)
    produced_rate = sent / elapsed if elapsed else 0.0
    figures = [
        figure("fastagi route latency p50", percentile(route_ms, 50), "ms", calls=len(route_ms),
               customers=CUSTOMERS, history_rows=HISTORY_ROWS, offered_rate=rate),
        figure("fastagi route latency p99", percentile(route_ms, 99), "ms", calls=len(route_ms),
               customers=CUSTOMERS, history_rows=HISTORY_ROWS, offered_rate=rate),
        figure("call setup latency p50 at 50 calls/s", percentile(ours["latencies_ms"], 50), "ms",
               percentile(baseline["latencies_ms"], 50)),
        figure("call setup latency p99 at 50 calls/s", percentile(ours["latencies_ms"], 99), "ms",
               percentile(baseline["latencies_ms"], 99)),
        figure("failed calls at 50 calls/s", ours["failed"] if ours["failed"] is not None else -1, "calls",
               baseline["failed"]),
        figure("ami events received", received, "events", sent),
        figure("ami ingest capacity", capacity, "events/s", produced_rate, replayed_events=replayed),
    ]
    return write_results("engine", figures)


if __name__ == "__main__":
    from gevent import monkey

    monkey.patch_all()
    print(run())
