"""Call scripts (话术) in the real Chromium, in both languages: an admin builds a script with
two branches on a choice question (first refused for a loop, with the way round), attaches it
to the sales queue; the agent on a sales call (the harness's live snapshot: 1001 talking with
王芳) walks it in the workspace in their language (a step written only in Chinese shown as
the fallback), picks the answer that branches, and the customer's field holds the answer; the
supervisor reads what was said on the call."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import expect

from appliance.db import models as m
from webharness import screenshot
from webui import i18n

pytestmark = pytest.mark.browser

STEPS = (  # id, Chinese, English, question, next
    ("greet", "您好，这里是客服中心。", "Hello, this is the service desk.", "", "ask"),
    ("ask", "请问您是哪个等级的会员？", "Which membership level are you?", "level", "thanks"),
    ("vip", "感谢您一直以来的支持！", "Thank you for being a gold member!", "", "thanks"),
    ("offer", "现在升级金卡可享八折。", "Gold is 20% off if you upgrade today.", "", "ask"),  # loops
    ("thanks", "祝您生活愉快，再见！", "", "", ""),  # Chinese only: English readers see it too
)


@pytest.mark.parametrize("lang", ["en", "zh_CN"])
def test_an_admin_builds_a_two_branch_script_and_an_agent_walks_it_on_a_call(page_as, web, lang):
    _ = lambda msgid, **kw: i18n.translate(lang, msgid, **kw)  # noqa: E731
    zh = lang == "zh_CN"
    page = page_as("admin", lang)
    page.goto(web.url + "/admin/scripts")
    page.click("#new-script")
    page.fill("#s-label", "会员回访" if zh else "Member check")
    page.fill("#s-name", "member")
    for i, (sid, text_zh, text_en, field, nxt) in enumerate(STEPS):
        page.fill(f"input[name=step_id_{i}]", sid)
        page.fill(f"textarea[name=step_zh_{i}]", text_zh)
        page.fill(f"textarea[name=step_en_{i}]", text_en)
        if field:
            page.select_option(f"select[name=step_field_{i}]", field)
        page.fill(f"input[name=step_next_{i}]", nxt)
    for i, (answer, nxt) in enumerate((("gold", "vip"), ("silver", "offer"))):
        page.fill(f"input[name=br_step_{i}]", "ask")
        page.fill(f"input[name=br_answer_{i}]", answer)
        page.fill(f"input[name=br_next_{i}]", nxt)
    page.check("#s-queues input[value=sales]")
    page.click("#script-form button.primary")
    expect(page.locator("#problem")).to_contain_text(_("scripts.loop", path="ask → offer → ask"))
    screenshot(page, lang, "script-refused-loop")
    page.fill("input[name=step_next_3]", "thanks")  # the offer ends the way the others do
    page.click("#script-form button.primary")
    page.wait_for_url(web.url + "/admin/scripts")
    row = page.locator("#scripts tbody tr").first
    expect(row).to_contain_text("会员回访" if zh else "Member check")
    expect(row).to_contain_text("Sales")  # the queue by its display name
    screenshot(page, lang, "scripts")
    assert not page.problems, page.problems

    # the agent, talking with 王芳 (a gold member) on a sales call
    agent = page_as("agent", lang)
    panel = agent.locator("#script-panel")
    expect(panel).to_be_visible()
    expect(agent.locator("#sp-customer")).to_have_text(_("scripts.answers_to", name="王芳"))
    expect(agent.locator("#sp-text")).to_have_text(STEPS[0][1] if zh else STEPS[0][2])
    agent.click("#sp-next")
    expect(agent.locator("#sp-text")).to_have_text(STEPS[1][1] if zh else STEPS[1][2])
    expect(agent.locator("#sp-answer")).to_have_value("gold")  # what her record holds now
    agent.select_option("#sp-answer", "silver")
    expect(agent.locator("#sp-next")).to_have_text(_("scripts.save_next"))
    agent.click("#sp-next")
    expect(agent.locator("#sp-text")).to_have_text(STEPS[3][1] if zh else STEPS[3][2])  # silver's branch
    expect(agent.locator("#sp-path li").nth(1)).to_contain_text(_("scripts.saved"))
    agent.click("#sp-next")
    expect(agent.locator("#sp-text")).to_have_text(STEPS[4][1])  # in Chinese for both
    screenshot(agent, lang, "workspace-call-script")
    agent.click("#sp-next")
    expect(agent.locator("#sp-done")).to_be_visible()
    assert json.loads(m.Customer.get_by_id(1).custom)["level"] == "silver"
    assert not agent.problems, agent.problems

    # what was said, from the call's page
    sup = page_as("supervisor", lang)
    sup.goto(web.url + "/scripts/calls/1.1")
    expect(sup.locator(".run li")).to_have_count(4)
    expect(sup.locator(".run li").nth(1)).to_contain_text("silver")
    screenshot(sup, lang, "call-script-answers")
    assert not sup.problems, sup.problems
