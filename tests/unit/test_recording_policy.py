"""The pure part of recording: names, encode outcomes, the start-up plan, the disk guard."""

from __future__ import annotations

import datetime as dt

import pytest

from appliance.recording import disk, errors, policy
from appliance.recording.policy import Action, RowFacts

NOW = dt.datetime(2026, 11, 23, 12, 0)


def test_names_come_from_linkedids_and_nothing_else():
    assert policy.wav_name("1732345678.42") == "1732345678.42.wav"
    assert policy.mp3_name("host-1732345678.42", NOW) == "2026/11/23/host-1732345678.42.mp3"
    assert policy.linkedid_of_wav("1732345678.42.wav") == "1732345678.42"
    for bad in ("../etc/passwd", "a/b", "", ".hidden", "a..b", "x" * 65):
        with pytest.raises(ValueError):
            policy.wav_name(bad)
        assert policy.linkedid_of_wav(bad + ".wav") is None
    assert policy.linkedid_of_wav("1732345678.42.mp3") is None


def test_outcomes_of_an_encode():
    ok = policy.after_encode({"ok": True, "detail": ""}, attempts=1)
    assert ok.state == "complete" and ok.delete_wav
    bad = policy.after_encode({"ok": False, "code": errors.EMPTY, "detail": "empty"}, attempts=1)
    assert (bad.state, bad.error_code, bad.delete_wav, bad.requeue) == ("failed", errors.EMPTY, False, False)
    died = policy.after_encode(None, attempts=1, max_attempts=3)
    assert (died.state, died.requeue, died.delete_wav) == ("pending", True, False)
    gave_up = policy.after_encode(None, attempts=3, max_attempts=3)
    assert (gave_up.state, gave_up.error_code, gave_up.requeue) == ("failed", errors.ENCODER_CRASHED, False)


def facts(state, *, wav=False, mp3=False, part=False, ok=None, code="", attempts=1, linkedid="1.1", id=1):
    return RowFacts(id, linkedid, state, code, attempts, wav, mp3, part, ok)


@pytest.mark.parametrize("row, expected", [
    # the call ended while we were down, or its encode was under way
    (facts("recording", wav=True), [Action("queue", 1)]),
    (facts("pending", wav=True), [Action("queue", 1)]),
    (facts("encoding", wav=True, part=True), [Action("remove_part", 1), Action("queue", 1)]),
    (facts("encoding", wav=True, attempts=3), [Action("flag", 1, state="failed", error_code=errors.ENCODER_CRASHED,
                                                       detail="encoding interrupted 3 times")]),
    # the MP3 was renamed and the WAV deleted, but the row's update was lost (power failure)
    (facts("encoding", mp3=True, ok=True), [Action("adopt", 1)]),
    # complete, but the WAV survived its deletion: delete it now
    (facts("complete", wav=True, mp3=True, ok=True), [Action("delete_wav", 1)]),
    (facts("complete", mp3=True, ok=None), []),
    # complete without its MP3, or with another one: encode again if the WAV is there, else flag
    (facts("complete", wav=True, mp3=False), [Action("queue", 1)]),
    (facts("complete", wav=True, mp3=True, ok=False), [Action("queue", 1)]),
    (facts("failed", wav=True, code=errors.DISK_FULL), [Action("queue", 1)]),
    (facts("failed", wav=True, code=errors.EMPTY), []),
    (facts("missing", code=errors.MISSING), []),
])
def test_reconcile_plan_per_row(row, expected):
    assert policy.plan_reconcile([row], spool_wavs=[]) == expected


@pytest.mark.parametrize("row, state, code", [
    (facts("recording"), "missing", errors.MISSING),
    (facts("encoding", mp3=True, ok=False), "missing", errors.MISSING),
    (facts("complete"), "missing", errors.MISSING),
    (facts("complete", mp3=True, ok=False), "corrupt", errors.CHECKSUM_MISMATCH),
])
def test_reconcile_flags_what_is_lost(row, state, code):
    (action,) = policy.plan_reconcile([row], spool_wavs=[])
    assert (action.kind, action.state, action.error_code) == ("flag", state, code)


def test_orphans_get_rows_and_calls_in_progress_are_left_alone():
    rows = [facts("recording", linkedid="live.1", id=1), facts("recording", wav=True, linkedid="done.2", id=2)]
    plan = policy.plan_reconcile(rows, spool_wavs=["live.1", "done.2", "orphan.3", "live.4"],
                                 active=["live.1", "live.4"])
    assert plan == [Action("queue", 2), Action("create", linkedid="orphan.3", detail="WAV found in the spool without a row")]


def test_disk_guard():
    assert disk.reserve_bytes(10 * 10**9) == 500 * 10**6  # 2% of 10 GB is less than 500 MB
    assert disk.reserve_bytes(100 * 10**9) == 2 * 10**9
    assert disk.may_start_recording(600 * 10**6, 500 * 10**6).allowed
    refused = disk.may_start_recording(500 * 10**6, 500 * 10**6)
    assert not refused.allowed and refused.alarm == "recording.disk_full" and "500 MB free" in refused.message


def test_days_left():
    assert disk.days_left(10 * 10**9, 10**9) == 10
    assert disk.days_left(10 * 10**9, 10**9, reserve=2 * 10**9) == 8
    assert disk.days_left(10**9, 10**9, reserve=2 * 10**9) == 0
    assert disk.days_left(10**9, 0) is None


def test_bytes_per_day_over_the_window_or_the_days_there_are():
    day = dt.timedelta(days=1)
    week = [(NOW - i * day - dt.timedelta(hours=1), 7 * 10**6) for i in range(7)]
    assert disk.bytes_per_day(week + [(NOW - 30 * day, 10**12)], NOW, first_ever=NOW - 30 * day) == 7 * 10**6
    # an appliance recording since this morning: one day's worth, not a week's average
    assert disk.bytes_per_day([(NOW - dt.timedelta(hours=2), 3 * 10**6)], NOW) == 3 * 10**6
    # three days old: averaged over three days
    assert disk.bytes_per_day([(NOW - 3 * day, 9 * 10**6), (NOW, 0)], NOW) == 3 * 10**6
    assert disk.bytes_per_day([], NOW) == 0
