"""Orders and sales: products, orders through their whole life, payments, points and stock,
through the real Bottle app over a real SQLite file (the ``env`` of test_webui)."""

from __future__ import annotations

import io
import re
import threading

import pytest

from appliance.db import models as m
from appliance.services.crm import Viewer
from appliance.services.orders import OrderService, parse_money, yuan
from test_webui import env, seed_agents, token_for  # noqa: F401  (env is a fixture)


@pytest.fixture
def shop(env):  # noqa: F811
    seed_agents(env.deps.config)  # agents 1001 (alice) and 1002 (bob)
    h = token_for(env, "admin")
    env.h = {name: token_for(env, name) for name in ("admin", "sup", "alice", "bob")}
    app = env.app
    assert app.post_json("/api/v1/suppliers", {"name": "丽人化妆品厂", "phone": "02112345678"}, headers=h).status_int == 201
    env.cream = app.post_json("/api/v1/products", {"code": "C-01", "name": "保湿霜", "category": "护肤", "price": "128.00",
                                                   "unit": "瓶", "stock": 10, "supplier": "丽人化妆品厂"}, headers=h).json
    env.mask = app.post_json("/api/v1/products", {"code": "M-02", "name": "面膜", "price": 59.9, "stock": 5},
                             headers=h).json
    env.gift = app.post_json("/api/v1/products", {"code": "G-01", "name": "小样", "price": "0", "gift": True,
                                                  "stock": 2}, headers=h).json
    env.zhang = app.post_json("/api/v1/customers", {"name": "张伟", "phone": "13912345678"},
                              headers=env.h["alice"]).json  # alice's customer
    env.li = app.post_json("/api/v1/customers", {"name": "李娜", "phone": "13800000002"}, headers=env.h["bob"]).json
    return env


def order_body(env, **more):
    return {"customer_id": env.zhang["id"], "address": "上海市徐汇区1号", "payment_method": "cod",
            "items": [{"product": "C-01", "quantity": 2, "price": "120"}, {"product": env.mask["id"], "quantity": 1},
                      {"product": "G-01", "quantity": 1}], **more}


def take(env, who="alice", **more):
    return env.app.post_json("/api/v1/orders", order_body(env, **more), headers=env.h[who], expect_errors=True)


def act(env, who, order, action, version=None, **data):
    headers = dict(env.h[who])
    if version is not None:
        headers["If-Match"] = f'"{version}"'
    return env.app.post_json(f"/api/v1/orders/{order['id']}/{action}", data, headers=headers, expect_errors=True)


def stock(code):
    return m.Product.get(m.Product.code == code).stock


# -- money ----------------------------------------------------------------------------------
def test_money_is_fen_never_float():
    assert parse_money("128.00") == 12800 and parse_money(59.9) == 5990 and parse_money("¥1,200.5") == 120050
    assert parse_money("0.30") == 30 and parse_money(0.3) == 30
    for bad in ("-1", "1.234", "abc", "nan", "inf", True, None, "1e30", 10 ** 12):
        with pytest.raises(ValueError):
            parse_money(bad)
    assert yuan(1250) == "¥12.50" and yuan(123456789) == "¥1,234,567.89" and yuan(-300) == "-¥3.00"


