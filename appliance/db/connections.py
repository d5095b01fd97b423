"""SQLite connections kept open between the loop's short sessions.

peewee keeps one connection per thread, and under gevent a greenlet is a thread: every
FastAGI call (a greenlet of its own) opened a new SQLite connection on its first query,
set the five pragmas, read the whole schema again into an empty page cache, and left the
connection to the garbage collector. py-spy of the mixed load (bench/mixed_load.py, calls at
10 per second with 200 agents' event streams) found FastAGI's sessions spending about a fifth
of their time there. ``ConnectionPool.session()`` lends a session an open connection from a
few kept idle, and takes it back when the session ends.

Only for greenlets of the loop (one OS thread): the query pool's native threads keep their
own connections (``appliance.db.querypool``).
"""

from __future__ import annotations

import contextlib
import logging

logger = logging.getLogger(__name__)


class ConnectionPool:
    def __init__(self, db, keep: int = 16):
        self.db = db  # a peewee SqliteDatabase (not the models' Proxy)
        self.keep = keep
        self.idle: list = []
        self.opened = 0

    @contextlib.contextmanager
    def session(self):
        """This greenlet's queries run on a kept connection until the block ends. A greenlet
        that already has its own connection keeps it; one left in a transaction (an error in
        the middle of ``atomic``) is rolled back before it is kept."""
        state = self.db._state
        if not state.closed:
            yield
            return
        conn = self.idle.pop() if self.idle else self._open()
        state.set_connection(conn)
        try:
            yield
        finally:
            state.reset()
            self._give_back(conn)

    def _open(self):
        self.opened += 1
        return self.db._connect()  # with the pragmas and hooks peewee's connect() sets

    def _give_back(self, conn) -> None:
        try:
            if conn.in_transaction:
                conn.rollback()
        except Exception:  # a broken connection is not kept
            logger.warning("a pooled SQLite connection could not be rolled back; closing it", exc_info=True)
            conn.close()
            return
        if len(self.idle) < self.keep:
            self.idle.append(conn)
        else:
            conn.close()

    def close(self) -> None:
        idle, self.idle = self.idle, []
        for conn in idle:
            conn.close()
