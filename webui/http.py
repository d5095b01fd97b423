"""The web UI's HTTP helpers: one leaf module every area imports, importing no area.

Who is asking (``current_user``, ``viewer``: set by ``plugins.AuthPlugin``), drawing a page
(``render``: translated, in the office's time zone), reading a JSON body, the JSON answers
(``created``, ``no_content``, ``json_error``), forms (``form_data``, ``differences``) and
the safety checks of redirects and sign-in (``safe_next``, ``same_origin``).  The role sets
routes declare (``roles=EVERYONE``...) are here too.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
from pathlib import Path
from urllib.parse import urlsplit

import bottle
from bottle import HTTPResponse, request, response

from appliance import labels
from appliance.engine.schedule import DAYS, ScheduleError, from_grid, to_grid
from appliance.errors import BadRequest, DomainError, FieldError, PermissionDenied, TooLarge, Unavailable
from appliance.services.config import KINDS
from appliance.services.crm import Viewer
from appliance.services.site import zone_of
from webui import i18n
from webui.edge import BodyReader

logger = logging.getLogger(__name__)

HERE = Path(__file__).parent
TEMPLATES = HERE / "templates"
# One list for the life of the process: bottle caches compiled templates by id() of the
# lookup list, so a new list per call would compile every page again and grow the cache.
TEMPLATE_LOOKUP = [str(TEMPLATES)]
STATIC = HERE / "static"
KIND_RE = "|".join(KINDS)
MAX_JSON_BODY = 256 * 1024  # bytes: far more than any object of the API, far less than memory
# Configuration pages in the navigation bar: the daily ones first, then whatever else exists.
_NAV_FIRST = ("queues", "agents", "phones", "trunks", "card_routes", "dids")
NAV_KINDS = tuple(k for k in _NAV_FIRST if k in KINDS) + tuple(k for k in KINDS if k not in _NAV_FIRST)

SESSION_COOKIE = "cc_session"
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}

# Who may call a route: every route declares ``roles=`` beside it (``AuthPlugin`` refuses to
# build one that does not; a test walks every route and role).
#   admin      everything
#   supervisor the live view, signing agents in and out, reading the configuration
#   agent      the live view of their own agents, signing themselves in and out
#              (route code checks "their own": ``own_agent_only``, ``viewer().agents``)
#   everyone   their own account: language, API tokens
EVERYONE = frozenset({"admin", "supervisor", "agent"})
STAFF = frozenset({"admin", "supervisor"})
ADMIN = frozenset({"admin"})
PUBLIC = "public"  # no sign-in needed


# -- who is asking --------------------------------------------------------------------------
def current_user() -> dict | None:
    """The signed-in user of this request (set by ``AuthPlugin``), or None."""
    return request.environ.get("cc.user")


def viewer() -> Viewer | None:
    """Who is asking, as the services scope their answers: user name, role and the work
    numbers of their own agents (set by ``AuthPlugin`` for a signed-in user)."""
    return request.environ.get("cc.viewer")


def credentials() -> str:
    """What this request was authenticated with, for limits per token: ``token:<id>``, or
    ``user:<name>`` for a browser session."""
    token = request.environ.get("cc.token_id")
    return f"token:{token}" if token else f"user:{current_user()['username']}"


def actor() -> str:
    """The user name that goes in the audit log."""
    return current_user()["username"]


def own_agent_only(number: str) -> None:
    """Agents may act only for their own agents (an unknown number: 404); staff for anyone."""
    me = viewer()
    if me.staff:
        return
    agent = request.app.config["deps"].config.get("agents", number)
    if agent.get("user") != me.username:
        raise PermissionDenied(FieldError("error.msg.sign_self_only", "an agent may sign only themselves in or out"),
                               code="forbidden")


def live_calls() -> list[dict]:
    """The calls of the engine's live snapshot (``deps.live``); none when the engine is not
    running (what needs a live call then finds none)."""
    try:
        return request.app.config["deps"].live().get("calls") or []
    except Exception:  # noqa: BLE001 - the engine down, or no live state in this process
        return []


def agent_directory():
    """The app's ``AgentDirectory``: the configured agents, cached for a few seconds."""
    return request.app.config["directory"]


