"""The agent workspace: the page an agent keeps open all day (toolbar, screen pop, the
note and disposition for each call, missed calls, messages) and the API behind it.

The toolbar drives the engine through the agent API of webui/app.py (sign in, pause,
dial, hold, transfer, consult, three-way, hang up); this module adds what the engine does
not know: the screen pop's customer and history, outcomes, missed calls and messages.
Registered by ``install`` from ``make_app``; roles in ``plugins.ROUTE_ROLES``.
"""

from __future__ import annotations

from bottle import request

from appliance.errors import ValidationError
from appliance.services.crm import Viewer
from webui import i18n
from webui.app import _lang, created, json_body, render
from webui.plugins import current_user

MISSED_DAYS = 7
JS_PREFIXES = ("ws.", "agent_state.", "call_state.", "direction.", "disposition.")


def install(app, deps, directory, own_agent_only) -> None:
    service = deps.workspace

    def my_agents() -> list[dict]:
        user = current_user()
        mine = directory.of_user(user["username"])
        if mine or user["role"] == "agent":
            return mine
        return directory.all()  # staff without an agent of their own may act for any

    def live_calls() -> list[dict]:
        try:
            return deps.live().get("calls") or []
        except Exception:  # the engine not running: outcomes of ended calls still save
            return []

    @app.get("/workspace", name="workspace")
    def workspace_page():
        agents = my_agents()
        chosen = request.query.get("agent") or (agents[0]["number"] if agents else "")
        agent = next((a for a in agents if a["number"] == chosen), None)
        reasons = deps.config.list("pause_reasons")
        catalog = i18n.catalog(_lang())
        js = {k: v for k, v in catalog.items() if k.startswith(JS_PREFIXES)}
        return render("workspace.tpl", js_messages=js, js_ids=set(js), agents=agents, agent=agent, dispositions=service.dispositions(),
                      pause_reasons=[r for r in reasons if r.get("code") != "missed-calls"],
                      queues=[q["name"] for q in deps.config.list("queues")],
                      recipients=[r for r in service.recipients() if r["username"] != current_user()["username"]])

    @app.get("/api/v1/workspace/pop", name="api_workspace_pop")
    def api_workspace_pop():
        number = (request.query.get("number") or "").strip()
        if not number or len(number) > 40:
            raise ValidationError("give the caller's number", fields={"number": "required, at most 40 characters"})
        customer = request.query.get("customer") or ""  # the call event's lookup (0: none)
        if customer and not (customer.isdigit() and len(customer) <= 12):
            raise ValidationError("customer is the id a call event carried", fields={"customer": "a whole number"})
        user = current_user()
        mine = frozenset(a["number"] for a in directory.of_user(user["username"]))
        return service.pop(number, _lang(), Viewer(user["username"], user["role"], mine), live_calls(),
                           customer_id=int(customer) if customer else None)

    @app.get("/api/v1/dispositions", name="api_dispositions")
    def api_dispositions():
        return {"items": service.dispositions()}

    @app.post("/api/v1/agents/<number>/calls/<linkedid>/outcome", name="api_call_outcome")
    def api_call_outcome(number, linkedid):
        own_agent_only(number)
        return service.save_outcome(number, linkedid, json_body(), current_user()["username"], live_calls())

    @app.get("/api/v1/agents/<number>/missed", name="api_agent_missed")
    def api_agent_missed(number):
        own_agent_only(number)
        agent = deps.config.get("agents", number)
        return {"items": deps.queries.run(service.missed, agent.get("queues") or [], days=MISSED_DAYS),
                "days": MISSED_DAYS}

    @app.get("/api/v1/messages", name="api_messages")
    def api_messages():
        return {"items": service.inbox(current_user()["username"])}

    @app.post("/api/v1/messages", name="api_message_send")
    def api_message_send():
        body = json_body()
        return created(service.send(current_user()["username"], body.get("to"), body.get("body")))

    @app.post("/api/v1/messages/<message_id:int>/read", name="api_message_read")
    def api_message_read(message_id):
        return service.mark_read(current_user()["username"], message_id)
