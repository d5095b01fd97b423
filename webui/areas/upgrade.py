"""Upgrades in place in the web UI and the API (admins only): the running version and slot,
the upload of an upgrade bundle (``make image`` makes it), its writing to the other root slot,
and the restart into it on the administrator's confirmation.  The service is
``appliance.services.upgrade.Upgrades``; the disk's side is ``appliance/slots.py``.

The bundle is sent as the request's raw body (``application/octet-stream``; the page sends
the chosen file so with the page's CSRF token), capped before a byte is read
(``BUNDLE_BODY_LIMIT``), streamed to the data partition and checked off the event loop.
"""

from __future__ import annotations

from bottle import request, response

from appliance.errors import DomainError, FieldError, ValidationError
from webui.apidoc import Operation, errors, resp
from webui.http import ADMIN, actor, extra_service, json_body, problem_of, render

BUNDLE_BODY_LIMIT = 2 * 1024 ** 3  # bytes; a bundle is about 450 MB today
TAGS = ["upgrade"]
STATUS_SCHEMA = {"type": "object", "properties": {
    "running": {"type": "object", "properties": {
        "version": {"type": "string"},
        "slot": {"enum": ["A", "B", None], "description": "the root slot running now (none outside the image)"}}},
    "upgrade": {"type": "object", "properties": {
        "state": {"enum": ["idle", "writing", "ready", "restarting", "failed"],
                  "description": "`writing` to the other slot, `ready` (restart to use it), `restarting`, "
                                 "`failed` (`msgid`, `english`, `params` say why: also a version that was "
                                 "not kept, `error.code.upgrade.not_kept`)"},
        "done": {"type": "integer", "description": "bytes written so far (`writing`)"},
        "total": {"type": "integer", "description": "the slot's size in bytes (`writing`)"},
        "version": {"type": "string", "description": "the version written (`ready`)"},
        "slot": {"enum": ["a", "b"], "description": "the slot written (`ready`)"}}}}}
# What the page's script may have to say about a refused upload (error.code.<code>)
REFUSALS = ("upgrade.not_bundle", "upgrade.format", "upgrade.checksum", "upgrade.truncated", "upgrade.not_newer",
            "upgrade.no_space",
            "upgrade.busy", "request.too_large", "csrf_failed")
UPLOADED_SCHEMA = {"type": "object", "properties": {
    "version": {"type": "string"}, "built": {"type": ["string", "null"]}, "kernel": {"type": ["string", "null"]}}}


def install(app, deps) -> None:
    def upgrades():
        return extra_service(deps, "upgrades", "error.code.upgrade.unavailable",
                             "upgrades are not available in this process", "upgrade.unavailable")

    def page(problem=None, refused=None, restarting=False):
        return render("upgrade.tpl", status=upgrades().status(), problem=problem, refused=refused,
                      restarting=restarting, limit_mib=BUNDLE_BODY_LIMIT // 2 ** 20,
                      messages=[f"error.code.{code}" for code in REFUSALS])

    @app.get("/admin/upgrade", name="upgrade", roles=ADMIN)
    def upgrade_page():
        return page()

    @app.post("/admin/upgrade/restart", name="upgrade_restart", roles=ADMIN)
    def upgrade_restart():
        if request.forms.get("confirm") != "yes":
            response.status = 422
            return page(refused=FieldError("error.code.upgrade.confirm", "tick the box to confirm the restart"))
        try:
            upgrades().restart(actor())
        except DomainError as exc:
            response.status = exc.http_status
            return page(problem=problem_of(exc))
        return page(restarting=True)

    @app.get("/api/v1/upgrade", name="api_upgrade", roles=ADMIN, scope="config",
             api=Operation({"tags": TAGS, "summary": "The running version and what an upgrade is doing",
                            "responses": {"200": resp("versions and state", STATUS_SCHEMA), **errors(401, 403, 503)}}))
    def api_upgrade():
        return upgrades().status()

    @app.post("/api/v1/upgrade", name="api_upgrade_upload", roles=ADMIN, scope="config",
              body_limit=BUNDLE_BODY_LIMIT,
              api=Operation({"tags": TAGS, "summary": "Upload an upgrade bundle: checked, then written to the other slot",
                             "description": "The body is the bundle itself (`callcenter-appliance.upgrade`, "
                                            "`application/octet-stream`), at most 2 GiB (413 before a byte is "
                                            "read). Every part is checked against the manifest's SHA-256; a "
                                            "foreign, damaged or cut-short file is refused (422 "
                                            "`upgrade.not_bundle`, `upgrade.format`, `upgrade.checksum` with "
                                            "`params.part`, `upgrade.truncated`, `upgrade.not_newer` (the "
                                            "running version or an older release: `params.version`, "
                                            "`params.running`); `upgrade.no_space` with "
                                            "`params.free` MiB) and deleted, nothing "
                                            "else touched. A good one is written to the root slot not running "
                                            "(`GET` shows `writing`, then `ready`); `POST /api/v1/upgrade/restart` "
                                            "boots it. 409 `upgrade.busy` while one is being written.",
                             "requestBody": {"required": True, "content": {"application/octet-stream": {
                                 "schema": {"type": "string", "format": "binary"}}}},
                             "responses": {"202": resp("checked; being written to the other slot", UPLOADED_SCHEMA),
                                           **errors(401, 403, 409, 413, 422, 503)}}))
    def api_upgrade_upload():
        reader = request.environ["wsgi.input"]
        length = request.content_length if request.content_length >= 0 else None
        made = upgrades().receive(reader.read, length, actor())
        response.status = 202
        return made

    @app.post("/api/v1/upgrade/restart", name="api_upgrade_restart", roles=ADMIN, scope="config",
              api=Operation({"tags": TAGS, "summary": "Restart into the version written to the other slot",
                             "description": "Only when the upgrade is `ready`, and only with `{\"confirm\": true}` "
                                            "(422 otherwise): every call in progress ends. The new version is "
                                            "kept only if it answers healthy within 5 minutes; otherwise the box "
                                            "restarts into the version running now.",
                             "requestBody": {"required": True, "content": {"application/json": {"schema": {
                                 "type": "object", "properties": {"confirm": {"const": True}},
                                 "required": ["confirm"]}}}},
                             "responses": {"202": resp("restarting"), **errors(400, 401, 403, 409, 422, 503)}}))
    def api_upgrade_restart():
        if json_body().get("confirm") is not True:
            unconfirmed = FieldError("error.code.upgrade.confirm", "tick the box to confirm the restart")
            raise ValidationError(unconfirmed, code="upgrade.confirm", fields={"confirm": unconfirmed})
        upgrades().restart(actor())
        response.status = 202
        return {"restarting": True}
