"""Database work the FastAGI and AMI loop does per call, kept small (issue 23 point 2): the
``record`` script's recording settings of a call's direction, trunk, queue and agent come
from one query, with what the four queries gave."""

from __future__ import annotations

from appliance.db import models as m
from appliance.recording import rules
from appliance.services.recording import settings_of


def queries(db, fn):
    """(fn's result, the SQL statements it ran)."""
    conn, seen = db.connection(), []
    conn.set_trace_callback(seen.append)
    try:
        return fn(), seen
    finally:
        conn.set_trace_callback(None)


def test_a_calls_recording_settings_come_from_one_query(db):
    m.RecordingRule.delete().execute()  # first boot's rows aside: the test's own
    m.RecordingRule.create(direction="inbound", recording="force", start_at="ringing")
    m.Trunk.create(name="pstn", host="192.0.2.1", recording="no")
    m.Queue.create(name="sales", recording="yes")
    m.Agent.create(number="1001", name="Alice", recording="never")
    got, sql = queries(db, lambda: settings_of("inbound", "pstn", "sales", "1001"))
    assert got == {"direction": ("inbound", "force"), "trunk": ("pstn", "no"), "queue": ("sales", "yes"),
                   "agent": ("1001", "never"), "start_at": "ringing"}
    assert len(sql) == 1, sql
    # nothing configured for these: every element "don't care", the start at the answer
    got = settings_of("outbound", "", "other", "9999")
    assert got == {"direction": ("outbound", rules.DONTCARE), "trunk": ("", rules.DONTCARE),
                   "queue": ("other", rules.DONTCARE), "agent": ("9999", rules.DONTCARE), "start_at": rules.ANSWER}
