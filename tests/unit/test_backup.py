"""Backup and restore (appliance/services/backup.py) on real files and a real SQLite
database: what the file holds, the checks that refuse a damaged, cut-short, foreign or newer
file before anything is touched, a restore while calls are up, the safety copy coming back
when putting back fails, the schedule and its keep-N."""

from __future__ import annotations

import datetime as dt
import gzip
import io
import json
import tarfile

import gevent

import pytest

from appliance import labels
from appliance.db import models as m
from appliance.db import open_database
from appliance.db.migrate import head, migrate
from appliance.errors import Conflict, DomainError, ValidationError
from appliance.services import backup as b
from harness import wait_until


def make_box(root):
    data = root / "data"
    layout = b.Layout(data_dir=data, db_path=data / "appliance.db", prompts_dir=data / "asterisk/lib/prompts",
                      recordings_dir=data / "recordings", fax_dir=data / "fax", settings_text="[appliance]\nx = 1\n")
    (data / "tls").mkdir(parents=True)
    (data / "secrets.json").write_text('{"ami_secret": "s1"}')
    (data / "tls/web.key").write_text("KEY-1")
    layout.prompts_dir.mkdir(parents=True)
    (layout.prompts_dir / "welcome.wav").write_bytes(b"RIFF-welcome")
    (layout.recordings_dir / "2026/12/01").mkdir(parents=True)
    (layout.recordings_dir / "2026/12/01/call-1.mp3").write_bytes(b"\xff\xfb" * 500)
    return layout


@pytest.fixture
def box(tmp_path):
    layout = make_box(tmp_path)
    db = open_database(layout.db_path)
    migrate(db)
    m.Queue.create(name="sales")
    calls = {"n": 0}
    reloads = []
    service = b.BackupService(layout, db, layout.data_dir / "backups", run=lambda fn, *a: fn(*a),
                              reload=lambda: reloads.append(1), calls_up=lambda: calls["n"])
    yield layout, db, service, calls, reloads
    db.close()


def members(path):
    with tarfile.open(path, "r:gz") as tar:
        return [i.name for i in tar]


def test_one_file_with_manifest_checksums_and_no_recordings_by_default(box):
    layout, db, service, _, _ = box
    run = service.backup_now("admin")
    assert run["outcome"] == "ok" and run["size"] > 0 and run["media"] is False
    path = service.file_of(run["name"])
    names = members(path)
    assert names[0] == b.MAGIC and names[-2:] == [b.MANIFEST, b.SUMS]
    assert {b.DB_MEMBER, "data/secrets.json", "data/tls/web.key", "prompts/welcome.wav",
            b.SETTINGS_MEMBER} <= set(names)
    assert not any(n.startswith("recordings/") for n in names)
    manifest = b.check(path)
    assert manifest["migration_level"] == head() and manifest["host"] and manifest["created_at"]
    assert manifest["appliance_version"] == b.appliance_version()
    assert len(manifest["members"]["data/secrets.json"]["sha256"]) == 64
    # the database member is a whole SQLite file holding the row (taken through the backup API)
    with tarfile.open(path, "r:gz") as tar:
        head_bytes = tar.extractfile(b.DB_MEMBER).read(16)
    assert head_bytes == b"SQLite format 3\x00"
    # in the list of runs and the audit log
    assert service.runs()[0]["name"] == run["name"] and service.runs()[0]["present"]
    assert m.AuditLog.select().where(m.AuditLog.object_type == "backup").count() == 1


def test_recordings_when_asked(box):
    layout, _, service, _, _ = box
    assert layout.media_bytes() == 1000
    path = service.file_of(service.backup_now("admin", media=True)["name"])
    assert "recordings/2026/12/01/call-1.mp3" in members(path)


def flip_byte(data: bytes, at: int) -> bytes:
    return data[:at] + bytes([data[at] ^ 0x01]) + data[at + 1:]


