"""The softphone in the agent's browser and G.722, against the real Asterisk (issue 21
points 5 and 6), on one appliance for the module:

- Carol's phone is a browser phone: her workspace in Chromium (a fake microphone), served
  over HTTPS as on the image, registers it over Asterisk's TLS WebSocket (wss, the web UI's
  self-signed certificate, which Chromium is told to accept) with SIP.js, a SIPp trunk call into the queue rings in the
  page, she answers there, holds and resumes with the toolbar, and hangs up in the page
  (the trunk caller gets Asterisk's BYE); a second call she transfers to a queue from the
  toolbar. The call is the one the workspace shows (screen pop).
- A browser that refuses the microphone: the workspace says so, in English and in Chinese,
  and does not register.
- A wideband phone offering only G.722 calls out through a G.711 trunk: Asterisk answers it
  in G.722 and translates to the trunk's A-law (codec_g722 of the rootfs's Asterisk).
"""

from __future__ import annotations

import re
import socket

import pytest

from appliance.engine.live import FREE, IN_CALL
from harness import (TRUNK_IP, Sipp, free_port, sip_address, trunk_call, wait_until)
from webharness import CHROMIUM, CHROMIUM_FLAGS, PASSWORD, screenshot, signed_in_page

pytestmark = [pytest.mark.asterisk, pytest.mark.browser]

FAKE_MIC = ["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"]
NO_MIC = ["--use-fake-device-for-media-stream", "--deny-permission-prompts"]


@pytest.fixture(scope="module")
def office(make_module_appliance, tmp_path_factory):
    # as on the image: the web UI over HTTPS with its self-signed certificate, the softphones'
    # WebSocket TLS (wss) with the same certificate (Chromium told to accept it)
    app = make_module_appliance(webrtc_port=free_port(), web_https_port=free_port())
    logs = tmp_path_factory.mktemp("sipp")
    trunk_port = free_port(socket.SOCK_DGRAM, TRUNK_IP)
    cfg = app.config
    cfg.create("trunks", {"name": "pstn", "host": TRUNK_IP, "port": trunk_port, "match": TRUNK_IP}, actor="test")
    cfg.create("queues", {"name": "sales", "ring_timeout": 30}, actor="test")
    cfg.create("queues", {"name": "support"}, actor="test")  # where Carol transfers a caller
    cfg.create("dids", {"number": "88001000", "queue": "sales"}, actor="test")
    cfg.create("phones", {"extension": "1003", "secret": "pw-1003-secret", "callerid_name": "Carol",
                          "webrtc": True}, actor="test")
    cfg.create("phones", {"extension": "1004", "secret": "pw-1004-secret", "webrtc": True}, actor="test")
    cfg.create("phones", {"extension": "1005", "secret": "pw-1005-secret", "codecs": "g722"}, actor="test")
    for number, name, user, language in (("1003", "Carol", "carol", "en"), ("1004", "Chen", "chen", "zh_CN")):
        app.users.create(user, PASSWORD, "agent", language=language)
        cfg.create("agents", {"number": number, "name": name, "phone": number, "user": user}, actor="test")
    cfg.create("agents", {"number": "1005", "name": "Wang", "phone": "1005"}, actor="test")  # may call out
    cfg.add_member("sales", "1003", actor="test")
    app.start(web=True)
    wait_until(lambda: app.ami.connected, 30, "AMI to connect")
    return app, f"https://127.0.0.1:{app.settings.web_https_port}", logs, trunk_port


def browser(p, flags):
    return p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS + flags + ["--ignore-certificate-errors"],
                             headless=True)


def contacts(app) -> str:
    return app.pbx.cli("pjsip show contacts")


def answered_in_the_page(app, page, logs, caller: str):
    """A SIPp trunk call from ``caller`` into the queue, rung and answered in Carol's page,
    its media path up; the caller's SIPp (it waits for Asterisk's BYE)."""
    call = trunk_call(sip_address(app), "88001000", caller, logs, scenario="trunk_call_until_bye.xml").start()
    page.wait_for_selector("#softphone[data-state=ringing]", timeout=15_000)
    assert caller in page.inner_text("#sp-caller")
    page.wait_for_selector(f"#pop-number:has-text('{caller}')")  # the screen pop of the same call
    assert page.is_visible("#sp-answer")
    page.click("#sp-answer")
    page.wait_for_selector("#softphone[data-state=talking]", timeout=15_000)
    # ICE and DTLS-SRTP between Chromium and Asterisk done: the media path is up
    page.wait_for_selector("#softphone[data-media=connected]", timeout=15_000)
    wait_until(lambda: app.live.agents["1003"].state == IN_CALL, 15, "Carol talking")
    page.wait_for_selector("#pop-call-state.talking")
    assert not page.is_visible("#sp-answer") and page.is_visible("#sp-hangup")
    return call


