"""Callers' messages in the real Chromium: the team's list with the caller's customer
record, the player, the call-back button (click-to-dial for the user's own agent) and
"handled", whose who-and-when the team sees; an agent sees their queues' messages."""

from __future__ import annotations

import pytest

from webharness import screenshot, seed_voice_messages
from webui import i18n

pytestmark = pytest.mark.browser


def listed(page) -> list[str]:
    return page.eval_on_selector_all("#messages tbody tr[data-id]", "trs => trs.map(tr => tr.dataset.id)")


@pytest.mark.parametrize("lang", ["en", "zh_CN"])
def test_an_agent_plays_calls_back_and_marks_handled(page_as, web, tmp_path, lang):
    ids = seed_voice_messages(web.deps, tmp_path)
    page = page_as("agent", lang)  # alice: agent 1001, queue sales only
    page.goto(web.url + "/voicemail")
    assert listed(page) == [str(ids[0])]  # support's message is not hers; the handled one is done
    row = f"#messages tr[data-id='{ids[0]}']"
    assert "王芳" in page.inner_text(row)  # the caller's customer record
    page.click(f"{row} button.play")
    audio = page.wait_for_selector(f"{row} td.player audio")
    page.wait_for_function("a => a.readyState >= 1 && Math.abs(a.duration - 4) < 0.5", arg=audio)
    screenshot(page, lang, "voicemail")

    page.click(f"{row} button[data-dial]")  # call back
    page.wait_for_selector("#dial-status:not([hidden])")
    assert web.deps.calls.dialled[-1] == ("1001", "13912345678", "alice")

    page.fill(f"{row} input[name=note]", "called back")
    with page.expect_navigation():
        page.click(f"{row} form.handle button")
    assert listed(page) == []
    page.goto(web.url + "/voicemail?state=handled")
    assert listed(page) == [str(ids[2]), str(ids[0])]  # newest first
    assert "alice" in page.inner_text(f"#messages tr[data-id='{ids[0]}'] td.handled")
    assert "bob" in page.inner_text(f"#messages tr[data-id='{ids[2]}'] td.handled")
    screenshot(page, lang, "voicemail-handled")
    assert not page.problems, page.problems


def test_the_team_leader_sees_every_queue(page_as, web, tmp_path):
    ids = seed_voice_messages(web.deps, tmp_path)
    page = page_as("supervisor")
    page.goto(web.url + "/voicemail?state=all")
    assert listed(page) == [str(i) for i in reversed(ids)]
    assert i18n.translate("en", "vm.reason.queue-timeout") in page.inner_text("#messages")
    screenshot(page, "en", "voicemail-supervisor")
