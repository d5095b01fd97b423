"""The agent's day in a real browser, in both languages (issue 15, points 11 and 12): the
workspace toolbar follows the agent's live state (buttons that cannot act are disabled,
signed in shown as such, a pause by its reason's name, a held wrap-up), hotkeys that act
on the call but never while typing, a skip link on every page, agents landing on their
workspace, and at phone width a menu button that opens the main menu as a list.

The telephony side is the harness's stand-ins: a live snapshot (``webharness.LIVE``) the
test changes, the same changes published on the real event bus, and recorded call control."""

from __future__ import annotations

import copy
import time

import pytest
from playwright.sync_api import expect

from harness import wait_until
from webharness import LIVE, screenshot
from webui import i18n

pytestmark = pytest.mark.browser

LANGS = ["en", "zh_CN"]


def agent_view(state, **extra):
    return {"name": "1001", "interface": "PJSIP/1001", "state": state, "since": time.time(), "in_state_seconds": 1.0,
            "queues": ["sales"], "pause_reason": "", "wrapup_left": None, "awaiting_disposition": False, **extra}


class Live:
    """The engine as the workspace sees it: the snapshot behind /api/v1/live and the events."""

    def __init__(self, web):
        self.snapshot = copy.deepcopy(LIVE)
        self.bus = web.deps.bus
        web.deps.live = lambda: self.snapshot
        web.deps.events_max_seconds = 60.0  # one event stream for the whole test

    def agent(self, view):
        self.snapshot["agents"] = [view] + [a for a in self.snapshot["agents"] if a["name"] != view["name"]]
        self.bus.publish("agent", view)

    def call_ended(self, linkedid):
        call = next(c for c in self.snapshot["calls"] if c["linkedid"] == linkedid)
        self.snapshot["calls"].remove(call)
        self.bus.publish("call", {**call, "event": "ended", "state": "ended"})


def act(page, name):
    return page.locator(f'.toolbar [data-act="{name}"]')


def enabled(page, *names):
    for name in names:
        expect(act(page, name)).to_be_enabled()


def disabled(page, *names):
    for name in names:
        expect(act(page, name)).to_be_disabled()


@pytest.mark.parametrize("lang", LANGS)
def test_the_toolbar_follows_the_agents_state_and_hotkeys_act_on_the_call(page_as, web, lang):
    _ = lambda msgid, **kw: i18n.translate(lang, msgid, **kw)  # noqa: E731
    live = Live(web)
    page = page_as("agent", lang)
    assert page.url == web.url + "/workspace"  # an agent lands on their workspace
    expect(page.locator("#pop-call-state.talking")).to_be_visible()

    # talking with a customer (LIVE: 1001 in a call): what acts on the call is on, signing in is off
    expect(page.locator("#ws-signed")).to_have_text(_("workspace.signed_in"))
    enabled(page, "hold", "transfer", "consult", "hangup", "pause")
    disabled(page, "login", "login-long", "logout", "unhold", "consult/complete", "consult/cancel", "conference",
             "dial", "unpause")
    expect(page.locator("#ws-keys")).to_have_text(_("workspace.hotkeys"))
    expect(act(page, "hangup")).to_have_attribute("aria-keyshortcuts", "Alt+Shift+H")
    screenshot(page, lang, "workspace-in-call")

    # a hotkey typed into the note is the note's; outside a field it hangs up
    page.fill("#outcome textarea[name=note]", "x")
    page.press("#outcome textarea[name=note]", "Alt+Shift+H")
    page.locator("#pop h2").click()
    page.keyboard.press("Alt+Shift+O")
    wait_until(lambda: web.deps.calls.steps, 5, "the hold hotkey")
    with page.expect_response(lambda r: "/api/v1/live" in r.url):  # the toolbar reads the state back
        page.keyboard.press("Alt+Shift+H")
    assert web.deps.calls.steps == [("hold", "1001"), ("end_call", "1001")]

    # paused for lunch: the reason by its name in the reader's language, never the code
    live.agent(agent_view("paused", pause_reason="lunch"))
    expect(page.locator("#ws-state")).to_have_text(
        _("workspace.paused_for", reason=_("labels.pause_reason.lunch")))
    assert "lunch" not in page.inner_text("#ws-state") or lang == "en"
    enabled(page, "unpause")
    disabled(page, "pause")

    # the call over: nothing left to hold or hang up, a number may be dialled
    live.call_ended("1.1")
    expect(page.locator("#pop-call-state.ended")).to_be_visible()
    disabled(page, "hold", "unhold", "transfer", "consult", "hangup")
    enabled(page, "dial", "logout")

    # held in wrap-up until the disposition is saved: said so, and "available" cannot skip it
    live.agent(agent_view("wrapup", awaiting_disposition=True, disposition_call="1.1"))
    expect(page.locator("#ws-wrapup")).to_have_text(_("workspace.awaiting_disposition"))
    disabled(page, "unpause")
    screenshot(page, lang, "workspace-awaiting-disposition")

    # signed out: only signing in acts
    live.agent(agent_view("logged_out"))
    expect(page.locator("#ws-signed")).to_have_text(_("workspace.signed_out"))
    enabled(page, "login", "login-long")
    disabled(page, "logout", "pause", "unpause")
    expect(page.locator("#ws-reason")).to_be_disabled()
    act(page, "login").click()
    wait_until(lambda: ("login", "1001") in web.deps.agents.calls, 5, "the sign-in")
    assert not page.problems, page.problems


