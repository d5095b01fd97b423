"""Call lists (issue 16): the page and API of ``services/calllists.py``.

Supervisors and admins manage lists: create, import from Excel (upload, say which column is
the number and which the name, check, then every row or none, or only the good rows with
the others handed back as a file), pause, resume, recycle (no answer and busy again) and
export.  The upload is read by the customer import's worker process and waits in the same
kind of ``ImportStore``, tied to the user's session; checking and importing run in a worker
thread (``in_worker``), never on the loop.  Agents see entries only through their campaign
panel (``webui/areas/campaigns.py``).
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

import bottle
from bottle import HTTPResponse, request, response

from appliance.db.worker import in_worker
from appliance.errors import DomainError, FieldError, ValidationError
from appliance.services.customer_excel import MAX_MAPPED_COLUMNS, sheet_head
from appliance.services.import_store import TOKEN, ImportStore
from webui import i18n
from webui.apidoc import Operation, body, errors, items, resp
from webui.areas.customer_import import IMPORT_BODY_LIMIT, XLSX, rejected_file, session_owner, uploaded_file
from webui.http import STAFF, created, current_user, json_body, lang, problem_of, render

OBJECT = {"type": "object"}
LIST_SCHEMA = {"type": "object", "properties": {
    "id": {"type": "integer"}, "name": {"type": "string"}, "display_name": {"type": "string"},
    "owner_queue": {"type": "string"}, "owner_agents": {"type": "array", "items": {"type": "string"}},
    "state": {"enum": ["active", "paused", "done"]}, "entries": {"type": "integer"},
    "by_state": {"type": "object", "description": "entries by state: pending, offered, dialling, done"}}}
ENTRY_SCHEMA = {"type": "object", "properties": {
    "id": {"type": "integer"}, "number": {"type": "string"}, "name": {"type": "string"},
    "customer": {"type": ["integer", "null"]}, "data": OBJECT, "agent": {"type": "string"},
    "attempts": {"type": "integer"}, "last_result": {"type": "string"},
    "next_attempt_at": {"type": ["string", "null"]}, "state": {"type": "string"}}}
XLSX_RESPONSE = {"description": "the workbook", "content": {XLSX: {
    "schema": {"type": "string", "contentMediaType": "application/octet-stream"}}}}


def words_of(language: str):
    return lambda msgid: i18n.translate(language, msgid)


def xlsx_response(data: bytes, name: str) -> HTTPResponse:
    return HTTPResponse(data, headers={"Content-Type": XLSX, "Content-Disposition": f'attachment; filename="{name}"'})


def import_store(deps) -> ImportStore:
    folder = deps.extra.get("import_dir") or Path(tempfile.gettempdir()) / "cc-customer-imports"
    return ImportStore(Path(folder) / "calllists")


def column_index(value) -> int | None:
    text = (value or "").strip() if isinstance(value, str) else value
    if text in (None, ""):
        return None
    try:
        return int(text)
    except (TypeError, ValueError):
        raise ValidationError("a column is given by its number", fields={
            "phone_column": FieldError("field.integer", "a whole number")}) from None


def install(app, deps) -> None:
    service = deps.call_lists
    excel = deps.customer_excel
    store = import_store(deps)

    def actor() -> str:
        return current_user()["username"]

    def queues() -> list[dict]:
        return deps.config.list("queues")

    def show_index(problem=None, status=200, values=None, field_errors=None):
        response.status = status
        return render("calllists.tpl", rows=service.list(), queues=queues(), problem=problem,
                      values=values or {}, errors=field_errors or {})

    def show_list(list_id: int, status=200, **data):
        response.status = status
        page = {"problem": None, "report": None, "token": None, "mapping": None, "imported": None, "rejected": 0,
                "recycled": None}
        return render("calllist.tpl", row=service.get(list_id), entries=service.entries(list_id, limit=100),
                      queues=queues(), **{**page, **data})

    def failed(list_id: int, exc: DomainError):
        if exc.http_status == 404 and exc.code == "calllists.not_found":
            raise exc
        return show_list(list_id, problem=problem_of(exc), status=exc.http_status)

    # -- pages -------------------------------------------------------------------------
    @app.get("/calllists", name="calllists", roles=STAFF)
    def calllists_page():
        return show_index()

    @app.post("/calllists", name="calllists_create", roles=STAFF)
    def calllists_create():
        data = {k: request.forms.getunicode(k) or "" for k in ("name", "display_name", "owner_queue", "owner_agents")}
        try:
            row = service.create(data, actor())
        except DomainError as exc:
            return show_index(problem=problem_of(exc), status=exc.http_status, values=data, field_errors=exc.fields)
        bottle.redirect(f"/calllists/{row['id']}")

    @app.get("/calllists/<list_id:int>", name="calllist", roles=STAFF)
    def calllist_page(list_id):
        return show_list(list_id)

    @app.post("/calllists/<list_id:int>/state", name="calllist_state", roles=STAFF)
    def calllist_state(list_id):
        try:
            service.set_state(list_id, request.forms.get("state") or "", actor())
        except DomainError as exc:
            return failed(list_id, exc)
        bottle.redirect(f"/calllists/{list_id}")

    @app.post("/calllists/<list_id:int>/recycle", name="calllist_recycle", roles=STAFF)
    def calllist_recycle(list_id):
        count = service.recycle(list_id, actor())
        return show_list(list_id, recycled=count)

    @app.get("/calllists/<list_id:int>/export", name="calllist_export", roles=STAFF)
    def calllist_export(list_id):
        row, words = service.row(list_id), words_of(lang())
        data = in_worker(deps.db, lambda: service.export(list_id, words))
        return xlsx_response(data, time.strftime(f"calllist-{row.name}-%Y%m%d-%H%M.xlsx"))

    @app.post("/calllists/<list_id:int>/import", name="calllist_upload", roles=STAFF, body_limit=IMPORT_BODY_LIMIT)
    def calllist_upload(list_id):
        """The file is read (the customer import's worker process) and kept for the next step."""
        service.row(list_id)
        path = store.upload_path()
        try:
            upload = uploaded_file()
            upload.save(str(path))
            sheet = excel.read(path)
        except DomainError as exc:
            return failed(list_id, exc)
        finally:
            path.unlink(missing_ok=True)
        owner = session_owner()

        def keep():
            headers, sample = sheet_head(sheet)
            if not any(headers):
                return None, service.check_sheet(sheet, list_id, None)[0]
            if len(headers) > MAX_MAPPED_COLUMNS:
                raise ValidationError(f"the first row has {len(headers)} columns, at most {MAX_MAPPED_COLUMNS}",
                                      code="import.too_many_columns", params={"n": MAX_MAPPED_COLUMNS},
                                      fields={"file": "too many columns"})
            phone, name = service.propose_columns(headers)
            return store.keep(owner, (upload.raw_filename or upload.filename)[:100], sheet, headers=headers,
                              sample=sample, list_id=list_id, phone_column=phone, name_column=name), None

        try:
            token, report = in_worker(deps.db, keep)
        except DomainError as exc:
            return failed(list_id, exc)
        if token is None:
            return show_list(list_id, report=report.as_dict(), status=422)
        bottle.redirect(f"/calllists/{list_id}/import/{token}")

    def upload_meta(list_id: int, token: str) -> dict:
        meta = store.meta(token, session_owner())
        if meta.get("list_id") != list_id:
            raise ValidationError("this upload is for another list", code="import.gone")
        return meta

    def mapping_of(meta: dict) -> dict:
        return {"headers": meta["headers"], "sample": meta["sample"], "name": meta["name"],
                "phone_column": meta.get("phone_column"), "name_column": meta.get("name_column"),
                "create_customers": meta.get("create_customers", False), "agents": meta.get("agents", ""),
                "queue": meta.get("queue", "")}

    @app.get(f"/calllists/<list_id:int>/import/<token:re:{TOKEN}>", name="calllist_mapping", roles=STAFF)
    def calllist_mapping(list_id, token):
        try:
            meta = upload_meta(list_id, token)
        except DomainError as exc:
            return failed(list_id, exc)
        if "imported" in meta:
            return show_list(list_id, token=token, imported=meta["imported"], rejected=meta.get("rejected_rows", 0))
        return show_list(list_id, token=token, mapping=mapping_of(meta))

    @app.post(f"/calllists/<list_id:int>/import/<token:re:{TOKEN}>/check", name="calllist_check", roles=STAFF)
    def calllist_check(list_id, token):
        """Checks the file with the columns and options the user chose, and keeps them."""
        owner = session_owner()
        try:
            meta = upload_meta(list_id, token)
            options = {"phone_column": column_index(request.forms.get("phone_column")),
                       "name_column": column_index(request.forms.get("name_column")),
                       "create_customers": request.forms.get("create_customers") == "on",
                       "agents": (request.forms.getunicode("agents") or "").strip()[:500],
                       "queue": (request.forms.getunicode("queue") or "").strip()[:32]}

            def check():
                report, _rows = service.check_sheet(store.sheet(token, owner), list_id, options["phone_column"],
                                                    options["name_column"])
                store.update(token, owner, **options)
                return report

            report = in_worker(deps.db, check)
        except DomainError as exc:
            return failed(list_id, exc)
        return show_list(list_id, report=report.as_dict(), token=token, mapping=mapping_of({**meta, **options}),
                         status=200 if report.ok else 422)

    @app.post(f"/calllists/<list_id:int>/import/<token:re:{TOKEN}>", name="calllist_import", roles=STAFF)
    def calllist_import(list_id, token):
        """``mode=all`` (the default): every row or none; ``mode=good``: the rows without
        problems, the others kept as a file with why."""
        owner, who, lang_ = session_owner(), actor(), lang()
        good_only = request.forms.get("mode") == "good"
        try:
            meta = upload_meta(list_id, token)
        except DomainError as exc:
            return failed(list_id, exc)

        def run():
            count, report = service.import_sheet(
                store.sheet(token, owner), list_id, meta.get("phone_column"), meta.get("name_column"), actor=who,
                source=meta["name"], create_customers=meta.get("create_customers", False),
                agents=meta.get("agents") or None, queue=meta.get("queue") or "", good_only=good_only)
            rejected = rejected_file(meta["headers"], report, lang_)
            store.imported(token, owner, rejected, imported=count, rejected_rows=len(report.rejected))
            return count, len(report.rejected)

        try:
            count, rejected = in_worker(deps.db, run)
        except DomainError as exc:
            return failed(list_id, exc)
        return show_list(list_id, imported=count, token=token, rejected=rejected)

    @app.get(f"/calllists/<list_id:int>/import/<token:re:{TOKEN}>/rejected", name="calllist_rejected", roles=STAFF)
    def calllist_rejected(list_id, token):
        try:
            _meta, data = store.rejected(token, session_owner())
        except DomainError as exc:
            return failed(list_id, exc)
        return xlsx_response(data, time.strftime("calllist-not-imported-%Y%m%d-%H%M.xlsx"))

    # -- the API -------------------------------------------------------------------------
    @app.get("/api/v1/calllists", name="api_calllists", scope="config", roles=STAFF,
             api=Operation({"tags": ["calllists"], "summary": "The call lists, with their entries counted by state",
                            "responses": {"200": resp("call lists", items(LIST_SCHEMA)), **errors(401, 403)}}))
    def api_calllists():
        return {"items": service.list()}

    @app.post("/api/v1/calllists", name="api_calllist_create", scope="config", roles=STAFF,
              api=Operation({"tags": ["calllists"], "summary": "Create an empty call list",
                             "description": "`name`: the key (lower-case letters, digits, - and _); `display_name` "
                                            "any script. `owner_queue`: the team (a queue's members) that calls "
                                            "it; `owner_agents`: work numbers.",
                             "requestBody": body({"type": "object", "required": ["name"], "properties": {
                                 "name": {"type": "string", "pattern": "^[a-z0-9][a-z0-9_-]{0,31}$"},
                                 "display_name": {"type": "string", "maxLength": 64},
                                 "owner_queue": {"type": "string"},
                                 "owner_agents": {"type": "array", "items": {"type": "string"}}}}),
                             "responses": {"201": resp("created", LIST_SCHEMA), **errors(400, 401, 403, 409, 422)}}))
    def api_calllist_create():
        return created(service.create(json_body(), actor()))

    @app.get("/api/v1/calllists/<list_id:int>", name="api_calllist", scope="config", roles=STAFF,
             api=Operation({"tags": ["calllists"], "summary": "One call list",
                            "responses": {"200": resp("the list", LIST_SCHEMA), **errors(401, 403, 404)}}))
    def api_calllist(list_id):
        return service.get(list_id)

    @app.patch("/api/v1/calllists/<list_id:int>", name="api_calllist_update", scope="config", roles=STAFF,
               api=Operation({"tags": ["calllists"], "summary": "Rename a call list or change its owners",
                              "requestBody": body({"type": "object", "properties": {
                                  "display_name": {"type": "string", "maxLength": 64},
                                  "owner_queue": {"type": "string"},
                                  "owner_agents": {"type": "array", "items": {"type": "string"}}}}),
                              "responses": {"200": resp("changed", LIST_SCHEMA), **errors(400, 401, 403, 404, 422)}}))
    def api_calllist_update(list_id):
        return service.update(list_id, json_body(), actor())

    @app.delete("/api/v1/calllists/<list_id:int>", name="api_calllist_delete", scope="config", roles=STAFF,
                api=Operation({"tags": ["calllists"], "summary": "Delete a call list no campaign dials",
                               "description": "With its entries and their attempts. A list a campaign dials is 409 "
                                              "`calllists.in_campaign`.",
                               "responses": {"204": resp("deleted"), **errors(401, 403, 404, 409)}}))
    def api_calllist_delete(list_id):
        service.delete(list_id, actor())
        response.status = 204

    @app.post("/api/v1/calllists/<list_id:int>/state", name="api_calllist_state", scope="config", roles=STAFF,
              api=Operation({"tags": ["calllists"], "summary": "Pause, resume or close a call list",
                             "description": "`paused`: none of its entries is offered to anyone; `active`: again.",
                             "requestBody": body({"type": "object", "required": ["state"], "properties": {
                                 "state": {"enum": ["active", "paused", "done"]}}}),
                             "responses": {"200": resp("the list", LIST_SCHEMA), **errors(400, 401, 403, 404, 422)}}))
    def api_calllist_state(list_id):
        return service.set_state(list_id, json_body().get("state"), actor())

    @app.post("/api/v1/calllists/<list_id:int>/recycle", name="api_calllist_recycle", scope="config", roles=STAFF,
              api=Operation({"tags": ["calllists"], "summary": "Call the no-answer and busy numbers again",
                             "description": "Entries whose last result was no answer or busy are pending again; "
                                            "nothing else changes (answered, skipped, refused stay done).",
                             "responses": {"200": resp("how many", {"type": "object", "properties": {
                                 "recycled": {"type": "integer"}}}), **errors(401, 403, 404)}}))
    def api_calllist_recycle(list_id):
        return {"recycled": service.recycle(list_id, actor())}

    @app.get("/api/v1/calllists/<list_id:int>/entries", name="api_calllist_entries", scope="config", roles=STAFF,
             api=Operation({"tags": ["calllists"], "summary": "A call list's entries, in file order",
                            "parameters": [
                                {"name": "state", "in": "query", "required": False,
                                 "schema": {"enum": ["pending", "offered", "dialling", "done"]}},
                                {"name": "limit", "in": "query", "required": False,
                                 "schema": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 200}},
                                {"name": "offset", "in": "query", "required": False,
                                 "schema": {"type": "integer", "minimum": 0, "default": 0}}],
                            "responses": {"200": resp("entries", items(ENTRY_SCHEMA)), **errors(401, 403, 404, 422)}}))
    def api_calllist_entries(list_id):
        service.row(list_id)
        state = request.query.get("state") or ""
        if state and state not in ("pending", "offered", "dialling", "done"):
            raise ValidationError("state: pending, offered, dialling or done", fields={"state": "a state"})
        try:
            limit = int(request.query.get("limit") or 200)
            offset = int(request.query.get("offset") or 0)
        except ValueError:
            raise ValidationError("limit and offset are whole numbers", fields={"limit": "a whole number"}) from None
        if not (1 <= limit <= 1000 and 0 <= offset <= 10**9):
            raise ValidationError("limit 1-1000, offset 0 or more", fields={"limit": "1-1000"})
        return {"items": deps.queries.run(service.entries, list_id, state=state, limit=limit, offset=offset)}

    @app.get("/api/v1/calllists/<list_id:int>/export", name="api_calllist_export", scope="config", roles=STAFF,
             api=Operation({"tags": ["calllists"],
                            "summary": "The list with every number's attempts and results (Excel)",
                            "description": "One row per attempt (a number never tried: one row), the row's own "
                                           "columns after. Titles and results in `lang` (`en` or `zh_CN`).",
                            "parameters": [{"name": "lang", "in": "query", "required": False,
                                            "schema": {"enum": ["en", "zh_CN"], "default": "en"}}],
                            "responses": {"200": XLSX_RESPONSE, **errors(401, 403, 404)}}))
    def api_calllist_export(list_id):
        row = service.row(list_id)
        language = request.query.get("lang") if request.query.get("lang") in i18n.LANGUAGES else "en"
        data = in_worker(deps.db, lambda: service.export(list_id, words_of(language)))
        return xlsx_response(data, f"calllist-{row.name}.xlsx")

    @app.post("/api/v1/calllists/<list_id:int>/import", name="api_calllist_import", scope="config", roles=STAFF,
              api=Operation({"tags": ["calllists"],
                             "summary": "Check, and with confirm=1 import, an Excel file into a list",
                             "description": "`phone_column` (0-based; guessed from the headers when left out) is the "
                                            "number, `name_column` the name; every other column is kept with the "
                                            "entry by its title. Problems (no number, a number twice in the file or "
                                            "already in the list) are 422 `import.has_errors` with the `report` and "
                                            "nothing imported, unless `mode=good` (the good rows only). "
                                            "`create_customers=1`: new numbers become customers. `agents` (work "
                                            "numbers, comma-separated) and `queue` (its members): assigned in turn.",
                             "parameters": [{"name": "confirm", "in": "query", "required": False,
                                             "schema": {"enum": ["0", "1"], "default": "0"}}],
                             "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
                                 "type": "object", "required": ["file"], "properties": {
                                     "file": {"type": "string", "contentMediaType": "application/octet-stream"},
                                     "phone_column": {"type": "integer"}, "name_column": {"type": "integer"},
                                     "create_customers": {"enum": ["0", "1"]}, "agents": {"type": "string"},
                                     "queue": {"type": "string"}, "mode": {"enum": ["all", "good"]}}}}}},
                             "responses": {"200": resp("checked (and imported)", {"type": "object", "properties": {
                                 "report": {"type": "object"}, "imported": {"type": "integer"}}}),
                                 **errors(401, 403, 404, 422)}}), body_limit=IMPORT_BODY_LIMIT)
    def api_calllist_import(list_id):
        service.row(list_id)
        path = store.upload_path()
        try:
            uploaded_file().save(str(path))
            sheet = excel.read(path)
        finally:
            path.unlink(missing_ok=True)
        form = request.forms
        phone, name = column_index(form.get("phone_column")), column_index(form.get("name_column"))
        if phone is None:
            headers, _sample = sheet_head(sheet)
            phone, guessed_name = service.propose_columns(headers)
            name = guessed_name if name is None else name
        good, who = form.get("mode") == "good", actor()
        create_customers = form.get("create_customers") in ("1", "on", "true")
        agents, queue = form.getunicode("agents") or None, form.getunicode("queue") or ""
        report, _rows = in_worker(deps.db, lambda: service.check_sheet(sheet, list_id, phone, name))
        if not report.ok and not (good and report.rows > report.bad_rows):
            body = {"error": "import.has_errors", "message": f"the file has {report.error_count} problems; nothing "
                    "was imported", "fields": {"file": "has errors"}, "report": report.as_dict()}
            return HTTPResponse(json.dumps(body, ensure_ascii=False, default=str), status=422,
                                headers={"Content-Type": "application/json; charset=utf-8"})
        if request.query.get("confirm") not in ("1", "true", "yes"):
            return {"report": report.as_dict(), "imported": 0}
        count, report = in_worker(deps.db, lambda: service.import_sheet(
            sheet, list_id, phone, name, actor=who, source="api", create_customers=create_customers, agents=agents,
            queue=queue, good_only=good))
        return {"report": report.as_dict(), "imported": count}
