"""Recording a prompt from a phone on real Asterisk: an admin's SIPp phone dials *30, keys the
prompt's number (RFC 2833), speaks after the beep (G.711 A-law RTP), ends with #, hears the
take back and keeps it (1), or records again first (2); the take goes through the upload's
conversion and level check and is in the prompt list the web UI shows, in the admin's
language. A phone whose agent is not an admin is refused and changes nothing."""

from __future__ import annotations

import io
import math
import struct
import wave

import pytest

from appliance.db import models as m
from harness import Phone, RtpPcap, configure_basic, played, sip_address, started, wait_until

pytestmark = pytest.mark.asterisk

# Chinese, as the admin hears it: "record after the tone..." (4.9 s) and the beep come
# between the number keyed and the recording, so a take starts about 5.6 s after the key.
BEFORE_TAKE = 7.0


def one_second_wav() -> bytes:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(b"".join(struct.pack("<h", int(9000 * math.sin(i / 3))) for i in range(8000)))
    return buf.getvalue()


def speak(rtp: RtpPcap, seconds: float) -> RtpPcap:
    """After the prompt and the beep: silence, ``seconds`` of a tone, then # ends the take."""
    return rtp.audio(BEFORE_TAKE).audio(seconds, 0.3).audio(0.5).keys("#").audio(1.5)


def test_an_admin_records_a_new_prompt_and_records_over_an_existing_one(make_appliance, tmp_path):
    app = make_appliance()
    configure_basic(app)
    app.users.create("boss", "pw-boss-12345", "admin", language="zh_CN")
    app.config.update("agents", "1001", {"user": "boss"}, actor="test")
    app.prompts.upload({"name": "greeting", "description": "Spring sale", "language": "en"}, one_second_wav(),
                       actor="test")
    greeting = m.Prompt.get(m.Prompt.name == "greeting")
    started(app)
    phone = Phone("1001", "pw-1001-secret", sip_address(app), tmp_path / "sipp")

    # a new prompt: only #, 2 s spoken, hears it back, keeps it (1); the rest of the call in silence
    rtp = speak(RtpPcap().keys("#"), 2.0).keys("1").audio(8.0)
    phone.dial("*30", 90, scenario="phone_dial_rtp.xml", rtp_pcap=rtp.write(tmp_path / "new.pcap"))
    new = wait_until(lambda: m.Prompt.get_or_none(m.Prompt.name.startswith("recorded-")), 10, "the new prompt")
    assert (new.source, new.language, new.description) == ("upload", "zh_CN", "recorded on phone 1001")
    assert 2.5 <= new.duration_seconds <= 4.5, new.duration_seconds  # the take: from the beep to the #
    with wave.open(str(app.prompt_files.host_dir / new.file)) as w:
        assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (8000, 1, 2)
    listed = {p["name"]: p for p in app.prompts.list()}  # what the web UI's prompt list shows
    assert listed[new.name]["present"] and listed[new.name]["number"] == new.id
    audit = m.AuditLog.select().where(m.AuditLog.object_id == new.name).get()
    assert (audit.username, audit.action) == ("boss (phone 1001)", "create") and "recorded on a phone" in audit.detail
    files = played(app)
    assert "/appliance/lib/sounds/zh_CN/cc-rec-saved.gsm" in files  # in the admin's language
    assert any(f.startswith("/appliance/spool/prompt-record/") and "-draft." in f for f in files)  # heard back

    # over an existing prompt, by its number: a 1 s take, "2" to record again, a 3 s take kept
    rtp = speak(speak(RtpPcap().keys(f"{greeting.id}#"), 1.0).keys("2"), 3.0).keys("1").audio(8.0)
    phone.dial("*30", 90, scenario="phone_dial_rtp.xml", rtp_pcap=rtp.write(tmp_path / "again.pcap"))
    greeting = wait_until(lambda: (g := m.Prompt.get(m.Prompt.name == "greeting")).duration_seconds > 2 and g, 10,
                          "the greeting recorded over")
    assert (greeting.description, greeting.language) == ("Spring sale", "en")  # kept: only the audio changed
    assert 3.5 <= greeting.duration_seconds <= 5.5, greeting.duration_seconds  # the second take, not the first
    assert not list((app.pbx.spool_dir / "prompt-record").glob("*.wav"))  # takes and drafts cleaned up


def test_a_phone_that_is_not_an_admins_is_refused(make_appliance, tmp_path):
    app = make_appliance()
    configure_basic(app)
    app.users.create("alice", "pw-alice-1234", "agent", language="en")
    app.config.update("agents", "1001", {"user": "alice"}, actor="test")
    started(app)
    before = m.Prompt.select().count()
    Phone("1001", "pw-1001-secret", sip_address(app), tmp_path / "sipp").dial("*30")
    assert "/appliance/lib/sounds/en/cc-rec-denied.gsm" in played(app)
    assert m.Prompt.select().count() == before
