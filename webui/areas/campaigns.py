"""Campaigns (issue 16): the page and API of ``services/campaigns.py``, and the agent's
campaign panel in the workspace.

Supervisors and admins manage campaigns: create, edit, start, pause, stop, follow the
figures (counted from the attempt records; for the modes the appliance dials, also what
its dialling does now, the agents ready and busy, the lines ringing and the dial level:
``services/dialer.py``) and export the results.  An agent reaches only their own panel:
the entry offered to them (preview) or put through to them (the dialled modes), its
customer and the campaign's script; dial, skip, call back (preview).  Every mode can be
chosen: preview, the dialled modes and the modes without agents (notification,
press-key, survey: ``services/agentless.py``, with answering-machine detection).  A
campaign started before its start time says on its page that it waits, and until when.
"""

from __future__ import annotations

import json
import time

import bottle
from bottle import request, response

from appliance.db.worker import in_worker
from appliance.errors import DomainError
from appliance.engine import pacing
from appliance.engine.agentless import AMD_ACTIONS
from appliance.engine.saying import HOWS
from appliance.services.agentless import MAX_QUESTIONS, MAX_SPOKEN
from appliance.services.campaigns import DIAL_FIELDS, MODES
from appliance.services.dialer import STATUSES
from appliance.services.site import zone_of
from webui import i18n
from webui.apidoc import Operation, body, errors, items, resp
from webui.areas.calllists import XLSX_RESPONSE, words_of, xlsx_response
from webui.http import (EVERYONE, STAFF, created, current_user, json_body, lang, own_agent_only, problem_of, render,
                        viewer)

OBJECT = {"type": "object"}
CAMPAIGN_SCHEMA = {"type": "object", "properties": {
    "id": {"type": "integer"}, "name": {"type": "string"}, "display_name": {"type": "string"},
    "mode": {"enum": list(MODES)}, "queue": {"type": "string"},
    "agents": {"type": "array", "items": {"type": "string"}},
    "script": {"type": "string"}, "auto_next": {"type": "boolean"},
    "start_at": {"type": ["string", "null"]}, "stop_at": {"type": ["string", "null"]},
    "state": {"enum": ["stopped", "running", "paused"]},
    "lists": {"type": "array", "items": OBJECT}, "updated_at": {"type": "string"},
    "waiting": {"type": "boolean", "description": "running, and its start time not come yet"},
    "callerid_pool": {"type": "string"},
    **{key: {"type": "integer" if kind is int else "number"} for key, _, _, kind in DIAL_FIELDS}}}
AGENTLESS_BODY = {
    "language": {"enum": ["zh_CN", "en"], "default": "zh_CN", "description": "what the spoken values are said in"},
    "prompt": {"type": "string", "description": "a prompt's name: the message (notification, press-key: required), "
                                                "the survey's introduction, what a machine is left"},
    "spoken": {"type": "array", "maxItems": MAX_SPOKEN, "description": "columns of the call list said after the "
               "prompt", "items": {"type": "object", "required": ["column", "as"], "properties": {
                   "column": {"type": "string", "maxLength": 64, "description": "the column's title in the file"},
                   "as": {"enum": list(HOWS)}}}},
    "press_key": {"type": "string", "pattern": "^[0-9]$", "default": "1",
                  "description": "press-key: the key that puts the callee into `queue`"},
    "questions": {"type": "array", "maxItems": MAX_QUESTIONS, "items": {"type": "string"},
                  "description": "survey: the prompts asked, in order; one key each is kept"},
    "amd": {"type": "boolean", "default": False, "description": "answering-machine detection"},
    "amd_action": {"enum": list(AMD_ACTIONS), "default": "hangup",
                   "description": "on a machine: hang up, leave `prompt` after its greeting, or pass to an agent"}}
CAMPAIGN_SCHEMA["properties"].update(AGENTLESS_BODY)
DIAL_BODY = {
    "ratio": "power: lines per free agent (1 to 10, default 2)",
    "target_abandon": "predictive: target abandon rate in percent of answered calls (0 to 100, default 3)",
    "max_lines_per_agent": "every dialled mode: hard cap of lines per agent signed in (1 to 10, default 3)",
    "max_lines": "the campaign's own limit of calls at once (0: none)",
    "retry_busy_minutes": "busy: called again after this many minutes (0: never; default 10)",
    "retry_no_answer_minutes": "no answer or abandoned: again after (default 60)",
    "retry_failed_minutes": "failed: again after (default 30)",
    "retry_machine_minutes": "an answering machine (detection on): again after (default 0: never)",
    "max_attempts": "attempts per number at most (1 to 20, default 3)"}
