"""Configuration in the admin's own words, in both languages: a trunk called 中国电信 (its
key made for the admin) shown by that name in the lists and in a DID's trunk select;
opening hours set on a weekly grid and stored as the text the API speaks; time zones,
codecs, hold music, prompts and a menu's targets offered from what exists; and a prompt
played where it is picked (the <audio> element loads a 200 WAV)."""

from __future__ import annotations

import io
import math
import struct
import wave

import pytest
from playwright.sync_api import expect

from webharness import screenshot

pytestmark = pytest.mark.browser

WORDS = {"en": {"none": "(none)", "hours": "Monday", "incomplete": "give both the opening and the closing time",
                "shanghai": "Asia/Shanghai (China, Beijing time)", "weekdays": "Monday–Friday",
                "moh": "default music"},
         "zh_CN": {"none": "（无）", "hours": "星期一", "incomplete": "请同时填写开始和结束时间",
                   "shanghai": "中国（北京时间）", "weekdays": "星期一至星期五",
                   "moh": "默认等待音乐"}}


def tone_wav(seconds: float = 1.0) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as f:
        f.setnchannels(1)
        f.setsampwidth(2)
        f.setframerate(8000)
        f.writeframes(b"".join(struct.pack("<h", int(8000 * math.sin(2 * math.pi * 440 * n / 8000)))
                               for n in range(int(8000 * seconds))))
    return out.getvalue()


def submit(page, form="form.grid button.primary"):
    with page.expect_navigation():
        page.click(form)


@pytest.mark.parametrize("lang", ["en", "zh_CN"])
def test_a_trunk_named_in_chinese_and_the_choices_from_what_exists(page_as, web, lang):
    page = page_as("admin", lang)
    page.goto(web.url + "/admin/trunks")
    page.fill("#f-display_name", "中国电信")
    page.fill("#f-host", "192.0.2.10")
    codecs = page.locator("#f-codecs input[type=checkbox]")
    expect(codecs).to_have_count(6)  # every codec Asterisk is given, the chosen ones first, in their order
    assert codecs.evaluate_all("boxes => boxes.map(b => b.value + (b.checked ? '+' : ''))")[:3] == \
        ["alaw+", "ulaw+", "g722"]
    page.check("#f-codecs input[value=g722]")
    page.uncheck("#f-codecs input[value=alaw]")
    submit(page)
    trunk = web.deps.config.get("trunks", "trunk-1")
    assert (trunk["display_name"], trunk["codecs"]) == ("中国电信", "ulaw,g722")
    row = page.locator("table.list").first.locator("tbody tr", has_text="中国电信")  # not the outbound route's
    expect(row).to_contain_text("trunk-1")

    page.goto(web.url + "/admin/dids")
    expect(page.locator("#f-trunk option", has_text="中国电信 (trunk-1)")).to_have_count(1)
    page.fill("#f-number", "4008001000")
    page.select_option("#f-trunk", "trunk-1")
    page.select_option("#f-queue", "sales")
    submit(page)
    assert web.deps.config.get("dids", "4008001000")["trunk"] == "trunk-1"
    expect(page.locator("table.list tbody tr", has_text="4008001000")).to_contain_text("中国电信")

    # a queue: hold music and survey prompts from what exists, each prompt playable here
    web.deps.prompts.upload({"display_name": "满意度调查"}, tone_wav(), actor="seed")
    page.goto(web.url + "/admin/queues/sales")
    assert page.locator("#f-musicclass option").all_inner_texts() == [WORDS[lang]["moh"]]
    expect(page.locator("#f-musicclass")).to_have_value("default")
    expect(page.locator("#f-survey_prompt option", has_text="满意度调查 (prompt-1)")).to_have_count(1)
    page.select_option("#f-survey_prompt", "prompt-1")
    with page.expect_response(lambda r: r.url.endswith("/api/v1/prompts/prompt-1/audio")) as answer:
        page.click(".field:has(#f-survey_prompt) button.play-prompt")
    # the player asks for a byte range (206), as it does of every audio file
    assert answer.value.status in (200, 206) and answer.value.headers["content-type"] == "audio/wav"
    audio = page.locator(".field:has(#f-survey_prompt) audio.prompt-audio")
    page.wait_for_function("a => a.readyState >= 1 && !a.error", arg=audio.element_handle())
    screenshot(page, lang, "config-queue-prompt-play")
    submit(page)
    assert web.deps.config.get("queues", "sales")["survey_prompt"] == "prompt-1"

    # a menu's key: the targets by display name, only those of the action chosen
    web.deps.config.update("queues", "support", {"display_name": "售后服务"}, actor="seed")
    page.goto(web.url + "/admin/menus/main")
    expect(page.locator("#f-prompt")).to_have_value("zh-welcome")  # one of ours, a GSM file: decoded to play
    with page.expect_response(lambda r: r.url.endswith("/api/v1/prompts/zh-welcome/audio")) as answer:
        page.click(".field:has(#f-prompt) button.play-prompt")
    assert answer.value.status == 200 and answer.value.headers["content-type"] == "audio/wav"
    audio = page.locator(".field:has(#f-prompt) audio.prompt-audio")
    page.wait_for_function("a => a.readyState >= 1 && !a.error && a.duration > 1", arg=audio.element_handle())
    page.select_option("#o-action", "queue")
    visible = page.locator("#o-target optgroup:not([hidden]) option")
    assert "售后服务 (support)" in visible.all_inner_texts()
    assert "main" not in [o.split(" ")[0] for o in visible.all_inner_texts()]
    page.select_option("#o-action", "menu")
    expect(page.locator("#o-target optgroup:not([hidden]) option", has_text="sales-menu")).to_have_count(1)
    expect(page.locator("#o-target optgroup:not([hidden]) option", has_text="售后服务")).to_have_count(0)
    page.select_option("#o-digit", "4")
    page.select_option("#o-action", "queue")
    page.select_option("#o-target", "support")
    with page.expect_navigation():
        page.click("form.grid:has(#o-target) button.primary")
    assert {"digit": "4", "action": "queue", "target": "support", "enabled": True} in \
        web.deps.menus.get("main")["options"]
    # the menu's own timeout target: a select too, the stored target chosen
    expect(page.locator("#f-timeout_target")).to_have_value("support")
    assert not page.problems, page.problems


