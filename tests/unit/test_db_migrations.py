"""Migrations from an empty database to head, and the models matching the schema."""

from __future__ import annotations

import pytest

from appliance.db import models, open_database
from appliance.db.migrate import MigrationError, current_version, head, migrate


def columns(db, table):
    return {row[1]: (row[2].upper(), bool(row[3])) for row in db.execute_sql(f'PRAGMA table_info("{table}")')}


def test_empty_to_head_and_idempotent(tmp_path):
    db = open_database(tmp_path / "a.db")
    assert current_version(db) == 0
    assert migrate(db) == head()
    assert migrate(db) == head()
    assert db.execute_sql("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute_sql("PRAGMA foreign_keys").fetchone()[0] == 1


def test_models_match_the_migrated_schema(tmp_path):
    db = open_database(tmp_path / "a.db")
    migrate(db)
    for model in models.ALL_MODELS:
        table = model._meta.table_name
        actual = columns(db, table)
        expected = {f.column_name: (f.field_type.upper(), not f.null) for f in model._meta.sorted_fields}
        # peewee maps AUTO/BOOL/DATETIME/FLOAT/VARCHAR to SQLite types; compare names and nullability
        assert {k: v[1] for k, v in actual.items()} == {k: v[1] for k, v in expected.items()}, table


def test_database_newer_than_software_is_refused(tmp_path):
    db = open_database(tmp_path / "a.db")
    migrate(db)
    db.execute_sql("INSERT INTO schema_migrations (version, name) VALUES (?, 'm9999_future')", (head() + 1,))
    with pytest.raises(MigrationError, match="newer than this software"):
        migrate(db)


def test_unique_and_foreign_keys_enforced(tmp_path):
    from peewee import IntegrityError

    db = open_database(tmp_path / "a.db")
    migrate(db)
    models.Queue.create(name="sales")
    with pytest.raises(IntegrityError):
        models.Queue.create(name="sales")
    with pytest.raises(IntegrityError):
        models.QueueMember.create(queue=999, agent=999)
