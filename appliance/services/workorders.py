"""Work orders (工单): types the admin defines, orders opened from a call's screen pop, a
customer's page, a voice message or a low survey score, moved along their type's workflow,
assigned to an agent, a team (queue) or a field engineer, escalated past their state's time
limit, dispatched to a field engineer by a signed link, counted for statistics.

The rules are pure (``appliance/engine/workorders.py``); this module validates, stores,
audits and tells people.

**Fields.** A type's own fields are declared like the customers' custom fields: each
definition is checked with the ``customer_fields`` kind's ``Field`` rules
(``services/config.py``), and each value with the CRM's ``CustomField.coerce``.

**Who sees what.** Staff (admins, supervisors) see every order; an agent the orders
assigned to one of their agents or to a team (queue) one of them is a member of, those
about their customers (account manager), and those they opened.  Anyone else's order is "not found".  Every change is audited (``audit_log``,
``object_type`` ``work_orders``) and written to the order's history.

**Escalation.** An order past its state's limit escalates to level 1, the team leader:
the supervisors whose own agents are members of the order's team (the queue it is assigned
to, or the queues of the agent it is assigned to; no such supervisor: every supervisor),
and the type's ``leader_email``; past twice the limit to level 2, the manager: every admin
and the type's ``manager_email``.  They are told by internal message and e-mail.  The level
is stored on the order (``escalation_level``, ``escalated_at``) and raised with a conditional
``UPDATE`` before anyone is told, so a tick, a restart and a second process never tell twice;
``escalate(now)`` computes what is owed from the stored rows, so a tick after downtime
catches up (both levels at once if both were passed).  Moving an order resets its level.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
import os
import secrets
import time
from collections.abc import Callable
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from peewee import fn

from appliance.db import models as m
from appliance.engine import workorders as wf
from appliance.errors import Conflict, FieldError, NotFound, PermissionDenied, TooLarge, Unavailable, \
    ValidationError, field_error_of
from appliance.i18n import translate
from appliance.labels import label
from appliance.mail import parse_addresses
from appliance.services import callers
from appliance.services.config import FIELDS, Field, coerce
from appliance.services.crm import CustomField, Viewer, _check_text
from appliance.services.listeners import tell

logger = logging.getLogger(__name__)

SOURCES = ("manual", "customer", "call", "voicemail", "survey")
ASSIGNEE_KINDS = ("", "agent", "queue", "engineer")
MAX_FIELDS = 30
MAX_PHOTO_BYTES = 5 * 1024 * 1024
MAX_PHOTOS = 6
KEY_FILE = "dispatch.key"
DEFAULT_LINK_HOURS = 72
MAX_LINK_HOURS = 24 * 14
NOTE = Field("note", "str", max_length=2000, check=_check_text)
TITLE = Field("title", "str", required=True, max_length=200, check=_check_text)
TYPE_FIELDS = (
    Field("name", "str", required=True, max_length=32, pattern=r"[a-z][a-z0-9_]{0,31}",
          help="lower-case letters, digits and _, starting with a letter"),
    Field("label", "str", required=True, max_length=64, check=_check_text),
    Field("priorities", "str", default="low,normal,high,urgent", max_length=200, check=_check_text),
    Field("leader_email", "str", default="", max_length=1000),
    Field("manager_email", "str", default="", max_length=1000),
    Field("from_survey", "bool", default=False),
    Field("active", "bool", default=True),
)


def _t(value: dt.datetime | None) -> str | None:
    return value.isoformat(sep=" ", timespec="seconds") if value else None


def _invalid(name: str, error) -> ValidationError:
    return ValidationError(f"the work order cannot be saved: {name}: {error}", fields={name: error})


def _int(value) -> int:
    """A row id as sent (a number or its digits); -1 (no such row) for anything else,
    a SQLite integer's range included."""
    if isinstance(value, bool) or isinstance(value, float):
        return -1
    try:
        number = int(value)
    except (TypeError, ValueError):
        return -1
    return number if -2 ** 63 <= number < 2 ** 63 else -1


def _audit(actor: str, action: str, object_id, detail: dict, object_type: str = "work_orders") -> None:
    m.AuditLog.create(username=actor or "system", action=action, object_type=object_type,
                      object_id=str(object_id), detail=json.dumps(detail, ensure_ascii=False, default=str,
                                                                  sort_keys=True))


def dispatch_key(data_dir: Path) -> bytes:
    """The HMAC key of dispatch links, made once (32 random bytes, mode 0600) in the data
    directory; a new key voids every link given out."""
    path = Path(data_dir) / KEY_FILE
    try:
        return path.read_bytes()
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(secrets.token_bytes(32))
        return path.read_bytes()


def check_photo(data: bytes) -> str:
    """The photo's extension, or ValueError (FieldError ``dispatch.not_an_image``): only
    JPEG, PNG, GIF and WebP whose structure starts as its kind's must (run off the loop)."""
    kind = wf.image_kind(data[:16])
    ok = kind is not None
    if kind == "png":
        ok = data[12:16] == b"IHDR" and data.rstrip(b"\0").endswith(b"IEND\xaeB`\x82")
    elif kind == "jpg":
        ok = data.rstrip(b"\0").endswith(b"\xff\xd9")
    if not ok:
        raise ValueError(FieldError("dispatch.not_an_image", "not a photo (JPEG, PNG, GIF or WebP)"))
    return kind


