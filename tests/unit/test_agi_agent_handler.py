"""The FastAGI 'agent' handler: feature codes act on the agent sitting at the calling phone."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from appliance import dialplan_vars as v
from appliance.agi.handlers import agent as handler_mod
from appliance.errors import Unavailable, ValidationError
from appliance.services.config import ConfigService
from webharness import migrated


class Agents:
    def __init__(self, fail=None):
        self.calls, self.fail = [], fail

    def __getattr__(self, action):
        def do(*args, **kwargs):
            if self.fail:
                raise self.fail
            self.calls.append((action, *args, *kwargs.values()))
        return do


class Session:
    def __init__(self):
        self.variables = {}

    def set_variable(self, name, value):
        self.variables[name] = value


@pytest.fixture
def db(tmp_path):
    db = migrated(tmp_path / "a.db")
    cfg = ConfigService(db)
    cfg.create("phones", {"extension": "1001", "secret": "pw-1001-secret"}, actor="t")
    cfg.create("phones", {"extension": "1009", "secret": "pw-1009-secret"}, actor="t")
    cfg.create("agents", {"number": "7", "name": "Alice", "phone": "1001"}, actor="t")
    yield db
    db.close()


def run(agents, action, channel="PJSIP/1001-0000002a", callerid="1001", session=None):
    session = session or Session()
    request = SimpleNamespace(args=[action] if action else [], channel=channel, callerid=callerid)
    handler_mod.make_handler(agents)(session, request)
    return session.variables[v.RESULT]


@pytest.mark.parametrize("action, call", [("login", ("login", "7")), ("logout", ("logout", "7")),
                                          ("pause", ("pause", "7", "break")), ("unpause", ("unpause", "7"))])
def test_each_code_acts_on_the_agent_at_the_calling_phone(db, action, call):
    agents = Agents()
    assert run(agents, action) == "ok"
    assert agents.calls == [call]


def test_long_signin_names_the_agent_for_agentlogin(db):
    agents, session = Agents(), Session()
    assert run(agents, "long", session=session) == "ok"
    assert agents.calls == [("login", "7", "long")]
    assert session.variables[v.AGENT] == "7"


def test_analog_phone_is_known_by_its_port(db):
    """The port is the phone (a phone of kind fxs on it), whatever caller ID the line shows: a
    port with no phone is nobody's, even showing a SIP phone's extension."""
    cfg = ConfigService(db)
    cfg.create("phones", {"extension": "8005", "kind": "fxs", "dahdi_channel": 5}, actor="t")
    cfg.update("agents", "7", {"phone": "8005"}, actor="t")
    agents = Agents()
    assert run(agents, "long", channel="DAHDI/5-1", callerid="") == "ok"
    assert agents.calls == [("login", "7", "long")]
    assert run(Agents(), "login", channel="DAHDI/6-1", callerid="1001") == "agent.no_agent_at_phone"


def test_refusals_are_reported_to_the_dialplan(db):
    assert run(Agents(), "login", channel="PJSIP/1009-00000001") == "agent.no_agent_at_phone"
    assert run(Agents(), "login", channel="PJSIP/trunk-pstn-00000001") == "agent.no_agent_at_phone"
    assert run(Agents(), "dance") == "agent.bad_action"
    assert run(Agents(), None) == "agent.bad_action"
    assert run(Agents(fail=Unavailable("down", code="ami.unavailable")), "login") == "ami.unavailable"
    assert run(Agents(fail=ValidationError("x", code="agent.no_queue")), "login") == "agent.no_queue"


def test_endpoint_of_channel():
    assert handler_mod.endpoint_of("PJSIP/1001-0000002a") == "1001"
    assert handler_mod.endpoint_of("Local/1001@x-0001;1") == ""
    assert handler_mod.endpoint_of("PJSIP/weird") == ""
    assert handler_mod.endpoint_of("DAHDI/5-1", "1003") == "1003"
    assert handler_mod.endpoint_of("DAHDI/5-1", "anonymous") == ""
