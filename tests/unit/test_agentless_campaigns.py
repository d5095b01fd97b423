"""Campaigns without agents and answering-machine detection (issue 16, points 4 and 5): the
values said (numbers, dates, amounts, digits in Chinese and English), the decisions after
AMD and a key, the settings each mode needs (refused with the field that is wrong), what
FastAGI ``campaign`` tells the dialplan and keeps on the attempt (and the bus), the export,
and the page: the modes chosen with their settings, in both languages, and a campaign
waiting for its start time saying so."""

from __future__ import annotations

import datetime as dt
import io
import json
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import webtest
from openpyxl import load_workbook
from test_campaigns import T0, Clock, sheet_of
from test_webui import env, seed_agents, session_for, token_for  # noqa: F401  (env is a fixture)

from appliance import dialplan_vars as v
from appliance import sounds
from appliance.agi.handlers import campaign as campaign_agi
from appliance.db import models as m
from appliance.engine import agentless as rules
from appliance.engine.saying import Unsayable, say
from appliance.errors import Conflict, NotFound, ValidationError
from appliance.services.agentless import AgentlessCalls
from appliance.services.calllists import CallLists
from appliance.services.campaigns import Campaigns
from appliance.services.prompts import PromptFiles
from webui.app import make_app


# -- what is said ------------------------------------------------------------------------------
def zh(value, how):
    words = {f"digit-{d}": c for d, c in enumerate("零一二三四五六七八九")}
    words.update({"say-liang": "两", "say-ten": "十", "say-hundred": "百", "say-thousand": "千", "say-wan": "万", "say-yi": "亿",
                  "say-point": "点", "say-minus": "负", "say-year": "年", "say-month": "月", "say-day": "日",
                  "say-yuan": "元", "say-jiao": "角", "say-fen": "分"})
    return "".join(words[p] for p in say(value, how, "zh_CN"))


@pytest.mark.parametrize("value, how, said", [
    (0, "number", "零"), (10, "number", "十"), (15, "number", "十五"), (110, "number", "一百一十"),
    (2, "number", "二"), (22, "number", "二十二"), (200, "number", "两百"), (2005, "number", "两千零五"),
    (12005, "number", "一万两千零五"), (100000, "number", "十万"), (20000, "number", "两万"),
    (220000000, "number", "两亿两千万"),
    ("1,000,005", "number", "一百万零五"), (100500000, "number", "一亿零五十万"), ("-3.25", "number", "负三点二五"),
    ("120.5", "amount", "一百二十元五角"), ("¥0.05", "amount", "五分"), (3.07, "amount", "三元零七分"),
    (88.0, "amount", "八十八元"), (1200, "amount", "一千两百元"), ("2026-12-06", "date", "二零二六年十二月六日"),
    ("2026-02-22", "date", "二零二六年二月二十二日"), ("2027/1/31", "date", "二零二七年一月三十一日"),
    ("2026-12-06T00:00:00", "date", "二零二六年十二月六日"), (dt.date(2026, 3, 8), "date", "二零二六年三月八日"),
    ("SF 1234-56", "digits", "一二三四五六"),
])
def test_values_are_said_in_chinese(value, how, said):
    assert zh(value, how) == said


def test_values_are_said_in_english_from_asterisks_own_sounds():
    assert say(2026, "number", "en") == ("digits/2", "digits/thousand", "digits/20", "digits/6")
    assert say("115", "number", "en") == ("digits/1", "digits/hundred", "digits/15")
    assert say("2026-12-21", "date", "en") == ("digits/mon-11", "digits/20", "digits/h-1", "digits/2",
                                              "digits/thousand", "digits/20", "digits/6")
    assert say("12.50", "amount", "en") == ("digits/12", "say-yuan", "digits/50", "say-fen")
    assert say("07", "digits", "en") == ("digit-0", "digit-7")


@pytest.mark.parametrize("value, how", [("abc", "number"), ("2026-02-30", "date"), ("12.345", "amount"),
                                        ("", "digits"), (None, "number"), (10 ** 12, "number"), ("1", "spell")])
def test_values_that_cannot_be_said_so_are_refused(value, how):
    with pytest.raises(Unsayable):
        say(value, how, "zh_CN")


