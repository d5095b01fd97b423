"""Where Asterisk's processor time goes while calls talk: its threads by kind, and the kernel's
counts of what they asked of it.

A window of a few seconds in the middle of a batch (every call answered and talking):

- each thread's time on a processor, from ``/proc/<pid>/task/<tid>/schedstat`` (nanoseconds,
  not the 10 ms ticks of ``stat``), and its user/kernel split from ``stat``;
- each thread's kind, from what it is blocked in when looked at (``/proc/.../syscall``, a few
  times in the window): a **channel** thread waits in ``poll`` (a call leg's bridge loop: it
  reads the leg's RTP, hands the frame to the bridge, writes what the other leg sent); a
  **mixmonitor** thread is one started with the batch that waits in ``futex`` or
  ``clock_nanosleep`` (MixMonitor's own thread, woken by the audio hook for each frame); the
  rest (SIP, the scheduler, task processors) are **other**;
- ``perf stat`` of the process for the window, when ``perf`` is there (``BENCH_PERF`` names
  another): context switches, system calls and wake-ups, the software events a shared virtual
  machine has (no hardware counters here).

Everything is divided by the window's call-seconds, so batches of different sizes compare.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
import time
from collections import Counter
from pathlib import Path

SYSCALL_POLL, SYSCALL_FUTEX, SYSCALL_CLOCK_NANOSLEEP = 7, 202, 230  # x86_64
PERF_EVENTS = ("task-clock", "context-switches", "raw_syscalls:sys_enter", "sched:sched_wakeup")
PERF_NAMES = {"task-clock": "perf_cpu_ms", "context-switches": "context_switches",
              "raw_syscalls:sys_enter": "syscalls", "sched:sched_wakeup": "wakeups"}


def thread_ids(pid: int) -> set[int]:
    try:
        return {int(t) for t in os.listdir(f"/proc/{pid}/task")}
    except OSError:
        return set()


def thread_times(pid: int) -> dict[int, tuple[int, int, int]]:
    """tid -> (nanoseconds on a processor, user ticks, system ticks)."""
    out = {}
    for tid in thread_ids(pid):
        try:
            run_ns = int(Path(f"/proc/{pid}/task/{tid}/schedstat").read_text().split()[0])
            stat = Path(f"/proc/{pid}/task/{tid}/stat").read_text()
        except (OSError, ValueError, IndexError):
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        out[tid] = (run_ns, int(fields[11]), int(fields[12]))  # utime, stime (fields 14 and 15)
    return out


def blocked_in(pid: int) -> dict[int, int]:
    """tid -> the system call it is in now (-1: running)."""
    out = {}
    for tid in thread_ids(pid):
        try:
            text = Path(f"/proc/{pid}/task/{tid}/syscall").read_text().split()
        except OSError:
            continue
        if text and text[0].lstrip("-").isdigit():
            out[tid] = int(text[0])
    return out


def kind(seen: Counter, new: bool) -> str:
    """A thread's kind from the system calls it was found blocked in (see the module's text)."""
    if not seen:
        return "other"
    call, _ = seen.most_common(1)[0]
    if call == SYSCALL_POLL:
        return "channel"
    if new and call in (SYSCALL_FUTEX, SYSCALL_CLOCK_NANOSLEEP):
        return "mixmonitor"
    return "other"


def summary(before: dict[int, tuple[int, int, int]], after: dict[int, tuple[int, int, int]],
            kinds: dict[int, str], call_seconds: float, counters: dict[str, float] | None = None) -> dict:
    """Milliseconds of processor time per call-second by kind of thread (threads that ended in
    the window are not counted: none should, every call talks through it), the kernel's share,
    and ``counters`` per call-second."""
    ms = Counter()
    user = system = 0
    threads = Counter()
    for tid, (run_ns, utime, stime) in after.items():
        start = before.get(tid, (0, 0, 0))
        which = kinds.get(tid, "other")
        ms[which] += (run_ns - start[0]) / 1e6
        user += utime - start[1]
        system += stime - start[2]
        if run_ns > start[0]:
            threads[which] += 1
    out = {f"{k}_threads_ms": round(ms[k] / call_seconds, 3) for k in ("channel", "mixmonitor", "other")}
    out["asterisk_ms"] = round(sum(ms.values()) / call_seconds, 3)
    out["kernel_share"] = round(system / (user + system), 3) if user + system else None
    out["threads"] = dict(threads)
    for name, value in (counters or {}).items():
        out[name] = round(value / call_seconds, 1)
    return out


def parse_perf_stat(text: str) -> dict[str, float]:
    """``perf stat -x,`` output: value,unit,event,... a line."""
    out = {}
    for line in text.splitlines():
        parts = line.split(",")
        if len(parts) < 3 or parts[2] not in PERF_NAMES:
            continue
        try:
            out[PERF_NAMES[parts[2]]] = float(parts[0])
        except ValueError:
            continue  # <not counted>, <not supported>
    return out


def perf_binary() -> str | None:
    return os.environ.get("BENCH_PERF") or shutil.which("perf")


def talk_window(pid: int, calls: int, seconds: float, new_since: set[int]) -> dict:
    """Measure Asterisk ``pid`` for ``seconds`` while ``calls`` calls talk; threads not in
    ``new_since`` (the threads before the batch) are the batch's own."""
    perf = perf_binary()
    stat: dict = {}

    def run_perf():
        done = subprocess.run([perf, "stat", "-x,", "-e", ",".join(PERF_EVENTS), "-p", str(pid), "--",
                               "sleep", str(seconds)], capture_output=True, text=True, check=False)
        stat.update(parse_perf_stat(done.stderr))

    seen: dict[int, Counter] = {}
    before = thread_times(pid)
    watcher = threading.Thread(target=run_perf, daemon=True) if perf else None
    if watcher:
        watcher.start()
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        for tid, call in blocked_in(pid).items():
            seen.setdefault(tid, Counter())[call] += 1
        time.sleep(0.1)
    after = thread_times(pid)
    if watcher:
        watcher.join(seconds + 10)
    elapsed = time.monotonic() - started
    kinds = {tid: kind(seen.get(tid, Counter()), tid not in new_since) for tid in after}
    out = summary(before, after, kinds, calls * elapsed, stat)
    out["window_s"] = round(elapsed, 2)
    return out
