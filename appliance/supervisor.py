"""Keep the appliance's children alive, like procd: respawn with backoff, stop with an
alarm instead of spinning when a child keeps crashing, restart a child only when its
inputs changed, and publish one aggregated status.

* ``RespawnPolicy`` is pure: after an exit, how long to wait, or give up.
* ``Watch`` is the gevent adapter for one child: ``start`` launches it and returns once
  it is ready, ``wait`` blocks until it exits, ``stop_child`` asks it to end.  Optional
  ``inputs`` (a digest of what the child is built from: its command line, its config
  file) and ``enabled`` (whether it should run at all) are read by ``reconcile``.
* ``ProcessChild`` makes a plain program (through ``appliance.proc``) into those callables.
* ``Supervisor`` holds the watches, reconciles them every few seconds and publishes
  ``status()`` to a file (``write_status``) that other processes read (``read_status``):
  the serial console, which must still answer when the main process is gone.

Alarm codes (stable): ``supervisor.crash_loop`` (exited ``crash_limit`` + 1 times within
``crash_window`` seconds; not restarted until its inputs change or someone restarts it),
``supervisor.start_failed`` (a restart raised; counted as an exit).

Someone restarting a child (the admin in the web UI or the API, the technician on the serial
console, another process) calls ``request_restart``: a file named after the child in the
``restart-requests`` folder beside the status file, saying who asked.  The supervisor takes
it at its next reconcile (within ``interval`` seconds), restarts the child with its crash
count forgotten and its alarm cleared, and logs who asked.  A file, so another process
(the serial console) can ask without any connection to the main one.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import signal
import subprocess
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import gevent
import psutil

from appliance import proc

logger = logging.getLogger(__name__)

CRASH_LOOP = "supervisor.crash_loop"
START_FAILED = "supervisor.start_failed"
RESTART_REQUESTS = "restart-requests"  # beside the status file
_CHILD_NAME = re.compile(r"^[a-z][a-z0-9-]{0,31}$")


@dataclass
class RespawnPolicy:
    """After an exit at ``now``: how long to wait before respawning, or None to give up."""

    backoff_min: float = 0.5
    backoff_max: float = 30.0
    crash_window: float = 60.0
    crash_limit: int = 5
    exits: deque = field(default_factory=deque)

    def on_exit(self, now: float) -> float | None:
        self.exits.append(now)
        while self.exits and now - self.exits[0] > self.crash_window:
            self.exits.popleft()
        if len(self.exits) > self.crash_limit:
            return None
        return min(self.backoff_max, self.backoff_min * 2 ** (len(self.exits) - 1))

    def reset(self) -> None:
        self.exits.clear()


def digest(*parts: object) -> str:
    """A child's inputs as one value: strings, bytes, and files (their content, or absent)."""
    h = hashlib.sha256()
    for part in parts:
        if isinstance(part, Path):
            try:
                data = part.read_bytes()
            except FileNotFoundError:
                data = b"\0absent"
        else:
            data = part if isinstance(part, bytes) else str(part).encode()
        h.update(len(data).to_bytes(8, "big") + data)
    return h.hexdigest()


