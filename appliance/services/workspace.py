"""What the agent workspace needs beyond call control: the screen pop for a caller, the
agent's disposition and note for each call, the missed calls to call back, and short
messages between the people working in the web UI.

The screen pop shows the caller's customer record whoever manages it, but to an agent only
for a caller on a call offered to or taken by one of their agents right now (the live
state says which), or for a customer of their own: an agent cannot look up arbitrary
numbers (issue 13).  Everything else keeps an agent to their own calls.
"""

from __future__ import annotations

import datetime as dt
import logging

from peewee import fn

from appliance import numbers
from appliance.db import models as m
from appliance.errors import FieldError, NotFound, PermissionDenied, ValidationError
from appliance.services.crm import Viewer, calls_of, fmt_time, on_call_with
from appliance.services.dispositions import DispositionService

logger = logging.getLogger(__name__)

POP_HISTORY = 5  # last contacts shown with the screen pop
NOTE_MAX = 4000
MESSAGE_MAX = 1000
MISSED = ("abandoned", "unanswered", "fallback")
SYSTEM = Viewer("workspace", "admin")


def _text(value, name: str, max_length: int, required: bool) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ValidationError(f"{name} must be text", fields={name: FieldError("field.text", "text")})
    value = value.strip()
    if required and not value:
        raise ValidationError(f"{name} is required", fields={name: FieldError("field.required", "required")})
    if len(value) > max_length:
        raise ValidationError(f"{name} is longer than {max_length} characters",
                              fields={
                                  name: FieldError("field.max_length", f"at most {max_length} characters",
                                                   n=max_length)})
    if "\x00" in value:
        raise ValidationError(f"{name} holds a NUL character",
                              fields={name: FieldError("field.control", "no control characters")})
    return value



def _as_datetime(value) -> dt.datetime:
    """An aggregate's time: SQLite hands MAX() back as text."""
    return value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))


