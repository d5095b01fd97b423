"""Numbered schema migrations, applied in order, each once.

A migration is a module ``appliance/db/migrations/mNNNN_<what>.py`` with a function
``up(db, migrator)``; ``migrator`` is peewee's ``playhouse.migrate.SqliteMigrator``.
Each runs in its own transaction together with the row that records it, so a
failed migration leaves the database at the previous version.
"""

from __future__ import annotations

import importlib
import logging
import pkgutil
import re

from playhouse.migrate import SqliteMigrator

from appliance.db import migrations

logger = logging.getLogger(__name__)

_NAME = re.compile(r"^m(\d{4})_\w+$")


class MigrationError(RuntimeError):
    code = "db.migration_failed"


def available() -> list[tuple[int, str]]:
    found = []
    for info in pkgutil.iter_modules(migrations.__path__):
        m = _NAME.match(info.name)
        if m:
            found.append((int(m.group(1)), info.name))
    found.sort()
    numbers = [n for n, _ in found]
    if numbers != list(range(1, len(numbers) + 1)):
        raise MigrationError(f"migrations must be numbered 1..N without gaps, found {numbers}")
    return found


def current_version(db) -> int:
    db.execute_sql(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
        "applied_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP)"
    )
    row = db.execute_sql("SELECT MAX(version) FROM schema_migrations").fetchone()
    return row[0] or 0


def head() -> int:
    return available()[-1][0]


def migrate(db, target: int | None = None) -> int:
    """Bring ``db`` to ``target`` (default: head); returns the new version."""
    version = current_version(db)
    wanted = head() if target is None else target
    if version > head():
        raise MigrationError(
            f"the database is at schema version {version}, newer than this software ({head()})"
        )
    for number, name in available():
        if number <= version or number > wanted:
            continue
        module = importlib.import_module(f"{migrations.__name__}.{name}")
        logger.info("applying migration %s", name)
        try:
            with db.atomic():
                module.up(db, SqliteMigrator(db))
                db.execute_sql("INSERT INTO schema_migrations (version, name) VALUES (?, ?)", (number, name))
        except Exception as exc:
            raise MigrationError(f"migration {name} failed: {exc}") from exc
        version = number
    return version
