"""The web UI and API: the real Bottle app in process, a real SQLite file, real services.
Only the telephony side (agent sign-in through AMI, health, live state) is stood in for."""

from __future__ import annotations

import copy
import json
import logging
import pickle
import re
from pathlib import Path

from urllib.parse import urlsplit

import pytest
import webtest

from appliance.bus import EventBus
from appliance.db import models as m
from appliance.errors import DomainError, FieldError, Unavailable, field_error_of
from appliance.services.menus import MenuService
from appliance.services.prompts import PromptFiles, PromptService
from appliance.services.config import FIELDS, KEYS, KINDS, ConfigService, Field, coerce
from appliance.services.users import ROLES, UserService
from webui.areas import live as webapp
from webui.http import EVERYONE, fmt_seconds
from webui import i18n, plugins
from webdeps import web_deps
from webui.app import make_app
from webharness import Agents, create_accounts, database_copy

PASSWORD = "correct-horse-9"
WEBUI = Path(__file__).resolve().parents[2] / "webui"
APPLIANCE = WEBUI.parent / "appliance"
PUBLIC = {"login_form", "login", "static", "health",
          "dispatch", "dispatch_move", "dispatch_photo",  # a work order's dispatch link is its own permission
          "prov_file"}  # a desk phone's file: the phone's own credentials (appliance/services/provisioning.py)
DISPATCH = {"dispatch", "dispatch_move", "dispatch_photo"}


# The shape of appliance/engine/live.py's LiveState.snapshot().
LIVE = {"queues": [{"name": "sales", "waiting": 1, "longest_wait": 4.2, "members": ["1001", "1002"]},
                   {"name": "support", "waiting": 0, "longest_wait": 0.0, "members": ["1002"]}],
        "agents": [{"name": "1001", "interface": "PJSIP/1001", "state": "in_call", "since": 0,
                    "in_state_seconds": 3.0, "queues": ["sales"]},
                   {"name": "1002", "interface": "PJSIP/1002", "state": "free", "since": 0,
                    "in_state_seconds": 9.0, "queues": ["sales", "support"]}],
        "calls": [{"linkedid": "1.1", "caller": "13800000001", "caller_name": "", "did": "88001000",
                   "queue": "sales", "agent": "1001", "state": "talking", "duration": 72.0},
                  {"linkedid": "1.2", "caller": "13800000002", "caller_name": "", "did": "88001000",
                   "queue": "support", "agent": "", "state": "queued", "duration": 4.2}]}


@pytest.fixture
def env(tmp_path):
    """The web UI over a fresh database with the four accounts of ``webharness.USERS`` (a copy
    of one made once per test process: ``webharness.database_copy``)."""
    db = database_copy(tmp_path / "web.db", "accounts", lambda db, _: create_accounts(db))
    users = UserService(db)
    health = {"status": "ok", "uptime_seconds": 5, "components": {
        c: {"up": True, "state": "ok"} for c in ("asterisk", "ami", "agi", "db")}}
    applied = []
    config = ConfigService(db, on_change=lambda: applied.append(1))
    files = PromptFiles(tmp_path / "prompts", "/appliance/lib/prompts", None)
    deps = web_deps(db=db, config=config, users=users,
                   agents=Agents(), health=lambda: health, live=lambda: LIVE, 
                   bus=EventBus(), events_max_seconds=1.0, menus=MenuService(db, config, files),
                   prompts=PromptService(db, config, files))
    app = webtest.TestApp(make_app(deps))
    ids = {u.username: u.id for u in m.User.select()}
    env = type("Env", (), {})()
    env.db, env.deps, env.app, env.users, env.health, env.applied, env.ids = db, deps, app, users, health, applied, ids
    yield env
    db.close()


def sign_in(app, username, password=PASSWORD):
    page = app.get("/login?lang=en")
    form = page.forms[0]
    form["username"], form["password"] = username, password
    return form.submit(expect_errors=True)


def last_form(page):
    return page.forms[len(page.forms) - 1]


def csrf_of(page) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)


def token_for(env, username):
    return {"Authorization": "Bearer " + env.users.create_token(env.ids[username], "test")}


def session_for(env, username) -> tuple[dict, str]:
    """A session cookie as a browser would send it, and its CSRF token."""
    cookie, csrf = env.users.start_session(env.ids[username], 3600)
    return {"Cookie": f"{plugins.SESSION_COOKIE}={cookie}"}, csrf


def concrete(rule: str) -> str:
    path = re.sub(r"<kind:[^>]*>", "queues", rule)
    path = re.sub(r"<\w+:int>", "1", path)
    path = re.sub(r"<token:re:[^>]*>", "t" * 24, path)
    path = re.sub(r"<\w+:re:([^|>]+)[^>]*>", r"\1", path)  # the first of the alternatives
    path = re.sub(r"<filename:path>", "app.css", path)
    return re.sub(r"<[^>]+>", "x", path)


def seed_agents(cfg):
    cfg.create("queues", {"name": "sales"}, actor="t")
    cfg.create("phones", {"extension": "1001", "secret": "pw-1001-secret"}, actor="t")
    cfg.create("agents", {"number": "1001", "name": "Alice", "phone": "1001", "user": "alice"}, actor="t")
    cfg.create("agents", {"number": "1002", "name": "Bob", "user": "bob"}, actor="t")


# -- sign-in and sessions -----------------------------------------------------------
def test_sign_in_and_out(env):
    assert env.app.get("/").status_int == 302
    bad = sign_in(env.app, "admin", "wrong-password")
    assert bad.status_int == 401
    assert "Wrong user name or password" in bad.text
    assert env.app.get("/").status_int == 302  # no session from a failed sign-in
    ok = sign_in(env.app, "admin")
    assert ok.status_int == 302 and ok.location.endswith("/")
    cookie = ok.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "samesite=lax" in cookie.lower()
    home = ok.follow()
    assert "sales" in home.text and "13800000001" in home.text and "in a call" in home.text
    env.app.post("/logout", {"csrf_token": csrf_of(home)})
    assert env.app.get("/").status_int == 302


