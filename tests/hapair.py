"""Two appliances as a hot-standby pair, each in its own network namespace, joined by a
bridge in a third (which is also the LAN's gateway and where the caller lives).

    ns <pid>c:  br0 10.77.0.1/24 (gateway, SIPp caller) -- vA -- eth0 of box A 10.77.0.11
                                                        -- vB -- eth0 of box B 10.77.0.12
    floating address 10.77.0.10/24 (keepalived)

Each box is ``python -m appliance.main`` started by ``ip netns exec`` with hot standby on
(its own data folder, its own ports inside its namespace); the rootfs's keepalived, rsync and
Asterisk run inside. The namespaces are private to this process (names carry the pid), so
the fixed addresses never meet another test's. ``run_scenario`` is the failover scenario of
tests/integration/test_ha_failover.py and bench/ha.py; the committed data it checks are the
call records the appliance writes at each hang-up (5 calls a second).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from harness import REPO, SCENARIOS, wait_until

GATEWAY = "10.77.0.1"
FLOATING = "10.77.0.10"
ADDRESSES = {"a": "10.77.0.11", "b": "10.77.0.12"}
DID = "88001000"
SECRET = "the pair's shared secret"
DATA_LIMIT = 1.0  # seconds: no record committed earlier than this before a failure may be missing


def ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def pids_in(ns: str) -> list[int]:
    done = subprocess.run(["ip", "netns", "pids", ns], capture_output=True, text=True)
    return [int(p) for p in done.stdout.split()]


def seed(db_path: Path) -> None:
    """The active box's first database: a trunk for the caller, a queue, the DID into it."""
    from appliance.db import open_database
    from appliance.db.migrate import migrate
    from appliance.services.config import ConfigService

    db = open_database(db_path)
    migrate(db)
    cfg = ConfigService(db)
    cfg.create("trunks", {"name": "pstn", "host": GATEWAY, "port": 5060, "match": GATEWAY}, actor="test")
    cfg.create("queues", {"name": "sales", "strategy": "rrmemory", "ring_timeout": 15}, actor="test")
    cfg.create("dids", {"number": DID, "queue": "sales"}, actor="test")
    db.close()


