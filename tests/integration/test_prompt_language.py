"""The built-in sentences on real Asterisk: a voice menu set to Chinese greets with the Chinese
built-in welcome, answers a wrong key and the goodbye with the appliance's Chinese files, and
an English menu on the same call path plays Asterisk's English core sounds instead, as
Asterisk's own log of what it played shows; the static fallback context speaks the call's
language too."""

from __future__ import annotations

import pytest

from harness import (Phone, configure_basic, key_when_heard, played, sip_address, started, trunk_call, wait_until,
                     write_dtmf_pcap)

pytestmark = pytest.mark.asterisk


def call_keying(app, tmp_path, caller, keys):
    """A trunk call that keys ``keys`` once the welcome starts and is hung up by the appliance."""
    call = trunk_call(sip_address(app), "88001000", caller, tmp_path / "sipp", scenario="trunk_call_keys_then_bye.xml")
    call.keys["dtmf_pcap"] = str(write_dtmf_pcap(tmp_path / f"{caller}.pcap", keys))
    key_when_heard(app, call, "cc-welcome")
    assert call.wait(60) == 0, call.errors()


def menu(app, language, greeting):
    app.menus.create({"name": "main", "language": language, "prompt": greeting, "live": True, "timeout_seconds": 3,
                      "options": [{"digit": "#", "action": "hangup"}]}, actor="test")
    app.config.update("dids", "88001000", {"queue": None, "menu": "main"}, actor="test")


def test_a_chinese_menu_speaks_the_chinese_set(make_appliance, tmp_path):
    app = make_appliance()  # trunk callers start in English (the harness's caller_language)
    configure_basic(app)
    menu(app, "zh_CN", "zh-welcome")
    started(app)
    # a wrong key during the welcome, then # (goodbye)
    call_keying(app, tmp_path, "13800000201", "5,,,,#")
    files = wait_until(lambda: [f for f in played(app) if "cc-goodbye" in f] and played(app), 20, "the goodbye")
    ours = [f for f in files if f.startswith("/appliance/lib/sounds/")]
    assert ours[:3] == ["/appliance/lib/sounds/zh_CN/cc-welcome.gsm", "/appliance/lib/sounds/zh_CN/cc-invalid.gsm",
                        "/appliance/lib/sounds/zh_CN/cc-welcome.gsm"], files
    assert ours[-1] == "/appliance/lib/sounds/zh_CN/cc-goodbye.gsm"
    assert not any(f.startswith(("pm-invalid-option", "vm-goodbye")) for f in files)


def test_an_english_menu_speaks_the_english_core_sounds(make_appliance, tmp_path):
    app = make_appliance(caller_language="zh_CN")  # the menu's language wins over the trunk's
    configure_basic(app)
    menu(app, "en", "en-welcome")
    started(app)
    call_keying(app, tmp_path, "13800000202", "5,,,,#")
    files = wait_until(lambda: [f for f in played(app) if "vm-goodbye" in f] and played(app), 20, "the goodbye")
    assert files[0] == "/appliance/lib/sounds/en/cc-welcome.gsm", files
    assert "pm-invalid-option.gsm" in files and not any("/zh_CN/" in f for f in files)


@pytest.mark.parametrize("language, heard", [
    ("zh_CN", ["/appliance/lib/sounds/zh_CN/cc-noservice.gsm"]),
    ("en", ["ss-noservice.gsm", "vm-goodbye.gsm"]),
])
def test_a_caller_nothing_can_take_hears_the_fallback_in_the_calls_language(make_appliance, tmp_path, language,
                                                                              heard):
    app = make_appliance(caller_language=language)
    configure_basic(app)
    started(app)
    # a number no DID answers: the hand-written fallback context, which says so in the call's language
    call = trunk_call(sip_address(app), "88009999", "13800000203", tmp_path / "sipp",
                      scenario="trunk_call_fallback.xml")
    assert call.run(60) == 0, call.errors()
    assert wait_until(lambda: played(app), 20, "the fallback's sentence") == heard


@pytest.mark.parametrize("language, heard", [
    ("zh_CN", "/appliance/lib/sounds/zh_CN/cc-noservice.gsm"),
    ("en", "ss-noservice.gsm"),
])
def test_an_agent_whose_outside_call_finds_no_line_hears_why_in_the_offices_language(make_appliance, tmp_path,
                                                                                     language, heard):
    app = make_appliance(caller_language=language)
    configure_basic(app)
    app.config.update("trunks", "pstn", {"outbound_priority": 0}, actor="test")  # no trunk for calls out
    started(app)
    phone = Phone("1001", "pw-1001-secret", sip_address(app), tmp_path / "sipp", ring_ms=300).start()
    try:
        app.calls.dial("1001", "02155550000", actor="alice")  # click-to-dial: her phone rings first
        assert heard in wait_until(lambda: played(app), 20, "the sentence on the agent's phone")
    finally:
        phone.stop()
