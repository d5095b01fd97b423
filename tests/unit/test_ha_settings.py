"""Hot standby's settings (appliance/services/ha.py, webui/areas/ha.py): off by default, each
field checked when turned on, the secret never shown, audited, in the API and on the admin
page in both languages; the health document's ``ha`` component read by both."""

from __future__ import annotations

import json

import pytest
import webtest

from appliance.db import models as m
from appliance.db import open_database
from appliance.db.migrate import migrate
from appliance.errors import ValidationError
from appliance.services.config import ConfigService
from appliance.services.ha import HaSettings, HaSettingsStore, audit_ha_change
from appliance.services.users import UserService
from webharness import Agents
from test_webui import env as webui_env  # noqa: F401 (a fixture: the dashboard's full web UI)
from test_console import rig  # noqa: F401 (a fixture: the serial console over a pseudo-terminal)
from webdeps import web_deps
from webui.app import make_app

PASSWORD = "correct-horse-9"
GOOD = {"enabled": True, "interface": "eth0", "peer_address": "192.168.1.12", "floating_address": "192.168.1.10/24",
        "gateway": "192.168.1.1", "router_id": 51, "priority": 100, "secret": "a secret of the pair"}
ACTIVE = {"enabled": True, "state": "active", "up": True, "peer_address": "192.168.1.12",
          "floating_address": "192.168.1.10/24", "peer": {"reachable": True, "role": "standby"},
          "replication": {"direction": "sending", "lag_seconds": 0.15}}


@pytest.fixture
def env(tmp_path):
    db = open_database(tmp_path / "web.db")
    migrate(db)
    users = UserService(db)
    store = HaSettingsStore(tmp_path / "ha", audit=audit_ha_change)
    health = {"status": "ok", "components": {}}
    deps = web_deps(db=db, config=ConfigService(db), users=users, agents=Agents(), health=lambda: health,
                    live=lambda: {}, extra={"ha_settings": store, "ha_running": None})
    app = webtest.TestApp(make_app(deps))
    tokens = {}
    for name, role, lang in (("admin", "admin", "en"), ("admin_zh", "admin", "zh_CN"), ("sup", "supervisor", "en")):
        uid = users.create(name, PASSWORD, role, language=lang)["id"]
        tokens[name] = {"Authorization": "Bearer " + users.create_token(uid, "test")}
    yield type("Env", (), {"app": app, "store": store, "tokens": tokens, "health": health, "path": tmp_path})
    db.close()


def test_off_by_default_and_every_field_checked_when_turned_on(tmp_path):
    store = HaSettingsStore(tmp_path)
    assert store.load() == HaSettings() and not store.load().enabled
    with pytest.raises(ValidationError) as caught:
        store.save("admin", enabled=True, interface="eth 0", peer_address="192.168.1.300",
                   floating_address="192.168.1.10", gateway="10.0.0.1", router_id=300, secret="short")
    fields = caught.value.fields
    assert set(fields) == {"interface", "peer_address", "floating_address", "router_id", "secret"}
    assert fields["secret"].msgid == "ha.secret_length" and fields["router_id"].msgid == "ha.number_between"
    with pytest.raises(ValidationError) as caught:
        store.save("admin", **{**GOOD, "gateway": "10.0.0.1"})
    assert caught.value.fields["gateway"].msgid == "ha.gateway_in"
    with pytest.raises(ValidationError) as caught:
        store.save("admin", **{**GOOD, "floating_address": "192.168.1.12/24"})
    assert caught.value.fields["floating_address"].msgid == "ha.floating_not_peer"
    assert not store.path.exists()  # nothing saved by a refused change
    saved = store.save("admin", **GOOD)
    assert saved.enabled and saved.floating_address == "192.168.1.10/24"
    assert oct(store.path.stat().st_mode & 0o777) == "0o600"  # it holds the secret
    # an empty secret keeps the one set
    assert store.save("admin", secret="", priority=90).secret == GOOD["secret"]


def test_the_api_never_shows_the_secret_and_audits(env):
    admin = env.tokens["admin"]
    got = env.app.get("/api/v1/ha", headers=admin).json
    assert got["settings"]["enabled"] is False and got["status"]["state"] == "off" and not got["restart_needed"]
    assert env.app.get("/api/v1/ha", headers=env.tokens["sup"], expect_errors=True).status_int == 403
    bad = env.app.put_json("/api/v1/ha", {**GOOD, "peer_address": "nowhere"}, headers=admin, expect_errors=True)
    assert bad.status_int == 422 and bad.json["error"] == "ha.invalid" and "peer_address" in bad.json["fields"]
    done = env.app.put_json("/api/v1/ha", GOOD, headers=admin).json
    assert done["settings"]["secret_set"] is True and "secret" not in done["settings"]
    assert GOOD["secret"] not in json.dumps(done)
    assert done["restart_needed"] is True  # the process runs without hot standby until it starts again
    audit = m.AuditLog.get(m.AuditLog.object_type == "ha")
    assert audit.username == "admin" and "peer_address" in audit.detail and "secret" in audit.detail
    assert GOOD["secret"] not in audit.detail
    unknown = env.app.put_json("/api/v1/ha", {"colour": "red"}, headers=admin, expect_errors=True)
    assert unknown.status_int in (400, 422)


