"""The ACD on real Asterisk: overflow between queues, pause with a reason, wrap-up,
auto-pause after missed calls, feature codes, a required disposition. How calls spread over
agents for every strategy we offer: test_queue_strategies.py."""

from __future__ import annotations

import pytest

from appliance.db.models import Agent, AgentStateLog, CallRecord, ReportBucket, ReportPlaceDay, ReportTrunkDay
from appliance.services.reports import office_day
from appliance.services.site import zone_of
from appliance.engine.live import FREE, IN_CALL, PAUSED, RINGING, WRAPUP
from harness import Phone, configure_basic, hang_up, sip_address, started, trunk_call, wait_until

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
    # the real call and its wrap-up in the report summaries, kept by the same writers
    rec = record_for("13800000013")
    buckets = list(ReportBucket.select().where(ReportBucket.agent == "1001", ReportBucket.queue == "sales"))
    assert (sum(b.offered for b in buckets), sum(b.answered for b in buckets)) == (1, 1)
    assert abs(sum(b.talk_seconds for b in buckets) - rec.talk_seconds) < 0.01
    assert abs(sum(b.wrapup_seconds for b in buckets) - wrapup.seconds) < 0.01
    # and in the day summaries by the caller's place and by trunk (the site's office day)
    [place] = ReportPlaceDay.select().where(ReportPlaceDay.queue == "sales")
    assert (place.place, place.calls, place.answered, place.direction) == ("1380000", 1, 1, "inbound")
    assert place.day == office_day(rec.enter_time, zone_of(app.site.timezone()))
    [trunk] = ReportTrunkDay.select().where(ReportTrunkDay.agent == "1001")
    assert (trunk.trunk, trunk.calls, trunk.destination_class) == (rec.trunk, 1, rec.destination_class)
    assert abs(trunk.talk_seconds - rec.talk_seconds) < 0.01


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


def sign_in(app, agents):
    """In this order: app_queue keeps dynamic members in the order they were added."""
    for ext in agents:
        app.agents.login(ext)
        wait_until(lambda: agent_state(app, ext) == FREE, 10, f"agent {ext} free")


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
        # the codes were not calls: the one call record is of a real call made after them
        phone.dial("1999")  # nobody's number: refused or not in service, and Asterisk hangs up
        wait_until(lambda: CallRecord.select().count(), 10, "the real call's record")
        assert [r.caller for r in CallRecord.select()] == ["1001"]
    finally:
        phone.stop()
    assert app.agi.stats.handler_errors == 0


def test_a_required_disposition_keeps_the_next_call_from_the_agent_until_it_is_saved(make_appliance, tmp_path):
    """Alice's queue requires a disposition: after her call she is held in wrap-up; a second
    call rings every available member (ringall) and reaches only Bob, whose phone never
    answers; once Alice saves the first call's disposition (the workspace's API, as herself)
    the second call reaches her and she answers it."""
    import json
    import urllib.request

    app = make_appliance()
    configure_basic(app)
    cfg = app.config
    cfg.update("queues", "sales", {"strategy": "ringall", "ring_timeout": 5, "retry": 1, "autopause_after": 0,
                                   "disposition_required": True}, actor="test")
    cfg.create("phones", {"extension": "1002", "secret": "pw-1002-secret"}, actor="test")
    cfg.create("agents", {"number": "1002", "name": "Bob", "phone": "1002"}, actor="test")
    cfg.add_member("sales", "1002", actor="test")
    alice = app.users.create("alice", "pw-alice-1234", "agent", language="en")
    cfg.update("agents", "1001", {"user": "alice"}, actor="test")
    app.start(web=True)
    wait_until(lambda: app.ami.connected, 30, "AMI to connect")
    phones = [Phone("1001", "pw-1001-secret", sip_address(app), tmp_path / "sipp", ring_ms=200, calls=2).start(),
              Phone("1002", "pw-1002-secret", sip_address(app), tmp_path / "sipp", calls=20,
                    scenario="agent_phone_noanswer.xml").start()]
    second = None
    try:
        sign_in(app, ["1001", "1002"])
        first = trunk_call(sip_address(app), "88001000", "13800000031", tmp_path / "sipp", hold_ms=500)
        assert first.run(60) == 0, first.errors()
        linkedid = record_for("13800000031").linkedid
        wait_until(lambda: app.live.agents["1001"].state == WRAPUP and app.live.agents["1001"].paused, 10,
                   "Alice held in wrap-up")
        assert "awaiting-disposition" in app.pbx.cli("queue show sales")

        second = trunk_call(sip_address(app), "88001000", "13800000032", tmp_path / "sipp",
                            scenario="trunk_call_until_told.xml").start()
        # ringall offers a call to every available member at once: Bob's missed ring is a
        # round that passed Alice over
        wait_until(lambda: app.live.agents["1002"].missed >= 1, 30, "the second call to ring Bob and time out")
        assert agent_state(app, "1001") == WRAPUP
        assert app.live.agents["1001"].awaiting_disposition == linkedid

        token = app.users.create_token(alice["id"], "t")
        request = urllib.request.Request(
            f"http://127.0.0.1:{app.web.server_port}/api/v1/agents/1001/calls/{linkedid}/outcome",
            data=json.dumps({"disposition": "sale", "note": ""}).encode(), method="POST",
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as response:
            assert json.loads(response.read())["disposition"] == "sale"
        wait_until(lambda: any(c.caller == "13800000032" and c.agent == "1001" for c in app.live.calls.values()),
                   30, "the second call answered by Alice")
        assert hang_up(second) == 0, second.errors()
    finally:
        if second is not None:
            second.stop()
        for phone in phones:
            phone.stop()
    rows = list(AgentStateLog.select().where(AgentStateLog.agent == "1001").order_by(AgentStateLog.id))
    held = next(i for i, r in enumerate(rows) if r.state == WRAPUP)
    assert [r.state for r in rows[held:held + 4]] == [WRAPUP, FREE, RINGING, IN_CALL], [r.state for r in rows]
    saved = Agent.get(Agent.number == "1001")
    assert not saved.paused  # the hold was never a pause of her own
