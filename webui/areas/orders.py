"""Orders and sales in the web UI and the API: the product catalogue and suppliers (with
Excel import and export), orders taken during a call (from the screen pop or a customer's
page), their review, shipping (tracking numbers typed or imported from Excel), payments,
member points, the order list and the sales figures (a page and an Excel file).

Routes are registered by ``install(app, deps)``; who may call each is declared on it
(``roles=``) and the service (``appliance.services.orders``) keeps an agent to their own
customers' orders and reviewers to reviewing.  Changing an order through the API takes
``If-Match: "<version>"`` as the configuration does (409 ``orders.changed`` when someone
changed it since); the pages send the version they showed in a hidden field.
"""

from __future__ import annotations

import datetime as dt
import json
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

import bottle
from bottle import HTTPResponse, request, response

from appliance.db.worker import in_worker
from appliance.errors import DomainError, FieldError, ValidationError
from appliance.services.orders import (ACTIONS, status_sentence, MAX_PER_PAGE, PAYMENT_METHODS, PER_PAGE, PRODUCT_COLUMNS, STATES,
                                       TRACKING_COLUMNS, OrderService, yuan)
from appliance.services.site import utc_midnight, zone_of, on_office_clock
from webui import i18n
from webui.apidoc import Operation, body, errors, items, resp
from webui.areas.customer_import import IMPORT_BODY_LIMIT, import_store, uploaded_file
from webui.http import (ADMIN, EVERYONE, STAFF, actor, agent_directory, created, json_body, lang, live_calls,
                        problem_of, render, viewer, with_etag)
from webui.params import page_arg, query_int

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORM_LINES = 6  # product lines on the order form
ACTION_RE = "|".join(ACTIONS)

# -- schemas the API descriptions share ---------------------------------------------------------
MONEY = {"type": "string", "pattern": r"^\d+(\.\d{1,2})?$", "description": "yuan, two decimals at most: `12.50`"}
PRODUCT_SCHEMA = {"type": "object", "properties": {
    "id": {"type": "integer"}, "code": {"type": "string", "maxLength": 32}, "name": {"type": "string", "maxLength": 128},
    "category": {"type": "string"}, "price": MONEY, "price_fen": {"type": "integer"}, "unit": {"type": "string"},
    "stock": {"type": "integer"}, "active": {"type": "boolean"},
    "gift": {"type": "boolean", "description": "a gift: no price, its own stock"},
    "supplier": {"type": ["string", "null"], "description": "the supplier's name"}}}
PRODUCT_BODY = {"type": "object", "properties": {
    "code": {"type": "string"}, "name": {"type": "string"}, "category": {"type": "string"},
    "price": {"type": ["string", "number"], "description": "yuan: `12.50`"}, "unit": {"type": "string"},
    "stock": {"type": "integer"}, "active": {"type": "boolean"}, "gift": {"type": "boolean"},
    "supplier": {"type": ["string", "null"]}}}
SUPPLIER_SCHEMA = {"type": "object", "properties": {
    "id": {"type": "integer"}, "name": {"type": "string", "maxLength": 128}, "contact": {"type": "string"},
    "phone": {"type": "string"}, "note": {"type": "string"},
    "products": {"type": "array", "items": {"type": "string"}, "description": "codes of the products it supplies"}}}
ORDER_BODY = {"type": "object", "required": ["customer_id", "items"], "properties": {
    "customer_id": {"type": "integer"},
    "items": {"type": "array", "maxItems": 100, "items": {"type": "object", "required": ["product"], "properties": {
        "product": {"type": ["integer", "string"], "description": "the product's id or code"},
        "quantity": {"type": "integer", "minimum": 1, "maximum": 10000, "default": 1},
        "price": {"type": ["string", "number"],
                  "description": "yuan; omitted: the list price. At most the list price and at least the list "
                                 "price less the admin's limit (percent); a gift's is 0"}}}},
    "points": {"type": "integer", "minimum": 0, "description": "member points to redeem"},
    "address": {"type": "string", "maxLength": 255}, "address_id": {"type": "integer",
                                                                    "description": "one of the customer's addresses"},
    "payment_method": {"enum": list(PAYMENT_METHODS), "default": "cod"},
    "note": {"type": "string", "maxLength": 500},
    "linkedid": {"type": "string", "description": "the call it was taken on (its record and recording)"},
    "submit": {"type": "boolean", "description": "submit for review at once (create only)"}}}
