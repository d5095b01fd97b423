"""The web UI and HTTP API: an explicit ``Bottle()`` built by ``make_app(deps)``.

Routes are thin: they read the request, call a service, and hand plain data to a
template or return JSON.  Templates never query.  Who may call what is one table,
``plugins.ROUTE_ROLES``; every user-visible string goes through ``i18n``.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable
from urllib.parse import urlsplit

import bottle
from bottle import Bottle, HTTPResponse, request, response

from appliance.errors import BadRequest, DomainError, PermissionDenied, TooLarge, Unavailable, ValidationError
from appliance.services.config import KEYS, KINDS
from appliance.services.site import zone_of
from webui import i18n, openapi
from webui.params import query_int
from appliance.services.signin import SignInLocked
from webui.edge import BodyLimitPlugin, BodyReader
from webui.plugins import (SESSION_COOKIE, UNSAFE, AuthPlugin, CsrfPlugin, DatabasePlugin, ErrorsPlugin,
                           csrf_token, current_user, error_body, json_error, session_cookie)

logger = logging.getLogger(__name__)

HERE = Path(__file__).parent
TEMPLATES = HERE / "templates"
# One list for the life of the process: bottle caches compiled templates by id() of the
# lookup list, so a new list per call would compile every page again and grow the cache.
TEMPLATE_LOOKUP = [str(TEMPLATES)]
STATIC = HERE / "static"
KIND_RE = "|".join(KINDS)
# Message ids the dashboard's script needs (it re-draws the tables from /api/v1/live).
JS_MESSAGE_PREFIXES = ("agent_state.", "call_state.", "state.", "component.", "live.", "health.")
# The states the live engine reports (appliance/engine/live.py); each has a message id.
AGENT_STATES = ("logged_out", "free", "ringing", "in_call", "unavailable", "paused")
CALL_STATES = ("new", "queued", "ringing", "talking", "ended")
NOT_ANSWERED = ("new", "queued", "ringing")  # call states in which the caller is still waiting
MAX_JSON_BODY = 256 * 1024  # bytes: far more than any object of the API, far less than memory
# Configuration pages in the navigation bar: the daily ones first, then whatever else exists.
NAV_KINDS = tuple(k for k in ("queues", "agents", "phones", "trunks", "dids") if k in KINDS) + tuple(
    k for k in KINDS if k not in ("queues", "agents", "phones", "trunks", "dids"))


@dataclass
class WebDeps:
    db: object
    config: object  # ConfigService
    users: object  # UserService
    agents: object  # AgentService (login/logout)
    health: Callable[[], dict]
    live: Callable[[], dict]
    secret_key: bytes  # signs nothing since sessions are server-side (issue 13); kept while start_web passes it
    session_seconds: int = 12 * 3600
    secure_cookies: bool = False  # set when the UI is served over HTTPS
    directory_seconds: float = 5.0  # how long the configured agents are cached for the live view
    bus: object = None  # appliance.bus.EventBus: live changes for /api/v1/events
    calls: object = None  # appliance.services.calls.CallControl: supervisor functions
    recordings: object = None  # appliance.services.recording.RecordingService
    menus: object = None  # appliance.services.menus.MenuService
    prompts: object = None  # appliance.services.prompts.PromptService
    events_max_seconds: float = 600.0  # an event stream ends after this; EventSource reconnects by itself
    crm: object = None  # appliance.services.crm.CustomerService (built over ``db`` when not given)
    workspace: object = None  # appliance.services.workspace.WorkspaceService (built when not given)
    voicemail: object = None  # appliance.services.voicemail.VoicemailService
    faxes: object = None  # appliance.services.fax.FaxService
    fax_sender: object = None  # appliance.services.fax_out.FaxSender
    sip_guard: object = None  # appliance.services.sipguard.SipGuard: blocked SIP sources, phones' subnets
    site: object = None  # appliance.services.site.SiteService: time zone, language, first-run wizard
    restart_service: Callable[[str, str], None] | None = None  # (service, who): asks the supervisor
    queries: object = None  # appliance.db.querypool.QueryPool: heavy reads off the loop (built when not given)
    extra: dict = field(default_factory=dict)


# -- view helpers: pure functions from service data to what pages and the live API show ----
def fmt_seconds(value) -> str:
    """``75.3`` -> ``1:15``, ``3725`` -> ``1:02:05``; nothing known -> an em dash."""
    if value is None or isinstance(value, bool) or not isinstance(value, (int, float)):
        return "—"
    total = max(0, int(value))
    hours, rest = divmod(total, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"


# Call-control steps on an agent's current call: URL path -> CallControl method (and route name).
CALL_ACTIONS = (("hold", "hold"), ("unhold", "unhold"), ("consult/complete", "complete_transfer"),
                ("consult/cancel", "cancel_consult"), ("conference", "conference"), ("hangup", "end_call"))


def live_view(snapshot: dict, directory: list[dict], only_agents: set[str] | None = None) -> dict:
    """The engine's live snapshot as the dashboard and ``/api/v1/live`` show it.

    Adds what the snapshot does not say itself (without overriding it): per queue the
    number of its members who are ``available`` (state free), per agent the configured
    ``display_name``.  With ``only_agents`` (an agent signed in) only those agents, their
    queues and their calls remain.
    """
    agents = [dict(a) for a in snapshot.get("agents") or []]
    queues = [dict(q) for q in snapshot.get("queues") or []]
    calls = [dict(c) for c in snapshot.get("calls") or []]
    names = {a.get("number"): a.get("name") for a in directory}
    state_of = {a.get("name"): a.get("state") for a in agents}
    for a in agents:
        a.setdefault("display_name", names.get(a.get("name")) or "")
    for q in queues:
        members = q.get("members")
        if "available" not in q and isinstance(members, list):
            q["available"] = sum(1 for name in members if state_of.get(name) == "free")
    if only_agents is not None:
        agents = [a for a in agents if a.get("name") in only_agents]
        mine = {q for a in agents for q in a.get("queues") or []}
        queues = [q for q in queues if q.get("name") in mine]
        calls = [c for c in calls if c.get("agent") in only_agents]
    return {**snapshot, "queues": queues, "agents": agents, "calls": calls}


def live_summary(live: dict) -> dict:
    """The four figures at the top of the dashboard (live.js computes the same)."""
    queues, agents, calls = live["queues"], live["agents"], live["calls"]
    return {
        "waiting": sum(q.get("waiting") or 0 for q in queues),
        "longest_wait": max((q.get("longest_wait") or 0 for q in queues), default=0),
        "available": sum(1 for a in agents if a.get("state") == "free"),
        "signed_in": sum(1 for a in agents if a.get("state") not in (None, "logged_out")),
        "calls": sum(1 for c in calls if c.get("state") != "ended"),
    }


def call_times(call: dict) -> tuple:
    """(waited, talked, total) seconds of a live call, from whatever the engine reports."""
    total = call.get("duration")
    waited = call.get("wait_seconds")
    if waited is None and call.get("state") in NOT_ANSWERED:
        waited = total
    return waited, call.get("talk_seconds"), total


class AgentDirectory:
    """The configured agents (number, name, web account, signed in), re-read at most every
    few seconds: every open dashboard polls the live view every 2 s, and that must not cost
    a query per agent each time on the loop that also serves calls.  Any change made
    through this app (an unsafe request) forgets the copy at once."""

    def __init__(self, config, seconds: float):
        self.config = config
        self.seconds = seconds
        self._rows: list[dict] | None = None
        self._read_at = 0.0

    def all(self) -> list[dict]:
        if self._rows is None or time.monotonic() - self._read_at > self.seconds:
            self._rows = self.config.list("agents")
            self._read_at = time.monotonic()
        return self._rows

    def of_user(self, username: str) -> list[dict]:
        return [a for a in self.all() if a.get("user") == username]

    def forget(self) -> None:
        self._rows = None


# -- live events (Server-Sent Events) ---------------------------------------------------------
def visible(topic: str, data: dict, scope, username: str = "") -> bool:
    """Whether an event reaches this reader: staff see everything (``scope`` None); an agent
    sees their own agents' state, the calls offered to or taken by them, and their queues.
    A message between users reaches only its sender and its recipient, whatever their role."""
    if topic == "message":
        return bool(username) and username in (data.get("from"), data.get("to"))
    if scope is None:
        return True
    agents, queues = scope
    if topic == "agent":
        return data.get("name") in agents
    if topic == "call":
        return data.get("agent") in agents or data.get("offered_to") in agents
    if topic == "queue":
        return data.get("name") in queues
    return False


def event_stream(subscription, scope, max_seconds: float, keepalive: float = 15.0, username: str = ""):
    """``text/event-stream`` lines: ``event: <topic>`` and ``data: <json>`` per change,
    a comment line as keep-alive; ends (and unsubscribes) after ``max_seconds``."""
    deadline = time.monotonic() + max_seconds
    try:
        yield "retry: 2000\n\n"
        while (left := deadline - time.monotonic()) > 0:
            items = subscription.wait(min(keepalive, left))
            if not items:
                yield ": keep-alive\n\n"
                continue
            for topic, data in items:
                if visible(topic, data, scope, username):
                    yield f"event: {topic}\ndata: {json.dumps(data, ensure_ascii=False, default=str)}\n\n"
    finally:
        subscription.close()


# -- request helpers -------------------------------------------------------------------------
def _site():
    """The SiteService of the app handling this request, if it has one."""
    return getattr(request.app.config.get("deps"), "site", None)


def _lang() -> str:
    user = current_user()
    if user:
        return user["language"]
    site = _site()
    return i18n.negotiate(request.get_header("Accept-Language"), _asked_lang(),
                          site.language() if site is not None else i18n.DEFAULT)


def _asked_lang() -> str | None:
    """``lang`` from the query or the posted form (the sign-in page posts it); never from a
    body that was refused or cut (drawing the refusal must not read it after all)."""
    reader = request.environ.get("wsgi.input")
    if isinstance(reader, BodyReader) and reader.cut:
        return request.query.get("lang")
    try:
        return request.params.get("lang")
    except (DomainError, bottle.HTTPError):  # a body too big or too slow: the error page is drawn from the query
        return request.query.get("lang")


def local_time(value, timezone: str, seconds: bool = False) -> str:
    """A stored UTC time (a naive datetime, or its text: ``2026-11-23 02:04:05``,
    ``2026-11-23T02:04:05Z``) on the site's wall clock: ``2026-11-23 10:04``; nothing
    stored: an em dash; text that is not a time: itself."""
    if not value:
        return "—"
    at = value
    if not isinstance(at, dt.datetime):
        try:
            at = dt.datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
        except ValueError:
            return str(value)
    if at.tzinfo is None:
        at = at.replace(tzinfo=dt.timezone.utc)
    at = at.astimezone(zone_of(timezone))
    return at.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


def _site_timezone() -> str:
    site = _site()
    try:
        return site.timezone() if site is not None else "UTC"
    except Exception:  # the page still draws, in UTC
        logger.exception("reading the site's time zone failed")
        return "UTC"


def render(name: str, **data) -> str:
    lang = data.pop("lang", None) or _lang()

    def _(msgid, **kw):
        return i18n.translate(lang, msgid, **kw)

    zone: list[str] = []

    def office_tz() -> str:
        if not zone:
            zone.append(_site_timezone())
        return zone[0]

    def when(value, seconds: bool = False) -> str:
        """Times in pages are the office's: the site's time zone (stored times are UTC)."""
        return local_time(value, office_tz(), seconds)

    return bottle.template(name, template_lookup=TEMPLATE_LOOKUP, _=_, lang=lang,
                           user=current_user(), csrf=csrf_token(), path=request.path,
                           field_error=lambda error, help_id=None: i18n.field_error(lang, error, help_id),
                           nav_kinds=NAV_KINDS, choice=lambda kind, name, value: i18n.choice(lang, kind, name, value),
                           error_message=lambda code, status, params=None: i18n.error_message(
                               lang, code, status, params),
                           secs=fmt_seconds, when=when, office_tz=office_tz, **data)


def render_error(status: int, code: str, detail: str | None, error_id: str | None = None) -> str:
    return render("error.tpl", status=status, code=code, detail=detail, error_id=error_id)


def problem_of(exc: DomainError) -> dict:
    """A ``DomainError`` for an alert on a page: the code and status pick the translated
    sentence, the service's own message is the detail."""
    return {"code": exc.code, "status": exc.http_status, "detail": exc.message, "params": exc.params}


