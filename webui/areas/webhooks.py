"""Webhooks in the web UI and the API (admins only): subscriptions (URL, event types, secret
shown once, active flag), each one's recent deliveries and failures, "send a test event".

Roles and the OpenAPI description are declared on each route.  Routes are thin:
``appliance.services.webhooks.WebhookService`` validates, audits, queues and delivers.
"""

from __future__ import annotations

import bottle
from bottle import request, response

from appliance.errors import DomainError, FieldError, Unavailable
from appliance.services.webhooks import EVENT_TYPES
from webui.apidoc import Operation, body, errors, resp
from webui.http import ADMIN, actor, json_body, problem_of, render

WHEN = {"type": ["string", "null"], "description": "UTC, ISO 8601"}
EVENTS = {"type": "array", "items": {"enum": list(EVENT_TYPES)}}
SUBSCRIPTION = {"type": "object", "required": ["id", "url", "events", "active"], "properties": {
    "id": {"type": "integer"}, "url": {"type": "string"}, "events": EVENTS, "active": {"type": "boolean"},
    "created_at": WHEN, "created_by": {"type": "string"},
    "pending": {"type": "integer"}, "delivered": {"type": "integer"}, "failed": {"type": "integer"},
    "failing": {"type": "boolean", "description": "a delivery failed for good in the last day, or one has waited "
                                                  "more than an hour (the health component's alarm)"}}}
WITH_SECRET = {**SUBSCRIPTION, "properties": {**SUBSCRIPTION["properties"], "secret": {
    "type": "string", "description": "the HMAC-SHA256 key; shown here only, at creation and rotation"}}}
DELIVERY = {"type": "object", "properties": {
    "id": {"type": "integer"}, "event_id": {"type": "string", "description": "X-CC-Webhook-Id"},
    "type": {"type": "string"}, "state": {"enum": ["pending", "delivered", "failed"]},
    "attempts": {"type": "integer"}, "created_at": WHEN, "next_try": WHEN, "done_at": WHEN,
    "last_status": {"type": ["integer", "null"]}, "last_error": {"type": "string"}}}
CREATE = {"type": "object", "required": ["url", "events"], "additionalProperties": False, "properties": {
    "url": {"type": "string", "description": "http(s); never the appliance, loopback or link-local"},
    "events": EVENTS, "active": {"type": "boolean", "default": True}}}
UPDATE = {"type": "object", "additionalProperties": False, "properties": CREATE["properties"]}
TAGS = ["webhooks"]
DONE = ("test_queued", "activated", "deactivated", "deleted")  # what the page says after an action
BAD_URL = ("422 `webhooks.bad_url` when the URL is not http(s) or points at the appliance itself, a loopback, "
           "link-local or own address (checked again before each delivery); 422 `webhooks.bad_events`.")


