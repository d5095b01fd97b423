"""The agent workspace's service and API: screen pop, outcomes, missed calls, messages,
and where a number is from."""

from __future__ import annotations

import datetime as dt

import pytest

from appliance import numbers
from appliance.bus import EventBus
from appliance.db import models as m
from appliance.errors import NotFound, PermissionDenied, ValidationError
from appliance.services.config import ConfigService
from appliance.services.crm import CustomerService, Viewer
from appliance.services.users import UserService
from appliance.services.workspace import WorkspaceService
from webharness import migrated
from webui.areas.live import visible

ADMIN = Viewer("admin", "admin")


@pytest.fixture
def ws(tmp_path):
    db = migrated(tmp_path / "w.db")
    cfg = ConfigService(db)
    cfg.create("queues", {"name": "sales"}, actor="t")
    cfg.create("queues", {"name": "support"}, actor="t")
    for ext in ("1001", "1002"):
        cfg.create("phones", {"extension": ext, "secret": f"pw-{ext}-secret"}, actor="t")
        cfg.create("agents", {"number": ext, "name": f"A{ext}", "phone": ext}, actor="t")
    cfg.add_member("sales", "1001", actor="t")
    users = UserService(db)
    for name, role in (("alice", "agent"), ("bob", "agent"), ("sup", "supervisor")):
        users.create(name, "correct-horse-9", role)
    crm = CustomerService(db)
    # Bob manages Acme: the screen pop still shows it to Alice, who is on the phone with them
    crm.create(ADMIN, {"phone": "13800000001", "name": "Acme Ltd", "category": "gold", "account_manager": "1002",
                       "tags": "vip"}, actor="t")
    bus = EventBus()
    yield WorkspaceService(db, crm, bus), bus, crm
    db.close()


def call(linkedid, caller, agent="1001", queue="sales", disposition="answered", minutes_ago=10, direction="inbound"):
    when = m.utcnow() - dt.timedelta(minutes=minutes_ago)
    return m.CallRecord.create(linkedid=linkedid, caller=caller, agent=agent, queue=queue, disposition=disposition,
                               enter_time=when, end_time=when + dt.timedelta(minutes=1), direction=direction)


def test_pop_shows_any_customer_with_last_contacts_and_where_the_number_is_from(ws):
    service, _, _ = ws
    call("1.1", "13800000001")
    service.save_outcome("1001", "1.1", {"disposition": "sale", "note": "ordered 3 boxes"}, "alice")
    pop = service.pop("+8613800000001"[3:], "zh_CN")
    assert pop["customer"]["name"] == "Acme Ltd" and pop["customer"]["tags"] == ["vip"]
    assert pop["origin"] == {"kind": "mobile", "region": "北京市", "operator": "中国移动"}  # a mobile's home city too
    calls = [h for h in pop["history"] if h["kind"] == "call"]
    assert calls[0]["outcome"] == "sale" and calls[0]["note"] == "ordered 3 boxes"
    assert calls[0]["outcome_name"] == "成交"  # by its name, in the reader's language
    assert any(h["kind"] == "note" and h["body"] == "ordered 3 boxes" for h in pop["history"])
    stranger = service.pop("02161234567")
    assert stranger["customer"] is None and stranger["origin"]["region"] == "Shanghai"


def test_outcome_is_checked_and_saving_again_replaces_it(ws):
    service, _, crm = ws
    call("1.2", "13800000001")
    with pytest.raises(ValidationError) as bad:
        service.save_outcome("1001", "1.2", {"disposition": "dance"}, "alice")
    assert bad.value.code == "outcome.bad_disposition"
    for garbage in ({"disposition": 7}, {"disposition": "sale", "note": "x" * 4001}, {"disposition": ""}, []):
        with pytest.raises(ValidationError):
            service.save_outcome("1001", "1.2", garbage, "alice")
    with pytest.raises(PermissionDenied):
        service.save_outcome("1002", "1.2", {"disposition": "sale"}, "bob")  # not Bob's call
    with pytest.raises(NotFound):
        service.save_outcome("1001", "9.9", {"disposition": "sale"}, "alice")
    service.save_outcome("1001", "1.2", {"disposition": "call-back", "note": "first"}, "alice")
    service.save_outcome("1001", "1.2", {"disposition": "resolved", "note": "second"}, "alice")
    assert [(o.disposition, o.note) for o in m.CallOutcome.select()] == [("resolved", "second")]
    notes = [h["body"] for h in crm.history(ADMIN, 1) if h["kind"] == "note"]
    assert notes == ["second"]  # the note in the customer's history follows the outcome
    # a call still going on (no record yet) takes an outcome from the live state
    live = [{"linkedid": "1.3", "agent": "1001", "caller": "13900000009"}]
    assert service.save_outcome("1001", "1.3", {"disposition": "sale"}, "alice", live)["customer"] is None


def test_missed_calls_are_the_queues_callers_nobody_has_spoken_with_since(ws):
    service, _, _ = ws
    call("2.1", "13900000001", agent="", disposition="abandoned", minutes_ago=50)
    call("2.2", "13900000001", agent="", disposition="abandoned", minutes_ago=40)
    call("2.3", "13900000002", agent="", disposition="abandoned", minutes_ago=30)
    call("2.4", "13900000002", agent="1001", disposition="answered", minutes_ago=20)  # called back since
    call("2.5", "13900000003", agent="", queue="support", disposition="unanswered", minutes_ago=10)
    call("2.6", "13900000004", agent="", disposition="abandoned", minutes_ago=60 * 24 * 9)  # too old
    missed = service.missed(["sales"])
    assert [(x["number"], x["tries"]) for x in missed] == [("13900000001", 2)]
    assert [x["number"] for x in service.missed(["sales", "support"])] == ["13900000003", "13900000001"]


