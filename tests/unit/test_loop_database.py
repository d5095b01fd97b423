"""Database work the FastAGI and AMI loop does per call, kept small (issue 23 point 2): the
``record`` script's recording settings of a call's direction, trunk, queue and agent come
from one query, with what the four queries gave; the caller's customer with their account
manager from one."""

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


def test_the_caller_with_their_account_manager_is_one_query(db):
    from appliance.services.callers import account_manager_of, with_customer

    alice = m.Agent.create(number="1001", name="Alice")
    m.Customer.create(name="王芳", phone="+8613912345678", account_manager=alice)
    m.Customer.create(name="张伟", phone="13800000001")
    got, sql = queries(db, lambda: account_manager_of("13912345678"))
    assert got == "1001" and len(sql) == 1, sql
    got, sql = queries(db, lambda: with_customer("call", {"event": "offered", "caller": "+86 139 1234 5678"}))
    assert got["customer"]["name"] == "王芳" and got["customer"]["account_manager"] == "1001" and len(sql) == 1, sql
    got, sql = queries(db, lambda: (account_manager_of("13800000001"), account_manager_of("13700000000"),
                                    with_customer("call", {"event": "offered", "caller": "13800000001"})))
    assert got[:2] == (None, None) and got[2]["customer"]["account_manager"] is None and len(sql) == 3, sql