def install(app, deps) -> None:
    def hooks():
        if deps.webhooks is None:
            raise Unavailable(FieldError("webhooks.unavailable", "webhooks are not running in this process"),
                              code="webhooks.unavailable")
        return deps.webhooks

    def page(problem=None, errors=None, values=None, secret=None, status=None):
        wh = hooks()
        subs = wh.subscriptions()
        return render("webhooks.tpl", subs=subs, deliveries={s["id"]: wh.deliveries(s["id"], 20) for s in subs},
                      event_types=EVENT_TYPES, values=values or {"url": "", "events": []}, errors=errors or {},
                      problem=problem, secret=secret, status=status)

    @app.get("/admin/webhooks", name="webhooks", roles=ADMIN)
    def webhooks_page():
        done = request.query.getunicode("done") or ""
        return page(status=done if done in DONE else None)

    @app.post("/admin/webhooks", name="webhooks_create", roles=ADMIN)
    def webhooks_create():
        values = {"url": request.forms.getunicode("url") or "", "events": request.forms.getall("events")}
        try:
            created = hooks().create(actor(), values["url"], values["events"])
        except DomainError as exc:
            response.status = exc.http_status
            return page(problem=None if exc.fields else problem_of(exc), errors=exc.fields, values=values)
        return page(secret=created)

    def _act(sub_id: int, do, done: str):
        try:
            result = do(sub_id)
        except DomainError as exc:
            response.status = exc.http_status
            return page(problem=problem_of(exc))
        if done == "rotated":
            return page(secret=result)
        bottle.redirect(f"/admin/webhooks?done={done}#webhook-{sub_id}")

    @app.post("/admin/webhooks/<sub_id:int>/test", name="webhooks_test", roles=ADMIN)
    def webhooks_test(sub_id):
        return _act(sub_id, hooks().send_test, "test_queued")

    @app.post("/admin/webhooks/<sub_id:int>/rotate", name="webhooks_rotate", roles=ADMIN)
    def webhooks_rotate(sub_id):
        return _act(sub_id, lambda i: hooks().rotate(actor(), i), "rotated")

    @app.post("/admin/webhooks/<sub_id:int>/active", name="webhooks_active", roles=ADMIN)
    def webhooks_active(sub_id):
        on = request.forms.getunicode("active") == "1"
        return _act(sub_id, lambda i: hooks().update(actor(), i, active=on), "activated" if on else "deactivated")

    @app.post("/admin/webhooks/<sub_id:int>/delete", name="webhooks_delete", roles=ADMIN)
    def webhooks_delete(sub_id):
        return _act(sub_id, lambda i: hooks().delete(actor(), i), "deleted")

    # -- the API -----------------------------------------------------------------------
    @app.get("/api/v1/webhooks", name="api_webhooks", roles=ADMIN, scope="config",
             api=Operation({"tags": TAGS, "summary": "Webhook subscriptions, with their deliveries counted",
                            "description": "Admins only. Secrets are never listed.",
                            "responses": {"200": resp("the subscriptions", {"type": "object", "properties": {
                                "items": {"type": "array", "items": SUBSCRIPTION}}}), **errors(401, 403, 503)}}))
    def api_webhooks():
        return {"items": hooks().subscriptions()}

    @app.post("/api/v1/webhooks", name="api_webhooks_create", roles=ADMIN, scope="config",
              api=Operation({"tags": TAGS, "summary": "Subscribe a URL to event types (audited)",
                             "description": "The answer carries the secret: the only time it is shown. " + BAD_URL,
                             "requestBody": body(CREATE),
                             "responses": {"201": resp("the subscription and its secret", WITH_SECRET),
                                           **errors(400, 401, 403, 422, 503)}}))
    def api_webhooks_create():
        data = json_body()
        created = hooks().create(actor(), str(data.get("url") or ""), data.get("events"),
                                 active=data.get("active", True) is not False)
        response.status = 201
        return created

    @app.get("/api/v1/webhooks/<sub_id:int>", name="api_webhook", roles=ADMIN, scope="config",
             api=Operation({"tags": TAGS, "summary": "One subscription (without its secret)",
                            "responses": {"200": resp("the subscription", SUBSCRIPTION), **errors(401, 403, 404, 503)}}))
    def api_webhook(sub_id):
        return hooks().subscription(sub_id)

    @app.patch("/api/v1/webhooks/<sub_id:int>", name="api_webhook_update", roles=ADMIN, scope="config",
               api=Operation({"tags": TAGS, "summary": "Change a subscription's URL, event types or active flag (audited)",
                              "description": "A field left out is unchanged. " + BAD_URL,
                              "requestBody": body(UPDATE),
                              "responses": {"200": resp("the subscription", SUBSCRIPTION),
                                            **errors(400, 401, 403, 404, 422, 503)}}))
    def api_webhook_update(sub_id):
        data = json_body()
        return hooks().update(actor(), sub_id, url=data.get("url"), events=data.get("events"),
                              active=None if "active" not in data else bool(data["active"]))

    @app.delete("/api/v1/webhooks/<sub_id:int>", name="api_webhook_delete", roles=ADMIN, scope="config",
                api=Operation({"tags": TAGS, "summary": "Delete a subscription and its deliveries (audited)",
                               "responses": {"204": resp("deleted"), **errors(401, 403, 404, 503)}}))
    def api_webhook_delete(sub_id):
        hooks().delete(actor(), sub_id)
        response.status = 204

    @app.post("/api/v1/webhooks/<sub_id:int>/rotate", name="api_webhook_rotate", roles=ADMIN, scope="config",
              api=Operation({"tags": TAGS, "summary": "A new secret for a subscription (audited)",
                             "description": "The answer carries the new secret, shown only here; deliveries from "
                                            "now on (retries too) are signed with it.",
                             "responses": {"200": resp("the subscription and its new secret", WITH_SECRET),
                                           **errors(401, 403, 404, 503)}}))
    def api_webhook_rotate(sub_id):
        return hooks().rotate(actor(), sub_id)

    @app.post("/api/v1/webhooks/<sub_id:int>/test", name="api_webhook_test", roles=ADMIN, scope="config",
              api=Operation({"tags": TAGS, "summary": "Queue a `webhook.test` event for this subscription",
                             "responses": {"202": resp("queued", {"type": "object", "properties": {
                                 "event_id": {"type": "string"}}}), **errors(401, 403, 404, 503)}}))
    def api_webhook_test(sub_id):
        response.status = 202
        return hooks().send_test(sub_id)

    @app.get("/api/v1/webhooks/<sub_id:int>/deliveries", name="api_webhook_deliveries", roles=ADMIN, scope="config",
             api=Operation({"tags": TAGS, "summary": "A subscription's last 50 deliveries, newest first",
                            "responses": {"200": resp("the deliveries", {"type": "object", "properties": {
                                "items": {"type": "array", "items": DELIVERY}}}), **errors(401, 403, 404, 503)}}))
    def api_webhook_deliveries(sub_id):
        return {"items": hooks().deliveries(sub_id)}