# -- decisions -------------------------------------------------------------------------------------
def test_after_amd_a_person_goes_on_and_a_machine_gets_the_campaigns_choice():
    assert [rules.amd_result(s) for s in ("MACHINE", "HUMAN", "NOTSURE", "HANGUP", "")] == [
        "machine", "human", "notsure", "hangup", "notsure"]
    assert rules.after_amd("human", "hangup") == rules.after_amd("notsure", "hangup") == "go"
    assert [rules.after_amd("machine", a) for a in ("hangup", "message", "agent", "?")] == [
        "hangup", "message", "agent", "hangup"]
    # four words allowed (喂，你好？ is three to AMD, and a person), in Asterisk's order of arguments
    assert rules.DEFAULT_AMD.arguments() == "2500,1500,800,5000,100,50,4,256,5000"


def test_the_key_sends_to_the_queue_and_anything_else_hears_the_message_once_more():
    assert rules.after_key("1", "1", 1) == "queue"
    assert rules.after_key("2", "1", 1) == rules.after_key("", "1", 1) == "again"
    assert rules.after_key("", "1", 2) == "bye"
    assert rules.record_answer([], 2, "5") == ["", "5"]
    assert rules.record_answer(["3"], 1, "#") == [""]


# -- the campaign's settings -------------------------------------------------------------------------
@pytest.fixture
def office(env, tmp_path):  # noqa: F811
    seed_agents(env.deps.config)
    env.clock = Clock()
    env.lists = env.deps.call_lists = CallLists(env.db, env.deps.customer_excel)
    env.campaigns = env.deps.campaigns = Campaigns(env.db, None, env.deps.crm, env.deps.bus,
                                                   zone=lambda: ZoneInfo("Asia/Shanghai"), clock=env.clock)
    env.app = webtest.TestApp(make_app(env.deps))
    core = tmp_path / "core"  # Asterisk's English sounds: a stand-in whose bytes say which file
    for name in ("digits/1", "digits/2", "digits/20", "digits/thousand", "digits/hundred", "digits/10"):
        (core / name).parent.mkdir(parents=True, exist_ok=True)
        (core / f"{name}.gsm").write_bytes(name.encode().ljust(66, b"."))
    env.files = PromptFiles(tmp_path / "prompts", "/ast/prompts", core, builtin_asterisk_dir="/ast/sounds")
    env.calls = AgentlessCalls(env.db, env.files, audio_dir=tmp_path / "run", asterisk_audio_dir="/ast/run/",
                               bus=env.deps.bus, clock=env.clock)
    return env


def entry_of(env, data: dict, name="spring") -> m.CallListEntry:
    list_id = env.lists.create({"name": name}, "admin")["id"]
    rows = [["手机", "姓名", *data]] + [["13912340001", "张三", *data.values()]]
    env.lists.import_sheet(sheet_of(env, rows), list_id, 0, 1, actor="admin", source="t.xlsx")
    return m.CallListEntry.get(m.CallListEntry.call_list == list_id)


def attempt_in(env, data: dict, **settings) -> tuple[dict, m.CampaignAttempt]:
    entry = entry_of(env, data)
    c = env.campaigns.create({"name": "notice", "lists": [entry.call_list_id], **settings}, "admin")
    return c, m.CampaignAttempt.create(campaign=c["id"], entry=entry.id, agent="", number=entry.number, started_at=T0)


def refused(env, data: dict) -> str:
    with pytest.raises(ValidationError) as caught:
        env.campaigns.create({"name": "x", **data}, "admin")
    [(field, error)] = caught.value.fields.items()
    return f"{field}: {error.msgid}"


