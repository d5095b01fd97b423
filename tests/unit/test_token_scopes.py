"""Scoped API tokens (issue 22 point 2): every route under /api/ declares the scope it needs
beside its roles; a token limited to scopes reaches only those routes (403 ``auth.scope``
naming the scope needed), a token limited to addresses only from them (403 ``auth.address``,
audited); a token with neither keeps its owner's full role; the OpenAPI document says which
scope each operation needs."""

from __future__ import annotations

import json

import pytest

from appliance.db import models as m
from appliance.services import token_scopes
from appliance.services.token_scopes import ANY, FULL, SCOPES, address_allowed, allows, parse_addresses, parse_scopes
from appliance.errors import ValidationError
from test_webui import concrete, env, session_for, token_for  # noqa: F401  (env is a fixture)
from webui import plugins

PEER = {"REMOTE_ADDR": "192.0.2.7"}


def api_routes(app):
    """Every route under /api/ the app serves now: whatever areas exist at merge time."""
    return [r for r in app.routes if r.rule.startswith("/api/")]


def bearer(env, scopes=None, addresses=None, owner="admin") -> dict:
    token = env.users.create_token(env.ids[owner], f"t{len(env.users.list_tokens(env.ids[owner]))}",
                                   scopes=scopes, addresses=addresses)
    return {"Authorization": "Bearer " + token}


# -- the pure rules ----------------------------------------------------------------------------
def test_a_scope_reaches_its_routes_and_what_it_includes_only():
    assert allows((), "config") and allows((), FULL) and allows((), ANY)  # no scopes: the full role
    assert allows(("calls:read",), "calls:read") and allows(("calls:read",), ANY)
    assert not allows(("calls:read",), "calls:control") and not allows(("calls:read",), FULL)
    assert allows(("customers:write",), "customers:read") and not allows(("customers:read",), "customers:write")
    assert allows(("orders:write",), "orders:read") and not allows(("orders:write",), "customers:read")


def test_addresses_ipv4_ipv6_and_mapped():
    nets = parse_addresses("10.1.0.0/16, 192.0.2.10 2001:db8::/32")
    assert nets == ("10.1.0.0/16", "192.0.2.10/32", "2001:db8::/32")
    assert address_allowed(nets, "10.1.200.3") and address_allowed(nets, "192.0.2.10")
    assert not address_allowed(nets, "10.2.0.1") and not address_allowed(nets, "192.0.2.11")
    assert address_allowed(nets, "2001:db8:5::1") and not address_allowed(nets, "2001:db9::1")
    assert address_allowed(nets, "::ffff:10.1.0.9")  # an IPv4 client on an IPv6 socket
    assert not address_allowed(nets, "unknown") and not address_allowed(nets, "")
    assert address_allowed((), "anything")  # no list: any address
    assert parse_addresses(["10.1.2.3/16", "10.1.0.0/16"]) == ("10.1.0.0/16",)  # normalised, once


@pytest.mark.parametrize("scopes, field", [(["calls:write"], "scopes"), ("everything", "scopes"), ([7], "scopes")])
def test_unknown_scopes_are_refused(scopes, field):
    with pytest.raises(ValidationError) as raised:
        parse_scopes(scopes)
    assert field in raised.value.fields and raised.value.code == "token.invalid"


@pytest.mark.parametrize("addresses", ["10.0.0.0/33", "example.com", ["1.2.3.4", None], "10.0.0.1/8x",
                                       " ".join(f"10.0.{i}.0/24" for i in range(33))])
def test_bad_addresses_are_refused(addresses):
    with pytest.raises(ValidationError) as raised:
        parse_addresses(addresses)
    assert "addresses" in raised.value.fields


# -- the declarations ---------------------------------------------------------------------------
def test_every_api_route_declares_a_scope(env):
    routes = api_routes(env.app.app)
    assert len(routes) > 150
    for route in routes:
        assert plugins.route_scope(route) in token_scopes.DECLARABLE, (route.method, route.rule)
    declared = {plugins.route_scope(r) for r in routes}
    assert declared == set(SCOPES) | {ANY, FULL}  # each scope reaches something; nothing undeclared