class WorkspaceService:
    """``after_outcome(agent, linkedid)``: called once an outcome is saved (the composition
    root lets an agent held for a required disposition take calls again)."""

    def __init__(self, db, crm, bus=None, dispositions: DispositionService | None = None, after_outcome=None):
        self.db, self.crm, self.bus = db, crm, bus
        self.disposition_list = dispositions or DispositionService(db)
        self.after_outcome = after_outcome

    # -- screen pop ----------------------------------------------------------
    def may_pop(self, viewer: Viewer, number: str, live_calls) -> bool:
        """Whether ``viewer`` may see the screen pop for ``number``: staff always; an agent
        for the caller of a live call ringing or connected to one of their agents, or a
        customer of their own (``/customers/{id}`` shows them that one anyway)."""
        if viewer.staff or on_call_with(viewer, number, live_calls):
            return True
        return self.crm.find_by_phone(viewer, number) is not None

    def pop(self, number: str, lang: str = "en", viewer: Viewer | None = None, live_calls=(),
            customer_id: int | None = None) -> dict:
        """The caller's number, where it is from, their customer record and last contacts;
        with ``viewer``, refused (403 ``workspace.pop_not_offered``) unless ``may_pop``.

        ``customer_id`` is the answer of the lookup the call event already made
        (``services.callers.with_customer``; 0: no customer): used as it is when that
        customer has this number, so the pop and the event agree and the number is looked
        up once; else (none given, or not this number's) the number is looked up here."""
        if viewer is not None and not self.may_pop(viewer, number, live_calls):
            logger.warning("screen pop for %s refused to %s: not a call of theirs", number, viewer.username)
            raise PermissionDenied("the screen pop shows the caller of a call offered to you, or a customer of yours",
                                   code="workspace.pop_not_offered")
        customer = self._event_customer(number, customer_id)
        if customer is False:
            customer = self.crm.find_by_phone(SYSTEM, number) if number else None
        if customer:
            history = self.crm.history(SYSTEM, customer["id"], limit=POP_HISTORY)
        else:
            history = calls_of(number, POP_HISTORY) if number else []
        outcomes = {o.linkedid: o for o in m.CallOutcome.select().where(
            m.CallOutcome.linkedid.in_([h["linkedid"] for h in history if h.get("linkedid")]))}
        names = self.disposition_list.names(lang) if outcomes else {}
        for h in history:
            o = outcomes.get(h.get("linkedid"))
            if h["kind"] == "call" and o is not None:
                h["outcome"] = o.disposition
                h["outcome_name"] = names.get(o.disposition, o.disposition)
                h["note"] = o.note
        return {"number": number, "origin": numbers.describe(number, lang), "customer": customer,
                "history": history}

    def _event_customer(self, number: str, customer_id: int | None):
        """The customer a call event named for ``number`` (None: it found none), or False
        when there is no such answer to use."""
        if customer_id is None or not number:
            return False
        if customer_id == 0:
            return None
        try:
            customer = self.crm.get(SYSTEM, customer_id)
        except NotFound:
            return False
        return customer if numbers.key(customer["phone"]) == numbers.key(number) else False

    # -- the agent's word on a call --------------------------------------------
    def dispositions(self, lang: str = "en") -> list[dict]:
        """The ones an agent may pick now, in the admin's order, named for ``lang``."""
        return [{"code": d["code"], "label": d["name"]} for d in self.disposition_list.list(lang, active_only=True)]

    def save_outcome(self, agent: str, linkedid: str, data: dict, actor: str, live_calls=()) -> dict:
        """The agent's disposition and note for a call they took (during it or after)."""
        if not isinstance(data, dict):
            raise ValidationError("send a JSON object", fields={})
        disposition = _text(data.get("disposition"), "disposition", 32, True)
        note = _text(data.get("note"), "note", NOTE_MAX, False)
        if not self.disposition_list.is_active(disposition):
            raise ValidationError(f"unknown disposition {disposition!r}", code="outcome.bad_disposition",
                                  fields={
                                      "disposition": FieldError("field.not_a_disposition",
                                                                "not in the list of dispositions")})
        record = m.CallRecord.get_or_none(m.CallRecord.linkedid == linkedid)
        live = next((c for c in live_calls if c.get("linkedid") == linkedid), None)
        if record is None and live is None:
            raise NotFound(f"no call {linkedid}", code="calls.not_found")
        took = {record.agent if record else "", (live or {}).get("agent", "")}
        if agent not in took:
            raise PermissionDenied(f"agent {agent} did not take call {linkedid}", code="outcome.not_your_call")
        caller = record.caller if record else live.get("caller", "")
        with self.db.atomic():
            row = m.CallOutcome.get_or_none(m.CallOutcome.linkedid == linkedid, m.CallOutcome.agent == agent)
            if row is None:
                row = m.CallOutcome(linkedid=linkedid, agent=agent)
            row.disposition, row.note, row.saved_by, row.saved_at = disposition, note, actor, m.utcnow()
            row.save()
            customer = self.crm.find_by_phone(SYSTEM, caller) if caller and note else None
            if customer:
                m.CustomerNote.delete().where(m.CustomerNote.customer == customer["id"],
                                              m.CustomerNote.linkedid == linkedid,
                                              m.CustomerNote.author == actor).execute()
                self.crm.add_note(SYSTEM, customer["id"], note, actor, linkedid=linkedid)
        logger.info("%s saved disposition %s for call %s (agent %s)", actor, disposition, linkedid, agent)
        if self.after_outcome is not None:
            self.after_outcome(agent, linkedid)
        return {"linkedid": linkedid, "agent": agent, "disposition": disposition, "note": note,
                "customer": customer["id"] if customer else None, "saved_at": fmt_time(row.saved_at)}

    # -- missed calls ----------------------------------------------------------
    def missed(self, queues: list[str], days: int = 7, limit: int = 50) -> list[dict]:
        """Callers of these queues who reached nobody in the last ``days`` and whom nobody has
        spoken with since (no later answered call from or to their number).  Four queries
        whatever the number of rows (a number counts in all its forms: ``numbers.key``)."""
        since = m.utcnow() - dt.timedelta(days=days)
        rows = (m.CallRecord.select()
                .where(m.CallRecord.queue.in_(list(queues)), m.CallRecord.disposition.in_(MISSED),
                       m.CallRecord.enter_time >= since, m.CallRecord.caller != "")
                .order_by(m.CallRecord.enter_time.desc()).limit(limit * 4))
        latest: dict[str, m.CallRecord] = {}  # the number's key -> its newest missed call
        for r in rows:
            latest.setdefault(numbers.key(r.caller), r)
        if not latest:
            return []
        forms = list(dict.fromkeys(v for r in latest.values() for v in numbers.variants(r.caller)))
        spoken: dict[str, dt.datetime] = {}  # the number's key -> its last answered call
        for caller, at in (m.CallRecord.select(m.CallRecord.caller, fn.MAX(m.CallRecord.enter_time))
                           .where(m.CallRecord.caller.in_(forms), m.CallRecord.disposition == "answered")
                           .group_by(m.CallRecord.caller).tuples()):
            at = _as_datetime(at)
            bare = numbers.key(caller)
            spoken[bare] = max(at, spoken.get(bare, at))
        tries: dict[str, int] = {}
        for caller, n in (m.CallRecord.select(m.CallRecord.caller, fn.COUNT(m.CallRecord.id))
                          .where(m.CallRecord.caller.in_(forms), m.CallRecord.disposition.in_(MISSED),
                                 m.CallRecord.enter_time >= since)
                          .group_by(m.CallRecord.caller).tuples()):
            tries[numbers.key(caller)] = tries.get(numbers.key(caller), 0) + n
        customers = {}
        for c in (m.Customer.select(m.Customer.id, m.Customer.name, m.Customer.phone)
                  .where(m.Customer.phone.in_(forms)).order_by(m.Customer.id)):
            customers.setdefault(numbers.key(c.phone), {"id": c.id, "name": c.name})
        out = []
        for bare, r in latest.items():
            if bare in spoken and spoken[bare] > r.enter_time:
                continue
            out.append({"number": r.caller, "at": fmt_time(r.enter_time), "queue": r.queue,
                        "disposition": r.disposition, "wait_seconds": r.wait_seconds, "tries": tries.get(bare, 0),
                        "customer": customers.get(bare)})
            if len(out) >= limit:
                break
        return out

    # -- messages --------------------------------------------------------------
    def send(self, sender: str, recipient: str, body) -> dict:
        body = _text(body, "body", MESSAGE_MAX, True)
        recipient = _text(recipient, "to", 64, True)
        if not m.User.select().where(m.User.username == recipient, m.User.active == True).exists():  # noqa: E712
            raise ValidationError(f"no user {recipient}", code="message.no_recipient",
                                  fields={"to": FieldError("field.no_such", "no such user", key=recipient)})
        msg = m.Message.create(sender=sender, recipient=recipient, body=body)
        view = self._message_view(msg)
        if self.bus is not None:
            self.bus.publish("message", view)
        return view

    def inbox(self, username: str, limit: int = 50) -> list[dict]:
        rows = (m.Message.select().where((m.Message.recipient == username) | (m.Message.sender == username))
                .order_by(m.Message.sent_at.desc(), m.Message.id.desc()).limit(limit))
        return [self._message_view(r) for r in rows]

    def mark_read(self, username: str, message_id: int) -> dict:
        msg = m.Message.get_or_none(m.Message.id == message_id, m.Message.recipient == username)
        if msg is None:
            raise NotFound(f"no message {message_id} for you", code="message.not_found")
        if msg.read_at is None:
            msg.read_at = m.utcnow()
            msg.save()
        return self._message_view(msg)

    def recipients(self) -> list[dict]:
        return [{"username": u.username, "role": u.role}
                for u in m.User.select().where(m.User.active == True).order_by(m.User.username)]  # noqa: E712

    @staticmethod
    def _message_view(msg: m.Message) -> dict:
        return {"id": msg.id, "from": msg.sender, "to": msg.recipient, "body": msg.body,
                "sent_at": fmt_time(msg.sent_at), "read_at": fmt_time(msg.read_at)}
