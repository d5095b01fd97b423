"""The agent workspace in the real Chromium against the whole appliance on a real
Asterisk: the agent signs in from the page, a SIPp call arrives, the screen pop shows the
right customer within a second of the agent's phone ringing, and the agent saves a
disposition and a note that land with the call and in the customer's history; the pop's
"new work order" link opens an order that ends linked to the call and its recording."""

from __future__ import annotations

import time

import pytest

from appliance.db import models as m
from appliance.errors import NotFound
from appliance.engine.live import FREE, IN_CALL, RINGING
from appliance.services.crm import Viewer
from harness import Phone, configure_basic, hang_up, sip_address, trunk_call, wait_until
from webharness import CHROMIUM, CHROMIUM_FLAGS, PASSWORD, SCREENSHOTS, signed_in_page

pytestmark = [pytest.mark.asterisk, pytest.mark.browser]


def test_agent_signs_in_sees_the_screen_pop_and_saves_a_note(make_appliance, tmp_path):
    from playwright.sync_api import sync_playwright

    app = make_appliance()
    configure_basic(app)
    app.users.create("alice", PASSWORD, "agent", language="en")
    app.config.update("agents", "1001", {"user": "alice"}, actor="test")
    app.config.update("queues", "sales", {"recording": "yes"}, actor="test")  # for the work order's recording
    app.workorders.save_type({"name": "complaint", "label": "Complaint", "transitions": [["open", "done"]],
                              "states": [{"name": "open", "initial": True, "limit_minutes": 60},
                                         {"name": "done", "final": True}]}, "test")
    acme = app.crm.create(Viewer("test", "admin"), {"phone": "13800000111", "name": "Acme Ltd", "category": "gold"},
                          actor="test")
    app.start(web=True)
    wait_until(lambda: app.ami.connected, 30, "AMI to connect")
    url = f"http://127.0.0.1:{app.web.server_port}"
    phone = Phone("1001", "pw-1001-secret", sip_address(app), tmp_path / "sipp", ring_ms=2000).start()
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS, headless=True)
            page = signed_in_page(browser, url, "alice")
            page.goto(url + "/workspace")
            page.click("button[data-act=login]")
            page.wait_for_selector("#ws-state.free")
            assert app.live.agents["1001"].state == FREE

            pops = []  # the pop takes the call event's lookup (the customer's id), not a second one
            page.on("request", lambda r: pops.append(r.url) if "/api/v1/workspace/pop" in r.url else None)
            call = trunk_call(sip_address(app), "88001000", "13800000111", tmp_path / "sipp",
                              scenario="trunk_call_until_told.xml").start()
            wait_until(lambda: app.live.agents["1001"].state == RINGING, 15, "the agent's phone ringing")
            rang = time.monotonic()
            page.wait_for_selector("#pop-customer:has-text('Acme Ltd')", timeout=5000)
            shown = time.monotonic() - rang
            assert shown < 1.0, f"screen pop took {shown:.2f} s"
            assert page.inner_text("#pop-number") == "13800000111"
            assert pops and all(u.endswith(f"&customer={acme['id']}") for u in pops), pops
            assert page.inner_text("#pop-origin") == "Beijing · China Mobile"  # a mobile's home city too

            wait_until(lambda: app.live.agents["1001"].state == IN_CALL, 10, "the agent talking")
            page.wait_for_selector("#pop-call-state.talking")
            page.select_option("#outcome select[name=disposition]", "sale")
            page.fill("#outcome textarea[name=note]", "wants 3 boxes, call back Friday")
            page.click("#outcome button")
            page.wait_for_selector("#outcome-status:not([hidden])")
            assert page.get_attribute("#outcome-status", "class") == "status ok", page.inner_text("#outcome-status")
            SCREENSHOTS.joinpath("en").mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOTS / "en" / "workspace-call.png"), full_page=True)
            live_linkedid = next(iter(app.live.calls))
            new_order = page.get_attribute("#pop-workorder", "href")  # the pop's "new work order"
            assert f"linkedid={live_linkedid}" in new_order and f"customer={acme['id']}" in new_order, new_order
            # Acme is nobody's and the pool is off: the pop's link opens the caller's record read-only
            page.click("#pop-customer")
            page.wait_for_url(f"**/customers/{acme['id']}")
            assert page.inner_text("h1") == "Acme Ltd" and page.locator("#read-only").count() == 1
            assert page.locator("#edit").count() == 0
            assert hang_up(call) == 0, call.errors()
            page.goto(url + new_order)  # the order opened from the pop, after the call
            page.fill("#wo-title", "Boxes arrived damaged")
            with page.expect_navigation():
                page.click("#new-order button.primary")
            order_id = int(page.url.rsplit("/", 1)[1])
            wait_until(lambda: m.Recording.get_or_none(m.Recording.linkedid == live_linkedid), 15, "the recording")
            page.reload()
            assert page.get_attribute("#wo-call", "href") == f"/calls/{live_linkedid}"
            assert page.locator("#wo-recording").count() == 1
            browser.close()
    finally:
        phone.stop()
    outcome = m.CallOutcome.get()
    record = wait_until(lambda: m.CallRecord.get_or_none(m.CallRecord.caller == "13800000111"), 15, "record")
    assert (outcome.linkedid, outcome.agent, outcome.disposition) == (record.linkedid, "1001", "sale")
    note = m.CustomerNote.get()
    assert (note.body, note.linkedid, note.author) == ("wants 3 boxes, call back Friday", record.linkedid, "alice")
    # the call over, its record keeps the caller readable to Alice for a while (and to her only)
    wait_until(lambda: m.CallRecord.get(m.CallRecord.linkedid == record.linkedid).end_time, 15, "the call's end")
    alice = Viewer("alice", "agent", frozenset({"1001"}))
    assert app.crm.readable(alice, acme["id"])[1] == "caller"
    with pytest.raises(NotFound):
        app.crm.readable(Viewer("bob", "agent", frozenset({"1002"})), acme["id"])
    order = app.workorders.get(alice, order_id)  # hers: she opened it, about the caller of her call
    assert (order["linkedid"], order["source"], order["customer"]["id"]) == (record.linkedid, "call", acme["id"])
    assert order["recording"] == m.Recording.get(m.Recording.linkedid == record.linkedid).id
