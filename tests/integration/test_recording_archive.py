"""Archive and retention on the real appliance: a call recorded through Asterisk is copied
to the archive (a tmp folder standing in for the second disk) with its SHA-256 checked,
and deleted from the appliance once its retention has passed, its row saying so."""

from __future__ import annotations

import datetime as dt

import pytest

from appliance.db.models import Recording, utcnow
from appliance.recording import mp3
from test_recording import CALLER, one_recorded_call, with_agent

pytestmark = pytest.mark.asterisk


def test_a_recorded_call_is_archived_verified_then_expires_on_the_appliance(make_appliance, tmp_path):
    share = tmp_path / "nas"
    share.mkdir()
    app, phone = with_agent(make_appliance, tmp_path, recording_archive_dir=str(share))
    row = one_recorded_call(app, phone, tmp_path, hold_ms=4000)
    local = app.recording_config.store_dir / row.mp3_path
    assert app.housekeeping.run_once() == {"archived": 1}
    copy = share / row.mp3_path
    assert mp3.sha256_file(copy) == row.sha256 == mp3.sha256_file(local)

    app.config.update("recording_rules", "inbound", {"keep_days": 1}, actor="test")
    assert app.housekeeping.run_once() == {}  # made today: kept
    app.housekeeping.now = lambda: utcnow() + dt.timedelta(days=1, minutes=1)
    assert app.housekeeping.run_once() == {"expired": 1}
    row = Recording.get_by_id(row.id)
    assert row.state == "expired" and row.expired_at and not local.exists()
    assert mp3.sha256_file(copy) == row.sha256  # the archive keeps its copy
    assert app.recordings.find(row.linkedid)["call"]["caller"] == CALLER
    assert app.recordings.audio_file(row.linkedid) == copy
