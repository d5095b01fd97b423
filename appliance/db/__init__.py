"""SQLite through peewee: opening the database and migrating it to head."""

from __future__ import annotations

import os
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
    try:  # private from the start: SQLite gives its -wal and -shm files the same mode
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        pass
    db = SqliteDatabase(str(path), pragmas=PRAGMAS, check_same_thread=False)
    db.connect(reuse_if_open=True)
    database.initialize(db)
    return db
