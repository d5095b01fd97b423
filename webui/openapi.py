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
    403: "your role may not do this (`forbidden`), a cookie session sent no CSRF token (`csrf_failed`), or "
         "the calling permission does not allow the number (`call.not_permitted`, `params.number_class`)",
    404: "no such object (`<kind>.not_found`, ...)",
    409: "conflicts with what exists: a duplicate key (`<kind>.exists`), still in use (`<kind>.in_use`), or "
         "changed by someone else since you read it (`<kind>.changed`)",
    413: "the request body or the uploaded file is larger than accepted (`request.too_large`, `fax.too_large`)",
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


_USER = {"type": "object", "required": ["id", "username", "role", "language", "active"], "properties": {
    "id": {"type": "integer"}, "username": {"type": "string"}, "role": {"type": "string"},
    "language": {"type": "string"}, "active": {"type": "boolean"}, "locked_until": {"type": ["string", "null"]}}}


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
    token = {"type": "object", "required": ["id", "name", "created_at", "expires_at", "expired"], "properties": {
        "id": {"type": "integer"}, "name": {"type": "string"}, "created_at": {"type": "string"},
        "last_used_at": {"type": ["string", "null"]}, "expires_at": {"type": ["string", "null"]},
        "expired": {"type": "boolean"}}}
    token_made = {"type": "object", "required": ["token", "name", "expires_at"], "properties": {
        "token": {"type": "string"}, "name": {"type": "string"}, "expires_at": {"type": ["string", "null"]}}}
    lockout = {"type": "object", "required": ["key", "kind", "name", "until", "lockouts"], "properties": {
        "key": {"type": "string", "description": "`user:<name>`, `addr:<ip>` or `console:<device>`"},
        "kind": {"enum": ["user", "addr", "console"]}, "name": {"type": "string"},
        "until": {"type": "string", "description": "UTC, ISO 8601"}, "lockouts": {"type": "integer"}}}
    signed = {"type": "object", "required": ["agent", "logged_in"], "properties": {
        "agent": {"type": "string"}, "logged_in": {"type": "boolean"}, "mode": {"enum": ["ring", "long"]},
        "phone_ringing": {"type": "boolean"}, "queues": {"type": "array", "items": {"type": "string"}}}}
    kind_ref = _ref("{Schema}")
    from webui.menus import operations as menu_operations
    from webui.sipguard import operations as sip_operations

    return {
        **menu_operations(),
        **sip_operations(),
        "health": {"tags": ["status"], "summary": "Health of each component; no sign-in needed",
                   "description": "200 while `status` is `ok` or `degraded`, 503 when `down` (Asterisk is not "
                                  "running), so a load balancer or monitor can use the status code alone.",
                   "security": [],
                   "responses": {"200": _resp("ok or degraded", _ref("Health")),
                                 "503": _resp("down", _ref("Health"))}},
        "api_service_restart": {"tags": ["status"], "summary": "Restart one of the services the supervisor runs",
                                "description": "For a service stopped after a crash loop (its alarm "
                                               "`supervisor.crash_loop` in /api/health) once the cause is fixed, "
                                               "or one that misbehaves. The supervisor takes the request within "
                                               "seconds, forgets the earlier crashes and clears the alarm; the "
                                               "outcome shows in /api/health. Admins only; audited.",
                                "responses": {"202": _resp("requested", {"type": "object", "properties": {
                                    "service": {"type": "string"}, "restart": {"const": "requested"}}}),
                                    **_errors(401, 403, 404, 503)}},
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
                                          "only for themselves. A number the agent's calling permission does "
                                          "not allow is 403 `call.not_permitted` (audited).",
                           "requestBody": _body({"type": "object", "required": ["number"], "properties": {
                               "number": {"type": "string", "pattern": "^\\+?[0-9 -]{3,40}$"}}}),
                           "responses": {"200": _resp("the agent's phone is ringing", {"type": "object"}),
                                         **_errors(400, 401, 403, 404, 422, 503)}},
        "api_agent_transfer": {"tags": ["agents"], "summary": "Blind transfer of the agent's current call",
                               "description": "The customer goes to a queue, to another agent (rung alone if "
                                              "free, else their first queue) or out to a number; the agent's "
                                              "leg is released. A number the agent's calling permission does "
                                              "not allow is 403 `call.not_permitted` (audited).",
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
                                             "(back to the customer) or `conference` (three-way call). A "
                                             "number the agent's calling permission does not allow is 403 "
                                             "`call.not_permitted` (audited).",
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
        "api_agent_recording": {
            "tags": ["recordings"], "summary": "Pause, resume, start or stop the recording of the agent's call",
            "description": "`pause`/`resume`: e.g. while a card number is read out (silence is recorded, so "
                           "the file keeps the call's timeline). `start`: record a call the policy left "
                           "unrecorded (`no`/`dontcare`). `stop`: refused (`recording.forced`) when a setting "
                           "says `force`; nothing can start a call a setting says `never` for "
                           "(`recording.not_possible`). Agents may act only on their own calls.",
            "responses": {"200": _resp("done", {"type": "object", "properties": {
                "linkedid": {"type": "string"}, "recording": {"enum": ["recording", "paused", "standby", "stopped"]},
                "forced": {"type": "boolean"}}}), **_errors(401, 403, 409, 503)}},
        "api_recordings": {
            "tags": ["recordings"], "summary": "Search recordings by their call (newest first)",
            "description": "`caller`: part of the caller's number; `agent`, `queue`: the call's; `state`: the "
                           "recording's; `from`, `to`: days (YYYY-MM-DD, UTC, both included) the recording was "
                           "made. `total` counts every match. Agents find only their own calls.",
            "parameters": [{"name": n, "in": "query", "required": False, "schema": {"type": "string"}}
                           for n in ("caller", "agent", "queue", "state", "from", "to")] + [
                {"name": "limit", "in": "query", "required": False,
                 "schema": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100}},
                {"name": "offset", "in": "query", "required": False, "schema": {"type": "integer", "minimum": 0}}],
            "responses": {"200": _resp("recordings", {"type": "object", "properties": {
                "items": {"type": "array", "items": _ref("Recording")}, "total": {"type": "integer"}}}),
                **_errors(401, 422)}},
        "api_recording": {
            "tags": ["recordings"], "summary": "One call's recording: state, checksum, duration, its call",
            "description": "`complete` is true when the MP3 is verified and holds the whole call; `partial` "
                           "when the call was cut off (Asterisk went away) and only its first part is there. "
                           "Agents see only the recordings of their own calls.",
            "responses": {"200": _resp("it", _ref("Recording")), **_errors(401, 403, 404)}},
        "api_recording_audio": {
            "tags": ["recordings"], "summary": "The MP3 (HTTP Range for seeking; `?download=1` to save it)",
            "parameters": [{"name": "download", "in": "query", "required": False, "schema": {"type": "string"}},
                           {"name": "Range", "in": "header", "required": False, "schema": {"type": "string"}}],
            "responses": {"200": {"description": "the whole file",
                                  "content": {"audio/mpeg": {"schema": {"type": "string", "format": "binary"}}}},
                          "206": {"description": "the byte range asked for",
                                  "content": {"audio/mpeg": {"schema": {"type": "string", "format": "binary"}}}},
                          **_errors(401, 403, 404)}},
        "api_recording_storage": {
            "tags": ["recordings"], "summary": "Recording storage: free space, reserve, days left at the recent rate",
            "responses": {"200": _resp("storage", {"type": "object", "properties": {
                "free_bytes": {"type": "integer"}, "total_bytes": {"type": "integer"},
                "reserve_bytes": {"type": "integer"}, "bytes_per_day": {"type": "integer"},
                "days_left": {"type": ["number", "null"]}, "alarm": {"type": "string"},
                "level": {"enum": ["ok", "warn", "bad"], "description": "bad: under 7 days or the disk guard's "
                          "alarm; warn: under 30 days"},
                "message": {"type": "string"}}}), **_errors(401, 403)}},
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
        "api_users": {"tags": ["users"], "summary": "Every account (admins only)",
                      "description": "Each with `locked_until` (UTC) while wrong passwords keep it locked, else null.",
                      "responses": {"200": _resp("accounts", _items(_USER)), **_errors(401, 403)}},
        "api_lockouts": {"tags": ["users"], "summary": "Sign-in locks now in force (accounts, addresses, consoles)",
                         "responses": {"200": _resp("locks", _items(lockout)), **_errors(401, 403)}},
        "api_lockout_clear": {"tags": ["users"], "summary": "Clear a sign-in lock (audited)",
                              "responses": {"204": _resp("cleared"), **_errors(401, 403, 404)}},
        "api_user_create": {
            "tags": ["users"], "summary": "Add an account",
            "requestBody": _body({"type": "object", "required": ["username", "password", "role"], "properties": {
                "username": {"type": "string", "pattern": "^[A-Za-z0-9_.@-]{1,64}$"},
                "password": {"type": "string", "minLength": 8}, "role": {"enum": ["admin", "supervisor", "agent"]},
                "language": {"enum": ["zh_CN", "en"]}}}),
            "responses": {"201": _resp("created", _USER), **_errors(400, 401, 403, 409, 422)}},
        "api_user_update": {
            "tags": ["users"], "summary": "Change an account's role, language, whether it may sign in, its password",
            "description": "Nobody changes their own role or switches themselves off (409 `user.self`); the last "
                           "active admin stays one (409 `user.last_admin`).",
            "requestBody": _body({"type": "object", "properties": {
                "role": {"enum": ["admin", "supervisor", "agent"]}, "language": {"enum": ["zh_CN", "en"]},
                "active": {"type": "boolean"}, "password": {"type": "string", "minLength": 8}}}),
            "responses": {"200": _resp("changed", _USER), **_errors(400, 401, 403, 404, 409, 422)}},
        "api_tokens": {"tags": ["tokens"], "summary": "Your API tokens (their names, never the tokens)",
                       "responses": {"200": _resp("tokens", _items(token)), **_errors(401)}},
        "api_token_create": {"tags": ["tokens"], "summary": "Create an API token; it is in this response only",
                             "requestBody": _body({"type": "object", "required": ["name"], "properties": {
                                 "name": {"type": "string", "minLength": 1, "maxLength": 64},
                                 "expires_in_days": {"type": ["integer", "null"], "minimum": 1, "maximum": 3650,
                                                     "description": "left out or null: until revoked"}}}),
                             "responses": {"201": _resp("created", token_made),
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
                    "description": "The `ETag` header (and the object's `version`) changes with every saved "
                                   "change; send it back in `If-Match` when updating.",
                    "responses": {"200": _resp("it", kind_ref), **_errors(401, 403, 404)}},
        "api_update": {"tags": ["configuration"],
                       "summary": "Change some fields of a {kind}; applied to Asterisk without a restart",
                       "description": "With `If-Match: \"<version>\"` (the `ETag` or `version` you read) the "
                                      "change is made only if nobody changed the {kind} since: otherwise 409 "
                                      "`<kind>.changed`, and nothing is saved. Without it the last save wins.",
                       "parameters": [{"name": "If-Match", "in": "header", "required": False,
                                       "description": "the version you read", "schema": {"type": "string"}}],
                       "requestBody": _body(_ref("{Schema}Update")),
                       "responses": {"200": _resp("changed", kind_ref),
                                     **_errors(400, 401, 403, 404, 409, 422, 503)}},
        "api_delete": {"tags": ["configuration"], "summary": "Delete a {kind} (refused while it is in use)",
                       "responses": {"204": _resp("deleted"), **_errors(401, 403, 404, 409, 503)}},
    }


