"""Customer records in the web UI and the API: list and search, detail with contact
history, notes and follow-ups, team leaders' assign / reclaim / transfer, and the shared
pool (公海) of customers of nobody that agents claim when an admin has turned it on.

Routes are registered on the app by ``install(app, deps)`` from ``make_app``;
who may call them is declared on each route (``roles=``) like every other route, and the service
(``appliance.services.crm``) keeps an agent to their own customers.
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

import bottle
from bottle import HTTPResponse, request, response

from appliance.db.worker import in_worker
from appliance.errors import DomainError, FieldError, NotFound, ValidationError
from appliance.services.crm import FIELDS, FOLLOW_UP_KINDS, MAX_PER_PAGE, MAX_POOL_LIMIT, OWNER, PER_PAGE, POOL
from appliance.services.customer_excel import COLUMNS
from appliance.services.customer_mail import with_mails
from appliance.services.orders import with_orders
from webui.apidoc import Operation, body, errors, items, ref, resp
from webui import i18n
from webui.params import page_arg, query_int
from webui.http import (ADMIN, EVERYONE, STAFF, agent_directory, created, current_user, json_body, lang, live_calls,
                        no_content, problem_of, render, safe_next, viewer)
from webui.areas.customer_import import IMPORT_BODY_LIMIT, column_aliases, import_store, uploaded_file

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# What the customer form shows of the customer's own fields, in order (pin: staff only).
FORM_FIELDS = tuple(f for f in FIELDS if f.name != "account_manager")


def form_customer(custom_fields) -> dict:
    """The customer form as the API's JSON: own fields, then ``custom.<name>`` inputs."""
    data = {}
    for f in FORM_FIELDS:
        value = request.forms.getunicode(f.name)
        if value is None or (f.secret and value == ""):
            continue
        data[f.name] = value
    if "account_manager" in request.forms:
        data["account_manager"] = request.forms.getunicode("account_manager") or None
    custom = {}
    for c in custom_fields:
        value = request.forms.getunicode("custom." + c.name)
        if value is not None:
            custom[c.name] = value
    if custom:
        data["custom"] = custom
    return data


def json_text(data) -> str:
    return json.dumps(data, ensure_ascii=False, default=str)


def search_args() -> dict:
    q = request.query
    return {"q": q.getunicode("q") or "", "tag": q.getunicode("tag") or "", "category": q.getunicode("category") or "",
            "manager": q.getunicode("manager") or ""}


def export_headers(lang: str, custom_fields) -> dict[str, str]:
    return {**{c: i18n.translate(lang, f"field.customers.{c}") for c in COLUMNS},
            **{"custom." + c.name: c.label for c in custom_fields}}


def page_link(args: dict, page: int) -> str:
    """The list page ``page`` of the same search."""
    query = {k: v for k, v in {**args, "page": page if page > 1 else ""}.items() if v}
    return "/customers" + ("?" + urlencode(query) if query else "")


# -- schemas the API descriptions below share ----------------------------------------------
CUSTOMER_SCHEMA, HISTORY_SCHEMA, FOLLOW_UP_SCHEMA = ref("Customer"), ref("HistoryItem"), ref("FollowUp")
SEARCH_PARAMETERS = [{"name": name, "in": "query", "required": False, "description": text, "schema": {"type": "string"}}
                     for name, text in (("q", "part of a phone number (digits) or of a name"),
                                        ("tag", "customers with this tag"), ("category", "customers in this category"),
                                        ("manager", "the account manager's work number; `-` for customers of nobody"))]
SEARCH_PARAMETERS += [{"name": "page", "in": "query", "required": False, "schema": {"type": "integer", "minimum": 1}},
                      {"name": "per_page", "in": "query", "required": False,
                       "schema": {"type": "integer", "minimum": 1, "maximum": 200, "default": 50}}]
PAGE_SCHEMA = {"type": "object", "required": ["items", "total", "page", "pages", "per_page"], "properties": {
    "items": {"type": "array", "items": CUSTOMER_SCHEMA}, "total": {"type": "integer"}, "page": {"type": "integer"},
    "pages": {"type": "integer"}, "per_page": {"type": "integer"}}}
SCOPE_NOTE = " An agent sees only the customers they manage; others are `404`."
READ_NOTE = (" An agent reads the customers they manage, the customers of nobody while the shared pool is on, "
             "and the caller of a call ringing or connected to one of their agents (or taken by one in the last "
             "30 minutes); any other customer is `404`. Only their own customers can they change.")
