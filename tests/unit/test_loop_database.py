"""Database work the FastAGI and AMI loop does per call, kept small (issue 23 point 2): the
``record`` script's recording settings of a call's direction, trunk, queue and agent come
from one query, with what the four queries gave; the caller's customer with their account
manager from one; the AMI events' writes (agent states, call records) are queued and written
by a thread of their own, in order, one transaction a batch, none lost to another's failure."""

from __future__ import annotations

import datetime as dt
import threading
import time

from appliance.db import models as m
from appliance.db.writers import AgentStateWriter, WriteBehind
from appliance.engine.live import AgentStateChanged
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


def test_the_loops_writes_are_written_behind_it_in_order_one_transaction_a_batch(db):
    writer = WriteBehind(db)
    threads, started = [], dt.datetime(2026, 12, 6, 9, 0)

    def write(n):
        threads.append(threading.get_ident())
        m.AgentStateLog.create(agent=f"{n:03d}", state="free", reason="", started_at=started)

    for n in range(50):
        writer.submit(write, n)
    assert m.AgentStateLog.select().count() == 0  # queued: the loop went on without waiting
    assert writer.flush(10)
    assert [r.agent for r in m.AgentStateLog.select().order_by(m.AgentStateLog.id)] == [f"{n:03d}" for n in range(50)]
    assert len(set(threads)) == 1 and threads[0] != threading.get_ident()
    assert (writer.batches, writer.written, writer.failed) == (1, 50, 0)
    writer.close()


def test_a_failed_write_costs_only_itself_and_the_agent_state_log_stays_whole(db):
    writer, states = WriteBehind(db), AgentStateWriter(db)

    def broken():
        m.AgentStateLog.create(agent="9999", state="free", reason="", started_at=dt.datetime(2026, 12, 6))
        raise RuntimeError("a bad row")

    at = dt.datetime(2026, 12, 6, 9, 0, tzinfo=dt.timezone.utc).timestamp()
    writer.submit(states.write, AgentStateChanged("1001", "free", "", at))
    writer.submit(broken)
    writer.submit(states.write, AgentStateChanged("1001", "in_call", "", at + 30))
    writer.close()  # at stop: what was queued is written first
    rows = list(m.AgentStateLog.select().order_by(m.AgentStateLog.id))
    assert [(r.agent, r.state, r.seconds) for r in rows] == [("1001", "free", 30.0), ("1001", "in_call", None)]
    assert (writer.batches, writer.written, writer.failed) == (1, 2, 1)


def test_flush_waits_for_what_was_queued_before_it_not_for_an_empty_queue(db):
    """The wallboard waits for the call records queued before its request: under a steady
    stream of calls the queue is never empty, and waiting for that took the whole timeout."""
    import gevent

    writer, started = WriteBehind(db), dt.datetime(2026, 12, 6, 9, 0)

    def write(n):
        time.sleep(0.005)  # slower than the calls come: the queue never empties
        m.AgentStateLog.create(agent=f"{n:03d}", state="free", reason="", started_at=started)

    def keep_writing():
        for n in range(100, 400):
            writer.submit(write, n)
            gevent.sleep(0.002)

    for n in range(5):
        writer.submit(write, n)
    stream = gevent.spawn(keep_writing)
    assert writer.flush(10)
    assert {f"{n:03d}" for n in range(5)} <= {r.agent for r in m.AgentStateLog.select()}
    assert not stream.dead  # it returned while writes kept coming
    stream.kill()
    writer.close()
    assert writer.done == writer.submitted