def _workspace_operations() -> dict[str, dict]:
    """The agent workspace (webui/workspace.py)."""
    obj = {"type": "object"}
    message = {"type": "object", "properties": {
        "id": {"type": "integer"}, "from": {"type": "string"}, "to": {"type": "string"}, "body": {"type": "string"},
        "sent_at": {"type": "string"}, "read_at": {"type": ["string", "null"]}}}
    own = " Agents only for their own agents."
    return {
        "api_workspace_pop": {
            "tags": ["workspace"], "summary": "The screen pop for a caller's number",
            "description": "Where the number is from (`origin`: kind, region or operator), the customer record "
                           "(whoever manages it) and the last contacts with their dispositions and notes. An agent "
                           "gets it only for the caller of a call ringing or connected to one of their agents, or a "
                           "customer of their own; any other number is 403 `workspace.pop_not_offered`. "
                           "`customer`: the `customer.id` the call event carried (`0`: it carried none), used "
                           "instead of a second lookup when that customer has this number.",
            "parameters": [{"name": "number", "in": "query", "required": True, "schema": {"type": "string"}},
                           {"name": "customer", "in": "query", "required": False,
                            "schema": {"type": "integer", "minimum": 0}}],
            "responses": {"200": _resp("the pop", obj), **_errors(401, 403, 422)}},
        "api_dispositions": {"tags": ["workspace"], "summary": "The dispositions an agent picks after a call",
                             "responses": {"200": _resp("dispositions", _items(obj)), **_errors(401)}},
        "api_call_outcome": {
            "tags": ["workspace"], "summary": "Save the agent's disposition and note for a call",
            "description": "During the call or after it; saving again replaces it. The note also goes into the "
                           "caller's customer history." + own,
            "requestBody": _body({"type": "object", "required": ["disposition"], "properties": {
                "disposition": {"type": "string"}, "note": {"type": "string", "maxLength": 4000}}}),
            "responses": {"200": _resp("saved", obj), **_errors(400, 401, 403, 404, 422)}},
        "api_agent_missed": {
            "tags": ["workspace"], "summary": "Missed calls of the agent's queues to call back",
            "description": "Callers who reached nobody in the last 7 days and with whom nobody has spoken "
                           "since, newest first, one row per number." + own,
            "responses": {"200": _resp("missed calls", _items(obj)), **_errors(401, 403, 404)}},
        "api_messages": {"tags": ["workspace"], "summary": "My messages, sent and received, newest first",
                         "responses": {"200": _resp("messages", _items(message)), **_errors(401)}},
        "api_message_send": {
            "tags": ["workspace"], "summary": "Send a message to another user",
            "description": "The recipient sees it at once on the `message` event stream.",
            "requestBody": _body({"type": "object", "required": ["to", "body"], "properties": {
                "to": {"type": "string"}, "body": {"type": "string", "maxLength": 1000}}}),
            "responses": {"201": _resp("sent", message), **_errors(400, 401, 422)}},
        "api_message_read": {"tags": ["workspace"], "summary": "Mark one of my messages read",
                             "responses": {"200": _resp("read", message), **_errors(401, 404)}},
    }


