"""Call scripts (话术) over a real database: the step graph refused with its reasons (loops,
unreachable steps, branches that are no choice), the text in the agent's language with the
other as fallback, the script a call reads (its queue's, its campaign's), answers checked with
the customer field's own rules (a wrong type refused, in both languages) and saved into the
caller's record with the audit and the version read, the path stored with the call."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from appliance.db import models as m
from appliance.engine import scripts as rules
from appliance.errors import Conflict, NotFound, PermissionDenied, ValidationError
from appliance.i18n import field_error
from appliance.services.campaigns import Campaigns
from appliance.services.config import ConfigService
from appliance.services.crm import CustomerService, Viewer
from appliance.services.scripts import CallScripts

ADMIN = Viewer("root", "admin")
FIELDS = {"level": ("choice", ("gold", "silver")), "budget": ("number", ()), "city": ("text", ()),
          "visit": ("date", ())}


def step(sid, nxt="", field="", branches=(), zh="", en="Hello"):
    return {"id": sid, "text": {"zh_CN": zh, "en": en}, "field": field, "next": nxt,
            "branches": [{"answer": a, "next": b} for a, b in branches]}


TWO_BRANCHES = [step("greet", "ask", zh="您好", en="Hello"),
                step("ask", "thanks", field="level", branches=[("gold", "vip"), ("silver", "offer")],
                     zh="您是哪个等级的会员？", en="Which level are you?"),
                step("vip", "thanks", zh="感谢您的支持", en="Thank you for staying with us"),
                step("offer", "budget", zh="金卡有优惠", en="Gold has an offer"),
                step("budget", "thanks", field="budget", zh="预算多少？", en="What is your budget?"),
                step("thanks", zh="再见", en="Goodbye")]


def msgids(steps, fields=FIELDS):
    return [f.msgid for f in rules.check_script(steps, fields)]


# -- the pure check ------------------------------------------------------------------------
def test_a_sound_script_with_two_branches_passes():
    assert rules.check_script(TWO_BRANCHES, FIELDS) == []


def test_a_loop_is_refused_with_the_way_round():
    steps = [step("a", "b"), step("b", "c", field="level", branches=[("gold", "a")]), step("c")]
    faults = rules.check_script(steps, FIELDS)
    assert [f.msgid for f in faults] == ["scripts.loop"]
    assert faults[0].params == {"path": "a → b → a"}


def test_unreachable_steps_are_refused_by_name():
    faults = rules.check_script([step("a", "c"), step("b", "c"), step("c"), step("d")], FIELDS)
    assert [(f.msgid, f.params) for f in faults] == [("scripts.unreachable", {"ids": "b, d", "first": "a"})]


@pytest.mark.parametrize("steps, fault", [
    ([], "scripts.no_steps"),
    ([step("Bad id")], "scripts.bad_id"),
    ([step("a", "a2"), step("a2"), step("a2")], "scripts.duplicate"),
    ([step("a", en="")], "scripts.no_text"),
    ([step("a", en="x" * 2001)], "scripts.text_too_long"),
    ([step("a", field="shoe_size")], "scripts.unknown_field"),
    ([step("a", "nowhere")], "scripts.unknown_next"),
    ([step("a", "b", field="city", branches=[("x", "b")]), step("b")], "scripts.branch_needs_choice"),
    ([step("a", "b", field="level", branches=[("bronze", "b")]), step("b")], "scripts.branch_not_a_choice"),
    ([step("a", "b", field="level", branches=[("gold", "b"), ("gold", "c")]), step("b"), step("c")],
     "scripts.branch_twice"),
])
def test_each_fault_has_its_reason(steps, fault):
    assert fault in msgids(steps)


def test_the_agents_language_else_the_other():
    assert rules.text_for({"zh_CN": "您好", "en": "Hello"}, "zh_CN") == "您好"
    assert rules.text_for({"zh_CN": "您好", "en": "Hello"}, "en") == "Hello"
    assert rules.text_for({"zh_CN": "", "en": "Hello"}, "zh_CN") == "Hello"
    assert rules.text_for({"zh_CN": "您好", "en": " "}, "en") == "您好"


def test_the_next_step_by_answer_else_the_default():
    ask = TWO_BRANCHES[1]
    assert (rules.next_step(ask, "gold"), rules.next_step(ask, "silver"), rules.next_step(ask, None)) == (
        "vip", "offer", "thanks")


# -- the service ---------------------------------------------------------------------------
@pytest.fixture
def world(db):
    cfg = ConfigService(db)
    cfg.create("queues", {"name": "sales"}, actor="t")
    cfg.create("queues", {"name": "support"}, actor="t")
    for name, kind, choices in (("level", "choice", "gold,silver"), ("budget", "number", ""), ("city", "text", ""),
                                ("visit", "date", "")):
        cfg.create("customer_fields", {"name": name, "label": name.title(), "type": kind, "choices": choices},
                   actor="t")
    crm = CustomerService(db)
    customer = crm.create(ADMIN, {"name": "王芳", "phone": "13912345678", "custom": {"level": "gold"}}, actor="t")
    scripts = CallScripts(db, crm)
    made = scripts.save({"name": "welcome", "label": "欢迎", "steps": TWO_BRANCHES, "queues": ["sales"]}, "admin")
    return scripts, crm, customer["id"], made


def call(linkedid="1.1", agent="1001", queue="sales", caller="13912345678"):
    return [{"linkedid": linkedid, "caller": caller, "queue": queue, "agent": agent, "ringing_agents": [],
             "state": "talking"}]


def test_a_refused_script_says_why_and_nothing_is_stored(world):
    scripts = world[0]
    with pytest.raises(ValidationError) as refused:
        scripts.save({"name": "loop", "label": "Loop", "steps": [step("a", "b"), step("b", "a")]}, "admin")
    assert refused.value.fields["steps"].msgid == "scripts.loop"
    assert field_error("zh_CN", refused.value.fields["steps"]) != field_error("en", refused.value.fields["steps"])
    with pytest.raises(ValidationError) as refused:
        scripts.save({"name": "x", "label": "X", "steps": [step("a")], "queues": ["nosuch"]}, "admin")
    assert refused.value.fields["queues"].msgid == "field.no_such"
    assert [s["name"] for s in scripts.scripts()] == ["welcome"]


def test_a_queue_has_one_script_the_last_attached(world):
    scripts, _, _, first = world
    second = scripts.save({"name": "other", "label": "Other", "steps": [step("a")], "queues": ["sales", "support"]},
                          "admin")
    assert (scripts.script(first["id"])["queues"], second["queues"]) == ([], ["sales", "support"])
    assert m.AuditLog.select().where(m.AuditLog.object_type == "call_scripts").count() == 2


def test_the_call_reads_its_queues_script_in_the_agents_language(world):
    scripts = world[0]
    view = scripts.for_call("1001", "1.1", call(), "zh_CN")
    assert (view["script"]["label"], view["current"], view["steps"][0]["text"]) == ("欢迎", "greet", "您好")
    assert view["customer"]["values"] == {"level": "gold", "budget": None}
    assert scripts.for_call("1001", "1.1", call(), "en")["steps"][0]["text"] == "Hello"
    assert scripts.for_call("1001", "1.2", call("1.2", queue="support"), "en")["script"] is None
    with pytest.raises(NotFound):  # not this agent's call
        scripts.for_call("1002", "1.1", call(), "en")


def test_walking_a_branch_saves_the_answer_audited_and_stores_the_path(world):
    scripts, crm, customer_id, _ = world
    live = call()
    view = scripts.answer("1001", "1.1", {"step": "greet"}, "alice", live, "en")
    version = view["customer"]["version"]
    view = scripts.answer("1001", "1.1", {"step": "ask", "answer": "silver"}, "alice", live, "en", version=version)
    assert view["current"] == "offer"  # the branch for silver
    assert json.loads(m.Customer.get_by_id(customer_id).custom)["level"] == "silver"
    audit = m.AuditLog.select().where(m.AuditLog.object_type == "customers", m.AuditLog.username == "alice").get()
    assert json.loads(audit.detail) == {"custom": {"level": "silver"}, "script": "欢迎", "linkedid": "1.1"}
    scripts.answer("1001", "1.1", {"step": "offer"}, "alice", live, "en")
    # the version read before the last answer is old: the customer changed since, refused
    with pytest.raises(Conflict) as stale:
        scripts.answer("1001", "1.1", {"step": "budget", "answer": "5000"}, "alice", live, "en", version=version)
    assert stale.value.code == "customers.changed"
    fresh = scripts.for_call("1001", "1.1", live, "en")["customer"]["version"]
    view = scripts.answer("1001", "1.1", {"step": "budget", "answer": "5,000"}, "alice", live, "en", version=fresh)
    assert view["current"] == "thanks" and view["customer"]["values"]["budget"] == 5000
    [run] = scripts.runs(None, "1.1")
    assert [(p["step"], p["answer"], p["saved"]) for p in run["path"]] == [
        ("greet", None, False), ("ask", "silver", True), ("offer", None, False), ("budget", 5000, True)]
    assert run["path"][1]["text"] == "Which level are you?" and run["customer"]["name"] == "王芳"
    assert scripts.runs(frozenset({"1002"}), "1.1") == []  # another agent's: not theirs to read


@pytest.mark.parametrize("lang, words", [("en", "a number"), ("zh_CN", "数字")])
def test_a_wrong_type_is_refused_with_the_fields_rule_in_both_languages(world, lang, words):
    scripts = world[0]
    live = call()
    scripts.answer("1001", "1.1", {"step": "greet"}, "alice", live, lang)
    scripts.answer("1001", "1.1", {"step": "ask", "answer": "silver"}, "alice", live, lang)
    scripts.answer("1001", "1.1", {"step": "offer"}, "alice", live, lang)
    with pytest.raises(ValidationError) as refused:
        scripts.answer("1001", "1.1", {"step": "budget", "answer": "lots"}, "alice", live, lang)
    assert refused.value.code == "scripts.bad_answer"
    assert words in field_error(lang, refused.value.fields["answer"])
    m.CallScriptRun.update(current="ask").execute()
    with pytest.raises(ValidationError) as refused:  # a choice that is not one
        scripts.answer("1001", "1.1", {"step": "ask", "answer": "bronze"}, "alice", live, lang)
    assert "gold, silver" in field_error(lang, refused.value.fields["answer"])

def test_out_of_step_and_off_the_call_are_refused(world):
    scripts = world[0]
    with pytest.raises(Conflict):
        scripts.answer("1001", "1.1", {"step": "ask", "answer": "gold"}, "alice", call(), "en")
    with pytest.raises(PermissionDenied):
        scripts.answer("1001", "1.9", {"step": "greet"}, "alice", call(), "en")
    scripts.answer("1001", "1.1", {"step": "greet"}, "alice", call(), "en")
    # after hang-up the agent finishes in the wrap-up, not later
    assert scripts.answer("1001", "1.1", {"step": "ask", "answer": "gold"}, "alice", [], "en")["current"] == "vip"
    scripts.clock = lambda: m.utcnow() + dt.timedelta(minutes=31)
    with pytest.raises(PermissionDenied):
        scripts.answer("1001", "1.1", {"step": "vip"}, "alice", [], "en")


def test_a_campaign_call_reads_the_campaigns_script(world, db):
    scripts = world[0]
    lst = m.CallList.create(name="l1")
    entry = m.CallListEntry.create(call_list=lst, number="13912345678", number_key="13912345678", state="dialling",
                                   taken_by="1001")
    camp = m.Campaign.create(name="autumn", display_name="秋季回访", queue="sales", script="free text")
    m.CampaignAttempt.create(campaign=camp, entry=entry, agent="1001", number="13912345678")
    assert scripts.for_call("1001", "9.1", call("9.1", queue=""), "en")["script"] is None  # no structured one yet
    assert scripts.for_campaign(camp.id) is None
    scripts.save({"name": "autumn", "label": "秋季", "steps": [step("hi")], "campaigns": ["autumn"]}, "admin")
    view = scripts.for_call("1001", "9.1", call("9.1", queue=""), "en")
    assert (view["script"]["label"], view["source"]) == ("秋季", "campaign:autumn")
    assert scripts.for_campaign(camp.id) == "秋季"
    # the campaign panel names the script instead of its free text (which stays the fallback)
    assert Campaigns._brief(camp, script=True) | {"id": 0} == {
        "id": 0, "name": "autumn", "display_name": "秋季回访", "auto_next": True, "mode": "preview", "dialled": False,
        "script": "free text", "call_script": "秋季"}


def test_a_second_script_of_the_same_key_is_refused(world):
    scripts = world[0]
    other = scripts.save({"name": "other", "label": "Other", "steps": [step("a")]}, "admin")
    same_key = {"name": "welcome", "label": "W", "steps": [step("a")]}
    for script_id in (None, other["id"]):  # a new one, and another one renamed
        with pytest.raises(Conflict) as clash:
            scripts.save(same_key, "admin", script_id)
        assert clash.value.code == "scripts.exists"
    assert sorted(s["name"] for s in scripts.scripts()) == ["other", "welcome"]


def test_the_migration_keeps_what_an_older_version_wrote(tmp_path):
    from appliance.db import open_database
    from appliance.db.migrate import head, migrate

    older = open_database(tmp_path / "old.db")
    migrate(older, head() - 1)
    older.execute_sql("""INSERT INTO queue (name, display_name, strategy, ring_timeout, retry, wrapup_seconds,
        max_wait_seconds, musicclass, announce_position, announce_frequency, announce_holdtime,
        periodic_announce_seconds, autopause_after, sticky_lookback_days, sticky_min_talk_seconds,
        sticky_ring_seconds, recording, service_level_seconds, survey_enabled, survey_prompt, survey_low_score,
        recording_keep_days, voicemail, voicemail_email, disposition_required)
        VALUES ('sales', '销售部', 'rrmemory', 15, 2, 0, 300, 'default', 1, 60, 1, 30, 3, 0, 30, 15, 'dontcare', 20,
                0, '', 2, 0, 0, '', 0)""")
    older.close()
    db = open_database(tmp_path / "old.db")
    migrate(db)
    with db.bind_ctx([m.CallScript, m.CallScriptUse, m.Queue]):
        script = m.CallScript.create(name="s", label="S", steps=json.dumps([step("a")]))
        m.CallScriptUse.create(script=script, queue=m.Queue.get(m.Queue.name == "sales"))
        assert m.Queue.get(m.Queue.name == "sales").display_name == "销售部"
        m.Queue.delete().execute()  # a queue deleted takes its script's use along, not the script
        assert (m.CallScriptUse.select().count(), m.CallScript.select().count()) == (0, 1)
    db.close()
