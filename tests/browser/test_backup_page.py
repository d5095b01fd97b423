"""Backup and restore in a real browser, in both languages (issue 20 points 4-5): the admin
backs up now (recordings unticked by default, their size said), downloads the file from the
list, uploads a cut-short file and reads why it is refused (nothing changed), then uploads
the good one and finds the box as it was when the backup was made.  The file work runs in
the thread pool (``in_worker``) as on the appliance."""

from __future__ import annotations

import datetime as dt
import gzip

import pytest
from playwright.sync_api import expect

from appliance.db import models as m
from appliance.services import backup as b
from webharness import screenshot
from webui import i18n
from webui.http import local_time

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("lang", ["en", "zh_CN"])
def test_backup_download_refused_upload_and_restore(page_as, web, tmp_path, lang):
    _ = lambda msgid, **kw: i18n.translate(lang, msgid, **kw)  # noqa: E731
    web.deps.backups.calls_up = lambda: 0  # the stand-in live view has calls: none here
    page = page_as("admin", lang)
    page.goto(web.url + "/admin/backup")
    expect(page.locator("#media")).not_to_be_checked()
    expect(page.locator("#backup-now")).to_contain_text(_("backup.media", size="0.0 MiB"))
    page.click("#backup-make")
    expect(page.locator("#backup-made")).to_contain_text(_("backup.download"))
    expect(page.locator("tr.backup-run")).to_have_count(1)
    expect(page.locator("tr.backup-run")).to_contain_text(_("backup.outcome.ok"))
    with page.expect_download() as download:
        page.click("#backup-made-download")
    good = tmp_path / "good.tar.gz"
    download.value.save_as(good)
    assert b.check(good)["format"] == b.FORMAT
    screenshot(page, lang, "config-backup-made")

    m.Queue.create(name="made-later")
    cut = tmp_path / "cut.tar.gz"
    cut.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    page.set_input_files("#file", str(cut))
    page.check("#confirm")
    page.click("#backup-restore-go")
    expect(page.locator("#backup-problem")).to_contain_text(_("error.code.backup.truncated"))
    assert m.Queue.select().where(m.Queue.name == "made-later").exists()  # nothing touched
    screenshot(page, lang, "config-backup-refused")

    page.set_input_files("#file", str(good))
    page.check("#confirm")
    page.click("#backup-restore-go")
    expect(page.locator("#backup-restored")).to_contain_text("good.tar.gz")
    assert not m.Queue.select().where(m.Queue.name == "made-later").exists()
    kinds = page.locator("tr.backup-run")
    expect(kinds).to_have_count(3)  # the restore, the refused one with its reason, the backup
    expect(kinds.first).to_contain_text(_("backup.kind.restore"))
    expect(kinds.nth(1)).to_contain_text(_("backup.outcome.refused"))
    expect(kinds.nth(1)).to_contain_text(_("backup.truncated"))
    screenshot(page, lang, "config-backup-restored")
    assert gzip.decompress(good.read_bytes())[:6] == b"BACKUP"
    assert not page.problems, page.problems


@pytest.mark.parametrize("lang", ["en", "zh_CN"])
def test_the_backup_schedule_chosen_on_the_page_is_kept(page_as, web, lang):
    """The admin turns on weekly backups keeping 12, reads where they go and that the first is
    due now; the scheduler makes one; after a reload the choice is still there and the page
    says when the next one runs (a week later, on the office's clock)."""
    _ = lambda msgid, **kw: i18n.translate(lang, msgid, **kw)  # noqa: E731
    backups = web.deps.backups
    page = page_as("admin", lang)
    page.goto(web.url + "/admin/backup")
    expect(page.locator("#backup-schedule")).to_contain_text(_("backup.schedule_off"))
    expect(page.locator("#schedule option")).to_have_text([_("backup.schedule." + c) for c in b.SCHEDULES])
    page.select_option("#schedule", label=_("backup.schedule.weekly"))
    page.fill("#keep", "12")
    page.click("#backup-schedule-save")
    expect(page.locator("#backup-schedule-saved")).to_have_text(_("backup.schedule_saved"))
    expect(page.locator("#backup-schedule")).to_contain_text(
        _("backup.schedule_on", every=_("backup.every.weekly"), keep=12))
    expect(page.locator("#backup-next")).to_have_text(_("backup.next_now"))
    expect(page.locator("#backup-where")).to_contain_text(_("backup.schedule_where"))
    expect(page.locator("#backup-where code")).to_have_text(str(backups.scheduled_dir()))  # a path: not translated
    assert backups.schedule_settings() == {"schedule": "weekly", "keep": 12, "chosen": True}

    made = backups.run_scheduled()  # what the running scheduler does now that one is due
    page.reload()
    expect(page.locator("#schedule")).to_have_value("weekly")
    expect(page.locator("#keep")).to_have_value("12")
    expect(page.locator("#backup-schedule-saved")).to_have_count(1)  # the address still says it was saved
    page.goto(web.url + "/admin/backup")
    expect(page.locator("#backup-schedule-saved")).to_have_count(0)
    expect(page.locator("#schedule")).to_have_value("weekly")
    expect(page.locator("#keep")).to_have_value("12")
    at = dt.datetime.fromisoformat(made["at"].rstrip("Z")) + dt.timedelta(days=7)
    expect(page.locator("#backup-next")).to_have_text(_("backup.next_at", at=local_time(at, web.deps.site.timezone())))
    screenshot(page, lang, "config-backup-schedule")
    assert not page.problems, page.problems
