"""The ACD on real Asterisk: overflow between queues, pause with a reason, wrap-up,
auto-pause after missed calls, and how calls spread over agents for every strategy we offer
(appliance/confgen/queues.py STRATEGIES: ringall, leastrecent, fewestcalls, random, rrmemory,
linear, wrandom)."""

from __future__ import annotations

import collections
import socket

import pytest

from appliance.db.models import Agent, AgentStateLog, CallRecord, ReportBucket, ReportPlaceDay, ReportTrunkDay
from appliance.services.reports import office_day
from appliance.services.site import zone_of
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


@pytest.mark.parametrize("strategy", ["leastrecent", "rrmemory"])
def test_twelve_calls_spread_evenly_over_three_agents(make_appliance, tmp_path, strategy):
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
    phones = [Phone(ext, f"pw-{ext}-secret", sip_address(app), tmp_path / "sipp", ring_ms=0, calls=12).start()
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
                     {"caller": "13800000020", "caller_name": "Load"}, tmp_path / "sipp", calls=12, rate=10,
                     limit=1, service="88001000", timeout_s=300, extra_args=("-d", str(hold_ms)))
        assert calls.run(300) == 0, calls.errors()
        wait_until(lambda: CallRecord.select().count() == 12, 20, "12 call records")
    finally:
        for phone in phones:
            phone.stop()
    order = [r.agent for r in CallRecord.select().order_by(CallRecord.enter_time)]
    spread = collections.Counter(order)
    assert spread == {"1001": 4, "1002": 4, "1003": 4}, " ".join(order)


def queue_of(make_appliance, strategy, agents, penalties=None):
    """configure_basic's queue with ``strategy`` and ``agents`` as members (1001 first, at
    penalty 0; ``penalties``: agent -> member penalty for the others), started; nobody
    signed in yet."""
    app = make_appliance()
    configure_basic(app)
    cfg = app.config
    cfg.update("queues", "sales", {"strategy": strategy, "retry": 1}, actor="test")
    penalties = penalties or {}
    for ext in agents[1:]:
        cfg.create("phones", {"extension": ext, "secret": f"pw-{ext}-secret"}, actor="test")
        cfg.create("agents", {"number": ext, "name": f"Agent {ext}", "phone": ext}, actor="test")
        cfg.add_member("sales", ext, penalties.get(ext, 0), actor="test")
    return started(app)


def sign_in(app, agents):
    """In this order: app_queue keeps dynamic members in the order they were added."""
    for ext in agents:
        app.agents.login(ext)
        wait_until(lambda: agent_state(app, ext) == FREE, 10, f"agent {ext} free")


def calls_one_at_a_time(app, tmp_path, n, caller, hold_ms=300, agents=()):
    """``n`` calls, each once the last has ended and (given ``agents``) none of them is still
    ringing or talking as Asterisk sees it, so each choice is exact, not a race (a loaded
    machine once had linear skip an agent whose last call Asterisk had not yet seen end);
    the agents who answered them, in order."""
    before = CallRecord.select().count()
    for i in range(n):
        call = Sipp("trunk_call.xml", TRUNK_IP, free_port(socket.SOCK_DGRAM, TRUNK_IP), sip_address(app),
                    {"caller": caller, "caller_name": "Load"}, tmp_path / "sipp", calls=1,
                    service="88001000", timeout_s=60, extra_args=("-d", str(hold_ms)))
        assert call.run(60) == 0, call.errors()
        wait_until(lambda: CallRecord.select().count() == before + i + 1, 20, f"call record {i + 1} of {n}")
        wait_until(lambda: all(agent_state(app, a) not in (RINGING, IN_CALL) for a in agents), 20,
                   "the agents free of the last call")
    return [r.agent for r in CallRecord.select().where(CallRecord.caller == caller).order_by(CallRecord.enter_time)]


