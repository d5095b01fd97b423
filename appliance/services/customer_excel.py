"""Customers in and out of Excel (openpyxl): a check that reports every problem of a file
row by row, an import that takes every row in one transaction or none, and an export of
a search.

The first row of a sheet names the columns: a field's name (``name``, ``phone``,
``category``, ``account_manager``, ``tags``, a custom field's name) or any label the
caller passes in ``aliases`` (the web UI passes the labels of both languages, so a
file exported in Chinese comes back in).  ``name`` and ``phone`` and the required custom
fields must be there; a column nobody knows is an error, not silently dropped.

A workbook is an untrusted zip of XML, so it is read in a worker process of its own
(``read``: ``appliance.upload_worker xlsx`` through ``proc``, as nobody, with a memory and
processor limit and a timeout; the process ends and gives its memory back), which first
checks the zip's own account of itself (total unpacked size, packing ratio, the size of the
shared strings), never believes the sheet's ``<dimension>`` (rows are counted as read), and
stops at ``MAX_ROWS`` rows (``import.too_many_rows``), ``MAX_CELLS`` cells
(``import.too_many_cells``) or ``MAX_SHEET_TEXT`` bytes of text (``import.too_large``).  It
hands back the rows as JSON lines; checking them against the customers is ``check_sheet``
and ``import_sheet``, slow for big files: the web UI runs those in a worker thread, never
on the gevent loop (``read`` itself is a child process the loop waits on).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from appliance import numbers, proc, upload_worker
from appliance.db import models as m
from appliance.errors import FieldError, ValidationError

logger = logging.getLogger(__name__)

COLUMNS = ("name", "phone", "category", "account_manager", "tags")  # the customer's own, importable
REQUIRED = ("name", "phone")
MAX_ROWS = 200_000
MAX_CELLS = 5_000_000  # read, empty ones included (rows are as wide as their last cell)
MAX_SHEET_TEXT = 64 * 1024 * 1024  # bytes of the rows as the worker hands them back
# the zip, before anything is unpacked
MAX_PARTS = 10_000
MAX_UNPACKED = 256 * 1024 * 1024
MAX_PACKING_RATIO = 100  # a sheet of repeated rows packs about 17:1; a zip bomb 1000:1
MAX_SHARED_STRINGS = 32 * 1024 * 1024  # about 1.5 million short texts: 30 s for openpyxl
READ_SECONDS = 120  # processor time of the worker (openpyxl reads about 20,000 rows a second)
PREVIEW_ROWS = 20
MAX_ERRORS = 1000  # listed; all are counted
INSERT_BATCH = 5000


def safe_row(sheet, values) -> list:
    """A row for a write-only sheet where text stays text: never a formula, whatever it
    starts with (=, +, -, @)."""
    from openpyxl.cell import WriteOnlyCell

    row = []
    for value in values:
        cell = WriteOnlyCell(sheet, value=value)
        if isinstance(value, str):
            cell.data_type = "s"
        row.append(cell)
    return row


@dataclass
class RowError:
    row: int  # as Excel numbers it (the header is row 1)
    column: str  # a field name, or "" for the whole row or file
    message: str

    def as_dict(self) -> dict:
        return {"row": self.row, "column": self.column, "message": self.message}


@dataclass
class Report:
    columns: list[str] = field(default_factory=list)  # field names, in the file's order
    rows: int = 0  # data rows (empty ones not counted)
    preview: list[dict] = field(default_factory=list)  # the first rows as read
    errors: list[RowError] = field(default_factory=list)  # the first MAX_ERRORS
    error_count: int = 0
    bad_rows: int = 0

    @property
    def ok(self) -> bool:
        return self.error_count == 0 and self.rows > 0

    def add(self, row: int, column: str, message: str) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_ERRORS:
            self.errors.append(RowError(row, column, message))

    def as_dict(self) -> dict:
        return {"ok": self.ok, "columns": self.columns, "rows": self.rows, "valid_rows": self.rows - self.bad_rows,
                "preview": self.preview, "errors": [e.as_dict() for e in self.errors],
                "error_count": self.error_count}


def _not_xlsx() -> ValidationError:
    return ValidationError(FieldError("field.not_xlsx", "the file is not an Excel workbook (.xlsx)"),
                           code="import.not_xlsx",
                           fields={"file": FieldError("field.not_xlsx", "not an Excel workbook (.xlsx)")})


class CustomerExcel:
    def __init__(self, db, customers, *, memory_bytes: int = 512 * 1024 * 1024, read_seconds: int = READ_SECONDS):
        self.db = db
        self.customers = customers  # CustomerService: its field rules
        self.memory_bytes = memory_bytes
        self.read_seconds = read_seconds

    # -- the worker process -------------------------------------------------------------
    def read(self, path: Path) -> bytes:
        """The first sheet of the workbook at ``path`` as the worker hands it back (JSON lines,
        for ``check_sheet``), or a ``ValidationError``.  A child process: call it on the loop
        (gevent waits on it) or in a plain thread, not in gevent's thread pool."""
        try:
            data = Path(path).read_bytes()
        except OSError:
            raise _not_xlsx() from None
        try:
            return upload_worker.run(
                "xlsx", data, {"max_rows": MAX_ROWS, "max_cells": MAX_CELLS, "max_output": MAX_SHEET_TEXT,
                               "max_members": MAX_PARTS, "max_expanded": MAX_UNPACKED,
                               "max_ratio": MAX_PACKING_RATIO, "max_shared_strings": MAX_SHARED_STRINGS},
                what="read an uploaded workbook", timeout=2 * self.read_seconds, max_output=MAX_SHEET_TEXT + 65536,
                limits=proc.Limits(cpu_seconds=self.read_seconds, memory_bytes=self.memory_bytes, file_bytes=0))
        except ValidationError as exc:
            logger.info("an uploaded customer file was refused: %s: %s", exc.code, exc.message)
            if exc.code == "import.not_xlsx":
                raise _not_xlsx() from None
            raise
        except proc.CommandFailed as exc:
            logger.warning("reading an uploaded customer file failed: %s", exc)
            raise ValidationError("reading the file needs more time or memory than an import may use",
                                  code="import.too_large",
                                  fields={"file": FieldError("field.too_large", "too large to read")}) from None

    # -- reading a file ----------------------------------------------------------------
    def _header(self, cells, aliases: dict[str, str], custom: list, report: Report,
                row: int = 1) -> list[str | None]:
        known = {name: name for name in COLUMNS} | {c.name: "custom." + c.name for c in custom}
        known |= {c.label.strip().lower(): "custom." + c.name for c in custom}
        known |= {k.strip().lower(): v for k, v in aliases.items()}
        columns: list[str | None] = []
        for index, cell in enumerate(cells, start=1):
            text = "" if cell is None else str(cell).strip()
            if not text:
                columns.append(None)
                continue
            key = known.get(text.lower()) or known.get(text)
            if key is None:
                report.add(row, text, FieldError("field.unknown_column", "unknown column"))
            elif key in columns:
                report.add(row, text, FieldError("field.same_column", "the same column twice"))
                key = None
            columns.append(key)
        present = set(columns)
        missing = [c for c in REQUIRED if c not in present]
        missing += ["custom." + c.name for c in custom if c.required and "custom." + c.name not in present]
        for name in missing:
            report.add(row, name, FieldError("field.missing_column", "missing column"))
        report.columns = [c for c in columns if c]
        return columns

    def check(self, path: Path, aliases: dict[str, str] | None = None, *, keep_rows: bool = False) -> tuple[Report, list]:
        """``read`` then ``check_sheet``, in one go (scripts and tests; no gevent)."""
        return self.check_sheet(self.read(path), aliases, keep_rows=keep_rows)

    def check_sheet(self, sheet: bytes, aliases: dict[str, str] | None = None, *,
                    keep_rows: bool = False) -> tuple[Report, list]:
        """Every problem of the sheet ``read`` gave, and (``keep_rows``) the cleaned rows ready
        to insert."""
        report = Report()
        lines = upload_worker.iter_lines(sheet)
        first = next(lines, None)
        if not isinstance(first, dict) or "header" not in first:
            if isinstance(first, dict) and first.get("end", {}).get("sheets") == 0:
                report.add(0, "", FieldError("field.no_sheet", "the workbook has no sheet"))
            else:
                report.add(1, "", FieldError("field.empty_sheet", "the sheet is empty"))
            return report, []
        custom = self.customers.custom_fields()
        agents = {a.number: a for a in m.Agent.select()}
        # one number in any of its forms (with or without + or the country code) is one phone
        existing = {numbers.key(p) for (p,) in m.Customer.select(m.Customer.phone).tuples()}
        columns = self._header(first["header"], aliases or {}, custom, report, first.get("row", 1))
        if report.error_count:
            return report, []  # with the wrong columns no row can be read right
        seen: dict[str, int] = {}
        clean_rows = []
        for line in lines:
            if isinstance(line, dict):  # the end
                break
            number, cells = line
            report.rows += 1
            data: dict = {}
            for key, value in zip(columns, cells):
                if key is None:
                    continue
                value = upload_worker.decode_cell(value)
                if key.startswith("custom."):
                    data.setdefault("custom", {})[key[7:]] = value
                elif value is not None:
                    data[key] = value
            if len(report.preview) < PREVIEW_ROWS:
                report.preview.append({"row": number, **{k: v for k, v in data.items() if k != "custom"},
                                       **{"custom." + k: v for k, v in (data.get("custom") or {}).items()}})
            row_bad = False
            try:
                values, custom_values = self.customers.clean(data, creating=True, custom_fields=custom,
                                                             agents=agents)
            except ValidationError as exc:
                for column, message in exc.fields.items():
                    report.add(number, column, message)
                report.bad_rows += 1
                continue
            bare = numbers.key(values["phone"])
            if bare in seen:
                report.add(number, "phone", FieldError("field.same_phone", f"the same phone as row {seen[bare]}",
                                                       n=seen[bare]))
                row_bad = True
            else:
                seen[bare] = number
            if bare in existing:
                report.add(number, "phone", FieldError("field.existing_customer", "already a customer"))
                row_bad = True
            if row_bad:
                report.bad_rows += 1
            elif keep_rows:
                clean_rows.append((values, custom_values))
        if report.rows == 0:
            report.add(2, "", FieldError("field.no_rows", "no customers in the file"))
        return report, clean_rows

    # -- importing ------------------------------------------------------------------------
    def import_file(self, path: Path, actor: str, aliases: dict[str, str] | None = None) -> int:
        """``read`` then ``import_sheet`` (scripts and tests; no gevent)."""
        return self.import_sheet(self.read(path), actor, Path(path).name, aliases)

    def import_sheet(self, sheet: bytes, actor: str, source: str, aliases: dict[str, str] | None = None) -> int:
        """All the sheet's customers in one transaction, or (any problem) none."""
        report, rows = self.check_sheet(sheet, aliases, keep_rows=True)
        if not report.ok:
            raise ValidationError(f"the file has {report.error_count} problems; nothing was imported",
                                  code="import.has_errors",
                                  fields={"file": FieldError("field.has_errors", "has errors")})
        try:
            return self._insert(rows, actor, source)
        except sqlite3.IntegrityError:  # the same phone was added meanwhile: the unique index refused it
            raise ValidationError("the customers changed while importing; nothing was imported",
                                  code="import.conflict") from None

    def _insert(self, rows: list, actor: str, source: str) -> int:
        now = m.utcnow()
        conn = self.db.connection()
        with self.db.atomic():
            last = m.Customer.select(m.Customer.id).order_by(m.Customer.id.desc()).scalar() or 0
            for start in range(0, len(rows), INSERT_BATCH):
                batch = rows[start:start + INSERT_BATCH]
                conn.executemany(
                    'INSERT INTO "customer" ("name", "phone", "category", "account_manager_id", "pin_hash", '
                    '"created_at", "custom", "created_by") VALUES (?, ?, ?, ?, \'\', ?, ?, ?)',
                    [(v["name"], v["phone"], v.get("category") or "",
                      v["account_manager"].id if v.get("account_manager") else None, now,
                      json.dumps({k: x for k, x in c.items() if x is not None}, ensure_ascii=False), actor)
                     for v, c in batch])
            ids = dict(m.Customer.select(m.Customer.phone, m.Customer.id).where(m.Customer.id > last).tuples())
            tags = [(ids[v["phone"]], tag) for v, _ in rows for tag in v.get("tags") or []]
            for start in range(0, len(tags), INSERT_BATCH):
                conn.executemany('INSERT INTO "customer_tag" ("customer_id", "tag") VALUES (?, ?)',
                                 tags[start:start + INSERT_BATCH])
            m.AuditLog.create(username=actor or "system", action="import", object_type="customers",
                              object_id=source[:64], detail=json.dumps({"customers": len(rows)}))
        logger.info("%s imported %d customers", actor, len(rows))
        return len(rows)

    # -- exporting ------------------------------------------------------------------------
    def export(self, customers, headers: dict[str, str], path: Path, title: str = "customers") -> int:
        """Writes the customers (dicts as the service returns them) to ``path``, on a sheet named
        ``title``; returns how many.  ``headers``: field name (``custom.<name>`` for custom
        fields) -> title."""
        from openpyxl import Workbook

        custom = self.customers.custom_fields()
        keys = [*COLUMNS, *("custom." + c.name for c in custom)]
        book = Workbook(write_only=True)
        sheet = book.create_sheet(title)
        sheet.append([headers.get(k, k) for k in keys])
        count = 0
        for c in customers:
            values = [c["name"], c["phone"], c["category"], c["account_manager"] or "", ", ".join(c["tags"])]
            values += [c["custom"].get(f.name) for f in custom]
            sheet.append(safe_row(sheet, values))
            count += 1
        book.save(str(path))
        return count