CAMPAIGN_BODY = {"type": "object", "properties": {**AGENTLESS_BODY,
    "display_name": {"type": "string", "maxLength": 64},
    "mode": {"enum": list(MODES), "description": "preview (the agent dials); progressive, power, predictive "
                                                 "(the appliance dials, agents take the answered calls); "
                                                 "notification, press-key, survey (the appliance dials, no agent)"},
    "callerid_pool": {"type": "string", "description": "a caller-ID pool its calls present; '' none"},
    **{key: {"type": "integer" if kind is int else "number", "minimum": low, "maximum": high,
             "description": DIAL_BODY[key]} for key, low, high, kind in DIAL_FIELDS},
    "queue": {"type": "string", "description": "its members call"},
    "agents": {"type": "array", "items": {"type": "string"}},
    "script": {"type": "string", "maxLength": 20000}, "auto_next": {"type": "boolean", "default": True},
    "start_at": {"type": ["string", "null"], "description": "ISO 8601; without an offset: the office's clock"},
    "stop_at": {"type": ["string", "null"]}, "lists": {"type": "array", "items": {"type": "integer"}},
    "updated_at": {"type": "string", "description": "as last read: a change made meanwhile is 409 `changed`"}}}
FIGURES_SCHEMA = {"type": "object", "properties": {
    **{k: {"type": "integer"} for k in ("dialled", "answered", "machine", "no_answer", "busy", "failed", "abandoned",
                                        "in_progress", "skipped", "refused", "remaining")},
    "abandon_rate": {"type": "number"},
    "dialer": {"type": "object", "description": "the dialled modes only: what the dialling does now and its "
                                                "live figures", "properties": {
        "status": {"enum": list(STATUSES)}, "agents_ready": {"type": "integer"}, "agents_busy": {"type": "integer"},
        "lines_ringing": {"type": "integer"}, "dial_level": {"type": "number"}}}}}
PANEL_SCHEMA = {"type": "object", "properties": {
    "entry": {"type": ["object", "null"], "description": "the entry offered to the agent: number, name, customer, "
                                                         "customer_url, data (the file's other columns), attempt"},
    "campaign": {"type": ["object", "null"], "description": "its campaign: name, display_name, script (free "
                                                          "text), call_script (the label of the call script attached, "
                                                          "which wins over the free text; null: none), auto_next"},
    "campaigns": {"type": "array", "items": OBJECT}, "waiting": {"type": "boolean"}}}
SCOPE = " Agents only for their own agents."
DIAL_DEFAULTS = {"ratio": pacing.DEFAULT_RATIO, "target_abandon": pacing.DEFAULT_TARGET_ABANDON,
                 "max_lines_per_agent": pacing.DEFAULT_MAX_LINES_PER_AGENT, "max_lines": 0, "retry_busy_minutes": 10,
                 "retry_no_answer_minutes": 60, "retry_failed_minutes": 30, "retry_machine_minutes": 0,
                 "max_attempts": 3}


def form_campaign() -> dict:
    f = request.forms
    data = {k: f.getunicode(k) or "" for k in ("display_name", "mode", "queue", "agents", "script", "start_at",
                                                "stop_at")}
    data["auto_next"] = f.get("auto_next") == "on"
    data["language"], data["prompt"] = f.get("language") or "", f.getunicode("prompt") or ""
    data["press_key"], data["amd_action"] = f.get("press_key") or "", f.get("amd_action") or ""
    data["amd"] = f.get("amd") == "on"
    text = f.decode()  # every value as unicode (getall alone gives them undecoded)
    data["spoken"] = [{"column": column.strip(), "as": how} for column, how in
                      zip(text.getall("spoken_column"), text.getall("spoken_as")) if column.strip()]
    data["questions"] = [q for q in text.getall("questions") if q]
    for key, _low, _high, kind in DIAL_FIELDS:
        if f.get(key) is not None:
            data[key] = _as_number(f.getunicode(key) or "", kind)
    if f.get("callerid_pool") is not None:
        data["callerid_pool"] = f.getunicode("callerid_pool") or ""
    data["lists"] = [int(v) for v in f.getall("lists") if v.isdigit() and len(v) < 12]
    if f.get("updated_at"):
        data["updated_at"] = f.get("updated_at")
    return data


