"""The admin console's gaps (issue 4.4): two admins editing the same object do not silently
overwrite each other (optimistic concurrency on a version, in the service, the API and the
edit form), and every configuration kind explains bad input next to the field."""

from __future__ import annotations

import re

import pytest
import webtest

from appliance.bus import EventBus
from appliance.errors import Conflict
from appliance.services.config import FIELDS, KEYS, KINDS, NO_MARKUP, ConfigService
from appliance.services.users import UserService
from webharness import Agents
from webui import i18n
from webdeps import web_deps
from webui.app import make_app

PASSWORD = "correct-horse-9"
SCRIPT = "<script>alert(1)</script>"


@pytest.fixture
def cfg(db):
    config = ConfigService(db)
    config.create("queues", {"name": "sales", "ring_timeout": 15}, actor="seed")
    return config


@pytest.fixture
def admins(db, cfg):
    """Two admins, each signed in in their own browser (cookie jar), and a token for the API."""
    users = UserService(db)
    for name in ("ann", "ben"):
        users.create(name, PASSWORD, "admin", language="en")
    deps = web_deps(db=db, config=cfg, users=users, agents=Agents(), health=lambda: {"status": "ok"},
                   live=lambda: {"queues": [], "agents": [], "calls": []}, bus=EventBus())
    app = make_app(deps)
    out = {}
    for name in ("ann", "ben"):
        browser = webtest.TestApp(app)
        form = browser.get("/login?lang=en").forms[0]
        form["username"], form["password"] = name, PASSWORD
        form.submit()
        out[name] = browser
    out["token"] = {"Authorization": "Bearer " + users.create_token(users.authenticate("ann", PASSWORD)["id"], "t")}
    return out


def field_div(page, name: str) -> str:
    match = re.search(r'<div class="field[^"]*">\s*<label for="f-%s">.*?</div>' % re.escape(name), page.text, re.S)
    assert match, name
    return match.group(0)


# -- optimistic concurrency ------------------------------------------------------------------
def test_the_service_refuses_a_save_over_a_version_it_did_not_read(cfg):
    read = cfg.get("queues", "sales")["version"]
    cfg.update("queues", "sales", {"ring_timeout": 30}, actor="ben", version=read)
    with pytest.raises(Conflict) as refused:
        cfg.update("queues", "sales", {"ring_timeout": 25}, actor="ann", version=read)
    assert refused.value.code == "queues.changed" and "ben" in refused.value.message
    assert cfg.get("queues", "sales")["ring_timeout"] == 30  # nothing of ann's was saved
    now = cfg.get("queues", "sales")["version"]
    assert now != read
    assert cfg.update("queues", "sales", {"ring_timeout": 25}, actor="ann", version=now)["ring_timeout"] == 25
    # without a version the last save wins, as before (programs that do not send one)
    assert cfg.update("queues", "sales", {"ring_timeout": 20}, actor="x")["ring_timeout"] == 20
    # a secret is part of the version even though it is never shown
    cfg.create("phones", {"extension": "1001", "secret": "first-secret"}, actor="t")
    before = cfg.get("phones", "1001")["version"]
    cfg.update("phones", "1001", {"secret": "second-secret"}, actor="t")
    assert cfg.get("phones", "1001")["version"] != before


def test_the_api_uses_etag_and_if_match(admins):
    api, token = admins["ann"], admins["token"]
    first = api.get("/api/v1/queues/sales", headers=token)
    etag = first.headers["ETag"]
    assert etag == f'"{first.json["version"]}"'
    saved = api.patch_json("/api/v1/queues/sales", {"ring_timeout": 30}, headers={**token, "If-Match": etag})
    assert saved.headers["ETag"] != etag
    stale = api.patch_json("/api/v1/queues/sales", {"ring_timeout": 25}, headers={**token, "If-Match": etag},
                           expect_errors=True)
    assert stale.status_int == 409 and stale.json["error"] == "queues.changed" and "ann" in stale.json["message"]
    assert api.get("/api/v1/queues/sales", headers=token).json["ring_timeout"] == 30
    fresh = api.patch_json("/api/v1/queues/sales", {"ring_timeout": 25},
                           headers={**token, "If-Match": saved.headers["ETag"]})
    assert fresh.json["ring_timeout"] == 25
    assert api.patch_json("/api/v1/queues/sales", {"ring_timeout": 26}, headers={**token, "If-Match": "*"}).json[
        "ring_timeout"] == 26


def test_two_admins_editing_the_same_queue_in_the_console(admins, cfg):
    ann_form = admins["ann"].get("/admin/queues/sales").forms[1]
    ben_form = admins["ben"].get("/admin/queues/sales").forms[1]
    ben_form["ring_timeout"], ben_form["display_name"] = "30", "Sales (Ben)"
    assert ben_form.submit().status_int == 302
    ann_form["ring_timeout"], ann_form["retry"] = "25", "4"
    refused = ann_form.submit(expect_errors=True)
    assert refused.status_int == 409
    assert "ben saved this at" in refused.text and "Nothing of yours was saved" in refused.text
    # the form now holds ben's values, with what ann typed beside each field it differs in
    assert 'value="30"' in field_div(refused, "ring_timeout") and "You had typed: 25" in field_div(refused,
                                                                                                  "ring_timeout")
    assert "You had typed: 4" in field_div(refused, "retry")
    assert 'value="Sales (Ben)"' in field_div(refused, "display_name")
    assert refused.text.count("You had typed") == 3  # ring_timeout, retry and display_name only
    assert cfg.get("queues", "sales")["ring_timeout"] == 30
    again = refused.forms[1]
    again["ring_timeout"] = "25"
    assert again.submit().status_int == 302  # saved over ben's version, knowingly
    saved = cfg.get("queues", "sales")
    assert (saved["ring_timeout"], saved["display_name"], saved["retry"]) == (25, "Sales (Ben)", 2)
    log = cfg.audit(2)
    assert [(e["username"], e["object_id"]) for e in log] == [("ann", "sales"), ("ben", "sales")]


