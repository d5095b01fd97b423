"""Benchmark: what an attack on the web port costs the call path (issue 13).

The appliance runs as ``make run`` starts it (``python -m appliance.main``, with Asterisk)
in its own process, with a low open-files limit (``NOFILE``) so that a few thousand
half-open connections would exhaust it, and 60,000 customers in its database.  This
process speaks FastAGI to it directly (the ``route`` script, as Asterisk does for every
inbound call, answering each command ``200 result=1``) every ``AGI_INTERVAL`` seconds and
times the first answer: the time a caller waits for the routing decision.  Three phases
in the same run:

- ``quiet``: no web load: the baseline;
- ``flood``: ``FLOOD`` connections from one address, each sending ``GET / HTTP/1.1\\r\\n``
  and nothing more, re-opened as soon as the appliance closes or refuses one (in a child
  process: the attack's descriptors are not ours); meanwhile ``/api/health`` is timed too;
- ``search-load``: ``SEARCHERS`` clients (in a child process) each searching the customers
  one search after the other (``GET /api/v1/customers?q=...``, by name and by part of a
  phone number), waiting ``Retry-After`` when told the appliance is busy.

Figures: FastAGI's first-answer p50/p99 in each phase with the quiet p99 as the baseline
(the ratio is the attack's cost), requests that failed (no answer: the call would have
fallen back), the appliance's open descriptors at most, health's p99 under the flood,
and searches answered / refused busy.

``python -m bench.web_flood --appliance-repo /path/to/other/checkout`` runs the same against
another checkout's appliance (e.g. main before issue 13) for a before/after comparison.

The pieces (``FastAgiClient``, ``flood``, ``search_load``, ``ApplianceProcess``) are used
by ``tests/integration/test_web_edge_load.py`` too.  Not a test: it asserts nothing.
"""

from __future__ import annotations

if __name__ == "__main__":
    from gevent import monkey

    monkey.patch_all()

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import resource  # noqa: E402
import signal  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402
from urllib.parse import quote  # noqa: E402

import gevent  # noqa: E402
from gevent import socket  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

from bench.common import figure, median, percentile, write_results  # noqa: E402

NOFILE = 2048  # the appliance's open-files limit (soft and hard) in this benchmark
FLOOD = 4000
FLOOD_SOURCE = "127.0.0.9"
SEARCHERS = 200
CUSTOMERS = 60_000
AGI_INTERVAL = 0.02
PHASE_SECONDS = 20.0
DID = "88001000"
SEARCH_TERMS = ("Customer 12", "1390004", "Customer 5", "13900", "Customer 777", "139000123")


# -- FastAGI, spoken as Asterisk speaks it --------------------------------------------------
def agi_header(script: str, uniqueid: str, did: str = DID, caller: str = "13912345678") -> bytes:
    lines = ["agi_network: yes", f"agi_network_script: {script}", f"agi_request: agi://127.0.0.1/{script}",
             f"agi_channel: PJSIP/trunk-pstn-{uniqueid}", "agi_language: en", "agi_type: PJSIP",
             f"agi_uniqueid: {uniqueid}", "agi_version: 22.1.0", f"agi_callerid: {caller}",
             "agi_calleridname: Bench", "agi_callingpres: 0", "agi_context: cc-from-trunk",
             f"agi_extension: {did}", f"agi_dnid: {did}", "agi_priority: 3", "agi_enhanced: 0.0",
             "agi_accountcode: ", "agi_threadid: 1"]
    return ("\n".join(lines) + "\n\n").encode()


class FastAgiClient:
    """Times FastAGI requests: ``latencies`` (seconds from sending the request to the first
    command back) and ``failures`` (no command back within ``timeout``: Asterisk would
    have sent the caller to the fallback)."""

    def __init__(self, port: int, host: str = "127.0.0.1", script: str = "route", timeout: float = 5.0):
        self.address = (host, port)
        self.script = script
        self.timeout = timeout
        self.latencies: list[float] = []
        self.failures: list[str] = []
        self._n = 0

    def once(self) -> float | None:
        self._n += 1
        started = time.perf_counter()
        try:
            sock = socket.create_connection(self.address, timeout=self.timeout)
        except OSError as exc:
            self.failures.append(f"connect: {exc}")
            return None
        try:
            sock.sendall(agi_header(self.script, f"{int(time.time())}.{self._n}"))
            reader = sock.makefile("rb")
            line = reader.readline()
            if not line:
                self.failures.append("closed without a command")
                return None
            took = time.perf_counter() - started
            self.latencies.append(took)
            while line:  # the rest of the session, answered as res_agi would
                sock.sendall(b"200 result=1\n")
                line = reader.readline()
            return took
        except OSError as exc:
            self.failures.append(f"{type(exc).__name__}: {exc}")
            return None
        finally:
            sock.close()

    def every(self, interval: float, until) -> None:
        while not until():
            started = time.monotonic()
            self.once()
            gevent.sleep(max(0.0, interval - (time.monotonic() - started)))