def test_make_app_refuses_an_api_route_without_a_scope(env, monkeypatch):
    from webui import app as webui_app
    from webui.areas import status
    from webui.http import EVERYONE

    real = status.install

    def install(app, deps):
        real(app, deps)
        app.route("/api/v1/unscoped", "GET", lambda: {}, name="api_unscoped", roles=EVERYONE)

    monkeypatch.setattr(status, "install", install)
    with pytest.raises(RuntimeError, match="api_unscoped.*declares no scope="):
        webui_app.make_app(env.deps)

    def install_typo(app, deps):
        real(app, deps)
        app.route("/api/v1/typo", "GET", lambda: {}, name="api_typo", roles=EVERYONE, scope="calls")

    monkeypatch.setattr(status, "install", install_typo)
    with pytest.raises(RuntimeError, match="api_typo.*scope='calls', which is no scope"):
        webui_app.make_app(env.deps)


def test_a_token_of_each_scope_walks_every_api_route(env):
    """Every route under /api/ (read from the app, so routes added later are walked too), with
    an admin's token of each scope: refused with 403 ``auth.scope`` naming the declared scope
    exactly when the declaration says so; a token with no scopes reaches every route as its
    role always did.  An admin's tokens, so the role never refuses."""
    token_for(env, "bob")  # token 1, which DELETE /api/v1/tokens/1 aims at, is not one of the walkers'
    env.deps.events_max_seconds = 0.05  # the event stream answers, then ends at once
    tokens = {scope: bearer(env, [scope]) for scope in SCOPES}
    full = token_for(env, "admin")
    for route in api_routes(env.app.app):
        if route.config["roles"] == plugins.PUBLIC:
            continue
        needed = route.config["scope"]
        path = concrete(route.rule)
        for scope, headers in [*tokens.items(), (None, full)]:
            res = env.app.request(path, method=route.method, headers=headers, environ=dict(PEER), expect_errors=True)
            where = (scope, needed, route.method, route.rule, res.status)
            if scope is None or needed == ANY or scope == needed or needed in token_scopes.IMPLIES.get(scope, ()):
                assert not (res.status_int == 403 and res.json.get("error") == "auth.scope"), where
            else:
                assert res.status_int == 403, where
                assert res.json["error"] == "auth.scope" and res.json["params"] == {"scope": needed}, where


def test_a_scope_never_gives_more_than_the_role(env):
    agent_config = bearer(env, ["config"], owner="alice")
    res = env.app.get("/api/v1/users", headers=agent_config, expect_errors=True)
    assert res.status_int == 403 and res.json["error"] == "forbidden"


def test_a_scoped_token_cannot_make_tokens_and_a_browser_session_is_not_limited(env):
    scoped = bearer(env, ["calls:read"])
    res = env.app.post_json("/api/v1/tokens", {"name": "wider"}, headers=scoped, expect_errors=True)
    assert res.status_int == 403 and res.json["error"] == "auth.scope" and res.json["params"] == {"scope": FULL}
    assert env.app.get("/api/v1/me", headers=scoped).json["username"] == "admin"  # any token
    cookie, csrf = session_for(env, "admin")
    made = env.app.post_json("/api/v1/tokens", {"name": "crm", "scopes": ["customers:write", "calls:read"],
                                                "addresses": ["10.1.0.0/16", "2001:db8::1"]},
                             headers={**cookie, "X-CSRF-Token": csrf})
    assert made.status_int == 201
    assert made.json["scopes"] == ["calls:read", "customers:write"]
    assert made.json["addresses"] == ["10.1.0.0/16", "2001:db8::1/128"]
    listed = env.app.get("/api/v1/tokens", headers=cookie).json["items"][-1]
    assert (listed["scopes"], listed["addresses"]) == (made.json["scopes"], made.json["addresses"])
    assert env.app.get("/api/v1/users", headers=cookie).status_int == 200  # the session: its role only
    for bad, field in (({"scopes": "calls:read"}, "scopes"), ({"scopes": ["calls:write"]}, "scopes"),
                       ({"addresses": ["10.0.0.0/40"]}, "addresses")):
        res = env.app.post_json("/api/v1/tokens", {"name": "bad", **bad}, headers={**cookie, "X-CSRF-Token": csrf},
                                expect_errors=True)
        assert res.status_int == 422 and field in res.json["fields"], bad


