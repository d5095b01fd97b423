"""Leaving a message on the real Asterisk: a SIPp caller rings a DID after hours, hears the
prompt and the beep, speaks for 3 s and hangs up; the message appears for the queue's
team with its verified MP3 and the caller's customer record, plays through the API, and
an agent marks it handled, which the whole team then sees. A queue nobody can answer
sends its callers to leave a message too."""

from __future__ import annotations

import datetime as dt
import json
import time
import urllib.request
from zoneinfo import ZoneInfo

import pytest

from appliance.db import models as m
from appliance.recording import mp3
from appliance.services.crm import Viewer
from harness import configure_basic, sip_address, speak_after_the_beep, started, trunk_call, wait_until

pytestmark = pytest.mark.asterisk

CALLER = "13912340000"
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def closed_today(app):
    """A DID whose opening hours are on another weekday only: after hours all today."""
    tomorrow = (dt.datetime.now(ZoneInfo("Asia/Shanghai")) + dt.timedelta(days=1)).weekday()
    app.config.create("time_conditions", {"name": "office", "schedule": f"{DAYS[tomorrow]} 09:00-10:00"},
                      actor="test")
    app.config.update("dids", "88001000", {"time_condition": "office", "after_hours_voicemail": True}, actor="test")


def api(app, token, path, body=None):
    request = urllib.request.Request(f"http://127.0.0.1:{app.web.server_port}{path}",
                                     data=None if body is None else json.dumps(body).encode(),
                                     headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
                                     method="GET" if body is None else "POST")
    with urllib.request.urlopen(request, timeout=10) as response:
        data = response.read()
        return json.loads(data) if response.headers.get_content_type() == "application/json" else data


def message_of(caller, states=("complete",), timeout=40):
    def find():
        msg = m.VoiceMessage.get_or_none(m.VoiceMessage.caller == caller)
        rec = msg and m.Recording.get_or_none(m.Recording.linkedid == msg.recording_key)
        return msg if rec is not None and rec.state in states else None
    return wait_until(find, timeout, f"the message of {caller} in state {states}")


def test_a_caller_after_hours_leaves_a_3s_message_that_the_team_plays_and_handles(make_appliance, tmp_path):
    app = make_appliance()
    configure_basic(app)
    closed_today(app)
    alice = app.users.create("alice", "pw-alice-1234", "agent", language="en")
    app.config.update("agents", "1001", {"user": "alice"}, actor="test")
    sup = app.users.create("sup", "pw-sup-12345", "supervisor", language="en")
    app.crm.create(Viewer("test", "admin"), {"phone": CALLER, "name": "王芳", "account_manager": "1001"},
                   actor="test")
    app.start(web=True)
    wait_until(lambda: app.ami.connected, 30, "AMI to connect")
    call = trunk_call(sip_address(app), "88001000", CALLER, tmp_path / "sipp", hold_ms=3000,
                      scenario="trunk_call_message.xml").start()
    speak_after_the_beep(app, call)
    recording = time.monotonic()  # Record() seen running (it started a poll or two before)
    assert call.wait(60) == 0, call.errors()
    until_hang_up = time.monotonic() - recording
    msg = message_of(CALLER)
    rec = m.Recording.get(m.Recording.linkedid == msg.recording_key)
    # the 3 s spoken after the beep, and no more than the recording ran as this test saw it
    # (a second for the polls before it saw Record()): not a fixed bound, which a busy
    # machine, slow to pass the caller its cue, went over
    assert 2.5 <= rec.duration_seconds <= until_hang_up + 1.0, (rec.duration_seconds, until_hang_up)
    path = app.recording_config.store_dir / rec.mp3_path
    scan, sha = mp3.scan_file(path)
    assert scan.problem == "" and sha == rec.sha256 and rec.bytes / rec.duration_seconds <= 1100
    assert not list(app.recording_config.spool_dir.glob("*.wav"))
    assert (msg.queue, msg.agent, msg.reason, msg.did) == ("sales", "1001", "after-hours", "88001000")
    record = m.CallRecord.get(m.CallRecord.caller == CALLER)
    assert record.linkedid == msg.linkedid and record.route_rule == "after-hours"
    # the call's own recording (from the answer: nobody answered) left nothing behind
    assert m.Recording.get_or_none(m.Recording.linkedid == record.linkedid) is None

    alice_token = app.users.create_token(alice["id"], "t")
    sup_token = app.users.create_token(sup["id"], "t")
    listed = api(app, alice_token, "/api/v1/voice-messages")["items"]
    assert [x["id"] for x in listed] == [msg.id]
    assert listed[0]["customer"]["name"] == "王芳" and listed[0]["playable"]
    assert api(app, alice_token, f"/api/v1/voice-messages/{msg.id}/audio") == path.read_bytes()
    handled = api(app, alice_token, f"/api/v1/voice-messages/{msg.id}/handled", {"note": "called back"})
    assert handled["handled_by"] == "alice" and handled["handled_at"]
    assert api(app, sup_token, "/api/v1/voice-messages")["items"] == []  # nothing left to do
    seen = api(app, sup_token, "/api/v1/voice-messages?state=handled")["items"]
    assert (seen[0]["handled_by"], seen[0]["note"]) == ("alice", "called back")


def test_a_queue_nobody_answers_takes_a_message(make_appliance, tmp_path):
    app = make_appliance()
    configure_basic(app)
    app.config.update("queues", "sales", {"voicemail": True, "max_wait_seconds": 2}, actor="test")
    started(app)  # nobody signed in: the queue cannot be joined
    call = trunk_call(sip_address(app), "88001000", CALLER, tmp_path / "sipp", hold_ms=3000,
                      scenario="trunk_call_message.xml").start()
    speak_after_the_beep(app, call)
    assert call.wait(60) == 0, call.errors()
    msg = message_of(CALLER)
    assert (msg.queue, msg.agent) == ("sales", "")
    assert msg.reason.startswith("queue-"), msg.reason