class Watch:
    """Watches one child and respawns it; see the module docstring for the callables."""

    def __init__(self, name: str, *, start: Callable[[], None], wait: Callable[[], None],
                 stop_child: Callable[[], None] | None = None, on_exit: Callable[[], None] | None = None,
                 inputs: Callable[[], str] | None = None, enabled: Callable[[], bool] | None = None,
                 policy: RespawnPolicy | None = None, critical: bool = False, child=None):
        self.name = name
        self.child = child  # the ProcessChild behind it, if any (its pid goes in the status)
        self._start = start
        self._wait = wait
        self._stop_child = stop_child
        self._on_exit = on_exit
        self._inputs = inputs
        self._enabled = enabled
        self.policy = policy or RespawnPolicy()
        self.critical = critical  # the appliance is down while this one is not running
        self.state = "stopped"  # starting | running | restarting | failed | crash-loop | disabled | stopped
        self.alarm: str | None = None
        self.alarm_code: str | None = None
        self.restarts = 0
        self.since = time.time()
        self.started_inputs: str | None = None
        self._greenlet: gevent.Greenlet | None = None

    def _set(self, state: str) -> None:
        if state != self.state:
            self.state = state
            self.since = time.time()

    def _raise_alarm(self, code: str, text: str) -> None:
        if (self.alarm_code, self.alarm) != (code, text):
            logger.critical("alarm %s: %s", code, text)
        self.alarm_code, self.alarm = code, text

    def _clear_alarm(self) -> None:
        if self.alarm is not None:
            logger.info("%s: alarm %s cleared", self.name, self.alarm_code)
        self.alarm = self.alarm_code = None

    def inputs(self) -> str | None:
        return self._inputs() if self._inputs else None

    def enabled(self) -> bool:
        return self._enabled() if self._enabled else True

    def start(self) -> None:
        """Start the child (raises if it cannot start) and begin watching it."""
        self._set("starting")
        self.started_inputs = self.inputs()
        self._start()
        self._set("running")
        self._greenlet = gevent.spawn(self._watch)

    def try_start(self) -> bool:
        """``start``, but a failure is counted like an exit and raises an alarm instead
        (state ``failed``, retried by ``reconcile``; ``crash-loop`` once the policy gives up)."""
        try:
            self.start()
            return True
        except Exception as exc:
            if self.policy.on_exit(time.time()) is None:
                self._set("crash-loop")
                self._raise_alarm(CRASH_LOOP, f"{self.name} failed to start {len(self.policy.exits)} times within "
                                              f"{self.policy.crash_window:.0f}s: {exc}")
            else:
                self._set("failed")
                self._raise_alarm(START_FAILED, f"{self.name} failed to start: {exc}")
            return False

    def _watch(self) -> None:
        while True:
            self._wait()
            if self.state == "stopped":
                return
            logger.error("%s exited unexpectedly", self.name)
            if self._on_exit:
                try:
                    self._on_exit()
                except Exception:
                    logger.exception("%s: exit handler failed", self.name)
            delay = self.policy.on_exit(time.time())
            if delay is None:
                self._set("crash-loop")
                self._raise_alarm(CRASH_LOOP, f"{self.name} exited {len(self.policy.exits)} times within "
                                              f"{self.policy.crash_window:.0f}s; not restarting it")
                return
            self._set("restarting")
            gevent.sleep(delay)
            try:
                self.started_inputs = self.inputs()
                self._start()
            except Exception as exc:
                self._raise_alarm(START_FAILED, f"{self.name} failed to restart: {exc}")
                continue
            self.restarts += 1
            if self.alarm_code == START_FAILED:
                self._clear_alarm()
            self._set("running")
            logger.info("%s restarted (restart %d)", self.name, self.restarts)

    def _halt(self) -> None:
        greenlet, self._greenlet = self._greenlet, None
        if greenlet is not None:
            greenlet.kill(block=True, timeout=5)
        if self._stop_child is not None:
            try:
                self._stop_child()
            except Exception:
                logger.exception("%s: stopping it failed", self.name)

    def stop(self) -> None:
        self._set("stopped")
        self._halt()

    def restart(self, reason: str) -> None:
        """Stop and start again now, forgetting earlier crashes (new inputs, or a person asked)."""
        logger.warning("restarting %s: %s", self.name, reason)
        self._set("stopped")
        self._halt()
        self.policy.reset()
        self._clear_alarm()
        self.try_start()

    def reconcile(self) -> str | None:
        """Bring the child in line with ``enabled`` and ``inputs``; what was done, if anything."""
        if not self.enabled():
            if self.state != "disabled":
                self._set("stopped")
                self._halt()
                self._clear_alarm()
                self._set("disabled")
                return "disabled"
            return None
        if self.state in ("disabled", "stopped"):
            self.policy.reset()
            return "started" if self.try_start() else "failed"
        if self.state == "failed":
            return "started" if self.try_start() else "failed"
        current = self.inputs()
        if current is not None and current != self.started_inputs:
            self.restart("its inputs changed")
            return "restarted"
        return None

    def status(self) -> dict:
        return {"state": self.state, "since": self.since, "restarts": self.restarts, "alarm": self.alarm,
                "alarm_code": self.alarm_code, "critical": self.critical, "pid": getattr(self.child, "pid", None)}


