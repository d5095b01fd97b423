"""Billing over a migrated database (appliance/services/billing.py): plans refused with the
reason, the call-record writer storing each call's cost at hang-up, the month's bill per
trunk, team and agent with rents, re-rating a past month (audited, before and after), and
the Excel export with money as numbers."""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest

from appliance.db import models as m
from appliance.db.writers import CallRecordWriter
from appliance.errors import Conflict, NotFound, ValidationError
from appliance.services.billing import BillingService

# 2026-11-10 10:00 in Shanghai (UTC+8)
T0 = dt.datetime(2026, 11, 10, 2, 0, tzinfo=dt.timezone.utc).timestamp()
PLAN = {"name": "电信标准", "first_seconds": 60, "next_seconds": 6, "minimum": "0.00", "call_fee": "0.02",
        "trunk_rent": "100.00", "agent_rent": "30.00", "is_default": True,
        "rates": [{"class": "local", "per_minute": "0.10"}, {"class": "long_distance", "per_minute": "0.30"},
                  {"class": "mobile", "per_minute": "0.15"}]}


@pytest.fixture
def billing(db):
    m.Trunk.create(name="telecom", host="10.0.0.1")
    m.Trunk.create(name="unicom", host="10.0.0.2")
    sales = m.Queue.create(name="sales")
    for number in ("1001", "1002"):
        agent = m.Agent.create(number=number, name=number)
        m.QueueMember.create(queue=sales, agent=agent)
    return BillingService(db, home_region=lambda: "CN", area_code=lambda: "21", timezone=lambda: "Asia/Shanghai")


def record(linkedid, number, talk, *, direction="outbound", trunk="telecom", agent="1001", queue="", at=T0):
    answered = talk is not None
    return {"linkedid": linkedid, "direction": direction, "caller": number, "caller_name": "", "did": "",
            "trunk": trunk if answered else "", "queue": queue, "agent": agent, "enter_time": at,
            "answer_time": at + 5 if answered else None, "end_time": at + 5 + (talk or 0),
            "wait_seconds": 5.0, "talk_seconds": float(talk or 0), "disposition": "answered" if answered else "unanswered",
            "fallback_reason": "", "hangup_cause": 16, "route_rule": "", "survey": "", "survey_score": None}


def cost(linkedid):
    row = m.CallRecord.get(m.CallRecord.linkedid == linkedid)
    return row.cost, row.rate_plan, row.destination_class


def test_plans_are_refused_with_the_reason(billing):
    with pytest.raises(ValidationError) as twice:
        billing.save(None, {**PLAN, "rates": [{"class": "local", "per_minute": "0.1"},
                                              {"class": "local", "per_minute": "0.2"}]}, actor="admin")
    assert twice.value.code == "rates.class_twice" and twice.value.fields["rates.1.class"].msgid == "rates.class_twice"
    with pytest.raises(ValidationError) as negative:
        billing.save(None, {**PLAN, "call_fee": "-0.01"}, actor="admin")
    assert negative.value.fields["call_fee"].msgid == "rates.negative"
    with pytest.raises(ValidationError) as negative_rate:
        billing.save(None, {**PLAN, "rates": [{"class": "mobile", "per_minute": "-1"}]}, actor="admin")
    assert negative_rate.value.fields["rates.0.per_minute"].msgid == "rates.negative"
    for bad in ({"first_seconds": 0}, {"next_seconds": "x"}, {"minimum": "0.001"}, {"name": " "},
                {"rates": [{"class": "mars", "per_minute": "1"}]}, {"trunk_rent": "abc"}, {"minimum": "1E+999999"},
                {"minimum": "NaN"}, {"minimum": "1E-999999"}, {"rates": [{"class": "local", "per_minute": 1e300}]},
                {"is_default": "yes"}, {"rates": "local"}):
        with pytest.raises(ValidationError):
            billing.save(None, {**PLAN, **bad}, actor="admin")
    assert not m.RatePlan.select().exists()
    billing.save(None, PLAN, actor="admin")
    with pytest.raises(Conflict):
        billing.save(None, PLAN, actor="admin")


