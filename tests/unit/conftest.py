"""Fixtures shared by the unit tier."""

from __future__ import annotations

import pytest

from webharness import migrated


@pytest.fixture
def db(tmp_path):
    """A real SQLite file, migrated to the newest schema (``webharness.migrated``: a copy)."""
    database = migrated(tmp_path / "t.db")
    yield database
    database.close()
