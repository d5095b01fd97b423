"""Benchmark: a Monday morning, all at once (issue 23, points 1 and 5).

One appliance (Asterisk, the supervisor process with its FastAGI, AMI client, recording
pipeline and web UI, as ``make run`` starts them) with 200 agents, each with a SIP phone
(SIPp: one answering process, 200 registrations pointing at it), a web account and its
event stream; 100,000 customers and 100,000 past calls (seeded in bulk by a child process,
so the appliance's memory is not the seeding's), inbound recording forced.

Each round runs, one after the other in the same appliance:

- **baseline**: SIPp trunk calls at ``rate`` per second, each held ``hold_ms`` after its
  answer, through a static dialplan (the DID straight into the same queue, no FastAGI, no
  recording) with no web client connected: bare Asterisk's call setup at that rate;
- **mixed**: the same calls through the full path (FastAGI ``route``, the queue, an agent's
  SIPp phone answering, MixMonitor and the MP3 encoder), while a client process keeps the
  200 agents' ``GET /api/v1/events`` streams open (each agent's screen pops arrive on its
  own stream), a supervisor searches customers 20 times a second (part of a phone number
  or of a name, over 100,000) and loads ``/wallboard`` twice a second. Requests are sent
  on a fixed schedule (open loop), each on its own connection, so a slow answer does not
  slow the load down.

Figures (medians over the rounds, each round's own figure in ``rounds``):

- ``mixed load fastagi p99``: the ``route`` script (routing, then the recording's start, in
  one session since 7 December), from FastAGI accepting Asterisk's connection to its last answer;
- ``mixed load screen pop p99``: from the appliance taking the AMI ``AgentCalled`` event
  (before the customer lookup) to the client having read the pop on the agent's stream;
- ``mixed load call setup ratio``: call setup p99 (INVITE -> 200 OK) of the mixed calls
  over the baseline's, each round against its own baseline; beside it the p50s, the route
  session's and the loop's lateness, where the difference goes;
- ``mixed load cpu per call`` (ms): a call's own processor time (Asterisk, the supervisor with
  its encoders; not SIPp), the client's load alone measured for ``BACKGROUND_S`` before each
  round's calls and taken off; and from it the calls a second this machine's cores could carry
  at 80 % beside that load (``calls_per_s_at_80_percent``): whether the issue's 50 a second fits;
- ``mixed load wallboard p99`` and ``mixed load customer search p99``: sending the request
  to the last byte;
- ``peak rss`` (MB): the appliance's own processes (the supervisor process and its MP3
  encoder workers; not Asterisk, not SIPp, not the client), sampled every 0.2 s over the
  mixed rounds and a last round of ``MEMORY_CALLS`` calls held 10 s each (so that 100 and
  more are live at once with the 200 streams open), with the most live calls seen.

Rates: ``python -m bench.mixed_load [rate] [rounds] [seconds]``; if the machine cannot carry
50 calls/s, run lower: the baseline runs at the same rate, so the ratio stays fair.

Not a test: it measures.
"""

from __future__ import annotations

if __name__ == "__main__":  # gevent before anything else
    from gevent import monkey

    monkey.patch_all()

import http.client
import json
import os
import random
import socket
import subprocess
import sys
import time
from pathlib import Path

import gevent
import psutil

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

from harness import PHONE_IP, TRUNK_IP, Sipp, free_port, wait_until  # noqa: E402

from bench.common import figure, median, new_appliance, percentile, write_results  # noqa: E402
from bench.loopwatch import LoopWatch  # noqa: E402

