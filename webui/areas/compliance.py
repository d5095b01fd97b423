"""Outbound compliance in the web UI and the API: the do-not-call list (staff keep it;
an agent adds the caller on their screen pop), the calling window and the caller-ID pools
(admins), and the refused outbound calls with the rule that refused each.

Routes are thin: ``appliance.services.compliance.OutboundCheck`` validates, audits and
decides (the same object every outbound path asks).
"""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

import bottle
from bottle import HTTPResponse, request, response

from appliance import i18n
from appliance.db.worker import in_worker
from appliance.errors import DomainError, FieldError, PermissionDenied, ValidationError
from appliance.services.crm import CustomerService
from appliance.services.site import utc_midnight, zone_of
from webui.apidoc import Operation, body, errors, resp
from webui.http import (ADMIN, EVERYONE, STAFF, actor, json_body, lang, live_calls, no_content, problem_of, render,
                        viewer)
from webui.areas.customer_import import IMPORT_BODY_LIMIT, uploaded_file
from webui.params import query_int

TAGS = ["compliance"]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
WHEN = {"type": ["string", "null"], "description": "UTC, ISO 8601"}
DNC_SCHEMA = {"type": "object", "properties": {
    "number": {"type": "string", "description": "E.164 for a valid number (appliance/numbers.py normalise)"},
    "reason": {"type": "string"}, "added_by": {"type": "string"},
    "source": {"enum": ["manual", "pop", "import"]}, "created_at": WHEN,
    "expires_at": {**WHEN, "description": "UTC, ISO 8601; null: for ever"}}}
DNC_ADD = {"type": "object", "required": ["number"], "additionalProperties": False, "properties": {
    "number": {"type": "string", "maxLength": 40}, "reason": {"type": "string", "maxLength": 128},
    "expires_on": {"type": ["string", "null"], "format": "date",
                   "description": "the last office day the entry counts (YYYY-MM-DD); empty: for ever"},
    "source": {"enum": ["manual", "pop"], "description": "`pop`: added from the screen pop"}}}
RULE_ENUM = ["permission", "blacklist", "dnc", "window", "trunks_full", "concurrency", "callerid_pool"]
REFUSAL_SCHEMA = {"type": "object", "properties": {
    "at": WHEN, "path": {"enum": ["dial", "transfer", "consult", "fax", "phone", "campaign"]},
    "rule": {"enum": RULE_ENUM}, "number": {"type": "string"}, "agent": {"type": "string"},
    "actor": {"type": "string"}, "campaign": {"type": "string"}}}
POOL_NUMBER = {"type": "object", "properties": {
    "number": {"type": "string"}, "per_hour": {"type": "integer", "description": "0: no cap"},
    "per_day": {"type": "integer", "description": "0: no cap"}, "active": {"type": "boolean"},
    "used_hour": {"type": "integer"}, "used_day": {"type": "integer"}}}
SETTINGS_SCHEMA = {"type": "object", "properties": {
    "window": {"type": "string", "description": "opening-hours syntax (`daily 09:00-20:00`, `mon-fri 09:00-18:00; "
                                                "sat 10:00-12:00`), on the office's clock; empty: any hour"},
    "window_holidays": {"type": "boolean", "description": "no calls on the holiday calendar's holidays"},
    "default_pool": {"type": "string", "description": "the caller-ID pool of click-to-dial and desk phones; "
                                                      "empty: the trunk's own caller ID"},
    "timezone": {"type": "string"},
    "pools": {"type": "object", "additionalProperties": {"type": "array", "items": POOL_NUMBER}}}}
SETTINGS_UPDATE = {"type": "object", "additionalProperties": False, "properties": {
    "window": {"type": "string", "maxLength": 400}, "window_holidays": {"type": "boolean"},
    "default_pool": {"type": "string", "maxLength": 32}}}
POOL_PUT = {"type": "object", "additionalProperties": False, "properties": {
    "per_hour": {"type": "integer", "minimum": 0}, "per_day": {"type": "integer", "minimum": 0},
    "active": {"type": "boolean"}}}


