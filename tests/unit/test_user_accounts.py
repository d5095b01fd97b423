"""Accounts through the real web app (WebTest) and a real SQLite file: an admin adds an
agent's account who can then sign in, changes a role, switches an account off (its open
session ends), sets a new password; bad input is refused per field; nobody demotes or
switches off themselves, and the last active admin stays one; a new password ends the
sessions signed in with the old one, except the one of whoever chose it for themselves."""

from __future__ import annotations

import pytest
import webtest

from appliance.db import models as m
from appliance.errors import Conflict
from test_webui import PASSWORD, env, sign_in  # noqa: F401  (env is a fixture)


def form_post(app, path, form_id, **fields):
    page = app.get(path)
    form = page.forms[form_id]
    for name, value in fields.items():
        form[name] = value
    return form.submit(expect_errors=True)


def test_an_admin_adds_an_account_that_signs_in_and_is_audited(env):  # noqa: F811
    sign_in(env.app, "admin")
    res = form_post(env.app, "/admin/users", "user-new", username="carol", role="agent", language="en",
                    password="carol-secret-1")
    assert res.status_int == 302
    assert 'data-user="carol"' in env.app.get("/admin/users").text
    other = webtest.TestApp(env.app.app)
    assert sign_in(other, "carol", "carol-secret-1").status_int == 302
    assert other.get("/").status_int == 200
    assert m.AuditLog.get(m.AuditLog.object_type == "users").object_id == "carol"
    assert '<option value="carol"' in env.app.get("/admin/agents").text  # an agent can be linked to it


def test_bad_accounts_are_refused_per_field(env):  # noqa: F811
    sign_in(env.app, "admin")
    res = form_post(env.app, "/admin/users", "user-new", username="bad name!", role="agent", password="x")
    assert res.status_int == 422 and "letters, digits" in res.text
    res = form_post(env.app, "/admin/users", "user-new", username="alice", role="agent", password="long-enough-1")
    assert res.status_int == 409 and "already" in res.text
    res = form_post(env.app, "/admin/users", "user-new", username="dave", role="agent", password="short")
    assert res.status_int == 422 and "at least 8 characters" in res.text
    assert m.User.select().where(m.User.username.in_(["dave", "bad name!"])).count() == 0


def test_switching_an_account_off_ends_its_session_and_a_new_password_works(env):  # noqa: F811
    bob = webtest.TestApp(env.app.app)
    sign_in(bob, "bob")
    assert bob.get("/").status_int == 200
    sign_in(env.app, "admin")
    res = form_post(env.app, "/admin/users", f"u-{env.ids['bob']}", active=False)
    assert res.status_int == 302
    assert bob.get("/").status_int == 302  # signed out at once
    assert sign_in(webtest.TestApp(env.app.app), "bob").status_int == 401
    form_post(env.app, "/admin/users", f"u-{env.ids['bob']}", active=True, password="bobs-new-secret", role="supervisor")
    assert env.users.authenticate("bob", "bobs-new-secret")["role"] == "supervisor"
    assert env.users.authenticate("bob", PASSWORD) is None


def test_a_new_password_ends_the_sessions_signed_in_with_the_old_one(env):  # noqa: F811
    bob = webtest.TestApp(env.app.app)
    sign_in(bob, "bob")
    assert bob.get("/").status_int == 200
    sign_in(env.app, "admin")
    assert form_post(env.app, "/admin/users", f"u-{env.ids['bob']}", password="bobs-new-secret").status_int == 302
    assert bob.get("/").status_int == 302  # the old password's session is over (a stolen cookie too)
    assert sign_in(bob, "bob", "bobs-new-secret").status_int == 302 and bob.get("/").status_int == 200
    # the admin's own new password: this browser stays signed in, another of theirs does not
    elsewhere = webtest.TestApp(env.app.app)
    sign_in(elsewhere, "admin")
    assert form_post(env.app, "/admin/users", f"u-{env.ids['admin']}", role="admin",
                     password="admins-new-secret").status_int == 302
    assert env.app.get("/admin/users").status_int == 200
    assert elsewhere.get("/").status_int == 302
    # the console's password reset (UserService.set_password) ends them the same way
    env.users.set_password("bob", "bobs-third-secret")
    assert bob.get("/").status_int == 302


def test_nobody_demotes_themselves_and_the_last_admin_stays(env):  # noqa: F811
    sign_in(env.app, "admin")
    res = form_post(env.app, "/admin/users", f"u-{env.ids['admin']}", role="agent")
    assert res.status_int == 409 and "not for your own account" in res.text
    res = form_post(env.app, "/admin/users", f"u-{env.ids['admin']}", active=False)
    assert res.status_int == 409
    assert env.users.get(env.ids["admin"])["role"] == "admin"
    env.users.create("root2", "second-admin-1", "admin")
    other = webtest.TestApp(env.app.app)
    sign_in(other, "root2", "second-admin-1")
    form_post(other, "/admin/users", f"u-{env.ids['admin']}", role="supervisor")  # allowed: root2 is still admin
    assert env.users.get(env.ids["admin"])["role"] == "supervisor"
    with pytest.raises(Conflict) as info:  # root2 is now the last active admin
        env.users.update("root2", {"active": False}, actor="admin")
    assert info.value.code == "user.last_admin"


def test_the_api_and_who_may_use_it(env):  # noqa: F811
    token = env.users.create_token(env.ids["admin"], "t")
    auth = {"Authorization": f"Bearer {token}"}
    res = env.app.post_json("/api/v1/users", {"username": "erin", "password": "erin-secret-1", "role": "supervisor"},
                            headers=auth)
    assert res.status_int == 201 and res.json["role"] == "supervisor" and res.json["language"] == "zh_CN"
    # no language given: the site's, as the wizard set it
    env.deps.site.save_region(env.users.get(env.ids["admin"]), "Europe/London", "en")
    res = env.app.post_json("/api/v1/users", {"username": "fred", "password": "fred-secret-1", "role": "agent"},
                            headers=auth)
    assert res.json["language"] == "en"
    res = env.app.patch_json("/api/v1/users/erin", {"language": "en", "colour": "red"}, headers=auth,
                             expect_errors=True)
    assert res.status_int == 422 and "colour" in res.json["fields"]
    assert env.app.patch_json("/api/v1/users/erin", {"language": "en"}, headers=auth).json["language"] == "en"
    agent = {"Authorization": f"Bearer {env.users.create_token(env.ids['alice'], 't')}"}
    assert env.app.get("/api/v1/users", headers=agent, expect_errors=True).status_int == 403
    sign_in(env.app, "sup")
    assert env.app.get("/admin/users", expect_errors=True).status_int == 403
