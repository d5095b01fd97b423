"""A new agent in one step (appliance/services/agent_setup.py), over a real SQLite file and
the real configuration and user services: account, phone, agent and memberships made
together and applied once; any wrong part makes nothing and every wrong field is named."""

from __future__ import annotations

import pytest

from appliance.db import models as m
from appliance.errors import ValidationError
from appliance.services.agent_setup import SIP_SECRET_LENGTH, AgentSetup
from appliance.services.config import ConfigService
from appliance.services.users import UserService, verify_password


@pytest.fixture
def setup(db):
    applied = []
    config = ConfigService(db, on_change=lambda: applied.append(1))
    config.create("queues", {"name": "sales"}, actor="seed")
    config.create("queues", {"name": "support"}, actor="seed")
    applied.clear()
    service = AgentSetup(config, UserService(db))
    service.applied = applied
    return service


def counts():
    return (m.User.select().count(), m.Phone.select().count(), m.Agent.select().count(),
            m.QueueMember.select().count())


def test_an_agent_with_two_queues_is_made_at_once_and_applied_once(setup):
    made = setup.create({"username": "carol", "password": "carol-pass-1", "display_name": "Carol 陈",
                         "extension": "1003", "queues": [{"name": "sales", "penalty": "2"}, "support"]},
                        actor="admin", language="en")
    assert made["number"] == "1003" and made["queues"] == ["sales", "support"]
    assert len(made["sip_secret"]) == SIP_SECRET_LENGTH and made["sip_secret"].isalnum()
    assert setup.applied == [1]
    agent = m.Agent.get(m.Agent.number == "1003")
    assert agent.name == "Carol 陈" and agent.phone.extension == "1003" and agent.user.username == "carol"
    assert agent.user.role == "agent" and agent.user.language == "en"
    assert verify_password("carol-pass-1", agent.user.password_hash)
    assert agent.phone.secret == made["sip_secret"] and agent.phone.callerid_name == "Carol 陈"
    assert {(qm.queue.name, qm.penalty) for qm in agent.memberships} == {("sales", 2), ("support", 0)}
    audited = {(a.object_type, a.object_id) for a in m.AuditLog.select().where(m.AuditLog.username == "admin")}
    assert {("users", "carol"), ("phones", "1003"), ("agents", "1003"), ("members", "sales/1003"),
            ("members", "support/1003")} <= audited


def test_every_wrong_field_is_named_and_nothing_is_made(setup):
    setup.config.create("phones", {"extension": "1001", "secret": "pw-1001-secret"}, actor="seed")
    setup.applied.clear()
    before = counts()
    with pytest.raises(ValidationError) as err:
        setup.create({"username": "bad name", "password": "short", "display_name": "",
                      "extension": "1001", "number": "x1", "queues": ["sales", "nowhere"]}, actor="admin")
    fields = err.value.fields
    assert fields["username"].msgid == "field.username"
    assert fields["extension"].msgid == "field.exists"
    assert fields["number"].msgid == "field.pattern"
    assert fields["display_name"].msgid == "field.required"
    assert counts() == before and setup.applied == []


def test_a_later_part_failing_undoes_the_earlier_ones(setup):
    """Account, phone and agent are fine; a queue that does not exist undoes them all."""
    before = counts()
    with pytest.raises(ValidationError) as err:
        setup.create({"username": "dave", "password": "dave-pass-1", "display_name": "Dave", "extension": "1004",
                      "queues": ["sales", "gone"]}, actor="admin")
    assert set(err.value.fields) == {"queues"}
    assert err.value.fields["queues"].msgid == "field.no_such" and err.value.fields["queues"].params["key"] == "gone"
    assert counts() == before and setup.applied == []
    assert not m.AuditLog.select().where(m.AuditLog.object_id.contains("dave")).exists()


def test_an_empty_work_number_taken_by_another_agent_is_the_extensions_error(setup):
    setup.config.create("agents", {"number": "1005", "name": "Old"}, actor="seed")
    with pytest.raises(ValidationError) as err:
        setup.create({"username": "erin", "password": "erin-pass-1", "display_name": "Erin", "extension": "1005"},
                     actor="admin")
    assert set(err.value.fields) == {"extension"} and err.value.fields["extension"].msgid == "field.exists"


def test_several_agents_all_or_none_with_errors_by_row(setup):
    rows = [{"username": "f1", "password": "pass-word-1", "display_name": "F1", "extension": "2001"},
            {"username": "f1", "password": "pass-word-2", "display_name": "F2", "extension": "2001"}]
    with pytest.raises(ValidationError) as err:
        setup.create_many(rows, actor="admin")
    assert set(err.value.fields) == {"1.username", "1.extension"}
    assert counts()[0] == 0 and setup.applied == []
    rows[1].update(username="f2", extension="2002")
    made = setup.create_many(rows, actor="admin")
    assert [r["number"] for r in made] == ["2001", "2002"] and setup.applied == [1]


def test_saved_but_not_applied_keeps_the_passwords(setup):
    from appliance.errors import Unavailable

    def down():
        raise Unavailable("Asterisk is down", code="config.apply_failed")

    setup.config.on_change = down
    made = setup.create({"username": "gus", "password": "gus-pass-12", "display_name": "Gus", "extension": "1006"},
                        actor="admin")
    assert made["apply_failed"] == "config.apply_failed" and made["sip_secret"]
    assert m.Phone.get(m.Phone.extension == "1006").secret == made["sip_secret"]
