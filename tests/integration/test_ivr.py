"""Voice menus on real Asterisk, served a turn at a time by FastAGI, with SIPp keying RFC 2833
digits: two levels down to a queue (a wrong key first, pressed during the prompt; each turn
kept for the IVR report), a silent caller taken by the timeout action, and a queue that vanished under a live menu.

One appliance serves the module (``configure_basic``: DID 88001000 into sales, Alice in it);
each test makes menus, DIDs and queues of its own (``two_level_menus``) rather than change
the shared ones, counts menu turns and played files from where it started, and leaves no
call and nobody signed in behind it.
"""

from __future__ import annotations

import pytest

from appliance.db.models import CallRecord, Customer, Menu, MenuStep, SalesOrder, VoiceMessage, WorkOrder
from appliance.engine.live import FREE, IN_CALL
from appliance.errors import ValidationError
from harness import (Phone, hang_up, key_when_heard, left_idle, played, signed_in_phone, sip_address, trunk_call,
                     wait_until, write_dtmf_pcap)

pytestmark = pytest.mark.asterisk


def record_for(caller):
    return wait_until(lambda: CallRecord.get_or_none(CallRecord.caller == caller), 30, f"call record of {caller}")


@pytest.fixture
def app(basic_appliance):
    yield basic_appliance
    left_idle(basic_appliance)


def call_keying(app, tmp_path, caller, keys="", *, did="88001000", scenario="trunk_call_pin.xml", hold_ms=4000,
                heard=None, until=None):
    """A trunk call to ``did`` that keys ``keys`` once answered (``trunk_call_keys_then_bye.xml``:
    once Asterisk plays ``heard`` to it) and hangs up after ``hold_ms``, or (given ``until``, a
    test of what the keys led to) as soon as ``until()`` holds; its call record."""
    if until is not None:
        scenario = "trunk_call_pin_until_told.xml"
    call = trunk_call(sip_address(app), did, caller, tmp_path / "sipp", hold_ms=hold_ms, scenario=scenario)
    if keys:
        call.keys["dtmf_pcap"] = str(write_dtmf_pcap(tmp_path / f"{caller}.pcap", keys))
    if heard:
        key_when_heard(app, call, heard)
    else:
        call.start()
    if until is not None:
        wait_until(until, 30, f"where {caller}'s keys lead")
        assert hang_up(call) == 0, call.errors()
    assert call.wait(60) == 0, call.errors()
    return record_for(caller)


def alice_talking(app) -> bool:
    return app.live.agents["1001"].state == IN_CALL


def menu_turns(app) -> int:
    return sum(1 for script, _ in app.agi.latency if script == "menu")


def two_level_menus(app, did, queue="sales", **main):
    """Menus ``main-<did>`` (the DID's, made here) and ``sales-<did>`` (key 1), which leads to
    ``queue`` (key 2); returns the main menu's name."""
    app.menus.create({"name": f"sales-{did}", "prompt": "en-one-moment", "live": True, "options": [
        {"digit": "2", "action": "queue", "target": queue}, {"digit": "*", "action": "hangup"}]}, actor="test")
    app.menus.create({"name": f"main-{did}", "prompt": "en-hello", "live": True, "timeout_seconds": 3, "max_tries": 3,
                      "options": [{"digit": "1", "action": "menu", "target": f"sales-{did}"},
                                  {"digit": "#", "action": "hangup"}], **main}, actor="test")
    app.config.create("dids", {"number": did, "menu": f"main-{did}"}, actor="test")
    return f"main-{did}"


