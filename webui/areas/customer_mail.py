"""E-mail to customers in the web UI and the API (``appliance/services/customer_mail.py``):
the admins' templates page, and the API that sends a template to a customer or a work
order's customer and lists a customer's e-mails.  The forms that send from a page live
with their page (``crm.py``: the customer's page; ``workorders.py``: a work order's), so a
refusal is said on that page.

Registered by ``install`` from ``make_app``.
"""

from __future__ import annotations

import bottle
from bottle import request, response

from appliance.errors import DomainError
from webui import i18n
from webui.apidoc import Operation, body, errors, items, resp
from webui.http import (ADMIN, EVERYONE, actor, created, json_body, lang, live_calls, no_content, problem_of, render,
                        viewer)

TEMPLATE_SCHEMA = {"type": "object", "properties": {
    "id": {"type": "integer"}, "name": {"type": "string", "maxLength": 64},
    "subject": {"type": "string", "maxLength": 200, "description": "placeholders as in the body"},
    "body": {"type": "string", "maxLength": 10000,
             "description": "plain text; `{name}`, `{phone}`, `{email}`, `{category}`, `{account_manager}` and "
                            "each custom field by its key are the customer's values; `{{` and `}}` are braces"},
    "updated_at": {"type": "string"}, "updated_by": {"type": "string"}}}
TEMPLATE_IN = {"type": "object", "required": ["name", "subject", "body"],
               "properties": {k: TEMPLATE_SCHEMA["properties"][k] for k in ("name", "subject", "body")}}
MAIL_SCHEMA = {"type": "object", "properties": {
    "id": {"type": "integer"}, "kind": {"enum": ["mail"]}, "at": {"type": "string", "description": "UTC"},
    "customer_id": {"type": "integer"}, "work_order": {"type": ["integer", "null"]},
    "template": {"type": "string"}, "address": {"type": "string"}, "subject": {"type": "string"},
    "body": {"type": "string"}, "state": {"enum": ["queued", "sent", "failed"]},
    "error": {"type": "string", "description": "the mail server's answer when failed"},
    "by": {"type": "string"}, "done_at": {"type": ["string", "null"]}}}
SEND = {"type": "object", "required": ["template"], "properties": {"template": {"type": "integer"}}}
SEND_NOTE = ("Queued in the outbox (on disk before the answer) and sent by it, with its retries; the history "
             "says `queued`, then `sent` or `failed`. A customer without an e-mail address: 422 "
             "`crm.mail.no_address`; mail off (no `smtp_host`): 503 `crm.mail.off`.")


