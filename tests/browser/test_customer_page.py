"""The customer's page in the real Chromium, in both languages: an admin writes an e-mail
template (first refused for a placeholder that is no customer field, with the reason); the
agent sees the customer's points ledger with its order links and their work orders (open
first), e-mails the template (the history says it waits in the outbox, then that it was
sent once the outbox has delivered it to a mail server on a real socket), is told in words
that a customer without an address cannot be written to, and tells a colleague the latest
order's state by internal message.  Screenshots go to tests/artifacts/screenshots/<lang>/."""

from __future__ import annotations

import pytest

from appliance.db import models as m
from appliance.mail import SmtpConfig
from appliance.services.crm import Viewer
from appliance.services.orders import OrderService
from smtpserver import SmtpServer
from webharness import screenshot
from webui import i18n

pytestmark = pytest.mark.browser
ADMIN = Viewer("admin", "admin")


@pytest.fixture
def smtp():
    server = SmtpServer()
    yield server
    server.stop()


def seed(web):
    """王芳 (Alice's customer) with an address, a shipped order, points and two work orders."""
    wang = m.Customer.get(m.Customer.name == "王芳")
    m.Customer.update(email="wang@shop.example").where(m.Customer.id == wang.id).execute()
    order = m.SalesOrder.create(customer=wang, customer_name=wang.name, state="shipped", tracking="SF307",
                                agent="1001", total_fen=24000)
    orders = OrderService(web.db, web.deps.crm)
    with web.db.atomic():
        orders._points_change(wang.id, 24, "earned", order.id, "admin")
    orders.adjust_points(wang.id, -4, "admin")
    wo = web.deps.workorders
    t = wo.save_type({"name": "repair", "label": "Repair", "transitions": [["new", "done"]],
                      "states": [{"name": "new", "label": "新建", "initial": True},
                                 {"name": "done", "label": "完成", "final": True}]}, "admin")
    closed = wo.create(ADMIN, {"type": t["id"], "title": "旧的维修", "customer": wang.id}, "admin")
    wo.move(ADMIN, closed["id"], {"to": "done"}, "admin")
    open_ = wo.create(ADMIN, {"type": t["id"], "title": "热水器漏水", "customer": wang.id}, "admin")
    return wang, order, open_, closed


@pytest.mark.parametrize("lang", ["en", "zh_CN"])
def test_mail_ledger_work_orders_and_order_status_on_the_customer_page(page_as, web, smtp, lang):
    t = lambda msgid, **kw: i18n.translate(lang, msgid, **kw)  # noqa: E731
    wang, order, open_, closed = seed(web)
    outbox = web.deps.customer_mail.outbox
    outbox.config = SmtpConfig(host="127.0.0.1", port=smtp.port, security="none", sender="cc@shop.example")

    admin = page_as("admin", lang)
    admin.goto(web.url + "/admin/mail-templates")
    admin.fill("#mt-name", "发货通知")
    admin.fill("#mt-subject", "{name}，您的订单已发货")
    admin.fill("#mt-body", "{nmae} 您好：\n您的包裹已寄往 {city}。")
    with admin.expect_navigation():
        admin.click("#template-form button.primary")
    assert "{nmae}" in admin.inner_text("#template-form .field-error")  # refused, and why
    assert not m.MailTemplate.select().exists()
    screenshot(admin, lang, "mail-template-refused")
    admin.fill("#mt-body", "{name} 您好：\n您的包裹已寄往 {city}。")
    with admin.expect_navigation():
        admin.click("#template-form button.primary")
    assert "发货通知" in admin.inner_text("#mail-templates")
    screenshot(admin, lang, "mail-templates")

    agent = page_as("agent", lang)
    agent.goto(f"{web.url}/customers/{wang.id}")
    assert agent.inner_text("#points-balance") == t("crm.ledger.balance", n=20)
    ledger = agent.locator("#ledger tbody tr")
    assert ledger.count() == 2 and t("crm.ledger.reason.adjusted") in ledger.nth(0).inner_text()
    assert agent.get_attribute("#ledger tbody tr:nth-child(2) a", "href") == f"/orders/{order.id}"
    rows = agent.locator("#workorders tbody tr")
    assert [rows.nth(i).locator("a").inner_text() for i in range(2)] == [f"#{open_['id']}", f"#{closed['id']}"]
    assert "新建" in rows.nth(0).inner_text() and "完成" in rows.nth(1).inner_text()
    assert agent.inner_text("#order-sentence") == t("orders.tell.line", n=order.id, sentence=(
        "您最近的订单已发货，运单号是 SF307" if lang == "zh_CN" else
        "Your latest order has shipped. The tracking number is SF307"))
    screenshot(agent, lang, "customer-ledger-workorders")

    with agent.expect_navigation():
        agent.click("#mail-form button.primary")
    assert agent.inner_text("#mail-queued") == t("crm.mail.queued")
    history = agent.inner_text("#history")
    assert "王芳，您的订单已发货" in history and t("crm.mail.state.queued") in history
    assert smtp.messages == []  # not on the request: the outbox sends it
    assert outbox.deliver_due() == 1
    assert m.CustomerMail.get().body == "王芳 您好：\n您的包裹已寄往 上海。"  # the lines as typed, filled in
    assert smtp.messages[0].get_content().replace("\r\n", "\n").strip() == m.CustomerMail.get().body
    agent.reload()
    assert t("crm.mail.item", state=t("crm.mail.state.sent")) in agent.inner_text("#history")
    screenshot(agent, lang, "customer-mail-sent")

    agent.select_option("#order-status-to", "sup")
    with agent.expect_navigation():
        agent.click("#order-status-form button")
    assert agent.inner_text("#order-status-told") == t("orders.tell.told", who="sup")
    told = m.Message.get(m.Message.recipient == "sup")
    assert told.sender == "alice" and told.body.endswith("SF307") and f"#{order.id}" in told.body

    li = m.Customer.get(m.Customer.name == "李娜")  # Alice's too, no address
    agent.goto(f"{web.url}/customers/{li.id}")
    assert agent.inner_text("#mail-no-address") == t("crm.mail.no_address_hint")
    with agent.expect_navigation():
        agent.click("#mail-form button.primary")
    assert agent.inner_text("#mail-problem") == t("error.code.crm.mail.no_address", name="李娜")
    screenshot(agent, lang, "customer-mail-no-address")
    assert m.CustomerMail.select().count() == 1
    assert not admin.problems and not agent.problems, admin.problems + agent.problems
