"""One box of a hot-standby pair: the adapter that carries out ``roles.step``'s commands.

What runs on every box while hot standby is on:

* **keepalived** (a supervised child), chrooted into the rootfs in a private mount namespace
  off the image (its own directory bind-mounted at ``/appliance``, like Asterisk's), natively
  on it.  It tells us each VRRP change through a FIFO (``notify.fifo``).
* **the status answer** on ``status_port``: ``GET /ha/status`` gives this box's role and
  replication lag to the peer (no secret in it; read-only).
* **the look at the peer**: its status every second (``PeerSeen``), for the dashboard, the
  split-brain alarm and the silent-peer alarm.

What runs by role:

* standby and fault: the **receiver** (the rsync daemon the active box copies to); no
  Asterisk, no database open, no web UI.
* active: the box's appliance (``make_active()``: the replica promoted to the database,
  Asterisk's configuration generated, Asterisk started, trunks registering), the
  **Replicator** copying the database to the peer after every commit and the
  **FileShipper** copying finished files.

Calls in progress on a box that stands down or dies are lost; the standby never writes the
replica itself (only its rsync daemon does).  A box that keepalived makes stand down (the
other box holds the address: after a split brain, a cut cable) while its database holds
changes it could not copy to the other box keeps a copy of it aside, named
(``kept-aside/appliance-<UTC time>.db`` beside the database, with a ``.json`` note), before
it ever receives the other box's copy: those writes are not in the pair's database any more,
but they are not dropped silently either (alarms ``ha.writes_kept_aside`` here and
``ha.peer_writes_kept_aside`` on the other box, naming the file, until it is removed).

A box that holds no data of the pair yet (never active in it, no copy received) offers
keepalived a lower priority, so that when both boxes start at once the one holding the data
wins, not an empty one that would then copy its empty database over the other.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import time
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import gevent
import gevent.os
from gevent.pywsgi import WSGIServer

from appliance import proc
from appliance.ha import STATUS_FILE, keepalived, kept, roles
from appliance.ha.replication import (REPLICA_DIR, REPLICA_NAME, FileShipper, Peer, ReplicaReceiver, Replicator,
                                      snapshot)
from appliance.ha.tools import program
from appliance.services.ha import HaSettings
from appliance.supervisor import ProcessChild, Supervisor, Watch

logger = logging.getLogger(__name__)

PING = "/usr/bin/ping"
RSYNC_PORT = 8873
STATUS_PORT = 8874
MOUNTPOINT = "/appliance"
HELD_MARKER = "ha-held"  # beside the database: this box was active in the pair once
GATEWAY_FILE = "gateway.state"  # in the hot-standby folder: our check's verdict, tracked by keepalived
KEPT_DIR = "kept-aside"  # beside the database: this box's databases with writes the pair lost
FRESH_PENALTY = 50  # a box holding no data of the pair yet starts this much lower
ALARM_TEXT = {
    roles.SPLIT_BRAIN: "both boxes of the pair are active (split brain): calls may go to either; "
                       "check the link between them",
    roles.PEER_DOWN: "the other box of the pair does not answer: no box would take over",
    roles.TAKEOVER_FAILED: "this box could not take over (the appliance did not start); the other box may",
    roles.REPLICATION_FAILING: "the active box's database cannot be copied to the standby (its disk full?); "
                               "the standby falls behind",
    roles.WRITES_KEPT_ASIDE: "this box stood down holding writes the other box does not have; its database "
                             "was kept aside as {file}",
    roles.PEER_WRITES_KEPT_ASIDE: "the other box stood down holding writes this box does not have; its "
                                  "database was kept aside there as {file}",
}

# keepalived off the image: a private mount namespace (nothing leaks if we die), its own
# directory at /appliance and a /proc, then the rootfs as its root.  Paths as parameters.
_CHROOT_SCRIPT = ('set -e; root="$1"; inst="$2"; shift 2; '
                  'mount --bind "$inst" "$root/appliance"; mount -t proc proc "$root/proc"; '
                  'exec chroot "$root" "$@"')


@dataclass(frozen=True)
class Paths:
    """The box's hot-standby folder (``<run>/ha``) as we and as keepalived see it."""

    folder: Path
    inside: str  # the same folder as keepalived sees it

    @classmethod
    def of(cls, folder: Path, rootfs) -> Paths:
        return cls(Path(folder), MOUNTPOINT if rootfs else str(folder))


