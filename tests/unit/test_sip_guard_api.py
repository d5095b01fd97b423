"""The SIP security API (webui/areas/sipguard.py): the real Bottle app in process over a real
SQLite file and a real SipGuard; Asterisk's reload stood in for by recording it."""

from __future__ import annotations

import pytest
import webtest

from appliance.confgen.from_db import blocked_sources, phone_subnets
from appliance.db import models as m
from appliance.services.config import ConfigService
from appliance.services.sipguard import SipGuard
from appliance.services.users import UserService
from webharness import Agents, migrated
from webdeps import web_deps
from webui.app import make_app

PASSWORD = "correct-horse-9"
EVENT = {"Event": "ChallengeResponseFailed", "Service": "PJSIP", "AccountID": "1001",
         "RemoteAddress": "IPV4/UDP/203.0.113.9/5060"}


@pytest.fixture
def env(tmp_path):
    db = migrated(tmp_path / "web.db")
    users = UserService(db)
    applied = []
    guard = SipGuard(db, max_failures=2, window_seconds=60, block_seconds=600,
                     on_change=lambda: applied.append(blocked_sources()))
    deps = web_deps(db=db, config=ConfigService(db), users=users, agents=Agents(), health=lambda: {},
                   live=lambda: {}, sip_guard=guard)
    app = webtest.TestApp(make_app(deps))
    tokens = {}
    for name, role in (("admin", "admin"), ("sup", "supervisor")):
        uid = users.create(name, PASSWORD, role, language="en")["id"]
        tokens[name] = {"Authorization": "Bearer " + users.create_token(uid, "test")}
    yield type("Env", (), {"app": app, "guard": guard, "applied": applied, "tokens": tokens})
    db.close()


def test_blocks_listed_and_unblocked_by_an_admin(env):
    admin = env.tokens["admin"]
    assert env.app.get("/api/v1/sip/blocks", headers=admin).json == {"items": []}
    env.guard.on_event(EVENT)
    env.guard.on_event({**EVENT, "Event": "InvalidAccountID", "AccountID": "8000"})
    [block] = env.app.get("/api/v1/sip/blocks", headers=admin).json["items"]
    assert block["address"] == "203.0.113.9" and block["failures"] == 2 and block["accounts"] == ["1001", "8000"]
    assert block["kinds"] == ["wrong_password", "unknown_account"] and block["until"].endswith("Z")
    events = env.app.get("/api/v1/sip/events", headers=admin).json["items"]
    assert [e["kind"] for e in events] == ["unknown_account", "wrong_password"]

    # supervisors see nothing of it
    assert env.app.get("/api/v1/sip/blocks", headers=env.tokens["sup"], expect_errors=True).status_int == 403
    ended = env.app.delete("/api/v1/sip/blocks/203.0.113.9", headers=admin).json
    assert ended["ended_by"] == "admin" and ended["ended_at"]
    assert blocked_sources() == () and env.applied[-1] == ()
    audit = m.AuditLog.get(m.AuditLog.action == "unblock")
    assert (audit.username, audit.object_type, audit.object_id) == ("admin", "sip_blocks", "203.0.113.9")
    again = env.app.delete("/api/v1/sip/blocks/203.0.113.9", headers=admin, expect_errors=True)
    assert again.status_int == 404 and again.json["error"] == "sip_guard.not_blocked"


def test_settings_through_the_api(env):
    admin = env.tokens["admin"]
    bad = env.app.put_json("/api/v1/sip/settings", {"phone_subnets": ["192.168.1.0/24", "300.1.1.1"]},
                           headers=admin, expect_errors=True)
    assert bad.status_int == 422 and bad.json["error"] == "sip_guard.bad_network"
    assert "300.1.1.1" in bad.json["fields"]["phone_subnets"] and phone_subnets() == ()
    saved = env.app.put_json("/api/v1/sip/settings", {"phone_subnets": "192.168.1.0/24, 10.8.0.0/16"},
                             headers=admin).json
    assert saved["phone_subnets"] == ["192.168.1.0/24", "10.8.0.0/16"] and saved["max_failures"] == 2
    assert phone_subnets() == ("192.168.1.0/24", "10.8.0.0/16") and env.applied
    assert env.app.get("/api/v1/sip/settings", headers=admin).json["phone_subnets"] == saved["phone_subnets"]
    assert m.AuditLog.get(m.AuditLog.object_type == "sip_guard").object_id == "phone_subnets"
