"""The OpenAPI 3.1 document, built from the app's own routes and the configuration
service's field table, so the spec cannot drift from what the server accepts.

Each API route name maps to one operation description here; a route under /api without
one is a build error (and a test failure), not a silently undocumented endpoint.  Routes
over every configuration kind (``/api/v1/<kind>``) are documented once per kind, with
that kind's request schema taken from ``ConfigService.json_schema`` itself.
"""

from __future__ import annotations

import re

from appliance.services.config import KEYS, KINDS, SINGULAR

ERROR = {"$ref": "#/components/schemas/Error"}
JSON = "application/json"
STATUS_TEXT = {
    400: "the body is not JSON, or not a JSON object (`request.bad_json`)",
    401: "no valid session or bearer token (`unauthorized`)",
    403: "your role may not do this (`forbidden`), or a cookie session sent no CSRF token (`csrf_failed`)",
    404: "no such object (`<kind>.not_found`, ...)",
    409: "conflicts with what exists: a duplicate key (`<kind>.exists`) or still in use (`<kind>.in_use`)",
    422: "validation failed (`validation_failed`): `fields` says what is wrong with each field",
    500: "an unexpected failure (`internal`); `error_id` is also in the appliance's log",
    503: "a component (Asterisk, AMI) is not available (`ami.unavailable`, `config.apply_failed`)",
}


def _resp(description: str, schema: dict | None = None) -> dict:
    out: dict = {"description": description}
    if schema is not None:
        out["content"] = {JSON: {"schema": schema}}
    return out


def _errors(*codes: int) -> dict:
    return {str(c): _resp(STATUS_TEXT[c], ERROR) for c in (*codes, 500)}


def _body(schema: dict) -> dict:
    return {"required": True, "content": {JSON: {"schema": schema}}}


def _items(schema: dict) -> dict:
    return {"type": "object", "properties": {"items": {"type": "array", "items": schema}}, "required": ["items"]}


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _call_step(summary: str, done: str, description: str = "") -> dict:
    """One call-control step on an agent's call: no body, 409 when the call is not in the right state."""
    op = {"tags": ["agents"], "summary": summary,
          "responses": {"200": _resp(done, {"type": "object"}), **_errors(401, 403, 409, 503)}}
    if description:
        op["description"] = description
    return op


