"""The FastAGI 'prompt_record' handler: only an admin's phone may record, which prompt a keyed
number names (never a built-in one), a take converted like an upload or refused with the
upload's error id, and keeping it, said back in the admin's language."""

from __future__ import annotations

import io
import math
import struct
import wave
from types import SimpleNamespace

import pytest

from appliance import dialplan_vars as v
from appliance.agi.handlers import prompt_record
from appliance.db import models as m
from appliance.services.config import ConfigService
from appliance.services.prompt_phone import PhoneRecorder
from appliance.services.prompts import PromptFiles, PromptService
from appliance.services.users import UserService

UNIQUEID = "1795443674.7"


class Session:
    def __init__(self):
        self.variables = {}

    def set_variable(self, name, value):
        self.variables[name] = value


def wav(amplitude: float, seconds: float = 1.0) -> bytes:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(b"".join(struct.pack("<h", int(amplitude * 32767 * math.sin(i / 3)))
                               for i in range(int(8000 * seconds))))
    return buf.getvalue()


@pytest.fixture
def recorder(db, tmp_path):
    config = ConfigService(db)
    for ext in ("1001", "1002"):
        config.create("phones", {"extension": ext, "secret": f"pw-{ext}-secret"}, actor="t")
    users = UserService(db)
    users.create("boss", "pw-boss-12345", "admin", language="en")
    users.create("alice", "pw-alice-1234", "agent", language="zh_CN")
    config.create("agents", {"number": "7", "name": "Boss", "phone": "1001", "user": "boss"}, actor="t")
    config.create("agents", {"number": "8", "name": "Alice", "phone": "1002", "user": "alice"}, actor="t")
    prompts = PromptService(db, config, PromptFiles(tmp_path / "prompts", "/appliance/lib/prompts"))
    return PhoneRecorder(prompts, tmp_path / "spool", "/appliance/spool")


def run(recorder, *args, phone="1001"):
    session = Session()
    request = SimpleNamespace(args=list(args), channel=f"PJSIP/{phone}-0000002a", callerid=phone, uniqueid=UNIQUEID)
    prompt_record.make_handler(recorder, "/appliance/lib/sounds")(session, request)
    return session.variables


def test_only_a_phone_whose_agent_is_an_admin_may_record(recorder):
    assert run(recorder, "start", phone="1002") == {v.RESULT: "prompt_record.not_allowed"}
    assert run(recorder, "start", phone="1009")[v.RESULT] == "prompt_record.not_allowed"  # nobody's phone
    assert run(recorder, "start") == {v.LANGUAGE: "en", v.RESULT: "ok"}  # in the admin's language


def test_the_number_names_an_uploaded_prompt_or_a_new_one(recorder):
    recorder.prompts.upload({"name": "greeting"}, wav(0.3), actor="t")
    greeting = m.Prompt.get(m.Prompt.name == "greeting")
    builtin = m.Prompt.get(m.Prompt.name == "zh-welcome")
    out = run(recorder, "number", str(greeting.id), "OK")
    assert out[v.RESULT] == "ok" and out[v.PROMPT_NUMBER] == str(greeting.id)
    assert out[v.PROMPT_TAKE] == f"/appliance/spool/prompt-record/{UNIQUEID}-take"
    assert run(recorder, "number", "", "OK")[v.PROMPT_NUMBER] == ""  # only #: a new prompt
    assert run(recorder, "number", "", "TIMEOUT")[v.RESULT] == "prompt_record.no_number"
    assert run(recorder, "number", str(builtin.id), "OK")[v.RESULT] == "prompts.not_recordable"
    assert run(recorder, "number", "999", "OK")[v.RESULT] == "prompts.not_recordable"


def test_a_take_is_checked_like_an_upload_then_kept(recorder, tmp_path):
    take = tmp_path / "spool" / "prompt-record" / f"{UNIQUEID}-take.wav"
    assert run(recorder, "take")[v.RESULT] == "prompt.empty"  # the caller hung up before recording
    run(recorder, "start")
    take.write_bytes(wav(0.0))
    assert run(recorder, "take")[v.RESULT] == "prompt.silent"
    take.write_bytes(wav(0.05, seconds=2.0))
    out = run(recorder, "take")
    assert out[v.RESULT] == "ok" and out[v.PROMPT_DRAFT] == f"/appliance/spool/prompt-record/{UNIQUEID}-draft"
    out = run(recorder, "keep", "")
    prompt = m.Prompt.get(m.Prompt.name.startswith("recorded-"))
    assert out[v.PROMPT_SAVED] == "&".join(["/appliance/lib/sounds/en/cc-rec-saved",
                                            *(f"digits/{d}" for d in str(prompt.id))])
    assert prompt.peak_dbfs == pytest.approx(-3.0, abs=0.5) and prompt.duration_seconds == 2.0  # raised
    assert not list((tmp_path / "spool" / "prompt-record").iterdir())
