"""Benchmark: hot standby's takeover and replication, on two appliances in two network
namespaces (the scenario of tests/integration/test_ha_failover.py, ``hapair.run_scenario``).

Figures, each for a kill -9 of every process of the active box and for its cable pulled:

- ``takeover gap``: seconds without accepted calls (SIPp calling the floating address at 5
  calls a second; a call not answered within 1 s gives up), with the part keepalived took to
  make the standby MASTER (``detected after``: VRRPv3, 3 missed advertisements of 0.5 s) and
  the part from then to the first call accepted by it (``calls after detection``: Asterisk's
  start, which waits for the CPU on a busy machine: hence ``load_average``, the machine's
  1-minute load when the run ended);
- ``replication lag``: seconds from a commit on the active box to its copy on the standby,
  as the active box reported it while calls were committing call records steadily, and how
  long before the failure the newest call record the new active holds had ended.

Not a test: it asserts nothing, it measures.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

from hapair import Pair, run_scenario  # noqa: E402

from bench.common import figure, write_results  # noqa: E402


def run() -> Path:
    from image_build.rootfs import ensure_rootfs

    work = Path(tempfile.mkdtemp(prefix="bench-ha-"))
    pair = Pair(work, ensure_rootfs(REPO / "build")).build()
    try:
        cases = run_scenario(pair, work / "sipp")
    finally:
        pair.close()
    # the machine's load when it ran: the takeover's second part (Asterisk's start) waits for CPU
    load = round(os.getloadavg()[0], 1)
    figures = []
    for case, f in cases.items():
        figures += [
            figure("takeover gap", f["takeover_gap_seconds"], "s", case=case,
                   detected_after=f["detected_after_seconds"],
                   calls_after_detection=f["calls_after_detection_seconds"], load_average=load),
            figure("replication lag", f["replication_lag_seconds"], "s", case=case,
                   newest_record_kept_before_failure=f["newest_record_kept_seconds_before"],
                   records_missing=len(f["records_missing"]), load_average=load),
        ]
    return write_results("ha", figures)