def test_a_plan_reads_back_in_yuan_and_one_default_at_most(billing):
    first = billing.save(None, PLAN, actor="admin")
    assert first["rates"][0] == {"class": "local", "per_minute": "0.10"}
    assert (first["call_fee"], first["trunk_rent"], first["is_default"]) == ("0.02", "100.00", True)
    second = billing.save(None, {**PLAN, "name": "联通"}, actor="admin")
    assert [p["is_default"] for p in billing.plans() if p["id"] == first["id"]] == [False]
    assert second["is_default"]
    assert m.AuditLog.select().where(m.AuditLog.object_type == "rate_plans").count() == 2
    billing.save(second["id"], {**PLAN, "name": "联通", "call_fee": "0.05"}, actor="admin")
    change = m.AuditLog.select().where(m.AuditLog.action == "update").get()
    assert json.loads(change.detail) == {"call_fee": "0.02 → 0.05"}


def test_the_writer_stores_each_calls_cost_at_hang_up(billing, db):
    plan = billing.save(None, PLAN, actor="admin")
    writer = CallRecordWriter(db, rate=billing.rate)
    writer.write(record("a", "02161234567", 61))  # local, 66 s billed at 0.10: 11 fen + 2
    writer.write(record("b", "01061234567", 60))  # long distance: 30 + 2
    writer.write(record("c", "13812345678", 0))  # answered, 0 s: nothing
    writer.write(record("d", "13812345678", None))  # not answered: nothing
    writer.write(record("e", "0044207946000", 30))  # no international price: not rated
    writer.write(record("f", "4001234567", 30, direction="inbound"))  # no inbound price: not rated
    writer.write(record("g", "1002", 30, direction="internal"))
    assert cost("a") == (13, PLAN["name"], "local")
    assert cost("b") == (32, PLAN["name"], "long_distance")
    assert cost("c")[0] == 0 and cost("d")[0] == 0
    assert cost("e") == (None, PLAN["name"], "international")
    assert cost("f") == (None, PLAN["name"], "inbound")
    assert cost("g") == (None, "", "internal")
    # a plan that rates inbound, on the trunk the call came in on
    billing.save(plan["id"], {**PLAN, "rates": [*PLAN["rates"], {"class": "inbound", "per_minute": "0.05"}]},
                 actor="admin")
    writer.write(record("f", "4001234567", 30, direction="inbound"))
    assert cost("f") == (7, PLAN["name"], "inbound")  # 60 s at 0.05 (5 fen) + 0.02


def test_a_trunks_own_plan_rates_its_calls(billing, db):
    billing.save(None, PLAN, actor="admin")
    cheap = billing.save(None, {**PLAN, "name": "cheap", "is_default": False, "call_fee": "0",
                                "rates": [{"class": "local", "per_minute": "0.01"}]}, actor="admin")
    billing.assign("unicom", cheap["id"], actor="admin")
    writer = CallRecordWriter(db, rate=billing.rate)
    writer.write(record("u", "02161234567", 120, trunk="unicom"))
    assert cost("u") == (2, "cheap", "local")


def test_a_dids_own_plan_rates_its_incoming_calls_a_400_number(billing, db):
    billing.save(None, PLAN, actor="admin")  # the default: no price for incoming calls
    free_phone = billing.save(None, {**PLAN, "name": "400 被叫付费", "is_default": False, "call_fee": "0",
                                     "rates": [{"class": "inbound", "per_minute": "0.12"}]}, actor="admin")
    m.Did.create(number="4008001234")
    m.Did.create(number="88001000")
    billing.assign_did("4008001234", free_phone["id"], actor="admin")
    writer = CallRecordWriter(db, rate=billing.rate)
    writer.write({**record("in400", "13912345678", 120, direction="inbound"), "did": "4008001234"})
    writer.write({**record("in88", "13912345678", 120, direction="inbound"), "did": "88001000"})
    writer.write(record("out", "02161234567", 120))  # outgoing calls keep their trunk's plan
    assert cost("in400") == (24, "400 被叫付费", "inbound")  # 2 minutes at 0.12
    assert cost("in88") == (None, "电信标准", "inbound")  # the trunk's plan prices no incoming call
    assert cost("out")[1] == "电信标准"
    assert {d["number"]: d["plan_id"] for d in billing.dids()} == {"4008001234": free_phone["id"], "88001000": None}
    billing.assign_did("4008001234", None, actor="admin")  # back to the trunk's plan
    writer.write({**record("again", "13912345678", 60, direction="inbound"), "did": "4008001234"})
    assert cost("again")[0] is None
    assert m.AuditLog.select().where(m.AuditLog.object_type == "did_rate_plan").count() == 2
    with pytest.raises(NotFound):
        billing.assign_did("999", free_phone["id"], actor="admin")


