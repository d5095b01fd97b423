"""Callers' messages and received faxes in the real Chromium: the team's list with the caller's customer
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


@pytest.mark.parametrize("lang", ["en", "zh_CN"])
def test_received_faxes_are_listed_with_their_pdf(page_as, web, tmp_path, lang):
    from appliance.fax import tiff
    from appliance.services.fax import FaxService

    web.deps.faxes = faxes = FaxService(web.db, tmp_path / "spool", "/spool/fax", tmp_path / "store")
    faxes.begin("1763950000.1", "88002000", caller="861088886666", caller_name="Head office")
    (tmp_path / "spool" / "1763950000.1.tif").write_bytes(tiff.write_bilevel([[bytes(216)] * 50] * 2))
    faxes.finish("1763950000.1")
    faxes.begin("1763950000.2", "88002000", caller="13912345678")
    faxes.finish("1763950000.2")  # a person called the fax number
    page = page_as("agent", lang)
    page.goto(web.url + "/faxes")
    text = page.inner_text("#faxes")
    assert "Head office" in text and i18n.translate(lang, "error.code.fax.no_fax") in text
    href = page.get_attribute("#faxes tr[data-id='1'] a[target=_blank]", "href")
    pdf = page.request.get(web.url + href)
    assert pdf.status == 200 and pdf.headers["content-type"] == "application/pdf" and pdf.body().startswith(b"%PDF")
    screenshot(page, lang, "faxes")
    assert not page.problems, page.problems
