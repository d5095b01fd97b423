"""Voice verification codes without Asterisk: the sliding-window limits (pure), what is
said, the service's checks, limits, storage (never the code) and the dialplan's reports,
and the API: admins only, 201, 429 with Retry-After per number and per token."""

from __future__ import annotations

import datetime as dt

import pytest
import webtest
from test_webui import env, token_for  # noqa: F401  (env is a fixture)

from appliance.bus import EventBus
from appliance.db import models as m
from appliance.engine import voicecodes as rules
from appliance.errors import CallNotPermitted, TooManyRequests, ValidationError
from appliance.services.calling import CallingPolicy
from appliance.services.voicecodes import VoiceCodeService
from webui.app import make_app

T0 = dt.datetime(2026, 12, 6, 10, 0, 0)
CODE = "58207316"
NUMBER = "13912345678"


# -- the pure rules ----------------------------------------------------------------------------
def test_retry_after_counts_a_sliding_window():
    times = [T0 + dt.timedelta(minutes=m) for m in (0, 10, 20, 30, 40)]
    assert rules.retry_after(times[:4], T0 + dt.timedelta(minutes=50), 5, 3600) == 0
    # five in the hour: the next fits once the first (10:00) leaves, at 11:00
    assert rules.retry_after(times, T0 + dt.timedelta(minutes=50), 5, 3600) == 600
    assert rules.retry_after(times, T0 + dt.timedelta(minutes=60, seconds=1), 5, 3600) == 0
    assert rules.retry_after(times, T0 + dt.timedelta(minutes=59, seconds=59, microseconds=500000), 5, 3600) == 1


def test_the_code_is_said_digit_by_digit_twice_after_a_silence():
    assert rules.spoken("4821") == ["silence", "4", "8", "2", "1", "silence", "4", "8", "2", "1"]


@pytest.mark.parametrize("status,result", [("BUSY", "busy"), ("NOANSWER", "no_answer"), ("CANCEL", "no_answer"),
                                           ("CONGESTION", "failed"), ("CHANUNAVAIL", "failed"), ("", "failed")])
def test_an_unanswered_call_s_dialstatus_is_a_result(status, result):
    assert rules.result_of(status) == result


# -- the service -----------------------------------------------------------------------------------
class Response(dict):
    def __init__(self, name="Success", **headers):
        super().__init__(headers)
        self.name = name


class Ami:
    def __init__(self):
        self.actions = []

    def send_action(self, name, headers):
        self.actions.append((name, headers))
        return Response()


def sounds(tmp_path):
    """Fake GSM files: each digit a frame of its own byte, silence a frame of zeros."""
    core, own = tmp_path / "core", tmp_path / "own"
    (core / "digits").mkdir(parents=True)
    (core / "silence").mkdir()
    (own / "zh_CN").mkdir(parents=True)
    (core / "silence" / "1.gsm").write_bytes(b"\0" * 33)
    for d in range(10):
        (core / "digits" / f"{d}.gsm").write_bytes(bytes([0x30 + d]) * 33)
        (own / "zh_CN" / f"cc-digit-{d}.gsm").write_bytes(bytes([0x60 + d]) * 66 + b"x")  # a stray byte
    return core, own


@pytest.fixture
def office(env, tmp_path):  # noqa: F811
    core, own = sounds(tmp_path)
    clock = {"now": T0}
    bus = EventBus()
    service = VoiceCodeService(env.db, Ami(), bus, audio_dir=tmp_path / "run" / "vc", asterisk_audio_dir="/ast/run/vc",
                               core_sounds=core, own_sounds_dir=own, calling=CallingPolicy(env.db),
                               per_number=5, per_sender=7, now=lambda: clock["now"])
    env.deps.voice_codes = service
    env.app = webtest.TestApp(make_app(env.deps))
    env.service, env.clock, env.events = service, clock, bus.subscribe()
    return env


def audio_files(office):
    return sorted(office.service.audio_dir.glob("*.gsm"))


def test_a_request_originates_a_call_with_its_own_audio_and_stores_no_code(office):
    view = office.service.send(NUMBER, CODE, "en", actor="admin", sender="token:1")
    assert (view["state"], view["number"], view["language"]) == ("calling", NUMBER, "en")
    [(action, headers)] = office.service.ami.actions
    assert action == "Originate" and headers["Channel"] == f"Local/{NUMBER}@cc-voicecode-dial"
    assert headers["Context"] == "cc-voicecode-say"
    assert CODE not in str(headers) and "5820" not in str(headers)  # nothing of the code reaches Asterisk's manager
    [audio] = audio_files(office)
    assert f"/ast/run/vc/{audio.stem}" in headers["Variable"]
    said = bytes(33) + b"".join(bytes([0x30 + int(d)]) * 33 for d in CODE)
    assert audio.read_bytes() == said * 2
    row = m.VoiceCode.get_by_id(view["id"])
    assert CODE not in repr(row.__data__)


def test_chinese_is_said_with_the_appliance_s_own_digits(office):
    office.service.send(NUMBER, "4821", "zh_CN", actor="admin", sender="token:1")
    [audio] = audio_files(office)
    # whole frames only: a file's stray bytes would shift every frame after it
    assert audio.read_bytes() == (bytes(33) + b"".join(bytes([0x60 + int(d)]) * 66 for d in "4821")) * 2


