"""SIP security in the web UI and the API (admins only): the sources blocked after failed
authentications (when, why, until) with an Unblock button, the recent failures, the
addresses never blocked and the subnets phones may use.

Roles and the OpenAPI description are declared on each route (admins only).  Routes are thin:
``appliance.services.sipguard.SipGuard`` validates, audits and applies.
"""

from __future__ import annotations

import bottle
from bottle import request, response

from appliance.errors import DomainError, FieldError, Unavailable
from webui.apidoc import Operation, body, errors, resp
from webui.http import ADMIN, actor, json_body, problem_of, render

def _jsonable(item: dict) -> dict:
    return {k: (v.isoformat(timespec="seconds") + "Z" if hasattr(v, "isoformat") else v) for k, v in item.items()}


# -- schemas the API descriptions below share ----------------------------------------------
WHEN_SCHEMA = {"type": ["string", "null"], "description": "UTC, ISO 8601"}
BLOCK_SCHEMA = {"type": "object", "required": ["address", "blocked_at", "until", "failures"], "properties": {
    "address": {"type": "string"}, "blocked_at": WHEN_SCHEMA, "until": WHEN_SCHEMA,
    "failures": {"type": "integer", "description": "failed authentications within the window"},
    "accounts": {"type": "array", "items": {"type": "string"}, "description": "extensions tried"},
    "kinds": {"type": "array", "items": {"enum": ["wrong_password", "unknown_account", "refused_address"]}},
    "first_failure_at": WHEN_SCHEMA, "ended_at": WHEN_SCHEMA,
    "ended_by": {"type": "string", "description": "`expired`, `trusted` or the admin's user name"}}}
EVENT_SCHEMA = {"type": "object", "properties": {
    "at": WHEN_SCHEMA, "address": {"type": "string"}, "account": {"type": "string"},
    "kind": {"enum": ["wrong_password", "unknown_account", "refused_address"]}}}
NETWORKS_SCHEMA = {"type": "array", "items": {"type": "string"}, "description": "addresses and subnets (CIDR)"}
SETTINGS_SCHEMA = {"type": "object", "properties": {
    "phone_subnets": {**NETWORKS_SCHEMA, "description": "where phones may register and call from; empty: anywhere"},
    "trusted": {**NETWORKS_SCHEMA, "description": "never blocked (trunks' own addresses never are either)"},
    "max_failures": {"type": "integer"}, "window_seconds": {"type": "number"},
    "block_seconds": {"type": "number"},
    "lan_subnets": {**NETWORKS_SCHEMA, "description": "the subnets on the LAN port (a suggestion for phones)"}}}
UPDATE_SCHEMA = {"type": "object", "additionalProperties": False, "properties": {
    "phone_subnets": {"oneOf": [NETWORKS_SCHEMA, {"type": "string", "description": "comma-separated"}]},
    "trusted": {"oneOf": [NETWORKS_SCHEMA, {"type": "string", "description": "comma-separated"}]}}}
TAGS = ["sip"]


def install(app, deps) -> None:
    def guard():
        if deps.sip_guard is None:
            raise Unavailable(FieldError("error.msg.sip_guard_unavailable", "the SIP guard is not running in this process"),
                              code="sip_guard.unavailable")
        return deps.sip_guard

    def page(problem=None, errors=None, values=None):
        sg = guard()
        settings = sg.settings()
        values = values or {"phone_subnets": ", ".join(settings["phone_subnets"]),
                            "trusted": ", ".join(settings["trusted"])}
        return render("sip_security.tpl", blocks=sg.blocks(), ended=sg.ended(), events=sg.recent_events(),
                      settings=settings, values=values, errors=errors or {}, problem=problem)

    @app.get("/admin/sip-security", name="sip_security", roles=ADMIN)
    def sip_security():
        return page()

    @app.post("/admin/sip-security", name="sip_security_save", roles=ADMIN)
    def sip_security_save():
        values = {k: request.forms.getunicode(k) or "" for k in ("phone_subnets", "trusted")}
        try:
            guard().save_settings(actor(), **values)
        except DomainError as exc:
            response.status = exc.http_status
            return page(problem=None if exc.fields else problem_of(exc), errors=exc.fields, values=values)
        bottle.redirect("/admin/sip-security")

    @app.post("/admin/sip-security/blocks/<address>/unblock", name="sip_unblock", roles=ADMIN)
    def sip_unblock(address):
        try:
            guard().unblock(address, actor())
        except DomainError as exc:
            response.status = exc.http_status
            return page(problem=problem_of(exc))
        bottle.redirect("/admin/sip-security")

    @app.get("/api/v1/sip/blocks", name="api_sip_blocks", scope="config", roles=ADMIN,
             api=Operation({"tags": TAGS, "summary": "SIP sources blocked now, newest first",
                            "description": "A source with `sip_guard_failures` failed authentications (wrong "
                                           "password, unknown extension, refused address) within "
                                           "`sip_guard_window_seconds` is blocked for `sip_guard_block_seconds`: "
                                           "no password registers or calls from it. Admins only.",
                            "responses": {"200": resp("the blocks", {"type": "object", "properties": {
                                "items": {"type": "array", "items": BLOCK_SCHEMA}}}), **errors(401, 403, 503)}}))
    def api_sip_blocks():
        return {"items": [_jsonable(b) for b in guard().blocks()]}

    @app.delete("/api/v1/sip/blocks/<address>", name="api_sip_unblock", scope="config", roles=ADMIN,
                api=Operation({"tags": TAGS, "summary": "Unblock a SIP source at once (audited)",
                               "description": "Its earlier failures are forgotten too. 404 `sip_guard.not_blocked` "
                                              "when the address is not blocked.",
                               "responses": {"200": resp("the block, ended", BLOCK_SCHEMA), **errors(401, 403, 404, 503)}}))
    def api_sip_unblock(address):
        return _jsonable(guard().unblock(address, actor()))

    @app.get("/api/v1/sip/events", name="api_sip_events", scope="config", roles=ADMIN,
             api=Operation({"tags": TAGS, "summary": "The last failed SIP authentications, newest first",
                            "responses": {"200": resp("the failures", {"type": "object", "properties": {
                                "items": {"type": "array", "items": EVENT_SCHEMA}}}), **errors(401, 403, 503)}}))
    def api_sip_events():
        return {"items": [_jsonable(e) for e in guard().recent_events()]}

    @app.get("/api/v1/sip/settings", name="api_sip_settings", scope="config", roles=ADMIN,
             api=Operation({"tags": TAGS, "summary": "The SIP guard's settings",
                            "responses": {"200": resp("the settings", SETTINGS_SCHEMA), **errors(401, 403, 503)}}))
    def api_sip_settings():
        return guard().settings()

    @app.put("/api/v1/sip/settings", name="api_sip_settings_update", scope="config", roles=ADMIN,
             api=Operation({"tags": TAGS, "summary": "Change the phones' subnets and the trusted addresses",
                            "description": "Either field, as a list or comma-separated text; a field left "
                                           "out is unchanged, an empty one clears it. A bad entry changes "
                                           "nothing (422 `sip_guard.bad_network`). Applied to Asterisk at "
                                           "once; a blocked source now trusted is unblocked. Audited.",
                            "requestBody": body(UPDATE_SCHEMA),
                            "responses": {"200": resp("the settings", SETTINGS_SCHEMA),
                                          **errors(400, 401, 403, 422, 503)}}))
    def api_sip_settings_update():
        body = json_body()
        return guard().save_settings(actor(), phone_subnets=body.get("phone_subnets"), trusted=body.get("trusted"))
