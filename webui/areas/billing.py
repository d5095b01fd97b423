"""Billing (rating): the admin's rate plans and which trunk is rated by which, the month's
bill per trunk, team and agent (page, Excel), re-rating a past month; and their API
(``services/billing.py``). Admins manage plans and re-rate; supervisors read bills; agents
see none of it. Registered by ``install`` from ``make_app``; roles declared on each route.
"""

from __future__ import annotations

import datetime as dt

import bottle
from bottle import HTTPResponse, request, response

from appliance.db.worker import in_worker
from appliance.engine import rating
from appliance.errors import DomainError, ValidationError
from appliance.services.billing import BILL_KINDS
from appliance.services.site import zone_of
from webui import i18n
from webui.apidoc import Operation, body, errors, items, resp
from webui.http import ADMIN, STAFF, actor, created, json_body, lang, no_content, problem_of, render

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
YUAN = {"type": "string", "pattern": r"^\d+(\.\d{1,2})?$", "description": "yuan, at most two decimals"}
RATE_SCHEMA = {"type": "object", "required": ["class", "per_minute"], "properties": {
    "class": {"enum": list(rating.CLASSES)},
    "per_minute": {"type": "string", "pattern": r"^\d+(\.\d{1,4})?$", "description": "yuan a minute, at most four decimals"}}}
PLAN_FIELDS = {
    "name": {"type": "string", "maxLength": 64, "description": "any script"},
    "first_seconds": {"type": "integer", "minimum": 1, "maximum": 3600, "description": "the first billing unit"},
    "next_seconds": {"type": "integer", "minimum": 1, "maximum": 3600, "description": "every unit after the first"},
    "minimum": YUAN, "call_fee": YUAN, "trunk_rent": {**YUAN, "description": "a month, per trunk on this plan"},
    "agent_rent": {**YUAN, "description": "a month, per agent (the default plan's)"},
    "is_default": {"type": "boolean", "description": "rates the trunks given no plan"},
    "rates": {"type": "array", "items": RATE_SCHEMA, "description": "a price per destination class, each class once"}}
PLAN_SCHEMA = {"type": "object", "properties": {
    "id": {"type": "integer"}, **PLAN_FIELDS, "trunks": {"type": "array", "items": {"type": "string"}},
    "updated_at": {"type": "string"}, "updated_by": {"type": "string"}}}
PLAN_BODY = body({"type": "object", "required": ["name"], "properties": PLAN_FIELDS})
BILL_ROW = {"type": "object", "properties": {
    "name": {"type": "string", "description": "trunk, queue or work number; empty: none"},
    "label": {"type": "string", "description": "its display name (an agent's name); empty: none"},
    "calls": {"type": "integer"}, "answered": {"type": "integer"}, "talk_seconds": {"type": "integer"},
    "calls_fen": {"type": "integer"}, "rent_fen": {"type": "integer"}, "total_fen": {"type": "integer"},
    "unrated": {"type": "integer", "description": "answered calls with no price for their class"}}}
BILL_SCHEMA = {"type": "object", "properties": {
    "month": {"type": "string"}, "trunks": items(BILL_ROW), "teams": items(BILL_ROW), "agents": items(BILL_ROW),
    "total": {"type": "object"}}}
RERATE_SCHEMA = {"type": "object", "properties": {
    "month": {"type": "string"}, "calls": {"type": "integer"}, "changed": {"type": "integer"},
    "before_fen": {"type": "integer"}, "after_fen": {"type": "integer"}, "before": YUAN, "after": YUAN}}
MONEY_FIELDS = ("minimum", "call_fee", "trunk_rent", "agent_rent")


def plan_from_form(forms) -> dict:
    """The plan form's fields as the API's object: the unit as ``first/next`` seconds, one
    price box per class (empty: no price for that class)."""
    first, _, after = (forms.getunicode("unit") or "60/60").partition("/")
    data = {"name": forms.getunicode("name") or "", "first_seconds": first, "next_seconds": after or first,
            "is_default": forms.get("is_default") == "on",
            "rates": [{"class": c, "per_minute": forms.getunicode("rate_" + c).strip()} for c in rating.CLASSES
                      if (forms.getunicode("rate_" + c) or "").strip()]}
    data.update({k: forms.getunicode(k) or "" for k in MONEY_FIELDS})
    return data


def form_errors(fields: dict, data: dict) -> dict:
    """The service's ``rates.<i>.per_minute`` as the form's box of that class, ``rate_<class>``."""
    out = {}
    for key, error in fields.items():
        parts = key.split(".")
        if parts[0] == "rates" and len(parts) == 3 and parts[1].isdigit() and int(parts[1]) < len(data["rates"]):
            key = "rate_" + data["rates"][int(parts[1])]["class"]
        out[key] = error
    return out


def plan_body(null: str) -> dict:
    """The body that gives a trunk or a DID its plan: ``{"plan_id": 3}``, ``null`` meaning ``null``."""
    return body({"type": "object", "required": ["plan_id"], "properties": {
        "plan_id": {"type": ["integer", "null"], "description": null}}})