def _call_record_operations() -> dict[str, dict]:
    """Call records (webui/callrecords.py)."""
    filters = [{"name": name, "in": "query", "required": False, "description": text, "schema": {"type": "string"}}
               for name, text in (("from", "first day, YYYY-MM-DD (UTC)"), ("to", "last day, YYYY-MM-DD (UTC)"),
                                  ("agent", "work number"), ("queue", "queue name"),
                                  ("number", "the caller's number or the DID dialled"),
                                  ("direction", "inbound, outbound or internal"),
                                  ("disposition", "answered, abandoned, unanswered, fallback or interrupted"))]
    filters += [{"name": "page", "in": "query", "required": False, "schema": {"type": "integer", "minimum": 1}},
                {"name": "per_page", "in": "query", "required": False,
                 "schema": {"type": "integer", "minimum": 1, "maximum": 200, "default": 50}}]
    obj = {"type": "object"}
    mine = " Agents see the calls they took; others are `404`."
    return {
        "api_call_records": {"tags": ["calls"], "summary": "Search call records, newest first, a page at a time",
                             "description": "Each with the agent's disposition (`outcome`) and the recording's "
                                            "state." + mine, "parameters": filters,
                             "responses": {"200": _resp("one page", obj), **_errors(401, 422)}},
        "api_call_record": {"tags": ["calls"], "summary": "One call with its outcomes, customer and recording state",
                            "description": mine.strip(),
                            "responses": {"200": _resp("the call", obj), **_errors(401, 404)}},
    }