def test_forged_or_expired_session_is_anonymous(env):
    env.app.set_cookie(plugins.SESSION_COOKIE, "made-up-" + "x" * 40)
    assert env.app.get("/").status_int == 302
    expired, _ = env.users.start_session(env.ids["admin"], -1)
    env.app.set_cookie(plugins.SESSION_COOKIE, expired)
    assert env.app.get("/").status_int == 302
    good, _ = env.users.start_session(env.ids["admin"], 3600)
    env.app.set_cookie(plugins.SESSION_COOKIE, good)
    assert env.app.get("/").status_int == 200
    env.app.set_cookie(plugins.SESSION_COOKIE, good[:-2] + ("yy" if not good.endswith("yy") else "zz"))
    assert env.app.get("/").status_int == 302
    env.app.set_cookie(plugins.SESSION_COOKIE, "z" * 5000)  # far too long: not even looked up
    assert env.app.get("/").status_int == 302
    # only the SHA-256 of a session id is stored
    assert not env.db.execute_sql("SELECT 1 FROM web_session WHERE token_hash = ?", (good,)).fetchone()


def test_redirect_after_login_stays_on_this_site(env):
    for target in ("//evil.example/", "https://evil.example/", "/\\evil.example"):
        page = webtest.TestApp(env.app.app).get("/login", {"next": target})
        form = page.forms[0]
        form["username"], form["password"] = "admin", PASSWORD
        location = urlsplit(form.submit().location)
        assert (location.hostname, location.path) == ("localhost", "/"), target
    page = env.app.get("/login?next=/admin/queues")
    form = page.forms[0]
    form["username"], form["password"] = "admin", PASSWORD
    assert form.submit().location.endswith("/admin/queues")
    assert env.app.get("/login?next=/account").location.endswith("/account")  # signed in already


# -- who may do what ------------------------------------------------------------------
def role_table(app) -> dict:
    """Route name -> the roles it declares (None: no sign-in), read from the routes themselves."""
    table = {}
    for route in app.routes:
        roles = plugins.route_roles(route)
        table[route.name] = None if roles == plugins.PUBLIC else roles
    return table


def test_every_route_declares_its_roles_and_refuses_anonymous(env):
    routes = env.app.app.routes
    assert len({r.name for r in routes}) == len(routes)  # one name per route: the table below is by name
    assert set(role_table(env.app.app)) == {r.name for r in routes}
    for route in routes:
        res = env.app.request(concrete(route.rule), method=route.method, expect_errors=True)
        if route.name in PUBLIC:
            # 401: a bad password; 403: a dispatch link that is not a signed one; 404: no phone's file
            assert res.status_int in ((403,) if route.name in DISPATCH else (404,) if route.name == "prov_file"
                                      else (200, 401)), (route.method, route.rule, res.status)
            continue
        if route.rule.startswith("/api/"):
            assert res.status_int == 401, (route.method, route.rule, res.status)
            assert res.json["error"] == "unauthorized"
        else:
            assert res.status_int == 302 and "/login" in res.location, (route.method, route.rule)


def test_the_role_table_says_what_the_brief_says(env):
    roles = role_table(env.app.app)
    public = {name for name, allowed in roles.items() if allowed is None}
    assert public == PUBLIC
    for name, allowed in roles.items():
        if allowed is not None:
            assert "admin" in allowed and allowed <= set(ROLES), name  # admin: everything
    supervisor = {name for name, allowed in roles.items() if allowed and "supervisor" in allowed}
    agent = {name for name, allowed in roles.items() if allowed and "agent" in allowed}
    # supervisors: live views, signing agents in and out, reading the configuration
    assert {"dashboard", "api_live", "agent_sign", "api_agent_login", "api_agent_logout", "admin_list",
            "admin_members", "api_list", "api_get", "api_members"} <= supervisor
    # nobody but an admin changes the configuration or reads the audit log
    changes = {"admin_create", "admin_delete", "admin_member_add", "admin_member_remove", "api_create",
               "api_update", "api_delete", "api_member_add", "api_member_remove", "admin_audit", "api_audit"}
    assert not changes & supervisor and not changes & agent
    # agents: their own live view and sign-in, their own account; no configuration at all
    assert {"dashboard", "api_live", "agent_sign", "api_agent_login", "api_agent_logout", "account"} <= agent
    assert not {"admin_list", "admin_members", "api_list", "api_get", "api_members"} & agent


def test_roles_are_enforced_route_by_route(env):
    """Every route, every role: refused with 403 exactly when the table says so."""
    tokens = {name: token_for(env, name) for name in ("admin", "sup", "alice")}
    role_of = {"admin": "admin", "sup": "supervisor", "alice": "agent"}
    for route in env.app.app.routes:
        allowed = role_table(env.app.app)[route.name]
        if allowed is None:
            continue
        for name in tokens:
            if route.rule.startswith("/api/"):
                res = env.app.request(concrete(route.rule), method=route.method, headers=tokens[name],
                                      expect_errors=True)
            else:
                cookie, csrf = session_for(env, name)
                res = env.app.request(concrete(route.rule), method=route.method, headers=cookie,
                                      POST={"csrf_token": csrf} if route.method == "POST" else None,
                                      expect_errors=True)
            where = (name, route.method, route.rule, res.status)
            if role_of[name] in allowed:
                assert res.status_int != 403, where
            else:
                assert res.status_int == 403, where
                if route.rule.startswith("/api/"):
                    assert res.json["error"] == "forbidden", where


def test_agent_signs_only_themselves_in(env):
    seed_agents(env.deps.config)
    alice = token_for(env, "alice")
    assert env.app.post("/api/v1/agents/1001/login", headers=alice).json["logged_in"] is True
    assert env.app.post("/api/v1/agents/1002/login", headers=alice, expect_errors=True).status_int == 403
    assert env.app.post("/api/v1/agents/1002/logout", headers=token_for(env, "sup")).json["logged_in"] is False
    assert env.deps.agents.calls == [("login", "1001"), ("logout", "1002")]
    res = env.app.post_json("/api/v1/agents/1001/login", {"mode": "long"}, headers=alice)
    assert res.json["phone_ringing"] is True and env.deps.agents.calls[-1] == ("long", "1001")
    env.app.post_json("/api/v1/agents/1001/login", {"mode": "ring"}, headers=alice)
    assert env.deps.agents.calls[-1] == ("login", "1001")
    env.deps.agents.down = True
    res = env.app.post("/api/v1/agents/1001/login", headers=alice, expect_errors=True)
    assert res.status_int == 503 and res.json["error"] == "ami.unavailable"
    # an agent's live view holds only their own agent, their queues and their calls
    live = env.app.get("/api/v1/live", headers=alice).json
    assert [a["name"] for a in live["agents"]] == ["1001"] and [q["name"] for q in live["queues"]] == ["sales"]
    assert [c["linkedid"] for c in live["calls"]] == ["1.1"]
    assert len(env.app.get("/api/v1/live", headers=token_for(env, "sup")).json["agents"]) == 2


