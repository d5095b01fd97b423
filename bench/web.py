"""Benchmark: the web UI under a call center's day (issue 4.8).

The web UI runs in its own process, as in the appliance (``make_app`` over a real SQLite
file, served by gevent's WSGIServer), with 100,000 customers, 200 agents each with their
own web account, 20,000 call records from today and a live state of 200 signed-in agents
and 40 calls. This process connects 200 agent event streams (``GET /api/v1/events`` with
each agent's token, so each stream is filtered to its agent as in real life), then the
web process puts call ``offered`` events on its event bus (the screen pop: each goes
through the appliance's customer lookup, ``services.callers.with_customer``, then
``EventBus.publish``) for random agents at a steady rate, and writes a call record every
half second (so the wallboard's figures are counted again). Meanwhile a supervisor loads
pages one after the other. Figures:

- ``screen pop latency p50/p99``: from the moment the web process takes the event (before
  the customer lookup) to the moment this process has read its ``data:`` line from the
  agent's stream (same machine, same clock);
- ``screen pops received``: of those published, how many reached their agent's stream;
- ``page latency p50/p99`` of ``/wallboard``, ``GET /api/v1/wallboard``, ``/customers``
  (first page of 100,000) and ``/customers?q=1391`` (a part of a phone number), each request
  from sending it to the last byte, while the pops flow.

Not a test: it asserts nothing about speed, it measures.
"""

from __future__ import annotations

if __name__ == "__main__":  # the web process, or this benchmark alone: gevent before anything else
    from gevent import monkey

    monkey.patch_all()

import datetime as dt
import http.client
import json
import random
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

import gevent

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

from bench.common import figure, median, percentile, write_results  # noqa: E402

AGENTS = 200
TODAY_RECORDS = 20_000
LIVE_CALLS = 40
POPS = 600
RATE = 20.0  # screen pops per second
PASSWORD = "bench-password-1"
PAGES = ("/wallboard", "/api/v1/wallboard", "/customers", "/customers?q=1391")


# -- the web process ---------------------------------------------------------------------
def seed(db, work: Path):
    """Configuration, accounts, customers and today's call records; returns the live state."""
    from appliance.db import models as m
    from appliance.engine.live import LiveState
    from appliance.services.config import ConfigService
    from appliance.services.users import UserService, hash_password
    from bench.engine import fill_customers

    users = UserService(db)
    users.create("sup", PASSWORD, "supervisor", language="zh_CN")
    digest = hash_password(PASSWORD)  # one scrypt for 200 accounts: the benchmark is not about sign-in
    numbers = [str(3001 + i) for i in range(AGENTS)]
    m.User.insert_many([{"username": f"agent{n}", "password_hash": digest, "role": "agent", "language": "zh_CN"}
                        for n in numbers]).execute()
    cfg = ConfigService(db)
    for queue in ("sales", "support", "complaints"):
        cfg.create("queues", {"name": queue}, actor="bench")
    cfg.create("trunks", {"name": "pstn", "host": "192.0.2.1", "max_channels": 120}, actor="bench")
    for i, n in enumerate(numbers):
        cfg.create("agents", {"number": n, "name": f"坐席 {n}", "user": f"agent{n}"}, actor="bench")
        cfg.add_member(("sales", "support", "complaints")[i % 3], n, actor="bench")
    tokens = {n: users.create_token(m.User.get(m.User.username == f"agent{n}").id, "bench") for n in numbers}
    (work / "tokens.json").write_text(json.dumps(tokens))
    fill_customers(db)
    start = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None) - dt.timedelta(hours=6)
    rng = random.Random(4)
    rows = [{"linkedid": f"today.{i}", "caller": f"139{rng.randrange(100_000):08d}", "direction": "inbound",
             "queue": ("sales", "support", "complaints")[i % 3], "agent": rng.choice(numbers),
             "enter_time": start + dt.timedelta(seconds=i), "wait_seconds": rng.uniform(0, 60),
             "talk_seconds": 120, "disposition": "abandoned" if i % 9 == 0 else "answered"} for i in range(TODAY_RECORDS)]
    for row in rows:
        row["answer_time"] = None if row["disposition"] == "abandoned" else row["enter_time"]
        row["end_time"] = row["enter_time"] + dt.timedelta(seconds=180)
    with db.atomic():
        for i in range(0, len(rows), 5000):
            m.CallRecord.insert_many(rows[i:i + 5000]).execute()
    live = LiveState()
    now = time.time()
    for i, n in enumerate(numbers):
        live.apply({"Event": "QueueMemberAdded", "Queue": ("sales", "support", "complaints")[i % 3],
                    "MemberName": n, "Interface": f"PJSIP/{n}", "Status": "1", "Paused": "0"}, now)
    for c in range(LIVE_CALLS):
        lid = f"live.{c}"
        live.apply({"Event": "Newchannel", "Channel": f"PJSIP/trunk-pstn-{c:08x}", "Uniqueid": lid,
                    "Linkedid": lid, "CallerIDNum": f"139{c:08d}", "Exten": "88001000",
                    "Context": "cc-from-trunk"}, now - 60)
        live.apply({"Event": "QueueCallerJoin", "Uniqueid": lid, "Linkedid": lid, "Queue": "sales"}, now - 59)
        if c % 4:
            live.apply({"Event": "AgentConnect", "Uniqueid": lid, "Linkedid": lid, "Queue": "sales",
                        "MemberName": numbers[c], "Interface": f"PJSIP/{numbers[c]}",
                        "DestChannel": f"PJSIP/{numbers[c]}-{c:08x}"}, now - 50)
    return live, numbers


