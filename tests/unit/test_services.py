"""The user and configuration services against a real SQLite file."""

from __future__ import annotations

import json
import re

import pytest

from appliance.db import models as m
from appliance.errors import Conflict, NotFound, ValidationError
from appliance.services.config import FIELDS, KEYS, KIND_TABLE, KINDS, ConfigService
from appliance.services.users import UserService, hash_password, verify_password


@pytest.fixture
def changes():
    return []


@pytest.fixture
def config(db, changes):
    return ConfigService(db, on_change=lambda: changes.append(1))


def seed(config):
    config.create("trunks", {"name": "pstn", "host": "127.0.0.2", "match": "127.0.0.2"}, actor="t")
    config.create("queues", {"name": "sales"}, actor="t")
    config.create("dids", {"number": "88001000", "queue": "sales", "trunk": "pstn"}, actor="t")
    config.create("phones", {"extension": "1001", "secret": "s3cret-pass"}, actor="t")
    config.create("agents", {"number": "1001", "name": "Alice", "phone": "1001"}, actor="t")
    config.add_member("sales", "1001", actor="t")


# -- users -----------------------------------------------------------------------
@pytest.mark.full_scrypt
def test_password_hash_is_scrypt_salted_and_verifies():
    h1, h2 = hash_password("correct horse"), hash_password("correct horse")
    assert h1.startswith("scrypt$16384$8$1$") and h1 != h2  # the appliance's own cost
    assert verify_password("correct horse", h1) and not verify_password("wrong horse", h1)
    assert not verify_password("x", "garbage")


def test_a_hash_is_made_at_the_cost_of_the_moment_and_verified_at_its_own(monkeypatch):
    from appliance.services import users

    monkeypatch.setattr(users, "SCRYPT_COST", {"n": 2**10, "r": 8, "p": 1})
    small = hash_password("correct horse")
    assert small.startswith("scrypt$1024$8$1$")
    monkeypatch.setattr(users, "SCRYPT_COST", {"n": 2**14, "r": 8, "p": 1})
    assert verify_password("correct horse", small) and not verify_password("wrong horse", small)
    assert hash_password("correct horse", n=2**12).startswith("scrypt$4096$8$1$")


def test_first_admin_is_created_once(db):
    users = UserService(db)
    password = users.ensure_admin()
    assert password and users.authenticate("admin", password)["role"] == "admin"
    assert users.ensure_admin() is None
    assert users.authenticate("admin", "not-the-password") is None
    assert users.authenticate("nobody", password) is None


def test_user_validation_and_duplicates(db):
    users = UserService(db)
    with pytest.raises(ValidationError) as e:
        users.create("bad name\n", "short", "king")
    assert set(e.value.fields) == {"username", "role"}
    with pytest.raises(ValidationError) as e:
        users.create("bob", "short", "agent")
    assert "password" in e.value.fields
    users.create("bob", "long enough", "agent")
    with pytest.raises(Conflict):
        users.create("bob", "long enough", "agent")


def test_tokens_are_stored_hashed_and_revocable(db):
    users = UserService(db)
    bob = users.create("bob", "long enough", "supervisor")
    token = users.create_token(bob["id"], "crm")
    assert users.user_for_token(token)["username"] == "bob"
    assert users.user_for_token(token + "x") is None
    assert token not in json.dumps([t.token_hash for t in m.ApiToken.select()])
    [listed] = users.list_tokens(bob["id"])
    assert listed["name"] == "crm" and listed["last_used_at"]
    users.revoke_token(bob["id"], listed["id"])
    assert users.user_for_token(token) is None
    with pytest.raises(NotFound):
        users.revoke_token(bob["id"], listed["id"])


# -- configuration ---------------------------------------------------------------
def test_create_read_update_delete_with_audit_and_apply(config, changes):
    seed(config)
    assert len(changes) == 6
    did = config.get("dids", "88001000")
    assert re.fullmatch(r"[0-9a-f]{16}", did.pop("version"))
    assert did == {"number": "88001000", "description": "", "trunk": "pstn", "queue": "sales",
                   "time_condition": None, "after_hours_queue": None, "require_pin": False,
                   "menu": None, "after_hours_menu": None, "after_hours_voicemail": False, "fax": False,
                   "fax_detect": False,
                   "fax_email": ""}
    assert config.get("agents", "1001")["queues"] == ["sales"]
    phone = config.get("phones", "1001")
    assert "secret" not in phone and phone["has_secret"] is True
    config.update("queues", "sales", {"strategy": "leastrecent", "ring_timeout": "20"}, actor="admin")
    assert config.get("queues", "sales")["strategy"] == "leastrecent"
    assert config.get("queues", "sales")["ring_timeout"] == 20
    config.update("dids", "88001000", {"queue": None}, actor="admin")
    config.delete("dids", "88001000", actor="admin")
    with pytest.raises(NotFound):
        config.get("dids", "88001000")
    log = config.audit()
    assert [(r["action"], r["object_type"]) for r in log[:3]] == [
        ("delete", "dids"), ("update", "dids"), ("update", "queues")]
    assert all("s3cret-pass" not in r["detail"] for r in log)


