"""The OpenAPI 3.1 document, built from the app's own routes and the configuration
service's field table, so the spec cannot drift from what the server accepts.

Each API route name maps to one operation description here; a route under /api without
one is a build error (and a test failure), not a silently undocumented endpoint.
"""

from __future__ import annotations

import re

from appliance.services.config import KINDS, SINGULAR

ERROR = {"$ref": "#/components/schemas/Error"}
JSON = "application/json"


def _resp(description: str, schema: dict | None = None) -> dict:
    out: dict = {"description": description}
    if schema is not None:
        out["content"] = {JSON: {"schema": schema}}
    return out


def _errors(*codes: int) -> dict:
    text = {400: "bad request (body not JSON)", 401: "not signed in / no valid token",
            403: "your role may not do this", 404: "not found", 409: "conflict (already exists, still in use)",
            422: "validation failed: `fields` says what is wrong with each field",
            503: "a component (Asterisk, AMI) is not available"}
    return {str(c): _resp(text[c], ERROR) for c in codes}


def _body(schema: dict) -> dict:
    return {"required": True, "content": {JSON: {"schema": schema}}}


def _items(schema: dict) -> dict:
    return {"type": "object", "properties": {"items": {"type": "array", "items": schema}}, "required": ["items"]}


# Route name -> operation (without path parameters, added from the rule).
def _operations(config) -> dict[str, dict]:
    member = {"type": "object", "properties": {"queue": {"type": "string"}, "agent": {"type": "string"},
                                               "penalty": {"type": "integer"}}}
    token = {"type": "object", "properties": {"id": {"type": "integer"}, "name": {"type": "string"},
                                              "created_at": {"type": "string"},
                                              "last_used_at": {"type": ["string", "null"]}}}
    kind_ref = {"$ref": "#/components/schemas/{kind}"}
    ops = {
        "health": {"summary": "State of each component (asterisk, ami, agi, db); no sign-in needed",
                   "security": [], "responses": {"200": _resp("ok or degraded", {"$ref": "#/components/schemas/Health"}),
                                                 "503": _resp("down", {"$ref": "#/components/schemas/Health"})}},
        "openapi": {"summary": "This document", "responses": {"200": _resp("the OpenAPI document", {"type": "object"}),
                                                              **_errors(401)}},
        "api_me": {"summary": "Who the token or session belongs to",
                   "responses": {"200": _resp("the user", {"$ref": "#/components/schemas/User"}), **_errors(401)}},
        "api_live": {"summary": "Live queues, agents and calls (an agent sees only their own)",
                     "responses": {"200": _resp("snapshot", {"$ref": "#/components/schemas/Live"}), **_errors(401)}},
        "api_members": {"summary": "Members of a queue",
                        "responses": {"200": _resp("members", _items(member)), **_errors(401, 403, 404)}},
        "api_member_add": {"summary": "Add an agent to a queue (a signed-in agent starts taking its calls)",
                           "requestBody": _body({"type": "object", "properties": {
                               "agent": {"type": "string"}, "penalty": {"type": "integer", "minimum": 0, "maximum": 100}},
                               "required": ["agent"]}),
                           "responses": {"201": _resp("added", member), **_errors(400, 401, 403, 404, 409, 422)}},
        "api_member_remove": {"summary": "Remove an agent from a queue",
                              "responses": {"204": _resp("removed"), **_errors(401, 403, 404)}},
        "api_agent_login": {"summary": "Sign an agent in to all their queues",
                            "responses": {"200": _resp("signed in", {"type": "object"}),
                                          **_errors(401, 403, 404, 422, 503)}},
        "api_agent_logout": {"summary": "Sign an agent out of all their queues",
                             "responses": {"200": _resp("signed out", {"type": "object"}),
                                           **_errors(401, 403, 404, 503)}},
        "api_tokens": {"summary": "Your API tokens (never the tokens themselves)",
                       "responses": {"200": _resp("tokens", _items(token)), **_errors(401)}},
        "api_token_create": {"summary": "Create an API token; the token is in this response only",
                             "requestBody": _body({"type": "object", "properties": {"name": {"type": "string"}},
                                                   "required": ["name"]}),
                             "responses": {"201": _resp("created", {"type": "object", "properties": {
                                 "token": {"type": "string"}, "name": {"type": "string"}}}),
                                 **_errors(400, 401, 422)}},
        "api_token_revoke": {"summary": "Revoke one of your tokens",
                             "responses": {"204": _resp("revoked"), **_errors(401, 404)}},
        "api_audit": {"summary": "Configuration changes: who, when, what (newest first)",
                      "parameters": [{"name": "limit", "in": "query", "required": False,
                                      "schema": {"type": "integer", "minimum": 1, "maximum": 1000}}],
                      "responses": {"200": _resp("entries", _items({"$ref": "#/components/schemas/AuditEntry"})),
                                    **_errors(401, 403, 422)}},
        # per kind: the {kind} placeholder is filled per path
        "api_list": {"summary": "List {kinds}", "responses": {"200": _resp("all of them", _items(kind_ref)),
                                                               **_errors(401, 403)}},
        "api_create": {"summary": "Create a {kind}; Asterisk's config is regenerated and reloaded",
                       "requestBody": _body({"$ref": "#/components/schemas/{kind}Create"}),
                       "responses": {"201": _resp("created", kind_ref), **_errors(400, 401, 403, 409, 422, 503)}},
        "api_get": {"summary": "One {kind}", "responses": {"200": _resp("it", kind_ref), **_errors(401, 403, 404)}},
        "api_update": {"summary": "Change some fields of a {kind}; applied to Asterisk without a restart",
                       "requestBody": _body({"$ref": "#/components/schemas/{kind}Update"}),
                       "responses": {"200": _resp("changed", kind_ref), **_errors(400, 401, 403, 404, 409, 422, 503)}},
        "api_delete": {"summary": "Delete a {kind} (refused while calls are routed through it)",
                       "responses": {"204": _resp("deleted"), **_errors(401, 403, 404, 409, 503)}},
    }
    return ops