@pytest.mark.parametrize("lang", LANGS)
def test_a_skip_link_leads_past_the_menu_on_every_page(page_as, web, lang):
    page = page_as("admin", lang)
    assert page.url == web.url + "/"  # staff land on the dashboard
    for path in ("/", "/calls", "/admin/dispositions"):
        page.goto(web.url + path)
        page.keyboard.press("Tab")
        link = page.locator(":focus")
        expect(link).to_have_text(i18n.translate(lang, "nav.skip_to_main"))
        box = link.bounding_box()
        assert box and box["y"] >= 0, box  # on screen once focused
        page.keyboard.press("Enter")
        assert page.evaluate("document.activeElement.id") == "main"
        assert page.url.endswith(path + "#main")


@pytest.mark.parametrize("lang", LANGS)
def test_at_phone_width_a_menu_button_opens_the_main_menu(page_as, web, lang):
    page = page_as("agent", lang, width=375, height=740)
    calls = page.locator("#main-nav a[href='/calls']")
    button = page.locator("#menu-button")
    expect(button).to_be_visible()
    expect(button).to_have_text(i18n.translate(lang, "nav.menu"))
    expect(calls).to_be_hidden()
    expect(button).to_have_attribute("aria-expanded", "false")
    button.click()
    expect(button).to_have_attribute("aria-expanded", "true")
    for a in page.locator("#main-nav a").all():
        expect(a).to_be_visible()
        box = a.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 375, box  # a list, not a strip scrolled sideways
    assert page.locator(":focus").get_attribute("href") == "/"  # the keyboard is in the menu
    screenshot(page, lang, "menu-phone-open")
    page.keyboard.press("Escape")
    expect(calls).to_be_hidden()
    assert page.evaluate("document.activeElement.id") == "menu-button"
    page.keyboard.press("Enter")  # the button opens it from the keyboard too
    expect(calls).to_be_visible()
    calls.click()
    page.wait_for_url(web.url + "/calls")
    expect(page.locator("#main-nav a[href='/calls']")).to_be_hidden()  # closed on the next page

    wide = page_as("agent", lang)
    expect(wide.locator("#menu-button")).to_be_hidden()
    expect(wide.locator("#main-nav a[href='/calls']")).to_be_visible()
    assert not page.problems and not wide.problems, page.problems + wide.problems