CORES = os.cpu_count() or 1
DID = "88001000"
STATIC_DID = "77001000"
AGENTS = [str(2001 + i) for i in range(200)]
PASSWORD = "bench-password-1"
SEARCH_RATE = float(os.environ.get("BENCH_SEARCH_RATE", 20.0))  # customer searches per second
WALLBOARD_RATE = float(os.environ.get("BENCH_WALLBOARD_RATE", 2.0))  # /wallboard loads per second
MEMORY_CALLS = 120
BACKGROUND_S = 5.0  # the client's load alone, before each round's calls: its processor time a second
STATIC_DIALPLAN = f"""; Benchmark baseline: the same queue, reached without FastAGI.
[cc-from-trunk]
exten => {STATIC_DID},1,Answer()
 same => n,Queue(mixed,t,,,60)
 same => n,Hangup()
"""


# -- the appliance ----------------------------------------------------------------------------
def configure(app) -> dict[str, str]:
    """Trunk, queue ``mixed``, its DID, 200 agents with phone, web account and queue
    membership, a supervisor ``sup``; returns each agent's API token."""
    from appliance.db import models as m
    from appliance.services.users import hash_password

    cfg, users = app.config, app.users
    cfg.create("trunks", {"name": "pstn", "host": TRUNK_IP, "port": 5060, "match": TRUNK_IP}, actor="bench")
    cfg.create("queues", {"name": "mixed", "strategy": "rrmemory", "ring_timeout": 10, "sticky_lookback_days": 30,
                          "sticky_min_talk_seconds": 10, "autopause_after": 0}, actor="bench")
    cfg.create("dids", {"number": DID, "queue": "mixed"}, actor="bench")
    users.create("sup", PASSWORD, "supervisor", language="zh_CN")
    digest = hash_password(PASSWORD)  # one scrypt for 200 accounts: the benchmark is not about sign-in
    m.User.insert_many([{"username": f"agent{n}", "password_hash": digest, "role": "agent", "language": "zh_CN"}
                        for n in AGENTS]).execute()
    for ext in AGENTS:
        cfg.create("phones", {"extension": ext, "secret": f"pw-{ext}-bench"}, actor="bench")
        cfg.create("agents", {"number": ext, "name": f"坐席 {ext}", "phone": ext, "user": f"agent{ext}"},
                   actor="bench")
        cfg.add_member("mixed", ext, actor="bench")
    return {n: users.create_token(m.User.get(m.User.username == f"agent{n}").id, "bench") for n in AGENTS}


def seed(db_path: str) -> None:
    """The child process: 100,000 customers and 100,000 past calls, in bulk."""
    from appliance.db import open_database
    from bench.engine import fill_customers, fill_history

    db = open_database(Path(db_path))
    fill_customers(db)
    fill_history(db)
    db.close()


def register_phones(app, work: Path, agents: list[str] = AGENTS, scenario: str = "agent_phone_answer.xml",
                    concurrency: int = 10) -> Sipp:
    """One SIPp answering every agent's calls at once (``scenario``: ring 0 ms, G.711 speech
    back), and each agent's phone registered with its Contact at that port."""
    port = free_port(socket.SOCK_DGRAM)
    pending = list(agents)

    def worker():
        while pending:
            ext = pending.pop()
            reg = Sipp("agent_phone_register.xml", PHONE_IP, free_port(socket.SOCK_DGRAM),
                       ("127.0.0.1", app.settings.sip_port), {"agent": ext, "contact_port": port}, work / "sipp",
                       extra_args=("-au", ext, "-ap", f"pw-{ext}-bench"))
            # on a loaded machine SIPp may resend the REGISTER before Asterisk's 401 comes, and
            # then take the second 401 for a refusal: try again
            for _ in range(3):
                if reg.run(60) == 0:
                    break
            else:
                raise RuntimeError(f"phone {ext} failed to register: {reg.errors()}")

    gevent.joinall([gevent.spawn(worker) for _ in range(concurrency)], raise_error=True)
    # started after the registrations: their SIPps' media ports (harness.media_port) go round
    # a short cycle, and this one holds its port for the whole run
    return Sipp(scenario, PHONE_IP, port, None, {"agent": "agent"}, work / "sipp",
                calls=1_000_000, timeout_s=7200, extra_args=("-d", "0")).start()