# -- the whole life through the API ------------------------------------------------------------
def test_an_order_from_draft_to_delivered_and_returned(shop):
    app, h = shop.app, shop.h
    m.CallRecord.create(linkedid="1700000000.1", caller="13912345678", agent="1001", enter_time=m.utcnow(),
                        disposition="answered")
    res = take(shop, linkedid="1700000000.1", points=0, note="晚上送")
    assert res.status_int == 201, res.json
    o = res.json
    assert res.headers["ETag"] == f'"{o["version"]}"'
    assert (o["state"], o["agent"], o["linkedid"]) == ("draft", "1001", "1700000000.1")
    # 2 x 120 (a discount within 10%) + 59.90 + a gift at 0
    assert (o["subtotal"], o["total"], o["owed"]) == ("299.90", "299.90", "299.90")
    assert [i["gift"] for i in o["items"]] == [False, False, True]
    assert o["actions"] == ["submit", "cancel", "edit"]
    o = act(shop, "alice", o, "submit", o["version"]).json
    assert o["state"] == "review"
    # an agent does not review; a supervisor only once an admin names them
    assert act(shop, "alice", o, "approve").status_int == 403
    assert act(shop, "sup", o, "approve").status_int == 403
    assert app.put_json("/api/v1/orders/settings", {"reviewers": ["sup"]}, headers=h["admin"]).json["reviewers"] == ["sup"]
    o = act(shop, "sup", o, "approve", o["version"]).json
    assert o["state"] == "approved" and stock("C-01") == 10  # stock goes only when it ships
    assert act(shop, "admin", o, "ship", tracking="SF123").json["fields"] == {"courier": "required"}
    o = act(shop, "admin", o, "ship", o["version"], courier="顺丰", tracking="SF1234567890").json
    assert (o["state"], o["tracking"]) == ("shipped", "SF1234567890")
    assert (stock("C-01"), stock("M-02"), stock("G-01")) == (8, 4, 1)
    # payments: what is owed, never more; points by the rule (1 per ¥10 paid)
    over = app.post_json(f"/api/v1/orders/{o['id']}/payments", {"amount": "300"}, headers=h["alice"],
                         expect_errors=True)
    assert over.status_int == 422 and "owed" in over.json["fields"]["amount"]
    o = app.post_json(f"/api/v1/orders/{o['id']}/payments", {"amount": "100.00", "method": "cod",
                                                              "reference": "R1"}, headers=h["alice"]).json
    assert (o["paid"], o["owed"], o["points_earned"]) == ("100.00", "199.90", 10)
    o = app.post_json(f"/api/v1/orders/{o['id']}/payments", {"amount": "199.90"}, headers=h["admin"]).json
    assert (o["owed"], o["points_earned"]) == ("0.00", 29)
    o = act(shop, "admin", o, "deliver").json
    assert o["state"] == "delivered"
    points = app.get(f"/api/v1/customers/{shop.zhang['id']}/points", headers=h["alice"]).json
    assert points["balance"] == 29 and [e["reason"] for e in points["entries"]] == ["earned", "earned"]
    # returned: the stock comes back, the points earned go
    o = act(shop, "admin", o, "return", reason="过敏").json
    assert o["state"] == "returned" and (stock("C-01"), stock("M-02"), stock("G-01")) == (10, 5, 2)
    assert app.get(f"/api/v1/customers/{shop.zhang['id']}/points", headers=h["alice"]).json["balance"] == 0
    assert [(e["from"], e["to"], e["by"]) for e in o["history"]] == [
        ("", "draft", "alice"), ("draft", "review", "alice"), ("review", "approved", "sup"),
        ("approved", "shipped", "admin"), ("shipped", "shipped", "alice"), ("shipped", "shipped", "admin"),
        ("shipped", "delivered", "admin"), ("delivered", "returned", "admin")]
    audit = app.get("/api/v1/audit?limit=50", headers=h["admin"]).json["items"]
    assert [a["action"] for a in audit if a["object_type"] == "orders"][:3] == ["return", "deliver", "pay"]
    # the customer's history shows the order beside the call
    kinds = {i["kind"] for i in app.get(f"/api/v1/customers/{shop.zhang['id']}/history", headers=h["alice"]).json["items"]}
    assert {"call", "order"} <= kinds


def test_reject_needs_a_reason_and_gives_the_points_back(shop):
    svc = OrderService(shop.db, shop.deps.crm)
    svc.adjust_points(shop.zhang["id"], 100, actor="admin")
    o = take(shop, points=50, submit=True).json
    assert o["state"] == "review" and (o["points_discount"], o["total"]) == ("5.00", "294.90")
    assert svc.points_balance(shop.zhang["id"]) == 50
    assert act(shop, "admin", o, "reject").json["fields"] == {"reason": "required"}
    o = act(shop, "admin", o, "reject", reason="地址不全").json
    assert (o["state"], o["reason"]) == ("rejected", "地址不全")
    assert svc.points_balance(shop.zhang["id"]) == 100
    assert act(shop, "admin", o, "ship", courier="x", tracking="y").json["error"] == "orders.bad_state"


