"""Importing customers from Excel in the web UI, step by step: upload, match the file's
columns to the customer fields (guessed, then remembered per set of headers), check, then
import every row or none, or only the good rows with the others handed back as a file.
A template to fill in is downloadable in the user's language.

The file is read once, by the upload worker (a child process); the sheet it gives back
waits in an ``ImportStore`` tied to the user's session until the import (or two hours).
Checking and importing are CPU work in a worker thread (``in_worker``), never on the loop.
The API's one-shot import stays in ``webui/areas/crm.py``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import tempfile
import time
from pathlib import Path

import bottle
from bottle import HTTPResponse, request, response

from appliance.db.worker import in_worker
from appliance.errors import DomainError, ValidationError
from appliance.services.crm import CUSTOM_TEXT_MAX, MAX_TAGS
from appliance.services.customer_excel import (COLUMNS, COLUMN_SYNONYMS, MAX_MAPPED_COLUMNS, guess_columns,
                                               rejected_workbook, sheet_head, template_workbook)
from appliance.services.import_store import TOKEN, ImportStore
from webui import i18n
from webui.edge import MULTIPART_OVERHEAD
from webui.http import STAFF, current_user, lang, problem_of, render

MAX_UPLOAD = 30 * 1024 * 1024  # bytes; 100,000 customers make about 2 MB
IMPORT_BODY_LIMIT = MAX_UPLOAD + MULTIPART_OVERHEAD  # the workbook and the form around it
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# the template's example row, by field (translated where it is words)
SAMPLES = {"name": "import.sample.name", "phone": "13912345678", "category": "import.sample.category",
           "account_manager": "", "tags": "import.sample.tags", "email": "wang@example.cn"}


def column_aliases() -> dict[str, str]:
    """What a column of an imported file may be called: its field's label in either language."""
    labels = {i18n.translate(lang, f"field.customers.{c}"): c for lang in i18n.LANGUAGES for c in COLUMNS}
    return {**COLUMN_SYNONYMS, **labels}


def uploaded_file():
    """The ``file`` of a multipart request, refused when missing or too big."""
    if (request.content_length or 0) > MAX_UPLOAD:
        raise ValidationError(f"the file is larger than {MAX_UPLOAD // (1024 * 1024)} MB",
                              code="import.too_large", fields={"file": "too large"})
    upload = request.files.get("file")
    if upload is None or not upload.raw_filename:
        raise ValidationError("choose an Excel file (.xlsx) to upload", fields={"file": "required"})
    return upload


def session_owner() -> str:
    """Who may take an upload to its next step: this user, in this session (the session's
    CSRF secret is one per session)."""
    user = current_user()
    seed = f"{user['username']}\0{request.environ.get('cc.csrf') or ''}"
    return hashlib.sha256(seed.encode()).hexdigest()[:32]


def field_choices(lang_: str, custom) -> list[tuple[str, str]]:
    """``(field, label)`` for every field a column may go to, in the user's language."""
    return ([(c, i18n.translate(lang_, f"field.customers.{c}")) for c in COLUMNS]
            + [("custom." + c.name, c.label) for c in custom])


def template_columns(lang_: str, custom) -> list[dict]:
    """The template's columns: title, example, required, what to write."""
    def _(msgid, **kw):
        return i18n.translate(lang_, msgid, **kw)

    yes, no = _("import.yes"), _("import.no")
    columns = [{"title": _(f"field.customers.{c}"), "required": yes if c in ("name", "phone") else no,
                "notes": _(f"import.note.{c}", n=MAX_TAGS),
                "sample": _(SAMPLES[c]) if SAMPLES[c].startswith("import.") else SAMPLES[c]} for c in COLUMNS]
    for c in custom:
        sample = {"number": 100, "date": dt.date(2026, 1, 15), "choice": c.choices[0] if c.choices else ""}
        columns.append({"title": c.label, "required": yes if c.required else no,
                        "notes": _(f"import.note.{c.type}", n=CUSTOM_TEXT_MAX, choices=", ".join(c.choices)),
                        "sample": sample.get(c.type, "")})
    return columns


def rejected_file(headers: list, report, lang_: str) -> bytes | None:
    """The rows an import of the good rows left out, as they were, each with why in
    ``lang_`` (None: every row went in)."""
    if not report.rejected:
        return None

    def reason(column, message):
        title = report.headers.get(column)
        text = i18n.field_error(lang_, message)
        return f"{title}: {text}" if title else text

    return rejected_workbook(headers, report.rejected, i18n.translate(lang_, "import.reason"), reason)


def import_store(deps) -> ImportStore:
    """Where uploads wait between the steps (the data folder's ``imports`` on the appliance)."""
    return ImportStore(deps.extra.get("import_dir") or Path(tempfile.gettempdir()) / "cc-customer-imports")