ORDER_SCHEMA = {"type": "object", "properties": {
    "id": {"type": "integer"}, "state": {"enum": list(STATES)},
    "version": {"type": "string", "description": "send it back in If-Match when changing the order"},
    "customer_id": {"type": ["integer", "null"]}, "customer_name": {"type": "string"}, "agent": {"type": "string"},
    "linkedid": {"type": "string"}, "recording": {"type": "boolean"}, "address": {"type": "string"},
    "payment_method": {"type": "string"}, "note": {"type": "string"}, "subtotal": MONEY,
    "points_used": {"type": "integer"}, "points_discount": MONEY, "total": MONEY, "paid": MONEY, "owed": MONEY,
    "points_earned": {"type": "integer"}, "courier": {"type": "string"}, "tracking": {"type": "string"},
    "reason": {"type": "string"}, "items": {"type": "array", "items": {"type": "object"}},
    "payments": {"type": "array", "items": {"type": "object"}},
    "history": {"type": "array", "items": {"type": "object", "properties": {
        "at": {"type": "string"}, "by": {"type": "string"}, "action": {"type": "string"},
        "from": {"type": "string"}, "to": {"type": "string"}}}},
    "actions": {"type": "array", "items": {"type": "string"}, "description": "what you may do with it now"}}}
IF_MATCH = [{"name": "If-Match", "in": "header", "required": False, "schema": {"type": "string"},
             "description": "the version you read: refused with 409 `orders.changed` if someone changed the order "
                            "since"}]
SEARCH_PARAMETERS = [{"name": n, "in": "query", "required": False, "description": d, "schema": {"type": "string"}}
                     for n, d in (("state", "one of the states"), ("agent", "the work number that took it"),
                                  ("customer", "part of the customer's name or phone"),
                                  ("product", "a product code, or part of its name"),
                                  ("from", "first day, YYYY-MM-DD (the site's calendar)"),
                                  ("to", "last day, YYYY-MM-DD"))]
REPORT_SCHEMA = {"type": "object", "properties": {
    "rows": {"type": "integer"}, "error_count": {"type": "integer"},
    "errors": {"type": "array", "items": {"type": "object", "properties": {
        "row": {"type": "integer"}, "column": {"type": "string"}, "message": {"type": "string"}}}}}}
SETTINGS_SCHEMA = {"type": "object", "properties": {
    "price_limit_percent": {"type": "integer", "minimum": 0, "maximum": 100,
                            "description": "how far below the list price an agent may sell"},
    "yuan_per_point": {"type": ["string", "number"], "description": "one member point per this much paid"},
    "point_value": {"type": ["string", "number"], "description": "what one point takes off an order (yuan)"},
    "negative_stock": {"type": "boolean", "description": "ship even when the stock would go below zero"},
    "reviewers": {"type": "array", "items": {"type": "string"},
                  "description": "supervisors who approve and reject orders (admins always do)"}}}
UPLOAD_BODY = {"required": True, "content": {"multipart/form-data": {"schema": {
    "type": "object", "required": ["file"], "properties": {
        "file": {"type": "string", "contentMediaType": "application/octet-stream"}}}}}}
CONFIRM = [{"name": "confirm", "in": "query", "required": False, "schema": {"enum": ["0", "1"], "default": "0"}}]


def column_aliases(prefix: str, columns) -> dict[str, str]:
    """A column's title in either language (``<prefix>.<column>``) -> the column."""
    return {i18n.translate(lg, f"{prefix}.{c}"): c for lg in i18n.LANGUAGES for c in columns}


ORDER_STATUS = {"type": "object", "properties": {
    "customer_id": {"type": "integer"},
    "order": {"type": ["object", "null"], "description": "id, state, tracking, courier"},
    "sentence": {"type": "string", "description": "what the voice menu's order-status action says"},
    "message": {"type": "object", "description": "the internal message sent (telling only)"}}}
TELL = {"type": "object", "required": ["to"], "properties": {"to": {"type": "string", "description": "a user name"}}}
TELL_NOTE = ("The message says the customer's name and number, the order's number and the voice menu's sentence "
             "(the tracking number once shipped) in the colleague's language. Internal messages reach the "
             "appliance's users, not customers: the colleague passes it on. An unknown user: 422 "
             "`message.no_recipient`.")


