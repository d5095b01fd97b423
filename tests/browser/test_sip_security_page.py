"""The SIP security page in the real Chromium, in both languages: a source blocked after
failed sign-ins (fed as the AMI security events Asterisk 22 sends) is listed with when, why
and until, the recent failures in the reader's words (never Asterisk's event names), and
an admin unblocks it (audited); the phones' subnets take the LAN's with one button, and a
bad entry is refused with nothing saved."""

from __future__ import annotations

import pytest

from appliance.confgen.from_db import blocked_sources, phone_subnets
from appliance.db import models as m
from appliance.services.sipguard import SipGuard
from webharness import screenshot

pytestmark = pytest.mark.browser

EVENT = {"Event": "ChallengeResponseFailed", "Service": "PJSIP", "AccountID": "1001",
         "RemoteAddress": "IPV4/UDP/203.0.113.9/5060"}


@pytest.fixture
def guard(web):
    applied = []
    sg = SipGuard(web.db, max_failures=3, window_seconds=600, block_seconds=3600,
                  on_change=lambda: applied.append(blocked_sources()), lan_subnets=lambda: ["192.168.1.0/24"])
    web.deps.sip_guard = sg
    sg.applied = applied
    return sg


def feed(sg, address, account, kind_event="ChallengeResponseFailed", n=1):
    for _ in range(n):
        sg.on_event({**EVENT, "Event": kind_event, "AccountID": account,
                     "RemoteAddress": f"IPV4/UDP/{address}/5060"})


@pytest.mark.parametrize("lang", ["en", "zh_CN"])
def test_admin_sees_blocks_and_unblocks(page_as, web, guard, lang):
    feed(guard, "203.0.113.9", "1001", n=2)
    feed(guard, "203.0.113.9", "8000", "InvalidAccountID")  # the third: blocked
    feed(guard, "198.51.100.4", "1002")
    assert [b["address"] for b in guard.blocks()] == ["203.0.113.9"]

    page = page_as("admin", lang)
    page.goto(web.url + "/admin/sip-security")
    row = page.wait_for_selector("#sip-blocks tr[data-address='203.0.113.9']")
    text = row.inner_text()
    if lang == "en":
        assert "3 failed sign-ins" in text and "wrong password" in text and "unknown extension" in text
        assert "1001, 8000" in text
        assert "wrong password" in page.inner_text("#sip-events")
    else:
        assert "登录失败 3 次" in text and "密码错误" in text and "分机不存在" in text
        assert "SIP 安全" in page.inner_text("h1")
    main = page.inner_text("main")
    assert "198.51.100.4" in page.inner_text("#sip-events")
    for raw in ("ChallengeResponseFailed", "InvalidAccountID", "wrong_password", "sip."):
        assert raw not in main
    screenshot(page, lang, "sip-security")

    with page.expect_navigation():
        row.query_selector("button").click()
    assert page.query_selector("#sip-blocks tr[data-address]") is None
    assert "203.0.113.9" in page.inner_text("#sip-history")
    assert blocked_sources() == () and guard.applied[-1] == ()
    assert m.AuditLog.get(m.AuditLog.action == "unblock").username == "admin"
    assert not page.problems, page.problems


def test_phones_subnets_from_the_lan_and_bad_entries(page_as, web, guard):
    page = page_as("admin")
    page.goto(web.url + "/admin/sip-security")
    page.fill("#trusted", "10.0.0.1, 10.0.0.999")
    page.click("#sip-settings form.grid button")
    page.wait_for_selector("#sip-settings .field-error")
    assert "10.0.0.999" in page.inner_text("#sip-settings .field-error")
    assert page.input_value("#trusted") == "10.0.0.1, 10.0.0.999"  # what was typed stays for correcting
    assert phone_subnets() == () and guard.settings()["trusted"] == []

    page.goto(web.url + "/admin/sip-security")
    assert "192.168.1.0/24" in page.inner_text("#use-lan")
    with page.expect_navigation():
        page.click("#use-lan button")
    assert phone_subnets() == ("192.168.1.0/24",)
    assert page.input_value("#phone_subnets") == "192.168.1.0/24"
    assert not page.problems, page.problems
