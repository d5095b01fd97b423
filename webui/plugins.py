"""Bottle plugins, applied to every route in this order (outermost first):
errors, database, auth, CSRF.

- errors: a ``DomainError`` becomes its HTTP status with ``{"error", "message", "fields"}``
  (JSON under /api, a page elsewhere); anything unexpected becomes a 500 with an error id
  that is also in the log, never a traceback.
- database: one peewee connection per request greenlet, closed afterwards.
- auth: who is asking (a server-side session named by the cookie, or ``Authorization:
  Bearer`` under /api/v1)
  and whether their role may use this route (``ROUTE_ROLES``, one table for the whole app).
- CSRF: unsafe methods from a cookie session must carry the session's token.
"""

from __future__ import annotations

import hmac
import json
import logging
import uuid

import bottle
from bottle import HTTPResponse, request

from appliance.errors import DomainError, PermissionDenied

logger = logging.getLogger(__name__)

SESSION_COOKIE = "cc_session"
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
EVERYONE = frozenset({"admin", "supervisor", "agent"})
STAFF = frozenset({"admin", "supervisor"})
ADMIN = frozenset({"admin"})
PUBLIC = None  # no sign-in needed

# Route name -> roles allowed: the whole access policy of the UI and the API, in one place.
# AuthPlugin refuses to build a route missing from it; a test walks every route and role.
#   admin      everything
#   supervisor the live view, signing agents in and out, reading the configuration
#   agent      the live view of their own agents, signing themselves in and out
#              (route code checks "their own": an agent's number linked to their account)
#   everyone   their own account: language, API tokens
ROUTE_ROLES: dict[str, frozenset | None] = {
    # no sign-in
    "login_form": PUBLIC, "login": PUBLIC, "static": PUBLIC, "health": PUBLIC,
    # pages
    "dashboard": EVERYONE, "agent_sign": EVERYONE, "logout": EVERYONE,
    "account": EVERYONE, "account_language": EVERYONE, "account_token_create": EVERYONE,
    "account_token_revoke": EVERYONE,
    "admin_list": STAFF, "admin_members": STAFF,
    "admin_create": ADMIN, "admin_edit": ADMIN, "admin_update": ADMIN, "admin_delete": ADMIN, "admin_member_add": ADMIN, "admin_member_remove": ADMIN,
    "admin_audit": ADMIN,
    # accounts (webui/users.py)
    "admin_users": ADMIN, "admin_user_create": ADMIN, "admin_user_update": ADMIN,
    "api_users": ADMIN, "api_user_create": ADMIN, "api_user_update": ADMIN,
    # sign-in locks (webui/users.py)
    "admin_lockout_clear": ADMIN, "api_lockouts": ADMIN, "api_lockout_clear": ADMIN,
    # restarting a service the supervisor runs (webui/services.py)
    "service_restart": ADMIN, "api_service_restart": ADMIN,
    # SIP security (webui/sipguard.py): blocked sources, phones' subnets
    "sip_security": ADMIN, "sip_security_save": ADMIN, "sip_unblock": ADMIN,
    "api_sip_blocks": ADMIN, "api_sip_unblock": ADMIN, "api_sip_events": ADMIN,
    "api_sip_settings": ADMIN, "api_sip_settings_update": ADMIN,
    # the first-run wizard (webui/wizard.py)
    "setup": ADMIN, "setup_step": ADMIN, "setup_save": ADMIN,
    # customers (webui/crm.py): agents see and edit their own customers (the service keeps
    # them to those); team leaders assign, reclaim, transfer, delete, import and export
    "customers": EVERYONE, "customer_new": EVERYONE, "customer_create": EVERYONE, "customer_detail": EVERYONE,
    "customer_update": EVERYONE, "customer_note_add": EVERYONE, "customer_follow_up_add": EVERYONE,
    "follow_up_done": EVERYONE, "customer_delete": STAFF, "customers_assign": STAFF, "customers_transfer": STAFF,
    "api_customers": EVERYONE, "api_customer_create": EVERYONE, "api_customer": EVERYONE,
    "api_customer_update": EVERYONE, "api_customer_history": EVERYONE, "api_customer_note_add": EVERYONE,
    "api_customer_follow_ups": EVERYONE, "api_customer_follow_up_add": EVERYONE, "api_follow_ups": EVERYONE,
    "api_follow_up_done": EVERYONE, "api_customer_delete": STAFF, "api_customers_assign": STAFF,
    "api_customers_transfer": STAFF, "customers_import_form": STAFF, "customers_import_check": STAFF,
    "customers_import_confirm": STAFF, "customers_export": STAFF, "api_customers_export": STAFF,
    "api_customers_import": STAFF,
    # call records (webui/callrecords.py): agents see the calls they took
    "calls": EVERYONE, "calls_export": EVERYONE, "call_detail": EVERYONE, "api_call_records": EVERYONE,
    "api_call_record": EVERYONE,
    # the agent workspace (webui/workspace.py): agents act for their own agents only
    "workspace": EVERYONE, "api_workspace_pop": EVERYONE, "api_dispositions": EVERYONE,
    "api_call_outcome": EVERYONE, "api_agent_missed": EVERYONE, "api_messages": EVERYONE,
    "api_message_send": EVERYONE, "api_message_read": EVERYONE,
    # the supervisor's wallboard (webui/wallboard.py): staff only
    "wallboard": STAFF, "api_wallboard": STAFF,
    "admin_menus": STAFF, "admin_menu": STAFF,
    "admin_menu_create": ADMIN, "admin_menu_update": ADMIN, "admin_menu_delete": ADMIN,
    "admin_menu_option_set": ADMIN, "admin_menu_option_delete": ADMIN,
    "admin_prompt_upload": ADMIN, "admin_prompt_delete": ADMIN,
    # JSON API
    "openapi": EVERYONE, "api_me": EVERYONE, "api_live": EVERYONE,
    "api_menus": STAFF, "api_menu": STAFF, "api_menu_tree": STAFF, "api_prompts": STAFF,
    "api_menu_create": ADMIN, "api_menu_update": ADMIN, "api_menu_delete": ADMIN,
    "api_menu_option_set": ADMIN, "api_menu_option_delete": ADMIN,
    "api_prompt_upload": ADMIN, "api_prompt_delete": ADMIN,
    "api_agent_login": EVERYONE, "api_agent_logout": EVERYONE, "api_agent_pause": EVERYONE,
    "api_agent_unpause": EVERYONE, "api_events": EVERYONE, "api_agent_spy": STAFF, "api_agent_dial": EVERYONE, "api_agent_transfer": EVERYONE, "api_call_hangup": STAFF, "api_call_intercept": STAFF,
    "api_call_pickup": EVERYONE, "api_agent_consult": EVERYONE, "api_agent_hold": EVERYONE, "api_agent_end_call": EVERYONE,
    "api_agent_unhold": EVERYONE, "api_agent_complete_transfer": EVERYONE, "api_agent_cancel_consult": EVERYONE,
    "api_agent_conference": EVERYONE, "api_agent_recording": EVERYONE,
    "recordings": EVERYONE, "api_recordings": EVERYONE, "api_recording": EVERYONE, "api_recording_audio": EVERYONE,
    "api_recording_storage": STAFF,
    # callers' messages (webui/voicemail.py): agents see their queues' and their own
    "voicemail": EVERYONE, "voicemail_handled": EVERYONE, "api_voice_messages": EVERYONE,
    "api_voice_message": EVERYONE, "api_voice_message_audio": EVERYONE, "api_voice_message_handled": EVERYONE,
    # received faxes (webui/fax.py): the office's fax line, seen by everyone
    "faxes": EVERYONE, "api_faxes": EVERYONE, "api_fax_pdf": EVERYONE, "api_fax": EVERYONE,
    "fax_send": EVERYONE, "api_fax_send": EVERYONE,
    "api_tokens": EVERYONE, "api_token_create": EVERYONE, "api_token_revoke": EVERYONE,
    "api_list": STAFF, "api_get": STAFF, "api_members": STAFF,
    "api_create": ADMIN, "api_update": ADMIN, "api_delete": ADMIN,
    "api_member_add": ADMIN, "api_member_remove": ADMIN, "api_audit": ADMIN,
}


