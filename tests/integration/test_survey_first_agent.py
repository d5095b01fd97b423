"""The post-call survey follows calls that one agent took first, on real Asterisk: a VIP
answered by their account manager and a returning caller answered by their last agent
(sticky) are asked to rate the call when the agent hangs up, as the queue's own calls are;
the rating lands on the call record with that agent. Without a survey on the queue the
caller is hung up with the agent, not sent round the queue again."""

from __future__ import annotations

import datetime as dt

import pytest

from appliance.db.models import CallRecord
from appliance.engine.live import FREE
from appliance.services.crm import Viewer
from harness import (configure_basic, key_when_heard, signed_in_phone, sip_address, started, trunk_call, wait_until,
                     write_dtmf_pcap)

pytestmark = pytest.mark.asterisk

VIP, RETURNING = "13800000301", "13800000302"
SURVEY = "/cc-survey."  # the appliance's own survey question (appliance/sounds.py)


def rated_call(app, tmp_path, caller, keys, n=1, scenario="trunk_call_keys_then_bye.xml", heard=SURVEY):
    """A trunk call keying ``keys`` once Asterisk plays ``heard`` to it (``,`` between keys
    waits 1 s; SIPp times a pcap from its first packet, so leading commas wait nothing),
    ended by the appliance; the caller's ``n``-th call record."""
    call = trunk_call(sip_address(app), "88001000", caller, tmp_path / "sipp", scenario=scenario)
    if keys:
        call.keys["dtmf_pcap"] = str(write_dtmf_pcap(tmp_path / f"{caller}-{n}.pcap", keys))
        key_when_heard(app, call, heard)
    else:
        call.start()
    assert call.wait(60) == 0, call.errors()
    query = CallRecord.select().where(CallRecord.caller == caller).order_by(CallRecord.id)
    return wait_until(lambda: query.count() == n and list(query)[-1], 30, f"call record {n} of {caller}")


def test_vip_and_sticky_calls_are_surveyed_when_the_agent_hangs_up(make_appliance, tmp_path):
    app = make_appliance()
    configure_basic(app)
    app.config.update("queues", "sales", {"survey_enabled": True, "survey_low_score": 2, "sticky_lookback_days": 7,
                                          "sticky_min_talk_seconds": 1, "sticky_ring_seconds": 10}, actor="test")
    app.crm.create(Viewer("test", "admin"), {"phone": VIP, "name": "Acme Ltd", "account_manager": "1001"},
                   actor="test")
    yesterday = dt.datetime.utcnow() - dt.timedelta(days=1)
    CallRecord.create(linkedid="yesterday.1", caller=RETURNING, agent="1001", queue="sales", disposition="answered",
                      enter_time=yesterday, end_time=yesterday, talk_seconds=60)
    started(app)
    events = app.bus.subscribe()
    # the agent answers at once, talks 2 s and hangs up first
    phone = signed_in_phone(app, tmp_path, calls=3, ring_ms=2000, scenario="trunk_answer.xml")
    try:
        # the VIP keys 1 during "one moment, press 0" (the manager, then), talks 2 s, and rates 2
        # during the question, 6 s after the 1
        vip = rated_call(app, tmp_path, VIP, "1,,,,,,2", heard="one-moment-please")
        assert (vip.route_rule, vip.agent, vip.queue, vip.disposition) == ("vip", "1001", "sales", "answered")
        assert (vip.survey, vip.survey_score) == ("rated", 2)
        low = [data for topic, data in events.drain() if topic == "survey"]
        assert low and (low[0]["event"], low[0]["agent"], low[0]["queue"]) == ("low_score", "1001", "sales")
        wait_until(lambda: app.live.agents["1001"].state == FREE, 10, "agent free again")
        # the returning caller reaches yesterday's agent straight away and rates 5 during the question
        sticky = rated_call(app, tmp_path, RETURNING, "5", n=2)
        assert (sticky.route_rule, sticky.agent, sticky.disposition) == ("sticky", "1001", "answered")
        assert (sticky.survey, sticky.survey_score) == ("rated", 5)
        wait_until(lambda: app.live.agents["1001"].state == FREE, 10, "agent free again")
        # no survey on the queue: the agent's hang-up ends the call (the appliance's BYE)
        app.config.update("queues", "sales", {"survey_enabled": False}, actor="test")
        plain = rated_call(app, tmp_path, RETURNING, "", n=3, scenario="trunk_call_fallback.xml")
        assert (plain.route_rule, plain.agent, plain.survey) == ("sticky", "1001", "")
        assert plain.talk_seconds < 4  # not offered round the queue again after the agent hung up
    finally:
        phone.stop()