# -- the attack and the load -----------------------------------------------------------------
def flood(port: int, count: int, source: str, stop, stats: dict, host: str = "127.0.0.1") -> None:
    """``count`` half-sent requests held open from ``source``, each re-opened as soon as it
    is closed or refused, until ``stop()``."""
    stats.update(open=0, opened=0, refused=0, failed=0)

    def one():
        while not stop():
            try:
                sock = socket.create_connection((host, port), timeout=60, source_address=(source, 0))
            except OSError:
                stats["failed"] += 1
                gevent.sleep(0.5)
                continue
            stats["opened"] += 1
            stats["open"] += 1
            try:
                sock.sendall(b"GET / HTTP/1.1\r\n")
                sock.settimeout(None)
                while True:  # until the appliance closes it (or answers 503 and closes)
                    data = sock.recv(4096)
                    if not data:
                        break
                    if data.startswith(b"HTTP/1.1 503"):
                        stats["refused"] += 1
            except OSError:
                pass
            finally:
                stats["open"] -= 1
                sock.close()
            gevent.sleep(0.05)

    workers = [gevent.spawn(one) for _ in range(count)]
    try:
        gevent.joinall(workers)
    finally:
        gevent.killall(workers)


def search_load(port: int, token: str, concurrency: int, stop, stats: dict, host: str = "127.0.0.1") -> None:
    """``concurrency`` clients searching the customers one search after the other."""
    import http.client

    stats.update(ok=0, busy=0, other=0, seconds=[])

    def client(i):
        conn = None
        n = i
        while not stop():
            term = SEARCH_TERMS[n % len(SEARCH_TERMS)]
            n += 1
            try:
                if conn is None:
                    conn = http.client.HTTPConnection(host, port, timeout=120)
                started = time.perf_counter()
                conn.request("GET", f"/api/v1/customers?q={quote(term)}",
                             headers={"Authorization": f"Bearer {token}"})
                res = conn.getresponse()
                res.read()
                if res.status == 200:
                    stats["ok"] += 1
                    stats["seconds"].append(time.perf_counter() - started)
                elif res.status == 503:
                    stats["busy"] += 1
                    gevent.sleep(float(res.getheader("Retry-After") or 1))
                else:
                    stats["other"] += 1
            except (OSError, http.client.HTTPException):
                stats["other"] += 1
                conn = None
                gevent.sleep(0.5)

    workers = [gevent.spawn(client, i) for i in range(concurrency)]
    try:
        gevent.joinall(workers)
    finally:
        gevent.killall(workers)


