"""Call scripts (话术) in the web UI and the API (``appliance/services/scripts.py``): the
admins' list and editor (steps with text in both languages, the customer field each question
fills, the next step by answer, the queues and campaigns it is read on), the agent's walk
through their call's script (the workspace's panel, ``webui/static/callscript.js``), and
what was said on a call (the path taken, for supervisors and the agent who walked it).

Registered by ``install`` from ``make_app``; roles declared on each route.
"""

from __future__ import annotations

import bottle
from bottle import request

from appliance.errors import DomainError, FieldError, ValidationError
from appliance.engine.scripts import LANGS
from webui.apidoc import Operation, body, errors, items, resp
from webui.http import (ADMIN, EVERYONE, STAFF, actor, created, json_body, lang, live_calls, no_content,
                        own_agent_only, problem_of, render, viewer)
from webui import i18n

BLANK = {"steps": 5, "branches": 4}  # blank rows the editor offers beyond the saved ones
MAX_ROWS = 60

TEXTS = {"type": "object", "properties": {k: {"type": "string", "maxLength": 2000} for k in LANGS},
         "description": "what the agent reads, per language (at least one; the agent's own, else the other)"}
STEP = {"type": "object", "required": ["id", "text"], "properties": {
    "id": {"type": "string", "pattern": "^[a-z][a-z0-9_]{0,31}$"}, "text": TEXTS,
    "field": {"type": "string", "description": "the customer field the step's question fills; empty: no question"},
    "next": {"type": "string", "description": "the next step; empty: the script ends here"},
    "branches": {"type": "array", "description": "next step by answer (a question on a choice field only)",
                 "items": {"type": "object", "properties": {"answer": {"type": "string"},
                                                            "next": {"type": "string"}}}}}}
SCRIPT = {"type": "object", "required": ["name", "label", "steps"], "properties": {
    "id": {"type": "integer", "readOnly": True}, "name": {"type": "string", "pattern": "^[a-z][a-z0-9_]{0,31}$"},
    "label": {"type": "string", "maxLength": 64}, "active": {"type": "boolean", "default": True},
    "steps": {"type": "array", "items": STEP, "maxItems": 50, "description": "the first is where a call begins"},
    "queues": {"type": "array", "items": {"type": "string"}, "description": "queue keys whose calls read it "
                                                                            "(taken from another script)"},
    "campaigns": {"type": "array", "items": {"type": "string"}, "description": "campaign keys whose calls read it; "
                                                                               "wins over the campaign's free text"},
    "updated_at": {"type": "string", "readOnly": True}, "updated_by": {"type": "string", "readOnly": True}}}
WALK = {"type": "object", "properties": {
    "script": {"type": ["object", "null"], "description": "id and label; null: the call has no script"},
    "source": {"type": "string", "description": "queue:<key> or campaign:<key>"},
    "live": {"type": "boolean", "description": "false after hang-up (the agent may finish in the wrap-up)"},
    "steps": {"type": "array", "description": "id, text (in the reader's language), field, field_label, "
                                              "field_type, choices, required, next, branches"},
    "current": {"type": "string", "description": "the step to read now; empty: the script is over"},
    "path": {"type": "array", "description": "the steps taken: step, text as read, field, answer, saved, at, by"},
    "customer": {"type": ["object", "null"], "description": "id, name, version (send it back in If-Match), "
                                                            "values of the script's fields"}}}
ANSWER = {"type": "object", "required": ["step"], "properties": {
    "step": {"type": "string", "description": "the step read (the current one)"},
    "answer": {"description": "for a question: checked with the field's own rules (choice, text, number, date)"}}}
RUN = {"type": "object", "properties": {
    "linkedid": {"type": "string"}, "agent": {"type": "string"}, "script": {"type": "string"},
    "source": {"type": "string"}, "customer": {"type": ["object", "null"]}, "started_at": {"type": "string"},
    "updated_at": {"type": "string"}, "finished": {"type": "boolean"}, "path": {"type": "array"}}}
IF_MATCH = [{"name": "If-Match", "in": "header", "required": False, "schema": {"type": "string"},
             "description": "the customer's `version` as read: a change made since is 409 `customers.changed`"}]
AGENT_NOTE = " Agents only for their own agents."


def _rows(form, prefix: str, names: tuple) -> list[dict]:
    """Numbered form rows (``<prefix>_<name>_<i>``), blank rows dropped."""
    out = []
    for i in range(MAX_ROWS):
        if f"{prefix}_{names[0]}_{i}" not in form:
            break
        row = {n: (form.getunicode(f"{prefix}_{n}_{i}") or "").strip() for n in names}
        if any(row.values()):
            out.append(row)
    return out


