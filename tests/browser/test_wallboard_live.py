"""The supervisor's wallboard in a real browser: it follows the engine live (the real live
state fed the AMI events of a queue call, its changes published on the real event bus and
its call records written to the database, as the appliance does), without reloading, each
change on screen within a second; and its buttons call the API with the right bodies."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import expect

from appliance.engine.live import LiveState, Publish, WriteCallRecord
from appliance.db.writers import CallRecordWriter
from harness import wait_until
from webharness import screenshot
from webui import i18n

pytestmark = pytest.mark.browser

WITHIN = 1000  # ms: how soon a change must be on the wallboard
TRUNK_CHAN = "PJSIP/trunk-pstn-0000000{}"
AGENT_CHAN = "PJSIP/{}-0000001{}"


class Engine:
    """The appliance's live state with its two adapters here: publish and write records."""

    def __init__(self, web):
        self.state = LiveState()
        self.bus = web.deps.bus
        self.records = CallRecordWriter(web.db)
        web.deps.live = lambda: self.state.snapshot(time.time())
        # the harness ends event streams after 2 s; here one stream must carry the whole test
        web.deps.events_max_seconds = 60.0

    def feed(self, name, **headers):
        for command in self.state.apply({"Event": name, **headers}, time.time()):
            if isinstance(command, Publish):
                self.bus.publish(command.topic, command.data)
            elif isinstance(command, WriteCallRecord):
                self.records.write(command.record)

    def sign_in(self, agent, queue="sales"):
        self.feed("QueueMemberAdded", Queue=queue, MemberName=agent, Interface=f"PJSIP/{agent}", Status="1",
                  Paused="0")

    def call_arrives(self, n, caller):
        lid = f"1700000000.{n}"
        self.feed("Newchannel", Channel=TRUNK_CHAN.format(n), Uniqueid=lid, Linkedid=lid, CallerIDNum=caller,
                  CallerIDName="", Exten="88001000", Context="cc-from-trunk")
        self.feed("QueueCallerJoin", Channel=TRUNK_CHAN.format(n), Uniqueid=lid, Linkedid=lid, Queue="sales",
                  Position="1")
        return lid

    def answer(self, lid, n, agent):
        common = dict(Uniqueid=lid, Linkedid=lid, Queue="sales", MemberName=agent, Interface=f"PJSIP/{agent}")
        self.feed("AgentCalled", **common, DestChannel=AGENT_CHAN.format(agent, n))
        self.feed("AgentConnect", **common, HoldTime="1", DestChannel=AGENT_CHAN.format(agent, n))
        self.feed("QueueCallerLeave", Uniqueid=lid, Linkedid=lid, Queue="sales")

    def hang_up(self, lid, n, agent=None):
        self.feed("Hangup", Channel=TRUNK_CHAN.format(n), Uniqueid=lid, Linkedid=lid, Cause="16")
        if agent:
            self.feed("AgentComplete", Uniqueid=lid, Linkedid=lid, Queue="sales", MemberName=agent,
                      Interface=f"PJSIP/{agent}", TalkTime="1", Reason="caller")

    def abandon(self, lid, n):
        self.feed("QueueCallerAbandon", Uniqueid=lid, Linkedid=lid, Queue="sales")
        self.hang_up(lid, n)


def open_wallboard(page_as, web, lang="en"):
    page = page_as("supervisor", lang, width=1600, height=1000)
    page.goto(web.url + "/wallboard")
    expect(page.locator("#wb-link")).to_have_attribute("data-state", "live")
    page.evaluate("window.notReloaded = true")
    return page


def row(page, table, text):
    return page.locator(f"#{table} tbody tr", has_text=text)


