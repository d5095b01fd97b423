"""The recordings page in the real Chromium: search, a player on the call's row that
plays and seeks the 8 kbit/s MP3 through the HTTP Range route, download, an agent's own
calls only, and the days of storage left turning amber when low."""

from __future__ import annotations

import pytest

from webharness import screenshot, seed_recordings
from webui import i18n

pytestmark = pytest.mark.browser


def rows(page) -> list[str]:
    return page.eval_on_selector_all("#recordings tbody tr[data-linkedid]",
                                     "trs => trs.map(tr => tr.dataset.linkedid)")


@pytest.mark.parametrize("lang", ["en", "zh_CN"])
def test_search_play_seek_and_download(page_as, web, tmp_path, lang):
    ids = seed_recordings(web.deps, tmp_path)
    page = page_as("supervisor", lang)
    page.goto(web.url + "/recordings")
    assert rows(page) == ids  # newest first
    assert i18n.translate(lang, "rec.days_left") in page.inner_text("#storage")
    assert i18n.translate(lang, "rec.state.missing") in page.inner_text("#recordings")
    screenshot(page, lang, "recordings")

    # search: by queue and part of the number, from the form
    page.select_option("#r-queue", "sales")
    with page.expect_navigation():
        page.click("form.search button")
    assert rows(page) == [ids[0], ids[2], ids[3]]
    page.fill("#r-caller", "88001")
    with page.expect_navigation():
        page.click("form.search button")
    assert rows(page) == [ids[2]]
    page.goto(web.url + "/recordings")

    # the player on the second call's row (95 s): its length, a seek to 60 s, it plays on
    row = f"#recordings tr[data-linkedid='{ids[1]}']"
    page.click(f"{row} button.play")
    audio = page.wait_for_selector(f"{row} td.player audio")
    page.wait_for_function("a => a.readyState >= 1 && isFinite(a.duration)", arg=audio)
    assert abs(audio.evaluate("a => a.duration") - 95) < 1.5
    audio.evaluate("a => { a.muted = true; a.currentTime = 60; return a.play(); }")
    page.wait_for_function("a => a.currentTime > 60.3 && !a.paused", arg=audio, timeout=15_000)
    assert audio.evaluate("a => a.error") is None
    screenshot(page, lang, "recordings-playing")

    with page.expect_download() as download:
        page.click(f"#recordings tr[data-linkedid='{ids[2]}'] a[download]")
    path = download.value.path()
    assert download.value.suggested_filename == f"{ids[2]}.mp3"
    assert open(path, "rb").read() == web.deps.recordings.audio_file(ids[2]).read_bytes()
    assert not page.problems, page.problems


def test_an_agent_finds_and_hears_only_their_own_calls(page_as, web, tmp_path):
    ids = seed_recordings(web.deps, tmp_path)
    page = page_as("agent")  # alice, agent 1001
    page.goto(web.url + "/recordings")
    assert rows(page) == [ids[0], ids[2]]
    assert page.query_selector("#storage") is None  # the disk is the team leaders' business
    other = page.goto(f"{web.url}/api/v1/recordings/{ids[1]}/audio")
    assert other.status == 403
    screenshot(page, "en", "recordings-agent")


@pytest.mark.parametrize("lang", ["en", "zh_CN"])
def test_storage_running_low_is_shown_in_the_warning_colour(page_as, web, tmp_path, lang):
    seed_recordings(web.deps, tmp_path, days_left=12)
    page = page_as("admin", lang)
    page.goto(web.url + "/recordings")
    days = page.inner_text("#days-left")
    assert days in (i18n.translate(lang, "rec.days", n=n) for n in (11, 12)), days
    tile = page.query_selector("#storage .tile.level-warn")
    assert tile is not None
    colour = page.eval_on_selector("#days-left", "e => getComputedStyle(e).color")
    assert colour == "rgb(138, 90, 0)", colour  # --warn
    assert i18n.translate(lang, "rec.storage_low") in page.inner_text(".alert")
    screenshot(page, lang, "recordings-storage-low")
