"""Voice menus: the pure step function and checks, the menu and prompt services against
real SQLite, prompt conversion, and the survey result in the live state."""

from __future__ import annotations

import dataclasses
import io
import math
import struct
import wave

import pytest

from appliance import dialplan_vars as v
from appliance.db import models as m
from appliance.engine import menus as e
from appliance.engine.live import LiveState, Publish, QueuePolicy, WriteCallRecord
from appliance.errors import Conflict, ValidationError
from appliance.prompts import PromptError, convert_wav
from appliance.services.config import ConfigService
from appliance.services.menus import MenuService
from appliance.services.prompts import PromptFiles, PromptService

A = e.Action


def left(*args, **kwargs):
    """Leaving a menu: what the caller hears next speaks the menu's language (zh_CN by default)."""
    return e.Leave(*args, language="zh_CN", **kwargs)


def table(**menus):
    base = {
        "main": e.Menu("main", ("hello",), {"1": A("menu", "sales-menu"), "2": A("queue", "support"),
                                            "3": A("directory"), "7": A("voicemail", "sales"), "9": A("hangup"),
                                            "0": A("repeat"), "#": A("agent")},
                       max_tries=2, on_invalid=A("queue", "support"), on_timeout=A("queue", "support")),
        "sales-menu": e.Menu("sales-menu", ("sales",), {"1": A("queue", "sales"), "*": A("menu", "main")},
                             on_timeout=A("hangup")),
    }
    base.update(menus)
    return e.MenuTable(menus=base, queues=frozenset({"sales", "support"}), agents={"1001": "sales", "1002": ""},
                       phones=frozenset({"1001"}))


# -- the step function -----------------------------------------------------------------
def test_entering_a_menu_reads_one_key_after_its_greeting():
    read = e.enter(table(), "main")
    assert read == e.Read("main", "menu", 0, 1, ("hello",), 1, 5)


def test_two_levels_down_to_a_queue():
    t = table()
    sub = e.step(t, "main", "menu", 0, 1, "1")
    assert isinstance(sub, e.Read) and sub.menu == "sales-menu" and sub.hops == 2 and sub.prompt == ("sales",)
    leave = e.step(t, sub.menu, sub.mode, sub.tries, sub.hops, "1")
    assert leave == left(v.QUEUE_CONTEXT, "sales", variables={v.THEN_QUEUE: "sales"})


def test_a_wrong_key_says_so_and_asks_again_then_takes_the_invalid_action():
    t = table()
    again = e.step(t, "main", "menu", 0, 1, "5")
    assert again.prompt == ("pm-invalid-option", "hello") and again.tries == 1
    assert e.step(t, "main", "menu", 1, 1, "5") == left(v.QUEUE_CONTEXT, "support",
                                                           variables={v.THEN_QUEUE: "support"})


def test_no_key_repeats_the_greeting_then_takes_the_timeout_action():
    t = table()
    again = e.step(t, "main", "menu", 0, 1, "")
    assert again.prompt == ("hello",) and again.tries == 1
    assert e.step(t, "main", "menu", 1, 1, "").context == v.QUEUE_CONTEXT
    assert e.step(t, "sales-menu", "menu", 2, 1, "") == left(v.MENU_END_CONTEXT, v.MENU_GOODBYE_EXTEN)


def test_repeat_hangup_voicemail_and_back_to_the_transferring_agent():
    t = table()
    assert e.step(t, "main", "menu", 1, 1, "0").prompt == ("hello",)
    assert e.step(t, "main", "menu", 0, 1, "9").context == v.MENU_END_CONTEXT
    assert e.step(t, "main", "menu", 0, 1, "7") == left(v.VOICEMAIL_CONTEXT, "sales",
                                                           variables={v.VOICEMAIL_REASON: "menu"})
    assert e.step(t, "main", "menu", 0, 1, "#", back_agent="1001") == left(
        v.DIRECTORY_CONTEXT, "1001", variables={v.THEN_QUEUE: "sales"})
    assert e.step(t, "main", "menu", 0, 1, "#").reason == "menu-no-agent"  # nobody transferred this caller


def test_company_directory_by_work_number():
    t = table()
    ask = e.step(t, "main", "menu", 0, 1, "3")
    assert (ask.mode, ask.max_digits, ask.prompt) == ("directory:3", e.MAX_WORK_NUMBER, ("vm-enter-num-to-call",))
    assert e.step(t, "main", ask.mode, 0, 1, "1001#") == left(v.DIRECTORY_CONTEXT, "1001",
                                                                  variables={v.THEN_QUEUE: "sales"})
    wrong = e.step(t, "main", ask.mode, 0, 1, "4444")
    assert wrong.prompt == ("pm-invalid-option", "vm-enter-num-to-call") and wrong.tries == 1
    assert e.step(t, "main", ask.mode, 1, 1, "4444").context == v.QUEUE_CONTEXT  # the invalid action


