"""Agent call control on real Asterisk: hold and unhold, consultation with attended transfer
or cancel, and the three-way call; a SIPp trunk is the customer, SIPp phones the agents
(one appliance for the whole module; each caller hangs up when the test has seen enough)."""

from __future__ import annotations

import itertools
import time

import pytest

from appliance.db.models import CallRecord
from appliance.engine.live import FREE, IN_CALL
from appliance.errors import Conflict, ValidationError
from harness import Phone, Sipp, free_port, hang_up, leg, sip_address, the_call, trunk_call, wait_until

pytestmark = pytest.mark.asterisk

CALLERS = itertools.count(13800000071)  # each test's caller its own number


def agent_state(app, number):
    agent = app.live.agents.get(number)
    return agent.state if agent else None


def sent_to(app, prefix: str) -> int:
    """RTP packets Asterisk has sent to the leg whose channel name starts with ``prefix``."""
    for line in app.pbx.cli("pjsip show channelstats").splitlines():
        tokens = line.split()
        if "alaw" in tokens and any(t.startswith(prefix) for t in tokens):
            return int(tokens[tokens.index("alaw") + 5])
    return 0


@pytest.fixture(scope="module")
def office(basic_appliance, tmp_path_factory):
    """One appliance for the module: agent 1001 (queue sales) and agent 1002 (queue support)
    signed in, their phones answering."""
    app = basic_appliance
    app.config.create("phones", {"extension": "1002", "secret": "pw-1002-secret"}, actor="test")
    app.config.create("agents", {"number": "1002", "name": "Bob", "phone": "1002"}, actor="test")
    app.config.create("queues", {"name": "support"}, actor="test")
    app.config.add_member("support", "1002", actor="test")
    logs = tmp_path_factory.mktemp("sipp")
    phones = [Phone(ext, f"pw-{ext}-secret", sip_address(app), logs, ring_ms=200, calls=20).start()
              for ext in ("1001", "1002")]
    app.agents.login("1001")
    app.agents.login("1002")
    yield app, logs
    for phone in phones:
        phone.stop()


@pytest.fixture
def agents_on_a_call(office):
    """Agent 1001 (queue sales) talking with a caller of the test's own number, who talks
    until the test hangs up (``hang_up``); agent 1002 (queue support) free. Afterwards
    the call is over and both agents free again, for the module's next test."""
    app, logs = office
    caller = str(next(CALLERS))
    wait_until(lambda: agent_state(app, "1001") == FREE and agent_state(app, "1002") == FREE, 10, "agents free")
    call = trunk_call(sip_address(app), "88001000", caller, logs, scenario="trunk_call_until_told.xml").start()
    wait_until(lambda: agent_state(app, "1001") == IN_CALL, 15, "agent talking")
    yield app, call, caller
    if call.process.poll() is None:  # the test failed on the way: the caller goes, whatever is left of the call
        call.stop()
        app.pbx.cli("channel request hangup all")
    wait_until(lambda: not app.live.calls and agent_state(app, "1001") == FREE and agent_state(app, "1002") == FREE,
               15, "the call over and both agents free")


def test_a_desk_phones_busy_lamp_key_watches_a_colleague(office):
    """What a provisioned phone's BLF key does (docs/operations.md, desk phones): Alice's
    phone subscribes to Bob's extension and is told his state (the hint of each phone)."""
    import socket

    app, logs = office
    assert "1002@cc-from-phone" in app.pbx.cli("core show hints").replace(" ", "")
    blf = Sipp("phone_subscribe_blf.xml", "127.0.0.1", free_port(socket.SOCK_DGRAM), sip_address(app),
               {"agent": "1001", "watched": "1002"}, logs, extra_args=("-au", "1001", "-ap", "pw-1001-secret"))
    assert blf.run(30) == 0


def record_of(caller: str):
    return wait_until(lambda: CallRecord.get_or_none(CallRecord.caller == caller), 15, "record")


