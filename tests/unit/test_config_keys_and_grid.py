"""Display names and the keys made from them, the opening-hours grid and its text, and the
choices a form offers from what exists (pure functions, then the store on real SQLite)."""

from __future__ import annotations

import pytest

from appliance.engine.schedule import ScheduleError, from_grid, parse, to_grid
from appliance.errors import ValidationError
from appliance.services.config import COMMON_TIMEZONES, ConfigService, derive_key, music_classes, timezones


@pytest.mark.parametrize("display, taken, expected", [
    ("中国电信", (), "trunk-1"),
    ("中国电信", ("trunk-1", "trunk-2"), "trunk-3"),
    ("China Telecom 中国电信", (), "china-telecom"),
    ("Café Müller", (), "cafe-muller"),
    ("Sales", ("sales",), "sales-2"),
    ("Sales", ("sales", "sales-2"), "sales-3"),
    ("400 热线", (), "trunk-1"),  # digits alone cannot start a key
    ("2nd floor", (), "nd-floor"),
    ("s", (), "trunk-1"),  # a name the dialplan keeps for itself
    ("CC-Internal", (), "trunk-1"),  # the appliance's own prefix
    ("a" * 60, (), "a" * 28),
])
def test_a_key_is_made_from_the_display_name(display, taken, expected):
    assert derive_key(display, "trunk", lambda key: key in taken) == expected


def test_the_grid_is_stored_as_the_text_people_write():
    nine_to_six = [["09:00", "18:00"], ["", ""]]
    grid = {**{d: nine_to_six for d in ("mon", "tue", "wed", "thu", "fri")},
            "sat": [["13:00", "17:00"], ["09:00", "12:00"]], "sun": [["", ""]]}
    text = from_grid(grid)
    assert text == "mon-fri 09:00-18:00; sat 09:00-12:00,13:00-17:00"
    assert to_grid(text)["sat"] == [("09:00", "12:00"), ("13:00", "17:00")] and to_grid(text)["sun"] == []
    assert from_grid(to_grid(text)) == text
    assert from_grid({"wed": [["20:00", "00:00"]]}) == "wed 20:00-24:00"  # midnight ends the day
    assert to_grid("daily 00:00-24:00")["sun"] == [("00:00", "00:00")]
    assert from_grid(to_grid("daily 00:00-24:00")) == "mon-sun 00:00-24:00"
    assert parse(from_grid(to_grid("mon 08:00-12:00, 13:00-17:30; fri 09:00-12:00"))) == \
        parse("mon 08:00-12:00, 13:00-17:30; fri 09:00-12:00")


@pytest.mark.parametrize("grid, msgid", [
    ({"mon": [["09:00", ""]]}, "config.schedule_incomplete"),
    ({"mon": [["18:00", "09:00"]]}, "schedule.backwards_hours"),
    ({"mon": [["9", "18:00"]]}, "config.schedule_bad_time"),
    ({"mon": [["", ""]]}, "config.schedule_no_hours"),
    ({"monday": [["09:00", "18:00"]]}, "config.schedule_grid"),
    ({"mon": [["09:00"]]}, "config.schedule_grid"),
])
def test_a_wrong_grid_says_what_is_wrong(grid, msgid):
    with pytest.raises(ScheduleError) as caught:
        from_grid(grid)
    assert caught.value.args[0].msgid == msgid


def test_time_zones_come_from_zoneinfo_with_chinas_first():
    zones = timezones()
    assert zones[:len(COMMON_TIMEZONES)] == list(COMMON_TIMEZONES)
    assert "Europe/Paris" in zones and len(zones) == len(set(zones)) > 300
    assert music_classes() == ["default"]  # the agents' silence is not hold music


