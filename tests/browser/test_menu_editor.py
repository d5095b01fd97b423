"""An admin edits a voice menu in real Chromium: adds a step (a key to a queue), skips one and
brings it back, removes one (asked first, with what callers pressing that key get now and
will get), is told why a step pointing at nothing is refused, and switches
the menu to English; the flow tree, the keys table and the saved menu follow every change."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from webharness import screenshot
from webui import i18n

pytestmark = pytest.mark.browser


def key_row(page, digit):
    return page.locator("table.list tbody tr", has=page.locator("td:first-child strong", has_text=digit))


def submit(page, locator):
    with page.expect_navigation():
        locator.click()


@pytest.mark.parametrize("lang", ["en", "zh_CN"])
def test_an_admin_adds_skips_and_removes_steps_of_a_menu(page_as, web, lang):
    t = lambda msgid: i18n.translate(lang, msgid)  # noqa: E731
    menus = web.deps.menus
    page = page_as("admin", lang)
    page.goto(web.url + "/admin/menus")
    submit(page, page.locator("h2 a[href='/admin/menus/main']"))
    tree = page.locator("section.card", has=page.locator("h2", has_text=t("menus.flow"))).locator("ul.tree").first

    # add a step: key 4 sends callers to the sales queue
    page.select_option("#o-digit", "4")
    page.select_option("#o-action", "queue")
    page.select_option("#o-target", "sales")
    submit(page, page.locator("button", has_text=t("menus.add_step")))
    expect(key_row(page, "4")).to_contain_text("sales")
    expect(tree).to_contain_text("4 → " + t("menus.action.queue") + " sales")
    assert {"digit": "4", "action": "queue", "target": "sales", "enabled": True} in menus.get("main")["options"]

    # skip the step on key 2: callers pressing 2 are treated as a wrong key; the tree leaves it out
    submit(page, key_row(page, "2").locator("button", has_text=t("menus.skip_step")))
    expect(key_row(page, "2")).to_contain_text(t("menus.skipped"))
    expect(tree).not_to_contain_text("2 → ")
    assert next(o for o in menus.get("main")["options"] if o["digit"] == "2")["enabled"] is False
    screenshot(page, lang, "menu-edited")
    submit(page, key_row(page, "2").locator("button", has_text=t("menus.unskip_step")))
    expect(tree).to_contain_text("2 → " + t("menus.action.queue") + " support")

    # remove the step on key 3 (the directory) of this live menu: asked first, with what callers
    # pressing 3 get now and will get (a wrong key: the greeting again, then the invalid action)
    asked = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
    key_row(page, "3").locator("button", has_text=t("admin.delete")).click()
    assert asked == [i18n.translate(lang, "menus.confirm_remove_live_key", digit="3", menu="main",
                                    now=t("menus.action.directory"), tries=3, then=t("menus.action.hangup"))]
    expect(key_row(page, "3")).to_have_count(1)  # dismissed: nothing removed
    assert "3" in {o["digit"] for o in menus.get("main")["options"]}
    # a skipped key is reached by no caller, and the question says so
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
    key_row(page, "8").locator("button", has_text=t("admin.delete")).click()
    assert asked[1:] == [i18n.translate(lang, "menus.confirm_remove_key", digit="8", menu="main")]
    page.once("dialog", lambda dialog: dialog.accept())
    submit(page, key_row(page, "3").locator("button", has_text=t("admin.delete")))
    expect(key_row(page, "3")).to_have_count(0)
    assert "3" not in {o["digit"] for o in menus.get("main")["options"]}

    # a step leading nowhere is refused, said why, and nothing changes
    page.select_option("#o-digit", "5")
    page.select_option("#o-action", "menu")
    page.select_option("#o-target", "")
    submit(page, page.locator("button", has_text=t("menus.add_step")))
    expect(page.locator("p.alert")).to_contain_text("which menu?")
    assert "5" not in {o["digit"] for o in menus.get("main")["options"]}

    # the menu speaks English from now on
    page.goto(web.url + "/admin/menus/main")
    page.select_option("#f-language", "en")
    submit(page, page.locator("button", has_text=t("menus.save")))
    assert menus.get("main")["language"] == "en"
    page.goto(web.url + "/admin/menus")
    expect(page.locator("section.card", has=page.locator("h2 a[href='/admin/menus/main']"))).to_contain_text(
        t("choice.menus.language.en"))
    assert not page.problems, page.problems
