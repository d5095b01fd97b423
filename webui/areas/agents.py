"""Agents at work: signing in and out, pause, click-to-dial, transfer, consult, hold,
recording control; and the supervisor's functions on live calls (listen, intercept, pick
up, hang up).  A user with the agent role acts only for their own agents (``own_agent_only``).
"""

from __future__ import annotations

import bottle
from bottle import request

from appliance.errors import Conflict, FieldError, Unavailable, ValidationError
from webui.apidoc import Operation, body, errors, resp
from webui.http import EVERYONE, STAFF, actor, json_body, own_agent_only, safe_next, viewer

# Call-control steps on an agent's current call: URL path -> CallControl method (and route name).
CALL_ACTIONS = (("hold", "hold"), ("unhold", "unhold"), ("consult/complete", "complete_transfer"),
                ("consult/cancel", "cancel_consult"), ("conference", "conference"), ("hangup", "end_call"))



def call_step(summary: str, done: str, description: str = "") -> dict:
    """One call-control step on an agent's call: no body, 409 when the call is not in the right state."""
    op = {"tags": ["agents"], "summary": summary,
          "responses": {"200": resp(done, {"type": "object"}), **errors(401, 403, 409, 503)}}
    if description:
        op["description"] = description
    return op


# The operations of the call-control routes made in a loop below, by the route's method.
STEP_OPERATIONS = {
        "transfer": Operation({"tags": ["agents"], "summary": "Blind transfer of the agent's current call",
                               "description": "The customer goes to a queue, to another agent (rung alone if "
                                              "free, else their first queue) or out to a number; the agent's "
                                              "leg is released. A number the agent's calling permission does "
                                              "not allow is 403 `call.not_permitted` (audited).",
                               "requestBody": body({"type": "object", "required": ["to_kind", "to"], "properties": {
                                   "to_kind": {"enum": ["queue", "agent", "number"]}, "to": {"type": "string"}}}),
                               "responses": {"200": resp("transferred", {"type": "object"}),
                                             **errors(400, 401, 403, 409, 422, 503)}}),
        "consult": Operation({"tags": ["agents"], "summary": "Consult another agent or a number",
                              "description": "The customer is held; the agent's phone calls the other party. "
                                             "Then: `consult/complete` (attended transfer), `consult/cancel` "
                                             "(back to the customer) or `conference` (three-way call). A "
                                             "number the agent's calling permission does not allow is 403 "
                                             "`call.not_permitted` (audited).",
                              "requestBody": body({"type": "object", "required": ["to_kind", "to"], "properties": {
                                  "to_kind": {"enum": ["agent", "number"]}, "to": {"type": "string"}}}),
                              "responses": {"200": resp("calling", {"type": "object"}),
                                            **errors(400, 401, 403, 409, 422, 503)}}),
        "hold": Operation(call_step("Put the agent's call on hold", "held",
                                     "The customer hears music on hold; the agent's phone stays connected "
                                     "in silence. Agents may act only on their own calls.")),
        "unhold": Operation(call_step("Take the agent's call off hold", "talking again")),
        "complete_transfer": Operation(call_step("Attended transfer: hand the customer over", "transferred",
                                                  "The customer goes on with the party the agent consulted "
                                                  "(who must have answered); the agent's leg is released.")),
        "cancel_consult": Operation(call_step("Hang up on the consulted party", "back with the customer",
                                               "The agent is put back with the held customer.")),
        "conference": Operation(call_step("Three-way call", "in conference",
                                           "The customer, the agent and the consulted party (who must have "
                                           "answered) meet in one conference; anyone may leave.")),
        "end_call": Operation(call_step("Hang up the agent's call", "hung up",
                                         "Ends the whole call. An agent signed in for the shift stays "
                                         "connected for the next call.")),
    }


# -- schemas the API descriptions below share ----------------------------------------------
SIGNED_SCHEMA = {"type": "object", "required": ["agent", "logged_in"], "properties": {
    "agent": {"type": "string"}, "logged_in": {"type": "boolean"}, "mode": {"enum": ["ring", "long"]},
    "phone_ringing": {"type": "boolean"}, "queues": {"type": "array", "items": {"type": "string"}}}}


