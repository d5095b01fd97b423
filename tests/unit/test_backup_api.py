"""The backup area (webui/areas/backup.py): the real Bottle app in process over a real SQLite
file and a real BackupService (work done in the caller: no thread pool needed here); the
API (admins, full-access tokens only), the upload cap, and the page in both languages (the
browser test is tests/browser/test_backup_page.py)."""

from __future__ import annotations

import datetime as dt
import gzip
import json

import pytest
import webtest

from appliance.db import models as m
from appliance.services.backup import BackupService, Layout
from appliance.services.config import ConfigService
from appliance.services.users import UserService
from webdeps import web_deps
from webharness import Agents, migrated, signed_in_client
from webui.app import make_app

PASSWORD = "correct-horse-9"


@pytest.fixture
def env(tmp_path):
    db = migrated(tmp_path / "web.db")
    users = UserService(db)
    data = tmp_path / "data"
    calls = {"up": []}
    reloads = []
    backups = BackupService(Layout(data_dir=data, db_path=tmp_path / "web.db", prompts_dir=data / "prompts",
                                   recordings_dir=data / "recordings", fax_dir=data / "fax"),
                            db, data / "backups", run=lambda fn, *a: fn(*a), reload=lambda: reloads.append(1),
                            calls_up=lambda: len(calls["up"]), upload_limit=256 * 1024)
    deps = web_deps(db=db, config=ConfigService(db), users=users, agents=Agents(),
                    health=lambda: {"status": "ok", "components": {}},
                    live=lambda: {"queues": [], "agents": [], "calls": calls["up"]}, backups=backups)
    app = make_app(deps)
    tokens = {}
    for name, role, lang in (("admin", "admin", "en"), ("chen", "admin", "zh_CN"), ("sup", "supervisor", "en"),
                             ("ah", "agent", "en")):
        uid = users.create(name, PASSWORD, role, language=lang)["id"]
        tokens[name] = {"Authorization": "Bearer " + users.create_token(uid, "test")}
        if name == "admin":
            tokens["scoped"] = {"Authorization": "Bearer " + users.create_token(uid, "cfg", scopes=["config"])}
    browsers = {name: signed_in_client(app, name, PASSWORD) for name in ("admin", "chen")}
    yield type("Env", (), {"app": webtest.TestApp(app), "tokens": tokens, "browsers": browsers, "calls": calls,
                           "reloads": reloads, "backups": backups})
    db.close()


def test_backup_list_download_check_and_restore_through_the_api(env):
    admin = env.tokens["admin"]
    made = env.app.post_json("/api/v1/backups", {}, headers=admin)
    assert made.status_int == 201 and made.json["outcome"] == "ok" and made.json["media"] is False
    listing = env.app.get("/api/v1/backups", headers=admin).json
    assert listing["items"][0]["name"] == made.json["name"] and listing["schedule"] == "off"
    assert listing["upload_limit_bytes"] == 256 * 1024
    sent = env.app.get(f"/api/v1/backups/{made.json['name']}", headers=admin)
    assert sent.content_type == "application/gzip" and sent.body[:2] == b"\x1f\x8b"
    assert "attachment" in sent.headers["Content-Disposition"]
    checked = env.app.post("/api/v1/backups/check", sent.body, headers={**admin, "Content-Type": "application/gzip"})
    assert checked.json["format"] == "cc-appliance-backup"
    m.Queue.create(name="made-later")
    unconfirmed = env.app.post("/api/v1/backups/restore", sent.body,
                               headers={**admin, "Content-Type": "application/gzip"}, expect_errors=True)
    assert unconfirmed.status_int == 422 and unconfirmed.json["error"] == "backup.confirm_needed"
    env.calls["up"] = [{"id": 1}, {"id": 2}, {"id": 3}]
    busy = env.app.post("/api/v1/backups/restore?confirm=yes", sent.body,
                        headers={**admin, "Content-Type": "application/gzip"}, expect_errors=True)
    assert busy.status_int == 409 and busy.json["error"] == "backup.calls_up" and busy.json["params"]["calls"] == "3"
    assert "3 calls are up" in busy.json["message"]
    env.calls["up"] = []
    bad = env.app.post("/api/v1/backups/restore?confirm=yes", sent.body[:-200],
                       headers={**admin, "Content-Type": "application/gzip"}, expect_errors=True)
    assert bad.status_int == 422 and bad.json["error"] in ("backup.truncated", "backup.corrupt")
    assert m.Queue.select().where(m.Queue.name == "made-later").exists()
    done = env.app.post("/api/v1/backups/restore?confirm=yes", sent.body,
                        headers={**admin, "Content-Type": "application/gzip"})
    assert done.json["outcome"] == "ok" and env.reloads == [1]
    assert not m.Queue.select().where(m.Queue.name == "made-later").exists()


