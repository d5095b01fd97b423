"""The report pages in a real browser, in both languages: each draws its ECharts chart
(vendored, under the page's CSP, no script error) over its table with the seeded figures
(the voice menus, regions, trunks, outbound results, costs and sales too), a team chosen;
a bad range is said next to the form in the reader's language; the print view drops the
navigation and the form; a report e-mailed weekly is added; an agent gets their own
efficiency only.  Screenshots of each."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from appliance.db.models import (CallList, CallListEntry, Campaign, CampaignAttempt, MenuStep, OrderItem,
                                 SalesOrder)
from appliance.db.writers import AgentStateWriter, CallRecordWriter
from webharness import screenshot

pytestmark = pytest.mark.browser

SHANGHAI = ZoneInfo("Asia/Shanghai")
DAY = dt.date(2026, 12, 1)
RANGE = "from=2026-12-01&to=2026-12-01"


def at(hh, mm, day=DAY):
    return dt.datetime(day.year, day.month, day.day, hh, mm, tzinfo=SHANGHAI).timestamp()


def seed(db):
    def call(lid, enter, queue, agent="", wait=0, talk=0, disposition="answered", direction="inbound", caller="",
             score=None):
        return {"linkedid": lid, "direction": direction, "caller": caller, "caller_name": "", "did": "88001000",
                "trunk": "pstn", "queue": queue, "agent": agent, "enter_time": enter,
                "answer_time": enter + wait if talk else None, "end_time": enter + wait + talk,
                "wait_seconds": wait, "talk_seconds": talk, "disposition": disposition, "fallback_reason": "",
                "hangup_cause": 16, "route_rule": "did", "survey": "rated" if score else "", "survey_score": score}

    writer = CallRecordWriter(db)
    for rec in (call("r1", at(9, 0), "sales", "1001", 10, 120, score=5),
                call("r2", at(9, 20), "sales", "1002", 35, 200, score=1),
                call("r3", at(10, 5), "sales", wait=50, disposition="abandoned", caller="13912345678"),
                call("r4", at(23, 58), "support", "1002", 5, 400),  # ends after midnight
                {**call("r5", at(11, 0), "", "1001", 8, 60, direction="outbound", caller="13912345678"),
                 "cost": 45, "destination_class": "mobile"}):
        writer.write(rec)
    utc = dt.datetime(2026, 12, 1, 1, 0)  # 09:00 in Shanghai
    for lid, menu, kind, keys, next_menu, left in (("r1", "main", "enter", "", "main", ""),
                                                   ("r1", "main", "key", "1", "", "queue"),
                                                   ("r3", "main", "enter", "", "main", "")):  # r3 hung up in it
        MenuStep.create(at=utc, linkedid=lid, menu=menu, kind=kind, keys=keys, next_menu=next_menu, left=left)
    campaign = Campaign.create(name="spring", display_name="春季回访")
    entry = CallListEntry.create(call_list=CallList.create(name="spring"), number="+8613912345678", number_key="1")
    for result in ("answered", "busy"):
        CampaignAttempt.create(campaign=campaign, entry=entry, agent="1001", number=entry.number, result=result,
                               started_at=utc)
    order = SalesOrder.create(agent="1001", state="approved", created_at=utc, total_fen=19800)
    OrderItem.create(order=order, code="A1", name="面霜", quantity=2, list_price_fen=9900, price_fen=9900)
    states = AgentStateWriter(db)
    for agent, state, reason, when in (("1001", "free", "", at(8, 0)), ("1001", "paused", "lunch", at(12, 0)),
                                       ("1001", "free", "", at(13, 0)), ("1001", "logged_out", "", at(18, 0)),
                                       ("1002", "free", "", at(9, 0)), ("1002", "logged_out", "", at(17, 0))):
        states.write(SimpleNamespace(agent=agent, state=state, reason=reason, at=when))


def drawn(page):
    expect(page.locator("#report-chart")).to_have_attribute("data-ready", "1")
    expect(page.locator("#report-chart canvas").first).to_be_visible()


@pytest.mark.parametrize("lang", ["en", "zh_CN"])
def test_every_report_with_its_chart_in_both_languages(page_as, web, lang):
    seed(web.db)
    page = page_as("supervisor", lang)
    page.goto(web.url + f"/reports/traffic?{RANGE}&grain=hour")
    drawn(page)
    nine = page.locator("table.report-table tr", has_text="2026-12-01 09:00")
    expect(nine.locator("td").nth(1)).to_have_text("2")  # offered at 9
    total = page.locator("table.report-table tr.total td")
    expect(total.nth(1)).to_have_text("4")  # the call crossing midnight is this day's
    expect(total.nth(5)).to_have_text("50.0%")  # 2 of 4 within 20 s
    screenshot(page, lang, "reports-traffic")
    # a team (a queue's agents): chosen on the form, said in the filter line, its calls counted
    page.select_option("#r-team", "sales")
    with page.expect_navigation():
        page.click("#report-form button")
    expect(page.locator("#report-range")).to_contain_text("班组 sales" if lang == "zh_CN" else "team sales")
    expect(page.locator("table.report-table tr.total td").nth(1)).to_have_text("3")  # r1, r2, r3
    for kind in ("queues", "heatmap", "agents", "timeline", "abandoned", "surveys"):
        page.goto(web.url + f"/reports/{kind}?{RANGE}")
        drawn(page)
        screenshot(page, lang, f"reports-{kind}")
    expect(page.locator("table.report-table").last).to_contain_text("1002")  # the low score, with its call
    # issue 17's remaining reports and issue 18's sales, each drawn over its table
    zh = lang == "zh_CN"
    for kind, table, text in (("ivr", 0, "按键 1" if zh else "Key 1"), ("regions", 0, "江苏省" if zh else "Jiangsu"),
                              ("trunks", 0, "pstn"), ("outbound", 0, "春季回访"), ("costs", 3, "手机" if zh else "Mobile"),
                              ("sales", 2, "面霜")):
        page.goto(web.url + f"/reports/{kind}?{RANGE}")
        drawn(page)
        expect(page.locator("table.report-table").nth(table)).to_contain_text(text)
        screenshot(page, lang, f"reports-{kind}")
    expect(page.locator("table.report-table").first.locator("tr.total td").last).to_have_text("198.00")
    page.goto(web.url + f"/reports/ivr?{RANGE}")
    left = page.locator("table.report-table").nth(1).locator("tbody tr").first
    expect(left).to_contain_text("main")
    expect(page.locator("table.report-table").nth(1).locator("thead")).to_contain_text(
        "在菜单中挂机" if zh else "Hung up in the menu")
    page.goto(web.url + f"/reports/abandoned?{RANGE}")
    expect(page.locator("table.report-table")).to_contain_text("2026-12-01 11:00:00")  # called back at 11
    # a reversed range: said in the reader's words, no chart
    page.goto(web.url + "/reports/traffic?from=2026-12-02&to=2026-12-01")
    expect(page.locator("#report-problem")).to_contain_text(
        "结束日期早于开始日期" if lang == "zh_CN" else "the last day is before the first")
    # printed: the chart and the table, without the menu and the form
    page.goto(web.url + f"/reports/traffic?{RANGE}")
    drawn(page)
    page.emulate_media(media="print")
    expect(page.locator("header.topbar")).to_be_hidden()
    expect(page.locator(".report-filter")).to_be_hidden()
    expect(page.locator("#report-chart canvas").first).to_be_visible()
    screenshot(page, lang, "reports-print")
    page.emulate_media(media="screen")
    # reports e-mailed on a schedule: one added, listed in the reader's words
    page.goto(web.url + "/reports/schedules")
    page.select_option("#s-report", "surveys")
    page.select_option("#s-period", "weekly")
    page.fill("#s-recipients", "boss@example.cn")
    with page.expect_navigation():
        page.click("#schedule-form button")
    expect(page.locator("#schedules tbody tr")).to_have_count(1)
    expect(page.locator("#schedules")).to_contain_text("每周" if lang == "zh_CN" else "week")
    screenshot(page, lang, "reports-schedules")
    assert page.problems == []


def test_an_agent_sees_their_own_efficiency(page_as, web):
    seed(web.db)
    page = page_as("agent", "zh_CN")
    page.goto(web.url + f"/reports?{RANGE}")
    drawn(page)
    rows = page.locator("table.report-table tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("1001")
    expect(page.locator(".report-tabs a")).to_have_count(2)  # their efficiency and their timeline
    screenshot(page, "zh_CN", "reports-agent-own")
    assert page.problems == []
