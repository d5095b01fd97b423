"""The first-run wizard through the real web app (WebTest), a real SQLite file, the real
configuration service: held on /setup while it is pending, each step saved, resumed, bad
input refused with nothing half-saved."""

from __future__ import annotations

import re

import pytest

from appliance import settings as settings_mod
from appliance.db import models as m
from appliance.db import open_database
from appliance.services.site import SiteService
from provisioning import firstboot
from webui import i18n
from test_webui import PASSWORD, env, sign_in  # noqa: F401  (env is a fixture)

NEW_PASSWORD = "my-own-secret-1"


@pytest.fixture
def pending(env):  # noqa: F811
    env.deps.site.begin_setup()
    return env


def post(app, path, **fields):
    page = app.get(path)
    form = page.forms[len(page.forms) - 1]
    for name, value in fields.items():
        if name in form.fields:
            form[name] = value
    return form.submit(expect_errors=True)


def skip(app, step):
    page = app.get(f"/setup/{step}")
    return page.forms[len(page.forms) - 1].submit("skip", expect_errors=True)


def through_password_and_region(app):
    sign_in(app, "admin")
    assert post(app, "/setup/password", password=NEW_PASSWORD, confirm=NEW_PASSWORD).status_int == 302
    res = post(app, "/setup/region", timezone="Europe/London", language="en")
    assert res.status_int == 302 and res.location.endswith("/setup")


def test_an_admin_is_held_on_the_wizard_others_and_the_api_are_not(pending):
    app = pending.app
    assert sign_in(app, "admin").status_int == 302
    res = app.get("/")
    assert res.status_int == 302 and res.location.endswith("/setup")
    assert app.get("/admin/queues").location.endswith("/setup")
    assert app.get("/setup").location.endswith("/setup/password")
    page = app.get("/setup/password")
    assert "Choose the admin password" in page.text and 'href="/admin/queues"' not in page.text  # no way out
    assert app.get("/api/v1/queues").status_int == 200  # scripts and integrations keep working
    assert app.get("/account").status_int == 200
    app.post("/logout", {"csrf_token": page.forms[0]["csrf_token"].value})
    sign_in(app, "alice")
    assert app.get("/").status_int == 200  # an agent is not held up


def test_the_password_step_refuses_mismatch_the_old_one_and_weak_ones(pending):
    app, users = pending.app, pending.users
    sign_in(app, "admin")
    for fields, message in (({"password": NEW_PASSWORD, "confirm": "something-else"}, "the two passwords differ"),
                            ({"password": PASSWORD, "confirm": PASSWORD}, "not the current one"),
                            ({"password": "short", "confirm": "short"}, "at least 8 characters")):
        res = post(app, "/setup/password", **fields)
        assert res.status_int == 422 and message in res.text, res.text
        assert users.authenticate("admin", PASSWORD) is not None  # unchanged
    res = post(app, "/setup/password", password=NEW_PASSWORD, confirm=NEW_PASSWORD)
    assert res.status_int == 302 and app.get("/setup").location.endswith("/setup/region")
    assert users.authenticate("admin", PASSWORD) is None and users.authenticate("admin", NEW_PASSWORD)


def test_the_region_step_sets_the_time_zone_everywhere_and_the_language(pending):
    app, site = pending.app, pending.deps.site
    sign_in(app, "admin")
    post(app, "/setup/password", password=NEW_PASSWORD, confirm=NEW_PASSWORD)
    res = post(app, "/setup/region", timezone="Mars/Olympus_Mons", language="en")
    assert res.status_int == 422 and "not a time zone" in res.text
    assert site.timezone() == "Asia/Shanghai" and site.setup_state()["steps"]["region"] is None
    res = post(app, "/setup/region", timezone="America/New_York", language="zh_CN")
    assert res.status_int == 302
    assert (site.timezone(), site.language()) == ("America/New_York", "zh_CN")
    assert pending.users.get(pending.ids["admin"])["language"] == "zh_CN"
    assert "第一条中继" in app.get("/setup/trunk").text  # the admin's pages are now in Chinese
    # at once, without a restart: the wallboard's "today", new opening hours, the sign-in page
    assert app.get("/api/v1/wallboard").json["timezone"] == "America/New_York"
    pending.deps.config.create("time_conditions", {"name": "office", "schedule": "mon-fri 09:00-18:00"}, actor="t")
    assert pending.deps.config.get("time_conditions", "office")["timezone"] == "America/New_York"
    fresh = type(app)(app.app)
    assert 'lang="zh-CN"' in fresh.get("/login").text