def test_agent_answers_holds_resumes_hangs_up_and_transfers_in_the_page(office):
    from playwright.sync_api import sync_playwright

    app, url, logs, _ = office
    with sync_playwright() as p:
        chromium = browser(p, FAKE_MIC)
        page = signed_in_page(chromium, url, "carol")
        problems = []
        page.on("pageerror", lambda e: problems.append(str(e)))
        page.goto(url + "/workspace")
        page.wait_for_selector("#softphone[data-state=registered]", timeout=15_000)
        assert page.inner_text("#sp-line") == "Ready: calls ring here"
        wait_until(lambda: re.search(r"1003/sip:\S+;transport=wss?", contacts(app), re.I), 10,
                   "Asterisk to hold the browser's contact")
        page.click("button[data-act=login]")
        page.wait_for_selector("#ws-state.free")
        assert app.live.agents["1003"].state == FREE

        call = answered_in_the_page(app, page, logs, "13800000111")
        try:
            agent_leg = next(c for c in channels(app) if c.startswith("PJSIP/1003-"))
            page.click("button[data-act=hold]")  # the toolbar, as with a desk phone
            page.wait_for_selector("#pop-call-state.held", timeout=20_000)  # hold: the engine, Asterisk, the event stream
            assert page.get_attribute("#softphone", "data-state") == "talking"  # the browser's leg stays up
            # Resume is enabled once the hold's own request has answered (it may come after the
            # event stream's "held"): under a loaded suite that took over Playwright's 10 s once
            page.wait_for_selector("button[data-act=unhold]:enabled", timeout=20_000)
            page.click("button[data-act=unhold]")
            page.wait_for_selector("#pop-call-state.talking", timeout=20_000)
            assert agent_leg in channels(app)  # the same browser leg, back with the caller
            screenshot(page, "en", "softphone-talking")
            page.click("#sp-hangup")
            page.wait_for_selector("#softphone[data-state=registered]")
            assert call.wait(30) == 0, call.errors()  # the caller got Asterisk's BYE
        finally:
            call.stop()
        wait_until(lambda: not app.live.calls, 15, "the call to end")

        # a blind transfer to a queue from the toolbar: the browser's leg is released, the caller goes there
        wait_until(lambda: app.live.agents["1003"].state == FREE, 15, "Carol free again")
        call = answered_in_the_page(app, page, logs, "13800000222")
        try:
            page.select_option("#ws-to-kind", "queue")
            page.fill("#ws-to", "support")
            page.click("button[data-act=transfer]")
            page.wait_for_selector("#softphone[data-state=registered]")
            wait_until(lambda: re.search(r'Executing \[support@cc-queue:\d+\] Queue\("PJSIP/trunk-pstn-', log(app)),
                       15, "the caller put into support's queue")
            app.pbx.cli("channel request hangup all")  # support has nobody: its fallback would take a while
            assert call.wait(30) == 0, call.errors()
        finally:
            call.stop()
        wait_until(lambda: not app.live.calls, 15, "the call to end")
        assert problems == [], problems
        chromium.close()
    app.agents.logout("1003")


def test_a_refused_microphone_is_said_in_the_workspace_in_both_languages(office):
    from playwright.sync_api import sync_playwright

    app, url, _, _ = office
    with sync_playwright() as p:
        chromium = browser(p, NO_MIC)
        for user, extension, lang, said in (("carol", "1003", "en", "The browser refused the microphone"),
                                            ("chen", "1004", "zh_CN", "浏览器拒绝了麦克风")):
            before = contacts(app).count(f"{extension}/sip:")  # Carol's browser of the call test may be there
            page = signed_in_page(chromium, url, user)
            if "/workspace" not in page.url:
                page.goto(url + "/workspace")
            page.wait_for_selector("#softphone[data-state=refused]", timeout=15_000)
            assert said in page.inner_text("#sp-problem")
            assert page.is_visible("#sp-problem")
            assert not page.is_visible("#sp-answer") and not page.is_visible("#sp-hangup")
            assert contacts(app).count(f"{extension}/sip:") == before  # nothing registered without a microphone
            screenshot(page, lang, "softphone-microphone-refused")
            page.close()
        chromium.close()


def log(app) -> str:
    return (app.settings.asterisk_dir / "log" / "messages.log").read_text(errors="replace")


def channels(app) -> list[str]:
    return re.findall(r"^(PJSIP/\S+)", app.pbx.cli("core show channels concise").replace("!", " "), re.M)


def test_a_g722_phone_calls_out_through_a_g711_trunk(office):
    app, _, logs, trunk_port = office
    carrier = Sipp("trunk_answer.xml", TRUNK_IP, trunk_port, None, {}, logs, extra_args=("-d", "4000")).start()
    dialled = Sipp("phone_dial_g722.xml", "127.0.0.1", free_port(socket.SOCK_DGRAM), sip_address(app),
                   {"agent": "1005"}, logs, service="01062345678", timeout_s=60,
                   extra_args=("-au", "1005", "-ap", "pw-1005-secret")).start()
    try:
        stats = wait_until(lambda: _codecs(app), 20, "both legs up")
        assert stats == {"g722", "alaw"}, stats  # the phone's leg in G.722, the trunk's in A-law
        assert dialled.wait(30) == 0, dialled.errors()  # answered in G.722 only, and hung up by the far end
        assert carrier.wait(30) == 0, carrier.errors()
    finally:
        dialled.stop()
        carrier.stop()


def _codecs(app) -> set[str] | None:
    """The codecs of the call's two PJSIP legs (``core show channel``'s NativeFormats), once both are up."""
    legs = [c for c in channels(app) if c.startswith(("PJSIP/1005-", "PJSIP/trunk-pstn-"))]
    if len(legs) < 2:
        return None
    found = set()
    for leg in legs:
        m = re.search(r"NativeFormats:\s*\(([a-z0-9]+)", app.pbx.cli(f"core show channel {leg}"))
        if not m:
            return None
        found.add(m.group(1))
    return found