def test_agent_uses_the_sign_in_button_on_their_dashboard(env):
    seed_agents(env.deps.config)
    assert sign_in(env.app, "alice").location.endswith("/workspace")  # an agent lands on their workspace
    home = env.app.get("/")
    assert 'action="/agents/1001/login"' in home.text and "/agents/1002/" not in home.text
    assert "/admin/" not in home.text  # no configuration in an agent's navigation
    form = [f for f in home.forms.values() if f.action == "/agents/1001/login"][0]
    assert form.submit().location.endswith("/")
    assert env.deps.agents.calls == [("login", "1001")]
    res = env.app.post("/agents/1002/login", {"csrf_token": csrf_of(home)}, expect_errors=True)
    assert res.status_int == 403 and "Your role may not do this" in res.text
    env.deps.agents.down = True
    res = env.app.post("/agents/1001/login", {"csrf_token": csrf_of(home)}, expect_errors=True)
    assert res.status_int == 503 and "telephony engine is not connected" in res.text


def test_csrf_is_required_for_cookie_sessions_only(env):
    home = sign_in(env.app, "admin").follow()
    res = env.app.post("/admin/queues", {"name": "sales"}, expect_errors=True)
    assert res.status_int == 403 and "form has expired" in res.text
    res = env.app.post("/admin/queues", {"name": "sales", "csrf_token": "forged"}, expect_errors=True)
    assert res.status_int == 403
    res = env.app.post_json("/api/v1/queues", {"name": "sales"}, expect_errors=True)
    assert res.status_int == 403 and res.json["error"] == "csrf_failed"
    res = env.app.post("/logout", expect_errors=True)
    assert res.status_int == 403  # not even sign-out without the token
    res = env.app.post_json("/api/v1/queues", {"name": "sales"}, headers={"X-CSRF-Token": csrf_of(home)})
    assert res.status_int == 201
    fresh = webtest.TestApp(env.app.app)
    assert fresh.post_json("/api/v1/queues", {"name": "support"}, headers=token_for(env, "admin")).status_int == 201
    assert sorted(q["name"] for q in env.deps.config.list("queues")) == ["sales", "support"]


# -- the configuration API -----------------------------------------------------------------
def test_config_api_crud_applies_and_audits(env):
    h = token_for(env, "admin")
    app = env.app
    assert app.post_json("/api/v1/trunks", {"name": "pstn", "host": "10.0.0.1", "match": "10.0.0.1",
                                             "secret": "trunk-secret"}, headers=h).status_int == 201
    assert app.post_json("/api/v1/queues", {"name": "sales", "strategy": "leastrecent"}, headers=h).status_int == 201
    assert app.post_json("/api/v1/dids", {"number": "88001000", "queue": "sales"}, headers=h).status_int == 201
    phone = {"extension": "1001", "secret": "pw-1001-secret"}
    assert app.post_json("/api/v1/phones", phone, headers=h).status_int == 201
    made = app.post_json("/api/v1/agents", {"number": "1001", "name": "Alice", "phone": "1001"}, headers=h)
    assert made.status_int == 201 and made.json["number"] == "1001" and made.json["phone"] == "1001"
    assert app.post_json("/api/v1/queues/sales/members", {"agent": "1001", "penalty": 2}, headers=h).status_int == 201
    assert app.get("/api/v1/queues/sales/members", headers=h).json["items"] == [
        {"queue": "sales", "agent": "1001", "penalty": 2}]
    assert len(env.applied) == 6
    trunk = app.get("/api/v1/trunks/pstn", headers=h).json
    assert trunk["has_secret"] is True and "trunk-secret" not in json.dumps(trunk)
    assert "trunk-secret" not in app.get("/api/v1/trunks", headers=h).text
    assert app.patch_json("/api/v1/queues/sales", {"ring_timeout": 25}, headers=h).json["ring_timeout"] == 25
    assert env.deps.config.get("queues", "sales")["ring_timeout"] == 25
    assert [q["name"] for q in app.get("/api/v1/queues", headers=h).json["items"]] == ["sales"]
    res = app.delete("/api/v1/queues/sales", headers=h, expect_errors=True)
    assert res.status_int == 409 and "88001000" in res.json["message"]
    assert app.delete("/api/v1/queues/sales/members/1001", headers=h).status_int == 204
    assert app.delete("/api/v1/dids/88001000", headers=h).status_int == 204
    assert app.get("/api/v1/dids/88001000", headers=h, expect_errors=True).status_int == 404
    audit = app.get("/api/v1/audit?limit=3", headers=h).json["items"]
    assert [(a["username"], a["action"], a["object_type"]) for a in audit] == [
        ("admin", "delete", "dids"), ("admin", "delete", "members"), ("admin", "update", "queues")]