def _jsonable(item: dict) -> dict:
    return {k: (v.isoformat(timespec="seconds") + "Z" if isinstance(v, dt.datetime) else v) for k, v in item.items()}


def install(app, deps) -> None:
    check = deps.compliance

    def expiry(text) -> dt.datetime | None:
        """``YYYY-MM-DD`` (the last office day the entry counts) -> the stored end (UTC)."""
        if not text:
            return None
        try:
            day = dt.date.fromisoformat(str(text))
        except ValueError:
            raise ValidationError("not a date", code="dnc.bad_expiry",
                                  fields={"expires_on": FieldError("field.date_format", "a date as YYYY-MM-DD")}) from None
        zone = zone_of(deps.site.timezone() if deps.site is not None else "Asia/Shanghai")
        return utc_midnight(day + dt.timedelta(days=1), zone)

    def may_add(number: str) -> None:
        """Staff add any number; an agent the caller of their screen pop: on a live call with
        one of their agents, one of their agents took lately, or a customer of theirs."""
        me = viewer()
        if me.staff or deps.workspace.may_pop(me, number, live_calls()) \
                or (me.agents and CustomerService._took_call_from(me, number)):
            return
        raise PermissionDenied(FieldError("dnc.agent_own_caller", "an agent may add only the caller on their screen pop"),
                               code="forbidden")

    def add(data: dict) -> dict:
        number = str(data.get("number") or "")
        may_add(number)
        source = "pop" if data.get("source") == "pop" or not viewer().staff else "manual"
        return check.dnc_add(number, str(data.get("reason") or ""), actor(), expiry(data.get("expires_on")), source)

    def page(problem=None, errors=None, values=None, status=200, notice=None):
        response.status = status
        search = (request.query.getunicode("q") or "").strip()[:40]
        admin = viewer().role == "admin"
        return render("compliance.tpl", dnc=check.dnc_list(search), search=search, settings=check.settings(),
                      refusals=check.refusals(limit=50), admin=admin,
                      usage={p: check.pool_usage(p) for p in check.pools()} if admin else {},
                      values=values or {}, errors=errors or {}, problem=problem, notice=notice)

    def on_error(exc: DomainError, values: dict):
        return page(problem=None if exc.fields else problem_of(exc), errors=exc.fields, values=values,
                    status=exc.http_status)

    # -- pages -----------------------------------------------------------------------------
    @app.get("/admin/compliance", name="compliance", roles=STAFF)
    def compliance_page():
        return page()

    @app.post("/admin/compliance/dnc", name="compliance_dnc_add", roles=STAFF)
    def compliance_dnc_add():
        values = {k: request.forms.getunicode(k) or "" for k in ("number", "reason", "expires_on")}
        try:
            add(values)
        except DomainError as exc:
            return on_error(exc, values)
        bottle.redirect("/admin/compliance#dnc")

    @app.get("/admin/compliance/dnc.xlsx", name="compliance_dnc_export", roles=STAFF)
    def compliance_dnc_export():
        language = lang()
        headers = {c: i18n.translate(language, "dnc.col." + c) for c in check.DNC_COLUMNS}
        data = in_worker(deps.db, check.dnc_export, headers,
                         lambda column, code: i18n.translate(language, f"dnc.source.{code}"),
                         i18n.translate(language, "dnc.title"))
        return HTTPResponse(data, headers={"Content-Type": XLSX,
                                           "Content-Disposition": 'attachment; filename="do-not-call.xlsx"'})

    @app.post("/admin/compliance/dnc/import", name="compliance_dnc_import", roles=STAFF,
              body_limit=IMPORT_BODY_LIMIT)
    def compliance_dnc_import():
        """An Excel file (read by the customers' import worker) into the list, all or nothing."""
        folder = Path(deps.extra.get("import_dir") or tempfile.gettempdir())
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, suffix=".upload.xlsx") as kept:
            try:
                uploaded_file().save(kept.name, overwrite=True)
                sheet = deps.customer_excel.read(Path(kept.name))  # a child process the greenlet waits on
                count = in_worker(deps.db, check.dnc_import, sheet, actor())
            except DomainError as exc:
                return on_error(exc, {})
        return page(notice=FieldError("dnc.imported", f"{count} numbers imported", n=count))

    @app.post("/admin/compliance/dnc/<number>/delete", name="compliance_dnc_delete", roles=STAFF)
    def compliance_dnc_delete(number):
        try:
            check.dnc_remove(number, actor())
        except DomainError as exc:
            return on_error(exc, {})
        bottle.redirect("/admin/compliance#dnc")

    @app.post("/admin/compliance/settings", name="compliance_settings_save", roles=ADMIN)
    def compliance_settings_save():
        values = {"window": request.forms.getunicode("window") or "",
                  "window_holidays": request.forms.get("window_holidays") == "on",
                  "default_pool": request.forms.getunicode("default_pool") or ""}
        try:
            check.save_settings(actor(), **values)
        except DomainError as exc:
            return on_error(exc, values)
        bottle.redirect("/admin/compliance#window")

    @app.post("/admin/compliance/pools", name="compliance_pool_add", roles=ADMIN)
    def compliance_pool_add():
        values = {k: (request.forms.getunicode(k) or "").strip() for k in ("pool", "number", "per_hour", "per_day")}
        try:
            caps = {}
            for name in ("per_hour", "per_day"):
                try:
                    caps[name] = int(values[name] or 0)
                except ValueError:
                    raise ValidationError("not a number", code="callerid.bad_number",
                                          fields={name: FieldError("field.range", "between 0 and 100000",
                                                                   min=0, max=100000)}) from None
            check.put_pool_number(values["pool"], values["number"], caps["per_hour"], caps["per_day"], actor())
        except DomainError as exc:
            return on_error(exc, values)
        bottle.redirect("/admin/compliance#pools")

    @app.post("/admin/compliance/pools/<pool>/<number>/delete", name="compliance_pool_delete", roles=ADMIN)
    def compliance_pool_delete(pool, number):
        try:
            check.remove_pool_number(pool, number, actor())
        except DomainError as exc:
            return on_error(exc, {})
        bottle.redirect("/admin/compliance#pools")

    # -- API ---------------------------------------------------------------------------------
    @app.get("/api/v1/dnc", name="api_dnc_list", scope="config", roles=STAFF,
             api=Operation({"tags": TAGS, "summary": "The do-not-call list, newest first (staff)",
                            "parameters": [{"name": "q", "in": "query", "schema": {"type": "string"},
                                            "description": "part of the number or the reason"}],
                            "responses": {"200": resp("the entries", {"type": "object", "properties": {
                                "items": {"type": "array", "items": DNC_SCHEMA}}}), **errors(401, 403)}}))
    def api_dnc_list():
        return {"items": [_jsonable(e) for e in check.dnc_list((request.query.getunicode("q") or "")[:40])]}

    @app.post("/api/v1/dnc", name="api_dnc_add", scope="customers:write", roles=EVERYONE,
              api=Operation({"tags": TAGS, "summary": "Put a number on the do-not-call list (audited)",
                             "description": "The number is kept normalised (E.164) and matches every form of "
                                            "it. Adding a number already there renews its entry (reason, expiry). "
                                            "Staff add any number; an agent only the caller of their screen pop "
                                            "(a live or recent call of theirs, or a customer of theirs), recorded "
                                            "with source `pop`. 422 `dnc.bad_number`, `dnc.bad_expiry`.",
                             "requestBody": body(DNC_ADD),
                             "responses": {"201": resp("the entry", DNC_SCHEMA), **errors(400, 401, 403, 422)}}))
    def api_dnc_add():
        entry = _jsonable(add(json_body()))
        response.status = 201
        return entry

    @app.delete("/api/v1/dnc/<number>", name="api_dnc_delete", scope="config", roles=STAFF,
                api=Operation({"tags": TAGS, "summary": "Take a number off the do-not-call list (staff, audited)",
                               "description": "Any form of the number. 404 `dnc.not_found`.",
                               "responses": {"204": {"description": "taken off"}, **errors(401, 403, 404)}}))
    def api_dnc_delete(number):
        check.dnc_remove(number, actor())
        return no_content()

    @app.get("/api/v1/call-refusals", name="api_call_refusals", scope="calls:read", roles=EVERYONE,
             api=Operation({"tags": TAGS, "summary": "Outbound calls compliance refused, newest first",
                            "description": "Each with the rule that refused it. Agents see the refusals on their "
                                           "own agents' lines.",
                            "parameters": [{"name": "limit", "in": "query",
                                            "schema": {"type": "integer", "minimum": 1, "maximum": 500}}],
                            "responses": {"200": resp("the refusals", {"type": "object", "properties": {
                                "items": {"type": "array", "items": REFUSAL_SCHEMA}}}), **errors(401, 422)}}))
    def api_call_refusals():
        me = viewer()
        limit = query_int("limit", 100, minimum=1, maximum=500)
        return {"items": [_jsonable(r) for r in check.refusals(agents=None if me.staff else tuple(me.agents),
                                                                limit=limit)]}

    @app.get("/api/v1/compliance/settings", name="api_compliance_settings", scope="config", roles=ADMIN,
             api=Operation({"tags": TAGS, "summary": "The calling window and the caller-ID pools",
                            "responses": {"200": resp("the settings", SETTINGS_SCHEMA), **errors(401, 403)}}))
    def api_compliance_settings():
        return check.settings()

    @app.put("/api/v1/compliance/settings", name="api_compliance_settings_update", scope="config", roles=ADMIN,
             api=Operation({"tags": TAGS, "summary": "Change the calling window or the default caller-ID pool",
                            "description": "A field left out is unchanged. 422 `compliance.bad_window` (with the "
                                           "schedule's own error), `callerid.no_pool`. Audited.",
                            "requestBody": body(SETTINGS_UPDATE),
                            "responses": {"200": resp("the settings", SETTINGS_SCHEMA),
                                          **errors(400, 401, 403, 422)}}))
    def api_compliance_settings_update():
        data = json_body()
        holidays = data.get("window_holidays")
        return check.save_settings(actor(), window=data.get("window"),
                                   window_holidays=holidays if isinstance(holidays, bool) else None,
                                   default_pool=data.get("default_pool"))

    @app.get("/api/v1/callerid-pools/<pool>", name="api_callerid_pool", scope="config", roles=ADMIN,
             api=Operation({"tags": TAGS, "summary": "A caller-ID pool's numbers with their use in the last hour "
                                                     "and day",
                            "responses": {"200": resp("the numbers", {"type": "object", "properties": {
                                "items": {"type": "array", "items": POOL_NUMBER}}}), **errors(401, 403)}}))
    def api_callerid_pool(pool):
        return {"items": check.pool_usage(pool)}

    @app.put("/api/v1/callerid-pools/<pool>/numbers/<number>", name="api_callerid_put", scope="config", roles=ADMIN,
             api=Operation({"tags": TAGS, "summary": "Add a number to a caller-ID pool or change its caps",
                            "description": "The pool is made by its first number. Caps per hour and per day "
                                           "(0: none); the least-used number under its caps is presented. "
                                           "422 `callerid.bad_number`. Audited.",
                            "requestBody": body(POOL_PUT),
                            "responses": {"200": resp("the number", POOL_NUMBER), **errors(400, 401, 403, 422)}}))
    def api_callerid_put(pool, number):
        data = json_body(optional=True)
        return check.put_pool_number(pool, number, data.get("per_hour", 0), data.get("per_day", 0), actor(),
                                     active=data.get("active", True) is not False)

    @app.delete("/api/v1/callerid-pools/<pool>/numbers/<number>", name="api_callerid_delete",
                scope="config", roles=ADMIN,
                api=Operation({"tags": TAGS, "summary": "Take a number out of a caller-ID pool (audited)",
                               "responses": {"204": {"description": "taken out"}, **errors(401, 403, 404)}}))
    def api_callerid_delete(pool, number):
        check.remove_pool_number(pool, number, actor())
        return no_content()
