"""The databases hot standby kept aside after a split brain, reachable by admins
(appliance/services/kept_aside.py, appliance/ha/kept.py, webui/areas/ha.py): this box's and
the other box's (over its status port, each request signed with the pair's secret) listed
with size, time and why, downloaded whole, removed only when confirmed (the alarm naming them
cleared when none is left), refused to anyone but an admin with a full token; on the page in
both languages."""

from __future__ import annotations

import json
import sqlite3
import time
import urllib.error
import urllib.request

import pytest
import webtest
from gevent.pywsgi import WSGIServer

from appliance.db import models as m
from appliance.db import open_database
from appliance.db.migrate import migrate
from appliance.ha import kept, roles
from appliance.services.config import ConfigService
from appliance.services.ha import HaSettingsStore, audit_ha_change, audit_kept_removed
from appliance.services.kept_aside import KeptAside
from appliance.services.users import UserService
from webharness import Agents
from webdeps import web_deps
from webui.app import make_app
from test_ha_node import HA, node  # noqa: F401 (a fixture: this box's hot-standby adapter)

PASSWORD = "correct-horse-9"
HERE = "appliance-20261206T101500Z.db"
THERE = "appliance-20261206T114148Z.db"


def kept_database(folder, name, words, reason):
    folder.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(folder / name)
    db.execute("CREATE TABLE t (words TEXT)")
    db.execute("INSERT INTO t VALUES (?)", (words,))
    db.commit()
    db.close()
    (folder / name).with_suffix(".json").write_text(json.dumps({"kept_at": 1796552100.0, "reason": reason}))
    return (folder / name).read_bytes()


@pytest.fixture
def pair(tmp_path, node):  # noqa: F811
    """This box (``node``: its kept-aside folder beside its database) and the other box's
    status port serving its own folder, on loopback."""
    here = kept_database(node.kept_dir, HERE, "taken here during the split", "split brain")
    peer_dir = tmp_path / "peer" / "kept-aside"
    there = kept_database(peer_dir, THERE, "taken there", "stood down with changes not copied to the other box")
    server = WSGIServer(("127.0.0.1", 0), kept.app(peer_dir, HA.secret), log=None)
    server.start()
    node.peer_status = {"reachable": True, "role": "standby", "kept_aside": [THERE]}
    node.peer_files = kept.PeerFiles("127.0.0.1", server.server_port, HA.secret, seen=lambda: node.peer_status)
    node.look_at_kept()
    assert {roles.WRITES_KEPT_ASIDE, roles.PEER_WRITES_KEPT_ASIDE} <= set(node.alarms)
    db = open_database(tmp_path / "web.db")
    migrate(db)
    users = UserService(db)
    files = KeptAside(node.kept_dir, peer=node.peer_files, audit=audit_kept_removed, changed=node.kept_removed)
    deps = web_deps(db=db, config=ConfigService(db), users=users, agents=Agents(),
                    health=lambda: {"status": "ok", "components": {"ha": node.health()}}, live=lambda: {},
                    extra={"ha_settings": HaSettingsStore(tmp_path / "ha", audit=audit_ha_change),
                           "ha_running": HA, "kept_aside": files})
    app = webtest.TestApp(make_app(deps))
    tokens = {}
    for name, role, lang in (("admin", "admin", "en"), ("admin_zh", "admin", "zh_CN"), ("sup", "supervisor", "en")):
        uid = users.create(name, PASSWORD, role, language=lang)["id"]
        tokens[name] = {"Authorization": "Bearer " + users.create_token(uid, "test")}
    tokens["config"] = {"Authorization": "Bearer " + users.create_token(users.list()[0]["id"], "cfg",
                                                                        scopes=["config"])}
    yield type("Pair", (), {"app": app, "tokens": tokens, "node": node, "peer_dir": peer_dir, "here": here,
                            "there": there, "server": server})
    server.stop()
    db.close()