def test_bad_api_input_gets_a_clear_error(env):
    h = token_for(env, "admin")
    app = env.app
    res = app.post("/api/v1/queues", "{not json", headers={**h, "Content-Type": "application/json"},
                   expect_errors=True)
    assert res.status_int == 400 and res.json["error"] == "request.bad_json"
    res = app.post_json("/api/v1/queues", ["a", "list"], headers=h, expect_errors=True)
    assert res.status_int == 400 and res.json["error"] == "request.bad_json"
    res = app.patch("/api/v1/queues/sales", "", headers={**h, "Content-Type": "application/json"},
                    expect_errors=True)
    assert res.status_int == 400 and res.json["error"] == "request.bad_json"
    res = app.post_json("/api/v1/queues", {"name": "Sales!", "ring_timeout": "x"}, headers=h, expect_errors=True)
    assert res.status_int == 422 and res.json["error"] == "validation_failed"
    assert set(res.json["fields"]) == {"name", "ring_timeout"} and res.json["message"]
    app.post_json("/api/v1/queues", {"name": "sales"}, headers=h)
    res = app.post_json("/api/v1/queues", {"name": "sales"}, headers=h, expect_errors=True)
    assert res.status_int == 409 and res.json["fields"] == {"name": "already exists"}
    res = app.post_json("/api/v1/queues/sales/members", {"penalty": 1}, headers=h, expect_errors=True)
    assert res.status_int == 422 and "agent" in res.json["fields"]
    res = app.get("/api/v1/queues/nope", headers=h, expect_errors=True)
    assert res.status_int == 404 and res.json == {"error": "queues.not_found", "message": "no queue nope",
                                                  "fields": {}}
    assert app.get("/api/v1/widgets", headers=h, expect_errors=True).json["error"] == "not_found"
    assert app.get("/api/v1/audit?limit=lots", headers=h, expect_errors=True).status_int == 422
    res = app.put_json("/api/v1/queues/sales", {}, headers=h, expect_errors=True)
    assert res.status_int == 405 and res.json["error"] == "method_not_allowed"


def test_unexpected_failure_is_a_500_with_an_id_and_no_traceback(env, caplog):
    def broken():
        raise RuntimeError("secret internals")

    env.deps.live = broken
    with caplog.at_level(logging.ERROR):
        res = env.app.get("/api/v1/live", headers=token_for(env, "admin"), expect_errors=True)
        assert res.status_int == 500 and res.json["error"] == "internal" and res.json["error_id"]
        assert "secret internals" not in res.text and "Traceback" not in res.text
        assert res.json["error_id"] in caplog.text and "secret internals" in caplog.text
        sign_in(env.app, "admin")
        page = env.app.get("/", expect_errors=True)
    assert page.status_int == 500 and page.content_type == "text/html"
    assert "secret internals" not in page.text and "Traceback" not in page.text
    error_id = re.search(r"Error id ([0-9a-f]+)", page.text).group(1)
    assert error_id in caplog.text


def test_health_is_public_and_503_when_down(env):
    res = env.app.get("/api/health")
    assert res.status_int == 200 and res.json["components"]["asterisk"]["up"] is True
    env.health["status"] = "degraded"
    assert env.app.get("/api/health").status_int == 200
    env.health["status"] = "down"
    res = env.app.get("/api/health", expect_errors=True)
    assert res.status_int == 503 and res.json["status"] == "down"


def test_tokens_through_the_api(env):
    h = token_for(env, "sup")
    made = env.app.post_json("/api/v1/tokens", {"name": "wallboard"}, headers=h)
    assert made.status_int == 201 and made.json["name"] == "wallboard"
    mine = {"Authorization": "Bearer " + made.json["token"]}
    assert env.app.get("/api/v1/me", headers=mine).json["username"] == "sup"
    items = env.app.get("/api/v1/tokens", headers=h).json["items"]
    assert [t["name"] for t in items] == ["test", "wallboard"] and "token" not in items[1]
    assert items[1]["last_used_at"] is not None
    assert env.app.delete(f"/api/v1/tokens/{items[1]['id']}", headers=h).status_int == 204
    assert env.app.get("/api/v1/me", headers=mine, expect_errors=True).status_int == 401
    # someone else's token cannot be revoked (it is not found among yours)
    other = env.app.get("/api/v1/tokens", headers=token_for(env, "admin")).json["items"][0]
    assert env.app.delete(f"/api/v1/tokens/{other['id']}", headers=h, expect_errors=True).status_int == 404
    res = env.app.post_json("/api/v1/tokens", {"name": ""}, headers=h, expect_errors=True)
    assert res.status_int == 422 and "name" in res.json["fields"]
    bad = {"Authorization": "Bearer cc_not-a-token"}
    assert env.app.get("/api/v1/me", headers=bad, expect_errors=True).status_int == 401


def test_a_bearer_token_is_for_the_api_only(env):
    h = token_for(env, "admin")
    assert env.app.get("/admin/queues", headers=h, expect_errors=True).status_int == 302


# -- OpenAPI ---------------------------------------------------------------------------------
def test_openapi_covers_every_api_route_and_is_valid(env):
    spec = env.app.get("/api/openapi.json", headers=token_for(env, "sup")).json
    documented = {(m.upper(), p) for p, ops in spec["paths"].items() for m in ops}
    served = set()
    for route in env.app.app.routes:
        if not route.rule.startswith("/api/"):
            continue
        path = re.sub(r"<([a-z_]+)(:[^>]*)?>", r"{\1}", route.rule)
        for kind in (KINDS if "{kind}" in path else [None]):
            served.add((route.method, path.replace("{kind}", kind) if kind else path))
    assert documented == served
    for kind in KINDS:  # the request schemas are the configuration service's own
        name = spec["paths"][f"/api/v1/{kind}"]["post"]["requestBody"]["content"]["application/json"]["schema"]
        ref = name["$ref"].rsplit("/", 1)[1]
        assert spec["components"]["schemas"][ref] == env.deps.config.json_schema(kind, for_create=True)
    create = spec["components"]["schemas"]["QueueCreate"]
    assert create["anyOf"] == [{"required": ["name"]}, {"required": ["display_name"]}]
    assert "required" not in create and "ringall" in create["properties"]["strategy"]["enum"]
    assert spec["paths"]["/api/health"]["get"]["security"] == []
    bearer = spec["components"]["securitySchemes"]["bearerAuth"]
    assert (bearer["type"], bearer["scheme"]) == ("http", "bearer")  # its scopes: test_token_scopes.py
    assert env.app.get("/api/openapi.json", expect_errors=True).status_int == 401
    from openapi_spec_validator import validate  # pinned in the test extras

    validate(spec)


