"""SQLite connections kept open for the loop's greenlets.

peewee keeps one connection per thread, and under gevent a greenlet is a thread: every
FastAGI call (a greenlet of its own) opened a new SQLite connection on its first query,
set the five pragmas, read the whole schema again into an empty page cache, and left the
connection to the garbage collector. py-spy of the mixed load (bench/mixed_load.py, calls at
10 per second with 200 agents' event streams) found FastAGI's sessions spending about a fifth
of their time there, and the web's requests and a recording's hand-over did the same
(10-100 ms on the loop a time under load, bench/loopwatch.py).

The mechanism is in the database, not in its callers: once a ``ConnectionPool`` is made for a
``LoopDatabase``, any greenlet of the loop (a ``gevent.Greenlet``: FastAGI's calls, web
requests, anything ``gevent.spawn`` starts) that queries without a connection borrows a kept
one, and gives it back when it closes it (``db.close()``, as the web plugin does after each
request) or, at the latest, when the greenlet ends, raised or not (a ``rawlink``). A new
greenlet cannot forget it. A connection left in a transaction is rolled back before it is kept.

Only the loop's greenlets borrow: the query pool's native threads and gevent's thread pool keep
connections of their own (``appliance.db.querypool``), as do the main greenlet and the hub,
which never end.
"""

from __future__ import annotations

import logging

import gevent
from gevent import monkey
from peewee import SqliteDatabase

logger = logging.getLogger(__name__)

_native_thread_id = monkey.get_original("_thread", "get_ident")


class LoopDatabase(SqliteDatabase):
    """peewee's SQLite database, whose loop greenlets borrow from ``pool`` once there is one."""

    pool: ConnectionPool | None = None

    def _connect(self):
        if self.pool is not None:
            conn = self.pool.lend()
            if conn is not None:
                return conn
        return super()._connect()

    def _close(self, conn) -> None:
        if self.pool is None or not self.pool.take_back(conn):
            conn.close()


class ConnectionPool:
    """Connections kept idle for ``db``'s loop greenlets; made by the composition root, which
    closes it last."""

    def __init__(self, db: LoopDatabase, keep: int = 16):
        self.db = db
        self.keep = keep
        self.idle: list = []
        self.lent: dict = {}  # greenlet -> the connection it borrowed
        self.opened = 0
        self.closed = False
        self._loop_thread = _native_thread_id()
        db.pool = self

    def lend(self):
        """The connection for the greenlet connecting now, if it is one of the loop's (else
        None: it opens its own)."""
        current = gevent.getcurrent()
        if self.closed or not isinstance(current, gevent.Greenlet) or _native_thread_id() != self._loop_thread:
            return None
        conn = self.idle.pop() if self.idle else self._open()
        self.lent[current] = conn
        current.rawlink(self._ended)
        return conn

    def take_back(self, conn) -> bool:
        """The current greenlet closes ``conn``: kept if it was lent (True), else not ours."""
        current = gevent.getcurrent()
        if self.lent.get(current) is not conn:
            return False
        del self.lent[current]
        current.unlink(self._ended)
        self._give_back(conn)
        return True

    def _ended(self, greenlet) -> None:  # in the hub, once the greenlet is dead
        conn = self.lent.pop(greenlet, None)
        if conn is not None:
            self._give_back(conn)

    def _open(self):
        self.opened += 1
        return SqliteDatabase._connect(self.db)  # with the pragmas and hooks peewee's connect() sets

    def _give_back(self, conn) -> None:
        try:
            if conn.in_transaction:
                conn.rollback()
        except Exception:  # a broken connection is not kept
            logger.warning("a pooled SQLite connection could not be rolled back; closing it", exc_info=True)
            conn.close()
            return
        if len(self.idle) < self.keep and not self.closed:
            self.idle.append(conn)
        else:
            conn.close()

    def close(self) -> None:
        """Idle connections closed; those still lent are closed when given back."""
        self.closed = True
        idle, self.idle = self.idle, []
        for conn in idle:
            conn.close()
