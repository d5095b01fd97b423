"""Call scripts (话术): what the agent reads to the caller, step by step, in their own
language, with questions whose answers go into the caller's customer record.

The rules are pure (``appliance/engine/scripts.py``: the step graph's check, the next step
by answer, the text in a language); this module validates, stores, audits and walks.

**Scripts** are defined by the admin: steps with text in zh_CN and en (the agent reads their
own, else the other), optionally the customer field the step's question fills (the admin's
custom fields: choice, text, number, date) and the next step by answer.  A script is read on
the calls of the queues and campaigns it is attached to (``call_script_use``: one script per
queue or campaign).  A campaign's free text stays its fallback: with a script attached, the
script wins.

**On a call** the script is the one of the call's campaign (an open attempt of the agent for
the number, as ``Campaigns.call_ended`` finds it), else of the call's queue.  The agent's way
through it is a run (``call_script_run``, one per call and agent): the steps as they were
when it began (an edit mid-call does not move the agent), the step to read next and the path
taken (each step's text as read, the question, the answer, whether it was saved).  Answers are
checked with the field's own rules (``CustomField.coerce``, the CRM's) and written into the
caller's customer with ``CustomerService.set_custom``: one conditional UPDATE on the version
the agent read (If-Match), audited.  Who may walk: the agent the call rings or is connected
to (the live snapshot), and after hang-up the agent who began the run, for
``RECENT_CALL_MINUTES`` (the wrap-up), as the CRM lets them read the caller.  A customer the
agent does not manage is written to only through their call's script, only its questions.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Callable

from peewee import JOIN, IntegrityError

from appliance import numbers
from appliance.db import models as m
from appliance.engine import scripts as rules
from appliance.errors import Conflict, FieldError, NotFound, PermissionDenied, ValidationError, field_error_of
from appliance.services.config import Field, coerce
from appliance.services.crm import RECENT_CALL_MINUTES, CustomField, _check_text
from appliance.services.workorders import _int  # a row id as sent, -1 for anything else

logger = logging.getLogger(__name__)

SCRIPT_FIELDS = (
    Field("name", "str", required=True, max_length=32, pattern=r"[a-z][a-z0-9_]{0,31}",
          help="lower-case letters, digits and _, starting with a letter"),
    Field("label", "str", required=True, max_length=64, check=_check_text),
    Field("active", "bool", default=True),
)
LINKEDID = Field("linkedid", "str", max_length=64, pattern=r"[0-9A-Za-z.\-_]+")


def _t(value: dt.datetime | None) -> str | None:
    return value.isoformat(sep=" ", timespec="seconds") if value else None


def _audit(actor: str, action: str, object_id, detail: dict) -> None:
    m.AuditLog.create(username=actor or "system", action=action, object_type="call_scripts",
                      object_id=str(object_id), detail=json.dumps(detail, ensure_ascii=False, default=str,
                                                                  sort_keys=True))


def _invalid(fields: dict) -> ValidationError:
    first = next(iter(fields.items()))
    return ValidationError(f"the call script cannot be saved: {first[0]}: {first[1]}", fields=fields)


def _clean_step(raw) -> dict:
    """A step as sent, in the stored shape (anything not a step becomes an empty one, which
    the check refuses with a reason)."""
    raw = raw if isinstance(raw, dict) else {}
    text = raw.get("text") if isinstance(raw.get("text"), dict) else {}
    branches = raw.get("branches") if isinstance(raw.get("branches"), list) else []
    return {"id": str(raw.get("id") or "").strip(),
            "text": {k: str(text.get(k) or "").strip() for k in rules.LANGS},
            "field": str(raw.get("field") or "").strip(),
            "next": str(raw.get("next") or "").strip(),
            "branches": [{"answer": str(b.get("answer") or "").strip(), "next": str(b.get("next") or "").strip()}
                         for b in branches[:rules.MAX_BRANCHES] if isinstance(b, dict)]}


class CallScripts:
    def __init__(self, db, crm, clock: Callable[[], dt.datetime] = m.utcnow):
        self.db, self.crm, self.clock = db, crm, clock

    # -- the admin's scripts -------------------------------------------------------------
    def fields(self) -> dict[str, CustomField]:
        """The customer fields a question may fill, by name."""
        return {f.name: f for f in self.crm.custom_fields()}

    def scripts(self) -> list[dict]:
        uses = self._uses()
        return [self._view(s, uses) for s in m.CallScript.select().order_by(m.CallScript.label)]

    def script(self, script_id) -> dict:
        return self._view(self._row(script_id), self._uses())

    @staticmethod
    def _row(script_id) -> m.CallScript:
        row = m.CallScript.get_or_none(m.CallScript.id == _int(script_id))
        if row is None:
            raise NotFound(f"no call script {script_id}", code="scripts.not_found")
        return row

    @staticmethod
    def _uses() -> dict[int, dict]:
        """script id -> the queues and campaigns (names) it is read on."""
        out: dict[int, dict] = {}
        q = (m.CallScriptUse.select(m.CallScriptUse.script, m.Queue.name.alias("queue"),
                                    m.Campaign.name.alias("campaign"))
             .join(m.Queue, JOIN.LEFT_OUTER, on=(m.CallScriptUse.queue == m.Queue.id))
             .switch(m.CallScriptUse).join(m.Campaign, JOIN.LEFT_OUTER, on=(m.CallScriptUse.campaign == m.Campaign.id))
             .dicts())
        for row in q:
            use = out.setdefault(row["script"], {"queues": [], "campaigns": []})
            if row["queue"]:
                use["queues"].append(row["queue"])
            if row["campaign"]:
                use["campaigns"].append(row["campaign"])
        return out

    @staticmethod
    def _view(s: m.CallScript, uses: dict) -> dict:
        use = uses.get(s.id, {"queues": [], "campaigns": []})
        return {"id": s.id, "name": s.name, "label": s.label, "active": s.active, "steps": json.loads(s.steps),
                "queues": sorted(use["queues"]), "campaigns": sorted(use["campaigns"]),
                "updated_at": _t(s.updated_at), "updated_by": s.updated_by}

    def clean(self, data) -> dict:
        """The script's columns and where it is read, from what the admin sent, or
        ValidationError with every fault (the steps': loops, unreachable steps...)."""
        if not isinstance(data, dict):
            raise ValidationError("a call script must be a JSON object", code="request.not_an_object")
        errors, values = {}, {}
        for f in SCRIPT_FIELDS:
            try:
                values[f.name] = coerce(f, data.get(f.name, f.default))
            except ValueError as exc:
                errors[f.name] = field_error_of(exc)
            if f.required and not values.get(f.name) and f.name not in errors:
                errors[f.name] = FieldError("field.required", "required")
        raw = data.get("steps")
        steps = [_clean_step(s) for s in raw] if isinstance(raw, list) else []
        for s in steps:
            if any(_check_text(t) for t in s["text"].values() if t):
                errors["steps"] = FieldError("field.markup", "no markup (< followed by a letter)")
        fields = {name: (f.type, f.choices) for name, f in self.fields().items()}
        for fault in rules.check_script(steps, fields):
            errors.setdefault(fault.field, FieldError(fault.msgid, fault.english, **fault.params))
        values["steps"] = steps
        values["queues"] = self._names(data.get("queues"), m.Queue, "queues", errors)
        values["campaigns"] = self._names(data.get("campaigns"), m.Campaign, "campaigns", errors)
        if errors:
            raise _invalid(errors)
        return values

    @staticmethod
    def _names(value, model, name: str, errors: dict) -> list:
        """The rows of ``model`` named in ``value`` (a list of names, or one comma-separated)."""
        if isinstance(value, str):
            value = [v.strip() for v in value.split(",")]
        if value is None:
            value = []
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            errors[name] = FieldError("field.text", "names")
            return []
        wanted = list(dict.fromkeys(v for v in value if v))
        rows = {r.name: r for r in model.select().where(model.name.in_(wanted))} if wanted else {}
        missing = [v for v in wanted if v not in rows]
        if missing:
            errors[name] = FieldError("field.no_such", f"no such one: {missing[0]}", key=missing[0])
        return [rows[v] for v in wanted if v in rows]

    def save(self, data, actor: str, script_id=None) -> dict:
        values = self.clean(data)
        queues, campaigns = values.pop("queues"), values.pop("campaigns")
        stored = {**values, "steps": json.dumps(values["steps"], ensure_ascii=False), "updated_at": self.clock(),
                  "updated_by": actor}
        with self.db.atomic():
            row = None if script_id is None else self._row(script_id)
            try:
                with self.db.atomic():  # the name is unique: another script's is refused, not overwritten
                    if row is None:
                        row = m.CallScript.create(**stored)
                    else:
                        m.CallScript.update(**stored).where(m.CallScript.id == row.id).execute()
            except IntegrityError:
                raise Conflict(f"a call script {values['name']} exists", code="scripts.exists",
                               fields={"name": FieldError("field.exists", "already exists", item=values["name"])}
                               ) from None
            # where it is read: a queue or campaign taken from another script moves to this one
            m.CallScriptUse.delete().where((m.CallScriptUse.script == row.id)
                                           | m.CallScriptUse.queue.in_([q.id for q in queues])
                                           | m.CallScriptUse.campaign.in_([c.id for c in campaigns])).execute()
            uses = [{"script": row.id, "queue": q.id} for q in queues] + [
                {"script": row.id, "campaign": c.id} for c in campaigns]
            if uses:
                m.CallScriptUse.insert_many(uses).execute()
            _audit(actor, "create" if script_id is None else "update", row.id,
                   {**values, "queues": [q.name for q in queues], "campaigns": [c.name for c in campaigns]})
        logger.info("%s saved call script %s", actor, values["name"])
        return self.script(row.id)

    def delete(self, script_id, actor: str) -> None:
        with self.db.atomic():
            row = self._row(script_id)
            row.delete_instance()  # its uses go with it; runs keep the steps they walked
            _audit(actor, "delete", row.id, {"name": row.name, "label": row.label})

    @staticmethod
    def for_campaign(campaign_id: int) -> str | None:
        """The label of the active script attached to the campaign (which wins over its free
        text), or None."""
        row = (m.CallScript.select(m.CallScript.label).join(m.CallScriptUse)
               .where(m.CallScriptUse.campaign == campaign_id, m.CallScript.active == True).first())  # noqa: E712
        return row.label if row else None

    # -- on a call -----------------------------------------------------------------------
    @staticmethod
    def _live_call(agent: str, linkedid: str, live_calls) -> dict | None:
        """The live call ``linkedid`` if it rings or is connected to ``agent``."""
        for call in live_calls or ():
            if call.get("linkedid") == linkedid and (
                    call.get("agent") == agent or agent in (call.get("ringing_agents") or ())):
                return call
        return None

    @staticmethod
    def _attempt(agent: str, number: str) -> m.CampaignAttempt | None:
        """The agent's open campaign attempt for this number (the call it places)."""
        key = numbers.key(number or "")
        if not key:
            return None
        return next((a for a in m.CampaignAttempt.select().where(
            m.CampaignAttempt.agent == agent, m.CampaignAttempt.result == "dialling",
            m.CampaignAttempt.linkedid == "").order_by(m.CampaignAttempt.id.desc())
            if numbers.key(a.number) == key), None)

    def _resolve(self, agent: str, call: dict) -> tuple[m.CallScript | None, str, m.Customer | None]:
        """The script a live call reads (the campaign's for a campaign call, else its
        queue's), where it comes from, and the caller's customer."""
        customer = (m.Customer.select().where(m.Customer.phone.in_(numbers.variants(call.get("caller") or "")))
                    .first() if call.get("caller") else None)
        attempt = self._attempt(agent, call.get("caller") or "")
        if attempt is not None:
            entry = attempt.entry
            customer = entry.customer if entry.customer_id else customer
            use = m.CallScriptUse.get_or_none(m.CallScriptUse.campaign == attempt.campaign_id)
            source = f"campaign:{attempt.campaign.name}"
        else:
            queue = m.Queue.get_or_none(m.Queue.name == (call.get("queue") or ""))
            use = m.CallScriptUse.get_or_none(m.CallScriptUse.queue == queue.id) if queue else None
            source = f"queue:{queue.name}" if queue else ""
        script = use.script if use is not None and use.script.active else None
        return script, source, customer

    def _run(self, agent: str, linkedid: str) -> m.CallScriptRun | None:
        return m.CallScriptRun.get_or_none(m.CallScriptRun.linkedid == linkedid, m.CallScriptRun.agent == agent)

    def _may_walk(self, run: m.CallScriptRun | None, call: dict | None) -> bool:
        """On the call now, or (their run begun) within the wrap-up after it."""
        if call is not None:
            return True
        return run is not None and run.updated_at >= self.clock() - dt.timedelta(minutes=RECENT_CALL_MINUTES)

    def for_call(self, agent: str, linkedid: str, live_calls, lang: str) -> dict:
        """What the agent's script panel shows for their call: the script (its steps in
        ``lang``), the step to read, the path taken and the customer's answers so far."""
        linkedid = self._linkedid(linkedid)
        call = self._live_call(agent, linkedid, live_calls)
        run = self._run(agent, linkedid)
        if not self._may_walk(run, call):
            raise NotFound(f"agent {agent} has no call {linkedid}", code="scripts.no_call")
        if run is not None:
            steps, source, label, customer = json.loads(run.steps), run.source, run.script_label, run.customer
            current, path, script_id = run.current, json.loads(run.path), run.script_id
        else:
            script, source, customer = self._resolve(agent, call)
            if script is None:
                return {"script": None, "source": source, "live": True}
            steps, label, script_id = json.loads(script.steps), script.label, script.id
            current, path = steps[0]["id"], []
        return self._walk_view(steps, lang, script_id, label, source, current, path, customer, call is not None)

    def _walk_view(self, steps, lang, script_id, label, source, current, path, customer, live) -> dict:
        fields = self.fields()
        return {"script": {"id": script_id, "label": label}, "source": source, "live": live,
                "steps": [self._step_view(s, lang, fields) for s in steps], "current": current, "path": path,
                "customer": None if customer is None else {
                    "id": customer.id, "name": customer.name, "version": self.crm.version(customer),
                    "values": {k: v for k, v in json.loads(customer.custom or "{}").items()
                               if any(s.get("field") == k for s in steps)}}}

    @staticmethod
    def _step_view(s: dict, lang: str, fields: dict) -> dict:
        f = fields.get(s.get("field") or "")
        return {"id": s["id"], "text": rules.text_for(s.get("text"), lang), "field": s.get("field") or "",
                "field_label": f.label if f else "", "field_type": f.type if f else "",
                "choices": list(f.choices) if f else [], "required": bool(f and f.required),
                "next": s.get("next") or "", "branches": s.get("branches") or []}

    @staticmethod
    def _linkedid(value) -> str:
        try:
            return coerce(LINKEDID, value or "")
        except ValueError:
            raise NotFound(f"no call {value}", code="scripts.no_call") from None

    def answer(self, agent: str, linkedid: str, data, actor: str, live_calls, lang: str,
               version: str | None = None) -> dict:
        """The agent read ``data["step"]`` (the step they are at) and, for a question, got
        ``data["answer"]``: checked with the field's rules, saved into the caller's customer
        (``version``: the one the panel read; a change since is 409 ``customers.changed``),
        the step added to the path, the next one by the answer."""
        if not isinstance(data, dict):
            raise ValidationError("an answer must be a JSON object", code="request.not_an_object")
        linkedid = self._linkedid(linkedid)
        call = self._live_call(agent, linkedid, live_calls)
        with self.db.atomic():
            run = self._run(agent, linkedid)
            if not self._may_walk(run, call):
                raise PermissionDenied(f"agent {agent} is not on call {linkedid}", code="scripts.not_on_call")
            if run is None:
                script, source, customer = self._resolve(agent, call)
                if script is None:
                    raise NotFound(f"call {linkedid} has no call script", code="scripts.no_script")
                steps = json.loads(script.steps)
                run = m.CallScriptRun(linkedid=linkedid, agent=agent, script=script.id, script_label=script.label,
                                      source=source, steps=script.steps, customer=customer, current=steps[0]["id"],
                                      path="[]", started_at=self.clock())
            steps = {s["id"]: s for s in json.loads(run.steps)}
            step = steps.get(str(data.get("step") or ""))
            if step is None or step["id"] != run.current:
                raise Conflict(f"the script is at step {run.current or '(its end)'}", code="scripts.out_of_step",
                               params={"step": run.current})
            value, saved, field = None, False, self.fields().get(step.get("field") or "")
            if step.get("field"):
                if field is None:  # the admin removed the field since the run began: read on without it
                    value = None
                else:
                    try:
                        value = field.coerce(data.get("answer"))
                    except ValueError as exc:
                        raise ValidationError(f"the answer cannot be saved: {field_error_of(exc)}",
                                              code="scripts.bad_answer",
                                              fields={"answer": field_error_of(exc)}) from None
                if value is not None and run.customer_id is not None:
                    self.crm.set_custom(run.customer_id, {field.name: value}, actor, version,
                                        script=run.script_label, linkedid=linkedid)
                    saved = True
            now = self.clock()
            path = json.loads(run.path) + [{
                "step": step["id"], "text": rules.text_for(step.get("text"), lang), "field": step.get("field") or "",
                "field_label": field.label if field else "", "answer": value, "saved": saved, "at": _t(now),
                "by": actor}]
            run.path, run.updated_at = json.dumps(path, ensure_ascii=False), now
            run.current = rules.next_step(step, value)
            try:
                run.save()
            except IntegrityError:  # the same agent's other window began the run first
                raise Conflict("the script was begun meanwhile", code="scripts.out_of_step",
                               params={"step": ""}) from None
        return self.for_call(agent, linkedid, live_calls, lang)

    # -- what was said (supervisors) -----------------------------------------------------
    def runs(self, agents: frozenset | None, linkedid: str | None = None, limit: int = 100) -> list[dict]:
        """The scripts walked, newest first: on one call (``linkedid``) or lately; ``agents``:
        only theirs (None: all)."""
        q = (m.CallScriptRun.select(m.CallScriptRun, m.Customer.name.alias("customer_name"))
             .join(m.Customer, JOIN.LEFT_OUTER, on=(m.CallScriptRun.customer == m.Customer.id))
             .order_by(m.CallScriptRun.started_at.desc(), m.CallScriptRun.id.desc()).limit(limit).objects())
        if linkedid is not None:
            q = q.where(m.CallScriptRun.linkedid == linkedid)
        if agents is not None:
            q = q.where(m.CallScriptRun.agent.in_(sorted(agents) or [""]))
        return [{"linkedid": r.linkedid, "agent": r.agent, "script": r.script_label, "source": r.source,
                 "customer": {"id": r.customer_id, "name": r.customer_name} if r.customer_id else None,
                 "started_at": _t(r.started_at), "updated_at": _t(r.updated_at), "finished": not r.current,
                 "path": json.loads(r.path)} for r in q]
