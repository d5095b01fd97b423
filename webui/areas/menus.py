"""Voice menus and prompts in the web UI and the JSON API (``install`` from ``make_app``).

Pages: ``/admin/menus`` (every menu with its flow as a tree, the prompts, forms to add
both) and ``/admin/menus/<menu>`` (its fields, its keys with add / remove / skip, what
leads into it, what stops it going live).  API: ``/api/v1/menus`` and
``/api/v1/prompts``.  Routes are thin: ``MenuService`` and ``PromptService`` validate,
audit and apply.
"""

from __future__ import annotations

import bottle
from bottle import request, response

from appliance.dialplan_vars import PROMPT_RECORD_CODE
from appliance.engine.menus import ACTIONS, DIGITS
from appliance.errors import DomainError, FieldError, NotFound
from appliance.services.config import KEYS, MENU_TARGET_KINDS, Field
from appliance.services.prompts import MAX_UPLOAD_BYTES
from webui.apidoc import Operation, body, errors, resp
from webui.edge import MULTIPART_OVERHEAD
from webui.http import ADMIN, STAFF, actor, created, form_data, json_body, no_content, problem_of, render

UPLOAD_BODY_LIMIT = MAX_UPLOAD_BYTES + MULTIPART_OVERHEAD  # the audio file and the form around it


def _op(summary: str, ok: str, request_schema: dict | None = None, description: str = "") -> dict:
    """A menus operation: ``ok`` is the status and what it means (``"201 created"``)."""
    op = {"tags": ["menus"], "summary": summary,
          "responses": {ok.split(" ", 1)[0]: resp(ok.split(" ", 1)[1], {"type": "object"}),
                        **errors(401, 403, 404, 409, 422, 503)}}
    if request_schema is not None:
        op["requestBody"] = body(request_schema)
    if description:
        op["description"] = description
    return op


# -- schemas the API descriptions below share ----------------------------------------------
# The option form's target: a select of what a key may lead to, by action (ConfigService.choices).
OPTION_TARGET = Field("target", "str", options="menu_targets")
OPTION_SCHEMA = {"type": "object", "properties": {
    "action": {"enum": list(ACTIONS)}, "target": {"type": "string"}, "enabled": {"type": "boolean"}},
    "required": ["action"], "additionalProperties": False}