def same_origin() -> bool:
    """Whether a POST comes from a page of this site: the ``Origin`` header browsers send is
    this host (or absent: a script, which has no session of a victim to abuse)."""
    origin = request.headers.get("Origin")
    if origin is None:
        return True
    host = request.headers.get("Host") or ""
    return urlsplit(origin).netloc.lower() == host.lower() and origin != "null"


def client_address() -> str:
    """The peer's address as the server saw it (never ``X-Forwarded-For``: anyone can send that)."""
    return request.environ.get("REMOTE_ADDR") or "unknown"


def issue_session(deps, user_id: int) -> None:
    """Sign ``user_id`` in on this browser with a new server-side session: at sign-in, and
    again after they chose a new password themselves (which ended every session of theirs,
    this one too).  The session this browser had before ends (no fixation)."""
    deps.users.end_session(session_cookie())
    cookie, csrf = deps.users.start_session(user_id, deps.session_seconds,
                                            user_agent=request.get_header("User-Agent") or "",
                                            address=client_address())
    request.environ["cc.csrf"] = csrf  # a page drawn in this same response carries the new token
    response.set_cookie(SESSION_COOKIE, cookie, httponly=True, samesite="Lax", path="/",
                        secure=deps.secure_cookies, max_age=deps.session_seconds)