# -- who sees what -------------------------------------------------------------------------------
def test_agents_see_their_own_customers_orders_only(shop):
    o = take(shop).json
    assert shop.app.get(f"/api/v1/orders/{o['id']}", headers=shop.h["bob"], expect_errors=True).status_int == 404
    assert act(shop, "bob", o, "cancel").status_int == 404
    bob = shop.app.post_json("/api/v1/orders", order_body(shop), headers=shop.h["bob"], expect_errors=True)
    assert bob.status_int == 404  # alice's customer: not found for bob
    assert shop.app.get("/api/v1/orders", headers=shop.h["bob"]).json["total"] == 0
    assert shop.app.get("/api/v1/orders", headers=shop.h["sup"]).json["total"] == 1
    assert shop.app.get("/api/v1/orders/sales", headers=shop.h["alice"], expect_errors=True).status_int == 403
    assert shop.app.post_json("/api/v1/products", {"code": "X", "name": "x", "price": 1}, headers=shop.h["alice"],
                              expect_errors=True).status_int == 403


# -- bad input: nothing half-saved --------------------------------------------------------------
BAD_LINES = [
    ({"product": "C-01", "quantity": -1}, "items.0.quantity"),
    ({"product": "C-01", "quantity": 10 ** 9}, "items.0.quantity"),
    ({"product": "C-01", "quantity": "two"}, "items.0.quantity"),
    ({"product": "C-01", "quantity": 1.5}, "items.0.quantity"),
    ({"product": "C-01", "price": "-5"}, "items.0.price"),
    ({"product": "C-01", "price": "1e40"}, "items.0.price"),
    ({"product": "C-01", "price": "abc"}, "items.0.price"),
    ({"product": "C-01", "price": "100"}, "items.0.price"),  # below the 10% limit
    ({"product": "C-01", "price": "200"}, "items.0.price"),  # above the list price
    ({"product": "G-01", "price": "5"}, "items.0.price"),  # a gift has no price
    ({"product": "NOPE"}, "items.0.product"),
]


def test_bad_lines_are_refused_and_nothing_saved(shop):
    for line, field in BAD_LINES:
        res = shop.app.post_json("/api/v1/orders", {**order_body(shop), "items": [line]}, headers=shop.h["alice"],
                                 expect_errors=True)
        assert res.status_int == 422 and field in res.json["fields"], (line, res.json)
    for body, field in (({"points": -3}, "points"), ({"points": 10 ** 4}, "points"), ({"address": ""}, "address"),
                        ({"payment_method": "iou"}, "payment_method"), ({"items": []}, "items")):
        res = take(shop, **body)
        assert res.status_int == 422 and field in res.json["fields"], (body, res.json)
    res = take(shop, points=10, submit=True)  # the customer has no points: the draft is not kept either
    assert res.status_int == 409 and res.json["error"] == "points.not_enough"
    assert m.SalesOrder.select().count() == 0 and m.OrderItem.select().count() == 0
    assert m.OrderEvent.select().count() == 0 and m.PointsEntry.select().count() == 0


def test_out_of_stock_is_refused_unless_allowed(shop):
    res = take(shop, items=[{"product": "M-02", "quantity": 6}])
    assert res.status_int == 409 and res.json["error"] == "products.out_of_stock"
    assert m.SalesOrder.select().count() == 0
    shop.app.put_json("/api/v1/orders/settings", {"negative_stock": True}, headers=shop.h["admin"])
    o = take(shop, items=[{"product": "M-02", "quantity": 6}], submit=True).json
    o = act(shop, "admin", o, "approve").json
    o = act(shop, "admin", o, "ship", courier="EMS", tracking="E1").json
    assert o["state"] == "shipped" and stock("M-02") == -1


