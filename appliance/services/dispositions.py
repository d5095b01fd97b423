"""Dispositions (call outcomes): the admin's list an agent picks from after each call.

A disposition has a machine key (``code``: what outcomes and exports store, never changed)
and a display name in any script (``label``); an empty label is the appliance's own name
for the code (the catalog's ``disposition.<code>``, in the reader's language: the six
seeded codes). The order is the admin's (``position``). A disposition an outcome used is
switched off (``active``), never deleted, so old call records keep their meaning; an
unused one may go. Every change is a line in the audit log.
"""

from __future__ import annotations

import json
import logging
import re

from appliance import i18n
from peewee import fn

from appliance.db import models as m
from appliance.errors import Conflict, FieldError, NotFound, ValidationError

logger = logging.getLogger(__name__)

CODE_PATTERN = re.compile(r"[a-z][a-z0-9-]{0,31}")
LABEL_MAX = 64
KIND = "dispositions"


def display_name(code: str, label: str, lang: str) -> str:
    """What a reader of ``lang`` sees for a disposition: its label, else the catalog's
    name for the code, else the code (a code no longer in the list)."""
    if label:
        return label
    msgid = f"disposition.{code}"
    return i18n.translate(lang, msgid) if msgid in i18n.catalog("en") else code


def _label(value, required: bool) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ValidationError("label must be text", fields={"label": FieldError("field.text", "text")})
    value = value.strip()
    if required and not value:
        raise ValidationError("give the disposition a name", fields={"label": FieldError("field.required", "required")})
    if len(value) > LABEL_MAX:
        raise ValidationError(f"label is longer than {LABEL_MAX} characters", fields={
            "label": FieldError("field.max_length", f"at most {LABEL_MAX} characters", n=LABEL_MAX)})
    if any(ord(c) < 0x20 or c in "<>" for c in value):
        raise ValidationError("label holds a control character or markup",
                              fields={"label": FieldError("field.control", "no control characters")})
    return value


class DispositionService:
    def __init__(self, db):
        self.db = db

    # -- reading -----------------------------------------------------------------
    def list(self, lang: str = "en", active_only: bool = False) -> list[dict]:
        """In the admin's order; each with its display name and how many outcomes used it."""
        used = dict(m.CallOutcome.select(m.CallOutcome.disposition, fn.COUNT(m.CallOutcome.id))
                    .group_by(m.CallOutcome.disposition).tuples())
        q = m.CallDisposition.select().order_by(m.CallDisposition.position, m.CallDisposition.id)
        if active_only:
            q = q.where(m.CallDisposition.active == True)  # noqa: E712
        return [{"code": d.code, "label": d.label, "name": display_name(d.code, d.label, lang),
                 "position": d.position, "active": d.active, "used": used.get(d.code, 0)} for d in q]

    def names(self, lang: str) -> dict[str, str]:
        """Every code (switched off ones too: old records) -> its display name."""
        return {d.code: display_name(d.code, d.label, lang) for d in m.CallDisposition.select()}

    def is_active(self, code: str) -> bool:
        return m.CallDisposition.select().where(m.CallDisposition.code == code,
                                                m.CallDisposition.active == True).exists()  # noqa: E712

    def _get(self, code: str) -> m.CallDisposition:
        row = m.CallDisposition.get_or_none(m.CallDisposition.code == code)
        if row is None:
            raise NotFound(f"no disposition {code}", code="dispositions.not_found")
        return row

    # -- changing ----------------------------------------------------------------
    def create(self, data: dict, actor: str) -> dict:
        if not isinstance(data, dict):
            raise ValidationError("send a JSON object", fields={})
        code = data.get("code")
        if not isinstance(code, str) or not CODE_PATTERN.fullmatch(code.strip()):
            raise ValidationError("the key is lower-case letters, digits and -", fields={
                "code": FieldError("field.pattern", "lower-case letters, digits and -, starting with a letter")})
        code = code.strip()
        label = _label(data.get("label"), True)
        with self.db.atomic():
            if m.CallDisposition.select().where(m.CallDisposition.code == code).exists():
                raise Conflict(f"disposition {code} exists", code="dispositions.exists",
                               fields={"code": FieldError("field.exists", "already exists", key=code)})
            last = m.CallDisposition.select(fn.MAX(m.CallDisposition.position)).scalar() or 0
            m.CallDisposition.create(code=code, label=label, position=last + 1, active=True)
            self._audit(actor, "create", code, {"label": label})
        logger.info("%s added disposition %s", actor, code)
        return self.one(code)

    def update(self, code: str, data: dict, actor: str) -> dict:
        """Rename (``label``; empty: the appliance's own name) or switch on and off (``active``)."""
        if not isinstance(data, dict):
            raise ValidationError("send a JSON object", fields={})
        with self.db.atomic():
            row = self._get(code)
            changes = {}
            if "label" in data:
                row.label = changes["label"] = _label(data["label"], not self._has_own_name(code))
            if "active" in data:
                if not isinstance(data["active"], bool):
                    raise ValidationError("active is true or false",
                                          fields={"active": FieldError("field.boolean", "yes or no")})
                row.active = changes["active"] = data["active"]
            row.save()
            self._audit(actor, "update", code, changes)
        return self.one(code)

    def move(self, code: str, step: int, actor: str) -> list[dict]:
        """One place up (``step`` -1) or down (+1) in the agents' list."""
        if step not in (-1, 1):
            raise ValidationError("move one place up or down",
                                  fields={"step": FieldError("field.choice", "-1 or 1", choices="-1, 1")})
        with self.db.atomic():
            rows = list(m.CallDisposition.select().order_by(m.CallDisposition.position, m.CallDisposition.id))
            i = next((n for n, r in enumerate(rows) if r.code == code), None)
            if i is None:
                raise NotFound(f"no disposition {code}", code="dispositions.not_found")
            j = i + step
            if 0 <= j < len(rows):
                rows[i], rows[j] = rows[j], rows[i]
                for n, r in enumerate(rows, 1):  # renumbered: positions stay distinct
                    if r.position != n:
                        r.position = n
                        r.save()
                self._audit(actor, "update", code, {"position": j + 1})
        return self.list()

    def delete(self, code: str, actor: str) -> dict:
        """An unused disposition is deleted; a used one is switched off instead."""
        with self.db.atomic():
            row = self._get(code)
            used = m.CallOutcome.select().where(m.CallOutcome.disposition == code).count()
            if used:
                row.active = False
                row.save()
                self._audit(actor, "update", code, {"active": False, "used": used})
                logger.info("%s switched off disposition %s (used by %d outcomes)", actor, code, used)
                return {"code": code, "deleted": False, "active": False, "used": used}
            row.delete_instance()
            self._audit(actor, "delete", code, {})
        logger.info("%s deleted disposition %s", actor, code)
        return {"code": code, "deleted": True, "active": False, "used": 0}

    def one(self, code: str, lang: str = "en") -> dict:
        self._get(code)
        return next(d for d in self.list(lang) if d["code"] == code)

    @staticmethod
    def _has_own_name(code: str) -> bool:
        return f"disposition.{code}" in i18n.catalog("en")

    @staticmethod
    def _audit(actor: str, action: str, code: str, detail: dict) -> None:
        m.AuditLog.create(username=actor or "system", action=action, object_type=KIND, object_id=code,
                          detail=json.dumps(detail, ensure_ascii=False, sort_keys=True))