def test_a_rating_that_fails_leaves_the_call_written(db):
    def broken(_record):
        raise RuntimeError("boom")

    CallRecordWriter(db, rate=broken).write(record("x", "02161234567", 10))
    assert cost("x") == (None, "", "")


def seed_month(billing, db):
    billing.save(None, PLAN, actor="admin")
    writer = CallRecordWriter(db, rate=billing.rate)
    writer.write(record("a", "02161234567", 61))  # 13 fen, telecom, agent 1001 (team sales)
    writer.write(record("b", "01061234567", 60, agent="1002", trunk="unicom"))  # 32 fen
    writer.write(record("c", "13812345678", 125, queue="", agent="1001"))  # 3 units: 0.15*66/60... see below
    writer.write(record("n", "02161234567", 61, at=T0 - 40 * 86400))  # October: not in November's bill
    return writer


def test_the_months_bill_per_trunk_team_and_agent_with_rents(billing, db):
    seed_month(billing, db)
    c = m.CallRecord.get(m.CallRecord.linkedid == "c").cost  # 126 s billed at 0.15: 31.5 -> 32 fen, + 2
    assert c == 34
    bill = billing.bill("2026-11")
    trunks = {r["name"]: r for r in bill["trunks"]}
    assert trunks["telecom"]["calls_fen"] == 13 + 34 and trunks["telecom"]["rent_fen"] == 10000
    assert trunks["unicom"]["calls_fen"] == 32 and trunks["unicom"]["total_fen"] == 32 + 10000
    agents = {r["name"]: r for r in bill["agents"]}
    assert (agents["1001"]["calls"], agents["1001"]["calls_fen"], agents["1001"]["rent_fen"]) == (2, 47, 3000)
    assert agents["1002"]["total_fen"] == 32 + 3000
    assert [(r["name"], r["calls_fen"]) for r in bill["teams"]] == [("sales", 79)]
    assert bill["total"] == {"calls_fen": 79, "rent_fen": 2 * 10000 + 2 * 3000, "total_fen": 79 + 26000,
                             "unrated": 0}


def test_rents_follow_agents_and_trunks_through_the_month_from_the_audit_log(billing, db):
    seed_month(billing, db)
    november = dt.datetime(2026, 10, 31, 16)  # its first midnight in Shanghai, UTC

    def line(days, action, kind, key, **detail):
        m.AuditLog.create(at=november + dt.timedelta(days=days), username="admin", action=action, object_type=kind,
                          object_id=key, detail=json.dumps(detail))
    m.Agent.create(number="1003", name="new")
    line(-90, "create", "agents", "1001")  # before the month: the whole rent
    line(15, "create", "agents", "1003")  # the second half of November
    line(-40, "create", "trunks", "old")
    line(10, "delete", "trunks", "old")  # the first third, gone since
    line(20, "update", "agents", "1002", number="2002", name="Bob")  # renamed: the rent follows
    m.Agent.update(number="2002").where(m.Agent.number == "1002").execute()
    line(40, "delete", "trunks", "unicom")  # deleted in December: still November's whole month
    bill = billing.bill("2026-11")
    rents = {r["name"]: r["rent_fen"] for r in bill["agents"]}
    assert (rents["1001"], rents["1003"], rents["2002"], rents.get("1002", 0)) == (3000, 1500, 3000, 0)
    trunks = {r["name"]: r["rent_fen"] for r in bill["trunks"]}
    assert trunks == {"telecom": 10000, "unicom": 10000, "old": 3333}
    assert bill["total"]["rent_fen"] == 10000 + 10000 + 3333 + 3000 + 1500 + 3000
    # October: 1003 did not exist yet, the old trunk did all month
    october = billing.bill("2026-10")
    assert "1003" not in {r["name"] for r in october["agents"]} and {r["name"]: r["rent_fen"] for r in
                                                                       october["trunks"]}["old"] == 10000