def test_stock_never_below_zero_at_shipping(shop):
    first = take(shop, items=[{"product": "M-02", "quantity": 4}], submit=True).json
    second = take(shop, items=[{"product": "M-02", "quantity": 4}], submit=True).json
    for o in (first, second):
        act(shop, "admin", o, "approve")
    assert act(shop, "admin", first, "ship", courier="EMS", tracking="E1").status_int == 200
    res = act(shop, "admin", second, "ship", courier="EMS", tracking="E2")
    assert res.status_int == 409 and res.json["error"] == "products.out_of_stock"
    assert stock("M-02") == 1 and shop.app.get(f"/api/v1/orders/{second['id']}", headers=shop.h["admin"]).json[
        "state"] == "approved"


def test_two_people_changing_one_order_conflict(shop):
    o = take(shop).json
    read = o["version"]
    edited = shop.app.put_json(f"/api/v1/orders/{o['id']}", order_body(shop, note="改了"),
                               headers={**shop.h["alice"], "If-Match": f'"{read}"'})
    assert edited.json["note"] == "改了" and edited.headers["ETag"] != f'"{read}"'
    stale = shop.app.put_json(f"/api/v1/orders/{o['id']}", order_body(shop, note="我的"),
                              headers={**shop.h["admin"], "If-Match": f'"{read}"'}, expect_errors=True)
    assert stale.status_int == 409 and stale.json["error"] == "orders.changed"
    assert act(shop, "admin", o, "cancel", read).json["error"] == "orders.changed"
    assert shop.app.get(f"/api/v1/orders/{o['id']}", headers=shop.h["admin"]).json["note"] == "改了"


def test_points_are_never_double_spent_by_two_requests_at_once(shop):
    svc = OrderService(shop.db, shop.deps.crm)
    svc.adjust_points(shop.zhang["id"], 100, actor="admin")
    drafts = [take(shop, points=80).json for _ in range(2)]
    results, barrier = [], threading.Barrier(2)

    def submit(order):
        shop.db.connect(reuse_if_open=True)
        barrier.wait()
        try:
            results.append(svc.act(Viewer("alice", "agent", frozenset({"1001"})), order["id"], "submit", {},
                                   "alice")["state"])
        except Exception as exc:  # noqa: BLE001 - the loser's error is what is checked
            results.append(getattr(exc, "code", repr(exc)))
        finally:
            shop.db.close()

    threads = [threading.Thread(target=submit, args=(o,)) for o in drafts]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(results) == ["points.not_enough", "review"]
    assert svc.points_balance(shop.zhang["id"]) == 20
    assert [e.delta for e in m.PointsEntry.select().order_by(m.PointsEntry.id)] == [100, -80]


# -- Excel ------------------------------------------------------------------------------------------
def workbook(rows) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_products_import_and_export(shop):
    h = shop.h["admin"]
    good = workbook([["编码", "名称", "价格", "库存", "供应商"], ["C-01", "保湿霜（新）", "130", 20, "丽人化妆品厂"],
                     ["N-9", "精华", "299.5", 3, ""]])
    res = shop.app.post("/api/v1/products/import?confirm=1", upload_files=[("file", "p.xlsx", good)], headers=h)
    assert res.json["imported"] == 2 and (res.json["added"], res.json["updated"]) == (1, 1)
    assert stock("C-01") == 20 and m.Product.get(m.Product.code == "N-9").price_fen == 29950
    bad = workbook([["code", "name", "price"], ["Z-1", "坏", "-3"], ["Z-2", "", "1"], ["Z-3", "ok", "abc"]])
    res = shop.app.post("/api/v1/products/import?confirm=1", upload_files=[("file", "b.xlsx", bad)], headers=h,
                        expect_errors=True)
    assert res.status_int == 422 and res.json["report"]["error_count"] == 3
    assert not m.Product.select().where(m.Product.code.startswith("Z-")).exists()
    out = shop.app.get("/api/v1/products/export", headers=h)
    from openpyxl import load_workbook

    rows = list(load_workbook(io.BytesIO(out.body)).active.iter_rows(values_only=True))
    assert rows[0][0] == "Code" and {r[0] for r in rows[1:]} == {"C-01", "M-02", "N-9", "G-01"}


