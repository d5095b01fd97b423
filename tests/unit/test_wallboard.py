"""The wallboard: today's figures from the call records (service level, abandoned calls,
where today begins), the view that merges them with the live state, its routes, and one
board shared by every supervisor for at most a second (never past a new call record)."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
import webtest

from appliance.bus import EventBus
from appliance.db import models as m
from appliance.services.config import ConfigService
from appliance.services.users import UserService
from appliance.services.wallboard import TodayFigures, day_bounds, queue_figures, totals
from webharness import Agents
from webdeps import web_deps
from webui.app import make_app
from webui.areas.wallboard import SharedBoard, wallboard_view

SHANGHAI = ZoneInfo("Asia/Shanghai")
# 2024-05-02 10:00 in Shanghai: the local day began at 2024-05-01 16:00 UTC.
NOW = dt.datetime(2024, 5, 2, 10, 0, tzinfo=SHANGHAI).timestamp()
MIDNIGHT_UTC = dt.datetime(2024, 5, 1, 16, 0)


def record(linkedid, queue, disposition, wait, *, enter=MIDNIGHT_UTC + dt.timedelta(hours=2), answered=None,
           direction="inbound"):
    answered = disposition == "answered" if answered is None else answered
    m.CallRecord.create(linkedid=linkedid, queue=queue, disposition=disposition, wait_seconds=wait,
                        direction=direction, enter_time=enter,
                        answer_time=enter + dt.timedelta(seconds=wait) if answered else None,
                        end_time=enter + dt.timedelta(seconds=wait + 60), talk_seconds=60 if answered else 0)


def test_the_day_begins_at_local_midnight():
    assert day_bounds(NOW, SHANGHAI) == (MIDNIGHT_UTC, MIDNIGHT_UTC + dt.timedelta(days=1))
    just_before = dt.datetime(2024, 5, 1, 23, 59, 59, tzinfo=SHANGHAI).timestamp()
    assert day_bounds(just_before, SHANGHAI)[1] == MIDNIGHT_UTC
    # a day with a clock change is 23 hours long, and still from midnight to midnight
    berlin = ZoneInfo("Europe/Berlin")
    start, end = day_bounds(dt.datetime(2024, 3, 31, 12, 0, tzinfo=berlin).timestamp(), berlin)
    assert (start, end) == (dt.datetime(2024, 3, 30, 23, 0), dt.datetime(2024, 3, 31, 22, 0))


def test_service_level_and_abandoned_count_today_only(db):
    cfg = ConfigService(db)
    cfg.create("queues", {"name": "sales"}, actor="t")  # target 20 s (the default)
    cfg.create("queues", {"name": "support", "service_level_seconds": 30}, actor="t")
    record("a", "sales", "answered", 10)
    record("b", "sales", "answered", 20)  # exactly at the target: in time
    record("c", "sales", "answered", 25)  # late
    record("d", "sales", "abandoned", 40)
    record("e", "sales", "fallback", 300)  # nobody answered: offered, not answered
    record("f", "sales", "interrupted", 5, answered=True)  # answered, then Asterisk went away
    record("g", "support", "answered", 25)  # support's target is 30 s
    record("h", "support", "abandoned", 3)
    record("first", "sales", "answered", 1, enter=MIDNIGHT_UTC)  # the first instant of today counts
    record("yesterday", "sales", "abandoned", 9, enter=MIDNIGHT_UTC - dt.timedelta(seconds=1))
    record("tomorrow", "sales", "abandoned", 9, enter=MIDNIGHT_UTC + dt.timedelta(days=1))
    record("out", "sales", "answered", 2, direction="outbound")  # outgoing calls are not offered to a queue
    record("no-queue", "", "fallback", 0)  # refused before any queue

    today = TodayFigures(db, "Asia/Shanghai").figures(NOW)
    assert (today["date"], today["timezone"], today["since"]) == ("2024-05-02", "Asia/Shanghai",
                                                                  "2024-05-01T16:00:00Z")
    sales, support = today["queues"]["sales"], today["queues"]["support"]
    # the fallback call (refused: nobody could answer) is the one offered but neither answered nor abandoned
    assert sales == {"offered": 7, "answered": 5, "answered_in_time": 4, "abandoned": 1, "no_agent": 1,
                     "service_level": round(4 / 7, 4), "average_answer_seconds": round((10 + 20 + 25 + 5 + 1) / 5, 1)}
    assert (support["offered"], support["answered_in_time"], support["abandoned"], support["service_level"]) == (
        2, 1, 1, 0.5)
    assert today["totals"]["offered"] == 9 and today["totals"]["service_level"] == round(5 / 9, 4)
    assert set(today["queues"]) == {"sales", "support"}


def test_figures_follow_new_records_and_threshold_changes(db):
    cfg = ConfigService(db)
    cfg.create("queues", {"name": "sales"}, actor="t")
    today = TodayFigures(db, "Asia/Shanghai")
    assert today.figures(NOW)["queues"] == {} and today.figures(NOW)["totals"]["service_level"] is None
    record("a", "sales", "answered", 25)
    assert today.figures(NOW)["queues"]["sales"]["service_level"] == 0.0
    cfg.update("queues", "sales", {"service_level_seconds": 30}, actor="t")
    assert today.figures(NOW)["queues"]["sales"]["service_level"] == 0.0  # remembered until told
    today.forget()
    assert today.figures(NOW)["queues"]["sales"]["service_level"] == 1.0
    # the next day starts from nothing
    assert today.figures(NOW + 86400)["queues"] == {}


def test_figures_of_nothing_and_totals():
    empty = queue_figures({})
    assert empty == {"offered": 0, "answered": 0, "answered_in_time": 0, "abandoned": 0, "no_agent": 0,
                     "service_level": None,
                     "average_answer_seconds": None}
    both = totals({"a": queue_figures({"offered": 2, "answered": 2, "answered_in_time": 1, "wait_answered": 30}),
                   "b": queue_figures({"offered": 2, "answered": 1, "answered_in_time": 1, "abandoned": 1,
                                       "wait_answered": 6})})
    assert both["service_level"] == 0.5 and both["average_answer_seconds"] == 12.0 and both["abandoned"] == 1


def test_view_merges_configuration_live_state_and_figures():
    live = {"queues": [{"name": "sales", "waiting": 2, "longest_wait": 31.0, "members": ["1001"], "available": 0},
                       {"name": "ghost", "waiting": 1, "longest_wait": 3.0, "members": []}],
            "agents": [{"name": "1001", "state": "in_call"}],
            "calls": [{"linkedid": "1", "trunk": "pstn", "state": "talking"},
                      {"linkedid": "2", "trunk": "pstn", "state": "queued"},
                      {"linkedid": "3", "trunk": "", "state": "talking"},
                      {"linkedid": "4", "trunk": "pstn", "state": "ended"}]}
    today = {"date": "2024-05-02", "timezone": "Asia/Shanghai", "since": "x",
             "queues": {"sales": queue_figures({"offered": 4, "answered": 3, "answered_in_time": 2})},
             "totals": queue_figures({"offered": 4})}
    view = wallboard_view(live, today, [{"name": "sales", "display_name": "Sales", "service_level_seconds": 15},
                                        {"name": "support", "display_name": "", "service_level_seconds": 20}],
                          [{"name": "pstn", "max_channels": 2}, {"name": "sip", "max_channels": 0}])
    sales, support, ghost = view["queues"]
    assert (sales["waiting"], sales["longest_wait"], sales["offered"], sales["service_level"],
            sales["service_level_seconds"], sales["display_name"]) == (2, 31.0, 4, 0.5, 15, "Sales")
    assert (support["waiting"], support["offered"], support["service_level"]) == (0, 0, None)
    assert ghost["name"] == "ghost" and ghost["waiting"] == 1
    assert view["trunks"] == [{"name": "pstn", "max_channels": 2, "calls": 2}, {"name": "sip", "max_channels": 0,
                                                                                 "calls": 0}]
    assert [c["linkedid"] for c in view["calls"]] == ["1", "2", "3"]


@pytest.fixture
def app(db):
    users = UserService(db)
    for name, role in (("sup", "supervisor"), ("alice", "agent")):
        users.create(name, "correct-horse-9", role, language="en")
    cfg = ConfigService(db)
    cfg.create("queues", {"name": "sales", "display_name": "Sales & co"}, actor="t")
    cfg.create("trunks", {"name": "pstn", "host": "192.0.2.1", "max_channels": 30}, actor="t")
    live = {"queues": [], "agents": [], "calls": [{"linkedid": "1", "trunk": "pstn", "state": "talking",
                                                   "caller": "</script><script>alert(1)</script>"}]}
    deps = web_deps(db=db, config=cfg, users=users, agents=Agents(), health=lambda: {"status": "ok"},
                   live=lambda: live, bus=EventBus(), extra={"timezone": "Asia/Shanghai"})
    return webtest.TestApp(make_app(deps))


def sign_in(app, username):
    form = app.get("/login?lang=en").forms[0]
    form["username"], form["password"] = username, "correct-horse-9"
    return form.submit()


def test_staff_get_the_wallboard_and_agents_do_not(app, db):
    sign_in(app, "alice")
    assert app.get("/wallboard", expect_errors=True).status_int == 403
    assert app.get("/api/v1/wallboard", expect_errors=True).status_int == 403
    app.reset()
    sign_in(app, "sup")
    board = app.get("/api/v1/wallboard").json
    assert board["queues"][0]["name"] == "sales" and board["queues"][0]["service_level_seconds"] == 20
    assert board["trunks"] == [{"name": "pstn", "max_channels": 30, "calls": 1}]
    # a card route the card has is a line too, at the span's B-channels (services/fxs.py)
    from appliance.services.fxs import CardFacts

    app.app.config["deps"].card = lambda: CardFacts(span_channels=((1, 30),))
    ConfigService(db).create("card_routes", {"name": "span1", "line": "pri", "span": 1}, actor="t")
    ConfigService(db).create("card_routes", {"name": "span2", "line": "pri", "span": 2}, actor="t")  # not there
    app.app.config["config_copy"].forget()
    assert app.get("/api/v1/wallboard").json["trunks"][1:] == [{"name": "span1", "max_channels": 30, "calls": 0}]
    page = app.get("/wallboard")
    assert page.status_int == 200 and 'href="/wallboard"' in page.text
    # the embedded JSON cannot close its script element, whatever a caller's name says
    data = re.search(r'<script id="wb-data" type="application/json">(.*?)</script>', page.text, re.S).group(1)
    assert "</script" not in data and "\\u003c/script>" in data and '"lunch"' in data


def test_live_view_lists_every_configured_queue_and_names_callers_by_their_customer(db):
    from appliance.services.callers import customer_names
    from appliance.services.crm import CustomerService, Viewer
    from webui.areas.live import live_view

    crm = CustomerService(db)
    crm.create(Viewer("t", "admin"), {"name": "王芳", "phone": "+8613912345678"}, actor="t")  # stored with +86
    names = customer_names(["13912345678", "13600000009", ""])
    assert names == {"13912345678": "王芳"}  # matched in any stored form; unknown numbers are not named
    snapshot = {"queues": [{"name": "ghost", "waiting": 1, "longest_wait": 3.0, "members": []}], "agents": [],
                "calls": [{"linkedid": "1", "caller": "13912345678", "caller_name": "SIP name"},
                          {"linkedid": "2", "caller": "13600000009", "caller_name": "Spoofed"}]}
    configured = [{"name": "sales", "display_name": "Sales"}, {"name": "support", "display_name": ""}]
    view = live_view(snapshot, [], configured=configured, customers=names)
    assert [(q["name"], q["display_name"] if "display_name" in q else None, q["waiting"], q["longest_wait"])
            for q in view["queues"]] == [("sales", "Sales", 0, 0.0), ("support", "", 0, 0.0), ("ghost", None, 1, 3.0)]
    assert [c["customer_name"] for c in view["calls"]] == ["王芳", ""]
    # an agent sees the queues they are configured in, signed in or not
    directory = [{"number": "1001", "queues": ["support"]}]
    assert [q["name"] for q in live_view(snapshot, directory, {"1001"}, configured)["queues"]] == ["support"]


def test_the_supervisors_phone_is_kept_with_their_account(app):
    sign_in(app, "sup")
    csrf = re.search(r'data-csrf="([^"]+)"', app.get("/wallboard").text).group(1)
    headers = {"X-CSRF-Token": csrf}
    refused = app.post_json("/api/v1/wallboard/phone", {"phone": "1009"}, headers=headers, expect_errors=True)
    assert refused.status_int == 422 and refused.json["fields"]["phone"]
    ConfigService(app.app.config["deps"].db).create("phones", {"extension": "1009", "secret": "pw-1009-secret"},
                                                     actor="t")
    assert app.post_json("/api/v1/wallboard/phone", {"phone": "1009"}, headers=headers).json == {"phone": "1009"}
    data = re.search(r'<script id="wb-data" type="application/json">(.*?)</script>', app.get("/wallboard").text,
                     re.S).group(1)
    assert '"phone": "1009"' in data
    assert app.post_json("/api/v1/wallboard/phone", {"phone": ""}, headers=headers).json == {"phone": ""}
    app.reset()
    sign_in(app, "alice")
    assert app.post_json("/api/v1/wallboard/phone", {"phone": "1009"}, expect_errors=True).status_int == 403


def test_one_board_for_every_supervisor_asking_at_once_or_within_a_second():
    import gevent
    from gevent.event import Event

    clock, key, made, answered = [100.0], ["record 1"], [], Event()
    answered.set()

    def compute():
        made.append(1)
        answered.wait()  # the figures' trip to the query pool: the others ask meanwhile
        return {"n": len(made)}

    shared = SharedBoard(compute, lambda: ("config", key[0]), seconds=1.0, clock=lambda: clock[0])
    answered.clear()
    asking = [gevent.spawn(shared.get) for _ in range(10)]
    gevent.idle()  # every asker has asked: one computes, nine wait for it
    assert len(made) == 1 and not any(g.ready() for g in asking)
    answered.set()
    gevent.joinall(asking, raise_error=True)
    assert [g.value for g in asking] == [{"n": 1}] * 10 and shared.computed == 1
    clock[0] += 1.0
    assert shared.get() == {"n": 1}  # a second old at most: the same board
    key[0] = "record 2"
    assert shared.get() == {"n": 2}  # a new call record: counted at once
    clock[0] += 1.01
    assert shared.get() == {"n": 3}  # older than a second: computed again
    shared.forget()
    assert shared.get() == {"n": 4}


def test_a_board_that_fails_fails_everyone_waiting_for_it_and_is_computed_again():
    import gevent
    from gevent.event import Event

    calls, answered = [], Event()

    def compute():
        calls.append(1)
        answered.wait()
        if len(calls) == 1:
            raise RuntimeError("the query pool is busy")
        return {"ok": True}

    shared = SharedBoard(compute, lambda: ("k",))
    asking = [gevent.spawn(shared.get) for _ in range(3)]
    gevent.idle()  # all three asked: one computes, two wait for it
    assert len(calls) == 1 and not any(g.ready() for g in asking)
    answered.set()
    gevent.joinall(asking)
    assert all(isinstance(g.exception, RuntimeError) for g in asking) and len(calls) == 1
    assert shared.get() == {"ok": True} and len(calls) == 2


def test_the_wallboard_is_computed_once_for_many_loads_and_counts_a_new_call_at_once(app, db):
    sign_in(app, "sup")
    shared = app.app.config["deps"].extra["wallboard_board"]
    first = app.get("/api/v1/wallboard").json
    assert app.get("/api/v1/wallboard").json == first and app.get("/wallboard").status_int == 200
    assert shared.computed == 1
    record("new", "sales", "answered", 3, enter=dt.datetime.now(dt.timezone.utc).replace(tzinfo=None))
    board = app.get("/api/v1/wallboard").json
    assert board["totals"]["offered"] == first["totals"]["offered"] + 1 and shared.computed == 2