def _voicemail_operations() -> dict[str, dict]:
    """Callers' messages (webui/voicemail.py)."""
    message = {"type": "object", "properties": {
        "id": {"type": "integer"}, "linkedid": {"type": "string"}, "caller": {"type": "string"},
        "caller_name": {"type": "string"}, "did": {"type": "string"}, "queue": {"type": "string"},
        "agent": {"type": "string", "description": "the caller's account manager, or empty: for the queue"},
        "reason": {"type": "string", "description": "after-hours, queue-timeout, queue-joinempty..."},
        "created_at": {"type": "string"}, "duration_seconds": {"type": ["number", "null"]},
        "recording": {"type": "string", "description": "the state of its MP3 (complete when playable)"},
        "playable": {"type": "boolean"}, "handled_by": {"type": "string"},
        "handled_at": {"type": ["string", "null"]}, "note": {"type": "string"},
        "customer": {"type": ["object", "null"], "description": "the caller's customer record, if any"}}}
    scoped = " Staff see every message; agents those of their queues and those left for them."
    return {
        "api_voice_messages": {
            "tags": ["voicemail"], "summary": "Messages callers left, newest first",
            "description": "`state`: open (default), handled or all; `queue`: one queue's." + scoped,
            "parameters": [{"name": n, "in": "query", "required": False, "schema": {"type": "string"}}
                           for n in ("state", "queue")],
            "responses": {"200": _resp("messages", _items(message)), **_errors(401, 422)}},
        "api_voice_message": {"tags": ["voicemail"], "summary": "One message",
                              "responses": {"200": _resp("it", message), **_errors(401, 404)}},
        "api_voice_message_audio": {
            "tags": ["voicemail"], "summary": "The message's MP3 (HTTP Range; `?download=1` to save it)",
            "responses": {"200": {"description": "the MP3",
                                  "content": {"audio/mpeg": {"schema": {"type": "string", "format": "binary"}}}},
                          **_errors(401, 404)}},
        "api_voice_message_handled": {
            "tags": ["voicemail"], "summary": "Mark a message handled (who and when are shown to the team)",
            "requestBody": _body({"type": "object", "properties": {"note": {"type": "string", "maxLength": 1000}}}),
            "responses": {"200": _resp("handled", message), **_errors(401, 404, 409, 422)}},
        "api_faxes": {
            "tags": ["fax"], "summary": "Faxes received on fax lines, newest first",
            "description": "`state`: receiving, received (its PDF is there) or failed (`error_code` "
                           "`fax.no_fax`: the call brought no fax, e.g. a voice call; `fax.bad_file`).",
            "responses": {"200": _resp("faxes", _items({"type": "object"})), **_errors(401)}},
        "api_fax_pdf": {
            "tags": ["fax"], "summary": "A fax as PDF: the received pages, or the PDF sent (`?download=1` to save it)",
            "responses": {"200": {"description": "the PDF", "content": {"application/pdf": {
                "schema": {"type": "string", "format": "binary"}}}}, **_errors(401, 404)}},
        "api_fax": {"tags": ["fax"], "summary": "One fax, received or sent",
                    "responses": {"200": _resp("it", {"type": "object"}), **_errors(401, 404)}},
        "api_fax_send": {
            "tags": ["fax"], "summary": "Send a PDF as a fax",
            "description": "`multipart/form-data` with `file` (a PDF, at most 20 MiB) and `number`. The PDF is "
                           "checked (pypdf) and rendered to fax pages at once, one upload at a time (422 `fax.bad_pdf` "
                           "if it cannot be, `fax.too_many_pages`, `fax.too_complex` if drawing it needs more time or "
                           "memory than allowed; 503 `fax.render_busy`), then sent through "
                           "the trunks; `state` queued, sending, sent or failed, tried `max_attempts` times "
                           "(`error_code` `fax.busy`, `fax.no_answer`, `fax.unreachable`, `fax.transmission_failed`). "
                           "A number the sender's calling permission does not allow is 403 `call.not_permitted` "
                           "(audited).",
            "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
                "type": "object", "required": ["file", "number"],
                "properties": {"file": {"type": "string", "format": "binary"}, "number": {"type": "string"}}}}}},
            "responses": {"201": _resp("queued", {"type": "object"}), **_errors(400, 401, 403, 413, 422, 503)}},
    }