def test_only_admins_with_full_access_and_the_upload_cap(env):
    assert env.app.get("/api/v1/backups", headers=env.tokens["sup"], expect_errors=True).status_int == 403
    assert env.app.get("/api/v1/backups", headers=env.tokens["scoped"], expect_errors=True).status_int == 403
    big = env.app.post("/api/v1/backups/restore?confirm=yes", b"x" * (256 * 1024 + 1),
                       headers={**env.tokens["admin"], "Content-Type": "application/gzip"}, expect_errors=True)
    assert big.status_int == 413
    assert not list(env.backups.local_dir.glob("upload-*"))


@pytest.mark.parametrize("who, words", [("admin", ("Backup and restore", "Back up now", "Not restored: this file is "
                                                   "not a backup of this appliance", "Backup backup-")),
                                        ("chen", ("备份与恢复", "立即备份", "未恢复：此文件不是本设备的备份", "已写入"))])
def test_the_page_in_both_languages(env, who, words):
    browser = env.browsers[who]
    page = browser.get("/admin/backup")
    assert words[0] in page.text and words[1] in page.text
    forms = {f.action: f for f in page.forms.values()}
    made = forms["/admin/backup"].submit().follow()
    assert words[3] in made.text and made.html.select("tr.backup-run")
    upload = {f.action: f for f in made.forms.values()}["/admin/backup/restore"]
    upload["file"] = webtest.Upload("x.tar.gz", gzip.compress(b"not a tar at all" * 100), "application/gzip")
    upload["confirm"] = True
    refused = upload.submit(expect_errors=True)
    assert refused.status_int == 422 and words[2] in refused.text


def test_the_schedule_through_the_api_audited_and_taking_effect(env):
    admin, now = env.tokens["admin"], [dt.datetime(2026, 12, 1, 2, 0)]
    env.backups.clock = lambda: now[0]
    listing = env.app.get("/api/v1/backups", headers=admin).json
    assert (listing["schedule"], listing["keep"], listing["chosen"], listing["next_run"]) == ("off", 7, False, None)
    put = env.app.put_json("/api/v1/backups/schedule", {"schedule": "daily", "keep": 14}, headers=admin)
    assert put.json == {"schedule": "daily", "keep": 14, "chosen": True, "next_run": "2026-12-01T02:00:00Z",
                        "scheduled_to": str(env.backups.scheduled_dir())}  # none made yet: now
    assert env.backups.run_scheduled()["outcome"] == "ok"
    now[0] = dt.datetime(2026, 12, 1, 9, 30)
    assert env.app.get("/api/v1/backups", headers=admin).json["next_run"] == "2026-12-02T02:00:00Z"
    weekly = env.app.put_json("/api/v1/backups/schedule", {"schedule": "weekly"}, headers=admin).json
    assert (weekly["keep"], weekly["next_run"]) == (14, "2026-12-08T02:00:00Z")  # keep left out: unchanged
    listing = env.app.get("/api/v1/backups", headers=admin).json
    assert (listing["schedule"], listing["keep"], listing["chosen"]) == ("weekly", 14, True)
    rows = m.AuditLog.select().where(m.AuditLog.object_type == "backup", m.AuditLog.object_id == "schedule") \
        .order_by(m.AuditLog.id)
    assert [(r.username, json.loads(r.detail)) for r in rows] == [
        ("admin", {"from": {"schedule": "off", "keep": 7}, "to": {"schedule": "daily", "keep": 14}}),
        ("admin", {"from": {"schedule": "daily", "keep": 14}, "to": {"schedule": "weekly", "keep": 14}})]


