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


def test_the_call_paths_lookups_answer_as_peewees_queries_did(db):
    """customer_of and last_agent_of run fixed SQL (peewee built the SQL again for every call):
    the same answers as the peewee queries they replaced, for numbers in every stored form."""
    import datetime as dt
    from types import SimpleNamespace

    from peewee import JOIN

    from appliance import numbers
    from appliance.services.callers import customer_of, last_agent_of

    alice = m.Agent.create(number="1001", name="Alice")
    m.Customer.create(name="王芳", phone="+8613912345678", account_manager=alice, category="vip")
    m.Customer.create(name="王芳 (again)", phone="13912345678")
    m.Customer.create(name="张伟", phone="13800000001")
    now = dt.datetime(2026, 12, 7, 9, 0)
    for caller, agent, days, talk in (("13912345678", "1001", 3, 40), ("+8613912345678", "1002", 1, 5),
                                      ("13800000001", "1003", 40, 90), ("13800000001", "", 1, 90),
                                      ("8613800000001", "1004", 2, 12)):
        m.CallRecord.create(linkedid=f"{caller}.{days}", caller=caller, agent=agent, talk_seconds=talk,
                            disposition="answered",
                            enter_time=now - dt.timedelta(days=days), end_time=now - dt.timedelta(days=days))
    rule = SimpleNamespace(lookback_days=30, min_talk_seconds=10)

    def before_customer(caller):
        forms = numbers.variants(caller)
        return forms and (m.Customer.select(m.Customer, m.Agent)
                          .join(m.Agent, JOIN.LEFT_OUTER, on=(m.Customer.account_manager == m.Agent.id))
                          .where(m.Customer.phone.in_(forms)).order_by(m.Customer.id).first())

    def before_agent(caller):
        forms = numbers.variants(caller)
        since = now - dt.timedelta(days=rule.lookback_days)
        row = forms and (m.CallRecord.select(m.CallRecord.agent)
                         .where(m.CallRecord.caller.in_(forms), m.CallRecord.end_time >= since,
                                m.CallRecord.agent != "", m.CallRecord.talk_seconds >= rule.min_talk_seconds)
                         .order_by(m.CallRecord.end_time.desc()).first())
        return row.agent if row else None

    def view(c):
        return c and (c.id, c.name, c.phone, c.category, c.created_at,
                      c.account_manager.number if c.account_manager_id else None,
                      c.account_manager.name if c.account_manager_id else None)

    for caller in ("13912345678", "+86 139 1234 5678", "008613912345678", "13800000001", "13700000000", "", "abc"):
        assert view(customer_of(caller)) == view(before_customer(caller) or None), caller
        assert last_agent_of(caller, rule, now.replace(tzinfo=dt.timezone.utc)) == before_agent(caller), caller
    assert last_agent_of("13800000001", rule, now.replace(tzinfo=dt.timezone.utc)) == "1004"
    assert view(customer_of("13912345678"))[5:] == ("1001", "Alice")


def test_the_callers_customer_is_as_loaded_and_its_account_manager_the_whole_agent(db):
    """customer_of's row carries the manager's number for the call path, and is otherwise the
    model as peewee loads it: not changed, its account manager read in full when asked for
    (a partial agent pinned on it had the defaults' recording setting, not the stored one)."""
    from appliance.services.callers import account_manager_of, customer_of

    alice = m.Agent.create(number="1001", name="Alice", recording="never")
    m.Customer.create(name="王芳", phone="+8613912345678", account_manager=alice)
    customer, sql = queries(db, lambda: customer_of("13912345678"))
    assert len(sql) == 1 and not customer.is_dirty() and customer.manager_number == "1001"
    assert customer.account_manager.recording == "never" and customer.account_manager.name == "Alice"
    assert account_manager_of("13912345678") == "1001"
