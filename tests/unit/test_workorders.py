"""Work orders over a real database: a workflow refused with its reasons, transitions
allowed and refused, the escalation scheduler under a fake clock across a restart (nothing
twice, nothing missed), dispatch tokens expired and tampered, photos checked, statistics,
the call-back on closing, and who sees which order."""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest

from appliance.db import models as m
from appliance.engine import workorders as wf
from appliance.errors import Conflict, NotFound, PermissionDenied, TooLarge, ValidationError
from appliance.services.crm import CustomerService, Viewer
from appliance.services.workorders import WorkOrderService, check_photo

ADMIN = Viewer("root", "admin")
T0 = dt.datetime(2026, 12, 1, 9, 0, 0)
STATES = [{"name": "new", "label": "New", "initial": True, "limit_minutes": 60},
          {"name": "on_site", "label": "On site", "limit_minutes": 120},
          {"name": "parts", "label": "Needs parts", "limit_minutes": 0},
          {"name": "done", "label": "Done", "final": True}]
TRANSITIONS = [["new", "on_site"], ["on_site", "parts"], ["parts", "on_site"], ["on_site", "done"]]
PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
       b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82")


class Clock:
    def __init__(self, at: dt.datetime):
        self.at = at

    def __call__(self) -> dt.datetime:
        return self.at

    def wall(self) -> float:
        return self.at.replace(tzinfo=dt.timezone.utc).timestamp()


class Outbox:
    def __init__(self):
        self.sent = []

    def queue(self, to, subject, body, attachments=()):
        self.sent.append((tuple(to), subject))
        return f"mail-{len(self.sent)}"


@pytest.fixture
def world(db, tmp_path):
    clock = Clock(T0)
    outbox = Outbox()
    crm = CustomerService(db)

    def make():  # a new service over the same database and data directory: a restart
        return WorkOrderService(db, crm, data_dir=tmp_path / "data", outbox=outbox, clock=clock, wall=clock.wall,
                                language=lambda: "en")

    for name, role in (("root", "admin"), ("boss", "admin"), ("lead", "supervisor"), ("other_lead", "supervisor"),
                       ("alice", "agent")):
        m.User.create(username=name, password_hash="x", role=role)
    q = m.Queue.create(name="repairs")
    m.Queue.create(name="sales")
    alice = m.Agent.create(number="1001", name="Alice", user=m.User.get(username="alice"))
    lead = m.Agent.create(number="1900", name="Lead", user=m.User.get(username="lead"))
    for a in (alice, lead):
        m.QueueMember.create(queue=q, agent=a)
    customer = m.Customer.create(name="Zhang", phone="13912345678", account_manager=alice)
    other = m.Customer.create(name="Li", phone="13912345679")
    svc = make()
    t = svc.save_type({"name": "repair", "label": "Repair", "states": STATES, "transitions": TRANSITIONS,
                       "fields": [{"name": "model", "label": "Model", "type": "text", "required": True},
                                  {"name": "kind", "label": "Kind", "type": "choice", "choices": "a,b"}],
                       "leader_email": "lead@example.cn", "manager_email": "boss@example.cn"}, "root")
    return type("W", (), {"svc": svc, "make": staticmethod(make), "clock": clock, "outbox": outbox, "type": t,
                          "customer": customer, "other": other, "crm": crm, "data": tmp_path / "data"})


def new_order(w, viewer=ADMIN, **extra):
    data = {"type": w.type["id"], "title": "Boiler leaks", "custom": {"model": "X1"}, **extra}
    return w.svc.create(viewer, data, viewer.username)


