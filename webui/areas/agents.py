"""Agents at work: signing in and out, pause, click-to-dial, transfer, consult, hold,
recording control; and the supervisor's functions on live calls (listen, intercept, pick
up, hang up).  A user with the agent role acts only for their own agents (``own_agent_only``).
"""

from __future__ import annotations

import bottle
from bottle import request

from appliance.errors import Unavailable, ValidationError
from webui.http import EVERYONE, STAFF, actor, json_body, own_agent_only, safe_next

# Call-control steps on an agent's current call: URL path -> CallControl method (and route name).
CALL_ACTIONS = (("hold", "hold"), ("unhold", "unhold"), ("consult/complete", "complete_transfer"),
                ("consult/cancel", "cancel_consult"), ("conference", "conference"), ("hangup", "end_call"))


def install(app, deps) -> None:
    @app.post("/agents/<number>/<action:re:login|logout>", name="agent_sign", roles=EVERYONE)
    def agent_sign(number, action):
        own_agent_only(number)
        getattr(deps.agents, action)(number)
        bottle.redirect(safe_next(request.forms.getunicode("next")))


    @app.post("/api/v1/agents/<number>/login", name="api_agent_login", roles=EVERYONE)
    def api_agent_login(number):
        own_agent_only(number)
        mode = json_body(optional=True).get("mode") or "ring"
        if mode == "long":
            return deps.agents.call_for_long_signin(number)
        return deps.agents.login(number, mode=mode)

    @app.post("/api/v1/agents/<number>/logout", name="api_agent_logout", roles=EVERYONE)
    def api_agent_logout(number):
        own_agent_only(number)
        return deps.agents.logout(number)

    @app.post("/api/v1/agents/<number>/pause", name="api_agent_pause", roles=EVERYONE)
    def api_agent_pause(number):
        own_agent_only(number)
        reason = json_body().get("reason")
        if not isinstance(reason, str) or not reason:
            raise ValidationError("say why the agent pauses", fields={"reason": "required"})
        return deps.agents.pause(number, reason)

    @app.post("/api/v1/agents/<number>/unpause", name="api_agent_unpause", roles=EVERYONE)
    def api_agent_unpause(number):
        own_agent_only(number)
        return deps.agents.unpause(number)

    def call_control():
        if deps.calls is None:
            raise Unavailable("call control is not available in this process", code="calls.unavailable")
        return deps.calls

    @app.post("/api/v1/agents/<number>/dial", name="api_agent_dial", roles=EVERYONE)
    def api_agent_dial(number):
        own_agent_only(number)
        return call_control().dial(number, str(json_body().get("number") or ""), actor=actor())

    def agent_target_action(method: str) -> None:
        """``POST /api/v1/agents/<number>/<method>`` with ``to_kind`` and ``to``: transfer or consult."""
        def handler(number):
            own_agent_only(number)
            body = json_body()
            return getattr(call_control(), method)(number, str(body.get("to_kind") or ""),
                                                   str(body.get("to") or ""), actor=actor())
        app.route(f"/api/v1/agents/<number>/{method}", "POST", handler, name=f"api_agent_{method}", roles=EVERYONE)

    for method in ("transfer", "consult"):
        agent_target_action(method)

    def agent_call_action(path: str, method: str) -> None:
        """``POST /api/v1/agents/<number>/<path>``: one call-control step on the agent's call."""
        def handler(number):
            own_agent_only(number)
            return getattr(call_control(), method)(number, actor=actor())
        app.route(f"/api/v1/agents/<number>/{path}", "POST", handler, name=f"api_agent_{method}", roles=EVERYONE)

    for path, method in CALL_ACTIONS:
        agent_call_action(path, method)

    def recordings():
        if deps.recordings is None:
            raise Unavailable("recordings are not available in this process", code="recording.unavailable")
        return deps.recordings

    @app.post("/api/v1/agents/<number>/recording/<action:re:pause|resume|start|stop>", name="api_agent_recording", roles=EVERYONE)
    def api_agent_recording(number, action):
        own_agent_only(number)
        return recordings().control(number, action, actor=actor())

    @app.post("/api/v1/agents/<number>/spy", name="api_agent_spy", roles=STAFF)
    def api_agent_spy(number):
        body = json_body()
        return call_control().spy(number, str(body.get("phone") or ""), str(body.get("mode") or "listen"),
                                  actor=actor())

    @app.post("/api/v1/calls/<linkedid>/intercept", name="api_call_intercept", roles=STAFF)
    def api_call_intercept(linkedid):
        return call_control().intercept(linkedid, str(json_body().get("phone") or ""), actor=actor())

    @app.post("/api/v1/calls/<linkedid>/pickup", name="api_call_pickup", roles=EVERYONE)
    def api_call_pickup(linkedid):
        agent = str(json_body().get("agent") or "")
        own_agent_only(agent)
        return call_control().pickup(agent, linkedid, actor=actor())

    @app.post("/api/v1/calls/<linkedid>/hangup", name="api_call_hangup", roles=STAFF)
    def api_call_hangup(linkedid):
        return call_control().hangup(linkedid, actor=actor())

