"""Call lists (issue 16): numbers to call, imported from Excel, each with what came of it.

The file is read the customers' way (``CustomerExcel.read``: a worker process, the same
limits) and waits in an ``ImportStore`` between the steps; the user says which column is the
number and which the name (``guess_columns`` proposes them), every other column is kept
with the entry, by the file's own title, for scripts and notifications.

- ``check_sheet``: every problem row by row (a number that is no number, the same number
  twice in the file, a number already in the list); empty rows are not rows.
- ``import_sheet``: every row in one transaction or none; ``good_only``: the rows without
  problems, the others handed back (``Report.rejected``, ``rejected_workbook``).
- new numbers become customers, or not, as the importer chooses; entries are linked to the
  customer with that number in any of its forms (``numbers.key``).
- assignment: to named agents or a team (a queue's members), split evenly in file order;
  unassigned: whoever of a campaign's agents takes it first.
- a list is paused (no entry of it is offered), resumed, recycled (the entries whose last
  result was no answer or busy are pending again, nothing else) and exported (every entry
  with each of its attempts).
"""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
import re
import sqlite3

import peewee
from peewee import fn

from appliance import numbers, upload_worker
from appliance.db import models as m
from appliance.errors import Conflict, FieldError, NotFound, ValidationError
from appliance.services.customer_excel import INSERT_BATCH, Report, guess_columns, safe_row, shown

logger = logging.getLogger(__name__)

NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,31}")
STATES = ("active", "paused", "done")
ENTRY_STATES = ("pending", "offered", "dialling", "done")
RECYCLED = ("no-answer", "busy")  # what a recycle calls again
DATA_MAX = 8000  # characters of a row's other columns kept as JSON


def _bad(field: str, msgid: str, english: str, **params) -> ValidationError:
    return ValidationError(f"{field}: {english}", fields={field: FieldError(msgid, english, **params)})


def clean_name(value) -> str:
    name = value.strip() if isinstance(value, str) else ""
    if not NAME.fullmatch(name):
        raise _bad("name", "calllists.field.name", "lower-case letters, digits, - and _, at most 32")
    return name


def clean_display(value) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if len(text) > 64 or any(ord(c) < 32 for c in text):
        raise _bad("display_name", "field.max_length", "at most 64 characters", n=64)
    return text


def agents_of(numbers_: list[str], queue: str = "") -> list[str]:
    """Work numbers: ``numbers_`` that exist, then ``queue``'s members, each once, in order."""
    known = {a for (a,) in m.Agent.select(m.Agent.number).tuples()}
    out = [a for a in numbers_ if a in known]
    if queue:
        out += [a for (a,) in (m.QueueMember.select(m.Agent.number).join(m.Agent).switch(m.QueueMember)
                               .join(m.Queue).where(m.Queue.name == queue).order_by(m.Agent.number).tuples())]
    return list(dict.fromkeys(out))


def clean_agents(value) -> list[str]:
    if value in (None, ""):
        return []
    if isinstance(value, str):
        value = [v for v in re.split(r"[\s,，]+", value) if v]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _bad("agents", "calllists.field.agents", "a list of work numbers")
    known = {a for (a,) in m.Agent.select(m.Agent.number).tuples()}
    unknown = [v for v in value if v not in known]
    if unknown:
        raise _bad("agents", "field.no_such", "no such agent", key=unknown[0])
    return list(dict.fromkeys(value))


def clean_queue(value) -> str:
    queue = value.strip() if isinstance(value, str) else ""
    if queue and not m.Queue.select().where(m.Queue.name == queue).exists():
        raise _bad("queue", "field.no_such", "no such queue", key=queue)
    return queue


def split_evenly(count: int, agents: list[str]) -> list[str]:
    """Who gets each of ``count`` entries, in order: ``agents`` in turn ('' with none)."""
    if not agents:
        return [""] * count
    return [agents[i % len(agents)] for i in range(count)]