def test_the_schedule_is_for_admins_with_full_access_and_checked(env):
    asked = {"schedule": "daily", "keep": 3}
    for who in ("sup", "ah", "scoped"):
        assert env.app.put_json("/api/v1/backups/schedule", asked, headers=env.tokens[who],
                                expect_errors=True).status_int == 403
    for body, bad in (({"schedule": "hourly", "keep": 3}, {"schedule"}), ({"schedule": "daily", "keep": 0}, {"keep"}),
                      ({"schedule": "daily", "keep": "many"}, {"keep"}), ({"keep": 3, "every": "day"}, {"every"})):
        res = env.app.put_json("/api/v1/backups/schedule", body, headers=env.tokens["admin"], expect_errors=True)
        assert res.status_int == 422 and res.json["error"] == "backup.schedule_invalid", res.json
        assert set(res.json["fields"]) == bad and res.json["message"]
    chinese = env.app.put_json("/api/v1/backups/schedule", {"schedule": "daily", "keep": 400},
                               headers=env.tokens["chen"], expect_errors=True)
    assert chinese.status_int == 422 and "365" in chinese.json["fields"]["keep"]
    big = env.app.put("/api/v1/backups/schedule", b'{"schedule": "' + b"d" * (300 * 1024) + b'"}',
                      headers={**env.tokens["admin"], "Content-Type": "application/json"}, expect_errors=True)
    assert big.status_int == 413
    assert env.backups.schedule_settings()["chosen"] is False  # nothing saved
    assert not m.AuditLog.select().where(m.AuditLog.object_id == "schedule").exists()


@pytest.mark.parametrize("who, words", [("admin", ("Every week", "Scheduled backups are off.", "The next one is due "
                                                   "now", "Schedule saved.", "1 to 365")),
                                        ("chen", ("每周", "定时备份已关闭。", "下一次已到期", "定时备份设置已保存。",
                                                  "1 到 365"))])
def test_the_schedule_form_in_both_languages(env, who, words):
    browser = env.browsers[who]
    page = browser.get("/admin/backup")
    assert words[0] in page.text and words[1] in page.text
    assert [o.text for o in page.html.select("#schedule option")] and "weekly" not in page.html.select_one(
        "#schedule").get_text()  # labels, never the codes
    form = {f.action: f for f in page.forms.values()}["/admin/backup/schedule"]
    form["schedule"], form["keep"] = "weekly", "0"
    refused = form.submit(expect_errors=True)
    assert refused.status_int == 422 and refused.html.select_one(".has-error #keep") is not None
    assert words[4] in refused.html.select_one("#backup-schedule-form .field-error").text
    form = {f.action: f for f in refused.forms.values()}["/admin/backup/schedule"]
    assert form["schedule"].value == "weekly" and form["keep"].value == "0"  # what was typed, to correct
    form["keep"] = "4"
    saved = form.submit().follow()
    assert words[3] in saved.text and words[2] in saved.text
    assert str(env.backups.scheduled_dir()) in saved.html.select_one("#backup-scheduled").text
    assert env.backups.schedule_settings() == {"schedule": "weekly", "keep": 4, "chosen": True}
    assert m.AuditLog.select().where(m.AuditLog.object_id == "schedule", m.AuditLog.username == who).count() == 1
