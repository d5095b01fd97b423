"""Customer search through ``customer_fts`` (issue 23 point 1): the index follows every
write to a customer, a search through it gives the scan's results in the scan's order for
every kind of term (a part of a number, of a name, Chinese, letters in another case, terms
too short or too common for the index), scoped as before, and it does not read the table."""

from __future__ import annotations

import pytest

from appliance.db import models as m
from appliance.services import crm as crm_module
from appliance.services.crm import CustomerService, Viewer

ADMIN = Viewer("root", "admin")
ALICE = Viewer("alice", "agent", frozenset({"1001"}))
NAMES = ("王芳", "王小芳", "张伟", "Zhang Wei", "zhang WEI 2", "Émile Zola", "émile", "100% Pure", "a_b c")


@pytest.fixture
def world(db):
    alice = m.Agent.create(number="1001", name="Alice")
    m.Agent.create(number="1002", name="Bob")
    rows = [{"name": f"{NAMES[i % len(NAMES)]} {i}", "phone": f"13{i % 7}{i:08d}",
             "account_manager": alice.id if i % 4 == 0 else None} for i in range(3000)]
    with db.atomic():
        for start in range(0, len(rows), 500):
            m.Customer.insert_many(rows[start:start + 500]).execute()
    return type("W", (), {"indexed": CustomerService(db), "scan": CustomerService(db, search_index=False),
                          "db": db})


def fts(db, column: str, term: str) -> set[int]:
    rows = db.execute_sql("SELECT rowid FROM customer_fts WHERE customer_fts MATCH ?", (f'{column} : "{term}"',))
    return {r[0] for r in rows}


def test_the_index_follows_inserts_updates_and_deletes(db):
    c = m.Customer.create(name="李娜娜", phone="13812345678")
    assert fts(db, "name", "李娜娜") == {c.id} and fts(db, "phone", "1234567") == {c.id}
    m.Customer.update(name="赵敏敏", phone="13887654321").where(m.Customer.id == c.id).execute()
    assert fts(db, "name", "李娜娜") == set() and fts(db, "phone", "1234567") == set()
    assert fts(db, "name", "赵敏敏") == {c.id} and fts(db, "phone", "8765432") == {c.id}
    m.Customer.delete().where(m.Customer.id == c.id).execute()
    assert fts(db, "name", "赵敏敏") == set() and fts(db, "phone", "8765432") == set()


TERMS = ("王芳", "芳 1", "小芳 12", "zhang wei", "ZHANG", "WEI 2", "émile", "ÉMILE", "Émile", "100%", "% P", "a_b",
         "_b", "1302", "+86 131", "0001", "13", "9", "zz", "芳", "", "13 1000 0", "not there",
         '"王芳', "王\x00芳 1", "\x00\x00\x00")  # FTS5 syntax and a NUL (which ends an FTS5 string: a 500 once)


def test_a_search_through_the_index_finds_what_the_scan_finds_in_its_order(world, monkeypatch):
    for cap in (crm_module.INDEX_CAP, 50):  # the second: the common terms are left to the scan
        monkeypatch.setattr(crm_module, "INDEX_CAP", cap)
        for viewer in (ADMIN, ALICE):
            for term in TERMS:
                for page in (1, 2):
                    got = world.indexed.search(viewer, term, page=page, per_page=20)
                    assert got == world.scan.search(viewer, term, page=page, per_page=20), (term, cap, viewer, page)
                assert world.indexed.search(viewer, term, category="x") == world.scan.search(viewer, term, category="x")


def test_a_search_reads_the_index_not_the_table(world):
    """SQLite's virtual machine steps for a rare name and a rare part of a number: the scan
    reads all 3,000 customers, the index a few."""
    conn = world.db.connection()
    steps = [0]

    def count():
        steps[0] += 1

    def cost(service, term):
        steps[0] = 0
        conn.set_progress_handler(count, 100)
        try:
            found = service.search(ADMIN, term)
        finally:
            conn.set_progress_handler(None, 0)
        return steps[0], found

    for term in ("小芳 1234", "0001234"):
        indexed, found = cost(world.indexed, term)
        scanned, expected = cost(world.scan, term)
        assert found == expected and found["total"] >= 1, (term, found["total"])
        assert indexed * 10 < scanned, (term, indexed, scanned)
