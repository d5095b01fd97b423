"""The ACD on real Asterisk: overflow between queues, pause with a reason, wrap-up,
auto-pause after missed calls, and how calls spread over agents per strategy."""

from __future__ import annotations

import collections
import socket

import pytest

from appliance.db.models import Agent, AgentStateLog, CallRecord
from appliance.engine.live import FREE, IN_CALL, PAUSED, RINGING, WRAPUP
from harness import TRUNK_IP, Phone, Sipp, configure_basic, free_port, sip_address, started, trunk_call, wait_until

pytestmark = pytest.mark.asterisk


def agent_state(app, number):
    agent = app.live.agents.get(number)
    return agent.state if agent else None


def record_for(caller):
    return wait_until(lambda: CallRecord.get_or_none(CallRecord.caller == caller), 20, f"call record of {caller}")


def subsequence(wanted, seen):
    it = iter(seen)
    return all(any(w == s for s in it) for w in wanted)


def test_caller_overflows_to_the_next_queue_when_nobody_can_answer(make_appliance, tmp_path):
    app = make_appliance()
    configure_basic(app)
    cfg = app.config
    cfg.create("queues", {"name": "support"}, actor="test")
    cfg.update("queues", "sales", {"overflow_queue": "support"}, actor="test")
    cfg.remove_member("sales", "1001", actor="test")
    cfg.add_member("support", "1001", actor="test")
    started(app)
    phone = Phone("1001", "pw-1001-secret", sip_address(app), tmp_path / "sipp", ring_ms=200).start()
    try:
        app.agents.login("1001")
        wait_until(lambda: agent_state(app, "1001") == FREE, 10, "agent free")
        call = trunk_call(sip_address(app), "88001000", "13800000011", tmp_path / "sipp", hold_ms=2000)
        assert call.run(60) == 0, call.errors()
    finally:
        phone.stop()
    rec = record_for("13800000011")
    assert (rec.queue, rec.agent, rec.disposition) == ("support", "1001", "answered")


def test_overflow_chain_ends_in_the_fallback(make_appliance, tmp_path):
    """sales -> support -> sales ... is refused as a loop; a long chain nobody serves ends in the fallback."""
    app = make_appliance()
    configure_basic(app)
    cfg = app.config
    cfg.create("queues", {"name": "support", "overflow_queue": "sales"}, actor="test")
    with pytest.raises(Exception, match="circle"):
        cfg.update("queues", "sales", {"overflow_queue": "support"}, actor="test")
    cfg.update("dids", "88001000", {"queue": "support"}, actor="test")
    started(app)
    call = trunk_call(sip_address(app), "88001000", "13800000012", tmp_path / "sipp",
                      scenario="trunk_call_fallback.xml")
    assert call.run(60) == 0, call.errors()
    rec = record_for("13800000012")
    # support (nobody) overflowed into sales (nobody): the record names the last queue tried
    assert (rec.disposition, rec.fallback_reason, rec.queue) == ("fallback", "queue-joinempty", "sales")


def test_pause_with_reason_then_wrapup_after_a_call_all_in_the_history(make_appliance, tmp_path):
    app = make_appliance()
    configure_basic(app)
    app.config.update("queues", "sales", {"wrapup_seconds": 3}, actor="test")
    started(app)
    phone = Phone("1001", "pw-1001-secret", sip_address(app), tmp_path / "sipp", ring_ms=200).start()
    try:
        app.agents.login("1001")
        wait_until(lambda: agent_state(app, "1001") == FREE, 10, "agent free")
        app.agents.pause("1001", "lunch")
        wait_until(lambda: agent_state(app, "1001") == PAUSED, 10, "agent paused")
        assert app.live.agents["1001"].pause_reason == "lunch"
        assert "lunch" in app.pbx.cli("queue show sales")
        assert Agent.get(Agent.number == "1001").pause_reason == "lunch"
        app.agents.unpause("1001")
        wait_until(lambda: agent_state(app, "1001") == FREE, 10, "agent available again")

        call = trunk_call(sip_address(app), "88001000", "13800000013", tmp_path / "sipp", hold_ms=2000)
        assert call.run(60) == 0, call.errors()
        wait_until(lambda: agent_state(app, "1001") == WRAPUP, 5, "agent in wrap-up after the call")
        wait_until(lambda: agent_state(app, "1001") == FREE, 10, "wrap-up over")
    finally:
        phone.stop()
    rows = list(AgentStateLog.select().where(AgentStateLog.agent == "1001").order_by(AgentStateLog.id))
    states = [(r.state, r.reason) for r in rows]
    assert subsequence([(PAUSED, "lunch"), (FREE, ""), (RINGING, ""), (IN_CALL, ""), (WRAPUP, ""), (FREE, "")],
                       states), states
    wrapup = [r for r in rows if r.state == WRAPUP][-1]
    assert 2.0 <= wrapup.seconds <= 4.5, wrapup.seconds  # 3 s of wrap-up, ended by the 1 s tick
    assert all(r.ended_at is not None for r in rows[:-1]) and rows[-1].ended_at is None


