"""Billing through the web API and pages (webui/areas/billing.py): admins manage plans and
re-rate; supervisors read bills; agents see none of it; a refused plan says why, on the field,
in the user's language; the bill's page shows ¥ with two decimals."""

from __future__ import annotations

import datetime as dt

from test_webui import env, seed_agents, session_for, token_for  # noqa: F401  (env is a fixture)

from appliance.db import models as m
from appliance.db.writers import CallRecordWriter

AT = dt.datetime(2026, 11, 10, 2, 0, tzinfo=dt.timezone.utc).timestamp()


def write_call(env, linkedid, number, talk, trunk):
    """An agent 1001's answered outgoing call, written as at hang-up (rated)."""
    CallRecordWriter(env.db, rate=env.deps.billing.rate).write({
        "linkedid": linkedid, "direction": "outbound", "caller": number, "caller_name": "", "did": "",
        "trunk": trunk, "queue": "", "agent": "1001", "enter_time": AT, "answer_time": AT + 3,
        "end_time": AT + 3 + talk, "wait_seconds": 3.0, "talk_seconds": float(talk), "disposition": "answered",
        "fallback_reason": "", "hangup_cause": 16, "route_rule": "", "survey": "", "survey_score": None})


PLAN = {"name": "标准", "first_seconds": 60, "next_seconds": 6, "call_fee": "0.02", "trunk_rent": "100",
        "agent_rent": "30", "is_default": True, "rates": [{"class": "local", "per_minute": "0.10"}]}


def test_roles_admins_manage_supervisors_read_bills_agents_nothing(env):  # noqa: F811
    admin, sup, agent = token_for(env, "admin"), token_for(env, "sup"), token_for(env, "alice")
    made = env.app.post_json("/api/v1/rate-plans", PLAN, headers=admin)
    assert made.status_int == 201 and made.json["rates"] == [{"class": "local", "per_minute": "0.10"}]
    assert env.app.get("/api/v1/rate-plans", headers=sup, expect_errors=True).status_int == 403
    assert env.app.post_json("/api/v1/rate-plans", PLAN, headers=sup, expect_errors=True).status_int == 403
    assert env.app.get("/api/v1/bills/2026-11", headers=sup).json["total"]["total_fen"] == 0
    assert env.app.get("/api/v1/bills/2026-11", headers=agent, expect_errors=True).status_int == 403
    assert env.app.post("/api/v1/bills/2026-11/rerate", headers=sup, expect_errors=True).status_int == 403
    assert env.app.post("/api/v1/bills/2026-11/rerate", headers=admin).json["calls"] == 0
    assert env.app.get("/api/v1/bills/2026-13", headers=sup, expect_errors=True).status_int == 422


def test_duplicate_classes_and_negative_prices_are_refused_with_the_reason(env):  # noqa: F811
    admin = token_for(env, "admin")
    twice = env.app.post_json("/api/v1/rate-plans", {**PLAN, "rates": [{"class": "local", "per_minute": "0.1"},
                                                                       {"class": "local", "per_minute": "0.2"}]},
                              headers=admin, expect_errors=True)
    assert twice.status_int == 422 and twice.json["error"] == "rates.class_twice"
    assert "rates.1.class" in twice.json["fields"]
    negative = env.app.post_json("/api/v1/rate-plans", {**PLAN, "minimum": "-1"}, headers=admin, expect_errors=True)
    assert negative.status_int == 422 and "minimum" in negative.json["fields"]
    assert env.app.get("/api/v1/rate-plans", headers=admin).json["items"] == []


def test_the_plan_form_refuses_a_negative_price_in_chinese_next_to_its_box(env):  # noqa: F811
    m.User.update(language="zh_CN").where(m.User.username == "admin").execute()
    cookie, csrf = session_for(env, "admin")
    form = {"csrf_token": csrf, "name": "套餐", "unit": "60/6", "minimum": "0", "call_fee": "0", "trunk_rent": "0",
            "agent_rent": "0", "rate_mobile": "-0.15", "rate_local": "0.1"}
    page = env.app.post("/admin/rates", form, headers=cookie, expect_errors=True)
    assert page.status_int == 422 and "金额不能为负" in page.text and 'value="-0.15"' in page.text
    ok = env.app.post("/admin/rates", {**form, "rate_mobile": "0.15"}, headers=cookie)
    assert ok.status_int == 302
    [plan] = env.app.get("/api/v1/rate-plans", headers=token_for(env, "admin")).json["items"]
    assert (plan["first_seconds"], plan["next_seconds"], [r["class"] for r in plan["rates"]]) == (
        60, 6, ["local", "mobile"])
    listing = env.app.get("/admin/rates", headers=cookie)
    assert "首60秒，之后每6秒" in listing.text and "¥0.15/分钟" in listing.text
    audit = env.app.get("/admin/audit", headers=cookie)  # in words, not codes
    assert "资费套餐 <strong>" in audit.text and "手机（¥/分钟）" in audit.text and ">rate_plans" not in audit.text


