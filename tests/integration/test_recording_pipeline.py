"""The pipeline with its real worker processes: an encoder killed with SIGKILL in the middle
of a file, the appliance dying in the middle of an encode, and WAVs left in the spool."""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

import gevent
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "unit"))  # wavfiles

from wavfiles import write_wav, zero_sizes  # noqa: E402

from appliance.db import open_database  # noqa: E402
from appliance.db.migrate import migrate  # noqa: E402
from appliance.db.models import Recording  # noqa: E402
from appliance.recording import mp3  # noqa: E402
from appliance.recording.pipeline import ProcessPool, RecordingConfig, RecordingPipeline  # noqa: E402
from harness import wait_until  # noqa: E402

LONG_SECONDS = 1800  # half an hour of WAV: a couple of seconds of encoding, time to kill it


@pytest.fixture
def db(tmp_path):
    db = open_database(tmp_path / "a.db")
    migrate(db)
    return db


def make_pipeline(db, tmp_path, workers=1):
    config = RecordingConfig(spool_dir=tmp_path / "spool", store_dir=tmp_path / "store", workers=workers,
                             reserve_min_bytes=0, reserve_fraction=0.0)
    pool = ProcessPool(workers)
    return RecordingPipeline(db, config, pool), pool


def recorded_call(pipeline, linkedid, seconds):
    wav = pipeline.begin(linkedid)
    write_wav(wav, seconds)
    return wav


def kill_worker_mid_file(pool, pipeline, linkedid):
    """Wait until the worker has written part of the MP3, then SIGKILL it."""
    row = Recording.get(Recording.linkedid == linkedid)
    part = Path(str(pipeline.mp3_file(row)) + ".part")
    wait_until(lambda: part.exists() and part.stat().st_size > 10_000, 30, "the encoder to be mid-file")
    (worker,) = [w for w in pool.workers if w.job_id == row.id]
    os.kill(worker.pid, signal.SIGKILL)
    return part


def assert_complete(pipeline, linkedid, seconds):
    row = Recording.get(Recording.linkedid == linkedid)
    assert row.state == "complete", (row.state, row.error_code, row.detail)
    path = pipeline.mp3_file(row)
    scan, sha = mp3.scan_file(path)
    assert sha == row.sha256 and scan.problem == "" and abs(row.duration_seconds - seconds) <= 0.1
    assert not pipeline.wav_file(row).exists() and not Path(str(path) + ".part").exists()
    return row


def test_an_encoder_killed_mid_file_is_replaced_and_the_file_encoded_again(db, tmp_path):
    pipeline, pool = make_pipeline(db, tmp_path)
    try:
        recorded_call(pipeline, "1700000000.1", LONG_SECONDS)
        pipeline.finish("1700000000.1")
        job = gevent.spawn(pipeline.process, Recording.get().id)
        kill_worker_mid_file(pool, pipeline, "1700000000.1")
        assert job.get(timeout=30) == "pending"  # the worker died: tried again, not lost
        assert pipeline.run_pending() == {"complete": 1}
        row = assert_complete(pipeline, "1700000000.1", LONG_SECONDS)
        assert row.attempts == 2 and row.bytes <= 1000 * LONG_SECONDS + 300
    finally:
        pool.close()


def test_after_the_appliance_died_mid_encode_a_restart_finishes_the_file(db, tmp_path):
    pipeline, pool = make_pipeline(db, tmp_path)
    recorded_call(pipeline, "1700000000.2", LONG_SECONDS)
    pipeline.finish("1700000000.2")
    job = gevent.spawn(pipeline.process, Recording.get().id)
    part = kill_worker_mid_file(pool, pipeline, "1700000000.2")
    job.kill()  # the appliance is gone too: the row stays "encoding", the half-written part stays
    pool.close()
    assert Recording.get().state == "encoding" and part.exists()

    pipeline, pool = make_pipeline(db, tmp_path)  # the next start
    try:
        assert pipeline.reconcile() == {"remove_part": 1, "queue": 1}
        assert not part.exists()
        assert pipeline.run_pending() == {"complete": 1}
        assert_complete(pipeline, "1700000000.2", LONG_SECONDS)
    finally:
        pool.close()


def test_start_up_encodes_orphans_and_cut_short_wavs_and_flags_what_is_lost(db, tmp_path):
    pipeline, pool = make_pipeline(db, tmp_path)
    try:
        # a call still "recording" when everything stopped: its WAV header never filled in
        zero_sizes(recorded_call(pipeline, "1700000000.3", 12))
        # a WAV nobody has a row for (the row's insert was lost)
        write_wav(tmp_path / "spool" / "1700000000.4.wav", 5)
        # a finished call whose WAV is gone
        pipeline.begin("1700000000.5")
        # a standby nobody started: thrown away
        write_wav(pipeline.begin("1700000000.6", wanted=False), 3)
        assert pipeline.reconcile() == {"queue": 1, "create": 1, "flag": 1, "discard": 1}
        assert pipeline.run_pending() == {"complete": 2}
        cut = assert_complete(pipeline, "1700000000.3", 12)
        assert cut.repaired and cut.partial  # recovered from the samples; the call was cut off
        assert_complete(pipeline, "1700000000.4", 5)
        lost = Recording.get(Recording.linkedid == "1700000000.5")
        assert (lost.state, lost.error_code) == ("missing", "recording.missing")
        assert Recording.get_or_none(Recording.linkedid == "1700000000.6") is None
        assert not (tmp_path / "spool" / "1700000000.6.wav").exists()
        assert pipeline.reconcile() == {}  # nothing left to do
    finally:
        pool.close()


def test_the_disk_guard_refuses_new_recordings_with_an_alarm(db, tmp_path, caplog):
    free = os.statvfs(tmp_path).f_bavail * os.statvfs(tmp_path).f_frsize
    config = RecordingConfig(spool_dir=tmp_path / "spool", store_dir=tmp_path / "store", workers=1,
                             reserve_min_bytes=free + 10**9)  # the disk is "nearly full"
    pipeline = RecordingPipeline(db, config, runner=None)
    from appliance.recording.pipeline import RecordingRefused

    with pytest.raises(RecordingRefused) as refused:
        pipeline.begin("1700000000.7")
    assert refused.value.code == "recording.disk_full"
    row = Recording.get(Recording.linkedid == "1700000000.7")
    assert (row.state, row.error_code) == ("refused", "recording.disk_full")
    status = pipeline.status()
    assert not status["up"] and status["state"] == "recording.disk_full"
    assert sum("recording.disk_full" in r.message for r in caplog.records if r.levelname == "CRITICAL") == 1