def current_user() -> dict | None:
    """The signed-in user of this request (set by ``AuthPlugin``), or None."""
    return request.environ.get("cc.user")


def csrf_token() -> str:
    return request.environ.get("cc.csrf") or ""


def is_api() -> bool:
    return request.path.startswith("/api/")


def error_body(code: str, message: str, fields: dict | None = None, **extra) -> dict:
    """Every API error has the same shape: ``{"error", "message", "fields"}`` (+ ``error_id`` on a 500,
    ``params`` when the error's sentence has parts: ``{"number_class": "international"}``)."""
    return {"error": code, "message": message, "fields": fields or {}, **extra}


def json_error(status: int, body: dict) -> HTTPResponse:
    return HTTPResponse(json.dumps(body, ensure_ascii=False), status=status,
                        headers={"Content-Type": "application/json; charset=utf-8"})


def session_cookie() -> str | None:
    """The session id this request's cookie carries (signed in or not)."""
    return request.get_cookie(SESSION_COOKIE)


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
    name, api = "database", 2

    def __init__(self, db):
        self.db = db

    def apply(self, callback, route):
        def wrapper(*args, **kwargs):
            self.db.connect(reuse_if_open=True)
            try:
                return callback(*args, **kwargs)
            finally:
                if not self.db.in_transaction():
                    self.db.close()

        return wrapper


