"""Setting up agents (issue 15, point 8 and the member part of 6), in Chromium, in both
languages: one page makes an agent with two queues who can then sign in; the queue list
fits a 1366 px screen with the members one click from the row; removing a member asks
first, saying what it does."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from appliance.db import models as m
from webharness import screenshot, sign_in

pytestmark = pytest.mark.browser
LANGS = ["en", "zh_CN"]


@pytest.mark.parametrize("lang", LANGS)
def test_an_agent_with_two_queues_on_one_page_then_signs_in(page_as, browser, web, lang):
    page = page_as("admin", lang)
    page.goto(web.url + "/admin/agents")
    with page.expect_navigation():
        page.click("#new-agent")
    # a mistake first: a taken extension and a short password, named next to their fields
    page.fill("#a-display_name", "Carol 陈")
    page.fill("#a-username", "carol")
    page.fill("#a-password", "short")
    page.fill("#a-extension", "1001")
    page.check("#q-sales")
    with page.expect_navigation():
        page.click("#agent-new button.primary")
    wrong = page.locator(".field.has-error")
    expect(wrong).to_have_count(2)
    expect(page.locator(".field", has=page.locator("#a-extension")).locator(".field-error")).to_have_text(
        "already exists" if lang == "en" else "已存在")
    expect(page.locator(".field", has=page.locator("#a-password")).locator(".field-error")).to_contain_text(
        "8")
    expect(page.locator("#a-username")).to_have_value("carol")  # what was typed is kept, but no password
    expect(page.locator("#a-password")).to_have_value("")
    expect(page.locator("#q-sales")).to_be_checked()
    assert not m.User.select().where(m.User.username == "carol").exists()  # nothing half-made
    assert not m.Phone.select().where(m.Phone.extension == "1003").exists()

    page.fill("#a-password", "carol-pass-1")
    page.fill("#a-extension", "1003")
    page.check("#q-support")
    page.fill("input[name=penalty-support]", "3")
    with page.expect_navigation():
        page.click("#agent-new button.primary")
    made = page.locator("#agent-made")
    expect(made).to_contain_text("Carol 陈")
    secret = page.locator("#sip-secret-0").input_value()
    assert len(secret) >= 16 and m.Phone.get(m.Phone.extension == "1003").secret == secret
    page.click("button[data-copy]")
    expect(page.locator("button[data-copy]")).to_have_text("Copied" if lang == "en" else "已复制")
    screenshot(page, lang, "agent-setup-made")
    assert not page.problems

    agent = web.deps.config.get("agents", "1003")
    assert agent["queues"] == ["sales", "support"] and agent["user"] == "carol" and agent["phone"] == "1003"
    penalties = {r["queue"]: r["penalty"] for q in ("sales", "support") for r in web.deps.config.members(q)
                 if r["agent"] == "1003"}
    assert penalties == {"sales": 0, "support": 3}
    # the agent signs in with the password chosen for them and is offered their queues
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    carol = sign_in(context.new_page(), web.url, "carol", "carol-pass-1")
    expect(carol.locator("header .who")).to_contain_text("carol")
    context.close()


def overflow(page, selector: str) -> tuple[int, int]:
    return page.eval_on_selector(selector, "e => [e.scrollWidth, e.clientWidth]")


@pytest.mark.parametrize("lang", LANGS)
def test_every_item_of_an_admins_menu_is_on_a_1366_px_screen(page_as, web, lang):
    page = page_as("admin", lang, width=1366)
    page.goto(web.url + "/admin/queues")
    links = page.locator("#main-nav a")
    assert links.count() >= 15
    for i in range(links.count()):
        box = links.nth(i).bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= 1366, (links.nth(i).inner_text(), box)
    scroll, client = overflow(page, "#main-nav")
    assert scroll <= client


@pytest.mark.parametrize("lang", LANGS)
def test_the_queue_list_fits_1366_px_and_reaches_the_members(page_as, web, lang):
    page = page_as("admin", lang, width=1366)
    page.goto(web.url + "/admin/queues")
    scroll, client = overflow(page, ".table-wrap")
    assert scroll <= client, f"the queue table overflows: {scroll} > {client}"
    scroll, client = overflow(page, "html")
    assert scroll <= client
    row = page.locator("tr", has=page.locator('a[href="/admin/queues/sales"]'))
    members = row.locator('a[href="/admin/queues/sales/members"]')
    expect(members).to_be_visible()
    expect(members).to_contain_text("2")  # Alice and Bob
    assert members.bounding_box()["x"] + members.bounding_box()["width"] <= 1366
    expect(page.locator("table.list th")).to_have_count(6)  # key (with its display name), three fields, members, actions
    screenshot(page, lang, "queue-list-1366")
    with page.expect_navigation():
        members.click()
    expect(page.locator("table.list tbody tr")).to_have_count(2)


@pytest.mark.parametrize("lang", LANGS)
def test_removing_a_queue_member_asks_first_saying_what_it_does(page_as, web, lang):
    page = page_as("admin", lang)
    page.goto(web.url + "/admin/queues/sales/members")
    asked = []
    page.once("dialog", lambda d: (asked.append(d.message), d.dismiss()))
    row = page.locator("tr", has_text="1001")
    row.locator("button.danger").click()
    expect(page.locator("table.list tbody tr")).to_have_count(2)  # dismissed: nothing removed
    expected = ("Agent 1001 Alice will stop receiving calls from queue Sales" if lang == "en"
                else "坐席 1001 Alice 将不再接到队列 Sales 的来电")
    assert asked and asked[0].startswith(expected), asked
    assert [r["agent"] for r in web.deps.config.members("sales")] == ["1001", "1002"]
    page.once("dialog", lambda d: d.accept())
    with page.expect_navigation():
        row.locator("button.danger").click()
    expect(page.locator("table.list tbody tr")).to_have_count(1)
    assert [r["agent"] for r in web.deps.config.members("sales")] == ["1002"]


@pytest.mark.parametrize("lang", LANGS)
def test_the_wizard_offers_to_add_the_first_agents(page_as, browser, web, lang):
    """The wizard's agents step: a few rows of name and extension, made into the wizard's
    queue by the same one-page set-up, all or none; the passwords shown once; they sign in."""
    site = web.deps.site
    site.begin_setup()
    admin = {"username": "admin", "id": web.users["admin"]}
    site.save_region(admin, "Asia/Shanghai", lang)
    site.skip(admin, "trunk")
    site._step_done("admin", "password")
    site.save_queue(admin, {"name": "hotline"}, "")
    page = page_as("admin", lang)
    page.goto(web.url + "/setup")
    assert page.url.endswith("/setup/agents")
    expect(page.locator("ol.wizard-steps li.on")).to_contain_text("First agents" if lang == "en" else "首批坐席")
    page.fill("#w-display_name-0", "Dora 丁")
    page.fill("#w-extension-0", "2001")
    page.fill("#w-display_name-2", "Eve")
    page.fill("#w-extension-2", "1001")  # Alice's phone already has it
    with page.expect_navigation():
        page.click("main form button.primary")
    error = page.locator("td.has-error", has=page.locator("#w-extension-2")).locator(".field-error")
    expect(error).to_have_text("already exists" if lang == "en" else "已存在")
    expect(page.locator("#w-display_name-0")).to_have_value("Dora 丁")
    assert not m.Agent.select().where(m.Agent.number == "2001").exists()  # all or none

    page.fill("#w-extension-2", "2002")
    with page.expect_navigation():
        page.click("main form button.primary")
    expect(page.locator(".agent-secrets tbody tr")).to_have_count(2)
    password = page.locator("#web-password-0").input_value()
    assert m.Phone.get(m.Phone.extension == "2001").secret == page.locator("#sip-secret-0").input_value()
    screenshot(page, lang, "setup-agents-made")
    for number in ("2001", "2002"):
        assert web.deps.config.get("agents", number)["queues"] == ["hotline"]
    assert site.setup_state()["agents"] == ["2001", "2002"]
    with page.expect_navigation():
        page.click("#wizard-agents-next")
    assert page.url.endswith("/setup/finish")
    expect(page.locator("dl.summary")).to_contain_text("2001, 2002")
    assert not page.problems
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    sign_in(context.new_page(), web.url, "2001", password)  # Dora signs in with what was shown
    context.close()
