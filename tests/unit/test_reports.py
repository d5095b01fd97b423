"""Reports from the 15-minute buckets against seeded calls with known figures: written
through the call-record writer (the engine's path), a call crossing the office's midnight,
the agent-state log cut at the range's ends, rebuild, and bad filters; and the reports read
from their own tables (the voice menus' turns through the FastAGI handler, callers by region
and trunk, costs, campaign attempts, sales) against seeded figures on two later days."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest

from appliance.db import models as m
from appliance.db.writers import AgentStateWriter, CallRecordWriter
from appliance.errors import ValidationError
from appliance.services import reports
from appliance.services.config import ConfigService
from appliance.services.reports import ReportService, Spec, rebuild_buckets

SHANGHAI = ZoneInfo("Asia/Shanghai")
D1, D2 = dt.date(2026, 3, 2), dt.date(2026, 3, 3)  # a Monday and the Tuesday after


def at(day: dt.date, hh: int, mm: int, ss: int = 0) -> float:
    return dt.datetime(day.year, day.month, day.day, hh, mm, ss, tzinfo=SHANGHAI).timestamp()


def call(linkedid, enter, *, queue="", did="", agent="", wait=0.0, talk=0.0, disposition=None,
         direction="inbound", caller="", survey_score=None, trunk="", **rated):
    """A call record as the engine writes it; ``rated``: ``cost`` and ``destination_class``."""
    answered = talk > 0
    end = enter + wait + talk
    return {**rated, "linkedid": linkedid, "direction": direction, "caller": caller, "caller_name": "", "did": did,
            "trunk": trunk,
            "queue": queue, "agent": agent, "enter_time": enter, "answer_time": enter + wait if answered else None,
            "end_time": end, "wait_seconds": wait, "talk_seconds": talk,
            "disposition": disposition or ("answered" if answered else "abandoned"), "fallback_reason": "",
            "hangup_cause": 16, "route_rule": "did", "survey": "rated" if survey_score else "",
            "survey_score": survey_score}


CALLS = [
    call("a", at(D1, 9, 0), queue="sales", did="4001", agent="1001", wait=10, talk=100, survey_score=5),
    call("b", at(D1, 9, 10), queue="sales", did="4001", agent="1001", wait=30, talk=200, survey_score=2),
    call("c", at(D1, 9, 20), queue="sales", did="4001", wait=40, caller="13912345678"),
    call("d", at(D1, 14, 0), queue="sales", did="4001", disposition="fallback"),
    # crossing the office's midnight: entered on D1, ended on D2 (00:04:20)
    call("e", at(D1, 23, 59), queue="support", did="4002", agent="1002", wait=20, talk=300),
    call("f", at(D2, 8, 0), queue="support", did="4002", agent="1002", wait=5, talk=60, survey_score=1),
    # the abandoned caller called back by 1001 at 10:00
    call("cb", at(D1, 10, 0), agent="1001", wait=15, talk=50, direction="outbound", caller="+8613912345678"),
]
STATES = [("1001", "free", "", at(D1, 8, 0)), ("1001", "in_call", "", at(D1, 9, 0)),
          ("1001", "wrapup", "", at(D1, 9, 1, 50)),  # call a ended at 09:01:50: 30 s of wrap-up
          ("1001", "free", "", at(D1, 9, 2, 20)), ("1001", "paused", "lunch", at(D1, 12, 0)),
          ("1001", "free", "", at(D1, 13, 0)), ("1001", "logged_out", "", at(D1, 17, 0)),
          ("1002", "free", "", at(D1, 23, 0)), ("1002", "logged_out", "", at(D2, 1, 0))]


@pytest.fixture
def seeded(db):
    cfg = ConfigService(db)
    cfg.create("queues", {"name": "sales"}, actor="t")  # service level 20 s (the default)
    cfg.create("queues", {"name": "support"}, actor="t")
    writer, states = CallRecordWriter(db), AgentStateWriter(db)
    for rec in CALLS:
        writer.write(rec)
    writer.write(CALLS[0])  # written twice (the writer replaces): counted once
    for agent, state, reason, when in STATES:
        states.write(SimpleNamespace(agent=agent, state=state, reason=reason, at=when))
    return ReportService(db, timezone=lambda: "Asia/Shanghai", today=lambda zone: dt.date(2026, 3, 10))


def day_args(first=D1, last=D1, **more):
    return {"from": first.isoformat(), "to": last.isoformat(), **more}


def test_the_day_of_the_office_with_a_call_crossing_midnight(seeded):
    result = seeded.traffic(seeded.spec(day_args()))
    assert [r["period"] for r in result["rows"]] == ["2026-03-02"]
    t = result["totals"]
    assert (t["offered"], t["answered"], t["abandoned"], t["no_agent"], t["answered_in_time"]) == (5, 3, 1, 1, 2)
    assert t["offered"] == t["answered"] + t["abandoned"] + t["no_agent"]
    assert t["service_level"] == 0.4 and t["asa"] == 20.0  # (10 + 30 + 20) / 3
    assert t["handled"] == 4 and t["talk_seconds"] == 650.0 and t["wrapup_seconds"] == 30.0
    assert t["aht"] == 170.0  # (650 + 30) / 4
    assert t["calls"] == 6
    # the next day holds only f: the call crossing midnight is the first day's
    d2 = seeded.traffic(seeded.spec(day_args(D2, D2)))["totals"]
    assert (d2["offered"], d2["answered"], d2["talk_seconds"]) == (1, 1, 60.0)


def test_grains_and_filters(seeded):
    hours = seeded.traffic(seeded.spec(day_args(D1, D2, grain="hour")))["rows"]
    assert len(hours) == 48 and hours[0]["period"] == "2026-03-02 00:00"
    by = {r["period"]: r for r in hours}
    assert by["2026-03-02 09:00"]["offered"] == 3 and by["2026-03-02 23:00"]["offered"] == 1
    assert by["2026-03-03 08:00"]["answered"] == 1 and by["2026-03-02 10:00"]["offered"] == 0
    quarters = seeded.traffic(seeded.spec(day_args(grain="15min")))["rows"]
    assert len(quarters) == 96 and {r["period"]: r["offered"] for r in quarters}["2026-03-02 09:15"] == 1
    week = seeded.traffic(seeded.spec(day_args(D1, D2, grain="week")))["rows"]
    assert [(r["period"], r["offered"]) for r in week] == [("2026-03-02", 6)]
    month = seeded.traffic(seeded.spec(day_args(D1, D2, grain="month")))["rows"]
    assert [(r["period"], r["answered"]) for r in month] == [("2026-03", 4)]
    support = seeded.traffic(seeded.spec(day_args(D1, D2, queue="support")))["totals"]
    assert (support["offered"], support["answered"], support["talk_seconds"]) == (2, 2, 360.0)
    assert seeded.traffic(seeded.spec(day_args(did="4001")))["totals"]["offered"] == 4
    agent = seeded.traffic(seeded.spec(day_args(agent="1001")))["totals"]
    assert (agent["handled"], agent["talk_seconds"], agent["wrapup_seconds"]) == (3, 350.0, 30.0)
    out = seeded.traffic(seeded.spec(day_args(direction="outbound")))["totals"]
    assert (out["calls"], out["offered"], out["handled"]) == (1, 0, 1)


def test_team_efficiency_per_queue(seeded):
    result = seeded.queues(seeded.spec(day_args()))
    rows = {r["queue"]: r for r in result["rows"]}
    sales, support = rows["sales"], rows["support"]
    assert (sales["offered"], sales["answered"], sales["abandoned"], sales["no_agent"]) == (4, 2, 1, 1)
    assert sales["service_level"] == 0.25 and sales["asa"] == 20.0 and sales["wrapup_seconds"] == 30.0
    assert (support["offered"], support["answered"], support["talk_seconds"]) == (1, 1, 300.0)
    assert result["totals"]["offered"] == 5 and set(rows) == {"sales", "support"}  # the call back has no queue


def test_heatmap_by_weekday_and_hour_on_the_office_clock(seeded):
    heat = seeded.heatmap(seeded.spec(day_args(D1, D2)))
    grid = heat["grid"]
    assert grid[0][9] == 3 and grid[0][14] == 1 and grid[0][23] == 1 and grid[1][8] == 1
    assert heat["total"] == 6  # inbound only: the call back is outgoing


def test_agent_efficiency_from_the_state_log_and_the_calls(seeded):
    rows = {r["agent"]: r for r in seeded.agents(seeded.spec(day_args()))["rows"]}
    a = rows["1001"]
    assert (a["signed_in"], a["paused"], a["wrapup"], a["talk"], a["handled"]) == (32400.0, 3600.0, 30.0, 350.0, 3)
    assert a["pauses"] == {"lunch": 3600.0}
    assert a["occupancy"] == round(380 / 28800, 4) and a["calls_per_hour"] == round(3 / 9, 2)
    # 1002 was signed in 23:00-01:00: one hour on each day
    assert rows["1002"]["signed_in"] == 3600.0
    assert {r["agent"]: r["signed_in"] for r in seeded.agents(seeded.spec(day_args(D2, D2)))["rows"]}["1002"] == 3600.0
    # an agent sees their own figures only
    own = seeded.agents(seeded.spec(day_args(), agents=frozenset({"1002"})))["rows"]
    assert [r["agent"] for r in own] == ["1002"]
    with pytest.raises(ValidationError) as err:
        seeded.spec(day_args(agent="1001"), agents=frozenset({"1002"}))
    assert err.value.fields["agent"].msgid == "reports.error.not_your_agent"


def test_each_agents_timeline_for_a_day(seeded):
    rows = seeded.timeline(seeded.spec(day_args()))["rows"]
    alice = [(r["state"], r["reason"], r["start"][11:], r["end"][11:]) for r in rows if r["agent"] == "1001"]
    assert alice == [("free", "", "08:00:00", "09:00:00"), ("in_call", "", "09:00:00", "09:01:50"),
                     ("wrapup", "", "09:01:50", "09:02:20"), ("free", "", "09:02:20", "12:00:00"),
                     ("paused", "lunch", "12:00:00", "13:00:00"), ("free", "", "13:00:00", "17:00:00"),
                     ("logged_out", "", "17:00:00", "00:00:00")]  # still signed out: to the day's end
    bob = [r for r in rows if r["agent"] == "1002"]
    assert [(r["state"], r["start"][11:], r["seconds"], r["offsets"]) for r in bob] == [
        ("free", "23:00:00", 3600.0, [23 * 3600, 24 * 3600])]  # cut at midnight
    with pytest.raises(ValidationError) as err:
        seeded.timeline(seeded.spec(day_args(D1, D2)))
    assert err.value.fields["to"].msgid == "reports.error.one_day"


def test_abandoned_calls_with_their_call_back(seeded):
    result = seeded.abandoned(seeded.spec(day_args()))
    assert result["total"] == 1 and result["called_back"] == 1
    [row] = result["rows"]
    assert (row["linkedid"], row["enter_time"], row["wait_seconds"]) == ("c", "2026-03-02 09:20:00", 40.0)
    assert (row["called_back_at"], row["called_back_by"], row["called_back_answered"]) == ("2026-03-02 10:00:00",
                                                                                            "1001", True)
    assert row["called_back_after"] == 40 * 60 - 40  # 09:20:40 -> 10:00


def test_survey_scores_per_agent_and_queue_with_the_low_ones(seeded):
    result = seeded.surveys(seeded.spec(day_args(D1, D2)))
    assert {a["name"]: (a["count"], a["average"]) for a in result["agents"]} == {"1001": (2, 3.5), "1002": (1, 1.0)}
    assert {q["name"]: q["by_score"] for q in result["queues"]} == {"sales": [0, 1, 0, 0, 1], "support": [1, 0, 0, 0, 0]}
    assert [(r["linkedid"], r["score"]) for r in result["low"]] == [("b", 2), ("f", 1)]
    assert result["rated"] == 3 and result["asked"] == 3


def test_rebuild_gives_the_same_figures(seeded, db):
    spec = seeded.spec(day_args(D1, D2, grain="hour"))
    before = seeded.traffic(spec)
    m.ReportBucket.delete().execute()
    assert seeded.traffic(spec)["totals"]["offered"] == 0
    assert rebuild_buckets(db) > 0
    assert seeded.traffic(spec) == before
    # a rebuild of one day leaves the others as they were, the wrap-up counted once
    rebuild_buckets(db, dt.datetime(2026, 3, 1, 16), dt.datetime(2026, 3, 2, 16))
    assert seeded.traffic(spec) == before
    # and the raw computation (the benchmark's baseline) agrees, wrap-up aside
    raw = seeded.traffic_from_records(spec)["rows"]
    for mine, theirs in zip(before["rows"], raw):
        assert {k: v for k, v in mine.items() if k not in ("wrapup_seconds", "aht")} == \
               {k: v for k, v in theirs.items() if k not in ("wrapup_seconds", "aht")}


def test_bad_filters_are_clear(seeded, db):
    def fails(args, field, msgid):
        with pytest.raises(ValidationError) as err:
            seeded.spec(args)
        assert err.value.fields[field].msgid == msgid

    fails(day_args(D2, D1), "to", "reports.error.reversed")
    fails(day_args(dt.date(2020, 1, 1), dt.date(2023, 3, 1)), "to", "reports.error.too_long")
    fails(day_args(dt.date(2026, 3, 11), dt.date(2026, 3, 12)), "from", "reports.error.future")
    fails(day_args(D1, dt.date(2026, 3, 3), grain="15min", to="2026-04-05"), "grain", "reports.error.too_fine")
    fails(day_args(queue="nosuch"), "queue", "reports.error.no_queue")
    fails({"from": "2026-13-01"}, "from", "field.date_format")
    # a queue deleted since: its history is still reported, with a notice
    m.Queue.delete().where(m.Queue.name == "support").execute()
    spec = seeded.spec(day_args(queue="support"))
    assert spec["notices"] == [("reports.notice.deleted_queue", {"queue": "support"})]
    assert seeded.traffic(spec)["totals"]["offered"] == 1


def test_the_bucket_of_a_call(db):
    key, sums = reports.contribution(call("x", 900 * 3 + 899.5, queue="q", wait=25, talk=10), 20)
    assert key == (2700, "q", "", "", "inbound") and sums["answered_in_time"] == 0 and sums["answered"] == 1


# -- the web area: pages, API, Excel, roles ------------------------------------------------------
@pytest.fixture
def web(seeded, db):
    import webtest

    from appliance.bus import EventBus
    from appliance.services.users import UserService
    from webdeps import web_deps
    from webharness import Agents
    from webui.app import make_app

    users = UserService(db)
    for name, role, lang in (("sup", "supervisor", "en"), ("alice", "agent", "en"), ("boss", "admin", "en"),
                             ("zhang", "supervisor", "zh_CN")):
        users.create(name, "correct-horse-9", role, language=lang)
    cfg = ConfigService(db)
    cfg.create("phones", {"extension": "1001", "secret": "pw-1001-secret"}, actor="t")
    cfg.create("agents", {"number": "1001", "name": "Alice", "phone": "1001", "user": "alice"}, actor="t")
    deps = web_deps(db=db, config=cfg, users=users, agents=Agents(), health=lambda: {"status": "ok"},
                    live=lambda: {}, bus=EventBus(), reports=seeded)
    return webtest.TestApp(make_app(deps))


def sign_in(app, username):
    app.reset()
    form = app.get("/login").forms[0]
    form["username"], form["password"] = username, "correct-horse-9"
    form.submit()


def test_report_pages_api_and_excel(web):
    import io

    from openpyxl import load_workbook

    sign_in(web, "sup")
    page = web.get("/reports/traffic?from=2026-03-02&to=2026-03-02")
    assert "Traffic" in page.text and "40.0%" in page.text and 'id="report-chart-data"' in page.text
    for kind in ("queues", "heatmap", "agents", "abandoned", "surveys"):
        assert web.get(f"/reports/{kind}?from=2026-03-02&to=2026-03-03").status_int == 200
    api = web.get("/api/v1/reports/traffic?from=2026-03-02&to=2026-03-02").json
    assert api["totals"]["offered"] == 5 and api["timezone"] == "Asia/Shanghai"
    book = load_workbook(io.BytesIO(web.get("/reports/traffic/export?from=2026-03-02&to=2026-03-02&queue=sales").body))
    sheet = book.active
    cells = list(sheet.iter_rows(values_only=True))
    assert cells[0][0] == "Traffic" and cells[1][0] == "2026-03-02 to 2026-03-02 (Asia/Shanghai)"
    assert cells[2][0] == "queue sales"
    header = cells.index(next(r for r in cells if r[0] == "Period"))
    day = cells[header + 1]
    assert day[:5] == ("2026-03-02", 4, 2, 1, 1) and day[5] == 0.25  # a number, shown as %
    # surveys in Excel: three tables, the low scores with their calls
    book = load_workbook(io.BytesIO(web.get("/reports/surveys/export?from=2026-03-02&to=2026-03-03").body))
    texts = [r[0] for r in book.active.iter_rows(values_only=True)]
    assert "Low scores and their calls" in texts


def test_bad_filters_are_said_in_the_readers_language(web):
    sign_in(web, "sup")
    page = web.get("/reports/traffic?from=2026-03-03&to=2026-03-02")
    assert "the last day is before the first" in page.text
    assert web.get("/api/v1/reports/traffic?from=2026-03-03&to=2026-03-02", status=422).json["fields"]["to"]
    sign_in(web, "zhang")
    page = web.get("/reports/traffic?from=2026-01-01&to=2029-12-31")
    assert "一次最多查询 3 年" in page.text
    assert "没有队列 nosuch" in web.get("/reports/traffic?queue=nosuch").text
    assert "开始日期晚于今天" in web.get("/reports/traffic?from=2026-04-01&to=2026-04-02").text


def test_agents_see_their_own_efficiency_only(web):
    sign_in(web, "alice")
    assert web.get("/reports/traffic", status=404)
    assert web.get("/api/v1/reports/abandoned", status=404)
    own = web.get("/api/v1/reports/timeline?from=2026-03-02&to=2026-03-02").json["rows"]
    assert {r["agent"] for r in own} == {"1001"}
    rows = web.get("/api/v1/reports/agents?from=2026-03-02&to=2026-03-02").json["rows"]
    assert [r["agent"] for r in rows] == ["1001"] and rows[0]["talk"] == 350.0
    web.get("/api/v1/reports/agents?agent=1002", status=422)
    assert web.post_json("/api/v1/reports/rebuild", {}, status=403, expect_errors=True)


def test_the_admin_rebuilds_the_summaries(web, db):
    sign_in(web, "boss")
    m.ReportBucket.delete().execute()
    import re

    token = re.search(r'name="csrf_token" value="([^"]+)"', web.get("/reports").text).group(1)
    answer = web.post_json("/api/v1/reports/rebuild", {}, headers={"X-CSRF-Token": token}, expect_errors=True)
    assert answer.status_int == 200, answer.text
    assert answer.json["rows"] > 0 and m.ReportBucket.select().count() == answer.json["rows"]


def test_the_benchmark_at_100000_calls(tmp_path):
    """bench/reports.py's run at a hundredth of its size: the buckets and the raw records
    give the same month (the run checks it), and the figure is named as bench/results expects."""
    from bench import reports as bench_reports

    figures = bench_reports.run(100_000, write=False, folder=tmp_path)
    month = figures[0]
    assert month["figure"] == "month report latency" and month["unit"] == "ms" and month["baseline"] > 0
    assert month["call_records"] == 100_000 and 8000 < month["month_calls"] < 8500  # June: 30 of 365 days
    region = figures[1]  # the day summary by place against the raw records (the run checks them equal)
    assert region["figure"] == "month region report latency" and region["baseline"] > 0 and region["places"] > 100


def test_the_migration_summarises_the_calls_an_older_version_recorded(tmp_path):
    from appliance.db import open_database
    from appliance.db.migrate import available, migrate

    db = open_database(tmp_path / "old.db")
    mine = next(n for n, name in available() if name.endswith("_report_buckets"))
    migrate(db, target=mine - 1)
    for rec in CALLS:  # as the writer of that version wrote them: no buckets
        row = {**rec, **{k: reports.dt.datetime.utcfromtimestamp(rec[k]) if rec[k] is not None else None
                         for k in ("enter_time", "answer_time", "end_time")}}
        m.CallRecord.insert(**row).execute()
    migrate(db)
    service = ReportService(db, timezone=lambda: "Asia/Shanghai", today=lambda zone: dt.date(2026, 3, 10))
    totals = service.traffic(service.spec(day_args()))["totals"]
    assert (totals["offered"], totals["answered"], totals["talk_seconds"]) == (5, 3, 650.0)
    db.close()


# -- reports e-mailed on a schedule --------------------------------------------------------------
def test_the_last_complete_period():
    from appliance.services.report_schedule import last_period

    wednesday = dt.date(2026, 3, 4)
    assert last_period("daily", wednesday) == (dt.date(2026, 3, 3), dt.date(2026, 3, 3), "2026-03-03")
    assert last_period("weekly", wednesday) == (dt.date(2026, 2, 23), dt.date(2026, 3, 1), "2026-02-23")
    assert last_period("weekly", dt.date(2026, 3, 9)) == (D1, dt.date(2026, 3, 8), "2026-03-02")  # a Monday
    assert last_period("monthly", D1) == (dt.date(2026, 2, 1), dt.date(2026, 2, 28), "2026-02")


def test_a_scheduled_report_goes_through_the_outbox_once_per_period_and_waits_out_a_dead_server(seeded, db, tmp_path):
    import io
    import socket

    from openpyxl import load_workbook

    from appliance.mail import Outbox, SmtpConfig
    from appliance.services.report_schedule import ReportSchedules

    with socket.socket() as s:  # a port nobody listens on: the mail server is down
        s.bind(("127.0.0.1", 0))
        dead_port = s.getsockname()[1]
    outbox = Outbox(tmp_path / "outbox", SmtpConfig(host="127.0.0.1", port=dead_port, security="none", timeout=2))
    outbox._kick = lambda: None  # delivery is driven below
    schedules = ReportSchedules(db, seeded, outbox, tmp_path / "reports")
    made = schedules.create({"report": "traffic", "period": "daily", "recipients": "boss@example.cn; ops@example.cn",
                             "queue": "sales", "language": "en"}, actor="sup")
    assert made["recipients"] == "boss@example.cn, ops@example.cn"
    assert schedules.send_due(today=D2) == 1 and schedules.send_due(today=D2) == 0  # once per period
    [row] = schedules.list()
    assert (row["last_period"], row["last_error"]) == ("2026-03-02", "")
    assert outbox.deliver_due() == 0  # the server is down: kept and retried, shown on the health page
    status = outbox.status()
    assert status["queued"] == 1 and status["last_error"]
    [item] = [item for _, item in outbox._items(outbox.dir)]
    assert item["subject"] == "Traffic: 2026-03-02" and item["to"] == ["boss@example.cn", "ops@example.cn"]
    book = load_workbook(io.BytesIO(Path(item["attachments"][0]).read_bytes()))
    cells = list(book.active.iter_rows(values_only=True))
    assert cells[2][0] == "queue sales" and cells[-1][:4] == ("Total", 4, 2, 1)  # D1's sales calls, by hour


def test_a_schedule_with_mail_off_says_so_and_bad_input_is_refused(seeded, db, tmp_path):
    from appliance.mail import Outbox, SmtpConfig
    from appliance.services.report_schedule import ReportSchedules

    schedules = ReportSchedules(db, seeded, Outbox(tmp_path / "o", SmtpConfig(host="")), tmp_path / "r")
    schedules.create({"report": "agents", "period": "weekly", "recipients": "boss@example.cn"}, actor="sup")
    assert schedules.send_due(today=D2) == 0
    assert schedules.list()[0]["last_error"] == "mail-off" and schedules.list()[0]["last_period"] == ""
    with pytest.raises(ValidationError) as err:
        schedules.create({"report": "nope", "period": "hourly", "recipients": "not-an-address", "queue": "gone"},
                         actor="sup")
    assert set(err.value.fields) == {"report", "period", "recipients", "queue"}


def test_schedules_on_the_page_and_in_the_api(web):
    import re

    sign_in(web, "zhang")
    page = web.get("/reports/schedules")
    assert "定时邮件报表" in page.text and 'id="mail-off"' in page.text
    form = page.forms["schedule-form"]
    form["report"], form["period"], form["recipients"] = "abandoned", "monthly", "坏地址"
    refused = form.submit(status=422)
    assert "不是有效的邮箱地址：坏地址" in refused.text
    form = refused.forms["schedule-form"]
    form["recipients"] = "boss@example.cn"
    form.submit(status=302)
    listed = web.get("/api/v1/report-schedules").json["items"]
    assert [(s["report"], s["period"], s["language"]) for s in listed] == [("abandoned", "monthly", "zh_CN")]
    token = re.search(r'name="csrf_token" value="([^"]+)"', web.get("/reports/schedules").text).group(1)
    web.delete(f"/api/v1/report-schedules/{listed[0]['id']}", headers={"X-CSRF-Token": token}, status=204)
    assert web.get("/api/v1/report-schedules").json["items"] == []
    sign_in(web, "alice")
    web.get("/reports/schedules", status=403)


@pytest.mark.parametrize("zone, day, hours", [("Asia/Kathmandu", dt.date(2026, 3, 2), 24),  # UTC+5:45
                                              ("Europe/Berlin", dt.date(2026, 3, 29), 23)])  # clocks go forward
def test_every_zones_day_is_whole_buckets(db, zone, day, hours):
    service = ReportService(db, timezone=lambda: zone, today=lambda z: dt.date(2026, 4, 30))
    spec = service.spec(day_args(day, day, grain="hour"))
    assert spec["first"] == reports.epoch(spec["start"]) and spec["last"] == reports.epoch(spec["end"])
    assert len(service.traffic(spec)["rows"]) == hours
    # a call in the day's first and last second on that clock is the day's, not the neighbours'
    writer = CallRecordWriter(db)
    tz = ZoneInfo(zone)
    first = dt.datetime(day.year, day.month, day.day, tzinfo=tz).timestamp()
    writer.write(call("first", first, queue="q"))
    writer.write(call("last", first + hours * 3600 - 1, queue="q"))
    writer.write(call("next", first + hours * 3600, queue="q"))
    assert service.traffic(service.spec(day_args(day, day)))["totals"]["offered"] == 2


def test_the_rebuild_command(db, tmp_path, capsys):
    from appliance.db import open_database
    from appliance.db.migrate import migrate

    path = tmp_path / "cli.db"
    other = open_database(path)
    migrate(other)
    other.close()
    assert reports._main(["rebuild", "--db", str(path), "--from", "2026-03-01", "--to", "2026-03-31"]) == 0
    assert "0 bucket rows written" in capsys.readouterr().out
    # everything (`make reports-rebuild`, the console): a month at a time, with progress
    other = open_database(path)
    writer = CallRecordWriter(other)
    for rec in CALLS:
        writer.write(rec)
    m.ReportBucket.delete().execute()
    assert reports.rebuild_spans(other) == [(None, dt.datetime(2026, 3, 2)),
                                            (dt.datetime(2026, 3, 2), dt.datetime(2026, 3, 4)),
                                            (dt.datetime(2026, 3, 4), None)]
    other.close()
    assert reports._main(["rebuild", "--db", str(path)]) == 0
    out = capsys.readouterr().out
    assert "1/3 spans, 0 rows" in out and "3/3 spans" in out
    other = open_database(path)
    service = ReportService(other, timezone=lambda: "Asia/Shanghai", today=lambda zone: dt.date(2026, 3, 10))
    assert service.traffic(service.spec(day_args()))["totals"]["offered"] == 5
    other.close()


# -- the voice menus, regions, trunks, costs, outbound results, sales (two later days) ----------
D3, D4 = dt.date(2026, 3, 4), dt.date(2026, 3, 5)
MORE = [
    call("r1", at(D3, 9, 0), queue="sales", did="4001", agent="1001", wait=10, talk=100, caller="13912345678",
         trunk="pstn"),
    call("r2", at(D3, 9, 5), queue="sales", did="4001", wait=30, caller="+8613912340001", trunk="pstn"),  # same segment
    call("r3", at(D3, 10, 0), queue="support", did="4002", agent="1002", wait=5, talk=60, caller="075588889999",
         trunk="unicom", cost=12, destination_class="inbound"),
    call("r4", at(D3, 11, 0), queue="sales", did="4001", caller="anonymous", trunk="pstn", disposition="fallback"),
    call("r5", at(D3, 12, 0), agent="1001", talk=90, direction="outbound", caller="13812345678", trunk="pstn",
         cost=30, destination_class="mobile"),
    call("r6", at(D3, 13, 0), agent="1002", talk=200, direction="outbound", caller="01088889999", trunk="unicom",
         cost=70, destination_class="long_distance"),
    call("r7", at(D3, 14, 0), agent="1001", talk=10, direction="outbound", caller="13812345678", trunk="pstn"),  # unrated
    call("r8", at(D3, 15, 0), agent="1001", talk=30, direction="internal", caller="1002"),
]


def utc(ts: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(ts, dt.timezone.utc).replace(tzinfo=None)


@pytest.fixture
def more(seeded, db):
    """MORE's calls; three callers' turns in two menus through the FastAGI handler; a campaign's
    attempts, one at 00:30 on D4 (16:30 UTC on D3: the office's next day); three orders."""
    from appliance.agi.handlers import menu as menu_agi
    from appliance.db.writers import MenuStepWriter
    from appliance.engine.menus import Action, Menu, MenuTable

    cfg = ConfigService(db)
    cfg.create("trunks", {"name": "pstn", "display_name": "中国电信", "host": "192.0.2.1"}, actor="t")
    writer = CallRecordWriter(db)
    for rec in MORE:
        writer.write(rec)
    table = MenuTable(menus={
        "main": Menu("main", ("hello",), {"1": Action("menu", "sales-menu")}, max_tries=3,
                     on_timeout=Action("hangup"), on_invalid=Action("hangup")),
        "sales-menu": Menu("sales-menu", ("sales",), {"2": Action("queue", "sales"), "*": Action("hangup")})},
        queues=frozenset({"sales"}))
    steps = MenuStepWriter(db)
    handler = menu_agi.make_handler(lambda: table, on_step=lambda row: steps.write({**row, "at": utc(at(D3, 9, 0))}))

    class Session:
        def set_variable(self, name, value):
            pass

        def set_variables(self, variables):
            pass

        def get_variable(self, name):
            return ""

    def turns(linkedid, *steps_taken):
        for event, name, tries, keys in steps_taken:
            handler(Session(), SimpleNamespace(args=[event, name, "menu", str(tries), "1", keys], callerid="139",
                                               channel="PJSIP/pstn-1", linkedid=linkedid))

    # r1: a wrong key, the sales menu, its queue; r3: silent once, then hangs up in the menu;
    # r4: the sales menu, then its goodbye key
    turns("r1", ("enter", "main", 0, ""), ("keys", "main", 0, "5"), ("keys", "main", 1, "1"),
          ("keys", "sales-menu", 0, "2"))
    turns("r3", ("enter", "main", 0, ""), ("keys", "main", 0, ""))
    turns("r4", ("enter", "main", 0, ""), ("keys", "main", 0, "1"), ("keys", "sales-menu", 0, "*"))
    # a caller of no call record (a DID filter leaves them out) silent three times: the timeout action
    turns("t1", ("enter", "main", 0, ""), ("keys", "main", 0, ""), ("keys", "main", 1, ""), ("keys", "main", 2, ""))
    # a campaign's attempts
    calls = m.CallList.create(name="spring")
    campaign = m.Campaign.create(name="spring", display_name="春季回访")
    for n, (agent, result, when) in enumerate((
            ("1001", "answered", at(D3, 9, 0)), ("1001", "no-answer", at(D3, 9, 10)), ("1001", "busy", at(D3, 9, 20)),
            ("1002", "answered", at(D3, 10, 0)), ("1002", "skipped", at(D3, 10, 5)), ("1002", "refused", at(D3, 10, 6)),
            ("1002", "abandoned", at(D3, 10, 30)), ("1001", "machine", at(D3, 11, 0)),
            ("1001", "failed", at(D4, 0, 30)))):
        entry = m.CallListEntry.create(call_list=calls, number=f"+86138000000{n:02d}", number_key=str(n))
        m.CampaignAttempt.create(campaign=campaign, entry=entry, agent=agent, number=entry.number, result=result,
                                 started_at=utc(when))
    # orders: two sold on D3 (one by 1001 of two products), one still in review (not a sale)
    for agent, state, items in (("1001", "approved", (("A1", "面霜", 2, 9900), ("B2", "口红", 1, 5000))),
                                ("1002", "shipped", (("A1", "面霜", 1, 9900),)), ("1001", "review", (("B2", "口红", 3, 5000),))):
        order = m.SalesOrder.create(agent=agent, state=state, created_at=utc(at(D3, 16, 0)),
                                    total_fen=sum(q * p for _, _, q, p in items))
        for code, name, quantity, price in items:
            m.OrderItem.create(order=order, code=code, name=name, quantity=quantity, list_price_fen=price, price_fen=price)
    return seeded


def test_ivr_keys_per_menu_and_where_callers_left(more):
    result = more.ivr(more.spec(day_args(D3, D3)))
    rows = {r["menu"]: r for r in result["rows"]}
    main, sales = rows["main"], rows["sales-menu"]
    assert (main["entered"], main["keys"], main["invalid"], main["timeout"]) == (4, {"1": 2}, 1, 4)
    assert {k: n for k, n in main["left"].items() if n} == {"hung_up": 1, "hangup": 1}  # r3 gone; t1 sent away
    assert (main["left_after_timeout"], main["left_after_invalid"]) == (1, 0)
    assert (sales["entered"], sales["keys"]) == (2, {"2": 1, "*": 1})
    assert {k: n for k, n in sales["left"].items() if n} == {"queue": 1, "hangup": 1}
    assert sales["left_after_timeout"] == 0 and result["calls"] == 4
    # the filter keeps the calls whose record matches: DID 4002 is r3's alone
    only = {r["menu"]: r for r in more.ivr(more.spec(day_args(D3, D3, did="4002")))["rows"]}
    assert set(only) == {"main"} and only["main"]["entered"] == 1 and only["main"]["left"]["hung_up"] == 1
    assert more.ivr(more.spec(day_args(D4, D4)))["rows"] == []


def test_callers_by_province_and_city_mobiles_too(more):
    spec = more.spec(day_args(D3, D3))
    result = more.regions(Spec(spec, lang="zh_CN"))
    provinces = {r["province"]: (r["calls"], r["answered"], r["abandoned"], r["talk_seconds"])
                 for r in result["provinces"]}
    assert provinces == {"江苏省": (2, 1, 1, 100.0), "广东省": (1, 1, 0, 60.0), "": (1, 0, 0, 0.0)}  # incoming only
    assert [(r["province"], r["city"], r["calls"]) for r in result["cities"]] == [
        ("江苏省", "常州市", 2), ("", "", 1), ("广东省", "深圳市", 1)]
    english = more.regions(Spec(spec, lang="en"))["cities"]
    assert ("Jiangsu", "Changzhou", 0.5) in [(r["province"], r["city"], r["answer_rate"]) for r in english]
    outgoing = more.regions(more.spec(day_args(D3, D3, direction="outbound")))["provinces"]
    assert {r["province"]: r["calls"] for r in outgoing} == {"Jiangsu": 2, "Beijing": 1}


def test_calls_by_trunk_and_direction(more):
    rows = {(r["trunk"], r["direction"]): r for r in more.trunks(more.spec(day_args(D3, D3)))["rows"]}
    assert set(rows) == {("pstn", "inbound"), ("pstn", "outbound"), ("unicom", "inbound"), ("unicom", "outbound")}
    pstn = rows[("pstn", "inbound")]
    assert (pstn["name"], pstn["calls"], pstn["answered"], pstn["abandoned"], pstn["talk_seconds"]) == (
        "中国电信", 3, 1, 1, 100.0)
    assert (rows[("pstn", "outbound")]["calls"], rows[("pstn", "outbound")]["talk_seconds"]) == (2, 100.0)
    assert rows[("unicom", "outbound")]["average_talk"] == 200.0


def test_costs_by_trunk_agent_team_and_class(more):
    result = more.costs(more.spec(day_args(D3, D3)))

    def by(part):
        return {r["key"]: (r["calls"], r["rated"], r["unrated"], r["cost_fen"]) for r in result[part]}
    assert by("trunks") == {"pstn": (5, 1, 2, 30), "unicom": (2, 2, 0, 82)}  # internal r8 is never charged
    assert by("agents") == {"1001": (3, 1, 2, 30), "1002": (2, 2, 0, 82), "": (2, 0, 0, 0)}
    assert by("teams") == {"sales": (3, 0, 1, 0), "support": (1, 1, 0, 12), "": (3, 2, 1, 100)}
    assert {r["key"]: r["cost"] for r in result["classes"]} == {"long_distance": 0.7, "mobile": 0.3, "inbound": 0.12,
                                                                 "": 0.0}
    assert result["total"] == {"cost_fen": 112, "cost": 1.12, "calls": 7, "unrated": 2}
    assert more.costs(more.spec(day_args(D3, D3, agent="1002")))["total"]["cost_fen"] == 82


def test_outbound_results_by_campaign_agent_and_office_day(more):
    result = more.outbound(more.spec(day_args(D3, D4)))
    [spring] = result["campaigns"]
    assert (spring["key"], spring["name"], spring["dialled"], spring["answered"], spring["abandoned"],
            spring["machine"], spring["no_answer"], spring["busy"], spring["failed"], spring["skipped"],
            spring["refused"], spring["answer_rate"]) == ("spring", "春季回访", 7, 2, 1, 1, 1, 1, 1, 1, 1, 0.2857)
    assert {r["key"]: (r["dialled"], r["answered"]) for r in result["agents"]} == {"1001": (5, 1), "1002": (2, 1)}
    assert {r["key"]: r["dialled"] for r in result["days"]} == {"2026-03-04": 6, "2026-03-05": 1}
    assert [r["dialled"] for r in more.outbound(more.spec(day_args(D3, D3)))["days"]] == [6]  # 00:30 is D4's
    own = more.outbound(more.spec(day_args(D3, D4), agents=frozenset({"1002"})))
    assert [r["key"] for r in own["agents"]] == ["1002"]


def test_new_reports_on_pages_in_excel_and_in_the_api(web, more):
    import io

    from openpyxl import load_workbook

    sign_in(web, "zhang")
    page = web.get("/reports/regions?from=2026-03-04&to=2026-03-04")
    assert "来电地区" in page.text and "江苏省" in page.text and "常州市" in page.text
    costs = web.get("/reports/costs?from=2026-03-04&to=2026-03-04").text
    assert "长途" in costs or "国内长途" in costs
    assert "long_distance" not in costs.split('id="report-chart-data"')[0]  # no raw codes in the tables
    for kind in ("ivr", "trunks", "outbound", "sales"):
        assert web.get(f"/reports/{kind}?from=2026-03-04&to=2026-03-05").status_int == 200
    # attempts and orders have no queue: the page offers no queue filter and a queue asked for is not said
    outbound = web.get("/reports/outbound?from=2026-03-04&to=2026-03-05&queue=sales").text
    assert 'id="r-queue"' not in outbound and "队列 sales" not in outbound and 'id="r-agent"' in outbound
    sign_in(web, "sup")
    sales = web.get("/api/v1/reports/sales?from=2026-03-04&to=2026-03-04").json
    assert (sales["orders"], sales["amount"]) == (2, "347.00")  # the review is no sale
    assert {r["key"]: (r["quantity"], r["amount"]) for r in sales["by_product"]} == {"A1": (3, "297.00"),
                                                                                     "B2": (1, "50.00")}
    assert [(r["key"], r["orders"]) for r in sales["by_day"]] == [("2026-03-04", 2)]
    book = load_workbook(io.BytesIO(web.get("/reports/costs/export?from=2026-03-04&to=2026-03-04").body))
    cells = list(book.active.iter_rows(values_only=True))
    assert cells[0][0] == "Call costs"
    header = cells.index(next(r for r in cells if r[0] == "Trunk"))
    assert [(r[0], r[1], r[-1]) for r in cells[header + 1:header + 4]] == [
        ("unicom", None, 0.82), ("pstn", "中国电信", 0.3), ("Total", None, 1.12)]  # yuan, numbers
    ivr = web.get("/api/v1/reports/ivr?from=2026-03-04&to=2026-03-04").json
    assert {r["menu"]: r["entered"] for r in ivr["rows"]} == {"main": 4, "sales-menu": 2}
    sign_in(web, "alice")  # an agent: their own efficiency only
    for kind in ("ivr", "regions", "trunks", "outbound", "costs", "sales"):
        web.get(f"/api/v1/reports/{kind}", status=404)


def test_the_new_reports_are_e_mailed_in_the_readers_words(more, db, tmp_path):
    import io

    from openpyxl import load_workbook

    from appliance.mail import Outbox, SmtpConfig
    from appliance.services.report_schedule import ReportSchedules

    schedules = ReportSchedules(db, more, Outbox(tmp_path / "o", SmtpConfig(host="")), tmp_path / "r")
    for report, expected in (("regions", ("江苏省", "常州市", 2)), ("sales", ("A1", "面霜", 3, 2, 297))):
        row = SimpleNamespace(language="zh_CN", queue="", period="daily", report=report)
        cells = list(load_workbook(io.BytesIO(schedules.workbook(row, D3, D3))).active.iter_rows(values_only=True))
        assert any(c[:len(expected)] == expected for c in cells), (report, cells)


# -- the team filter: a queue's agents, the bills' rule (billing.agent_teams) --------------------
def teams(db):
    """1001 is a member of sales (penalty 0) and support (5): team sales; 1002 of support."""
    for number, memberships in (("1001", (("sales", 0), ("support", 5))), ("1002", (("support", 0),))):
        agent = m.Agent.get_or_none(m.Agent.number == number) or m.Agent.create(number=number, name=number)
        for queue, penalty in memberships:
            m.QueueMember.create(queue=m.Queue.get(m.Queue.name == queue), agent=agent, penalty=penalty)


def test_a_teams_calls_are_its_queues_and_its_agents_outgoing_ones(seeded, db):
    teams(db)
    sales = seeded.traffic(seeded.spec(day_args(team="sales")))["totals"]
    # a, b, c, d of the sales queue and 1001's call back (outgoing, no queue)
    assert (sales["calls"], sales["offered"], sales["answered"], sales["abandoned"], sales["no_agent"]) == (5, 4, 2, 1, 1)
    assert (sales["handled"], sales["talk_seconds"], sales["wrapup_seconds"]) == (3, 350.0, 30.0)
    support = seeded.traffic(seeded.spec(day_args(D1, D2, team="support")))["totals"]
    assert (support["calls"], support["offered"], support["talk_seconds"]) == (2, 2, 360.0)
    assert [r["queue"] for r in seeded.queues(seeded.spec(day_args(team="sales")))["rows"]] == ["sales"]
    assert seeded.heatmap(seeded.spec(day_args(team="support")))["total"] == 1
    # an agent's figures: the team's agents with all their calls and states
    [alice] = seeded.agents(seeded.spec(day_args(team="sales")))["rows"]
    assert (alice["agent"], alice["handled"], alice["talk"], alice["signed_in"]) == ("1001", 3, 350.0, 32400.0)
    assert [r["agent"] for r in seeded.agents(seeded.spec(day_args(team="support")))["rows"]] == ["1002"]
    assert {r["agent"] for r in seeded.timeline(seeded.spec(day_args(team="sales")))["rows"]} == {"1001"}
    assert [r["linkedid"] for r in seeded.abandoned(seeded.spec(day_args(team="sales")))["rows"]] == ["c"]
    assert seeded.abandoned(seeded.spec(day_args(team="support")))["rows"] == []
    # the same figures from the raw records (the benchmark's baseline applies the filter too)
    raw = seeded.traffic_from_records(seeded.spec(day_args(team="sales")))["rows"]
    assert (raw[0]["offered"], raw[0]["talk_seconds"]) == (4, 350.0)
    # no such team, and a personal queue is no team
    for bad in ("nosuch", "cc-1001"):
        with pytest.raises(ValidationError) as err:
            seeded.spec(day_args(team=bad))
        assert err.value.fields["team"].msgid == "reports.error.no_team"


def test_the_team_filter_on_costs_regions_menus_and_attempts(more, db):
    teams(db)
    day = day_args(D3, D3)
    costs = more.costs(more.spec({**day, "team": "sales"}))
    # r1, r2, r4 of the sales queue; r5, r7 dialled by 1001: the costs report's own sales row
    assert costs["total"] == {"cost_fen": 30, "cost": 0.3, "calls": 5, "unrated": 2}
    assert {r["key"]: (r["calls"], r["rated"], r["unrated"], r["cost_fen"]) for r in costs["teams"]} == {
        "sales": (5, 1, 2, 30)}
    everyone = {r["key"]: r["cost_fen"] for r in more.costs(more.spec(day))["teams"]}
    assert everyone["sales"] == 30 and everyone["support"] == 82
    assert more.costs(more.spec({**day, "team": "support"}))["total"]["cost_fen"] == 82  # r3 and r6
    regions = more.regions(Spec(more.spec({**day, "team": "sales"}), lang="zh_CN"))["provinces"]
    assert {r["province"]: r["calls"] for r in regions} == {"江苏省": 2, "": 1}
    ivr = {r["menu"]: r for r in more.ivr(more.spec({**day, "team": "support"}))["rows"]}
    assert set(ivr) == {"main"} and ivr["main"]["entered"] == 1 and ivr["main"]["left"]["hung_up"] == 1
    attempts = more.outbound(more.spec({**day, "team": "support"}))
    assert [(r["key"], r["dialled"], r["skipped"], r["refused"]) for r in attempts["agents"]] == [("1002", 2, 1, 1)]


def test_the_team_filter_on_the_page_in_the_api_and_in_excel(web, db):
    import io

    from openpyxl import load_workbook

    teams(db)
    sign_in(web, "zhang")
    page = web.get("/reports/traffic?from=2026-03-02&to=2026-03-02&team=sales")
    assert 'id="r-team"' in page.text and '<option value="sales" selected>' in page.text.replace("  ", " ")
    assert "班组 sales" in page.text
    assert "没有班组（队列）nosuch" in web.get("/reports/traffic?team=nosuch").text
    assert 'id="r-team"' not in web.get("/reports/sales?from=2026-03-02&to=2026-03-02").text
    sign_in(web, "sup")
    api = web.get("/api/v1/reports/traffic?from=2026-03-02&to=2026-03-02&team=support").json
    assert api["filter"] == {"team": "support"} and api["totals"]["offered"] == 1
    assert web.get("/api/v1/reports/traffic?team=nosuch", status=422).json["fields"]["team"]
    book = load_workbook(io.BytesIO(web.get("/reports/traffic/export?from=2026-03-02&to=2026-03-02&team=sales").body))
    cells = list(book.active.iter_rows(values_only=True))
    assert cells[2][0] == "team sales"
    header = cells.index(next(r for r in cells if r[0] == "Period"))
    assert cells[header + 1][:5] == ("2026-03-02", 4, 2, 1, 1)


# -- the day summaries: callers by region, by trunk, costs ---------------------------------------
def test_regions_trunks_and_costs_read_the_day_summaries(more, db):
    spec = more.spec(day_args(D3, D3))
    zh = Spec(spec, lang="zh_CN")
    regions, trunks, costs = more.regions(zh), more.trunks(spec), more.costs(spec)
    assert regions == more.regions_from_records(zh)
    # rebuilt from nothing, the same figures
    m.ReportPlaceDay.delete().execute()
    m.ReportTrunkDay.delete().execute()
    assert more.trunks(spec)["rows"] == [] and more.regions(zh)["provinces"] == []
    rebuild_buckets(db)
    assert (more.regions(zh), more.trunks(spec), more.costs(spec)) == (regions, trunks, costs)
    # a record written again (the writer replaces) is counted once, its cost too
    CallRecordWriter(db).write(MORE[4])
    assert more.costs(spec) == costs and more.trunks(spec) == trunks
    # read from the summaries: with the records gone the figures stay; an agent's filter
    # (the place summary has no agent) reads the records
    m.CallRecord.delete().execute()
    assert more.regions(zh) == regions and more.costs(spec) == costs and more.trunks(spec) == trunks
    assert more.regions(Spec(more.spec(day_args(D3, D3, agent="1001")), lang="zh_CN"))["provinces"] == []


def test_the_day_summaries_are_office_days_and_the_migration_fills_them(tmp_path):
    from appliance.db import open_database
    from appliance.db.migrate import available, migrate

    db = open_database(tmp_path / "old.db")
    mine = next(n for n, name in available() if name.endswith("_report_day_summaries"))
    migrate(db, target=mine - 1)
    early = call("early", at(D2, 7, 30), queue="support", caller="075588889999")  # 23:30 UTC on D1
    for rec in CALLS + MORE + [early]:  # as the writer of that version wrote them: no day summaries
        row = {**rec, **{k: reports.dt.datetime.utcfromtimestamp(rec[k]) if rec[k] is not None else None
                         for k in ("enter_time", "answer_time", "end_time")}}
        m.CallRecord.insert(**row).execute()
    migrate(db)
    service = ReportService(db, timezone=lambda: "Asia/Shanghai", today=lambda zone: dt.date(2026, 3, 10))
    # e entered at 23:59 on D1 (15:59 UTC): D1's on the office's clock, not D2's
    d1 = {(r["province"], r["calls"]) for r in service.regions(service.spec(day_args(D1, D1)))["provinces"]}
    assert d1 == {("Jiangsu", 1), ("", 4)}
    # and the call at 07:30 on D2 (23:30 UTC on D1) is D2's
    d2 = {(r["province"], r["calls"]) for r in service.regions(service.spec(day_args(D2, D2)))["provinces"]}
    assert d2 == {("Guangdong", 1), ("", 1)}
    assert service.costs(service.spec(day_args(D3, D3)))["total"] == {"cost_fen": 112, "cost": 1.12, "calls": 7,
                                                                      "unrated": 2}
    db.close()