# What keepalived needs and nothing more: the floating address and netlink (CAP_NET_ADMIN),
# VRRP's raw socket and gratuitous ARP (CAP_NET_RAW).  It runs no script (the gateway check is
# ours, ``GatewayCheck``), so never switches accounts.
KEEPALIVED_CAPS = "-all,+net_admin,+net_raw"


def keepalived_argv(paths: Paths, rootfs) -> list[str]:
    """keepalived's command line.  On the image (no ``rootfs``): the appliance's own account, its
    inherited capabilities narrowed to ``KEEPALIVED_CAPS`` (the appliance's CAP_NET_BIND_SERVICE
    not passed on); off the image: chrooted into the rootfs in a private mount namespace."""
    # --vrrp: only the VRRP subsystem (no health-checker process, no IPVS module to load); every
    # pid file named, in our folder (a default one under /run is not writable by our account)
    inner = ["keepalived", "--vrrp", "--dont-fork", "--log-console", "--no-syslog",
             "--use-file", f"{paths.inside}/keepalived.conf",
             "--pid", f"{paths.inside}/keepalived.pid", "--vrrp_pid", f"{paths.inside}/vrrp.pid",
             "--bfd_pid", f"{paths.inside}/bfd.pid"]
    if not rootfs:
        return ["setpriv", f"--inh-caps={KEEPALIVED_CAPS}", f"--ambient-caps={KEEPALIVED_CAPS}", "--",
                "/usr/sbin/" + inner[0], *inner[1:]]
    return ["unshare", "--mount", "--propagation", "private", "--fork", "sh", "-c", _CHROOT_SCRIPT, "sh",
            str(rootfs), str(paths.folder), *inner]


