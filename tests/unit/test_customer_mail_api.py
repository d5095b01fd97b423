"""E-mail to customers and the order status by internal message through the real WSGI app:
a template refused for an unknown placeholder with the reason, sending refused without an
address and while mail is off (each in words), a mail queued and in the history, the
latest order's sentence told to a colleague, and a work order closed into a call list."""

from __future__ import annotations

from test_webui import env, seed_agents, token_for  # noqa: F401  (env is a fixture)

from appliance.db import models as m
from appliance.mail import SmtpConfig


def test_templates_sending_and_the_history_through_the_api(env):  # noqa: F811
    seed_agents(env.deps.config)
    admin, alice = token_for(env, "admin"), token_for(env, "alice")
    bad = env.app.post_json("/api/v1/mail-templates", {"name": "hi", "subject": "Hello {nmae}", "body": "Hi"},
                            headers=admin, expect_errors=True)
    assert bad.status_int == 422 and bad.json["fields"]["subject"].startswith("unknown placeholder {nmae}")
    assert env.app.post_json("/api/v1/mail-templates", {"name": "hi", "subject": "Hello", "body": "Hi"},
                             headers=alice, expect_errors=True).status_int == 403
    t = env.app.post_json("/api/v1/mail-templates", {"name": "hi", "subject": "您好 {name}", "body": "电话 {phone}"},
                          headers=admin).json
    customer = env.app.post_json("/api/v1/customers", {"name": "张三", "phone": "13912345678"}, headers=alice).json
    send = f"/api/v1/customers/{customer['id']}/mails"
    refused = env.app.post_json(send, {"template": t["id"]}, headers=alice, expect_errors=True)
    assert refused.status_int == 422 and refused.json["error"] == "crm.mail.no_address"
    env.app.patch_json(f"/api/v1/customers/{customer['id']}", {"email": "zhang@shop.example"}, headers=alice)
    off = env.app.post_json(send, {"template": t["id"]}, headers=alice, expect_errors=True)
    assert off.status_int == 503 and off.json["error"] == "crm.mail.off"
    env.deps.customer_mail.outbox.config = SmtpConfig(host="127.0.0.1")  # on; nothing here delivers
    sent = env.app.post_json(send, {"template": t["id"]}, headers=alice)
    assert sent.status_int == 201 and sent.json["subject"] == "您好 张三" and sent.json["state"] == "queued"
    history = env.app.get(f"/api/v1/customers/{customer['id']}/history", headers=alice).json["items"]
    assert [(h["kind"], h["subject"], h["by"]) for h in history if h["kind"] == "mail"] == [("mail", "您好 张三", "alice")]
    assert env.app.get(send, headers=token_for(env, "bob"), expect_errors=True).status_int == 404


def test_the_latest_order_told_to_a_colleague(env):  # noqa: F811
    seed_agents(env.deps.config)
    alice = token_for(env, "alice")
    customer = env.app.post_json("/api/v1/customers", {"name": "张三", "phone": "13912345678"}, headers=alice).json
    order = m.SalesOrder.create(customer=customer["id"], state="shipped", tracking="YT88", agent="1001")
    status = env.app.get(f"/api/v1/customers/{customer['id']}/order-status", headers=alice).json
    assert status["sentence"] == "Your latest order has shipped. The tracking number is YT88"
    m.User.update(language="zh_CN").where(m.User.username == "sup").execute()
    told = env.app.post_json(f"/api/v1/orders/{order.id}/order-status", {"to": "sup"}, headers=alice).json
    assert told["message"]["body"] == f"张三（13912345678），订单 #{order.id}：您最近的订单已发货，运单号是 YT88"
    nobody = env.app.post_json(f"/api/v1/customers/{customer['id']}/order-status", {"to": "nobody"}, headers=alice,
                               expect_errors=True)
    assert nobody.status_int == 422 and m.Message.select().count() == 1


def test_a_closed_work_order_puts_its_customer_in_a_call_list(env):  # noqa: F811
    from test_workorders_api import make_type

    seed_agents(env.deps.config)
    admin = token_for(env, "admin")
    t = make_type(env, admin)
    customer = env.app.post_json("/api/v1/customers", {"name": "张三", "phone": "13912345678"}, headers=admin).json
    lst = env.app.post_json("/api/v1/calllists", {"name": "revisit"}, headers=admin).json
    order = env.app.post_json("/api/v1/work-orders", {"type": t["id"], "title": "漏水", "customer": customer["id"],
                                                      "custom": {"model": "X1"}}, headers=admin).json
    for to in ("on_site",):
        env.app.post_json(f"/api/v1/work-orders/{order['id']}/move", {"to": to}, headers=admin)
    done = env.app.post_json(f"/api/v1/work-orders/{order['id']}/move", {"to": "done", "call_list": lst["id"]},
                             headers=admin).json
    assert done["call_list_entry"]["added"] and done["call_list_entry"]["customer"] == customer["id"]
    entries = env.app.get(f"/api/v1/calllists/{lst['id']}/entries", headers=admin).json["items"]
    assert [e["number"] for e in entries] == ["+8613912345678"]