class ProcessChild:
    """A plain program as a supervised child: ``argv()`` is read at every start."""

    def __init__(self, name: str, argv: Callable[[], Sequence[str]], *, env=None, log_path: Path | None = None,
                 cwd: Path | None = None, stop_timeout: float = 5.0):
        self.name = name
        self.argv = argv
        self.env = env
        self.cwd = cwd
        self.log_path = log_path
        self.stop_timeout = stop_timeout
        self.process: subprocess.Popen | None = None
        self._log = None

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None and self.process.poll() is None else None

    def start(self) -> None:
        self._close_log()
        if self.log_path is not None:
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            self._log = open(self.log_path, "ab")
        if self.cwd is not None:
            self.cwd.mkdir(parents=True, exist_ok=True)
        self.process = proc.spawn(list(self.argv()), what=f"start {self.name}", env=self.env, stdout=self._log,
                                  stderr=subprocess.STDOUT if self._log else None,
                                  cwd=str(self.cwd) if self.cwd else None)

    def wait(self) -> None:
        if self.process is not None:
            self.process.wait()

    def stop(self) -> None:
        process = self.process
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(self.stop_timeout)
            except subprocess.TimeoutExpired:
                logger.warning("%s did not stop within %.0f s; killing it", self.name, self.stop_timeout)
                process.kill()
                process.wait()
        self._close_log()

    def _close_log(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None

    def watch(self, **kw) -> Watch:
        return Watch(self.name, start=self.start, wait=self.wait, stop_child=self.stop, child=self, **kw)


class Supervisor:
    """Every watched child, reconciled every ``interval`` seconds, and their one status."""

    def __init__(self, status_path: Path | None = None, *, interval: float = 2.0,
                 extra_status: Callable[[], dict] | None = None):
        self.watches: dict[str, Watch] = {}
        self.status_path = status_path
        self.requests_dir = Path(status_path).parent / RESTART_REQUESTS if status_path is not None else None
        self.interval = interval
        self.extra_status = extra_status
        self._loop: gevent.Greenlet | None = None

    def add(self, watch: Watch) -> Watch:
        self.watches[watch.name] = watch
        return watch

    def start(self) -> None:
        """Start every enabled child in the order added, then reconcile periodically.  A
        critical child that cannot start stops the others and raises; any other is alarmed
        and retried."""
        for watch in self.watches.values():
            if not watch.enabled():
                watch._set("disabled")
            elif watch.critical:
                try:
                    watch.start()
                except Exception:
                    self.stop()
                    raise
            else:
                watch.try_start()
        self.publish()
        self._loop = gevent.spawn(self._run)

    def _run(self) -> None:
        while True:
            gevent.sleep(self.interval)
            self.reconcile()

    def reconcile(self) -> None:
        self.take_restart_requests()
        for watch in list(self.watches.values()):
            try:
                watch.reconcile()
            except Exception:  # a bug in a child's callables must not end the loop
                logger.exception("could not bring %s in line", watch.name)
        self.publish()

    def take_restart_requests(self) -> list[str]:
        """Restart the children someone asked for (``request_restart``); their names."""
        if self.requests_dir is None or not self.requests_dir.is_dir():
            return []
        done = []
        for request in sorted(self.requests_dir.iterdir()):
            if request.name.startswith("."):  # being written
                continue
            try:
                who = request.read_text(errors="replace").strip()[:64] or "someone"
            except OSError:
                continue
            request.unlink(missing_ok=True)
            watch = self.watches.get(request.name)
            if watch is None:
                logger.warning("%s asked to restart %r: there is no such service", who, request.name)
            elif not watch.enabled():
                logger.warning("%s asked to restart %s: it is switched off", who, watch.name)
            else:
                try:
                    watch.restart(f"{who} asked")
                    done.append(watch.name)
                except Exception:
                    logger.exception("restarting %s failed", watch.name)
        return done

    def stop(self) -> None:
        if self._loop is not None:
            self._loop.kill()
            self._loop = None
        for watch in reversed(list(self.watches.values())):
            watch.stop()
        self.publish()

    def status(self) -> dict:
        """``ok`` when every enabled child runs; ``down`` when a critical one does not;
        ``degraded`` otherwise.  Alarms listed with their service."""
        services = {name: w.status() for name, w in self.watches.items()}
        not_running = [w for w in self.watches.values() if w.state not in ("running", "disabled")]
        status = "ok" if not not_running else ("down" if any(w.critical for w in not_running) else "degraded")
        alarms = [{"service": name, "code": s["alarm_code"], "text": s["alarm"]}
                  for name, s in services.items() if s["alarm"]]
        return {"status": status, "services": services, "alarms": alarms}

    def publish(self) -> None:
        if self.status_path is None:
            return
        status = self.status()
        if self.extra_status is not None:
            try:
                status.update(self.extra_status())
            except Exception:
                logger.exception("reading the status to publish failed")
        try:
            write_status(self.status_path, status)
        except OSError as exc:
            logger.error("could not publish the status to %s: %s", self.status_path, exc)


# -- the aggregated status, shared with other processes (the serial console) ------------
STATUS_FILE = "status.json"


def request_restart(run_dir: Path, name: str, who: str) -> None:
    """Ask the supervisor whose status is in ``run_dir`` to restart child ``name`` (taken at
    its next reconcile); ``ValueError`` for a name no child can have."""
    if not isinstance(name, str) or not _CHILD_NAME.fullmatch(name):
        raise ValueError(f"not a service name: {name!r}")
    folder = Path(run_dir) / RESTART_REQUESTS
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f".{name}.tmp"
    tmp.write_text(f"{who}\n")
    os.replace(tmp, folder / name)


def write_status(path: Path, status: dict) -> bool:
    """Publish ``status`` (with this process's pid) at ``path`` if it changed; True if written.

    Written only on change, without fsync: it describes the running system and is
    rewritten at the next start, so losing it in a power cut loses nothing.
    """
    path = Path(path)
    text = json.dumps({**status, "pid": os.getpid()}, indent=1, sort_keys=True, default=str)
    try:
        if path.read_text() == text:
            return False
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)
    return True


def read_status(path: Path, now: float | None = None) -> dict | None:
    """The published status, or None if there is none.  ``stale`` is true when the process
    that wrote it is gone (it can no longer be true); ``age_seconds`` is since it changed."""
    path = Path(path)
    try:
        status = json.loads(path.read_text())
        mtime = path.stat().st_mtime
    except (FileNotFoundError, ValueError):
        return None
    pid = status.get("pid")
    status["stale"] = not (isinstance(pid, int) and psutil.pid_exists(pid))
    status["age_seconds"] = max(0.0, (now if now is not None else time.time()) - mtime)
    return status