# -- the workflow ------------------------------------------------------------------------
@pytest.mark.parametrize("states, transitions, msgid", [
    (STATES, [["new", "on_site"], ["on_site", "done"]], "workorders.wf.unreachable"),  # parts
    ([{**s, "final": False} for s in STATES], TRANSITIONS, "workorders.wf.no_final"),
    ([{**s, "initial": True} for s in STATES], TRANSITIONS, "workorders.wf.one_initial"),
    (STATES, [*TRANSITIONS, ["done", "new"]], "workorders.wf.from_final"),
    (STATES, [*TRANSITIONS, ["new", "nowhere"]], "workorders.wf.unknown_state"),
    ([*STATES, {"name": "new"}], TRANSITIONS, "workorders.wf.duplicate"),
    ([], [], "workorders.wf.no_states"),
])
def test_an_unsound_workflow_is_refused_with_the_reason(world, states, transitions, msgid):
    with pytest.raises(ValidationError) as refused:
        world.svc.save_type({"name": "x", "label": "X", "states": states, "transitions": transitions}, "root")
    assert msgid in {getattr(e, "msgid", None) for e in refused.value.fields.values()}
    assert not m.WorkOrderType.select().where(m.WorkOrderType.name == "x").exists()


def test_unreachable_names_the_states():
    faults = wf.check_workflow(STATES, [["new", "done"]])
    assert [(f.msgid, f.params["names"]) for f in faults] == [("workorders.wf.unreachable", "on_site, parts")]
    assert wf.check_workflow(STATES, TRANSITIONS) == []


def test_type_fields_reuse_the_custom_field_rules(world):
    with pytest.raises(ValidationError) as bad:
        world.svc.save_type({"name": "y", "label": "Y", "states": STATES, "transitions": TRANSITIONS,
                             "fields": [{"name": "Bad Name", "label": "x"}, {"name": "c", "label": "C",
                                                                              "type": "choice"}]}, "root")
    assert set(bad.value.fields) == {"fields.0.name", "fields.1.choices"}
    with pytest.raises(ValidationError) as missing:
        new_order(world, custom={})
    assert "custom.model" in missing.value.fields
    with pytest.raises(ValidationError) as choice:
        new_order(world, custom={"model": "X", "kind": "z"})
    assert "custom.kind" in choice.value.fields


# -- transitions -------------------------------------------------------------------------
def test_moves_follow_the_workflow_and_the_history_keeps_them(world):
    order = new_order(world, customer=world.customer.id)
    assert (order["state"], order["due_at"]) == ("new", "2026-12-01 10:00:00")
    assert [n["name"] for n in order["next"]] == ["on_site"]
    with pytest.raises(Conflict) as refused:
        world.svc.move(ADMIN, order["id"], {"to": "done"}, "root")
    assert refused.value.code == "workorders.not_allowed"
    world.clock.at = T0 + dt.timedelta(minutes=5)
    moved = world.svc.move(ADMIN, order["id"], {"to": "on_site", "note": "arrived"}, "root")
    assert (moved["state"], moved["due_at"]) == ("on_site", "2026-12-01 11:05:00")
    closed = world.svc.move(ADMIN, order["id"], {"to": "done", "call_back_at": "2026-12-03 10:00",
                                                 "call_back_note": "how is it?"}, "root")
    assert closed["closed_at"] == "2026-12-01 09:05:00" and closed["due_at"] is None and closed["final"]
    assert closed["follow_up"]["kind"] == "call_back" and closed["follow_up"]["agent"] == "1001"
    assert m.FollowUp.get().note == "how is it?"
    assert [(h["kind"], h["from"], h["to"], h["note"]) for h in closed["history"]] == [
        ("create", "", "new", ""), ("move", "new", "on_site", "arrived"), ("move", "on_site", "done", "")]
    audits = [a.action for a in m.AuditLog.select().where(m.AuditLog.object_type == "work_orders")]
    assert audits == ["create", "move", "move"]


def test_agents_see_their_own_and_their_customers_orders(world):
    alice = Viewer("alice", "agent", frozenset({"1001"}))
    mine = new_order(world, customer=world.customer.id)
    theirs = new_order(world, customer=world.other.id)
    assigned = new_order(world, assignee_kind="agent", assignee="1001")
    own = new_order(world, alice)  # opened by her, assigned to her by default
    assert own["assignee"] == "1001"
    team = new_order(world, assignee_kind="queue", assignee="repairs")  # her team's
    new_order(world, assignee_kind="queue", assignee="sales")  # not hers
    assert sorted(o["id"] for o in world.svc.search(alice)) == sorted([mine["id"], assigned["id"], own["id"],
                                                                       team["id"]])
    with pytest.raises(NotFound):
        world.svc.get(alice, theirs["id"])
    with pytest.raises(ValidationError):
        new_order(world, alice, assignee_kind="queue", assignee="repairs")  # only team leaders assign to others
    assert len(world.svc.search(ADMIN)) == 6


