"""Billing (rating): rate plans, a call's cost at hang-up, monthly bills, re-rating a month.

The arithmetic is ``appliance/engine/rating.py`` (pure); this module keeps the plans
(``rate_plan``, ``rate_plan_rate``, ``trunk_rate_plan``), hands the call-record writer a
``rate(record)`` that fills ``cost``, ``rate_plan`` and ``destination_class``, and reads
the month's bills per trunk, team (queue) and agent, rents included: each agent's and
trunk's rent for the part of the month it existed (``existence``: from the audit log's
lines adding, renaming and deleting them; ``rating.rent_share``: pro rata by the second).

Which plan rates a call: its trunk's, else the default plan (none: the call is not rated);
an incoming call on a DID given a plan of its own (``did_rate_plan``: a 400 number whose
carrier charges the called party) is rated by that plan instead.
An outgoing call is rated by the class of the number dialled (``numbers.classify`` against
the site's ``home_region`` and ``area_code``: ``rating.destination_class``); an incoming
one only when its plan has a price for ``inbound``; internal calls never. A class the plan
has no price for leaves the call unrated (``cost`` empty), and the bill counts such calls.

Money is integer fen in the tables and the arithmetic, yuan strings (``"12.34"``) in the
API, ``¥12.34`` on pages. Months are the office's (the site's time zone). Every change of
a plan, an assignment and every re-rating is a line in the audit log; a re-rating says the
month's total before and after.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
import re
from collections.abc import Callable
from decimal import Decimal, InvalidOperation

from peewee import fn

from appliance import numbers
from appliance.db import models as m
from appliance.engine import rating
from appliance.errors import Conflict, FieldError, NotFound, ValidationError
from appliance.services.customer_excel import safe_row
from appliance.services.site import utc_midnight, zone_of

logger = logging.getLogger(__name__)

KIND = "rate_plans"
NAME_MAX = 64
MAX_FEN = 100_000_000  # a million yuan: far above any price, far below an overflow
MAX_PER_MINUTE = 100 * 100 * rating.PRICE_SCALE  # 100 yuan a minute
MONTH = re.compile(r"(\d{4})-(\d{2})")
BILL_KINDS = ("trunk", "team", "agent")
NO_TEAM = ""  # the team row of calls whose agent is in no team


def agent_teams() -> dict[str, str]:
    """Each agent's team for their outgoing calls: the queue they are a member of with
    the lowest penalty, then by name (personal queues ``cc-agent-*`` are no team).  The
    bills and the costs report (``services/reports.py``) both count by it."""
    teams: dict[str, str] = {}
    q = (m.QueueMember.select(m.Agent.number, m.Queue.name).join(m.Agent).switch(m.QueueMember).join(m.Queue)
         .where(~m.Queue.name.startswith("cc-")).order_by(m.QueueMember.penalty, m.Queue.name).tuples())
    for agent, queue in q:
        teams.setdefault(agent, queue)
    return teams


BEFORE_RECORDS = dt.datetime(1970, 1, 1)  # an agent or trunk whose adding the audit log does not hold


def existence(kind: str, key: str, now: set[str], since: dt.datetime, until: dt.datetime) -> dict[str, list]:
    """When each agent or trunk (``kind`` ``agents``/``trunks`` as the configuration's audit
    lines name them, ``key`` the attribute that names one) existed up to ``until``: name ->
    [(start, end)], for those that existed at some time in [since, until).  From the audit
    log (added, deleted, renamed: a renamed one goes on under its new name); ``now``: the
    names that exist now, which the lines after ``until`` are undone from.  One whose adding
    is not in the log existed before it."""
    log = m.AuditLog
    lines = list(log.select(log.at, log.action, log.object_id, log.detail)
                 .where(log.object_type == kind, log.action.in_(("create", "delete", "update")))
                 .order_by(log.at, log.id).tuples())

    def renamed(action, name, detail):
        if action != "update":
            return None
        try:
            new = json.loads(detail or "{}").get(key)
        except (ValueError, AttributeError):
            return None
        return new if isinstance(new, str) and new and new != name else None

    at_end = set(now)
    for at, action, name, detail in reversed([line for line in lines if line[0] >= until]):
        if action == "create":
            at_end.discard(name)
        elif action == "delete":
            at_end.add(name)
        elif renamed(action, name, detail):
            at_end.discard(renamed(action, name, detail))
            at_end.add(name)
    spans: dict[str, list] = {}
    began: dict[str, dt.datetime] = {}
    for at, action, name, detail in (line for line in lines if line[0] < until):
        if action == "create":
            began[name] = at
        elif action == "delete":
            spans.setdefault(name, []).append((began.pop(name, BEFORE_RECORDS), at))
        elif renamed(action, name, detail):
            began[renamed(action, name, detail)] = began.pop(name, BEFORE_RECORDS)
    for name in at_end:
        spans.setdefault(name, []).append((began.get(name, BEFORE_RECORDS), until))
    return {name: s for name, s in spans.items() if any(end > since and start < until for start, end in s)}


# -- reading what people typed --------------------------------------------------------------
def _money(value, name: str, places: int, scale: int, maximum: int) -> int:
    """A yuan amount (``"0.07"``, ``12``) as an integer of ``scale`` parts of a yuan."""
    if value is None or value == "":
        return 0
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise ValidationError(f"{name} must be an amount", fields={name: FieldError("rates.amount", "an amount")})
    try:
        amount = Decimal(str(value).strip().lstrip("¥"))
    except InvalidOperation:
        amount = None
    if amount is None or not amount.is_finite():
        raise ValidationError(f"{name} must be an amount of yuan",
                              fields={name: FieldError("rates.amount", "an amount of yuan such as 0.10")})
    if amount < 0:
        raise ValidationError(f"{name} is negative", fields={name: FieldError("rates.negative", "no negative prices")})
    if amount > Decimal(maximum) / scale:  # compared first: quantize and * cannot take 1E+999999
        raise ValidationError(f"{name} is too large", fields={name: FieldError("field.max", f"at most {maximum}",
                                                                                 n=_decimal(maximum, scale))})
    if amount != amount.quantize(Decimal(1).scaleb(-places)):
        raise ValidationError(f"{name} has more than {places} decimals",
                              fields={name: FieldError("rates.decimals", f"at most {places} decimals", n=places)})
    return int(amount * scale)


def _decimal(parts: int | None, scale: int = 100) -> str | None:
    """Integer parts of a yuan as a yuan string: ``1234`` fen -> ``"12.34"``."""
    if parts is None:
        return None
    places = len(str(scale)) - 1
    return f"{Decimal(parts) / scale:.{places}f}"


def _price(parts: int) -> str:
    """A per-minute price as yuan with two to four decimals: ``700`` -> ``"0.07"``, ``705`` -> ``"0.0705"``."""
    text = _decimal(parts, 100 * rating.PRICE_SCALE)
    return text[:-2] + text[-2:].rstrip("0") if text.endswith("0") else text


def _seconds(value, name: str) -> int:
    try:
        seconds = int(str(value).strip())
    except (TypeError, ValueError):
        raise ValidationError(f"{name} must be a whole number",
                              fields={name: FieldError("field.integer", "a whole number")}) from None
    if not 1 <= seconds <= rating.MAX_UNIT_SECONDS:
        raise ValidationError(f"{name} must be 1 to {rating.MAX_UNIT_SECONDS}", fields={
            name: FieldError("field.range", f"1 to {rating.MAX_UNIT_SECONDS}", min=1, max=rating.MAX_UNIT_SECONDS)})
    return seconds


def _name(value) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValidationError("give the plan a name", fields={"name": FieldError("field.required", "required")})
    value = value.strip()
    if len(value) > NAME_MAX:
        raise ValidationError("the name is too long", fields={
            "name": FieldError("field.max_length", f"at most {NAME_MAX} characters", n=NAME_MAX)})
    if any(ord(c) < 0x20 or c in "<>" for c in value):
        raise ValidationError("the name holds a control character or markup",
                              fields={"name": FieldError("field.control", "no control characters")})
    return value


def check_rates(rates) -> dict[str, int]:
    """``[{"class": "local", "per_minute": "0.07"}, ...]`` -> ``{"local": 700}``; a class
    that is none of ours, or a class given twice (two prices for the same calls), refused
    with the reason on that row."""
    if not isinstance(rates, list):
        raise ValidationError("rates is a list", fields={"rates": FieldError("field.option_list", "a list")})
    out: dict[str, int] = {}
    for i, row in enumerate(rates):
        if not isinstance(row, dict):
            raise ValidationError("each rate is an object", fields={f"rates.{i}": FieldError("field.object", "an object")})
        cls = row.get("class")
        if cls not in rating.CLASSES:
            raise ValidationError(f"rate {i + 1}: no destination class {cls!r}", fields={
                f"rates.{i}.class": FieldError("field.choice", "not one of the choices",
                                               choices=", ".join(rating.CLASSES))})
        if cls in out:
            raise ValidationError(f"rate {i + 1}: {cls} is priced twice", code="rates.class_twice", fields={
                                      f"rates.{i}.class": FieldError("rates.class_twice",
                                                                     "this class has a price already", item=cls)})
        out[cls] = _money(row.get("per_minute"), f"rates.{i}.per_minute", 4, 100 * rating.PRICE_SCALE,
                          MAX_PER_MINUTE)
    return out


def month_range(month: str, zone: dt.tzinfo) -> tuple[dt.datetime, dt.datetime]:
    """``2026-11`` -> its first and the next month's first midnight on the office's clock, as
    stored (naive UTC) times."""
    found = MONTH.fullmatch(month or "")
    if not found or not 1 <= int(found[2]) <= 12 or int(found[1]) < 2000:
        raise ValidationError("month must be like 2026-11",
                              fields={"month": FieldError("field.pattern", "YYYY-MM")})
    year, number = int(found[1]), int(found[2])
    after = dt.date(year + (number == 12), number % 12 + 1, 1)
    return utc_midnight(dt.date(year, number, 1), zone), utc_midnight(after, zone)


def _flat(plan: dict) -> dict:
    """A plan as one audit line keeps it: its terms and one price per class, flat."""
    out = {k: plan[k] for k in ("name", "minimum", "call_fee", "trunk_rent", "agent_rent", "is_default")}
    out["unit"] = f"{plan['first_seconds']}/{plan['next_seconds']}"
    out.update({r["class"]: r["per_minute"] for r in plan["rates"]})
    return out


def _plan_of(row: m.RatePlan, rates: dict[str, int]) -> rating.Plan:
    return rating.Plan(row.name, row.first_seconds, row.next_seconds, row.minimum_fen, row.call_fee_fen, dict(rates))


class BillingService:
    def __init__(self, db, *, home_region: Callable[[], str] | None = None, area_code: Callable[[], str] | None = None,
                 timezone: Callable[[], str] | None = None):
        self.db = db
        self.home_region = home_region or (lambda: numbers.DEFAULT_REGION)
        self.area_code = area_code or (lambda: "")
        self.timezone = timezone  # SiteService.timezone; None: UTC months
        self._cached: tuple | None = None  # (plans by trunk, default plan), dropped on every change

    # -- plans -----------------------------------------------------------------------------
    def plans(self) -> list[dict]:
        rates: dict[int, dict[str, int]] = {}
        for r in m.RatePlanRate.select():
            rates.setdefault(r.plan_id, {})[r.destination_class] = r.per_minute
        trunks: dict[int, list[str]] = {}
        for t in m.TrunkRatePlan.select().order_by(m.TrunkRatePlan.trunk):
            trunks.setdefault(t.plan_id, []).append(t.trunk)
        return [self._view(p, rates.get(p.id, {}), trunks.get(p.id, []))
                for p in m.RatePlan.select().order_by(m.RatePlan.name)]

    @staticmethod
    def _view(p: m.RatePlan, rates: dict[str, int], trunks: list[str]) -> dict:
        return {"id": p.id, "name": p.name, "first_seconds": p.first_seconds, "next_seconds": p.next_seconds,
                "minimum": _decimal(p.minimum_fen), "call_fee": _decimal(p.call_fee_fen),
                "trunk_rent": _decimal(p.trunk_rent_fen), "agent_rent": _decimal(p.agent_rent_fen),
                "is_default": p.is_default, "trunks": trunks,
                "rates": [{"class": c, "per_minute": _price(rates[c])}
                          for c in rating.CLASSES if c in rates],
                "updated_at": p.updated_at.isoformat(sep=" ", timespec="seconds"), "updated_by": p.updated_by}

    def plan(self, plan_id: int) -> dict:
        return next((p for p in self.plans() if p["id"] == plan_id), None) or self._missing(plan_id)

    @staticmethod
    def _missing(plan_id):
        raise NotFound(f"no rate plan {plan_id}", code="rates.not_found")

    def _checked(self, data) -> tuple[dict, dict[str, int]]:
        if not isinstance(data, dict):
            raise ValidationError("send a JSON object", fields={})
        values = {"name": _name(data.get("name")),
                  "first_seconds": _seconds(data.get("first_seconds", 60), "first_seconds"),
                  "next_seconds": _seconds(data.get("next_seconds", 60), "next_seconds"),
                  "minimum_fen": _money(data.get("minimum"), "minimum", 2, 100, MAX_FEN),
                  "call_fee_fen": _money(data.get("call_fee"), "call_fee", 2, 100, MAX_FEN),
                  "trunk_rent_fen": _money(data.get("trunk_rent"), "trunk_rent", 2, 100, MAX_FEN),
                  "agent_rent_fen": _money(data.get("agent_rent"), "agent_rent", 2, 100, MAX_FEN)}
        if not isinstance(data.get("is_default", False), bool):
            raise ValidationError("is_default is true or false",
                                  fields={"is_default": FieldError("field.boolean", "yes or no")})
        values["is_default"] = data.get("is_default", False)
        return values, check_rates(data.get("rates", []))

    def save(self, plan_id: int | None, data, actor: str) -> dict:
        """Create (``plan_id`` None) or replace a plan with its prices. Only future calls
        take the change; a past month takes it when re-rated (``rerate``)."""
        values, rates = self._checked(data)
        with self.db.atomic():
            clash = m.RatePlan.select().where(m.RatePlan.name == values["name"])
            if plan_id is not None:
                clash = clash.where(m.RatePlan.id != plan_id)
            if clash.exists():
                raise Conflict(f"a plan named {values['name']} exists", code="rates.exists",
                               fields={"name": FieldError("field.exists", "already exists", key=values["name"])})
            before = None
            if plan_id is None:
                row = m.RatePlan.create(**values, updated_at=m.utcnow(), updated_by=actor)
            else:
                before = self.plan(plan_id)
                m.RatePlan.update(**values, updated_at=m.utcnow(), updated_by=actor).where(
                    m.RatePlan.id == plan_id).execute()
                row = m.RatePlan.get_by_id(plan_id)
                m.RatePlanRate.delete().where(m.RatePlanRate.plan == row).execute()
            if values["is_default"]:  # one default at most
                m.RatePlan.update(is_default=False).where(m.RatePlan.id != row.id).execute()
            for cls, price in rates.items():
                m.RatePlanRate.create(plan=row, destination_class=cls, per_minute=price)
            after = self.plan(row.id)
            if before is None:
                self._audit(actor, "create", row.id, _flat(after))
            else:
                old, new = _flat(before), _flat(after)
                self._audit(actor, "update", row.id, {k: f"{old.get(k, '')} → {new.get(k, '')}"
                                                      for k in {**old, **new} if old.get(k) != new.get(k)})
        self._cached = None
        logger.info("%s %s rate plan %s", actor, "added" if before is None else "changed", values["name"])
        return after

    def delete(self, plan_id: int, actor: str) -> None:
        with self.db.atomic():
            before = self.plan(plan_id)
            m.RatePlan.delete().where(m.RatePlan.id == plan_id).execute()  # its prices and trunks go with it
            self._audit(actor, "delete", plan_id, _flat(before))
        self._cached = None

    def assign(self, trunk: str, plan_id: int | None, actor: str) -> None:
        """Rate ``trunk``'s calls by the plan ``plan_id`` (None: by the default plan)."""
        if not m.Trunk.select().where(m.Trunk.name == trunk).exists():
            raise NotFound(f"no trunk {trunk}", code="rates.no_trunk")
        self._assign(m.TrunkRatePlan, m.TrunkRatePlan.trunk, trunk, plan_id, actor)

    def assign_did(self, did: str, plan_id: int | None, actor: str) -> None:
        """Rate the incoming calls on ``did`` by the plan ``plan_id`` (its price for ``inbound``)
        in place of their trunk's; None: by their trunk's plan again."""
        if not m.Did.select().where(m.Did.number == did).exists():
            raise NotFound(f"no DID {did}", code="rates.no_did")
        self._assign(m.DidRatePlan, m.DidRatePlan.did, did, plan_id, actor)

    def _assign(self, model, key, name: str, plan_id: int | None, actor: str) -> None:
        with self.db.atomic():
            if plan_id is not None:
                self.plan(plan_id)
            model.delete().where(key == name).execute()
            if plan_id is not None:
                model.create(**{key.name: name, "plan": plan_id})
            m.AuditLog.create(username=actor or "system", action="update", object_type=model._meta.table_name,
                              object_id=name, detail=json.dumps({"plan": plan_id}))
        self._cached = None

    def dids(self) -> list[dict]:
        """Every DID with the plan that rates its incoming calls (``plan_id`` None: its trunk's)."""
        assigned = {d.did: d.plan_id for d in m.DidRatePlan.select()}
        return [{"number": d.number, "description": d.description, "plan_id": assigned.get(d.number)}
                for d in m.Did.select().order_by(m.Did.number)]

    def trunks(self) -> list[dict]:
        """Every trunk with the plan that rates its calls (``plan_id`` None: the default)."""
        assigned = {t.trunk: t.plan_id for t in m.TrunkRatePlan.select()}
        return [{"name": t.name, "display_name": t.display_name, "plan_id": assigned.get(t.name)}
                for t in m.Trunk.select().order_by(m.Trunk.name)]

    # -- rating a call ---------------------------------------------------------------------
    def _plans(self) -> tuple[dict[str, rating.Plan], rating.Plan | None]:
        if self._cached is None:
            rates: dict[int, dict[str, int]] = {}
            for r in m.RatePlanRate.select():
                rates.setdefault(r.plan_id, {})[r.destination_class] = r.per_minute
            plans = {p.id: _plan_of(p, rates.get(p.id, {})) for p in m.RatePlan.select()}
            default = next((plans[p.id] for p in m.RatePlan.select().where(m.RatePlan.is_default == True)), None)  # noqa: E712
            by_trunk = {t.trunk: plans[t.plan_id] for t in m.TrunkRatePlan.select()}
            by_did = {d.did: plans[d.plan_id] for d in m.DidRatePlan.select()}
            self._cached = (by_trunk, default, by_did)
        return self._cached

    def rater(self) -> Callable[[dict], dict]:
        """A ``rate(record) -> {cost, rate_plan, destination_class}`` over the plans as they
        are now (classification of each number dialled remembered for this rater's life)."""
        by_trunk, default, by_did = self._plans()
        region, area = self.home_region(), self.area_code()
        classes: dict[str, str] = {}

        def rate(record: dict) -> dict:
            direction = record.get("direction")
            if direction == "outbound":
                number = record.get("caller") or ""
                if number not in classes:
                    classes[number] = rating.destination_class(
                        numbers.classify(number, home_region=region, area_code=area))
                dclass = classes[number]
            elif direction == "inbound":
                dclass = rating.INBOUND
            else:
                return {"cost": None, "rate_plan": "", "destination_class": rating.INTERNAL}
            plan = by_trunk.get(record.get("trunk") or "", default)
            if direction == "inbound":  # a DID of its own plan (a 400 number) is rated by it
                plan = by_did.get(record.get("did") or "", plan)
            rated = rating.rate(record, plan, dclass)
            return {"cost": rated.cost_fen, "rate_plan": rated.rate_plan, "destination_class": rated.destination_class}

        return rate

    def rate(self, record: dict) -> dict:
        """For the call-record writer at hang-up: the cost and how it was reached."""
        return self.rater()(record)

    # -- bills -----------------------------------------------------------------------------
    def _zone(self) -> dt.tzinfo:
        return zone_of(self.timezone() if self.timezone is not None else None)

    def bill(self, month: str) -> dict:
        """The month's bill: rows per trunk, team and agent (calls, answered, billed minutes,
        call charges, rent, total; calls not rated counted apart) and the grand total (every
        call's cost once, plus every rent). A heavy read: through the query pool."""
        since, until = month_range(month, self._zone())
        in_month = (m.CallRecord.enter_time >= since) & (m.CallRecord.enter_time < until) & (
            m.CallRecord.direction != "internal")
        fields = (fn.COUNT(m.CallRecord.id), fn.SUM(m.CallRecord.answer_time.is_null(False)),
                  fn.SUM(m.CallRecord.talk_seconds), fn.SUM(m.CallRecord.cost),
                  fn.SUM(m.CallRecord.cost.is_null() & m.CallRecord.answer_time.is_null(False)))
        by = {}
        for key, column in (("trunk", m.CallRecord.trunk), ("agent", m.CallRecord.agent)):
            by[key] = {row[0]: row[1:] for row in m.CallRecord.select(column, *fields).where(in_month)
                       .group_by(column).tuples()}
        teams = agent_teams()
        team_rows: dict[str, list] = {}
        q = (m.CallRecord.select(m.CallRecord.queue, m.CallRecord.agent, m.CallRecord.direction, *fields)
             .where(in_month).group_by(m.CallRecord.queue, m.CallRecord.agent, m.CallRecord.direction).tuples())
        for queue, agent, direction, *figures in q:
            team = queue or (teams.get(agent, NO_TEAM) if direction == "outbound" else NO_TEAM)
            acc = team_rows.setdefault(team, [0, 0, 0.0, None, 0])
            for i, value in enumerate(figures):
                if value is not None:
                    acc[i] = (acc[i] or 0) + value
        by["team"] = {k: tuple(v) for k, v in team_rows.items()}
        plans = {p.id: p for p in m.RatePlan.select()}
        default = next((p for p in plans.values() if p.is_default), None)
        assigned = {t.trunk: plans[t.plan_id] for t in m.TrunkRatePlan.select()}
        rents = {"trunk": {}, "agent": {}, "team": {}}
        trunks = existence("trunks", "name", {t.name for t in m.Trunk.select(m.Trunk.name)}, since, until)
        for name, spans in trunks.items():
            plan = assigned.get(name, default)
            rents["trunk"][name] = rating.rent_share(plan.trunk_rent_fen if plan else 0, spans, since, until)
        agents = existence("agents", "number", {a.number for a in m.Agent.select(m.Agent.number)}, since, until)
        for name, spans in agents.items():
            rents["agent"][name] = rating.rent_share(default.agent_rent_fen if default else 0, spans, since, until)
        labels = {"trunk": {t.name: t.display_name for t in m.Trunk.select()},
                  "team": {q.name: q.display_name for q in m.Queue.select()},
                  "agent": {a.number: a.name for a in m.Agent.select()}}
        out = {"month": month, "from": since.isoformat(sep=" "), "until": until.isoformat(sep=" ")}
        for kind in BILL_KINDS:
            names = sorted(set(by[kind]) | set(rents[kind]))
            out[kind + "s"] = [{**self._bill_row(name, by[kind].get(name), rents[kind].get(name, 0)),
                                "label": labels[kind].get(name, "")} for name in names]
        calls_fen = sum(r["calls_fen"] for r in out["trunks"])
        rent_fen = sum(r["rent_fen"] for r in out["trunks"]) + sum(r["rent_fen"] for r in out["agents"])
        out["total"] = {"calls_fen": calls_fen, "rent_fen": rent_fen, "total_fen": calls_fen + rent_fen,
                        "unrated": sum(r["unrated"] for r in out["trunks"])}
        return out

    @staticmethod
    def _bill_row(name: str, figures, rent_fen: int) -> dict:
        calls, answered, talk, cost, unrated = figures or (0, 0, 0.0, None, 0)
        return {"name": name, "calls": calls or 0, "answered": answered or 0, "talk_seconds": round(talk or 0.0),
                "calls_fen": cost or 0, "rent_fen": rent_fen, "total_fen": (cost or 0) + rent_fen,
                "unrated": unrated or 0}

    def month_total(self, month: str) -> int:
        since, until = month_range(month, self._zone())
        return m.CallRecord.select(fn.SUM(m.CallRecord.cost)).where(
            (m.CallRecord.enter_time >= since) & (m.CallRecord.enter_time < until)).scalar() or 0

    def rerate(self, month: str, actor: str) -> dict:
        """Rate every call of ``month`` again under the plans as they are now (an admin's
        explicit action, after a price changed); audited with the totals before and after.
        Heavy: run it in a worker (``db.worker.in_worker``)."""
        since, until = month_range(month, self._zone())
        self._cached = None
        rate = self.rater()
        before, changed, seen = self.month_total(month), 0, 0
        last_id = 0
        while True:  # a thousand calls a transaction: hang-ups are written in between
            rows = list(m.CallRecord.select().where((m.CallRecord.enter_time >= since)
                                                    & (m.CallRecord.enter_time < until) & (m.CallRecord.id > last_id))
                        .order_by(m.CallRecord.id).limit(1000).dicts())
            with self.db.atomic():
                for row in rows:
                    new = rate(row)
                    if (row["cost"], row["rate_plan"], row["destination_class"]) != (
                            new["cost"], new["rate_plan"], new["destination_class"]):
                        m.CallRecord.update(**new).where(m.CallRecord.id == row["id"]).execute()
                        changed += 1
            seen += len(rows)
            if len(rows) < 1000:
                break
            last_id = rows[-1]["id"]
        # the costs report's day summaries follow the new charges
        # (imported here: reports imports billing)
        from appliance.services.reports import rebuild_days_summaries
        rebuild_days_summaries(self.db, self._zone(), since, until)
        after = self.month_total(month)
        m.AuditLog.create(username=actor or "system", action="update", object_type="billing_month",
                          object_id=month, detail=json.dumps({"calls": seen, "changed": changed,
                                                              "before": rating.yuan(before), "after": rating.yuan(after),
                                                              "before_fen": before, "after_fen": after},
                                                             ensure_ascii=False))
        logger.info("%s re-rated %s: %d calls, %d changed, %d -> %d fen", actor, month, seen, changed, before, after)
        return {"month": month, "calls": seen, "changed": changed, "before_fen": before, "after_fen": after,
                "before": _decimal(before), "after": _decimal(after)}

    def export(self, month: str, headers: dict[str, str], titles: dict[str, str]) -> bytes:
        """The month's bill as .xlsx: one sheet per trunk, team and agent, money as numbers
        (yuan, two decimals), the month written at the top."""
        from openpyxl import Workbook

        bill = self.bill(month)
        book = Workbook(write_only=True)
        columns = ("name", "calls", "answered", "talk_seconds", "calls_fen", "rent_fen", "total_fen", "unrated")
        for kind in BILL_KINDS:
            sheet = book.create_sheet(titles[kind])
            sheet.append(safe_row(sheet, [headers["month"], month]))
            sheet.append([headers[c] for c in columns])
            for row in bill[kind + "s"]:
                values = [row[c] if not c.endswith("_fen") else Decimal(row[c]) / 100 for c in columns]
                values[0] = row["label"] or row["name"] or headers["no_team"]
                sheet.append(safe_row(sheet, values))
            sheet.append(safe_row(sheet, [headers["total"], None, None, None,
                                          *(Decimal(bill["total"][c]) / 100 for c in ("calls_fen", "rent_fen",
                                                                                       "total_fen"))]))
        buf = io.BytesIO()
        book.save(buf)
        return buf.getvalue()

    @staticmethod
    def _audit(actor: str, action: str, plan_id: int, detail: dict) -> None:
        m.AuditLog.create(username=actor or "system", action=action, object_type=KIND, object_id=str(plan_id),
                          detail=json.dumps(detail, ensure_ascii=False, sort_keys=True))