def publish_pops(bus, db, numbers: list[str], pops: int, rate: float) -> None:
    """The screen pops, as the appliance makes them: customer lookup, then the bus."""
    from appliance.db.models import CallRecord
    from appliance.services.callers import with_customer

    rng = random.Random(9)
    db.connect(reuse_if_open=True)  # this greenlet's own connection, as a request's
    started = time.monotonic()
    for i in range(pops):
        gevent.sleep(max(0.0, started + i / rate - time.monotonic()))
        data = {"event": "offered", "linkedid": f"pop.{i}", "caller": f"139{rng.randrange(100_000):08d}",
                "did": "88001000", "queue": "sales", "agent": "", "offered_to": numbers[i % len(numbers)],
                "state": "ringing", "published_at": time.time()}
        bus.publish("call", with_customer("call", data))
        if i % max(1, int(rate / 2)) == 0:  # a call ended: the wallboard's figures change
            now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
            CallRecord.create(linkedid=f"ended.{i}", queue="sales", direction="inbound", enter_time=now,
                              answer_time=now, end_time=now, wait_seconds=5, disposition="answered")


def serve(work: Path) -> None:
    """The web process: seeds, serves, and publishes when ``work/go`` appears."""
    from gevent.pywsgi import WSGIServer

    from appliance.bus import EventBus
    from appliance.db import open_database
    from appliance.db.migrate import migrate
    from appliance.services.config import ConfigService
    from appliance.services.users import UserService
    from webdeps import fill
    from webharness import Agents
    from webui.app import WebDeps, make_app

    db = open_database(work / "web.db")
    migrate(db)
    live, numbers = seed(db, work)
    bus = EventBus()
    deps = WebDeps(db=db, config=ConfigService(db), users=UserService(db), agents=Agents(),
                   health=lambda: {"status": "ok", "components": {}}, live=lambda: live.snapshot(time.time()),
                   bus=bus, extra={"timezone": "Asia/Shanghai"})
    fill(deps)  # the services the composition root builds, as the tests' web UI has them
    app = make_app(deps)
    db.close()
    server = WSGIServer(("127.0.0.1", 0), app, log=None)
    server.start()
    print(json.dumps({"port": server.server_port}), flush=True)
    go = work / "go"
    while not go.exists():
        gevent.sleep(0.05)
    plan = json.loads(go.read_text())
    publish_pops(bus, db, numbers, plan["pops"], plan["rate"])
    (work / "published").write_text(str(plan["pops"]))
    gevent.sleep(3600)  # until the benchmark stops this process


