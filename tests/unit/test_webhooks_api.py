"""The webhooks area (webui/areas/webhooks.py): the real Bottle app in process over a real
SQLite file and a real WebhookService; the API (admins only) and the admin page in both
languages (the browser test is tests/browser/test_webhooks_page.py)."""

from __future__ import annotations

import re

import pytest
import webtest

from appliance.bus import EventBus
from appliance.db import models as m
from appliance.services.config import ConfigService
from appliance.services.users import UserService
from appliance.services.webhooks import UrlGuard, WebhookService
from webdeps import web_deps
from webharness import Agents, migrated
from webui.app import make_app

PASSWORD = "correct-horse-9"


def resolve(host, port, type=0):
    ip = {"crm.example.com": "198.51.100.7"}.get(host, host)
    return [(2, 1, 6, "", (ip, port))]


@pytest.fixture
def env(tmp_path):
    db = migrated(tmp_path / "web.db")
    users = UserService(db)
    hooks = WebhookService(db, guard=UrlGuard(own=lambda: ["192.0.2.2"], resolve=resolve))
    deps = web_deps(db=db, config=ConfigService(db), users=users, agents=Agents(),
                    health=lambda: {"status": "ok", "components": {"webhooks": hooks.health()}},
                    live=lambda: {"queues": [], "agents": [], "calls": []}, bus=EventBus(), webhooks=hooks)
    app = make_app(deps)
    tokens, browsers = {}, {}
    for name, role, lang in (("admin", "admin", "en"), ("chen", "admin", "zh_CN"), ("sup", "supervisor", "en")):
        uid = users.create(name, PASSWORD, role, language=lang)["id"]
        tokens[name] = {"Authorization": "Bearer " + users.create_token(uid, "test")}
    for name in ("admin", "chen"):
        browser = webtest.TestApp(app)
        form = browser.get("/login").forms[0]
        form["username"], form["password"] = name, PASSWORD
        form.submit()
        browsers[name] = browser
    yield type("Env", (), {"app": webtest.TestApp(app), "tokens": tokens, "browsers": browsers, "hooks": hooks})
    db.close()


def test_subscriptions_through_the_api(env):
    admin = env.tokens["admin"]
    created = env.app.post_json("/api/v1/webhooks", {"url": "https://crm.example.com/in", "events": ["call.ended"]},
                                headers=admin)
    assert created.status_int == 201 and created.json["secret"].startswith("whsec_")
    sub_id = created.json["id"]
    [listed] = env.app.get("/api/v1/webhooks", headers=admin).json["items"]
    assert "secret" not in listed and listed["events"] == ["call.ended"] and listed["pending"] == 0
    for url in ("http://127.0.0.1:8080/", "http://169.254.169.254/", "http://192.0.2.2/", "ftp://crm.example.com/"):
        refused = env.app.post_json("/api/v1/webhooks", {"url": url, "events": ["call.ended"]}, headers=admin,
                                    expect_errors=True)
        assert refused.status_int == 422 and refused.json["error"] == "webhooks.bad_url", url
    bad = env.app.post_json("/api/v1/webhooks", {"url": "https://crm.example.com/", "events": ["call.nope"]},
                            headers=admin, expect_errors=True)
    assert bad.status_int == 422 and bad.json["error"] == "webhooks.bad_events"
    patched = env.app.patch_json(f"/api/v1/webhooks/{sub_id}", {"active": False, "events": ["call.ended", "fax.received"]},
                                 headers=admin).json
    assert patched["active"] is False and patched["events"] == ["call.ended", "fax.received"]
    assert env.app.patch_json(f"/api/v1/webhooks/{sub_id}", {"url": "http://[::1]/"}, headers=admin,
                              expect_errors=True).status_int == 422
    rotated = env.app.post(f"/api/v1/webhooks/{sub_id}/rotate", headers=admin).json
    assert rotated["secret"] != created.json["secret"]
    test = env.app.post(f"/api/v1/webhooks/{sub_id}/test", headers=admin)
    assert test.status_int == 202
    [delivery] = env.app.get(f"/api/v1/webhooks/{sub_id}/deliveries", headers=admin).json["items"]
    assert delivery["event_id"] == test.json["event_id"] and delivery["type"] == "webhook.test"
    assert delivery["state"] == "pending" and delivery["next_try"].endswith("Z")
    assert env.app.get("/api/v1/webhooks", headers=env.tokens["sup"], expect_errors=True).status_int == 403
    assert env.app.get("/api/v1/webhooks/999", headers=admin, expect_errors=True).json["error"] == "webhooks.not_found"
    assert env.app.delete(f"/api/v1/webhooks/{sub_id}", headers=admin).status_int == 204
    assert m.WebhookDelivery.select().count() == 0
    assert [a.action for a in m.AuditLog.select().where(m.AuditLog.object_type == "webhook")] == [
        "create", "update", "update", "delete"]
    spec = env.app.get("/api/openapi.json", headers=admin).json
    assert spec["paths"]["/api/v1/webhooks"]["post"]["tags"] == ["webhooks"]


