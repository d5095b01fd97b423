"""Phones fetching their files (webui/areas/provisioning.py over
appliance/services/provisioning.py): the real Bottle app in process over a real SQLite
file, requests as the phones send them (their User-Agent, HTTP Digest)."""

from __future__ import annotations

import base64
import hashlib
import logging
import re

import pytest
import webtest

from appliance.db import models as m
from appliance.services.config import ConfigService
from appliance.services.users import UserService
from webdeps import web_deps
from webharness import Agents, migrated
from webui.app import make_app

PASSWORD = "correct-horse-9"
YEALINK_UA = "Yealink SIP-T46U 108.86.0.45 00:15:65:aa:bb:cc"
FANVIL_UA = "Fanvil X4U 2.12.1 0c383e445566"
PHONE_AT = {"REMOTE_ADDR": "192.168.1.50"}


def md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


def digest(challenge: str, user: str, password: str, uri: str, method: str = "GET") -> str:
    """The Authorization a phone answers ``challenge`` with (RFC 7616, qop auth), written
    here independently of the service's own code."""
    realm = re.search(r'realm="([^"]+)"', challenge).group(1)
    nonce = re.search(r'nonce="([^"]+)"', challenge).group(1)
    ha1, ha2 = md5(f"{user}:{realm}:{password}"), md5(f"{method}:{uri}")
    response = md5(f"{ha1}:{nonce}:00000001:0a4f113b:auth:{ha2}")
    return (f'Digest username="{user}", realm="{realm}", nonce="{nonce}", uri="{uri}", qop=auth, nc=00000001, '
            f'cnonce="0a4f113b", response="{response}", algorithm=MD5')


@pytest.fixture
def env(tmp_path):
    db = migrated(tmp_path / "web.db")
    users = UserService(db)
    config = ConfigService(db)
    deps = web_deps(db=db, config=config, users=users, agents=Agents(), health=lambda: {}, live=lambda: {})
    app = webtest.TestApp(make_app(deps))
    tokens = {}
    for name, role in (("admin", "admin"), ("sup", "supervisor")):
        uid = users.create(name, PASSWORD, role, language="en")["id"]
        tokens[name] = {"Authorization": "Bearer " + users.create_token(uid, "test")}
    for ext, mac, model in (("1001", "00:15:65:AA:BB:CC", "yealink-t46u"), ("1002", "0c:38:3e:44:55:66", "fanvil-x4u"),
                            ("1003", "", ""), ("1004", "c0:74:ad:11:22:33", "grandstream-gxp2160")):
        config.create("phones", {"extension": ext, "secret": f"sip-secret-{ext}", "callerid_name": f"Desk {ext}",
                                 "mac": mac, "model": model}, actor="t")
    config.create("queues", {"name": "sales"}, actor="t")
    config.create("queues", {"name": "support"}, actor="t")
    for number, name, phone in (("8001", "Li Lei", "1001"), ("8002", "韩梅梅", "1002"), ("8003", "Jim", "1003"),
                                ("8004", "Lucy", None)):
        config.create("agents", {"number": number, "name": name, "phone": phone}, actor="t")
    for queue, agent in (("sales", "8001"), ("sales", "8002"), ("support", "8001"), ("support", "8003"),
                         ("support", "8004")):
        config.add_member(queue, agent, actor="t")
    passwords = {p.extension: p.prov_password for p in m.Phone.select()}
    yield type("Env", (), {"app": app, "tokens": tokens, "passwords": passwords, "deps": deps})
    db.close()


def fetch(env, name, user=None, password=None, ua=YEALINK_UA, source=PHONE_AT, host="192.168.1.10:8080"):
    """As a phone does: ask, take the challenge, answer it."""
    uri = f"/prov/{name}"
    first = env.app.get(uri, headers={"User-Agent": ua, "Host": host}, extra_environ=source, expect_errors=True)
    if first.status_int != 401 or user is None:
        return first
    auth = digest(first.headers["WWW-Authenticate"], user, password, uri)
    return env.app.get(uri, headers={"User-Agent": ua, "Host": host, "Authorization": auth}, extra_environ=source,
                       expect_errors=True)


