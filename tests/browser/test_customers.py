"""Customer pages in the browser: search, a note, and click-to-dial from a phone number."""

from __future__ import annotations

import pytest

from webui import i18n

pytestmark = pytest.mark.browser


def test_agent_searches_writes_a_note_and_dials(page_as, web):
    page = page_as("agent", "en")
    page.click("header nav >> text=Customers")
    page.fill("input[name=q]", "王")
    page.click("form.search button")
    rows = page.locator("#customers tbody tr")
    assert rows.count() == 1 and "王芳" in rows.first.inner_text()  # 张伟 is nobody's, Acme is Bob's
    page.click("#customers >> text=王芳")
    page.fill("textarea[name=body]", "Called about the catalogue.")
    page.click("text=Save note")
    assert "Called about the catalogue." in page.inner_text("#history .timeline li:first-child")
    page.click(".page-head button[data-dial]")
    status = page.locator("#dial-status")
    status.wait_for(state="visible")
    assert "13912345678" in status.inner_text() and "ok" in status.get_attribute("class")
    assert web.deps.calls.dialled == [("1001", "13912345678", "alice")]
    assert not page.problems, page.problems


def test_a_failed_dial_is_shown(page_as, web):
    def refuse(agent, number, actor=""):
        from appliance.errors import Unavailable

        raise Unavailable("the telephony engine is not connected", code="ami.unavailable")

    web.deps.calls.dial = refuse
    page = page_as("agent", "zh_CN")
    page.goto(web.url + "/customers")
    page.click("#customers button[data-dial]")
    status = page.locator("#dial-status")
    status.wait_for(state="visible")
    assert i18n.translate("zh_CN", "crm.dial_failed") in status.inner_text()
    assert "bad" in status.get_attribute("class")
