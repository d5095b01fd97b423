"""The OpenAPI 3.1 document, built from the app's own routes and the configuration
service's field table, so the spec cannot drift from what the server accepts.

Each API route declares its operation beside it (``api=Operation(...)``, kept by bottle in
``route.config``; see ``webui.apidoc``); a route under /api without one is a build error
(and a test failure), not a silently undocumented endpoint.  The shared schemas
(components) are here; those of the configuration kinds and the customers come from the
services' own field tables.  Routes
over every configuration kind (``/api/v1/<kind>``) are documented once per kind, with
that kind's request schema taken from ``ConfigService.json_schema`` itself.
"""

from __future__ import annotations

import re

from appliance.services import token_scopes
from appliance.services.config import KEYS, KINDS, SINGULAR
from webui.apidoc import Operation


def _wallboard_schema() -> dict:
    figures = {"offered": {"type": "integer"}, "answered": {"type": "integer"},
               "answered_in_time": {"type": "integer"}, "abandoned": {"type": "integer"},
               "no_agent": {"type": "integer", "description": "neither answered nor abandoned: refused by the queue "
                                                             "(nobody could answer) or given up on by it"},
               "service_level": {"type": ["number", "null"], "description": "0..1"},
               "average_answer_seconds": {"type": ["number", "null"]}}
    live = "#/components/schemas/Live/properties"
    return {"type": "object", "required": ["date", "timezone", "totals", "queues", "agents", "calls", "trunks"],
            "properties": {
                "date": {"type": "string", "description": "today, in the call center's time zone (YYYY-MM-DD)"},
                "timezone": {"type": "string"}, "since": {"type": "string", "description": "local midnight, in UTC"},
                "totals": {"type": "object", "properties": figures},
                "queues": {"type": "array", "items": {"type": "object", "properties": {
                    **figures, "name": {"type": "string"}, "display_name": {"type": "string"},
                    "service_level_seconds": {"type": "integer"}, "waiting": {"type": "integer"},
                    "longest_wait": {"type": "number"}, "available": {"type": "integer"},
                    "members": {"type": "array", "items": {"type": "string"}}}}},
                "agents": {"$ref": live + "/agents"}, "calls": {"$ref": live + "/calls"},
                "trunks": {"type": "array", "items": {"type": "object", "properties": {
                    "name": {"type": "string"}, "max_channels": {"type": "integer"},
                    "calls": {"type": "integer"}}}}}}


def _crm_schemas(crm) -> dict[str, dict]:
    create = crm.json_schema(for_create=True)
    out = {k: v for k, v in create["properties"].items() if not v.get("writeOnly")}
    customer = {"type": "object", "required": ["id", "name", "phone"], "properties": {
        **out, "id": {"type": "integer"}, "tags": {"type": "array", "items": {"type": "string"}},
        "account_manager_name": {"type": "string"}, "has_pin": {"type": "boolean"},
        "created_at": {"type": "string"}, "created_by": {"type": "string"},
        "updated_at": {"type": ["string", "null"]}}}
    return {
        "Customer": customer, "CustomerCreate": create, "CustomerUpdate": crm.json_schema(for_create=False),
        "ImportReport": {"type": "object", "properties": {
            "ok": {"type": "boolean"}, "columns": {"type": "array", "items": {"type": "string"}},
            "rows": {"type": "integer"}, "valid_rows": {"type": "integer"}, "error_count": {"type": "integer"},
            "preview": {"type": "array", "items": {"type": "object"}},
            "errors": {"type": "array", "description": "the first 1000 problems", "items": {
                "type": "object", "properties": {"row": {"type": "integer"}, "column": {"type": "string"},
                                                 "message": {"type": "string"}}}}}},
        "HistoryItem": {"type": "object", "required": ["kind", "at"], "properties": {
            "kind": {"enum": ["call", "note", "order", "mail"]}, "at": {"type": "string", "description": "UTC"},
            "subject": {"type": "string", "description": "an e-mail's"},
            "state": {"type": "string", "description": "an order's state; an e-mail's queued, sent or failed"},
            "direction": {"type": "string"}, "number": {"type": "string"}, "agent": {"type": "string"},
            "queue": {"type": "string"}, "disposition": {"type": "string"}, "talk_seconds": {"type": "number"},
            "author": {"type": "string"}, "body": {"type": "string"}, "linkedid": {"type": "string"}}},
        "FollowUp": {"type": "object", "required": ["id", "customer_id", "kind", "due_at"], "properties": {
            "id": {"type": "integer"}, "customer_id": {"type": "integer"}, "customer_name": {"type": "string"},
            "customer_phone": {"type": "string"}, "kind": {"enum": ["follow_up", "call_back"]},
            "due_at": {"type": "string"}, "note": {"type": "string"}, "agent": {"type": ["string", "null"]},
            "created_by": {"type": "string"}, "done_at": {"type": ["string", "null"]}, "done_by": {"type": "string"},
            "overdue": {"type": "boolean"}}},
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
    "customer_id": "the customer's id",
    "follow_up_id": "the follow-up's id",
    "menu": "the voice menu's name",
    "digit": "a phone key: 0-9, * or # (written %23)",
    "prompt": "the prompt's name",
    "message_id": "the message's id",
    "fax_id": "the fax's id",
    "address": "the blocked source's IP address",
    "report": "traffic, queues, heatmap, agents, timeline, abandoned or surveys",
}