def install(app, deps) -> None:
    if deps.menus is None:  # a web UI without the voice menus (some tests)
        return
    menus, prompts, cfg = deps.menus, deps.prompts, deps.config

    def digit_of(raw: str) -> str:
        if raw not in DIGITS or len(raw) != 1:
            raise NotFound(FieldError("error.msg.not_a_key", f"{raw!r} is not a phone key", key=raw[:8]),
                           code="menus.no_option")
        return raw

    # -- JSON API ----------------------------------------------------------------------
    @app.get("/api/v1/menus", name="api_menus", scope="config", roles=STAFF,
             api=Operation(_op("Voice menus, with their options, what leads into them and their problems", "200 the menus")))
    def api_menus():
        return {"items": menus.list()}

    @app.post("/api/v1/menus", name="api_menu_create", scope="config", roles=ADMIN,
              api=Operation(_op("Create a voice menu (with its options)", "201 created",
                                {"$ref": "#/components/schemas/MenuCreate"},
                                "Refused (422 `menus.invalid`) when an option points at nothing or a caller who "
                                "presses nothing would go round for ever; `live: true` also needs the prompt.")))
    def api_menu_create():
        return created(menus.create(json_body(), actor=actor()))

    @app.get("/api/v1/menus/<menu>", name="api_menu", scope="config", roles=STAFF,
             api=Operation(_op("One voice menu", "200 the menu")))
    def api_menu(menu):
        return menus.get(menu)

    @app.route("/api/v1/menus/<menu>", method="PATCH", name="api_menu_update", scope="config", roles=ADMIN,
               api=Operation(_op("Change a voice menu; `options`, when given, replaces all of them", "200 changed",
                                 {"$ref": "#/components/schemas/MenuUpdate"})))
    def api_menu_update(menu):
        return menus.update(menu, json_body(), actor=actor())

    @app.delete("/api/v1/menus/<menu>", name="api_menu_delete", scope="config", roles=ADMIN,
                api=Operation(_op("Delete a voice menu (refused while a DID or another menu leads to it)",
                                  "204 deleted")))
    def api_menu_delete(menu):
        menus.delete(menu, actor=actor())
        return no_content()

    @app.get("/api/v1/menus/<menu>/tree", name="api_menu_tree", scope="config", roles=STAFF,
             api=Operation(_op("The flow from this menu as a tree (a menu met again is not expanded)", "200 the tree")))
    def api_menu_tree(menu):
        return menus.tree(menu)

    @app.route("/api/v1/menus/<menu>/options/<digit>", method="PUT", name="api_menu_option_set",
               scope="config", roles=ADMIN,
               api=Operation(_op("Add or replace what a key does (`#` is `%23` in the path)", "200 the menu",
                                 OPTION_SCHEMA)))
    def api_menu_option_set(menu, digit):
        return menus.set_option(menu, digit_of(digit), json_body(), actor=actor())

    @app.delete("/api/v1/menus/<menu>/options/<digit>", name="api_menu_option_delete", scope="config", roles=ADMIN,
                api=Operation(_op("Remove what a key does", "200 the menu")))
    def api_menu_option_delete(menu, digit):
        return menus.remove_option(menu, digit_of(digit), actor=actor())

    @app.get("/api/v1/prompts", name="api_prompts", scope="config", roles=STAFF,
             api=Operation(_op("Prompts: uploaded recordings and the built-in sounds", "200 the prompts")))
    def api_prompts():
        return {"items": prompts.list()}

    def upload():
        upload = request.files.get("file")
        data = {k: request.forms.getunicode(k) for k in ("name", "display_name", "description", "language")
                if request.forms.getunicode(k) is not None}
        # one byte more than allowed at most: the service refuses it without the rest in memory
        return prompts.upload(data, upload.file.read(MAX_UPLOAD_BYTES + 1) if upload else b"", actor=actor())

    @app.post("/api/v1/prompts", name="api_prompt_upload", scope="config", roles=ADMIN,
              api=Operation(_op("Upload a WAV or MP3 prompt (multipart: name, display_name, description, language, file; "
                                "without a name, one is made from the display name)",
                                "201 created", {"type": "object"},
                                "Converted to 8 kHz mono 16-bit WAV (an MP3 is decoded by mpg123 first); a quiet "
                                "recording is raised to -3 dBFS. 422 `prompt.silent`, `prompt.corrupt` (also a "
                                "damaged or cut-short MP3), `prompt.too_short`, `prompt.too_long`.")), body_limit=UPLOAD_BODY_LIMIT)
    def api_prompt_upload():
        return created(upload())

    @app.get("/api/v1/prompts/<prompt>/audio", name="api_prompt_audio", scope="config", roles=STAFF,
             api=Operation({"tags": ["menus"], "summary": "A prompt's audio, for listening to it in the browser",
                            "description": "An uploaded or recorded prompt is the 8 kHz WAV callers hear (with HTTP "
                                           "Range); a built-in sound is decoded from GSM (the format of Asterisk's core "
                                           "sounds and of the appliance's own) to a WAV. 404 `prompt.file_missing` when "
                                           "its audio is not on the disk, `prompt.not_playable` when it is in a format "
                                           "that cannot be decoded here.",
                            "parameters": [{"name": "Range", "in": "header", "required": False,
                                            "schema": {"type": "string"}}],
                            "responses": {"200": {"description": "the audio", "content": {
                                "audio/wav": {"schema": {"type": "string", "format": "binary"}}}},
                                          "206": {"description": "the byte range asked for", "content": {
                                "audio/wav": {"schema": {"type": "string", "format": "binary"}}}},
                                          **errors(401, 403, 404)}}))
    def api_prompt_audio(prompt):
        audio = prompts.audio(prompt)
        if isinstance(audio, bytes):  # a built-in sound, decoded
            sent = bottle.HTTPResponse(audio, headers={"Content-Type": "audio/wav"})
        else:
            sent = bottle.static_file(audio.name, root=str(audio.parent), mimetype="audio/wav")
            if isinstance(sent, bottle.HTTPError):
                raise NotFound(f"the audio of prompt {prompt} is not on the disk", code="prompt.file_missing")
        sent.set_header("Cache-Control", "private, no-cache")  # an upload may replace it under the same name
        return sent

    @app.delete("/api/v1/prompts/<prompt>", name="api_prompt_delete", scope="config", roles=ADMIN,
                api=Operation(_op("Delete a prompt (refused while a menu or a queue's survey uses it)", "204 deleted")))
    def api_prompt_delete(prompt):
        prompts.delete(prompt, actor=actor())
        return no_content()

    # -- pages -------------------------------------------------------------------------
    def refs() -> dict:
        """The menu form's choices (prompts, targets), and the option form's targets."""
        return cfg.choices([*cfg.fields("menus"), OPTION_TARGET])

    def target_names() -> dict[str, dict[str, str]]:
        """Action -> target key -> display name, for the flow trees."""
        names = {kind: cfg.display_names(kind) for kind in set(MENU_TARGET_KINDS.values())}
        return {action: names[kind] for action, kind in MENU_TARGET_KINDS.items()}

    def show_list(errors=None, values=None, problem=None):
        rows = menus.list()
        return render("menus.tpl", kind="menus", key=KEYS["menus"], fields=cfg.fields("menus"), rows=rows,
                      trees={r["name"]: menus.tree(r["name"]) for r in rows}, prompts=prompts.list(),
                      record_code=PROMPT_RECORD_CODE, target_names=target_names(),
                      errors=errors or {}, values=values or {}, problem=problem, refs=refs())

    def show_menu(name, errors=None, values=None, problem=None):
        menu = menus.get(name)
        return render("menu.tpl", kind="menus", key=KEYS["menus"], fields=cfg.fields("menus"), menu=menu,
                      tree=menus.tree(name), errors=errors or {}, values=values or menu, problem=problem,
                      refs=refs(), digits=DIGITS, actions=ACTIONS, target_names=target_names())

    def on_error(exc: DomainError, show, *args, values=None):
        response.status = exc.http_status
        if exc.fields and values is not None:
            return show(*args, errors=exc.fields, values=values)
        return show(*args, problem=problem_of(exc))

    @app.get("/admin/menus", name="admin_menus", roles=STAFF)
    def admin_menus():
        return show_list()

    @app.post("/admin/menus", name="admin_menu_create", roles=ADMIN)
    def admin_menu_create():
        data = form_data(cfg.fields("menus"))
        try:
            made = menus.create(data, actor=actor())
        except DomainError as exc:
            return on_error(exc, show_list, values=data)
        bottle.redirect(f"/admin/menus/{made['name']}")

    @app.get("/admin/menus/<menu>", name="admin_menu", roles=STAFF)
    def admin_menu(menu):
        return show_menu(menu)

    @app.post("/admin/menus/<menu>", name="admin_menu_update", roles=ADMIN)
    def admin_menu_update(menu):
        data = form_data(cfg.fields("menus"))
        try:
            menus.update(menu, data, actor=actor())
        except DomainError as exc:
            return on_error(exc, show_menu, menu, values=data)
        bottle.redirect(f"/admin/menus/{data.get('name') or menu}")

    @app.post("/admin/menus/<menu>/options", name="admin_menu_option_set", roles=ADMIN)
    def admin_menu_option_set(menu):
        form = request.forms
        try:
            digit = digit_of(form.getunicode("digit") or "")
            menus.set_option(menu, digit, {"action": form.getunicode("action") or "",
                                           "target": form.getunicode("target") or "",
                                           "enabled": form.get("enabled") == "on"}, actor=actor())
        except DomainError as exc:
            return on_error(exc, show_menu, menu)
        bottle.redirect(f"/admin/menus/{menu}")

    @app.post("/admin/menus/<menu>/options/<digit>/delete", name="admin_menu_option_delete", roles=ADMIN)
    def admin_menu_option_delete(menu, digit):
        try:
            menus.remove_option(menu, digit_of(digit), actor=actor())
        except DomainError as exc:
            return on_error(exc, show_menu, menu)
        bottle.redirect(f"/admin/menus/{menu}")

    def then_list(fn, *args):
        """Do ``fn``, then back to the list; a refusal is shown on the list."""
        try:
            fn(*args)
        except DomainError as exc:
            return on_error(exc, show_list)
        bottle.redirect("/admin/menus")

    @app.post("/admin/menus/<menu>/delete", name="admin_menu_delete", roles=ADMIN)
    def admin_menu_delete(menu):
        return then_list(lambda: menus.delete(menu, actor=actor()))

    @app.post("/admin/prompts", name="admin_prompt_upload", roles=ADMIN, body_limit=UPLOAD_BODY_LIMIT)
    def admin_prompt_upload():
        return then_list(upload)

    @app.post("/admin/prompts/<prompt>/delete", name="admin_prompt_delete", roles=ADMIN)
    def admin_prompt_delete(prompt):
        return then_list(lambda: prompts.delete(prompt, actor=actor()))