def test_missed_calls_take_the_same_few_queries_however_many_callers(ws):
    service, _, crm = ws
    for i in range(40):
        call(f"4.{i}", f"1390000{i:04d}", agent="", disposition="abandoned", minutes_ago=5 + i)
    call("4.99", "+13900000001", agent="", disposition="abandoned", minutes_ago=100)  # the same number, with +
    call("4.98", "13900000002", agent="1001", disposition="answered", minutes_ago=1)  # called back since
    crm.create(ADMIN, {"name": "王芳", "phone": "13900000003"}, actor="t")
    db = m.CallRecord._meta.database.obj  # behind the models' proxy
    real, queries = db.execute_sql, []
    db.execute_sql = lambda sql, *a, **kw: queries.append(sql) or real(sql, *a, **kw)
    try:
        missed = service.missed(["sales"])
    finally:
        del db.execute_sql
    assert len(queries) <= 4, queries
    numbers = [x["number"] for x in missed]
    assert len(missed) == 39 and "13900000002" not in numbers  # 40 callers, one called back
    assert next(x for x in missed if x["number"] == "13900000001")["tries"] == 2
    assert next(x for x in missed if x["number"] == "13900000003")["customer"]["name"] == "王芳"


def test_messages_reach_only_sender_and_recipient(ws):
    service, bus, _ = ws
    sub = bus.subscribe()
    with pytest.raises(ValidationError):
        service.send("alice", "nobody", "hi")
    with pytest.raises(ValidationError):
        service.send("alice", "bob", "   ")
    sent = service.send("alice", "bob", "can you take 1001's caller?")
    [(topic, data)] = sub.drain()
    assert topic == "message" and data == sent
    assert visible("message", data, None, "bob") and visible("message", data, None, "alice")
    assert not visible("message", data, None, "sup")  # staff do not read other people's messages
    assert not visible("message", data, ({"1001"}, {"sales"}), "")
    with pytest.raises(NotFound):
        service.mark_read("alice", sent["id"])  # only the recipient marks it read
    assert service.mark_read("bob", sent["id"])["read_at"]
    assert [x["body"] for x in service.inbox("bob")] == ["can you take 1001's caller?"]


@pytest.mark.parametrize("number, lang, expected", [
    ("010-6512 3456", "en", ("landline", "Beijing", None)),
    ("075588881234", "zh_CN", ("landline", "广东省深圳市", None)),
    ("0512 6512 3456", "en", ("landline", "Suzhou, Jiangsu", None)),
    ("05121234567", "en", ("unknown", None, None)),  # a digit short for Suzhou: no number of the plan
    ("13912345678", "en", ("mobile", "Changzhou, Jiangsu", "China Mobile")),
    ("+86 186 1234 5678", "en", ("mobile", "Beijing", "China Unicom")),
    ("+85291234567", "en", ("international", "Hong Kong", None)),
    ("0044 20 7946 0000", "zh_CN", ("international", "英国", None)),
    ("", "en", ("unknown", None, None)),
    ("anonymous", "en", ("unknown", None, None)),
])
def test_where_a_number_is_from(number, lang, expected):
    d = numbers.describe(number, lang)
    assert (d["kind"], d["region"], d["operator"]) == expected


def test_an_agent_in_no_queue_has_no_missed_calls(ws):
    service, _, _ = ws
    call("3.1", "13900000005", agent="", queue="", disposition="fallback", minutes_ago=5)  # refused before a queue
    assert service.missed([]) == []


def test_the_pop_uses_the_call_events_lookup_and_both_find_every_stored_form(ws):
    """One lookup serves the event and the pop: the event names the customer (found in any of
    the number's stored forms), the pop takes that answer when it is this number's."""
    from appliance.services import callers

    service, _, crm = ws
    other = crm.create(ADMIN, {"phone": "+8613900000077", "name": "Other"}, actor="t")
    event = callers.with_customer("call", {"event": "offered", "caller": "+8613800000001", "offered_to": "1001"})
    acme = event["customer"]
    assert acme["name"] == "Acme Ltd" and acme["phone"] == "13800000001" and acme["account_manager"] == "1002"
    assert callers.with_customer("call", {"event": "answered", "caller": "13800000001"}) == {
        "event": "answered", "caller": "13800000001"}  # only offered and dialling calls carry it
    assert callers.with_customer("call", {"event": "offered", "caller": "13900000099"})["customer"] is None
    assert service.pop("+8613800000001", customer_id=acme["id"])["customer"]["name"] == "Acme Ltd"
    assert service.pop("13800000001", customer_id=0)["customer"] is None  # the event found nobody
    # another number's customer is not taken on the caller's word: the number is looked up
    assert service.pop("13800000001", customer_id=other["id"])["customer"]["name"] == "Acme Ltd"
    assert service.pop("13800000001", customer_id=99999)["customer"]["name"] == "Acme Ltd"
    assert callers.account_manager_of("008613800000001") == "1002"
    assert callers.customer_of("") is None and callers.account_manager_of("13900000099") is None
