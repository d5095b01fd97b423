"""Hot standby end to end: two appliances in two network namespaces joined by a bridge,
keepalived and rsync from the rootfs as real processes, SIPp calling the floating address at a
steady rate. The active box is killed (kill -9 of every process), the standby takes over; the
killed box comes back as standby (no second active); then the new active's cable is pulled
and the first box takes over again. Each time: the gap in accepted calls and the committed
rows missing on the new active are measured (issue 20: at most 3 s after detection, nothing
older than 1 s missing)."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3

import pytest

from harness import REPO, wait_until
from hapair import Caller, Pair, gap_around

pytestmark = pytest.mark.asterisk

DATA_LIMIT = 1.0  # seconds: no row committed earlier than this before the failure may be missing
# Seconds without accepted calls: VRRP's detection (3 advertisements of 1 s plus a skew, about
# 3.6 s) plus the takeover (Asterisk configured and started, about 2.5 s here); the goal
# is 3 s after detection. The measured figures are written to tests/artifacts/ha-failover.json
# (and by `make bench`, bench/ha.py).
GAP_LIMIT = 10.0
FIGURES = REPO / "tests" / "artifacts" / "ha-failover.json"


def _ended_calls(db_path) -> dict[str, float]:
    """Call records (written by the appliance at each hang-up): linkedid -> when the call
    ended, as seconds since the epoch."""
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=5)
    try:
        rows = conn.execute("SELECT linkedid, end_time FROM call_record WHERE end_time IS NOT NULL").fetchall()
    finally:
        conn.close()
    return {linkedid: dt.datetime.fromisoformat(end).replace(tzinfo=dt.timezone.utc).timestamp()
            for linkedid, end in rows}


def _missing(old_db, new_db, failed_at: float) -> dict:
    """What the new active lacks of the call records the old one committed more than
    DATA_LIMIT before the failure, and how old the newest one it has is."""
    written = {k: t for k, t in _ended_calls(old_db).items() if t <= failed_at}
    kept = _ended_calls(new_db)
    missing = sorted(k for k, t in written.items() if t < failed_at - DATA_LIMIT and k not in kept)
    newest = max((t for k, t in kept.items() if k in written), default=None)
    return {"records_written": len(written), "records_missing": missing,
            "newest_record_kept_seconds_before": round(failed_at - newest, 3) if newest else None}


def _takeover(pair, caller, old, new, fail) -> dict:
    """Fail box ``old`` with ``fail()`` (returns when it happened); measure the takeover by ``new``."""
    before = len(caller.answered())
    wait_until(lambda: len(caller.answered()) >= before + 5, 30, f"calls accepted by box {old}")
    lag = (pair.boxes[old].status().get("replication") or {}).get("lag_seconds")  # while it commits steadily
    failed_at = fail()
    pair.wait_role(new, "active", 30)
    wait_until(lambda: any(t > failed_at for t in caller.answered()), 30,
               f"a call accepted by box {new} after the failure")
    gap, first = gap_around(caller.answered(), failed_at)
    status = pair.boxes[new].status()
    return {"takeover_gap_seconds": round(gap, 3), "first_call_after_seconds": round(first - failed_at, 3),
            "replication_lag_seconds": lag,
            **_missing(pair.boxes[old].db_path, pair.boxes[new].db_path, failed_at),
            "new_active_alarms": [a["code"] for a in status.get("alarms") or ()]}


@pytest.fixture(scope="module")
def pair(tmp_path_factory, rootfs):
    built = Pair(tmp_path_factory.mktemp("pair"), rootfs).build()
    try:
        yield built
    finally:
        built.close()


def test_the_standby_takes_over_and_the_old_active_comes_back_as_standby(pair, tmp_path_factory):
    a, b = pair.boxes["a"], pair.boxes["b"]
    a.start()
    pair.wait_role("a", "active", 60)
    b.start()
    pair.wait_role("b", "standby", 60)
    replica = b.data_dir / "replica" / "appliance.db"
    wait_until(replica.exists, 30, "the first copy of the database on the standby")
    wait_until(lambda: (a.status().get("peer") or {}).get("role") == "standby", 10, "box a seeing its standby")

    caller = Caller(pair.lan, tmp_path_factory.mktemp("sipp")).start()
    try:
        killed = _takeover(pair, caller, "a", "b", a.kill9)

        # the killed box returns as standby: the address stays where it is
        a.start()
        pair.wait_role("a", "standby", 60)
        assert b.role() == "active"
        wait_until(lambda: (b.status().get("replication") or {}).get("copies", 0) >= 1, 30,
                   "the new active copying to the returned box")

        unplugged = _takeover(pair, caller, "b", "a", lambda: pair.cable("b", False))
        wait_until(lambda: b.role() in ("fault", "standby"), 15, "box b standing down without its cable")
        assert a.role() == "active"
    finally:
        caller.stop()
    figures = {"kill_9": killed, "cable_pulled": unplugged}
    FIGURES.parent.mkdir(parents=True, exist_ok=True)
    FIGURES.write_text(json.dumps(figures, indent=1) + "\n")
    print(json.dumps(figures, indent=1))
    for case in (killed, unplugged):
        assert case["records_written"] >= 5 and case["records_missing"] == [], figures
        assert case["takeover_gap_seconds"] <= GAP_LIMIT, figures
        assert case["replication_lag_seconds"] is not None and case["replication_lag_seconds"] <= DATA_LIMIT, figures
    assert "ha.split_brain" not in killed["new_active_alarms"] + unplugged["new_active_alarms"]