@pytest.mark.parametrize("who,words", [("admin", ("Webhooks", "Secret for", "Send a test event", "Test event",
                                                  "waiting")),
                                       ("chen", ("Webhook 推送", "的密钥", "发送测试事件", "测试事件", "等待中"))])
def test_the_page_in_both_languages(env, who, words):
    browser = env.browsers[who]
    page = browser.get("/admin/webhooks")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    refused = browser.post("/admin/webhooks", {"csrf_token": csrf, "url": "http://localhost/", "events": "call.ended"},
                           expect_errors=True)
    assert refused.status_int == 422 and 'class="field-error"' in refused.text
    created = browser.post("/admin/webhooks", [("csrf_token", csrf), ("url", "https://crm.example.com/in"),
                                               ("events", "call.ended"), ("events", "webhook.test")])
    secret = re.search(r'id="secret-value"[^>]* value="([^"]+)"', created.text).group(1)
    assert secret == m.WebhookSubscription.get().secret
    sub_id = m.WebhookSubscription.get().id
    done = browser.post(f"/admin/webhooks/{sub_id}/test", {"csrf_token": csrf}).follow()
    assert secret not in done.text  # shown once only
    assert 'data-type="webhook.test"' in done.text and 'data-state="pending"' in done.text
    for word in words[:1] + words[2:]:
        assert word in done.text, word
    assert words[1] in created.text
    assert "webhooks.done" not in browser.get("/admin/webhooks?done=<script>").text  # only its own notices
    for code in ("webhook.test", "call.ended", "pending"):
        assert f">{code}<" not in done.text  # no raw codes on the page


def test_the_page_deactivates_rotates_and_deletes(env):
    browser = env.browsers["admin"]
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', browser.get("/admin/webhooks").text).group(1)
    sub = env.hooks.create("admin", "https://crm.example.com/in", ["call.ended"])
    off = browser.post(f"/admin/webhooks/{sub['id']}/active", {"csrf_token": csrf, "active": "0"}).follow()
    assert m.WebhookSubscription.get().active is False and "no new event is queued" in off.text
    assert 'data-confirm="Give https://crm.example.com/in a new secret?' in off.text  # asked before it is done
    rotated = browser.post(f"/admin/webhooks/{sub['id']}/rotate", {"csrf_token": csrf})
    new_secret = m.WebhookSubscription.get().secret
    assert new_secret != sub["secret"] and new_secret in rotated.text
    browser.post(f"/admin/webhooks/{sub['id']}/delete", {"csrf_token": csrf}).follow()
    assert m.WebhookSubscription.select().count() == 0
    assert browser.post("/admin/webhooks/99/test", {"csrf_token": csrf}, expect_errors=True).status_int == 404
    assert browser.post(f"/admin/webhooks/{sub['id']}/test", expect_errors=True).status_int == 403  # no CSRF token


@pytest.mark.parametrize("who,failing", [("admin", ">failing<"), ("chen", ">推送失败<")])
def test_a_receiver_that_never_recovers_is_marked_failing_and_alarmed(env, who, failing):
    """Nothing listens at the subscription's URL, ever: within the hour the subscription is
    marked failing (API, its card on the page) and the dashboard's Webhooks light turns red."""
    import socket

    from test_mail import Clock
    from webhook_receiver import LOOPBACK_OK

    env.hooks.guard = UrlGuard(own=lambda: [], resolve=resolve, allowed=LOOPBACK_OK)
    env.hooks.clock = clock = Clock()
    env.hooks.timeout = 1.0
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}/hooks"
    sub = env.hooks.create("admin", dead, ["call.ended"])
    fine = env.hooks.create("admin", "https://crm.example.com/in", ["call.offered"])
    env.hooks.emit("call.ended", {"linkedid": "1700.1"}, order_key="1700.1")
    admin, browser = env.tokens["admin"], env.browsers[who]

    def marked():
        return {s["id"]: s["failing"] for s in env.app.get("/api/v1/webhooks", headers=admin).json["items"]}
    lights = re.compile(r'<span class="pill (\w+)" data-component="webhooks"')
    assert env.hooks.deliver_due() == 0 and marked() == {sub["id"]: False, fine["id"]: False}
    assert lights.search(browser.get("/").text).group(1) == "ok"
    start = clock.now
    while clock.now - start <= 3600:  # its tries, an hour long
        clock.now = m.WebhookDelivery.get().next_try
        env.hooks.deliver_due()
    assert m.WebhookDelivery.get().state == "pending" and m.WebhookDelivery.get().attempts > 3
    assert marked() == {sub["id"]: True, fine["id"]: False}
    assert env.hooks.health()["failing"] == [sub["id"]]
    page = browser.get("/admin/webhooks").text
    card = page[page.index(f'id="webhook-{sub["id"]}"'):page.index(f'id="webhook-{fine["id"]}"')]
    assert failing in card and failing not in page[page.index(f'id="webhook-{fine["id"]}"'):]
    assert lights.search(browser.get("/").text).group(1) == "bad"
