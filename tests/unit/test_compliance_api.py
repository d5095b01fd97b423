"""Outbound compliance through the web API and pages: the do-not-call list (staff keep it, an
agent adds only their screen pop's caller), click-to-dial refused by the list or the window
(a staff override only), a pool's caller ID handed to Asterisk's Originate, the settings and
pools for admins, and refused calls with their rule in the reader's words on the call-records
page."""

from __future__ import annotations

import datetime as dt

import pytest
from test_calling_api import dialling, originated
from test_webui import env, session_for, token_for  # noqa: F401  (env is a fixture)

from appliance.db import models as m
from appliance.services.compliance import OutboundCheck


class Clock:
    at = dt.datetime(2026, 12, 7, 4, 0)  # noon in Shanghai, a Monday

    def __call__(self):
        return self.at


@pytest.fixture
def office(env):  # noqa: F811
    env.clock = Clock()
    env.check = env.deps.compliance = OutboundCheck(env.db, env.deps.site, now=env.clock)
    with dialling(env, env.check):
        yield env


def test_staff_keep_the_list_and_a_listed_number_is_refused_on_click_to_dial(office):
    sup, alice = token_for(office, "sup"), token_for(office, "alice")
    added = office.app.post_json("/api/v1/dnc", {"number": "139 1234 5678", "reason": "complaint",
                                                 "expires_on": "2026-12-31"}, headers=sup, status=201)
    assert (added.json["number"], added.json["source"], added.json["added_by"]) == ("+8613912345678", "manual", "sup")
    assert added.json["expires_at"] == "2026-12-31T16:00:00Z"  # the end of that day in Shanghai
    res = office.app.post_json("/api/v1/agents/1001/dial", {"number": "0086 139 1234 5678"}, headers=alice,
                               status=403)
    assert (res.json["error"], res.json["params"]) == ("compliance.dnc", {"rule": "dnc"})
    assert not originated(office)
    [refusal] = office.app.get("/api/v1/call-refusals", headers=alice).json["items"]
    assert (refusal["rule"], refusal["path"], refusal["agent"]) == ("dnc", "dial", "1001")
    assert office.app.get("/api/v1/call-refusals", headers=token_for(office, "bob")).json["items"] == []
    assert [e["number"] for e in office.app.get("/api/v1/dnc?q=1391234", headers=sup).json["items"]] == [
        "+8613912345678"]
    office.app.get("/api/v1/dnc", headers=alice, status=403)
    office.app.delete("/api/v1/dnc/13912345678", headers=alice, status=403)
    office.app.delete("/api/v1/dnc/13912345678", headers=sup, status=204)
    office.app.post_json("/api/v1/agents/1001/dial", {"number": "13912345678"}, headers=alice)
    assert len(originated(office)) == 1
    bad = office.app.post_json("/api/v1/dnc", {"number": "not a number"}, headers=sup, status=422)
    assert bad.json["error"] == "dnc.bad_number"


def test_an_agent_adds_only_the_caller_on_their_pop(office):
    alice = token_for(office, "alice")
    # LIVE (test_webui): 13800000001 is talking with agent 1001 (Alice)
    res = office.app.post_json("/api/v1/dnc", {"number": "13800000001", "source": "pop"}, headers=alice, status=201)
    assert res.json["source"] == "pop"
    office.app.post_json("/api/v1/dnc", {"number": "13800000002"}, headers=alice, status=403)  # not her caller
    assert [a.action for a in m.AuditLog.select().where(m.AuditLog.object_type == "dnc")] == ["create"]


def test_the_window_refuses_an_agent_and_lets_a_supervisor_override(office):
    office.clock.at = dt.datetime(2026, 12, 7, 13, 0)  # 21:00 in Shanghai
    alice, sup = token_for(office, "alice"), token_for(office, "sup")
    res = office.app.post_json("/api/v1/agents/1001/dial", {"number": "13912345678", "override_window": True},
                               headers=alice, status=403)
    assert (res.json["error"], res.json["params"]) == ("compliance.window", {"rule": "window", "time": "21:00"})
    office.app.post_json("/api/v1/agents/1001/dial", {"number": "13912345678"}, headers=sup, status=403)
    office.app.post_json("/api/v1/agents/1001/dial", {"number": "13912345678", "override_window": True}, headers=sup)
    assert len(originated(office)) == 1


def test_the_default_pools_number_goes_to_asterisk_and_an_exhausted_pool_refuses(office):
    admin = token_for(office, "admin")
    office.app.put_json("/api/v1/callerid-pools/main/numbers/02188880001", {"per_hour": 1}, headers=admin)
    office.app.put_json("/api/v1/compliance/settings", {"default_pool": "main"}, headers=admin)
    bad = office.app.put_json("/api/v1/compliance/settings", {"window": "mon-fri 9-18"}, headers=admin, status=422)
    assert bad.json["error"] == "compliance.bad_window" and "window" in bad.json["fields"]
    alice = token_for(office, "alice")
    ok = office.app.post_json("/api/v1/agents/1001/dial", {"number": "13912345678"}, headers=alice)
    assert ok.json["caller_id"] == "02188880001"
    assert originated(office)[0].get("Variable") == "CC_AGENT=1001,CC_CALLERID=02188880001"
    res = office.app.post_json("/api/v1/agents/1001/dial", {"number": "13912345678"}, headers=alice, status=503)
    assert res.json["error"] == "compliance.callerid_pool"
    usage = office.app.get("/api/v1/callerid-pools/main", headers=admin).json["items"]
    assert usage == [{"number": "02188880001", "per_hour": 1, "per_day": 0, "used_hour": 1, "used_day": 1}]
    office.app.get("/api/v1/compliance/settings", headers=alice, status=403)