# -- escalation --------------------------------------------------------------------------
def test_escalation_once_per_level_and_caught_up_after_a_restart(world):
    order = new_order(world, assignee_kind="queue", assignee="repairs")
    calm = new_order(world)  # no team: the leader is every supervisor
    assert world.svc.escalate() == []
    world.clock.at = T0 + dt.timedelta(minutes=61)
    first = world.svc.escalate()
    assert [(d["order"], d["level"], d["users"]) for d in first] == [
        (order["id"], 1, ["lead"]), (calm["id"], 1, ["lead", "other_lead"])]
    assert world.svc.escalate() == []  # the same tick again: nothing twice
    restarted = world.make()
    assert restarted.escalate() == []  # a restart: nothing twice either
    # downtime past twice the limit: the manager is told at the first tick after the start
    world.clock.at = T0 + dt.timedelta(minutes=200)
    caught_up = world.make().escalate()
    assert [(d["order"], d["level"], d["users"]) for d in caught_up] == [
        (order["id"], 2, ["boss", "root"]), (calm["id"], 2, ["boss", "root"])]
    assert world.make().escalate() == []
    row = m.WorkOrder.get_by_id(order["id"])
    assert (row.escalation_level, row.escalated_at) == (2, world.clock.at)
    inbox = [(x.recipient, x.sender) for x in m.Message.select().where(m.Message.body.contains(f"#{order['id']} "))]
    assert inbox == [("lead", "system"), ("boss", "system"), ("root", "system")]
    assert world.outbox.sent.count((("lead@example.cn",), f"Work order #{order['id']} is overdue")) == 1
    assert world.outbox.sent.count((("boss@example.cn",), f"Work order #{order['id']} is overdue")) == 1


def test_a_restart_after_a_long_downtime_tells_both_levels(world):
    order = new_order(world)
    world.clock.at = T0 + dt.timedelta(hours=5)
    done = world.make().escalate()
    assert [(d["order"], d["level"]) for d in done] == [(order["id"], 1), (order["id"], 2)]
    history = world.svc.get(ADMIN, order["id"])["history"]
    assert [(h["kind"], h["note"]) for h in history if h["kind"] == "escalate"] == [
        ("escalate", "leader"), ("escalate", "manager")]


def test_moving_resets_the_escalation_and_a_state_without_limit_never_escalates(world):
    order = new_order(world)
    world.clock.at = T0 + dt.timedelta(minutes=61)
    assert len(world.svc.escalate()) == 1
    world.svc.move(ADMIN, order["id"], {"to": "on_site"}, "root")
    world.svc.move(ADMIN, order["id"], {"to": "parts"}, "root")
    world.clock.at = T0 + dt.timedelta(days=30)
    assert world.svc.escalate() == []
    assert m.WorkOrder.get_by_id(order["id"]).escalation_level == 0


def test_level_due_is_a_pure_function_of_time():
    assert [wf.level_due(T0, 60, T0 + dt.timedelta(minutes=n)) for n in (0, 59, 60, 119, 120, 999)] == [
        0, 0, 1, 1, 2, 2]
    assert wf.level_due(T0, 0, T0 + dt.timedelta(days=9)) == 0


