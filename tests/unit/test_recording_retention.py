"""Retention and archive of recordings: the pure plan, and the housekeeping job over real
files (a tmp folder stands in for the second disk or the network share)."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from test_recording_api import api, recorded
from test_webui import env, token_for  # noqa: F401  (env is a fixture)

from appliance.db.models import CallRecord, Queue, Recording, RecordingRule
from appliance.recording import archive as archive_mod
from appliance.recording.archive import ArchiveError, RecordingHousekeeping, copy_verified
from appliance.recording.retention import Kept, RetentionRules, oldest_due, plan

NOW = dt.datetime(2026, 11, 23, 12, 0)


def test_the_queue_overrides_the_direction_and_zero_keeps_for_ever():
    rules = RetentionRules(by_direction={"inbound": 90, "outbound": 0}, by_queue={"vip": 365})
    old = NOW - dt.timedelta(days=100)
    rows = [Kept(1, "inbound", "sales", old, False), Kept(2, "inbound", "vip", old, False),
            Kept(3, "outbound", "", old - dt.timedelta(days=3000), False),
            Kept(4, "inbound", "", NOW - dt.timedelta(days=89, hours=23), False),
            Kept(5, "", "", old, False)]  # a caller's message: inbound
    assert plan(rows, rules, NOW, archive_on=False).expire == (1, 5)
    held = plan(rows + [Kept(6, "inbound", "", old, True)], rules, NOW, archive_on=True)
    assert held.expire == (6,) and held.held == (1, 5)  # never deleted before the archive has it
    assert oldest_due(rules, NOW) == NOW - dt.timedelta(days=90)
    assert oldest_due(RetentionRules({"inbound": 0}), NOW) is None


def setup(env, tmp_path, **kw):  # noqa: F811
    app, pipeline = api(env, tmp_path)
    share = tmp_path / "share"
    share.mkdir()
    pipeline.config = dataclasses.replace(pipeline.config, archive_dir=kw.get("archive", share))
    data = {lid: recorded(pipeline, lid, agent="1001", seconds=s) for lid, s in (("1.1", 3), ("1.2", 4))}
    jobs = RecordingHousekeeping(env.db, pipeline, kw.get("archive", share), now=lambda: NOW,
                                 in_thread=lambda fn, *args: fn(*args))
    return app, pipeline, share, data, jobs


def test_archive_copies_and_verifies_each_mp3_once(env, tmp_path):  # noqa: F811
    _, pipeline, share, data, jobs = setup(env, tmp_path)
    assert jobs.run_once() == {"archived": 2}
    for lid, body in data.items():
        row = Recording.get(Recording.linkedid == lid)
        assert row.archived_at == NOW and (share / row.mp3_path).read_bytes() == body
        assert pipeline.mp3_file(row).read_bytes() == body  # the appliance keeps its own
    assert not list(share.rglob("*.part"))
    assert jobs.run_once() == {}  # nothing new


def test_a_copy_that_reads_back_different_is_removed_and_tried_again(env, tmp_path, monkeypatch):  # noqa: F811
    _, pipeline, share, data, jobs = setup(env, tmp_path)
    real_replace = archive_mod.os.replace

    def flaky_share(src, dst):  # the share garbles the file on its way to the disk
        real_replace(src, dst)
        with open(dst, "r+b") as f:
            f.seek(100)
            f.write(b"\xff\x00")

    monkeypatch.setattr(archive_mod.os, "replace", flaky_share)
    assert jobs.run_once() == {"archive_failed": 2}
    row = Recording.get(Recording.linkedid == "1.1")
    assert row.archived_at is None and "reads back as" in row.archive_error
    assert not list(share.rglob("*.mp3"))  # no bad copy left looking like a good one
    monkeypatch.setattr(archive_mod.os, "replace", real_replace)
    assert jobs.run_once() == {"archived": 2}
    assert Recording.get(Recording.linkedid == "1.1").archive_error == ""


def test_an_mp3_altered_on_the_appliance_is_not_archived(env, tmp_path):  # noqa: F811
    _, pipeline, share, data, jobs = setup(env, tmp_path)
    path = pipeline.mp3_file(Recording.get(Recording.linkedid == "1.2"))
    path.write_bytes(path.read_bytes()[:-10])
    with pytest.raises(ArchiveError):
        copy_verified(path, share / "x.mp3", Recording.get(Recording.linkedid == "1.2").sha256)
    assert jobs.run_once() == {"archived": 1, "archive_failed": 1}


def test_an_archive_that_is_not_mounted_is_never_created(env, tmp_path):  # noqa: F811
    _, _, share, _, jobs = setup(env, tmp_path, archive=tmp_path / "mnt" / "nas")
    assert jobs.run_once() == {"archive_unavailable": 1}
    assert not (tmp_path / "mnt").exists()


def test_expiry_deletes_the_mp3_keeps_the_row_and_waits_for_the_archive(env, tmp_path):  # noqa: F811
    app, pipeline, share, data, jobs = setup(env, tmp_path)
    RecordingRule.update(keep_days=30).where(RecordingRule.direction == "inbound").execute()
    Recording.update(created_at=NOW - dt.timedelta(days=31)).where(Recording.linkedid == "1.1").execute()
    Recording.update(created_at=NOW - dt.timedelta(days=29)).where(Recording.linkedid == "1.2").execute()
    jobs.in_thread = lambda fn, *args: (_ for _ in ()).throw(OSError("share offline")) \
        if fn is copy_verified else fn(*args)
    assert jobs.run_once() == {"archive_failed": 2, "held": 1}  # not deleted before it is archived
    assert Recording.get(Recording.linkedid == "1.1").state == "complete"
    jobs.in_thread = lambda fn, *args: fn(*args)
    assert jobs.run_once() == {"archived": 2, "expired": 1}
    row = Recording.get(Recording.linkedid == "1.1")
    assert row.state == "expired" and row.expired_at == NOW and not pipeline.mp3_file(row).exists()
    assert "30 days" in row.detail
    assert Recording.get(Recording.linkedid == "1.2").state == "complete"
    # the call still says what became of its recording; the archived copy still plays
    sup = token_for(env, "sup")
    one = app.get("/api/v1/recordings/1.1", headers=sup).json
    assert one["state"] == "expired" and one["call"]["caller"] == "13800000001" and one["archived_at"]
    assert app.get("/api/v1/recordings/1.1/audio", headers=sup).body == data["1.1"]
    # start-up reconciliation leaves an expired row alone (no MP3 is expected)
    assert pipeline.reconcile() == {}
    assert Recording.get(Recording.linkedid == "1.1").state == "expired"


def test_a_queue_keeps_its_recordings_longer_than_its_direction(env, tmp_path):  # noqa: F811
    _, pipeline, _, _, _ = setup(env, tmp_path)
    RecordingRule.update(keep_days=30).where(RecordingRule.direction == "inbound").execute()
    Queue.update(recording_keep_days=365).where(Queue.name == "sales").execute()
    CallRecord.update(queue="support").where(CallRecord.linkedid == "1.2").execute()
    Recording.update(created_at=NOW - dt.timedelta(days=40)).execute()
    jobs = RecordingHousekeeping(env.db, pipeline, None, now=lambda: NOW, in_thread=lambda fn, *args: fn(*args))
    assert jobs.run_once() == {"expired": 1}
    assert Recording.get(Recording.linkedid == "1.1").state == "complete"  # sales: 365 days
    assert Recording.get(Recording.linkedid == "1.2").state == "expired"  # support: the direction's 30