def test_refusals_before_anything_is_touched(box, tmp_path):
    layout, db, service, calls, reloads = box
    good = service.file_of(service.backup_now("admin")["name"])
    raw = good.read_bytes()
    plain = gzip.decompress(raw)
    cases = {}
    # one byte changed inside the tar (gzipped again: only our checksum can see it)
    at = plain.index(b"RIFF-welcome")
    cases["corrupt"] = gzip.compress(flip_byte(plain, at))
    cases["gzip_damaged"] = flip_byte(raw, len(raw) // 2)
    cases["truncated"] = raw[: len(raw) // 2]
    foreign = io.BytesIO()
    with tarfile.open(fileobj=foreign, mode="w:gz") as tar:
        info = tarfile.TarInfo("etc/passwd")
        info.size = 4
        tar.addfile(info, io.BytesIO(b"root"))
    cases["foreign"] = foreign.getvalue()
    cases["not_even_gzip"] = b"PK\x03\x04 a zip file"
    # a byte changed in the compressed stream: gzip's CRC or the inflater finds it, or the
    # inflater runs off the end of the data (it cannot tell that from a cut): refused either way
    expected = {"corrupt": {"backup.corrupt"}, "gzip_damaged": {"backup.corrupt", "backup.truncated"},
                "truncated": {"backup.truncated"}, "foreign": {"backup.foreign"},
                "not_even_gzip": {"backup.foreign"}}
    m.Queue.create(name="after-backup")
    for name, data in cases.items():
        bad = tmp_path / f"{name}.tar.gz"
        bad.write_bytes(data)
        with pytest.raises(ValidationError) as err:
            service.restore(bad, "admin")
        assert err.value.code in expected[name], name
    assert m.Queue.select().where(m.Queue.name == "after-backup").exists()  # nothing touched
    assert not list(service.local_dir.glob("safety-*")) and not reloads
    refusals = [r for r in service.runs() if r["kind"] == "restore"]
    assert [r["outcome"] for r in refusals] == ["refused"] * len(cases)
    assert refusals[0]["code"] == "backup.foreign"  # the newest first: not_even_gzip
    audited = m.AuditLog.select().where(m.AuditLog.action == "restore").order_by(m.AuditLog.id.desc()).first()
    assert labels.audit_summary("zh_CN", "backup", audited.detail, "restore")[:1] == [("原因", "这不是本设备的备份文件")]
    assert labels.label("zh_CN", "audit_action", "restore") == "恢复"


def test_a_backup_of_a_newer_version_is_refused(box, tmp_path):
    layout, db, service, _, _ = box
    newer = tmp_path / "newer.tar.gz"
    b.pack(layout, newer, version="99.0.0")
    with pytest.raises(ValidationError) as err:
        service.restore(newer, "admin")
    assert err.value.code == "backup.newer" and err.value.params["theirs"] == "99.0.0"
    with pytest.raises(ValidationError) as err:
        b.check(service.file_of(service.backup_now("admin")["name"]), newest_level=head() - 1)
    assert err.value.code == "backup.newer"


def test_restore_refused_while_calls_are_up(box):
    layout, db, service, calls, reloads = box
    good = service.file_of(service.backup_now("admin")["name"])
    calls["n"] = 2
    with pytest.raises(Conflict) as err:
        service.restore(good, "admin")
    assert err.value.code == "backup.calls_up" and err.value.params == {"calls": "2"}
    assert not reloads


def test_restore_puts_everything_back_keeps_a_safety_copy_and_reloads(box):
    layout, db, service, calls, reloads = box
    good = service.file_of(service.backup_now("admin")["name"])
    m.Queue.create(name="made-later")
    (layout.data_dir / "secrets.json").write_text('{"ami_secret": "s2"}')
    (layout.prompts_dir / "welcome.wav").write_bytes(b"changed")
    run = service.restore(good, "admin")
    assert run["outcome"] == "ok" and reloads == [1]
    assert [q.name for q in m.Queue.select()] == ["sales"]
    assert json.loads((layout.data_dir / "secrets.json").read_text())["ami_secret"] == "s1"
    assert (layout.prompts_dir / "welcome.wav").read_bytes() == b"RIFF-welcome"
    safety = service.local_dir / run["safety"]
    assert b.check(safety)  # the state before the restore, kept aside
    assert not (layout.data_dir / "restore.staging").exists()


def test_a_failure_while_putting_back_brings_the_safety_copy_back(box, monkeypatch):
    layout, db, service, calls, reloads = box
    good = service.file_of(service.backup_now("admin")["name"])
    m.Queue.create(name="made-later")
    real = b.put_back
    calls_made = []

    def failing(staging, lay, database):
        calls_made.append(staging)
        if len(calls_made) == 1:
            real(staging, lay, database)  # the backup's state is in place ...
            raise OSError("disk full")  # ... when something fails
        return real(staging, lay, database)

    monkeypatch.setattr(b, "put_back", failing)
    with pytest.raises(DomainError) as err:
        service.restore(good, "admin")
    assert err.value.code == "backup.restore_failed" and "disk full" in err.value.params["detail"]
    assert {q.name for q in m.Queue.select()} == {"sales", "made-later"}  # as before the restore
    assert service.runs()[0]["outcome"] == "failed"


def test_schedule_daily_keeps_n_in_the_archive(box, tmp_path):
    layout, db, service, _, _ = box
    archive = tmp_path / "archive"
    archive.mkdir()
    now = [dt.datetime(2026, 12, 1, 3, 0)]
    service.archive_dir, service.clock = archive, lambda: now[0]
    service.save_schedule("admin", "daily", 2)
    made = []
    for day in range(4):
        now[0] = dt.datetime(2026, 12, 1 + day, 3, 0)
        made.append(service.run_scheduled())
        now[0] += dt.timedelta(hours=1)
        assert service.run_scheduled() is None  # once a day
    assert all(r and r["outcome"] == "ok" for r in made)
    assert sorted(p.name for p in (archive / "backups").glob("*.tar.gz")) == [made[2]["name"], made[3]["name"]]


def test_schedule_reports_an_archive_that_is_not_mounted(box, tmp_path):
    layout, db, service, _, _ = box
    service.archive_dir = tmp_path / "not-mounted"
    service.save_schedule("admin", "daily", 7)
    assert service.run_scheduled() is None
    last = service.runs()[0]
    assert last["outcome"] == "failed" and "not mounted" in last["error"]
    assert not (tmp_path / "not-mounted").exists()


def test_the_appliance_backs_up_its_own_state_and_reloads_after_a_restore(tmp_path, monkeypatch):
    from appliance import settings
    from appliance.main import Appliance
    from provisioning import firstboot

    s = settings.load(None, {"data_dir": str(tmp_path / "box"), "backup_schedule": "daily", "backup_keep": 3})
    firstboot.run(s)
    app = Appliance(s)
    try:
        assert (app.backups.schedule, app.backups.keep) == ("daily", 3)
        assert app.backups.scheduled_dir() == s.data_dir / "backups"  # no archive set
        app.backups.run = lambda fn, *a: fn(*a)
        run = app.backups.backup_now("admin")
        names = members(app.backups.file_of(run["name"]))
        assert {"data/secrets.json", "data/tls/web.crt", "data/tls/web.key", b.DB_MEMBER} <= set(names)
        with tarfile.open(app.backups.file_of(run["name"]), "r:gz") as tar:
            conf = tar.extractfile(b.SETTINGS_MEMBER).read().decode()
        assert "backup_schedule = daily" in conf
        applied = []
        monkeypatch.setattr(app, "apply_config", lambda: applied.append(1))
        monkeypatch.delenv("INVOCATION_ID", raising=False)
        assert app.backups.restore(app.backups.file_of(run["name"]), "admin")["outcome"] == "ok"
        assert applied == [1]
    finally:
        app.queries.close()
        app.encoders.close()
        app.db.close()


def test_one_backup_or_restore_at_a_time(box):
    layout, db, service, _, _ = box
    good = service.file_of(service.backup_now("admin")["name"])
    service._busy.acquire()  # another one under way
    try:
        for attempt in (lambda: service.backup_now("admin"), lambda: service.restore(good, "admin")):
            with pytest.raises(Conflict) as err:
                attempt()
            assert err.value.code == "backup.busy"
    finally:
        service._busy.release()
    assert service.backup_now("admin")["outcome"] == "ok"


def test_the_schedule_is_the_settings_files_until_an_admin_chooses_and_is_audited(box):
    layout, db, service, _, _ = box
    service.default_schedule, service.default_keep = "weekly", 9  # backup_schedule, backup_keep
    assert service.schedule_settings() == {"schedule": "weekly", "keep": 9, "chosen": False}
    assert service.save_schedule("li", "daily", "30") == {"schedule": "daily", "keep": 30, "chosen": True}
    assert (service.schedule, service.keep) == ("daily", 30)
    row = m.AuditLog.select().where(m.AuditLog.object_type == "backup", m.AuditLog.object_id == "schedule").get()
    assert (row.username, row.action) == ("li", "update")
    assert json.loads(row.detail) == {"from": {"schedule": "weekly", "keep": 9},
                                      "to": {"schedule": "daily", "keep": 30}}
    assert labels.audit_summary("zh_CN", "backup", row.detail, "update") == [  # the audit page: words
        ("改前", "定时备份: 每周; 保留份数: 9"), ("改后", "定时备份: 每天; 保留份数: 30")]
    assert labels.audit_summary("en", "backup", row.detail, "update")[1] == ("After", "Scheduled backups: every day; "
                                                                             "Kept: 30")
    service.save_schedule("wang", "off", 3)
    last = m.AuditLog.select().where(m.AuditLog.object_id == "schedule").order_by(m.AuditLog.id.desc()).get()
    assert last.username == "wang" and json.loads(last.detail)["from"] == {"schedule": "daily", "keep": 30}


@pytest.mark.parametrize("schedule, keep, bad", [("hourly", 7, {"schedule"}), ("daily", 0, {"keep"}),
                                                 ("daily", 366, {"keep"}), ("daily", True, {"keep"}),
                                                 ("daily", "7x", {"keep"}), (None, None, {"schedule", "keep"})])
def test_a_bad_schedule_changes_nothing(box, schedule, keep, bad):
    layout, db, service, _, _ = box
    with pytest.raises(ValidationError) as err:
        service.save_schedule("li", schedule, keep)
    assert err.value.code == "backup.schedule_invalid" and set(err.value.fields) == bad
    assert service.schedule_settings() == {"schedule": "off", "keep": 7, "chosen": False}
    assert not m.AuditLog.select().where(m.AuditLog.object_id == "schedule").exists()


def test_a_new_schedule_moves_the_next_run_and_the_next_backup_keeps_the_new_number(box, tmp_path):
    layout, db, service, _, _ = box
    now = [dt.datetime(2026, 12, 1, 3, 0)]
    service.clock = lambda: now[0]
    assert service.next_run() is None and service.run_scheduled() is None  # off (the settings file's default)
    service.save_schedule("li", "daily", 5)
    assert service.next_run() == now[0]  # none made yet: at once
    made = []
    for day in range(3):
        now[0] = dt.datetime(2026, 12, 1 + day, 3, 0)
        made.append(service.run_scheduled()["name"])
    now[0] = dt.datetime(2026, 12, 3, 9, 0)
    assert service.next_run() == dt.datetime(2026, 12, 4, 3, 0)
    service.save_schedule("li", "weekly", 5)
    assert service.next_run() == dt.datetime(2026, 12, 10, 3, 0) and not service.due()
    now[0] = dt.datetime(2026, 12, 10, 3, 0)
    assert service.due()
    service.save_schedule("li", "weekly", 2)  # fewer kept: the next scheduled backup deletes the others
    assert len(list(service.scheduled_dir().glob("scheduled-*.tar.gz"))) == 3
    made.append(service.run_scheduled()["name"])
    assert sorted(p.name for p in service.scheduled_dir().glob("scheduled-*.tar.gz")) == made[-2:]
    service.save_schedule("li", "off", 2)
    now[0] += dt.timedelta(days=30)
    assert service.next_run() is None and service.run_scheduled() is None


def test_the_running_scheduler_is_woken_by_a_change(box):
    """The scheduler looks again only every hour here: the backup made within seconds of
    turning the schedule on proves the change woke it (no restart, no waiting for a tick)."""
    layout, db, service, _, _ = box
    service.start(every_seconds=3600)
    try:
        gevent.sleep(0)  # it ran once: off, nothing to do; now asleep for the hour
        assert service.runs() == []
        service.save_schedule("li", "daily", 7)
        wait_until(service.runs, 30, "the scheduled backup the change woke")
        assert [(r["kind"], r["outcome"], r["actor"]) for r in service.runs()] == [("scheduled", "ok", "schedule")]
        assert service.wait_seconds(3600) == 3600  # the next is a day away: it looks again in an hour
    finally:
        service.stop()
