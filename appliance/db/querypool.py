"""Heavy database reads off the loop that serves calls.

The web UI shares its gevent loop with FastAGI and the AMI client.  A query that scans
60,000 customers holds that loop for as long as SQLite works, and every call waiting for
a routing decision waits with it (measured before this: 200 concurrent customer searches
pushed FastAGI's first answer to 2 s).  ``QueryPool.run(fn, *args)`` runs ``fn`` in one of
a few native threads instead, each with its own SQLite connection (peewee keeps one per
thread), while the calling greenlet waits and the loop goes on serving calls.

- ``fn`` only reads the database and builds plain data: it must not touch the request
  (bottle's ``request`` is per greenlet), the AMI client or anything else of the loop's.
- SQLite's ``sqlite3_step`` runs without the GIL, so the scan itself runs beside the
  loop; building Python rows holds the GIL, which the loop gets back at least every
  ``sys.getswitchinterval()`` (``appliance.main`` sets 1 ms, not the default 5 ms).
- At most ``threads`` run and ``queue`` wait; the next caller gets ``Busy`` (503, try
  again) at once rather than an ever longer wait.
- ``run_urgent`` is for a short read a page cannot do without and that does not wait its
  turn behind the searches: it runs on a thread of its own (one at a time). The wallboard's
  figures (at most one a second, ``webui/areas/wallboard.py``): in the mixed load their p99
  was the customer searches' queue, seconds.
- ``close`` is bounded: jobs still queued are dropped (their callers get ``Busy``), the
  SQLite statements running are interrupted (``sqlite3.Connection.interrupt``, made to be
  called from another thread), and what still runs after ``timeout`` is left behind.
  gevent's ``ThreadPool.kill`` alone waits until every queued job has run: after a load of
  searches the appliance took more than 30 s to stop.
"""

from __future__ import annotations

import logging

import gevent

from appliance.errors import Unavailable

logger = logging.getLogger(__name__)


class Busy(Unavailable):
    """Too many heavy reads at once: try again in a moment."""

    code = "busy"
    retry_after = 1


class QueryPool:
    """``threads`` native threads of its own (each keeps its connection open between jobs),
    or, with ``threadpool`` given (gevent's hub pool, for tests and scripts that build many
    apps), that pool's threads, closing the connection after each job."""

    def __init__(self, db, threads: int = 2, queue: int = 32, threadpool=None):
        from gevent.lock import Semaphore
        from gevent.threadpool import ThreadPool

        self.db = db
        self.threads = threads
        self.queue = queue
        self._own = threadpool is None
        self._pool = ThreadPool(threads + 1) if self._own else threadpool  # + run_urgent's own
        self.pending = 0  # running or waiting; only changed on the loop
        self.refused = 0
        self.ran = 0
        self._closing = False
        self._running: set = set()  # the SQLite connections of the jobs running now (set.add is atomic)
        self._slots = Semaphore(threads if self._own else threadpool.maxsize)  # a free thread each
        self._urgent = Semaphore(1)

    def run(self, fn, *args, **kwargs):
        return self._run(self._slots, fn, args, kwargs)

    def run_urgent(self, fn, *args, **kwargs):
        """``run``, on a thread the other reads do not take: it waits only for another urgent
        one, and a pool full of searches does not refuse it."""
        return self._run(self._urgent, fn, args, kwargs, urgent=True)

    def _run(self, slots, fn, args, kwargs, urgent=False):
        if self._closing:
            raise Busy("the appliance is stopping")
        if not urgent and self.pending >= self.threads + self.queue:
            self.refused += 1
            if self.refused in (1, 10, 100) or self.refused % 1000 == 0:
                logger.warning("web: %s heavy reads running or waiting; refusing more (%s refused so far)",
                               self.pending, self.refused)
            raise Busy("the appliance is busy with other searches: try again in a moment")
        self.pending += 1
        try:
            # wait here for a thread, not in the thread pool's queue: a caller waiting in gevent's
            # ThreadPool.spawn for a free worker could not be answered once the pool is killed
            with slots:
                if self._closing:  # waited through close(): answered, never run
                    raise Busy("the appliance is stopping")
                result, error = self._pool.apply(self._job, (fn, args, kwargs))
        finally:
            self.pending -= 1
        self.ran += 1
        if error is not None:
            raise error
        return result

    def _job(self, fn, args, kwargs):
        # this thread's own connection (peewee's per-thread state), kept open for its next job
        if self._closing:  # queued before close: its caller is gone or about to be
            return None, Busy("the appliance is stopping")
        try:
            self.db.connect(reuse_if_open=True)
            connection = self.db.connection()
            self._running.add(connection)
            try:
                return fn(*args, **kwargs), None
            finally:
                self._running.discard(connection)
        except BaseException as exc:  # handed back to the caller's greenlet, not printed by the pool
            return None, exc
        finally:
            if not self._own and not self.db.is_closed():
                self.db.close()

    def stats(self) -> dict:
        return {"threads": self.threads, "queue": self.queue, "pending": self.pending, "ran": self.ran,
                "refused": self.refused}

    def close(self, timeout: float = 5.0) -> None:
        """Refuse new jobs, drop the queued ones, interrupt the running ones, and stop the
        threads, waiting at most ``timeout`` seconds for a job that ignores the interrupt."""
        self._closing = True
        for connection in list(self._running):
            try:
                connection.interrupt()
            except Exception:  # closed meanwhile: nothing runs on it
                pass
        if not self._own:
            return
        with gevent.Timeout(timeout, False):
            self._pool.kill()  # returns once the queue is empty and every thread has taken its stop
            return
        logger.warning("web: %s heavy read(s) still running %.0f s after stop; not waiting for them",
                       len(self._running), timeout)