def test_the_store_makes_keys_and_offers_what_exists(db):
    cfg = ConfigService(db)
    made = cfg.create("trunks", {"display_name": "中国电信", "host": "192.0.2.1"}, actor="t")
    assert (made["name"], made["display_name"]) == ("trunk-1", "中国电信")
    assert cfg.create("trunks", {"display_name": "中国联通", "host": "192.0.2.2"}, actor="t")["name"] == "trunk-2"
    assert cfg.create("trunks", {"name": "cmcc", "host": "192.0.2.3"}, actor="t")["display_name"] == ""
    with pytest.raises(ValidationError) as caught:
        cfg.create("trunks", {"host": "192.0.2.4"}, actor="t")
    assert caught.value.fields["name"].msgid == "config.name_or_display_name"
    with pytest.raises(ValidationError) as caught:
        cfg.update("trunks", "cmcc", {"name": ""}, actor="t")
    assert caught.value.fields["name"].msgid == "field.required"

    hours = cfg.create("time_conditions", {"display_name": "工作时间", "schedule": {
        "mon": [["09:00", "12:00"], ["13:00", "18:00"]], "tue": [["09:00", "12:00"], ["13:00", "18:00"]]}}, actor="t")
    assert (hours["name"], hours["schedule"]) == ("hours-1", "mon-tue 09:00-12:00,13:00-18:00")
    with pytest.raises(ValidationError) as caught:
        cfg.update("time_conditions", "hours-1", {"schedule": {"mon": [["09:00", ""]]}}, actor="t")
    assert caught.value.fields["schedule"].msgid == "config.schedule_incomplete"
    with pytest.raises(ValidationError) as caught:
        cfg.update("time_conditions", "hours-1", {"timezone": "Mars/Olympus"}, actor="t")
    assert caught.value.fields["timezone"].msgid == "field.timezone"

    cfg.create("queues", {"display_name": "售后服务"}, actor="t")
    with pytest.raises(ValidationError) as caught:
        cfg.update("queues", "queue-1", {"musicclass": "jazz"}, actor="t")
    assert caught.value.fields["musicclass"].msgid == "field.choice"
    with pytest.raises(ValidationError) as caught:
        cfg.update("trunks", "cmcc", {"codecs": "alaw,mp3"}, actor="t")
    assert caught.value.fields["codecs"].msgid == "field.list"

    choices = cfg.choices(cfg.fields("dids") + cfg.fields("queues") + cfg.fields("time_conditions"))
    assert choices["trunk"] == [("cmcc", "cmcc", ""), ("trunk-1", "中国电信", ""), ("trunk-2", "中国联通", "")]
    assert choices["queue"] == [("queue-1", "售后服务", "")]
    assert choices["time_condition"] == [("hours-1", "工作时间", "")]
    assert choices["musicclass"] == [("default", "default", "")]
    assert choices["timezone"][0] == ("Asia/Shanghai", "Asia/Shanghai", "common")
    assert ("en-welcome", "common", "") not in choices["survey_prompt"]
    assert {value for value, _, _ in choices["survey_prompt"]} >= {"en-welcome"}
    targets = cfg.choices(cfg.fields("menus"))["timeout_target"]
    assert ("queue-1", "售后服务", "queue") in targets and ("queue-1", "售后服务", "voicemail") in targets


# The PCM sox 14.4 (libgsm, the reference decoder Asterisk uses too) gives for two of our
# sentences, by SHA-256: ours must be the same samples.
LIBGSM_PCM = {"zh_CN/cc-welcome": "9f7765ec7ae597decb936056e81277c5cc52ff1397f134799b69ea77b37e2b80",
              "en/cc-rec-bad": "9c5c48064e6412cabc7330914a802ae6ef56d2e98be14ef8e808e4d6f9705c05"}


@pytest.mark.parametrize("sound", sorted(LIBGSM_PCM))
def test_a_gsm_sound_decodes_to_the_samples_libgsm_gives(sound):
    import hashlib

    from appliance import gsm610, sounds

    data = (sounds.SOURCE_DIR / f"{sound}.gsm").read_bytes()
    pcm = gsm610.decode(data)
    assert len(pcm) == len(data) // gsm610.FRAME_BYTES * gsm610.SAMPLES * 2
    assert hashlib.sha256(pcm).hexdigest() == LIBGSM_PCM[sound]
    with pytest.raises(gsm610.GsmError):
        gsm610.decode(b"RIFF" + bytes(40))


def test_a_prompt_is_served_as_audio_a_browser_plays(db, tmp_path):
    import io
    import wave

    from appliance.errors import NotFound
    from appliance.services.prompts import PromptFiles, PromptService
    from wavfiles import write_wav

    prompts = PromptService(db, ConfigService(db), PromptFiles(tmp_path / "prompts", "/p", None))
    made = prompts.upload({"display_name": "欢迎词"}, write_wav(tmp_path / "in.wav", 1.0).read_bytes(), actor="t")
    assert (made["name"], made["display_name"]) == ("prompt-1", "欢迎词")
    assert prompts.audio("prompt-1") == tmp_path / "prompts" / "prompt-1.wav"
    builtin = prompts.audio("zh-welcome")  # ours, stored as GSM: decoded to a WAV
    with wave.open(io.BytesIO(builtin)) as f:
        assert (f.getframerate(), f.getnchannels(), f.getsampwidth()) == (8000, 1, 2) and f.getnframes() > 8000
    with pytest.raises(NotFound) as caught:
        prompts.audio("en-hello")  # a core sound, with no sounds folder here
    assert caught.value.code == "prompt.file_missing"
