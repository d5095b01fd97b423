"""Housekeeping of recordings, on a schedule: copy each complete MP3 to the archive (a
second disk or a mounted network share), verified by SHA-256 after the copy, and delete
from the appliance those past their retention (``retention.plan`` decides).

The archive keeps the store's layout (``YYYY/MM/DD/<linkedid>.mp3``). A copy is written as
``<name>.part``, fsynced, renamed into place, then read back from the archive and hashed:
only a copy whose SHA-256 equals the one the pipeline stored when it made the MP3 marks the
row ``archived_at``. A mismatch removes the copy and is logged (``archive_error`` on the
row); the next run tries again. File work runs in gevent's thread pool (a network share
may stall for seconds; the loop that serves calls must not), database work in the loop.

An expired recording's row stays, with state ``expired`` and ``expired_at``, so its call
record still says what became of it; its MP3 is gone from the appliance (an archived copy
is still served by the API while the archive is mounted).
"""

from __future__ import annotations

import logging
import os
import shutil
from collections import Counter
from pathlib import Path

import gevent
from peewee import JOIN

from appliance.db.models import CallRecord, Queue, Recording, RecordingRule, utcnow
from appliance.recording import retention
from appliance.recording.mp3 import sha256_file
from appliance.recording.worker import ensure_dir, fsync_dir, part_path
from appliance.recording.policy import COMPLETE, EXPIRED

logger = logging.getLogger(__name__)

CHUNK = 1 << 16


class ArchiveError(OSError):
    code = "recording.archive_failed"


def copy_verified(source: Path, target: Path, sha256: str) -> str:
    """Copy ``source`` to ``target`` so that a crash leaves no half file under the final
    name, then read the copy back: ``ArchiveError`` unless its SHA-256 is ``sha256``.
    An existing ``target`` with the right checksum is kept (``"present"``)."""
    if target.is_file() and sha256_file(target) == sha256:
        return "present"
    if sha256_file(source) != sha256:
        raise ArchiveError(f"{source} no longer matches its stored SHA-256; not archived")
    ensure_dir(target.parent)
    part = part_path(target)
    with open(source, "rb") as src, open(part, "wb") as dst:
        shutil.copyfileobj(src, dst, CHUNK)
        dst.flush()
        os.fsync(dst.fileno())
    os.replace(part, target)
    fsync_dir(target.parent)
    copied = sha256_file(target)  # read back from the archive, not from our own buffers
    if copied != sha256:
        target.unlink(missing_ok=True)
        raise ArchiveError(f"the archived copy {target} reads back as {copied[:12]}..., not {sha256[:12]}...")
    return "copied"


def rules_from_db() -> retention.RetentionRules:
    return retention.RetentionRules(
        by_direction={r.direction: r.keep_days for r in RecordingRule.select()},
        by_queue={q.name: q.recording_keep_days for q in Queue.select().where(Queue.recording_keep_days > 0)})


class RecordingHousekeeping:
    """Archive, then expire; ``run_once`` for tests and the API, ``start`` for the schedule."""

    def __init__(self, db, pipeline, archive_dir: Path | None, *, now=utcnow, rules=rules_from_db,
                 in_thread=None):
        self.db = db
        self.pipeline = pipeline
        self.archive_dir = Path(archive_dir) if archive_dir else None
        self.now = now
        self.rules = rules
        self.in_thread = in_thread or (lambda fn, *args: gevent.get_hub().threadpool.apply(fn, args))
        self._loop: gevent.Greenlet | None = None
        self.last_run: dict = {}

    def run_once(self) -> Counter:
        done: Counter = Counter()
        if self.archive_dir is not None:
            self._archive(done)
        self._expire(done)
        self.last_run = {"at": self.now(), **done}
        if done:
            logger.info("recording housekeeping: %s", dict(done))
        return done

    def _archive(self, done: Counter) -> None:
        if not self.archive_dir.is_dir():
            # a share that is not mounted: never fill the mount point on the system disk
            logger.error("recording archive %s is not there (not mounted?); nothing archived", self.archive_dir)
            done["archive_unavailable"] += 1
            return
        rows = (Recording.select().where(Recording.state == COMPLETE, Recording.archived_at.is_null())
                .order_by(Recording.id))
        for row in rows:
            source = self.pipeline.mp3_file(row)
            try:
                self.in_thread(copy_verified, source, self.archive_dir / row.mp3_path, row.sha256)
            except OSError as exc:
                logger.error("recording %s not archived: %s", row.linkedid, exc)
                self._set(row, archive_error=str(exc)[:255])
                done["archive_failed"] += 1
                continue
            self._set(row, archived_at=self.now(), archive_error="")
            done["archived"] += 1

    def _expire(self, done: Counter) -> None:
        rules, now = self.rules(), self.now()
        since = retention.oldest_due(rules, now)
        if since is None:
            return
        rows = list(Recording.select(Recording, CallRecord)
                    .join(CallRecord, JOIN.LEFT_OUTER, on=(CallRecord.linkedid == Recording.linkedid), attr="call")
                    .where(Recording.state == COMPLETE, Recording.created_at <= since))
        kept = {r.id: retention.Kept(r.id, _call_of(r).direction or "inbound", _call_of(r).queue or "",
                                     r.created_at, r.archived_at is not None) for r in rows}
        decided = retention.plan(kept.values(), rules, now, archive_on=self.archive_dir is not None)
        by_id = {r.id: r for r in rows}
        for row_id in decided.expire:
            row, facts = by_id[row_id], kept[row_id]
            self.in_thread(_unlink, self.pipeline.mp3_file(row))
            self._set(row, state=EXPIRED, expired_at=now,
                      detail=f"deleted after its retention of {rules.keep_days(facts.direction, facts.queue)} days")
            logger.info("recording %s: expired, MP3 deleted", row.linkedid)
            done["expired"] += 1
        if decided.held:
            logger.warning("%d recordings past their retention wait for their archived copy", len(decided.held))
            done["held"] += len(decided.held)

    def _set(self, row: Recording, **fields) -> None:
        fields["updated_at"] = self.now()
        with self.db.atomic():
            Recording.update(**fields).where(Recording.id == row.id).execute()

    # -- the schedule ----------------------------------------------------------------------
    def start(self, minutes: float) -> None:
        self._loop = gevent.spawn(self._every, max(1.0, minutes) * 60)

    def _every(self, seconds: float) -> None:
        while True:
            try:
                self.run_once()
            except Exception:
                logger.exception("recording housekeeping failed")
            gevent.sleep(seconds)

    def stop(self) -> None:
        if self._loop is not None:
            self._loop.kill()


def _call_of(row: Recording):
    """The row's call record, or an empty one (a caller's message has none)."""
    call = getattr(row, "call", None)
    return call if call is not None and call.linkedid else CallRecord()


def _unlink(path: Path) -> None:
    path.unlink(missing_ok=True)


def archived_copy(archive_dir: Path | None, row: Recording) -> Path | None:
    """The archived MP3 of a row, if the archive is there and holds it."""
    if archive_dir is None or row.archived_at is None:
        return None
    path = Path(archive_dir) / row.mp3_path
    return path if path.is_file() else None


__all__ = ["ArchiveError", "RecordingHousekeeping", "archived_copy", "copy_verified", "rules_from_db"]