class LoadProcess:
    """``python -m bench.web_flood flood|search ...`` in a child process: its sockets are not
    this process's; ``stop()`` ends it and returns what it counted."""

    def __init__(self, *args: str):
        self.process = subprocess.Popen([sys.executable, "-m", "bench.web_flood", *args], cwd=REPO,
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def stop(self) -> dict:
        try:
            self.process.stdin.close()  # the child stops when its stdin closes
            out, _ = self.process.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            out, _ = self.process.communicate()
        lines = [line for line in (out or "").splitlines() if line.startswith("{")]
        return json.loads(lines[-1]) if lines else {}


def _child(argv: list[str]) -> int:
    """The child's side of ``LoadProcess``."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    from gevent.fileobject import FileObjectPosix

    stopped = []
    stdin = FileObjectPosix(sys.stdin.fileno(), "rb", close=False)  # read without blocking the loop
    gevent.spawn(lambda: (stdin.read(), stopped.append(1)))
    stop = lambda: bool(stopped)  # noqa: E731
    stats: dict = {}
    if argv[0] == "flood":
        port, count, source = int(argv[1]), int(argv[2]), argv[3]
        worker = gevent.spawn(flood, port, count, source, stop, stats)
    else:
        port, token, concurrency = int(argv[1]), argv[2], int(argv[3])
        worker = gevent.spawn(search_load, port, token, concurrency, stop, stats)
    while not stopped:
        gevent.sleep(0.1)
    worker.join(timeout=30)
    worker.kill()
    seconds = stats.pop("seconds", None)
    if seconds is not None:
        stats["p50"], stats["p99"] = median(seconds), percentile(seconds, 99)
    print(json.dumps(stats), flush=True)
    return 0


# -- the appliance in its own process ---------------------------------------------------------
class ApplianceProcess:
    """``python -m appliance.main`` from ``repo`` with ``nofile`` open files at most, over a
    data folder prepared here: one trunk, queue ``sales`` behind DID 88001000, phone and
    agent 1001 in it, ``customers`` customers, and an API token for an admin (``token``)."""

    def __init__(self, work: Path, rootfs, *, nofile: int = NOFILE, customers: int = CUSTOMERS,
                 repo: Path = REPO, **overrides):
        from harness import free_port
        from integration.conftest import appliance_settings

        self.work = work
        overrides.setdefault("web_port", free_port())
        overrides.setdefault("log_level", "INFO")
        self.settings = appliance_settings(work, rootfs, **overrides)
        self.token = self._prepare(customers)
        argv = [sys.executable, "-m", "appliance.main"]
        for key in ("data_dir", "rootfs", "sip_bind", "sip_port", "ami_port", "agi_port", "web_port", "rtp_start",
                    "rtp_end", "log_level", "caller_language", *overrides):
            argv += ["--set", f"{key}={getattr(self.settings, key)}"]
        self.log_path = work / "appliance.log"
        log = open(self.log_path, "w")

        def limit_files():
            resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))

        self.process = subprocess.Popen(argv, cwd=repo, stdout=subprocess.PIPE, stderr=log, text=True,
                                        preexec_fn=limit_files, env={**os.environ, "PYTHONUNBUFFERED": "1"})
        log.close()
        line = self.process.stdout.readline()  # {"web": ..., "health": ...} once started
        if not line.startswith("{"):
            self.stop()
            raise RuntimeError(f"the appliance did not start:\n{self.log_path.read_text()[-4000:]}")
        self.web_port = self.settings.web_port
        self.agi_port = self.settings.agi_port
        self.sip = ("127.0.0.1", self.settings.sip_port)

    def _prepare(self, customers: int) -> str:
        from appliance.db import open_database
        from appliance.db.migrate import migrate
        from appliance.db.models import Customer
        from appliance.services.config import ConfigService
        from appliance.services.users import UserService
        from harness import TRUNK_IP
        from provisioning import firstboot

        firstboot.run(self.settings)
        db = open_database(self.settings.db_path)
        migrate(db)
        cfg = ConfigService(db)
        cfg.create("trunks", {"name": "pstn", "host": TRUNK_IP, "match": TRUNK_IP}, actor="bench")
        cfg.create("queues", {"name": "sales", "strategy": "rrmemory", "ring_timeout": 15}, actor="bench")
        cfg.create("dids", {"number": DID, "queue": "sales", "trunk": "pstn"}, actor="bench")
        cfg.create("phones", {"extension": "1001", "secret": "pw-1001-secret", "callerid_name": "Alice"},
                   actor="bench")
        cfg.create("agents", {"number": "1001", "name": "Alice", "phone": "1001"}, actor="bench")
        cfg.add_member("sales", "1001", actor="bench")
        users = UserService(db)
        user = users.create("bench", "bench-password-1", "admin", language="en")
        token = users.create_token(user["id"], "bench")
        rows = [{"name": f"Customer {i}", "phone": f"139{i:08d}", "category": ("retail", "wholesale", "vip")[i % 3]}
                for i in range(customers)]
        with db.atomic():
            for start in range(0, len(rows), 5000):
                Customer.insert_many(rows[start:start + 5000]).execute()
        db.close()
        return token

    def open_files(self) -> int:
        try:
            return len(os.listdir(f"/proc/{self.process.pid}/fd"))
        except OSError:
            return -1

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode


def time_health(port: int, timings: list[float], failures: list[str], stop, interval: float = 0.5) -> None:
    import http.client

    while not stop():
        started = time.perf_counter()
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            conn.request("GET", "/api/health")
            res = conn.getresponse()
            res.read()
            conn.close()
            if res.status in (200, 503):
                timings.append(time.perf_counter() - started)
            else:
                failures.append(str(res.status))
        except (OSError, http.client.HTTPException) as exc:
            failures.append(f"{type(exc).__name__}: {exc}")
        gevent.sleep(interval)


# -- the benchmark ------------------------------------------------------------------------------
def _phase(app: ApplianceProcess, seconds: float, load: LoadProcess | None) -> dict:
    agi = FastAgiClient(app.agi_port)
    deadline = time.monotonic() + seconds
    until = lambda: time.monotonic() > deadline  # noqa: E731
    health, health_failures, peak = [], [], [0]

    def watch_files():
        while not until():
            peak[0] = max(peak[0], app.open_files())
            gevent.sleep(0.1)

    jobs = [gevent.spawn(agi.every, AGI_INTERVAL, until), gevent.spawn(time_health, app.web_port, health,
                                                                        health_failures, until),
            gevent.spawn(watch_files)]
    gevent.joinall(jobs)
    counted = load.stop() if load is not None else {}
    return {"agi": agi, "health": health, "health_failures": health_failures, "open_files": peak[0],
            "load": counted}


def run(appliance_repo: Path = REPO, seconds: float = PHASE_SECONDS) -> Path:
    from image_build.rootfs import ensure_rootfs
    from webui.edge import raise_fd_limit

    raise_fd_limit()
    rootfs = ensure_rootfs(REPO / "build")
    work = Path(tempfile.mkdtemp(prefix="bench-web-flood-"))
    app = ApplianceProcess(work, rootfs, repo=appliance_repo)
    try:
        gevent.sleep(2)  # Asterisk's and AMI's own start settles
        quiet = _phase(app, seconds, None)
        flooded = _phase(app, seconds, LoadProcess("flood", str(app.web_port), str(FLOOD), FLOOD_SOURCE))
        gevent.sleep(3)  # the flood's connections closed
        searched = _phase(app, seconds, LoadProcess("search", str(app.web_port), app.token, str(SEARCHERS)))
    finally:
        app.stop()
    base = percentile(quiet["agi"].latencies, 99) * 1000
    common = {"nofile": NOFILE, "customers": CUSTOMERS, "appliance": str(appliance_repo),
              "agi_interval_s": AGI_INTERVAL, "phase_s": seconds}
    figures = [figure("quiet fastagi p50", median(quiet["agi"].latencies) * 1000, "ms", **common),
               figure("quiet fastagi p99", base, "ms", **common)]
    for name, phase, extra in (("flood", flooded, {"flood": FLOOD, "source": FLOOD_SOURCE}),
                               ("search-load", searched, {"searchers": SEARCHERS})):
        agi = phase["agi"]
        figures += [
            figure(f"{name} fastagi p50", median(agi.latencies) * 1000, "ms", **common, **extra),
            figure(f"{name} fastagi p99", percentile(agi.latencies, 99) * 1000, "ms", baseline=base, **common,
                   **extra),
            figure(f"{name} fastagi failed", len(agi.failures), "requests", requests=len(agi.latencies) +
                   len(agi.failures), examples=agi.failures[:3], **extra),
            figure(f"{name} appliance open files at most", phase["open_files"], "descriptors", **common),
            figure(f"{name} health p99", percentile(phase["health"], 99) * 1000, "ms",
                   failures=len(phase["health_failures"]), **extra),
        ]
        load = phase["load"]
        if name == "flood":
            figures.append(figure("flood connections opened", load.get("opened", 0), "connections",
                                  refused_503=load.get("refused", 0), connect_failed=load.get("failed", 0)))
        else:
            total = load.get("ok", 0) + load.get("busy", 0) + load.get("other", 0)
            figures += [figure("search-load searches answered", load.get("ok", 0) / seconds, "per s",
                               answered=load.get("ok", 0), busy=load.get("busy", 0), other=load.get("other", 0),
                               requests=total),
                        figure("search-load search p99", (load.get("p99") or 0) * 1000, "ms")]
    return write_results("web-flood", figures)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] in ("flood", "search"):
        sys.exit(_child(sys.argv[1:]))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--appliance-repo", type=Path, default=REPO,
                        help="run the appliance of this checkout (the benchmark's own by default)")
    parser.add_argument("--seconds", type=float, default=PHASE_SECONDS)
    args = parser.parse_args()
    print(run(args.appliance_repo.resolve(), args.seconds).read_text())