def test_each_mode_is_refused_without_what_it_needs(office):
    assert refused(office, {"mode": "notification"}) == "prompt: campaigns.agentless.field.prompt_needed"
    assert refused(office, {"mode": "press-key", "prompt": "zh-welcome"}) == \
        "queue: campaigns.agentless.field.queue_needed"
    assert refused(office, {"mode": "survey"}) == "questions: campaigns.agentless.field.questions_needed"
    assert refused(office, {"mode": "notification", "prompt": "nope"}) == "prompt: field.no_such"
    assert refused(office, {"mode": "survey", "questions": ["zh-survey", "nope"]}) == "questions: field.no_such"
    assert refused(office, {"questions": [5]}) == "questions: campaigns.agentless.field.questions"
    assert refused(office, {"press_key": "#"}) == "press_key: campaigns.agentless.field.press_key"
    assert refused(office, {"spoken": [{"column": "金额", "as": "money"}]}) == \
        "spoken: campaigns.agentless.field.spoken"
    assert refused(office, {"spoken": [{"column": "a", "as": "number"}] * 6}) == \
        "spoken: campaigns.agentless.field.spoken"
    assert refused(office, {"amd": True, "amd_action": "message"}) == \
        "amd_action: campaigns.agentless.field.message_needs_prompt"
    assert refused(office, {"amd": "yes"}) == "amd: field.boolean"
    assert refused(office, {"language": "fr"}) == "language: field.choice"
    assert refused(office, {"mode": "robocall"}) == "mode: field.choice"
    assert not m.Campaign.select().exists()


def test_a_notification_is_saved_with_its_settings_and_starts_without_agents(office):
    entry = entry_of(office, {"金额": "120.5"})
    c = office.campaigns.create({"name": "bill", "mode": "notification", "prompt": "zh-welcome",
                                 "spoken": [{"column": "金额", "as": "amount"}], "amd": True,
                                 "amd_action": "message", "lists": [entry.call_list_id]}, "admin")
    assert (c["mode"], c["prompt"], c["spoken"], c["amd"], c["amd_action"], c["language"]) == (
        "notification", "zh-welcome", [{"column": "金额", "as": "amount"}], True, "message", "zh_CN")
    assert office.campaigns.set_state(c["id"], "running", "admin")["state"] == "running"  # no agents needed
    with pytest.raises(ValidationError):  # a notification without its message
        office.campaigns.update(c["id"], {"prompt": ""}, "admin")
    assert m.Campaign.get_by_id(c["id"]).prompt == "zh-welcome"


# -- what FastAGI campaign says, and keeps -------------------------------------------------------------
class Session:
    def __init__(self):
        self.variables = {}

    def set_variable(self, name, value):
        self.variables[name] = str(value)


class Request:
    def __init__(self, *args):
        self.args = args


def agi(env, *args) -> dict:
    session = Session()
    campaign_agi.make_handler(env.calls)(session, Request(*args))
    return session.variables


def our(language: str, key: str) -> bytes:
    return (sounds.SOURCE_DIR / language / f"cc-{key}.gsm").read_bytes()


def test_a_notification_plays_the_prompt_then_the_columns_said_in_its_language(office):
    c, a = attempt_in(office, {"金额": "120.5", "到期日": "2026-12-06"}, mode="notification", prompt="zh-welcome",
                      spoken=[{"column": "金额", "as": "amount"}, {"column": "到期日", "as": "date"},
                              {"column": "没有", "as": "number"}])
    events = office.deps.bus.subscribe()
    said = agi(office, "message", str(c["id"]), str(a.id))
    assert said[v.RESULT] == "ok" and said[v.LANGUAGE] == "zh_CN"
    prompt, values = said[v.CAMPAIGN_PLAY].split("&")
    assert prompt == "/ast/sounds/zh_CN/cc-welcome"
    assert values.startswith(f"/ast/run/ca-{a.id}-")
    [file] = (office.calls.audio_dir).glob("ca-*.gsm")
    assert file.read_bytes() == b"".join(our("zh_CN", k) for k in (
        "digit-1", "say-hundred", "digit-2", "say-ten", "say-yuan", "digit-5", "say-jiao",  # 一百二十元五角
        "digit-2", "digit-0", "digit-2", "digit-6", "say-year", "say-ten", "digit-2", "say-month", "digit-6",
        "say-day"))  # 二零二六年十二月六日
    assert m.CampaignAttempt.get_by_id(a.id).note == "没有: no value"
    agi(office, "heard", str(c["id"]), str(a.id), "SUCCESS")
    assert m.CampaignAttempt.get_by_id(a.id).heard
    assert not list(office.calls.audio_dir.glob("ca-*.gsm"))  # gone once heard
    assert [e["event"] for t, e in events.drain() if t == "campaign"] == ["heard"]