def test_validation_names_every_bad_field(config):
    with pytest.raises(ValidationError) as e:
        config.create("trunks", {"name": "Bad Name", "host": "-x-", "port": 70000, "match": "10.0.0.0/8,nope",
                                 "codecs": "alaw,mp3", "colour": "red"}, actor="t")
    assert set(e.value.fields) == {"name", "host", "port", "match", "codecs", "colour"}
    with pytest.raises(ValidationError) as e:
        config.create("phones", {"extension": "1001", "secret": "short"}, actor="t")
    assert "secret" in e.value.fields
    with pytest.raises(ValidationError) as e:
        config.create("agents", {"number": "7", "name": "Eve\r\nAction: Originate", "phone": "404"}, actor="t")
    assert set(e.value.fields) == {"name", "phone"}
    with pytest.raises(ValidationError) as e:
        config.create("queues", {"name": "q", "strategy": "fastest"}, actor="t")
    assert "strategy" in e.value.fields
    with pytest.raises(ValidationError):
        config.create("queues", ["not", "an", "object"], actor="t")
    for reserved in ("fax", "s", "h"):  # the dialplan's own extension names in the queues' context
        with pytest.raises(ValidationError) as e:
            config.create("queues", {"name": reserved}, actor="t")
        assert "keeps for itself" in e.value.fields["name"]


def test_nothing_half_saved_on_failure(config, changes):
    with pytest.raises(ValidationError):
        config.create("queues", {"name": "sales", "ring_timeout": "soon"}, actor="t")
    assert config.list("queues") == [] and changes == [] and config.audit() == []


def test_conflicts_and_references(config):
    seed(config)
    with pytest.raises(Conflict):
        config.create("queues", {"name": "sales"}, actor="t")
    with pytest.raises(Conflict) as e:
        config.delete("queues", "sales", actor="t")
    assert "DID 88001000" in e.value.message
    with pytest.raises(Conflict):
        config.delete("phones", "1001", actor="t")
    with pytest.raises(Conflict):
        config.add_member("sales", "1001", actor="t")
    with pytest.raises(ValidationError):
        config.add_member("sales", "1001", penalty=-1, actor="t")
    config.remove_member("sales", "1001", actor="t")
    with pytest.raises(NotFound):
        config.remove_member("sales", "1001", actor="t")
    with pytest.raises(NotFound):
        config.list("widgets")


def test_json_schema_follows_the_field_table(config):
    for kind in KINDS:
        schema = config.json_schema(kind)
        assert set(schema["properties"]) == {f.name for f in FIELDS[kind]}
        assert schema.get("required", []) == [f.name for f in FIELDS[kind] if f.required]
        if KIND_TABLE[kind].key_prefix:  # a key, or a display name to make one from
            assert schema["anyOf"] == [{"required": [KEYS[kind]]}, {"required": ["display_name"]}]
    assert config.json_schema("queues")["properties"]["strategy"]["enum"][0] == "ringall"
    assert config.json_schema("phones")["properties"]["secret"]["writeOnly"] is True
    assert "secret" not in config.output_schema("phones")["properties"]


def test_routing_rules_are_validated_and_protected(config):
    seed(config)
    with pytest.raises(ValidationError) as e:
        config.create("time_conditions", {"name": "office", "schedule": "weekdays 9-6", "timezone": "Mars/Base"},
                      actor="t")
    assert set(e.value.fields) == {"schedule", "timezone"}
    assert "not a day" in e.value.fields["schedule"]
    config.create("time_conditions", {"name": "office", "schedule": "mon-fri 09:00-18:00"}, actor="t")
    config.create("queues", {"name": "duty"}, actor="t")
    config.update("dids", "88001000", {"time_condition": "office", "after_hours_queue": "duty"}, actor="t")
    with pytest.raises(Conflict):
        config.delete("time_conditions", "office", actor="t")
    with pytest.raises(Conflict):
        config.delete("queues", "duty", actor="t")
    with pytest.raises(ValidationError) as e:
        config.create("holidays", {"date": "2026-02-30", "name": "x", "kind": "festival"}, actor="t")
    assert set(e.value.fields) == {"date", "kind"}
    config.create("holidays", {"date": "2026-10-01", "name": "National Day"}, actor="t")
    with pytest.raises(ValidationError):
        config.create("blacklist", {"number": "call me maybe"}, actor="t")
    config.create("blacklist", {"number": "+13900000666", "note": "abusive"}, actor="t")

    from appliance.confgen.from_db import routing_table

    table = routing_table()
    assert table.dids["88001000"].time_condition == "office" and table.dids["88001000"].after_hours_queue == "duty"
    assert "13900000666" in table.blacklist and list(table.holidays.values()) == ["holiday"]
    assert table.time_conditions["office"].timezone == "Asia/Shanghai"


def test_listing_agents_takes_a_few_queries_however_many_there_are(db, monkeypatch):
    config = ConfigService(db)
    users = UserService(db)
    config.create("queues", {"name": "sales"}, actor="t")
    for i in range(30):
        number = str(1000 + i)
        users.create(f"agent{i}", "correct-horse-9", "agent")
        config.create("phones", {"extension": number, "secret": "pw-secret-1"}, actor="t")
        config.create("agents", {"number": number, "name": f"A{i}", "phone": number, "user": f"agent{i}"}, actor="t")
        config.add_member("sales", number, actor="t")
    one_by_one = [config.get("agents", str(1000 + i)) for i in range(30)]
    queries = []
    real = db.execute_sql
    monkeypatch.setattr(db, "execute_sql", lambda *a, **k: queries.append(a[0]) or real(*a, **k))
    listed = config.list("agents")
    assert listed == one_by_one  # the same objects as read one by one
    assert len(queries) <= 4, queries  # phones, users, memberships, agents
