"""Billing in a real browser, in both languages (issue 17, point 5): the admin makes a rate
plan (a negative price refused next to its box, in the reader's language), gives a trunk
its plan, reads the month's bill (every figure the records' sum, ¥ with two decimals), then
changes a price and re-rates the month (asked first; the page says the totals before and
after); a supervisor reads the bill without the re-rating button."""

from __future__ import annotations

import datetime as dt

import pytest
from playwright.sync_api import expect

from appliance.db import models as m
from appliance.db.writers import CallRecordWriter
from webharness import screenshot
from webui import i18n

pytestmark = pytest.mark.browser

# 2026-11-10 10:00 in Shanghai
T0 = dt.datetime(2026, 11, 10, 2, 0, tzinfo=dt.timezone.utc).timestamp()


def call(linkedid, number, talk, agent, trunk="telecom"):
    return {"linkedid": linkedid, "direction": "outbound", "caller": number, "caller_name": "", "did": "",
            "trunk": trunk, "queue": "", "agent": agent, "enter_time": T0, "answer_time": T0 + 4,
            "end_time": T0 + 4 + talk, "wait_seconds": 4.0, "talk_seconds": float(talk), "disposition": "answered",
            "fallback_reason": "", "hangup_cause": 16, "route_rule": "", "survey": "", "survey_score": None}


@pytest.mark.parametrize("lang", ["en", "zh_CN"])
def test_rate_plan_bill_and_re_rating(page_as, web, lang):
    _ = lambda msgid, **kw: i18n.translate(lang, msgid, **kw)  # noqa: E731
    m.Trunk.create(name="telecom", display_name="上海电信", host="10.0.0.1")
    # the seeded agents were added before November (rents follow the audit log's dates)
    m.AuditLog.update(at=dt.datetime(2026, 1, 5)).where(m.AuditLog.object_type == "agents").execute()
    web.deps.site.save_region({"username": "admin", "id": web.users["admin"]}, "Asia/Shanghai", lang, "21")  # Shanghai
    page = page_as("admin", lang)
    page.goto(web.url + "/admin/rates")
    expect(page.locator("#rate-plans tr.empty")).to_have_text(_("rates.none"))
    page.click(f"text={_('rates.add')}")
    page.fill("#f-name", "上海电信标准")
    page.select_option("#f-unit", "60/6")
    page.fill("#f-call_fee", "0.02")
    page.fill("#f-trunk_rent", "100")
    page.fill("#f-agent_rent", "30")
    page.check("input[name=is_default]")
    page.fill("#f-rate-local", "0.10")
    page.fill("#f-rate-mobile", "-0.15")
    page.click("#rate-plan-form button.primary")
    expect(page.locator("#f-rate-mobile ~ .field-error")).to_have_text(_("rates.negative"))
    page.fill("#f-rate-mobile", "0.15")
    page.click("#rate-plan-form button.primary")
    page.wait_for_url(web.url + "/admin/rates")
    row = page.locator("#rate-plans tbody tr").first
    expect(row).to_contain_text(_("rates.unit.split", first=60, next=6))
    expect(row).to_contain_text(_("rates.per_minute_value", price="0.15"))
    expect(row).to_contain_text(_("rates.not_priced"))  # international: no price
    expect(page.locator("#trunk-plans tr[data-trunk=telecom] select option").first).to_have_text(
        _("rates.default_plan", name="上海电信标准"))
    screenshot(page, lang, "billing-rate-plans")

    writer = CallRecordWriter(web.db, rate=web.deps.billing.rate)
    writer.write(call("a", "02161234567", 61, "1001"))  # local: 66 s at 0.10 = 11 + 2
    writer.write(call("b", "13812345678", 125, "1002"))  # mobile: 126 s at 0.15 = 31.5 -> 32 + 2
    writer.write(call("c", "0044207946000", 30, "1001"))  # international: not charged
    assert [r.cost for r in m.CallRecord.select().where(m.CallRecord.linkedid.in_(["a", "b", "c"])).order_by(m.CallRecord.linkedid)] == [13, 34, None]

    page.goto(web.url + "/billing?month=2026-11")
    total = page.locator("#bill-total")
    expect(total).to_contain_text("¥0.47")  # 13 + 34 fen
    expect(total).to_contain_text("¥160.00")  # one trunk (100) and two agents (30 each)
    expect(total).to_contain_text("¥160.47")
    expect(page.locator("#bill-trunks tr[data-name=telecom]")).to_contain_text("¥100.47")
    expect(page.locator("#bill-agents tr[data-name='1001']")).to_contain_text("¥30.13")
    expect(page.locator("#bill-teams tr[data-name=sales]")).to_contain_text("¥0.47")
    expect(page.locator("#unrated-hint")).to_have_text(_("billing.unrated_hint"))
    screenshot(page, lang, "billing-month")

    # a price changed, then the month re-rated: asked first, the totals before and after said
    plan = web.deps.billing.plans()[0]
    page.goto(web.url + f"/admin/rates/{plan['id']}")
    page.fill("#f-rate-local", "0.20")
    page.fill("#f-rate-international", "1.00")
    page.click("#rate-plan-form button.primary")
    page.wait_for_url(web.url + "/admin/rates")
    page.goto(web.url + "/billing?month=2026-11")
    asked = []
    page.on("dialog", lambda d: (asked.append(d.message), d.accept()))
    page.click("#rerate button")
    expect(page.locator("#rerate-result")).to_have_text(_(
        "billing.rerated", month="2026-11", calls=3, changed=2, before="¥0.47", after="¥1.60"))
    assert asked == [_("billing.confirm_rerate", month="2026-11")]
    # a: 66 s at 0.20 = 22 + 2; b unchanged; c: 60 s at 1.00 = 100 + 2
    assert [r.cost for r in m.CallRecord.select().where(m.CallRecord.linkedid.in_(["a", "b", "c"])).order_by(m.CallRecord.linkedid)] == [24, 34, 102]
    expect(page.locator("#bill-total")).to_contain_text("¥161.60")
    screenshot(page, lang, "billing-rerated")

    sup = page_as("supervisor", lang)
    sup.goto(web.url + "/billing?month=2026-11")
    expect(sup.locator("#bill-total")).to_contain_text("¥161.60")
    expect(sup.locator("#rerate")).to_have_count(0)
    assert not page.problems and not sup.problems, page.problems + sup.problems