def test_hold_plays_music_to_the_customer_and_unhold_reconnects(agents_on_a_call):
    app, call, caller = agents_on_a_call
    talking = time.monotonic()
    with pytest.raises(Conflict):
        app.calls.unhold("1001", actor="alice")  # not on hold
    assert app.calls.hold("1001", actor="alice")["held"]
    wait_until(lambda: the_call(app).state == "held", 5, "call on hold")
    wait_until(lambda: leg(app, "PJSIP/trunk-pstn").get("app") == "MusicOnHold", 5, "music for the caller")
    before = sent_to(app, "trunk-pstn")
    wait_until(lambda: sent_to(app, "trunk-pstn") - before >= 50, 5, "music packets to the caller on hold")
    assert leg(app, "PJSIP/1001").get("app") == "Wait"  # the agent's phone stays connected, in silence
    assert agent_state(app, "1001") == IN_CALL  # app_queue let go of the call; the agent is still on it
    assert app.calls.unhold("1001", actor="alice")["held"] is False
    wait_until(lambda: the_call(app).state == "talking", 5, "call off hold")
    wait_until(lambda: leg(app, "PJSIP/trunk-pstn").get("bridge")
               and leg(app, "PJSIP/trunk-pstn")["bridge"] == leg(app, "PJSIP/1001").get("bridge"),
               5, "caller and agent in one bridge again")
    talked = time.monotonic() - talking  # at least: the call was answered before the test saw it
    assert hang_up(call) == 0, call.errors()  # the caller talked on and hung up
    rec = record_of(caller)
    assert (rec.agent, rec.disposition) == ("1001", "answered")
    assert rec.talk_seconds >= talked - 0.5, (rec.talk_seconds, talked)  # the time on hold counts as talk
    wait_until(lambda: agent_state(app, "1001") == FREE, 10, "agent free after the call")


def consult_bob(app):
    with pytest.raises(ValidationError):
        app.calls.consult("1001", "agent", "1001", actor="alice")  # not oneself
    assert app.calls.consult("1001", "agent", "1002", actor="alice")["status"] == "calling"
    wait_until(lambda: the_call(app).state == "consulting" and the_call(app).consult_answered, 10, "Bob answering")
    assert agent_state(app, "1002") == IN_CALL
    assert leg(app, "PJSIP/trunk-pstn").get("app") == "MusicOnHold"


def test_attended_transfer_hands_the_caller_to_the_consulted_agent(agents_on_a_call):
    app, call, caller = agents_on_a_call
    with pytest.raises(Conflict):
        app.calls.complete_transfer("1001", actor="alice")  # nobody consulted yet
    consult_bob(app)
    assert app.calls.complete_transfer("1001", actor="alice")["transferred"]
    wait_until(lambda: leg(app, "PJSIP/trunk-pstn").get("bridge")
               and leg(app, "PJSIP/trunk-pstn")["bridge"] == leg(app, "PJSIP/1002").get("bridge"),
               5, "caller and Bob in one bridge")
    wait_until(lambda: agent_state(app, "1001") == FREE and not leg(app, "PJSIP/1001"), 5, "Alice released")
    assert agent_state(app, "1002") == IN_CALL
    assert hang_up(call) == 0, call.errors()
    rec = record_of(caller)
    assert (rec.agent, rec.disposition) == ("1002", "answered")
    wait_until(lambda: agent_state(app, "1002") == FREE, 10, "Bob free after the call")


def test_cancelled_consultation_returns_the_agent_to_the_caller(agents_on_a_call):
    app, call, caller = agents_on_a_call
    consult_bob(app)
    assert app.calls.cancel_consult("1001", actor="alice")["consulting"] is False
    wait_until(lambda: agent_state(app, "1002") == FREE, 5, "Bob hung up on and free")
    wait_until(lambda: the_call(app).state == "talking" and leg(app, "PJSIP/trunk-pstn").get("bridge")
               and leg(app, "PJSIP/trunk-pstn")["bridge"] == leg(app, "PJSIP/1001").get("bridge"),
               5, "Alice back with the caller")
    assert agent_state(app, "1001") == IN_CALL
    assert hang_up(call) == 0, call.errors()
    rec = record_of(caller)
    assert rec.agent == "1001"


def test_three_way_call_puts_all_three_in_one_conference(agents_on_a_call):
    app, call, caller = agents_on_a_call
    consult_bob(app)
    room = app.calls.conference("1001", actor="alice")["conference"]
    wait_until(lambda: the_call(app).state == "conference", 5, "call in conference")
    wait_until(lambda: all(leg(app, p).get("app") == "ConfBridge" for p in ("PJSIP/trunk-pstn", "PJSIP/1001",
                                                                              "PJSIP/1002")),
               5, "caller, Alice and Bob in the conference")
    assert len({leg(app, p)["bridge"] for p in ("PJSIP/trunk-pstn", "PJSIP/1001", "PJSIP/1002")}) == 1
    assert room in app.pbx.cli("confbridge list")
    assert hang_up(call) == 0, call.errors()
    rec = record_of(caller)
    assert (rec.agent, rec.disposition) == ("1001", "answered")
