"""Work orders in the web UI and the API (``appliance/services/workorders.py``): the list
and one order (history, moving it on, assigning, a dispatch link, the printable dispatch
sheet), a new order (from the screen pop, a customer's page or a voice message), the
admins' types with their workflow editor, the statistics (page and Excel), and the field
engineer's phone page reached by a signed link (``/dispatch/<token>``, no sign-in).

Staff see every order; an agent those assigned to their agents or their teams, about their
customers, or opened by them (the service scopes).  Registered by ``install`` from ``make_app``.
"""

from __future__ import annotations

import datetime as dt

import bottle
from bottle import HTTPResponse, request

from appliance import labels
from appliance.errors import DomainError, FieldError, TooLarge, Unavailable
from appliance.services.workorders import MAX_PHOTO_BYTES, MAX_PHOTOS
from webui.apidoc import Operation, body, errors, items, resp
from webui.edge import MULTIPART_OVERHEAD
from webui.http import (ADMIN, EVERYONE, PUBLIC, STAFF, actor, agent_directory, created, json_body, lang,
                        live_calls, problem_of, render, viewer)

DISPATCH_BODY_LIMIT = MAX_PHOTOS * MAX_PHOTO_BYTES + MULTIPART_OVERHEAD
TYPE_ROWS = {"states": 3, "transitions": 4, "fields": 2}  # blank rows the editor offers beyond the saved ones

STATE = {"type": "object", "properties": {
    "name": {"type": "string", "pattern": "^[a-z][a-z0-9_]{0,31}$"}, "label": {"type": "string", "maxLength": 64},
    "initial": {"type": "boolean"}, "final": {"type": "boolean"},
    "limit_minutes": {"type": "integer", "minimum": 0, "maximum": 525600,
                      "description": "past this in the state the order escalates; 0: no limit"}}}
TYPE_SCHEMA = {"type": "object", "properties": {
    "id": {"type": "integer"}, "name": {"type": "string"}, "label": {"type": "string"},
    "fields": {"type": "array", "description": "as the customers' custom fields",
               "items": {"type": "object", "properties": {
                   "name": {"type": "string"}, "label": {"type": "string"},
                   "type": {"enum": ["text", "number", "date", "choice"]}, "required": {"type": "boolean"},
                   "choices": {"type": "string"}}}},
    "states": {"type": "array", "items": STATE},
    "transitions": {"type": "array", "items": {"type": "array", "items": {"type": "string"},
                                               "minItems": 2, "maxItems": 2}},
    "priorities": {"type": ["array", "string"], "description": "lowest first (comma-separated when sent)"},
    "leader_email": {"type": "string"}, "manager_email": {"type": "string"},
    "from_survey": {"type": "boolean", "description": "a low survey score opens an order of this type"},
    "active": {"type": "boolean"}}}
ORDER_SCHEMA = {"type": "object", "properties": {
    "id": {"type": "integer"}, "type": {"type": "integer"}, "type_name": {"type": "string"},
    "title": {"type": "string"}, "state": {"type": "string"}, "final": {"type": "boolean"},
    "priority": {"type": "string"}, "customer": {"type": ["object", "null"]},
    "linkedid": {"type": "string", "description": "the call (and its recording)"},
    "voice_message": {"type": ["integer", "null"]},
    "source": {"enum": ["manual", "customer", "call", "voicemail", "survey"]},
    "custom": {"type": "object"}, "assignee_kind": {"enum": ["", "agent", "queue", "engineer"]},
    "assignee": {"type": "string"}, "engineer_contact": {"type": "string"},
    "due_at": {"type": ["string", "null"]}, "overdue": {"type": "boolean"},
    "escalation_level": {"type": "integer", "description": "0 none, 1 team leader told, 2 manager told"},
    "escalated_at": {"type": ["string", "null"]}, "closed_at": {"type": ["string", "null"]},
    "next": {"type": "array", "description": "the states it may move to"},
    "history": {"type": "array", "description": "who, when, from, to, note, photos (one order only)"},
    "recording": {"type": ["integer", "null"]}}}
