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

The web UI adds a mapping step: ``guess_columns`` proposes a field for each header (by
name, in either language, and by the words a header contains), the user changes what is
wrong, and ``check_sheet(columns=...)`` reads the file that way; the mapping is remembered
per set of headers (``remembered_columns`` / ``remember_columns``, site settings) and
proposed next time.  ``import_good_rows`` imports the rows without problems and hands back
the others, which ``rejected_workbook`` writes with a column saying why.  Dates in custom
date columns may be Excel dates, serial numbers (``45123``) or date-like text
(``2026/1/5``, ``2026年1月5日``, ``2026-01-01 00:00:00``): ``as_date``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import logging
import re
import sqlite3
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from appliance import numbers, proc, upload_worker
from appliance.db import models as m
from appliance.errors import FieldError, ValidationError

logger = logging.getLogger(__name__)

COLUMNS = ("name", "phone", "category", "account_manager", "tags", "email")  # the customer's own, importable
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
SAMPLE_ROWS = 3  # shown beside each column on the mapping step
SAMPLE_TEXT = 40  # characters of a value shown there
MAX_MAPPED_COLUMNS = 200  # headers a mapping step shows; a list of customers has a few dozen
MAPPING_SETTING = "import_map."  # + a digest of the headers: a remembered mapping (site settings)
MAX_REMEMBERED = 50  # mappings kept, the most recently used

# Exact titles people give columns in their own lists, besides the fields' names and labels.
COLUMN_SYNONYMS = {"姓名": "name", "名字": "name", "客户": "name", "客户名称": "name", "客户姓名": "name",
                   "联系人": "name", "手机": "phone", "手机号": "phone", "手机号码": "phone", "电话号码": "phone",
                   "联系电话": "phone", "mobile": "phone", "tel": "phone", "telephone": "phone", "分类": "category",
                   "客户类别": "category", "坐席": "account_manager", "工号": "account_manager",
                   "负责人": "account_manager", "agent": "account_manager", "manager": "account_manager",
                   "邮箱": "email", "电子邮件": "email", "e-mail": "email", "mail": "email"}
# Words that give a column away when no title matched exactly: the longest word found wins.
COLUMN_HINTS = {"name": ("姓名", "名字", "名称", "联系人", "name"),
                "phone": ("手机", "电话", "号码", "phone", "mobile", "tel"),
                "category": ("类别", "分类", "类型", "category", "type"),
                "account_manager": ("客户经理", "坐席", "工号", "负责人", "业务员", "manager", "agent", "owner"),
                "tags": ("标签", "tag"), "email": ("邮箱", "邮件", "email")}
_DATE_TEXT = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?"
                        r"(?:[ T]+\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?")
_SERIAL = re.compile(r"\d{5}(?:\.\d+)?")  # Excel's day numbers 10000-99999: 1927-2173


def normalize_header(text) -> str:
    """A header as compared: full-width folded, lower case, no notes in brackets (``手机(必填)``),
    no spaces, stars or punctuation."""
    text = unicodedata.normalize("NFKC", "" if text is None else str(text)).lower()
    text = re.sub(r"\(.*?\)|\[.*?\]|【.*?】", "", text)
    return re.sub(r"[\s_\-:*.#/\\]+", "", text)


def guess_columns(headers: list, aliases: dict[str, str], custom: list) -> list[str | None]:
    """For each header, the field it most likely is (``name``, ``custom.<name>``...) or None;
    each field at most once.  Exact titles first (field names, labels in either language,
    ``aliases``, common titles), then the words a header contains."""
    known = {normalize_header(k): v for k, v in COLUMN_SYNONYMS.items()}
    known |= {normalize_header(k): v for k, v in aliases.items()}
    known |= {normalize_header(name): name for name in COLUMNS}
    for c in custom:
        known[normalize_header(c.label)] = known[normalize_header(c.name)] = "custom." + c.name
    hints = {key: [normalize_header(w) for w in words] for key, words in COLUMN_HINTS.items()}
    for c in custom:
        hints["custom." + c.name] = [w for w in (normalize_header(c.label), normalize_header(c.name)) if len(w) > 1]
    texts = [normalize_header(h) for h in headers]
    columns: list[str | None] = [None] * len(headers)
    for index, text in enumerate(texts):
        key = known.get(text) if text else None
        if key and key not in columns:
            columns[index] = key
    for index, text in enumerate(texts):
        if columns[index] or not text:
            continue
        scored = [(len(word), key) for key, words in hints.items() if key not in columns
                  for word in words if word and word in text]
        if scored:
            columns[index] = max(scored)[1]
    return columns