def script_from_form(form) -> dict:
    """The editor's form as the API's script object."""
    branches = _rows(form, "br", ("step", "answer", "next"))
    steps = [{"id": r["id"], "text": {"zh_CN": r["zh"], "en": r["en"]}, "field": r["field"], "next": r["next"],
              "branches": [{"answer": b["answer"], "next": b["next"]} for b in branches if b["step"] == r["id"]]}
             for r in _rows(form, "step", ("id", "zh", "en", "field", "next"))]
    return {"name": form.getunicode("name") or "", "label": form.getunicode("label") or "",
            "active": bool(form.get("active")), "steps": steps,
            "queues": form.getall("queues"), "campaigns": form.getall("campaigns")}


def _if_match() -> str | None:
    read = (request.get_header("If-Match") or "").strip().removeprefix("W/").strip('"')
    return None if read in ("", "*") else read


def install(app, deps) -> None:
    service = deps.scripts

    # -- the admins' pages ----------------------------------------------------------------
    @app.get("/admin/scripts", name="scripts", roles=ADMIN)
    def scripts_page():
        return render("scripts.tpl", scripts=service.scripts(), queue_names=deps.config.display_names("queues"),
                      campaign_names={c["name"]: c["display_name"] for c in deps.campaigns.list()})

    def editor(s: dict, script_id=None, problem=None, status=200):
        others = [o for o in service.scripts() if o["id"] != script_id]
        taken = {("queue", q): o["label"] for o in others for q in o["queues"]}
        taken.update({("campaign", c): o["label"] for o in others for c in o["campaigns"]})
        bottle.response.status = status
        return render("script.tpl", s=s, script_id=script_id, problem=problem, blank=BLANK,
                      fields=deps.crm.custom_fields(), taken=taken,
                      queues=[(q["name"], q.get("display_name") or q["name"]) for q in deps.config.list("queues")],
                      campaigns=[(c["name"], c["display_name"]) for c in deps.campaigns.list()])

    @app.get("/admin/scripts/new", name="script_new", roles=ADMIN)
    def script_new():
        return editor({"name": "", "label": "", "active": True, "steps": [], "queues": [], "campaigns": []})

    @app.get("/admin/scripts/<script_id:int>", name="script_edit", roles=ADMIN)
    def script_edit(script_id):
        return editor(service.script(script_id), script_id)

    @app.post("/admin/scripts/new", name="script_create", roles=ADMIN)
    @app.post("/admin/scripts/<script_id:int>", name="script_update", roles=ADMIN)
    def script_save(script_id=None):
        data = script_from_form(request.forms)
        try:
            service.save(data, actor(), script_id)
        except DomainError as exc:
            if exc.http_status == 404:
                raise
            return editor(data, script_id, {**problem_of(exc), "fields": exc.fields}, exc.http_status)
        bottle.redirect("/admin/scripts")

    @app.post("/admin/scripts/<script_id:int>/delete", name="script_delete", roles=ADMIN)
    def script_delete(script_id):
        service.delete(script_id, actor())
        bottle.redirect("/admin/scripts")

    # -- what was said on a call ----------------------------------------------------------
    def scope() -> frozenset | None:
        me = viewer()
        return None if me.staff else me.agents

    @app.get("/scripts/calls/<linkedid>", name="script_runs", roles=EVERYONE)
    def script_runs(linkedid):
        return render("script_runs.tpl", linkedid=linkedid, runs=service.runs(scope(), linkedid[:64]))

    # -- API ------------------------------------------------------------------------------
    @app.get("/api/v1/scripts", name="api_scripts", scope="calls:read", roles=STAFF,
             api=Operation({"tags": ["call scripts"], "summary": "Call scripts, with where each is read",
                            "responses": {"200": resp("the scripts", items(SCRIPT)), **errors(401, 403)}}))
    def api_scripts():
        return {"items": service.scripts()}

    @app.post("/api/v1/scripts", name="api_script_create", scope="config", roles=ADMIN,
              api=Operation({
        "tags": ["call scripts"], "summary": "Write a call script",
        "description": "Refused (422) with the reason in `fields.steps` when a step leads back to a step passed "
                       "(`scripts.loop`, the way round in `path`), a step cannot be reached from the first "
                       "(`scripts.unreachable`), a question names no customer field, a branch is on a question "
                       "without choices or names an answer that is not a choice, or a next step does not exist "
                       "(`scripts.*`). Queues and campaigns listed are taken from any other script.",
        "requestBody": body(SCRIPT),
        "responses": {"201": resp("written", SCRIPT), **errors(400, 401, 403, 409, 422)}}))
    def api_script_create():
        return created(service.save(json_body(), actor()))

    @app.get("/api/v1/scripts/<script_id:int>", name="api_script", scope="calls:read", roles=STAFF,
             api=Operation({"tags": ["call scripts"], "summary": "One call script",
                            "responses": {"200": resp("it", SCRIPT), **errors(401, 403, 404)}}))
    def api_script(script_id):
        return service.script(script_id)

    @app.put("/api/v1/scripts/<script_id:int>", name="api_script_update", scope="config", roles=ADMIN,
             api=Operation({"tags": ["call scripts"], "summary": "Change a call script (whole)",
                            "description": "Calls already walking it keep the steps they began with.",
                            "requestBody": body(SCRIPT),
                            "responses": {"200": resp("changed", SCRIPT), **errors(400, 401, 403, 404, 409, 422)}}))
    def api_script_update(script_id):
        return service.save(json_body(), actor(), script_id)

    @app.delete("/api/v1/scripts/<script_id:int>", name="api_script_delete", scope="config", roles=ADMIN,
                api=Operation({"tags": ["call scripts"], "summary": "Delete a call script",
                               "description": "Its queues and campaigns have none after; what was said on past "
                                              "calls stays.",
                               "responses": {"204": {"description": "deleted"}, **errors(401, 403, 404)}}))
    def api_script_delete(script_id):
        service.delete(script_id, actor())
        return no_content()

    @app.get("/api/v1/scripts/calls/<linkedid>/<agent>", name="api_script_walk", scope="calls:read", roles=EVERYONE,
             api=Operation({
        "tags": ["call scripts"], "summary": "The script of an agent's call, where they are in it",
        "description": "The call's campaign's script for a campaign call, else its queue's (`script` null: none). "
                       "Texts in the reader's language, else the other. The call must ring or be connected to the "
                       "agent, or (a script begun) have ended less than 30 minutes ago: else 404 "
                       "`scripts.no_call`." + AGENT_NOTE,
        "responses": {"200": resp("the walk", WALK), **errors(401, 403, 404)}}))
    def api_script_walk(linkedid, agent):
        own_agent_only(agent)
        return service.for_call(agent, linkedid, live_calls(), lang())

    @app.post("/api/v1/scripts/calls/<linkedid>/<agent>/answers", name="api_script_answer",
              scope="calls:control", roles=EVERYONE,
              api=Operation({
        "tags": ["call scripts"], "summary": "The agent read the current step (and got its answer)",
        "description": "The answer is checked with the customer field's own rules and saved into the caller's "
                       "customer record (audited, `script` and `linkedid` beside the value); the step goes on the "
                       "call's path; the next step is the one for the answer. A wrong answer is 422 "
                       "`scripts.bad_answer` (`fields.answer`; `params.problem` says it in the reader's language), "
                       "a step that is not the current one 409 `scripts.out_of_step`, a customer changed since its "
                       "`version` was read 409 `customers.changed`, a call the agent is not on 403 "
                       "`scripts.not_on_call`. Without a customer record the answer is kept with the call only "
                       "(`saved` false)." + AGENT_NOTE,
        "parameters": IF_MATCH, "requestBody": body(ANSWER),
        "responses": {"200": resp("the walk, one step on", WALK), **errors(400, 401, 403, 404, 409, 422)}}))
    def api_script_answer(linkedid, agent):
        own_agent_only(agent)
        try:
            return service.answer(agent, linkedid, json_body(), actor(), live_calls(), lang(), _if_match())
        except ValidationError as exc:
            if "answer" in exc.fields:  # the field's rule in the reader's words, for the panel to show
                exc.params = {**exc.params, "problem": i18n.field_error(lang(), exc.fields["answer"])}
            raise

    @app.get("/api/v1/scripts/runs", name="api_script_runs", scope="calls:read", roles=EVERYONE,
             api=Operation({
        "tags": ["call scripts"], "summary": "What was said: the scripts walked, newest first (100 at most)",
        "description": "`linkedid`: on that call only. Staff see every agent's; agents their own.",
        "parameters": [{"name": "linkedid", "in": "query", "required": False,
                        "schema": {"type": "string", "maxLength": 64}}],
        "responses": {"200": resp("the runs", items(RUN)), **errors(401, 422)}}))
    def api_script_runs():
        linkedid = request.query.getunicode("linkedid") or None
        if linkedid is not None and len(linkedid) > 64:
            raise ValidationError(FieldError("field.max_length", "at most 64 characters", n=64),
                                  fields={"linkedid": FieldError("field.max_length", "at most 64 characters", n=64)})
        return {"items": service.runs(scope(), linkedid)}