# -- dispatch ----------------------------------------------------------------------------
def test_dispatch_tokens_expire_and_refuse_tampering(world):
    order = new_order(world, assignee_kind="engineer", assignee="Wang", engineer_contact="13800000000")
    link = world.svc.dispatch_token(ADMIN, order["id"], hours=2, actor="root")
    assert world.svc.dispatch_view(link["token"])["id"] == order["id"]
    other = new_order(world)
    oid, exp, sig = link["token"].split(".")
    for forged in (f"{other['id']}.{exp}.{sig}", f"{oid}.{int(exp) + 3600}.{sig}", f"{oid}.{exp}.{sig[:-2]}xx",
                   "garbage", ""):
        with pytest.raises(PermissionDenied) as refused:
            world.svc.dispatch_view(forged)
        assert refused.value.code == "dispatch.tampered"
    world.clock.at = T0 + dt.timedelta(hours=2)
    with pytest.raises(PermissionDenied) as expired:
        world.svc.dispatch_view(link["token"])
    assert expired.value.code == "dispatch.expired"
    key = (world.data / "dispatch.key")
    assert key.stat().st_mode & 0o777 == 0o600 and len(key.read_bytes()) == 32


def test_dispatch_moves_with_photos_and_refuses_what_is_not_one(world):
    order = new_order(world, assignee_kind="engineer", assignee="Wang")
    token = world.svc.dispatch_token(ADMIN, order["id"])["token"]
    moved = world.svc.dispatch_move(token, {"to": "on_site", "note": "arrived"}, [PNG])
    last = moved["history"][-1]
    assert (last["actor"], last["to"], last["note"]) == ("engineer:Wang", "on_site", "arrived")
    (name,) = last["photos"]
    assert world.svc.photo_path(order["id"], name).read_bytes() == PNG
    with pytest.raises(ValidationError) as not_image:
        world.svc.dispatch_move(token, {"to": "parts"}, [b"%PDF-1.4 not a photo"])
    assert not_image.value.fields["photos"].msgid == "dispatch.not_an_image"
    with pytest.raises(TooLarge):
        world.svc.dispatch_move(token, {"to": "parts"}, [PNG + b"\0" * (5 * 1024 * 1024)])
    assert m.WorkOrder.get_by_id(order["id"]).state == "on_site"  # nothing moved
    with pytest.raises(Conflict):
        world.svc.dispatch_move(token, {"to": "new"}, [])
    with pytest.raises(NotFound):
        world.svc.photo_path(order["id"], "../dispatch.key")


def test_photo_checks():
    assert check_photo(PNG) == "png"
    assert check_photo(b"\xff\xd8\xff\xe0" + b"x" * 20 + b"\xff\xd9") == "jpg"
    for bad in (b"", b"<svg/>", PNG[:30], b"\xff\xd8\xff\xe0 cut short"):
        with pytest.raises(ValueError):
            check_photo(bad)


# -- created elsewhere, statistics --------------------------------------------------------
def test_a_low_survey_score_opens_one_order_per_call(world):
    assert world.svc.survey_low_score({"event": "low_score", "linkedid": "1.1", "score": 1}) is None  # no type
    m.WorkOrderType.update(from_survey=True).execute()
    event = {"event": "low_score", "linkedid": "1.1", "score": 1, "caller": "13912345678", "queue": "repairs",
             "customer": {"id": world.customer.id}}
    order = world.svc.survey_low_score(event)
    assert (order["source"], order["linkedid"], order["priority"], order["assignee"]) == (
        "survey", "1.1", "urgent", "repairs")
    assert order["customer"]["id"] == world.customer.id and "1" in order["title"]
    assert world.svc.survey_low_score(event) is None


def test_statistics_count_what_the_rows_say_and_export(world):
    a = new_order(world, priority="high", assignee_kind="queue", assignee="repairs")
    new_order(world, priority="high")
    world.clock.at = T0 + dt.timedelta(minutes=90)
    new_order(world)
    world.svc.move(ADMIN, a["id"], {"to": "on_site"}, "root")
    world.svc.move(ADMIN, a["id"], {"to": "done"}, "root")
    s = world.svc.stats()
    assert (s["open"], s["overdue"], s["closed"], s["avg_hours"]) == (2, 1, 1, 1.5)
    assert s["by_priority"] == [{"priority": "high", "open": 1, "overdue": 1},
                                {"priority": "normal", "open": 1, "overdue": 0}]
    from openpyxl import load_workbook
    wb = load_workbook(io.BytesIO(world.svc.stats_workbook("zh_CN")))
    assert len(wb.sheetnames) == 4 and wb.worksheets[0].max_row == 2
    assert json.loads(m.WorkOrderType.get().states)[0]["name"] == "new"


