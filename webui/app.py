"""The web UI and HTTP API: an explicit ``Bottle()`` built by ``make_app(deps)``.

Routes are thin: they read the request, call a service, and hand plain data to a
template or return JSON.  Templates never query.  Who may call what is one table,
``plugins.ROUTE_ROLES``; every user-visible string goes through ``i18n``.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import bottle
from bottle import Bottle, HTTPResponse, request, response

from appliance.errors import BadRequest, DomainError, PermissionDenied, ValidationError
from appliance.services.config import KINDS, KEYS
from webui import i18n, openapi
from webui.plugins import (SESSION_COOKIE, AuthPlugin, CsrfPlugin, DatabasePlugin, ErrorsPlugin, csrf_token,
                           current_user, json_error, sign_session)

logger = logging.getLogger(__name__)

HERE = Path(__file__).parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"
KIND_RE = "|".join(KINDS)
JS_MESSAGE_PREFIXES = ("agent_state.", "call_state.", "state.", "component.", "live.no_")


@dataclass
class WebDeps:
    db: object
    config: object  # ConfigService
    users: object  # UserService
    agents: object  # AgentService (login/logout)
    health: Callable[[], dict]
    live: Callable[[], dict]
    secret_key: bytes
    session_seconds: int = 12 * 3600
    secure_cookies: bool = False
    extra: dict = field(default_factory=dict)


def _lang() -> str:
    user = current_user()
    if user:
        return user["language"]
    return i18n.negotiate(request.get_header("Accept-Language"), request.params.get("lang"))


def render(name: str, **data) -> str:
    lang = data.pop("lang", None) or _lang()

    def _(msgid, **kw):
        return i18n.translate(lang, msgid, **kw)

    return bottle.template(name, template_lookup=[str(TEMPLATES)], _=_, lang=lang,
                           user=current_user(), csrf=csrf_token(),
                           path=request.path, **data)


def render_error(status: int, message: str) -> str:
    return render("error.tpl", status=status, message=message)


def json_body() -> dict:
    raw = request.body.read()
    try:
        data = json.loads(raw or b"null")
    except ValueError:
        raise BadRequest("the request body is not valid JSON", code="request.bad_json") from None
    if not isinstance(data, dict):
        raise BadRequest("the request body must be a JSON object", code="request.bad_json")
    return data


def created(data) -> HTTPResponse:
    return HTTPResponse(json.dumps(data, ensure_ascii=False, default=str), status=201,
                        headers={"Content-Type": "application/json; charset=utf-8"})


def no_content() -> HTTPResponse:
    return HTTPResponse(status=204)


def form_data(fields) -> dict:
    """A form as the API's JSON: booleans from checkboxes, empty optional refs as None."""
    out = {}
    for f in fields:
        if f.type == "bool":
            out[f.name] = request.forms.get(f.name) == "on"
            continue
        value = request.forms.getunicode(f.name)
        if value is None:
            continue
        if f.secret and value == "":
            continue
        out[f.name] = value if value != "" or f.type != "ref" else None
    return out


