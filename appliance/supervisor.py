"""Keep child processes alive, like procd: respawn with backoff, and stop with an
alarm instead of spinning when a child keeps crashing.

The decision part (``RespawnPolicy``) is pure; ``Watch`` is the gevent adapter
that waits on the process and calls ``start``/``stop`` callables.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import gevent
import psutil

logger = logging.getLogger(__name__)


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


class Watch:
    """Watches one child: ``start()`` launches it and returns once it is ready,
    ``is_running()`` says whether it is alive, ``wait()`` blocks until it exits."""

    def __init__(self, name: str, *, start: Callable[[], None], wait: Callable[[], None],
                 on_exit: Callable[[], None] | None = None, policy: RespawnPolicy | None = None):
        self.name = name
        self._start = start
        self._wait = wait
        self._on_exit = on_exit
        self.policy = policy or RespawnPolicy()
        self.state = "stopped"  # starting | running | restarting | crash-loop | failed | stopped
        self.alarm: str | None = None
        self.restarts = 0
        self.since = time.time()
        self._greenlet: gevent.Greenlet | None = None

    def _set(self, state: str) -> None:
        if state != self.state:
            self.state = state
            self.since = time.time()

    def start(self) -> None:
        self._set("starting")
        self._start()
        self._set("running")
        self._greenlet = gevent.spawn(self._watch)

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
                self.alarm = (f"{self.name} exited {len(self.policy.exits)} times within "
                              f"{self.policy.crash_window:.0f}s; not restarting it")
                logger.critical("%s", self.alarm)
                return
            self._set("restarting")
            gevent.sleep(delay)
            try:
                self._start()
            except Exception as exc:
                logger.error("%s failed to restart: %s", self.name, exc)
                continue
            self.restarts += 1
            self._set("running")
            logger.info("%s restarted (restart %d)", self.name, self.restarts)

    def stop(self) -> None:
        self._set("stopped")
        if self._greenlet is not None:
            self._greenlet.kill(block=True, timeout=5)
            self._greenlet = None

    def status(self) -> dict:
        return {"state": self.state, "since": self.since, "restarts": self.restarts, "alarm": self.alarm}


# -- the aggregated status, shared with other processes (the serial console) ------------
STATUS_FILE = "status.json"


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