def as_date(value):
    """A value of a date column as a date where it is one: an Excel date, a day number
    Excel shows as a date (``45123``), or text like ``2026/1/5``, ``2026年1月5日`` or
    ``2026-01-01 00:00:00``; anything else as it was (the field's check says what is wrong)."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date) or value is None or isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        value = str(value)
    if not isinstance(value, str):
        return value
    text = unicodedata.normalize("NFKC", value).strip()
    try:
        if found := _DATE_TEXT.fullmatch(text):
            return dt.date(*(int(part) for part in found.groups()))
        if len(text) == 8 and text.isdigit() and text[:2] in ("19", "20"):
            return dt.date(int(text[:4]), int(text[4:6]), int(text[6:]))
        if _SERIAL.fullmatch(text):
            return dt.date(1899, 12, 30) + dt.timedelta(days=int(float(text)))
    except ValueError:  # 2026-02-30
        pass
    return value


def shown(value):
    """A cell as a page shows it: dates as dates, a time only when there is one."""
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0):
            return value.date().isoformat()
        return value.isoformat(sep=" ", timespec="minutes" if value.second == 0 else "seconds")
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def headers_key(headers: list) -> str:
    """The site setting that remembers a mapping for this set of headers (order and case aside)."""
    names = sorted({normalize_header(h) for h in headers if normalize_header(h)})
    return MAPPING_SETTING + hashlib.sha1(json.dumps(names, ensure_ascii=False).encode()).hexdigest()


def sheet_head(sheet: bytes, rows: int = SAMPLE_ROWS) -> tuple[list, list[list]]:
    """The headers of a sheet ``read`` gave, and its first ``rows`` data rows as shown."""
    lines = upload_worker.iter_lines(sheet)
    first = next(lines, None)
    if not isinstance(first, dict) or "header" not in first:
        return [], []
    sample = []
    for line in lines:
        if isinstance(line, dict) or len(sample) >= rows:
            break
        values = [shown(upload_worker.decode_cell(c)) for c in line[1]]
        sample.append([v[:SAMPLE_TEXT] + "…" if isinstance(v, str) and len(v) > SAMPLE_TEXT else v for v in values])
    return first["header"], sample


def rejected_workbook(headers: list, rejected: list, reason_title: str, reason_of) -> bytes:
    """The rows not imported, as they were in the file, with a last column saying why:
    ``reason_of(column, message)`` words one problem (the caller's language)."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("rejected")
    width = len(headers)
    sheet.append(safe_row(sheet, [*("" if h is None else h for h in headers), reason_title]))
    for _number, cells, problems in rejected:
        values = [upload_worker.decode_cell(c) for c in cells][:width]
        values += [None] * (width - len(values))
        sheet.append(safe_row(sheet, [*values, "; ".join(reason_of(c, msg) for c, msg in problems)]))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def template_workbook(columns: list[dict], titles: dict[str, str], footnote: str) -> bytes:
    """An empty list to fill in: the columns' ``title`` with a ``sample`` row, and a second
    sheet describing each (``required``, ``notes``) with ``footnote`` under them.  ``titles``:
    the sheets' and the notes' own headings (``sheet``, ``notes_sheet``, ``column``,
    ``required``, ``notes``)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    sheet.title = titles["sheet"]
    sheet.append([c["title"] for c in columns])
    sheet.append([c["sample"] for c in columns])
    for index, column in enumerate(columns, start=1):
        sheet.cell(row=1, column=index).font = Font(bold=True)
        sheet.column_dimensions[sheet.cell(row=1, column=index).column_letter].width = max(14, len(column["title"]) * 2)
        cell = sheet.cell(row=2, column=index)
        if isinstance(column["sample"], str):
            cell.data_type = "s"  # text stays text, never a formula
        elif isinstance(column["sample"], dt.date):
            cell.number_format = "yyyy-mm-dd"
    notes = book.create_sheet(titles["notes_sheet"])
    notes.append([titles["column"], titles["required"], titles["notes"]])
    for index in range(1, 4):
        notes.cell(row=1, column=index).font = Font(bold=True)
    for column in columns:
        notes.append([column["title"], column["required"], column["notes"]])
        for cell in notes[notes.max_row]:
            cell.data_type = "s"
    notes.append([])
    notes.append([footnote])
    notes.column_dimensions["A"].width, notes.column_dimensions["C"].width = 20, 80
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


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
    headers: dict[str, str] = field(default_factory=dict)  # field name -> the file's own title
    rejected: list = field(default_factory=list)  # (row, cells, [(column, message)]) with keep_bad

    @property
    def ok(self) -> bool:
        return self.error_count == 0 and self.rows > 0

    def add(self, row: int, column: str, message: str) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_ERRORS:
            self.errors.append(RowError(row, column, message))

    def reject(self, row: int, cells, problems: list, keep: bool) -> None:
        """A bad row: each of its ``problems`` ((column, message)) reported under the file's own
        column title, and, with ``keep``, the row kept to be handed back as a file."""
        for column, message in problems:
            self.add(row, self.headers.get(column, column), message)
        self.bad_rows += 1
        if keep:
            self.rejected.append((row, cells, problems))

    def as_dict(self) -> dict:
        return {"ok": self.ok, "columns": self.columns, "rows": self.rows, "valid_rows": self.rows - self.bad_rows,
                "preview": self.preview, "errors": [e.as_dict() for e in self.errors],
                "error_count": self.error_count, "headers": self.headers}


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
        return self._required_there(columns, custom, report, row)

    @staticmethod
    def _required_there(columns: list, custom: list, report: Report, row: int) -> list[str | None]:
        """``columns`` once every required field has one (each missing one is a problem)."""
        present = set(columns)
        missing = [c for c in REQUIRED if c not in present]
        missing += ["custom." + c.name for c in custom if c.required and "custom." + c.name not in present]
        for name in missing:
            report.add(row, name, FieldError("field.missing_column", "missing column"))
        report.columns = [c for c in columns if c]
        return columns

    def _mapped_header(self, cells, columns: list, custom: list, report: Report, row: int = 1) -> list[str | None]:
        """The columns the user chose for the headers ``cells`` (None: ignored), checked: a
        field that exists, each at most once, the required ones all there."""
        known = {*COLUMNS, *("custom." + c.name for c in custom)}
        chosen: list[str | None] = []
        for index, cell in enumerate(cells):
            key = columns[index] if index < len(columns) else None
            text = "" if cell is None else str(cell).strip()
            if key and key not in known:
                report.add(row, text, FieldError("field.unknown_column", "unknown column"))
                key = None
            elif key and key in chosen:
                report.add(row, text, FieldError("field.same_column", "the same column twice"))
                key = None
            chosen.append(key)
            if key:
                report.headers[key] = text
        return self._required_there(chosen, custom, report, row)

    def check(self, path: Path, aliases: dict[str, str] | None = None, *, keep_rows: bool = False) -> tuple[Report, list]:
        """``read`` then ``check_sheet``, in one go (scripts and tests; no gevent)."""
        return self.check_sheet(self.read(path), aliases, keep_rows=keep_rows)

    def check_sheet(self, sheet: bytes, aliases: dict[str, str] | None = None, *, keep_rows: bool = False,
                    columns: list | None = None, keep_bad: bool = False) -> tuple[Report, list]:
        """Every problem of the sheet ``read`` gave, and (``keep_rows``) the cleaned rows ready
        to insert.  ``columns``: the field of each header as the user mapped them (None:
        ignored); without, the headers must name fields.  ``keep_bad``: the rows with
        problems go to ``report.rejected`` with them."""
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
        if columns is None:
            columns = self._header(first["header"], aliases or {}, custom, report, first.get("row", 1))
        else:
            columns = self._mapped_header(first["header"], columns, custom, report, first.get("row", 1))
        dates = {"custom." + c.name for c in custom if c.type == "date"}
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
                if key in dates:
                    value = as_date(value)
                elif isinstance(value, dt.date):  # a date in a text column reads as it shows
                    value = shown(value)
                if key.startswith("custom."):
                    data.setdefault("custom", {})[key[7:]] = value
                elif value is not None:
                    data[key] = value
            if len(report.preview) < PREVIEW_ROWS:
                report.preview.append({"row": number, **{k: shown(v) for k, v in data.items() if k != "custom"},
                                       **{"custom." + k: shown(v) for k, v in (data.get("custom") or {}).items()}})
            problems: list[tuple[str, str]] = []
            try:
                values, custom_values = self.customers.clean(data, creating=True, custom_fields=custom,
                                                             agents=agents)
            except ValidationError as exc:
                problems = list(exc.fields.items())
            else:
                bare = numbers.key(values["phone"])
                if bare in seen:
                    problems.append(("phone", FieldError("field.same_phone", f"the same phone as row {seen[bare]}",
                                                         n=seen[bare])))
                else:
                    seen[bare] = number
                if bare in existing:
                    problems.append(("phone", FieldError("field.existing_customer", "already a customer")))
            if problems:
                report.reject(number, cells, problems, keep_bad)
            elif keep_rows:
                clean_rows.append((values, custom_values))
        if report.rows == 0:
            report.add(2, "", FieldError("field.no_rows", "no customers in the file"))
        return report, clean_rows

    # -- importing ------------------------------------------------------------------------
    def import_file(self, path: Path, actor: str, aliases: dict[str, str] | None = None) -> int:
        """``read`` then ``import_sheet`` (scripts and tests; no gevent)."""
        return self.import_sheet(self.read(path), actor, Path(path).name, aliases)

    def import_sheet(self, sheet: bytes, actor: str, source: str, aliases: dict[str, str] | None = None, *,
                     columns: list | None = None) -> int:
        """All the sheet's customers in one transaction, or (any problem) none.  ``columns``:
        as for ``check_sheet``."""
        report, rows = self.check_sheet(sheet, aliases, keep_rows=True, columns=columns)
        if not report.ok:
            raise ValidationError(f"the file has {report.error_count} problems; nothing was imported",
                                  code="import.has_errors",
                                  fields={"file": FieldError("field.has_errors", "has errors")})
        try:
            return self._insert(rows, actor, source)
        except sqlite3.IntegrityError:  # the same phone was added meanwhile: the unique index refused it
            raise ValidationError("the customers changed while importing; nothing was imported",
                                  code="import.conflict") from None

    def import_good_rows(self, sheet: bytes, actor: str, source: str, columns: list) -> tuple[int, Report]:
        """The rows without problems in one transaction; the report's ``rejected`` holds the
        others.  A file whose columns cannot be read imports nothing (``import.has_errors``)."""
        report, rows = self.check_sheet(sheet, keep_rows=True, columns=columns, keep_bad=True)
        if not rows and not report.rejected:
            raise ValidationError(f"the file has {report.error_count} problems; nothing was imported",
                                  code="import.has_errors",
                                  fields={"file": FieldError("field.has_errors", "has errors")})
        try:
            return (self._insert(rows, actor, source) if rows else 0), report
        except sqlite3.IntegrityError:
            raise ValidationError("the customers changed while importing; nothing was imported",
                                  code="import.conflict") from None

    # -- remembered mappings --------------------------------------------------------------
    def remembered_columns(self, headers: list) -> list[str | None] | None:
        """The mapping last used for this set of headers, where its fields still exist."""
        row = m.SiteSetting.get_or_none(m.SiteSetting.key == headers_key(headers))
        if row is None:
            return None
        try:
            saved = json.loads(row.value)
        except ValueError:
            return None
        known = {*COLUMNS, *("custom." + c.name for c in self.customers.custom_fields())}
        columns = [saved.get(normalize_header(h)) for h in headers]
        return [c if c in known else None for c in columns]

    def remember_columns(self, headers: list, columns: list, actor: str) -> None:
        """Keeps this mapping for the next file with the same headers (the latest
        ``MAX_REMEMBERED`` mappings are kept)."""
        value = {normalize_header(h): c for h, c in zip(headers, columns) if normalize_header(h)}
        now = m.utcnow()
        with self.db.atomic():
            m.SiteSetting.put(headers_key(headers), json.dumps(value, ensure_ascii=False), actor, now)
            old = (m.SiteSetting.select(m.SiteSetting.key).where(m.SiteSetting.key.startswith(MAPPING_SETTING))
                   .order_by(m.SiteSetting.updated_at.desc()).offset(MAX_REMEMBERED))
            stale = [r.key for r in old]
            if stale:
                m.SiteSetting.delete().where(m.SiteSetting.key.in_(stale)).execute()

    def _insert(self, rows: list, actor: str, source: str) -> int:
        now = m.utcnow()
        conn = self.db.connection()
        with self.db.atomic():
            last = m.Customer.select(m.Customer.id).order_by(m.Customer.id.desc()).scalar() or 0
            for start in range(0, len(rows), INSERT_BATCH):
                batch = rows[start:start + INSERT_BATCH]
                conn.executemany(
                    'INSERT INTO "customer" ("name", "phone", "category", "account_manager_id", "pin_hash", '
                    '"created_at", "custom", "created_by", "email") VALUES (?, ?, ?, ?, \'\', ?, ?, ?, ?)',
                    [(v["name"], v["phone"], v.get("category") or "",
                      v["account_manager"].id if v.get("account_manager") else None, now,
                      json.dumps({k: x for k, x in c.items() if x is not None}, ensure_ascii=False), actor,
                      v.get("email") or "")
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
            values = [c["name"], c["phone"], c["category"], c["account_manager"] or "", ", ".join(c["tags"]),
                      c.get("email") or ""]
            values += [c["custom"].get(f.name) for f in custom]
            sheet.append(safe_row(sheet, values))
            count += 1
        book.save(str(path))
        return count