def json_body(optional: bool = False) -> dict:
    """The request's JSON object; with ``optional``, no body at all (no Content-Length, or
    0, as ``curl -X POST`` sends) is ``{}``."""
    raw = b"" if (request.content_length or 0) > MAX_JSON_BODY else request.body.read(MAX_JSON_BODY + 1)
    if (request.content_length or 0) > MAX_JSON_BODY or len(raw) > MAX_JSON_BODY:
        raise TooLarge(f"the request body is larger than {MAX_JSON_BODY // 1024} KiB")
    if optional and not raw.strip():
        return {}
    try:
        data = json.loads(raw or b"null")
    except ValueError:
        raise BadRequest("the request body is not valid JSON", code="request.bad_json") from None
    if not isinstance(data, dict):
        raise BadRequest("the request body must be a JSON object", code="request.bad_json")
    return data


def without_pids(value):
    """``value`` (the health document) with every ``pid`` left out, at any depth."""
    if isinstance(value, dict):
        return {k: without_pids(v) for k, v in value.items() if k != "pid"}
    if isinstance(value, list):
        return [without_pids(v) for v in value]
    return value


def created(data) -> HTTPResponse:
    return HTTPResponse(json.dumps(data, ensure_ascii=False, default=str), status=201,
                        headers={"Content-Type": "application/json; charset=utf-8"})