def test_anything_missing_sends_the_caller_to_the_fallback_never_silence():
    t = table(broken=e.Menu("broken", ("x",), {"1": A("queue", "gone")}))
    assert e.step(t, "broken", "menu", 0, 1, "1").reason == "menu-no-queue"
    assert e.enter(t, "nope").reason == "menu-unavailable"
    assert e.enter(t, "main", hops=e.MAX_HOPS).reason == "menu-loop"


def test_the_sentences_around_a_menu_speak_its_language():
    said = {"zh_CN": e.Prompts(invalid=("zh/invalid",), timeout=("zh/timeout",), directory=("zh/dir",)),
            "en": e.Prompts(invalid=("en/invalid",), timeout=("en/timeout",), directory=("en/dir",))}
    t = dataclasses.replace(table(english=e.Menu("english", ("hi",), {"3": A("directory")}, language="en",
                                                 on_timeout=A("hangup"))), prompts=said)
    assert e.enter(t, "main").language == "zh_CN" and e.enter(t, "english").language == "en"
    assert e.step(t, "main", "menu", 0, 1, "5").prompt == ("zh/invalid", "hello")
    assert e.step(t, "main", "menu", 0, 1, "").prompt == ("zh/timeout", "hello")  # no key: said so, then again
    assert e.step(t, "english", "menu", 0, 1, "5").prompt == ("en/invalid", "hi")
    assert e.step(t, "english", "menu", 0, 1, "3").prompt == ("en/dir",)
    assert e.step(t, "english", "directory:3", 0, 1, "").prompt == ("en/timeout", "en/dir")
    assert e.step(t, "english", "menu", 2, 1, "").language == "en"  # leaving: goodbye in English
    assert e.step(t, "main", "menu", 0, 1, "9").language == "zh_CN"
    assert e.enter(t, "nowhere").language == ""  # the fallback keeps the call's language


def test_a_skipped_menu_passes_callers_straight_on():
    t = table(holiday=e.Menu("holiday", ("closed",), skip=True, on_timeout=A("menu", "main")))
    assert e.enter(t, "holiday").menu == "main"


# -- checks ------------------------------------------------------------------------------
def check(**menus):
    return e.check(menus, {"sales"}, {"1001"}, {"1001"})


def test_options_pointing_at_nothing_are_found():
    found = check(main=e.Menu("main", (), {"1": A("queue", "gone"), "2": A("menu", "nowhere"),
                                           "3": A("extension", "9999"), "4": A("menu")}))
    assert found == {"main": ["key 1: no queue 'gone'", "key 2: no menu 'nowhere'", "key 3: no extension '9999'",
                              "key 4: menu: which menu?"]}


def test_a_circle_a_silent_caller_cannot_leave_is_refused_one_with_an_exit_is_not():
    found = check(a=e.Menu("a", (), {"1": A("queue", "sales")}, on_timeout=A("menu", "b")),
                  b=e.Menu("b", (), on_timeout=A("menu", "a")))
    assert "a caller who presses nothing would go round for ever: a > b > a" in found["a"]
    # keys may lead round in circles (the caller chooses); nested to any depth and reused
    assert check(a=e.Menu("a", (), {"1": A("menu", "b"), "2": A("menu", "c")}),
                 b=e.Menu("b", (), {"1": A("menu", "c"), "*": A("menu", "a")}),
                 c=e.Menu("c", (), {"*": A("menu", "a"), "1": A("queue", "sales")})) == {}


def test_the_tree_marks_menus_met_again():
    t = table()
    tree = e.tree(t.menus, "main")
    sub = next(s for s in tree["steps"] if s["key"] == "1")["next"]
    assert sub["menu"] == "sales-menu"
    assert next(s for s in sub["steps"] if s["key"] == "*")["next"] == {"menu": "main", "again": True}


# -- services ----------------------------------------------------------------------------
@pytest.fixture
def services(db, tmp_path):
    config = ConfigService(db)
    files = PromptFiles(tmp_path / "prompts", "/appliance/lib/prompts", None)
    config.create("queues", {"name": "sales"}, actor="t")
    config.create("phones", {"extension": "1001", "secret": "s3cret-pass"}, actor="t")
    config.create("agents", {"number": "1001", "name": "Alice", "phone": "1001"}, actor="t")
    return config, MenuService(db, config, files), PromptService(db, config, files)