def test_two_levels_down_to_a_queue_after_a_wrong_key(app, tmp_path):
    did = "88002000"
    main = two_level_menus(app, did)
    phone = signed_in_phone(app, tmp_path, calls=2)
    asterisk = app.pbx.pid
    turns = menu_turns(app)
    try:
        # 5 (no such key) during the greeting, then 1 (the sales menu), then 2 (the queue): keys come
        # within half a second, each cutting its prompt short, and each is read by the next turn
        rec = call_keying(app, tmp_path, "13800000101", "512", did=did, until=lambda: alice_talking(app))
        assert (rec.route_rule, rec.queue, rec.agent, rec.disposition) == ("menu", "sales", "1001", "answered")
        assert menu_turns(app) - turns == 4  # enter, 5 (asked again), 1 (sub-menu), 2 (queue)
        # each turn reached the IVR report's store under the call's linkedid
        steps = MenuStep.select().where(MenuStep.linkedid == rec.linkedid).order_by(MenuStep.id)
        assert [(s.menu, s.kind, s.keys, s.next_menu, s.left) for s in steps] == [
            (main, "enter", "", main, ""), (main, "invalid", "5", main, ""),
            (main, "key", "1", f"sales-{did}", ""), (f"sales-{did}", "key", "2", "", "queue")]
        # the admin changes the menu while Asterisk runs: the next call already follows it
        app.menus.set_option(main, "1", {"action": "queue", "target": "sales"}, actor="test")
        wait_until(lambda: app.live.agents["1001"].state == FREE, 10, "Alice free again")
        rec = call_keying(app, tmp_path, "13800000104", "1", did=did, until=lambda: alice_talking(app))
        assert (rec.route_rule, rec.queue, rec.agent, rec.disposition) == ("menu", "sales", "1001", "answered")
        assert menu_turns(app) - turns == 6  # enter, 1 (the queue now)
        # the order-status action (issue 18): the caller's latest order in the menu's language,
        # with its tracking number's digits once shipped, then the menu again
        customer = Customer.create(name="王芳", phone="13800000105")
        SalesOrder.create(customer=customer, customer_name="王芳", customer_phone="13800000105", state="shipped",
                          courier="顺丰", tracking="SF307")
        app.menus.set_option(main, "3", {"action": "order_status"}, actor="test")
        before = len(played(app))
        call_keying(app, tmp_path, "13800000105", "3", did=did, hold_ms=6000)
        heard = played(app)[before:]
        said = next(i for i, f in enumerate(heard) if "cc-order-shipped" in f)
        language = Menu.get(Menu.name == main).language
        assert f"/{language}/" in heard[said]
        assert [f.rsplit("/", 1)[-1].split(".")[0] for f in heard[said + 1:said + 4]] == [
            "cc-digit-3", "cc-digit-0", "cc-digit-7"]
        assert "hello" in heard[said + 4]  # the menu's greeting again
    finally:
        phone.stop()
    assert app.pbx.pid == asterisk  # not restarted


def test_a_silent_caller_gets_the_greeting_again_then_the_timeout_action(app, tmp_path):
    did = "88003000"
    two_level_menus(app, did, timeout_seconds=1, max_tries=2, timeout_action="queue", timeout_target="sales")
    phone = signed_in_phone(app, tmp_path)
    turns = menu_turns(app)
    try:
        rec = call_keying(app, tmp_path, "13800000102", did=did, scenario="trunk_call_silent.xml", hold_ms=9000)
    finally:
        phone.stop()
    assert (rec.route_rule, rec.queue, rec.agent) == ("menu", "sales", "1001")
    assert menu_turns(app) - turns == 3  # enter, nothing (greeting again), nothing (timeout action)


