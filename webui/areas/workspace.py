"""The agent workspace: the page an agent keeps open all day (toolbar, screen pop, the
note and disposition for each call, missed calls, messages) and the API behind it.

The toolbar drives the engine through the agent API of webui/areas/agents.py (sign in, pause,
dial, hold, transfer, consult, three-way, hang up); this module adds what the engine does
not know: the screen pop's customer and history, outcomes, missed calls and messages.
Registered by ``install`` from ``make_app``; roles declared on each route.
"""

from __future__ import annotations

from bottle import request

from appliance import labels
from appliance.errors import FieldError, ValidationError
from webui.apidoc import Operation, body, errors, items, resp
from webui import i18n
from webui.http import (EVERYONE, agent_directory, created, current_user, json_body, lang, live_calls, own_agent_only,
                        render, viewer)

MISSED_DAYS = 7
JS_PREFIXES = ("ws.", "workspace.", "agent_state.", "call_state.", "direction.", "disposition.", "dnc.pop",
               "compliance.refused.", "campaigns.", "calllists.result.", "kb.", "error.code.kb.")


# -- schemas the API descriptions below share ----------------------------------------------
OBJECT = {"type": "object"}
MESSAGE_SCHEMA = {"type": "object", "properties": {
    "id": {"type": "integer"}, "from": {"type": "string"}, "to": {"type": "string"}, "body": {"type": "string"},
    "sent_at": {"type": "string"}, "read_at": {"type": ["string", "null"]}}}
SCOPE_NOTE = " Agents only for their own agents."


def pause_reason_names(reasons: list[dict], language: str) -> dict[str, str]:
    """Pause reason code -> its name for a reader of ``language`` (``labels.pause_reason_name``:
    the shipped reasons in the reader's words while the admin has not renamed them)."""
    return {r["code"]: r["name"] for r in labels.pause_reasons(language, reasons)}


def install(app, deps) -> None:
    service = deps.workspace

    def my_agents() -> list[dict]:
        me = viewer()
        mine = [a for a in agent_directory().all() if a["number"] in me.agents]
        if mine or me.role == "agent":
            return mine
        return agent_directory().all()  # staff without an agent of their own may act for any

    @app.get("/workspace", name="workspace", roles=EVERYONE)
    def workspace_page():
        agents = my_agents()
        chosen = request.query.get("agent") or (agents[0]["number"] if agents else "")
        agent = next((a for a in agents if a["number"] == chosen), None)
        reasons = deps.config.list("pause_reasons")
        language = lang()
        catalog = i18n.catalog(language)
        js = {k: v for k, v in catalog.items() if k.startswith(JS_PREFIXES)}
        return render("workspace.tpl", js_messages=js, js_ids=set(js), agents=agents, agent=agent,
                      dispositions=service.dispositions(language), reason_names=pause_reason_names(reasons, language),
                      pause_reasons=labels.pause_reasons(language, [r for r in reasons if r.get("code") != "missed-calls"]),
                      queues=[q["name"] for q in deps.config.list("queues")],
                      softphone=bool(agent) and deps.softphones.sits_at_browser(agent["number"]),
                      recipients=[r for r in service.recipients() if r["username"] != current_user()["username"]])

    @app.get("/api/v1/workspace/pop", name="api_workspace_pop", scope="calls:read", roles=EVERYONE,
             api=Operation({
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
          "responses": {"200": resp("the pop", OBJECT), **errors(401, 403, 422)}}))
    def api_workspace_pop():
        number = (request.query.get("number") or "").strip()
        if not number or len(number) > 40:
            raise ValidationError(FieldError("error.msg.caller_number", "give the caller's number"),
                                  fields={"number": FieldError("field.max_length", "required, at most 40 characters", n=40)})
        customer = request.query.get("customer") or ""  # the call event's lookup (0: none)
        if customer and not (customer.isdigit() and len(customer) <= 12):
            raise ValidationError(FieldError("error.msg.customer_id", "customer is the id a call event carried"),
                                  fields={"customer": FieldError("field.integer", "a whole number")})
        return service.pop(number, lang(), viewer(), live_calls(), customer_id=int(customer) if customer else None)

    @app.post("/api/v1/agents/<number>/calls/<linkedid>/outcome", name="api_call_outcome",
              scope="calls:control", roles=EVERYONE,
              api=Operation({
            "tags": ["workspace"], "summary": "Save the agent's disposition and note for a call",
            "description": "During the call or after it; saving again replaces it. The note also goes into the "
                           "caller's customer history." + SCOPE_NOTE,
            "requestBody": body({"type": "object", "required": ["disposition"], "properties": {
                "disposition": {"type": "string"}, "note": {"type": "string", "maxLength": 4000}}}),
            "responses": {"200": resp("saved", OBJECT), **errors(400, 401, 403, 404, 422)}}))
    def api_call_outcome(number, linkedid):
        own_agent_only(number)
        return service.save_outcome(number, linkedid, json_body(), current_user()["username"], live_calls())

    @app.get("/api/v1/agents/<number>/missed", name="api_agent_missed", scope="calls:read", roles=EVERYONE,
             api=Operation({
           "tags": ["workspace"], "summary": "Missed calls of the agent's queues to call back",
           "description": "Callers who reached nobody in the last 7 days and with whom nobody has spoken "
                          "since, newest first, one row per number." + SCOPE_NOTE,
           "responses": {"200": resp("missed calls", items(OBJECT)), **errors(401, 403, 404)}}))
    def api_agent_missed(number):
        own_agent_only(number)
        agent = deps.config.get("agents", number)
        return {"items": deps.queries.run(service.missed, agent.get("queues") or [], days=MISSED_DAYS),
                "days": MISSED_DAYS}

    @app.get("/api/v1/messages", name="api_messages", scope="calls:read", roles=EVERYONE,
             api=Operation({"tags": ["workspace"], "summary": "My messages, sent and received, newest first",
                            "responses": {"200": resp("messages", items(MESSAGE_SCHEMA)), **errors(401)}}))
    def api_messages():
        return {"items": service.inbox(current_user()["username"])}

    @app.post("/api/v1/messages", name="api_message_send", scope="calls:control", roles=EVERYONE,
              api=Operation({
            "tags": ["workspace"], "summary": "Send a message to another user",
            "description": "The recipient sees it at once on the `message` event stream.",
            "requestBody": body({"type": "object", "required": ["to", "body"], "properties": {
                "to": {"type": "string"}, "body": {"type": "string", "maxLength": 1000}}}),
            "responses": {"201": resp("sent", MESSAGE_SCHEMA), **errors(400, 401, 422)}}))
    def api_message_send():
        body = json_body()
        return created(service.send(current_user()["username"], body.get("to"), body.get("body")))

    @app.post("/api/v1/messages/<message_id:int>/read", name="api_message_read", scope="calls:control", roles=EVERYONE,
              api=Operation({"tags": ["workspace"], "summary": "Mark one of my messages read",
                             "responses": {"200": resp("read", MESSAGE_SCHEMA), **errors(401, 404)}}))
    def api_message_read(message_id):
        return service.mark_read(current_user()["username"], message_id)
