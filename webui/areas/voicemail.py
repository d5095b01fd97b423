"""Callers' messages in the web UI and the API: the team's list (open and handled), each
with its player, the caller's customer record, a call-back button (click-to-dial through
``POST /api/v1/agents/<n>/dial``) and "handled", whose who-and-when the whole team sees.

Staff see every message; an agent those of their queues and those left for them.
Registered by ``install`` from ``make_app``; roles declared on each route.
"""

from __future__ import annotations

import bottle
from bottle import request

from appliance.errors import Unavailable
from appliance.services.voicemail import STATES
from webui.http import EVERYONE, agent_directory, current_user, json_body, render, safe_next, viewer
from webui.areas.recordings import send_mp3


def install(app, deps) -> None:
    def service():
        if deps.voicemail is None:
            raise Unavailable("messages are not available in this process", code="voicemail.unavailable")
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

    @app.get("/api/v1/voice-messages", name="api_voice_messages", roles=EVERYONE)
    def api_voice_messages():
        q = request.query
        return {"items": service().search(state=q.get("state") or "open", queue=q.getunicode("queue") or "",
                                          scope=scope())}

    @app.get("/api/v1/voice-messages/<message_id:int>", name="api_voice_message", roles=EVERYONE)
    def api_voice_message(message_id):
        return service().get(message_id, scope())

    @app.get("/api/v1/voice-messages/<message_id:int>/audio", name="api_voice_message_audio", roles=EVERYONE)
    def api_voice_message_audio(message_id):
        path = service().audio_file(message_id, scope())
        return send_mp3(path, f"message-{message_id}.mp3" if request.query.get("download") else None,
                        "recording.file_missing")

    @app.post("/api/v1/voice-messages/<message_id:int>/handled", name="api_voice_message_handled", roles=EVERYONE)
    def api_voice_message_handled(message_id):
        body = json_body(optional=True)
        return service().handled(message_id, current_user()["username"], str(body.get("note") or ""), scope())
