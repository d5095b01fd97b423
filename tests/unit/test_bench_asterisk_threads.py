"""The recorded-calls benchmark's profile of Asterisk's threads, its pure parts (the benchmark
runs in `make bench`, not here): a thread's kind from the system calls it was found blocked in,
the milliseconds per call-second by kind, `perf stat`'s counts, and what recording adds; and the
reading of a live process's threads, on this test's own process."""

import subprocess
from collections import Counter

from bench import asterisk_threads as at
from bench import recorded_calls
from harness import wait_until


def test_a_thread_waiting_in_poll_is_a_call_legs_bridge_loop():
    assert at.kind(Counter({at.SYSCALL_POLL: 40, at.SYSCALL_FUTEX: 3}), new=True) == "channel"
    assert at.kind(Counter({at.SYSCALL_POLL: 40}), new=False) == "channel"


def test_a_new_thread_waiting_on_a_futex_or_sleeping_is_mixmonitors():
    assert at.kind(Counter({at.SYSCALL_FUTEX: 30, at.SYSCALL_POLL: 2}), new=True) == "mixmonitor"
    assert at.kind(Counter({at.SYSCALL_CLOCK_NANOSLEEP: 30}), new=True) == "mixmonitor"
    # there before the batch: Asterisk's own task processors wait on futexes too
    assert at.kind(Counter({at.SYSCALL_FUTEX: 30}), new=False) == "other"
    assert at.kind(Counter({232: 30}), new=True) == "other"  # epoll_wait: PJSIP
    assert at.kind(Counter(), new=True) == "other"


def test_milliseconds_per_call_second_by_kind_with_the_kernels_share():
    before = {1: (1_000_000, 10, 10), 2: (0, 0, 0), 3: (5_000_000, 1, 1)}
    after = {1: (21_000_000, 14, 12), 2: (10_000_000, 2, 0), 3: (5_000_000, 1, 1), 4: (30_000_000, 1, 5)}
    kinds = {1: "channel", 2: "mixmonitor", 3: "other", 4: "channel"}
    got = at.summary(before, after, kinds, call_seconds=10.0, counters={"context_switches": 1500.0})
    assert got["channel_threads_ms"] == 5.0  # (20 + 30) ms over 10 call-seconds
    assert got["mixmonitor_threads_ms"] == 1.0
    assert got["other_threads_ms"] == 0.0
    assert got["asterisk_ms"] == 6.0
    assert got["kernel_share"] == round(7 / 14, 3)  # system ticks over all ticks
    assert got["threads"] == {"channel": 2, "mixmonitor": 1}  # thread 3 did not run
    assert got["context_switches"] == 150.0


def test_perf_stat_csv_is_read_and_uncounted_events_left_out():
    text = ("\n412.21,msec,task-clock,8001234567,100.00,0.052,CPUs utilized\n"
            "12855,,context-switches,8001234567,100.00,1.607,K/sec\n"
            "<not supported>,,raw_syscalls:sys_enter,0,100.00,,\n"
            "7995,,sched:sched_wakeup,8001234567,100.00,,\n")
    assert at.parse_perf_stat(text) == {"perf_cpu_ms": 412.21, "context_switches": 12855.0, "wakeups": 7995.0}


def test_what_recording_adds_is_each_measure_on_less_off():
    on = {"asterisk_ms": 9.5, "channel_threads_ms": 7.0, "mixmonitor_threads_ms": 2.0, "wakeups": 233.0,
          "threads": {"channel": 20}, "window_s": 10.0, "kernel_share": 0.6}
    off = {"asterisk_ms": 6.0, "channel_threads_ms": 5.5, "mixmonitor_threads_ms": 0.0, "wakeups": 105.0,
           "threads": {"channel": 20}, "window_s": 10.1, "kernel_share": None}
    assert recorded_calls.extra(on, off) == {"asterisk_ms": 3.5, "channel_threads_ms": 1.5,
                                             "mixmonitor_threads_ms": 2.0, "wakeups": 128.0}


def test_a_live_processs_threads_are_read_with_what_they_wait_in():
    sleeper = subprocess.Popen(["sleep", "60"])
    try:
        assert at.thread_ids(sleeper.pid) == {sleeper.pid}
        seen = wait_until(lambda: at.blocked_in(sleeper.pid).get(sleeper.pid) == at.SYSCALL_CLOCK_NANOSLEEP,
                          10, "sleep(1) asleep")
        assert seen
        run_ns, user_ticks, system_ticks = at.thread_times(sleeper.pid)[sleeper.pid]
        assert run_ns > 0 and user_ticks >= 0 and system_ticks >= 0  # it ran to get there
    finally:
        sleeper.kill()
        sleeper.wait()
    assert at.thread_ids(sleeper.pid) == set() and at.thread_times(sleeper.pid) == {}
