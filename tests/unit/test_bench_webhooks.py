"""The webhooks benchmark reads the loop's lateness from bench/loopwatch.py (it had a twin
heartbeat of its own, without the stall stacks): a phase's figure over its windows only, with
the code that held the loop."""

import time

import gevent
from gevent import monkey

from bench.loopwatch import LoopWatch
from bench.webhooks import TICK, lateness_figure, merged
from tests.harness import wait_until

_native_sleep = monkey.get_original("time", "sleep")


def hold_the_loop(seconds: float) -> None:
    _native_sleep(seconds)  # Python work on the loop, as far as the loop can tell


def test_a_phases_lateness_figure_is_its_windows_and_names_what_held_the_loop():
    watch = LoopWatch(tick=TICK).start()
    try:
        wait_until(lambda: len(watch.late_ms) >= 3, 5, "the heartbeat")
        gevent.sleep(0.05)
        quiet = [(time.monotonic(), time.monotonic())]
        gevent.sleep(0.1)
        quiet[0] = (quiet[0][0], time.monotonic())
        held_from = time.monotonic()
        hold_the_loop(0.15)
        gevent.sleep(0.05)  # the heartbeat wakes, late, inside the window
        held = [(held_from, time.monotonic())]
        wait_until(lambda: watch.stalls, 5, "the watcher's stack of the stall")
    finally:
        watch.stop()
    busy = lateness_figure("backlog", watch, held)
    calm = lateness_figure("none", watch, quiet)
    both = lateness_figure("backlog", watch, merged([{"windows": quiet}, {"windows": held}])["windows"])
    assert busy["figure"] == "webhook backlog loop lateness max" and busy["unit"] == "ms"
    assert busy["value"] >= 100 and both["value"] == max(busy["value"], calm["value"])
    assert busy["tick_ms"] == TICK * 1000 and busy["p99"] <= busy["value"]
    assert any("hold_the_loop" in stall["where"] for stall in busy["loop"]["held_by"])
    assert not any("hold_the_loop" in stall["where"] for stall in calm["loop"]["held_by"])
    assert both["loop"]["samples"] == busy["loop"]["samples"] + calm["loop"]["samples"]
