"""A new agent on one page (``/admin/new-agent``) and in one API call: the web account, the
phone's extension with a generated SIP password (shown once), the work number and the
queues, made together or not at all (``appliance/services/agent_setup.py``).  Admins only.
"""

from __future__ import annotations

from bottle import request, response

from appliance.errors import DomainError
from webui.apidoc import Operation, body, errors, resp
from webui.http import ADMIN, actor, created, json_body, problem_of, render

FORM_FIELDS = ("username", "display_name", "password", "extension", "number")
RESULT_SCHEMA = {"type": "object", "required": ["username", "extension", "number", "queues", "sip_secret"],
                 "properties": {
                     "username": {"type": "string"}, "display_name": {"type": "string"},
                     "extension": {"type": "string"}, "number": {"type": "string", "description": "the work number"},
                     "queues": {"type": "array", "items": {"type": "string"}},
                     "sip_secret": {"type": "string", "description": "the phone's SIP password: shown this once"},
                     "apply_failed": {"type": "string", "description": "present when everything was saved but "
                                                                       "Asterisk could not be updated (its code)"}}}


def install(app, deps) -> None:
    setup = deps.agent_setup

    def language() -> str:
        return deps.site.language()

    def page(values=None, errors=None, problem=None, made=None):
        values = values or {}
        return render("agent_new.tpl", queues=deps.config.list("queues"), values=values, errors=errors or {},
                      problem=problem, made=made,
                      chosen={q["name"]: q["penalty"] for q in values.get("queues") or []})

    @app.get("/admin/new-agent", name="agent_new", roles=ADMIN)
    def agent_new():
        return page()

    @app.post("/admin/new-agent", name="agent_new_save", roles=ADMIN)
    def agent_new_save():
        form = request.forms
        values = {name: form.getunicode(name) or "" for name in FORM_FIELDS}
        values["queues"] = [{"name": q, "penalty": form.getunicode(f"penalty-{q}") or "0"}
                            for q in form.getall("queue")]
        try:
            made = setup.create(values, actor(), language=language())
        except DomainError as exc:
            response.status = exc.http_status
            values["password"] = ""  # never sent back in a page
            return page(values, errors=exc.fields, problem=None if exc.fields else problem_of(exc))
        return page(made=made)

    @app.post("/api/v1/agent-setup", name="api_agent_setup", scope="config", roles=ADMIN,
              api=Operation({"tags": ["configuration"],
                             "summary": "Set up an agent: account, phone, agent and queues, all or nothing",
                             "description": "One transaction makes the web account (role agent), the phone with a "
                                            "generated SIP password, the agent (work number: the extension when "
                                            "empty) and its queue memberships; Asterisk's configuration is "
                                            "applied once. A 422 names every wrong field (`username`, `password`, "
                                            "`display_name`, `extension`, `number`, `queues`) and makes nothing. "
                                            "The response carries the SIP password, which is never shown again.",
                             "requestBody": body({"type": "object",
                                                  "required": ["username", "password", "display_name", "extension"],
                                                  "properties": {
                                 "username": {"type": "string"}, "password": {"type": "string", "minLength": 8},
                                 "display_name": {"type": "string", "maxLength": 64},
                                 "extension": {"type": "string", "pattern": "^[0-9]{2,16}$"},
                                 "number": {"type": "string", "description": "work number (default: the extension)"},
                                 "queues": {"type": "array", "items": {"oneOf": [
                                     {"type": "string"},
                                     {"type": "object", "required": ["name"], "properties": {
                                         "name": {"type": "string"},
                                         "penalty": {"type": "integer", "minimum": 0, "maximum": 100}}}]}}}}),
                             "responses": {"201": resp("made", RESULT_SCHEMA), **errors(400, 401, 403, 422, 503)}}))
    def api_agent_setup():
        return created(setup.create(json_body(), actor(), language=language()))