def _crm_operations() -> dict[str, dict]:
    """Customer records (webui/crm.py)."""
    customer, history = _ref("Customer"), _ref("HistoryItem")
    follow_up = _ref("FollowUp")
    search = [{"name": name, "in": "query", "required": False, "description": text, "schema": {"type": "string"}}
              for name, text in (("q", "part of a phone number (digits) or of a name"),
                                 ("tag", "customers with this tag"), ("category", "customers in this category"),
                                 ("manager", "the account manager's work number; `-` for customers of nobody"))]
    search += [{"name": "page", "in": "query", "required": False, "schema": {"type": "integer", "minimum": 1}},
               {"name": "per_page", "in": "query", "required": False,
                "schema": {"type": "integer", "minimum": 1, "maximum": 200, "default": 50}}]
    page = {"type": "object", "required": ["items", "total", "page", "pages", "per_page"], "properties": {
        "items": {"type": "array", "items": customer}, "total": {"type": "integer"}, "page": {"type": "integer"},
        "pages": {"type": "integer"}, "per_page": {"type": "integer"}}}
    mine = " An agent sees only the customers they manage; others are `404`."
    return {
        "api_customers": {"tags": ["customers"], "summary": "Search customers, one page at a time",
                          "description": "Newest first; by name when searching by name." + mine,
                          "parameters": search, "responses": {"200": _resp("one page", page), **_errors(401, 422)}},
        "api_customer_create": {"tags": ["customers"], "summary": "Create a customer",
                                "description": "An agent's new customer is theirs (they are its account manager).",
                                "requestBody": _body(_ref("CustomerCreate")),
                                "responses": {"201": _resp("created", customer),
                                              **_errors(400, 401, 403, 409, 422)}},
        "api_customer": {"tags": ["customers"], "summary": "One customer",
                         "description": mine.strip(),
                         "responses": {"200": _resp("the customer", customer), **_errors(401, 404)}},
        "api_customer_update": {"tags": ["customers"], "summary": "Change some fields of a customer",
                                "description": "Custom fields not sent keep their values. Only staff change "
                                               "the account manager." + mine,
                                "requestBody": _body(_ref("CustomerUpdate")),
                                "responses": {"200": _resp("changed", customer),
                                              **_errors(400, 401, 403, 404, 409, 422)}},
        "api_customer_delete": {"tags": ["customers"], "summary": "Delete a customer with its notes and follow-ups",
                                "responses": {"204": _resp("deleted"), **_errors(401, 403, 404)}},
        "api_customer_history": {"tags": ["customers"], "summary": "Contact history: calls and notes, newest first",
                                 "description": "Calls come from the call records, matched on the customer's "
                                                "phone number (with or without +).",
                                 "responses": {"200": _resp("history", _items(history)), **_errors(401, 404)}},
        "api_customer_note_add": {"tags": ["customers"], "summary": "Add a note to the contact history",
                                  "requestBody": _body({"type": "object", "required": ["body"], "properties": {
                                      "body": {"type": "string", "maxLength": 4000},
                                      "linkedid": {"type": "string", "description": "the call it is about"}}}),
                                  "responses": {"201": _resp("saved", history), **_errors(400, 401, 404, 422)}},
        "api_customer_follow_ups": {"tags": ["customers"], "summary": "A customer's follow-ups, open ones first",
                                    "responses": {"200": _resp("follow-ups", _items(follow_up)),
                                                  **_errors(401, 404)}},
        "api_customer_follow_up_add": {"tags": ["customers"], "summary": "Plan a follow-up or call-back",
                                       "description": "For the customer's account manager unless `agent` says "
                                                      "otherwise (staff only).",
                                       "requestBody": _body({"type": "object", "required": ["due_at"], "properties": {
                                           "kind": {"enum": ["follow_up", "call_back"], "default": "follow_up"},
                                           "due_at": {"type": "string", "description": "YYYY-MM-DD HH:MM on the site's clock (its time zone, set in the first-run wizard)"},
                                           "note": {"type": "string", "maxLength": 500},
                                           "agent": {"type": "string", "description": "a work number"}}}),
                                       "responses": {"201": _resp("planned", follow_up),
                                                     **_errors(400, 401, 404, 422)}},
        "api_follow_ups": {"tags": ["customers"], "summary": "Open follow-ups due by your agents (staff: everyone's)",
                           "responses": {"200": _resp("earliest first", _items(follow_up)), **_errors(401)}},
        "api_follow_up_done": {"tags": ["customers"], "summary": "Mark a follow-up done",
                               "responses": {"200": _resp("done", follow_up), **_errors(401, 404)}},
        "api_customers_assign": {"tags": ["customers"], "summary": "Assign customers to an agent, or reclaim them",
                                 "description": "`agent` null: the customers go back to nobody (reclaimed).",
                                 "requestBody": _body({"type": "object", "required": ["customers"], "properties": {
                                     "customers": {"type": "array", "items": {"type": "integer"}},
                                     "agent": {"type": ["string", "null"]}}}),
                                 "responses": {"200": _resp("how many", {"type": "object", "properties": {
                                     "assigned": {"type": "integer"}}}), **_errors(400, 401, 403, 404, 422)}},
        "api_customers_export": {"tags": ["customers"], "summary": "The customers of a search as an Excel file",
                                 "description": "Same filters as the search, every page. Column titles in `lang` "
                                                "(`en` or `zh_CN`); an import takes the file back.",
                                 "parameters": [p for p in search if p["name"] not in ("page", "per_page")] + [
                                     {"name": "lang", "in": "query", "required": False,
                                      "schema": {"enum": ["en", "zh_CN"], "default": "en"}}],
                                 "responses": {"200": {"description": "the workbook", "content": {
                                     "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {
                                         "schema": {"type": "string", "contentMediaType": "application/octet-stream"}}}},
                                     **_errors(401, 403)}},
        "api_customers_import": {"tags": ["customers"], "summary": "Check, and with confirm=1 import, an Excel file",
                                 "description": "The whole file is checked first (columns, every row, phones twice "
                                                "in the file or already customers); with any problem nothing is "
                                                "imported and the 422 carries the `report`. With `confirm=1` a file "
                                                "without problems is imported in one transaction. A file that is no "
                                                "workbook is 422 `import.not_xlsx`; over the caps (200,000 rows, "
                                                "5,000,000 cells, a zip that unpacks too far) `import.too_many_rows`, "
                                                "`import.too_many_cells`, `import.too_large`.",
                                 "parameters": [{"name": "confirm", "in": "query", "required": False,
                                                 "schema": {"enum": ["0", "1"], "default": "0"}}],
                                 "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
                                     "type": "object", "required": ["file"], "properties": {
                                         "file": {"type": "string", "contentMediaType": "application/octet-stream"}}}}}},
                                 "responses": {"200": _resp("checked (and imported)", {"type": "object", "properties": {
                                     "report": _ref("ImportReport"), "imported": {"type": "integer"}}}),
                                     **_errors(401, 403, 422)}},
        "api_customers_transfer": {"tags": ["customers"], "summary": "Transfer every customer of one agent to another",
                                   "requestBody": _body({"type": "object", "required": ["from", "to"], "properties": {
                                       "from": {"type": "string"}, "to": {"type": "string"}}}),
                                   "responses": {"200": _resp("how many", {"type": "object", "properties": {
                                       "transferred": {"type": "integer"}}}), **_errors(400, 401, 403, 422)}},
    }