def test_a_phone_fetches_its_own_file_with_its_credentials(env, caplog):
    caplog.set_level(logging.DEBUG)
    first = fetch(env, "001565aabbcc.cfg")
    assert first.status_int == 401 and first.headers["WWW-Authenticate"].startswith('Digest realm="callcenter-phones"')
    assert "sip-secret-1001" not in first.text
    got = fetch(env, "001565aabbcc.cfg", "001565aabbcc", env.passwords["1001"])
    assert got.status_int == 200 and got.headers["Cache-Control"] == "no-store"
    text = got.text
    assert text.startswith("#!version:1.0.0.1\n")
    assert "account.1.user_name = 1001" in text and "account.1.password = sip-secret-1001" in text
    assert "account.1.sip_server.1.address = 192.168.1.10" in text  # where the phone reached the appliance
    assert "lang.gui = Chinese_S" in text  # the office's language: Chinese until chosen
    # BLF keys: the other agents of 8001's queues who have a phone, by extension (Lucy has none)
    assert re.findall(r"linekey\.\d+\.value = (\d+)", text) == ["1002", "1003"]
    assert "linekey.2.label = 韩梅梅" in text
    phone = env.app.get("/api/v1/phones/1001", headers=env.tokens["admin"]).json
    assert phone["fetched_from"] == "192.168.1.50" and phone["fetched_by"] == YEALINK_UA and phone["fetched_at"]
    # the shared Yealink file, with the same credentials
    assert fetch(env, "y000000000000.cfg", "001565aabbcc", env.passwords["1001"]).text.startswith("#!version")
    # the same spelling the installer may have keyed in: upper case with colons
    assert fetch(env, "001565aabbcc.cfg", "00:15:65:AA:BB:CC", env.passwords["1001"]).status_int == 200
    grandstream = fetch(env, "cfgc074ad112233.xml", "c074ad112233", env.passwords["1004"], ua="Grandstream Model HW "
                        "GXP2160 SW 1.0.11.16 DevId c074ad112233")
    assert grandstream.status_int == 200 and grandstream.content_type == "application/xml"
    assert "<P34>sip-secret-1004</P34>" in grandstream.text
    for secret in ("sip-secret-", *env.passwords.values()):
        assert not [r for r in caplog.records if secret and secret in r.getMessage()], secret


def test_one_phone_cannot_read_anothers_file(env):
    assert fetch(env, "0c383e445566.cfg", "001565aabbcc", env.passwords["1001"], ua=FANVIL_UA).status_int == 401
    assert fetch(env, "0c383e445566.cfg", "0c383e445566", env.passwords["1001"], ua=FANVIL_UA).status_int == 401
    # a Fanvil's credentials do not open Yealink's shared file either
    assert fetch(env, "y000000000000.cfg", "0c383e445566", env.passwords["1002"], ua=FANVIL_UA).status_int == 401
    # nor a Yealink's file name for the Fanvil's MAC
    assert fetch(env, "cfg0c383e445566.xml", "0c383e445566", env.passwords["1002"]).status_int == 404
    assert fetch(env, "0c383e445566.cfg", "0c383e445566", env.passwords["1002"], ua=FANVIL_UA).status_int == 200
    # Basic is taken over HTTPS only: on plain HTTP the password would cross the LAN in clear
    basic = "Basic " + base64.b64encode(f"001565aabbcc:{env.passwords['1001']}".encode()).decode()
    plain = env.app.get("/prov/001565aabbcc.cfg", headers={"Authorization": basic}, extra_environ=PHONE_AT,
                        expect_errors=True)
    assert plain.status_int == 401
    tls = env.app.get("/prov/001565aabbcc.cfg", headers={"Authorization": basic},
                      extra_environ={**PHONE_AT, "wsgi.url_scheme": "https"})
    assert "account.1.password = sip-secret-1001" in tls.text


