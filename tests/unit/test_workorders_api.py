"""Work orders through the real WSGI app: a workflow refused with its reasons (API and the
editor's form, in Chinese), an order opened, moved and refused a move, agents' scope, the
dispatch page refusing an expired or tampered link in the reader's words, photos posted
from the phone page, the statistics page equal to the records and its Excel."""

from __future__ import annotations

import io
import time

from test_webui import PASSWORD, env, seed_agents, sign_in, token_for  # noqa: F401  (env is a fixture)
from test_workorders import PNG, STATES, TRANSITIONS

from appliance.db import models as m
from appliance.engine import workorders as wf

TYPE = {"name": "repair", "label": "上门维修", "states": STATES, "transitions": TRANSITIONS,
        "fields": [{"name": "model", "label": "型号", "type": "text", "required": True}]}


def make_type(env, admin):  # noqa: F811
    return env.app.post_json("/api/v1/work-order-types", TYPE, headers=admin).json


def test_the_api_refuses_an_unsound_workflow_with_the_reason(env):  # noqa: F811
    admin = token_for(env, "admin")
    bad = env.app.post_json("/api/v1/work-order-types", {**TYPE, "transitions": [["new", "done"]]}, headers=admin,
                            expect_errors=True)
    assert bad.status_int == 422 and bad.json["fields"]["transitions"] == "no way leads to on_site, parts from new"
    sup = env.app.post_json("/api/v1/work-order-types", TYPE, headers=token_for(env, "sup"), expect_errors=True)
    assert sup.status_int == 403
    assert make_type(env, admin)["states"][0]["name"] == "new"
    assert env.app.get("/api/v1/work-order-types", headers=token_for(env, "alice")).json["items"][0]["label"] == "上门维修"


def test_the_editor_says_why_in_chinese(env):  # noqa: F811
    m.User.update(language="zh_CN").where(m.User.username == "admin").execute()
    sign_in(env.app, "admin")
    page = env.app.get("/admin/workorder-types/new")
    form = page.forms["type-form"]
    form["label"], form["name"] = "维修", "repair"
    form["state_name_0"], form["state_label_0"], form["initial"] = "new", "新建", "0"
    form["state_name_1"], form["state_label_1"] = "done", "完成"  # not final, and nothing leads to it
    res = form.submit()
    assert res.status_int == 200 and not m.WorkOrderType.select().exists()
    text = res.html.select_one("#problem").text
    assert "至少要有一个终止状态" in text and "无法到达：done" in text


def test_open_move_and_refuse_through_the_api_and_agents_see_theirs(env):  # noqa: F811
    seed_agents(env.deps.config)
    admin, alice, bob = (token_for(env, n) for n in ("admin", "alice", "bob"))
    t = make_type(env, admin)
    customer = env.app.post_json("/api/v1/customers", {"name": "张三", "phone": "13912345678",
                                                       "account_manager": "1001"}, headers=admin).json
    order = env.app.post_json("/api/v1/work-orders", {"type": t["id"], "title": "漏水", "customer": customer["id"],
                                                      "linkedid": "1700000000.1", "custom": {"model": "X1"}},
                              headers=admin).json
    assert (order["state"], order["linkedid"], order["source"]) == ("new", "1700000000.1", "call")
    refused = env.app.post_json(f"/api/v1/work-orders/{order['id']}/move", {"to": "done"}, headers=admin,
                                expect_errors=True)
    assert refused.status_int == 409 and refused.json["error"] == "workorders.not_allowed"
    moved = env.app.post_json(f"/api/v1/work-orders/{order['id']}/move", {"to": "on_site", "note": "到了"},
                              headers=alice).json  # her customer's order
    assert moved["history"][-1]["actor"] == "alice"
    assert env.app.get(f"/api/v1/work-orders/{order['id']}", headers=bob, expect_errors=True).status_int == 404
    assert env.app.get("/api/v1/work-orders", headers=bob).json["items"] == []
    assert [o["id"] for o in env.app.get("/api/v1/work-orders", headers=alice).json["items"]] == [order["id"]]
    assert env.app.get("/api/v1/work-orders/stats", headers=alice, expect_errors=True).status_int == 403