class CallLists:
    def __init__(self, db, excel=None):
        self.db = db
        self.excel = excel  # CustomerExcel: reads the uploaded workbook (a worker process)

    # -- lists ------------------------------------------------------------------------
    @staticmethod
    def view(row: m.CallList, counts: dict | None = None) -> dict:
        counts = counts if counts is not None else CallLists.counts([row.id]).get(row.id, {})
        return {"id": row.id, "name": row.name, "display_name": row.display_name or row.name,
                "owner_queue": row.owner_queue, "owner_agents": json.loads(row.owner_agents or "[]"),
                "state": row.state, "created_at": row.created_at, "created_by": row.created_by,
                "entries": sum(counts.values()), "by_state": counts}

    @staticmethod
    def counts(ids: list[int]) -> dict[int, dict[str, int]]:
        out: dict[int, dict[str, int]] = {i: {} for i in ids}
        query = (m.CallListEntry.select(m.CallListEntry.call_list, m.CallListEntry.state, fn.COUNT(m.CallListEntry.id))
                 .where(m.CallListEntry.call_list.in_(ids)).group_by(m.CallListEntry.call_list, m.CallListEntry.state))
        for list_id, state, n in query.tuples():
            out[list_id][state] = n
        return out

    def list(self) -> list[dict]:
        rows = list(m.CallList.select().order_by(m.CallList.id))
        counts = self.counts([r.id for r in rows])
        return [self.view(r, counts[r.id]) for r in rows]

    def row(self, list_id: int) -> m.CallList:
        row = m.CallList.get_or_none(m.CallList.id == list_id)
        if row is None:
            raise NotFound(f"no call list {list_id}", code="calllists.not_found")
        return row

    def get(self, list_id: int) -> dict:
        return self.view(self.row(list_id))

    def create(self, data: dict, actor: str) -> dict:
        name = clean_name(data.get("name"))
        values = {"name": name, "display_name": clean_display(data.get("display_name")),
                  "owner_queue": clean_queue(data.get("owner_queue")),
                  "owner_agents": json.dumps(clean_agents(data.get("owner_agents")))}
        try:
            with self.db.atomic():
                row = m.CallList.create(created_by=actor, **values)
                m.AuditLog.create(username=actor, action="create", object_type="call_list", object_id=name)
        except (sqlite3.IntegrityError, peewee.IntegrityError):
            raise Conflict(f"a call list {name} exists", code="exists",
                           fields={"name": FieldError("field.exists", "exists")}) from None
        return self.view(row)

    def update(self, list_id: int, data: dict, actor: str) -> dict:
        row = self.row(list_id)
        if "display_name" in data:
            row.display_name = clean_display(data["display_name"])
        if "owner_queue" in data:
            row.owner_queue = clean_queue(data["owner_queue"])
        if "owner_agents" in data:
            row.owner_agents = json.dumps(clean_agents(data["owner_agents"]))
        row.save()
        m.AuditLog.create(username=actor, action="update", object_type="call_list", object_id=row.name)
        return self.view(row)

    def set_state(self, list_id: int, state: str, actor: str) -> dict:
        """Pause (none of its entries is offered), resume, or mark it done."""
        if state not in STATES:
            raise _bad("state", "field.choice", "active, paused or done", choices=", ".join(STATES))
        row = self.row(list_id)
        row.state = state
        row.save()
        m.AuditLog.create(username=actor, action=state if state != "active" else "resume", object_type="call_list",
                          object_id=row.name)
        logger.info("%s set call list %s %s", actor, row.name, state)
        return self.view(row)

    def recycle(self, list_id: int, actor: str) -> int:
        """The entries whose last result was no answer or busy are pending again; how many."""
        row = self.row(list_id)
        with self.db.atomic():
            count = (m.CallListEntry.update(state="pending", taken_by="", taken_at=None, next_attempt_at=None)
                     .where(m.CallListEntry.call_list == row.id, m.CallListEntry.state == "done",
                            m.CallListEntry.last_result.in_(RECYCLED)).execute())
            if row.state == "done":
                row.state = "active"
                row.save()
            m.AuditLog.create(username=actor, action="recycle", object_type="call_list", object_id=row.name,
                              detail=json.dumps({"entries": count}))
        logger.info("%s recycled %d entries of call list %s", actor, count, row.name)
        return count

    def delete(self, list_id: int, actor: str) -> None:
        row = self.row(list_id)
        if m.CampaignList.select().where(m.CampaignList.call_list == row.id).exists():
            raise Conflict(f"call list {row.name} is dialled by a campaign", code="calllists.in_campaign")
        row.delete_instance()
        m.AuditLog.create(username=actor, action="delete", object_type="call_list", object_id=row.name)

    def entries(self, list_id: int, *, state: str = "", agent: str | None = None, limit: int = 200,
                offset: int = 0) -> list[dict]:
        query = m.CallListEntry.select().where(m.CallListEntry.call_list == list_id)
        if state:
            query = query.where(m.CallListEntry.state == state)
        if agent is not None:
            query = query.where(m.CallListEntry.agent == agent)
        return [entry_view(e) for e in query.order_by(m.CallListEntry.id).limit(limit).offset(offset)]

    # -- one number at a time ---------------------------------------------------------------
    def add(self, list_id: int, number: str, *, actor: str, source: str, name: str = "", agent: str = "",
            data: dict | None = None) -> tuple[dict, bool]:
        """Put one number into the list as the import does (normalised, once per list by
        ``numbers.key``, linked to the customer with that number in any of its forms):
        ``(entry, True)``, or ``(the entry already there, False)``.  A list marked done
        takes no more numbers."""
        row = self.row(list_id)
        if row.state == "done":
            raise Conflict(f"call list {row.name} is done", code="calllists.done")
        if numbers.parse(number or "") is None:
            raise _bad("phone", "field.phone", "a phone number: 3 to 20 digits, maybe starting with +")
        key = numbers.key(number)
        existing = m.CallListEntry.get_or_none(m.CallListEntry.call_list == row.id, m.CallListEntry.number_key == key)
        if existing is not None:
            return entry_view(existing), False
        customer = m.Customer.select(m.Customer.id).where(m.Customer.phone.in_(numbers.variants(number))).first()
        try:
            with self.db.atomic():
                entry = m.CallListEntry.create(
                    call_list=row.id, number=numbers.normalise(number), number_key=key, name=(name or "")[:128],
                    customer=customer.id if customer else None,
                    data=json.dumps(data or {}, ensure_ascii=False, default=str), agent=agent or "")
                m.AuditLog.create(username=actor or "system", action="add", object_type="call_list",
                                  object_id=row.name, detail=json.dumps({"number": entry.number, "source": source[:64]},
                                                                        ensure_ascii=False))
        except (sqlite3.IntegrityError, peewee.IntegrityError):  # added by someone else meanwhile
            return entry_view(m.CallListEntry.get(m.CallListEntry.call_list == row.id,
                                                  m.CallListEntry.number_key == key)), False
        logger.info("%s added %s to call list %s (%s)", actor, entry.number, row.name, source)
        return entry_view(entry), True

    # -- importing ------------------------------------------------------------------------
    @staticmethod
    def propose_columns(headers: list) -> tuple[int | None, int | None]:
        """(number column, name column) as the headers suggest (indexes; None: not found)."""
        guessed = guess_columns(headers, {}, [])
        phone = guessed.index("phone") if "phone" in guessed else None
        name = guessed.index("name") if "name" in guessed else None
        return phone, name

    def check_sheet(self, sheet: bytes, list_id: int, phone_column: int | None, name_column: int | None = None,
                    *, keep_rows: bool = False, keep_bad: bool = False) -> tuple[Report, list]:
        """Every problem of the sheet for list ``list_id``, and (``keep_rows``) the rows to add:
        ``(number, key, name, data)``."""
        report = Report()
        lines = upload_worker.iter_lines(sheet)
        first = next(lines, None)
        if not isinstance(first, dict) or "header" not in first:
            report.add(1, "", FieldError("field.empty_sheet", "the sheet is empty"))
            return report, []
        headers = ["" if h is None else str(h).strip() for h in first["header"]]
        if phone_column is None or not (0 <= phone_column < len(headers)):
            report.add(first.get("row", 1), "phone", FieldError("field.missing_column", "missing column"))
            return report, []
        if name_column is not None and not (0 <= name_column < len(headers)) or name_column == phone_column:
            name_column = None
        report.columns = ["phone"] + (["name"] if name_column is not None else [])
        report.headers = {"phone": headers[phone_column] or "phone"}
        if name_column is not None:
            report.headers["name"] = headers[name_column] or "name"
        in_list = {k for (k,) in m.CallListEntry.select(m.CallListEntry.number_key)
                   .where(m.CallListEntry.call_list == list_id).tuples()}
        seen: dict[str, int] = {}
        rows = []
        for line in lines:
            if isinstance(line, dict):
                break
            row_number, cells = line
            values = [shown(upload_worker.decode_cell(c)) for c in cells]
            if all(v is None or (isinstance(v, str) and not v.strip()) for v in values):
                continue  # an empty row is no row
            report.rows += 1
            raw = values[phone_column] if phone_column < len(values) else None
            text = str(int(raw)) if isinstance(raw, float) and raw.is_integer() else ("" if raw is None else str(raw))
            name = values[name_column] if name_column is not None and name_column < len(values) else None
            name = "" if name is None else str(name).strip()[:128]
            data = {headers[i] or f"#{i + 1}": v for i, v in enumerate(values)
                    if i not in (phone_column, name_column) and v not in (None, "")}
            if len(report.preview) < 20:
                report.preview.append({"row": row_number, "phone": text, "name": name})
            problems = []
            parsed = numbers.parse(text)
            if parsed is None:
                problems.append(("phone", FieldError("field.phone", "a phone number: 3 to 20 digits, maybe starting "
                                                                    "with +")))
            else:
                key = numbers.key(text)
                if key in seen:
                    problems.append(("phone", FieldError("field.same_phone", f"the same phone as row {seen[key]}",
                                                         n=seen[key])))
                elif key in in_list:
                    problems.append(("phone", FieldError("calllists.field.in_list", "already in this list")))
                else:
                    seen[key] = row_number
            encoded = json.dumps(data, ensure_ascii=False, default=str)
            if len(encoded) > DATA_MAX:
                problems.append(("", FieldError("field.max_length", f"at most {DATA_MAX} characters", n=DATA_MAX)))
            if problems:
                report.reject(row_number, cells, problems, keep_bad)
            elif keep_rows:
                rows.append((numbers.normalise(text), numbers.key(text), name, encoded))
        if report.rows == 0:
            report.add(2, "", FieldError("calllists.field.no_rows", "no numbers in the file"))
        return report, rows

    def import_sheet(self, sheet: bytes, list_id: int, phone_column: int | None, name_column: int | None, *,
                     actor: str, source: str, create_customers: bool = False, agents: list[str] | None = None,
                     queue: str = "", good_only: bool = False) -> tuple[int, Report]:
        """All the rows in one transaction or none (``good_only``: the rows without problems,
        the others in ``report.rejected``); assigned to ``agents`` and ``queue``'s members
        in turn.  Returns (entries added, report)."""
        row = self.row(list_id)
        assignees = agents_of(clean_agents(agents), clean_queue(queue))
        report, rows = self.check_sheet(sheet, row.id, phone_column, name_column, keep_rows=True, keep_bad=good_only)
        if (not good_only and not report.ok) or (good_only and not rows):
            raise ValidationError(f"the file has {report.error_count} problems; nothing was imported",
                                  code="import.has_errors",
                                  fields={"file": FieldError("field.has_errors", "has errors")})
        try:
            count = self._insert(row, rows, assignees, actor, source, create_customers)
        except (sqlite3.IntegrityError, peewee.IntegrityError):
            raise ValidationError("the list changed while importing; nothing was imported",
                                  code="import.conflict") from None
        return count, report

    def _insert(self, row: m.CallList, rows: list, assignees: list[str], actor: str, source: str,
                create_customers: bool) -> int:
        now = m.utcnow()
        conn = self.db.connection()
        with self.db.atomic():
            customers = {numbers.key(p): i for p, i in m.Customer.select(m.Customer.phone, m.Customer.id).tuples()}
            new = [(r[2] or r[0], r[0]) for r in rows if r[1] not in customers]
            if create_customers and new:
                for start in range(0, len(new), INSERT_BATCH):
                    conn.executemany(
                        'INSERT INTO "customer" ("name", "phone", "category", "account_manager_id", "pin_hash", '
                        '"created_at", "custom", "created_by") VALUES (?, ?, \'\', NULL, \'\', ?, \'{}\', ?)',
                        [(name, phone, now, actor) for name, phone in new[start:start + INSERT_BATCH]])
                phones = [phone for _name, phone in new]
                for start in range(0, len(phones), 900):
                    for p, i in (m.Customer.select(m.Customer.phone, m.Customer.id)
                                 .where(m.Customer.phone.in_(phones[start:start + 900])).tuples()):
                        customers[numbers.key(p)] = i
            who = split_evenly(len(rows), assignees)
            values = [(row.id, number, key, name, customers.get(key), data, agent, now)
                      for (number, key, name, data), agent in zip(rows, who)]
            for start in range(0, len(values), INSERT_BATCH):
                conn.executemany(
                    'INSERT INTO "call_list_entry" ("call_list_id", "number", "number_key", "name", "customer_id", '
                    '"data", "agent", "attempts", "last_result", "next_attempt_at", "state", "taken_by", "taken_at", '
                    '"campaign") VALUES (?, ?, ?, ?, ?, ?, ?, 0, \'\', NULL, \'pending\', \'\', NULL, NULL)',
                    [v[:7] for v in values[start:start + INSERT_BATCH]])
            m.AuditLog.create(username=actor or "system", action="import", object_type="call_list",
                              object_id=row.name, detail=json.dumps(
                                  {"entries": len(rows), "source": source[:64],
                                   "customers_created": len(new) if create_customers else 0}, ensure_ascii=False))
        logger.info("%s imported %d numbers into call list %s", actor, len(rows), row.name)
        return len(rows)

    # -- exporting ------------------------------------------------------------------------
    def export(self, list_id: int, words) -> bytes:
        """The list as a workbook: one row per attempt (an entry never tried: one row), in the
        reader's words (``words(msgid)``; results and states through ``words('calllists.result.'
        + code)``)."""
        from openpyxl import Workbook

        row = self.row(list_id)
        book = Workbook(write_only=True)
        sheet = book.create_sheet(words("calllists.export.sheet"))
        data_keys: list[str] = []
        entries = list(m.CallListEntry.select().where(m.CallListEntry.call_list == row.id).order_by(m.CallListEntry.id))
        for e in entries:
            for k in json.loads(e.data or "{}"):
                if k not in data_keys:
                    data_keys.append(k)
        titles = [words(f"calllists.export.{c}") for c in
                  ("number", "name", "agent", "state", "attempts", "last_result", "attempt_at", "attempt_agent",
                   "attempt_result", "disposition", "note", "linkedid")]
        sheet.append(safe_row(sheet, titles + data_keys))
        attempts: dict[int, list] = {}
        for a in (m.CampaignAttempt.select().join(m.CallListEntry)
                  .where(m.CallListEntry.call_list == row.id).order_by(m.CampaignAttempt.id)):
            attempts.setdefault(a.entry_id, []).append(a)
        for e in entries:
            data = json.loads(e.data or "{}")
            head = [e.number, e.name, e.agent, words(f"calllists.entry_state.{e.state}"), e.attempts,
                    words(f"calllists.result.{e.last_result}") if e.last_result else ""]
            tail = [data.get(k) for k in data_keys]
            for a in attempts.get(e.id) or [None]:
                if a is None:
                    middle = [None] * 6
                else:
                    middle = [a.started_at, a.agent, words(f"calllists.result.{a.result}"), a.disposition, a.note,
                              a.linkedid]
                sheet.append(safe_row(sheet, head + middle + tail))
        out = io.BytesIO()
        book.save(out)
        return out.getvalue()


def entry_view(e: m.CallListEntry) -> dict:
    return {"id": e.id, "list": e.call_list_id, "number": e.number, "name": e.name, "customer": e.customer_id,
            "data": json.loads(e.data or "{}"), "agent": e.agent, "attempts": e.attempts,
            "last_result": e.last_result, "next_attempt_at": _iso(e.next_attempt_at), "state": e.state,
            "taken_by": e.taken_by}


def _iso(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    return value.replace(tzinfo=dt.timezone.utc).isoformat().replace("+00:00", "Z")
