"""What holds the supervisor's loop: its lateness, and the stack that held it.

A greenlet asks the loop to wake it every ``tick`` seconds and notes how late it woke (the
loop's lateness: what any FastAGI reply, AMI event or screen pop waiting at that moment also
waited). A native thread looks every ``tick`` at when the greenlet last woke; when the loop
has not come back for ``blocked`` seconds it takes the loop thread's stack once
(``sys._current_frames``), so each long stall is charged to the code the loop was running:
Python work of our own, a query on the loop, or a wait for the GIL that a query thread
holds (then the stack shows where the loop was when it asked for it back).

Not a test, not in the appliance: the benchmarks start it in the process they measure.
"""

from __future__ import annotations

import sys
import time
import traceback
from collections import Counter, defaultdict

import gevent
from gevent import monkey

from bench.common import percentile

_start_thread = monkey.get_original("_thread", "start_new_thread")
_sleep = monkey.get_original("time", "sleep")
_get_ident = monkey.get_original("_thread", "get_ident")

# frames from these are the machinery around the code that ran, not the code
NOISE = ("/gevent/", "/greenlet", "<frozen", "/bench/loopwatch.py", "/threading.py")
# the project's own code: a stall is named by the innermost frame and the project frames above it
OURS = ("/appliance/", "/webui/", "/bench/", "/tests/", "/hwdrivers/", "/provisioning/")


class LoopWatch:
    def __init__(self, tick: float = 0.005, blocked: float = 0.02, depth: int = 4):
        self.tick, self.blocked, self.depth = tick, blocked, depth
        self.late_ms: list[tuple[float, float]] = []  # (monotonic time woken, ms late)
        self.stalls: list[tuple[float, str, float]] = []  # (when, the stack that held the loop, ms held at least)
        self._beat = time.monotonic()
        self._running = False
        self._loop_thread = _get_ident()  # the native thread, not gevent's greenlet id
        self._greenlet = None

    def start(self) -> LoopWatch:
        self._running = True
        self._beat = time.monotonic()
        self._greenlet = gevent.spawn(self._heartbeat)
        _start_thread(self._watch, ())
        return self

    def stop(self) -> None:
        self._running = False
        if self._greenlet is not None:
            self._greenlet.kill()

    def _heartbeat(self) -> None:
        while self._running:
            asked = time.monotonic()
            gevent.sleep(self.tick)
            self._beat = now = time.monotonic()
            self.late_ms.append((now, (now - asked - self.tick) * 1000))

    def _watch(self) -> None:
        taken_for = None  # the beat whose stall was already charged
        while self._running:
            _sleep(self.tick)
            beat = self._beat
            held = time.monotonic() - beat
            if held < self.blocked or taken_for == beat:
                continue
            frame = sys._current_frames().get(self._loop_thread)
            if frame is None:
                continue
            taken_for = beat
            self.stalls.append((time.monotonic(), self.where(frame), held * 1000))

    def where(self, frame) -> str:
        """Where the loop was: the innermost frame that is not gevent's, and the innermost
        ``depth`` frames of the project's own code above it ("hub" when only gevent's hub ran:
        the loop waiting for the GIL, or running its callbacks)."""
        frames = [f for f in traceback.extract_stack(frame) if not any(n in f.filename for n in NOISE)]
        if not frames:
            return "hub"
        ours = [f for f in frames[:-1] if any(n in f.filename for n in OURS)][-self.depth:]
        return " <- ".join(f"{short(f.filename)}:{f.lineno} {f.name}" for f in reversed([*ours, frames[-1]]))

    def between(self, start: float, end: float) -> list[float]:
        return self.within([(start, end)])

    def within(self, windows) -> list[float]:
        return [ms for at, ms in self.late_ms if any(start <= at <= end for start, end in windows)]

    def summary(self, start: float = 0.0, end: float = float("inf"), top: int = 12) -> dict:
        return self.summary_over([(start, end)], top)

    def summary_over(self, windows, top: int = 12) -> dict:
        """The lateness and the stalls of the (start, end) ``windows`` (monotonic seconds) together."""
        late = self.within(windows)
        times, held = Counter(), defaultdict(float)
        for at, key, ms in self.stalls:
            if any(start <= at <= end for start, end in windows):
                times[key] += 1
                held[key] += ms
        return {"tick_ms": self.tick * 1000, "samples": len(late),
                "late_p50_ms": round(percentile(late, 50), 2), "late_p99_ms": round(percentile(late, 99), 2),
                "late_max_ms": round(max(late, default=float("nan")), 2),
                "late_over_20ms": sum(1 for ms in late if ms > 20),
                "stalls_seen": sum(times.values()),
                "held_by": [{"where": k, "times": n, "ms_at_least": round(held[k])} for k, n in times.most_common(top)]}


def short(filename: str) -> str:
    for marker in ("/site-packages/", "/work/", "/lib/python3"):
        if marker in filename:
            return filename.split(marker, 1)[1]
    return filename
