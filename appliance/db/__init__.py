"""SQLite through peewee: opening the database and migrating it to head."""

from __future__ import annotations

from pathlib import Path

from peewee import SqliteDatabase

from appliance.db.models import database

PRAGMAS = {
    "journal_mode": "wal",
    "synchronous": "normal",  # with WAL: durable at checkpoint, never corrupt
    "foreign_keys": 1,
    "busy_timeout": 5000,
    "cache_size": -16000,
}


def open_database(path: str | Path) -> SqliteDatabase:
    """Open (creating if needed) the database file and bind the models to it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    db = SqliteDatabase(str(path), pragmas=PRAGMAS, check_same_thread=False)
    db.connect(reuse_if_open=True)
    database.initialize(db)
    return db