def _operations() -> dict[str, dict]:
    """Route name -> operation (path parameters are added from the route's rule).

    In the per-kind operations ``{Schema}`` is the kind's schema name, ``{kind}`` its
    singular and ``{kinds}`` its plural, filled in per documented path."""
    member = {"type": "object", "required": ["queue", "agent", "penalty"], "properties": {
        "queue": {"type": "string"}, "agent": {"type": "string", "description": "the agent's work number"},
        "penalty": {"type": "integer"}}}
    token = {"type": "object", "required": ["id", "name", "created_at"], "properties": {
        "id": {"type": "integer"}, "name": {"type": "string"}, "created_at": {"type": "string"},
        "last_used_at": {"type": ["string", "null"]}}}
    signed = {"type": "object", "required": ["agent", "logged_in"], "properties": {
        "agent": {"type": "string"}, "logged_in": {"type": "boolean"}, "mode": {"enum": ["ring", "long"]},
        "phone_ringing": {"type": "boolean"}, "queues": {"type": "array", "items": {"type": "string"}}}}
    kind_ref = _ref("{Schema}")
    from webui.menus import operations as menu_operations

    return {
        **menu_operations(),
        "health": {"tags": ["status"], "summary": "Health of each component; no sign-in needed",
                   "description": "200 while `status` is `ok` or `degraded`, 503 when `down` (Asterisk is not "
                                  "running), so a load balancer or monitor can use the status code alone.",
                   "security": [],
                   "responses": {"200": _resp("ok or degraded", _ref("Health")),
                                 "503": _resp("down", _ref("Health"))}},
        "openapi": {"tags": ["status"], "summary": "This document (for any signed-in user or token)",
                    "responses": {"200": _resp("the OpenAPI document", {"type": "object"}), **_errors(401)}},
        "api_me": {"tags": ["tokens"], "summary": "Who the token or session belongs to",
                   "responses": {"200": _resp("the user", _ref("User")), **_errors(401)}},
        "api_live": {"tags": ["live"], "summary": "Live queues, agents and calls",
                     "description": "The same data the live page shows, refreshed by the engine from AMI events. "
                                    "A user with the agent role sees only their own agents, the queues those "
                                    "agents are in and their calls.",
                     "responses": {"200": _resp("snapshot", _ref("Live")), **_errors(401)}},
        "api_members": {"tags": ["configuration"], "summary": "Members of a queue",
                        "responses": {"200": _resp("members", _items(member)), **_errors(401, 403, 404)}},
        "api_member_add": {"tags": ["configuration"],
                           "summary": "Add an agent to a queue (a signed-in agent starts taking its calls)",
                           "requestBody": _body({"type": "object", "required": ["agent"], "properties": {
                               "agent": {"type": "string", "description": "the agent's work number"},
                               "penalty": {"type": "integer", "minimum": 0, "maximum": 100, "default": 0}}}),
                           "responses": {"201": _resp("added", member),
                                         **_errors(400, 401, 403, 404, 409, 422, 503)}},
        "api_member_remove": {"tags": ["configuration"], "summary": "Remove an agent from a queue",
                              "responses": {"204": _resp("removed"), **_errors(401, 403, 404, 503)}},
        "api_agent_login": {"tags": ["agents"], "summary": "Sign an agent in to all their queues",
                            "description": "Staff may sign in any agent; a user with the agent role only "
                                           "the agents linked to their own account. Mode `ring` (the "
                                           "default): the agent's phone rings for each call. Mode `long`: "
                                           "the appliance calls the agent's phone; once answered it stays "
                                           "connected for the shift and calls are bridged in with a beep "
                                           "(the answer then says `phone_ringing`; analog phones dial *25 "
                                           "instead). Hanging up the phone ends the shift.",
                            "requestBody": {"required": False, "content": {"application/json": {"schema": {
                                "type": "object", "properties": {"mode": {"enum": ["ring", "long"],
                                                                          "default": "ring"}}}}}},
                            "responses": {"200": _resp("signed in (or the phone is ringing)", signed),
                                          **_errors(400, 401, 403, 404, 422, 503)}},
        "api_agent_logout": {"tags": ["agents"], "summary": "Sign an agent out of all their queues",
                             "responses": {"200": _resp("signed out", signed), **_errors(401, 403, 404, 503)}},
        "api_agent_pause": {"tags": ["agents"], "summary": "Pause a signed-in agent, with a reason code",
                            "description": "The reason is one of the pause reasons (GET /api/v1/pause_reasons). "
                                           "The pause holds across restarts until unpaused.",
                            "requestBody": _body({"type": "object", "required": ["reason"], "properties": {
                                "reason": {"type": "string", "description": "a pause reason code"}}}),
                            "responses": {"200": _resp("paused", {"type": "object", "properties": {
                                "agent": {"type": "string"}, "paused": {"type": "boolean"},
                                "reason": {"type": "string"}}}), **_errors(400, 401, 403, 404, 422, 503)}},
        "api_agent_unpause": {"tags": ["agents"], "summary": "Make a paused agent available again",
                              "responses": {"200": _resp("available", {"type": "object", "properties": {
                                  "agent": {"type": "string"}, "paused": {"type": "boolean"}}}),
                                  **_errors(401, 403, 404, 422, 503)}},
        "api_agent_dial": {"tags": ["agents"], "summary": "Click-to-dial: call a number for an agent",
                           "description": "The agent's phone rings first; when they answer, the number is "
                                          "dialled through the trunks in their outbound order. Agents may dial "
                                          "only for themselves.",
                           "requestBody": _body({"type": "object", "required": ["number"], "properties": {
                               "number": {"type": "string", "pattern": "^\\+?[0-9 -]{3,40}$"}}}),
                           "responses": {"200": _resp("the agent's phone is ringing", {"type": "object"}),
                                         **_errors(400, 401, 403, 404, 422, 503)}},
        "api_agent_transfer": {"tags": ["agents"], "summary": "Blind transfer of the agent's current call",
                               "description": "The customer goes to a queue, to another agent (rung alone if "
                                              "free, else their first queue) or out to a number; the agent's "
                                              "leg is released.",
                               "requestBody": _body({"type": "object", "required": ["to_kind", "to"], "properties": {
                                   "to_kind": {"enum": ["queue", "agent", "number"]}, "to": {"type": "string"}}}),
                               "responses": {"200": _resp("transferred", {"type": "object"}),
                                             **_errors(400, 401, 403, 409, 422, 503)}},
        "api_agent_hold": _call_step("Put the agent's call on hold", "held",
                                     "The customer hears music on hold; the agent's phone stays connected "
                                     "in silence. Agents may act only on their own calls."),
        "api_agent_unhold": _call_step("Take the agent's call off hold", "talking again"),
        "api_agent_consult": {"tags": ["agents"], "summary": "Consult another agent or a number",
                              "description": "The customer is held; the agent's phone calls the other party. "
                                             "Then: `consult/complete` (attended transfer), `consult/cancel` "
                                             "(back to the customer) or `conference` (three-way call).",
                              "requestBody": _body({"type": "object", "required": ["to_kind", "to"], "properties": {
                                  "to_kind": {"enum": ["agent", "number"]}, "to": {"type": "string"}}}),
                              "responses": {"200": _resp("calling", {"type": "object"}),
                                            **_errors(400, 401, 403, 409, 422, 503)}},
        "api_agent_complete_transfer": _call_step("Attended transfer: hand the customer over", "transferred",
                                                  "The customer goes on with the party the agent consulted "
                                                  "(who must have answered); the agent's leg is released."),
        "api_agent_cancel_consult": _call_step("Hang up on the consulted party", "back with the customer",
                                               "The agent is put back with the held customer."),
        "api_agent_end_call": _call_step("Hang up the agent's call", "hung up",
                                         "Ends the whole call. An agent signed in for the shift stays "
                                         "connected for the next call."),
        "api_agent_conference": _call_step("Three-way call", "in conference",
                                           "The customer, the agent and the consulted party (who must have "
                                           "answered) meet in one conference; anyone may leave."),
        "api_agent_spy": {"tags": ["supervisor"], "summary": "Listen to, whisper to or barge into an agent's call",
                          "description": "Rings `phone` (the supervisor's extension); once answered it is "
                                         "connected to the agent's call: `listen` hears both sides and is not "
                                         "heard, `whisper` is heard by the agent only, `barge` by both sides.",
                          "requestBody": _body({"type": "object", "required": ["phone"], "properties": {
                              "phone": {"type": "string", "description": "the supervisor's extension"},
                              "mode": {"enum": ["listen", "whisper", "barge"], "default": "listen"}}}),
                          "responses": {"200": _resp("the supervisor's phone is ringing", {"type": "object"}),
                                        **_errors(400, 401, 403, 409, 422, 503)}},
        "api_call_intercept": {"tags": ["supervisor"], "summary": "Take a live call over",
                               "description": "The customer is put through to `phone` (the supervisor's "
                                              "extension); the agent's leg is released.",
                               "requestBody": _body({"type": "object", "required": ["phone"], "properties": {
                                   "phone": {"type": "string"}}}),
                               "responses": {"200": _resp("put through", {"type": "object"}),
                                             **_errors(400, 401, 403, 404, 422, 503)}},
        "api_call_pickup": {"tags": ["agents"], "summary": "Pick up a call waiting in a queue or ringing elsewhere",
                            "description": "The agent is rung alone; if they do not answer the call goes back "
                                           "to its queue. Agents may pick up only for themselves.",
                            "requestBody": _body({"type": "object", "required": ["agent"], "properties": {
                                "agent": {"type": "string"}}}),
                            "responses": {"200": _resp("ringing the agent", {"type": "object"}),
                                          **_errors(400, 401, 403, 404, 409, 422, 503)}},
        "api_call_hangup": {"tags": ["supervisor"], "summary": "Force hang-up of a live call",
                            "responses": {"200": _resp("hung up", {"type": "object"}),
                                          **_errors(401, 403, 404, 503)}},
        "api_events": {"tags": ["live"], "summary": "Live changes as Server-Sent Events",
                       "description": "text/event-stream: `event: agent|call|queue` with a JSON `data:` line per "
                                      "change (a `call` event with `\"event\": \"offered\"` and `offered_to` is the "
                                      "screen pop). Staff see everything; an agent only their own agents, the "
                                      "calls offered to or taken by them, and their queues. The stream ends "
                                      "after a while; EventSource reconnects by itself.",
                       "responses": {"200": {"description": "the event stream",
                                             "content": {"text/event-stream": {"schema": {"type": "string"}}}},
                                     **_errors(401, 503)}},
        "api_tokens": {"tags": ["tokens"], "summary": "Your API tokens (their names, never the tokens)",
                       "responses": {"200": _resp("tokens", _items(token)), **_errors(401)}},
        "api_token_create": {"tags": ["tokens"], "summary": "Create an API token; it is in this response only",
                             "requestBody": _body({"type": "object", "required": ["name"], "properties": {
                                 "name": {"type": "string", "minLength": 1, "maxLength": 64}}}),
                             "responses": {"201": _resp("created", {"type": "object", "required": ["token", "name"],
                                                                   "properties": {"token": {"type": "string"},
                                                                                  "name": {"type": "string"}}}),
                                           **_errors(400, 401, 422)}},
        "api_token_revoke": {"tags": ["tokens"], "summary": "Revoke one of your tokens",
                             "responses": {"204": _resp("revoked"), **_errors(401, 404)}},
        "api_audit": {"tags": ["audit"], "summary": "Configuration changes: who, when, what (newest first)",
                      "parameters": [{"name": "limit", "in": "query", "required": False,
                                      "schema": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100}}],
                      "responses": {"200": _resp("entries", _items(_ref("AuditEntry"))), **_errors(401, 403, 422)}},
        "api_list": {"tags": ["configuration"], "summary": "List the {kinds}",
                     "responses": {"200": _resp("all of them, by key", _items(kind_ref)), **_errors(401, 403)}},
        "api_create": {"tags": ["configuration"],
                       "summary": "Create a {kind}; Asterisk's configuration is regenerated and reloaded",
                       "requestBody": _body(_ref("{Schema}Create")),
                       "responses": {"201": _resp("created", kind_ref), **_errors(400, 401, 403, 409, 422, 503)}},
        "api_get": {"tags": ["configuration"], "summary": "One {kind}",
                    "responses": {"200": _resp("it", kind_ref), **_errors(401, 403, 404)}},
        "api_update": {"tags": ["configuration"],
                       "summary": "Change some fields of a {kind}; applied to Asterisk without a restart",
                       "requestBody": _body(_ref("{Schema}Update")),
                       "responses": {"200": _resp("changed", kind_ref),
                                     **_errors(400, 401, 403, 404, 409, 422, 503)}},
        "api_delete": {"tags": ["configuration"], "summary": "Delete a {kind} (refused while it is in use)",
                       "responses": {"204": _resp("deleted"), **_errors(401, 403, 404, 409, 503)}},
    }


