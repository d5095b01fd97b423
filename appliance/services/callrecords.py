"""Call records for people: search (date range, agent, queue, number, direction,
disposition), one call with what was said about it and its recording, Excel export.

Agents see the calls they took; team leaders and admins see every call.  The records are
kept in UTC; the date filter's days are the office's (the site's time zone), so "today"
means the office's today.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable

from appliance import numbers
from appliance.db import models as m
from appliance.errors import FieldError, NotFound, ValidationError
from appliance.services.crm import fmt_time
from appliance.services.customer_excel import safe_row
from appliance.services.site import on_office_clock, utc_midnight, zone_of

DIRECTIONS = ("inbound", "outbound", "internal")
DISPOSITIONS = ("answered", "abandoned", "unanswered", "fallback", "interrupted")
MAX_PER_PAGE = 200
EXPORT_LIMIT = 100_000
COLUMNS = ("linkedid", "enter_time", "direction", "caller", "caller_name", "did", "trunk", "queue", "agent",
           "disposition", "wait_seconds", "talk_seconds", "route_rule", "outcome", "note", "recording")


def _day(value: str, name: str) -> dt.datetime | None:
    if not value:
        return None
    try:
        return dt.datetime.strptime(value, "%Y-%m-%d")
    except (TypeError, ValueError):
        raise ValidationError(f"{name} must be a date like 2026-11-23",
                              fields={name: FieldError("field.date_format", "YYYY-MM-DD")}) from None


def _choice(value: str, name: str, choices: tuple) -> str:
    if value and value not in choices:
        raise ValidationError(f"{name} must be one of {', '.join(choices)}",
                              fields={
                                  name: FieldError("field.choice", "not one of the choices",
                                                   choices=", ".join(choices))})
    return value or ""


def _text(value: str, name: str, max_length: int = 40) -> str:
    value = (value or "").strip()
    if len(value) > max_length:
        raise ValidationError(f"{name} is too long",
                              fields={
                                  name: FieldError("field.max_length", f"at most {max_length} characters",
                                                   n=max_length)})
    return value



class CallRecords:
    def __init__(self, db, timezone: Callable[[], str] | None = None):
        self.db = db
        self.timezone = timezone  # the site's time zone (SiteService.timezone); None: UTC days

    def _zone(self) -> dt.tzinfo:
        return zone_of(self.timezone() if self.timezone is not None else None)

    def _utc(self, day: dt.datetime) -> dt.datetime:
        return utc_midnight(day, self._zone())

    def _on_office_clock(self, stored: str | None) -> str | None:
        if not stored:
            return stored
        at = on_office_clock(dt.datetime.fromisoformat(stored), self._zone())
        return at.isoformat(sep=" ", timespec="seconds")

    def _query(self, agents: frozenset | None, filters: dict):
        """``agents`` None: every call; else only the calls those agents took."""
        since, until = _day(filters.get("from", ""), "from"), _day(filters.get("to", ""), "to")
        if since and until and until < since:
            raise ValidationError("the end date is before the start date",
                                  fields={"to": FieldError("field.not_before_from", "on or after from")})
        since = self._utc(since) if since else None
        until = self._utc(until + dt.timedelta(days=1)) if until else None
        direction = _choice(filters.get("direction", ""), "direction", DIRECTIONS)
        disposition = _choice(filters.get("disposition", ""), "disposition", DISPOSITIONS)
        number = numbers.clean(_text(filters.get("number", ""), "number"))
        agent, queue = _text(filters.get("agent", ""), "agent", 16), _text(filters.get("queue", ""), "queue", 32)
        q = m.CallRecord.select()
        if agents is not None:
            q = q.where(m.CallRecord.agent.in_(sorted(agents)))  # none: nothing (0 = 1)
        if since:
            q = q.where(m.CallRecord.enter_time >= since)
        if until:
            q = q.where(m.CallRecord.enter_time < until)
        if direction:
            q = q.where(m.CallRecord.direction == direction)
        if disposition:
            q = q.where(m.CallRecord.disposition == disposition)
        if agent:
            q = q.where(m.CallRecord.agent == agent)
        if queue:
            q = q.where(m.CallRecord.queue == queue)
        if number:  # the caller or the DID, in any of the number's stored forms
            forms = numbers.variants(number)
            q = q.where(m.CallRecord.caller.in_(forms) | m.CallRecord.did.in_(forms))
        return q.order_by(m.CallRecord.enter_time.desc(), m.CallRecord.id.desc())

    def _views(self, rows: list, costs: bool = False) -> list[dict]:
        """Each row for people; ``costs`` (staff only: agents see no billing) adds what the
        call cost (``cost_fen``, ``rate_plan``, ``destination_class``; services/billing.py)."""
        ids = [r.linkedid for r in rows]
        outcomes = {o.linkedid: o for o in m.CallOutcome.select().where(m.CallOutcome.linkedid.in_(ids))} if ids else {}
        recordings = {r.linkedid: r for r in m.Recording.select().where(m.Recording.linkedid.in_(ids))} if ids else {}
        out = []
        for r in rows:
            o, rec = outcomes.get(r.linkedid), recordings.get(r.linkedid)
            out.append({"linkedid": r.linkedid, "enter_time": fmt_time(r.enter_time), "answer_time": fmt_time(r.answer_time),
                        "end_time": fmt_time(r.end_time), "direction": r.direction, "caller": r.caller,
                        "caller_name": r.caller_name, "did": r.did, "trunk": r.trunk, "queue": r.queue,
                        "agent": r.agent, "disposition": r.disposition, "fallback_reason": r.fallback_reason,
                        "wait_seconds": r.wait_seconds, "talk_seconds": r.talk_seconds, "route_rule": r.route_rule,
                        "outcome": o.disposition if o else None, "note": o.note if o else "",
                        "recording": rec.state if rec else None,
                        **({"cost_fen": r.cost, "rate_plan": r.rate_plan, "destination_class": r.destination_class}
                           if costs else {})})
        return out

    def search(self, agents: frozenset | None, filters: dict, page=1, per_page=50) -> dict:
        try:
            page, per_page = int(page), int(per_page)
        except (TypeError, ValueError):
            raise ValidationError("page and per_page must be whole numbers",
                                  fields={"page": FieldError("field.integer", "a whole number")}) from None
        if page < 1 or not 1 <= per_page <= MAX_PER_PAGE:
            raise ValidationError(f"page from 1, per_page from 1 to {MAX_PER_PAGE}",
                                  fields={
                                      "per_page": FieldError("field.range", f"1 to {MAX_PER_PAGE}", min=1,
                                                             max=MAX_PER_PAGE)})
        q = self._query(agents, filters)
        total = q.count()
        rows = list(q.paginate(page, per_page))
        return {"items": self._views(rows, costs=agents is None), "total": total, "page": page, "per_page": per_page,
                "pages": max(1, -(-total // per_page))}

    def get(self, agents: frozenset | None, linkedid: str) -> dict:
        row = m.CallRecord.get_or_none(m.CallRecord.linkedid == linkedid)
        if row is None or (agents is not None and row.agent not in agents):
            raise NotFound(f"no call {linkedid}", code="calls.not_found")
        [view] = self._views([row], costs=agents is None)
        customer = (m.Customer.select().where(m.Customer.phone.in_(numbers.variants(row.caller))).first()
                    if row.caller else None)
        view["customer"] = {"id": customer.id, "name": customer.name} if customer else None
        view["outcomes"] = [{"agent": o.agent, "disposition": o.disposition, "note": o.note, "saved_by": o.saved_by,
                             "saved_at": fmt_time(o.saved_at)}
                            for o in m.CallOutcome.select().where(m.CallOutcome.linkedid == linkedid)]
        return view

    def export(self, agents: frozenset | None, filters: dict, headers: dict[str, str],
               words=lambda column, value: value, title: str = "calls") -> bytes:
        """An .xlsx of the matching calls (newest first, at most EXPORT_LIMIT), every cell text
        or a number: nothing a spreadsheet would run as a formula.  Times on the office's
        clock, as the page shows them; codes (direction, disposition...) as ``words(column,
        code)`` says them (the exporting user's language); the sheet named ``title``."""
        from openpyxl import Workbook

        book = Workbook(write_only=True)
        sheet = book.create_sheet(title)
        sheet.append([headers.get(c, c) for c in COLUMNS])
        q = self._query(agents, filters).limit(EXPORT_LIMIT)
        for start in range(0, EXPORT_LIMIT, 1000):
            rows = list(q.offset(start).limit(1000))
            for v in self._views(rows):
                v["enter_time"] = self._on_office_clock(v["enter_time"])  # as the pages show it
                sheet.append(safe_row(sheet, ["" if v.get(c) is None else words(c, v.get(c)) for c in COLUMNS]))
            if len(rows) < 1000:
                break
        buf = io.BytesIO()
        book.save(buf)
        return buf.getvalue()

