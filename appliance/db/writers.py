"""The engine's database commands carried out: ``WriteCallRecord`` (one row per call) and
``AgentStateChanged`` (the agent-state log), each with its share of the report buckets
(``appliance/services/reports.py``); and each turn in the voice menus (``menu_step``, the
IVR report's record).  Adapters: the live state and the menus decide, these write.

``WriteBehind`` carries the first two out off the loop that reads AMI events and serves
FastAGI: the loop queues a write and goes on; one native thread writes what has queued, in
order, one transaction per batch (py-spy of the mixed load found these writes, each its own
transaction on the loop, a sixth of the AMI handler's time)."""

from __future__ import annotations

import collections
import datetime as dt
import logging
import time

import gevent
from gevent.event import Event
from gevent.threadpool import ThreadPool

from appliance.db.models import AgentStateLog, CallRecord, MenuStep
from appliance.services import reports

logger = logging.getLogger(__name__)


def _dt(ts):
    return None if ts is None else dt.datetime.fromtimestamp(ts, dt.timezone.utc).replace(tzinfo=None)


class CallRecordWriter:
    """Carries out ``WriteCallRecord``: one row per call, idempotent by linkedid.  ``rate``
    (``BillingService.rate``) gives the call its cost at hang-up: ``cost``, ``rate_plan`` and
    ``destination_class``; a rating that fails leaves the call unrated, never unwritten."""

    def __init__(self, db, rate=None, zone=None):
        """``zone()``: the office's time zone, the day summaries' clock (default: the site's
        as the database holds it)."""
        self.db = db
        self.rate = rate
        self.zone = zone
        self.written = 0

    def write(self, record: dict) -> None:
        row = dict(record)
        if self.rate is not None:
            try:
                row.update(self.rate(record))
            except Exception:  # noqa: BLE001 - the call is recorded whatever its price
                logger.exception("call %s could not be rated", record.get("linkedid"))
        for key in ("enter_time", "answer_time", "end_time"):
            row[key] = _dt(row[key])
        with self.db.atomic():  # the report buckets in the same transaction (services/reports.py)
            rated = {k: row[k] for k in ("cost", "destination_class") if k in row}
            reports.record_call(self.db, {**record, **rated}, self.zone() if self.zone else None)
            CallRecord.insert(**row).on_conflict_replace().execute()
        self.written += 1
        logger.info("call %s recorded: %s %s -> %s/%s, wait %.1fs talk %.1fs",
                    record["linkedid"], record["disposition"], record["caller"], record["queue"],
                    record["agent"], record["wait_seconds"], record["talk_seconds"])


class AgentStateWriter:
    """Carries out ``AgentStateChanged``: closes the agent's open state row, opens the next."""

    def __init__(self, db):
        self.db = db

    def write(self, change) -> None:
        at = _dt(change.at)
        with self.db.atomic():
            open_row = (AgentStateLog.select().where(AgentStateLog.agent == change.agent,
                                                     AgentStateLog.ended_at.is_null())
                        .order_by(AgentStateLog.id.desc()).first())
            if open_row is not None:
                open_row.ended_at = at
                open_row.seconds = max(0.0, (at - open_row.started_at).total_seconds())
                open_row.save()
                reports.record_wrapup(self.db, open_row.agent, open_row.state, open_row.reason,
                                      open_row.started_at, open_row.seconds)
            AgentStateLog.create(agent=change.agent, state=change.state, reason=change.reason, started_at=at)


class MenuStepWriter:
    """Carries out a turn in the voice menus (``agi/handlers/menu.py``): one ``menu_step`` row,
    one small insert.  A row that cannot be written is logged, never the caller's problem."""

    def __init__(self, db):
        self.db = db

    def write(self, row: dict) -> None:
        try:
            MenuStep.insert(**row).execute()
        except Exception:  # noqa: BLE001 - the caller goes on through the menu whatever the report misses
            logger.exception("menu step of call %s not recorded", row.get("linkedid"))


class WriteBehind:
    """Writes queued on the loop, carried out in order by one native thread of their own,
    everything queued meanwhile in one transaction (``BEGIN IMMEDIATE``: the write lock is
    taken at the start, so a batch never fails half-way on another connection's commit).
    A write that fails is logged and rolled back alone (a savepoint each): the others of its
    batch are kept.  Readers see a write a few milliseconds later; ``flush()`` waits for
    every write queued so far (tests, and ``close()`` at stop)."""

    def __init__(self, db, max_batch: int = 500):
        self.db = db
        self.max_batch = max_batch
        self.batches = 0  # transactions written (a figure for tests and benchmarks)
        self.written = 0
        self.failed = 0
        self.submitted = 0  # writes queued so far
        self.done = 0  # of them, written or given up (in order: the first ``done``)
        self._queue: collections.deque = collections.deque()
        self._pool = ThreadPool(1)
        self._drainer = None
        self._progress = Event()  # set (and replaced) after each batch

    def submit(self, fn, *args) -> None:
        """``fn(*args)`` later, on the writer's thread, after every write submitted before."""
        self._queue.append((fn, args))
        self.submitted += 1
        if self._drainer is None:
            self._drainer = gevent.spawn(self._drain)

    def _drain(self) -> None:  # a greenlet of the loop: it waits, the loop goes on
        try:
            while self._queue:
                batch = [self._queue.popleft() for _ in range(min(len(self._queue), self.max_batch))]
                try:
                    self._pool.apply(self._write, (batch,))
                finally:
                    self.done += len(batch)
                    progress, self._progress = self._progress, Event()
                    progress.set()
        finally:
            self._drainer = None
            if self._queue:  # left when the greenlet was killed: a new one takes them, in order
                self._drainer = gevent.spawn(self._drain)

    def _write(self, batch: list) -> None:  # the writer's own thread, with its own connection
        self.db.connect(reuse_if_open=True)
        try:
            with self.db.atomic(lock_type="IMMEDIATE"):
                for fn, args in batch:
                    try:
                        with self.db.atomic():
                            fn(*args)
                        self.written += 1
                    except Exception:  # noqa: BLE001 - one bad row must not cost the batch
                        self.failed += 1
                        logger.exception("a queued database write failed: %s", getattr(fn, "__qualname__", fn))
            self.batches += 1
        except Exception:  # noqa: BLE001 - the transaction itself (a locked database): logged, not raised
            self.failed += len(batch)
            logger.exception("a batch of %s database writes failed", len(batch))

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until every write submitted so far is written (not those submitted meanwhile:
        under a steady stream of calls the queue is seldom empty); False if ``timeout`` came
        first."""
        target = self.submitted
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.done < target:
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                return False
            self._progress.wait(left)
        return True

    def close(self, timeout: float = 5.0) -> None:
        """The queued writes written (within ``timeout``), then the thread stopped."""
        if not self.flush(timeout):
            logger.warning("%s database writes still queued at stop", len(self._queue))
        self._pool.kill()
