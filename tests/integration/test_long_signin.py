"""Long sign-in on real Asterisk (app_agent_pool): the agent's phone stays connected for
the shift and queue calls are bridged in with a beep, without a new INVITE to the phone.

A SIPp phone dials *25 and stays up; its registration points at that same SIPp, so any
call that tried to ring the phone would be an unexpected INVITE and fail the scenario.
Analog phones take the same path (AgentLogin from the FXS port's *25); without a DAHDI
card here they are covered by the unit tests of the AGI handler only.

One appliance serves the module; each test starts and ends with the agent signed out.
"""

from __future__ import annotations

import pytest

from appliance.db import models as m
from appliance.engine.live import FREE, IN_CALL
from harness import Phone, channels, hang_up, leg, sip_address, the_call, trunk_call, wait_until

pytestmark = pytest.mark.asterisk

POOL_MEMBER = "Local/1001@cc-agent-pool/n"


def agent_state(app, number):
    agent = app.live.agents.get(number)
    return agent.state if agent else None


def members(app, queue: str) -> set[str]:
    _, events = app.ami.send_action_list("QueueStatus", {"Queue": queue})
    return {e.get("Location") or e.get("Interface") for e in events if e.get("Event") == "QueueMember"}


def signed_in(number: str, mode: str) -> bool:
    agent = m.Agent.get(m.Agent.number == number)
    return agent.logged_in and agent.login_mode == mode


def call_reaches_the_pool_agent(app, tmp_path, caller: str) -> None:
    call = trunk_call(sip_address(app), "88001000", caller, tmp_path / "sipp", hold_ms=4000).start()
    wait_until(lambda: agent_state(app, "1001") == IN_CALL, 15, "the call bridged to the agent")
    assert call.wait(30) == 0, call.errors()
    rec = wait_until(lambda: m.CallRecord.get_or_none(m.CallRecord.caller == caller), 15, "call record")
    assert (rec.agent, rec.disposition) == ("1001", "answered") and rec.talk_seconds >= 3
    wait_until(lambda: agent_state(app, "1001") == FREE, 10, "agent free again, still connected")


@pytest.fixture
def app(basic_appliance):
    """The module's appliance, agent 1001 signed out and out of every queue (as each test leaves it)."""
    wait_until(lambda: not m.Agent.get(m.Agent.number == "1001").logged_in and not members(basic_appliance, "sales")
               and not basic_appliance.live.calls, 15, "agent 1001 signed out, no call left")
    return basic_appliance


def log_text(app) -> str:
    return (app.settings.asterisk_dir / "log" / "messages.log").read_text(errors="replace")


def test_phone_dials_star25_and_takes_calls_without_ringing(app, tmp_path):
    seen = len(log_text(app))
    phone = Phone("1001", "pw-1001-secret", sip_address(app), tmp_path / "sipp")
    shift = phone.shift("*25").start()
    phone.register()  # calls for 1001 would now reach the shift's SIPp, and fail it
    wait_until(lambda: signed_in("1001", "long"), 10, "agent signed in for the shift")
    assert members(app, "sales") == {POOL_MEMBER}
    wait_until(lambda: agent_state(app, "1001") == FREE, 10, "agent waiting in the pool")
    [on_shift] = [name for name in channels(app) if name.startswith("PJSIP/1001-")]
    phone.dial("*25")  # signing in twice: refused with a tone, the first shift goes on
    assert signed_in("1001", "long") and members(app, "sales") == {POOL_MEMBER}
    call_reaches_the_pool_agent(app, tmp_path, "13800000081")
    call_reaches_the_pool_agent(app, tmp_path, "13800000082")
    log = log_text(app)[seen:]
    assert log.count(f"<{on_shift}> Playing 'beep.gsm'") == 2  # one beep per call, same channel
    assert f"class 'cc-agent-silence', on channel '{on_shift}'" in log  # silence between calls
    # the phone hangs up: the shift ends, the agent leaves every queue
    assert hang_up(shift) == 0, shift.errors()
    wait_until(lambda: not m.Agent.get(m.Agent.number == "1001").logged_in, 10, "signed out at hang-up")
    wait_until(lambda: not members(app, "sales"), 5, "no queue member left")


def test_web_sign_in_calls_the_phone_and_sign_out_hangs_it_up(app, tmp_path):
    phone = Phone("1001", "pw-1001-secret", sip_address(app), tmp_path / "sipp", ring_ms=300).start()
    answer = app.agents.call_for_long_signin("1001")
    assert answer["phone_ringing"] is True
    wait_until(lambda: signed_in("1001", "long"), 15, "agent signed in once the phone answered")
    wait_until(lambda: agent_state(app, "1001") == FREE, 10, "agent waiting in the pool")
    with pytest.raises(Exception, match="already signed in"):
        app.agents.call_for_long_signin("1001")
    call_reaches_the_pool_agent(app, tmp_path, "13800000083")
    # the agent ends a call from the web: the caller is hung up on, the phone stays connected
    call = trunk_call(sip_address(app), "88001000", "13800000085", tmp_path / "sipp",
                      scenario="trunk_call_fallback.xml").start()
    wait_until(lambda: agent_state(app, "1001") == IN_CALL, 15, "the call bridged to the agent")
    assert app.calls.end_call("1001", actor="alice")["hung_up"]
    assert call.wait(15) == 0, call.errors()
    wait_until(lambda: agent_state(app, "1001") == FREE, 10, "agent free, still on the shift")
    assert signed_in("1001", "long")
    app.agents.logout("1001")  # the appliance hangs up the phone's shift call
    assert phone.answer.wait(20) == 0, phone.answer.errors()
    assert not members(app, "sales")
    assert not m.Agent.get(m.Agent.number == "1001").logged_in


def test_shift_lost_while_appliance_was_away_is_signed_out_on_resync(app, tmp_path):
    """Asterisk no longer has the agent in the pool (e.g. it restarted): resync signs them out."""
    app.agents.login("1001", mode="long")  # the database says so, but no phone ever dialled *25
    assert members(app, "sales") == {POOL_MEMBER}
    app.agents.sync()
    assert not m.Agent.get(m.Agent.number == "1001").logged_in
    assert not members(app, "sales")


def test_hold_and_unhold_work_for_an_agent_on_a_shift(app, tmp_path):
    phone = Phone("1001", "pw-1001-secret", sip_address(app), tmp_path / "sipp")
    shift = phone.shift("*25").start()
    phone.register()
    wait_until(lambda: agent_state(app, "1001") == FREE, 10, "agent waiting in the pool")
    call = trunk_call(sip_address(app), "88001000", "13800000084", tmp_path / "sipp",
                      scenario="trunk_call_until_told.xml").start()
    wait_until(lambda: agent_state(app, "1001") == IN_CALL, 15, "the call bridged to the agent")
    assert app.calls.hold("1001", actor="alice")["held"]
    wait_until(lambda: leg(app, "PJSIP/trunk-pstn").get("app") == "MusicOnHold", 5, "music for the caller")
    assert leg(app, "PJSIP/1001").get("app") == "AgentLogin"  # the phone never left its shift
    assert app.calls.unhold("1001", actor="alice")["held"] is False
    wait_until(lambda: the_call(app).state == "talking", 5, "call off hold")
    assert hang_up(call) == 0, call.errors()
    wait_until(lambda: agent_state(app, "1001") == FREE, 10, "agent free after the call")
    assert hang_up(shift) == 0, shift.errors()
