"""The dispositions page in a real browser, in both languages (issue 15, point 9): the six
seeded codes in the reader's language, a disposition added and renamed in any script,
moved, a used one switched off (confirmed with what will happen: not deleted) and an
unused one deleted; the agent's picker offers what is active, in the admin's order, and
the call record still names the switched-off one."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from appliance.db import models as m
from webharness import screenshot
from webui import i18n

pytestmark = pytest.mark.browser


def order(page):
    return page.locator("#dispositions tbody tr").evaluate_all("rows => rows.map(r => r.dataset.code)")


@pytest.mark.parametrize("lang", ["en", "zh_CN"])
def test_the_admin_keeps_the_dispositions_agents_pick_from(page_as, web, lang):
    _ = lambda msgid, **kw: i18n.translate(lang, msgid, **kw)  # noqa: E731
    m.CallOutcome.create(linkedid="seed.1", agent="1001", disposition="complaint", note="", saved_by="alice")
    page = page_as("admin", lang)
    page.goto(web.url + "/admin/dispositions")
    assert order(page) == ["resolved", "sale", "call-back", "complaint", "no-interest", "wrong-number"]
    expect(page.locator("tr[data-code=sale] input[name=label]")).to_have_attribute("placeholder", _("disposition.sale"))

    page.fill("#d-label", "升级为贵宾")
    page.fill("#d-code", "vip-upgrade")
    page.click("#disposition-add button")
    expect(page.locator("tr[data-code=vip-upgrade] input[name=label]")).to_have_value("升级为贵宾")
    page.locator("tr[data-code=vip-upgrade] button[value=up]").click()
    page.wait_for_url(web.url + "/admin/dispositions")
    assert order(page)[-2:] == ["vip-upgrade", "wrong-number"]
    page.fill("tr[data-code=sale] input[name=label]", "成交（大单）")
    page.locator("tr[data-code=sale] form.row-form button").click()
    expect(page.locator("tr[data-code=sale] input[name=label]")).to_have_value("成交（大单）")

    asked = []
    page.on("dialog", lambda d: (asked.append(d.message), d.accept()))
    name = _("disposition.complaint")
    page.locator("tr[data-code=complaint] button.danger").click()  # used by a call: switched off
    expect(page.locator("tr[data-code=complaint] .flag")).to_have_text(_("dispositions.off"))
    assert asked[-1] == _("dispositions.confirm_off", name=name, n=1)
    page.locator("tr[data-code=wrong-number] button.danger").click()  # unused: gone
    expect(page.locator("tr[data-code=wrong-number]")).to_have_count(0)
    assert asked[-1] == _("dispositions.confirm_delete", name=_("disposition.wrong-number"))
    screenshot(page, lang, "config-dispositions-changed")
    assert m.CallDisposition.get(m.CallDisposition.code == "complaint").active is False

    agent = page_as("agent", lang)  # the picker: active ones, in the admin's order, by their names
    agent.goto(web.url + "/workspace")
    picked = agent.locator("#outcome select[name=disposition] option").evaluate_all(
        "options => options.map(o => [o.value, o.textContent])")
    assert picked == [["", "—"], ["resolved", _("disposition.resolved")], ["sale", "成交（大单）"],
                      ["call-back", _("disposition.call-back")], ["no-interest", _("disposition.no-interest")],
                      ["vip-upgrade", "升级为贵宾"]]
    agent.goto(web.url + "/calls/seed.1")  # the old call keeps the name of what it was given
    expect(agent.locator("main")).to_contain_text(name)
    assert not page.problems and not agent.problems, page.problems + agent.problems
