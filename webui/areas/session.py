"""Signing in and out, and the static files the sign-in page needs (no sign-in needed)."""

from __future__ import annotations

import logging

import bottle
from bottle import request, response

from appliance.errors import FieldError, PermissionDenied
from appliance.services.signin import SignInLocked
from webui.http import (EVERYONE, PUBLIC, SESSION_COOKIE, STATIC, client_address, current_user, error_body,
                        issue_session, json_error, render, safe_next, same_origin, session_cookie)

logger = logging.getLogger(__name__)


def install(app, deps) -> None:
    @app.get("/static/<filename:path>", name="static", roles=PUBLIC)
    def static(filename):
        return bottle.static_file(filename, root=str(STATIC))

    def landing(user: dict, nxt: str) -> str:
        """Where a sign-in leads: the page asked for, else an agent's workspace (their day
        is there) and anyone else's dashboard."""
        return "/workspace" if nxt == "/" and user["role"] == "agent" else nxt

    @app.get("/login", name="login_form", roles=PUBLIC)
    def login_form():
        if current_user():  # already signed in
            bottle.redirect(landing(current_user(), safe_next(request.query.get("next"))))
        return render("login.tpl", failed=False, locked=None, username="", next=safe_next(request.query.get("next")))

    def wants_json() -> bool:
        return "application/json" in (request.get_header("Accept") or "")

    @app.post("/login", name="login", roles=PUBLIC)
    def login():
        if not same_origin():
            # another site's page posting its own credentials here would sign this browser in
            # as someone else (login CSRF); browsers name the page's origin on every POST
            logger.warning("sign-in refused: posted from %s", request.headers.get("Origin"))
            raise PermissionDenied(FieldError("error.msg.login_cross_site", "sign in from this appliance's own sign-in page"),
                                   code="login.cross_site")
        username = (request.forms.getunicode("username") or "")[:64]
        nxt = safe_next(request.forms.getunicode("next"))
        try:
            user = deps.users.sign_in(username, request.forms.getunicode("password") or "", "addr:" + client_address())
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
        bottle.redirect(landing(user, nxt))

    @app.post("/logout", name="logout", roles=EVERYONE)
    def logout():
        deps.users.end_session(session_cookie())  # the cookie is worthless from now on, copies of it too
        response.delete_cookie(SESSION_COOKIE, path="/")
        bottle.redirect("/login")

