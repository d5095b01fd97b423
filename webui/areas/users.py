"""Accounts in the web UI and the API (admins only): who may sign in, with which role and
language; switching an account off, a new password for someone who forgot theirs (which
signs them out everywhere and revokes their API tokens); the sign-in locks that wrong
passwords earned (appliance/services/signin.py), and clearing one.

Registered by ``install`` from ``make_app``; the rules are ``UserService.create`` and
``UserService.update`` (nobody changes their own role or switches themselves off; the last
active admin stays one).
"""

from __future__ import annotations

import bottle
from bottle import request, response

from appliance.errors import DomainError
from appliance.services.users import ROLES
from webui.apidoc import Operation, body, errors, items, resp
from webui import i18n
from webui.http import ADMIN, created, current_user, issue_session, json_body, no_content, problem_of, render


# -- schemas the API descriptions below share ----------------------------------------------
USER_SCHEMA = {"type": "object", "required": ["id", "username", "role", "language", "active"], "properties": {
    "id": {"type": "integer"}, "username": {"type": "string"}, "role": {"type": "string"},
    "language": {"type": "string"}, "active": {"type": "boolean"}, "locked_until": {"type": ["string", "null"]}}}
LOCKOUT_SCHEMA = {"type": "object", "required": ["key", "kind", "name", "until", "lockouts"], "properties": {
    "key": {"type": "string", "description": "`user:<name>`, `addr:<ip>` or `console:<device>`"},
    "kind": {"enum": ["user", "addr", "console"]}, "name": {"type": "string"},
    "until": {"type": "string", "description": "UTC, ISO 8601"}, "lockouts": {"type": "integer"}}}


def install(app, deps) -> None:
    users = deps.users

    def actor() -> str:
        return current_user()["username"]

    def site_language() -> str:
        """A new account speaks the site's language (the wizard's) unless told otherwise."""
        return deps.site.language() if deps.site is not None else i18n.DEFAULT

    def rows() -> list[dict]:
        locked = users.guard.locked_accounts()
        return [{**u, "locked_until": locked.get(u["username"])} for u in users.list()]

    def page(errors=None, values=None, problem=None, edit_errors=None, editing=""):
        return render("users.tpl", rows=rows(), roles=ROLES, languages=i18n.LANGUAGES, errors=errors or {},
                      values=values or {}, problem=problem, edit_errors=edit_errors or {}, editing=editing,
                      lockouts=users.guard.lockouts())

    @app.get("/admin/users", name="admin_users", roles=ADMIN)
    def admin_users():
        return page()

    @app.post("/admin/users", name="admin_user_create", roles=ADMIN)
    def admin_user_create():
        form = request.forms
        values = {k: form.getunicode(k) or "" for k in ("username", "role", "language")}
        try:
            users.create(values["username"], form.getunicode("password") or "", values["role"],
                         values["language"] or site_language(), actor=actor())
        except DomainError as exc:
            response.status = exc.http_status
            return page(errors=exc.fields, values=values, problem=None if exc.fields else problem_of(exc))
        bottle.redirect("/admin/users")

    @app.post("/admin/users/<username>", name="admin_user_update", roles=ADMIN)
    def admin_user_update(username):
        form = request.forms
        changes = {"role": form.getunicode("role") or "", "active": form.get("active") == "on",
                   "language": form.getunicode("language") or ""}
        if form.getunicode("password"):
            changes["password"] = form.getunicode("password")
        try:
            changed = users.update(username, changes, actor=actor())
        except DomainError as exc:
            response.status = exc.http_status
            return page(edit_errors=exc.fields, editing=username, problem=problem_of(exc))
        if "password" in changes and username == actor():
            issue_session(deps, changed["id"])  # an admin's own new password: stay signed in here
        bottle.redirect("/admin/users")

    @app.post("/admin/lockouts/<key>/clear", name="admin_lockout_clear", roles=ADMIN)
    def admin_lockout_clear(key):
        users.guard.clear(key, actor())
        bottle.redirect("/admin/users")

    @app.get("/api/v1/users", name="api_users", scope="config", roles=ADMIN,
             api=Operation({"tags": ["users"], "summary": "Every account (admins only)",
                            "description": "Each with `locked_until` (UTC) while wrong passwords keep it locked, else null.",
                            "responses": {"200": resp("accounts", items(USER_SCHEMA)), **errors(401, 403)}}))
    def api_users():
        return {"items": rows()}

    @app.get("/api/v1/lockouts", name="api_lockouts", scope="config", roles=ADMIN,
             api=Operation({"tags": ["users"], "summary": "Sign-in locks now in force (accounts, addresses, consoles)",
                            "responses": {"200": resp("locks", items(LOCKOUT_SCHEMA)), **errors(401, 403)}}))
    def api_lockouts():
        return {"items": users.guard.lockouts()}

    @app.delete("/api/v1/lockouts/<key>", name="api_lockout_clear", scope="config", roles=ADMIN,
                api=Operation({"tags": ["users"], "summary": "Clear a sign-in lock (audited)",
                               "responses": {"204": resp("cleared"), **errors(401, 403, 404)}}))
    def api_lockout_clear(key):
        users.guard.clear(key, actor())
        return no_content()

    @app.post("/api/v1/users", name="api_user_create", scope="config", roles=ADMIN,
              api=Operation({
             "tags": ["users"], "summary": "Add an account",
             "requestBody": body({"type": "object", "required": ["username", "password", "role"], "properties": {
                 "username": {"type": "string", "pattern": "^[A-Za-z0-9_.@-]{1,64}$"},
                 "password": {"type": "string", "minLength": 8}, "role": {"enum": ["admin", "supervisor", "agent"]},
                 "language": {"enum": ["zh_CN", "en"]}}}),
             "responses": {"201": resp("created", USER_SCHEMA), **errors(400, 401, 403, 409, 422)}}))
    def api_user_create():
        body = json_body()
        return created(users.create(body.get("username"), body.get("password"), body.get("role"),
                                    body.get("language") or site_language(), actor=actor()))

    @app.patch("/api/v1/users/<username>", name="api_user_update", scope="config", roles=ADMIN,
               api=Operation({
              "tags": ["users"], "summary": "Change an account's role, language, whether it may sign in, its password",
              "description": "Nobody changes their own role or switches themselves off (409 `user.self`); the last "
                             "active admin stays one (409 `user.last_admin`).",
              "requestBody": body({"type": "object", "properties": {
                  "role": {"enum": ["admin", "supervisor", "agent"]}, "language": {"enum": ["zh_CN", "en"]},
                  "active": {"type": "boolean"}, "password": {"type": "string", "minLength": 8}}}),
              "responses": {"200": resp("changed", USER_SCHEMA), **errors(400, 401, 403, 404, 409, 422)}}))
    def api_user_update(username):
        return users.update(username, json_body(), actor=actor())