def test_tracking_numbers_from_excel_with_unknown_orders_reported(shop):
    o = take(shop, submit=True).json
    act(shop, "admin", o, "approve")
    sheet = workbook([["订单号", "快递公司", "运单号"], [o["id"], "顺丰", "SF9"], [99999, "顺丰", "SF10"]])
    res = shop.app.post("/api/v1/orders/tracking?confirm=1", upload_files=[("file", "t.xlsx", sheet)],
                        headers=shop.h["admin"], expect_errors=True)
    assert res.status_int == 422
    assert [(e["row"], e["column"]) for e in res.json["report"]["errors"]] == [(3, "order")]
    assert shop.app.get(f"/api/v1/orders/{o['id']}", headers=shop.h["admin"]).json["state"] == "approved"
    sheet = workbook([["order", "courier", "tracking"], [o["id"], "顺丰", "SF9"]])
    res = shop.app.post("/api/v1/orders/tracking?confirm=1", upload_files=[("file", "t.xlsx", sheet)],
                        headers=shop.h["admin"])
    assert res.json["shipped"] == 1
    got = shop.app.get(f"/api/v1/orders/{o['id']}", headers=shop.h["admin"]).json
    assert (got["state"], got["tracking"]) == ("shipped", "SF9") and stock("C-01") == 8


def test_search_and_sales_figures(shop):
    a = take(shop, submit=True).json
    act(shop, "admin", a, "approve")
    take(shop, items=[{"product": "M-02", "quantity": 1}])  # a draft: no sale
    h = shop.h["admin"]
    assert shop.app.get("/api/v1/orders?state=approved", headers=h).json["total"] == 1
    assert shop.app.get("/api/v1/orders?product=M-02", headers=h).json["total"] == 2
    assert shop.app.get("/api/v1/orders?product=C-01&agent=1001&customer=张", headers=h).json["total"] == 1
    assert shop.app.get("/api/v1/orders?state=nope", headers=h, expect_errors=True).status_int == 422
    figures = shop.app.get("/api/v1/orders/sales", headers=h).json
    assert figures["amount"] == "299.90" and figures["by_agent"][0]["key"] == "1001"
    assert {r["key"]: r["quantity"] for r in figures["by_product"]} == {"C-01": 2, "M-02": 1, "G-01": 1}
    assert sum(int(r["amount_fen"]) for r in figures["by_day"]) == 29990
    out = shop.app.get("/api/v1/orders/sales/export", headers=h)
    from openpyxl import load_workbook

    assert len(load_workbook(io.BytesIO(out.body)).sheetnames) == 3


def test_the_pages_take_an_order_and_show_it_in_both_languages(shop):
    from test_webui import session_for

    cookie, csrf = session_for(shop, "alice")
    app = shop.app
    form = app.get(f"/orders/new?customer={shop.zhang['id']}&linkedid=1700000000.9", headers=cookie)
    assert "保湿霜" in form.text and "1700000000.9" in form.text
    bad = app.post("/orders", {"csrf_token": csrf, "customer_id": shop.zhang["id"], "product.0": "C-01",
                               "quantity.0": "-2", "price.0": "", "address": "北京", "payment_method": "cod"},
                   headers=cookie, expect_errors=True)
    assert bad.status_int == 422 and "1 to 10000" in bad.text and m.SalesOrder.select().count() == 0
    res = app.post("/orders", {"csrf_token": csrf, "customer_id": shop.zhang["id"], "product.0": "C-01",
                               "quantity.0": "1", "price.0": "", "product.1": "G-01", "quantity.1": "1",
                               "address": "北京", "payment_method": "bank_transfer", "linkedid": "1700000000.9",
                               "submit": "1"}, headers=cookie)
    page = res.follow(headers=cookie)
    assert "Waiting for review" in page.text and "¥128.00" in page.text and "Bank transfer" in page.text
    admin_cookie, admin_csrf = session_for(shop, "admin")
    order_id = m.SalesOrder.get().id
    app.post(f"/orders/{order_id}/approve", {"csrf_token": admin_csrf, "version": "1"}, headers=admin_cookie,
             expect_errors=True)
    stale = app.post(f"/orders/{order_id}/approve", {"csrf_token": admin_csrf, "version": "1"}, headers=admin_cookie,
                     expect_errors=True)
    assert stale.status_int == 409
    ok = app.post(f"/orders/{order_id}/approve", {"csrf_token": admin_csrf, "version": "2"}, headers=admin_cookie)
    assert ok.status_int == 302
    shop.ids["wang"] = shop.users.create("wang", "pw-wang-123456", "admin", language="zh_CN")["id"]
    zh, _csrf = session_for(shop, "wang")
    words = {"/orders": "已审核", f"/orders/{order_id}": "发货", "/products": "保湿霜", "/orders/sales": "¥128.00",
             f"/customers/{shop.zhang['id']}": f"订单 #{order_id}"}
    for path, word in words.items():
        for who in (admin_cookie, zh):
            page = app.get(path, headers=who)
            assert page.status_int == 200, path
        assert word in page.text and not re.search(r"\b(shipped|approved|draft)\b", re.sub(r"<[^>]+>", " ", page.text)), path


