"""Bottle plugins, applied to every route in this order (outermost first):
errors, database, auth, CSRF.

- errors: a ``DomainError`` becomes its HTTP status with ``{"error", "message", "fields"}``
  (JSON under /api, a page elsewhere); anything unexpected becomes a 500 with an error id
  that is also in the log, never a traceback.
- database: one peewee connection per request greenlet, closed afterwards.
- auth: who is asking (a server-side session named by the cookie, or ``Authorization:
  Bearer`` under /api/v1)
  and whether their role may use this route: each route declares ``roles=`` beside it
  (``webui.http``: ``PUBLIC``, ``EVERYONE``, ``STAFF``, ``ADMIN``), read from the route's config.
  A token may further be limited to scopes and source addresses: each route under /api/
  declares the scope it needs (``scope=``, ``appliance/services/token_scopes.py``).
- CSRF: unsafe methods from a cookie session must carry the session's token.
"""

from __future__ import annotations

import hmac
import logging
import uuid

import bottle
from bottle import HTTPResponse, request

from appliance.errors import DomainError, FieldError, PermissionDenied
from appliance.services import token_scopes
from appliance.services.crm import Viewer
from webui.http import (PUBLIC, client_address, current_user, csrf_token, error_body, is_api, json_error,  # noqa: F401 (re-exported)
                        session_cookie, SESSION_COOKIE, UNSAFE)

logger = logging.getLogger(__name__)


def route_roles(route):
    """The roles a route declared (``roles=`` beside it, kept by bottle in ``route.config``):
    a frozenset of role names, or ``PUBLIC``.  A route without is an error, at build time."""
    roles = route.config.get("roles")
    if roles is None:
        raise RuntimeError(f"route {route.method} {route.rule} ({route.name}) declares no roles=")
    if roles != PUBLIC and not (isinstance(roles, frozenset) and roles):
        raise RuntimeError(f"route {route.method} {route.rule} ({route.name}) has roles={roles!r}: "
                           "PUBLIC or a frozenset of roles (EVERYONE, STAFF, ADMIN)")
    return roles


def route_scope(route) -> str | None:
    """The token scope a route under /api/ declared (``scope=`` beside its ``roles=``): one of
    ``token_scopes.SCOPES``, ``ANY`` or ``FULL``.  None for a page (tokens reach only /api/);
    an API route without one, or with a name that is no scope, is an error at build time."""
    if not route.rule.startswith("/api/"):
        return None
    scope = route.config.get("scope")
    if scope not in token_scopes.DECLARABLE:
        raise RuntimeError(f"API route {route.method} {route.rule} ({route.name}) declares "
                           + (f"scope={scope!r}, which is no scope" if scope is not None else "no scope=")
                           + f": one of {', '.join(sorted(token_scopes.DECLARABLE))}")
    return scope


class ErrorsPlugin:
    """``render_error(status, code, detail, error_id)`` draws the HTML error page."""

    name, api = "errors", 2

    def __init__(self, render_error):
        self.render_error = render_error

    def page(self, status: int, code: str, detail: str | None, error_id: str | None = None) -> HTTPResponse:
        try:
            body = self.render_error(status, code, detail, error_id)
        except Exception:  # the error page itself failed: still no traceback to the client
            logger.exception("rendering the error page for %s failed", code)
            body = f"<!doctype html><title>{status}</title><h1>{status}</h1>"
        return HTTPResponse(body, status=status, headers={"Content-Type": "text/html; charset=utf-8"})

    def apply(self, callback, route):
        def wrapper(*args, **kwargs):
            try:
                return callback(*args, **kwargs)
            except HTTPResponse:
                raise
            except DomainError as exc:
                if is_api():
                    extra = {"params": exc.params} if exc.params else {}
                    out = json_error(exc.http_status, error_body(exc.code, exc.message, exc.fields, **extra))
                else:
                    out = self.page(exc.http_status, exc.code, exc.message)
                if getattr(exc, "retry_after", None):  # busy: when to try again
                    out.set_header("Retry-After", str(exc.retry_after))
                return out
            except Exception:
                error_id = uuid.uuid4().hex[:12]
                logger.exception("request %s %s failed (error id %s)", request.method, request.path, error_id)
                if is_api():
                    return json_error(500, error_body("internal", f"internal error, id {error_id}",
                                                      error_id=error_id))
                return self.page(500, "internal", None, error_id)

        return wrapper