class WorkOrderService:
    def __init__(self, db, crm, *, data_dir: Path, bus=None, outbox=None,
                 clock: Callable[[], dt.datetime] = m.utcnow, wall: Callable[[], float] = time.time,
                 language: Callable[[], str] = lambda: "zh_CN", off_loop=None, call_lists=None):
        self.db, self.crm, self.bus, self.outbox = db, crm, bus, outbox
        self.call_lists = call_lists  # CallLists: a closed order's customer into an outbound call list
        self.photo_dir = Path(data_dir) / "workorders"
        self.key = dispatch_key(data_dir)
        self.clock, self.wall, self.language = clock, wall, language
        # runs a check off the event loop (gevent's thread pool in the appliance); None: in place
        self.off_loop = off_loop or (lambda fn_, *a: fn_(*a))
        self._escalator = None
        # told ("created" | "changed", the order's view) after an order is opened, moved or
        # assigned and committed (the webhooks' workorder.created / workorder.changed)
        self.changed: list = []

    # -- types -------------------------------------------------------------------------
    def types(self, active_only: bool = False) -> list[dict]:
        q = m.WorkOrderType.select().order_by(m.WorkOrderType.label)
        if active_only:
            q = q.where(m.WorkOrderType.active == True)  # noqa: E712
        return [self._type_view(t) for t in q]

    def type(self, type_id) -> dict:
        return self._type_view(self._type_row(type_id))

    @staticmethod
    def _type_row(type_id) -> m.WorkOrderType:
        row = m.WorkOrderType.get_or_none(m.WorkOrderType.id == _int(type_id))
        if row is None:
            raise NotFound(f"no work order type {type_id}", code="workorders.no_type")
        return row

    @staticmethod
    def _type_view(t: m.WorkOrderType) -> dict:
        return {"id": t.id, "name": t.name, "label": t.label, "fields": json.loads(t.fields),
                "states": json.loads(t.states), "transitions": json.loads(t.transitions),
                "priorities": [p for p in t.priorities.split(",") if p], "leader_email": t.leader_email,
                "manager_email": t.manager_email, "from_survey": t.from_survey, "active": t.active}

    def clean_type(self, data) -> dict:
        """The type's stored columns from what the admin sent, or ValidationError with every
        field's fault (a workflow's: each reason, e.g. unreachable states or none final)."""
        if not isinstance(data, dict):
            raise ValidationError("a work order type must be a JSON object", code="request.not_an_object")
        errors, values = {}, {}
        for f in TYPE_FIELDS:
            value = data.get(f.name, f.default)
            try:
                values[f.name] = coerce(f, value)
            except ValueError as exc:
                errors[f.name] = field_error_of(exc)
            if f.required and not values.get(f.name) and f.name not in errors:
                errors[f.name] = FieldError("field.required", "required")
        for name in ("leader_email", "manager_email"):
            if name not in errors:
                try:
                    parse_addresses(values[name], name)
                except ValidationError as exc:
                    errors.update(exc.fields)
        priorities = [p.strip() for p in (values.get("priorities") or "").split(",") if p.strip()]
        if "priorities" not in errors and not priorities:
            errors["priorities"] = FieldError("field.required", "required")
        values["priorities"] = ",".join(dict.fromkeys(priorities))
        values["fields"] = self._clean_fields(data.get("fields") or [], errors)
        states = data.get("states") or []
        transitions = data.get("transitions") or []
        if not isinstance(states, list) or not all(isinstance(s, dict) for s in states):
            errors["states"] = FieldError("workorders.wf.no_states", "a workflow needs states")
        elif not isinstance(transitions, list):
            errors["transitions"] = FieldError("workorders.wf.unknown_state", "transitions are [from, to] pairs",
                                               transition="")
        else:
            states = [{"name": s.get("name"), "label": str(s.get("label") or s.get("name") or "")[:64],
                       "initial": bool(s.get("initial")), "final": bool(s.get("final")),
                       "limit_minutes": _int(s.get("limit_minutes") or 0)} for s in states]
            for s in states:
                if _bad_label(s["label"]):
                    errors["states"] = FieldError("field.markup", "no markup (< followed by a letter)")
            for fault in wf.check_workflow(states, transitions):
                errors.setdefault(fault.field, FieldError(fault.msgid, fault.english, **fault.params))
        if errors:
            first = next(iter(errors.items()))
            raise ValidationError(f"the work order type cannot be saved: {first[0]}: {first[1]}", fields=errors)
        values["states"], values["transitions"] = states, [list(t) for t in transitions]
        return values

    @staticmethod
    def _clean_fields(fields, errors: dict) -> list[dict]:
        if not isinstance(fields, list) or len(fields) > MAX_FIELDS:
            errors["fields"] = FieldError("field.max", f"at most {MAX_FIELDS}", n=MAX_FIELDS)
            return []
        out, names = [], set()
        rules = {f.name: f for f in FIELDS["customer_fields"]}
        for i, raw in enumerate(fields):
            if not isinstance(raw, dict):
                errors[f"fields.{i}"] = FieldError("field.custom_object", "an object")
                continue
            item = {}
            for name in ("name", "label", "type", "required", "choices"):
                try:
                    item[name] = coerce(rules[name], raw.get(name, rules[name].default))
                except ValueError as exc:
                    errors[f"fields.{i}.{name}"] = field_error_of(exc)
            if not item.get("name") or not item.get("label"):
                errors.setdefault(f"fields.{i}.{'label' if item.get('name') else 'name'}",
                                  FieldError("field.required", "required"))
                continue
            if item["name"] in names:
                errors[f"fields.{i}.name"] = FieldError("field.exists", "already exists", item=item["name"])
            if item.get("type") == "choice" and not [c for c in (item.get("choices") or "").split(",") if c.strip()]:
                errors[f"fields.{i}.choices"] = FieldError("field.required", "required")
            names.add(item["name"])
            out.append(item)
        return out

    def save_type(self, data, actor: str, type_id=None) -> dict:
        values = self.clean_type(data)
        stored = {**values, "fields": json.dumps(values["fields"], ensure_ascii=False),
                  "states": json.dumps(values["states"], ensure_ascii=False),
                  "transitions": json.dumps(values["transitions"])}
        with self.db.atomic():
            clash = m.WorkOrderType.select().where(m.WorkOrderType.name == values["name"])
            if type_id is not None:
                row = self._type_row(type_id)
                clash = clash.where(m.WorkOrderType.id != row.id)
            if clash.exists():
                raise Conflict(f"a work order type {values['name']} exists", code="workorders.type_exists",
                               fields={"name": FieldError("field.exists", "already exists", item=values["name"])})
            if type_id is None:
                row = m.WorkOrderType.create(**stored)
            else:
                self._states_in_use(row, {s["name"] for s in values["states"]})
                for k, v in stored.items():
                    setattr(row, k, v)
                row.save()
            _audit(actor, "create" if type_id is None else "update", row.id, values, "work_order_types")
        return self._type_view(row)

    @staticmethod
    def _states_in_use(row: m.WorkOrderType, names: set) -> None:
        used = [s for (s,) in m.WorkOrder.select(m.WorkOrder.state).where(m.WorkOrder.type == row.id)
                .distinct().tuples() if s not in names]
        if used:
            raise ValidationError(f"orders are in state {used[0]}, which the new workflow drops",
                                  fields={"states": FieldError("workorders.wf.state_in_use",
                                                               f"orders are in state {used[0]}", name=used[0])})

    # -- who sees what -------------------------------------------------------------------
    def _scoped(self, query, viewer: Viewer):
        if viewer.staff:
            return query
        mine = sorted(viewer.agents) or [""]
        managed = m.Customer.select(m.Customer.id).join(m.Agent, on=(m.Customer.account_manager == m.Agent.id)).where(
            m.Agent.number.in_(mine))
        teams = (m.Queue.select(m.Queue.name).join(m.QueueMember).join(m.Agent).where(m.Agent.number.in_(mine)))
        return query.where(((m.WorkOrder.assignee_kind == "agent") & m.WorkOrder.assignee.in_(mine))
                           | ((m.WorkOrder.assignee_kind == "queue") & m.WorkOrder.assignee.in_(teams))
                           | m.WorkOrder.customer.in_(managed) | (m.WorkOrder.created_by == viewer.username))

    def _order(self, viewer: Viewer | None, order_id) -> m.WorkOrder:
        q = m.WorkOrder.select().where(m.WorkOrder.id == _int(order_id))
        row = (q if viewer is None else self._scoped(q, viewer)).first()
        if row is None:
            raise NotFound(f"no work order {order_id}", code="workorders.not_found")
        return row

    # -- orders --------------------------------------------------------------------------
    def create(self, viewer: Viewer, data, actor: str, live_calls=()) -> dict:
        """Open an order in its type's initial state; ``live_calls`` (the live snapshot's)
        let an agent open one about the caller of their current call (``crm.readable``)."""
        if not isinstance(data, dict):
            raise ValidationError("a work order must be a JSON object", code="request.not_an_object")
        t = m.WorkOrderType.get_or_none(m.WorkOrderType.id == _int(data.get("type")), m.WorkOrderType.active == True)  # noqa: E712
        if t is None:
            raise _invalid("type", FieldError("field.no_such", "no such type", key=str(data.get("type"))))
        errors = {}
        try:
            title = coerce(TITLE, data.get("title") or "")
        except ValueError as exc:
            errors["title"], title = field_error_of(exc), ""
        if not title and "title" not in errors:
            errors["title"] = FieldError("field.required", "required")
        priorities = [p for p in t.priorities.split(",") if p]
        priority = data.get("priority") or priorities[min(1, len(priorities) - 1)]
        if priority not in priorities:
            errors["priority"] = FieldError("field.choice", f"one of {', '.join(priorities)}",
                                            choices=", ".join(priorities))
        custom = self._custom(t, data.get("custom") or {}, errors)
        customer = None
        if data.get("customer") not in (None, ""):
            try:
                customer = self.crm.readable(viewer, data["customer"], live_calls)[0]
            except NotFound:
                errors["customer"] = FieldError("field.no_such", "no such customer", key=str(data["customer"]))
        try:
            linkedid = coerce(Field("linkedid", "str", max_length=64, pattern=r"[0-9A-Za-z.\-_]*"),
                              data.get("linkedid") or "")
        except ValueError as exc:
            errors["linkedid"], linkedid = field_error_of(exc), ""
        voice_message = None
        if data.get("voice_message"):
            voice_message = m.VoiceMessage.get_or_none(m.VoiceMessage.id == _int(data["voice_message"]))
            if voice_message is None or not (viewer.staff or voice_message.agent in viewer.agents or m.QueueMember.select()
                                             .join(m.Queue).switch(m.QueueMember).join(m.Agent)
                                             .where(m.Queue.name == voice_message.queue,
                                                    m.Agent.number.in_(sorted(viewer.agents) or [""])).exists()):
                voice_message = None
                errors["voice_message"] = FieldError("field.no_such", "no such message",
                                                     key=str(data["voice_message"]))
            else:
                linkedid = linkedid or voice_message.linkedid
        source = data.get("source") or ("voicemail" if voice_message else "call" if linkedid
                                        else "customer" if customer else "manual")
        opened_by_people = SOURCES[:-1]  # "survey" is the low-score event's alone
        if source not in opened_by_people:
            errors["source"] = FieldError("field.choice", f"one of {', '.join(opened_by_people)}",
                                          choices=", ".join(opened_by_people))
        kind, assignee, contact = self._clean_assignee(viewer, data, errors)
        if errors:
            first = next(iter(errors.items()))
            raise ValidationError(f"the work order cannot be saved: {first[0]}: {first[1]}", fields=errors)
        if not kind and not viewer.staff and viewer.agents:
            kind, assignee = "agent", sorted(viewer.agents)[0]
        return self._insert(t, title=title, priority=priority, customer=customer, linkedid=linkedid,
                            voice_message=voice_message, source=source, custom=custom, kind=kind,
                            assignee=assignee, contact=contact, actor=actor, note=str(data.get("note") or ""))

    def _insert(self, t: m.WorkOrderType, *, title, priority, customer, linkedid, voice_message, source, custom,
                kind, assignee, contact, actor, note="") -> dict:
        states = json.loads(t.states)
        initial = next(s for s in states if s["initial"])
        now = self.clock()
        with self.db.atomic():
            row = m.WorkOrder.create(type=t, title=title, state=initial["name"], priority=priority, customer=customer,
                                     linkedid=linkedid, voice_message=voice_message, source=source,
                                     custom=json.dumps(custom, ensure_ascii=False), assignee_kind=kind,
                                     assignee=assignee, engineer_contact=contact, created_by=actor, created_at=now,
                                     updated_at=now, state_since=now,
                                     due_at=wf.due_at(now, initial.get("limit_minutes", 0)))
            m.WorkOrderEvent.create(order=row, at=now, actor=actor, kind="create", to_state=initial["name"],
                                    note=note[:2000])
            _audit(actor, "create", row.id, {"type": t.name, "title": title, "priority": priority,
                                             "customer": customer.id if customer else None, "source": source,
                                             "linkedid": linkedid, "assignee": f"{kind}:{assignee}" if kind else ""})
        logger.info("%s opened work order %s (%s, from %s)", actor, row.id, t.name, source)
        return self._tell("created", self._view(row))

    def _tell(self, what: str, view: dict) -> dict:
        tell(self.changed, f"work order {view.get('id')} {what}", what,
             {k: v for k, v in view.items() if k != "history"})
        return view

    @staticmethod
    def _custom(t: m.WorkOrderType, given, errors: dict) -> dict:
        if not isinstance(given, dict):
            errors["custom"] = FieldError("field.custom_object", "an object of custom field values")
            return {}
        fields = [CustomField(f["name"], f["label"], f["type"], f["required"],
                              tuple(c.strip() for c in (f.get("choices") or "").split(",") if c.strip()))
                  for f in json.loads(t.fields)]
        known = {f.name for f in fields}
        for name in given:
            if name not in known:
                errors[f"custom.{name}"] = FieldError("field.unknown", "no such field")
        out = {}
        for f in fields:
            try:
                out[f.name] = f.coerce(given.get(f.name))
            except ValueError as exc:
                errors[f"custom.{f.name}"] = field_error_of(exc)
        return out

    @staticmethod
    def _clean_assignee(viewer: Viewer, data: dict, errors: dict) -> tuple[str, str, str]:
        kind = data.get("assignee_kind") or ""
        assignee = str(data.get("assignee") or "").strip()
        contact = str(data.get("engineer_contact") or "").strip()
        if kind not in ASSIGNEE_KINDS:
            errors["assignee_kind"] = FieldError("field.choice", "one of agent, queue, engineer",
                                                 choices="agent, queue, engineer")
            return "", "", ""
        if not kind:
            return "", "", ""
        if not assignee:
            errors["assignee"] = FieldError("field.required", "required")
        elif kind == "agent" and not m.Agent.select().where(m.Agent.number == assignee).exists():
            errors["assignee"] = FieldError("field.no_such", f"no agent {assignee}", key=assignee)
        elif kind == "queue" and not m.Queue.select().where(m.Queue.name == assignee).exists():
            errors["assignee"] = FieldError("field.no_such", f"no queue {assignee}", key=assignee)
        elif kind == "engineer":
            try:
                assignee = coerce(Field("assignee", "str", max_length=64, check=_check_text), assignee)
                contact = coerce(Field("engineer_contact", "str", max_length=128, check=_check_text), contact)
            except ValueError as exc:
                errors["assignee"] = field_error_of(exc)
        if not viewer.staff and not (kind == "agent" and assignee in viewer.agents):
            errors["assignee"] = FieldError("workorders.own_agents_only", "only team leaders assign work orders to others")
        return kind, assignee, contact

    def get(self, viewer: Viewer, order_id) -> dict:
        return self._view(self._order(viewer, order_id), history=True)

    def search(self, viewer: Viewer, *, state: str = "open", type_id=None, customer_id=None, limit: int = 200) -> list[dict]:
        q = self._scoped(m.WorkOrder.select(), viewer)
        if state == "open":
            q = q.where(m.WorkOrder.closed_at.is_null())
        elif state == "closed":
            q = q.where(m.WorkOrder.closed_at.is_null(False))
        elif state == "overdue":
            q = q.where(m.WorkOrder.closed_at.is_null(), m.WorkOrder.due_at <= self.clock())
        if type_id:
            q = q.where(m.WorkOrder.type == _int(type_id))
        if customer_id:
            q = q.where(m.WorkOrder.customer == _int(customer_id))
        rows = list(q.order_by(m.WorkOrder.id.desc()).limit(limit))
        types = {t.id: t for t in m.WorkOrderType.select()}
        return [self._view(r, types.get(r.type_id)) for r in rows]

    def _view(self, row: m.WorkOrder, t: m.WorkOrderType | None = None, history: bool = False) -> dict:
        t = t or row.type
        states = {s["name"]: s for s in json.loads(t.states)}
        transitions = json.loads(t.transitions)
        customer = row.customer if row.customer_id else None
        out = {"id": row.id, "type": t.id, "type_name": t.name, "type_label": t.label, "title": row.title,
               "state": row.state, "state_label": states.get(row.state, {}).get("label") or row.state,
               "final": bool(states.get(row.state, {}).get("final")), "priority": row.priority,
               "customer": {"id": customer.id, "name": customer.name, "phone": customer.phone} if customer else None,
               "linkedid": row.linkedid, "voice_message": row.voice_message_id, "source": row.source,
               "custom": json.loads(row.custom or "{}"), "fields": json.loads(t.fields),
               "assignee_kind": row.assignee_kind, "assignee": row.assignee, "engineer_contact": row.engineer_contact,
               "created_by": row.created_by, "created_at": _t(row.created_at), "updated_at": _t(row.updated_at),
               "state_since": _t(row.state_since), "due_at": _t(row.due_at),
               "overdue": bool(row.due_at and row.closed_at is None and row.due_at <= self.clock()),
               "escalation_level": row.escalation_level, "escalated_at": _t(row.escalated_at),
               "closed_at": _t(row.closed_at),
               "next": [{"name": n, "label": states.get(n, {}).get("label") or n}
                        for n in wf.next_states(transitions, row.state)]}
        if history:
            name = lambda state: states.get(state, {}).get("label") or state  # noqa: E731
            out["history"] = [{"at": _t(e.at), "actor": e.actor, "kind": e.kind, "from": e.from_state,
                               "to": e.to_state, "from_label": name(e.from_state), "to_label": name(e.to_state),
                               "note": e.note, "photos": json.loads(e.photos or "[]")}
                              for e in row.events.order_by(m.WorkOrderEvent.at, m.WorkOrderEvent.id)]
            out["recording"] = self._recording_of(row.linkedid)
        return out

    @staticmethod
    def _recording_of(linkedid: str) -> int | None:
        if not linkedid:
            return None
        rec = m.Recording.select(m.Recording.id).where(m.Recording.linkedid == linkedid).first()
        return rec.id if rec else None

    def move(self, viewer: Viewer | None, order_id, data, actor: str, photos: list[str] = ()) -> dict:
        """Move the order to ``data["to"]`` if its type's workflow allows it, with a note
        (and photos already stored by ``store_photos``).  Entering a final state closes it
        and, with ``call_back_at``, books a call-back for its customer (the CRM's follow-ups)."""
        if not isinstance(data, dict):
            raise ValidationError("a move must be a JSON object", code="request.not_an_object")
        row = self._order(viewer, order_id)
        t = row.type
        to = str(data.get("to") or "")
        if not wf.allowed(json.loads(t.transitions), row.state, to):
            labels = {s["name"]: s.get("label") or s["name"] for s in json.loads(t.states)}
            raise Conflict(f"a work order in {row.state} cannot go to {to}", code="workorders.not_allowed",
                           params={"from": labels.get(row.state, row.state), "to": labels.get(to, to)})
        try:
            note = coerce(NOTE, data.get("note") or "") or ""
        except ValueError as exc:
            raise _invalid("note", field_error_of(exc)) from None
        state = next(s for s in json.loads(t.states) if s["name"] == to)
        call_list = self._follow_up_list(data, row) if state["final"] else None
        now = self.clock()
        follow_up = entry = None
        with self.db.atomic():
            changed = (m.WorkOrder.update(state=to, state_since=now, updated_at=now, escalation_level=0,
                                          escalated_at=None,
                                          due_at=None if state["final"] else wf.due_at(now, state["limit_minutes"]),
                                          closed_at=now if state["final"] else None)
                       .where(m.WorkOrder.id == row.id, m.WorkOrder.state == row.state).execute())
            if not changed:
                raise Conflict("the work order was moved meanwhile; reload it", code="workorders.changed")
            m.WorkOrderEvent.create(order=row, at=now, actor=actor, kind="move", from_state=row.state, to_state=to,
                                    note=note, photos=json.dumps(list(photos)))
            _audit(actor, "move", row.id, {"from": row.state, "to": to, "note": note, "photos": list(photos)})
            if state["final"] and data.get("call_back_at") and row.customer_id:
                follow_up = self.crm.add_follow_up(
                    Viewer(actor, "admin") if viewer is None else viewer, row.customer_id,
                    {"kind": "call_back", "due_at": data["call_back_at"],
                     "note": (data.get("call_back_note") or f"#{row.id} {row.title}")[:500]}, actor)
            if call_list is not None:
                customer = row.customer
                agent = customer.account_manager.number if customer.account_manager_id else ""
                view, added = self.call_lists.add(call_list, customer.phone, actor=actor, name=customer.name,
                                                  agent=agent, source=f"work order #{row.id}",
                                                  data={"work_order": row.id, "title": row.title})
                entry = {**view, "added": added}
                target = m.CallList.get_by_id(call_list)
                m.WorkOrderEvent.create(order=row, at=now, actor=actor, kind="call_list" if added else "call_list_had",
                                        note=target.display_name or target.name)
        logger.info("%s moved work order %s from %s to %s", actor, row.id, row.state, to)
        out = self._view(m.WorkOrder.get_by_id(row.id), history=True)
        out["follow_up"], out["call_list_entry"] = follow_up, entry
        return self._tell("changed", out)

    def _follow_up_list(self, data: dict, row: m.WorkOrder) -> int | None:
        """The call list a closing order's customer goes into (``data["call_list"]``), checked
        before anything changes; None when none is chosen."""
        chosen = data.get("call_list")
        if chosen in (None, ""):
            return None
        if self.call_lists is None:
            raise Unavailable("call lists are not available", code="calllists.unavailable")
        if not row.customer_id:
            raise _invalid("call_list", FieldError("workorders.field.no_customer", "the order has no customer"))
        target = m.CallList.get_or_none(m.CallList.id == _int(chosen))
        if target is None:
            raise _invalid("call_list", FieldError("field.no_such", "no such call list", key=str(chosen)))
        if target.state == "done":
            raise _invalid("call_list", FieldError("workorders.field.list_done", "that call list is done"))
        return target.id

    def assign(self, viewer: Viewer, order_id, data, actor: str) -> dict:
        if not isinstance(data, dict):
            raise ValidationError("an assignment must be a JSON object", code="request.not_an_object")
        row = self._order(viewer, order_id)
        errors = {}
        kind, assignee, contact = self._clean_assignee(viewer, data, errors)
        if errors:
            raise ValidationError(f"cannot assign: {next(iter(errors.values()))}", fields=errors)
        with self.db.atomic():
            before = f"{row.assignee_kind}:{row.assignee}" if row.assignee_kind else ""
            row.assignee_kind, row.assignee, row.engineer_contact = kind, assignee, contact
            row.updated_at = self.clock()
            row.save()
            after = f"{kind}:{assignee}" if kind else ""
            m.WorkOrderEvent.create(order=row, at=row.updated_at, actor=actor, kind="assign",
                                    note=f"{before} → {after}")
            _audit(actor, "assign", row.id, {"from": before, "to": after})
        return self._tell("changed", self._view(row, history=True))

    # -- created elsewhere -------------------------------------------------------------
    def survey_low_score(self, event: dict) -> dict | None:
        """A low survey score (the bus's ``survey``/``low_score``): an order of the type
        marked ``from_survey``, about the caller's customer, linked to the call; once per call."""
        if event.get("event") != "low_score":
            return None
        t = m.WorkOrderType.get_or_none(m.WorkOrderType.from_survey == True, m.WorkOrderType.active == True)  # noqa: E712
        linkedid = str(event.get("linkedid") or "")[:64]
        if t is None or not linkedid or m.WorkOrder.select().where(m.WorkOrder.linkedid == linkedid,
                                                                   m.WorkOrder.source == "survey").exists():
            return None
        customer = None
        cid = (event.get("customer") or {}).get("id") if isinstance(event.get("customer"), dict) else None
        if cid:
            customer = m.Customer.get_or_none(m.Customer.id == cid)
        elif event.get("caller"):
            customer = callers.customer_of(str(event["caller"]))
        priorities = [p for p in t.priorities.split(",") if p]
        title = translate(self.language(), "workorders.survey_title", score=event.get("score"),
                          caller=event.get("caller") or "")
        kind, assignee = ("queue", event["queue"]) if event.get("queue") and m.Queue.select().where(
            m.Queue.name == event["queue"]).exists() else ("", "")
        return self._insert(t, title=title[:200], priority=priorities[-1], customer=customer, linkedid=linkedid,
                            voice_message=None, source="survey", custom={}, kind=kind, assignee=assignee,
                            contact="", actor="system")

    # -- escalation --------------------------------------------------------------------
    def escalate(self, now: dt.datetime | None = None) -> list[dict]:
        """Raise every open order past its state's limit to the level it is owed and tell
        that level's people; what was done (one dict per level raised)."""
        now = now or self.clock()
        done = []
        rows = list(m.WorkOrder.select().where(m.WorkOrder.closed_at.is_null(), m.WorkOrder.due_at <= now,
                                               m.WorkOrder.escalation_level < wf.MAX_LEVEL))
        for row in rows:
            limit = (row.due_at - row.state_since) / dt.timedelta(minutes=1)
            owed = wf.level_due(row.state_since, round(limit), now)
            if owed <= row.escalation_level:
                continue
            told = []
            with self.db.atomic():  # the level, the history and the internal messages: all or none
                won = (m.WorkOrder.update(escalation_level=owed, escalated_at=now)
                       .where(m.WorkOrder.id == row.id, m.WorkOrder.escalation_level == row.escalation_level,
                              m.WorkOrder.state == row.state).execute())
                if not won:
                    continue
                for level in range(row.escalation_level + 1, owed + 1):
                    m.WorkOrderEvent.create(order=row, at=now, actor="system", kind="escalate",
                                            from_state=row.state, to_state=row.state, note=wf.LEVELS[level])
                    _audit("system", "escalate", row.id, {"level": level, "state": row.state})
                    told.append(self._messages(row, level))
            for level, body, messages in told:  # after the commit: the live event and the e-mail
                done.append(self._send(row, level, body, messages))
        return done

    def recipients(self, row: m.WorkOrder, level: int) -> list[str]:
        """Who is told at this level (user names): the team's supervisors, or every admin."""
        active = m.User.active == True  # noqa: E712
        if level >= 2:
            return [u.username for u in m.User.select().where(m.User.role == "admin", active).order_by(m.User.username)]
        queues = []
        if row.assignee_kind == "queue":
            queues = [row.assignee]
        elif row.assignee_kind == "agent":
            queues = [q.name for q in m.Queue.select(m.Queue.name).join(m.QueueMember).join(m.Agent)
                      .where(m.Agent.number == row.assignee)]
        leaders = []
        if queues:
            leaders = [u.username for u in m.User.select(m.User.username).distinct()
                       .join(m.Agent, on=(m.Agent.user == m.User.id)).join(m.QueueMember, on=(m.QueueMember.agent == m.Agent.id))
                       .join(m.Queue, on=(m.QueueMember.queue == m.Queue.id))
                       .where(m.Queue.name.in_(queues), m.User.role == "supervisor", active)
                       .order_by(m.User.username)]
        return leaders or [u.username for u in m.User.select().where(m.User.role == "supervisor", active)
                           .order_by(m.User.username)]

    def _local(self, value: dt.datetime | None) -> str:
        """A stored (UTC) time on the office's clock, for a message's text."""
        zone = self.crm.timezone() if getattr(self.crm, "timezone", None) else "UTC"
        try:
            return _t(value.replace(tzinfo=dt.timezone.utc).astimezone(ZoneInfo(zone)).replace(tzinfo=None))
        except (ZoneInfoNotFoundError, ValueError, AttributeError):
            return _t(value)

    def _messages(self, row: m.WorkOrder, level: int) -> tuple[int, str, list]:
        """The internal messages of one escalation level, written in the caller's transaction."""
        states = {st["name"]: st.get("label") or st["name"] for st in json.loads(row.type.states)}
        body = translate(self.language(), f"workorders.escalated.{wf.LEVELS[level]}", id=row.id, title=row.title,
                         state=states.get(row.state, row.state), due=self._local(row.due_at))
        return level, body, [m.Message.create(sender="system", recipient=user, body=body)
                             for user in self.recipients(row, level)]

    def _send(self, row: m.WorkOrder, level: int, body: str, messages: list) -> dict:
        t = row.type
        lang = self.language()
        users = [msg.recipient for msg in messages]
        for msg in messages:
            if self.bus is not None:
                self.bus.publish("message", {"id": msg.id, "from": "system", "to": msg.recipient, "body": body,
                                             "sent_at": _t(msg.sent_at), "read_at": None})
        mail_id = None
        addresses = [a for a in (t.leader_email if level == 1 else t.manager_email).replace(";", ",").split(",")
                     if a.strip()]
        if self.outbox is not None and addresses:
            mail_id = self.outbox.queue([a.strip() for a in addresses],
                                        translate(lang, "workorders.escalated.subject", id=row.id, title=row.title),
                                        body)
        logger.warning("work order %s escalated to level %s (%s): told %s", row.id, level, wf.LEVELS[level],
                       ", ".join(users) or "nobody")
        return {"order": row.id, "level": level, "users": users, "mail": mail_id}

    def start(self, interval: float = 30.0) -> None:
        """The escalation scheduler: once now (catching up after downtime), then every ``interval``."""
        import gevent

        def loop():
            while True:
                try:
                    self.escalate()
                except Exception:
                    logger.exception("work order escalation failed; trying again in %ss", interval)
                gevent.sleep(interval)

        self._escalator = gevent.spawn(loop)

    def stop(self) -> None:
        if self._escalator is not None:
            self._escalator.kill()
            self._escalator = None

    # -- dispatch ----------------------------------------------------------------------
    def dispatch_token(self, viewer: Viewer, order_id, hours=DEFAULT_LINK_HOURS, actor: str = "") -> dict:
        row = self._order(viewer, order_id)
        hours = _int(hours)
        if not 1 <= hours <= MAX_LINK_HOURS:
            raise _invalid("hours", FieldError("field.max", f"1 to {MAX_LINK_HOURS} hours", n=MAX_LINK_HOURS))
        expires = int(self.wall()) + hours * 3600
        _audit(actor, "dispatch", row.id, {"expires": expires, "engineer": row.assignee})
        return {"token": wf.sign(self.key, row.id, expires), "expires": expires}

    def dispatched(self, token: str) -> m.WorkOrder:
        """The order a dispatch link is for; PermissionDenied ``dispatch.expired`` or
        ``dispatch.tampered`` (also for an order that no longer exists)."""
        try:
            order_id = wf.verify(self.key, token, self.wall())
        except wf.TokenError as exc:
            raise PermissionDenied(f"the dispatch link is {exc.reason}", code=f"dispatch.{exc.reason}") from None
        row = m.WorkOrder.get_or_none(m.WorkOrder.id == order_id)
        if row is None:
            raise PermissionDenied("the dispatch link is tampered", code="dispatch.tampered")
        return row

    def dispatch_view(self, token: str) -> dict:
        return self._view(self.dispatched(token), history=True)

    def dispatch_move(self, token: str, data: dict, photos: list[bytes]) -> dict:
        row = self.dispatched(token)
        names = self.store_photos(row.id, photos)
        who = f"engineer:{row.assignee}" if row.assignee_kind == "engineer" else "dispatch"
        return self.move(None, row.id, data, who[:64], names)

    def store_photos(self, order_id: int, photos: list[bytes]) -> list[str]:
        """Check each photo off the loop, then keep it under ``<data>/workorders/<order>/``."""
        if len(photos) > MAX_PHOTOS:
            raise _invalid("photos", FieldError("field.max", f"at most {MAX_PHOTOS}", n=MAX_PHOTOS))
        kinds = []
        for data in photos:
            if len(data) > MAX_PHOTO_BYTES:
                raise TooLarge(f"a photo is larger than {MAX_PHOTO_BYTES // 1048576} MB", code="dispatch.too_large",
                               params={"mb": str(MAX_PHOTO_BYTES // 1048576)})
            try:
                kinds.append(self.off_loop(check_photo, data))
            except ValueError as exc:
                raise _invalid("photos", field_error_of(exc)) from None
        folder = self.photo_dir / str(order_id)
        names = []
        for data, kind in zip(photos, kinds):
            folder.mkdir(parents=True, exist_ok=True)
            name = f"{int(self.wall())}-{secrets.token_hex(6)}.{kind}"
            tmp = folder / f".{name}.tmp"
            tmp.write_bytes(data)
            tmp.rename(folder / name)
            names.append(name)
        return names

    def photo_path(self, order_id: int, name: str) -> Path:
        if "/" in name or name.startswith(".") or not (self.photo_dir / str(order_id) / name).is_file():
            raise NotFound("no such photo", code="workorders.no_photo")
        return self.photo_dir / str(order_id) / name

    # -- statistics ----------------------------------------------------------------------
    def stats(self) -> dict:
        """Open and overdue orders by type, assignee and priority; closed ones' average time
        to close (hours), per type and overall."""
        now = self.clock()
        types = {t.id: t.label for t in m.WorkOrderType.select()}
        open_q = m.WorkOrder.closed_at.is_null()
        overdue = fn.SUM(m.WorkOrder.due_at <= now)

        def grouped(*cols):
            return (m.WorkOrder.select(*cols, fn.COUNT(m.WorkOrder.id), overdue).where(open_q)
                    .group_by(*cols).order_by(*cols).tuples())

        by_type = [{"type": types.get(tid, str(tid)), "open": n, "overdue": int(o or 0)}
                   for tid, n, o in grouped(m.WorkOrder.type)]
        by_assignee = [{"assignee_kind": k, "assignee": a, "open": n, "overdue": int(o or 0)}
                       for k, a, n, o in grouped(m.WorkOrder.assignee_kind, m.WorkOrder.assignee)]
        by_priority = [{"priority": p, "open": n, "overdue": int(o or 0)} for p, n, o in grouped(m.WorkOrder.priority)]
        closed = {}
        for tid, created, closed_at in (m.WorkOrder.select(m.WorkOrder.type, m.WorkOrder.created_at,
                                                           m.WorkOrder.closed_at)
                                        .where(m.WorkOrder.closed_at.is_null(False)).tuples()):
            closed.setdefault(tid, []).append((closed_at - created).total_seconds() / 3600)
        everything = [h for hs in closed.values() for h in hs]
        avg = [{"type": types.get(tid, str(tid)), "closed": len(hs), "avg_hours": round(sum(hs) / len(hs), 2)}
               for tid, hs in sorted(closed.items())]
        return {"by_type": by_type, "by_assignee": by_assignee, "by_priority": by_priority, "time_to_close": avg,
                "open": sum(r["open"] for r in by_type), "overdue": sum(r["overdue"] for r in by_type),
                "closed": len(everything),
                "avg_hours": round(sum(everything) / len(everything), 2) if everything else None}

    def stats_workbook(self, lang: str) -> bytes:
        """The statistics as an Excel workbook (one sheet per table), in ``lang``'s words."""
        from openpyxl import Workbook

        s = self.stats()
        wb = Workbook()
        ws = wb.active
        tr = lambda k: translate(lang, k)  # noqa: E731
        sheets = (("workorders.by_type", ("workorders.type", "workorders.open", "workorders.overdue"),
                   [(r["type"], r["open"], r["overdue"]) for r in s["by_type"]]),
                  ("workorders.by_assignee", ("workorders.assignee", "workorders.open", "workorders.overdue"),
                   [(f'{tr("wo.assignee_kind." + r["assignee_kind"])} {r["assignee"]}' if r["assignee_kind"]
                     else tr("workorders.nobody"), r["open"], r["overdue"]) for r in s["by_assignee"]]),
                  ("workorders.by_priority", ("workorders.priority", "workorders.open", "workorders.overdue"),
                   [(label(lang, "wo_priority", r["priority"]), r["open"], r["overdue"]) for r in s["by_priority"]]),
                  ("workorders.time_to_close", ("workorders.type", "workorders.closed", "workorders.avg_hours"),
                   [(r["type"], r["closed"], r["avg_hours"]) for r in s["time_to_close"]]))
        for i, (title, heads, rows) in enumerate(sheets):
            ws = ws if i == 0 else wb.create_sheet()
            ws.title = tr(title)[:31]
            ws.append([tr(h) for h in heads])
            for r in rows:
                ws.append(list(r))
        out = io.BytesIO()
        wb.save(out)
        return out.getvalue()


def _bad_label(text: str) -> bool:
    try:
        coerce(Field("label", "str", max_length=64, check=_check_text), text)
    except ValueError:
        return True
    return False