def no_content() -> HTTPResponse:
    return HTTPResponse(status=204)


def form_data(fields) -> dict:
    """A form as the API's JSON: booleans from checkboxes, empty optional refs as None,
    empty optional numbers and secrets left out (the default, or unchanged)."""
    out = {}
    for f in fields:
        if f.type == "bool":
            out[f.name] = request.forms.get(f.name) == "on"
            continue
        value = request.forms.getunicode(f.name)
        if value is None:
            continue
        if value == "" and (f.secret or (f.type == "int" and not f.required)):
            continue
        out[f.name] = None if value == "" and f.type == "ref" else value
    return out


def differences(fields, mine: dict, theirs: dict) -> dict:
    """The fields a form sent with other values than the object now has (secrets never
    shown): after a conflicting save, what the user had typed, to put beside theirs."""
    def text(value) -> str:
        return "" if value is None else str(value).strip()

    out = {}
    for f in fields:
        if f.secret or f.name not in mine:
            continue
        a, b = mine[f.name], theirs.get(f.name)
        if f.type == "bool" and bool(a) != bool(b) or f.type != "bool" and text(a) != text(b):
            out[f.name] = ("✓" if a else "✗") if f.type == "bool" else (text(a) or "—")
    return out


def safe_next(value: str | None, default: str = "/") -> str:
    """Only a path on this site: never ``//elsewhere`` or ``https://elsewhere``.  Checked on
    the text as a browser will read it: browsers drop tabs and line breaks from a URL and
    read ``\\`` as ``/`` (``/\t/evil.example`` is ``//evil.example``), and a control
    character cannot go in a Location header at all: only printable ASCII without ``\\``
    (a browser sends anything else percent-encoded), or the default it is."""
    if not value or any(not 0x21 <= ord(c) <= 0x7E or c == "\\" for c in value):
        return default
    if not value.startswith("/") or value.startswith("//"):
        return default
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return default
    return value