def stamp_pops(app) -> None:
    """Every call event the engine publishes carries ``published_at``: the moment the
    appliance took the AMI event it comes from (``LiveState.apply``'s clock), so the client
    measures the whole screen-pop path (customer lookup, bus, stream) from there."""
    from appliance.engine.live import Publish

    live, apply = app.live, app.live.apply

    def stamped(event, ts):
        commands = apply(event, ts)
        for command in commands:
            if isinstance(command, Publish) and command.topic == "call" and command.data.get("event") == "offered":
                command.data["published_at"] = ts
        return commands

    live.apply = stamped


class EventCount:
    """The AMI events the supervisor took, by name: each one is parsed and applied on its loop."""

    def __init__(self, app):
        from collections import Counter

        self.names, deliver = Counter(), app.ami.on_event

        def counted(frame):
            self.names[frame.get("Event") or "?"] += 1
            deliver(frame)

        app.ami.on_event = counted

    def since(self, before: dict, calls: int, top: int = 12) -> dict:
        grew = {k: n - before.get(k, 0) for k, n in self.names.items() if n > before.get(k, 0)}
        total = sum(grew.values())
        return {"per_call": round(total / max(1, calls), 1),
                "top_per_call": {k: round(n / max(1, calls), 1) for k, n in
                                 sorted(grew.items(), key=lambda kv: -kv[1])[:top]}}


def encoder_workers() -> list[psutil.Process]:
    """This process's MP3 encoder workers."""
    workers = []
    for child in psutil.Process().children(recursive=True):
        try:
            if "appliance.recording.worker" in " ".join(child.cmdline()):
                workers.append(child)
        except psutil.Error:
            continue
    return workers


def rss_mb(pids: list[int]) -> float:
    """The resident memory of ``pids`` (``/proc/<pid>/statm``: cheap enough to read 5 times a
    second under load, where psutil's walk of every process took a tenth of the supervisor's
    processor time in py-spy)."""
    page, total = os.sysconf("SC_PAGE_SIZE"), 0
    for pid in pids:
        try:
            total += int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * page
        except (OSError, ValueError, IndexError):
            continue
    return total / 1024 / 1024


class RssSampler:
    """The largest sum of RSS of the appliance's own processes (this one, the supervisor, and
    its MP3 encoder workers, looked up again every 2 s) while running, with what was live then."""

    def __init__(self, app, interval: float = 0.2):
        self.app, self.interval = app, interval
        self.peak_mb, self.at, self.max_calls = 0.0, {}, 0
        self.greenlet = None

    def start(self) -> "RssSampler":
        self.greenlet = gevent.spawn(self._run)
        return self

    def sample(self, pids: list[int]) -> None:
        mb = rss_mb(pids)
        if mb > self.peak_mb:
            self.peak_mb = mb
            self.at = {"live_calls": len(self.app.live.calls), "processes": len(pids)}
        self.max_calls = max(self.max_calls, len(self.app.live.calls))

    def _run(self) -> None:
        pids, looked_up = [], 0.0
        while True:
            if time.monotonic() - looked_up > 2:
                pids, looked_up = [os.getpid(), *(p.pid for p in encoder_workers())], time.monotonic()
            self.sample(pids)
            gevent.sleep(self.interval)

    def stop(self) -> None:
        if self.greenlet is not None:
            self.greenlet.kill()


def wait_idle(app, timeout: float = 120) -> None:
    wait_until(lambda: not app.live.calls, timeout, "every call ended")
    wait_until(lambda: all(app.live.agents.get(a) and app.live.agents[a].state == "free" for a in AGENTS),
               timeout, "agents free")