def csrf_token() -> str:
    return request.environ.get("cc.csrf") or ""


def session_cookie() -> str | None:
    """The session id this request's cookie carries (signed in or not)."""
    return request.get_cookie(SESSION_COOKIE)


def is_api() -> bool:
    return request.path.startswith("/api/")


def client_address() -> str:
    """The peer's address as the server saw it (never ``X-Forwarded-For``: anyone can send that)."""
    return request.environ.get("REMOTE_ADDR") or "unknown"


def same_origin() -> bool:
    """Whether a POST comes from a page of this site: the ``Origin`` header browsers send is
    this host (or absent: a script, which has no session of a victim to abuse)."""
    origin = request.headers.get("Origin")
    if origin is None:
        return True
    host = request.headers.get("Host") or ""
    return urlsplit(origin).netloc.lower() == host.lower() and origin != "null"


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


# -- JSON -----------------------------------------------------------------------------------
def extra_service(deps, key: str, msgid: str, english: str, code: str):
    """A service the composition root puts in ``deps.extra`` (the appliance's own process
    has it; a tool's web UI may not): 503 ``code`` with ``msgid`` when it is not there."""
    found = deps.extra.get(key)
    if found is None:
        raise Unavailable(FieldError(msgid, english), code=code)
    return found


def error_body(code: str, message: str, fields: dict | None = None, **extra) -> dict:
    """Every API error has the same shape: ``{"error", "message", "fields"}`` (+ ``error_id`` on a 500,
    ``params`` when the error's sentence has parts: ``{"number_class": "international"}``)."""
    return {"error": code, "message": message, "fields": fields or {}, **extra}


def json_error(status: int, body: dict) -> HTTPResponse:
    return HTTPResponse(json.dumps(body, ensure_ascii=False), status=status,
                        headers={"Content-Type": "application/json; charset=utf-8"})


def json_body(optional: bool = False) -> dict:
    """The request's JSON object; with ``optional``, no body at all (no Content-Length, or
    0, as ``curl -X POST`` sends) is ``{}``."""
    raw = b"" if (request.content_length or 0) > MAX_JSON_BODY else request.body.read(MAX_JSON_BODY + 1)
    if (request.content_length or 0) > MAX_JSON_BODY or len(raw) > MAX_JSON_BODY:
        size = f"{MAX_JSON_BODY // 1024} KiB"
        raise TooLarge(FieldError("error.msg.body_too_large", f"the request body is larger than {size}", size=size))
    if optional and not raw.strip():
        return {}
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


def with_etag(obj: dict) -> dict:
    response.set_header("ETag", f'"{obj["version"]}"')
    return obj


# -- forms ----------------------------------------------------------------------------------
def form_data(fields) -> dict:
    """A form as the API's JSON: booleans from checkboxes, empty optional refs as None,
    empty optional numbers and secrets left out (the default, or unchanged)."""
    out = {}
    for f in fields:
        if f.type == "bool":
            out[f.name] = request.forms.get(f.name) == "on"
            continue
        if f.options == "week":  # the opening-hours grid: <name>.<day>.<n>.from / .to, else the text
            grid = week_grid(f.name)
            if grid is not None:
                out[f.name] = grid
                continue
        if f.list_of:  # checkboxes, in the order the form shows them; a hidden empty one says "shown"
            checked = request.forms.getall(f.name)
            if checked:
                out[f.name] = ",".join(x for x in checked if x)
            continue
        value = request.forms.getunicode(f.name)
        if value is None:
            continue
        if value == "" and (f.secret or (f.type == "int" and not f.required)):
            continue
        out[f.name] = None if value == "" and f.type == "ref" else value
    return out


