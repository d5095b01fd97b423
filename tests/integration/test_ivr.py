"""Voice menus on real Asterisk, served a turn at a time by FastAGI, with SIPp keying RFC 2833
digits: two levels down to a queue (a wrong key first, pressed during the prompt), a silent
caller taken by the timeout action, and a queue that vanished under a live menu."""

from __future__ import annotations

import pytest

from appliance.db.models import CallRecord
from appliance.engine.live import FREE
from harness import Phone, configure_basic, sip_address, started, trunk_call, wait_until, write_dtmf_pcap

pytestmark = pytest.mark.asterisk


def record_for(caller):
    return wait_until(lambda: CallRecord.get_or_none(CallRecord.caller == caller), 30, f"call record of {caller}")


def menu_turns(app) -> int:
    return sum(1 for script, _ in app.agi.latency if script == "menu")


def two_level_menus(app, **main):
    app.menus.create({"name": "sales-menu", "prompt": "en-one-moment", "live": True, "options": [
        {"digit": "2", "action": "queue", "target": "sales"}, {"digit": "*", "action": "hangup"}]}, actor="test")
    app.menus.create({"name": "main", "prompt": "en-hello", "live": True, "timeout_seconds": 3, "max_tries": 3,
                      "options": [{"digit": "1", "action": "menu", "target": "sales-menu"},
                                  {"digit": "#", "action": "hangup"}], **main}, actor="test")
    app.config.update("dids", "88001000", {"queue": None, "menu": "main"}, actor="test")


def signed_in_phone(app, tmp_path, calls=1):
    phone = Phone("1001", "pw-1001-secret", sip_address(app), tmp_path / "sipp", ring_ms=200, calls=calls).start()
    app.agents.login("1001")
    wait_until(lambda: app.live.agents.get("1001") and app.live.agents["1001"].state == FREE, 10, "agent free")
    return phone


def test_two_levels_down_to_a_queue_after_a_wrong_key(make_appliance, tmp_path):
    app = make_appliance()
    configure_basic(app)
    two_level_menus(app)
    started(app)
    phone = signed_in_phone(app, tmp_path)
    try:
        # 5 (no such key) during the greeting, then 1 (the sales menu), then 2 (the queue)
        call = trunk_call(sip_address(app), "88001000", "13800000101", tmp_path / "sipp", hold_ms=5000,
                          scenario="trunk_call_pin.xml")
        call.keys["dtmf_pcap"] = str(write_dtmf_pcap(tmp_path / "keys.pcap", "5,1,2"))
        assert call.run(60) == 0, call.errors()
    finally:
        phone.stop()
    rec = record_for("13800000101")
    assert (rec.route_rule, rec.queue, rec.agent, rec.disposition) == ("menu", "sales", "1001", "answered")
    assert menu_turns(app) == 4  # enter, 5 (asked again), 1 (sub-menu), 2 (queue)


def test_a_silent_caller_gets_the_greeting_again_then_the_timeout_action(make_appliance, tmp_path):
    app = make_appliance()
    configure_basic(app)
    two_level_menus(app, timeout_seconds=1, max_tries=2, timeout_action="queue", timeout_target="sales")
    started(app)
    phone = signed_in_phone(app, tmp_path)
    try:
        call = trunk_call(sip_address(app), "88001000", "13800000102", tmp_path / "sipp", hold_ms=9000,
                          scenario="trunk_call_silent.xml")
        assert call.run(60) == 0, call.errors()
    finally:
        phone.stop()
    rec = record_for("13800000102")
    assert (rec.route_rule, rec.queue, rec.agent) == ("menu", "sales", "1001")
    assert menu_turns(app) == 3  # enter, nothing (greeting again), nothing (timeout action)


def test_a_queue_gone_from_under_a_live_menu_sends_the_caller_to_the_fallback(make_appliance, tmp_path):
    app = make_appliance()
    configure_basic(app)
    two_level_menus(app, timeout_seconds=1, max_tries=1, timeout_action="queue", timeout_target="sales")
    # deleting it through the configuration is refused while the menu leads to it ...
    with pytest.raises(Exception, match="menu main"):
        app.config.delete("queues", "sales", actor="test")
    # ... but an old backup restored, or a hand edit, can still lose it: the caller is not left in silence
    app.db.execute_sql("DELETE FROM queue_member")
    app.db.execute_sql("UPDATE did SET dest_queue_id = NULL")
    app.db.execute_sql("DELETE FROM queue WHERE name = 'sales'")
    started(app)
    call = trunk_call(sip_address(app), "88001000", "13800000103", tmp_path / "sipp",
                      scenario="trunk_call_fallback.xml")
    assert call.run(60) == 0, call.errors()
    rec = record_for("13800000103")
    assert (rec.disposition, rec.fallback_reason) == ("fallback", "menu-no-queue")
