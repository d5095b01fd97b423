"""Three of the web UI's real flows in the real Chromium against the whole appliance on a
real Asterisk: a fresh appliance's admin goes through the first-run wizard (trunk, queue
and its number, the first agent), the agent's SIPp phone registers with the SIP password
the wizard showed, and a SIPp call reaches that agent; a supervisor sees a live call on the
wallboard and listens to it from their own (SIPp) phone; the phones and trunks lists show
registrations as they happen."""

from __future__ import annotations

import socket

import pytest
from playwright.sync_api import expect

from appliance.db import models as m
from appliance.engine.live import FREE, IN_CALL

from harness import TRUNK_IP, Phone, Sipp, configure_basic, free_port, hang_up, leg, sip_address, trunk_call, wait_until
from webharness import CHROMIUM, CHROMIUM_FLAGS, PASSWORD, SCREENSHOTS, screenshot, signed_in_page

pytestmark = [pytest.mark.asterisk, pytest.mark.browser]


@pytest.fixture
def chromium():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS, headless=True)
        yield browser
        browser.close()


def web_up(app) -> str:
    app.start(web=True)
    wait_until(lambda: app.ami.connected, 30, "AMI to connect")
    return f"http://127.0.0.1:{app.web.server_port}"


def fill(form, values: dict) -> None:
    """Type into (or choose in) the fields of ``form`` by name."""
    for name, value in values.items():
        field = form.locator(f"[name={name}]")
        if field.evaluate("e => e.tagName") == "SELECT":
            field.select_option(value)
        else:
            field.fill(value)


def wizard_step(page, step: str, values: dict, button: str = "button.primary") -> None:
    """Fill one step of the first-run wizard and submit it; the next page has no error."""
    assert page.url.endswith(f"/setup/{step}"), page.url
    fill(page.locator("main form").last, values)
    lang = "zh_CN" if page.get_attribute("html", "lang") == "zh-CN" else "en"  # the admin's, until step 2
    SCREENSHOTS.joinpath(lang).mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / lang / f"first-run-{step}.png"), full_page=True)
    with page.expect_navigation():
        page.click(f"main form {button}")
    assert not page.locator(".has-error, .alert").count(), page.inner_text("main")


def test_first_run_wizard_then_an_agent_and_a_call_reaches_them(make_appliance, tmp_path, chromium):
    """From the printed first password to a call answered: the first-run wizard (own
    password, time zone and language, first trunk, first queue with its DID, the first
    agent with their phone, in that queue)."""
    app = make_appliance()
    url = web_up(app)
    admin_password = (app.settings.data_dir / "first-admin-password.txt").read_text().strip()
    page = signed_in_page(chromium, url, "admin", admin_password)
    page.goto(url + "/admin/queues")  # held on the wizard until it is done
    wizard_step(page, "password", {"password": "installer-chose-this", "confirm": "installer-chose-this"})
    wizard_step(page, "region", {"timezone": "Asia/Shanghai", "language": "en"})
    wizard_step(page, "trunk", {"name": "pstn", "host": TRUNK_IP, "port": "5060", "match": TRUNK_IP})
    wizard_step(page, "queue", {"name": "hotline", "did": "88009000"})
    wizard_step(page, "agents", {"display_name-0": "Alice", "extension-0": "1001"})
    sip_secret = page.locator("#sip-secret-0").input_value()
    with page.expect_navigation():
        page.click("#wizard-agents-next")
    assert "hotline ← 88009000" in page.inner_text("main")
    wizard_step(page, "finish", {})
    assert page.url.rstrip("/") == url  # the dashboard
    assert app.users.authenticate("admin", "installer-chose-this") and not app.users.authenticate("admin", admin_password)
    assert app.config.get("dids", "88009000")["trunk"] == "pstn"

    assert app.config.members("hotline") == [{"queue": "hotline", "agent": "1001", "penalty": 0}]
    page.goto(f"{url}/admin/queues/hotline/members")
    page.screenshot(path=str(SCREENSHOTS / "en" / "admin-after-setup.png"), full_page=True)

    phone = Phone("1001", sip_secret, sip_address(app), tmp_path / "sipp", ring_ms=300).start()
    try:
        app.agents.login("1001")
        wait_until(lambda: app.live.agents.get("1001") and app.live.agents["1001"].state == FREE, 10, "agent free")
        call = trunk_call(sip_address(app), "88009000", "13800000121", tmp_path / "sipp", hold_ms=3000)
        assert call.run(60) == 0, call.errors()
    finally:
        phone.stop()
    record = wait_until(lambda: m.CallRecord.get_or_none(m.CallRecord.caller == "13800000121"), 15, "record")
    assert (record.queue, record.agent, record.disposition) == ("hotline", "1001", "answered")
    assert {a.action for a in m.AuditLog.select()} >= {"create"}


