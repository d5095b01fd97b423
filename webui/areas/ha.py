"""Hot standby in the web UI and the API (admins only): this box's settings for the pair
(off by default), what the pair is doing now (this box's role, the peer, the replication
lag, the alarms), and the databases a box kept aside after a split brain, on this box or on
the other (``appliance.services.kept_aside``): listed, downloaded (streamed; a token needs
full access: the file is a whole database) and removed once confirmed.

The settings are this box's own (``appliance.services.ha.HaSettingsStore``: a file, not the
replicated database) and take effect when the appliance starts again: the page and the API
say so.  The shared secret is written, never shown.
"""

from __future__ import annotations

import bottle
from bottle import request, response

from appliance.errors import DomainError, FieldError, ValidationError
from webui.apidoc import Operation, body, errors, file_resp, items, resp
from webui.http import ADMIN, actor, extra_service, json_body, no_content, problem_of, render

FIELDS = ("interface", "peer_address", "floating_address", "gateway", "router_id", "priority", "secret")
SETTINGS_SCHEMA = {"type": "object", "properties": {
    "enabled": {"type": "boolean", "description": "off by default"},
    "interface": {"type": "string", "description": "the network port the floating address goes on, e.g. eth0"},
    "peer_address": {"type": "string", "description": "the other box's own IPv4 address"},
    "floating_address": {"type": "string", "description": "the address phones and trunks use, with its prefix"},
    "gateway": {"type": "string", "description": "the check both boxes agree on: a box that cannot ping it "
                                                 "gives the floating address up"},
    "router_id": {"type": "integer", "minimum": 1, "maximum": 255, "description": "VRRP id, the same on both"},
    "priority": {"type": "integer", "minimum": 1, "maximum": 254},
    "secret_set": {"type": "boolean", "description": "whether a shared secret is set (it is never shown)"}}}
UPDATE_SCHEMA = {"type": "object", "additionalProperties": False, "properties": {
    **{k: v for k, v in SETTINGS_SCHEMA["properties"].items() if k != "secret_set"},
    "secret": {"type": "string", "minLength": 12, "description": "the same on both boxes; empty or absent: kept"}}}
STATUS_SCHEMA = {"type": "object", "description": "the health document's `ha` component", "properties": {
    "enabled": {"type": "boolean"},
    "state": {"enum": ["off", "starting", "standby", "fault", "active"]},
    "peer": {"type": "object", "properties": {"reachable": {"type": "boolean"}, "role": {"type": ["string", "null"]}}},
    "replication": {"type": "object", "properties": {
        "direction": {"enum": ["sending", "receiving", None]},
        "lag_seconds": {"type": ["number", "null"], "description": "from a commit on the active box to its copy"}}}}}
ANSWER_SCHEMA = {"type": "object", "properties": {
    "settings": SETTINGS_SCHEMA, "status": STATUS_SCHEMA,
    "restart_needed": {"type": "boolean", "description": "the saved settings differ from those running"}}}
TAGS = ["ha"]
KEPT_SCOPE = "full"  # a kept database holds every account and customer: only a token with its owner's whole role
SQLITE = "application/vnd.sqlite3"
KEPT_PATH = "<box:re:here|peer>/<name>"  # any other name: 404 ha.kept_not_found
KEPT_SCHEMA = {"type": "object", "properties": {
    "box": {"enum": ["here", "peer"], "description": "`here`: this box's `kept-aside/`; `peer`: the other box's"},
    "name": {"type": "string", "description": "`appliance-<UTC>.db`"},
    "size": {"type": "integer", "description": "bytes"},
    "kept_at": {"type": "string", "description": "when it was kept aside, UTC"},
    "reason": {"type": "string", "description": "why, as the box noted it (`split brain`...)"}}}
KEPT_LIST_SCHEMA = {"type": "object", "properties": {
    **items(KEPT_SCHEMA)["properties"],
    "peer": {"type": ["object", "null"], "description": "null when this box is not one of a pair",
             "properties": {"address": {"type": "string"},
                            "reachable": {"type": "boolean", "description": "false: its files are not listed"}}}}}