@pytest.mark.parametrize("who, words", [("admin", ("Hot standby", "This box", "active", "0.15 s",
                                                   "calls in progress on the failed box are lost")),
                                        ("admin_zh", ("双机热备", "本机", "主机", "0.15 秒", "正在进行的通话会中断"))])
def test_the_page_in_both_languages(env, who, words):
    env.health["components"]["ha"] = ACTIVE
    env.store.save("admin", **GOOD)
    browser = webtest.TestApp(env.app.app)
    form = browser.get("/login").forms[0]
    form["username"], form["password"] = who, PASSWORD
    form.submit()
    page = browser.get("/admin/ha")
    for word in words:
        assert word in page.text
    assert GOOD["secret"] not in page.text
    assert 'id="ha-role" data-role="active"' in page.text and "192.168.1.12" in page.text
    if who == "admin_zh":  # the roles in words, not codes
        assert ">standby<" not in page.text and "备机" in page.text
    # a bad change names the field in the page's language; the secret typed is not sent back
    form = page.forms[1]
    form["peer_address"], form["secret"] = "not an address", "another secret typed"
    refused = form.submit(expect_errors=True)
    assert refused.status_int == 422
    assert ("IPv4 地址" if who == "admin_zh" else "an IPv4 address") in refused.text
    assert "another secret typed" not in refused.text
    assert env.store.load().peer_address == GOOD["peer_address"]


def test_the_dashboard_shows_the_pair_and_a_split_brain_alarm(webui_env):
    from test_webui import sign_in

    webui_env.health.update({"status": "degraded", "components": {"ha": {
        **ACTIVE, "up": False, "peer": {"reachable": True, "role": "active"}}},
        "alarms": [{"service": "", "code": "ha.split_brain", "text": "both boxes of the pair are active"}]})
    sign_in(webui_env.app, "admin")
    page = webui_env.app.get("/").text
    assert 'id="ha-pair"' in page and 'id="ha-role" data-role="active"' in page
    assert 'id="ha-peer" data-role="active"' in page and "0.15 s" in page
    assert "Both boxes of the pair are active (split brain)" in page
    assert "/services//restart" not in page  # nothing to restart for it
    webui_env.users.update("admin", {"language": "zh_CN"}, "admin")
    page = webui_env.app.get("/").text
    assert "双机同时为主机（脑裂）" in page and "双机热备" in page
    # a box on its own shows nothing of it
    webui_env.health.update({"status": "ok", "components": {"ha": {"state": "off", "up": True, "enabled": False}},
                             "alarms": []})
    page = webui_env.app.get("/").text
    assert 'id="ha-pair"' not in page and 'data-component="ha"' not in page


def test_the_serial_console_shows_the_pair(rig):
    r = rig()
    r.sign_in()
    r.console.deps.ha = lambda: {"role": "standby", "peer_address": "192.168.1.11",
                                 "peer": {"reachable": True, "role": "active"},
                                 "replication": {"direction": "receiving", "lag_seconds": 0.12},
                                 "alarms": [{"code": "ha.peer_down"}]}
    r.command("3")
    r.pty.expect(r"Hot standby: this box standby; the other box 192.168.1.11 active; replication lag 0.12 s")
    r.pty.expect(r"! ha: The other box of the pair does not answer")
    r.pty.expect("No status from the supervisor")  # a standby runs no Asterisk: nothing else to show


def test_the_dashboard_and_console_name_the_database_kept_aside(webui_env, rig):
    from test_webui import sign_in

    kept = "192.168.1.12: kept-aside/appliance-20261206T114148Z.db"
    webui_env.health.update({"status": "degraded", "components": {"ha": {**ACTIVE, "up": False}},
                             "alarms": [{"service": "", "code": "ha.peer_writes_kept_aside", "text": "...",
                                         "params": {"file": kept}}]})
    sign_in(webui_env.app, "admin")
    page = webui_env.app.get("/").text
    assert "stood down holding writes this box does not have" in page and kept in page
    webui_env.users.update("admin", {"language": "zh_CN"}, "admin")
    page = webui_env.app.get("/").text
    assert "其数据库已在对端另存为 " + kept in page
    r = rig()
    r.sign_in()
    r.console.deps.ha = lambda: {"role": "standby", "peer_address": "192.168.1.11",
                                 "peer": {"reachable": True, "role": "active"},
                                 "replication": {"direction": "receiving", "lag_seconds": 0.12},
                                 "alarms": [{"code": "ha.writes_kept_aside",
                                             "params": {"file": "/var/lib/appliance/kept-aside/appliance-x.db"}}]}
    r.command("3")
    r.pty.expect(r"! ha: This box stood down holding writes .* kept aside as /var/lib/appliance/kept-aside/appliance-x.db")
