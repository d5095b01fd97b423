"""What an agent does for a customer beyond the call, over a real database: the latest
order's state told to a colleague by internal message in the very sentence the voice menu
says (one function picks the words for both), and a closed work order putting its customer
into an outbound call list the way the import does (normalised, linked, never twice)."""

from __future__ import annotations

import pytest

from appliance import sounds
from appliance.db import models as m
from appliance.engine.menus import ORDER_STATES, Prompts, order_status
from appliance.errors import NotFound, ValidationError
from appliance.services.calllists import CallLists
from appliance.services.crm import CustomerService, Viewer
from appliance.services.orders import OrderService, status_sentence
from appliance.services.workorders import WorkOrderService
from appliance.services.workspace import WorkspaceService

ADMIN = Viewer("root", "admin")
ALICE = Viewer("alice", "agent", frozenset({"1001"}))
BOB = Viewer("bob", "agent", frozenset({"1002"}))


@pytest.fixture
def world(db):
    for name, role, language in (("root", "admin", "en"), ("alice", "agent", "zh_CN"), ("bob", "agent", "en")):
        m.User.create(username=name, password_hash="x", role=role, language=language)
    alice = m.Agent.create(number="1001", name="Alice", user=m.User.get(username="alice"))
    m.Agent.create(number="1002", name="Bob", user=m.User.get(username="bob"))
    wang = m.Customer.create(name="王芳", phone="+8613912345678", account_manager=alice)
    crm = CustomerService(db)
    return type("W", (), {"crm": crm, "orders": OrderService(db, crm), "wang": wang, "db": db,
                          "workspace": WorkspaceService(db, crm, None, None)})


@pytest.mark.parametrize("state", [None, "draft", *ORDER_STATES])
def test_the_voice_menu_and_the_message_say_the_same_sentence(state):
    order = None if state is None else {"state": state, "tracking": "SF307"}
    sentence, tracking = order_status(order)
    prompts = Prompts(orders={s: (f"file-{s}",) for s in ("none", *ORDER_STATES)},
                      digits={d: (f"digit-{d}",) for d in "0123456789"})
    said = prompts.order_said(order)
    assert said[0] == f"file-{sentence.removeprefix('order-')}"  # the menu plays that sentence's file...
    for language in ("zh_CN", "en"):  # ...and the message writes that sentence's words
        assert status_sentence(order, language).startswith(sounds.BY_KEY[sentence].text(language))
    if state == "shipped":
        assert said[1:] == ("digit-3", "digit-0", "digit-7") and tracking == "SF307"
        assert status_sentence(order, "zh_CN") == "您最近的订单已发货，运单号是 SF307"
    else:
        assert said[1:] == () and tracking == ""
    if state in (None, "draft"):
        assert sentence == "order-none"


def test_an_agent_tells_a_colleague_the_latest_order_in_the_colleagues_language(world):
    m.SalesOrder.create(customer=world.wang, state="delivered")
    latest = m.SalesOrder.create(customer=world.wang, state="shipped", tracking="SF1234")
    m.SalesOrder.create(customer=world.wang, state="draft")  # not an order yet: the menu skips it too
    assert OrderService.latest_for_number("13912345678")["id"] == latest.id
    told = world.orders.tell_status(ALICE, world.wang.id, "root", "alice", world.workspace.send)
    assert told["message"]["to"] == "root" and told["message"]["from"] == "alice"
    assert told["message"]["body"] == (f"王芳 (+8613912345678), order #{latest.id}: "
                                       "Your latest order has shipped. The tracking number is SF1234")
    told = world.orders.tell_status(ADMIN, world.wang.id, "alice", "root", world.workspace.send)
    assert told["message"]["body"] == f"王芳（+8613912345678），订单 #{latest.id}：您最近的订单已发货，运单号是 SF1234"
    assert [r.recipient for r in m.Message.select().order_by(m.Message.id)] == ["root", "alice"]
    with pytest.raises(NotFound):  # bob's agent does not manage the customer
        world.orders.tell_status(BOB, world.wang.id, "root", "bob", world.workspace.send)
    with pytest.raises(ValidationError):  # nobody of that name to tell
        world.orders.tell_status(ALICE, world.wang.id, "nobody", "alice", world.workspace.send)
    assert m.Message.select().count() == 2


def test_no_order_is_said_as_the_menu_says_it(world):
    status = world.orders.status_for(ALICE, world.wang.id, "en")
    assert status["order"] is None and status["sentence"] == "We found no order for your number."


def test_closing_a_work_order_puts_its_customer_into_a_call_list_once(world, tmp_path):
    lists = CallLists(world.db)
    follow = lists.create({"name": "revisit", "display_name": "回访"}, "root")
    done = lists.create({"name": "old"}, "root")
    lists.set_state(done["id"], "done", "root")
    svc = WorkOrderService(world.db, world.crm, data_dir=tmp_path / "data", call_lists=lists)
    t = svc.save_type({"name": "repair", "label": "Repair", "transitions": [["new", "done"]],
                       "states": [{"name": "new", "label": "New", "initial": True},
                                  {"name": "done", "label": "Done", "final": True}]}, "root")

    def order():
        return svc.create(ADMIN, {"type": t["id"], "title": "漏水", "customer": world.wang.id}, "root")["id"]

    first = order()
    with pytest.raises(ValidationError) as caught:  # a list that is done: refused, the order stays open
        svc.move(ALICE, first, {"to": "done", "call_list": done["id"]}, "alice")
    assert caught.value.fields["call_list"].msgid == "workorders.field.list_done"
    assert svc.get(ADMIN, first)["state"] == "new"
    moved = svc.move(ALICE, first, {"to": "done", "call_list": follow["id"]}, "alice")
    entry = moved["call_list_entry"]
    assert entry["added"] and entry["customer"] == world.wang.id and entry["number"] == "+8613912345678"
    assert entry["agent"] == "1001" and entry["state"] == "pending" and entry["data"]["work_order"] == first
    assert moved["history"][-1]["kind"] == "call_list" and moved["history"][-1]["note"] == "回访"
    again = svc.move(ALICE, order(), {"to": "done", "call_list": follow["id"]}, "alice")
    assert again["call_list_entry"]["added"] is False and again["call_list_entry"]["id"] == entry["id"]
    assert again["history"][-1]["kind"] == "call_list_had"
    assert m.CallListEntry.select().where(m.CallListEntry.call_list == follow["id"]).count() == 1
    # the same number as the import would have it (another form of it): still once
    assert lists.add(follow["id"], "13912345678", actor="root", source="test")[1] is False
