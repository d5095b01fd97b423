"""Any old backup restores (issue 20 point 5): one backup file per migration level, made by
``tests/fixtures/backups/make_fixtures.py`` from the migrations of that level with a few rows,
each restored into today's schema through the real restore (check, safety copy, put back,
the normal migrations): its rows survive the forward migration.  A new migration without its
fixture fails here: run the generator (its docstring says how) and commit the file."""

from __future__ import annotations

import sqlite3
import sys
import tarfile
from pathlib import Path

import pytest

from appliance.db import models as m
from appliance.db import open_database
from appliance.db.migrate import available, head, migrate
from appliance.services import backup as b
from appliance.tarfiles import SAFE

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "backups"
sys.path.insert(0, str(FIXTURES))
import make_fixtures  # noqa: E402


def test_every_migration_level_has_a_fixture():
    missing = [n for n, _ in available() if not (FIXTURES / make_fixtures.name_of(n)).is_file()]
    assert not missing, (f"no backup fixture for migration level(s) {missing}: run "
                         "`.venv/bin/python tests/fixtures/backups/make_fixtures.py` and commit the file(s)")


def fixture_rows(path: Path, into: Path) -> dict[str, int]:
    with tarfile.open(path, "r:gz") as tar:
        tar.extract(b.DB_MEMBER, into, **SAFE)
    con = sqlite3.connect(into / b.DB_MEMBER)
    try:
        tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        return {t: con.execute(f'SELECT COUNT(*) FROM "{t}"').fetchone()[0] for t in make_fixtures.TABLES
                if t in tables}
    finally:
        con.close()


def test_every_fixture_restores_and_its_rows_survive_the_forward_migration(tmp_path):
    data = tmp_path / "box"
    layout = b.Layout(data_dir=data, db_path=data / "appliance.db", prompts_dir=data / "prompts",
                      recordings_dir=data / "recordings", fax_dir=data / "fax")
    db = open_database(layout.db_path)
    migrate(db)
    service = b.BackupService(layout, db, data / "backups", run=lambda fn, *a: fn(*a))
    try:
        for level, _name in available():
            fixture = FIXTURES / make_fixtures.name_of(level)
            before = fixture_rows(fixture, tmp_path / f"peek-{level}")
            assert before["queue"] == 1, level
            run = service.restore(fixture, "test")
            assert run["outcome"] == "ok" and run["from_level"] == level
            assert db.execute_sql("SELECT MAX(version) FROM schema_migrations").fetchone()[0] == head()
            marker = make_fixtures.marker(level)
            assert m.Queue.get(m.Queue.name == marker), level
            assert m.Agent.select().count() == 1, level
            for table, count in before.items():
                assert db.execute_sql(f'SELECT COUNT(*) FROM "{table}"').fetchone()[0] >= count, (level, table)
            assert (layout.prompts_dir / f"{marker}.wav").is_file()
    finally:
        db.close()
