"""Callers' messages in the web UI and the API: the team's list (open and handled), each
with its player, the caller's customer record, a call-back button (click-to-dial through
``POST /api/v1/agents/<n>/dial``) and "handled", whose who-and-when the whole team sees.

Staff see every message; an agent those of their queues and those left for them.
Registered by ``install`` from ``make_app``; roles declared on each route.
"""

from __future__ import annotations

import bottle
from bottle import request

from appliance.errors import FieldError, Unavailable
from appliance.services.voicemail import STATES
from webui.apidoc import Operation, body, errors, items, resp
from webui.http import EVERYONE, agent_directory, current_user, json_body, render, safe_next, viewer
from webui.areas.recordings import send_mp3


# -- schemas the API descriptions below share ----------------------------------------------
MESSAGE_SCHEMA = {"type": "object", "properties": {
    "id": {"type": "integer"}, "linkedid": {"type": "string"}, "caller": {"type": "string"},
    "caller_name": {"type": "string"}, "did": {"type": "string"}, "queue": {"type": "string"},
    "agent": {"type": "string", "description": "the caller's account manager, or empty: for the queue"},
    "reason": {"type": "string", "description": "after-hours, queue-timeout, queue-joinempty..."},
    "created_at": {"type": "string"}, "duration_seconds": {"type": ["number", "null"]},
    "recording": {"type": "string", "description": "the state of its MP3 (complete when playable)"},
    "playable": {"type": "boolean"}, "handled_by": {"type": "string"},
    "handled_at": {"type": ["string", "null"]}, "note": {"type": "string"},
    "customer": {"type": ["object", "null"], "description": "the caller's customer record, if any"}}}
SCOPE_NOTE = " Staff see every message; agents those of their queues and those left for them."


def install(app, deps) -> None:
    def service():
        if deps.voicemail is None:
            raise Unavailable(FieldError("error.msg.voicemail_unavailable", "messages are not available in this process"),
                              code="voicemail.unavailable")
        return deps.voicemail

    def scope() -> tuple[set, set] | None:
        me = viewer()
        if me.staff:
            return None
        mine = [a for a in agent_directory().all() if a["number"] in me.agents]
        return {a["number"] for a in mine}, {q for a in mine for q in a.get("queues") or []}

    def my_agent() -> str | None:
        mine = sorted(viewer().agents)
        return mine[0] if mine else None

    @app.get("/voicemail", name="voicemail", roles=EVERYONE)
    def voicemail_page():
        state = request.query.get("state") or "open"
        queue = request.query.getunicode("queue") or ""
        items = service().search(state=state, queue=queue, scope=scope())
        return render("voicemail.tpl", items=items, state=state, queue=queue, states=STATES, my_agent=my_agent(),
                      queues=[q["name"] for q in deps.config.list("queues")])

    @app.post("/voicemail/<message_id:int>/handled", name="voicemail_handled", roles=EVERYONE)
    def voicemail_handled(message_id):
        service().handled(message_id, current_user()["username"], request.forms.getunicode("note") or "", scope())
        bottle.redirect(safe_next(request.forms.getunicode("next"), "/voicemail"))

    @app.get("/api/v1/voice-messages", name="api_voice_messages", scope="recordings:read", roles=EVERYONE,
             api=Operation({
         "tags": ["voicemail"], "summary": "Messages callers left, newest first",
         "description": "`state`: open (default), handled or all; `queue`: one queue's." + SCOPE_NOTE,
         "parameters": [{"name": n, "in": "query", "required": False, "schema": {"type": "string"}}
                        for n in ("state", "queue")],
         "responses": {"200": resp("messages", items(MESSAGE_SCHEMA)), **errors(401, 422)}}))
    def api_voice_messages():
        q = request.query
        return {"items": service().search(state=q.get("state") or "open", queue=q.getunicode("queue") or "",
                                          scope=scope())}

    @app.get("/api/v1/voice-messages/<message_id:int>", name="api_voice_message",
             scope="recordings:read", roles=EVERYONE,
             api=Operation({"tags": ["voicemail"], "summary": "One message",
                            "responses": {"200": resp("it", MESSAGE_SCHEMA), **errors(401, 404)}}))
    def api_voice_message(message_id):
        return service().get(message_id, scope())

    @app.get("/api/v1/voice-messages/<message_id:int>/audio", name="api_voice_message_audio",
             scope="recordings:read", roles=EVERYONE,
             api=Operation({
    "tags": ["voicemail"], "summary": "The message's MP3 (HTTP Range; `?download=1` to save it)",
    "responses": {"200": {"description": "the MP3",
                          "content": {"audio/mpeg": {"schema": {"type": "string", "format": "binary"}}}},
                  **errors(401, 404)}}))
    def api_voice_message_audio(message_id):
        path = service().audio_file(message_id, scope())
        return send_mp3(path, f"message-{message_id}.mp3" if request.query.get("download") else None,
                        "recording.file_missing")

    @app.post("/api/v1/voice-messages/<message_id:int>/handled", name="api_voice_message_handled",
              scope="calls:control", roles=EVERYONE,
              api=Operation({
   "tags": ["voicemail"], "summary": "Mark a message handled (who and when are shown to the team)",
   "requestBody": body({"type": "object", "properties": {"note": {"type": "string", "maxLength": 1000}}}),
   "responses": {"200": resp("handled", MESSAGE_SCHEMA), **errors(401, 404, 409, 422)}}))
    def api_voice_message_handled(message_id):
        body = json_body(optional=True)
        return service().handled(message_id, current_user()["username"], str(body.get("note") or ""), scope())