def install(app, deps) -> None:
    orders = OrderService(deps.db, deps.crm)
    deps.extra["orders"] = orders  # the voice menu's order-status action reads it too
    if deps.webhooks is not None:  # order.created / order.changed (the orders are changed here only)
        orders.changed.append(deps.webhooks.order_changed)
    uploads = import_store(deps)

    def zone():
        return zone_of(deps.site.timezone() if deps.site is not None else None)

    def filters() -> dict:
        q = request.query
        out = {k: (q.getunicode(k) or "").strip()[:64] for k in ("state", "agent", "customer", "product")}
        if out["state"] and out["state"] not in STATES:
            raise ValidationError("state: not one of the states", fields={"state": FieldError(
                "field.choice", "not one of the choices", choices=", ".join(STATES))})
        for name, key, extra in (("from", "since", 0), ("to", "until", 1)):
            raw = (q.getunicode(name) or "").strip()
            out[name] = raw
            if raw:
                try:
                    day = dt.date.fromisoformat(raw)
                except ValueError:
                    raise ValidationError(f"{name} must be a date like 2026-11-23", fields={
                        name: FieldError("field.date_format", "a date as YYYY-MM-DD")}) from None
                out[key] = utc_midnight(day + dt.timedelta(days=extra), zone())
        if request.query.getunicode("customer_id"):
            out["customer_id"] = request.query.getunicode("customer_id")
        return out

    def day_of(at: dt.datetime) -> str:
        return on_office_clock(at, zone()).date().isoformat()

    def if_match() -> str | None:
        read = (request.get_header("If-Match") or "").strip().removeprefix("W/").strip('"')
        return None if read in ("", "*") else read

    def link(path: str, args: dict, **more) -> str:
        query = {k: v for k, v in {**args, **more}.items() if v and k not in ("since", "until")}
        return path + ("?" + urlencode(query) if query else "")

    # == pages ==================================================================================
    def show_list(problem=None, status=200):
        me = viewer()
        args = filters()
        result = deps.queries.run(orders.search, me, args, page_arg())
        response.status = status
        return render("orders.tpl", result=result, args=args, states=STATES, agents=agent_directory().all(),
                      staff=me.staff, problem=problem, yuan=yuan_text, page_url=lambda n: link("/orders", args, page=n),
                      sales_url=link("/orders/sales", args))

    @app.get("/orders", name="orders", roles=EVERYONE)
    def orders_page():
        return show_list()

    def show_form(customer_id, values=None, errors_=None, problem=None, status=200, order=None):
        me = viewer()
        customer = deps.crm.read(me, customer_id, live_calls())
        response.status = status
        return render("order_form.tpl", customer=customer, products=orders.products(active_only=True),
                      addresses=orders.addresses(customer["id"]), points=orders.points_balance(customer["id"]),
                      settings=orders.settings(), methods=PAYMENT_METHODS, values=values or {},
                      errors=errors_ or {}, problem=problem, lines=FORM_LINES, order=order, yuan=yuan_text)

    @app.get("/orders/new", name="order_new", roles=EVERYONE)
    def order_new():
        customer_id = query_int("customer", 0, 0, 10 ** 15)
        values = {"linkedid": (request.query.getunicode("linkedid") or "")[:64]}
        return show_form(customer_id, values)

    def posted_order() -> dict:
        f = request.forms
        lines = []
        for n in range(FORM_LINES):
            product = (f.getunicode(f"product.{n}") or "").strip()
            if product:
                lines.append({"product": product, "quantity": (f.getunicode(f"quantity.{n}") or "1").strip(),
                              "price": (f.getunicode(f"price.{n}") or "").strip()})
        data = {"customer_id": f.getunicode("customer_id"), "items": lines,
                "points": (f.getunicode("points") or "0").strip() or "0",
                "address": (f.getunicode("address") or "").strip(), "address_id": f.getunicode("address_id") or "",
                "payment_method": f.getunicode("payment_method") or "cod", "note": f.getunicode("note") or "",
                "linkedid": f.getunicode("linkedid") or "", "submit": f.getunicode("submit") == "1"}
        return data

    @app.post("/orders", name="order_create", roles=EVERYONE)
    def order_create():
        data = posted_order()
        try:
            made = orders.create(viewer(), data, actor=actor(), live_calls=live_calls())
        except DomainError as exc:
            if exc.http_status == 404:
                raise
            return show_form(data["customer_id"], values=form_values(data), errors_=exc.fields,
                             problem=problem_of(exc), status=exc.http_status)
        bottle.redirect(f"/orders/{made['id']}")

    def show_order(order_id, problem=None, errors_=None, status=200, tell_problem=None):
        me = viewer()
        order = orders.order(me, order_id)
        latest = orders.latest_for_customer(order["customer_id"]) if order["customer_id"] else None
        response.status = status
        return render("order.tpl", order=order, problem=problem, errors=errors_ or {}, methods=PAYMENT_METHODS,
                      reviewer=orders.is_reviewer(me), yuan=yuan_text, today=dt.date.today().isoformat(),
                      latest=latest, sentence=status_sentence(latest, lang()), tell_problem=tell_problem,
                      told=request.query.getunicode("told"),
                      colleagues=[u for u in deps.workspace.recipients() if u["username"] != me.username])

    @app.post("/orders/<order_id:int>/order-status", name="order_status_tell", roles=EVERYONE)
    def order_status_tell(order_id):
        to = request.forms.getunicode("to") or ""
        try:
            orders.tell_order_status(viewer(), order_id, to, actor(), deps.workspace.send)
        except DomainError as exc:
            if exc.http_status == 404:
                raise
            return show_order(order_id, status=exc.http_status, tell_problem=problem_of(exc))
        bottle.redirect(f"/orders/{order_id}?{urlencode({'told': to})}#order-status")

    @app.get("/orders/<order_id:int>", name="order_detail", roles=EVERYONE)
    def order_detail(order_id):
        return show_order(order_id)

    @app.get("/orders/<order_id:int>/edit", name="order_edit", roles=EVERYONE)
    def order_edit(order_id):
        order = orders.order(viewer(), order_id)
        values = {"address": order["address"], "payment_method": order["payment_method"], "note": order["note"],
                  "points": order["points_used"],
                  "items": [{"product": i["code"], "quantity": i["quantity"], "price": i["price"]}
                            for i in order["items"]]}
        return show_form(order["customer_id"], values, order=order)

    @app.post("/orders/<order_id:int>/edit", name="order_update", roles=EVERYONE)
    def order_update(order_id):
        data = posted_order()
        try:
            orders.update(viewer(), order_id, data, actor=actor(), version=request.forms.getunicode("version"))
        except DomainError as exc:
            if exc.http_status == 404:
                raise
            order = orders.order(viewer(), order_id)
            return show_form(order["customer_id"], values=form_values(data), errors_=exc.fields,
                             problem=problem_of(exc), status=exc.http_status, order=order)
        bottle.redirect(f"/orders/{order_id}")

    @app.post(f"/orders/<order_id:int>/<action:re:{ACTION_RE}>", name="order_act", roles=EVERYONE)
    def order_act(order_id, action):
        data = {k: request.forms.getunicode(k) or "" for k in ("reason", "courier", "tracking")}
        return order_step(order_id, lambda: orders.act(viewer(), order_id, action, data, actor=actor(),
                                                       version=request.forms.getunicode("version")))

    @app.post("/orders/<order_id:int>/payments", name="order_pay", roles=EVERYONE)
    def order_pay(order_id):
        data = {k: request.forms.getunicode(k) or "" for k in ("amount", "method", "paid_on", "reference")}
        return order_step(order_id, lambda: orders.add_payment(viewer(), order_id, data, actor=actor()), "#payments")

    def order_step(order_id, change, anchor: str = ""):
        """A change made from the order's page: back to it, or the page again with what went wrong."""
        try:
            change()
        except DomainError as exc:
            if exc.http_status == 404:
                raise
            return show_order(order_id, problem=problem_of(exc), errors_=exc.fields, status=exc.http_status)
        bottle.redirect(f"/orders/{order_id}{anchor}")

    # -- the catalogue, suppliers, settings -------------------------------------------------------
    def show_products(problem=None, errors_=None, status=200, report=None):
        me = viewer()
        response.status = status
        return render("products.tpl", products=orders.products(q=request.query.getunicode("q") or ""),
                      suppliers=orders.suppliers(), settings=orders.settings(), staff=me.staff,
                      admin=me.role == "admin", problem=problem, errors=errors_ or {}, report=report,
                      q=request.query.getunicode("q") or "", yuan=yuan_text,
                      supervisors=[u for u in deps.users.list() if u["role"] == "supervisor"])

    @app.get("/products", name="products", roles=EVERYONE)
    def products_page():
        return show_products()

    @app.post("/products", name="product_create", roles=STAFF)
    def product_create():
        f = request.forms
        data = {k: (f.getunicode(k) or "").strip() for k in ("code", "name", "category", "price", "unit", "stock",
                                                              "supplier")}
        data["gift"] = f.getunicode("gift") == "on"
        if data["gift"] and not data["price"]:
            data["price"] = "0"
        try:
            orders.create_product(data, actor=actor())
        except DomainError as exc:
            return show_products(problem=problem_of(exc), errors_=exc.fields, status=exc.http_status)
        bottle.redirect("/products")

    @app.post("/products/<product_id:int>", name="product_update", roles=STAFF)
    def product_update(product_id):
        f = request.forms
        data = {k: (f.getunicode(k) or "").strip() for k in ("price", "stock") if f.getunicode(k) is not None}
        if f.getunicode("active") is not None:
            data["active"] = f.getunicode("active") == "on"
        try:
            orders.update_product(product_id, data, actor=actor())
        except DomainError as exc:
            if exc.http_status == 404:
                raise
            return show_products(problem=problem_of(exc), errors_=exc.fields, status=exc.http_status)
        bottle.redirect("/products")

    @app.post("/products/suppliers", name="supplier_create", roles=STAFF)
    def supplier_create():
        data = {k: (request.forms.getunicode(k) or "").strip() for k in ("name", "contact", "phone", "note")}
        try:
            orders.save_supplier(data, actor=actor())
        except DomainError as exc:
            return show_products(problem=problem_of(exc), errors_=exc.fields, status=exc.http_status)
        bottle.redirect("/products#suppliers")

    @app.post("/products/settings", name="orders_settings", roles=ADMIN)
    def orders_settings():
        f = request.forms
        data = {k: (f.getunicode(k) or "").strip() for k in ("price_limit_percent", "yuan_per_point", "point_value")}
        data["negative_stock"] = f.getunicode("negative_stock") == "on"
        data["reviewers"] = [r for r in f.getall("reviewers") if r]
        try:
            orders.save_settings(data, actor=actor())
        except DomainError as exc:
            return show_products(problem=problem_of(exc), errors_=exc.fields, status=exc.http_status)
        bottle.redirect("/products#settings")

    def xlsx_response(body: bytes, stem: str) -> HTTPResponse:
        name = time.strftime(f"{stem}-%Y%m%d-%H%M.xlsx")
        return HTTPResponse(body, headers={"Content-Type": XLSX, "Content-Disposition": f'attachment; filename="{name}"'})

    def products_workbook() -> bytes:
        language = lang()
        headers = {c: i18n.translate(language, f"products.column.{c}") for c in PRODUCT_COLUMNS}
        with tempfile.NamedTemporaryFile(suffix=".xlsx") as tmp:
            in_worker(deps.db, orders.export_products, headers, Path(tmp.name),
                      i18n.translate(language, "products.title"))
            return Path(tmp.name).read_bytes()

    @app.get("/products/export", name="products_export", roles=STAFF)
    def products_export():
        return xlsx_response(products_workbook(), "products")

    def read_upload(check, aliases, confirm: bool) -> dict:
        """The uploaded workbook read by the upload worker (a child process, as the customer
        import does), then checked (and with ``confirm`` saved) in a worker thread."""
        path, who = uploads.upload_path(), actor()
        try:
            uploaded_file().save(str(path))
            sheet = deps.customer_excel.read(path)
            return in_worker(deps.db, lambda: check(sheet, aliases, who, apply=confirm))
        finally:
            path.unlink(missing_ok=True)

    imports = {"products": (orders.import_products, "products.column", PRODUCT_COLUMNS),
               "tracking": (orders.import_tracking, "orders.tracking_column", TRACKING_COLUMNS)}

    def run_import(kind: str, confirm: bool) -> dict:
        check, prefix, columns = imports[kind]
        return read_upload(check, column_aliases(prefix, columns), confirm)

    @app.post("/products/import", name="products_import", roles=STAFF, body_limit=IMPORT_BODY_LIMIT)
    def products_import():
        try:
            report = run_import("products", True)
        except DomainError as exc:
            return show_products(problem=problem_of(exc), errors_=exc.fields, status=exc.http_status)
        if report["error_count"]:
            return show_products(report=report, status=422)
        bottle.redirect("/products")

    # -- sales figures ---------------------------------------------------------------------------
    @app.get("/orders/sales", name="orders_sales", roles=STAFF)
    def orders_sales():
        args = filters()
        figures = deps.queries.run(orders.sales, viewer(), args, day_of)
        return render("orders_sales.tpl", figures=figures, args=args, yuan=yuan_text,
                      export_url=link("/orders/sales/export", args))

    def sales_workbook(args) -> bytes:
        language = lang()
        titles = {k: i18n.translate(language, f"orders.sales.{k}") for k in (
            "by_agent", "by_product", "by_day", "key_by_agent", "key_by_product", "key_by_day", "name", "quantity",
            "orders", "amount")}
        figures = deps.queries.run(orders.sales, viewer(), args, day_of)
        with tempfile.NamedTemporaryFile(suffix=".xlsx") as tmp:
            in_worker(deps.db, orders.export_sales, figures, titles, Path(tmp.name))
            return Path(tmp.name).read_bytes()

    @app.get("/orders/sales/export", name="orders_sales_export", roles=STAFF)
    def orders_sales_export():
        return xlsx_response(sales_workbook(filters()), "sales")

    @app.post("/orders/tracking", name="orders_tracking_import", roles=STAFF, body_limit=IMPORT_BODY_LIMIT)
    def orders_tracking_import():
        try:
            report = run_import("tracking", True)
        except DomainError as exc:
            return show_list(problem=problem_of(exc), status=exc.http_status)
        if report["error_count"]:
            response.status = 422
            return render("orders_report.tpl", report=report)
        bottle.redirect("/orders?state=shipped")

    # == JSON API ==================================================================================
    @app.get("/api/v1/products", name="api_products", scope="orders:read", roles=EVERYONE,
             api=Operation({"tags": ["orders"], "summary": "The product catalogue (gifts last)",
                            "parameters": [{"name": "q", "in": "query", "required": False,
                                            "schema": {"type": "string"}, "description": "part of a code or name"}],
                            "responses": {"200": resp("products", items(PRODUCT_SCHEMA)), **errors(401)}}))
    def api_products():
        return {"items": orders.products(q=request.query.getunicode("q") or "")}

    @app.post("/api/v1/products", name="api_product_create", scope="orders:write", roles=STAFF,
              api=Operation({"tags": ["orders"], "summary": "Add a product (or a gift: `gift` true, price 0)",
                             "requestBody": body(PRODUCT_BODY),
                             "responses": {"201": resp("added", PRODUCT_SCHEMA), **errors(400, 401, 403, 409, 422)}}))
    def api_product_create():
        return created(orders.create_product(json_body(), actor=actor()))

    @app.route("/api/v1/products/<product_id:int>", method="PATCH", name="api_product_update",
               scope="orders:write", roles=STAFF,
               api=Operation({"tags": ["orders"], "summary": "Change some fields of a product (stock, price...)",
                              "requestBody": body(PRODUCT_BODY),
                              "responses": {"200": resp("changed", PRODUCT_SCHEMA),
                                            **errors(400, 401, 403, 404, 409, 422)}}))
    def api_product_update(product_id):
        return orders.update_product(product_id, json_body(), actor=actor())

    @app.get("/api/v1/products/export", name="api_products_export", scope="orders:read", roles=STAFF,
             api=Operation({"tags": ["orders"], "summary": "The catalogue as an Excel file (titles in your language)",
                            "responses": {"200": {"description": "the workbook", "content": {XLSX: {}}},
                                          **errors(401, 403)}}))
    def api_products_export():
        return xlsx_response(products_workbook(), "products")

    @app.post("/api/v1/products/import", name="api_products_import",
              scope="orders:write", roles=STAFF, body_limit=IMPORT_BODY_LIMIT,
              api=import_operation("Products from an Excel file: checked, then (confirm=1) saved",
                                   "Columns (titles in either language): code, name, category, price (yuan), unit, "
                                   "stock, active, gift, supplier. A known code updates that product, a new one "
                                   "adds it. Every row is checked first; with any problem nothing is saved and the "
                                   "422 carries the `report`. The workbook is read by the upload worker with the "
                                   "customer import's caps (`import.too_many_rows`...).", "checked (and saved)"))
    def api_products_import():
        return report_answer(run_import("products", request.query.get("confirm") in ("1", "true", "yes")))

    @app.get("/api/v1/suppliers", name="api_suppliers", scope="orders:read", roles=EVERYONE,
             api=Operation({"tags": ["orders"], "summary": "Suppliers with the products they supply",
                            "responses": {"200": resp("suppliers", items(SUPPLIER_SCHEMA)), **errors(401)}}))
    def api_suppliers():
        return {"items": orders.suppliers()}

    @app.post("/api/v1/suppliers", name="api_supplier_create", scope="orders:write", roles=STAFF,
              api=Operation({"tags": ["orders"], "summary": "Add a supplier", "requestBody": body(SUPPLIER_SCHEMA),
                             "responses": {"201": resp("added", SUPPLIER_SCHEMA), **errors(400, 401, 403, 409, 422)}}))
    def api_supplier_create():
        return created(orders.save_supplier(json_body(), actor=actor()))

    @app.route("/api/v1/suppliers/<supplier_id:int>", method="PATCH", name="api_supplier_update",
               scope="orders:write", roles=STAFF,
               api=Operation({"tags": ["orders"], "summary": "Change a supplier", "requestBody": body(SUPPLIER_SCHEMA),
                              "responses": {"200": resp("changed", SUPPLIER_SCHEMA),
                                            **errors(400, 401, 403, 404, 409, 422)}}))
    def api_supplier_update(supplier_id):
        return orders.save_supplier(json_body(), actor=actor(), supplier_id=supplier_id)

    @app.get("/api/v1/orders/settings", name="api_orders_settings", scope="orders:read", roles=EVERYONE,
             api=Operation({"tags": ["orders"], "summary": "Price limit, points rule, negative stock, reviewers",
                            "responses": {"200": resp("the settings", SETTINGS_SCHEMA), **errors(401)}}))
    def api_orders_settings():
        return orders.settings().as_dict()

    @app.put("/api/v1/orders/settings", name="api_orders_settings_update", scope="config", roles=ADMIN,
             api=Operation({"tags": ["orders"], "summary": "Change the order settings (audited)",
                            "requestBody": body(SETTINGS_SCHEMA),
                            "responses": {"200": resp("saved", SETTINGS_SCHEMA), **errors(400, 401, 403, 422)}}))
    def api_orders_settings_update():
        return orders.save_settings(json_body(), actor=actor()).as_dict()

    @app.get("/api/v1/orders", name="api_orders", scope="orders:read", roles=EVERYONE,
             api=Operation({"tags": ["orders"], "summary": "Search orders, newest first, one page at a time",
                            "description": "An agent sees the orders of their own customers and the orders they "
                                           "took; staff see all.",
                            "parameters": SEARCH_PARAMETERS + [
                                {"name": "page", "in": "query", "required": False, "schema": {"type": "integer"}},
                                {"name": "per_page", "in": "query", "required": False,
                                 "schema": {"type": "integer", "maximum": MAX_PER_PAGE}}],
                            "responses": {"200": resp("one page", {"type": "object"}), **errors(401, 422)}}))
    def api_orders():
        return deps.queries.run(orders.search, viewer(), filters(), page_arg(),
                                query_int("per_page", PER_PAGE, 1, MAX_PER_PAGE))

    @app.post("/api/v1/orders", name="api_order_create", scope="orders:write", roles=EVERYONE,
              api=Operation({"tags": ["orders"], "summary": "Take an order (a draft, or submitted for review)",
                             "description": "For a customer of yours, or the caller on your call (the CRM's "
                                            "rules); other customers are 404. Bad lines are 422 with `fields` "
                                            "(`items.<n>.price`...); a product out of stock is 409 "
                                            "`products.out_of_stock` (unless the admin allows negative stock); "
                                            "more points than the customer has is 409 `points.not_enough` on "
                                            "submit. Nothing is saved on any error.",
                             "requestBody": body(ORDER_BODY),
                             "responses": {"201": resp("taken", ORDER_SCHEMA),
                                           **errors(400, 401, 403, 404, 409, 422)}}))
    def api_order_create():
        made = orders.create(viewer(), json_body(), actor=actor(), live_calls=live_calls())
        answer = created(made)
        answer.set_header("ETag", f'"{made["version"]}"')
        return answer

    @app.get("/api/v1/orders/<order_id:int>", name="api_order", scope="orders:read", roles=EVERYONE,
             api=Operation({"tags": ["orders"], "summary": "One order with its lines, payments and history",
                            "description": "The `ETag` (and `version`) changes with every change.",
                            "responses": {"200": resp("the order", ORDER_SCHEMA), **errors(401, 404)}}))
    def api_order(order_id):
        return with_etag(orders.order(viewer(), order_id))

    @app.route("/api/v1/orders/<order_id:int>", method="PUT", name="api_order_update",
               scope="orders:write", roles=EVERYONE,
               api=Operation({"tags": ["orders"], "summary": "Change a draft (the whole order again)",
                              "description": "Only a draft; 409 `orders.not_draft` otherwise.",
                              "parameters": IF_MATCH, "requestBody": body(ORDER_BODY),
                              "responses": {"200": resp("changed", ORDER_SCHEMA),
                                            **errors(400, 401, 404, 409, 422)}}))
    def api_order_update(order_id):
        return with_etag(orders.update(viewer(), order_id, json_body(), actor=actor(), version=if_match()))

    @app.post(f"/api/v1/orders/<order_id:int>/<action:re:{ACTION_RE}>", name="api_order_act",
              scope="orders:write", roles=EVERYONE,
              api=Operation({"tags": ["orders"], "summary": "Move an order on: submit, approve, reject, ship, "
                                                            "deliver, return, cancel",
                             "description": "submit (draft → review; takes the points), approve / reject (review; "
                                            "reviewers only: admins and the supervisors named in the settings; "
                                            "reject needs `reason`), ship (approved; staff; `courier` and "
                                            "`tracking`; takes the stock), deliver (shipped), return (shipped or "
                                            "delivered; stock and points back), cancel (draft, review or approved). "
                                            "From another state: 409 `orders.bad_state`. Recorded in the order's "
                                            "history and the audit log.",
                             "parameters": IF_MATCH,
                             "requestBody": {"required": False, "content": {"application/json": {"schema": {
                                 "type": "object", "properties": {"reason": {"type": "string"},
                                                                  "courier": {"type": "string"},
                                                                  "tracking": {"type": "string"}}}}}},
                             "responses": {"200": resp("done", ORDER_SCHEMA),
                                           **errors(400, 401, 403, 404, 409, 422)}}))
    def api_order_act(order_id, action):
        return with_etag(orders.act(viewer(), order_id, action, json_body(optional=True), actor=actor(),
                                    version=if_match()))

    @app.post("/api/v1/orders/<order_id:int>/payments", name="api_order_pay", scope="orders:write", roles=EVERYONE,
              api=Operation({"tags": ["orders"], "summary": "Record a payment against an approved order",
                             "description": "At most what is still owed. Earns the customer points by the rule.",
                             "requestBody": body({"type": "object", "required": ["amount"], "properties": {
                                 "amount": {"type": ["string", "number"]},
                                 "method": {"enum": list(PAYMENT_METHODS)},
                                 "paid_on": {"type": "string", "format": "date"},
                                 "reference": {"type": "string", "maxLength": 64}}}),
                             "responses": {"201": resp("recorded", ORDER_SCHEMA),
                                           **errors(400, 401, 404, 409, 422)}}))
    def api_order_pay(order_id):
        return created(orders.add_payment(viewer(), order_id, json_body(), actor=actor()))

    @app.post("/api/v1/orders/tracking", name="api_orders_tracking",
              scope="orders:write", roles=STAFF, body_limit=IMPORT_BODY_LIMIT,
              api=import_operation("Ship approved orders from an Excel file of tracking numbers",
                                   "Columns: order (its number), courier, tracking. Unknown order numbers, orders not "
                                   "approved and empty cells are reported by row; with any problem nothing is shipped "
                                   "(422 with the `report`).", "checked (and shipped)"))
    def api_orders_tracking():
        return report_answer(run_import("tracking", request.query.get("confirm") in ("1", "true", "yes")))

    @app.get("/api/v1/orders/sales", name="api_orders_sales", scope="reports:read", roles=STAFF,
             api=Operation({"tags": ["orders"], "summary": "Sales by agent, product and day",
                            "description": "Orders approved, shipped or delivered, filtered like the search.",
                            "parameters": SEARCH_PARAMETERS,
                            "responses": {"200": resp("the figures", {"type": "object"}), **errors(401, 403, 422)}}))
    def api_orders_sales():
        return deps.queries.run(orders.sales, viewer(), filters(), day_of)

    @app.get("/api/v1/orders/sales/export", name="api_orders_sales_export", scope="reports:read", roles=STAFF,
             api=Operation({"tags": ["orders"], "summary": "The sales figures as an Excel file (three sheets)",
                            "parameters": SEARCH_PARAMETERS,
                            "responses": {"200": {"description": "the workbook", "content": {XLSX: {}}},
                                          **errors(401, 403, 422)}}))
    def api_orders_sales_export():
        return xlsx_response(sales_workbook(filters()), "sales")

    @app.get("/api/v1/customers/<customer_id:int>/points", name="api_customer_points",
             scope="orders:read", roles=EVERYONE,
             api=Operation({"tags": ["orders"], "summary": "A customer's member points and their ledger",
                            "responses": {"200": resp("balance and entries", {"type": "object"}),
                                          **errors(401, 404)}}))
    def api_customer_points(customer_id):
        return orders.points(viewer(), customer_id, live_calls())

    @app.post("/api/v1/customers/<customer_id:int>/points", name="api_customer_points_adjust",
              scope="orders:write", roles=STAFF,
              api=Operation({"tags": ["orders"], "summary": "Add or take member points by hand (audited)",
                             "requestBody": body({"type": "object", "required": ["delta"], "properties": {
                                 "delta": {"type": "integer"}}}),
                             "responses": {"200": resp("the balance", {"type": "object"}),
                                           **errors(400, 401, 403, 404, 409, 422)}}))
    def api_customer_points_adjust(customer_id):
        return orders.adjust_points(customer_id, json_body().get("delta"), actor=actor())

    @app.get("/api/v1/customers/<customer_id:int>/order-status", name="api_customer_order_status",
             scope="orders:read", roles=EVERYONE,
             api=Operation({"tags": ["orders"], "summary": "The customer's latest order as the voice menu says it",
                            "description": "The newest order that is not a draft (`order`, null for none) and the "
                                           "voice menu's sentence for it in your language, with the tracking "
                                           "number once shipped. Whoever may read the customer.",
                            "responses": {"200": resp("the sentence", ORDER_STATUS), **errors(401, 404)}}))
    def api_customer_order_status(customer_id):
        return orders.status_for(viewer(), customer_id, lang(), live_calls())

    @app.post("/api/v1/customers/<customer_id:int>/order-status", name="api_customer_order_status_tell",
              scope="orders:write", roles=EVERYONE, api=Operation({
                  "tags": ["orders"], "summary": "Tell a colleague the customer's latest order by internal message",
                  "description": TELL_NOTE, "requestBody": body(TELL),
                  "responses": {"201": resp("sent", ORDER_STATUS), **errors(400, 401, 404, 422)}}))
    def api_customer_order_status_tell(customer_id):
        return created(orders.tell_status(viewer(), customer_id, json_body().get("to"), actor(), deps.workspace.send,
                                          live_calls()))

    @app.post("/api/v1/orders/<order_id:int>/order-status", name="api_order_status_tell",
              scope="orders:write", roles=EVERYONE,
              api=Operation({"tags": ["orders"],
                             "summary": "Tell a colleague the latest order of this order's customer",
                             "description": TELL_NOTE + " Whoever sees the order.", "requestBody": body(TELL),
                             "responses": {"201": resp("sent", ORDER_STATUS), **errors(400, 401, 404, 422)}}))
    def api_order_status_tell(order_id):
        return created(orders.tell_order_status(viewer(), order_id, json_body().get("to"), actor(),
                                                deps.workspace.send))

    @app.get("/api/v1/customers/<customer_id:int>/addresses", name="api_customer_addresses",
             scope="customers:read", roles=EVERYONE,
             api=Operation({"tags": ["orders"], "summary": "The delivery addresses a customer's orders used",
                            "responses": {"200": resp("addresses", items({"type": "object"})), **errors(401, 404)}}))
    def api_customer_addresses(customer_id):
        row, _access = deps.crm.readable(viewer(), customer_id, live_calls())
        return {"items": orders.addresses(row.id)}