def install(app, deps) -> None:
    @app.post("/agents/<number>/<action:re:login|logout>", name="agent_sign", roles=EVERYONE)
    def agent_sign(number, action):
        own_agent_only(number)
        getattr(deps.agents, action)(number)
        bottle.redirect(safe_next(request.forms.getunicode("next")))


    @app.post("/api/v1/agents/<number>/login", name="api_agent_login", scope="calls:control", roles=EVERYONE,
              api=Operation({"tags": ["agents"], "summary": "Sign an agent in to all their queues",
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
                             "responses": {"200": resp("signed in (or the phone is ringing)", SIGNED_SCHEMA),
                                           **errors(400, 401, 403, 404, 422, 503)}}))
    def api_agent_login(number):
        own_agent_only(number)
        mode = json_body(optional=True).get("mode") or "ring"
        if mode == "long":
            return deps.agents.call_for_long_signin(number)
        return deps.agents.login(number, mode=mode)

    @app.post("/api/v1/agents/<number>/logout", name="api_agent_logout", scope="calls:control", roles=EVERYONE,
              api=Operation({"tags": ["agents"], "summary": "Sign an agent out of all their queues",
                             "responses": {"200": resp("signed out", SIGNED_SCHEMA), **errors(401, 403, 404, 503)}}))
    def api_agent_logout(number):
        own_agent_only(number)
        return deps.agents.logout(number)

    @app.post("/api/v1/agents/<number>/pause", name="api_agent_pause", scope="calls:control", roles=EVERYONE,
              api=Operation({"tags": ["agents"], "summary": "Pause a signed-in agent, with a reason code",
                             "description": "The reason is one of the pause reasons (GET /api/v1/pause_reasons). "
                                            "The pause holds across restarts until unpaused.",
                             "requestBody": body({"type": "object", "required": ["reason"], "properties": {
                                 "reason": {"type": "string", "description": "a pause reason code"}}}),
                             "responses": {"200": resp("paused", {"type": "object", "properties": {
                                 "agent": {"type": "string"}, "paused": {"type": "boolean"},
                                 "reason": {"type": "string"}}}), **errors(400, 401, 403, 404, 422, 503)}}))
    def api_agent_pause(number):
        own_agent_only(number)
        reason = json_body().get("reason")
        if not isinstance(reason, str) or not reason:
            raise ValidationError(FieldError("error.msg.pause_reason_missing", "say why the agent pauses"),
                                  fields={"reason": FieldError("field.required", "required")})
        return deps.agents.pause(number, reason)

    def awaiting_disposition(number: str) -> bool:
        try:
            agents = deps.live().get("agents") or []
        except Exception:  # the engine not running: nothing holds anyone
            return False
        return any(a.get("name") == number and a.get("awaiting_disposition") for a in agents)

    @app.post("/api/v1/agents/<number>/unpause", name="api_agent_unpause", scope="calls:control", roles=EVERYONE,
              api=Operation({"tags": ["agents"], "summary": "Make a paused agent available again",
                             "description": "An agent held in wrap-up until they save the disposition their "
                                            "queue requires is 409 `agent.disposition_first` (staff may release "
                                            "them).",
                             "responses": {"200": resp("available", {"type": "object", "properties": {
                                 "agent": {"type": "string"}, "paused": {"type": "boolean"}}}),
                                 **errors(401, 403, 404, 409, 422, 503)}}))
    def api_agent_unpause(number):
        own_agent_only(number)
        if not viewer().staff and awaiting_disposition(number):
            raise Conflict(f"agent {number} saves the last call's disposition first", code="agent.disposition_first")
        return deps.agents.unpause(number)

    def call_control():
        if deps.calls is None:
            raise Unavailable(FieldError("error.msg.calls_unavailable", "call control is not available in this process"),
                              code="calls.unavailable")
        return deps.calls

    @app.post("/api/v1/agents/<number>/dial", name="api_agent_dial", scope="calls:control", roles=EVERYONE,
              api=Operation({"tags": ["agents"], "summary": "Click-to-dial: call a number for an agent",
                             "description": "The agent's phone rings first; when they answer, the number is "
                                            "dialled through the trunks in their outbound order. Agents may dial "
                                            "only for themselves. Outbound compliance decides first: a number "
                                            "the agent's calling permission does not allow is 403 "
                                            "`call.not_permitted`; the blacklist, the do-not-call list and the "
                                            "calling window are 403 `compliance.blacklist`, `compliance.dnc`, "
                                            "`compliance.window`; all outbound trunks full or the caller-ID "
                                            "pool used up 503 `compliance.trunks_full`, "
                                            "`compliance.callerid_pool` (each recorded as a refused call). "
                                            "`override_window` lets a supervisor or admin call outside the "
                                            "window (logged); it is ignored for agents.",
                             "requestBody": body({"type": "object", "required": ["number"], "properties": {
                                 "number": {"type": "string", "pattern": "^\\+?[0-9 -]{3,40}$"},
                                 "override_window": {"type": "boolean", "default": False}}}),
                             "responses": {"200": resp("the agent's phone is ringing", {"type": "object"}),
                                           **errors(400, 401, 403, 404, 422, 503)}}))
    def api_agent_dial(number):
        own_agent_only(number)
        data = json_body()
        return call_control().dial(number, str(data.get("number") or ""), actor=actor(),
                                   override_window=data.get("override_window") is True)

    def agent_target_action(method: str) -> None:
        """``POST /api/v1/agents/<number>/<method>`` with ``to_kind`` and ``to``: transfer or consult."""
        def handler(number):
            own_agent_only(number)
            body = json_body()
            return getattr(call_control(), method)(number, str(body.get("to_kind") or ""),
                                                   str(body.get("to") or ""), actor=actor())
        app.route(f"/api/v1/agents/<number>/{method}", "POST", handler, name=f"api_agent_{method}", roles=EVERYONE,
                  scope="calls:control", api=STEP_OPERATIONS[method])

    for method in ("transfer", "consult"):
        agent_target_action(method)

    def agent_call_action(path: str, method: str) -> None:
        """``POST /api/v1/agents/<number>/<path>``: one call-control step on the agent's call."""
        def handler(number):
            own_agent_only(number)
            return getattr(call_control(), method)(number, actor=actor())
        app.route(f"/api/v1/agents/<number>/{path}", "POST", handler, name=f"api_agent_{method}", roles=EVERYONE,
                  scope="calls:control", api=STEP_OPERATIONS[method])

    for path, method in CALL_ACTIONS:
        agent_call_action(path, method)

    def recordings():
        if deps.recordings is None:
            raise Unavailable(FieldError("error.msg.recordings_unavailable", "recordings are not available in this process"),
                              code="recording.unavailable")
        return deps.recordings

    @app.post("/api/v1/agents/<number>/recording/<action:re:pause|resume|start|stop>", name="api_agent_recording",
              scope="calls:control", roles=EVERYONE,
              api=Operation({
         "tags": ["recordings"], "summary": "Pause, resume, start or stop the recording of the agent's call",
         "description": "`pause`/`resume`: e.g. while a card number is read out (silence is recorded, so "
                        "the file keeps the call's timeline). `start`: record a call the policy left "
                        "unrecorded (`no`/`dontcare`). `stop`: refused (`recording.forced`) when a setting "
                        "says `force`; nothing can start a call a setting says `never` for "
                        "(`recording.not_possible`). Agents may act only on their own calls.",
         "responses": {"200": resp("done", {"type": "object", "properties": {
             "linkedid": {"type": "string"}, "recording": {"enum": ["recording", "paused", "standby", "stopped"]},
             "forced": {"type": "boolean"}}}), **errors(401, 403, 409, 503)}}))
    def api_agent_recording(number, action):
        own_agent_only(number)
        return recordings().control(number, action, actor=actor())

    @app.post("/api/v1/agents/<number>/spy", name="api_agent_spy", scope="calls:control", roles=STAFF,
              api=Operation({"tags": ["supervisor"], "summary": "Listen to, whisper to or barge into an agent's call",
                             "description": "Rings `phone` (the supervisor's extension); once answered it is "
                                            "connected to the agent's call: `listen` hears both sides and is not "
                                            "heard, `whisper` is heard by the agent only, `barge` by both sides.",
                             "requestBody": body({"type": "object", "required": ["phone"], "properties": {
                                 "phone": {"type": "string", "description": "the supervisor's extension"},
                                 "mode": {"enum": ["listen", "whisper", "barge"], "default": "listen"}}}),
                             "responses": {"200": resp("the supervisor's phone is ringing", {"type": "object"}),
                                           **errors(400, 401, 403, 409, 422, 503)}}))
    def api_agent_spy(number):
        body = json_body()
        return call_control().spy(number, str(body.get("phone") or ""), str(body.get("mode") or "listen"),
                                  actor=actor())

    @app.post("/api/v1/calls/<linkedid>/intercept", name="api_call_intercept", scope="calls:control", roles=STAFF,
              api=Operation({"tags": ["supervisor"], "summary": "Take a live call over",
                             "description": "The customer is put through to `phone` (the supervisor's "
                                            "extension); the agent's leg is released.",
                             "requestBody": body({"type": "object", "required": ["phone"], "properties": {
                                 "phone": {"type": "string"}}}),
                             "responses": {"200": resp("put through", {"type": "object"}),
                                           **errors(400, 401, 403, 404, 422, 503)}}))
    def api_call_intercept(linkedid):
        return call_control().intercept(linkedid, str(json_body().get("phone") or ""), actor=actor())

    @app.post("/api/v1/calls/<linkedid>/pickup", name="api_call_pickup", scope="calls:control", roles=EVERYONE,
              api=Operation({"tags": ["agents"], "summary": "Pick up a call waiting in a queue or ringing elsewhere",
                             "description": "The agent is rung alone; if they do not answer the call goes back "
                                            "to its queue. Agents may pick up only for themselves.",
                             "requestBody": body({"type": "object", "required": ["agent"], "properties": {
                                 "agent": {"type": "string"}}}),
                             "responses": {"200": resp("ringing the agent", {"type": "object"}),
                                           **errors(400, 401, 403, 404, 409, 422, 503)}}))
    def api_call_pickup(linkedid):
        agent = str(json_body().get("agent") or "")
        own_agent_only(agent)
        return call_control().pickup(agent, linkedid, actor=actor())

    @app.post("/api/v1/calls/<linkedid>/hangup", name="api_call_hangup", scope="calls:control", roles=STAFF,
              api=Operation({"tags": ["supervisor"], "summary": "Force hang-up of a live call",
                             "responses": {"200": resp("hung up", {"type": "object"}),
                                           **errors(401, 403, 404, 503)}}))
    def api_call_hangup(linkedid):
        return call_control().hangup(linkedid, actor=actor())

