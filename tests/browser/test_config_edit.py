"""Two admins in two real browsers edit the same queue: the second to save is told who
saved first, sees their values in the form with what they typed beside them, and saves
again knowingly; nothing is silently overwritten.  And a bad value is explained next to
its field in the edit form."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from webharness import PASSWORD, PageProblems, screenshot

pytestmark = pytest.mark.browser


def signed_in(browser, web, username, lang="en"):
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.problems = PageProblems(page).items
    page.goto(f"{web.url}/login?lang={lang}")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.click("form button")
    return page


@pytest.mark.parametrize("lang", ["en", "zh_CN"])
def test_two_admins_editing_the_same_queue(browser, web, lang):
    second = web.deps.users.create("admin2", PASSWORD, "admin", language=lang)
    web.deps.users.set_language(web.users["admin"], lang)
    ann, ben = signed_in(browser, web, "admin", lang), signed_in(browser, web, "admin2", lang)
    for page in (ann, ben):
        page.goto(web.url + "/admin/queues")
        with page.expect_navigation():
            page.click('a[href="/admin/queues/sales"] >> nth=0')
        expect(page.locator("#f-ring_timeout")).to_have_value("15")

    ben.fill("#f-ring_timeout", "30")
    ben.fill("#f-display_name", "Sales (Ben)")
    with ben.expect_navigation():
        ben.click("form.grid button.primary")
    assert ben.url.endswith("/admin/queues")

    ann.fill("#f-ring_timeout", "25")
    with ann.expect_navigation():
        ann.click("form.grid button.primary")
    expect(ann.locator("#conflict")).to_contain_text("admin2")
    expect(ann.locator("#f-ring_timeout")).to_have_value("30")  # theirs, in the form
    expect(ann.locator("#f-display_name")).to_have_value("Sales (Ben)")
    expect(ann.locator(".field", has=ann.locator("#f-ring_timeout")).locator(".yours")).to_contain_text("25")
    assert web.deps.config.get("queues", "sales")["ring_timeout"] == 30
    screenshot(ann, lang, "config-edit-conflict")

    ann.fill("#f-ring_timeout", "25")
    with ann.expect_navigation():
        ann.click("form.grid button.primary")
    saved = web.deps.config.get("queues", "sales")
    assert (saved["ring_timeout"], saved["display_name"]) == (25, "Sales (Ben)")

    ben.goto(web.url + "/admin/queues/sales")
    ben.fill("#f-ring_timeout", "2")
    ben.fill("#f-display_name", "<script>alert(1)</script>")
    with ben.expect_navigation():
        ben.click("form.grid button.primary")
    expect(ben.locator(".field.has-error", has=ben.locator("#f-ring_timeout")).locator(".field-error")).to_be_visible()
    expect(ben.locator(".field.has-error", has=ben.locator("#f-display_name")).locator(".field-error")).to_be_visible()
    expect(ben.locator("#f-display_name")).to_have_value("<script>alert(1)</script>")  # kept, as text
    screenshot(ben, lang, "config-edit-errors")
    assert web.deps.config.get("queues", "sales")["ring_timeout"] == 25
    assert not ann.problems and not ben.problems, (ann.problems, ben.problems)
    assert second["username"] == "admin2"
