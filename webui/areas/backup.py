"""Backup and restore in the web UI and the API (admins only; a token needs full access: the
file holds every secret of the box).

A backup is built off the loop into a file under ``<data_dir>/backups`` (never whole in
memory) and listed with its size and outcome; the file is sent from the disk.  A restore's
upload is capped before it is read (``body_limit``: the ``backup_upload_mb`` setting), kept
on the disk by bottle while it arrives, copied beside the backups, checked off the loop and
only then put in place (``appliance.services.backup``).  The schedule (off, daily, weekly)
and how many scheduled backups are kept are chosen here too (the page's form and
``PUT /api/v1/backups/schedule``): the settings file's ``backup_schedule`` and
``backup_keep`` are only the defaults until an admin does.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import bottle
from bottle import request, response

from appliance.errors import DomainError, FieldError, Unavailable, ValidationError
from appliance.services.backup import KEEP_MAX, SCHEDULES
from webui.apidoc import Operation, body, errors, file_resp, items, resp
from webui.http import ADMIN, actor, created, json_body, problem_of, render

TAGS = ["backup"]
SCOPE = "full"  # the file holds the box's secrets: only a token with its owner's whole role
GZIP = "application/gzip"
RUN_SCHEMA = {"type": "object", "properties": {
    "kind": {"enum": ["backup", "scheduled", "restore"]},
    "name": {"type": "string", "description": "the file's name (download it with GET /api/v1/backups/{name})"},
    "at": {"type": "string", "description": "when, UTC"},
    "actor": {"type": "string"},
    "outcome": {"enum": ["ok", "failed"]},
    "error": {"type": "string", "description": "why it failed"},
    "size": {"type": "integer", "description": "bytes"},
    "media": {"type": "boolean", "description": "recordings and faxes included"},
    "present": {"type": "boolean", "description": "the file is still there to download"},
    "migration_level": {"type": "integer"},
    "from_level": {"type": "integer", "description": "a restore: the schema level of the file restored"},
    "safety": {"type": "string", "description": "a restore: the copy of the state before it"}}}
SCHEDULE_SCHEMA = {"type": "object", "properties": {
    "schedule": {"enum": list(SCHEDULES), "description": "scheduled backups: none, every day or every week"},
    "keep": {"type": "integer", "minimum": 1, "maximum": KEEP_MAX,
             "description": "scheduled backups kept; the next one deletes older ones over this"},
    "chosen": {"type": "boolean", "description": "an admin chose these; false: the settings file's "
                                                  "`backup_schedule` and `backup_keep`"},
    "next_run": {"type": ["string", "null"], "description": "UTC: when the next scheduled backup is made "
                                                             "(now when it is due); null while off"},
    "scheduled_to": {"type": "string", "description": "the folder scheduled backups are written to"}}}
SCHEDULE_BODY = {"type": "object", "additionalProperties": False, "properties": {
    "schedule": {"enum": list(SCHEDULES)},
    "keep": {"type": "integer", "minimum": 1, "maximum": KEEP_MAX}}}
LIST_SCHEMA = {"type": "object", "properties": {
    **items(RUN_SCHEMA)["properties"], **SCHEDULE_SCHEMA["properties"],
    "media_bytes": {"type": "integer", "description": "what ticking `media` adds, before compression"},
    "upload_limit_bytes": {"type": "integer"}}}
BACKUP_BODY = {"type": "object", "additionalProperties": False,
               "properties": {"media": {"type": "boolean", "description": "recordings and faxes too (off)"}}}
FILE_BODY = {"required": True, "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}}
REFUSALS = ("`backup.foreign` (not a backup of this appliance), `backup.truncated` (cut short), "
            "`backup.corrupt` (a damaged byte, a member that does not match its SHA-256), "
            "`backup.newer` (made by a newer version: upgrade first)")


def only_fields(data: dict, known: set, code: str, english: str) -> dict:
    """``data`` when it has no other field than ``known``; else 422 ``code`` naming each."""
    unknown = sorted(set(data) - known)
    if unknown:
        raise ValidationError(english, code=code,
                              fields={k: FieldError("field.unknown", "unknown field") for k in unknown})
    return data


def install(app, deps) -> None:
    def service():
        found = deps.backups
        if found is None:
            raise Unavailable(FieldError("backup.unavailable", "backups are not available in this process"),
                              code="backup.unavailable")
        return found

    limit = deps.backups.upload_limit if deps.backups is not None else 1

    def schedule() -> dict:
        s = service()
        at = s.next_run()
        return {**s.schedule_settings(), "scheduled_to": str(s.scheduled_dir()),
                "next_run": at.replace(microsecond=0).isoformat() + "Z" if at else None}

    def listing() -> dict:
        s = service()
        return {"items": s.runs(), **schedule(), "media_bytes": s.layout.media_bytes(),
                "upload_limit_bytes": s.upload_limit}

    def page(problem=None, made=None, restored=None, status=200, errors=None, asked=None, saved=False):
        response.status = status
        found = listing()
        at = service().next_run()
        found["next_now"] = at is not None and at <= service().clock()  # due: the scheduler is on it
        return render("backup.tpl", problem=problem, made=made, restored=restored, errors=errors or {},
                      asked=asked or {"schedule": found["schedule"], "keep": found["keep"]}, saved=saved, **found)

    def received(stream) -> Path:
        """The uploaded file, copied from bottle's spool beside the backups (off the loop)."""
        s = service()
        s.local_dir.mkdir(parents=True, exist_ok=True)
        target = s.local_dir / f"upload-{dt.datetime.utcnow():%Y%m%d-%H%M%S-%f}.tar.gz"

        def copy():
            with open(target, "wb") as out:
                shutil.copyfileobj(stream, out, 1 << 20)

        s.run(copy)
        return target

    def restore_from(stream, name: str | None = None) -> dict:
        path = received(stream)
        try:
            return service().restore(path, actor(), name=Path(name).name[:120] if name else None)
        finally:
            path.unlink(missing_ok=True)

    @app.get("/admin/backup", name="backup", roles=ADMIN)
    def backup_page():
        return page(made=request.query.get("made") or None, saved=request.query.get("saved") == "schedule")

    @app.post("/admin/backup", name="backup_make", roles=ADMIN)
    def backup_make():
        try:
            run = service().backup_now(actor(), media=request.forms.get("media") == "on")
        except DomainError as exc:
            return page(problem=problem_of(exc), status=exc.http_status)
        bottle.redirect(f"/admin/backup?made={run['name']}", 303)

    @app.post("/admin/backup/schedule", name="backup_schedule", roles=ADMIN)
    def backup_schedule():
        asked = {k: request.forms.getunicode(k) or "" for k in ("schedule", "keep")}
        try:
            service().save_schedule(actor(), asked["schedule"], asked["keep"])
        except DomainError as exc:
            return page(problem=None if exc.fields else problem_of(exc), errors=exc.fields, asked=asked,
                        status=exc.http_status)
        bottle.redirect("/admin/backup?saved=schedule#backup-schedule-form", 303)

    @app.get("/admin/backup/files/<name>", name="backup_download", roles=ADMIN)
    def backup_download(name):
        return send(name)

    @app.post("/admin/backup/restore", name="backup_restore", roles=ADMIN, body_limit=limit)
    def backup_restore():
        upload = request.files.get("file")
        try:
            if upload is None:
                raise ValidationError(FieldError("backup.no_file", "choose a backup file"), code="backup.no_file")
            if request.forms.get("confirm") != "on":
                raise ValidationError(FieldError("backup.confirm_needed", "tick the box to confirm"),
                                      code="backup.confirm_needed")
            run = restore_from(upload.file, upload.raw_filename)
        except DomainError as exc:
            return page(problem=problem_of(exc), status=exc.http_status)
        return page(restored=run)

    def send(name: str):
        path = service().file_of(name)
        sent = bottle.static_file(path.name, root=str(path.parent), mimetype=GZIP, download=path.name)
        sent.set_header("Cache-Control", "no-store")
        return sent

    @app.get("/api/v1/backups", name="api_backups", roles=ADMIN, scope=SCOPE,
             api=Operation({"tags": TAGS, "summary": "Backups and restores made, newest first, and the schedule",
                            "description": "Each run (on demand, scheduled, restore) with its size and outcome; "
                                           "also audited. Admins only, with a token of full access.",
                            "responses": {"200": resp("the runs", LIST_SCHEMA), **errors(401, 403, 503)}}))
    def api_backups():
        return listing()

    @app.post("/api/v1/backups", name="api_backup_make", roles=ADMIN, scope=SCOPE,
              api=Operation({"tags": TAGS, "summary": "Make a backup now (audited)",
                             "description": "Built off the loop into one file (database through SQLite's "
                                            "backup API, secrets, certificates, prompts; recordings and faxes "
                                            "with `media`); answers when it is written. 409 `backup.busy` "
                                            "while another backup or restore runs; 500 `backup.failed` with "
                                            "the reason (a full disk).",
                             "requestBody": {"required": False, "content": {"application/json": {
                                 "schema": BACKUP_BODY}}},
                             "responses": {"201": resp("the run", RUN_SCHEMA), **errors(400, 401, 403, 409, 503)}}))
    def api_backup_make():
        data = only_fields(json_body(optional=True), {"media"}, "backup.invalid", "not a field of a backup")
        return created(service().backup_now(actor(), media=bool(data.get("media"))))

    @app.put("/api/v1/backups/schedule", name="api_backup_schedule", roles=ADMIN, scope=SCOPE,
             api=Operation({"tags": TAGS, "summary": "Choose the backup schedule and how many are kept (audited)",
                            "description": "`schedule`: `off`, `daily` or `weekly`; `keep`: 1 to 365 scheduled "
                                           "backups kept. A field left out is unchanged. Until an admin chooses, "
                                           "the settings file's `backup_schedule` and `backup_keep` apply. Takes "
                                           "effect at once: the next run is a day or a week after the last "
                                           "scheduled backup (now when there is none, or it is overdue); the "
                                           "next scheduled backup deletes the older ones over `keep`. A bad "
                                           "value changes nothing: 422 `backup.schedule_invalid` naming the "
                                           "field. The audit log has who changed it, from what to what.",
                            "requestBody": body(SCHEDULE_BODY),
                            "responses": {"200": resp("the schedule now", SCHEDULE_SCHEMA),
                                          **errors(400, 401, 403, 413, 422, 503)}}))
    def api_backup_schedule():
        data = only_fields(json_body(), {"schedule", "keep"}, "backup.schedule_invalid",
                           "not a field of the backup schedule")
        now = service().schedule_settings()
        service().save_schedule(actor(), data.get("schedule", now["schedule"]), data.get("keep", now["keep"]))
        return schedule()

    @app.get("/api/v1/backups/<name>", name="api_backup_file", roles=ADMIN, scope=SCOPE,
             api=Operation({"tags": TAGS, "summary": "Download a backup file",
                            "description": "`application/gzip`, sent from the disk. 404 `backup.not_found` "
                                           "when it is gone (kept: the newest `keep`).",
                            "responses": {"200": file_resp("the file", GZIP),
                                          **errors(401, 403, 404)}}))
    def api_backup_file(name):
        return send(name)

    @app.post("/api/v1/backups/check", name="api_backup_check", roles=ADMIN, scope=SCOPE, body_limit=limit,
              api=Operation({"tags": TAGS, "summary": "Check a backup file without restoring it",
                             "description": "The body is the file. Answers its manifest (version, schema "
                                            "level, when, host, members) or 422: " + REFUSALS + ".",
                             "requestBody": FILE_BODY,
                             "responses": {"200": resp("the manifest", {"type": "object"}),
                                           **errors(401, 403, 413, 422, 503)}}))
    def api_backup_check():
        path = received(request.body)
        try:
            return service().check_file(path)
        finally:
            path.unlink(missing_ok=True)

    @app.post("/api/v1/backups/restore", name="api_backup_restore", roles=ADMIN, scope=SCOPE, body_limit=limit,
              api=Operation({"tags": TAGS, "summary": "Restore a backup file (replaces this box's data; audited)",
                             "description": "The body is the file; `?confirm=yes` is required. The file is "
                                            "checked first and refused (422) before anything is touched: "
                                            + REFUSALS + ". 409 `backup.calls_up` while calls are up (the "
                                            "count in `params.calls`): try again when they have ended; 409 "
                                            "`backup.busy` while another backup or restore runs. Then "
                                            "the current state is kept aside (`safety`), the files put back, "
                                            "the database migrated forward and the configuration reloaded; "
                                            "if anything fails the safety copy comes back (500 "
                                            "`backup.restore_failed`). The restored database has its own "
                                            "accounts and sessions: sign in again.",
                             "parameters": [{"name": "confirm", "in": "query", "required": True,
                                             "schema": {"enum": ["yes"]}}],
                             "requestBody": FILE_BODY,
                             "responses": {"200": resp("the run", RUN_SCHEMA),
                                           **errors(401, 403, 409, 413, 422, 503)}}))
    def api_backup_restore():
        if request.query.get("confirm") != "yes":
            raise ValidationError(FieldError("backup.confirm_needed", "add ?confirm=yes"),
                                  code="backup.confirm_needed")
        return restore_from(request.body)