# -- the caller's latest order in a voice menu ---------------------------------------------------------
def test_the_order_status_menu_action_says_the_state_and_the_tracking_digits():
    from appliance.engine.menus import Action, Menu, MenuTable, Prompts, Read, check, step

    said = Prompts(orders={"none": ("none",), "shipped": ("shipped",), "review": ("review",)},
                   digits={str(d): (f"d{d}",) for d in range(10)})
    menu = Menu("main", ("hello",), {"3": Action("order_status")}, language="en")
    table = MenuTable(menus={"main": menu}, prompts={"en": said})
    out = step(table, "main", "menu", 0, 1, "3", order_of=lambda: {"state": "shipped", "tracking": "SF12-9"})
    assert isinstance(out, Read) and (out.menu, out.prompt, out.language) == ("main", ("shipped", "d1", "d2", "d9",
                                                                                         "hello"), "en")
    assert step(table, "main", "menu", 0, 1, "3", order_of=lambda: {"state": "review", "tracking": ""}).prompt == (
        "review", "hello")
    for nothing in (None, {"state": "draft"}):
        assert step(table, "main", "menu", 0, 1, "3", order_of=lambda: nothing).prompt == ("none", "hello")
    # never what a silent caller falls through to: it would say the order for ever
    looping = Menu("main", ("hello",), {}, on_timeout=Action("order_status"))
    assert check({"main": looping}, set(), set(), set())


def test_the_latest_order_is_found_by_the_callers_number(shop):
    assert OrderService.latest_for_number("+8613912345678") is None
    o = take(shop, submit=True).json
    assert OrderService.latest_for_number("+8613912345678")["state"] == "review"
    act(shop, "admin", o, "approve")
    act(shop, "admin", o, "ship", courier="顺丰", tracking="SF307")
    assert OrderService.latest_for_number("13912345678") == {"id": o["id"], "state": "shipped", "tracking": "SF307",
                                                            "courier": "顺丰"}


def test_webhooks_are_told_of_orders_taken_and_moved(shop):
    import json

    from appliance.services.webhooks import UrlGuard

    hooks = shop.deps.webhooks
    hooks.guard = UrlGuard(own=lambda: [], resolve=lambda host, port, type=0: [(2, 1, 6, "", ("198.51.100.7", port))])
    hooks.create("admin", "https://crm.example.com/in", ["order.created", "order.changed"])
    o = take(shop).json
    act(shop, "alice", o, "submit", o["version"])
    assert act(shop, "alice", o, "approve").status_int == 403  # refused: nobody told
    at_once = take(shop, submit=True).json
    told = [(r.type, json.loads(r.body)["data"]["id"], json.loads(r.body)["data"]["state"])
            for r in m.WebhookDelivery.select().order_by(m.WebhookDelivery.id)]
    assert told == [("order.created", o["id"], "draft"), ("order.changed", o["id"], "review"),
                    ("order.created", at_once["id"], "review")]