NEW_ORDER = {"type": "object", "required": ["type", "title"], "properties": {
    "type": {"type": "integer"}, "title": {"type": "string", "maxLength": 200}, "priority": {"type": "string"},
    "customer": {"type": ["integer", "null"]}, "linkedid": {"type": "string", "maxLength": 64},
    "voice_message": {"type": ["integer", "null"]}, "source": {"enum": ["manual", "customer", "call", "voicemail"]},
    "custom": {"type": "object"}, "assignee_kind": {"enum": ["", "agent", "queue", "engineer"]},
    "assignee": {"type": "string"}, "engineer_contact": {"type": "string"}, "note": {"type": "string"}}}
MOVE = {"type": "object", "required": ["to"], "properties": {
    "to": {"type": "string"}, "note": {"type": "string", "maxLength": 2000},
    "call_back_at": {"type": "string", "description": "closing only: book a call-back (YYYY-MM-DD HH:MM, office time)"},
    "call_back_note": {"type": "string", "maxLength": 500},
    "call_list": {"type": "integer", "description": "closing only: put the customer into this outbound call list "
                                                    "(once: a number already in it is not added again)"}}}
ASSIGN = {"type": "object", "properties": {
    "assignee_kind": {"enum": ["", "agent", "queue", "engineer"]}, "assignee": {"type": "string"},
    "engineer_contact": {"type": "string"}}}
STATS = {"type": "object", "properties": {k: {"type": "array"} for k in (
    "by_type", "by_assignee", "by_priority", "time_to_close")} | {
    "open": {"type": "integer"}, "overdue": {"type": "integer"}, "closed": {"type": "integer"},
    "avg_hours": {"type": ["number", "null"]}}}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _rows(form, prefix: str, names: tuple) -> list[dict]:
    """Numbered form rows (``<prefix>_<name>_<i>``) as dicts, blank rows dropped."""
    out, i = [], 0
    while f"{prefix}_{names[0]}_{i}" in form and i < 100:
        row = {n: (form.getunicode(f"{prefix}_{n}_{i}") or "").strip() for n in names}
        if any(row[n] for n in names[:2]):
            row["_i"] = i
            out.append(row)
        i += 1
    return out


def type_from_form(form) -> dict:
    """The editor's form as the API's type object."""
    initial = form.get("initial")
    states = [{"name": r["name"], "label": r["label"], "initial": str(r["_i"]) == initial,
               "final": bool(form.get(f"state_final_{r['_i']}")),
               "limit_minutes": int(r["limit"]) if r["limit"].isdigit() else (r["limit"] or 0)}
              for r in _rows(form, "state", ("name", "label", "limit"))]
    transitions = [[r["from"], r["to"]] for r in _rows(form, "tr", ("from", "to"))]
    fields = [{"name": r["name"], "label": r["label"], "type": r["type"] or "text",
               "required": bool(form.get(f"f_required_{r['_i']}")), "choices": r["choices"]}
              for r in _rows(form, "f", ("name", "label", "type", "choices"))]
    return {"name": form.getunicode("name") or "", "label": form.getunicode("label") or "",
            "priorities": form.getunicode("priorities") or "", "leader_email": form.getunicode("leader_email") or "",
            "manager_email": form.getunicode("manager_email") or "", "from_survey": bool(form.get("from_survey")),
            "active": bool(form.get("active")), "states": states, "transitions": transitions, "fields": fields}


