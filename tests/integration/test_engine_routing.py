"""Routing rules on real Asterisk, decided by FastAGI: the blacklist, and opening hours
with the holiday calendar sending callers to the duty queue or the closed message.

One appliance serves the module (``configure_basic``'s trunk, DID 88001000 into sales with
Alice, and Bob's phone and account); a test that needs other routing makes a DID and queues
of its own rather than change the shared ones, and leaves its agents signed out.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from appliance.db.models import CallRecord
from appliance.engine.live import FREE, IN_CALL
from appliance.services.crm import Viewer
from harness import Phone, hang_up, left_idle, sip_address, trunk_call, wait_until, write_dtmf_pcap

STAFF = Viewer("test", "admin")

pytestmark = pytest.mark.asterisk


def record_for(caller):
    return wait_until(lambda: CallRecord.get_or_none(CallRecord.caller == caller), 20, f"call record of {caller}")


@pytest.fixture(scope="module")
def office(basic_appliance):
    basic_appliance.config.create("phones", {"extension": "1002", "secret": "pw-1002-secret"}, actor="test")
    basic_appliance.config.create("agents", {"number": "1002", "name": "Bob", "phone": "1002"}, actor="test")
    return basic_appliance


@pytest.fixture
def app(office):
    yield office
    left_idle(office)


def test_blacklisted_caller_is_refused(app, tmp_path):
    app.config.create("blacklist", {"number": "13900000666", "note": "abusive caller"}, actor="test")
    call = trunk_call(sip_address(app), "88001000", "13900000666", tmp_path / "sipp",
                      scenario="trunk_call_fallback.xml")
    assert call.run(60) == 0, call.errors()
    rec = record_for("13900000666")
    assert (rec.disposition, rec.fallback_reason, rec.agent) == ("fallback", "blacklisted", "")


def test_holiday_sends_callers_to_the_duty_queue_or_the_closed_message(app, tmp_path):
    cfg = app.config
    did = "88002000"  # into a queue of its own, "office", where nobody answers
    # open around the clock, except on holidays; today is made one
    cfg.create("time_conditions", {"name": "office", "schedule": "daily 00:00-24:00"}, actor="test")
    today = dt.datetime.now(ZoneInfo("Asia/Shanghai")).date()
    for day in (today, today + dt.timedelta(days=1)):  # the test may run across midnight
        cfg.create("holidays", {"date": day.isoformat(), "name": "Test holiday"}, actor="test")
    cfg.create("queues", {"name": "office"}, actor="test")
    cfg.create("queues", {"name": "duty"}, actor="test")
    cfg.add_member("duty", "1001", actor="test")
    cfg.create("dids", {"number": did, "queue": "office", "time_condition": "office", "after_hours_queue": "duty"},
               actor="test")
    phone = Phone("1001", "pw-1001-secret", sip_address(app), tmp_path / "sipp", ring_ms=200).start()
    try:
        app.agents.login("1001")
        wait_until(lambda: app.live.agents.get("1001") and app.live.agents["1001"].state == FREE, 10, "agent free")
        call = trunk_call(sip_address(app), did, "13800000031", tmp_path / "sipp", hold_ms=1500)
        assert call.run(60) == 0, call.errors()
    finally:
        phone.stop()
    rec = record_for("13800000031")
    assert (rec.queue, rec.agent, rec.disposition) == ("duty", "1001", "answered")

    # no duty queue: the caller hears the closed message
    cfg.update("dids", did, {"after_hours_queue": None}, actor="test")
    call = trunk_call(sip_address(app), did, "13800000032", tmp_path / "sipp",
                      scenario="trunk_call_fallback.xml")
    assert call.run(60) == 0, call.errors()
    rec = record_for("13800000032")
    assert (rec.disposition, rec.fallback_reason) == ("fallback", "closed")


def test_returning_caller_is_offered_to_their_last_agent_first(app, tmp_path):
    cfg = app.config
    did = "88003000"  # into a queue of its own with both agents
    cfg.create("queues", {"name": "returning", "strategy": "rrmemory", "sticky_lookback_days": 7,
                          "sticky_min_talk_seconds": 1, "sticky_ring_seconds": 10}, actor="test")
    cfg.add_member("returning", "1001", actor="test")
    cfg.add_member("returning", "1002", actor="test")
    cfg.create("dids", {"number": did, "queue": "returning"}, actor="test")
    phones = [Phone(ext, f"pw-{ext}-secret", sip_address(app), tmp_path / "sipp", ring_ms=200, calls=3).start()
              for ext in ("1001", "1002")]
    caller = "13800000041"
    try:
        for ext in ("1001", "1002"):
            app.agents.login(ext)
        wait_until(lambda: all(app.live.agents.get(a) and app.live.agents[a].state == FREE for a in ("1001", "1002")),
                   10, "agents free")

        def call_and_record(n):
            call = trunk_call(sip_address(app), did, caller, tmp_path / "sipp", hold_ms=2000)
            assert call.run(60) == 0, call.errors()
            return wait_until(lambda: CallRecord.select().where(CallRecord.caller == caller).count() == n and
                              CallRecord.select().where(CallRecord.caller == caller)
                              .order_by(CallRecord.enter_time.desc()).first(), 20, f"record {n}")

        first = call_and_record(1)
        assert first.route_rule == "did" and first.agent in ("1001", "1002")
        wait_until(lambda: app.live.agents[first.agent].state == FREE, 10, "agent free again")
        # rrmemory would now ring the other agent; the caller's own agent is offered first
        second = call_and_record(2)
        assert (second.route_rule, second.queue, second.agent) == ("sticky", "returning", first.agent)
        # that agent on a break: straight on to the queue, where the other agent answers
        app.agents.pause(first.agent, "break")
        wait_until(lambda: app.live.agents[first.agent].state == "paused", 10, "agent paused")
        third = call_and_record(3)
        other = "1002" if first.agent == "1001" else "1001"
        assert (third.route_rule, third.queue, third.agent) == ("sticky", "returning", other)
        assert third.wait_seconds < 5  # the paused agent was skipped at once, not rung for 10 s
    finally:
        for phone in phones:
            phone.stop()
    snapshot = app.live_snapshot()
    assert all(not q["name"].startswith("cc-agent-") for q in snapshot["queues"])
    assert all(not q.startswith("cc-agent-") for a in snapshot["agents"] for q in a["queues"])


def test_customer_is_offered_to_their_account_manager_unless_they_press_0(app, tmp_path):
    cfg = app.config
    # the account manager is not even in the DID's queue: reaching them proves the VIP rule
    cfg.create("queues", {"name": "key-accounts"}, actor="test")
    cfg.add_member("key-accounts", "1002", actor="test")
    acme = app.crm.create(STAFF, {"phone": "+13800000071", "name": "Acme Ltd", "category": "gold",
                                  "account_manager": "1002"}, actor="test")
    events = app.bus.subscribe()
    phones = [Phone(ext, f"pw-{ext}-secret", sip_address(app), tmp_path / "sipp", ring_ms=200, calls=2).start()
              for ext in ("1001", "1002")]
    try:
        for ext in ("1001", "1002"):
            app.agents.login(ext)
        wait_until(lambda: all(app.live.agents.get(a) and app.live.agents[a].state == FREE for a in ("1001", "1002")),
                   10, "agents free")
        # the caller stays on through the short choice (prompt, then 2 s) and talks with the manager
        call = trunk_call(sip_address(app), "88001000", "13800000071", tmp_path / "sipp",
                          scenario="trunk_call_until_told.xml").start()
        wait_until(lambda: app.live.agents["1002"].state == IN_CALL, 30, "the manager talking with the caller")
        assert hang_up(call) == 0, call.errors()
        first = record_for("13800000071")
        assert (first.route_rule, first.agent, first.queue) == ("vip", "1002", "sales")
        wait_until(lambda: app.live.agents["1002"].state == FREE, 10, "manager free again")
        # pressing 0 during the greeting: the general queue instead of the manager
        first.delete_instance()
        call = trunk_call(sip_address(app), "88001000", "13800000071", tmp_path / "sipp", hold_ms=4000,
                          scenario="trunk_call_press0.xml")
        assert call.run(60) == 0, call.errors()
        second = record_for("13800000071")
        assert (second.route_rule, second.agent) == ("vip", "1001")
    finally:
        for phone in phones:
            phone.stop()
    offered = [data for topic, data in events.drain() if topic == "call" and data.get("event") == "offered"]
    # the event's customer carries its id: the workspace's pop reuses that lookup
    assert offered and offered[0]["customer"] == {"id": acme["id"], "name": "Acme Ltd", "phone": "+13800000071",
                                                  "category": "gold",
                                                  "account_manager": "1002"}


def test_member_pin_is_checked_against_the_customer_record(app, tmp_path):
    cfg = app.config
    did = "88005000"  # into sales, for members only
    cfg.create("dids", {"number": did, "queue": "sales", "require_pin": True}, actor="test")
    member = app.crm.create(STAFF, {"phone": "13800000081", "name": "Member One", "pin": "4321"}, actor="test")
    assert "4321" not in str(member) and member["has_pin"]
    phone = Phone("1001", "pw-1001-secret", sip_address(app), tmp_path / "sipp", ring_ms=200).start()
    try:
        app.agents.login("1001")
        wait_until(lambda: app.live.agents.get("1001") and app.live.agents["1001"].state == FREE, 10, "agent free")
        # the member keys 4321#: connected to the agent
        call = trunk_call(sip_address(app), did, "13800000081", tmp_path / "sipp",
                          scenario="trunk_call_pin_until_told.xml")
        call.keys["dtmf_pcap"] = str(write_dtmf_pcap(tmp_path / "pin.pcap", "4321#"))
        call.start()
        wait_until(lambda: app.live.agents["1001"].state == IN_CALL, 30, "the member through to the agent")
        assert hang_up(call) == 0, call.errors()
        rec = record_for("13800000081")
        assert (rec.agent, rec.disposition) == ("1001", "answered")
        # a caller with no PIN on record never gets through: three tries, then the fallback
        call = trunk_call(sip_address(app), did, "13800000082", tmp_path / "sipp",
                          scenario="trunk_call_fallback.xml")
        assert call.run(60) == 0, call.errors()
        rec = record_for("13800000082")
        assert (rec.disposition, rec.fallback_reason, rec.agent) == ("fallback", "pin-failed", "")
    finally:
        phone.stop()