def test_a_token_is_refused_outside_its_addresses_and_the_refusal_is_audited(env):
    v4 = bearer(env, ["calls:read"], ["10.1.0.0/16"])
    v6 = bearer(env, None, ["2001:db8::/32"])
    assert env.app.get("/api/v1/live", headers=v4, extra_environ={"REMOTE_ADDR": "10.1.4.4"}).status_int == 200
    assert env.app.get("/api/v1/live", headers=v4, extra_environ={"REMOTE_ADDR": "::ffff:10.1.4.4"}).status_int == 200
    assert env.app.get("/api/v1/users", headers=v6, extra_environ={"REMOTE_ADDR": "2001:db8:1::9"}).status_int == 200
    # X-Forwarded-For is anyone's to send: the peer's own address decides
    for headers, peer in ((v4, "192.0.2.7"), (v6, "2001:db9::1"), (v6, "10.1.4.4")):
        res = env.app.get("/api/v1/live", headers={**headers, "X-Forwarded-For": "10.1.4.4, 2001:db8::1"},
                          extra_environ={"REMOTE_ADDR": peer}, expect_errors=True)
        assert res.status_int == 403 and res.json["error"] == "auth.address", peer
        # nothing of the token: neither its name, scopes nor addresses
        assert not {"10.1.0.0", "2001:db8::", "calls:read", "t0", "t1"} & set(json.dumps(res.json).split('"'))
        assert "10.1" not in res.json["message"] and "scope" not in res.json["message"]
    # refused before the scope and the role: a wrong address learns nothing of either
    res = env.app.get("/api/v1/users", headers=v4, extra_environ=PEER, expect_errors=True)
    assert res.json["error"] == "auth.address"
    refused = list(m.AuditLog.select().where(m.AuditLog.action == "refused").order_by(m.AuditLog.id))
    ids = {t["addresses"][0]: t["id"] for t in env.users.list_tokens(env.ids["admin"]) if t["addresses"]}
    # once per token and source (the second try from 192.0.2.7 was not written again)
    assert [(r.username, r.object_type, r.object_id, json.loads(r.detail)) for r in refused] == [
        ("admin", "api_tokens", str(ids["10.1.0.0/16"]), {"source": "192.0.2.7"}),
        ("admin", "api_tokens", str(ids["2001:db8::/32"]), {"source": "2001:db9::1"}),
        ("admin", "api_tokens", str(ids["2001:db8::/32"]), {"source": "10.1.4.4"})]
    assert "cc_" not in "".join(r.detail for r in refused)


def test_the_openapi_document_names_each_operations_scope(env):
    spec = env.app.get("/api/openapi.json", headers=token_for(env, "admin")).json
    bearer_scheme = spec["components"]["securitySchemes"]["bearerAuth"]
    assert set(bearer_scheme["x-scopes"]) == set(SCOPES) and "full access" in bearer_scheme["description"]
    by_name = {r.name: r for r in api_routes(env.app.app)}
    seen = set()
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            name = op["operationId"] if op["operationId"] in by_name else op["operationId"].rsplit("_", 1)[0]
            name = name if name in by_name else next(n for n in by_name if op["operationId"].startswith(n + "_"))
            declared = by_name[name].config["scope"]
            seen.add(name)
            if by_name[name].config["roles"] == plugins.PUBLIC:
                assert op["security"] == [], path
                continue
            assert op["x-token-scope"] == declared, (method, path)
            assert op["security"] == [{"bearerAuth": [declared] if declared in SCOPES else []}, {"cookieAuth": []}]
    assert seen == set(by_name)
    assert spec["paths"]["/api/v1/recordings/{linkedid}/audio"]["get"]["security"][0] == {
        "bearerAuth": ["recordings:read"]}
    assert spec["paths"]["/api/v1/tokens"]["post"]["x-token-scope"] == FULL