def wav_bytes(seconds=1.0, rate=44100, channels=2, amplitude=0.5, width=2):
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(width)
        w.setframerate(rate)
        frames = []
        for i in range(int(seconds * rate)):
            s = int(amplitude * 32767 * math.sin(2 * math.pi * 440 * i / rate))
            frames.append(struct.pack("<" + "h" * channels, *([s] * channels)))
        w.writeframes(b"".join(frames))
    return buf.getvalue()


def test_menu_saved_with_options_audited_and_checked(services):
    config, menus, _ = services
    menu = menus.create({"name": "main", "prompt": "en-hello", "options": [
        {"digit": "1", "action": "queue", "target": "sales"}, {"digit": "#", "action": "hangup"}],
        "live": True}, actor="admin")
    assert [o["digit"] for o in menu["options"]] == ["1", "#"] and menu["live"] and menu["problems"] == []
    assert m.AuditLog.select().where(m.AuditLog.object_type == "menus").count() == 1
    with pytest.raises(ValidationError, match="no queue 'gone'"):
        menus.set_option("main", "2", {"action": "queue", "target": "gone"}, actor="admin")
    with pytest.raises(ValidationError, match="key 1 is used twice"):
        menus.update("main", {"options": [{"digit": "1", "action": "hangup"}, {"digit": "1", "action": "hangup"}]},
                     actor="admin")
    assert [o["digit"] for o in menus.get("main")["options"]] == ["1", "#"]  # nothing half-saved


def test_a_referenced_queue_cannot_be_deleted_or_renamed(services):
    config, menus, _ = services
    menus.create({"name": "main", "prompt": "en-hello", "options": [{"digit": "1", "action": "queue",
                                                                     "target": "sales"}]}, actor="admin")
    with pytest.raises(Conflict, match="menu main"):
        config.delete("queues", "sales", actor="admin")
    with pytest.raises(Conflict):
        config.update("queues", "sales", {"name": "sales2"}, actor="admin")


def test_dids_lead_only_into_live_menus_and_a_live_menu_needs_its_prompt(services, tmp_path):
    config, menus, prompts = services
    menus.create({"name": "main", "options": [{"digit": "1", "action": "queue", "target": "sales"}]}, actor="a")
    with pytest.raises(ValidationError, match="not live"):
        config.create("dids", {"number": "88001000", "menu": "main"}, actor="a")
    with pytest.raises(ValidationError, match="no greeting prompt"):
        menus.update("main", {"live": True}, actor="a")
    prompts.upload({"name": "welcome"}, wav_bytes(), actor="a")
    menus.update("main", {"prompt": "welcome", "live": True}, actor="a")
    did = config.create("dids", {"number": "88001000", "menu": "main", "time_condition": None}, actor="a")
    assert did["menu"] == "main" and m.Did.get().dest_type == "menu"
    assert menus.get("main")["leads_in"]["dids"] == [{"did": "88001000", "when": "always", "time_condition": None}]
    # a second number goes to the sales queue in opening hours and into this menu after them
    config.create("time_conditions", {"name": "office", "schedule": "mon-fri 09:00-18:00"}, actor="a")
    config.create("dids", {"number": "88002000", "queue": "sales", "time_condition": "office",
                           "after_hours_menu": "main"}, actor="a")
    assert menus.get("main")["leads_in"]["dids"] == [
        {"did": "88001000", "when": "always", "time_condition": None},
        {"did": "88002000", "when": "closed", "time_condition": "office"}]
    with pytest.raises(ValidationError, match="must stay live"):
        menus.update("main", {"live": False}, actor="a")
    with pytest.raises(Conflict, match="DID 88001000"):
        menus.delete("main", actor="a")
    with pytest.raises(Conflict, match="menu main"):
        prompts.delete("welcome", actor="a")
    # the audio vanished behind our back: the menu reports it
    (tmp_path / "prompts" / "welcome.wav").unlink()
    assert any("audio is missing" in p for p in menus.get("main")["problems"])


# -- prompts -----------------------------------------------------------------------------
def test_a_stereo_44k_wav_becomes_8k_mono_at_the_same_length():
    out = convert_wav(wav_bytes(seconds=1.0, rate=44100, channels=2))
    with wave.open(io.BytesIO(out.wav)) as w:
        assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (8000, 1, 2)
        assert abs(w.getnframes() - 8000) <= 2
    assert (out.source_rate, out.source_channels, out.gain_db) == (44100, 2, 0.0)
    assert -7.5 < out.peak_dbfs < -5.0  # a 440 Hz tone at half scale keeps its level