def _fill(obj, kind: str, kinds: str):
    if isinstance(obj, dict):
        return {k: _fill(v, kind, kinds) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_fill(v, kind, kinds) for v in obj]
    if isinstance(obj, str):
        return obj.replace("{kinds}", kinds).replace("{kind}", kind)
    return obj


def _schema_name(kind: str) -> str:
    """``pause_reasons`` -> ``PauseReason``: component names allow no spaces."""
    return "".join(word.capitalize() for word in SINGULAR[kind].split()) if kind != "dids" else "Did"


def openapi_path(rule: str) -> tuple[str, list[str]]:
    """Bottle's ``/api/v1/<kind:re:...>/<key>`` -> ``/api/v1/{kind}/{key}`` and its parameters."""
    names = []

    def sub(match):
        names.append(match.group(1))
        return "{" + match.group(1) + "}"

    return re.sub(r"<([A-Za-z_]+)(?::[^>]*)?>", sub, rule), names


def api_routes(app):
    return [r for r in app.routes if r.rule.startswith("/api/")]


def build(app, config) -> dict:
    ops = _operations(config)
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
                op = _fill(op, _schema_name(kind), kind)
            op["operationId"] = route.name + (f"_{kind}" if kind else "")
            parameters = [{"name": n, "in": "path", "required": True,
                           "schema": {"type": "integer" if n == "token_id" else "string"}} for n in names]
            if parameters or op.get("parameters"):
                op["parameters"] = parameters + op.get("parameters", [])
            paths.setdefault(concrete, {})[route.method.lower()] = op
    schemas = {
        "Error": {"type": "object", "required": ["error", "message"], "properties": {
            "error": {"type": "string", "description": "stable error id, e.g. validation_failed"},
            "message": {"type": "string"},
            "fields": {"type": "object", "additionalProperties": {"type": "string"},
                       "description": "field name -> what is wrong with it"}}},
        "Health": {"type": "object", "required": ["status", "components"], "properties": {
            "status": {"enum": ["ok", "degraded", "down"]}, "uptime_seconds": {"type": "integer"},
            "components": {"type": "object", "properties": {
                c: {"type": "object", "properties": {"up": {"type": "boolean"}, "state": {"type": "string"}}}
                for c in ("asterisk", "ami", "agi", "db")}}}},
        "User": {"type": "object", "properties": {"id": {"type": "integer"}, "username": {"type": "string"},
                                                  "role": {"enum": ["admin", "supervisor", "agent"]},
                                                  "language": {"enum": ["zh_CN", "en"]}, "active": {"type": "boolean"}}},
        "Live": {"type": "object", "properties": {k: {"type": "array", "items": {"type": "object"}}
                                                  for k in ("queues", "agents", "calls")}},
        "AuditEntry": {"type": "object", "properties": {k: {"type": "string"} for k in
                                                        ("at", "username", "action", "object_type", "object_id",
                                                         "detail")}},
    }
    for kind in KINDS:
        name = _schema_name(kind)
        schemas[name] = config.output_schema(kind)
        schemas[name + "Create"] = config.json_schema(kind, for_create=True)
        schemas[name + "Update"] = config.json_schema(kind, for_create=False)
    return {
        "openapi": "3.1.0",
        "info": {"title": "Call-center appliance API", "version": "1",
                 "description": "Configuration and live state of the appliance. Authenticate with "
                                "`Authorization: Bearer <token>` (create a token on the Account page "
                                "or with POST /api/v1/tokens). Errors are JSON: {error, message, fields}."},
        "servers": [{"url": "/"}],
        "security": [{"bearerAuth": []}, {"cookieAuth": []}],
        "paths": dict(sorted(paths.items())),
        "components": {
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"},
                                "cookieAuth": {"type": "apiKey", "in": "cookie", "name": "cc_session"}},
            "schemas": schemas,
        },
    }
