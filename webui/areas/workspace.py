"""The agent workspace: the page an agent keeps open all day (toolbar, screen pop, the
note and disposition for each call, missed calls, messages) and the API behind it.

The toolbar drives the engine through the agent API of webui/areas/agents.py (sign in, pause,
dial, hold, transfer, consult, three-way, hang up); this module adds what the engine does
not know: the screen pop's customer and history, outcomes, missed calls and messages.
Registered by ``install`` from ``make_app``; roles declared on each route.
"""

from __future__ import annotations

from bottle import request

from appliance.errors import ValidationError
from webui import i18n
from webui.http import EVERYONE, agent_directory, created, current_user, json_body, lang, own_agent_only, render, viewer

MISSED_DAYS = 7
JS_PREFIXES = ("ws.", "agent_state.", "call_state.", "direction.", "disposition.")


def install(app, deps) -> None:
    service = deps.workspace

    def my_agents() -> list[dict]:
        me = viewer()
        mine = [a for a in agent_directory().all() if a["number"] in me.agents]
        if mine or me.role == "agent":
            return mine
        return agent_directory().all()  # staff without an agent of their own may act for any

    def live_calls() -> list[dict]:
        try:
            return deps.live().get("calls") or []
        except Exception:  # the engine not running: outcomes of ended calls still save
            return []

    @app.get("/workspace", name="workspace", roles=EVERYONE)
    def workspace_page():
        agents = my_agents()
        chosen = request.query.get("agent") or (agents[0]["number"] if agents else "")
        agent = next((a for a in agents if a["number"] == chosen), None)
        reasons = deps.config.list("pause_reasons")
        catalog = i18n.catalog(lang())
        js = {k: v for k, v in catalog.items() if k.startswith(JS_PREFIXES)}
        return render("workspace.tpl", js_messages=js, js_ids=set(js), agents=agents, agent=agent, dispositions=service.dispositions(),
                      pause_reasons=[r for r in reasons if r.get("code") != "missed-calls"],
                      queues=[q["name"] for q in deps.config.list("queues")],
                      recipients=[r for r in service.recipients() if r["username"] != current_user()["username"]])

    @app.get("/api/v1/workspace/pop", name="api_workspace_pop", roles=EVERYONE)
    def api_workspace_pop():
        number = (request.query.get("number") or "").strip()
        if not number or len(number) > 40:
            raise ValidationError("give the caller's number", fields={"number": "required, at most 40 characters"})
        return service.pop(number, lang(), viewer(), live_calls())

    @app.get("/api/v1/dispositions", name="api_dispositions", roles=EVERYONE)
    def api_dispositions():
        return {"items": service.dispositions()}

    @app.post("/api/v1/agents/<number>/calls/<linkedid>/outcome", name="api_call_outcome", roles=EVERYONE)
    def api_call_outcome(number, linkedid):
        own_agent_only(number)
        return service.save_outcome(number, linkedid, json_body(), current_user()["username"], live_calls())

    @app.get("/api/v1/agents/<number>/missed", name="api_agent_missed", roles=EVERYONE)
    def api_agent_missed(number):
        own_agent_only(number)
        agent = deps.config.get("agents", number)
        return {"items": deps.queries.run(service.missed, agent.get("queues") or [], days=MISSED_DAYS),
                "days": MISSED_DAYS}

    @app.get("/api/v1/messages", name="api_messages", roles=EVERYONE)
    def api_messages():
        return {"items": service.inbox(current_user()["username"])}

    @app.post("/api/v1/messages", name="api_message_send", roles=EVERYONE)
    def api_message_send():
        body = json_body()
        return created(service.send(current_user()["username"], body.get("to"), body.get("body")))

    @app.post("/api/v1/messages/<message_id:int>/read", name="api_message_read", roles=EVERYONE)
    def api_message_read(message_id):
        return service.mark_read(current_user()["username"], message_id)
