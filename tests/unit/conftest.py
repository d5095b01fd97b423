"""Fixtures shared by the unit tier."""

from __future__ import annotations

import pytest

from webharness import database_copy


@pytest.fixture
def db(tmp_path):
    """A real SQLite file, migrated to the newest schema: a copy of one migrated once per test
    process (``webharness.database_copy``; migrating a file takes some 0.2 s of CPU and 0.8 s
    of fsyncs, copying it 5 ms)."""
    database = database_copy(tmp_path / "t.db", "migrated", lambda db, folder: None)
    yield database
    database.close()