# -- pages and languages --------------------------------------------------------------------
def test_admin_form_shows_the_error_next_to_the_field_and_keeps_input(env):
    page = sign_in(env.app, "admin").follow().click(href="/admin/queues")
    form = last_form(page)
    form["name"], form["ring_timeout"] = "Bad Name", "2"
    res = form.submit(expect_errors=True)
    assert res.status_int == 422
    name_field = re.search(r'<div class="field has-error[^"]*">\s*<label for="f-name">Name.*?</div>', res.text, re.S)
    assert name_field and "field-error" in name_field.group(0) and "lower-case letters" in name_field.group(0)
    timeout_field = re.search(r'<div class="field has-error[^"]*">\s*<label for="f-ring_timeout">.*?</div>',
                              res.text, re.S)
    assert timeout_field and "at least 5" in timeout_field.group(0)
    assert 'value="Bad Name"' in res.text
    assert not env.deps.config.list("queues")
    form = last_form(res)
    form["name"], form["ring_timeout"] = "sales", "20"
    done = form.submit()
    assert done.status_int == 302 and done.location.endswith("/admin/queues")  # post, redirect, get
    assert env.deps.config.get("queues", "sales")["ring_timeout"] == 20
    res = last_form(done.follow())
    res["name"] = "sales"
    dup = res.submit(expect_errors=True)
    assert dup.status_int == 409 and "already exists" in dup.text


def test_admin_form_in_chinese_and_references_as_choices(env):
    env.deps.config.create("queues", {"name": "sales"}, actor="t")
    page = sign_in(env.app, "admin").follow()
    env.app.post("/account/language", {"language": "zh_CN", "csrf_token": csrf_of(page)})
    dids = env.app.get("/admin/dids")
    assert "添加呼入号码" in dids.text
    form = last_form(dids)
    assert [v for v, _ in [(o[0], o[1]) for o in form["queue"].options]] == ["", "sales"]
    form["number"], form["queue"] = "8800x", "sales"
    res = form.submit(expect_errors=True)
    assert res.status_int == 422 and "被叫号码" in res.text  # the field's own help, translated


def test_a_services_field_error_reaches_a_chinese_page_as_the_catalogs_sentence(env):
    """The config service gives each field's error an id and params; the page says the
    catalog's sentence filled in with them, the API keeps the English text."""
    page = sign_in(env.app, "admin").follow()
    env.app.post("/account/language", {"language": "zh_CN", "csrf_token": csrf_of(page)})
    form = last_form(env.app.get("/admin/queues"))
    form["name"], form["ring_timeout"] = "fax", "2"
    res = form.submit(expect_errors=True)
    assert res.status_int == 422

    def error_of(name: str) -> str:
        div = re.search(rf'<div class="field has-error[^"]*">\s*<label for="f-{name}">.*?</div>', res.text, re.S)
        assert div, name
        return re.search(r'<em class="field-error">(.*?)</em>', div.group(0), re.S).group(1)

    assert error_of("ring_timeout") == i18n.translate("zh_CN", "field.min", n=5) == "不能小于 5"
    assert error_of("name") == i18n.translate("zh_CN", "field.reserved_name", item="fax") == "fax 是电话系统保留的名称"
    api = env.app.post_json("/api/v1/queues", {"name": "fax", "ring_timeout": 2}, headers=token_for(env, "admin"),
                            expect_errors=True)
    assert api.status_int == 422
    assert api.json["fields"] == {"name": "fax is a name the telephone system keeps for itself",
                                  "ring_timeout": "at least 5"}


def test_the_config_services_cross_field_errors_carry_message_ids(env):
    """The checks across fields and objects (not only the per-field rules) give ids and
    params, so no page falls back to "not valid: <English>"."""
    cfg = env.deps.config

    def fields_of(kind, data, key=None):
        with pytest.raises(DomainError) as caught:
            cfg.update(kind, key, data, actor="t") if key else cfg.create(kind, data, actor="t")
        return {name: (error.msgid, error.params) for name, error in caught.value.fields.items()}

    cfg.create("queues", {"name": "sales"}, actor="t")
    cfg.create("queues", {"name": "support", "overflow_queue": "sales"}, actor="t")
    assert fields_of("queues", {"overflow_queue": "support"}, "sales") == {"overflow_queue": ("field.overflow_loop", {})}
    assert fields_of("queues", {"survey_prompt": "nope"}, "sales") == {"survey_prompt": ("field.no_such", {"key": "nope"})}
    assert fields_of("queues", {"name": "sales"}) == {"name": ("field.exists", {})}
    assert fields_of("customer_fields", {"name": "level", "label": "Level", "type": "choice"}) == {
        "choices": ("field.required", {})}
    assert fields_of("dids", {"number": "88001000", "queue": "nope"}) == {"queue": ("field.no_such", {"key": "nope"})}


def test_deleting_what_is_in_use_explains_why(env):
    cfg = env.deps.config
    cfg.create("queues", {"name": "sales"}, actor="t")
    cfg.create("dids", {"number": "88001000", "queue": "sales"}, actor="t")
    page = sign_in(env.app, "admin").follow().click(href="/admin/queues")
    form = [f for f in page.forms.values() if f.action == "/admin/queues/sales/delete"][0]
    res = form.submit(expect_errors=True)
    assert res.status_int == 409 and "still in use" in res.text and "88001000" in res.text
    form = [f for f in env.app.get("/admin/dids").forms.values() if f.action.endswith("/delete")][0]
    assert form.submit().status_int == 302 and not cfg.list("dids")


def test_queue_members_page(env):
    seed_agents(env.deps.config)
    page = sign_in(env.app, "admin").follow().click(href="/admin/queues").click(href="/admin/queues/sales/members")
    form = last_form(page)
    form["agent"], form["penalty"] = "1002", "3"
    assert form.submit().follow().status_int == 200
    assert env.deps.config.members("sales") == [{"queue": "sales", "agent": "1002", "penalty": 3}]
    page = env.app.get("/admin/queues/sales/members")
    form = last_form(page)
    form["penalty"] = "500"
    res = form.submit(expect_errors=True)
    assert res.status_int == 422 and "not valid" in res.text
    remove = [f for f in page.forms.values() if f.action == "/admin/queues/sales/members/1002/delete"][0]
    remove.submit()
    assert env.deps.config.members("sales") == []
    assert env.app.get("/admin/queues/nope/members", expect_errors=True).status_int == 404