@dataclass
class Box:
    name: str
    ns: str
    address: str
    data_dir: Path
    rootfs: Path
    process: subprocess.Popen | None = None

    @property
    def db_path(self) -> Path:
        return self.data_dir / "appliance.db"

    @property
    def log_path(self) -> Path:
        return self.data_dir.parent / f"box-{self.name}.log"

    def configure(self) -> None:
        from appliance.services.ha import HaSettingsStore

        peer = ADDRESSES["b" if self.name == "a" else "a"]
        HaSettingsStore(self.data_dir / "ha").save("test", enabled=True, interface="eth0", peer_address=peer,
                                                   floating_address=f"{FLOATING}/24", gateway=GATEWAY,
                                                   router_id=77, priority=250, secret=SECRET)

    def start(self) -> None:
        (self.data_dir / "run" / "ha.json").unlink(missing_ok=True)  # what it said in its last life
        settings = {"data_dir": self.data_dir, "rootfs": self.rootfs, "sip_bind": "0.0.0.0", "sip_port": 5060,
                    "ami_port": 5038, "agi_port": 4573, "web_port": 8080, "rtp_start": 20000, "rtp_end": 20200,
                    "log_level": "INFO", "caller_language": "en", "calling_window": ""}
        argv = ["ip", "netns", "exec", self.ns, sys.executable, "-m", "appliance.main"]
        for key, value in settings.items():
            argv += ["--set", f"{key}={value}"]
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen(argv, cwd=REPO, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                        env={**os.environ, "PYTHONUNBUFFERED": "1"}, start_new_session=True)
        log.close()

    def status(self) -> dict:
        from appliance.ha import status_of

        return status_of(self.data_dir / "run") or {}

    def role(self) -> str | None:
        return self.status().get("role")

    def kill9(self) -> float:
        """Every process of the box (the appliance, keepalived, Asterisk, rsync) killed at
        once, as a crash would; the moment it happened (every SIGKILL sent)."""
        for pid in pids_in(self.ns):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        at = time.time()
        if self.process is not None:
            self.process.wait(10)
        wait_until(lambda: not pids_in(self.ns), 10, f"box {self.name}'s processes gone")
        return at

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                pass
        for pid in pids_in(self.ns):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def mount(self, *args: str) -> None:
        """``mount`` in the box's own mount namespace (``ip netns exec`` made one for it; a mount
        made outside does not reach it)."""
        # --root: the box's root, also when the tests run in a chroot (entering a mount
        # namespace resets the root to the namespace's own)
        subprocess.run(["nsenter", "--target", str(self.process.pid), "--mount", "--root", "mount", *args], check=True)

    def seen(self, path: Path) -> Path:
        """``path`` as the box's processes see it (through its mount namespace)."""
        return Path(f"/proc/{self.process.pid}/root") / Path(path).relative_to("/")

    def marked(self, db_path: Path, words: str, scratch: Path) -> bool:
        """``marked`` on the database at ``db_path`` as the box sees it: copied out first (SQLite
        resolves /proc/<pid>/root to this process's own root, past the box's mounts)."""
        try:
            scratch.write_bytes(self.seen(db_path).read_bytes())
        except FileNotFoundError:
            return False
        return marked(scratch, words)

    def health(self) -> dict:
        """The box's ``/api/health`` from inside its namespace (the web UI runs on the active box)."""
        read = ("import sys, urllib.request, urllib.error\nurl = 'http://127.0.0.1:8080/api/health'\ntry:\n"
                " sys.stdout.write(urllib.request.urlopen(url, timeout=5).read().decode())\n"
                "except urllib.error.HTTPError as e:\n sys.stdout.write(e.read().decode())\n")
        done = subprocess.run(["ip", "netns", "exec", self.ns, sys.executable, "-c", read],
                              capture_output=True, text=True)
        try:
            return json.loads(done.stdout)
        except ValueError:
            return {}

    def health_alarms(self) -> set[str]:
        """The alarm codes of the box's ``/api/health`` (empty while its web UI is not up)."""
        return {a.get("code") for a in self.health().get("alarms") or ()}

    def alarms(self) -> set[str]:
        """The hot-standby alarms the box wrote in its status (what the serial console shows)."""
        return {a["code"] for a in self.status().get("alarms") or ()}

    def log_tail(self, n: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-n:]
        except OSError:
            return ""