def _as_number(text: str, kind):
    """A form's number as the service takes it (text that is none: as it is, refused there)."""
    try:
        value = float(text)
    except ValueError:
        return text
    return int(value) if kind is int and value.is_integer() else value


def install(app, deps) -> None:
    service = deps.campaigns

    def actor() -> str:
        return current_user()["username"]

    def zone():
        return zone_of(deps.site.timezone())

    def show_index(problem=None, status=200, values=None, field_errors=None):
        response.status = status
        rows = service.list()
        return render("campaigns.tpl", rows=rows, figures={r["id"]: service.figures(r["id"]) for r in rows},
                      problem=problem, values=values or {}, errors=field_errors or {}, **choices())

    def choices() -> dict:
        return {"modes": MODES, "queues": deps.config.list("queues"),
                "all_lists": deps.call_lists.list(), "prompts": deps.config.list("prompts"), "hows": HOWS,
                "amd_actions": AMD_ACTIONS, "max_spoken": MAX_SPOKEN, "max_questions": MAX_QUESTIONS,
                "dial_fields": DIAL_FIELDS, "defaults": DIAL_DEFAULTS,
                "pools": sorted(deps.compliance.pools()) if deps.compliance is not None else []}

    def show_one(campaign_id: int, problem=None, status=200, values=None, field_errors=None):
        response.status = status
        language = lang()
        words = {s: i18n.translate(language, f"campaigns.dialer.status.{s}") for s in STATUSES}
        return render("campaign.tpl", c=service.get(campaign_id), figures=service.figures(campaign_id),
                      problem=problem, values=values, errors=field_errors or {},
                      json_words=json.dumps(words, ensure_ascii=False), **choices())

    # -- pages -------------------------------------------------------------------------
    @app.get("/campaigns", name="campaigns", roles=STAFF)
    def campaigns_page():
        return show_index()

    @app.post("/campaigns", name="campaigns_create", roles=STAFF)
    def campaigns_create():
        data = {**form_campaign(), "name": request.forms.getunicode("name") or ""}
        try:
            row = service.create(data, actor())
        except DomainError as exc:
            return show_index(problem_of(exc), exc.http_status, data, exc.fields)
        bottle.redirect(f"/campaigns/{row['id']}")

    @app.get("/campaigns/<campaign_id:int>", name="campaign", roles=STAFF)
    def campaign_page(campaign_id):
        return show_one(campaign_id)

    @app.post("/campaigns/<campaign_id:int>", name="campaign_update", roles=STAFF)
    def campaign_update(campaign_id):
        data = form_campaign()
        try:
            service.update(campaign_id, data, actor())
        except DomainError as exc:
            if exc.code == "campaigns.not_found":
                raise
            return show_one(campaign_id, problem_of(exc), exc.http_status, data, exc.fields)
        bottle.redirect(f"/campaigns/{campaign_id}")

    @app.post("/campaigns/<campaign_id:int>/state", name="campaign_state", roles=STAFF)
    def campaign_state(campaign_id):
        try:
            service.set_state(campaign_id, request.forms.get("state") or "", actor())
        except DomainError as exc:
            if exc.code == "campaigns.not_found":
                raise
            return show_one(campaign_id, problem_of(exc), exc.http_status)
        bottle.redirect(f"/campaigns/{campaign_id}")

    @app.get("/campaigns/<campaign_id:int>/export", name="campaign_export", roles=STAFF)
    def campaign_export(campaign_id):
        row = service.row(campaign_id)
        language, tz = lang(), zone()
        data = in_worker(deps.db, lambda: service.export(campaign_id, words_of(language), tz))
        return xlsx_response(data, time.strftime(f"campaign-{row.name}-%Y%m%d-%H%M.xlsx"))

    # -- the API: managing ----------------------------------------------------------------
    @app.get("/api/v1/campaigns", name="api_campaigns", scope="config", roles=EVERYONE,
             api=Operation({"tags": ["campaigns"], "summary": "The campaigns",
                            "description": "Every campaign for staff; an agent gets the campaigns they call in.",
                            "responses": {"200": resp("campaigns", items(CAMPAIGN_SCHEMA)), **errors(401)}}))
    def api_campaigns():
        me = viewer()
        return {"items": service.list(None if me.staff else set(me.agents))}

    @app.post("/api/v1/campaigns", name="api_campaign_create", scope="config", roles=STAFF,
              api=Operation({"tags": ["campaigns"], "summary": "Create a campaign (stopped)",
                             "requestBody": body({**CAMPAIGN_BODY, "required": ["name"], "properties": {
                                 "name": {"type": "string", "pattern": "^[a-z0-9][a-z0-9_-]{0,31}$"},
                                 **CAMPAIGN_BODY["properties"]}}),
                             "responses": {"201": resp("created", CAMPAIGN_SCHEMA),
                                           **errors(400, 401, 403, 409, 422)}}))
    def api_campaign_create():
        return created(service.create(json_body(), actor()))

    @app.get("/api/v1/campaigns/<campaign_id:int>", name="api_campaign", scope="config", roles=STAFF,
             api=Operation({"tags": ["campaigns"], "summary": "One campaign",
                            "responses": {"200": resp("the campaign", CAMPAIGN_SCHEMA), **errors(401, 403, 404)}}))
    def api_campaign(campaign_id):
        return service.get(campaign_id)

    @app.patch("/api/v1/campaigns/<campaign_id:int>", name="api_campaign_update", scope="config", roles=STAFF,
               api=Operation({"tags": ["campaigns"], "summary": "Change a campaign",
                              "requestBody": body(CAMPAIGN_BODY),
                              "responses": {"200": resp("changed", CAMPAIGN_SCHEMA),
                                            **errors(400, 401, 403, 404, 409, 422)}}))
    def api_campaign_update(campaign_id):
        return service.update(campaign_id, json_body(), actor())

    @app.delete("/api/v1/campaigns/<campaign_id:int>", name="api_campaign_delete", scope="config", roles=STAFF,
                api=Operation({"tags": ["campaigns"], "summary": "Delete a campaign that is not running",
                               "description": "With its attempt records; its call lists stay.",
                               "responses": {"204": resp("deleted"), **errors(401, 403, 404, 409)}}))
    def api_campaign_delete(campaign_id):
        service.delete(campaign_id, actor())
        response.status = 204

    @app.post("/api/v1/campaigns/<campaign_id:int>/state", name="api_campaign_state", scope="config", roles=STAFF,
              api=Operation({"tags": ["campaigns"], "summary": "Start, pause or stop a campaign",
                             "description": "`running` needs a call list (409 `campaigns.no_lists`) and agents "
                                            "(409 `campaigns.no_agents`). Pausing or stopping hands the entries "
                                            "offered and not dialled back.",
                             "requestBody": body({"type": "object", "required": ["state"], "properties": {
                                 "state": {"enum": ["running", "paused", "stopped"]}}}),
                             "responses": {"200": resp("the campaign", CAMPAIGN_SCHEMA),
                                           **errors(400, 401, 403, 404, 409, 422)}}))
    def api_campaign_state(campaign_id):
        return service.set_state(campaign_id, json_body().get("state"), actor())

    @app.get("/api/v1/campaigns/<campaign_id:int>/figures", name="api_campaign_figures",
             scope="reports:read", roles=STAFF,
             api=Operation({"tags": ["campaigns"], "summary": "Live figures, counted from the attempt records",
                            "description": "`dialled`: calls placed; `answered`, `no_answer`, `busy`, `failed`, "
                                           "`abandoned` (a person answered, no agent was free): their results; "
                                           "`abandon_rate`: abandoned / (answered + abandoned), percent; "
                                           "`in_progress`: not ended yet; `skipped` and `refused` "
                                           "(by the calling checks) are no calls; `remaining`: entries of its lists "
                                           "still to call. For progressive, power and predictive, `dialer`: "
                                           "`status` (dialling, agents_busy, no_agents, no_trunk, outside_window, "
                                           "nothing_due, no_asterisk, callerid_pool, trunks_full, concurrency, "
                                           "paused, stopped), `agents_ready`, `agents_busy`, `lines_ringing`, "
                                           "`dial_level` (lines per free agent).",
                            "responses": {"200": resp("figures", FIGURES_SCHEMA), **errors(401, 403, 404)}}))
    def api_campaign_figures(campaign_id):
        return service.figures(campaign_id)

    @app.get("/api/v1/campaigns/<campaign_id:int>/export", name="api_campaign_export",
             scope="reports:read", roles=STAFF,
             api=Operation({"tags": ["campaigns"], "summary": "Every attempt of the campaign (Excel)",
                            "description": "Oldest first, times on the office's clock; titles and results in `lang`.",
                            "parameters": [{"name": "lang", "in": "query", "required": False,
                                            "schema": {"enum": ["en", "zh_CN"], "default": "en"}}],
                            "responses": {"200": XLSX_RESPONSE, **errors(401, 403, 404)}}))
    def api_campaign_export(campaign_id):
        row = service.row(campaign_id)
        language = request.query.get("lang") if request.query.get("lang") in i18n.LANGUAGES else "en"
        tz = zone()
        data = in_worker(deps.db, lambda: service.export(campaign_id, words_of(language), tz))
        return xlsx_response(data, f"campaign-{row.name}.xlsx")

    # -- the API: the agent's panel ----------------------------------------------------------
    @app.get("/api/v1/agents/<number>/campaign", name="api_agent_campaign", scope="calls:read", roles=EVERYONE,
             api=Operation({"tags": ["campaigns"], "summary": "The agent's campaign panel (preview)",
                            "description": "The entry the agent holds; with none, the next one is taken for them "
                                           "when their campaign's auto-next is on (else `entry` is null and "
                                           "`waiting` true until they ask with `/next`)." + SCOPE,
                            "responses": {"200": resp("the panel", PANEL_SCHEMA), **errors(401, 403, 404)}}))
    def api_agent_campaign(number):
        own_agent_only(number)
        return service.panel(number)

    @app.post("/api/v1/agents/<number>/campaign/next", name="api_agent_campaign_next",
              scope="calls:control", roles=EVERYONE,
              api=Operation({"tags": ["campaigns"], "summary": "Take the next entry now",
                             "description": "The entry the agent holds if any, else the next of their running "
                                            "campaigns (call-backs due for them first); two agents never get the "
                                            "same entry." + SCOPE,
                             "responses": {"200": resp("the panel", PANEL_SCHEMA), **errors(401, 403, 404)}}))
    def api_agent_campaign_next(number):
        own_agent_only(number)
        return service.panel(number, take=True)

    @app.post("/api/v1/agents/<number>/campaign/entries/<entry_id:int>/dial", name="api_agent_campaign_dial",
              scope="calls:control", roles=EVERYONE,
              api=Operation({"tags": ["campaigns"], "summary": "Dial the offered entry (click-to-dial)",
                             "description": "The agent's phone rings, then the number: a normal call, recorded by "
                                            "policy, on the wallboard. The calling checks come first: a refusal is "
                                            "403 `call.not_permitted` and the attempt is recorded as refused. An "
                                            "entry not offered to this agent is 403 `campaigns.not_yours`." + SCOPE,
                             "responses": {"200": resp("ringing the agent's phone", OBJECT),
                                           **errors(401, 403, 404, 409, 422, 503)}}))
    def api_agent_campaign_dial(number, entry_id):
        own_agent_only(number)
        return service.dial(number, entry_id, actor())

    @app.post("/api/v1/agents/<number>/campaign/entries/<entry_id:int>/skip", name="api_agent_campaign_skip",
              scope="calls:control", roles=EVERYONE,
              api=Operation({"tags": ["campaigns"], "summary": "Skip the offered entry, with a reason",
                             "requestBody": body({"type": "object", "required": ["reason"], "properties": {
                                 "reason": {"type": "string", "maxLength": 200}}}),
                             "responses": {"200": resp("the entry, done", OBJECT),
                                           **errors(400, 401, 403, 404, 422)}}))
    def api_agent_campaign_skip(number, entry_id):
        own_agent_only(number)
        return service.skip(number, entry_id, json_body().get("reason"), actor())

    @app.post("/api/v1/agents/<number>/campaign/entries/<entry_id:int>/callback", name="api_agent_campaign_callback",
              scope="calls:control", roles=EVERYONE,
              api=Operation({"tags": ["campaigns"], "summary": "Call this number back at a time",
                             "description": "The entry comes back to the same agent at `at` (ISO 8601; without an "
                                            "offset the office's clock), before their other entries." + SCOPE,
                             "requestBody": body({"type": "object", "required": ["at"], "properties": {
                                 "at": {"type": "string"}}}),
                             "responses": {"200": resp("the entry, pending again", OBJECT),
                                           **errors(400, 401, 403, 404, 422)}}))
    def api_agent_campaign_callback(number, entry_id):
        own_agent_only(number)
        return service.callback(number, entry_id, json_body().get("at"), actor())