def test_pages_render_for_each_role_and_in_chinese(env):
    page = sign_in(env.app, "admin").follow()
    for url in ["/admin/" + k for k in KINDS] + ["/admin/audit", "/account"]:
        assert env.app.get(url).status_int == 200, url
    env.app.post("/account/language", {"language": "zh_CN", "csrf_token": csrf_of(page)})
    zh = env.app.get("/")
    assert "实时监控" in zh.text and "通话中" in zh.text and "排队数" in zh.text and "当前通话" in zh.text
    assert 'lang="zh-CN"' in zh.text and "Longest wait" not in zh.text
    env.deps.config.create("queues", {"name": "sales"}, actor="t")
    assert "成员" in env.app.get("/admin/queues").text
    assert "页面不存在" in env.app.get("/nope", expect_errors=True).text
    # a supervisor reads the configuration but gets no forms to change it
    sup = webtest.TestApp(env.app.app)
    sign_in(sup, "sup")
    queues = sup.get("/admin/queues")
    assert "sales" in queues.text and 'action="/admin/queues"' not in queues.text and "/delete" not in queues.text
    agent = webtest.TestApp(env.app.app)
    sign_in(agent, "alice")
    assert agent.get("/admin/queues", expect_errors=True).status_int == 403


def test_login_page_language_from_browser_or_query(env):
    assert "登录" in env.app.get("/login", headers={"Accept-Language": "zh-CN,zh;q=0.9"}).text
    assert "Sign in" in env.app.get("/login", headers={"Accept-Language": "en-US,en;q=0.8"}).text
    assert "Sign in" in env.app.get("/login?lang=en", headers={"Accept-Language": "zh-CN"}).text
    assert "登录" in env.app.get("/login?lang=zh_CN", headers={"Accept-Language": "en"}).text
    bad = env.app.post("/login", {"username": "admin", "password": "nope", "lang": "zh_CN"}, expect_errors=True)
    assert "用户名或密码错误" in bad.text


def test_a_sign_in_posted_from_another_site_is_refused(env):
    credentials = {"username": "admin", "password": PASSWORD}
    other = env.app.post("/login", credentials, headers={"Origin": "http://evil.example", "Accept-Language": "en"},
                         expect_errors=True)
    assert other.status_int == 403 and "another site" in other.text and "Set-Cookie" not in other.headers
    hidden = env.app.post("/login", credentials, headers={"Origin": "null"}, expect_errors=True)
    assert hidden.status_int == 403
    # its own page (the browser names this host) and a script (no Origin at all) sign in
    own = env.app.post("/login", credentials, headers={"Origin": "http://localhost:80"}, expect_errors=True)
    assert own.status_int == 302 and "cc_session=" in own.headers["Set-Cookie"]
    assert env.app.post("/login", credentials).status_int == 302


def test_unknown_page_and_method(env):
    assert env.app.get("/nope", expect_errors=True).status_int == 404
    assert env.app.get("/api/nope", expect_errors=True).json["error"] == "not_found"
    res = env.app.delete("/api/health", expect_errors=True)
    assert res.status_int == 405 and res.json["error"] == "method_not_allowed"
    assert env.app.get("/static/../app.py", expect_errors=True).status_int in (403, 404)


def test_account_token_is_shown_once(env):
    page = sign_in(env.app, "admin").follow().click(href="/account")
    form = last_form(page)
    form["name"] = "crm"
    shown = form.submit()
    assert shown.headers["Cache-Control"] == "no-store"
    token = re.search(r'id="new-token">([^<]+)<', shown.text).group(1)
    assert env.users.user_for_token(token)["username"] == "admin"
    assert token not in env.app.get("/account").text
    form = last_form(env.app.get("/account"))
    res = form.submit(expect_errors=True)  # no name
    assert res.status_int == 422 and i18n.translate("en", "field.required_max_length", n=64) in res.text
    revoke = [f for f in env.app.get("/account").forms.values() if "/account/tokens/" in f.action][0]
    revoke.submit()
    assert env.users.user_for_token(token) is None


def test_security_headers_and_static_files(env):
    res = env.app.get("/login")
    assert res.headers["X-Frame-Options"] == "DENY" and "default-src 'self'" in res.headers["Content-Security-Policy"]
    assert "onsubmit=" not in res.text and "onclick=" not in res.text  # the CSP forbids inline handlers
    for name in ("app.css", "app.js", "live.js", "favicon.svg"):
        assert env.app.get("/static/" + name).status_int == 200
    home = sign_in(env.app, "admin").follow()
    for src in re.findall(r'(?:src|href)="(/static/[^"]+)"', home.text):
        assert env.app.get(src).status_int == 200, src
    assert not re.search(r'(?:src|href)="(?:https?:)?//', home.text)  # nothing from elsewhere (no CDN)


def test_templates_are_compiled_once(env):
    import bottle

    sign_in(env.app, "admin")
    env.app.get("/account")
    cached = len(bottle.TEMPLATES)
    for _ in range(3):
        env.app.get("/account")
        env.app.get("/admin/queues")
    env.app.get("/account")
    assert len(bottle.TEMPLATES) <= cached + 2  # admin_list and config_tabs, once


def test_each_request_closes_its_database_connection(env):
    env.app.get("/api/health")
    env.app.get("/api/v1/queues", headers=token_for(env, "admin"))
    assert env.db.is_closed()


# -- the live view -------------------------------------------------------------------------
def test_live_view_adds_availability_and_names_and_filters_for_an_agent():
    directory = [{"number": "1001", "name": "Alice", "user": "alice"}, {"number": "1002", "name": "Bob"}]
    view = webapp.live_view(LIVE, directory)
    assert [(q["name"], q["available"]) for q in view["queues"]] == [("sales", 1), ("support", 1)]
    assert [a["display_name"] for a in view["agents"]] == ["Alice", "Bob"]
    assert "available" not in LIVE["queues"][0]  # the engine's snapshot is left alone
    mine = webapp.live_view(LIVE, directory, {"1001"})
    assert [a["name"] for a in mine["agents"]] == ["1001"] and [q["name"] for q in mine["queues"]] == ["sales"]
    assert [c["agent"] for c in mine["calls"]] == ["1001"]
    assert webapp.live_view({}, []) == {"queues": [], "agents": [], "calls": []}
    summary = webapp.live_summary(view)
    assert summary == {"waiting": 1, "longest_wait": 4.2, "available": 1, "signed_in": 2, "calls": 2}
    assert webapp.call_times(LIVE["calls"][0]) == (None, None, 72.0)
    assert webapp.call_times(LIVE["calls"][1]) == (4.2, None, 4.2)
    assert webapp.call_times({"state": "talking", "wait_seconds": 5, "talk_seconds": 60, "duration": 65}) == (5, 60, 65)
    assert [fmt_seconds(v) for v in (None, 0, 4.9, 75.3, 3725)] == ["—", "0:00", "0:04", "1:15", "1:02:05"]


