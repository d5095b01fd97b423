"""SQLite through peewee: opening the database and migrating it to head."""

from __future__ import annotations

import os
from pathlib import Path

from appliance.db.connections import LoopDatabase
from appliance.db.models import database

PRAGMAS = {
    "journal_mode": "wal",
    "synchronous": "normal",  # with WAL: durable at checkpoint, never corrupt
    "foreign_keys": 1,
    "busy_timeout": 5000,
    "cache_size": -16000,
}


def native_lock():
    """An OS lock for peewee's connect/close, which the query pool's native threads take as
    well as the loop's greenlets.  Created after gevent's monkey-patching, peewee's own
    ``threading.Lock()`` is gevent's, whose hand-over between a native thread and the loop's
    greenlets can be lost: a pool thread then waits for it forever, and with it every web
    request (each one connects), while the loop itself keeps running.  Nothing yields while
    holding this lock (it guards ``sqlite3.connect`` and a few PRAGMAs), so an OS lock never
    stalls the loop for more than that."""
    from gevent import monkey

    return monkey.get_original("_thread", "allocate_lock")()


def open_database(path: str | Path) -> LoopDatabase:
    """Open (creating if needed) the database file and bind the models to it. Its loop
    greenlets borrow kept connections once a ``ConnectionPool`` is made for it
    (``appliance.db.connections``)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:  # private from the start: SQLite gives its -wal and -shm files the same mode
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        pass
    db = LoopDatabase(str(path), pragmas=PRAGMAS, check_same_thread=False)
    db._lock = native_lock()
    db.connect(reuse_if_open=True)
    database.initialize(db)
    return db