def _fill(obj, words: dict[str, str]):
    if isinstance(obj, dict):
        return {k: _fill(v, words) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_fill(v, words) for v in obj]
    if isinstance(obj, str):
        for placeholder, word in words.items():
            obj = obj.replace(placeholder, word)
        return obj
    return obj


def _schema_name(kind: str) -> str:
    """``pause_reasons`` -> ``PauseReason``: component names allow no spaces."""
    return "".join(word.capitalize() for word in SINGULAR[kind].split()) if kind != "dids" else "Did"


def _output_schema(config, kind: str) -> dict:
    if hasattr(config, "output_schema"):
        return config.output_schema(kind)
    schema = config.json_schema(kind, for_create=False)  # what goes in, less the write-only secrets
    return {**schema, "properties": {k: v for k, v in schema["properties"].items() if not v.get("writeOnly")},
            "additionalProperties": True}


def openapi_path(rule: str) -> tuple[str, list[str]]:
    """Bottle's ``/api/v1/<kind:re:...>/<key>`` -> ``/api/v1/{kind}/{key}`` and its parameters."""
    names = []

    def sub(match):
        names.append(match.group(1))
        return "{" + match.group(1) + "}"

    return re.sub(r"<([A-Za-z_]+)(?::[^>]*)?>", sub, rule), names