def test_the_trunk_step_refuses_garbage_saves_once_and_edits_on_a_second_visit(pending):
    app, config = pending.app, pending.deps.config
    through_password_and_region(app)
    res = post(app, "/setup/trunk", name="carrier", host="", port="abc")
    assert res.status_int == 422 and res.text.count('class="field-error"') >= 2
    assert config.list("trunks") == []
    assert post(app, "/setup/trunk", name="carrier", host="192.0.2.10", port="5060").status_int == 302
    assert app.get("/setup").location.endswith("/setup/queue")
    assert 'value="carrier"' in app.get("/setup/trunk").text  # going back shows what was saved
    assert post(app, "/setup/trunk", name="carrier", host="192.0.2.20").status_int == 302
    assert [t["host"] for t in config.list("trunks")] == ["192.0.2.20"]  # changed, not a second trunk


def test_the_queue_step_makes_the_queue_and_its_did_together_or_neither(pending):
    app, config = pending.app, pending.deps.config
    through_password_and_region(app)
    post(app, "/setup/trunk", name="carrier", host="192.0.2.10")
    res = post(app, "/setup/queue", name="hotline", did="12ab")
    assert res.status_int == 422 and "digits" in res.text and config.list("queues") == []
    config.create("dids", {"number": "88009000"}, actor="someone else")  # taken meanwhile
    res = post(app, "/setup/queue", name="hotline", did="88009000")
    assert res.status_int == 409 and "already exists" in res.text
    assert config.list("queues") == []  # the queue was not left behind without its number
    res = post(app, "/setup/queue", name="hotline", display_name="热线", did="88009001")
    assert res.status_int == 302 and app.get("/setup").location.endswith("/setup/agents")
    did = config.get("dids", "88009001")
    assert (did["queue"], did["trunk"]) == ("hotline", "carrier")
    assert config.get("queues", "hotline")["display_name"] == "热线"


def test_skipping_resuming_and_finishing(pending):
    app, site = pending.app, pending.deps.site
    through_password_and_region(app)
    res = post(app, "/setup/finish")
    assert res.status_int == 422 and site.setup_pending()  # trunk and queue neither done nor skipped
    assert skip(app, "trunk").status_int == 302
    csrf = app.get("/setup/queue").forms[0]["csrf_token"].value
    app.post("/logout", {"csrf_token": csrf})
    sign_in(app, "admin", NEW_PASSWORD)  # signing in again resumes where it was left
    assert app.get("/").location.endswith("/setup") and app.get("/setup").location.endswith("/setup/queue")
    assert skip(app, "queue").status_int == 302
    assert app.get("/setup").location.endswith("/setup/agents")
    assert skip(app, "agents").status_int == 302
    page = app.get("/setup/finish")
    assert "later, under Configuration" in page.text and "Europe/London" in page.text
    res = post(app, "/setup/finish")
    assert res.status_int == 302 and not site.setup_pending()
    assert app.get("/").status_int == 200 and app.get("/setup").location.endswith("/")
    site.finish({"username": "other-admin"})  # a second admin finishing too: no harm
    assert m.SiteSetting.get_by_id("setup").value == "done"


def test_first_boot_makes_the_wizard_pending_an_older_database_has_none(tmp_path):
    s = settings_mod.load(None, {"data_dir": tmp_path / "fresh"})
    firstboot.run(s)
    db = open_database(s.db_path)
    assert SiteService(db, None, None).setup_pending()
    SiteService(db, None, None).begin_setup()  # a second first boot: still pending, not reset
    firstboot.run(s)
    assert SiteService(db, None, None).setup_state()["next"] == "password"
    db.close()


def test_the_region_steps_errors_are_the_catalogs_sentences_in_chinese(pending):
    """The site service gives its field errors ids and params; the wizard shows them in the
    admin's language, filled in."""
    app = pending.app
    pending.users.set_language(pending.ids["admin"], "zh_CN")
    sign_in(app, "admin")
    assert post(app, "/setup/password", password=NEW_PASSWORD, confirm=NEW_PASSWORD).status_int == 302
    res = post(app, "/setup/region", timezone="Mars/Olympus", language="zh_CN", area_code="x21")
    assert res.status_int == 422
    shown = re.findall(r'<em class="field-error">(.*?)</em>', res.text, re.S)
    assert i18n.translate("zh_CN", "field.timezone", item="Mars/Olympus") in shown
    assert "Mars/Olympus 不是有效的时区（例如 Asia/Shanghai）" in shown
    assert i18n.translate("zh_CN", "setup.region.area_code_bad") in shown
    assert not [s for s in shown if "not" in s]  # no English, no "not valid: ..."


def test_the_region_step_offers_the_common_zones_first_as_the_settings_do(pending):
    from appliance.services.config import timezones
    sign_in(pending.app, "admin")
    post(pending.app, "/setup/password", password=NEW_PASSWORD, confirm=NEW_PASSWORD)
    page = pending.app.get("/setup/region")
    offered = page.html.select("#s-timezones option")
    assert [o["value"] for o in offered] == timezones() and offered[0]["value"] == "Asia/Shanghai"