class DatabasePlugin:
    """Each request's queries on one connection, closed when the request ends. Under the
    supervisor, whose database has a ``ConnectionPool``, the request's greenlet borrows a kept
    connection on its first query and closing gives it back (``appliance.db.connections``):
    opening one on the loop for every request (its five pragmas, the schema read again) held the
    loop 10-100 ms under the mixed load (bench/loopwatch.py). Closing after each request, not when
    the greenlet ends, because one greenlet serves a keep-alive connection's many requests."""
    name, api = "database", 2

    def __init__(self, db):
        self.db = db

    def apply(self, callback, route):
        def wrapper(*args, **kwargs):
            try:
                return callback(*args, **kwargs)
            finally:
                if not self.db.in_transaction():
                    self.db.close()

        return wrapper


class AuthPlugin:
    """Puts who is asking in the WSGI environ (``cc.user``, ``cc.via`` = cookie | token,
    ``cc.token_id`` and ``cc.token`` (its ``TokenGrant``) for a token,
    ``cc.csrf``, ``cc.viewer``: read them with ``current_user()`` and ``viewer()``), and
    refuses anonymous callers and roles the route does not allow.  A route that declares no
    ``roles=`` is a build error.  (Bottle refuses to set a request attribute twice, hence environ.)"""

    name, api = "auth", 2

    def __init__(self, users, agents_of=None):
        self.users = users  # UserService: token_owner, session
        self.agents_of = agents_of  # username -> the agents linked to that account (AgentDirectory.of_user)

    def identify(self) -> None:
        env = request.environ
        header = request.get_header("Authorization") or ""
        if header.startswith("Bearer ") and request.path.startswith("/api/"):
            found = self.users.token_grant(header[7:].strip())
            if found:
                env["cc.user"], env["cc.token_id"], env["cc.token"] = found.user, found.token_id, found
                env["cc.via"] = "token"
            return
        found = self.users.session(session_cookie())
        if found:
            env["cc.user"], env["cc.via"], env["cc.csrf"] = found[0], "cookie", found[1]

    def set_viewer(self) -> None:
        """The viewer: who is asking as the services scope what they answer (the role
        scoping every area needs, worked out once here)."""
        user = current_user()
        if user is None:
            return
        mine = self.agents_of(user["username"]) if self.agents_of is not None else []
        request.environ["cc.viewer"] = Viewer(user["username"], user["role"], frozenset(a["number"] for a in mine))

    def check_token(self, needed: str | None) -> None:
        """A token's own limits, after its owner's role: the source address (refused and
        audited, saying nothing of the token), then the scope the route needs."""
        grant = request.environ.get("cc.token")
        if grant is None:  # a browser session: its role is all there is
            return
        if not token_scopes.address_allowed(grant.addresses, client_address()):
            self.users.token_refused(grant, client_address())
            raise PermissionDenied(FieldError("auth.msg.address", "this token may not be used from this address"),
                                   code="auth.address")
        if needed is not None and not token_scopes.allows(grant.scopes, needed):
            if needed == token_scopes.FULL:
                why = FieldError("auth.msg.scope_full", "this needs a token with its owner's full role (no scopes)")
            else:
                why = FieldError("auth.msg.scope", f"this token's scopes do not include {needed}", scope=needed)
            raise PermissionDenied(why, code="auth.scope", params={"scope": needed})

    def apply(self, callback, route):
        allowed = route_roles(route)
        needed = route_scope(route)

        def wrapper(*args, **kwargs):
            self.identify()
            user = current_user()
            if user is not None and allowed != PUBLIC:
                self.set_viewer()
            if allowed != PUBLIC:
                if user is None:
                    if is_api():
                        return json_error(401, error_body("unauthorized", "sign in or send a bearer token"))
                    here = request.fullpath + ("?" + request.query_string if request.query_string else "")
                    bottle.redirect("/login?next=" + bottle.urlquote(here))
                self.check_token(None)  # the address first: a refused source learns nothing more
                if user["role"] not in allowed:
                    raise PermissionDenied(FieldError("error.msg.role_may_not", f"your role ({user['role']}) may not do this"),
                                           code="forbidden")
                self.check_token(needed)
            return callback(*args, **kwargs)

        return wrapper


class CsrfPlugin:
    name, api = "csrf", 2

    def apply(self, callback, route):
        if route_roles(route) == PUBLIC:
            return callback

        def wrapper(*args, **kwargs):
            if request.method in UNSAFE and request.environ.get("cc.via") == "cookie":
                # raw, compared as bytes: bottle's get_header decodes UTF-8 and compare_digest
                # refuses non-ASCII text, and either made a 500 of a non-ASCII token
                sent = request.environ.get("HTTP_X_CSRF_TOKEN") or request.forms.get("csrf_token") or ""
                if not csrf_token() or not hmac.compare_digest(sent.encode("utf-8", "surrogateescape"),
                                                               csrf_token().encode()):
                    raise PermissionDenied(FieldError("error.msg.csrf", "the form has expired or did not come from this site; "
                                                              "reload the page"),
                                           code="csrf_failed")
            return callback(*args, **kwargs)

        return wrapper