def test_the_pages_say_the_refusals_rule_in_the_readers_language(office):
    office.check.dnc_add("13800000009", "complaint", "sup")
    office.app.post_json("/api/v1/agents/1001/dial", {"number": "13800000009"}, headers=token_for(office, "alice"),
                         status=403)
    office.users.set_language(office.ids["alice"], "zh_CN")
    cookie, _ = session_for(office, "alice")
    calls = office.app.get("/calls", headers=cookie)
    assert "被拒绝的外呼" in calls.text and "免打扰名单" in calls.text and "点击拨号" in calls.text
    office.app.get("/admin/compliance", headers=cookie, status=403)
    cookie, csrf = session_for(office, "sup")
    page = office.app.get("/admin/compliance", headers=cookie)
    assert "+8613800000009" in page.text and "Do-not-call list" in page.text and "Calling window" in page.text
    assert "Caller-ID pools" not in page.text  # admins only
    added = office.app.post("/admin/compliance/dnc", {"number": "bad", "csrf_token": csrf}, headers=cookie, status=422)
    assert "digits only, with + first if any" in added.text and "field-error" in added.text


def test_the_list_exports_to_excel_in_the_readers_language(office):
    import io

    from openpyxl import load_workbook

    office.check.dnc_add("13800000009", "=HYPERLINK(\"x\")", "sup", source="pop")
    office.users.set_language(office.ids["sup"], "zh_CN")
    cookie, _ = session_for(office, "sup")
    res = office.app.get("/admin/compliance/dnc.xlsx", headers=cookie)
    sheet = load_workbook(io.BytesIO(res.body)).active
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    assert sheet.title == "免打扰名单" and rows[0] == ["号码", "原因", "添加人", "方式", "添加时间", "截止"]
    assert rows[1][:4] == ["+8613800000009", '=HYPERLINK("x")', "sup", "来自弹屏"]
    assert sheet.cell(2, 2).data_type == "s"  # text, not a formula a spreadsheet would run
    office.app.get("/admin/compliance/dnc.xlsx", headers=session_for(office, "alice")[0], status=403)


def test_bad_settings_and_pool_values_are_422_not_500(office):
    admin = token_for(office, "admin")
    for body in ({"window": 5}, {"default_pool": ["main"]}, {"window": "x" * 401}):
        office.app.put_json("/api/v1/compliance/settings", body, headers=admin, status=422)
    office.app.put_json("/api/v1/callerid-pools/main/numbers/02188880001", {"per_hour": "ten"}, headers=admin,
                        status=422)
    office.app.put_json("/api/v1/callerid-pools/ma%20in/numbers/02188880001", {}, headers=admin, status=422)
    office.app.post_json("/api/v1/dnc", {"number": "13912345678", "expires_on": "soon"},
                         headers=token_for(office, "sup"), status=422)
    office.app.delete("/api/v1/dnc/13912345678", headers=token_for(office, "sup"), status=404)


def workbook(rows) -> bytes:
    import io

    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["号码", "原因", "截止"])
    for row in rows:
        sheet.append(row)
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def test_an_excel_list_is_imported_whole_or_not_at_all(office):
    cookie, csrf = session_for(office, "sup")
    bad = workbook([[13912345678, "complaint", None], ["not a number", "", None], [13800000003, "", "2020-01-01"]])
    page = office.app.post("/admin/compliance/dnc/import", {"csrf_token": csrf}, headers=cookie, status=422,
                           upload_files=[("file", "dnc.xlsx", bad)])
    assert "rows 3, 4 are not valid" in page.text and not m.DncNumber.select().exists()
    good = workbook([[13912345678, "complaint", None], ["+86 138 0000 0003", None, dt.date(2099, 1, 31)],
                     ["8613912345678", "again", None]])  # the same number twice: the last row counts
    page = office.app.post("/admin/compliance/dnc/import", {"csrf_token": csrf}, headers=cookie,
                           upload_files=[("file", "dnc.xlsx", good)])
    assert "2 numbers imported into the do-not-call list." in page.text
    entries = {e.number: (e.reason, e.source, e.expires_at) for e in m.DncNumber.select()}
    assert entries == {"+8613912345678": ("again", "import", None),
                       "+8613800000003": ("", "import", dt.datetime(2099, 1, 31, 16, 0))}
    assert m.AuditLog.select().where(m.AuditLog.object_type == "dnc", m.AuditLog.action == "import").count() == 1