def week_grid(name: str) -> dict | None:
    """The opening-hours grid a form posted for field ``name`` (day -> [from, to] pairs), or
    None when the form has none."""
    grid, seen = {}, False
    for day in DAYS:
        pairs, n = [], 0
        while (start := request.forms.getunicode(f"{name}.{day}.{n}.from")) is not None:
            pairs.append([start, request.forms.getunicode(f"{name}.{day}.{n}.to") or ""])
            seen, n = True, n + 1
        grid[day] = pairs
    return grid if seen else None


def week_of(value) -> dict | None:
    """What an opening-hours grid shows: a posted grid as it was, stored text as its grid,
    nothing for nothing, None for text that does not parse (shown beside an empty grid)."""
    if isinstance(value, dict):
        return value
    if not value:
        return {}
    try:
        return to_grid(value)
    except ScheduleError:
        return None


def differences(fields, mine: dict, theirs: dict) -> dict:
    """The fields a form sent with other values than the object now has (secrets never
    shown): after a conflicting save, what the user had typed, to put beside theirs."""
    def text(value) -> str:
        if isinstance(value, dict):  # an opening-hours grid: as the text it is stored as
            try:
                return from_grid(value)
            except ScheduleError:
                return "?"
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


def problem_of(exc: DomainError) -> dict:
    """A ``DomainError`` for an alert on a page: the code and status pick the translated
    sentence, the service's own message is the detail."""
    return {"code": exc.code, "status": exc.http_status, "detail": exc.message, "params": exc.params}


# -- pages ----------------------------------------------------------------------------------
def fmt_seconds(value) -> str:
    """``75.3`` -> ``1:15``, ``3725`` -> ``1:02:05``; nothing known -> an em dash."""
    if value is None or isinstance(value, bool) or not isinstance(value, (int, float)):
        return "—"
    total = max(0, int(value))
    hours, rest = divmod(total, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"


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


def _site():
    """The SiteService of the app handling this request, if it has one."""
    return getattr(request.app.config.get("deps"), "site", None)


def lang() -> str:
    """The language of this request: the user's, else the browser's or the site's."""
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


def _site_timezone() -> str:
    site = _site()
    try:
        return site.timezone() if site is not None else "UTC"
    except Exception:  # the page still draws, in UTC
        logger.exception("reading the site's time zone failed")
        return "UTC"


def render(name: str, **data) -> str:
    lang_ = data.pop("lang", None) or lang()

    def _(msgid, **kw):
        return i18n.translate(lang_, msgid, **kw)

    zone: list[str] = []

    def office_tz() -> str:
        if not zone:
            zone.append(_site_timezone())
        return zone[0]

    def when(value, seconds: bool = False) -> str:
        """Times in pages are the office's: the site's time zone (stored times are UTC)."""
        return local_time(value, office_tz(), seconds)

    return bottle.template(name, template_lookup=TEMPLATE_LOOKUP, _=_, lang=lang_,
                           user=current_user(), csrf=csrf_token(), path=request.path,
                           field_error=lambda error, help_id=None: i18n.field_error(lang_, error, help_id),
                           nav_kinds=NAV_KINDS, choice=lambda kind, name, value: i18n.choice(lang_, kind, name, value),
                           label=lambda kind, code: labels.label(lang_, kind, code),
                           error_message=lambda code, status, params=None: i18n.error_message(
                               lang_, code, status, params),
                           secs=fmt_seconds, when=when, office_tz=office_tz, week_of=week_of, week_days=DAYS,
                           week_words=lambda value: labels.week_words(lang_, value), **data)


def render_error(status: int, code: str, detail: str | None, error_id: str | None = None) -> str:
    """The error page: the code's sentence in the reader's language, and the error's own
    detail where it has one in that language (a ``FieldError``, translated); an English-only
    detail is shown to English readers only (the headline already says what went wrong)."""
    language = lang()
    if isinstance(detail, FieldError):
        detail = i18n.field_error(language, detail)
    elif language != "en":
        detail = None
    return render("error.tpl", lang=language, status=status, code=code, detail=detail, error_id=error_id)


# -- the configured agents ------------------------------------------------------------------
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
