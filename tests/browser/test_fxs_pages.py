"""Analog phones and the outbound route over the card in the real Chromium, in both
languages: an admin adds an analog phone on an FXS port with the phones form (no password),
the list shows its kind, port and the port's state (busy, or not on the card), which ports
the card has and which are free; a PRI span added as a card line route takes its place in
the outbound route among the SIP trunks, a route the card does not have said so; no raw
code on a page."""

from __future__ import annotations

import pytest

from appliance.db import models as m
from appliance.engine.registrations import Registrations
from appliance.services.fxs import CardFacts
from webharness import screenshot

pytestmark = pytest.mark.browser

CARD = CardFacts(fxs_channels=(1, 2, 3, 4), fxo_channels=(5, 6, 7, 8), span_channels=((1, 30),))
WORDS = {"en": {"kind": "Analog phone (FXS port)", "busy": "Port busy", "missing": "Port not on the card",
                "ports": "FXS ports on the telephony card: 1, 2, 3, 4 (free: 1, 3, 4)", "title": "Outbound route",
                "span": "Card: PRI span 1", "sip": "SIP trunk", "off": "not on the telephony card", "never": "never"},
         "zh_CN": {"kind": "模拟话机（FXS 端口）", "busy": "端口占用", "missing": "板卡上没有此端口",
                   "ports": "语音板卡上的 FXS 端口：1, 2, 3, 4（空闲：1, 3, 4）", "title": "呼出路由",
                   "span": "板卡：PRI 数字中继 1", "sip": "SIP 中继", "off": "语音板卡上没有", "never": "不用于呼出"}}


@pytest.fixture
def card(web):
    engine = Registrations()
    engine.connected([], {})

    def snapshot():  # the engine follows the phones' ports as the appliance's DAHDI apply tells it
        from appliance.services.fxs import port_states

        ports, missing = port_states(CARD)
        engine.set_ports(ports, missing)
        if "8002" in ports.values():
            engine.apply({"Event": "DeviceStateChange", "Device": "DAHDI/2", "State": "INUSE"})
        return engine.snapshot()

    web.deps.card = lambda: CARD
    web.deps.registrations = snapshot
    return engine


@pytest.mark.parametrize("lang", ["en", "zh_CN"])
def test_analog_phones_and_the_outbound_route(page_as, web, card, lang):
    words = WORDS[lang]
    web.deps.config.create("phones", {"extension": "8009", "kind": "fxs", "dahdi_channel": 9}, actor="t")
    web.deps.config.create("trunks", {"name": "carrier", "host": "127.0.0.2", "outbound_priority": 2}, actor="t")
    web.deps.config.create("trunks", {"name": "spare", "host": "127.0.0.3", "outbound_priority": 0}, actor="t")

    page = page_as("admin", lang)
    page.goto(web.url + "/admin/phones")
    page.fill("#f-extension", "8002")
    page.select_option("#f-kind", "fxs")
    page.fill("#f-dahdi_channel", "2")
    with page.expect_navigation():
        page.click("form.grid button.primary")
    phone = m.Phone.get(m.Phone.extension == "8002")
    assert (phone.kind, phone.dahdi_channel, phone.secret) == ("fxs", 2, "")
    row = page.wait_for_selector("tr:has([data-reg='phones/8002'])").inner_text()
    assert words["kind"] in row and words["busy"] in row and "\t2\t" in row
    assert words["missing"] in page.inner_text("tr:has([data-reg='phones/8009'])")
    assert words["ports"] in page.inner_text("#fxs-ports")
    main = page.inner_text("main")
    for raw in ("port_busy", "port_missing", "fxs.", "dahdi_channel"):
        assert raw not in main, raw
    screenshot(page, lang, "fxs-phones")

    page.goto(web.url + "/admin/card_routes")
    page.fill("#f-display_name", "E1 电信" if lang == "zh_CN" else "E1 Telecom")
    page.select_option("#f-line", "pri")
    page.fill("#f-span", "1")
    page.fill("#f-outbound_priority", "1")
    with page.expect_navigation():
        page.click("form.grid button.primary")
    web.deps.config.create("card_routes", {"name": "span9", "line": "pri", "span": 9}, actor="t")
    page.goto(web.url + "/admin/trunks")
    assert words["title"] in page.inner_text("#outbound-route h2")
    order = page.eval_on_selector_all("#outbound-route tr[data-route]", "rows => rows.map(r => r.dataset.route)")
    assert order == ["e1-telecom" if lang == "en" else "e1", "span9", "carrier", "spare"]
    rows = [r.inner_text() for r in page.query_selector_all("#outbound-route tr[data-route]")]
    assert rows[0].startswith("1") and words["span"] in rows[0] and "30" in rows[0]
    assert rows[1].startswith("-") and words["off"] in rows[1]  # span 9: not on this card, skipped
    assert rows[2].startswith("2") and words["sip"] in rows[2]
    assert rows[3].startswith("-") and words["never"] in rows[3]
    assert "pri" not in page.inner_text("#outbound-route").replace("PRI", "")
    screenshot(page, lang, "fxs-outbound-route")
    assert not page.problems, page.problems