def api_routes(app):
    return [r for r in app.routes if r.rule.startswith("/api/")]


PARAMETERS = {
    "name": "the queue's name",
    "agent": "the agent's work number",
    "number": "the agent's work number",
    "token_id": "the token's id (from GET /api/v1/tokens)",
    "menu": "the voice menu's name",
    "digit": "a phone key: 0-9, * or # (written %23)",
    "prompt": "the prompt's name",
}


def _parameter(name: str, kind: str | None) -> dict:
    if name == "key" and kind:
        description = f"the {SINGULAR[kind]}'s {KEYS[kind]}"
    else:
        description = PARAMETERS.get(name, name)
    return {"name": name, "in": "path", "required": True, "description": description,
            "schema": {"type": "integer" if name == "token_id" else "string"}}


def build(app, config) -> dict:
    ops = _operations()
    paths: dict[str, dict] = {}
    for route in api_routes(app):
        if route.name not in ops:
            raise RuntimeError(f"API route {route.method} {route.rule} ({route.name}) has no OpenAPI description")
        path, params = openapi_path(route.rule)
        expansions = [(path, params, None)]
        if "kind" in params:  # one documented path per configuration kind
            expansions = [(path.replace("{kind}", k), [p for p in params if p != "kind"], k) for k in KINDS]
        for concrete, names, kind in expansions:
            op = dict(ops[route.name])
            if kind is not None:
                op = _fill(op, {"{Schema}": _schema_name(kind), "{kinds}": kind.replace("_", " "),
                                "{kind}": SINGULAR[kind]})
            op["operationId"] = route.name + (f"_{kind}" if kind else "")
            parameters = [_parameter(n, kind) for n in names]
            if parameters or op.get("parameters"):
                op["parameters"] = parameters + op.get("parameters", [])
            paths.setdefault(concrete, {})[route.method.lower()] = op
    seconds = {"type": "number", "description": "seconds"}
    schemas = {
        "Error": {"type": "object", "required": ["error", "message", "fields"], "properties": {
            "error": {"type": "string", "description": "stable error id, e.g. `validation_failed`, `queues.in_use`"},
            "message": {"type": "string", "description": "what went wrong, in English"},
            "fields": {"type": "object", "additionalProperties": {"type": "string"},
                       "description": "field name -> what is wrong with it (empty when no field is to blame)"},
            "error_id": {"type": "string", "description": "on a 500: the id under which the log has the details"}}},
        "Health": {"type": "object", "required": ["status", "components"], "properties": {
            "status": {"enum": ["ok", "degraded", "down"]}, "uptime_seconds": {"type": "integer"},
            "components": {"type": "object", "additionalProperties": {
                "type": "object", "required": ["up"],
                "properties": {"up": {"type": "boolean"}, "state": {"type": "string"}}}}}},
        "User": {"type": "object", "properties": {
            "id": {"type": "integer"}, "username": {"type": "string"},
            "role": {"enum": ["admin", "supervisor", "agent"]}, "language": {"enum": ["zh_CN", "en"]},
            "active": {"type": "boolean"}}},
        "Live": {"type": "object", "required": ["queues", "agents", "calls"], "properties": {
            "queues": {"type": "array", "items": {"type": "object", "properties": {
                "name": {"type": "string"}, "waiting": {"type": "integer", "description": "callers waiting"},
                "longest_wait": seconds, "members": {"type": "array", "items": {"type": "string"}},
                "available": {"type": "integer", "description": "members whose state is free"}}}},
            "agents": {"type": "array", "items": {"type": "object", "properties": {
                "name": {"type": "string", "description": "the agent's work number"},
                "display_name": {"type": "string", "description": "the configured agent's name"},
                "interface": {"type": "string"},
                "state": {"type": "string", "description": "logged_out, free, ringing, in_call, unavailable, paused"},
                "in_state_seconds": seconds, "queues": {"type": "array", "items": {"type": "string"}}}}},
            "calls": {"type": "array", "items": {"type": "object", "properties": {
                "linkedid": {"type": "string"}, "caller": {"type": "string"}, "caller_name": {"type": "string"},
                "did": {"type": "string"}, "queue": {"type": "string"}, "agent": {"type": "string"},
                "state": {"type": "string", "description": "new, queued, ringing, talking, ended"},
                "duration": {**seconds, "description": "seconds since the call came in"}}}}}},
        "AuditEntry": {"type": "object", "properties": {
            "at": {"type": "string", "description": "UTC, ISO 8601"}, "username": {"type": "string"},
            "action": {"enum": ["create", "update", "delete"]}, "object_type": {"type": "string"},
            "object_id": {"type": "string"}, "detail": {"type": "string", "description": "the change, as JSON"}}},
    }
    for kind in (*KINDS, "menus"):
        name = _schema_name(kind)
        schemas[name] = _output_schema(config, kind)
        schemas[name + "Create"] = config.json_schema(kind, for_create=True)
        schemas[name + "Update"] = config.json_schema(kind, for_create=False)
    return {
        "openapi": "3.1.0",
        "info": {"title": "Call-center appliance API", "version": "1",
                 "description": "Configuration and live state of the appliance. Programs authenticate with "
                                "`Authorization: Bearer <token>` (create a token on the My account page or "
                                "with POST /api/v1/tokens). The web pages' own calls use the session cookie; "
                                "those must send the page's CSRF token in `X-CSRF-Token` for POST, PATCH and "
                                "DELETE. Errors are JSON: `{error, message, fields}`. See docs/api.md."},
        "servers": [{"url": "/"}],
        "security": [{"bearerAuth": []}, {"cookieAuth": []}],
        "tags": [{"name": "status"}, {"name": "live"}, {"name": "configuration"}, {"name": "agents"},
                 {"name": "tokens"}, {"name": "audit"}, {"name": "menus"}],
        "paths": dict(sorted(paths.items())),
        "components": {
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"},
                                "cookieAuth": {"type": "apiKey", "in": "cookie", "name": "cc_session"}},
            "schemas": schemas,
        },
    }
