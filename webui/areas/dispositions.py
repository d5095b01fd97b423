"""Dispositions (call outcomes): the admin's page and API (``services/dispositions.py``).

The list agents pick from after a call (the workspace), named in any script, in the admin's
order; a used one is switched off rather than deleted. Registered by ``install`` from
``make_app``; roles declared on each route.
"""

from __future__ import annotations

import bottle
from bottle import request, response

from appliance.errors import DomainError, ValidationError
from webui.apidoc import Operation, body, errors, items, resp
from webui.http import ADMIN, EVERYONE, STAFF, created, current_user, json_body, lang, problem_of, render, viewer

DISPOSITION_SCHEMA = {"type": "object", "properties": {
    "code": {"type": "string", "description": "the machine key outcomes and exports store"},
    "label": {"type": "string", "description": "the admin's name for it, any script; empty: the appliance's own"},
    "name": {"type": "string", "description": "as the reader sees it, in their language"},
    "position": {"type": "integer"}, "active": {"type": "boolean"},
    "used": {"type": "integer", "description": "how many saved outcomes have it"}}}


def install(app, deps) -> None:
    service = deps.dispositions

    def actor() -> str:
        return current_user()["username"]

    def show(problem=None, values=None, field_errors=None):
        return render("dispositions.tpl", rows=service.list(lang()), problem=problem, values=values or {},
                      errors=field_errors or {})

    def page_action(fn, *args):
        """Run a change from a form; its refusal is shown on the page, with what was typed."""
        try:
            fn(*args, actor=actor())
        except DomainError as exc:
            if exc.http_status == 404:
                raise
            response.status = exc.http_status
            if exc.fields and fn == service.create:
                return show(values=args[0], field_errors=exc.fields)
            return show(problem=problem_of(exc))
        bottle.redirect("/admin/dispositions")

    # -- the page ------------------------------------------------------------------------
    @app.get("/admin/dispositions", name="admin_dispositions", roles=STAFF)
    def admin_dispositions():
        return show()

    @app.post("/admin/dispositions", name="admin_disposition_create", roles=ADMIN)
    def admin_disposition_create():
        return page_action(service.create, {"code": request.forms.getunicode("code") or "",
                                            "label": request.forms.getunicode("label") or ""})

    @app.post("/admin/dispositions/<code>", name="admin_disposition_update", roles=ADMIN)
    def admin_disposition_update(code):
        return page_action(service.update, code, {"label": request.forms.getunicode("label") or "",
                                                  "active": request.forms.get("active") == "on"})

    @app.post("/admin/dispositions/<code>/move", name="admin_disposition_move", roles=ADMIN)
    def admin_disposition_move(code):
        return page_action(service.move, code, -1 if request.forms.get("step") == "up" else 1)

    @app.post("/admin/dispositions/<code>/delete", name="admin_disposition_delete", roles=ADMIN)
    def admin_disposition_delete(code):
        return page_action(service.delete, code)

    # -- the API -------------------------------------------------------------------------
    @app.get("/api/v1/dispositions", name="api_dispositions", scope="calls:read", roles=EVERYONE,
             api=Operation({"tags": ["dispositions"], "summary": "The dispositions, in the admin's order",
                            "description": "The ones an agent may pick now; `all=1` (staff) with the switched-off "
                                           "ones too. Names in the reader's language.",
                            "parameters": [{"name": "all", "in": "query", "required": False,
                                            "schema": {"enum": ["0", "1"]}}],
                            "responses": {"200": resp("dispositions", items(DISPOSITION_SCHEMA)),
                                          **errors(401, 422)}}))
    def api_dispositions():
        every = request.query.get("all") or "0"
        if every not in ("0", "1"):
            raise ValidationError("all is 0 or 1", fields={"all": "0 or 1"})
        return {"items": service.list(lang(), active_only=not (every == "1" and viewer().staff))}

    @app.post("/api/v1/dispositions", name="api_disposition_create", scope="config", roles=ADMIN,
              api=Operation({"tags": ["dispositions"], "summary": "Add a disposition (last in the list)",
                             "requestBody": body({"type": "object", "required": ["code", "label"], "properties": {
                                 "code": {"type": "string", "pattern": "^[a-z][a-z0-9-]{0,31}$"},
                                 "label": {"type": "string", "maxLength": 64}}}),
                             "responses": {"201": resp("added", DISPOSITION_SCHEMA),
                                           **errors(400, 401, 403, 409, 422)}}))
    def api_disposition_create():
        return created(service.create(json_body(), actor=actor()))

    @app.patch("/api/v1/dispositions/<code>", name="api_disposition_update", scope="config", roles=ADMIN,
               api=Operation({"tags": ["dispositions"], "summary": "Rename a disposition, or switch it on or off",
                              "description": "`label` empty: the appliance's own name (for the six built-in "
                                             "codes only). The code never changes.",
                              "requestBody": body({"type": "object", "properties": {
                                  "label": {"type": "string", "maxLength": 64}, "active": {"type": "boolean"}}}),
                              "responses": {"200": resp("changed", DISPOSITION_SCHEMA),
                                            **errors(400, 401, 403, 404, 422)}}))
    def api_disposition_update(code):
        return service.update(code, json_body(), actor=actor())

    @app.post("/api/v1/dispositions/<code>/move", name="api_disposition_move", scope="config", roles=ADMIN,
              api=Operation({"tags": ["dispositions"], "summary": "Move a disposition one place up or down",
                             "requestBody": body({"type": "object", "required": ["step"], "properties": {
                                 "step": {"enum": [-1, 1]}}}),
                             "responses": {"200": resp("the list in its new order", items(DISPOSITION_SCHEMA)),
                                           **errors(400, 401, 403, 404, 422)}}))
    def api_disposition_move(code):
        return {"items": service.move(code, json_body().get("step"), actor=actor())}

    @app.delete("/api/v1/dispositions/<code>", name="api_disposition_delete", scope="config", roles=ADMIN,
                api=Operation({"tags": ["dispositions"],
                               "summary": "Delete an unused disposition; switch a used one off",
                               "description": "A disposition a saved outcome has is switched off (`deleted: false`), "
                                              "so old call records keep their meaning.",
                                "responses": {"200": resp("deleted or switched off", {"type": "object", "properties": {
                                   "code": {"type": "string"}, "deleted": {"type": "boolean"},
                                   "active": {"type": "boolean"}, "used": {"type": "integer"}}}),
                                   **errors(401, 403, 404)}}))
    def api_disposition_delete(code):
        return service.delete(code, actor=actor())