def test_english_values_come_from_the_core_sounds_and_ours(office):
    c, a = attempt_in(office, {"Amount": 2020, "Code": "12"}, mode="notification", prompt="en-welcome",
                      language="en", spoken=[{"column": "Amount", "as": "number"}, {"column": "Code", "as": "digits"}])
    agi(office, "message", str(c["id"]), str(a.id))
    [file] = office.calls.audio_dir.glob("ca-*.gsm")
    core = office.files.sounds_dir
    assert file.read_bytes() == b"".join((core / f"digits/{n}.gsm").read_bytes() for n in (
        "2", "thousand", "20", "1", "2"))  # two thousand twenty; one, two (English digits are Asterisk's)


def test_press_key_puts_the_callee_into_the_queue_and_keeps_the_key(office):
    c, a = attempt_in(office, {}, mode="press-key", prompt="zh-welcome", queue="sales", press_key="1")
    said = agi(office, "message", str(c["id"]), str(a.id))
    assert (said[v.CAMPAIGN_PLAY], said[v.CAMPAIGN_QUEUE]) == ("/ast/sounds/zh_CN/cc-welcome", "sales")
    assert agi(office, "key", str(c["id"]), str(a.id), "1", "")[v.CAMPAIGN_NEXT] == "again"
    assert agi(office, "key", str(c["id"]), str(a.id), "2", "1")[v.CAMPAIGN_NEXT] == "queue"
    assert m.CampaignAttempt.get_by_id(a.id).keys == "1"
    assert agi(office, "key", str(c["id"]), str(a.id), "2", "")[v.CAMPAIGN_NEXT] == "bye"


def test_the_values_file_goes_when_the_callee_is_put_into_the_queue(office):
    c, a = attempt_in(office, {"金额": "3"}, mode="press-key", prompt="zh-welcome", queue="sales",
                      spoken=[{"column": "金额", "as": "amount"}])
    agi(office, "message", str(c["id"]), str(a.id))
    assert len(list(office.calls.audio_dir.glob("ca-*.gsm"))) == 1
    agi(office, "key", str(c["id"]), str(a.id), "1", "1")
    assert not list(office.calls.audio_dir.glob("ca-*.gsm"))


def test_a_survey_asks_each_question_and_keeps_each_key(office):
    c, a = attempt_in(office, {}, mode="survey", prompt="zh-welcome", questions=["zh-survey", "en-survey"])
    events = office.deps.bus.subscribe()
    ids = (str(c["id"]), str(a.id))
    first = agi(office, "survey", *ids, "0", "")
    assert first[v.CAMPAIGN_PLAY] == "/ast/sounds/zh_CN/cc-welcome&/ast/sounds/zh_CN/cc-survey"
    assert agi(office, "survey", *ids, "1", "4")[v.CAMPAIGN_PLAY] == "/ast/sounds/en/cc-survey"
    assert agi(office, "survey", *ids, "2", "")[v.RESULT] == "done"
    assert json.loads(m.CampaignAttempt.get_by_id(a.id).answers) == ["4", ""]
    assert [(e["event"], e.get("key"), e.get("answers")) for t, e in events.drain() if t == "campaign"] == [
        ("answer", "4", None), ("answer", "", None), ("survey", None, ["4", ""])]


def test_amd_only_when_on_and_a_machine_gets_the_campaigns_choice(office):
    c, a = attempt_in(office, {}, mode="notification", prompt="zh-welcome")
    ids = (str(c["id"]), str(a.id))
    assert agi(office, "amd", *ids)[v.AMD_ARGS] == ""  # off by default
    office.campaigns.update(c["id"], {"amd": True, "amd_action": "message"}, "admin")
    assert agi(office, "amd", *ids)[v.AMD_ARGS] == rules.DEFAULT_AMD.arguments()
    assert agi(office, "amd-result", *ids, "MACHINE", "LONGGREETING-1520-1500")[v.AMD_NEXT] == "message"
    row = m.CampaignAttempt.get_by_id(a.id)
    assert (row.amd, row.amd_cause) == ("machine", "LONGGREETING-1520-1500")
    assert agi(office, "amd-result", *ids, "HUMAN", "HUMAN-800-800")[v.AMD_NEXT] == "go"


