"""Phones and trunks show whether they are registered, live, from a real Asterisk: a SIPp
phone registers and its row in the phones list says so without a reload, then unregisters
and it says so again; a trunk registering to a SIPp registrar shows as registered (in
Chinese, too); what the engine holds agrees with Asterisk's own CLI throughout."""

from __future__ import annotations

import socket

import pytest
from playwright.sync_api import expect

from harness import TRUNK_IP, Phone, Sipp, free_port, sip_address, wait_until
from webharness import CHROMIUM, CHROMIUM_FLAGS, PASSWORD, screenshot, signed_in_page

pytestmark = [pytest.mark.asterisk, pytest.mark.browser]


@pytest.fixture
def chromium():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS, headless=True)
        yield browser
        browser.close()


def test_phone_and_trunk_registrations_show_live(make_appliance, tmp_path, chromium):
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
        app.start(web=True)
        wait_until(lambda: app.ami.connected and app.registrations.known, 30, "AMI and the registrations")
        url = f"http://127.0.0.1:{app.web.server_port}"
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