def test_ringall_rings_every_free_agent_at_once(make_appliance, tmp_path):
    agents = ["1001", "1002", "1003"]
    app = queue_of(make_appliance, "ringall", agents)
    phones = [Phone("1001", "pw-1001-secret", sip_address(app), tmp_path / "sipp", ring_ms=1500).start()]
    phones += [Phone(ext, f"pw-{ext}-secret", sip_address(app), tmp_path / "sipp", scenario="agent_phone_noanswer.xml")
               .start() for ext in agents[1:]]
    try:
        sign_in(app, agents)
        call = trunk_call(sip_address(app), "88001000", "13800000031", tmp_path / "sipp", hold_ms=4000).start()
        wait_until(lambda: all(agent_state(app, a) == RINGING for a in agents), 10, "all three phones ringing")
        assert call.wait(30) == 0, call.errors()  # 1001 picked up; the others were cancelled
    finally:
        for phone in phones:
            phone.stop()
    rec = record_for("13800000031")
    assert (rec.agent, rec.disposition) == ("1001", "answered")


def test_linear_gives_every_call_to_the_first_free_agent_in_member_order(make_appliance, tmp_path):
    agents = ["1001", "1002", "1003"]
    app = queue_of(make_appliance, "linear", agents)
    phones = [Phone(ext, f"pw-{ext}-secret", sip_address(app), tmp_path / "sipp", ring_ms=0, calls=4).start()
              for ext in agents]
    try:
        sign_in(app, agents)
        assert calls_one_at_a_time(app, tmp_path, 3, "13800000032", agents=agents) == ["1001"] * 3
        app.agents.pause("1001", "lunch")
        wait_until(lambda: agent_state(app, "1001") == PAUSED, 10, "1001 paused")
        assert calls_one_at_a_time(app, tmp_path, 2, "13800000033", agents=agents) == ["1002"] * 2  # next in order
    finally:
        for phone in phones:
            phone.stop()


def test_fewestcalls_gives_the_next_call_to_the_agent_with_fewest_answered(make_appliance, tmp_path):
    agents = ["1001", "1002"]
    app = queue_of(make_appliance, "fewestcalls", agents)
    phones = [Phone(ext, f"pw-{ext}-secret", sip_address(app), tmp_path / "sipp", ring_ms=0, calls=5).start()
              for ext in agents]
    try:
        sign_in(app, agents[:1])
        assert calls_one_at_a_time(app, tmp_path, 3, "13800000034", agents=agents) == ["1001"] * 3
        sign_in(app, agents[1:])
        # 1002 has answered 0, 1, 2 calls against 1001's 3: fewest every time (rrmemory or
        # leastrecent would alternate)
        assert calls_one_at_a_time(app, tmp_path, 3, "13800000035", agents=agents) == ["1002"] * 3
    finally:
        for phone in phones:
            phone.stop()


def test_random_gives_each_agent_some_calls(make_appliance, tmp_path):
    agents = ["1001", "1002"]
    app = queue_of(make_appliance, "random", agents)
    phones = [Phone(ext, f"pw-{ext}-secret", sip_address(app), tmp_path / "sipp", ring_ms=0, calls=12).start()
              for ext in agents]
    try:
        sign_in(app, agents)
        order = calls_one_at_a_time(app, tmp_path, 12, "13800000036", hold_ms=100, agents=agents)
    finally:
        for phone in phones:
            phone.stop()
    # a fair coin leaves one agent without any of 12 calls once in 2048 runs
    assert set(order) == set(agents), " ".join(order)


def test_wrandom_weights_the_choice_by_member_penalty(make_appliance, tmp_path):
    """app_queue's wrandom draws each member a number below (1 + penalty) * 1000 and rings the
    lowest: against penalty 0, a member with penalty 49 wins one draw in 100."""
    agents = ["1001", "1002"]
    app = queue_of(make_appliance, "wrandom", agents, penalties={"1002": 49})
    phones = [Phone(ext, f"pw-{ext}-secret", sip_address(app), tmp_path / "sipp", ring_ms=0, calls=16).start()
              for ext in agents]
    try:
        sign_in(app, agents)
        order = calls_one_at_a_time(app, tmp_path, 16, "13800000037", hold_ms=100, agents=agents)
    finally:
        for phone in phones:
            phone.stop()
    # weighted 99:1, 1001 takes fewer than 13 of 16 once in 60,000 runs; an unweighted
    # random choice would give it 13 or more once in 94
    assert collections.Counter(order)["1001"] >= 13, " ".join(order)


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

        second = trunk_call(sip_address(app), "88001000", "13800000032", tmp_path / "sipp", hold_ms=15000).start()
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
        assert second.wait(60) == 0, second.errors()
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
