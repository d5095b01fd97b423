"""Fixtures shared by the unit tier."""

from __future__ import annotations

import pytest

from appliance.db import open_database
from appliance.db.migrate import migrate


@pytest.fixture
def db(tmp_path):
    """A real SQLite file, migrated to the newest schema."""
    database = open_database(tmp_path / "t.db")
    migrate(database)
    yield database
    database.close()
