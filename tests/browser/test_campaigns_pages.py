"""Call lists and preview campaigns in a real browser, in both languages (issue 16): a
supervisor makes a list, uploads an Excel file, sees the number and name columns guessed,
assigns the numbers, gets the bad row reported and imports the good ones; makes a campaign
(the modes that do not exist yet are shown and cannot be chosen), starts it and reads its
figures (kept live); the agent's workspace shows the campaign panel with the number, the customer link
and the script, dials (click-to-dial) and skips, and the next number comes by itself.  A power
campaign (the appliance dials): its pacing and retry fields, and what its dialling does now
in words, kept live as an agent becomes ready."""

from __future__ import annotations

import io

import pytest
from openpyxl import Workbook
from playwright.sync_api import expect

from appliance.db import models as m
from webharness import screenshot
from webui import i18n

pytestmark = pytest.mark.browser


def workbook(rows) -> bytes:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@pytest.mark.parametrize("lang", ["en", "zh_CN"])
def test_a_list_is_imported_a_campaign_started_and_an_agent_previews(page_as, web, lang):
    _ = lambda msgid, **kw: i18n.translate(lang, msgid, **kw)  # noqa: E731
    page = page_as("supervisor", lang)
    page.goto(web.url + "/campaigns")
    page.click("#to-calllists")
    page.fill("#l-name", "spring")
    page.fill("#l-display", "春季回访")
    page.click("#calllist-add button")
    expect(page.locator("h1")).to_have_text("春季回访")
    page.set_input_files("#i-file", files=[{"name": "名单.xlsx", "buffer": workbook([
        ["客户姓名", "手机号码", "城市"], ["王芳", "139 1234 5678", "上海"], ["坏号码", "12", "北京"],
        ["赵六", "13912340001", "杭州"], ["钱七", "13912340002", "南京"]]),
        "mimeType": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}])
    page.click("#upload button")
    expect(page.locator("#m-phone")).to_have_value("1")  # guessed from the titles
    expect(page.locator("#m-name")).to_have_value("0")
    page.fill("#m-agents", "1001")
    page.click("#mapping button.primary")
    expect(page.locator("#errors tbody tr")).to_have_count(1)
    expect(page.locator("#errors tbody td").nth(2)).to_have_text(_("field.phone"))
    screenshot(page, lang, "calllist-import-report")
    page.click("#import-good button")
    expect(page.locator("#imported")).to_have_text(_("calllists.imported", n=3))
    expect(page.locator("#entries tbody tr")).to_have_count(3)
    expect(page.locator("#entries tbody tr").first).to_contain_text(_("calllists.entry_state.pending"))
    # 王芳 is a customer already: her entry links to her record
    expect(page.locator("#entries tbody tr").first.locator("a")).to_have_text("王芳")

    page.goto(web.url + "/campaigns")
    for mode in ("progressive", "power", "predictive", "notification", "press-key", "survey"):
        expect(page.locator(f"#c-mode option[value={mode}]")).to_be_enabled()
    page.fill("#c-name", "spring")
    page.fill("#c-display", "春季回访活动")
    page.select_option("#c-queue", "sales")
    page.locator("#c-lists input").first.check()
    page.fill("#c-script", "您好，我是客服小王。")
    page.click("#campaign-add button.primary")
    expect(page.locator("#campaign-state")).to_have_text(_("campaigns.state.stopped"))
    page.click("#campaign-start")
    expect(page.locator("#campaign-state")).to_have_text(_("campaigns.state.running"))
    expect(page.locator('[data-figure="remaining"] .figure')).to_have_text("3")
    screenshot(page, lang, "campaign-running")

    agent = page_as("agent", lang)
    agent.goto(web.url + "/workspace")
    expect(agent.locator("#campaign-panel")).to_be_visible()
    expect(agent.locator("#cp-number")).to_have_text("+8613912345678")
    expect(agent.locator("#cp-customer")).to_be_visible()
    expect(agent.locator("#cp-script")).to_have_text("您好，我是客服小王。")
    expect(agent.locator("#cp-data")).to_contain_text("上海")
    agent.click("#cp-dial")
    expect(agent.locator("#cp-status")).to_have_text(_("campaigns.dialling"))
    assert web.deps.calls.dialled[-1][:2] == ("1001", "13912345678")  # as dialled in China
    expect(agent.locator("#cp-dial")).to_have_text(_("campaigns.dial_again"))
    screenshot(agent, lang, "workspace-campaign-panel")
    agent.fill("#cp-reason", "客户已在跟进")
    agent.click("#cp-skip")
    expect(agent.locator("#cp-number")).to_have_text("+8613912340001")  # the next, by itself
    attempts = [(a.result, a.note) for a in m.CampaignAttempt.select().order_by(m.CampaignAttempt.id)]
    assert attempts == [("failed", ""), ("skipped", "客户已在跟进")]  # dialled, never connected; then skipped
    # the supervisor's campaign page follows the attempt records by itself
    expect(page.locator('[data-figure="skipped"] .figure')).to_have_text("1", timeout=12_000)  # read again every 5 s
    expect(page.locator('[data-figure="failed"] .figure')).to_have_text("1")
    expect(page.locator('[data-figure="remaining"] .figure')).to_have_text("2")
    assert not page.problems and not agent.problems, page.problems + agent.problems


@pytest.mark.parametrize("lang", ["en", "zh_CN"])
def test_a_power_campaign_says_what_its_dialling_does_and_follows_the_agents(page_as, web, lang):
    from appliance.engine.live import FREE, Agent, LiveState
    from appliance.services.dialer import Dialer

    _ = lambda msgid, **kw: i18n.translate(lang, msgid, **kw)  # noqa: E731
    live = LiveState()
    ami = type("Ami", (), {"connected": True})()  # no loop runs: nothing is dialled, only decided
    web.deps.campaigns.dialing = Dialer(web.db, ami, live, web.deps.compliance, web.deps.campaigns, None).status
    spring = web.deps.call_lists.create({"name": "spring"}, "sup")["id"]
    m.CallListEntry.create(call_list=spring, number="+8613912345678", number_key="13912345678")
    page = page_as("supervisor", lang)
    page.goto(web.url + "/campaigns")
    page.fill("#c-name", "power")
    page.select_option("#c-mode", "power")
    page.fill("#c-ratio", "2.5")
    page.fill("#c-retry_busy_minutes", "15")
    page.fill("#c-agents", "1001")
    page.locator("#c-lists input").first.check()
    page.click("#campaign-add button.primary")
    expect(page.locator("#campaign-state")).to_have_text(_("campaigns.state.stopped"))
    expect(page.locator("#dialer-state")).to_have_text(_("campaigns.dialer.status.stopped"))
    page.click("#campaign-start")
    expect(page.locator("#dialer-state")).to_have_text(_("campaigns.dialer.status.no_trunk"))
    expect(page.locator('[data-dialer="dial_level"] .figure')).to_have_text("2.5")
    expect(page.locator("#c-retry_busy_minutes")).to_have_value("15")
    screenshot(page, lang, "campaign-power-no-trunk")
    m.Trunk.create(name="pstn", host="127.0.0.2")  # a trunk, and Alice signs in: the page follows by itself
    live.agents["1001"] = Agent("1001", state=FREE, queues={"sales"})
    expect(page.locator("#dialer-state")).to_have_text(_("campaigns.dialer.status.dialling"), timeout=12_000)
    expect(page.locator('[data-dialer="agents_ready"] .figure')).to_have_text("1")
    screenshot(page, lang, "campaign-power-dialling")
    assert not page.problems, page.problems