class GroupChild(ProcessChild):
    """A child stopped through its whole process group: keepalived and its VRRP child both
    get SIGTERM (and give the floating address up), not only the wrapper."""

    def stop(self) -> None:
        process = self.process
        if process is not None and process.poll() is None:
            try:
                os.killpg(process.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        super().stop()


class GatewayCheck:
    """The check both boxes agree on: the gateway answers a ping.  Once a second; two misses
    in a row make it down, two answers up again (the first answer or miss decides at start).
    The verdict goes into the file keepalived tracks (``track_file``, weight 0): 0 up, 1 down
    (FAULT: the box gives the floating address up).  Run here, not as keepalived's script, so
    that keepalived never switches accounts (docs/operations.md, "Hot standby")."""

    def __init__(self, gateway: str, path: Path, ping: list[str], *, fall: int = 2, rise: int = 2,
                 interval: float = 1.0):
        self.gateway, self.path, self.ping = gateway, Path(path), list(ping)
        self.fall, self.rise, self.interval = fall, rise, interval
        self.up: bool | None = None
        self._streak = 0

    def argv(self) -> list[str]:
        return [*self.ping, "-n", "-q", "-c", "1", "-W", "1", self.gateway]

    def seen(self, answered: bool) -> None:
        if self.up is None or answered == self.up:
            changed, self._streak = self.up is None, 0
            self.up = answered
        else:
            self._streak += 1
            changed = self._streak >= (self.rise if answered else self.fall)
            if changed:
                self.up, self._streak = answered, 0
        if changed:
            log = logger.info if self.up else logger.error
            log("hot standby: the gateway %s %s", self.gateway, "answers" if self.up else "does not answer")
            self.write()

    def write(self) -> None:
        """Written in place when the verdict changes (keepalived's inotify reads it on the close;
        a restarted keepalived reads it at start), not at every look: the run folder is on the
        data disk."""
        with open(self.path, "w") as f:
            f.write("0\n" if self.up else "1\n")

    def run(self) -> None:
        import gevent.subprocess

        while True:
            try:
                done = gevent.subprocess.run(self.argv(), stdin=gevent.subprocess.DEVNULL,
                                             stdout=gevent.subprocess.DEVNULL, stderr=gevent.subprocess.DEVNULL,
                                             env=proc.child_env(), timeout=3)
                answered = done.returncode == 0
            except (OSError, gevent.subprocess.TimeoutExpired):
                answered = False
            self.seen(answered)
            gevent.sleep(self.interval)


class HaNode:
    def __init__(self, ha: HaSettings, *, run_dir: Path, db_path: Path, file_areas: dict[str, Path],
                 make_active: Callable[[HaNode], object], rootfs=None, rsync_port: int = RSYNC_PORT,
                 status_port: int = STATUS_PORT, bind: str = "0.0.0.0",
                 advert_seconds: float = keepalived.ADVERT_SECONDS,
                 log_dir: Path | None = None, children: Sequence[Watch] = ()):
        self.ha = ha
        self.rootfs = rootfs
        self.db_path = Path(db_path)
        self.file_areas = file_areas
        self.make_active = make_active
        self.paths = Paths.of(Path(run_dir) / "ha", rootfs)
        self.rsync_port, self.status_port, self.bind = rsync_port, status_port, bind
        self.advert_seconds = advert_seconds
        self.state = roles.RoleState()
        self.since = time.time()
        self.peer_status: dict = {}
        self.alarms: dict[str, float] = {}
        self.active = None  # the running appliance, while active
        self.replicator: Replicator | None = None
        self.shipper: FileShipper | None = None
        self.receiving = False
        self.peer = Peer(ha.peer_address, rsync_port, ha.secret)
        # the kept databases: this box's served to the peer, the peer's reached from here
        self._kept_app = kept.app(self.kept_dir, ha.secret)
        self.peer_files = kept.PeerFiles(ha.peer_address, status_port, ha.secret, seen=lambda: self.peer_status)
        logs = Path(log_dir) if log_dir else self.paths.folder
        self.supervisor = Supervisor(self.paths.folder / "children.json")
        for child in children:  # the box's own (the LAN's DHCP client, the serial console), whatever the role
            self.supervisor.add(child)
        self.keepalived = self.supervisor.add(GroupChild("keepalived", self._keepalived_argv,
                                                         log_path=logs / "keepalived.log").watch())
        receiver = ReplicaReceiver(rootfs=rootfs, run_dir=self.paths.folder / "rsyncd", address=bind,
                                   port=rsync_port, peer=ha.peer_address, secret=ha.secret,
                                   db_dir=self.db_path.parent, file_dirs=file_areas)
        self.receiver = self.supervisor.add(GroupChild("ha-receiver", receiver.argv,
                                                       log_path=logs / "ha-receiver.log")
                                            .watch(enabled=lambda: self.receiving))
        self.gateway_check = GatewayCheck(ha.gateway, self.paths.folder / GATEWAY_FILE, program(rootfs, PING))
        self._greenlets: list[gevent.Greenlet] = []
        self._status_server: WSGIServer | None = None

    # -- keepalived ------------------------------------------------------------
    @property
    def fifo(self) -> Path:
        return self.paths.folder / "notify.fifo"

    @property
    def held_marker(self) -> Path:
        return self.db_path.parent / HELD_MARKER

    def holds_data(self) -> bool:
        """Whether this box's database is the pair's: it was active in the pair once, or it
        received a copy from the other box.  A fresh box (neither) must not win an election
        against one that holds the data when both start at once."""
        return self.held_marker.exists() or (self.db_path.parent / REPLICA_DIR / REPLICA_NAME).exists()

    def vrrp_model(self) -> keepalived.Vrrp:
        h = self.ha
        priority = h.priority if self.holds_data() else max(1, h.priority - FRESH_PENALTY)
        if priority != h.priority:
            logger.warning("hot standby: this box holds no data of the pair yet: priority %s, not %s, so that a "
                           "box that does wins when both start at once", priority, h.priority)
        return keepalived.Vrrp(interface=h.interface, peer=h.peer_address, floating=h.floating_address,
                               router_id=h.router_id, priority=priority, advert_seconds=self.advert_seconds,
                               notify_fifo=f"{self.paths.inside}/notify.fifo",
                               gateway_file=f"{self.paths.inside}/{GATEWAY_FILE}")

    def _keepalived_argv(self) -> list[str]:
        conf = self.paths.folder / "keepalived.conf"
        fd = os.open(conf, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(keepalived.render(self.vrrp_model()))
        return keepalived_argv(self.paths, self.rootfs)

    def _read_fifo(self) -> None:
        fd = os.open(self.fifo, os.O_RDWR | os.O_NONBLOCK)  # read-write: never an end of file
        buffer = b""
        try:
            while True:
                buffer += gevent.os.nb_read(fd, 4096)
                *lines, buffer = buffer.split(b"\n")
                for line in lines:
                    vrrp = keepalived.parse_notify(line.decode("utf-8", "replace"))
                    if vrrp is not None:
                        logger.info("keepalived: %s", vrrp)
                        self.handle(roles.Vrrp(vrrp))
        finally:
            os.close(fd)

    # -- the role machine's commands --------------------------------------------
    def handle(self, event) -> None:
        before = self.state.role
        self.state, commands = roles.step(self.state, event)
        if self.state.role != before:
            self.since = time.time()
            logger.warning("hot standby: this box is now %s (was %s)", self.state.role, before)
        for command in commands:
            self.execute(command)
        self.write_status()

    def execute(self, command) -> None:
        if isinstance(command, roles.StartReceiving):
            self.receiving = True
            self.supervisor.reconcile()
        elif isinstance(command, roles.StopReceiving):
            # not waited for: the daemon writes only replica/, never the database being opened
            self.receiving = False
            gevent.spawn(self.supervisor.reconcile)
        elif isinstance(command, roles.BecomeActive):
            self._become_active()
        elif isinstance(command, roles.StandDown):
            self._stand_down(keep_unsent=True)
        elif isinstance(command, roles.RaiseAlarm):
            self.alarms[command.code] = time.time()
            logger.critical("alarm %s", command.code)
        elif isinstance(command, roles.ClearAlarm):
            self.alarms.pop(command.code, None)
            logger.info("alarm %s cleared", command.code)

    def _become_active(self) -> None:
        started = time.monotonic()
        try:
            self.active = self.make_active(self)
        except Exception:
            logger.exception("hot standby: taking over failed; keepalived restarted so the peer may take the address")
            self.execute(roles.RaiseAlarm(roles.TAKEOVER_FAILED))
            self.state = replace(self.state, role="starting")  # keepalived starts again as BACKUP
            gevent.spawn(self.keepalived.restart, "the takeover failed")
            return
        if roles.TAKEOVER_FAILED in self.alarms:
            self.execute(roles.ClearAlarm(roles.TAKEOVER_FAILED))
        self.held_marker.touch()  # from now on this database is the pair's
        self.replicator = Replicator(self.db_path, self.paths.folder / "snapshot", self.peer, rootfs=self.rootfs)
        self.replicator.start()
        self.shipper = FileShipper(self.peer, self.file_areas, rootfs=self.rootfs)
        self.shipper.start()
        logger.warning("hot standby: active, calls accepted %.1f s after the takeover began",
                       time.monotonic() - started)

    def _stand_down(self, keep_unsent: bool = False) -> None:
        unsent = keep_unsent and self.replicator is not None and self.replicator.unsent()
        split = roles.SPLIT_BRAIN in self.alarms
        for part in (self.replicator, self.shipper):
            if part is not None:
                part.stop()
        self.replicator = self.shipper = None
        active, self.active = self.active, None
        if active is not None:
            active.stop()
            db = getattr(active, "db", None)
            if db is not None:
                db.close()
        if unsent:
            self.keep_aside("split brain" if split else "stood down with changes not copied to the other box")

    @property
    def kept_dir(self) -> Path:
        return self.db_path.parent / KEPT_DIR

    def kept_aside(self) -> list[str]:
        """The databases kept aside on this box, newest first."""
        try:
            return sorted((p.name for p in self.kept_dir.glob("appliance-*.db")), reverse=True)
        except OSError:
            return []

    def kept_removed(self, box: str, name: str) -> None:
        """An admin removed a kept database (here or on the peer): the alarms looked at again
        now, not at the next look at the peer (they clear when none is left)."""
        if box == "peer":
            self.peer_status["kept_aside"] = [n for n in self.peer_status.get("kept_aside") or () if n != name]
        self.look_at_kept()

    def look_at_kept(self) -> None:
        self.handle(roles.KeptAside(bool(self.kept_aside()), bool(self.peer_status.get("kept_aside"))))

    def keep_aside(self, reason: str) -> Path | None:
        """A copy of this box's database (SQLite's backup API, off the loop) under a name of its
        own, with a note: the writes it holds that the pair's database lacks are not lost."""
        at = time.time()
        name = "appliance-" + time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(at)) + ".db"
        target = self.kept_dir / name
        partial = target.with_name(target.name + ".partial")
        try:
            self.kept_dir.mkdir(parents=True, exist_ok=True)
            gevent.get_hub().threadpool.apply(snapshot, (self.db_path, partial))
            note = {"kept_at": at, "reason": reason, "role_before": "active", "peer_address": self.ha.peer_address,
                    "peer_role": self.peer_status.get("role")}
            target.with_suffix(".json").write_text(json.dumps(note, indent=1) + "\n")
            os.replace(partial, target)  # listed (and named in the alarms) only once whole, its note beside it
        except Exception:
            # its disk full, say: no half copy left to fill it further; the writes stay in this
            # box's own database until it next becomes active (then the peer's copy replaces it)
            partial.unlink(missing_ok=True)
            logger.exception("hot standby: could not keep this box's database aside as %s", target)
            return None
        logger.critical("hot standby: stood down with writes the other box does not have (%s): this box's "
                        "database kept aside as %s", reason, target)
        return target

    def file_finished(self, area: str, path: Path) -> None:
        """A finished recording or fax (the appliance's listeners): copied to the peer."""
        if self.shipper is not None:
            self.shipper.finished(area, path)

    # -- the peer --------------------------------------------------------------
    def _look_at_peer(self) -> None:
        url = f"http://{self.ha.peer_address}:{self.status_port}/ha/status"
        while True:
            asked_at = time.time()
            try:
                with urllib.request.urlopen(url, timeout=1.0) as answer:
                    body = json.loads(answer.read(4096))
                kept = [str(n) for n in body.get("kept_aside") or ()][:20]
                self.peer_status = {"reachable": True, "role": str(body.get("role")),
                                    "lag_seconds": body.get("lag_seconds"), "kept_aside": kept,
                                    "replication_state": str(body.get("replication_state")),
                                    "checked_at": time.time()}
            except Exception as exc:
                self.peer_status = {"reachable": False, "role": None, "error": str(exc)[:200],
                                    "checked_at": time.time()}
            if asked_at >= self.since:  # else asked before this box's role changed: look again
                self.handle(roles.PeerSeen(self.peer_status["role"]))
            self.handle(roles.Copying(self.replicator.last_error is not None if self.replicator is not None
                                      else self.peer_status.get("replication_state") == "failing"))
            self.look_at_kept()
            gevent.sleep(1.0)

    def _status_app(self, environ, start_response):
        if environ.get("PATH_INFO", "").startswith(kept.PREFIX):  # the peer's signed requests
            return self._kept_app(environ, start_response)
        if environ.get("PATH_INFO") != "/ha/status" or environ.get("REQUEST_METHOD") != "GET":
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"not found\n"]
        body = json.dumps({"role": self.state.role, "since": self.since,
                           "lag_seconds": self.replication().get("lag_seconds"),
                           "replication_state": self.replication().get("state"),
                           "kept_aside": self.kept_aside()}).encode()
        start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return [body]

    # -- status ------------------------------------------------------------------
    def replication(self) -> dict:
        if self.replicator is not None:
            return {"direction": "sending", **self.replicator.status()}
        if self.receiving:
            return {"direction": "receiving", "state": self.receiver.state,
                    "lag_seconds": self.peer_status.get("lag_seconds")}
        return {"direction": None, "state": "off", "lag_seconds": None}

    def status(self) -> dict:
        """For the health document, the dashboard and the serial console."""
        return {"enabled": True, "role": self.state.role, "since": self.since,
                "floating_address": self.ha.floating_address, "peer_address": self.ha.peer_address,
                "peer": dict(self.peer_status), "replication": self.replication(),
                "alarms": [{"code": code, "since": at, "params": self.alarm_params(code)}
                           for code, at in sorted(self.alarms.items())],
                "kept_aside": self.kept_aside(), "keepalived": self.keepalived.state}

    def health(self) -> dict:
        """The health document's ``ha`` component: up while no alarm stands (a silent peer
        leaves no box to take over: degraded)."""
        return {**self.status(), "state": self.state.role, "up": not self.alarms}

    def alarm_params(self, code: str) -> dict:
        """What an alarm's words name: the database kept aside (the newest)."""
        if code == roles.WRITES_KEPT_ASIDE:
            return {"file": f"{self.kept_dir}/{(self.kept_aside() or ['?'])[0]}"}
        if code == roles.PEER_WRITES_KEPT_ASIDE:
            return {"file": f"{self.ha.peer_address}: {KEPT_DIR}/{(self.peer_status.get('kept_aside') or ['?'])[0]}"}
        return {}

    def alarm_list(self) -> list[dict]:
        """The alarms as the health document lists them (no service: nothing to restart)."""
        out = []
        for code in sorted(self.alarms):
            params = self.alarm_params(code)
            out.append({"service": "", "code": code, "text": ALARM_TEXT.get(code, code).format(**params),
                        **({"params": params} if params else {})})
        return out

    def write_status(self) -> None:
        path = self.paths.folder.parent / STATUS_FILE
        tmp = path.with_name(f".{STATUS_FILE}.tmp")
        try:
            tmp.write_text(json.dumps(self.status()))
            os.replace(tmp, path)
        except OSError:
            logger.exception("could not write the hot standby status %s", path)

    # -- lifecycle ---------------------------------------------------------------
    def start(self) -> None:
        self.paths.folder.mkdir(parents=True, exist_ok=True)
        if not self.fifo.exists():
            os.mkfifo(self.fifo, 0o600)
        self.gateway_check.write()  # "1" until the gateway is seen answering
        self._greenlets.append(gevent.spawn(self.gateway_check.run))
        self._greenlets.append(gevent.spawn(self._read_fifo))
        self._status_server = WSGIServer((self.bind, self.status_port), self._status_app, log=None)
        self._status_server.start()
        self._greenlets.append(gevent.spawn(self._look_at_peer))
        self.supervisor.start()
        self.write_status()

    def stop(self) -> None:
        self._stand_down()
        for g in self._greenlets:
            g.kill()
        self._greenlets.clear()
        if self._status_server is not None:
            self._status_server.stop(timeout=1)
        self.receiving = False
        self.supervisor.stop()