def install(app, deps) -> None:
    crm = deps.crm
    excel = deps.customer_excel
    store = import_store(deps)

    def actor() -> str:
        return current_user()["username"]

    def show(status=200, **data):
        response.status = status
        page = {"report": None, "token": None, "problem": None, "imported": None, "mapping": None, "rejected": 0}
        if data.get("report"):  # a missing column is named by its field's label, not its key
            labels = dict(field_choices(lang(), crm.custom_fields()))
            for error in data["report"]["errors"]:
                if getattr(error["message"], "msgid", None) == "field.missing_column":
                    error["column"] = labels.get(error["column"], error["column"])
        return render("customer_import.tpl", **{**page, **data})

    def failed(exc: DomainError):
        return show(problem=problem_of(exc), status=exc.http_status)

    @app.get("/customers/import", name="customers_import_form", roles=STAFF)
    def customers_import_form():
        return show()

    @app.get("/customers/import/template", name="customers_import_template", roles=STAFF)
    def customers_import_template():
        lang_ = lang()

        def build() -> bytes:
            titles = {k: i18n.translate(lang_, f"import.{k}") for k in ("sheet", "notes_sheet", "column",
                                                                         "required", "notes")}
            columns = template_columns(lang_, crm.custom_fields())
            return template_workbook(columns, titles, i18n.translate(lang_, "import.note.example"))

        name = "customers-template-zh.xlsx" if lang_ == "zh_CN" else "customers-template.xlsx"
        return HTTPResponse(in_worker(deps.db, build), headers={
            "Content-Type": XLSX, "Content-Disposition": f'attachment; filename="{name}"'})

    @app.post("/customers/import", name="customers_import_check", roles=STAFF, body_limit=IMPORT_BODY_LIMIT)
    def customers_import_upload():
        """The file is read (a worker process) and kept; the next step matches its columns."""
        path = store.upload_path()
        try:
            upload = uploaded_file()
            upload.save(str(path))
            sheet = excel.read(path)  # a child process the greenlet waits on
        except DomainError as exc:
            return failed(exc)
        finally:
            path.unlink(missing_ok=True)
        owner, name, aliases = session_owner(), upload.filename, column_aliases()

        def keep():
            headers, sample = sheet_head(sheet)
            if not any(headers):  # no sheet, or nothing in it: the check says which
                return None, excel.check_sheet(sheet)[0]
            if len(headers) > MAX_MAPPED_COLUMNS:
                raise ValidationError(f"the first row has {len(headers)} columns, at most {MAX_MAPPED_COLUMNS}",
                                      code="import.too_many_columns", params={"n": MAX_MAPPED_COLUMNS},
                                      fields={"file": "too many columns"})
            remembered = excel.remembered_columns(headers)
            columns = remembered or guess_columns(headers, aliases, crm.custom_fields())
            return store.keep(owner, name, sheet, headers=headers, sample=sample, proposed=columns,
                              remembered=remembered is not None), None

        try:
            token, report = in_worker(deps.db, keep)
        except DomainError as exc:
            return failed(exc)
        if token is None:
            return show(report=report.as_dict(), status=422)
        bottle.redirect(f"/customers/import/{token}")

    @app.get(f"/customers/import/<token:re:{TOKEN}>", name="customers_import_mapping", roles=STAFF)
    def customers_import_mapping(token):
        try:
            meta = store.meta(token, session_owner())
        except DomainError as exc:
            return failed(exc)
        if "imported" in meta:
            return show(token=token, imported=meta["imported"], rejected=meta.get("rejected_rows", 0))
        custom = crm.custom_fields()
        return show(token=token, mapping={
            "headers": meta["headers"], "sample": meta["sample"], "remembered": meta.get("remembered"),
            "columns": meta.get("columns") or meta["proposed"], "name": meta["name"],
            "choices": field_choices(lang(), custom)})

    @app.post(f"/customers/import/<token:re:{TOKEN}>/check", name="customers_import_mapped", roles=STAFF)
    def customers_import_mapped(token):
        """Checks the file with the columns as the user matched them, and remembers the match."""
        owner, who = session_owner(), actor()
        try:
            meta = store.meta(token, owner)
        except DomainError as exc:
            return failed(exc)
        headers = meta["headers"]
        columns = [request.forms.getunicode(f"column.{i}") or None for i in range(len(headers))]

        def check():
            report, _rows = excel.check_sheet(store.sheet(token, owner), columns=columns)
            store.update(token, owner, columns=columns)
            if report.rows:  # the columns could be read: the match is worth proposing again
                excel.remember_columns(headers, columns, who)
            return report

        try:
            report = in_worker(deps.db, check)
        except DomainError as exc:
            return failed(exc)
        return show(report=report.as_dict(), token=token, status=200 if report.ok else 422)

    @app.post(f"/customers/import/<token:re:{TOKEN}>", name="customers_import_confirm", roles=STAFF)
    def customers_import_confirm(token):
        """``mode=all`` (the default): every row in one transaction, or none; ``mode=good``:
        the rows without problems, the others kept as a file with the reason of each."""
        owner, who, lang_ = session_owner(), actor(), lang()
        good_only = request.forms.get("mode") == "good"
        try:
            meta = store.meta(token, owner)
        except DomainError as exc:
            return failed(exc)
        columns = meta.get("columns") or meta["proposed"]

        def import_all():
            count = excel.import_sheet(store.sheet(token, owner), who, meta["name"], columns=columns)
            store.drop(token)
            return count, 0

        def import_good():
            count, report = excel.import_good_rows(store.sheet(token, owner), who, meta["name"], columns)
            rejected = rejected_file(meta["headers"], report, lang_)
            store.imported(token, owner, rejected, imported=count, rejected_rows=len(report.rejected))
            return count, len(report.rejected)

        try:
            count, rejected = in_worker(deps.db, import_good if good_only else import_all)
        except DomainError as exc:
            return failed(exc)
        return show(imported=count, token=token, rejected=rejected)

    @app.get(f"/customers/import/<token:re:{TOKEN}>/rejected", name="customers_import_rejected", roles=STAFF)
    def customers_import_rejected(token):
        """The rows an import of the good rows left out, each with why (until the upload expires)."""
        try:
            _meta, body = store.rejected(token, session_owner())
        except DomainError as exc:
            return failed(exc)
        name = time.strftime("customers-not-imported-%Y%m%d-%H%M.xlsx")
        return HTTPResponse(body, headers={"Content-Type": XLSX,
                                           "Content-Disposition": f'attachment; filename="{name}"'})
