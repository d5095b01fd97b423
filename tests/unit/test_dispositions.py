"""Dispositions the admin keeps (services/dispositions.py) over a migrated database: the six
seeded codes keep their keys and read in the reader's language, added ones carry a name in
any script, the order is the admin's, and a used disposition is switched off, not deleted."""

from __future__ import annotations

import pytest

from appliance.db import models as m
from appliance.db import open_database
from appliance.db.migrate import migrate
from appliance.errors import Conflict, ValidationError
from appliance.services.dispositions import DispositionService
from webharness import migrated

SEEDED = ["resolved", "sale", "call-back", "complaint", "no-interest", "wrong-number"]


@pytest.fixture
def service(tmp_path):
    db = migrated(tmp_path / "d.db")
    yield DispositionService(db)
    db.close()


def test_the_six_seeded_codes_keep_their_keys_and_read_in_the_readers_language(service):
    rows = service.list("zh_CN")
    assert [d["code"] for d in rows] == SEEDED
    assert rows[1]["name"] == "成交" and service.list("en")[1]["name"] == "Sale"
    assert all(d["active"] and d["label"] == "" for d in rows)


def test_add_rename_in_any_script_reorder_and_switch_off(service):
    added = service.create({"code": "vip-upgrade", "label": "升级为贵宾"}, actor="admin")
    assert (added["name"], added["position"], added["active"]) == ("升级为贵宾", 7, True)
    with pytest.raises(Conflict):
        service.create({"code": "sale", "label": "x"}, actor="admin")
    with pytest.raises(ValidationError):
        service.create({"code": "Bad Key", "label": "x"}, actor="admin")
    with pytest.raises(ValidationError):
        service.create({"code": "no-name", "label": " "}, actor="admin")
    service.update("sale", {"label": "成交（新）"}, actor="admin")
    assert service.names("en")["sale"] == "成交（新）"
    service.move("vip-upgrade", -1, actor="admin")
    assert [d["code"] for d in service.list()][-2:] == ["vip-upgrade", "wrong-number"]
    service.update("complaint", {"active": False}, actor="admin")
    assert "complaint" not in [d["code"] for d in service.list(active_only=True)]
    assert service.names("zh_CN")["complaint"] == "投诉"  # old records still read it
    assert m.AuditLog.select().where(m.AuditLog.object_type == "dispositions").count() == 4


def test_a_used_disposition_is_switched_off_not_deleted(service):
    m.CallOutcome.create(linkedid="1.1", agent="1001", disposition="sale", note="", saved_by="alice")
    assert service.delete("sale", actor="admin") == {"code": "sale", "deleted": False, "active": False, "used": 1}
    assert m.CallDisposition.get(m.CallDisposition.code == "sale").active is False
    assert service.delete("wrong-number", actor="admin")["deleted"] is True
    assert not m.CallDisposition.select().where(m.CallDisposition.code == "wrong-number").exists()


def test_the_migration_keeps_a_renamed_seed_and_blanks_only_the_seeded_english(tmp_path):
    from appliance.db.migrate import available

    db = open_database(tmp_path / "old.db")
    mine = next(n for n, name in available() if name.endswith("_dispositions"))
    migrate(db, target=mine - 1)
    db.execute_sql("""UPDATE "call_disposition" SET "label" = '成交啦' WHERE "code" = 'sale'""")
    db.execute_sql("""INSERT INTO "call_disposition" ("code", "label") VALUES ('upsell', 'Upsell')""")
    migrate(db)
    rows = {d["code"]: d for d in DispositionService(db).list("zh_CN")}
    assert (rows["sale"]["label"], rows["resolved"]["label"], rows["upsell"]["name"]) == ("成交啦", "", "Upsell")
    assert [d["position"] for d in rows.values()] == sorted(d["position"] for d in rows.values())
    db.close()