def test_a_report_about_another_campaigns_attempt_fails_to_the_fallback(office):
    c, a = attempt_in(office, {}, mode="notification", prompt="zh-welcome")
    with pytest.raises(NotFound):  # the AGI server sends the callee to the fallback's message
        agi(office, "message", str(c["id"] + 1), str(a.id))
    with pytest.raises(ValueError):
        agi(office, "nonsense", str(c["id"]), str(a.id))


def test_the_export_has_what_each_answered_call_brought(office):
    c, a = attempt_in(office, {}, mode="survey", questions=["zh-survey"])
    a.amd, a.keys, a.answers, a.heard = "human", "", json.dumps(["5"]), True
    a.save()
    words = {**json.load(open(Path(__file__).parents[2] / "appliance/locales/zh_CN.json", encoding="utf-8"))}
    book = load_workbook(io.BytesIO(office.campaigns.export(c["id"], words.__getitem__, ZoneInfo("Asia/Shanghai"))))
    rows = list(book.active.values)
    assert rows[0][-4:] == ("应答方", "已听完通知", "按键", "调查结果")
    assert rows[1][-4:] == ("真人", "是", None, "5")


# -- the page ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("language, waiting", [("en", "Waiting for its start at"), ("zh_CN", "等待开始")])
def test_the_page_sets_a_notification_up_and_says_when_a_campaign_waits(office, language, waiting):
    m.User.update(language=language).where(m.User.username == "admin").execute()
    headers, _ = session_for(office, "admin")
    entry = entry_of(office, {"金额": "1"})
    page = office.app.get("/campaigns", headers=headers)
    add = page.forms["campaign-add"]
    add["name"], add["mode"], add["prompt"], add["amd_action"] = "bill", "notification", "zh-welcome", "message"
    add.set("spoken_column", "金额", index=0)
    add.set("spoken_as", "amount", index=0)
    add.set("lists", True, index=0)
    add["amd"], add["start_at"] = True, "2026-12-08T09:00"
    done = add.submit(headers=headers)
    assert done.status_int == 302, done.text
    row = m.Campaign.get(m.Campaign.name == "bill")
    assert (row.mode, row.prompt, json.loads(row.spoken), row.amd, row.amd_action) == (
        "notification", "zh-welcome", [{"column": "金额", "as": "amount"}], True, "message")
    office.campaigns.set_state(row.id, "running", "admin")
    page = office.app.get(done.location, headers=headers)
    assert waiting in page.html.select_one("#campaign-waiting").text
    assert "2026-12-08 09:00" in page.html.select_one("#campaign-waiting").text
    assert page.html.select_one("#c-mode option[selected]")["value"] == "notification"
    assert page.html.select_one("#c-spoken-0")["value"] == "金额"
    office.clock.now = dt.datetime(2026, 12, 8, 1, 0)  # 09:00 in the office
    assert office.app.get(done.location, headers=headers).html.select_one("#campaign-waiting") is None


def test_the_api_takes_and_shows_the_settings(office):
    admin = token_for(office, "admin")
    res = office.app.post_json("/api/v1/campaigns", {"name": "ask", "mode": "survey", "questions": ["zh-survey"],
                                                     "amd": True, "amd_action": "hangup"}, headers=admin, status=201)
    assert (res.json["questions"], res.json["amd"], res.json["waiting"]) == (["zh-survey"], True, False)
    bad = office.app.post_json("/api/v1/campaigns", {"name": "key", "mode": "press-key", "prompt": "zh-welcome"},
                               headers=admin, status=422).json
    assert "queue" in bad["fields"]


def test_a_prompt_a_campaign_plays_cannot_be_deleted(office):
    office.campaigns.create({"name": "ask", "mode": "survey", "questions": ["en-survey"], "prompt": "en-welcome"},
                            "admin")
    for name in ("en-survey", "en-welcome"):
        with pytest.raises(Conflict) as refused:
            office.deps.prompts.delete(name, "admin")
        assert "campaign ask" in refused.value.message
    office.deps.prompts.delete("en-timeout", "admin")