def make_app(deps: WebDeps) -> Bottle:
    app = Bottle()
    app.config["deps"] = deps
    # Row ids are SQLite integers: a path with a 40-digit "id" is no route (404), where
    # bottle's own filter (-?\d+) let it reach the database as an OverflowError (a 500).
    app.router.add_filter("int", lambda conf: (r"\d{1,18}", int, lambda x: str(int(x))))
    app.uninstall(bottle.JSONPlugin)  # the same, but UTF-8 rather than \u escapes for Chinese names
    app.install(bottle.JSONPlugin(json_dumps=lambda data: json.dumps(data, ensure_ascii=False, default=str)))
    app.install(ErrorsPlugin(render_error))
    app.install(BodyLimitPlugin())  # before anything reads a body: routes declare body_limit= to take more
    app.install(DatabasePlugin(deps.db))
    app.install(AuthPlugin(deps.users))
    app.install(CsrfPlugin())
    cfg, users = deps.config, deps.users
    directory = AgentDirectory(cfg, deps.directory_seconds)

    def actor() -> str:
        return current_user()["username"]

    def own_agent_only(number: str) -> None:
        """Agents may sign only themselves in and out; staff may do it for anyone."""
        if current_user()["role"] in ("admin", "supervisor"):
            return
        agent = cfg.get("agents", number)
        if agent.get("user") != current_user()["username"]:
            raise PermissionDenied("an agent may sign only themselves in or out", code="forbidden")

    def health_now() -> dict:
        """The aggregated health; the live page must still draw if reading it fails."""
        try:
            return deps.health()
        except Exception:
            logger.exception("reading the appliance's health failed")
            return {"status": "down", "components": {}}

    def live_for_user() -> dict:
        user = current_user()
        only = None
        if user["role"] == "agent":
            only = {a["number"] for a in directory.of_user(user["username"])}
        return live_view(deps.live(), directory.all(), only)

    @app.hook("after_request")
    def after_request():
        if request.method in UNSAFE:
            directory.forget()  # an agent added, renamed, signed in...
        if not request.path.startswith("/static/"):
            response.set_header("Cache-Control", "no-store")
        response.set_header("X-Content-Type-Options", "nosniff")
        response.set_header("X-Frame-Options", "DENY")
        response.set_header("Referrer-Policy", "same-origin")
        if request.environ.get("wsgi.url_scheme") == "https":
            # a browser that once reached the appliance over HTTPS never tries plain HTTP again
            response.set_header("Strict-Transport-Security", "max-age=31536000")
        response.set_header("Content-Security-Policy",
                            "default-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'")

    # -- static, sign-in ---------------------------------------------------------------
    @app.get("/static/<filename:path>", name="static")
    def static(filename):
        return bottle.static_file(filename, root=str(STATIC))

    @app.get("/login", name="login_form")
    def login_form():
        if current_user():  # already signed in
            bottle.redirect(safe_next(request.query.get("next")))
        return render("login.tpl", failed=False, locked=None, username="", next=safe_next(request.query.get("next")))

    def wants_json() -> bool:
        return "application/json" in (request.get_header("Accept") or "")

    @app.post("/login", name="login")
    def login():
        if not same_origin():
            # another site's page posting its own credentials here would sign this browser in
            # as someone else (login CSRF); browsers name the page's origin on every POST
            logger.warning("sign-in refused: posted from %s", request.headers.get("Origin"))
            raise PermissionDenied("sign in from this appliance's own sign-in page", code="login.cross_site")
        username = (request.forms.getunicode("username") or "")[:64]
        nxt = safe_next(request.forms.getunicode("next"))
        try:
            user = users.sign_in(username, request.forms.getunicode("password") or "", "addr:" + client_address())
        except SignInLocked as exc:
            response.status = 429
            response.set_header("Retry-After", str(exc.retry_after))
            if wants_json():
                return json_error(429, error_body(exc.code, exc.message, retry_after=exc.retry_after,
                                                  until=exc.until.isoformat(timespec="seconds") + "Z"))
            return render("login.tpl", failed=False, locked={"until": exc.until, "minutes": -(-exc.retry_after // 60)},
                          username=username, next=nxt)
        if user is None:
            response.status = 401
            if wants_json():
                return json_error(401, error_body("login.failed", "wrong user name or password"))
            return render("login.tpl", failed=True, locked=None, username=username, next=nxt)
        issue_session(deps, user["id"])
        logger.info("%s signed in from %s", user["username"], client_address())
        bottle.redirect(nxt)

    @app.post("/logout", name="logout")
    def logout():
        users.end_session(session_cookie())  # the cookie is worthless from now on, copies of it too
        response.delete_cookie(SESSION_COOKIE, path="/")
        bottle.redirect("/login")

    # -- pages ---------------------------------------------------------------------------
    @app.get("/", name="dashboard")
    def dashboard():
        live = live_for_user()
        js = {k: v for k, v in i18n.catalog(_lang()).items() if k.startswith(JS_MESSAGE_PREFIXES)}
        return render("dashboard.tpl", live=live, summary=live_summary(live), health=health_now(),
                      known=set(i18n.catalog(_lang())),
                      my_agents=directory.of_user(current_user()["username"]), js_messages=js,
                      call_times=call_times, agent_states=AGENT_STATES, call_states=CALL_STATES)

    def ref_options(fields) -> dict[str, list[str]]:
        """For each reference field, the keys it may point at (the form's choices)."""
        out = {}
        for f in fields:
            if f.type != "ref":
                continue
            if f.ref_kind == "users":
                out[f.name] = [u["username"] for u in users.list()]
            else:
                out[f.name] = [row[KEYS[f.ref_kind]] for row in cfg.list(f.ref_kind)]
        return out

    def show_kind(kind, errors=None, values=None, problem=None):
        fields = cfg.fields(kind)
        return render("admin_list.tpl", kind=kind, key=KEYS[kind], fields=fields, rows=cfg.list(kind),
                      errors=errors or {}, values=values or cfg.defaults(kind), problem=problem,
                      refs=ref_options(fields))

    @app.get(f"/admin/<kind:re:{KIND_RE}>", name="admin_list")
    def admin_list(kind):
        return show_kind(kind)

    @app.post(f"/admin/<kind:re:{KIND_RE}>", name="admin_create")
    def admin_create(kind):
        data = form_data(cfg.fields(kind))
        try:
            cfg.create(kind, data, actor=actor())
        except DomainError as exc:
            response.status = exc.http_status
            if exc.fields:  # shown next to each field, with what was typed kept
                return show_kind(kind, errors=exc.fields, values=data)
            return show_kind(kind, values=data if exc.http_status < 500 else None, problem=problem_of(exc))
        bottle.redirect(f"/admin/{kind}")

    def show_edit(kind, key, values=None, errors=None, version=None, conflict=None, mine=None, problem=None):
        current = cfg.get(kind, key)
        fields = cfg.fields(kind)
        return render("admin_edit.tpl", kind=kind, key_value=key, fields=fields, values=values or current,
                      errors=errors or {}, version=version or current["version"], conflict=conflict,
                      mine=mine or {}, problem=problem, refs=ref_options(fields))

    @app.get(f"/admin/<kind:re:{KIND_RE}>/<key>", name="admin_edit")
    def admin_edit(kind, key):
        return show_edit(kind, key)

    @app.post(f"/admin/<kind:re:{KIND_RE}>/<key>", name="admin_update")
    def admin_update(kind, key):
        fields = cfg.fields(kind)
        data = form_data(fields)
        version = request.forms.getunicode("version") or ""
        try:
            cfg.update(kind, key, data, actor=actor(), version=version)
        except DomainError as exc:
            if exc.http_status == 404:
                raise
            response.status = exc.http_status
            if exc.code == f"{kind}.changed":  # someone saved first: show theirs, with what this admin typed
                theirs = cfg.get(kind, key)
                return show_edit(kind, key, conflict=cfg.last_change(kind, key) or {"username": "?", "at": "?"},
                                 mine=differences(fields, data, theirs))
            if exc.fields:
                return show_edit(kind, key, values=data, errors=exc.fields, version=version)
            return show_edit(kind, key, values=data, version=version, problem=problem_of(exc))
        bottle.redirect(f"/admin/{kind}")

    @app.post(f"/admin/<kind:re:{KIND_RE}>/<key>/delete", name="admin_delete")
    def admin_delete(kind, key):
        try:
            cfg.delete(kind, key, actor=actor())
        except DomainError as exc:
            response.status = exc.http_status
            return show_kind(kind, problem=problem_of(exc))
        bottle.redirect(f"/admin/{kind}")

    @app.post("/agents/<number>/<action:re:login|logout>", name="agent_sign")
    def agent_sign(number, action):
        own_agent_only(number)
        getattr(deps.agents, action)(number)
        bottle.redirect(safe_next(request.forms.getunicode("next")))

    def show_members(name, problem=None):
        members = cfg.members(name)
        taken = {m["agent"] for m in members}
        return render("members.tpl", queue=cfg.get("queues", name), members=members, problem=problem,
                      candidates=[a for a in directory.all() if a["number"] not in taken])

    @app.get("/admin/queues/<name>/members", name="admin_members")
    def admin_members(name):
        return show_members(name)

    @app.post("/admin/queues/<name>/members", name="admin_member_add")
    def admin_member_add(name):
        try:
            cfg.add_member(name, request.forms.getunicode("agent") or "", request.forms.getunicode("penalty") or 0,
                           actor=actor())
        except DomainError as exc:
            response.status = exc.http_status
            return show_members(name, problem=problem_of(exc))
        bottle.redirect(f"/admin/queues/{name}/members")

    @app.post("/admin/queues/<name>/members/<agent>/delete", name="admin_member_remove")
    def admin_member_remove(name, agent):
        try:
            cfg.remove_member(name, agent, actor=actor())
        except DomainError as exc:
            response.status = exc.http_status
            return show_members(name, problem=problem_of(exc))
        bottle.redirect(f"/admin/queues/{name}/members")

    @app.get("/admin/audit", name="admin_audit")
    def admin_audit():
        return render("audit.tpl", rows=deps.queries.run(cfg.audit, 200), kinds=set(KINDS) | {"members", "sign_in"})

    def show_account(new_token=None, problem=None):
        return render("account.tpl", tokens=users.list_tokens(current_user()["id"]), new_token=new_token,
                      problem=problem)

    @app.get("/account", name="account")
    def account():
        return show_account()

    @app.post("/account/language", name="account_language")
    def account_language():
        users.set_language(current_user()["id"], request.forms.getunicode("language") or "")
        bottle.redirect("/account")

    @app.post("/account/tokens", name="account_token_create")
    def account_token_create():
        try:
            token = users.create_token(current_user()["id"], request.forms.getunicode("name") or "",
                                       request.forms.getunicode("expires_in_days") or None)
        except ValidationError as exc:
            response.status = exc.http_status
            return show_account(problem=problem_of(exc))
        return show_account(new_token=token)  # not a redirect: the token is shown this once

    @app.post("/account/tokens/<token_id:int>/delete", name="account_token_revoke")
    def account_token_revoke(token_id):
        users.revoke_token(current_user()["id"], token_id)
        bottle.redirect("/account")

    # -- JSON API ------------------------------------------------------------------------
    @app.get("/api/health", name="health")
    def health():
        body = deps.health()
        if current_user() is None:  # a monitor needs states, not the process ids an attacker would like
            body = without_pids(body)
        if body.get("status") == "down":
            return json_error(503, body)
        return body

    @app.get("/api/openapi.json", name="openapi")
    def openapi_spec():
        return openapi.build(app, cfg, deps.crm)

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

    def with_etag(obj: dict) -> dict:
        response.set_header("ETag", f'"{obj["version"]}"')
        return obj

    @app.get(f"/api/v1/<kind:re:{KIND_RE}>/<key>", name="api_get")
    def api_get(kind, key):
        return with_etag(cfg.get(kind, key))

    @app.route(f"/api/v1/<kind:re:{KIND_RE}>/<key>", method="PATCH", name="api_update")
    def api_update(kind, key):
        """With ``If-Match: "<version>"`` only if nobody changed the object since it was read."""
        read = (request.get_header("If-Match") or "").strip().removeprefix("W/").strip('"')
        return with_etag(cfg.update(kind, key, json_body(), actor=actor(), version=None if read in ("", "*") else read))

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
        agent = body.get("agent")
        if not isinstance(agent, str) or not agent:
            raise ValidationError("agent: the agent's work number is required", fields={"agent": "required"})
        return created(cfg.add_member(name, agent, body.get("penalty", 0), actor=actor()))

    @app.delete("/api/v1/queues/<name>/members/<agent>", name="api_member_remove")
    def api_member_remove(name, agent):
        cfg.remove_member(name, agent, actor=actor())
        return no_content()

    @app.post("/api/v1/agents/<number>/login", name="api_agent_login")
    def api_agent_login(number):
        own_agent_only(number)
        mode = json_body(optional=True).get("mode") or "ring"
        if mode == "long":
            return deps.agents.call_for_long_signin(number)
        return deps.agents.login(number, mode=mode)

    @app.post("/api/v1/agents/<number>/logout", name="api_agent_logout")
    def api_agent_logout(number):
        own_agent_only(number)
        return deps.agents.logout(number)

    @app.post("/api/v1/agents/<number>/pause", name="api_agent_pause")
    def api_agent_pause(number):
        own_agent_only(number)
        reason = json_body().get("reason")
        if not isinstance(reason, str) or not reason:
            raise ValidationError("say why the agent pauses", fields={"reason": "required"})
        return deps.agents.pause(number, reason)

    @app.post("/api/v1/agents/<number>/unpause", name="api_agent_unpause")
    def api_agent_unpause(number):
        own_agent_only(number)
        return deps.agents.unpause(number)

    def call_control():
        if deps.calls is None:
            raise Unavailable("call control is not available in this process", code="calls.unavailable")
        return deps.calls

    @app.post("/api/v1/agents/<number>/dial", name="api_agent_dial")
    def api_agent_dial(number):
        own_agent_only(number)
        return call_control().dial(number, str(json_body().get("number") or ""), actor=actor())

    def agent_target_action(method: str) -> None:
        """``POST /api/v1/agents/<number>/<method>`` with ``to_kind`` and ``to``: transfer or consult."""
        def handler(number):
            own_agent_only(number)
            body = json_body()
            return getattr(call_control(), method)(number, str(body.get("to_kind") or ""),
                                                   str(body.get("to") or ""), actor=actor())
        app.route(f"/api/v1/agents/<number>/{method}", "POST", handler, name=f"api_agent_{method}")

    for method in ("transfer", "consult"):
        agent_target_action(method)

    def agent_call_action(path: str, method: str) -> None:
        """``POST /api/v1/agents/<number>/<path>``: one call-control step on the agent's call."""
        def handler(number):
            own_agent_only(number)
            return getattr(call_control(), method)(number, actor=actor())
        app.route(f"/api/v1/agents/<number>/{path}", "POST", handler, name=f"api_agent_{method}")

    for path, method in CALL_ACTIONS:
        agent_call_action(path, method)

    def recordings():
        if deps.recordings is None:
            raise Unavailable("recordings are not available in this process", code="recording.unavailable")
        return deps.recordings

    @app.post("/api/v1/agents/<number>/recording/<action:re:pause|resume|start|stop>", name="api_agent_recording")
    def api_agent_recording(number, action):
        own_agent_only(number)
        return recordings().control(number, action, actor=actor())

    @app.post("/api/v1/agents/<number>/spy", name="api_agent_spy")
    def api_agent_spy(number):
        body = json_body()
        return call_control().spy(number, str(body.get("phone") or ""), str(body.get("mode") or "listen"),
                                  actor=actor())

    @app.post("/api/v1/calls/<linkedid>/intercept", name="api_call_intercept")
    def api_call_intercept(linkedid):
        return call_control().intercept(linkedid, str(json_body().get("phone") or ""), actor=actor())

    @app.post("/api/v1/calls/<linkedid>/pickup", name="api_call_pickup")
    def api_call_pickup(linkedid):
        agent = str(json_body().get("agent") or "")
        own_agent_only(agent)
        return call_control().pickup(agent, linkedid, actor=actor())

    @app.post("/api/v1/calls/<linkedid>/hangup", name="api_call_hangup")
    def api_call_hangup(linkedid):
        return call_control().hangup(linkedid, actor=actor())

    @app.get("/api/v1/events", name="api_events")
    def api_events():
        if deps.bus is None:
            raise Unavailable("live events are not available in this process", code="events.unavailable")
        user = current_user()
        scope = None
        if user["role"] == "agent":
            mine = directory.of_user(user["username"])
            scope = ({a["number"] for a in mine}, {q for a in mine for q in a.get("queues") or []})
        subscription = deps.bus.subscribe()
        response.content_type = "text/event-stream; charset=utf-8"
        response.set_header("X-Accel-Buffering", "no")
        return event_stream(subscription, scope, deps.events_max_seconds, username=user["username"])

    @app.get("/api/v1/tokens", name="api_tokens")
    def api_tokens():
        return {"items": users.list_tokens(current_user()["id"])}

    @app.post("/api/v1/tokens", name="api_token_create")
    def api_token_create():
        body = json_body()
        name = body.get("name")
        token = users.create_token(current_user()["id"], name if isinstance(name, str) else "",
                                   body.get("expires_in_days"))
        made = users.list_tokens(current_user()["id"])[-1]  # the newest (no greenlet switch in between)
        return created({"token": token, "name": name.strip(), "expires_at": made["expires_at"]})

    @app.delete("/api/v1/tokens/<token_id:int>", name="api_token_revoke")
    def api_token_revoke(token_id):
        users.revoke_token(current_user()["id"], token_id)
        return no_content()

    @app.get("/api/v1/audit", name="api_audit")
    def api_audit():
        return {"items": deps.queries.run(cfg.audit, query_int("limit", 100, 1, 1000))}

    # -- errors outside any route's plugins (no such path, wrong method, a failure in bottle) --
    def _outside_routes(err):
        status = err.status_code
        code = {404: "not_found", 405: "method_not_allowed"}.get(status, "internal")
        if status >= 500:
            logger.error("request %s %s failed outside the routes: %s", request.method, request.path, err.body)
        if request.path.startswith("/api/"):
            response.content_type = "application/json; charset=utf-8"
            message = {404: "no such path", 405: "method not allowed"}.get(status, "internal error")
            return json.dumps(error_body(code, message))
        try:
            return render_error(status, "", None)  # the status says it: no such page, wrong method
        except Exception:
            logger.exception("rendering the %s page failed", status)
            return f"<!doctype html><title>{status}</title><h1>{status}</h1>"

    for status in (404, 405, 500):
        app.error(status)(_outside_routes)

    # here, not at the top: these modules use this one's helpers
    from webui import callrecords, crm, fax, voicemail, wallboard, wizard, workspace
    from webui import services as service_pages
    from webui import sipguard as sip_security
    from webui import users as user_pages
    from webui import recordings as recording_pages

    if deps.queries is None:  # the appliance passes its own threads; tests share gevent's
        import gevent

        from appliance.db.querypool import QueryPool

        deps.queries = QueryPool(deps.db, threadpool=gevent.get_hub().threadpool)
    if deps.site is None:
        from appliance.services.site import SiteService

        deps.site = SiteService(deps.db, deps.users, deps.config)
    if deps.crm is None:
        from appliance.services.crm import CustomerService

        deps.crm = CustomerService(deps.db, timezone=deps.site.timezone)
    crm.install(app, deps, directory)
    callrecords.install(app, deps, directory)
    if deps.workspace is None:
        from appliance.services.workspace import WorkspaceService

        deps.workspace = WorkspaceService(deps.db, deps.crm, deps.bus)
    workspace.install(app, deps, directory, own_agent_only)
    recording_pages.install(app, deps, directory, recordings)
    voicemail.install(app, deps, directory)
    fax.install(app, deps)
    wallboard.install(app, deps, directory)
    user_pages.install(app, deps)
    service_pages.install(app, deps)
    sip_security.install(app, deps)
    wizard.install(app, deps)  # last: its plugin holds admins on /setup while it is pending
    if deps.menus is not None:
        from webui import menus

        menus.register(app, deps, actor=actor, render=render, problem_of=problem_of, json_body=json_body,
                       created=created, no_content=no_content, form_data=form_data)
    return app


__all__ = ["WebDeps", "make_app"]
