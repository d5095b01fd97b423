"""E-mail to customers over a real database and the real outbox (a mail server on a real
socket): templates refused for unknown placeholders and lone braces with the reason,
values filled in once, a customer without an address refused in words, the message on disk
in the outbox before the request answers and never sent on it, the customer's history
saying queued, then sent or failed with the server's answer, and a work order's mails."""

from __future__ import annotations

import json

import pytest

from appliance.db import models as m
from appliance.errors import NotFound, PermissionDenied, Unavailable, ValidationError
from appliance.mail import Outbox, SmtpConfig
from appliance.services.crm import CustomerService, Viewer
from appliance.services.customer_mail import CustomerMail, placeholders, render, with_mails
from smtpserver import SmtpServer

ADMIN = Viewer("root", "admin")
ALICE = Viewer("alice", "agent", frozenset({"1001"}))
BOB = Viewer("bob", "agent", frozenset({"1002"}))
TEMPLATE = {"name": "shipped", "subject": "{name}，您的订单已发货",
            "body": "{name} 您好：\n您的包裹将寄往 {city}。如有问题请回电 {{客服}}。\n电话 {phone}"}


@pytest.fixture
def smtp():
    server = SmtpServer()
    yield server
    server.stop()


@pytest.fixture
def world(db, tmp_path, smtp):
    crm = CustomerService(db)
    outbox = Outbox(tmp_path / "mail", SmtpConfig(host="127.0.0.1", port=smtp.port, security="none",
                                                  sender="cc@shop.example"))
    m.CustomerField.create(name="city", label="城市", type="text")
    alice = m.Agent.create(number="1001", name="Alice")
    m.Agent.create(number="1002", name="Bob")
    wang = m.Customer.create(name="王芳", phone="13912345678", email="wang@shop.example", account_manager=alice,
                             custom=json.dumps({"city": "杭州 {phone}"}, ensure_ascii=False))
    nomail = m.Customer.create(name="李雷", phone="13912345679", account_manager=alice)
    svc = CustomerMail(db, crm, outbox)
    template = svc.save_template(TEMPLATE, "root")
    return type("W", (), {"svc": svc, "outbox": outbox, "wang": wang, "nomail": nomail, "template": template,
                          "crm": crm, "dir": tmp_path / "mail"})


def test_placeholders_and_rendering_fill_each_value_once():
    assert placeholders("{name} {{x}} {phone}") == ["name", "phone"]
    with pytest.raises(ValueError):
        placeholders("a { b")
    values = {"name": "王芳\r\nBcc: x@evil.example", "phone": "{name}", "n": 12.0}
    assert render("{phone} {{ok}} {n}", values) == "{name} {ok} 12"  # a value's braces stay as they are
    assert render("Hi {name}", values, one_line=True) == "Hi 王芳 Bcc: x@evil.example"  # a header is one line


@pytest.mark.parametrize("field, text, msgid", [
    ("body", "Dear {nmae}", "mail.templates.field.unknown"),
    ("subject", "Order of {customer_city}", "mail.templates.field.unknown"),
    ("body", "a lone { brace", "mail.templates.field.brace"),
    ("subject", "<b>hello</b>", "field.markup"),
])
def test_a_template_with_an_unknown_placeholder_is_refused_with_the_reason(world, field, text, msgid):
    data = {**TEMPLATE, "name": "bad", field: text}
    with pytest.raises(ValidationError) as caught:
        world.svc.save_template(data, "root")
    assert list(caught.value.fields) == [field] and caught.value.fields[field].msgid == msgid
    if msgid.endswith("unknown"):
        assert "{city}" in caught.value.fields[field] and "{phone}" in caught.value.fields[field]
    assert not m.MailTemplate.select().where(m.MailTemplate.name == "bad").exists()


def test_custom_fields_are_placeholders_and_names_are_unique(world):
    assert world.svc.known() == ["name", "phone", "email", "category", "account_manager", "city"]
    with pytest.raises(Exception) as caught:
        world.svc.save_template({**TEMPLATE}, "root")
    assert caught.value.code == "exists"


def test_sending_queues_in_the_outbox_and_the_history_says_sent(world, smtp):
    sent = world.svc.send(ALICE, world.wang.id, world.template["id"], "alice")
    assert sent["state"] == "queued" and sent["by"] == "alice"
    assert sent["subject"] == "王芳，您的订单已发货"
    assert sent["body"] == "王芳 您好：\n您的包裹将寄往 杭州 {phone}。如有问题请回电 {客服}。\n电话 13912345678"
    on_disk = [json.loads(p.read_text()) for p in world.dir.glob("*.json")]
    assert [(i["to"], i["meta"]) for i in on_disk] == [(["wang@shop.example"], {"customer_mail": sent["id"]})]
    assert smtp.messages == []  # never sent on the request: the outbox's greenlet sends it
    assert world.outbox.deliver_due() == 1
    assert smtp.messages[0]["Subject"] == "王芳，您的订单已发货"
    history = with_mails([], world.wang.id)
    assert [(h["kind"], h["state"], h["by"], h["subject"]) for h in history] == [
        ("mail", "sent", "alice", "王芳，您的订单已发货")]
    audit = m.AuditLog.get(m.AuditLog.action == "mail")
    assert audit.username == "alice" and audit.object_id == str(world.wang.id)