class AuthPlugin:
    """Puts who is asking in the WSGI environ (``cc.user``, ``cc.via`` = cookie | token,
    ``cc.csrf``; read them with ``current_user()``), and refuses anonymous callers and roles
    the route does not allow.  (Bottle refuses to set a request attribute twice, hence environ.)"""

    name, api = "auth", 2

    def __init__(self, users):
        self.users = users  # UserService: user_for_token, session

    def identify(self) -> None:
        env = request.environ
        header = request.get_header("Authorization") or ""
        if header.startswith("Bearer ") and request.path.startswith("/api/"):
            user = self.users.user_for_token(header[7:].strip())
            if user:
                env["cc.user"], env["cc.via"] = user, "token"
            return
        found = self.users.session(session_cookie())
        if found:
            env["cc.user"], env["cc.via"], env["cc.csrf"] = found[0], "cookie", found[1]

    def apply(self, callback, route):
        if route.name not in ROUTE_ROLES:
            raise RuntimeError(f"route {route.rule} ({route.name}) is missing from ROUTE_ROLES")
        allowed = ROUTE_ROLES[route.name]

        def wrapper(*args, **kwargs):
            self.identify()
            user = current_user()
            if allowed is not PUBLIC:
                if user is None:
                    if is_api():
                        return json_error(401, error_body("unauthorized", "sign in or send a bearer token"))
                    here = request.fullpath + ("?" + request.query_string if request.query_string else "")
                    bottle.redirect("/login?next=" + bottle.urlquote(here))
                if user["role"] not in allowed:
                    raise PermissionDenied(f"your role ({user['role']}) may not do this",
                                           code="forbidden")
            return callback(*args, **kwargs)

        return wrapper


class CsrfPlugin:
    name, api = "csrf", 2

    def apply(self, callback, route):
        if ROUTE_ROLES.get(route.name) is PUBLIC:
            return callback

        def wrapper(*args, **kwargs):
            if request.method in UNSAFE and request.environ.get("cc.via") == "cookie":
                # raw, compared as bytes: bottle's get_header decodes UTF-8 and compare_digest
                # refuses non-ASCII text, and either made a 500 of a non-ASCII token
                sent = request.environ.get("HTTP_X_CSRF_TOKEN") or request.forms.get("csrf_token") or ""
                if not csrf_token() or not hmac.compare_digest(sent.encode("utf-8", "surrogateescape"),
                                                               csrf_token().encode()):
                    raise PermissionDenied("the form has expired or did not come from this site; reload the page",
                                           code="csrf_failed")
            return callback(*args, **kwargs)

        return wrapper
