"""Recording on real Asterisk: SIPp calls recorded by MixMonitor, encoded by our workers,
verified and linked to their call records; crashes of the encoder and of Asterisk; the
disk guard."""

from __future__ import annotations

import pytest

from appliance.db.models import CallRecord, Recording
from appliance.engine.live import FREE, IN_CALL
from appliance.errors import Conflict
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


def one_recorded_call(app, phone, tmp_path, hold_ms: int) -> Recording:
    """A trunk call answered by the agent's phone, talking ``hold_ms``; its finished recording."""
    try:
        call = trunk_call(sip_address(app), DID, CALLER, tmp_path / "sipp", hold_ms=hold_ms).start()
        assert call.wait(60) == 0, call.errors()
        return recording_of(CALLER)
    finally:
        phone.stop()


def test_a_recorded_call_becomes_a_verified_mp3_of_at_most_1kb_per_second(make_appliance, tmp_path):
    app, phone = with_agent(make_appliance, tmp_path)
    # SIPp's g711a.pcap lasts 7 s and MixMonitor writes nothing while neither side sends
    # RTP (real phones send it all along): the call ends before the speech does.
    row = one_recorded_call(app, phone, tmp_path, hold_ms=7000)
    record = CallRecord.get(CallRecord.caller == CALLER)
    path = app.recording_config.store_dir / row.mp3_path
    scan, sha = mp3.scan_file(path)
    assert scan.problem == "" and sha == row.sha256 and path.stat().st_size == row.bytes
    # recorded from the answer (MixMonitor's b option): the talk time, within a second
    assert abs(row.duration_seconds - record.talk_seconds) <= 1.0, (row.duration_seconds, record.talk_seconds)
    assert row.duration_seconds >= 5
    # at most 1 KB a second of audio: 8 kbit/s frames (1,000 bytes a second) and the encoder's
    # delay and flush frames, a fixed 216-288 bytes a file (appliance/recording/mp3.py), which a
    # call cut to under 6 s by a slow answer (a loaded machine) must not count as its rate
    assert (row.bytes - 288) / row.duration_seconds <= 1024, row.bytes / row.duration_seconds
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


def talking(app, agent="1001"):
    return wait_until(lambda: next((c for c in app.live.calls.values() if c.agent == agent and c.answer_time), None),
                      15, f"agent {agent} talking")


def test_on_demand_start_pause_and_resume_of_a_call_the_policy_leaves_unrecorded(make_appliance, tmp_path):
    app, phone = with_agent(make_appliance, tmp_path)
    app.config.update("recording_rules", "inbound", {"recording": "no"}, actor="test")
    try:
        call = trunk_call(sip_address(app), DID, CALLER, tmp_path / "sipp", hold_ms=7000).start()
        live_call = talking(app)
        with pytest.raises(Conflict) as refused:
            app.recordings.control("1001", "pause", actor="test")  # nothing is being recorded yet
        assert refused.value.code == "recording.cannot_pause"
        assert app.recordings.control("1001", "start", actor="test")["recording"] == "recording"
        assert app.recordings.control("1001", "pause", actor="test")["recording"] == "paused"
        assert app.recordings.control("1001", "resume", actor="test")["recording"] == "recording"
        assert call.wait(60) == 0, call.errors()
        row = recording_of(CALLER)
    finally:
        phone.stop()
    assert row.linkedid == live_call.linkedid and row.wanted and row.policy == "direction inbound: no"
    # muted parts are written as silence: the file keeps the conversation's length
    talk = CallRecord.get(CallRecord.caller == CALLER).talk_seconds
    assert abs(row.duration_seconds - talk) <= 1.0, (row.duration_seconds, talk)


def test_force_cannot_be_stopped_and_an_agents_never_leaves_nothing(make_appliance, tmp_path):
    app, phone = with_agent(make_appliance, tmp_path)
    phone.stop()
    phone = Phone("1001", "pw-1001-secret", sip_address(app), tmp_path / "sipp2", ring_ms=500, calls=2).start()
    app.config.update("queues", "sales", {"recording": "force"}, actor="test")
    app.config.update("agents", "1001", {"recording": "never"}, actor="test")  # force beats never
    try:
        call = trunk_call(sip_address(app), DID, CALLER, tmp_path / "sipp", hold_ms=4000).start()
        talking(app)
        with pytest.raises(Conflict) as refused:
            app.recordings.control("1001", "stop", actor="test")
        assert refused.value.code == "recording.forced"
        assert app.recordings.control("1001", "pause", actor="test")["forced"]  # pausing stays possible
        assert call.wait(60) == 0, call.errors()
        forced = recording_of(CALLER)
        assert forced.policy == "queue sales: force"

        app.config.update("queues", "sales", {"recording": "yes"}, actor="test")  # now the agent's never wins
        other = "13900000002"
        call = trunk_call(sip_address(app), DID, other, tmp_path / "sipp", hold_ms=4000).start()
        talking(app)
        with pytest.raises(Conflict) as refused:
            app.recordings.control("1001", "start", actor="test")
        assert refused.value.code == "recording.not_possible"
        assert call.wait(60) == 0, call.errors()
        record = wait_until(lambda: CallRecord.get_or_none(CallRecord.caller == other), 15, "the call record")
        app.recordings.wait_finishing(10)
    finally:
        phone.stop()
    assert Recording.get_or_none(Recording.linkedid == record.linkedid) is None
    assert not list(app.recording_config.spool_dir.glob("*.wav"))
