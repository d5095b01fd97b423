"""Long work on the database (an Excel export of up to 100,000 rows, an import) run off the
loop that serves calls: in gevent's thread pool, with a connection of its own.

The web UI shares its gevent loop with FastAGI and the AMI client: building a workbook of
100,000 call records in the loop would hold every call waiting for a routing decision.
``in_worker(db, fn, *args)`` runs ``fn`` in a native thread (peewee keeps one SQLite
connection per thread: the worker opens its own and closes it after) while the calling
greenlet waits.  ``fn`` builds plain data from its arguments and the database; it must not
touch the request (bottle's ``request`` is per greenlet), the AMI client or anything else
of the loop's: read the request first, pass what it says.  Its exception is raised in the
caller, where the web layer turns it into a response.

Short, frequent reads go through ``QueryPool`` instead (bounded, 503 when full).
"""

from __future__ import annotations

import gevent


def in_worker(db, fn, *args):
    """``fn(*args)`` in gevent's thread pool with its own database connection; its result,
    or its exception raised here."""
    def run():
        db.connect(reuse_if_open=True)
        try:
            return fn(*args), None
        except Exception as exc:  # handed back, not printed by the pool: the caller raises it
            return None, exc
        finally:
            if not db.in_transaction():
                db.close()

    result, error = gevent.get_hub().threadpool.apply(run)
    if error is not None:
        raise error
    return result