def test_the_edit_form_explains_bad_values_and_keeps_the_version(admins, cfg):
    page = admins["ann"].get("/admin/queues")
    assert 'href="/admin/queues/sales"' in page.text  # the list links to the edit form
    form = admins["ann"].get("/admin/queues/sales").forms[1]
    form["ring_timeout"], form["display_name"] = "2", SCRIPT
    bad = form.submit(expect_errors=True)
    assert bad.status_int == 422
    assert "at least 5" in field_div(bad, "ring_timeout") and 'value="2"' in field_div(bad, "ring_timeout")
    assert "no markup" in field_div(bad, "display_name")
    assert "<script>alert" not in bad.text  # what was typed is shown escaped
    fixed = bad.forms[1]
    fixed["ring_timeout"], fixed["display_name"] = "20", "Sales"
    assert fixed.submit().status_int == 302 and cfg.get("queues", "sales")["ring_timeout"] == 20
    assert admins["ann"].get("/admin/queues/nope", expect_errors=True).status_int == 404


# -- bad input, every kind ----------------------------------------------------------------------
def bad_values(f):
    """(value, what the English message says) for a field of this type, sent through a form."""
    if f.type == "int":
        yield "twelve", "whole number"
        yield "9" * 30, f"at most {f.max}"
    elif f.type == "ref":
        yield "no-such-thing", "does not exist"
    elif f.type == "str":
        if f.max_length:
            yield "9" * (f.max_length + 1), f"at most {f.max_length} characters"
        if not f.secret:
            yield SCRIPT, "" if (f.pattern or f.choices or f.list_of) else "no markup"


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_says_what_is_wrong_next_to_the_field(admins, kind):
    console = admins["ann"]
    fields = FIELDS[kind]
    before = console.get(f"/api/v1/{kind}", headers=admins["token"]).json["items"]
    missing = console.post(f"/admin/{kind}", {"csrf_token": csrf(console)}, expect_errors=True)
    assert missing.status_int == 422, kind
    for f in fields:
        if f.required:
            assert "required" in field_div(missing, f.name), (kind, f.name)
    for f in fields:
        for value, says in bad_values(f):
            page = console.post(f"/admin/{kind}", {"csrf_token": csrf(console), f.name: value}, expect_errors=True)
            assert page.status_int == 422, (kind, f.name, value)
            div = field_div(page, f.name)
            assert "has-error" in div and "field-error" in div, (kind, f.name, value)
            assert says in div, (kind, f.name, value, div)
            assert "<script>alert" not in page.text
    assert console.get(f"/api/v1/{kind}", headers=admins["token"]).json["items"] == before  # nothing was saved


@pytest.mark.parametrize("kind", KINDS)
def test_the_api_refuses_wrong_types_for_every_field(admins, kind):
    api, token = admins["ann"], admins["token"]
    for f in FIELDS[kind]:
        wrong = {"int": ["12", 1.5, True, [], {}], "bool": ["maybe", 2, []], "str": [12, [], {"a": 1}],
                 "ref": [12, []]}[f.type]
        for value in wrong:
            if f.type == "int" and value == "12":
                continue  # a whole number in a string is accepted, as forms send it
            res = api.post_json(f"/api/v1/{kind}", {f.name: value}, headers=token, expect_errors=True)
            assert res.status_int == 422 and f.name in res.json["fields"], (kind, f.name, value, res.json)


def test_an_oversized_request_body_is_refused_before_it_is_read(admins):
    res = admins["ann"].post("/api/v1/queues", "x" * (300 * 1024),
                             headers={**admins["token"], "Content-Type": "application/json"}, expect_errors=True)
    assert res.status_int == 413 and res.json["error"] == "request.too_large"


def test_the_new_messages_are_translated():
    assert i18n.field_error("zh_CN", NO_MARKUP) == i18n.translate("zh_CN", "field.markup")
    assert i18n.error_message("zh_CN", "queues.changed", 409) == i18n.translate("zh_CN", "error.code.changed")
    assert KEYS["queues"] == "name"


def csrf(app) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', app.get("/account").text).group(1)


def test_the_agents_list_names_their_queues_as_people_read_them(admins, cfg):
    """An agent's queues by their display names (any script), the key beside none of them."""
    cfg.update("queues", "sales", {"display_name": "销售部"}, actor="seed")
    cfg.create("phones", {"extension": "1001", "secret": "pw-1001-secret"}, actor="seed")
    cfg.create("agents", {"number": "1001", "name": "Alice", "phone": "1001"}, actor="seed")
    cfg.add_member("sales", "1001", actor="seed")
    page = admins["ann"].get("/admin/agents")
    row = next(tr for tr in page.html.find_all("tr") if "Alice" in tr.get_text())
    assert "销售部" in row.get_text() and "sales" not in row.get_text().replace("销售部", "")