def _wallboard_operations() -> dict[str, dict]:
    """The supervisor's wallboard (webui/wallboard.py)."""
    return {
        "api_wallboard": {
            "tags": ["live"], "summary": "The wallboard: live queues, agents, calls and trunks with today's figures",
            "description": "Staff only. Every configured queue with its live waiting callers, longest wait and "
                           "available agents, and today's figures from the call records since local midnight "
                           "(the `timezone` setting): `offered` (calls that entered the queue), `answered`, "
                           "`answered_in_time` (within the queue's `service_level_seconds`), `abandoned` (the "
                           "caller hung up while waiting), `service_level` (answered in time / offered, null "
                           "when nothing was offered) and `average_answer_seconds`; `totals` over all queues; "
                           "the live agents and calls as in GET /api/v1/live; each trunk's current calls "
                           "against its `max_channels` (0: no limit).",
            "responses": {"200": _resp("the wallboard", _ref("Wallboard")), **_errors(401, 403)}},
    }


def _wallboard_schema() -> dict:
    figures = {"offered": {"type": "integer"}, "answered": {"type": "integer"},
               "answered_in_time": {"type": "integer"}, "abandoned": {"type": "integer"},
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
            "kind": {"enum": ["call", "note"]}, "at": {"type": "string", "description": "UTC"},
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
}


def _parameter(name: str, kind: str | None) -> dict:
    if name == "key" and kind:
        description = f"the {SINGULAR[kind]}'s {KEYS[kind]}"
    else:
        description = PARAMETERS.get(name, name)
    return {"name": name, "in": "path", "required": True, "description": description,
            "schema": {"type": "integer" if name.endswith("_id") else "string"}}


def build(app, config, crm=None) -> dict:
    ops = {**_operations(), **_crm_operations(), **_workspace_operations(), **_call_record_operations(),
           **_wallboard_operations(), **_voicemail_operations()}
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
            "error_id": {"type": "string", "description": "on a 500: the id under which the log has the details"},
            "params": {"type": "object", "additionalProperties": {"type": "string"},
                       "description": "what the error's sentence names, e.g. `{\"number_class\": \"international\"}` "
                                      "for `call.not_permitted`"}}},
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
                 {"name": "sip"}],
        "paths": dict(sorted(paths.items())),
        "components": {
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"},
                                "cookieAuth": {"type": "apiKey", "in": "cookie", "name": "cc_session"}},
            "schemas": schemas,
        },
    }