# -- this process: the agents' streams and the supervisor's pages --------------------------
class Stream:
    """One agent's ``/api/v1/events``: records how long each call event took to arrive."""

    def __init__(self, port: int, token: str, source: str | None = None):
        self.sock = socket.create_connection(("127.0.0.1", port), source_address=(source, 0) if source else None)
        self.sock.sendall(f"GET /api/v1/events HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer {token}\r\n"
                          f"Accept: text/event-stream\r\n\r\n".encode())
        self.file = self.sock.makefile("rb")
        self.latencies: list[float] = []
        self.connected = False

    def read(self) -> None:
        topic = ""
        for raw in self.file:
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            if line.startswith("retry:"):
                self.connected = True
            elif line.startswith("event: "):
                topic = line[7:]
            elif line.startswith("data: ") and topic == "call":
                data = json.loads(line[6:])
                if "published_at" in data:
                    self.latencies.append((time.time() - data["published_at"]) * 1000)

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass


def sign_in(port: int) -> str:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("POST", "/login", body=urlencode({"username": "sup", "password": PASSWORD, "next": "/"}),
                 headers={"Content-Type": "application/x-www-form-urlencoded"})
    res = conn.getresponse()
    res.read()
    cookie = res.getheader("Set-Cookie", "").split(";", 1)[0]
    if res.status != 303 and res.status != 302 or not cookie:
        raise RuntimeError(f"the supervisor could not sign in: {res.status}")
    return cookie


def load_pages(port: int, cookie: str, until, timings: dict[str, list[float]]) -> None:
    """The supervisor's pages one after the other, over one keep-alive connection."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    while not until():
        for path in PAGES:
            started = time.perf_counter()
            conn.request("GET", path, headers={"Cookie": cookie, "Accept": "text/html,application/json"})
            res = conn.getresponse()
            body = res.read()
            elapsed = (time.perf_counter() - started) * 1000
            if res.status != 200 or not body:
                raise RuntimeError(f"GET {path}: {res.status}")
            timings[path].append(elapsed)


def run(pops: int = POPS, rate: float = RATE) -> Path:
    work = Path(tempfile.mkdtemp(prefix="bench-web-"))
    child = subprocess.Popen([sys.executable, "-m", "bench.web", "serve", str(work)], cwd=REPO,
                             stdout=subprocess.PIPE, text=True)
    streams: list[Stream] = []
    try:
        seeded = time.monotonic()
        port = json.loads(child.stdout.readline())["port"]
        seed_seconds = time.monotonic() - seeded
        tokens = json.loads((work / "tokens.json").read_text())
        streams = [Stream(port, token) for token in tokens.values()]
        readers = [gevent.spawn(s.read) for s in streams]
        deadline = time.monotonic() + 30
        while not all(s.connected for s in streams):
            if time.monotonic() > deadline:
                raise RuntimeError(f"{sum(s.connected for s in streams)} of {len(streams)} streams connected")
            gevent.sleep(0.05)
        cookie = sign_in(port)
        timings: dict[str, list[float]] = {p: [] for p in PAGES}
        (work / "go").write_text(json.dumps({"pops": pops, "rate": rate}))
        published = work / "published"
        load_pages(port, cookie, published.exists, timings)
        gevent.sleep(2)  # the last pops on their way
        latencies = [ms for s in streams for ms in s.latencies]
        gevent.killall(readers, block=False)
    finally:
        for s in streams:
            s.close()
        child.kill()
        child.wait()
    common = {"streams": len(streams), "rate_per_s": rate, "customers": 100_000, "call_records_today": TODAY_RECORDS}
    figures = [
        figure("screen pop latency p50", median(latencies), "ms", **common),
        figure("screen pop latency p99", percentile(latencies, 99), "ms", **common),
        figure("screen pops received", len(latencies) / pops, "ratio", published=pops, received=len(latencies)),
    ]
    for path, values in timings.items():
        figures.append(figure(f"page latency p50 {path}", median(values), "ms", requests=len(values), **common))
        figures.append(figure(f"page latency p99 {path}", percentile(values, 99), "ms", requests=len(values),
                              **common))
    figures.append(figure("seeding the web process", seed_seconds, "s"))
    return write_results("web", figures)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "serve":
        serve(Path(sys.argv[2]))
    else:
        print(run().read_text())