def make_app(deps: WebDeps) -> Bottle:
    app = Bottle()
    app.config["deps"] = deps
    app.install(ErrorsPlugin(render_error))
    app.install(DatabasePlugin(deps.db))
    app.install(AuthPlugin(deps.users, deps.secret_key))
    app.install(CsrfPlugin())
    cfg, users = deps.config, deps.users

    def actor() -> str:
        return current_user()["username"]

    def own_agent_only(number: str) -> None:
        """Agents may sign only themselves in and out; staff may do it for anyone."""
        if current_user()["role"] in ("admin", "supervisor"):
            return
        agent = cfg.get("agents", number)
        if agent.get("user") != current_user()["username"]:
            raise PermissionDenied("an agent may sign only themselves in or out", code="forbidden")

    def live_for_user() -> dict:
        snap = deps.live()
        if current_user()["role"] != "agent":
            return snap
        mine = {a["number"] for a in cfg.list("agents") if a.get("user") == current_user()["username"]}
        agents = [a for a in snap.get("agents", []) if a.get("name") in mine]
        queues = {q for a in agents for q in a.get("queues", [])}
        return {"queues": [q for q in snap.get("queues", []) if q.get("name") in queues],
                "agents": agents,
                "calls": [c for c in snap.get("calls", []) if c.get("agent") in mine]}

    # -- static, sign-in ---------------------------------------------------------------
    @app.get("/static/<filename:path>", name="static")
    def static(filename):
        return bottle.static_file(filename, root=str(STATIC))

    @app.get("/login", name="login_form")
    def login_form():
        return render("login.tpl", error=None, username="", next=request.query.get("next") or "/")

    @app.post("/login", name="login")
    def login():
        username = request.forms.getunicode("username") or ""
        user = users.authenticate(username, request.forms.getunicode("password") or "")
        nxt = request.forms.getunicode("next") or "/"
        if not nxt.startswith("/") or nxt.startswith("//"):
            nxt = "/"
        if user is None:
            response.status = 401
            return render("login.tpl", error=i18n.translate(_lang(), "login.failed"), username=username, next=nxt)
        cookie, _csrf = sign_session(deps.secret_key, user["id"], deps.session_seconds)
        response.set_cookie(SESSION_COOKIE, cookie, httponly=True, samesite="Lax", path="/",
                            secure=deps.secure_cookies, max_age=deps.session_seconds)
        logger.info("%s signed in", user["username"])
        bottle.redirect(nxt)

    @app.post("/logout", name="logout")
    def logout():
        response.delete_cookie(SESSION_COOKIE, path="/")
        bottle.redirect("/login")

    # -- pages ---------------------------------------------------------------------------
    @app.get("/", name="dashboard")
    def dashboard():
        lang = _lang()
        js = {k: v for k, v in i18n.catalog(lang).items() if k.startswith(JS_MESSAGE_PREFIXES)}
        return render("dashboard.tpl", live=live_for_user(), health=deps.health(), js_messages=js)

    @app.get(f"/admin/<kind:re:{KIND_RE}>", name="admin_list")
    def admin_list(kind, errors=None, values=None):
        return render("admin_list.tpl", kind=kind, key=KEYS[kind], fields=cfg.fields(kind), rows=cfg.list(kind),
                      errors=errors or {}, values=values or {}, message=None,
                      field_error=lambda text: i18n.field_error(_lang(), text))

    @app.post(f"/admin/<kind:re:{KIND_RE}>", name="admin_create")
    def admin_create(kind):
        data = form_data(cfg.fields(kind))
        try:
            cfg.create(kind, data, actor=actor())
        except ValidationError as exc:
            response.status = 422
            return admin_list(kind, errors=exc.fields, values=data)
        except DomainError as exc:
            response.status = exc.http_status
            return admin_list(kind, errors=exc.fields or {"_": exc.message}, values=data)
        bottle.redirect(f"/admin/{kind}")

    @app.post(f"/admin/<kind:re:{KIND_RE}>/<key>/delete", name="admin_delete")
    def admin_delete(kind, key):
        cfg.delete(kind, key, actor=actor())
        bottle.redirect(f"/admin/{kind}")

    @app.post("/admin/agents/<number>/<action:re:login|logout>", name="agent_sign")
    def agent_sign(number, action):
        own_agent_only(number)
        getattr(deps.agents, action)(number)
        bottle.redirect(request.forms.getunicode("next") or "/")

    @app.get("/admin/queues/<name>/members", name="admin_members")
    def admin_members(name, error=None):
        cfg.get("queues", name)
        return render("members.tpl", queue=name, members=cfg.members(name), agents=cfg.list("agents"), error=error)

    @app.post("/admin/queues/<name>/members", name="admin_member_add")
    def admin_member_add(name):
        try:
            cfg.add_member(name, request.forms.getunicode("agent") or "", request.forms.getunicode("penalty") or 0,
                           actor=actor())
        except DomainError as exc:
            response.status = exc.http_status
            return admin_members(name, error=exc.message)
        bottle.redirect(f"/admin/queues/{name}/members")

    @app.post("/admin/queues/<name>/members/<agent>/delete", name="admin_member_remove")
    def admin_member_remove(name, agent):
        cfg.remove_member(name, agent, actor=actor())
        bottle.redirect(f"/admin/queues/{name}/members")

    @app.get("/admin/audit", name="admin_audit")
    def admin_audit():
        return render("audit.tpl", rows=cfg.audit(200))

    @app.get("/account", name="account")
    def account(new_token=None):
        return render("account.tpl", tokens=users.list_tokens(current_user()["id"]), new_token=new_token)

    @app.post("/account/language", name="account_language")
    def account_language():
        users.set_language(current_user()["id"], request.forms.getunicode("language") or "")
        bottle.redirect("/account")

    @app.post("/account/tokens", name="account_token_create")
    def account_token_create():
        token = users.create_token(current_user()["id"], request.forms.getunicode("name") or "")
        return account(new_token=token)

    @app.post("/account/tokens/<token_id:int>/delete", name="account_token_revoke")
    def account_token_revoke(token_id):
        users.revoke_token(current_user()["id"], token_id)
        bottle.redirect("/account")

    # -- JSON API ------------------------------------------------------------------------
    @app.get("/api/health", name="health")
    def health():
        body = deps.health()
        if body.get("status") == "down":
            return json_error(503, body)
        return body

    @app.get("/api/openapi.json", name="openapi")
    def openapi_spec():
        return openapi.build(app, cfg)

    @app.get("/api/v1/me", name="api_me")
    def api_me():
        return current_user()

    @app.get("/api/v1/live", name="api_live")
    def api_live():
        return live_for_user()

    @app.get(f"/api/v1/<kind:re:{KIND_RE}>", name="api_list")
    def api_list(kind):
        return {"items": cfg.list(kind)}

    @app.post(f"/api/v1/<kind:re:{KIND_RE}>", name="api_create")
    def api_create(kind):
        return created(cfg.create(kind, json_body(), actor=actor()))

    @app.get(f"/api/v1/<kind:re:{KIND_RE}>/<key>", name="api_get")
    def api_get(kind, key):
        return cfg.get(kind, key)

    @app.route(f"/api/v1/<kind:re:{KIND_RE}>/<key>", method="PATCH", name="api_update")
    def api_update(kind, key):
        return cfg.update(kind, key, json_body(), actor=actor())

    @app.delete(f"/api/v1/<kind:re:{KIND_RE}>/<key>", name="api_delete")
    def api_delete(kind, key):
        cfg.delete(kind, key, actor=actor())
        return no_content()

    @app.get("/api/v1/queues/<name>/members", name="api_members")
    def api_members(name):
        return {"items": cfg.members(name)}

    @app.post("/api/v1/queues/<name>/members", name="api_member_add")
    def api_member_add(name):
        body = json_body()
        return created(cfg.add_member(name, str(body.get("agent", "")), body.get("penalty", 0), actor=actor()))

    @app.delete("/api/v1/queues/<name>/members/<agent>", name="api_member_remove")
    def api_member_remove(name, agent):
        cfg.remove_member(name, agent, actor=actor())
        return no_content()

    @app.post("/api/v1/agents/<number>/login", name="api_agent_login")
    def api_agent_login(number):
        own_agent_only(number)
        return deps.agents.login(number)

    @app.post("/api/v1/agents/<number>/logout", name="api_agent_logout")
    def api_agent_logout(number):
        own_agent_only(number)
        return deps.agents.logout(number)

    @app.get("/api/v1/tokens", name="api_tokens")
    def api_tokens():
        return {"items": users.list_tokens(current_user()["id"])}

    @app.post("/api/v1/tokens", name="api_token_create")
    def api_token_create():
        body = json_body()
        token = users.create_token(current_user()["id"], body.get("name") if isinstance(body.get("name"), str) else "")
        return created({"token": token, "name": body.get("name")})

    @app.delete("/api/v1/tokens/<token_id:int>", name="api_token_revoke")
    def api_token_revoke(token_id):
        users.revoke_token(current_user()["id"], token_id)
        return no_content()

    @app.get("/api/v1/audit", name="api_audit")
    def api_audit():
        try:
            limit = int(request.query.get("limit") or 100)
        except ValueError:
            raise ValidationError("limit must be a whole number", fields={"limit": "a whole number"}) from None
        return {"items": cfg.audit(limit)}

    # -- errors outside any route (no such path, wrong method) ------------------------------
    def _not_routed(err):
        status = err.status_code
        message = "no such page" if status == 404 else "method not allowed"
        if request.path.startswith("/api/"):
            response.content_type = "application/json; charset=utf-8"
            return json.dumps({"error": "not_found" if status == 404 else "method_not_allowed", "message": message})
        return render_error(status, i18n.translate(_lang(), "error.not_found" if status == 404 else
                                                   "error.method_not_allowed"))

    app.error(404)(_not_routed)
    app.error(405)(_not_routed)
    return app


__all__ = ["WebDeps", "make_app"]