def test_a_refused_message_is_failed_in_the_history_with_the_servers_words(world, smtp):
    smtp.refuse["RCPT"] = "550 5.1.1 no such mailbox"
    world.svc.send(ADMIN, world.wang.id, world.template["id"], "root")
    world.outbox.deliver_due()
    [item] = world.svc.of_customer(world.wang.id)
    assert item["state"] == "failed" and "no such mailbox" in item["error"]


def test_no_address_mail_off_and_other_agents_customers_are_refused(world, tmp_path):
    with pytest.raises(ValidationError) as caught:
        world.svc.send(ALICE, world.nomail.id, world.template["id"], "alice")
    assert caught.value.code == "crm.mail.no_address" and caught.value.params == {"name": "李雷"}
    with pytest.raises(NotFound):
        world.svc.send(BOB, world.wang.id, world.template["id"], "bob")
    with pytest.raises(NotFound):
        world.svc.send(ALICE, world.wang.id, 999, "alice")
    off = CustomerMail(world.svc.db, world.crm, Outbox(tmp_path / "off", SmtpConfig(host="")))
    with pytest.raises(Unavailable) as caught:
        off.send(ALICE, world.wang.id, world.template["id"], "alice")
    assert caught.value.code == "crm.mail.off"
    assert m.CustomerMail.select().count() == 0 and not list(world.dir.glob("*.json"))


def test_a_pool_customer_is_claimed_before_mailing(world):
    m.SiteSetting.put("customer_pool", "on", "root", m.utcnow())
    nobodys = m.Customer.create(name="赵六", phone="13912340000", email="zhao@shop.example")
    with pytest.raises(PermissionDenied) as caught:
        world.svc.send(ALICE, nobodys.id, world.template["id"], "alice")
    assert caught.value.code == "crm.mail.claim_first"


def test_from_a_work_order_to_its_customer(world, tmp_path):
    from appliance.services.workorders import WorkOrderService

    orders = WorkOrderService(world.svc.db, world.crm, data_dir=tmp_path / "data")
    t = orders.save_type({"name": "repair", "label": "Repair", "transitions": [["new", "done"]],
                          "states": [{"name": "new", "label": "New", "initial": True},
                                     {"name": "done", "label": "Done", "final": True}]}, "root")
    order = orders.create(ADMIN, {"type": t["id"], "title": "漏水", "customer": world.wang.id}, "root")
    svc = CustomerMail(world.svc.db, world.crm, world.outbox, workorders=orders)
    sent = svc.send(ALICE, None, world.template["id"], "alice", work_order=order["id"])
    assert sent["customer_id"] == world.wang.id and sent["work_order"] == order["id"]
    assert [x["id"] for x in svc.of_work_order(order["id"])] == [sent["id"]]
    with pytest.raises(NotFound):  # bob neither sees the order nor its customer
        svc.send(BOB, None, world.template["id"], "bob", work_order=order["id"])


def test_addresses_come_in_and_go_out_with_the_customers_excel(world, tmp_path):
    from openpyxl import Workbook, load_workbook

    from appliance.services.customer_excel import CustomerExcel, guess_columns

    excel = CustomerExcel(world.svc.db, world.crm)
    book = Workbook()
    for row in (["姓名", "手机", "电子邮箱"], ["赵六", "13700000001", "zhao@shop.example"], ["钱七", "13700000002", "not-mail"]):
        book.active.append(row)
    book.save(tmp_path / "in.xlsx")
    sheet = excel.read(tmp_path / "in.xlsx")
    columns = guess_columns(["姓名", "手机", "电子邮箱"], {}, [])
    assert columns == ["name", "phone", "email"]
    report, _ = excel.check_sheet(sheet, columns=columns)
    assert [(e["row"], e["column"]) for e in report.as_dict()["errors"]] == [(3, "电子邮箱")]  # refused, by row
    book.active.delete_rows(3)
    book.save(tmp_path / "in.xlsx")
    assert excel.import_sheet(excel.read(tmp_path / "in.xlsx"), "root", "in.xlsx", columns=columns) == 1
    assert m.Customer.get(m.Customer.name == "赵六").email == "zhao@shop.example"
    excel.export(world.crm.matching(ADMIN, q="赵六"), {"email": "E-mail"}, tmp_path / "out.xlsx")
    rows = list(load_workbook(tmp_path / "out.xlsx").active.iter_rows(values_only=True))
    assert rows[0][5] == "E-mail" and rows[1][5] == "zhao@shop.example"