def test_the_wallboard_follows_a_call_live_without_reloading(page_as, web):
    web.deps.config.create("trunks", {"name": "pstn", "host": "192.0.2.1", "max_channels": 2}, actor="t")
    engine = Engine(web)
    page = open_wallboard(page_as, web)
    sales = row(page, "wb-queues", "sales")
    expect(sales.locator("td").nth(4)).to_have_text("0")  # nothing offered yet today

    engine.sign_in("1001")
    engine.sign_in("1002")
    card = page.locator('.agent-card[data-agent="1001"]')
    expect(card.locator(".state")).to_have_text("available", timeout=WITHIN)
    expect(page.locator("#wb-agents .figure")).to_have_text("2/2", timeout=WITHIN)

    lid = engine.call_arrives(1, "13912345678")
    expect(sales.locator("td").nth(1)).to_have_text("1", timeout=WITHIN)  # one caller waiting
    call = row(page, "wb-calls", "13912345678")
    expect(call).to_contain_text("waiting in queue", timeout=WITHIN)
    expect(page.locator('.trunk[data-trunk="pstn"]')).to_contain_text("1 of 2 channels", timeout=WITHIN)
    expect(call.locator("td").nth(4)).to_have_text(re.compile(r"0:0[12]"), timeout=2000)  # ticks in the browser

    engine.answer(lid, 1, "1001")
    expect(card.locator(".state")).to_have_text("in a call", timeout=WITHIN)
    expect(call).to_contain_text("talking", timeout=WITHIN)
    expect(call.get_by_role("button", name="Listen")).to_be_visible()
    expect(sales.locator("td").nth(1)).to_have_text("0", timeout=WITHIN)

    engine.hang_up(lid, 1, "1001")
    expect(call).to_have_count(0, timeout=WITHIN)
    expect(sales.locator("td").nth(4)).to_have_text("1", timeout=WITHIN)  # offered
    expect(sales.locator("td").nth(5)).to_have_text("1", timeout=WITHIN)  # answered
    expect(page.locator("#wb-sl .figure")).to_have_text("100%", timeout=WITHIN)
    expect(card.locator(".state")).to_have_text("available", timeout=WITHIN)

    lid = engine.call_arrives(2, "13800000002")
    expect(row(page, "wb-calls", "13800000002")).to_have_count(1, timeout=WITHIN)
    engine.abandon(lid, 2)
    expect(sales.locator("td").nth(6)).to_have_text("1", timeout=WITHIN)  # abandoned
    expect(page.locator("#wb-abandoned .figure")).to_have_text("1", timeout=WITHIN)
    expect(page.locator("#wb-sl .figure")).to_have_text("50%", timeout=WITHIN)
    expect(page.locator("#wb-answered .figure")).to_have_text("1 / 2", timeout=WITHIN)

    assert page.evaluate("window.notReloaded") is True
    assert not page.problems, page.problems


class SupervisorCalls:
    """Stands in for CallControl: records what the supervisor's buttons asked for."""

    def __init__(self):
        self.steps = []

    def spy(self, agent, phone, mode, actor):
        self.steps.append(("spy", agent, phone, mode, actor))
        return {"agent": agent, "phone": phone, "mode": mode}

    def hangup(self, linkedid, actor):
        self.steps.append(("hangup", linkedid, actor))
        return {"linkedid": linkedid}


def test_the_buttons_call_the_api_with_the_right_bodies(page_as, web):
    web.deps.calls = calls = SupervisorCalls()
    engine = Engine(web)
    engine.sign_in("1001")
    lid = engine.call_arrives(1, "13912345678")
    engine.answer(lid, 1, "1001")
    page = open_wallboard(page_as, web)
    card = page.locator('.agent-card[data-agent="1001"]')

    card.get_by_role("button", name="Listen").click()  # no phone yet: asked once
    dialog = page.locator("#wb-phone-dialog")
    expect(dialog).to_be_visible()
    dialog.locator("input").fill("12")
    dialog.locator("input").fill("not a phone")
    dialog.get_by_role("button", name="Save").click()
    expect(dialog.locator(".field-error")).to_be_visible()
    dialog.locator("input").fill("1002")
    with page.expect_request("**/api/v1/agents/1001/spy") as sent:
        dialog.get_by_role("button", name="Save").click()
    request = sent.value
    assert request.method == "POST" and request.post_data_json == {"phone": "1002", "mode": "listen"}
    assert request.headers.get("x-csrf-token")
    expect(page.locator("#wb-status")).to_contain_text("1002", timeout=WITHIN)
    expect(page.locator("#wb-phone")).to_have_text("My phone: 1002")

    with page.expect_request("**/api/v1/agents/1001/spy") as sent:  # remembered: not asked again
        row(page, "wb-calls", "13912345678").get_by_role("button", name="Whisper").click()
    assert sent.value.post_data_json == {"phone": "1002", "mode": "whisper"}
    expect(dialog).to_be_hidden()

    page.once("dialog", lambda d: d.accept())
    with page.expect_request(f"**/api/v1/calls/{lid}/hangup"):
        row(page, "wb-calls", "13912345678").get_by_role("button", name="Hang up").click()

    card.get_by_role("button", name="Pause").click()
    pause = page.locator("#wb-pause-dialog")
    pause.locator("select").select_option("lunch")
    with page.expect_request("**/api/v1/agents/1001/pause") as sent:
        pause.get_by_role("button", name="Pause").click()
    assert sent.value.post_data_json == {"reason": "lunch"}

    page.once("dialog", lambda d: d.accept())
    with page.expect_request("**/api/v1/agents/1001/logout"):
        card.get_by_role("button", name="Sign out").click()
    expect(page.locator("#wb-status")).to_contain_text("signed out", timeout=WITHIN)

    steps = [("spy", "1001", "1002", "listen", "sup"), ("spy", "1001", "1002", "whisper", "sup"), ("hangup", lid, "sup")]
    asked = [("pause", "1001", "lunch"), ("logout", "1001")]
    wait_until(lambda: len(calls.steps) >= len(steps) and len(web.deps.agents.calls) >= len(asked), 5,
               "the server to have carried out every click")
    assert calls.steps == steps
    assert web.deps.agents.calls == asked
    page.reload()
    expect(page.locator("#wb-phone")).to_have_text("My phone: 1002")  # still remembered
    assert not page.problems, page.problems