def test_dashboard_renders_whatever_the_engine_reports(env):
    env.deps.live = lambda: {"queues": [{"name": "sales"}], "agents": [{"name": "1001", "state": "on_moon"}],
                             "calls": [{"linkedid": "9", "state": "talking", "wait_seconds": 3, "talk_seconds": 61}]}
    page = sign_in(env.app, "admin").follow()
    assert page.status_int == 200 and "on_moon" in page.text and "1:01" in page.text


# -- catalogs ---------------------------------------------------------------------------------
def test_catalogs_are_complete_and_every_used_id_exists():
    en, zh = i18n.catalog("en"), i18n.catalog("zh_CN")
    assert set(en) == set(zh)
    assert all(isinstance(v, str) and v.strip() for v in list(en.values()) + list(zh.values()))
    for key in en:  # the same placeholders in both languages
        assert set(re.findall(r"{(\w+)}", en[key])) == set(re.findall(r"{(\w+)}", zh[key])), key
    used = set()
    for path in list(WEBUI.glob("templates/*.tpl")) + list(WEBUI.glob("*.py")):
        text = path.read_text(encoding="utf-8")
        used |= set(re.findall(r"""\b_\(\s*['"]([a-z_]+\.[a-z_.0-9]+)['"]\s*[,)]""", text))
        used |= set(re.findall(r"""translate\([^,]+,\s*['"]([a-z_]+\.[a-z_.0-9]+)['"]\s*[,)]""", text))
    for path in APPLIANCE.rglob("*.py"):  # the message ids services give their field errors
        used |= set(re.findall(r"""FieldError\(\s*['"]([a-z_]+\.[a-z_.0-9]+)['"]""", path.read_text(encoding="utf-8")))
    for script in WEBUI.glob("static/*.js"):
        used |= set(re.findall(r"""\bt\(\s*"([a-z_]+\.[a-z_.0-9]+)\"""", script.read_text(encoding="utf-8")))
    assert len(used) > 50
    missing = {u for u in used if u not in en}
    assert not missing, missing
    # ids built at run time: per kind, per field, per state
    dynamic = {f"kind.{k}" for k in KINDS} | {f"admin.add_{k}" for k in KINDS}
    dynamic |= {f"field.{k}.{f.name}" for k, fs in FIELDS.items() for f in fs}
    dynamic |= {f"help.{k}.{f.name}" for k, fs in FIELDS.items() for f in fs if f.help}
    dynamic |= {f"agent_state.{s}" for s in webapp.AGENT_STATES} | {f"call_state.{s}" for s in webapp.CALL_STATES}
    dynamic |= {f"role.{r}" for r in ROLES} | {f"audit.{a}" for a in ("create", "update", "delete")}
    dynamic |= {f"health.{s}" for s in ("ok", "degraded", "down")}
    dynamic |= {f"component.{c}" for c in ("asterisk", "ami", "agi", "db", "recording")}
    dynamic |= {f"error.status.{s}" for s in (400, 401, 403, 404, 405, 409, 422, 500, 503)}
    assert not dynamic - set(en), dynamic - set(en)
    assert set(KEYS) >= set(KINDS)


def test_chinese_uses_the_call_center_words():
    zh = i18n.catalog("zh_CN")
    assert zh["kind.queues"] == "队列" and zh["kind.agents"] == "坐席" and zh["kind.trunks"] == "中继"
    assert zh["kind.phones"] == "分机" and zh["kind.dids"] == "呼入号码" and zh["nav.audit"] == "审计日志"
    assert zh["admin.sign_in"] == "签入" and zh["admin.sign_out"] == "签出"


def test_field_and_error_messages_are_translated():
    def problem(f: Field, value) -> str:
        with pytest.raises(ValueError) as caught:
            coerce(f, value)
        return field_error_of(caught.value)

    assert i18n.field_error("zh_CN", problem(Field("x", "int", max=300), 301)) == "不能大于 300"
    assert i18n.field_error("zh_CN", FieldError("field.required", "required")) == "必填"
    assert i18n.field_error("zh_CN", FieldError("field.no_such", "no queue sales", key="sales")) == "sales 不存在"
    assert i18n.field_error("en", "something new") == "not valid: something new"  # text without an id: shown
    work_number = problem(Field("number", "str", pattern=r"[0-9]+", help="work number"), "x")
    assert work_number == "work number"  # the English the API gives
    assert i18n.field_error("zh_CN", work_number, "help.agents.number") == "坐席工号"
    assert i18n.field_error("zh_CN", work_number) == i18n.translate("zh_CN", "field.pattern")
    at_most = FieldError("field.max", "at most 3", n=3)  # text wherever text goes, its id kept when copied
    assert json.dumps({"x": at_most}) == '{"x": "at most 3"}' and at_most == "at most 3"
    for copied in (copy.deepcopy(at_most), pickle.loads(pickle.dumps(at_most))):
        assert (copied.msgid, copied.params, copied) == ("field.max", {"n": 3}, "at most 3")
    assert i18n.error_message("zh_CN", "queues.in_use", 409) == "仍在使用中，不能删除。"
    assert i18n.error_message("zh_CN", "ami.unavailable", 503) == "电话引擎未连接，请稍后重试。"
    assert i18n.error_message("en", "something.new", 409) == i18n.translate("en", "error.status.409")
    assert i18n.error_message("en", "", 418) == i18n.translate("en", "error.status.400")
    assert i18n.translate("xx", "login.title") == "登录"  # unknown language: the default, Chinese
    assert i18n.translate("en", "no.such.id") == "no.such.id"


