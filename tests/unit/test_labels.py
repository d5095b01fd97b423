"""Codes in words (appliance/labels.py): every code a page, a script or an export shows has
words in both catalogs; the audit log, pause reasons and Excel exports use them."""

from __future__ import annotations

import io
import json
import re

from openpyxl import load_workbook

from appliance import i18n, labels
from appliance.confgen.queues import STRATEGIES
from appliance.db import models as m
from appliance.db.migrations.m0002_engine_agents import DEFAULT_PAUSE_REASONS
from appliance.recording import rules
from appliance.services.config import FIELDS
from test_webui import WEBUI, env, sign_in  # noqa: F401

REPO = WEBUI.parent

# Every code of these kinds that the appliance stores must have words.
CODES = {
    "strategy": STRATEGIES,
    "recording": rules.MODES,
    "holiday_kind": ("holiday", "workday"),
    "route_rule": ("did", "after-hours", "sticky", "blacklist", "menu", "fax", "vip"),
    "fallback_reason": ("blacklisted", "no-route", "closed", "pin-failed", "queue-timeout", "queue-joinempty",
                        "queue-leaveempty", "menu-unavailable", "menu-loop", "menu-no-queue"),
    "component": ("asterisk", "ami", "agi", "db", "hardware", "recording", "mail"),
    "component_state": ("ok", "off", "stuck", "running", "stopped", "listening", "connected", "disconnected",
                        "crash-loop", "error", "recording.disk_full"),
    "pause_reason": tuple(code for code, _ in DEFAULT_PAUSE_REASONS),
    "disposition": ("answered", "abandoned", "unanswered", "fallback"),
    "direction": ("inbound", "outbound", "internal"),
    "audit_action": ("create", "update", "delete", "assign", "reclaim", "transfer", "import", "unblock", "refused",
                     "login_failed", "lockout", "unlock", "restart"),
    "kind": ("queues", "agents", "members", "sign_in", "customers", "call", "sip_blocks", "sip_guard", "users",
             "menus", "prompts", "services"),
}


def test_every_stored_code_has_words_in_both_languages():
    missing = [(kind, code) for kind, codes in CODES.items() for code in codes if not labels.has(kind, code)]
    assert not missing, missing
    for kind, codes in CODES.items():
        for code in codes:
            zh = labels.label("zh_CN", kind, code)
            assert zh != code and (kind == "component" or not re.search(r"[a-z]{4,}", zh)), (kind, code, zh)
    assert labels.label("zh_CN", "strategy", "rrmemory") == "轮流（记住上次位置）"
    assert labels.label("en", "route_rule", "nobody-knows") == "nobody-knows"  # an unknown code stays itself


def test_the_config_forms_choices_are_words():
    for kind, fields in FIELDS.items():
        for f in fields:
            for value in f.choices or ():
                zh = i18n.choice("zh_CN", kind, f.name, value)
                assert zh != value, (kind, f.name, value)


def test_pause_reasons_are_named_in_the_readers_language_unless_the_admin_named_them():
    assert labels.pause_reason_name("zh_CN", "lunch", "Lunch / 用餐") == "用餐"
    assert labels.pause_reason_name("en", "lunch", "Lunch / 用餐") == "Lunch"
    assert labels.pause_reason_name("zh_CN", "lunch", "午饭") == "午饭"  # the admin's own label wins
    assert labels.pause_reason_name("zh_CN", "coffee", "") == "coffee"
    assert labels.pause_reasons("zh_CN", [{"code": "break", "label": "Break / 小休"}])[0]["name"] == "小休"


def test_an_audit_line_reads_as_words():
    detail = json.dumps({"strategy": "rrmemory", "recording": "force", "announce_holdtime": True,
                         "options": [{"digit": "1", "action": "queue", "target": "sales"}]})
    summary = dict(labels.audit_summary("zh_CN", "queues", detail))
    assert summary[i18n.translate("zh_CN", "field.queues.strategy")] == "轮流（记住上次位置）"
    assert summary[i18n.translate("zh_CN", "field.queues.recording")] == "强制（始终录音，不可停止）"
    assert summary[i18n.translate("zh_CN", "field.queues.announce_holdtime")] == "是"
    assert summary["按键"] == "按键: 1; 动作: 转队列; 目标: sales"
    assert not any(re.search(r"[a-z]{4,}", k + v.replace("sales", "")) for k, v in summary.items()), summary
    assert labels.audit_summary("zh_CN", "phones", '{"secret": "(set)"}') == [("SIP 密码", "（已设置，不显示）")]
    assert labels.audit_summary("en", "call", "not json") == [("", "not json")]