@pytest.mark.parametrize("lang", ["en", "zh_CN"])
def test_the_wallboard_is_photographed_mid_morning(page_as, web, lang):
    web.deps.config.create("trunks", {"name": "pstn", "host": "192.0.2.1", "max_channels": 30}, actor="t")
    web.deps.config.create("trunks", {"name": "unicom-sip", "host": "192.0.2.2", "max_channels": 2}, actor="t")
    engine = Engine(web)
    for agent in ("1001", "1002"):
        engine.sign_in(agent)
    engine.sign_in("1002", "support")
    engine.answer(engine.call_arrives(1, "13911110001"), 1, "1001")  # talking
    engine.abandon(engine.call_arrives(2, "13911110002"), 2)
    lid = engine.call_arrives(3, "13912345678")
    engine.answer(lid, 3, "1002")
    engine.hang_up(lid, 3, "1002")
    engine.call_arrives(4, "13800000004")  # waiting
    engine.call_arrives(5, "13800000005")  # waiting
    page = open_wallboard(page_as, web, lang)
    expect(page.locator("#wb-sl .figure")).to_have_text("50%")
    expect(page.locator("#wb-waiting .figure")).to_have_text("2")
    page.wait_for_timeout(1500)  # some seconds on the clocks
    assert i18n.translate(lang, "nav.wallboard") in page.inner_text("h1")
    screenshot(page, lang, "wallboard-live")
    assert not page.problems, page.problems


# -- the wall screen, the supervisor's own phone, the dashboard's queues and callers -----------
@pytest.mark.parametrize("lang", ["en", "zh_CN"])
def test_the_wall_screen_mode_is_dark_large_and_has_no_buttons(page_as, web, lang):
    engine = Engine(web)
    engine.sign_in("1001")
    engine.answer(engine.call_arrives(1, "13912345678"), 1, "1001")  # a call: listen/hang-up buttons elsewhere
    T = i18n.catalog(lang)
    page = page_as("supervisor", lang, width=1920, height=1080)
    page.goto(web.url + "/wallboard")
    page.get_by_role("link", name=T["wallboard.full_screen"]).click()
    page.wait_for_url("**/wallboard?tv=1")
    expect(page.locator("#wb-link")).to_have_attribute("data-state", "live")
    expect(row(page, "wb-calls", "王芳")).to_contain_text(T["call_state.talking"])
    expect(page.locator('.agent-card[data-agent="1001"] .state')).to_have_text(T["agent_state.in_call"])
    assert page.locator("button:visible, a:visible, input:visible, select:visible").count() == 0
    assert page.locator(".topbar").is_hidden()
    style = page.evaluate("""() => {
        const s = (sel) => getComputedStyle(document.querySelector(sel));
        return {background: s("body").backgroundColor, card: s(".card").backgroundColor,
                text: s(".wallboard").color, figure: parseFloat(s("#wb-waiting .figure").fontSize),
                cell: parseFloat(s("#wb-calls td").fontSize)};
    }""")
    dark = [int(x) for x in re.findall(r"\d+", style["background"])[:3]]
    assert max(dark) < 40 and style["card"] != "rgb(255, 255, 255)", style
    assert min(int(x) for x in re.findall(r"\d+", style["text"])[:3]) > 200, style  # light on dark
    assert style["figure"] >= 64 and style["cell"] >= 22, style
    screenshot(page, lang, "wallboard-tv")
    assert not page.problems, page.problems