def test_both_boxes_files_listed_downloaded_and_removed_clearing_the_alarms(pair):
    api = "/api/v1/ha/kept-aside"
    admin = pair.tokens["admin"]
    for who in ("sup", "config"):  # a supervisor; an admin's token without full access
        assert pair.app.get(api, headers=pair.tokens[who], expect_errors=True).status_int == 403
        assert pair.app.get(f"{api}/here/{HERE}", headers=pair.tokens[who], expect_errors=True).status_int == 403
        assert pair.app.delete(f"{api}/here/{HERE}", headers=pair.tokens[who], expect_errors=True).status_int == 403
    listed = pair.app.get(api, headers=admin).json
    assert listed["peer"] == {"address": "127.0.0.1", "reachable": True}
    assert [(f["box"], f["name"], f["size"], f["cause"]) for f in listed["items"]] == [
        ("here", HERE, len(pair.here), "split_brain"), ("peer", THERE, len(pair.there), "not_copied")]
    assert listed["items"][0]["kept_at"] == "2026-12-06T10:15:00Z"
    # whole, as SQLite files (the peer's streamed from the other box)
    for box, name, data in (("here", HERE, pair.here), ("peer", THERE, pair.there)):
        got = pair.app.get(f"{api}/{box}/{name}", headers=admin)
        assert got.content_type == "application/vnd.sqlite3" and got.body == data
        assert name in got.headers["Content-Disposition"] and got.headers["Cache-Control"] == "no-store"
    # nothing but the kept databases is reachable
    for path in (f"{api}/here/..%2Fweb.db", f"{api}/here/appliance.db", f"{api}/elsewhere/{HERE}"):
        assert pair.app.get(path, headers=admin, expect_errors=True).status_int == 404
    gone = pair.app.get(f"{api}/peer/appliance-20200101T000000Z.db", headers=admin, expect_errors=True)
    assert gone.status_int == 404 and gone.json["error"] == "ha.kept_not_found"
    # removed: the file and its note, audited, the alarm of that box cleared at once
    assert pair.app.delete(f"{api}/here/{HERE}", headers=admin).status_int == 204
    assert list(pair.node.kept_dir.iterdir()) == []
    assert roles.WRITES_KEPT_ASIDE not in pair.node.alarms and roles.PEER_WRITES_KEPT_ASIDE in pair.node.alarms
    assert pair.app.delete(f"{api}/peer/{THERE}", headers=admin).status_int == 204
    assert list(pair.peer_dir.iterdir()) == []
    assert roles.PEER_WRITES_KEPT_ASIDE not in pair.node.alarms
    assert [(a.username, a.detail) for a in m.AuditLog.select().where(m.AuditLog.object_id == "kept-aside")
            .order_by(m.AuditLog.id)] == [("admin", f"here:{HERE}"), ("admin", f"peer:{THERE}")]
    again = pair.app.delete(f"{api}/here/{HERE}", headers=admin, expect_errors=True)
    assert again.status_int == 404 and again.json["error"] == "ha.kept_not_found"


def test_the_peers_folder_answers_only_requests_signed_with_the_pairs_secret(pair):
    port = pair.server.server_port

    def status(method, path, header):
        request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method=method,
                                         headers={kept.HEADER: header} if header else {})
        try:
            with urllib.request.urlopen(request, timeout=5) as answer:
                return answer.status
        except urllib.error.HTTPError as exc:
            return exc.code

    path = f"{kept.PREFIX}/{THERE}"
    now = time.time()
    assert status("GET", path, None) == 403
    assert status("GET", path, kept.signature("another secret", "GET", path, now)) == 403
    assert status("GET", path, kept.signature(HA.secret, "GET", path, now - 60)) == 403  # too old
    assert status("DELETE", path, kept.signature(HA.secret, "GET", path, now)) == 403  # signed for another method
    assert status("GET", path, kept.signature(HA.secret, "GET", path, now)) == 200
    assert (pair.peer_dir / THERE).exists()
    # the node's own status port carries the same answer beside /ha/status
    sent = []
    body = pair.node._status_app({"PATH_INFO": kept.PREFIX, "REQUEST_METHOD": "GET",
                                  "HTTP_X_APPLIANCE_PAIR": kept.signature(HA.secret, "GET", kept.PREFIX, now)},
                                 lambda status, headers: sent.append(status))
    assert sent == ["200 OK"] and [f["name"] for f in json.loads(b"".join(body))] == [HERE]


def test_a_silent_peer_is_said_and_this_boxs_files_still_listed(pair):
    pair.server.stop()
    admin = pair.tokens["admin"]
    pair.node.peer_status = {"reachable": True, "role": "standby", "kept_aside": [THERE]}  # before it fell silent
    listed = pair.app.get("/api/v1/ha/kept-aside", headers=admin).json
    assert listed["peer"]["reachable"] is False and [f["name"] for f in listed["items"]] == [HERE]
    refused = pair.app.get(f"/api/v1/ha/kept-aside/peer/{THERE}", headers=admin, expect_errors=True)
    assert refused.status_int == 503 and refused.json["error"] == "ha.peer_unreachable"
    assert refused.json["params"] == {"address": "127.0.0.1"}


@pytest.mark.parametrize("who,words", [
    ("admin", ("Databases kept aside", "this box", "the other box (127.0.0.1)", "both boxes were active (split brain)",
               "Tick the box to confirm the removal", "was removed")),
    ("admin_zh", ("另存的数据库", "本机", "另一台设备（127.0.0.1）", "两台设备同时为主机（脑裂）",
                  "请勾选确认后再删除", "已删除"))])
def test_the_page_lists_them_and_removes_only_when_confirmed_in_both_languages(pair, who, words):
    listed, peer, here_why, unconfirmed, removed = words[0], words[2], words[3], words[4], words[5]
    pair.app.reset()
    form = pair.app.get("/login").forms[0]
    form["username"], form["password"] = who, PASSWORD
    form.submit()
    page = pair.app.get("/admin/ha")
    for word in words[:4]:
        assert word in page.text, word
    assert "split_brain" not in page.text and "not_copied" not in page.text  # no raw codes
    assert f'href="/admin/ha/kept/peer/{THERE}"' in page.text
    assert pair.app.get(f"/admin/ha/kept/peer/{THERE}").body == pair.there
    remove = next(f for f in page.forms.values() if f.action == f"/admin/ha/kept/here/{HERE}/remove")
    answer = remove.submit(expect_errors=True)  # not ticked
    assert answer.status_int == 422 and unconfirmed in answer.text
    assert (pair.node.kept_dir / HERE).exists()
    remove["confirm"] = "on"
    done = remove.submit().follow()
    assert removed in done.text and HERE in done.text
    assert not (pair.node.kept_dir / HERE).exists() and peer in done.text and listed in done.text