def test_unknown_macs_and_wrong_passwords_are_refused_logged_and_rate_limited(env, caplog):
    caplog.set_level(logging.INFO)
    other = {"REMOTE_ADDR": "192.168.1.77"}
    # files phones ask for that are not ours: 404, not counted (every boot asks for some)
    for _ in range(12):
        assert fetch(env, "001565aabbcc-local.cfg", source=other).status_int == 404
    assert fetch(env, "0c383e445566.cfg", "0c383e445566", env.passwords["1002"], source=other).status_int == 200
    refused = [fetch(env, "001565000001.cfg", source=other).status_int for _ in range(4)]
    refused += [fetch(env, "001565aabbcc.cfg", "001565aabbcc", "guess-" + str(n), source=other).status_int
                for n in range(5)]
    assert refused == [404] * 4 + [401] * 5
    locked = fetch(env, "001565000002.cfg", source=other)  # the 10th failure locks the address
    assert locked.status_int == 429 and int(locked.headers["Retry-After"]) > 500
    # locked: not even the right credentials are checked
    assert fetch(env, "001565aabbcc.cfg", "001565aabbcc", env.passwords["1001"], source=other).status_int == 429
    # another address is not concerned
    assert fetch(env, "001565aabbcc.cfg", "001565aabbcc", env.passwords["1001"]).status_int == 200
    assert m.AuditLog.select().where(m.AuditLog.action == "login_failed", m.AuditLog.detail.contains("provisioning"),
                                     m.AuditLog.detail.contains("prov:192.168.1.77")).count() == 10
    [lock] = env.deps.users.guard.lockouts()
    assert lock["kind"] == "prov" and lock["name"] == "192.168.1.77"
    messages = [r.getMessage() for r in caplog.records if r.name == "appliance.services.provisioning"]
    assert any("no phone of the appliance has that MAC" in x and "192.168.1.77" in x for x in messages)
    assert any("wrong credentials" in x and "192.168.1.77" in x for x in messages)


def test_a_stale_challenge_is_answered_with_a_new_one_not_counted(env):
    service = env.deps.provisioning
    first = fetch(env, "001565aabbcc.cfg")
    later = service.clock
    service.clock = lambda: later() + 600
    try:
        auth = digest(first.headers["WWW-Authenticate"], "001565aabbcc", env.passwords["1001"], "/prov/001565aabbcc.cfg")
        again = env.app.get("/prov/001565aabbcc.cfg", headers={"Authorization": auth}, extra_environ=PHONE_AT,
                            expect_errors=True)
    finally:
        service.clock = later
    assert again.status_int == 401 and "stale=true" in again.headers["WWW-Authenticate"]
    assert env.deps.users.guard.locked("prov:192.168.1.50") is None and not m.LoginThrottle.select().exists()


def test_the_installer_reads_a_phones_credentials_admins_only(env):
    got = env.app.get("/api/v1/phones/1001/provisioning", headers={**env.tokens["admin"], "Host": "10.0.0.5:8080"}).json
    assert got == {"url": "http://10.0.0.5:8080/prov/", "https": False, "username": "001565aabbcc",
                   "password": env.passwords["1001"], "file": "001565aabbcc.cfg"}
    assert env.app.get("/api/v1/phones/1001/provisioning", headers=env.tokens["sup"],
                       expect_errors=True).status_int == 403
    none = env.app.get("/api/v1/phones/1003/provisioning", headers=env.tokens["admin"], expect_errors=True)
    assert none.status_int == 404 and none.json["error"] == "phones.not_provisioned"
    listed = env.app.get("/api/v1/phones", headers=env.tokens["admin"]).json["items"]
    assert all("password" not in str(p).lower() or "has_secret" in p for p in listed)
    assert not [p for p in listed if env.passwords["1001"] in str(p)]