# -- pause and live events ---------------------------------------------------------------
def test_pause_and_unpause_through_the_api(env):
    seed_agents(env.deps.config)
    alice = token_for(env, "alice")
    res = env.app.post_json("/api/v1/agents/1001/pause", {"reason": "lunch"}, headers=alice)
    assert res.json == {"agent": "1001", "paused": True, "reason": "lunch"}
    assert env.app.post_json("/api/v1/agents/1002/pause", {"reason": "lunch"}, headers=alice,
                             expect_errors=True).status_int == 403
    res = env.app.post_json("/api/v1/agents/1001/pause", {}, headers=alice, expect_errors=True)
    assert res.status_int == 422 and res.json["fields"] == {"reason": "required"}
    assert env.app.post("/api/v1/agents/1002/unpause", headers=token_for(env, "sup")).json["paused"] is False
    assert env.deps.agents.calls == [("pause", "1001", "lunch"), ("unpause", "1002")]


def read_events(env, headers, publish):
    """Open /api/v1/events, publish while it is open, return the events received."""
    import gevent
    from gevent.event import Event

    bus, subscribed = env.deps.bus, Event()
    subscribe = bus.subscribe

    def subscribe_and_tell(*args, **kwargs):
        subscription = subscribe(*args, **kwargs)
        subscribed.set()
        return subscription

    def later():  # once the stream has subscribed (it lasts events_max_seconds)
        assert subscribed.wait(5), "the event stream never subscribed"
        for topic, data in publish:
            bus.publish(topic, data)

    bus.subscribe = subscribe_and_tell
    gevent.spawn(later)
    res = env.app.get("/api/v1/events", headers=headers)
    assert res.content_type == "text/event-stream"
    events = []
    for block in res.text.split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line and not line.startswith(":"))
        if "event" in lines:
            events.append((lines["event"], json.loads(lines["data"])))
    return events


CHANGES = [("agent", {"name": "1001", "state": "ringing"}), ("agent", {"name": "1002", "state": "free"}),
           ("call", {"event": "offered", "linkedid": "9.1", "caller": "139", "agent": "", "offered_to": "1001"}),
           ("call", {"event": "answered", "linkedid": "9.2", "caller": "138", "agent": "1002"}),
           ("queue", {"name": "sales", "waiting": 1}), ("queue", {"name": "support", "waiting": 2})]


def test_event_stream_shows_staff_everything(env):
    events = read_events(env, token_for(env, "sup"), CHANGES)
    assert events == CHANGES
    assert env.deps.bus._subs == set()  # the stream ended and unsubscribed


def test_event_stream_shows_an_agent_only_their_own(env):
    cfg = env.deps.config
    seed_agents(cfg)
    cfg.add_member("sales", "1001", actor="t")
    events = read_events(env, token_for(env, "alice"), CHANGES)
    assert events == [CHANGES[0], CHANGES[2], CHANGES[4]]  # 1001's state, the call offered to 1001, sales


class Calls:
    """Stands in for CallControl (which needs AMI): records each call-control step."""

    def __init__(self):
        self.steps = []

    def __getattr__(self, method):
        def step(agent, *args, actor):
            self.steps.append((method, agent, *args, actor))
            return {"agent": agent, "step": method}
        return step


def test_call_control_steps_through_the_api(env):
    seed_agents(env.deps.config)
    env.deps.calls = calls = Calls()
    app = webtest.TestApp(make_app(env.deps))
    alice, sup = token_for(env, "alice"), token_for(env, "sup")
    for path in ("hold", "unhold", "consult/complete", "consult/cancel", "conference", "hangup"):
        assert app.post(f"/api/v1/agents/1001/{path}", headers=alice).status_int == 200
        assert app.post(f"/api/v1/agents/1002/{path}", headers=alice, expect_errors=True).status_int == 403
    app.post_json("/api/v1/agents/1001/consult", {"to_kind": "agent", "to": "1002"}, headers=alice)
    app.post("/api/v1/agents/1002/hold", headers=sup)  # staff may act on anyone's call
    assert calls.steps == [("hold", "1001", "alice"), ("unhold", "1001", "alice"),
                           ("complete_transfer", "1001", "alice"), ("cancel_consult", "1001", "alice"),
                           ("conference", "1001", "alice"), ("end_call", "1001", "alice"),
                           ("consult", "1001", "agent", "1002", "alice"),
                           ("hold", "1002", "sup")]


def test_a_route_without_roles_is_a_build_error(env):
    """A route that declares no ``roles=`` cannot slip in unguarded: the app does not build."""
    import bottle

    from webui.plugins import AuthPlugin

    app = bottle.Bottle()
    app.install(AuthPlugin(env.deps.users))
    app.route("/forgotten", "GET", lambda: "open", name="forgotten")
    with pytest.raises(RuntimeError, match="declares no roles"):
        plugins.route_roles(app.routes[0])
    with pytest.raises(RuntimeError, match="declares no roles"):
        app.routes[0].prepare()  # what bottle does at the route's first request
    app.route("/guarded", "GET", lambda: "ok", name="guarded", roles=frozenset({"admin"}))
    assert plugins.route_roles(app.routes[1]) == {"admin"}
    with pytest.raises(RuntimeError, match="roles="):
        app.route("/typo", "GET", lambda: "ok", name="typo", roles="admin")
        plugins.route_roles(app.routes[2])


def test_make_app_refuses_an_area_route_without_roles(env, monkeypatch):
    from webui import app as webui_app
    from webui.areas import status

    real = status.install

    def install(app, deps):
        real(app, deps)
        app.route("/api/v1/forgotten", "GET", lambda: {}, name="api_forgotten")

    monkeypatch.setattr(status, "install", install)
    with pytest.raises(RuntimeError, match="api_forgotten.*declares no roles"):
        webui_app.make_app(env.deps)


def test_an_api_route_without_its_description_is_a_build_error(env):
    """An API route with roles but no ``api=Operation(...)`` beside it: the OpenAPI document
    does not build (and the test above, comparing it with the app, fails)."""
    import bottle

    from webui import openapi
    from webui.apidoc import Operation

    app = bottle.Bottle()
    app.route("/api/v1/described", "GET", lambda: {}, name="api_described", roles=EVERYONE,
              api=Operation({"summary": "described", "responses": {"200": {"description": "ok"}}}))
    assert "/api/v1/described" in openapi.build(app, env.deps.config)["paths"]
    app.route("/api/v1/undescribed", "GET", lambda: {}, name="api_undescribed", roles=EVERYONE)
    with pytest.raises(RuntimeError, match="api_undescribed.*no OpenAPI description"):
        openapi.build(app, env.deps.config)
