"""The agent-state log written on the AMI reader's loop, three to four times a call: fixed
statements (no select or save built by peewee each time), with the rows the models' own
select-and-save wrote: the open row closed with its seconds, the next opened, a wrap-up's
seconds in the report bucket of the time it began."""

from __future__ import annotations

import datetime as dt

import peewee

from appliance.db import models as m
from appliance.db.writers import AgentStateWriter
from appliance.engine.live import AgentStateChanged
from appliance.services import reports

T0 = dt.datetime(2026, 12, 7, 9, 0, 0, tzinfo=dt.timezone.utc).timestamp()


def test_states_open_and_close_with_their_seconds(db, monkeypatch):
    writer = AgentStateWriter(db)
    writer.write(AgentStateChanged("1001", "free", "", T0))
    built = []
    real_sql = peewee.Context.sql
    monkeypatch.setattr(peewee.Context, "sql", lambda self, obj: built.append(obj) or real_sql(self, obj))
    writer.write(AgentStateChanged("1001", "in-call", "", T0 + 12.5))
    writer.write(AgentStateChanged("1002", "free", "", T0 + 13))  # another agent's rows are apart
    assert built == []  # nothing built by peewee on the way
    monkeypatch.undo()
    rows = [(r.agent, r.state, r.reason, r.started_at, r.ended_at, r.seconds)
            for r in m.AgentStateLog.select().order_by(m.AgentStateLog.id)]
    start = dt.datetime(2026, 12, 7, 9, 0, 0)
    assert rows == [("1001", "free", "", start, start + dt.timedelta(seconds=12.5), 12.5),
                    ("1001", "in-call", "", start + dt.timedelta(seconds=12.5), None, None),
                    ("1002", "free", "", start + dt.timedelta(seconds=13), None, None)]


def test_a_wrapup_adds_its_seconds_to_its_bucket(db):
    writer = AgentStateWriter(db)
    writer.write(AgentStateChanged("1001", "paused", reports.DISPOSITION_REASON, T0))
    writer.write(AgentStateChanged("1001", "free", "", T0 + 40))
    writer.write(AgentStateChanged("1001", "paused", "lunch", T0 + 50))  # a pause is not wrap-up
    writer.write(AgentStateChanged("1001", "free", "", T0 + 950))
    assert m.ReportBucket.select(peewee.fn.SUM(m.ReportBucket.wrapup_seconds)).scalar() == 40
