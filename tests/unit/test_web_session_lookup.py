"""Every signed-in request looks its session up on the loop: one fixed statement (peewee built
the joined select again for each request, the mixed load's stalls named it), with the answers
the joined select gave: the user and the CSRF token of a live session of an active account,
nothing for an unknown token, an expired session or a switched-off account; the last-seen time
written at most once a minute."""

from __future__ import annotations

import datetime as dt

import peewee

from appliance.db import models as m
from appliance.services.users import UserService, _view
from test_loop_database import queries  # (the result, the SQL statements run)


def test_a_live_session_is_one_statement_with_the_same_answer(db, monkeypatch):
    users = UserService(db)
    user = users.create("alice", "a-long-password-1", "supervisor", language="en")
    token, csrf = users.start_session(user["id"], 3600)
    users.session(token)  # the statement made once
    built = []
    real_sql = peewee.Context.sql
    monkeypatch.setattr(peewee.Context, "sql", lambda self, obj: built.append(obj) or real_sql(self, obj))
    got, sql = queries(db, lambda: users.session(token))
    assert built == []  # no query built by peewee for it
    assert got == (_view(m.User.get_by_id(user["id"])), csrf)
    assert len(sql) == 1 and sql[0].startswith("SELECT"), sql
    assert users.session(token + "x") is None and users.session("") is None and users.session(None) is None


def test_expired_sessions_and_switched_off_accounts_have_none(db):
    users = UserService(db)
    user = users.create("bob", "a-long-password-1", "agent")
    token, _ = users.start_session(user["id"], 3600)
    m.WebSession.update(expires_at=m.utcnow() - dt.timedelta(seconds=1)).execute()
    assert users.session(token) is None
    token, _ = users.start_session(user["id"], 3600)
    m.User.update(active=False).where(m.User.id == user["id"]).execute()
    assert users.session(token) is None


def test_the_last_seen_time_is_written_at_most_once_a_minute(db):
    users = UserService(db)
    user = users.create("carol", "a-long-password-1", "agent")
    token, _ = users.start_session(user["id"], 3600)
    _, sql = queries(db, lambda: users.session(token))
    assert not any(s.startswith("UPDATE") for s in sql)
    m.WebSession.update(last_seen_at=m.utcnow() - dt.timedelta(seconds=61)).execute()
    _, sql = queries(db, lambda: users.session(token))
    assert sum(s.startswith("UPDATE") for s in sql) == 1
    assert (m.utcnow() - m.WebSession.get().last_seen_at).total_seconds() < 5
