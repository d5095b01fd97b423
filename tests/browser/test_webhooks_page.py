"""The webhooks page in the real Chromium, in both languages: an admin subscribes a real
receiver (http.server on loopback) to event types, sees its secret once, sends a test
event, and sees the delivery (state, tries) once the outbox has sent it; the receiver got
it signed under that secret.  A URL of the box itself is refused beside the field."""

from __future__ import annotations

import json

import pytest

from appliance.db import models as m
from appliance.services.webhooks import UrlGuard, WebhookService, sign
from webharness import screenshot
from webhook_receiver import LOOPBACK_OK, receiver  # noqa: F401 (a fixture)

pytestmark = pytest.mark.browser


@pytest.fixture
def hooks(web, receiver):
    receiver.reset()
    # the receiver listens on loopback, which the page refuses otherwise
    web.deps.webhooks = WebhookService(web.db, guard=UrlGuard(own=lambda: [], allowed=LOOPBACK_OK))
    return web.deps.webhooks


@pytest.mark.parametrize("lang", ["en", "zh_CN"])
def test_subscribe_send_a_test_event_and_see_it_delivered(page_as, web, hooks, receiver, lang):
    page = page_as("admin", lang)
    page.goto(web.url + "/admin/webhooks")
    assert ("Webhook 推送" if lang == "zh_CN" else "Webhooks") in page.inner_text("h1")
    page.fill("#url", "ftp://crm.example.com/in")
    page.check("#ev-webhook\\.test")
    page.click("#webhook-new button")
    page.wait_for_selector("#webhook-new .field-error")
    assert ("http://" in page.inner_text("#webhook-new .field-error"))
    assert m.WebhookSubscription.select().count() == 0

    page.fill("#url", receiver.url)
    page.check("#ev-call\\.ended")
    with page.expect_navigation():
        page.click("#webhook-new button")
    secret = page.input_value("#secret-value")
    assert secret == m.WebhookSubscription.get().secret
    sub_id = m.WebhookSubscription.get().id
    card = f"#webhook-{sub_id}"
    with page.expect_navigation():
        page.click(f"{card} button[name=test]")
    assert secret not in page.content()  # shown once only
    assert page.query_selector(f"{card} tr[data-state=pending][data-type='webhook.test']") is not None

    assert hooks.deliver_due() == 1  # what the worker thread does every second
    page.goto(web.url + "/admin/webhooks")
    row = page.wait_for_selector(f"{card} tr[data-state=delivered]")
    text = row.inner_text()
    assert ("测试事件" in text and "已送达" in text) if lang == "zh_CN" else ("Test event" in text and "delivered" in text)
    main = page.inner_text("main")
    for raw in ("webhook.test", "call.ended", "delivered" if lang == "zh_CN" else "webhooks."):
        assert raw not in main
    screenshot(page, lang, "webhooks")

    [got] = receiver.got
    h = got["headers"]
    assert json.loads(got["body"])["type"] == "webhook.test"
    assert h["X-CC-Webhook-Signature"] == sign(secret, int(h["X-CC-Webhook-Timestamp"]), got["body"])
    assert not page.problems, page.problems
