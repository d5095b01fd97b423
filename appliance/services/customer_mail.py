"""E-mail to a customer (issue 19 point 9): templates an admin writes, sent from the
customer's page or a work order through the outbox, kept in the customer's history.

**Templates.** A name, a subject and a plain-text body whose placeholders are the
customer's fields: ``{name}``, ``{phone}``, ``{email}``, ``{category}``,
``{account_manager}`` and each custom field by its key (``{city}``); ``{{`` and ``}}`` are
braces.  A placeholder that is none of these, or a lone brace, is refused when the template
is saved, with the reason (``check_template``), so a template never sends ``{nmae}`` to a
customer.  Values are filled in once (``render``): a value holding ``{phone}`` stays as it
is, and in the subject line breaks become spaces (a header is one line).

**Sending.** ``send`` refuses a customer without an e-mail address, in words, and refuses
while mail is off (no ``smtp_host``).  It writes the ``customer_mail`` row (state
``queued``, who, when, what was sent), then hands the message to the outbox
(``appliance.mail.Outbox``: written to disk before the request answers, sent by the
outbox's own greenlet with its retries, never on the request) with the row's id in the
message's ``meta``.  The outbox tells ``outcome`` when the message is sent or has failed
for good, and the row says so: the customer's history shows sent or failed, with the
server's answer.

Who may send: whoever may change the customer (their account manager's agent, staff), or
the caller of their current call (the CRM's ``readable``, not the shared pool: claim the
customer first); from a work order, whoever sees the order (the service's scope), to the
order's customer.
"""

from __future__ import annotations

import json
import logging
import re

from appliance.db import models as m
from appliance.errors import Conflict, FieldError, NotFound, PermissionDenied, Unavailable, ValidationError, \
    field_error_of
from appliance.services.config import Field, coerce
from appliance.services.crm import POOL, Viewer, _check_text, fmt_time
from appliance.services.workorders import _int  # a row id as sent, -1 for anything else

logger = logging.getLogger(__name__)

BUILTIN = ("name", "phone", "email", "category", "account_manager")  # the customer's own fields
TOKEN = re.compile(r"\{\{|\}\}|\{([^{}]*)\}")
NAME = Field("name", "str", required=True, max_length=64, check=_check_text)
SUBJECT = Field("subject", "str", required=True, max_length=200, check=_check_text)
BODY_MAX = 10_000
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")  # a body keeps its lines and tabs, nothing else
STATES = ("queued", "sent", "failed")


def placeholders(text: str) -> list[str]:
    """The placeholders of ``text`` in order (``{name}`` -> ``name``), or ValueError for a
    lone brace."""
    names = []
    for token in TOKEN.finditer(text):
        if token.group(1) is not None:
            names.append(token.group(1))
    if "{" in TOKEN.sub("", text) or "}" in TOKEN.sub("", text):
        raise ValueError(FieldError("mail.templates.field.brace",
                                    "a lone { or }: write {{ or }} for a brace"))
    return names


def render(text: str, values: dict, *, one_line: bool = False) -> str:
    """``text`` with each placeholder replaced by its value, once (a value's own braces stay
    as they are); ``one_line``: line breaks in values become spaces (a subject)."""

    def value(token: re.Match) -> str:
        if token.group(0) == "{{":
            return "{"
        if token.group(0) == "}}":
            return "}"
        v = values.get(token.group(1))
        v = "" if v is None else (f"{v:g}" if isinstance(v, float) else str(v))
        v = _CONTROL.sub("", v)
        return re.sub(r"\s*[\r\n]+\s*", " ", v) if one_line else v

    return TOKEN.sub(value, text)


def customer_values(customer: dict) -> dict:
    """A customer's view (``CustomerService._views``) as a template's values: custom fields
    by key, the customer's own fields over them."""
    own = {"name": customer["name"], "phone": customer["phone"], "email": customer.get("email") or "",
           "category": customer.get("category") or "",
           "account_manager": customer.get("account_manager_name") or customer.get("account_manager") or ""}
    return {**(customer.get("custom") or {}), **own}


def _body(value) -> str:
    if not isinstance(value, str):
        raise ValueError(FieldError("field.text", "text"))
    value = value.replace("\r\n", "\n").strip()
    if not value:
        raise ValueError(FieldError("field.required", "required"))
    if len(value) > BODY_MAX:
        raise ValueError(FieldError("field.max_length", f"at most {BODY_MAX} characters", n=BODY_MAX))
    if _CONTROL.search(value):
        raise ValueError(FieldError("field.control", "no control characters"))
    problem = _check_text(value)
    if problem:
        raise ValueError(problem)
    return value