def test_a_changed_rate_re_rates_a_past_month_audited_with_before_and_after(billing, db):
    seed_month(billing, db)
    plan = billing.plans()[0]
    billing.save(plan["id"], {**PLAN, "call_fee": "0", "rates": [{"class": "local", "per_minute": "0.20"},
                                                                  {"class": "long_distance", "per_minute": "0.30"},
                                                                  {"class": "mobile", "per_minute": "0.15"}]},
                 actor="admin")
    assert billing.month_total("2026-11") == 79  # a price change alone does not touch the past
    result = billing.rerate("2026-11", actor="admin")
    # a: 66 s at 0.20 = 22; b: 30; c: 31.5 -> 32
    assert (result["before_fen"], result["after_fen"], result["calls"], result["changed"]) == (79, 84, 3, 3)
    assert (result["before"], result["after"]) == ("0.79", "0.84")
    assert cost("a")[0] == 22 and cost("n")[0] == 13  # October untouched
    from appliance.services.reports import ReportService  # the costs report's day summaries follow

    reports = ReportService(db, timezone=lambda: "Asia/Shanghai", today=lambda zone: dt.date(2026, 12, 5))
    assert reports.costs(reports.spec({"from": "2026-11-01", "to": "2026-11-30"}))["total"]["cost_fen"] == 84
    audit = m.AuditLog.get(m.AuditLog.object_type == "billing_month")
    assert (audit.object_id, json.loads(audit.detail)["before_fen"], json.loads(audit.detail)["after_fen"]) == (
        "2026-11", 79, 84)


def test_the_bill_in_excel_has_money_as_numbers(billing, db):
    from openpyxl import load_workbook

    seed_month(billing, db)
    headers = {"month": "Month", "name": "Name", "calls": "Calls", "answered": "Answered", "talk_seconds": "Talk (s)",
               "calls_fen": "Calls (¥)", "rent_fen": "Rent (¥)", "total_fen": "Total (¥)", "unrated": "Not rated",
               "total": "Total", "no_team": "(no team)"}
    book = load_workbook(io.BytesIO(billing.export("2026-11", headers, {"trunk": "Trunks", "team": "Teams",
                                                                        "agent": "Agents"})))
    rows = list(book["Trunks"].values)
    assert rows[0] == ("Month", "2026-11", None, None, None, None, None, None)
    telecom = next(r for r in rows if r[0] == "telecom")
    assert telecom[4] == pytest.approx(0.47) and telecom[5] == 100 and isinstance(telecom[6], (int, float))
    assert rows[-1][0] == "Total" and rows[-1][6] == pytest.approx(260.79)


def test_bad_months_are_refused(billing):
    for month in ("2026-13", "26-11", "", "2026-1"):
        with pytest.raises(ValidationError):
            billing.bill(month)


def test_re_rating_goes_through_a_month_of_more_than_one_batch(billing, db):
    billing.save(None, PLAN, actor="admin")
    at = dt.datetime(2026, 11, 10, 2, 0)
    m.CallRecord.insert_many([{"linkedid": f"x{i}", "direction": "outbound", "caller": "02161234567",
                               "trunk": "telecom", "enter_time": at, "answer_time": at, "end_time": at,
                               "talk_seconds": 60.0, "disposition": "answered"} for i in range(2345)]).execute()
    result = billing.rerate("2026-11", actor="admin")
    assert (result["calls"], result["changed"], result["after_fen"]) == (2345, 2345, 2345 * 12)
    assert billing.rerate("2026-11", actor="admin")["changed"] == 0


def test_the_migration_leaves_older_call_records_unrated(tmp_path):
    from appliance.db import open_database
    from appliance.db.migrate import available, migrate

    mine = next(number for number, name in available() if name.endswith("_rating"))
    old = open_database(tmp_path / "old.db")
    migrate(old, mine - 1)
    old.execute_sql("""INSERT INTO call_record (linkedid, direction, caller, caller_name, did, trunk, queue, agent,
                       enter_time, wait_seconds, talk_seconds, disposition, fallback_reason, route_rule, survey)
                       VALUES ('old.1', 'outbound', '13812345678', '', '', 'pstn', '', '1001', '2026-11-01 02:00:00',
                       1, 30, 'answered', '', '', '')""")
    migrate(old)
    row = m.CallRecord.get(m.CallRecord.linkedid == "old.1")
    assert (row.cost, row.rate_plan, row.destination_class) == (None, "", "")
    old.close()