POOL_SETTINGS_SCHEMA = {"type": "object", "required": ["enabled", "limit"], "properties": {
    "enabled": {"type": "boolean", "description": "agents see and claim the customers of nobody (off until an "
                                                  "admin turns it on)"},
    "limit": {"type": "integer", "minimum": 0, "maximum": MAX_POOL_LIMIT,
              "description": "the most customers an agent may hold when claiming one; 0: no limit"}}}
POOL_PAGE_SCHEMA = {**PAGE_SCHEMA, "properties": {**PAGE_SCHEMA["properties"], "pool": POOL_SETTINGS_SCHEMA,
                                                  "held": {"type": "integer",
                                                           "description": "how many customers your agents hold"}}}


def install(app, deps) -> None:
    crm = deps.crm
    excel = deps.customer_excel
    uploads = import_store(deps)

    def actor() -> str:
        return current_user()["username"]

    def my_agent() -> str | None:
        """The work number this user dials from (their first agent), if any."""
        mine = sorted(viewer().agents)
        return mine[0] if mine else None

    # -- pages ---------------------------------------------------------------------
    def show_list(problem=None):
        args = search_args()
        me = viewer()
        page = page_arg()
        result, tags, follow_ups = deps.queries.run(lambda: (crm.search(me, page=page, **args), crm.tags(),
                                                             crm.follow_ups(me, limit=20)))
        return render("customers.tpl", result=result, args=args, tags=tags, agents=agent_directory().all(),
                      follow_ups=follow_ups, my_agent=my_agent(), problem=problem,
                      staff=me.staff, pool_on=crm.pool_settings().enabled, page_url=lambda n: page_link(args, n),
                      export_url=page_link(args, 1).replace("/customers", "/customers/export", 1))

    @app.get("/customers", name="customers", roles=EVERYONE)
    def customers():
        return show_list()

    def show_form(customer=None, errors=None, values=None, problem=None, status=200):
        response.status = status
        return render("customer_form.tpl", customer=customer, errors=errors or {}, values=values or {},
                      fields=FORM_FIELDS, custom_fields=crm.custom_fields(), agents=agent_directory().all(),
                      staff=viewer().staff, problem=problem)

    @app.get("/customers/new", name="customer_new", roles=EVERYONE)
    def customer_new():
        # ``phone``: the screen pop's unknown caller, filled in for the agent to save
        phone = (request.query.getunicode("phone") or "").strip()[:32]
        return show_form(values={"phone": phone} if phone else None)

    @app.post("/customers", name="customer_create", roles=EVERYONE)
    def customer_create():
        data = form_customer(crm.custom_fields())
        try:
            made = crm.create(viewer(), data, actor=actor())
        except DomainError as exc:
            return show_form(errors=exc.fields, values=data, problem=None if exc.fields else problem_of(exc),
                             status=exc.http_status)
        bottle.redirect(f"/customers/{made['id']}")

    def show_detail(customer_id, errors=None, values=None, problem=None, status=200, note_error=None,
                    follow_up_errors=None, mail_problem=None, tell_problem=None):
        me = viewer()
        calls = live_calls()
        record = crm.record(me, customer_id, calls)
        cid = record["customer"]["id"]
        orders = deps.extra["orders"]  # the orders area's OrderService
        work_orders = deps.workorders.search(me, state="all", customer_id=cid) if deps.workorders else []
        response.status = status
        return render("customer.tpl", customer=record["customer"],
                      history=with_mails(with_orders(record["history"], cid), cid),
                      ledger=orders.points(me, cid, calls), order_status=orders.status_for(me, cid, lang(), calls),
                      work_orders=sorted(work_orders, key=lambda w: w["closed_at"] is not None),
                      mail_templates=deps.customer_mail.templates(), mail_problem=mail_problem,
                      tell_problem=tell_problem, colleagues=[u for u in deps.workspace.recipients()
                                                             if u["username"] != me.username],
                      mailed=request.query.get("mailed"), told=request.query.getunicode("told"),
                      follow_ups=record["follow_ups"], access=record["access"], claims=record["claims"],
                      OWNER=OWNER, POOL=POOL,
                      errors=errors or {}, values=values or {}, fields=FORM_FIELDS,
                      custom_fields=crm.custom_fields(), agents=agent_directory().all(), staff=me.staff,
                      my_agent=my_agent(), problem=problem, note_error=note_error,
                      follow_up_errors=follow_up_errors or {}, follow_up_kinds=FOLLOW_UP_KINDS)

    @app.get("/customers/<customer_id:int>", name="customer_detail", roles=EVERYONE)
    def customer_detail(customer_id):
        return show_detail(customer_id)

    @app.post("/customers/<customer_id:int>", name="customer_update", roles=EVERYONE)
    def customer_update(customer_id):
        data = form_customer(crm.custom_fields())
        try:
            crm.update(viewer(), customer_id, data, actor=actor())
        except DomainError as exc:
            if exc.http_status == 404:
                raise
            return show_detail(customer_id, errors=exc.fields, values=data, status=exc.http_status,
                               problem=None if exc.fields else problem_of(exc))
        bottle.redirect(f"/customers/{customer_id}")

    # -- the shared pool (公海) -------------------------------------------------------------
    def show_pool(problem=None, status=200):
        me = viewer()
        q = request.query.getunicode("q") or ""
        settings = crm.pool_settings()
        result = None
        if me.staff or settings.enabled:
            result = deps.queries.run(crm.pool, me, q=q, page=page_arg())
        response.status = status
        return render("customer_pool.tpl", result=result, q=q, settings=settings, problem=problem, staff=me.staff, admin=current_user()["role"] == "admin",
                      can_claim=bool(me.agents) and settings.enabled, max_limit=MAX_POOL_LIMIT,
                      page_url=lambda n: "/customers/pool?" + urlencode({k: v for k, v in (("q", q), ("page", n))
                                                                          if v and v != 1}))

    @app.get("/customers/pool", name="customers_pool", roles=EVERYONE)
    def customers_pool():
        return show_pool()

    @app.post("/customers/pool/settings", name="customers_pool_settings", roles=ADMIN)
    def customers_pool_settings():
        try:
            crm.save_pool_settings({"enabled": request.forms.getunicode("enabled") == "on",
                                    "limit": request.forms.getunicode("limit") or "0"}, actor=actor())
        except DomainError as exc:
            return show_pool(problem=problem_of(exc), status=exc.http_status)
        bottle.redirect("/customers/pool")

    @app.post("/customers/<customer_id:int>/claim", name="customer_claim", roles=EVERYONE)
    def customer_claim(customer_id):
        try:
            crm.claim(viewer(), customer_id, actor=actor())
        except DomainError as exc:
            if exc.http_status == 404:
                raise
            return show_pool(problem=problem_of(exc), status=exc.http_status)
        bottle.redirect(f"/customers/{customer_id}")

    @app.post("/customers/<customer_id:int>/delete", name="customer_delete", roles=STAFF)
    def customer_delete(customer_id):
        crm.delete(viewer(), customer_id, actor=actor())
        bottle.redirect("/customers")

    @app.post("/customers/<customer_id:int>/notes", name="customer_note_add", roles=EVERYONE)
    def customer_note_add(customer_id):
        try:
            crm.add_note(viewer(), customer_id, request.forms.getunicode("body") or "", actor=actor())
        except DomainError as exc:
            if exc.http_status == 404:
                raise
            return show_detail(customer_id, status=exc.http_status, note_error=exc.fields.get("body", exc.message),
                               values={"note": request.forms.getunicode("body") or ""})
        bottle.redirect(f"/customers/{customer_id}#history")

    @app.post("/customers/<customer_id:int>/mails", name="customer_mail_send", roles=EVERYONE)
    def customer_mail_send(customer_id):
        try:
            deps.customer_mail.send(viewer(), customer_id, request.forms.get("template"), actor(),
                                    live_calls=live_calls())
        except DomainError as exc:
            if exc.http_status == 404 and exc.code == "customers.not_found":
                raise
            return show_detail(customer_id, status=exc.http_status, mail_problem=problem_of(exc))
        bottle.redirect(f"/customers/{customer_id}?mailed=1#mail")

    @app.post("/customers/<customer_id:int>/order-status", name="customer_order_status_tell", roles=EVERYONE)
    def customer_order_status_tell(customer_id):
        to = request.forms.getunicode("to") or ""
        try:
            deps.extra["orders"].tell_status(viewer(), customer_id, to, actor(), deps.workspace.send, live_calls())
        except DomainError as exc:
            if exc.http_status == 404:
                raise
            return show_detail(customer_id, status=exc.http_status, tell_problem=problem_of(exc))
        bottle.redirect(f"/customers/{customer_id}?{urlencode({'told': to})}#order-status")

    @app.post("/customers/<customer_id:int>/follow-ups", name="customer_follow_up_add", roles=EVERYONE)
    def customer_follow_up_add(customer_id):
        data = {k: request.forms.getunicode(k) or "" for k in ("kind", "due_at", "note", "agent")}
        try:
            crm.add_follow_up(viewer(), customer_id, data, actor=actor())
        except DomainError as exc:
            if exc.http_status == 404:
                raise
            return show_detail(customer_id, status=exc.http_status, follow_up_errors=exc.fields,
                               values={"follow_up": data})
        bottle.redirect(f"/customers/{customer_id}#follow-ups")

    @app.post("/follow-ups/<follow_up_id:int>/done", name="follow_up_done", roles=EVERYONE)
    def follow_up_done(follow_up_id):
        done = crm.complete_follow_up(viewer(), follow_up_id, actor=actor())
        bottle.redirect(safe_next(request.forms.getunicode("next"), f"/customers/{done['customer_id']}"))

    @app.post("/customers/assign", name="customers_assign", roles=STAFF)
    def customers_assign():
        ids = request.forms.getall("customer")
        # The page's choice is explicit: an agent, or "-" for nobody (reclaim).  Nothing chosen
        # is refused: a default that reclaimed took account managers (and VIP routing) away.
        chosen = request.forms.getunicode("agent") or ""
        try:
            if not chosen:
                raise ValidationError(FieldError("error.msg.choose_assignee", "choose whom to assign the customers to"),
                                      fields={"agent": FieldError("field.required", "required")})
            crm.assign(ids, None if chosen == "-" else chosen, actor=actor())
        except DomainError as exc:
            response.status = exc.http_status
            return show_list(problem=problem_of(exc))
        bottle.redirect(safe_next(request.forms.getunicode("next"), "/customers"))

    @app.post("/customers/transfer", name="customers_transfer", roles=STAFF)
    def customers_transfer():
        try:
            crm.transfer(request.forms.getunicode("from") or "", request.forms.getunicode("to") or "",
                         actor=actor())
        except DomainError as exc:
            response.status = exc.http_status
            return show_list(problem=problem_of(exc))
        bottle.redirect("/customers")

    # -- Excel export, and the API's import (the pages' import: webui/areas/customer_import.py) --
    def export_response(lang: str) -> HTTPResponse:
        me = viewer()
        args = search_args()
        with tempfile.NamedTemporaryFile(suffix=".xlsx") as tmp:
            in_worker(deps.db, lambda: excel.export(crm.matching(me, **args),
                                                    export_headers(lang, crm.custom_fields()), Path(tmp.name),
                                                    i18n.translate(lang, "nav.customers")))
            body = Path(tmp.name).read_bytes()
        name = time.strftime("customers-%Y%m%d-%H%M.xlsx")
        return HTTPResponse(body, headers={"Content-Type": XLSX,
                                           "Content-Disposition": f'attachment; filename="{name}"'})

    @app.get("/customers/export", name="customers_export", roles=STAFF)
    def customers_export():
        return export_response(lang())

    @app.get("/api/v1/customers/export", name="api_customers_export", scope="customers:read", roles=STAFF,
             api=Operation({"tags": ["customers"], "summary": "The customers of a search as an Excel file",
                            "description": "Same filters as the search, every page. Column titles in `lang` "
                                           "(`en` or `zh_CN`); an import takes the file back.",
                            "parameters": [p for p in SEARCH_PARAMETERS if p["name"] not in ("page", "per_page")] + [
                                {"name": "lang", "in": "query", "required": False,
                                 "schema": {"enum": ["en", "zh_CN"], "default": "en"}}],
                            "responses": {"200": {"description": "the workbook", "content": {
                                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {
                                    "schema": {"type": "string", "contentMediaType": "application/octet-stream"}}}},
                                **errors(401, 403)}}))
    def api_customers_export():
        return export_response(request.query.get("lang") if request.query.get("lang") in i18n.LANGUAGES else "en")

    @app.post("/api/v1/customers/import", name="api_customers_import", scope="customers:write", roles=STAFF,
              api=Operation({"tags": ["customers"], "summary": "Check, and with confirm=1 import, an Excel file",
                             "description": "The whole file is checked first (columns, every row, phones twice "
                                            "in the file or already customers); with any problem nothing is "
                                            "imported and the 422 carries the `report`. With `confirm=1` a file "
                                            "without problems is imported in one transaction. A file that is no "
                                            "workbook is 422 `import.not_xlsx`; over the caps (200,000 rows, "
                                            "5,000,000 cells, a zip that unpacks too far) `import.too_many_rows`, "
                                            "`import.too_many_cells`, `import.too_large`.",
                             "parameters": [{"name": "confirm", "in": "query", "required": False,
                                             "schema": {"enum": ["0", "1"], "default": "0"}}],
                             "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
                                 "type": "object", "required": ["file"], "properties": {
                                     "file": {"type": "string", "contentMediaType": "application/octet-stream"}}}}}},
                             "responses": {"200": resp("checked (and imported)", {"type": "object", "properties": {
                                 "report": ref("ImportReport"), "imported": {"type": "integer"}}}),
                                 **errors(401, 403, 422)}}), body_limit=IMPORT_BODY_LIMIT)
    def api_customers_import():
        path = uploads.upload_path()
        try:
            uploaded_file().save(str(path))
            sheet = excel.read(path)
            report, _rows = in_worker(deps.db, excel.check_sheet, sheet, column_aliases())
            if not report.ok:
                return HTTPResponse(json_text({"error": "import.has_errors", "message": f"the file has "
                                               f"{report.error_count} problems; nothing was imported",
                                               "fields": {"file": "has errors"}, "report": report.as_dict()}),
                                    status=422, headers={"Content-Type": "application/json; charset=utf-8"})
            if request.query.get("confirm") not in ("1", "true", "yes"):
                return {"report": report.as_dict(), "imported": 0}
            count = in_worker(deps.db, excel.import_sheet, sheet, actor(), path.name, column_aliases())
            return {"report": report.as_dict(), "imported": count}
        finally:
            path.unlink(missing_ok=True)

    # -- JSON API ------------------------------------------------------------------
    @app.get("/api/v1/customers", name="api_customers", scope="customers:read", roles=EVERYONE,
             api=Operation({"tags": ["customers"], "summary": "Search customers, one page at a time",
                            "description": "Newest first; by name when searching by name." + SCOPE_NOTE,
                            "parameters": SEARCH_PARAMETERS, "responses": {"200": resp("one page", PAGE_SCHEMA), **errors(401, 422)}}))
    def api_customers():
        return deps.queries.run(crm.search, viewer(), page=page_arg(),
                                per_page=query_int("per_page", PER_PAGE, 1, MAX_PER_PAGE), **search_args())

    @app.post("/api/v1/customers", name="api_customer_create", scope="customers:write", roles=EVERYONE,
              api=Operation({"tags": ["customers"], "summary": "Create a customer",
                             "description": "An agent's new customer is theirs (they are its account manager).",
                             "requestBody": body(ref("CustomerCreate")),
                             "responses": {"201": resp("created", CUSTOMER_SCHEMA),
                                           **errors(400, 401, 403, 409, 422)}}))
    def api_customer_create():
        return created(crm.create(viewer(), json_body(), actor=actor()))

    @app.get("/api/v1/customers/pool", name="api_customers_pool", scope="customers:read", roles=EVERYONE,
             api=Operation({"tags": ["customers"], "summary": "The shared pool (公海): customers of nobody",
                            "description": "One page, newest first (by name when `q` is a name), with the "
                                           "pool's settings and how many customers your agents hold. Staff "
                                           "always; an agent only while an admin has the pool on (off: no "
                                           "items, and `pool.enabled` false).",
                            "parameters": [p for p in SEARCH_PARAMETERS if p["name"] in ("q", "page", "per_page")],
                            "responses": {"200": resp("one page", POOL_PAGE_SCHEMA), **errors(401, 422)}}))
    def api_customers_pool():
        return deps.queries.run(crm.pool, viewer(), q=request.query.getunicode("q") or "", page=page_arg(),
                                per_page=query_int("per_page", PER_PAGE, 1, MAX_PER_PAGE))

    @app.get("/api/v1/customers/pool/settings", name="api_customers_pool_settings",
             scope="customers:read", roles=EVERYONE,
             api=Operation({"tags": ["customers"], "summary": "Whether the shared pool is on, and its limit",
                            "responses": {"200": resp("the settings", POOL_SETTINGS_SCHEMA), **errors(401)}}))
    def api_customers_pool_settings():
        return crm.pool_settings().as_dict()

    @app.put("/api/v1/customers/pool/settings", name="api_customers_pool_settings_update", scope="config", roles=ADMIN,
             api=Operation({"tags": ["customers"], "summary": "Turn the shared pool on or off, set its limit",
                            "description": "Off (the default): the customers of nobody (imported ones, say) "
                                           "stay with the team leaders to assign. On: every agent sees them "
                                           "and may claim them. Audited.",
                            "requestBody": body(POOL_SETTINGS_SCHEMA),
                            "responses": {"200": resp("saved", POOL_SETTINGS_SCHEMA),
                                          **errors(400, 401, 403, 422)}}))
    def api_customers_pool_settings_update():
        return crm.save_pool_settings(json_body(), actor=actor()).as_dict()

    @app.post("/api/v1/customers/<customer_id:int>/claim", name="api_customer_claim",
              scope="customers:write", roles=EVERYONE,
              api=Operation({"tags": ["customers"], "summary": "Claim a customer of the shared pool",
                             "description": "The customer becomes your agent's (its account manager), recorded "
                                            "in the audit log and shown on the customer's page. Of two agents "
                                            "claiming at once one wins; the other gets 409 `customers.claimed`. "
                                            "Over the pool's limit: 409 `customers.claim_limit`. The pool off: "
                                            "409 `customers.pool_off`; an account without an agent: 403 "
                                            "`customers.no_agent`. Claiming your own customer again changes "
                                            "nothing.",
                             "responses": {"200": resp("yours now", CUSTOMER_SCHEMA),
                                           **errors(401, 403, 404, 409)}}))
    def api_customer_claim(customer_id):
        return crm.claim(viewer(), customer_id, actor=actor())

    @app.get("/api/v1/customers/<customer_id:int>", name="api_customer", scope="customers:read", roles=EVERYONE,
             api=Operation({"tags": ["customers"], "summary": "One customer",
                            "description": READ_NOTE.strip(),
                            "responses": {"200": resp("the customer", CUSTOMER_SCHEMA), **errors(401, 404)}}))
    def api_customer(customer_id):
        return crm.read(viewer(), customer_id, live_calls())

    @app.route("/api/v1/customers/<customer_id:int>", method="PATCH", name="api_customer_update",
               scope="customers:write", roles=EVERYONE,
               api=Operation({"tags": ["customers"], "summary": "Change some fields of a customer",
                              "description": "Custom fields not sent keep their values. Only staff change "
                                             "the account manager." + SCOPE_NOTE,
                              "requestBody": body(ref("CustomerUpdate")),
                              "responses": {"200": resp("changed", CUSTOMER_SCHEMA),
                                            **errors(400, 401, 403, 404, 409, 422)}}))
    def api_customer_update(customer_id):
        return crm.update(viewer(), customer_id, json_body(), actor=actor())

    @app.delete("/api/v1/customers/<customer_id:int>", name="api_customer_delete", scope="customers:write", roles=STAFF,
                api=Operation({"tags": ["customers"], "summary": "Delete a customer with its notes and follow-ups",
                               "responses": {"204": resp("deleted"), **errors(401, 403, 404)}}))
    def api_customer_delete(customer_id):
        crm.delete(viewer(), customer_id, actor=actor())
        return no_content()

    @app.get("/api/v1/customers/<customer_id:int>/history", name="api_customer_history",
             scope="customers:read", roles=EVERYONE,
             api=Operation({"tags": ["customers"], "summary": "Contact history: calls, notes, orders and e-mails, newest first",
                            "description": "Calls come from the call records, matched on the customer's "
                                           "phone number (with or without +)." + READ_NOTE,
                            "responses": {"200": resp("history", items(HISTORY_SCHEMA)), **errors(401, 404)}}))
    def api_customer_history(customer_id):
        items = crm.read_history(viewer(), customer_id, live_calls())
        return {"items": with_mails(with_orders(items, customer_id), customer_id)}

    @app.post("/api/v1/customers/<customer_id:int>/notes", name="api_customer_note_add",
              scope="customers:write", roles=EVERYONE,
              api=Operation({"tags": ["customers"], "summary": "Add a note to the contact history",
                             "requestBody": body({"type": "object", "required": ["body"], "properties": {
                                 "body": {"type": "string", "maxLength": 4000},
                                 "linkedid": {"type": "string", "description": "the call it is about"}}}),
                             "responses": {"201": resp("saved", HISTORY_SCHEMA), **errors(400, 401, 404, 422)}}))
    def api_customer_note_add(customer_id):
        body = json_body()
        return created(crm.add_note(viewer(), customer_id, body.get("body"), actor=actor(),
                                    linkedid=body.get("linkedid") or ""))

    @app.get("/api/v1/customers/<customer_id:int>/follow-ups", name="api_customer_follow_ups",
             scope="customers:read", roles=EVERYONE,
             api=Operation({"tags": ["customers"], "summary": "A customer's follow-ups, open ones first",
                            "responses": {"200": resp("follow-ups", items(FOLLOW_UP_SCHEMA)),
                                          **errors(401, 404)}}))
    def api_customer_follow_ups(customer_id):
        return {"items": crm.follow_ups(viewer(), customer_id=customer_id, open_only=False)}

    @app.post("/api/v1/customers/<customer_id:int>/follow-ups", name="api_customer_follow_up_add",
              scope="customers:write", roles=EVERYONE,
              api=Operation({"tags": ["customers"], "summary": "Plan a follow-up or call-back",
                             "description": "For the customer's account manager unless `agent` says "
                                            "otherwise (staff only).",
                             "requestBody": body({"type": "object", "required": ["due_at"], "properties": {
                                 "kind": {"enum": ["follow_up", "call_back"], "default": "follow_up"},
                                 "due_at": {"type": "string", "description": "YYYY-MM-DD HH:MM on the site's clock (its time zone, set in the first-run wizard)"},
                                 "note": {"type": "string", "maxLength": 500},
                                 "agent": {"type": "string", "description": "a work number"}}}),
                             "responses": {"201": resp("planned", FOLLOW_UP_SCHEMA),
                                           **errors(400, 401, 404, 422)}}))
    def api_customer_follow_up_add(customer_id):
        return created(crm.add_follow_up(viewer(), customer_id, json_body(), actor=actor()))

    @app.get("/api/v1/follow-ups", name="api_follow_ups", scope="customers:read", roles=EVERYONE,
             api=Operation({"tags": ["customers"], "summary": "Open follow-ups due by your agents (staff: everyone's)",
                            "responses": {"200": resp("earliest first", items(FOLLOW_UP_SCHEMA)), **errors(401)}}))
    def api_follow_ups():
        return {"items": crm.follow_ups(viewer())}

    @app.post("/api/v1/follow-ups/<follow_up_id:int>/done", name="api_follow_up_done",
              scope="customers:write", roles=EVERYONE,
              api=Operation({"tags": ["customers"], "summary": "Mark a follow-up done",
                             "responses": {"200": resp("done", FOLLOW_UP_SCHEMA), **errors(401, 404)}}))
    def api_follow_up_done(follow_up_id):
        return crm.complete_follow_up(viewer(), follow_up_id, actor=actor())

    @app.post("/api/v1/customers/assign", name="api_customers_assign", scope="customers:write", roles=STAFF,
              api=Operation({"tags": ["customers"], "summary": "Assign customers to an agent, or reclaim them",
                             "description": "`agent` null: the customers go back to nobody (reclaimed).",
                             "requestBody": body({"type": "object", "required": ["customers"], "properties": {
                                 "customers": {"type": "array", "items": {"type": "integer"}},
                                 "agent": {"type": ["string", "null"]}}}),
                             "responses": {"200": resp("how many", {"type": "object", "properties": {
                                 "assigned": {"type": "integer"}}}), **errors(400, 401, 403, 404, 422)}}))
    def api_customers_assign():
        body = json_body()
        return {"assigned": crm.assign(body.get("customers"), body.get("agent") or None, actor=actor())}

    @app.post("/api/v1/customers/transfer", name="api_customers_transfer", scope="customers:write", roles=STAFF,
              api=Operation({"tags": ["customers"], "summary": "Transfer every customer of one agent to another",
                             "requestBody": body({"type": "object", "required": ["from", "to"], "properties": {
                                 "from": {"type": "string"}, "to": {"type": "string"}}}),
                             "responses": {"200": resp("how many", {"type": "object", "properties": {
                                 "transferred": {"type": "integer"}}}), **errors(400, 401, 403, 422)}}))
    def api_customers_transfer():
        body = json_body()
        return {"transferred": crm.transfer(str(body.get("from") or ""), str(body.get("to") or ""), actor=actor())}
