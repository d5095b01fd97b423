"""Recording on real Asterisk: SIPp calls recorded by MixMonitor, encoded by our workers,
verified and linked to their call records; crashes of the encoder and of Asterisk; the
disk guard."""

from __future__ import annotations

import pytest

from appliance.db.models import CallRecord, Recording
from appliance.engine.live import FREE, IN_CALL
from appliance.recording import mp3
from harness import Phone, configure_basic, sip_address, started, trunk_call, wait_until

pytestmark = pytest.mark.asterisk

CALLER = "13912345678"
DID = "88001000"


def agent_state(app, number):
    agent = app.live.agents.get(number)
    return agent.state if agent else None


def recording_of(caller: str, states=("complete",), timeout: float = 30) -> Recording:
    def find():
        rec = CallRecord.get_or_none(CallRecord.caller == caller)
        row = Recording.get_or_none(Recording.linkedid == rec.linkedid) if rec else None
        return row if row is not None and row.state in states else None
    return wait_until(find, timeout, f"the recording of {caller} in state {states}")


def with_agent(make_appliance, tmp_path, ring_ms=500, **overrides):
    """A started appliance (one trunk, queue, DID) and agent 1001 signed in on a SIPp phone."""
    app = make_appliance(**overrides)
    configure_basic(app)
    started(app)
    phone = Phone("1001", "pw-1001-secret", sip_address(app), tmp_path / "sipp", ring_ms=ring_ms).start()
    app.agents.login("1001")
    wait_until(lambda: agent_state(app, "1001") == FREE, 10, "agent 1001 free")
    return app, phone


def test_a_recorded_call_becomes_a_verified_mp3_of_at_most_1kb_per_second(make_appliance, tmp_path):
    app, phone = with_agent(make_appliance, tmp_path)
    try:
        # SIPp's g711a.pcap lasts 7 s and MixMonitor writes nothing while neither side sends
        # RTP (real phones send it all along): the call ends before the speech does.
        call = trunk_call(sip_address(app), DID, CALLER, tmp_path / "sipp", hold_ms=7000).start()
        assert call.wait(60) == 0, call.errors()
        row = recording_of(CALLER)
    finally:
        phone.stop()
    record = CallRecord.get(CallRecord.caller == CALLER)
    path = app.recording_config.store_dir / row.mp3_path
    scan, sha = mp3.scan_file(path)
    assert scan.problem == "" and sha == row.sha256 and path.stat().st_size == row.bytes
    # recorded from the answer (MixMonitor's b option): the talk time, within a second
    assert abs(row.duration_seconds - record.talk_seconds) <= 1.0, (row.duration_seconds, record.talk_seconds)
    assert row.duration_seconds >= 5
    assert row.bytes / row.duration_seconds <= 1024, row.bytes / row.duration_seconds
    assert not row.partial and row.policy == "direction inbound: yes"
    assert not (app.recording_config.spool_dir / row.wav_path).exists()  # the WAV went after the MP3


def test_asterisk_killed_mid_call_the_part_recorded_is_encoded_and_marked_partial(make_appliance, tmp_path):
    app, phone = with_agent(make_appliance, tmp_path)
    try:
        call = trunk_call(sip_address(app), DID, CALLER, tmp_path / "sipp", hold_ms=30000).start()
        wait_until(lambda: agent_state(app, "1001") == IN_CALL, 15, "agent in call")
        wav = app.recording_config.spool_dir
        wait_until(lambda: any(f.stat().st_size > 40_000 for f in wav.glob("*.wav")), 15, "2.5 s recorded")
        first_pid = app.pbx.pid
        app.pbx.kill()  # SIGKILL: MixMonitor never closes the file nor fixes its header
        wait_until(lambda: app.pbx.pid not in (None, first_pid) and app.ami.connected, 60, "Asterisk back")
        row = recording_of(CALLER, timeout=60)
        call.stop()
    finally:
        phone.stop()
    record = CallRecord.get(CallRecord.caller == CALLER)
    assert record.disposition == "interrupted"
    assert row.partial and row.state == "complete"
    scan, sha = mp3.scan_file(app.recording_config.store_dir / row.mp3_path)
    assert sha == row.sha256 and scan.problem == "" and row.duration_seconds >= 2.5


def test_no_room_on_the_disk_the_call_goes_on_unrecorded_with_an_alarm(make_appliance, tmp_path):
    # a reserve larger than any disk here: the disk counts as nearly full
    app, phone = with_agent(make_appliance, tmp_path, recording_reserve_mb=10**9)
    try:
        call = trunk_call(sip_address(app), DID, CALLER, tmp_path / "sipp", hold_ms=3000).start()
        assert call.wait(60) == 0, call.errors()  # answered by the agent all the same
        row = recording_of(CALLER, states=("refused",))
    finally:
        phone.stop()
    assert row.error_code == "recording.disk_full"
    assert not list(app.recording_config.spool_dir.glob("*.wav"))
    health = app.health()
    assert health["status"] == "degraded"
    assert health["components"]["recording"]["state"] == "recording.disk_full"
    assert CallRecord.get(CallRecord.caller == CALLER).disposition == "answered"