def test_a_queue_gone_from_under_a_live_menu_sends_the_caller_to_the_fallback(app, tmp_path):
    did = "88004000"
    app.config.create("queues", {"name": "vanishing"}, actor="test")
    app.config.add_member("vanishing", "1001", actor="test")
    main = two_level_menus(app, did, queue="vanishing", timeout_seconds=1, max_tries=1, timeout_action="queue",
                           timeout_target="vanishing")
    # deleting it through the configuration is refused while the menu leads to it ...
    with pytest.raises(Exception, match=f"menu {main}"):
        app.config.delete("queues", "vanishing", actor="test")
    # ... but an old backup restored, or a hand edit, can still lose it: the caller is not left in silence
    app.db.execute_sql("DELETE FROM queue_member WHERE queue_id = (SELECT id FROM queue WHERE name = 'vanishing')")
    app.db.execute_sql("DELETE FROM queue WHERE name = 'vanishing'")
    app.apply_config()  # as the appliance starting with that database would
    rec = call_keying(app, tmp_path, "13800000103", did=did, scenario="trunk_call_fallback.xml")
    assert (rec.disposition, rec.fallback_reason) == ("fallback", "menu-no-queue")
    # the module's next tests: no menu left leading nowhere
    app.config.delete("dids", did, actor="test")
    app.menus.delete(main, actor="test")
    app.menus.delete(f"sales-{did}", actor="test")


def test_company_directory_connects_a_free_agent_and_offers_the_queue_when_busy(app, tmp_path):
    did = "88005000"
    app.config.create("phones", {"extension": "1002", "secret": "pw-1002-secret"}, actor="test")
    app.config.create("agents", {"number": "1002", "name": "Bob", "phone": "1002"}, actor="test")  # not signed in
    main = two_level_menus(app, did)
    app.menus.set_option(main, "3", {"action": "directory", "target": "sales"}, actor="test")
    app.menus.set_option(main, "7", {"action": "voicemail", "target": "sales"}, actor="test")
    phone = signed_in_phone(app, tmp_path, calls=2)
    try:
        # 3, then Alice's work number: straight through to her
        rec = call_keying(app, tmp_path, "13800000111", "31001#", did=did, until=lambda: alice_talking(app))
        assert (rec.agent, rec.disposition) == ("1001", "answered")
        wait_until(lambda: app.live.agents["1001"].state == FREE, 10, "Alice free again")
        # Bob is not available: "press 1" takes the caller to the queue, where Alice answers
        rec = call_keying(app, tmp_path, "13800000112", "31002#1", did=did, until=lambda: alice_talking(app))
        assert (rec.agent, rec.queue, rec.disposition) == ("1001", "sales", "answered")
    finally:
        phone.stop()
    # 7: a message for the sales team; the caller speaks after the beep and hangs up
    call_keying(app, tmp_path, "13800000113", "7", did=did, hold_ms=9000)
    message = wait_until(lambda: VoiceMessage.get_or_none(VoiceMessage.caller == "13800000113"), 20, "message")
    assert (message.queue, message.reason) == ("sales", "menu")


def test_post_call_survey_stores_the_key_with_the_call_and_agent(app, tmp_path):
    did = "88006000"  # into a queue of its own that asks callers to rate the call
    app.config.create("queues", {"name": "rated", "survey_enabled": True, "survey_low_score": 2}, actor="test")
    app.config.add_member("rated", "1001", actor="test")
    app.config.create("dids", {"number": did, "queue": "rated"}, actor="test")
    app.workorders.save_type({"name": "low_score", "label": "Low score", "from_survey": True,
                              "states": [{"name": "open", "initial": True}, {"name": "done", "final": True}],
                              "transitions": [["open", "done"]]}, "test")  # a low score opens one of these
    events = app.bus.subscribe()
    # the agent answers, talks two seconds and hangs up; the caller is asked to rate the call
    phone = signed_in_phone(app, tmp_path, calls=2, ring_ms=2000, scenario="trunk_answer.xml")
    try:
        rec = call_keying(app, tmp_path, "13800000121", "2", did=did, scenario="trunk_call_keys_then_bye.xml",
                          heard="/cc-survey.")
        assert (rec.agent, rec.survey, rec.survey_score) == ("1001", "rated", 2)
        low = [data for topic, data in events.drain() if topic == "survey"]
        assert low and (low[0]["event"], low[0]["agent"], low[0]["score"]) == ("low_score", "1001", 2)
        order = wait_until(lambda: WorkOrder.get_or_none(WorkOrder.linkedid == rec.linkedid), 10, "the work order")
        assert (order.source, order.assignee_kind, order.assignee) == ("survey", "queue", "rated")
        # no key: stored as no answer
        wait_until(lambda: app.live.agents["1001"].state == FREE, 10, "agent free again")
        rec = call_keying(app, tmp_path, "13800000122", did=did, scenario="trunk_call_fallback.xml")
        assert (rec.agent, rec.survey, rec.survey_score) == ("1001", "no-answer", None)
    finally:
        phone.stop()