@dataclass
class Caller:
    """SIPp in the gateway's namespace calling the floating address at a steady rate."""

    ns: str
    log_dir: Path
    rate: float = 5.0
    process: subprocess.Popen | None = None

    @property
    def log_file(self) -> Path:
        return self.log_dir / "ha_caller.log"

    def start(self) -> Caller:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        argv = ["ip", "netns", "exec", self.ns, "sipp", "-sf", str(SCENARIOS / "ha_caller.xml"),
                "-i", GATEWAY, "-p", "5060", "-s", DID, "-r", str(self.rate), "-m", "100000", "-l", "50",
                "-nostdin", "-trace_logs", "-log_file", str(self.log_file), "-trace_err",
                "-error_file", str(self.log_dir / "ha_caller_errors.log"), f"{FLOATING}:5060"]
        self.process = subprocess.Popen(argv, cwd=self.log_dir, stdin=subprocess.DEVNULL,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return self

    def answered(self) -> list[float]:
        """When each accepted call was answered (wall clock, seconds), in order."""
        times = []
        try:
            text = self.log_file.read_text(errors="replace")
        except OSError:
            return []
        for line in text.splitlines():
            parts = line.split()
            if len(parts) >= 4 and parts[0] == "answered":
                times.append(float(parts[2]) + float(parts[3]) / 1e6)
        return sorted(times)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def gap_around(answered: list[float], took_over: float) -> tuple[float, float | None]:
    """(seconds without accepted calls across a takeover, the first call the new box accepted):
    from the last call accepted before keepalived made the new box MASTER at ``took_over``
    (the old box may still have answered one while it was being killed) to the first after."""
    before = [t for t in answered if t <= took_over]
    after = [t for t in answered if t > took_over]
    if not before or not after:
        return float("inf"), None
    return after[0] - before[-1], after[0]


@dataclass
class Pair:
    root: Path
    rootfs: Path
    prefix: str = field(default_factory=lambda: f"ha{os.getpid()}")
    boxes: dict = field(default_factory=dict)

    @property
    def lan(self) -> str:
        return self.prefix + "c"

    def build(self) -> Pair:
        lan = self.lan
        ip("netns", "add", lan)
        ip("-n", lan, "link", "set", "lo", "up")
        ip("-n", lan, "link", "add", "br0", "type", "bridge")
        ip("-n", lan, "addr", "add", f"{GATEWAY}/24", "dev", "br0")
        ip("-n", lan, "link", "set", "br0", "up")
        for name, address in ADDRESSES.items():
            ns = self.prefix + name
            ip("netns", "add", ns)
            ip("-n", ns, "link", "set", "lo", "up")
            ip("link", "add", "eth0", "netns", ns, "type", "veth", "peer", "name", f"v{name}", "netns", lan)
            ip("-n", ns, "addr", "add", f"{address}/24", "dev", "eth0")
            ip("-n", ns, "link", "set", "eth0", "up")
            ip("-n", lan, "link", "set", f"v{name}", "master", "br0")
            ip("-n", lan, "link", "set", f"v{name}", "up")
            box = Box(name, ns, address, self.root / name / "data", self.rootfs)
            box.data_dir.mkdir(parents=True, exist_ok=True)
            box.configure()
            self.boxes[name] = box
        seed(self.boxes["a"].db_path)
        return self

    def cable(self, name: str, up: bool) -> float:
        """Plug or pull box ``name``'s cable (its port on the bridge); the moment it happened."""
        at = time.time()
        ip("-n", self.lan, "link", "set", f"v{name}", "up" if up else "down")
        return at

    def vrrp_between_boxes(self, passes: bool) -> None:
        """Let VRRP through the bridge or drop it there (the kernel's nftables, bridge family:
        IP protocol 112 between the two ports; everything else, the status answers included,
        still passes), so that each box stops hearing the other's advertisements."""
        if passes:
            argv = ["nft", "delete", "table", "bridge", "ha_test"]
        else:
            argv = ["nft", "-f", "-"]
        rules = ("table bridge ha_test {\n chain forward {\n  type filter hook forward priority 0; policy accept;\n"
                 "  ip protocol 112 drop\n }\n}\n")
        subprocess.run(["ip", "netns", "exec", self.lan, *argv], input=None if passes else rules, text=True,
                       check=True, capture_output=True)

    def wait_role(self, name: str, role: str, timeout: float) -> None:
        box = self.boxes[name]
        wait_until(lambda: box.role() == role, timeout,
                   f"box {name} {role} (is {box.role()}); its log:\n{box.log_tail()}")

    def close(self) -> None:
        for box in self.boxes.values():
            box.stop()
        for ns in [self.prefix + n for n in self.boxes] + [self.lan]:
            subprocess.run(["ip", "netns", "del", ns], stderr=subprocess.DEVNULL)


def mark(db_path, words: str) -> None:
    """A write on a box's database (an audit row), as the web UI would commit it."""
    conn = sqlite3.connect(db_path, timeout=5)
    try:
        with conn:
            conn.execute("INSERT INTO audit_log (at, username, action, object_type, object_id, detail) "
                         "VALUES (datetime('now'), 'test', 'update', 'test', 'split', ?)", (words,))
    finally:
        conn.close()


def marked(db_path, words: str) -> bool:
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=5)
    try:
        return conn.execute("SELECT count(*) FROM audit_log WHERE detail = ?", (words,)).fetchone()[0] > 0
    finally:
        conn.close()


