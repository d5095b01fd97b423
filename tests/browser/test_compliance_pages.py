"""The do-not-call list in both languages: an agent on a call presses "Do not call again" on
the screen pop (Chinese), confirms, and the caller is on the list as added from the pop; a
supervisor (Chinese) reads that entry on the compliance page; a supervisor in English adds a
number by hand, sees it listed in its normalised form, and takes it off after confirming."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from appliance.db.models import DncNumber
from webharness import screenshot

pytestmark = pytest.mark.browser


def test_an_agent_puts_the_caller_on_the_list_from_the_pop_in_chinese(web, page_as):
    page = page_as("agent", "zh_CN")
    page.goto(web.url + "/workspace")
    expect(page.locator("#pop-number")).to_have_text("13912345678")  # Alice's caller (the harness's snapshot)
    button = page.locator("#pop-dnc")
    expect(button).to_have_text("加入免打扰")
    asked = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.accept()))
    button.click()
    expect(page.locator("#pop-dnc-status")).to_have_text("已加入免打扰名单。")
    assert asked == ["将 13912345678 加入免打扰名单？之后不会再有人拨打该号码。"]
    screenshot(page, "zh_CN", "workspace-pop-do-not-call")
    [row] = DncNumber.select()
    assert (row.number, row.source, row.added_by, row.reason) == ("+8613912345678", "pop", "alice",
                                                                  "来电时要求不再致电")
    sup = page_as("supervisor", "zh_CN")
    sup.goto(web.url + "/admin/compliance")
    expect(sup.locator("h1")).to_have_text("外呼合规")
    entry = sup.locator("#dnc-list tr[data-number='+8613912345678']")
    expect(entry).to_contain_text("来自弹屏")
    expect(entry).to_contain_text("永久")
    screenshot(sup, "zh_CN", "compliance")
    assert not page.problems and not sup.problems, page.problems + sup.problems


def test_a_supervisor_adds_and_removes_a_number_in_english(web, page_as):
    page = page_as("supervisor", "en")
    page.goto(web.url + "/admin/compliance")
    expect(page.locator("#dnc .empty")).to_have_text("The do-not-call list is empty.")
    page.fill("#dnc-number", "0086 138 0000 0005")
    page.fill("#dnc-reason", "complained twice")
    page.click("#dnc-add button")
    entry = page.locator("#dnc-list tr[data-number='+8613800000005']")
    expect(entry).to_contain_text("complained twice")
    expect(entry).to_contain_text("by hand")
    screenshot(page, "en", "compliance")
    page.fill("#dnc-number", "call me")
    page.click("#dnc-add button")
    expect(page.locator("#dnc-add .field-error")).to_have_text("digits only, with + first if any")
    asked = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.accept()))
    page.goto(web.url + "/admin/compliance")
    page.locator("#dnc-list tr[data-number='+8613800000005'] button").click()
    expect(page.locator("#dnc .empty")).to_be_visible()
    assert asked == ["Take +8613800000005 off the do-not-call list? It may be called again."]
    assert not DncNumber.select().exists()
    assert not page.problems, page.problems