def test_odd_input_is_refused_not_a_crash(world):
    for bad_type in (10 ** 30, True, 1.5, "x", None):
        with pytest.raises(ValidationError) as refused:
            world.svc.create(ADMIN, {"type": bad_type, "title": "x"}, "root")
        assert "type" in refused.value.fields
    faults = wf.check_workflow([{"name": "a", "initial": True, "final": True}], [[["a"], "a"]])
    assert [f.msgid for f in faults] == ["workorders.wf.unknown_state"]
    with pytest.raises(ValidationError) as limit:
        world.svc.save_type({"name": "z", "label": "Z", "transitions": TRANSITIONS,
                             "states": [{**s, "limit_minutes": "soon"} for s in STATES]}, "root")
    assert limit.value.fields["states"].msgid == "workorders.wf.bad_limit"


def test_from_a_voice_message_the_call_follows_and_only_for_its_team(world):
    vm = m.VoiceMessage.create(linkedid="1.7", recording_key="1.7-msg", caller="13912345679", queue="repairs")
    lead = Viewer("lead", "supervisor")
    order = world.svc.create(lead, {"type": world.type["id"], "title": "Call me", "voice_message": vm.id,
                                    "custom": {"model": "X"}}, "lead")
    assert (order["voice_message"], order["linkedid"], order["source"]) == (vm.id, "1.7", "voicemail")
    alice = Viewer("alice", "agent", frozenset({"1001"}))  # a member of repairs: the message's team
    assert new_order(world, alice, voice_message=vm.id)["linkedid"] == "1.7"
    outsider = Viewer("carol", "agent", frozenset({"1999"}))
    with pytest.raises(ValidationError) as refused:
        new_order(world, outsider, voice_message=vm.id)
    assert "voice_message" in refused.value.fields


def test_an_order_of_an_agent_escalates_to_the_leaders_of_the_agents_queues(world):
    order = new_order(world, assignee_kind="agent", assignee="1001")
    row = m.WorkOrder.get_by_id(order["id"])
    assert world.svc.recipients(row, 1) == ["lead"]  # a supervisor who is a member of repairs, as Alice
    assert world.svc.recipients(row, 2) == ["boss", "root"]


def test_the_team_leader_is_told_on_the_live_stream_in_the_office_clock(world, db):
    from appliance.bus import EventBus

    bus = EventBus()
    sub = bus.subscribe()
    crm = CustomerService(db, timezone=lambda: "Asia/Shanghai")
    svc = WorkOrderService(db, crm, data_dir=world.data, bus=bus, clock=world.clock, language=lambda: "zh_CN")
    order = new_order(world, assignee_kind="queue", assignee="repairs")
    world.clock.at = T0 + dt.timedelta(minutes=61)
    svc.escalate()
    (topic, event), = sub.drain()
    assert (topic, event["to"], event["from"]) == ("message", "lead", "system")
    # the state by its name, the due time on the office's clock (09:00 UTC + 1 h = 18:00 in Shanghai)
    assert f"#{order['id']}" in event["body"] and "New" in event["body"] and "2026-12-01 18:00:00" in event["body"]
    assert m.Message.get(m.Message.id == event["id"]).recipient == "lead"


def test_listeners_are_told_of_orders_opened_moved_and_assigned(world):
    told = []
    world.svc.changed.append(lambda what, view: told.append((what, view["id"], view["state"], "history" in view)))
    order = new_order(world)
    world.svc.move(ADMIN, order["id"], {"to": "on_site"}, "root")
    world.svc.assign(ADMIN, order["id"], {"assignee_kind": "agent", "assignee": "1001"}, "root")
    with pytest.raises(Conflict):
        world.svc.move(ADMIN, order["id"], {"to": "nowhere"}, "root")  # nothing changed: nobody told
    assert told == [("created", order["id"], "new", False), ("changed", order["id"], "on_site", False),
                    ("changed", order["id"], "on_site", False)]