def test_the_bill_page_and_export(env):  # noqa: F811
    seed_agents(env.deps.config)
    m.Trunk.create(name="telecom", host="10.0.0.1")
    env.deps.billing.save(None, PLAN, actor="admin")
    write_call(env, "a", "13812345678", 61, "telecom")
    # mobile has no price in PLAN: the call is not charged, and the page says so
    cookie, _ = session_for(env, "sup")
    page = env.app.get("/billing?month=2026-11&lang=en", headers=cookie)
    # the trunk's rent; the two agents were added after November (the audit log says when): no rent
    assert "¥100.00" in page.text and "¥160.00" not in page.text and "¥30.00" not in page.text
    assert "give the plan that price" in page.text and "Re-rate" not in page.text  # supervisors do not re-rate
    sheet = env.app.get("/billing/export?month=2026-11&lang=zh_CN", headers=cookie)
    assert sheet.content_type.endswith("spreadsheetml.sheet") and sheet.body[:2] == b"PK"
    assert env.app.get("/billing", headers=session_for(env, "alice")[0], expect_errors=True).status_int == 403


def test_a_calls_cost_is_for_staff_not_for_the_agent_who_made_it(env):  # noqa: F811
    seed_agents(env.deps.config)
    env.deps.billing.save(None, PLAN, actor="admin")
    write_call(env, "z", "61234567", 10, "")
    staff = env.app.get("/api/v1/call-records/z", headers=token_for(env, "sup")).json
    assert (staff["cost_fen"], staff["destination_class"], staff["rate_plan"]) == (12, "local", "标准")
    page = env.app.get("/calls/z", headers=session_for(env, "sup")[0])
    assert "¥0.12" in page.text and "Local" in page.text
    mine = env.app.get("/api/v1/call-records/z", headers=token_for(env, "alice")).json  # alice is agent 1001
    assert "cost_fen" not in mine and "¥0.12" not in env.app.get("/calls/z", headers=session_for(env, "alice")[0]).text


def test_call_pages_name_queues_and_trunks_by_their_display_names(env):  # noqa: F811
    """A queue called 销售部 and a trunk called 中国电信 read so on the call list and detail."""
    seed_agents(env.deps.config)
    env.deps.config.update("queues", "sales", {"display_name": "销售部"}, actor="t")
    env.deps.config.create("trunks", {"name": "telecom", "display_name": "中国电信", "host": "127.0.0.2"}, actor="t")
    write_call(env, "q", "61234567", 10, "telecom")
    m.CallRecord.update(queue="sales").where(m.CallRecord.linkedid == "q").execute()
    cookie = session_for(env, "sup")[0]
    listing = env.app.get("/calls", headers=cookie).text
    detail = env.app.get("/calls/q", headers=cookie).text
    assert listing.count("销售部") >= 2  # the row and the queue filter
    assert "销售部" in detail and "中国电信" in detail


def test_a_did_is_given_its_own_plan_by_the_api_and_the_page(env):  # noqa: F811
    admin = token_for(env, "admin")
    m.Did.create(number="4008001234", description="400 热线")
    plan = env.app.post_json("/api/v1/rate-plans", {**PLAN, "name": "400", "is_default": False,
                                                    "rates": [{"class": "inbound", "per_minute": "0.12"}]},
                             headers=admin).json
    assert env.app.put_json("/api/v1/rate-plans/dids/4008001234", {"plan_id": plan["id"]},
                            headers=admin).status_int == 204
    assert m.DidRatePlan.get(m.DidRatePlan.did == "4008001234").plan_id == plan["id"]
    assert env.app.put_json("/api/v1/rate-plans/dids/999", {"plan_id": plan["id"]}, headers=admin,
                            expect_errors=True).json["error"] == "rates.no_did"
    assert env.app.put_json("/api/v1/rate-plans/dids/4008001234", {"plan_id": "x"}, headers=admin,
                            expect_errors=True).status_int == 422
    assert env.app.put_json("/api/v1/rate-plans/dids/4008001234", {"plan_id": None}, headers=token_for(env, "sup"),
                            expect_errors=True).status_int == 403
    cookie, csrf = session_for(env, "admin")
    env.app.post("/admin/rates/dids", {"did": "4008001234", "plan": "", "csrf_token": csrf}, headers=cookie)
    assert not m.DidRatePlan.select().exists()  # back to the trunk's plan, from the page
    page = env.app.get("/admin/rates", headers=cookie).text
    assert 'data-did="4008001234"' in page and "400 热线" in page