def profile(seconds: float, out: Path):
    """``py-spy record`` of this process for ``seconds`` (when BENCH_PYSPY names the py-spy
    program): where the supervisor's processor time goes under the load."""
    spy = os.environ.get("BENCH_PYSPY")
    if not spy:
        return None
    return subprocess.Popen([spy, "record", "-p", str(os.getpid()), "-d", str(int(seconds)), "-r", "50",
                             "--nonblocking", "-f", "raw", "-o", str(out)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


def profile_summary(raw: str, top: int = 25) -> dict:
    """py-spy's raw output (``frame;frame;... count`` a line) as the share of samples each
    function was on the stack for, the largest first: where the supervisor's time went."""
    total, inclusive = 0, {}
    for line in raw.splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        total += int(count)
        seen = set()
        for frame in stack.split(";"):
            name, _, where = frame.partition(" (")
            key = f"{name} {where.split(':')[0]}".strip()
            if key not in seen:
                seen.add(key)
                inclusive[key] = inclusive.get(key, 0) + int(count)
    ranked = sorted(inclusive.items(), key=lambda kv: -kv[1])[:top]
    return {"samples": total, "share": {k: round(v / total, 3) for k, v in ranked}} if total else {}


def idle_cpu(app, seconds: float) -> dict[str, float]:
    """Processor seconds a second of Asterisk, the supervisor and the encoders with the client's
    load on (200 streams, the searches, the wallboard) and no call: what the calls' own cost is
    measured above."""
    from bench.recorded_calls import cpu_seconds

    before, started = cpu_seconds(app), time.monotonic()
    gevent.sleep(seconds)
    after, wall = cpu_seconds(app), time.monotonic() - started
    return {k: round((after[k] - before[k]) / wall, 4) for k in after}


def per_call_cpu(r: dict, calls: int) -> dict[str, float]:
    """A call's own processor milliseconds (Asterisk's, the supervisor's with the encoders'):
    the mixed phase's less the client's load alone over the same wall time."""
    cpu, bg = r["cpu_s"], r["cpu_s"]["background_per_s"]
    own = {k: (cpu[k] - bg[k] * cpu["wall"]) * 1000 / calls for k in ("asterisk", "appliance", "encoders")}
    return {"asterisk": round(own["asterisk"], 2), "appliance": round(own["appliance"] + own["encoders"], 2)}


def carried_rate(r: dict, calls: int, cores: int, busy: float = 0.8) -> float:
    """Calls a second ``cores`` at ``busy`` could take through the full path, the client's load
    and the load generator (SIPp, not counted in either) left out: what the cores have left
    beside the background, over a call's own processor time."""
    own = per_call_cpu(r, calls)
    bg = sum(r["cpu_s"]["background_per_s"].values())
    return round((cores * busy - bg) * 1000 / max(0.001, own["asterisk"] + own["appliance"]), 1)


def round_(app, work: Path, k: int, rate: float, seconds: float, hold_ms: int, rss: RssSampler,
           watch: LoopWatch, events: EventCount) -> dict:
    from bench.call_path import run_calls
    from bench.recorded_calls import cpu_seconds

    calls = max(1, int(rate * seconds))
    base_before = cpu_seconds(app)
    base = run_calls(app, STATIC_DID, calls, rate, work / "sipp", hold_ms=hold_ms)
    wait_idle(app)
    base["cpu_s"] = {k: round(v - base_before[k], 2) for k, v in cpu_seconds(app).items()}
    folder = work / f"round{k}"
    folder.mkdir()
    client = subprocess.Popen([sys.executable, "-m", "bench.mixed_load", "clients", str(work), str(folder)],
                              cwd=REPO)
    try:
        wait_until(lambda: (folder / "ready").exists() or client.poll() is not None, 120, "the streams connected")
        if client.poll() is not None:
            raise RuntimeError(f"the client process ended ({client.returncode}) before its streams connected")
        background = idle_cpu(app, BACKGROUND_S)
        app.agi.latency.clear()
        cpu_before, wall_before, load_before = cpu_seconds(app), time.monotonic(), os.getloadavg()[0]
        rss.start()
        spy = profile(seconds, work / f"profile-round{k}.txt") if k == 0 else None
        mixed_from, events_before = time.monotonic(), dict(events.names)
        ours = run_calls(app, DID, calls, rate, work / "sipp", hold_ms=hold_ms)
        loop = watch.summary(mixed_from, time.monotonic())
        wait_idle(app)
        loop["ami_events"] = events.since(events_before, calls)
        rss.stop()
        cpu = {k: round(v - cpu_before[k], 2) for k, v in cpu_seconds(app).items()}
        cpu["wall"] = round(time.monotonic() - wall_before, 2)
        cpu["background_per_s"] = background
        cpu["machine_load_average"] = round((load_before + os.getloadavg()[0]) / 2, 1)
        route_ms = [s * 1000 for script, s in app.agi.latency if script == "route"]
        (folder / "stop").write_text("")
        client.wait(120)
        if spy is not None:
            spy.wait(120)
            out = work / f"profile-round{k}.txt"
            if out.exists():
                (folder / "profile.json").write_text(json.dumps(profile_summary(out.read_text())))
    finally:
        if client.poll() is None:
            client.kill()
            client.wait()
    measured = json.loads((folder / "results.json").read_text())
    if (folder / "profile.json").exists():
        measured["profile"] = json.loads((folder / "profile.json").read_text())
    return {"baseline": base, "ours": ours, "route_ms": route_ms, "cpu_s": cpu, "loop": loop, **measured}


def run(rate: float = 50.0, rounds: int = 3, seconds: float = 12.0, hold_ms: int = 2000) -> Path:
    from bench.capacity import rtp_ports

    # the RTP ports of the whole port block: harness's 200 (100 channels) would cap the live calls at 50
    rtp = rtp_ports()
    app, settings, work = new_appliance("mixed-load", rtp_start=rtp[0], rtp_end=rtp[1])
    answer = None
    try:
        tokens = configure(app)
        (work / "tokens.json").write_text(json.dumps(tokens))
        subprocess.run([sys.executable, "-m", "bench.mixed_load", "seed", str(settings.db_path)],
                       cwd=REPO, check=True)
        custom = settings.asterisk_dir / "etc" / "custom"
        custom.mkdir(parents=True, exist_ok=True)
        (custom / "extensions.conf").write_text(STATIC_DIALPLAN)
        app.start(web=True)
        (work / "web.json").write_text(json.dumps({"port": app.web.server_port}))
        wait_until(lambda: app.ami.connected, 30, "AMI")
        stamp_pops(app)
        watch, events = LoopWatch().start(), EventCount(app)
        answer = register_phones(app, work)
        for ext in AGENTS:
            app.agents.login(ext)
        wait_idle(app, 60)
        app.config.update("recording_rules", "inbound", {"recording": "force"}, actor="bench")
        from bench.recorded_calls import start_encoder

        start_encoder(app, work)
        rss = RssSampler(app)
        results = [round_(app, work, k, rate, seconds, hold_ms, rss, watch, events) for k in range(rounds)]
        # then the memory's own round: the calls held 10 s, so that 100 and more are live at once
        # with the 200 streams open (its latencies are not in the figures above)
        round_(app, work, rounds, rate, MEMORY_CALLS / rate, 10_000, rss, watch, events)
    finally:
        if answer is not None:
            answer.stop()
        app.stop()
    return write_results("mixed-load", figures(results, rate, seconds, hold_ms, rss))


def figures(results: list[dict], rate: float, seconds: float, hold_ms: int, rss: RssSampler) -> list[dict]:
    """The figures of the rounds: each round's own, and their median as the value."""
    def each(fn):
        return [round(fn(r), 3) for r in results]

    def failed(r, side):
        return r[side]["failed"] if r[side]["failed"] is not None else -1

    calls = max(1, int(rate * seconds))
    setup_ratio = each(lambda r: percentile(r["ours"]["latencies_ms"], 99) / percentile(r["baseline"]["latencies_ms"], 99))
    common = {"offered_rate": rate, "calls_per_round": calls, "hold_ms": hold_ms,
              "rounds": len(results), "agents": len(AGENTS), "streams": len(AGENTS), "customers": 100_000,
              "searches_per_s": SEARCH_RATE, "wallboard_per_s": WALLBOARD_RATE,
              "failed_calls": each(lambda r: failed(r, "ours")),
              "failed_calls_baseline": each(lambda r: failed(r, "baseline")),
              # processor seconds of the mixed phase (Asterisk, the supervisor, the encoders) against its
              # wall seconds, and the machine's load average then: how much of 2 shared cores it had
              "cpu_s": [r.get("cpu_s") for r in results]}
    pops = each(lambda r: percentile(r["pops_ms"], 99))
    route = each(lambda r: percentile(r["route_ms"], 99))
    wallboard = each(lambda r: percentile(r["pages_ms"]["/wallboard"], 99))
    search = each(lambda r: percentile(r["pages_ms"]["search"], 99))
    return [
        figure("mixed load fastagi p99", median(route), "ms", goal=20, per_round=route,
               supervisor_profile=next((r["profile"] for r in results if r.get("profile")), None),
               # the supervisor loop's lateness in the mixed phase, the code that held it (bench/loopwatch.py),
               # the AMI events it took per call; and the client process's own loop (a pop it read late is its own)
               loop=[r.get("loop") for r in results], client_loop=[r.get("client_loop") for r in results],
               p50=each(lambda r: percentile(r["route_ms"], 50)), routed=each(lambda r: len(r["route_ms"])), **common),
        figure("mixed load screen pop p99", median(pops), "ms", goal=100, per_round=pops,
               p50=each(lambda r: percentile(r["pops_ms"], 50)), pops=each(lambda r: len(r["pops_ms"])),
               from_="the AMI event taken, to the agent's stream read", **common),
        figure("mixed load call setup ratio", median(setup_ratio), "x", goal=1.5, per_round=setup_ratio,
               p99_ms=each(lambda r: percentile(r["ours"]["latencies_ms"], 99)),
               baseline_p99_ms=each(lambda r: percentile(r["baseline"]["latencies_ms"], 99)),
               # where the setup goes: the same at p50, the route script's session (the one FastAGI
               # connection on the path: routing, then the recording's start) and how late the loop woke
               p50_ms=each(lambda r: percentile(r["ours"]["latencies_ms"], 50)),
               baseline_p50_ms=each(lambda r: percentile(r["baseline"]["latencies_ms"], 50)),
               route_session_p50_ms=each(lambda r: percentile(r["route_ms"], 50)), route_session_p99_ms=route,
               loop_late_p99_ms=[(r.get("loop") or {}).get("late_p99_ms") for r in results], **common),
        figure("mixed load cpu per call", median(each(lambda r: sum(per_call_cpu(r, calls).values()))), "ms",
               per_round=[per_call_cpu(r, calls) for r in results],
               background_per_s=[r["cpu_s"]["background_per_s"] for r in results],
               calls_per_s_at_80_percent=each(lambda r: carried_rate(r, calls, CORES)), cores=CORES,
               # the same calls through the static dialplan (no client load, no FastAGI, no
               # recording): Asterisk's processor milliseconds a call, and the rate that alone allows
               baseline_asterisk=each(lambda r: r["baseline"]["cpu_s"]["asterisk"] * 1000 / calls),
               baseline_calls_per_s_at_80_percent=each(
                   lambda r: CORES * 0.8 * calls / max(0.001, r["baseline"]["cpu_s"]["asterisk"])),
               counted="Asterisk, the supervisor and its encoders, less the client's load alone; not SIPp", **common),
        figure("mixed load wallboard p99", median(wallboard), "ms", goal=150, per_round=wallboard,
               requests=each(lambda r: len(r["pages_ms"]["/wallboard"])), errors=each(lambda r: r["errors"]), **common),
        figure("mixed load customer search p99", median(search), "ms", goal=150, per_round=search,
               requests=each(lambda r: len(r["pages_ms"]["search"])), errors=each(lambda r: r["errors"]), **common),
        figure("peak rss", rss.peak_mb, "MB", goal=300, at=rss.at, most_live_calls=rss.max_calls,
               counted="the supervisor process and its MP3 encoder workers", **common),
    ]


# -- the client process: 200 agents' streams, a supervisor's searches and wallboard ------------
def search_terms(n: int, seed: int = 11):
    """What a supervisor types: part of a phone number (a customer's, 4 to 8 digits from
    its start) or the start of a name. A generator: the client once built its million terms
    as a list when the load began, which held its loop for most of a second, and the first
    8 calls' screen pops of every round were read up to 0.8 s late (the pop p99's 450 ms)."""
    rng = random.Random(seed)
    for i in range(n):
        number = f"139{rng.randrange(100_000):08d}"
        yield number[:rng.randint(4, 8)] if i % 2 else f"Customer {rng.randrange(100_000)}"


def schedule(rate: float, started: float, now: float) -> float:
    """Seconds to wait before the next request of an open-loop schedule at ``rate``."""
    done = int((now - started) * rate)
    return max(0.0, started + (done + 1) / rate - now)


def clients(work: Path, folder: Path) -> None:
    from urllib.parse import quote

    from bench.web import Stream, sign_in

    port = json.loads((work / "web.json").read_text())["port"]
    tokens = json.loads((work / "tokens.json").read_text())
    # each agent's browser from an address of its own, as on a call-center floor
    streams = [Stream(port, token, f"127.0.1.{1 + i}") for i, token in enumerate(tokens.values())]
    readers = [gevent.spawn(s.read) for s in streams]
    wait_until(lambda: all(s.connected for s in streams), 60, "every stream connected", interval=0.05)
    cookie = sign_in(port)
    pages: dict[str, list[float]] = {"/wallboard": [], "search": []}
    errors: list[str] = []
    stop = folder / "stop"

    def get(path: str, into: str) -> None:
        try:
            started = time.perf_counter()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            conn.request("GET", path, headers={"Cookie": cookie, "Accept": "text/html"})
            res = conn.getresponse()
            body = res.read()
            conn.close()
            if res.status != 200 or not body:
                errors.append(f"GET {path}: {res.status}")
                return
            pages[into].append((time.perf_counter() - started) * 1000)
        except OSError as e:
            errors.append(f"GET {path}: {e}")

    def load(rate: float, paths, into: str) -> None:
        if rate <= 0:
            return
        started, sent = time.monotonic(), []
        for path in paths:
            if stop.exists():
                break
            gevent.sleep(schedule(rate, started, time.monotonic()))
            sent.append(gevent.spawn(get, path, into))
        gevent.joinall(sent, timeout=60)

    (folder / "ready").write_text("")
    # the client's own loop: a pop read late because this process was busy is not the appliance's
    client_loop = LoopWatch().start()
    terms = (f"/customers?q={quote(t)}" for t in search_terms(1_000_000))
    walls = ("/wallboard" for _ in range(1_000_000))
    gevent.joinall([gevent.spawn(load, SEARCH_RATE, terms, "search"), gevent.spawn(load, WALLBOARD_RATE, walls,
                                                                                   "/wallboard")])
    gevent.sleep(1)  # the last pops on their way
    gevent.killall(readers, block=False)
    for s in streams:
        s.close()
    pops = [ms for s in streams for ms in s.latencies]
    client_loop.stop()
    (folder / "results.json").write_text(json.dumps({"pops_ms": pops, "pages_ms": pages, "errors": len(errors),
                                                     "error_sample": errors[:5],
                                                     "client_loop": client_loop.summary(top=5)}))


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "seed":
        seed(sys.argv[2])
    elif len(sys.argv) == 4 and sys.argv[1] == "clients":
        clients(Path(sys.argv[2]), Path(sys.argv[3]))
    else:
        print(run(*[float(a) for a in sys.argv[1:2]], *[int(a) for a in sys.argv[2:3]],
                  *[float(a) for a in sys.argv[3:4]]).read_text())
