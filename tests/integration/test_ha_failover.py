"""Hot standby end to end: two appliances in two network namespaces joined by a bridge,
keepalived and rsync from the rootfs as real processes, SIPp calling the floating address at a
steady rate. The active box is killed (kill -9 of every process), the standby takes over; the
killed box comes back as standby (no second active); then the new active's cable is pulled
and the first box takes over again. Each time: the gap in accepted calls and the committed
call records missing on the new active are measured (issue 20: at most 3 s after detection, nothing
older than 1 s missing).  The pair's faults that are not timed (a split brain, the standby's full
disk, starting without the peer or both at once) and keepalived's account are in
tests/integration/test_ha_pair_faults.py, which runs beside the other files."""

from __future__ import annotations

import json

import pytest

from harness import REPO
from hapair import DATA_LIMIT, Pair, run_scenario

pytestmark = [pytest.mark.asterisk, pytest.mark.alone]  # takeover timings: not beside other files

# Seconds without accepted calls (issue 20's goal: at most 3 s): VRRP's detection (VRRPv3, 3
# advertisements of 0.5 s plus a skew of 6/256 of one at priority 250: 1.0-1.6 s after the
# failure, measured) plus the takeover (the replica opened, Asterisk configured and started:
# 0.4-0.6 s on a quiet machine). Measured 1.8-2.1 s here on a quiet machine and 1.9-2.0 s in CI
# (this module runs alone, after the shards); 3.2-6.8 s beside a loaded suite (load 9-30 on 2
# cores), which is why it runs alone. The figures are written to tests/artifacts/ha-failover.json
# (and by `make bench`: bench/ha.py).
GAP_LIMIT = 3.0
# From the failure to keepalived making the standby MASTER: 1.5 s by the protocol (measured
# 1.0-1.6 s; with VRRPv2's whole seconds it was 2.1-2.9 s). A kill -9 of the active box's
# processes one by one may end keepalived's VRRP child with SIGTERM first (its parent gone): it
# then says goodbye (priority 0) and the standby takes over at once (seen: 0.1 s). With room for
# a machine shared by the whole suite (2.09 s seen with an image build beside it); the 0.5 s
# advert itself is checked on the generated configuration (tests/unit/test_ha_roles.py).
DETECTION_LIMIT = 2.5
# From keepalived making the standby MASTER to its first accepted call: the issue's "new calls
# succeed at most 3 s after the failure is detected" (measured 0.4-0.6 s quiet, 2.3 s loaded).
AFTER_DETECTION_LIMIT = 3.0
FIGURES = REPO / "tests" / "artifacts" / "ha-failover.json"


@pytest.fixture(scope="module")
def pair(tmp_path_factory, rootfs):
    built = Pair(tmp_path_factory.mktemp("pair"), rootfs).build()
    try:
        yield built
    finally:
        built.close()


def test_the_standby_takes_over_and_the_old_active_comes_back_as_standby(pair, tmp_path_factory):
    figures = run_scenario(pair, tmp_path_factory.mktemp("sipp"))
    FIGURES.parent.mkdir(parents=True, exist_ok=True)
    FIGURES.write_text(json.dumps(figures, indent=1) + "\n")
    print(json.dumps(figures, indent=1))
    for case in figures.values():
        assert case["records_written"] >= 5 and case["records_missing"] == [], figures
        assert case["replication_lag_seconds"] is not None and case["replication_lag_seconds"] <= DATA_LIMIT, figures
        assert case["takeover_gap_seconds"] <= GAP_LIMIT, figures
        assert case["calls_after_detection_seconds"] <= AFTER_DETECTION_LIMIT, figures
        assert case["detected_after_seconds"] <= DETECTION_LIMIT, figures
        assert "ha.split_brain" not in case["new_active_alarms"], figures