def test_supervisor_sees_the_call_on_the_wallboard_and_listens(make_appliance, tmp_path, chromium):
    app = make_appliance()
    configure_basic(app)
    app.config.create("phones", {"extension": "1009", "secret": "pw-1009-secret"}, actor="test")
    sup = app.users.create("sup", PASSWORD, "supervisor", language="en")
    app.users.set_own_extension(sup["id"], "1009")  # the supervisor's own phone, kept with the account
    url = web_up(app)
    phones = [Phone(ext, f"pw-{ext}-secret", sip_address(app), tmp_path / "sipp", ring_ms=200).start()
              for ext in ("1001", "1009")]
    try:
        app.agents.login("1001")
        wait_until(lambda: app.live.agents["1001"].state == FREE, 10, "agent free")
        page = signed_in_page(chromium, url, "sup")
        page.goto(url + "/wallboard")
        call = trunk_call(sip_address(app), "88001000", "13800000131", tmp_path / "sipp",
                          scenario="trunk_call_until_told.xml").start()
        wait_until(lambda: app.live.agents["1001"].state == IN_CALL, 15, "agent talking")
        calls_row = page.locator("#wb-calls tbody tr", has_text="13800000131")
        calls_row.get_by_role("button", name="Listen").wait_for(timeout=10_000)  # live, no reload
        calls_row.get_by_role("button", name="Listen").click()
        wait_until(lambda: leg(app, "PJSIP/1009").get("app") == "ChanSpy", 10, "the supervisor's phone listening")
        page.screenshot(path=str(SCREENSHOTS / "en" / "wallboard-listening.png"), full_page=True)
        assert hang_up(call) == 0, call.errors()
    finally:
        for phone in phones:
            phone.stop()


def test_phone_and_trunk_registrations_show_live(make_appliance, tmp_path, chromium):
    """A SIPp phone registers and its row in the phones list says so without a reload, then
    unregisters and it says so again; a trunk registering to a SIPp registrar shows as
    registered (in Chinese, too); the engine agrees with Asterisk's own CLI throughout."""
    registrar_port = free_port(socket.SOCK_DGRAM, TRUNK_IP)
    registrar = Sipp("trunk_registrar.xml", TRUNK_IP, registrar_port, None, {}, tmp_path / "sipp",
                     timeout_s=300).start()
    app = make_appliance()
    cfg = app.config
    cfg.create("trunks", {"name": "acme", "host": TRUNK_IP, "port": registrar_port, "match": TRUNK_IP,
                          "username": "acme", "secret": "acme-secret", "register": True}, actor="test")
    cfg.create("trunks", {"name": "plain", "host": "127.0.0.3", "match": "127.0.0.3"}, actor="test")
    cfg.create("phones", {"extension": "1001", "secret": "pw-1001-secret"}, actor="test")
    cfg.create("phones", {"extension": "1002", "secret": "pw-1002-secret"}, actor="test")
    app.users.create("sup", PASSWORD, "supervisor", language="en")
    try:
        url = web_up(app)
        wait_until(lambda: app.registrations.known, 30, "the registrations read from Asterisk")
        page = signed_in_page(chromium, url, "sup")
        page.goto(url + "/admin/phones")
        alice = page.locator('[data-reg="phones/1001"]')
        expect(alice).to_have_text("Not registered")

        phone = Phone("1001", "pw-1001-secret", sip_address(app), tmp_path / "sipp")
        phone.register()  # SIPp: REGISTER with digest authentication, 200 OK
        expect(alice).to_have_text("Registered", timeout=10_000)  # no reload: the event stream
        expect(page.locator('[data-reg="phones/1002"]')).to_have_text("Not registered")
        assert app.registrations.snapshot()["phones"] == {"1001": "registered"}
        assert "1001/sip:1001@" in app.pbx.cli("pjsip show contacts")
        app._resync_registrations()  # Asterisk's CLI, read as after a reconnection, says the same
        assert app.registrations.snapshot()["phones"] == {"1001": "registered"}
        screenshot(page, "en", "phones-registered-live")

        unregister = Sipp("phone_unregister.xml", "127.0.0.1", free_port(socket.SOCK_DGRAM), sip_address(app),
                          {"agent": "1001", "contact_port": phone.port}, tmp_path / "sipp",
                          extra_args=("-au", "1001", "-ap", "pw-1001-secret"))
        assert unregister.run(30) == 0, unregister.errors()
        expect(alice).to_have_text("Not registered", timeout=10_000)
        assert app.registrations.snapshot()["phones"] == {}
        assert "1001/sip:1001@" not in app.pbx.cli("pjsip show contacts")

        wait_until(lambda: app.registrations.snapshot()["trunks"].get("acme") == "registered", 30,
                   "the trunk registered to the SIPp registrar")
        app.users.set_language(app.users._user(username="sup").id, "zh_CN")
        page.goto(url + "/admin/trunks")
        expect(page.locator('[data-reg="trunks/acme"]')).to_have_text("已注册")
        expect(page.locator('[data-reg="trunks/plain"]')).to_have_text("不注册")
        screenshot(page, "zh_CN", "trunks-registered")
        # the engine's state after a fresh read of Asterisk (as after a reconnection) is the same
        app._resync_registrations()
        assert app.registrations.snapshot() == {"known": True, "phones": {}, "trunks": {"acme": "registered"}}
    finally:
        registrar.stop()