def import_operation(summary: str, description: str, done: str) -> Operation:
    """The API description of an Excel upload checked whole (``?confirm=1`` to save)."""
    return Operation({"tags": ["orders"], "summary": summary, "description": description, "parameters": CONFIRM,
                      "requestBody": UPLOAD_BODY, "responses": {"200": resp(done, REPORT_SCHEMA),
                                                                **errors(401, 403, 413, 422)}})


def yuan_text(value) -> str:
    """``"12.5"`` / ``1250`` fen -> ``¥12.50`` for pages (text is yuan, an int is fen)."""
    from decimal import Decimal

    if isinstance(value, int):
        return yuan(value)
    return yuan(int(Decimal(str(value)) * 100))


def form_values(data: dict) -> dict:
    """What the order form had, to show again beside its errors."""
    return {**data, "items": data.get("items") or []}


def report_answer(report: dict):
    if report["error_count"]:
        plain = {**report, "errors": [{k: v for k, v in e.items() if k != "error"} for e in report["errors"]]}
        return HTTPResponse(json.dumps({"error": "import.has_errors", "message": f"the file has "
                                                      f"{report['error_count']} problems; nothing was saved",
                                                      "fields": {"file": "has errors"}, "report": plain},
                                                     ensure_ascii=False),
                            status=422, headers={"Content-Type": "application/json; charset=utf-8"})
    return {**report, "errors": []}