def no_template(template_id) -> NotFound:
    return NotFound(f"no e-mail template {template_id}", code="mail.templates.not_found")


class CustomerMail:
    """``outbox``: the appliance's ``Outbox``; ``workorders``: the ``WorkOrderService``
    (sending from a work order), or None."""

    def __init__(self, db, crm, outbox, workorders=None):
        self.db, self.crm, self.outbox, self.workorders = db, crm, outbox, workorders
        outbox.outcomes.append(self.outcome)

    # -- templates ------------------------------------------------------------------------
    def known(self) -> list[str]:
        """The placeholders a template may use: the customer's own fields, then the custom ones."""
        return [*BUILTIN, *(c.name for c in self.crm.custom_fields() if c.name not in BUILTIN)]

    @staticmethod
    def template_view(t: m.MailTemplate) -> dict:
        return {"id": t.id, "name": t.name, "subject": t.subject, "body": t.body,
                "updated_at": fmt_time(t.updated_at), "updated_by": t.updated_by}

    def templates(self) -> list[dict]:
        return [self.template_view(t) for t in m.MailTemplate.select().order_by(m.MailTemplate.name)]

    def _template(self, template_id) -> m.MailTemplate:
        row = m.MailTemplate.get_or_none(m.MailTemplate.id == _int(template_id))
        if row is None:
            raise no_template(template_id)
        return row

    def template(self, template_id) -> dict:
        return self.template_view(self._template(template_id))

    def check_template(self, data) -> dict:
        """The template's values, or ValidationError with each field's fault: too long,
        markup, a lone brace, a placeholder that is no field of the customers'."""
        if not isinstance(data, dict):
            raise ValidationError("a template must be a JSON object", code="request.not_an_object")
        errors, values = {}, {}
        for f in (NAME, SUBJECT):
            try:
                values[f.name] = coerce(f, data.get(f.name) if data.get(f.name) is not None else "")
                if not values[f.name]:
                    errors[f.name] = FieldError("field.required", "required")
            except ValueError as exc:
                errors[f.name] = field_error_of(exc)
        try:
            values["body"] = _body(data.get("body") if data.get("body") is not None else "")
        except ValueError as exc:
            errors["body"] = field_error_of(exc)
        known = self.known()
        for name in ("subject", "body"):
            if name in errors:
                continue
            try:
                unknown = [p for p in placeholders(values[name]) if p not in known]
            except ValueError as exc:
                errors[name] = field_error_of(exc)
                continue
            if unknown:
                errors[name] = FieldError("mail.templates.field.unknown",
                                          f"unknown placeholder {{{unknown[0]}}}: use one of "
                                          + ", ".join("{" + k + "}" for k in known),
                                          name=unknown[0], known=", ".join("{" + k + "}" for k in known))
        if errors:
            raise ValidationError(f"the template cannot be saved: {next(iter(errors.items()))}", fields=errors)
        return values

    def save_template(self, data, actor: str, template_id=None) -> dict:
        values = self.check_template(data)
        with self.db.atomic():
            taken = m.MailTemplate.select().where(m.MailTemplate.name == values["name"])
            if template_id is not None:
                row = self._template(template_id)
                taken = taken.where(m.MailTemplate.id != row.id)
            if taken.exists():
                raise Conflict(f"a template {values['name']} exists", code="exists",
                               fields={"name": FieldError("field.exists", "already exists")})
            if template_id is None:
                row = m.MailTemplate.create(**values, updated_by=actor)
            else:
                for k, v in values.items():
                    setattr(row, k, v)
                row.updated_at, row.updated_by = m.utcnow(), actor
                row.save()
            m.AuditLog.create(username=actor or "system", action="create" if template_id is None else "update",
                              object_type="mail_template", object_id=str(row.id),
                              detail=json.dumps({"name": row.name, "subject": row.subject}, ensure_ascii=False))
        return self.template_view(row)

    def delete_template(self, template_id, actor: str) -> None:
        row = self._template(template_id)
        with self.db.atomic():
            row.delete_instance()
            m.AuditLog.create(username=actor or "system", action="delete", object_type="mail_template",
                              object_id=str(row.id), detail=json.dumps({"name": row.name}, ensure_ascii=False))

    # -- sending --------------------------------------------------------------------------
    def preview(self, template_id, customer: dict) -> dict:
        t = self._template(template_id)
        values = customer_values(customer)
        return {"subject": render(t.subject, values, one_line=True), "body": render(t.body, values)}

    def send(self, viewer: Viewer, customer_id, template_id, actor: str, *, work_order=None,
             live_calls=()) -> dict:
        """E-mail the customer the template filled with their fields, through the outbox;
        the history row (``queued``) is written before the outbox has the message."""
        order = None
        if work_order not in (None, ""):
            if self.workorders is None:
                raise Unavailable("work orders are not available", code="workorders.unavailable")
            order = self.workorders.get(viewer, work_order)  # not found unless the viewer sees it
            if not order["customer"]:
                raise ValidationError(f"work order {order['id']} has no customer to write to",
                                      code="crm.mail.no_customer")
            customer_id = order["customer"]["id"]
            row = m.Customer.get_or_none(m.Customer.id == customer_id)
            if row is None:
                raise NotFound(f"no customer {customer_id}", code="customers.not_found")
        else:
            row, access = self.crm.readable(viewer, customer_id, live_calls)
            if access == POOL:
                raise PermissionDenied("a customer of the shared pool: claim the customer first",
                                       code="crm.mail.claim_first")
        template = self._template(template_id)
        if not row.email:
            raise ValidationError(f"{row.name} has no e-mail address: add one on the customer's page first",
                                  code="crm.mail.no_address", params={"name": row.name},
                                  fields={"email": FieldError("crm.mail.field.no_address", "no e-mail address")})
        if not self.outbox.enabled:
            raise Unavailable("e-mail is off: an admin sets the mail server (smtp_host) first", code="crm.mail.off")
        values = customer_values(self.crm._views([row])[0])
        subject, body = render(template.subject, values, one_line=True), render(template.body, values)
        with self.db.atomic():
            mail = m.CustomerMail.create(customer=row.id, work_order=order["id"] if order else None,
                                         template=template.name, address=row.email, subject=subject, body=body,
                                         sent_by=actor)
            m.AuditLog.create(username=actor or "system", action="mail", object_type="customers",
                              object_id=str(row.id), detail=json.dumps(
                                  {"template": template.name, "subject": subject, "mail": mail.id,
                                   **({"work_order": order["id"]} if order else {})}, ensure_ascii=False))
        try:
            mail.outbox_id = self.outbox.queue([row.email], subject, body, meta={"customer_mail": mail.id}) or ""
        except OSError as exc:  # the outbox folder cannot be written: said on the row, and to the sender
            mail.state, mail.error, mail.done_at = "failed", f"not queued: {exc.strerror or exc}", m.utcnow()
            mail.save()
            raise Unavailable(f"the e-mail could not be queued: {exc.strerror or exc}",
                              code="crm.mail.not_queued") from None
        mail.save()
        logger.info("%s e-mailed customer %s (%s): %s", actor, row.id, template.name, subject)
        return self.view(mail)

    def outcome(self, item: dict, outcome: str, error: str) -> None:
        """The outbox's word on a message: the customer's e-mail it was is sent, or failed."""
        mail_id = (item.get("meta") or {}).get("customer_mail")
        if mail_id is None or outcome not in ("sent", "failed"):
            return
        (m.CustomerMail.update(state=outcome, error=error[:2000], done_at=m.utcnow())
         .where(m.CustomerMail.id == mail_id).execute())

    # -- reading --------------------------------------------------------------------------
    @staticmethod
    def view(r: m.CustomerMail) -> dict:
        return {"kind": "mail", "id": r.id, "at": fmt_time(r.created_at), "customer_id": r.customer_id,
                "work_order": r.work_order_id, "template": r.template, "address": r.address,
                "subject": r.subject, "body": r.body, "state": r.state, "error": r.error, "by": r.sent_by,
                "done_at": fmt_time(r.done_at)}

    @classmethod
    def of_customer(cls, customer_id: int, limit: int = 100) -> list[dict]:
        """The customer's e-mails as contact-history items (kind ``mail``), newest first."""
        rows = (m.CustomerMail.select().where(m.CustomerMail.customer == customer_id)
                .order_by(m.CustomerMail.created_at.desc(), m.CustomerMail.id.desc()).limit(limit))
        return [cls.view(r) for r in rows]

    @classmethod
    def of_work_order(cls, order_id: int) -> list[dict]:
        rows = (m.CustomerMail.select().where(m.CustomerMail.work_order == order_id)
                .order_by(m.CustomerMail.id.desc()))
        return [cls.view(r) for r in rows]


def with_mails(history: list[dict], customer_id: int, limit: int = 100) -> list[dict]:
    """A customer's contact history with their e-mails beside calls, notes and orders."""
    items = history + CustomerMail.of_customer(customer_id, limit)
    return sorted(items, key=lambda i: i["at"] or "", reverse=True)[:limit]