@pytest.mark.parametrize("lang", ["en", "zh_CN"])
def test_the_supervisors_phone_is_kept_with_their_account_on_any_browser(page_as, web, lang):
    from appliance.db.models import User

    T = i18n.catalog(lang)
    page = open_wallboard(page_as, web, lang)
    expect(page.locator("#wb-phone")).to_have_text(T["wallboard.my_phone_unset"])
    page.locator("#wb-phone").click()
    dialog = page.locator("#wb-phone-dialog")
    dialog.locator("input").fill("1009")  # no such phone
    dialog.get_by_role("button", name=T["wallboard.save"]).click()
    expect(page.locator("#wb-status")).to_have_class(re.compile("bad"), timeout=WITHIN)
    expect(page.locator("#wb-phone")).to_have_text(T["wallboard.my_phone_unset"])
    page.locator("#wb-phone").click()
    dialog.locator("input").fill("1002")
    dialog.get_by_role("button", name=T["wallboard.save"]).click()
    mine = T["wallboard.my_phone"].replace("{phone}", "1002")
    expect(page.locator("#wb-phone")).to_have_text(mine, timeout=WITHIN)
    wait_until(lambda: User.get(User.username == "sup").own_extension == "1002", 5, "the phone saved")

    # another browser (a fresh context: no storage of the first) knows it, and listens with it
    web.deps.calls = calls = SupervisorCalls()
    engine = Engine(web)
    engine.sign_in("1001")
    engine.answer(engine.call_arrives(1, "13700000009"), 1, "1001")
    other = open_wallboard(page_as, web, lang)
    assert other.evaluate("localStorage.length") == 0
    expect(other.locator("#wb-phone")).to_have_text(mine)
    other.locator('.agent-card[data-agent="1001"]').get_by_role("button", name=T["wallboard.listen"]).click()
    expect(other.locator("#wb-phone-dialog")).to_be_hidden()
    wait_until(lambda: calls.steps, 5, "the supervisor's phone rung")
    assert calls.steps == [("spy", "1001", "1002", "listen", "sup")]
    assert not page.problems and not other.problems, (page.problems, other.problems)


@pytest.mark.parametrize("lang", ["en", "zh_CN"])
def test_the_dashboard_lists_configured_queues_before_anyone_signs_in_and_callers_by_customer(page_as, web,
                                                                                               lang):
    """Nobody signed in, two callers ringing in: one a customer of the CRM (shown by the
    customer's name, whatever the SIP display name says), one unknown (shown by number)."""
    calls = [{"linkedid": "1.1", "caller": "13912345678", "caller_name": "SIP Display", "did": "88001000",
              "queue": "sales", "agent": "", "state": "queued", "waiting": True, "duration": 5.0,
              "wait_seconds": 5.0},
             {"linkedid": "1.2", "caller": "13600000009", "caller_name": "Spoofed Name", "did": "88001000",
              "queue": "", "agent": "", "state": "new", "waiting": False, "duration": 2.0, "wait_seconds": 2.0}]
    web.deps.live = lambda: {"queues": [{"name": "sales", "waiting": 1, "longest_wait": 5.0, "members": []}],
                             "agents": [], "calls": calls}
    T = i18n.catalog(lang)
    page = page_as("supervisor", lang)
    page.goto(web.url + "/")

    def check():
        for name, display, waiting in (("sales", "Sales", "1"), ("support", "Support", "0")):
            queue = row(page, "queues", display)
            expect(queue).to_have_count(1)
            expect(queue.locator("td").first).to_have_text(f"{name} {display}")
            expect(queue.locator("td").nth(1)).to_have_text(waiting)
        expect(page.locator("#queues")).not_to_contain_text(T["live.no_queues"])
        known = row(page, "calls", "13912345678")
        expect(known.locator("td").first).to_have_text("王芳 13912345678")
        unknown = row(page, "calls", "13600000009")
        expect(unknown.locator("td").first).to_have_text("13600000009")
        expect(page.locator("#calls")).not_to_contain_text("SIP Display")
        expect(page.locator("#calls")).not_to_contain_text("Spoofed Name")

    check()  # as the server drew it
    expect(page.locator("#refresh")).to_have_text(re.compile(re.escape(T["live.updated"].split("{")[0])),
                                                  timeout=5000)
    check()  # and as live.js redraws it from /api/v1/live
    assert not page.problems, page.problems