def test_agent_is_paused_after_missing_calls_in_a_row(make_appliance, tmp_path):
    app = make_appliance()
    configure_basic(app)
    app.config.update("queues", "sales", {"ring_timeout": 5, "retry": 1, "autopause_after": 2}, actor="test")
    started(app)
    phone = Phone("1001", "pw-1001-secret", sip_address(app), tmp_path / "sipp", calls=5,
                  scenario="agent_phone_noanswer.xml").start()
    try:
        app.agents.login("1001")
        wait_until(lambda: agent_state(app, "1001") == FREE, 10, "agent free")
        # the only agent never answers: after two missed rings the engine pauses them, the
        # queue is left with nobody to answer, and the caller goes to the fallback
        call = trunk_call(sip_address(app), "88001000", "13800000014", tmp_path / "sipp",
                          scenario="trunk_call_fallback.xml")
        assert call.run(60) == 0, call.errors()
    finally:
        phone.stop()
    wait_until(lambda: agent_state(app, "1001") == PAUSED, 10, "agent auto-paused")
    agent = Agent.get(Agent.number == "1001")
    assert (agent.paused, agent.pause_reason) == (True, "missed-calls")
    assert "missed-calls" in app.pbx.cli("queue show sales")
    rec = record_for("13800000014")
    assert (rec.disposition, rec.fallback_reason) == ("fallback", "queue-leaveempty")


@pytest.mark.parametrize("strategy", ["leastrecent", "rrmemory"])
def test_thirty_calls_spread_evenly_over_three_agents(make_appliance, tmp_path, strategy):
    app = make_appliance()
    configure_basic(app)
    cfg = app.config
    cfg.update("queues", "sales", {"strategy": strategy, "retry": 1}, actor="test")
    agents = ["1001", "1002", "1003"]
    for ext in agents[1:]:
        cfg.create("phones", {"extension": ext, "secret": f"pw-{ext}-secret"}, actor="test")
        cfg.create("agents", {"number": ext, "name": f"Agent {ext}", "phone": ext}, actor="test")
        cfg.add_member("sales", ext, actor="test")
    started(app)
    phones = [Phone(ext, f"pw-{ext}-secret", sip_address(app), tmp_path / "sipp", ring_ms=0, calls=30).start()
              for ext in agents]
    try:
        for ext in agents:
            app.agents.login(ext)
        wait_until(lambda: all(agent_state(app, a) == FREE for a in agents), 10, "agents free")
        # One call at a time (-l 1), so each strategy's choice is exact, not a race.
        # app_queue keeps an agent's last call in whole seconds: leastrecent needs calls
        # that end more than a second apart, or it sees ties.
        hold_ms = 1100 if strategy == "leastrecent" else 300
        calls = Sipp("trunk_call.xml", TRUNK_IP, free_port(socket.SOCK_DGRAM, TRUNK_IP), sip_address(app),
                     {"caller": "13800000020", "caller_name": "Load"}, tmp_path / "sipp", calls=30, rate=10,
                     limit=1, service="88001000", timeout_s=300, extra_args=("-d", str(hold_ms)))
        assert calls.run(300) == 0, calls.errors()
        wait_until(lambda: CallRecord.select().count() == 30, 20, "30 call records")
    finally:
        for phone in phones:
            phone.stop()
    order = [r.agent for r in CallRecord.select().order_by(CallRecord.enter_time)]
    spread = collections.Counter(order)
    assert spread == {"1001": 10, "1002": 10, "1003": 10}, " ".join(order)


def test_agent_signs_in_pauses_and_signs_out_with_feature_codes_from_their_phone(make_appliance, tmp_path):
    app = make_appliance()
    configure_basic(app)
    started(app)
    phone = Phone("1001", "pw-1001-secret", sip_address(app), tmp_path / "sipp").start()
    try:
        phone.dial("*21")
        wait_until(lambda: agent_state(app, "1001") == FREE, 10, "signed in from the phone")
        assert Agent.get(Agent.number == "1001").logged_in
        phone.dial("*23")
        wait_until(lambda: agent_state(app, "1001") == PAUSED, 10, "paused from the phone")
        assert Agent.get(Agent.number == "1001").pause_reason == "break"
        phone.dial("*24")
        wait_until(lambda: agent_state(app, "1001") == FREE, 10, "available again")
        phone.dial("*22")
        wait_until(lambda: agent_state(app, "1001") == "logged_out", 10, "signed out from the phone")
        assert not Agent.get(Agent.number == "1001").logged_in
    finally:
        phone.stop()
    assert app.agi.stats.handler_errors == 0
