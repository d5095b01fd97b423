"""The web UI and API: the real Bottle app in process, a real SQLite file, real services.
Only the telephony side (agent sign-in through AMI, health, live state) is stood in for."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import webtest

from appliance.db import open_database
from appliance.db.migrate import migrate
from appliance.errors import Unavailable
from appliance.services.config import KINDS, ConfigService
from appliance.services.users import UserService
from webui import i18n, plugins
from webui.app import WebDeps, make_app

PASSWORD = "correct-horse-9"


class Agents:
    """Stands in for AgentService (which needs AMI); records what it was asked."""

    def __init__(self):
        self.calls = []
        self.down = False

    def login(self, number):
        if self.down:
            raise Unavailable("the telephony engine is not connected", code="ami.unavailable")
        self.calls.append(("login", number))
        return {"agent": number, "logged_in": True, "queues": ["sales"]}

    def logout(self, number):
        self.calls.append(("logout", number))
        return {"agent": number, "logged_in": False}


LIVE = {"queues": [{"name": "sales", "waiting": 1, "longest_wait": 4.2, "members": ["1001"]}],
        "agents": [{"name": "1001", "interface": "PJSIP/1001", "state": "in_call", "since": 0,
                    "in_state_seconds": 3.0, "queues": ["sales"]},
                   {"name": "1002", "interface": "PJSIP/1002", "state": "free", "since": 0,
                    "in_state_seconds": 9.0, "queues": ["support"]}],
        "calls": [{"linkedid": "1.1", "caller": "13800000001", "caller_name": "", "did": "88001000",
                   "queue": "sales", "agent": "1001", "state": "talking", "duration": 12.0}]}


@pytest.fixture
def env(tmp_path):
    db = open_database(tmp_path / "web.db")
    migrate(db)
    users = UserService(db)
    health = {"status": "ok", "uptime_seconds": 5, "components": {
        c: {"up": True, "state": "ok"} for c in ("asterisk", "ami", "agi", "db")}}
    applied = []
    deps = WebDeps(db=db, config=ConfigService(db, on_change=lambda: applied.append(1)), users=users,
                   agents=Agents(), health=lambda: health, live=lambda: LIVE, secret_key=b"k" * 32)
    app = webtest.TestApp(make_app(deps))
    for name, role in (("admin", "admin"), ("sup", "supervisor"), ("alice", "agent"), ("bob", "agent")):
        users.create(name, PASSWORD, role, language="en")
    env = type("Env", (), {})()
    env.db, env.deps, env.app, env.users, env.health, env.applied = db, deps, app, users, health, applied
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
    user = [u for u in env.users.list() if u["username"] == username][0]
    return {"Authorization": "Bearer " + env.users.create_token(user["id"], "test")}


def concrete(rule: str) -> str:
    path = re.sub(r"<kind:[^>]*>", "queues", rule)
    path = re.sub(r"<token_id:int>", "1", path)
    path = re.sub(r"<action:[^>]*>", "login", path)
    path = re.sub(r"<filename:path>", "app.css", path)
    return re.sub(r"<[^>]+>", "x", path)


# -- sign-in and sessions -----------------------------------------------------------
def test_sign_in_and_out(env):
    assert env.app.get("/").status_int == 302
    bad = sign_in(env.app, "admin", "wrong-password")
    assert bad.status_int == 401
    assert "Wrong user name or password" in bad.text
    ok = sign_in(env.app, "admin")
    assert ok.status_int == 302 and ok.location.endswith("/")
    home = ok.follow()
    assert "sales" in home.text and "13800000001" in home.text and "in a call" in home.text
    env.app.post("/logout", {"csrf_token": csrf_of(home)})
    assert env.app.get("/").status_int == 302


def test_forged_or_expired_session_is_anonymous(env):
    cookie, _ = plugins.sign_session(b"other-key" * 4, 1, 3600)
    env.app.set_cookie(plugins.SESSION_COOKIE, cookie)
    assert env.app.get("/").status_int == 302
    expired, _ = plugins.sign_session(env.deps.secret_key, 1, -1)
    env.app.set_cookie(plugins.SESSION_COOKIE, expired)
    assert env.app.get("/").status_int == 302
    assert plugins.read_session(b"k", "garbage") is None and plugins.read_session(b"k", "a.b") is None


def test_redirect_after_login_stays_on_this_site(env):
    page = env.app.get("/login?next=//evil.example/")
    form = page.forms[0]
    form["username"], form["password"] = "admin", PASSWORD
    assert form.submit().location.endswith("/") and "evil" not in form.submit().location


# -- who may do what ------------------------------------------------------------------
def test_every_route_is_in_the_role_table_and_refuses_anonymous(env):
    app = env.app.app
    public = {"login_form", "login", "static", "health"}
    for route in app.routes:
        assert route.name in plugins.ROUTE_ROLES, route.rule
        if route.name in public:
            continue
        res = env.app.request(concrete(route.rule), method=route.method, expect_errors=True)
        if route.rule.startswith("/api/"):
            assert res.status_int == 401, (route.method, route.rule, res.status)
            assert res.json["error"] == "unauthorized"
        else:
            assert res.status_int == 302 and "/login" in res.location, (route.method, route.rule)


def test_roles_are_enforced_route_by_route(env):
    app = env.app.app
    headers = {name: token_for(env, name) for name in ("admin", "sup", "alice")}
    role_of = {"admin": "admin", "sup": "supervisor", "alice": "agent"}
    for route in app.routes:
        allowed = plugins.ROUTE_ROLES[route.name]
        if not route.rule.startswith("/api/v1/") or allowed is None:
            continue
        for name, h in headers.items():
            res = env.app.request(concrete(route.rule), method=route.method, headers=h, expect_errors=True)
            if role_of[name] in allowed:
                assert res.status_int != 403 or res.json["error"] != "forbidden" or "agent" in route.name, \
                    (name, route.rule)
            else:
                assert res.status_int == 403, (name, route.method, route.rule, res.status)


def test_agent_signs_only_themselves_in(env):
    cfg = env.deps.config
    cfg.create("phones", {"extension": "1001", "secret": "pw-1001-secret"}, actor="t")
    cfg.create("agents", {"number": "1001", "name": "Alice", "phone": "1001", "user": "alice"}, actor="t")
    cfg.create("agents", {"number": "1002", "name": "Bob", "user": "bob"}, actor="t")
    alice = token_for(env, "alice")
    assert env.app.post("/api/v1/agents/1001/login", headers=alice).json["logged_in"] is True
    assert env.app.post("/api/v1/agents/1002/login", headers=alice, expect_errors=True).status_int == 403
    assert env.app.post("/api/v1/agents/1002/logout", headers=token_for(env, "sup")).json["logged_in"] is False
    env.deps.agents.down = True
    res = env.app.post("/api/v1/agents/1001/login", headers=alice, expect_errors=True)
    assert res.status_int == 503 and res.json["error"] == "ami.unavailable"
    # an agent's live view holds only their own agent, queues and calls
    live = env.app.get("/api/v1/live", headers=alice).json
    assert [a["name"] for a in live["agents"]] == ["1001"] and [q["name"] for q in live["queues"]] == ["sales"]
    assert len(env.app.get("/api/v1/live", headers=token_for(env, "sup")).json["agents"]) == 2


def test_csrf_is_required_for_cookie_sessions_only(env):
    home = sign_in(env.app, "admin").follow()
    res = env.app.post("/admin/queues", {"name": "sales"}, expect_errors=True)
    assert res.status_int == 403
    res = env.app.post_json("/api/v1/queues", {"name": "sales"}, expect_errors=True)
    assert res.status_int == 403 and res.json["error"] == "csrf_failed"
    res = env.app.post_json("/api/v1/queues", {"name": "sales"}, headers={"X-CSRF-Token": csrf_of(home)})
    assert res.status_int == 201
    fresh = webtest.TestApp(env.app.app)
    assert fresh.post_json("/api/v1/queues", {"name": "support"}, headers=token_for(env, "admin")).status_int == 201


# -- the configuration API -----------------------------------------------------------------
def test_config_api_crud_applies_and_audits(env):
    h = token_for(env, "admin")
    app = env.app
    assert app.post_json("/api/v1/trunks", {"name": "pstn", "host": "10.0.0.1", "match": "10.0.0.1",
                                             "secret": "trunk-secret"}, headers=h).status_int == 201
    assert app.post_json("/api/v1/queues", {"name": "sales", "strategy": "leastrecent"}, headers=h).status_int == 201
    assert app.post_json("/api/v1/dids", {"number": "88001000", "queue": "sales"}, headers=h).status_int == 201
    assert app.post_json("/api/v1/phones", {"extension": "1001", "secret": "pw-1001-secret"}, headers=h).status_int == 201
    assert app.post_json("/api/v1/agents", {"number": "1001", "name": "Alice", "phone": "1001"}, headers=h).status_int == 201
    assert app.post_json("/api/v1/queues/sales/members", {"agent": "1001", "penalty": 2}, headers=h).status_int == 201
    assert app.get("/api/v1/queues/sales/members", headers=h).json["items"] == [
        {"queue": "sales", "agent": "1001", "penalty": 2}]
    assert len(env.applied) == 6
    trunk = app.get("/api/v1/trunks/pstn", headers=h).json
    assert trunk["has_secret"] is True and "trunk-secret" not in json.dumps(trunk)
    assert app.patch_json("/api/v1/queues/sales", {"ring_timeout": 25}, headers=h).json["ring_timeout"] == 25
    assert [q["name"] for q in app.get("/api/v1/queues", headers=h).json["items"]] == ["sales"]
    res = app.delete("/api/v1/queues/sales", headers=h, expect_errors=True)
    assert res.status_int == 409 and "88001000" in res.json["message"]
    assert app.delete("/api/v1/queues/sales/members/1001", headers=h).status_int == 204
    assert app.delete("/api/v1/dids/88001000", headers=h).status_int == 204
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
    res = app.post_json("/api/v1/queues", {"name": "Sales!", "ring_timeout": "x"}, headers=h, expect_errors=True)
    assert res.status_int == 422 and set(res.json["fields"]) == {"name", "ring_timeout"}
    app.post_json("/api/v1/queues", {"name": "sales"}, headers=h)
    res = app.post_json("/api/v1/queues", {"name": "sales"}, headers=h, expect_errors=True)
    assert res.status_int == 409
    assert app.get("/api/v1/queues/nope", headers=h, expect_errors=True).status_int == 404
    assert app.get("/api/v1/widgets", headers=h, expect_errors=True).json["error"] == "not_found"
    assert app.get("/api/v1/audit?limit=lots", headers=h, expect_errors=True).status_int == 422


def test_unexpected_failure_is_a_500_with_an_id_and_no_traceback(env, caplog):
    def broken():
        raise RuntimeError("secret internals")

    env.deps.live = broken
    res = env.app.get("/api/v1/live", headers=token_for(env, "admin"), expect_errors=True)
    assert res.status_int == 500 and res.json["error_id"]
    assert "secret internals" not in res.text and "Traceback" not in res.text
    assert res.json["error_id"] in caplog.text and "secret internals" in caplog.text


def test_health_is_public_and_503_when_down(env):
    assert env.app.get("/api/health").json["components"]["asterisk"]["up"] is True
    env.health["status"] = "down"
    assert env.app.get("/api/health", expect_errors=True).status_int == 503


def test_tokens_through_the_api(env):
    h = token_for(env, "sup")
    made = env.app.post_json("/api/v1/tokens", {"name": "wallboard"}, headers=h).json
    assert env.app.get("/api/v1/me", headers={"Authorization": "Bearer " + made["token"]}).json["username"] == "sup"
    items = env.app.get("/api/v1/tokens", headers=h).json["items"]
    env.app.delete(f"/api/v1/tokens/{items[-1]['id']}", headers=h)
    assert env.app.get("/api/v1/me", headers={"Authorization": "Bearer " + made["token"]},
                       expect_errors=True).status_int == 401


# -- OpenAPI ---------------------------------------------------------------------------------
def test_openapi_covers_every_api_route_and_is_valid(env):
    from openapi_spec_validator import validate

    spec = env.app.get("/api/openapi.json", headers=token_for(env, "admin")).json
    validate(spec)
    documented = {(m.upper(), p) for p, ops in spec["paths"].items() for m in ops}
    served = set()
    for route in env.app.app.routes:
        if not route.rule.startswith("/api/"):
            continue
        path = re.sub(r"<([a-z_]+)(:[^>]*)?>", r"{\1}", route.rule)
        for kind in (KINDS if "{kind}" in path else [None]):
            served.add((route.method, path.replace("{kind}", kind) if kind else path))
    assert documented == served
    create = spec["components"]["schemas"]["QueueCreate"]
    assert create["required"] == ["name"] and "ringall" in create["properties"]["strategy"]["enum"]
    assert spec["paths"]["/api/health"]["get"]["security"] == []


# -- pages and languages --------------------------------------------------------------------
def test_admin_form_shows_the_error_next_to_the_field_and_keeps_input(env):
    page = sign_in(env.app, "admin").follow().click(href="/admin/queues")
    form = last_form(page)
    form["name"], form["ring_timeout"] = "Bad Name", "2"
    res = form.submit(expect_errors=True)
    assert res.status_int == 422
    assert re.search(r'has-error">\s*<span>Name', res.text) and "at least 5" in res.text
    assert 'value="Bad Name"' in res.text
    form = last_form(res)
    form["name"], form["ring_timeout"] = "sales", "20"
    assert form.submit().follow().status_int == 200
    assert env.deps.config.get("queues", "sales")["ring_timeout"] == 20


def test_pages_render_for_each_role_and_in_chinese(env):
    page = sign_in(env.app, "admin").follow()
    for url in ["/admin/" + k for k in KINDS] + ["/admin/audit", "/account"]:
        assert env.app.get(url).status_int == 200
    env.app.post("/account/language", {"language": "zh_CN", "csrf_token": csrf_of(page)})
    zh = env.app.get("/")
    assert "实时监控" in zh.text and "通话中" in zh.text and "排队数" in zh.text
    env.deps.config.create("queues", {"name": "sales"}, actor="t")
    assert "成员" in env.app.get("/admin/queues").text
    agent = webtest.TestApp(env.app.app)
    sign_in(agent, "alice")
    assert agent.get("/admin/queues", expect_errors=True).status_int == 403
    assert "Configuration" not in agent.get("/").text


def test_login_page_language_from_browser_or_query(env):
    assert "登录" in env.app.get("/login", headers={"Accept-Language": "zh-CN,zh;q=0.9"}).text
    assert "Sign in" in env.app.get("/login?lang=en", headers={"Accept-Language": "zh-CN"}).text


def test_unknown_page_and_method(env):
    assert env.app.get("/nope", expect_errors=True).status_int == 404
    assert env.app.get("/api/nope", expect_errors=True).json["error"] == "not_found"


def test_account_token_is_shown_once(env):
    page = sign_in(env.app, "admin").follow().click(href="/account")
    form = last_form(page)
    form["name"] = "crm"
    shown = form.submit()
    token = re.search(r'id="new-token">([^<]+)<', shown.text).group(1)
    assert env.users.user_for_token(token)["username"] == "admin"
    assert token not in env.app.get("/account").text


# -- catalogs ---------------------------------------------------------------------------------
def test_catalogs_are_complete_and_every_used_id_exists():
    en, zh = i18n.catalog("en"), i18n.catalog("zh_CN")
    assert set(en) == set(zh)
    assert all(v.strip() for v in list(en.values()) + list(zh.values()))
    for key in en:  # the same placeholders in both languages
        assert set(re.findall(r"{(\w+)}", en[key])) == set(re.findall(r"{(\w+)}", zh[key])), key
    root = Path(__file__).resolve().parents[2] / "webui"
    used = set()
    for path in list(root.glob("templates/*.tpl")) + list(root.glob("*.py")):
        used |= set(re.findall(r"""_\(['"]([a-z_]+\.[a-z_.]+)['"]\s*[,)]""", path.read_text()))
        used |= set(re.findall(r"""translate\([^,]+, ['"]([a-z_]+\.[a-z_.]+)['"]""", path.read_text()))
    missing = {u for u in used if u not in en}
    assert not missing, missing
    # ids built at run time: per kind, per field, per state
    from appliance.services.config import FIELDS

    dynamic = {f"kind.{k}" for k in KINDS} | {f"admin.add_{k}" for k in KINDS}
    dynamic |= {f"field.{k}.{f.name}" for k, fs in FIELDS.items() for f in fs}
    dynamic |= {f"agent_state.{s}" for s in ("logged_out", "free", "ringing", "in_call", "unavailable", "paused",
                                               "wrapup")}
    dynamic |= {f"call_state.{s}" for s in ("new", "queued", "ringing", "talking", "ended")}
    dynamic |= {f"role.{r}" for r in ("admin", "supervisor", "agent")}
    dynamic |= {f"audit.{a}" for a in ("create", "update", "delete")}
    assert not dynamic - set(en), dynamic - set(en)


def test_field_errors_are_translated():
    assert i18n.field_error("zh_CN", "at most 300") == "不能大于 300"
    assert i18n.field_error("zh_CN", "required") == "必填"
    assert i18n.field_error("en", "something new") == "not valid: something new"