def install(app, deps) -> None:
    def store():
        return extra_service(deps, "ha_settings", "ha.unavailable",
                             "hot standby settings are not available in this process", "ha.unavailable")

    def running() -> dict:
        return (deps.health().get("components") or {}).get("ha") or {"state": "off", "enabled": False}

    def answer(saved) -> dict:
        status = running()
        return {"settings": saved.public(), "status": status,
                "restart_needed": saved.enabled != bool(status.get("enabled"))
                or (saved.enabled and saved != deps.extra.get("ha_running"))}

    def kept():
        return extra_service(deps, "kept_aside", "ha.unavailable",
                             "hot standby settings are not available in this process", "ha.unavailable")

    def page(problem=None, errors=None, values=None, saved=False, removed=None, refused=None):
        current = store().load()
        values = values or {k: ("" if k == "secret" else str(getattr(current, k))) for k in FIELDS}
        values.setdefault("enabled", current.enabled)
        return render("ha.tpl", status=running(), settings=current.public(), values=values, errors=errors or {},
                      problem=problem, saved=saved, restart_needed=answer(current)["restart_needed"],
                      kept=kept().list(), removed=removed, refused=refused)

    @app.get("/admin/ha", name="ha", roles=ADMIN)
    def ha_page():
        return page(saved=request.query.get("saved") == "1", removed=request.query.get("removed") or None)

    def send_kept(box: str, name: str):
        if box == "here":
            path = kept().path(name)
            sent = bottle.static_file(path.name, root=str(path.parent), mimetype=SQLITE, download=path.name)
        else:
            size, chunks = kept().open_peer(name)
            sent = bottle.HTTPResponse(chunks, headers={"Content-Type": SQLITE, "Content-Length": str(size),
                                                        "Content-Disposition": f'attachment; filename="{name}"'})
        sent.set_header("Cache-Control", "no-store")
        return sent

    @app.get("/admin/ha/kept/" + KEPT_PATH, name="ha_kept_file", roles=ADMIN)
    def ha_kept_file(box, name):
        return send_kept(box, name)

    @app.post("/admin/ha/kept/" + KEPT_PATH + "/remove", name="ha_kept_remove", roles=ADMIN)
    def ha_kept_remove(box, name):
        if request.forms.get("confirm") != "on":
            response.status = 422
            return page(refused=FieldError("error.code.ha.kept_confirm", "tick the box to confirm the removal"))
        try:
            kept().remove(box, name, actor())
        except DomainError as exc:  # not found, the other box silent: its own sentence, translated
            response.status = exc.http_status
            return page(refused=exc.message)
        bottle.redirect(f"/admin/ha?removed={name}", 303)

    @app.post("/admin/ha", name="ha_save", roles=ADMIN)
    def ha_save():
        values = {k: (request.forms.getunicode(k) or "").strip() for k in FIELDS}
        values["enabled"] = request.forms.get("enabled") == "on"
        try:
            store().save(actor(), **values)
        except DomainError as exc:
            response.status = exc.http_status
            values["secret"] = ""
            return page(problem=None if exc.fields else problem_of(exc), errors=exc.fields, values=values)
        return page(saved=True)

    @app.get("/api/v1/ha", name="api_ha", roles=ADMIN, scope="config",
             api=Operation({"tags": TAGS, "summary": "Hot standby: this box's settings and what the pair does now",
                            "description": "`status` is the health document's `ha` component (this box's role, "
                                           "the peer, the replication lag). Admins only.",
                            "responses": {"200": resp("settings and status", ANSWER_SCHEMA),
                                          **errors(401, 403, 503)}}))
    def api_ha():
        return answer(store().load())

    @app.put("/api/v1/ha", name="api_ha_update", roles=ADMIN, scope="config",
             api=Operation({"tags": TAGS, "summary": "Change this box's hot standby settings (audited)",
                            "description": "Fields left out are unchanged; `secret` empty or absent is kept. "
                                           "Turned on, every field is checked (422 `ha.invalid`, each field "
                                           "named). Applied when the appliance starts again "
                                           "(`restart_needed`).",
                            "requestBody": body(UPDATE_SCHEMA),
                            "responses": {"200": resp("settings and status", ANSWER_SCHEMA),
                                          **errors(400, 401, 403, 422, 503)}}))
    def api_ha_update():
        data = json_body()
        unknown = sorted(set(data) - {*FIELDS, "enabled"})
        if unknown:
            raise ValidationError("not a setting of hot standby", code="ha.invalid",
                                  fields={k: FieldError("field.unknown", "unknown field") for k in unknown})
        return answer(store().save(actor(), **{k: data.get(k) for k in (*FIELDS, "enabled")}))

    @app.get("/api/v1/ha/kept-aside", name="api_ha_kept", roles=ADMIN, scope=KEPT_SCOPE,
             api=Operation({"tags": TAGS, "summary": "Databases kept aside after a split brain, on both boxes",
                            "description": "A box that stood down holding writes the pair's database lacks kept "
                                           "its database aside (alarms `ha.writes_kept_aside`, "
                                           "`ha.peer_writes_kept_aside`). Newest first, this box's then the "
                                           "other box's (asked over its status port, signed with the pair's "
                                           "secret; `peer.reachable` false when it does not answer). A token "
                                           "needs full access.",
                            "responses": {"200": resp("the files", KEPT_LIST_SCHEMA), **errors(401, 403, 503)}}))
    def api_ha_kept():
        return kept().list()

    @app.get("/api/v1/ha/kept-aside/" + KEPT_PATH, name="api_ha_kept_file", roles=ADMIN, scope=KEPT_SCOPE,
             api=Operation({"tags": TAGS, "summary": "Download a database kept aside (a SQLite file)",
                            "description": "Streamed (from the other box for `peer`). 404 `ha.kept_not_found`; "
                                           "503 `ha.peer_unreachable` when the other box does not answer.",
                            "responses": {"200": file_resp("the database", SQLITE),
                                          **errors(401, 403, 404, 503)}}))
    def api_ha_kept_file(box, name):
        return send_kept(box, name)

    @app.delete("/api/v1/ha/kept-aside/" + KEPT_PATH, name="api_ha_kept_remove", roles=ADMIN, scope=KEPT_SCOPE,
                api=Operation({"tags": TAGS, "summary": "Remove a database kept aside (audited; cannot be undone)",
                               "description": "The file and its note are deleted (on the other box for `peer`); "
                                              "the alarm naming it clears when none is left on that box. 404 "
                                              "`ha.kept_not_found`; 503 `ha.peer_unreachable`.",
                               "responses": {"204": resp("removed"), **errors(401, 403, 404, 503)}}))
    def api_ha_kept_remove(box, name):
        kept().remove(box, name, actor())
        return no_content()
