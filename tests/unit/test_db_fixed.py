"""appliance/db/fixed.py: the statements the loop runs for every call, made once, write and
read what the models' own insert and select do (the columns given, the defaults of the others,
the fields' conversions), and build nothing with peewee once made."""

from __future__ import annotations

import datetime as dt

import peewee
import pytest

from appliance.db import fixed
from appliance.db import models as m

CALL = {"linkedid": "1795443674.1", "caller": "13912345678", "queue": "sales", "agent": "1001",
        "enter_time": dt.datetime(2026, 12, 7, 9, 0, 1, 250000), "answer_time": dt.datetime(2026, 12, 7, 9, 0, 9),
        "end_time": None, "wait_seconds": 7.75, "disposition": "answered", "hangup_cause": 16, "cost": None}


def rows(model, key, value):
    return [{k: v for k, v in r.items() if k != "id"}
            for r in model.select().where(getattr(model, key) == value).dicts()]


def test_an_insert_writes_the_row_peewee_writes(db):
    m.CallRecord.insert(**CALL).execute()
    theirs = rows(m.CallRecord, "linkedid", CALL["linkedid"])
    m.CallRecord.delete().execute()
    fixed.insert(m.CallRecord, CALL)
    assert rows(m.CallRecord, "linkedid", CALL["linkedid"]) == theirs
    assert theirs[0]["direction"] == "inbound" and theirs[0]["talk_seconds"] == 0  # the defaults


def test_replace_and_ignore_on_a_conflict(db):
    fixed.insert(m.CallRecord, CALL)
    fixed.insert(m.CallRecord, {**CALL, "agent": "1002"}, "REPLACE")
    fixed.insert(m.CallRecord, {**CALL, "agent": "1003"}, "IGNORE")
    assert [r["agent"] for r in rows(m.CallRecord, "linkedid", CALL["linkedid"])] == ["1002"]
    with pytest.raises(peewee.IntegrityError):
        fixed.insert(m.CallRecord, CALL)
    with pytest.raises(AttributeError):
        fixed.insert(m.CallRecord, {**CALL, "no_such_field": 1})


def test_callable_defaults_and_foreign_keys(db):
    user = m.User.create(username="alice", password_hash="x", role="agent")
    before = m.utcnow()
    fixed.insert(m.WebSession, {"user": user.id, "token_hash": "h" * 64, "csrf": "c", "expires_at": before})
    session = m.WebSession.get()
    assert session.user_id == user.id and session.created_at >= before and session.user_agent == ""


def test_a_row_by_key_is_what_dicts_first_gives(db):
    fixed.insert(m.CallRecord, CALL)
    assert fixed.row_by(m.CallRecord, "linkedid", CALL["linkedid"]) == (
        m.CallRecord.select().where(m.CallRecord.linkedid == CALL["linkedid"]).dicts().first())
    assert fixed.row_by(m.CallRecord, "linkedid", "nobody") is None


def test_nothing_is_built_by_peewee_once_made(db, monkeypatch):
    fixed.insert(m.CallRecord, CALL)
    fixed.row_by(m.CallRecord, "linkedid", CALL["linkedid"])
    built = []
    real_sql = peewee.Context.sql
    monkeypatch.setattr(peewee.Context, "sql", lambda self, obj: built.append(obj) or real_sql(self, obj))
    fixed.insert(m.CallRecord, {**CALL, "linkedid": "1795443674.2"})
    fixed.row_by(m.CallRecord, "linkedid", "1795443674.2")
    assert built == []