@pytest.mark.parametrize("lang", ["en", "zh_CN"])
def test_opening_hours_on_a_weekly_grid(page_as, web, lang):
    page = page_as("admin", lang)
    page.goto(web.url + "/admin/time_conditions")
    zones = page.locator("#f-timezone option")
    assert zones.first.inner_text() == WORDS[lang]["shanghai"] and zones.count() > 300
    expect(page.locator("#f-timezone")).to_have_value("Asia/Shanghai")
    expect(page.locator("#f-schedule")).to_contain_text(WORDS[lang]["hours"])
    page.fill("#f-display_name", "工作时间")
    for day in ("mon", "tue", "wed", "thu", "fri"):
        page.fill(f"input[name='schedule.{day}.0.from']", "09:00")
        page.fill(f"input[name='schedule.{day}.0.to']", "12:00")
        page.fill(f"input[name='schedule.{day}.1.from']", "13:00")
        page.fill(f"input[name='schedule.{day}.1.to']", "18:00")
    page.fill("input[name='schedule.sat.0.from']", "09:00")  # no closing time yet
    submit(page)
    error = page.locator(".field.has-error", has=page.locator("#f-schedule")).locator(".field-error")
    expect(error).to_contain_text(WORDS[lang]["incomplete"])
    expect(page.locator("input[name='schedule.mon.1.to']")).to_have_value("18:00")  # what was typed, kept
    page.fill("input[name='schedule.sat.0.to']", "12:00")
    page.select_option("#f-timezone", "Asia/Urumqi")
    submit(page)
    stored = web.deps.config.get("time_conditions", "hours-1")
    assert (stored["display_name"], stored["timezone"]) == ("工作时间", "Asia/Urumqi")
    assert stored["schedule"] == "mon-fri 09:00-12:00,13:00-18:00; sat 09:00-12:00"
    row = page.locator("table.list tbody tr", has_text="工作时间")
    expect(row).to_contain_text("hours-1")
    expect(row).to_contain_text(WORDS[lang]["weekdays"] + " 09:00-12:00, 13:00-18:00")  # in words, not codes

    page.goto(web.url + "/admin/time_conditions/hours-1")
    expect(page.locator("input[name='schedule.fri.1.from']")).to_have_value("13:00")
    expect(page.locator("input[name='schedule.sun.0.from']")).to_have_value("")
    page.fill("input[name='schedule.sun.0.from']", "10:00")
    page.fill("input[name='schedule.sun.0.to']", "00:00")  # midnight
    screenshot(page, lang, "config-opening-hours-grid")
    submit(page)
    assert web.deps.config.get("time_conditions", "hours-1")["schedule"] == \
        "mon-fri 09:00-12:00,13:00-18:00; sat 09:00-12:00; sun 10:00-24:00"
    assert not page.problems, page.problems