def test_reports_give_the_result_as_an_event_and_remove_the_audio(office):
    busy = office.service.send(NUMBER, CODE, "en", actor="admin", sender="token:1")
    answered = office.service.send("13912345679", CODE, "en", actor="admin", sender="token:1")
    token = {r.id: f"{r.id}-{r.call_token}" for r in m.VoiceCode.select()}
    office.service.report("dialed", f"{busy['id']}-forged", "ANSWER")  # not our call: ignored
    office.service.report("dialed", token[busy["id"]], "BUSY")
    office.service.report("answered", token[answered["id"]])
    office.service.report("said", token[answered["id"]], "SUCCESS")
    assert len(audio_files(office)) == 1  # the answered call's, until it ends
    office.service.report("ended", token[answered["id"]])
    assert audio_files(office) == []
    assert (office.service.get(busy["id"])["state"], office.service.get(busy["id"])["reason"]) == ("busy", "BUSY")
    got = office.service.get(answered["id"])
    assert (got["state"], got["said"]) == ("answered", True)
    assert [(topic, e["event"], e["id"]) for topic, e in office.events.drain()] == [
        ("voicecode", "busy", busy["id"]), ("voicecode", "answered", answered["id"])]


def test_a_call_asterisk_never_reported_on_fails_and_leftover_audio_goes(office):
    view = office.service.send(NUMBER, CODE, "en", actor="admin", sender="token:1")
    stray = office.service.audio_dir / "vc-left-from-a-crash.gsm"
    stray.write_bytes(b"x")
    office.clock["now"] = T0 + dt.timedelta(minutes=10)
    office.service.sweep()
    assert (office.service.get(view["id"])["state"], office.service.get(view["id"])["reason"]) == ("failed", "no-report")
    assert audio_files(office) == []


def test_limits_per_number_and_per_sender(office):
    for i in range(5):
        office.clock["now"] = T0 + dt.timedelta(minutes=i)
        office.service.send(NUMBER, CODE, "en", actor="admin", sender="token:1")
    with pytest.raises(TooManyRequests) as caught:
        office.service.send(NUMBER, CODE, "en", actor="admin", sender="token:2")
    assert (caught.value.code, caught.value.retry_after) == ("voicecode.number_limit", 3600 - 4 * 60)
    office.service.send("13912345670", CODE, "en", actor="admin", sender="token:1")
    office.service.send("13912345671", CODE, "en", actor="admin", sender="token:1")  # the sender's 7th
    with pytest.raises(TooManyRequests) as caught:
        office.service.send("13912345672", CODE, "en", actor="admin", sender="token:1")
    assert caught.value.code == "voicecode.sender_limit"
    office.service.send("13912345672", CODE, "en", actor="admin", sender="token:2")  # another token may
    assert m.VoiceCode.select().count() == 8  # refused requests leave no row and place no call
    assert len(office.service.ami.actions) == 8


@pytest.mark.parametrize("number,code,language,field", [
    ("139-1234-5678x", CODE, "en", "number"), (NUMBER, "123", "en", "code"), (NUMBER, "123456789", "en", "code"),
    (NUMBER, "12a4", "en", "code"), (NUMBER, 1234, "en", "code"), (NUMBER, CODE, "fr", "language")])
def test_bad_requests_say_which_field(office, number, code, language, field):
    with pytest.raises(ValidationError) as caught:
        office.service.send(number, code, language, actor="admin", sender="token:1")
    assert list(caught.value.fields) == [field]
    assert office.service.ami.actions == []


def test_emergency_numbers_and_our_own_phones_are_not_said_codes_and_the_permission_counts(office):
    office.deps.config.create("phones", {"extension": "1001", "secret": "pw-1001-secret"}, actor="t")
    for number in ("110", "1001"):
        with pytest.raises(ValidationError) as caught:
            office.service.send(number, CODE, "en", actor="admin", sender="token:1")
        assert caught.value.code == "voicecode.bad_number"
    with pytest.raises(CallNotPermitted):  # an agent's account: domestic at most
        office.service.send("0012125551234", CODE, "en", actor="alice", sender="token:1")
    assert office.service.ami.actions == []


# -- the API ------------------------------------------------------------------------------------------
def test_the_api_is_for_admins_and_answers_429_with_retry_after(office):
    admin = token_for(office, "admin")
    for role in ("sup", "alice"):
        office.app.post_json("/api/v1/voice-codes", {"number": NUMBER, "code": CODE}, headers=token_for(office, role),
                             status=403)
    made = office.app.post_json("/api/v1/voice-codes", {"number": NUMBER, "code": CODE}, headers=admin, status=201)
    assert made.json["state"] == "calling" and made.json["language"] == "zh_CN" and CODE not in made.text
    got = office.app.get(f"/api/v1/voice-codes/{made.json['id']}", headers=admin)
    assert got.json == made.json
    office.app.get("/api/v1/voice-codes/999", headers=admin, status=404)
    bad = office.app.post_json("/api/v1/voice-codes", {"number": NUMBER, "code": "12"}, headers=admin, status=422)
    assert list(bad.json["fields"]) == ["code"]
    for _ in range(4):
        office.app.post_json("/api/v1/voice-codes", {"number": NUMBER, "code": CODE}, headers=admin, status=201)
    refused = office.app.post_json("/api/v1/voice-codes", {"number": NUMBER, "code": CODE}, headers=admin, status=429)
    assert refused.json["error"] == "voicecode.number_limit" and refused.headers["Retry-After"] == "3600"
    # the per-sender limit counts one token, not the account: a second token of the same admin starts afresh
    row_senders = {r.sender for r in m.VoiceCode.select()}
    assert len(row_senders) == 1 and row_senders.pop().startswith("token:")