def test_a_quiet_recording_is_raised_a_silent_or_broken_one_refused():
    quiet = convert_wav(wav_bytes(seconds=0.5, rate=8000, channels=1, amplitude=0.05))
    assert quiet.gain_db > 20 and quiet.peak_dbfs == pytest.approx(-3.0, abs=0.5)
    with pytest.raises(PromptError) as silent:
        convert_wav(wav_bytes(seconds=1.0, rate=8000, channels=1, amplitude=0.0))
    assert silent.value.code == "prompt.silent"
    for data, code in ((b"RIFF\x00\x00\x00\x00WAVEjunk", "prompt.corrupt"), (b"hello world", "prompt.corrupt"),
                       (b"ID3\x04\x00" + b"\x00" * 100, "prompt.mp3_unsupported"),
                       (wav_bytes(seconds=1.0)[:5000], "prompt.corrupt"),
                       (wav_bytes(seconds=0.05, rate=8000, channels=1), "prompt.too_short")):
        with pytest.raises(PromptError) as exc:
            convert_wav(data)
        assert exc.value.code == code, data[:12]


def test_an_upload_refused_leaves_nothing_behind(services, tmp_path):
    _, _, prompts = services
    with pytest.raises(ValidationError) as exc:
        prompts.upload({"name": "blank"}, wav_bytes(amplitude=0.0, rate=8000, channels=1), actor="a")
    assert exc.value.code == "prompt.silent"
    assert not m.Prompt.select().where(m.Prompt.name == "blank").exists()
    assert not list((tmp_path / "prompts").glob("*")) if (tmp_path / "prompts").exists() else True


# -- survey in the live state -----------------------------------------------------------
def survey_call(score):
    lid = "1700000000.1"
    live = LiveState()
    live.set_policies({"sales": QueuePolicy(survey_low_score=2)})
    live.apply({"Event": "Newchannel", "Channel": "PJSIP/trunk-pstn-1", "Uniqueid": lid, "Linkedid": lid,
                "CallerIDNum": "13900000001", "Exten": "88001000", "Context": "cc-from-trunk"}, 100)
    live.apply({"Event": "AgentConnect", "Uniqueid": lid, "Linkedid": lid, "Queue": "sales", "MemberName": "1001",
                "Interface": "PJSIP/1001", "DestChannel": "PJSIP/1001-2"}, 101)
    out = live.apply({"Event": "UserEvent", "UserEvent": v.SURVEY_EVENT, "Uniqueid": lid, "Linkedid": lid,
                      "Queue": "sales", "Score": score}, 110)
    end = live.apply({"Event": "Hangup", "Uniqueid": lid, "Linkedid": lid, "Channel": "PJSIP/trunk-pstn-1"}, 115)
    return out, next(c.record for c in end if isinstance(c, WriteCallRecord))


def test_the_rating_goes_on_the_call_record_with_its_agent_and_a_low_one_raises_an_event():
    out, record = survey_call("1")
    assert (record["survey"], record["survey_score"], record["agent"]) == ("rated", 1, "1001")
    low = [c for c in out if isinstance(c, Publish) and c.topic == "survey"]
    assert low and low[0].data["event"] == "low_score" and low[0].data["agent"] == "1001"
    out, record = survey_call("5")
    assert record["survey_score"] == 5 and not [c for c in out if c.topic == "survey"]
    out, record = survey_call("")
    assert (record["survey"], record["survey_score"]) == ("no-answer", None)


def test_menus_leading_to_each_other_go_live_together(services):
    _, menus, _ = services
    menus.create({"name": "ping", "prompt": "en-hello"}, actor="a")
    menus.create({"name": "pong", "prompt": "en-hello", "live": True,
                  "options": [{"digit": "1", "action": "menu", "target": "ping"}]}, actor="a")
    assert menus.get("ping")["live"]  # taken along: it was ready
    menus.update("ping", {"options": [{"digit": "1", "action": "menu", "target": "pong"}]}, actor="a")
    menus.create({"name": "draft"}, actor="a")  # no prompt: not ready
    with pytest.raises(ValidationError, match="draft"):
        menus.update("pong", {"options": [{"digit": "2", "action": "menu", "target": "draft"}]}, actor="a")
    assert not menus.get("draft")["live"]  # the refused change took nothing along


def test_the_fax_key_or_a_silent_fax_machine_goes_to_the_fax_receiver():
    t = table(fax=e.Menu("fax", ("hello",), {"5": A("fax")}, max_tries=1, on_timeout=A("fax")))
    assert e.step(t, "fax", "menu", 0, 1, "5") == left(v.FAX_CONTEXT, v.FAX_CALLER_EXTEN)
    assert e.step(t, "fax", "menu", 0, 1, "") == left(v.FAX_CONTEXT, v.FAX_CALLER_EXTEN)  # a machine presses nothing