def test_an_agent_transfers_the_caller_into_a_menu_which_sends_them_back(app, tmp_path):
    # e.g. a survey or a PIN taken by the menu; here a caller who keys nothing comes back
    app.menus.create({"name": "back", "prompt": "en-one-moment", "live": True, "timeout_seconds": 1, "max_tries": 1,
                      "timeout_action": "agent", "options": [{"digit": "1", "action": "queue", "target": "sales"}]},
                     actor="test")
    phone = signed_in_phone(app, tmp_path, calls=2)
    turns = menu_turns(app)
    try:
        call = trunk_call(sip_address(app), "88001000", "13800000131", tmp_path / "sipp",
                          scenario="trunk_call_until_told.xml").start()
        wait_until(lambda: app.live.agents["1001"].state == IN_CALL, 15, "agent talking")
        with pytest.raises(ValidationError):
            app.calls.transfer("1001", "menu", "nowhere", actor="alice")
        assert app.calls.transfer("1001", "menu", "back", actor="alice")["transferred"]
        wait_until(lambda: menu_turns(app) - turns >= 2, 15, "the menu's turns")
        wait_until(lambda: app.live.agents["1001"].state == IN_CALL, 15, "the same agent talking again")
        assert hang_up(call) == 0, call.errors()
    finally:
        phone.stop()
    rec = record_for("13800000131")
    assert (rec.agent, rec.disposition, rec.route_rule) == ("1001", "answered", "menu")


def test_a_key_rings_an_extension_such_as_the_front_desk(app, tmp_path):
    did = "88007000"
    app.config.create("phones", {"extension": "1003", "secret": "pw-1003-secret"}, actor="test")  # no agent
    main = two_level_menus(app, did)
    app.menus.set_option(main, "4", {"action": "extension", "target": "1003"}, actor="test")
    app.menus.set_option(main, "5", {"action": "extension", "target": "1001"}, actor="test")  # Alice's
    desk = Phone("1003", "pw-1003-secret", sip_address(app), tmp_path / "desk", ring_ms=200).start()
    try:
        rec = call_keying(app, tmp_path, "13800000141", "4", did=did)
        assert desk.answer.wait(30) == 0, desk.answer.errors()  # the desk phone rang and answered
    finally:
        desk.stop()
    assert (rec.route_rule, rec.queue, rec.agent, rec.disposition) == ("menu", "", "", "answered")
    assert rec.answer_time is not None and rec.talk_seconds > 1
    # an agent's own phone by its extension: the call is the agent's
    phone = signed_in_phone(app, tmp_path)
    try:
        call = trunk_call(sip_address(app), did, "13800000142", tmp_path / "sipp", hold_ms=4000,
                          scenario="trunk_call_pin.xml")
        call.keys["dtmf_pcap"] = str(write_dtmf_pcap(tmp_path / "5.pcap", "5"))
        call.start()
        wait_until(lambda: app.live.agents["1001"].state == IN_CALL, 15, "Alice busy on her own phone")
        assert call.wait(60) == 0, call.errors()
        rec = record_for("13800000142")
        wait_until(lambda: app.live.agents["1001"].state == FREE, 15, "Alice free again")
    finally:
        phone.stop()
    assert (rec.queue, rec.agent, rec.disposition) == ("", "1001", "answered")