def ended_calls(db_path) -> dict[str, float]:
    """Call records (written by the appliance at each hang-up): linkedid -> when the call
    ended, as seconds since the epoch."""
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=5)
    try:
        rows = conn.execute("SELECT linkedid, end_time FROM call_record WHERE end_time IS NOT NULL").fetchall()
    finally:
        conn.close()
    return {linkedid: dt.datetime.fromisoformat(end).replace(tzinfo=dt.timezone.utc).timestamp()
            for linkedid, end in rows}


def missing_records(old_db, new_db, failed_at: float) -> dict:
    """What the new active lacks of the call records the old one committed more than
    DATA_LIMIT before the failure, and how old the newest one it has is."""
    written = {k: t for k, t in ended_calls(old_db).items() if t <= failed_at}
    kept = ended_calls(new_db)
    missing = sorted(k for k, t in written.items() if t < failed_at - DATA_LIMIT and k not in kept)
    newest = max((t for k, t in kept.items() if k in written), default=None)
    return {"records_written": len(written), "records_missing": missing,
            "newest_record_kept_seconds_before": round(failed_at - newest, 3) if newest else None}


def takeover(pair, caller, old, new, fail) -> dict:
    """Fail box ``old`` with ``fail()`` (returns when it happened); measure the takeover by ``new``."""
    box = pair.boxes[old]
    copies = lambda: (box.status().get("replication") or {}).get("copies", 0)  # noqa: E731
    before, copied = len(caller.answered()), copies()
    # steady: calls accepted and the database copied after each of them (not the first copy
    # after the standby appeared, which waited for its daemon)
    wait_until(lambda: len(caller.answered()) >= before + 5 and copies() >= copied + 3, 30,
               f"calls accepted by box {old} and copied to the standby")
    lag = (box.status().get("replication") or {}).get("lag_seconds")
    failed_at = fail()
    pair.wait_role(new, "active", 30)
    status = pair.boxes[new].status()
    detected = status["since"]  # when keepalived made the new box MASTER
    wait_until(lambda: any(t > detected for t in caller.answered()), 30,
               f"a call accepted by box {new} after the failure")
    gap, first = gap_around(caller.answered(), detected)
    return {"takeover_gap_seconds": round(gap, 3), "first_call_after_seconds": round(first - failed_at, 3),
            "detected_after_seconds": round(detected - failed_at, 3),
            "calls_after_detection_seconds": round(first - detected, 3),
            "replication_lag_seconds": lag,
            **missing_records(pair.boxes[old].db_path, pair.boxes[new].db_path, failed_at),
            "new_active_alarms": [a["code"] for a in status.get("alarms") or ()]}


def run_scenario(pair: Pair, log_dir: Path) -> dict:
    """Box a active, box b standby; box a killed (kill -9 of every process): b takes over; a
    back as standby (no second active); b's cable pulled: a takes over.  The figures of both
    takeovers; raises when a box does not reach the role it must."""
    a, b = pair.boxes["a"], pair.boxes["b"]
    a.start()
    pair.wait_role("a", "active", 60)
    b.start()
    pair.wait_role("b", "standby", 60)
    replica = b.data_dir / "replica" / "appliance.db"
    wait_until(replica.exists, 30, "the first copy of the database on the standby")
    wait_until(lambda: (a.status().get("peer") or {}).get("role") == "standby", 10, "box a seeing its standby")
    caller = Caller(pair.lan, log_dir).start()
    try:
        killed = takeover(pair, caller, "a", "b", a.kill9)
        # the killed box returns as standby: the address stays where it is
        a.start()
        pair.wait_role("a", "standby", 60)
        if b.role() != "active":
            raise AssertionError(f"box b is {b.role()} after box a returned")
        wait_until(lambda: (b.status().get("replication") or {}).get("copies", 0) >= 1, 30,
                   "the new active copying to the returned box")
        unplugged = takeover(pair, caller, "b", "a", lambda: pair.cable("b", False))
        wait_until(lambda: b.role() in ("fault", "standby"), 15, "box b standing down without its cable")
        if a.role() != "active":
            raise AssertionError(f"box a is {a.role()} after box b lost its cable")
    finally:
        caller.stop()
    return {"kill_9": killed, "cable_pulled": unplugged}