def _parameter(name: str, kind: str | None) -> dict:
    if name == "key" and kind:
        description = f"the {SINGULAR[kind]}'s {KEYS[kind]}"
    else:
        description = PARAMETERS.get(name, name)
    return {"name": name, "in": "path", "required": True, "description": description,
            "schema": {"type": "integer" if name.endswith("_id") else "string"}}


def _security(scope: str | None) -> list[dict]:
    """Who may call an operation: a token holding ``scope`` (a full token holds every one),
    or a browser session; ``any``/``full``: a token of any scopes / of no scopes."""
    needed = [scope] if scope in token_scopes.SCOPES else []
    return [{"bearerAuth": needed}, {"cookieAuth": []}]


BEARER_DESCRIPTION = (
    "`Authorization: Bearer <token>`. A token acts with its owner's role; it may further be limited to scopes "
    "(`x-scopes`) and source addresses. A token with no scopes has the full access of its owner's role. Each "
    "operation names the scope it needs in `security` and `x-token-scope` (`any`: every token; `full`: only a "
    "token with no scopes). A scoped token on an operation outside its scopes gets 403 `auth.scope`; from an "
    "address outside its list, 403 `auth.address`.")


def build(app, config, crm=None) -> dict:
    paths: dict[str, dict] = {}
    for route in api_routes(app):
        described = route.config.get("api")
        if not isinstance(described, Operation):
            raise RuntimeError(f"API route {route.method} {route.rule} ({route.name}) has no OpenAPI description "
                               "(api=Operation(...) beside the route)")
        path, params = openapi_path(route.rule)
        expansions = [(path, params, None)]
        if "kind" in params:  # one documented path per configuration kind
            expansions = [(path.replace("{kind}", k), [p for p in params if p != "kind"], k) for k in KINDS]
        for concrete, names, kind in expansions:
            op = dict(described.spec)
            if kind is not None:
                op = _fill(op, {"{Schema}": _schema_name(kind), "{kinds}": kind.replace("_", " "),
                                "{kind}": SINGULAR[kind]})
            op["operationId"] = route.name + (f"_{kind}" if kind else "")
            roles = route.config.get("roles")
            if isinstance(roles, (set, frozenset)):  # who may call it, as declared beside the route
                op["x-roles"] = sorted(roles)
                op.setdefault("security", _security(route.config.get("scope")))
                op["x-token-scope"] = route.config.get("scope")
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
            "error_id": {"type": "string", "description": "on a 500: the id under which the log has the details"},
            "params": {"type": "object", "additionalProperties": {"type": "string"},
                       "description": "what the error's sentence names, e.g. `{\"number_class\": \"international\"}` "
                                      "for `call.not_permitted`"}}},
        "Health": {"type": "object", "required": ["status", "components"], "properties": {
            "status": {"enum": ["ok", "degraded", "down"]}, "uptime_seconds": {"type": "integer"},
            "components": {"type": "object", "additionalProperties": {
                "type": "object", "required": ["up"],
                "properties": {"up": {"type": "boolean"}, "state": {"type": "string"}}},
                "description": "`ha` is hot standby: `state` is this box's role (`off` on a box on its own, "
                               "`starting`, `standby`, `fault`, `active`), with `peer` (reachable, its role) "
                               "and `replication` (`direction`, `lag_seconds`); see docs/api.md"}}},
        "User": {"type": "object", "properties": {
            "id": {"type": "integer"}, "username": {"type": "string"},
            "role": {"enum": ["admin", "supervisor", "agent"]}, "language": {"enum": ["zh_CN", "en"]},
            "active": {"type": "boolean"}}},
        "Live": {"type": "object", "required": ["queues", "agents", "calls"], "properties": {
            "queues": {"type": "array", "items": {"type": "object", "properties": {
                "name": {"type": "string"}, "display_name": {"type": "string"},
                "waiting": {"type": "integer", "description": "callers of the queue not answered yet (queued or "
                                                              "ringing an agent)"},
                "longest_wait": {**seconds, "description": "the longest wait among the same callers"},
                "members": {"type": "array", "items": {"type": "string"}},
                "available": {"type": "integer", "description": "members whose state is free"}}}},
            "agents": {"type": "array", "items": {"type": "object", "properties": {
                "name": {"type": "string", "description": "the agent's work number"},
                "display_name": {"type": "string", "description": "the configured agent's name"},
                "interface": {"type": "string"},
                "state": {"type": "string", "description": "logged_out, free, ringing, in_call, unavailable, paused"},
                "in_state_seconds": seconds, "queues": {"type": "array", "items": {"type": "string"}}}}},
            "calls": {"type": "array", "items": {"type": "object", "properties": {
                "linkedid": {"type": "string"}, "caller": {"type": "string"},
                "caller_name": {"type": "string", "description": "the name the trunk sent (SIP display name)"},
                "customer_name": {"type": "string", "description": "the CRM customer whose number the caller's is, "
                                                                   "or ''"},
                "waiting": {"type": "boolean", "description": "in its queue, not answered yet"},
                "did": {"type": "string"}, "queue": {"type": "string"}, "agent": {"type": "string"},
                "state": {"type": "string", "description": "new, queued, ringing, talking, held, consulting, "
                                                           "conference, no_agent (the queue sent it on without an "
                                                           "agent), ended"},
                "duration": {**seconds, "description": "seconds since the call came in"}}}}}},
        "AuditEntry": {"type": "object", "properties": {
            "at": {"type": "string", "description": "UTC, ISO 8601"}, "username": {"type": "string"},
            "action": {"enum": ["create", "update", "delete"]}, "object_type": {"type": "string"},
            "object_id": {"type": "string"}, "detail": {"type": "string", "description": "the change, as JSON"}}},
        "Recording": {"type": "object", "properties": {
            "linkedid": {"type": "string", "description": "the call's key, as in the call record"},
            "state": {"enum": ["recording", "pending", "encoding", "complete", "failed", "missing", "corrupt",
                               "refused"]},
            "complete": {"type": "boolean", "description": "verified MP3 of the whole call"},
            "partial": {"type": "boolean", "description": "the call was cut off; only its first part is here"},
            "repaired": {"type": "boolean", "description": "the WAV's header was wrong (a crash); the samples "
                                                           "present were used"},
            "duration_seconds": {"type": ["number", "null"]}, "bytes": {"type": ["integer", "null"]},
            "sha256": {"type": "string"}, "error_code": {"type": "string"}, "detail": {"type": "string"},
            "policy": {"type": "string", "description": "which setting decided, e.g. `queue sales: force`"},
            "created_at": {"type": "string"}, "completed_at": {"type": ["string", "null"]},
            "call": {"type": ["object", "null"], "description": "caller, agent, queue, direction, enter_time, "
                                                               "talk_seconds, disposition of its call record"}}},
    }
    schemas["Wallboard"] = _wallboard_schema()
    for kind in (*KINDS, "menus"):
        name = _schema_name(kind)
        schemas[name] = _output_schema(config, kind)
        schemas[name + "Create"] = config.json_schema(kind, for_create=True)
        schemas[name + "Update"] = config.json_schema(kind, for_create=False)
    if crm is not None:
        schemas.update(_crm_schemas(crm))
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
                 {"name": "recordings"}, {"name": "tokens"}, {"name": "audit"}, {"name": "customers"},
                 {"name": "workspace"}, {"name": "calls"}, {"name": "menus"}, {"name": "voicemail"}, {"name": "fax"},
                 {"name": "sip"}, {"name": "ha"}, {"name": "backup"}, {"name": "webhooks"}],
        "paths": dict(sorted(paths.items())),
        "components": {
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer", "description": BEARER_DESCRIPTION,
                                               "x-scopes": dict(token_scopes.SCOPES),
                                               "x-scopes-included": {k: list(v) for k, v in
                                                                     token_scopes.IMPLIES.items()}},
                                "cookieAuth": {"type": "apiKey", "in": "cookie", "name": "cc_session"}},
            "schemas": schemas,
        },
    }