def install(app, deps) -> None:
    service = deps.customer_mail

    # -- the admins' templates ------------------------------------------------------------
    def templates_page(edit=None, values=None, errors_=None, problem=None, status=200):
        response.status = status
        return render("mail_templates.tpl", templates=service.templates(), edit=edit, values=values or edit or {},
                      errors=errors_ or {}, problem=problem, known=known())

    def known() -> list[tuple[str, str]]:
        """Each placeholder with what it holds, in the reader's words."""
        custom = {c.name: c.label for c in deps.crm.custom_fields()}
        return [(k, custom[k] if k in custom else i18n.translate(lang(), "field.customers." + k))
                for k in service.known()]

    @app.get("/admin/mail-templates", name="mail_templates", roles=ADMIN)
    def mail_templates():
        edit = request.query.get("edit")
        return templates_page(edit=service.template(edit) if edit else None)

    def save_from_form(template_id=None):
        data = {k: request.forms.getunicode(k) or "" for k in ("name", "subject", "body")}
        try:
            service.save_template(data, actor(), template_id)
        except DomainError as exc:
            if exc.http_status == 404:
                raise
            return templates_page(edit=service.template(template_id) if template_id else None, values=data,
                                  errors_=exc.fields, problem=None if exc.fields else problem_of(exc),
                                  status=exc.http_status)
        bottle.redirect("/admin/mail-templates")

    @app.post("/admin/mail-templates", name="mail_template_create", roles=ADMIN)
    def mail_template_create():
        return save_from_form()

    @app.post("/admin/mail-templates/<template_id:int>", name="mail_template_update", roles=ADMIN)
    def mail_template_update(template_id):
        return save_from_form(template_id)

    @app.post("/admin/mail-templates/<template_id:int>/delete", name="mail_template_delete", roles=ADMIN)
    def mail_template_delete(template_id):
        service.delete_template(template_id, actor())
        bottle.redirect("/admin/mail-templates")

    # -- API ------------------------------------------------------------------------------
    @app.get("/api/v1/mail-templates", name="api_mail_templates", scope="customers:read", roles=EVERYONE,
             api=Operation({"tags": ["customers"], "summary": "The e-mail templates, by name",
                            "responses": {"200": resp("templates", items(TEMPLATE_SCHEMA)), **errors(401)}}))
    def api_mail_templates():
        return {"items": service.templates(), "placeholders": service.known()}

    @app.post("/api/v1/mail-templates", name="api_mail_template_create", scope="config", roles=ADMIN,
              api=Operation({"tags": ["customers"], "summary": "Write an e-mail template",
                             "description": "A placeholder that is none of the customers' fields, or a lone brace, "
                                            "is 422 with the reason under `fields.subject` or `fields.body`.",
                             "requestBody": body(TEMPLATE_IN),
                             "responses": {"201": resp("saved", TEMPLATE_SCHEMA),
                                           **errors(400, 401, 403, 409, 422)}}))
    def api_mail_template_create():
        return created(service.save_template(json_body(), actor()))

    @app.put("/api/v1/mail-templates/<template_id:int>", name="api_mail_template_update", scope="config", roles=ADMIN,
             api=Operation({"tags": ["customers"], "summary": "Change an e-mail template",
                            "requestBody": body(TEMPLATE_IN),
                            "responses": {"200": resp("saved", TEMPLATE_SCHEMA),
                                          **errors(400, 401, 403, 404, 409, 422)}}))
    def api_mail_template_update(template_id):
        return service.save_template(json_body(), actor(), template_id)

    @app.delete("/api/v1/mail-templates/<template_id:int>", name="api_mail_template_delete",
                scope="config", roles=ADMIN,
                api=Operation({"tags": ["customers"], "summary": "Delete an e-mail template",
                               "description": "E-mails sent with it stay in the customers' histories.",
                               "responses": {"204": resp("deleted"), **errors(401, 403, 404)}}))
    def api_mail_template_delete(template_id):
        service.delete_template(template_id, actor())
        return no_content()

    @app.get("/api/v1/customers/<customer_id:int>/mails", name="api_customer_mails",
             scope="customers:read", roles=EVERYONE,
             api=Operation({"tags": ["customers"], "summary": "A customer's e-mails, newest first",
                            "description": "Whoever may read the customer (as the customer's page).",
                            "responses": {"200": resp("e-mails", items(MAIL_SCHEMA)), **errors(401, 404)}}))
    def api_customer_mails(customer_id):
        row, _access = deps.crm.readable(viewer(), customer_id, live_calls())
        return {"items": service.of_customer(row.id)}

    @app.post("/api/v1/customers/<customer_id:int>/mails", name="api_customer_mail_send",
              scope="customers:write", roles=EVERYONE,
              api=Operation({"tags": ["customers"], "summary": "E-mail a template to a customer",
                             "description": "The template filled with the customer's fields. " + SEND_NOTE
                                            + " A customer of the shared pool is claimed first (403 "
                                              "`crm.mail.claim_first`).",
                             "requestBody": body(SEND),
                             "responses": {"201": resp("queued", MAIL_SCHEMA),
                                           **errors(400, 401, 403, 404, 422, 503)}}))
    def api_customer_mail_send(customer_id):
        return created(service.send(viewer(), customer_id, json_body().get("template"), actor(),
                                    live_calls=live_calls()))

    @app.post("/api/v1/work-orders/<order_id:int>/mails", name="api_workorder_mail_send",
              scope="orders:write", roles=EVERYONE,
              api=Operation({"tags": ["work orders"], "summary": "E-mail a template to a work order's customer",
                             "description": "Whoever sees the order. Kept in the customer's history and on the "
                                            "order. " + SEND_NOTE + " An order without a customer: 422 "
                                                                    "`crm.mail.no_customer`.",
                             "requestBody": body(SEND),
                             "responses": {"201": resp("queued", MAIL_SCHEMA),
                                           **errors(400, 401, 404, 422, 503)}}))
    def api_workorder_mail_send(order_id):
        return created(service.send(viewer(), None, json_body().get("template"), actor(), work_order=order_id))