def test_dispatch_page_photos_and_refusals(env):  # noqa: F811
    admin = token_for(env, "admin")
    t = make_type(env, admin)
    order = env.app.post_json("/api/v1/work-orders", {"type": t["id"], "title": "Boiler", "custom": {"model": "X"},
                                                      "assignee_kind": "engineer", "assignee": "Wang"},
                              headers=admin).json
    link = env.app.post_json(f"/api/v1/work-orders/{order['id']}/dispatch-link", {"hours": 1}, headers=admin).json
    path = "/dispatch/" + link["token"]
    page = webapp(env).get(path + "?lang=zh_CN")
    assert "Boiler" in page.text and page.html.select_one("#d-form")
    assert {i["value"] for i in page.html.select("#d-form input[name=to]")} == {"on_site"}
    done = webapp(env).post(path, {"to": "on_site", "note": "已到达"},
                            upload_files=[("photos", "p.png", PNG, "image/png")]).follow()
    assert "已提交" in done.text
    event = m.WorkOrderEvent.select().order_by(m.WorkOrderEvent.id.desc()).get()
    assert (event.actor, event.to_state, event.note) == ("engineer:Wang", "on_site", "已到达")
    photo = done.html.select_one("img.thumb")["src"]
    assert webapp(env).get(photo).body == PNG
    # not an image: said on the page, nothing moved
    bad = webapp(env).post(path, {"to": "parts"}, upload_files=[("photos", "x.png", b"<svg onload=alert(1)>",
                                                                  "image/png")])
    assert bad.status_int == 200 and "不是照片" in bad.html.select_one("#problem").text
    assert m.WorkOrder.get_by_id(order["id"]).state == "on_site"
    oid, exp, sig = link["token"].split(".")
    tampered = webapp(env).get(f"/dispatch/{oid}.{int(exp) + 999}.{sig}?lang=zh_CN", expect_errors=True)
    assert tampered.status_int == 403 and "派工链接无效" in tampered.text
    expired = wf.sign(env.deps.workorders.key, order["id"], int(time.time()) - 1)
    res = webapp(env).get(f"/dispatch/{expired}?lang=en", expect_errors=True)
    assert res.status_int == 403 and "This dispatch link has expired" in res.text


def test_statistics_page_equals_the_records_and_exports(env):  # noqa: F811
    admin = token_for(env, "admin")
    t = make_type(env, admin)
    for prio in ("high", "high", "low"):
        env.app.post_json("/api/v1/work-orders", {"type": t["id"], "title": "x", "priority": prio,
                                                  "custom": {"model": "X"}}, headers=admin)
    api = env.app.get("/api/v1/work-orders/stats", headers=admin).json
    assert (api["open"], api["overdue"]) == (3, 0)
    assert {r["priority"]: r["open"] for r in api["by_priority"]} == {"high": 2, "low": 1}
    sign_in(env.app, "admin")
    first = env.app.get("/api/v1/work-orders", headers=admin).json["items"][-1]
    sheet = env.app.get(f"/workorders/{first['id']}/sheet")  # the printable dispatch sheet
    assert f"#{first['id']}" in sheet.html.select_one("h1").text and sheet.html.select_one("table.sheet-table")
    page = env.app.get("/workorders/stats")
    assert page.html.select_one("#st-open").text == "3"
    xlsx = env.app.get("/workorders/stats.xlsx")
    from openpyxl import load_workbook
    sheet = load_workbook(io.BytesIO(xlsx.body)).worksheets[0]
    assert [c.value for c in sheet[2]] == ["上门维修", 3, 0]


def webapp(env):  # noqa: F811
    """The same app without a session: the engineer's phone."""
    import webtest
    return webtest.TestApp(env.app.app)


__all__ = ["PASSWORD"]