def test_the_audit_page_filters_pages_and_shows_no_json(env):  # noqa: F811
    for n in range(60):
        env.deps.config.create("blacklist", {"number": f"1390000{n:04d}"}, actor="alice" if n % 2 else "bob")
    env.deps.config.create("queues", {"name": "sales", "strategy": "linear"}, actor="bob")
    env.users.set_language(env.ids["admin"], "zh_CN")
    sign_in(env.app, "admin")
    page = env.app.get("/admin/audit?kind=queues")
    assert "共 1 条" in page.text and "按成员顺序" in page.text and '{"' not in page.text and "linear" not in page.text
    page = env.app.get("/admin/audit?kind=blacklist&user=alice")
    assert "共 30 条" in page.text and 'rel="next"' not in page.text
    first, second = env.app.get("/admin/audit?kind=blacklist"), env.app.get("/admin/audit?kind=blacklist&page=2")
    assert "共 60 条" in first.text and 'rel="next"' in first.text and 'rel="prev"' in second.text
    assert first.text.count("13900000") == 2 * 50 and second.text.count("13900000") == 2 * 10  # key and detail
    assert "共 0 条" in env.app.get("/admin/audit?to=2001-01-01").text
    assert env.app.get("/admin/audit?from=tomorrow", expect_errors=True).status_int == 422
    raw = env.app.get("/api/v1/audit?kind=queues").json["items"]  # the API keeps the stored JSON
    assert json.loads(raw[0]["detail"])["strategy"] == "linear"


def test_the_call_records_export_speaks_the_users_language(env):  # noqa: F811
    m.CallRecord.create(linkedid="x.1", caller="13900000001", agent="1001", queue="sales", disposition="answered",
                        direction="inbound", route_rule="vip", enter_time=m.utcnow())
    env.users.set_language(env.ids["admin"], "zh_CN")
    sign_in(env.app, "admin")
    book = load_workbook(io.BytesIO(env.app.get("/calls/export").body))
    rows = list(book.active.iter_rows(values_only=True))
    assert book.active.title == "通话记录" or book.active.title == i18n.translate("zh_CN", "nav.calls")
    assert "已接听" in rows[1] or i18n.translate("zh_CN", "disposition.answered") in rows[1]
    assert "answered" not in rows[1] and "inbound" not in rows[1] and "vip" not in rows[1]
    assert not any(isinstance(h, str) and re.fullmatch(r"[a-z_]+", h) for h in rows[0]), rows[0]


def test_a_forbidden_page_speaks_chinese(env):  # noqa: F811
    env.users.set_language(env.ids["alice"], "zh_CN")
    sign_in(env.app, "alice")
    page = env.app.get("/admin/audit", expect_errors=True)
    assert page.status_int == 403 and "your role" not in page.text and "您的角色" in page.text


def test_every_message_id_the_web_routes_raise_is_in_both_catalogs():
    en, zh = i18n.catalog("en"), i18n.catalog("zh_CN")
    used = set()
    for path in list((REPO / "webui").rglob("*.py")) + list((REPO / "appliance").rglob("*.py")):
        used |= set(re.findall(r"""FieldError\(\s*['"]([a-z_]+\.[a-z_.0-9]+)['"]""", path.read_text(encoding="utf-8")))
    for path in (REPO / "webui" / "templates").glob("*.tpl"):
        for kind, code in re.findall(r"""label\('([a-z_]+)',\s*'([a-z_.-]+)'\)""", path.read_text(encoding="utf-8")):
            assert labels.has(kind, code), (path.name, kind, code)
    assert {"error.msg.role_may_not", "error.msg.pause_reason_missing"} <= used
    assert not {u for u in used if u not in en or u not in zh}


def test_an_error_page_gives_its_detail_in_the_readers_language(env):  # noqa: F811
    env.users.set_language(env.ids["admin"], "zh_CN")
    sign_in(env.app, "admin")
    page = env.app.get("/calls?page=x", expect_errors=True)
    assert page.status_int == 422 and "应为 1 到" in page.text and "whole number" not in page.text
    res = env.app.get("/api/v1/audit?limit=x", headers={"Accept": "application/json"}, expect_errors=True)
    assert "whole number" in res.text  # the API keeps its English message


def test_a_created_objects_empty_fields_are_left_out_and_opening_hours_read_as_days():
    detail = json.dumps({"name": "office", "schedule": "mon-fri 09:00-18:00", "timezone": "", "retry": 0,
                         "use_holidays": False})
    summary = labels.audit_summary("zh_CN", "time_conditions", detail, "create")
    assert dict(summary)[i18n.translate("zh_CN", "field.time_conditions.schedule")] == "星期一至星期五 09:00-18:00"
    assert len(summary) == 3  # name, schedule, use_holidays (a false flag is a value)
    assert len(labels.audit_summary("zh_CN", "time_conditions", detail, "update")) == 5


def test_the_audit_log_and_the_lists_say_opening_hours_the_same_way():
    """One wording for stored opening hours: the audit log's and the configuration lists'."""
    assert labels.value_words("en", "queues", "schedule", "mon-fri 09:00-18:00; sat 10:00-12:00") == \
        "Monday–Friday 09:00-18:00; Saturday 10:00-12:00"
    assert labels.week_words("zh_CN", "daily 09:00-20:00").startswith("星期一至星期日")
    assert labels.week_words("en", "not hours") == "not hours"  # as stored when it does not parse


def test_a_customers_custom_fields_are_named_by_their_labels_in_the_audit_log(env):  # noqa: F811
    m.CustomerField.create(name="level", label="会员等级", type="text")
    detail = json.dumps({"name": "王五", "custom": {"level": "gold", "gone": "x"}})
    summary = dict(labels.audit_summary("zh_CN", "customers", detail, "create"))
    custom = summary[labels.field_name("zh_CN", "customers", "custom")]
    assert "会员等级: gold" in custom and "gone: x" in custom  # a field since deleted: its key