def plan_id_of(data: dict) -> int | None:
    plan_id = data.get("plan_id")
    if plan_id is not None and (isinstance(plan_id, bool) or not isinstance(plan_id, int)):
        raise ValidationError("plan_id is a plan's id or null", fields={"plan_id": "a plan's id or null"})
    return plan_id


def install(app, deps) -> None:
    service = deps.billing

    def this_month() -> str:
        zone = zone_of(deps.site.timezone() if deps.site is not None else None)
        return dt.datetime.now(zone).strftime("%Y-%m")

    def rates_page(problem=None):
        return render("rates.tpl", plans=service.plans(), trunks=service.trunks(), dids=service.dids(),
                      classes=rating.CLASSES,
                      yuan=rating.yuan, problem=problem)

    def plan_form(plan, values=None, field_errors=None, problem=None):
        return render("rate_plan.tpl", plan=plan, values=values, errors=field_errors or {}, problem=problem,
                      classes=rating.CLASSES, units=rating.UNITS)

    def bill_page(month: str, result=None, problem=None):
        bill = None
        try:
            bill = deps.queries.run(service.bill, month)
        except ValidationError as exc:
            problem = problem_of(exc)
        return render("billing.tpl", month=month, bill=bill, kinds=BILL_KINDS, yuan=rating.yuan, result=result,
                      problem=problem)

    # -- rate plans: the admin's pages --------------------------------------------------------
    @app.get("/admin/rates", name="admin_rates", roles=ADMIN)
    def admin_rates():
        return rates_page()

    @app.get("/admin/rates/new", name="admin_rate_new", roles=ADMIN)
    def admin_rate_new():
        return plan_form(None)

    @app.get("/admin/rates/<plan_id:int>", name="admin_rate_edit", roles=ADMIN)
    def admin_rate_edit(plan_id):
        return plan_form(service.plan(plan_id))

    def save_from_form(plan_id):
        data = plan_from_form(request.forms)
        try:
            service.save(plan_id, data, actor=actor())
        except DomainError as exc:
            if exc.http_status == 404:
                raise
            response.status = exc.http_status
            return plan_form(service.plan(plan_id) if plan_id else None, values=data,
                             field_errors=form_errors(exc.fields, data), problem=problem_of(exc))
        bottle.redirect("/admin/rates")

    @app.post("/admin/rates", name="admin_rate_create", roles=ADMIN)
    def admin_rate_create():
        return save_from_form(None)

    @app.post("/admin/rates/<plan_id:int>", name="admin_rate_update", roles=ADMIN)
    def admin_rate_update(plan_id):
        return save_from_form(plan_id)

    @app.post("/admin/rates/<plan_id:int>/delete", name="admin_rate_delete", roles=ADMIN)
    def admin_rate_delete(plan_id):
        service.delete(plan_id, actor=actor())
        bottle.redirect("/admin/rates")

    def assign_from_form(assign, name: str):
        plan = request.forms.get("plan") or ""
        try:
            assign(request.forms.getunicode(name) or "", int(plan) if plan.isdigit() else None, actor=actor())
        except DomainError as exc:
            response.status = exc.http_status
            return rates_page(problem_of(exc))
        bottle.redirect("/admin/rates")

    @app.post("/admin/rates/trunks", name="admin_rate_trunk", roles=ADMIN)
    def admin_rate_trunk():
        return assign_from_form(service.assign, "trunk")

    @app.post("/admin/rates/dids", name="admin_rate_did", roles=ADMIN)
    def admin_rate_did():
        return assign_from_form(service.assign_did, "did")

    # -- the month's bill ----------------------------------------------------------------------
    @app.get("/billing", name="billing", roles=STAFF)
    def billing_page():
        return bill_page(request.query.getunicode("month") or this_month())

    @app.post("/billing/rerate", name="billing_rerate", roles=ADMIN)
    def billing_rerate():
        month = request.forms.getunicode("month") or ""
        try:
            result = in_worker(deps.db, service.rerate, month, actor())
        except ValidationError as exc:
            response.status = exc.http_status
            return bill_page(month, problem=problem_of(exc))
        return bill_page(month, result=result)

    @app.get("/billing/export", name="billing_export", roles=STAFF)
    def billing_export():
        month = request.query.getunicode("month") or this_month()
        language = lang()
        headers = {c: i18n.translate(language, "billing.col." + c) for c in (
            "name", "calls", "answered", "talk_seconds", "calls_fen", "rent_fen", "total_fen", "unrated")}
        headers.update(month=i18n.translate(language, "billing.month"), total=i18n.translate(language, "billing.total"),
                       no_team=i18n.translate(language, "billing.none"))
        titles = {k: i18n.translate(language, f"billing.{k}s") for k in BILL_KINDS}
        data = in_worker(deps.db, service.export, month, headers, titles)
        return HTTPResponse(data, headers={"Content-Type": XLSX,
                                           "Content-Disposition": f'attachment; filename="bill-{month}.xlsx"'})

    # -- the API -------------------------------------------------------------------------------
    @app.get("/api/v1/rate-plans", name="api_rate_plans", scope="config", roles=ADMIN,
             api=Operation({"tags": ["billing"], "summary": "The rate plans, with their prices and trunks",
                            "responses": {"200": resp("the plans", items(PLAN_SCHEMA)), **errors(401, 403)}}))
    def api_rate_plans():
        return {"items": service.plans()}

    @app.post("/api/v1/rate-plans", name="api_rate_plan_create", scope="config", roles=ADMIN,
              api=Operation({"tags": ["billing"], "summary": "Add a rate plan",
                             "description": "Refused (422) with the reason on the field: a class priced twice "
                                            "(`rates.class_twice`), a negative amount (`rates.negative`), more "
                                            "decimals than the fen allows, a unit outside 1-3600 s.",
                             "requestBody": PLAN_BODY,
                             "responses": {"201": resp("added", PLAN_SCHEMA), **errors(400, 401, 403, 409, 422)}}))
    def api_rate_plan_create():
        return created(service.save(None, json_body(), actor=actor()))

    @app.get("/api/v1/rate-plans/<plan_id:int>", name="api_rate_plan", scope="config", roles=ADMIN,
             api=Operation({"tags": ["billing"], "summary": "One rate plan",
                            "responses": {"200": resp("the plan", PLAN_SCHEMA), **errors(401, 403, 404)}}))
    def api_rate_plan(plan_id):
        return service.plan(plan_id)

    @app.put("/api/v1/rate-plans/<plan_id:int>", name="api_rate_plan_update", scope="config", roles=ADMIN,
             api=Operation({"tags": ["billing"], "summary": "Replace a rate plan and its prices",
                            "description": "Calls from now on take the new prices; a past month takes them "
                                           "only when re-rated.",
                            "requestBody": PLAN_BODY,
                            "responses": {"200": resp("changed", PLAN_SCHEMA),
                                          **errors(400, 401, 403, 404, 409, 422)}}))
    def api_rate_plan_update(plan_id):
        return service.save(plan_id, json_body(), actor=actor())

    @app.delete("/api/v1/rate-plans/<plan_id:int>", name="api_rate_plan_delete", scope="config", roles=ADMIN,
                api=Operation({"tags": ["billing"], "summary": "Delete a rate plan",
                               "description": "Its trunks go back to the default plan, its DIDs to their trunk's; "
                                              "rated calls keep their cost.",
                               "responses": {"204": resp("deleted"), **errors(401, 403, 404)}}))
    def api_rate_plan_delete(plan_id):
        service.delete(plan_id, actor=actor())
        return no_content()

    @app.put("/api/v1/rate-plans/trunks/<trunk>", name="api_rate_plan_trunk", scope="config", roles=ADMIN,
             api=Operation({"tags": ["billing"], "summary": "Rate a trunk's calls by a plan",
                            "requestBody": plan_body("null: the default plan"),
                            "responses": {"204": resp("assigned"), **errors(400, 401, 403, 404, 422)}}))
    def api_rate_plan_trunk(trunk):
        service.assign(trunk, plan_id_of(json_body()), actor=actor())
        return no_content()

    @app.put("/api/v1/rate-plans/dids/<did>", name="api_rate_plan_did", scope="config", roles=ADMIN,
             api=Operation({"tags": ["billing"], "summary": "Rate a DID's incoming calls by a plan (a 400 number)",
                            "description": "The plan's `inbound` price rates the incoming calls on this DID in place "
                                           "of their trunk's plan; no `inbound` price: they are not rated.",
                            "requestBody": plan_body("null: the trunk's plan"),
                            "responses": {"204": resp("assigned"), **errors(400, 401, 403, 404, 422)}}))
    def api_rate_plan_did(did):
        service.assign_did(did, plan_id_of(json_body()), actor=actor())
        return no_content()

    @app.get("/api/v1/bills/<month>", name="api_bill", scope="reports:read", roles=STAFF,
             api=Operation({"tags": ["billing"], "summary": "A month's bill per trunk, team and agent",
                            "description": "The office's month (YYYY-MM). Money in integer fen (`*_fen`); rents "
                                           "by trunk and agent, for the part of the month each existed (from the "
                                           "audit log); the total counts each call once.",
                            "responses": {"200": resp("the bill", BILL_SCHEMA), **errors(401, 403, 422)}}))
    def api_bill(month):
        return deps.queries.run(service.bill, month)

    @app.post("/api/v1/bills/<month>/rerate", name="api_bill_rerate", scope="config", roles=ADMIN,
              api=Operation({"tags": ["billing"], "summary": "Re-rate a month under the plans as they are now",
                             "description": "Every call of the month rated again; audited with the month's total "
                                            "before and after.",
                              "responses": {"200": resp("the totals before and after", RERATE_SCHEMA),
                                           **errors(401, 403, 422)}}))
    def api_bill_rerate(month):
        return in_worker(deps.db, service.rerate, month, actor())