def _photos() -> list[bytes]:
    """The uploaded photos, each read no further than its cap (a larger one is refused)."""
    out = []
    for upload in request.files.getall("photos")[:MAX_PHOTOS + 1]:
        data = upload.file.read(MAX_PHOTO_BYTES + 1)
        if not data and not upload.raw_filename:
            continue
        if len(data) > MAX_PHOTO_BYTES:
            mb = str(MAX_PHOTO_BYTES // (1024 * 1024))
            raise TooLarge(f"a photo is larger than {mb} MB", code="dispatch.too_large", params={"mb": mb})
        out.append(data)
    return out


def problem(exc: DomainError) -> dict:
    """The page's alert: the error's sentence and each field's fault, in the reader's words."""
    return {**problem_of(exc), "fields": exc.fields}


def install(app, deps) -> None:
    def service():
        if deps.workorders is None:
            raise Unavailable(FieldError("error.msg.workorders_unavailable", "work orders are not available"),
                              code="workorders.unavailable")
        return deps.workorders

    def voicemail_scope() -> tuple[set, set] | None:  # as the voicemail page's
        me = viewer()
        if me.staff:
            return None
        mine = [a for a in agent_directory().all() if a["number"] in me.agents]
        return {a["number"] for a in mine}, {q for a in mine for q in a.get("queues") or []}

    def assignees() -> dict:
        return {"agents": [(a["number"], a.get("name") or a["number"]) for a in deps.config.list("agents")],
                "queues": [(q["name"], q.get("display_name") or q["name"]) for q in deps.config.list("queues")]}

    # -- pages --------------------------------------------------------------------------
    @app.get("/workorders", name="workorders", roles=EVERYONE)
    def workorders_page():
        state = request.query.get("state") or "open"
        state = state if state in ("open", "overdue", "closed", "all") else "open"
        type_id = request.query.get("type") or None
        return render("workorders.tpl", items=deps.queries.run(service().search, viewer(), state=state,
                                                               type_id=type_id),
                      state=state, types=service().types(), type_id=type_id)

    def new_page(data: dict, problem=None):
        types = service().types(active_only=True)
        chosen = next((t for t in types if str(t["id"]) == str(data.get("type") or "")), None)
        if chosen is None and len(types) == 1:
            chosen = types[0]
        customer = None
        if data.get("customer"):
            try:
                customer = deps.crm.read(viewer(), data["customer"], live_calls())
            except DomainError:
                customer = None
        return render("workorder_new.tpl", types=types, chosen=chosen, data=data, customer=customer,
                      problem=problem, staff=viewer().staff, **assignees())

    def new_data(source) -> dict:
        keys = ("type", "title", "priority", "customer", "linkedid", "voice_message", "source", "assignee_kind",
                "assignee", "engineer_contact", "note")
        data = {k: source.getunicode(k) or "" for k in keys}
        data["custom"] = {k[len("custom."):]: source.getunicode(k) for k in source if k.startswith("custom.")}
        if data["voice_message"] and not data["customer"] and deps.voicemail is not None:
            try:
                vm = deps.voicemail.get(int(data["voice_message"]), voicemail_scope())
                data["customer"] = str((vm.get("customer") or {}).get("id") or "")
                data["linkedid"] = data["linkedid"] or vm["linkedid"]
            except (DomainError, ValueError):
                pass
        if not data["source"]:
            data["source"] = ("voicemail" if data["voice_message"] else "call" if data["linkedid"]
                              else "customer" if data["customer"] else "manual")
        return data

    @app.get("/workorders/new", name="workorder_new", roles=EVERYONE)
    def workorder_new():
        return new_page(new_data(request.query))

    @app.post("/workorders/new", name="workorder_create", roles=EVERYONE)
    def workorder_create():
        data = new_data(request.forms)
        try:
            order = service().create(viewer(), {**data, "customer": data["customer"] or None}, actor(), live_calls())
        except DomainError as exc:
            return new_page(data, problem(exc))
        bottle.redirect(f"/workorders/{order['id']}")

    @app.get("/workorders/stats", name="workorders_stats", roles=STAFF)
    def workorders_stats():
        return render("workorder_stats.tpl", stats=deps.queries.run(service().stats))

    @app.get("/workorders/stats.xlsx", name="workorders_stats_xlsx", roles=STAFF)
    def workorders_stats_xlsx():
        return HTTPResponse(deps.queries.run(service().stats_workbook, lang()), headers={
            "Content-Type": XLSX, "Content-Disposition": 'attachment; filename="work-orders.xlsx"'})

    def detail(order_id, problem=None, link=None):
        order = service().get(viewer(), order_id)
        lists = [c for c in deps.call_lists.list() if c["state"] != "done"] if deps.call_lists else []
        return render("workorder.tpl", order=order, problem=problem, link=link, staff=viewer().staff,
                      mails=deps.customer_mail.of_work_order(order["id"]), mail_templates=deps.customer_mail.templates(),
                      mailed=request.query.get("mailed"), call_lists=lists, **assignees())

    def changed(order_id, change, data):
        """A change from the order's page: back to it, or the page again saying what is wrong."""
        try:
            change(viewer(), order_id, data, actor())
        except DomainError as exc:
            if exc.http_status == 404:
                raise
            return detail(order_id, problem(exc))
        bottle.redirect(f"/workorders/{order_id}")

    @app.get("/workorders/<order_id:int>", name="workorder", roles=EVERYONE)
    def workorder_page(order_id):
        return detail(order_id)

    @app.get("/workorders/<order_id:int>/sheet", name="workorder_sheet", roles=EVERYONE)
    def workorder_sheet(order_id):
        return render("dispatch_sheet.tpl", order=service().get(viewer(), order_id))

    @app.post("/workorders/<order_id:int>/move", name="workorder_move", roles=EVERYONE)
    def workorder_move(order_id):
        f = request.forms
        data = {"to": f.getunicode("to") or "", "note": f.getunicode("note") or "",
                "call_back_at": f.getunicode("call_back_at") or "", "call_back_note": f.getunicode("call_back_note"),
                "call_list": f.getunicode("call_list") or ""}
        return changed(order_id, service().move, data)

    @app.post("/workorders/<order_id:int>/mails", name="workorder_mail_send", roles=EVERYONE)
    def workorder_mail_send(order_id):
        try:
            deps.customer_mail.send(viewer(), None, request.forms.get("template"), actor(), work_order=order_id)
        except DomainError as exc:
            if exc.code == "workorders.not_found":
                raise
            return detail(order_id, problem(exc))
        bottle.redirect(f"/workorders/{order_id}?mailed=1#wo-mails")

    @app.post("/workorders/<order_id:int>/assign", name="workorder_assign", roles=EVERYONE)
    def workorder_assign(order_id):
        return changed(order_id, service().assign, {k: request.forms.getunicode(k) or "" for k in (
            "assignee_kind", "assignee", "engineer_contact")})

    @app.post("/workorders/<order_id:int>/dispatch", name="workorder_dispatch", roles=EVERYONE)
    def workorder_dispatch(order_id):
        link = service().dispatch_token(viewer(), order_id, request.forms.get("hours") or 72, actor())
        url = f"{request.urlparts.scheme}://{request.urlparts.netloc}/dispatch/{link['token']}"
        expires_at = dt.datetime.fromtimestamp(link["expires"], dt.timezone.utc).replace(tzinfo=None)
        return detail(order_id, link={**link, "url": url, "expires_at": expires_at})

    @app.get("/workorders/<order_id:int>/photos/<name>", name="workorder_photo", roles=EVERYONE)
    def workorder_photo(order_id, name):
        service().get(viewer(), order_id)  # not found unless the viewer sees the order
        path = service().photo_path(order_id, name)
        return bottle.static_file(path.name, root=str(path.parent))

    # -- the admins' types ----------------------------------------------------------------
    @app.get("/admin/workorder-types", name="workorder_types", roles=ADMIN)
    def workorder_types():
        return render("workorder_types.tpl", types=service().types())

    def type_page(t: dict, type_id=None, problem=None):
        return render("workorder_type.tpl", t=t, type_id=type_id, problem=problem, blank=TYPE_ROWS)

    @app.get("/admin/workorder-types/new", name="workorder_type_new", roles=ADMIN)
    def workorder_type_new():
        # the shipped priorities in the admin's words (any script may be stored)
        priorities = [labels.label(lang(), "wo_priority", p) for p in ("low", "normal", "high", "urgent")]
        return type_page({"name": "", "label": "", "priorities": priorities, "fields": [],
                          "states": [], "transitions": [], "leader_email": "", "manager_email": "",
                          "from_survey": False, "active": True})

    @app.get("/admin/workorder-types/<type_id:int>", name="workorder_type_edit", roles=ADMIN)
    def workorder_type_edit(type_id):
        return type_page(service().type(type_id), type_id)

    @app.post("/admin/workorder-types/new", name="workorder_type_create", roles=ADMIN)
    @app.post("/admin/workorder-types/<type_id:int>", name="workorder_type_update", roles=ADMIN)
    def workorder_type_save(type_id=None):
        data = type_from_form(request.forms)
        try:
            service().save_type(data, actor(), type_id)
        except DomainError as exc:
            if exc.http_status == 404:
                raise
            shown = {**data, "priorities": [p for p in data["priorities"].split(",") if p.strip()]}
            return type_page(shown, type_id, problem(exc))
        bottle.redirect("/admin/workorder-types")

    # -- the field engineer's page (the link is the permission) ---------------------------
    @app.get("/dispatch/<token>", name="dispatch", roles=PUBLIC)
    def dispatch_page(token):
        return render("dispatch.tpl", order=service().dispatch_view(token), token=token, problem=None,
                      moved=bool(request.query.get("moved")),
                      max_photos=MAX_PHOTOS, max_mb=MAX_PHOTO_BYTES // (1024 * 1024))

    @app.post("/dispatch/<token>", name="dispatch_move", roles=PUBLIC, body_limit=DISPATCH_BODY_LIMIT)
    def dispatch_move(token):
        order = service().dispatch_view(token)  # refused (expired, tampered) before the photos are read
        data = {"to": request.forms.getunicode("to") or "", "note": request.forms.getunicode("note") or ""}
        try:
            service().dispatch_move(token, data, _photos())
        except DomainError as exc:
            if exc.http_status == 403:
                raise
            return render("dispatch.tpl", order=order, token=token, problem=problem(exc), moved=False,
                          max_photos=MAX_PHOTOS, max_mb=MAX_PHOTO_BYTES // (1024 * 1024))
        bottle.redirect(f"/dispatch/{token}?moved=1")

    @app.get("/dispatch/<token>/photos/<name>", name="dispatch_photo", roles=PUBLIC)
    def dispatch_photo(token, name):
        row = service().dispatched(token)
        path = service().photo_path(row.id, name)
        return bottle.static_file(path.name, root=str(path.parent))

    # -- API ----------------------------------------------------------------------------
    @app.get("/api/v1/work-order-types", name="api_workorder_types", scope="orders:read", roles=EVERYONE,
             api=Operation({"tags": ["work orders"], "summary": "Work order types, with their workflows",
                            "responses": {"200": resp("the types", items(TYPE_SCHEMA)), **errors(401)}}))
    def api_workorder_types():
        return {"items": service().types()}

    @app.post("/api/v1/work-order-types", name="api_workorder_type_create", scope="config", roles=ADMIN,
              api=Operation({
        "tags": ["work orders"], "summary": "Define a work order type",
        "description": "Refused (422) with the reason in `fields.states`/`fields.transitions` when the workflow "
                       "has no initial state or several, no final state, a transition leaving a final state or "
                       "naming an unknown one, or states no transition reaches (`workorders.wf.*`).",
        "requestBody": body(TYPE_SCHEMA),
        "responses": {"201": resp("created", TYPE_SCHEMA), **errors(400, 401, 403, 409, 422)}}))
    def api_workorder_type_create():
        return created(service().save_type(json_body(), actor()))

    @app.get("/api/v1/work-order-types/<type_id:int>", name="api_workorder_type", scope="orders:read", roles=EVERYONE,
             api=Operation({"tags": ["work orders"], "summary": "One work order type",
                            "responses": {"200": resp("it", TYPE_SCHEMA), **errors(401, 404)}}))
    def api_workorder_type(type_id):
        return service().type(type_id)

    @app.put("/api/v1/work-order-types/<type_id:int>", name="api_workorder_type_update", scope="config", roles=ADMIN,
             api=Operation({"tags": ["work orders"], "summary": "Change a work order type (whole)",
                            "description": "A state some order is in cannot be dropped (`workorders.wf.state_in_use`).",
                            "requestBody": body(TYPE_SCHEMA),
                            "responses": {"200": resp("changed", TYPE_SCHEMA),
                                          **errors(400, 401, 403, 404, 409, 422)}}))
    def api_workorder_type_update(type_id):
        return service().save_type(json_body(), actor(), type_id)

    @app.get("/api/v1/work-orders", name="api_workorders", scope="orders:read", roles=EVERYONE,
             api=Operation({
        "tags": ["work orders"], "summary": "Work orders, newest first (200 at most)",
        "description": "`state`: open (default), overdue, closed or all; `type`, `customer`: ids. Staff see "
                       "every order; agents those assigned to their agents or their teams, about their "
                       "customers, or theirs.",
        "parameters": [{"name": n, "in": "query", "required": False, "schema": {"type": "string"}}
                       for n in ("state", "type", "customer")],
        "responses": {"200": resp("orders", items(ORDER_SCHEMA)), **errors(401)}}))
    def api_workorders():
        q = request.query
        return {"items": deps.queries.run(service().search, viewer(), state=q.get("state") or "open",
                                          type_id=q.get("type"), customer_id=q.get("customer"))}

    @app.post("/api/v1/work-orders", name="api_workorder_create", scope="orders:write", roles=EVERYONE,
              api=Operation({
        "tags": ["work orders"], "summary": "Open a work order",
        "description": "In its type's initial state. From a call: `linkedid` (its recording follows); from a "
                       "voice message: `voice_message`. An agent may assign only to their own agents (by "
                       "default the order is theirs).",
        "requestBody": body(NEW_ORDER),
        "responses": {"201": resp("opened", ORDER_SCHEMA), **errors(400, 401, 422)}}))
    def api_workorder_create():
        return created(service().create(viewer(), json_body(), actor(), live_calls()))

    @app.get("/api/v1/work-orders/stats", name="api_workorders_stats", scope="reports:read", roles=STAFF,
             api=Operation({"tags": ["work orders"],
                            "summary": "Open and overdue by type, assignee and priority; average time to close",
                            "responses": {"200": resp("the figures", STATS), **errors(401, 403)}}))
    def api_workorders_stats():
        return deps.queries.run(service().stats)

    @app.get("/api/v1/work-orders/<order_id:int>", name="api_workorder", scope="orders:read", roles=EVERYONE,
             api=Operation({"tags": ["work orders"], "summary": "One work order with its history",
                            "responses": {"200": resp("it", ORDER_SCHEMA), **errors(401, 404)}}))
    def api_workorder(order_id):
        return service().get(viewer(), order_id)

    @app.post("/api/v1/work-orders/<order_id:int>/move", name="api_workorder_move",
              scope="orders:write", roles=EVERYONE,
              api=Operation({
        "tags": ["work orders"], "summary": "Move a work order to another state",
        "description": "Only along the type's transitions (409 `workorders.not_allowed`). Entering a final state "
                       "closes it; with `call_back_at` a call-back is booked for its customer, with `call_list` the "
                       "customer goes into that call list (the answer's `call_list_entry`, `added` false when the "
                       "number was in it already); a list that is done or an order without a customer: 422, "
                       "nothing moved.",
        "requestBody": body(MOVE), "responses": {"200": resp("moved", ORDER_SCHEMA),
                                                 **errors(400, 401, 404, 409, 422)}}))
    def api_workorder_move(order_id):
        return service().move(viewer(), order_id, json_body(), actor())

    @app.post("/api/v1/work-orders/<order_id:int>/assign", name="api_workorder_assign",
              scope="orders:write", roles=EVERYONE,
              api=Operation({"tags": ["work orders"], "summary": "Assign to an agent, a team (queue) or a field engineer",
                             "description": "Agents may assign only to their own agents.",
                             "requestBody": body(ASSIGN), "responses": {"200": resp("assigned", ORDER_SCHEMA),
                                                                        **errors(400, 401, 404, 422)}}))
    def api_workorder_assign(order_id):
        return service().assign(viewer(), order_id, json_body(), actor())

    @app.post("/api/v1/work-orders/<order_id:int>/dispatch-link", name="api_workorder_dispatch",
              scope="orders:write", roles=EVERYONE,
              api=Operation({
        "tags": ["work orders"], "summary": "A signed, expiring link for a field engineer",
        "description": "`/dispatch/<token>`: the order on a phone-sized page, moved on with a note and photos, "
                       "no sign-in. `hours`: 1 to 336 (default 72).",
        "requestBody": body({"type": "object", "properties": {"hours": {"type": "integer"}}}),
        "responses": {"200": resp("the link", {"type": "object", "properties": {
            "token": {"type": "string"}, "expires": {"type": "integer"}, "url": {"type": "string"}}}),
            **errors(401, 404, 422)}}))
    def api_workorder_dispatch(order_id):
        link = service().dispatch_token(viewer(), order_id, json_body(optional=True).get("hours") or 72, actor())
        return {**link, "url": f"{request.urlparts.scheme}://{request.urlparts.netloc}/dispatch/{link['token']}"}
