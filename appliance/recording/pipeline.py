"""The recording pipeline's adapters: worker processes, the ``recording`` rows, the spool.

Why worker processes started with ``python -m appliance.recording.worker`` and spoken to
in JSON lines, rather than ``multiprocessing``: the appliance runs monkey-patched gevent,
and ``multiprocessing`` does not mix with it. Forking copies the gevent hub and every
greenlet into the child; ``Pool`` keeps its own helper threads, which monkey-patching turns
into greenlets that only run when our loop yields; ``spawn`` re-imports ``__main__``, the
composition root. A plain child process has none of that: it is a fresh interpreter
without gevent, started through the one subprocess chokepoint (``appliance.proc``), with
a pid we can see and kill in tests, and its pipes are read cooperatively by gevent's
``subprocess``, so a greenlet waiting for an encode costs the loop nothing.

Pool size: by default one worker per core less one, at least one. Encoding is pure CPU,
so more workers than cores gains nothing, and the core left over (with the workers'
lower priority) keeps Asterisk and the gevent loop responsive while a backlog drains,
e.g. after a restart. One core encodes about 2,000 seconds of audio per second, so even a
single worker keeps up with hundreds of simultaneous recorded calls.

The order that makes it crash-safe (docs/recording.md): the worker writes, verifies and
renames the MP3; only then is the row marked complete (committed); only then is the WAV
deleted. Whatever is interrupted, ``reconcile()`` at the next start finds either the WAV
(and encodes it again) or a whole, verified MP3.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import subprocess
import sys
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import gevent
import gevent.pool
import gevent.queue
from peewee import fn

from appliance import proc
from appliance.db import fixed
from appliance.db.models import Recording, utcnow
from appliance.errors import DomainError
from appliance.recording import disk, errors, mp3, wav
from appliance.recording import policy as policy_mod
from appliance.recording.errors import RecordingError
from appliance.recording.policy import COMPLETE, ENCODING, MISSING, PENDING, RECORDING
from appliance.recording.worker import part_path

logger = logging.getLogger(__name__)

PACKAGE_ROOT = Path(__file__).resolve().parent.parent.parent  # the folder holding ``appliance``
WAV_BYTES_PER_SECOND = 16000  # 8 kHz, 16-bit, mono: what MixMonitor writes


def default_workers() -> int:
    return max(1, (os.cpu_count() or 1) - 1)


@dataclass(frozen=True)
class RecordingConfig:
    spool_dir: Path  # where MixMonitor writes <linkedid>.wav
    store_dir: Path  # where the MP3s are kept, <YYYY>/<MM>/<DD>/<linkedid>.mp3
    bitrate_kbps: int = mp3.DEFAULT_BITRATE_KBPS
    quality: int = mp3.DEFAULT_QUALITY
    workers: int = field(default_factory=default_workers)
    max_attempts: int = policy_mod.DEFAULT_MAX_ATTEMPTS
    reserve_min_bytes: int = disk.DEFAULT_RESERVE_MIN_BYTES
    reserve_fraction: float = disk.DEFAULT_RESERVE_FRACTION
    window_days: int = disk.DEFAULT_WINDOW_DAYS
    archive_dir: Path | None = None  # a second disk or a mounted share (archive.py)

    def __post_init__(self):
        mp3.check_bitrate(self.bitrate_kbps)
        if self.workers < 1:
            raise ValueError("recording workers must be at least 1")


class RecordingRefused(DomainError):
    """A new call is not recorded: the disk is at its reserve."""

    code = errors.DISK_FULL
    http_status = 507


class WorkerDied(RuntimeError):
    """The worker process ended (killed, crashed) before answering."""


# -- worker processes -----------------------------------------------------------------------

class WorkerProcess:
    """One ``appliance.recording.worker`` child; started on first use and after it dies."""

    def __init__(self, index: int):
        self.index = index
        self.process: subprocess.Popen | None = None
        self.job_id: int | None = None  # the job it is encoding now

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    def _start(self) -> None:
        argv = [sys.executable, "-m", "appliance.recording.worker", "--parent-pid", str(os.getpid())]
        self.process = proc.spawn(argv, what=f"start recording encoder {self.index}", stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, cwd=str(PACKAGE_ROOT))

    def encode(self, job: dict, timeout: float) -> dict:
        if self.process is None or self.process.poll() is not None:
            self._start()
        self.job_id = job["id"]
        line = b""
        try:
            with gevent.Timeout(timeout, False):
                self.process.stdin.write(json.dumps(job).encode() + b"\n")
                self.process.stdin.flush()
                line = self.process.stdout.readline()
        except OSError:  # broken pipe: it died before reading the job
            line = b""
        finally:
            self.job_id = None
        try:
            result = json.loads(line) if line else None
        except ValueError:
            result = None
        if not isinstance(result, dict) or result.get("id") != job["id"]:
            self.stop()
            raise WorkerDied(f"encoder {self.index} ended without answering job {job['id']}")
        return result

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        for pipe in (self.process.stdin, self.process.stdout):
            try:
                pipe.close()
            except OSError:
                pass
        self.process = None


class ProcessPool:
    """``size`` worker processes; ``encode(job)`` blocks the calling greenlet, not the loop."""

    def __init__(self, size: int):
        self.workers = [WorkerProcess(i) for i in range(size)]
        self._idle = gevent.queue.Queue()
        for worker in self.workers:
            self._idle.put(worker)

    def encode(self, job: dict) -> dict:
        worker = self._idle.get()
        try:
            return worker.encode(job, timeout=job_timeout(job.get("wav_bytes", 0)))
        finally:
            self._idle.put(worker)

    def close(self) -> None:
        for worker in self.workers:
            worker.stop()


def job_timeout(wav_bytes: int) -> float:
    """Long enough for a slow machine (20x real time), short enough to notice a stuck worker."""
    return 60.0 + wav_bytes / WAV_BYTES_PER_SECOND / 20


# -- the pipeline ----------------------------------------------------------------------------

class RecordingPipeline:
    """Rows and files of recordings; ``runner`` encodes (a ``ProcessPool`` in the appliance)."""

    def __init__(self, db, config: RecordingConfig, runner, *, now=utcnow):
        self.db = db
        self.config = config
        self.runner = runner
        self.now = now
        self.queue: gevent.queue.Queue = gevent.queue.Queue()
        self._consumers = gevent.pool.Group()
        self._refusing = False
        # told (key, MP3 path) each time a recording is complete (a caller's message is
        # e-mailed then); a listener's failure is logged, never the recording's
        self.completed: list[Callable[[str, Path], None]] = []

    # paths
    def wav_file(self, row: Recording) -> Path:
        return self.config.spool_dir / row.wav_path

    def mp3_file(self, row: Recording) -> Path:
        return self.config.store_dir / row.mp3_path

    # -- call life cycle (wired to MixMonitor) ---------------------------------------------
    def begin(self, linkedid: str, *, wanted: bool = True, policy: str = "") -> Path:
        """A call is to be recorded: the WAV path to give MixMonitor, or ``RecordingRefused``.

        ``wanted`` False: a standby (MixMonitor muted until someone starts it on demand);
        its file is thrown away at the end if nobody did.
        """
        decision = self.may_record()
        if not decision.allowed:
            self._refused(linkedid, decision, policy)
            raise RecordingRefused(decision.message, code=decision.alarm)
        now = self.now()
        with self.db.atomic():  # every recorded call, on the loop: statements made once (appliance/db/fixed.py)
            row = fixed.row_by(Recording, "linkedid", linkedid)
            if row is None:
                row = {"linkedid": linkedid, "state": RECORDING, "wav_path": policy_mod.wav_name(linkedid),
                       "mp3_path": policy_mod.mp3_name(linkedid, now), "created_at": now, "updated_at": now,
                       "wanted": wanted, "policy": policy[:64]}
                fixed.insert(Recording, row)
        self.config.spool_dir.mkdir(parents=True, exist_ok=True)
        return self.config.spool_dir / row["wav_path"]

    def _refused(self, linkedid: str, decision: disk.Decision, policy: str = "") -> None:
        """The call record shows why this call has no recording."""
        now = self.now()
        Recording.insert(linkedid=linkedid, state=policy_mod.REFUSED, wav_path="", mp3_path="", policy=policy[:64],
                         error_code=decision.alarm, detail=decision.message, created_at=now,
                         updated_at=now).on_conflict_ignore().execute()

    def want(self, linkedid: str, wanted: bool = True) -> None:
        """Someone started a standby recording: keep its file at the end (or, ``wanted``
        False, a setting forbade it after all: throw it away)."""
        Recording.update(wanted=wanted, updated_at=self.now()).where(Recording.linkedid == linkedid).execute()

    def finish(self, linkedid: str, *, partial: bool = False, answered: bool = True) -> str | None:
        """The call ended (its WAV is closed): queue it for a worker, or throw it away.

        A standby nobody started, or a call never answered whose WAV holds no audio (it
        recorded from the answer), leaves nothing: WAV and row go. ``partial``: the call was
        cut off (Asterisk went away), so the recording holds its first part only.
        """
        row = Recording.get_or_none(Recording.linkedid == linkedid)
        if row is None or row.state != RECORDING:
            return row.state if row else None
        wav_path = self.wav_file(row)
        if not row.wanted or (not answered and not _has_audio(wav_path)):
            wav_path.unlink(missing_ok=True)
            row.delete_instance()
            logger.info("recording %s: %s; nothing kept", linkedid,
                        "standby never started" if not row.wanted else "call not answered")
            return None
        self._update(row, state=PENDING, partial=partial or row.partial)
        self.queue.put(row.id)
        return PENDING

    # -- encoding ---------------------------------------------------------------------------
    def process(self, row_id: int) -> str | None:
        """Encode one pending recording now (blocking this greenlet); returns its new state."""
        row = Recording.get_or_none(Recording.id == row_id)
        if row is None or row.state != PENDING:
            return row.state if row else None
        wav_path = self.wav_file(row)
        try:
            wav_bytes = wav_path.stat().st_size
        except FileNotFoundError:
            self._update(row, state=MISSING, error_code=errors.MISSING, detail="the WAV is not in the spool")
            logger.error("recording %s: its WAV %s is missing", row.linkedid, wav_path)
            return MISSING
        self._update(row, state=ENCODING, attempts=row.attempts + 1)
        job = {"id": row.id, "wav": str(wav_path), "mp3": str(self.mp3_file(row)), "wav_bytes": wav_bytes,
               "bitrate_kbps": self.config.bitrate_kbps, "quality": self.config.quality}
        try:
            result = self.runner.encode(job)
        except WorkerDied as exc:
            logger.error("recording %s: %s", row.linkedid, exc)
            result = None
        outcome = policy_mod.after_encode(result, row.attempts, self.config.max_attempts)
        fields = {"state": outcome.state, "error_code": outcome.error_code, "detail": outcome.detail}
        if outcome.state == COMPLETE:
            fields.update(sha256=result["sha256"], bytes=result["bytes"], duration_seconds=result["duration_seconds"],
                          repaired=result["repaired"], completed_at=self.now())
        self._update(row, **fields)  # committed before the WAV goes
        if outcome.delete_wav:
            wav_path.unlink(missing_ok=True)
        if outcome.requeue:
            self.queue.put(row.id)
        if outcome.state == COMPLETE:
            for listener in self.completed:
                try:
                    listener(row.linkedid, self.mp3_file(row))
                except Exception:
                    logger.exception("recording %s: a listener of finished recordings failed", row.linkedid)
        return outcome.state

    def run_pending(self) -> Counter:
        """Encode every pending recording, ``workers`` at a time, until none is left."""
        states: Counter = Counter()
        group = gevent.pool.Pool(self.config.workers)
        while True:
            pending = [r.id for r in Recording.select(Recording.id).where(Recording.state == PENDING)]
            if not pending:
                return states
            states.update(group.imap_unordered(self.process, pending))

    def start(self) -> None:
        """Queue what is pending and start ``workers`` greenlets taking from the queue."""
        for row in Recording.select(Recording.id).where(Recording.state == PENDING):
            self.queue.put(row.id)
        for _ in range(self.config.workers):
            self._consumers.spawn(self._consume)

    def _consume(self) -> None:
        while True:
            row_id = self.queue.get()
            try:
                self.process(row_id)
            except Exception:
                logger.exception("recording %s: processing failed", row_id)

    def stop(self) -> None:
        self._consumers.kill()

    # -- start-up ---------------------------------------------------------------------------
    def reconcile(self, active: Iterable[str] = (), verify_checksums: bool = False) -> Counter:
        """Bring rows and files back in line after a crash; see ``policy.plan_reconcile``.

        ``active``: linkedids of calls still in progress. The MP3 of every complete row is
        checked by size, and by SHA-256 where its WAV is still there (the last step was
        interrupted) or with ``verify_checksums`` (every file: slow on a full disk).
        """
        spool = self.config.spool_dir
        names = os.listdir(spool) if spool.is_dir() else []
        spool_wavs = {lid for lid in map(policy_mod.linkedid_of_wav, names) if lid}
        settled = [policy_mod.MISSING, policy_mod.CORRUPT, policy_mod.REFUSED, policy_mod.EXPIRED]
        rows = {row.id: row for row in Recording.select().where(Recording.state.not_in(settled))}
        facts = [self._facts(row, row.linkedid in spool_wavs, verify_checksums) for row in rows.values()]
        actions = policy_mod.plan_reconcile(facts, spool_wavs, active, self.config.max_attempts)
        for action in actions:
            self._apply(action, rows.get(action.row_id))
        done = Counter(a.kind for a in actions)
        if actions:
            logger.info("recordings reconciled: %s", dict(done))
        return done

    def _facts(self, row: Recording, wav_exists: bool, verify_checksums: bool) -> policy_mod.RowFacts:
        mp3_file = self.mp3_file(row)
        mp3_exists = mp3_file.is_file()
        mp3_ok = None
        if mp3_exists and row.state == COMPLETE:
            mp3_ok = mp3_file.stat().st_size == row.bytes
            if mp3_ok and (verify_checksums or wav_exists):
                mp3_ok = mp3.sha256_file(mp3_file) == row.sha256
        elif mp3_exists and not wav_exists:
            mp3_ok = not mp3.verify(mp3.scan_file(mp3_file)[0], None)
        part_exists = row.state != COMPLETE and part_path(mp3_file).exists()
        return policy_mod.RowFacts(row.id, row.linkedid, row.state, row.error_code, row.attempts, wav_exists,
                                   mp3_exists, part_exists, mp3_ok, wanted=row.wanted)

    def _apply(self, action: policy_mod.Action, row: Recording | None) -> None:
        if action.kind == "create":
            wav_path = self.config.spool_dir / policy_mod.wav_name(action.linkedid)
            made = dt.datetime.fromtimestamp(wav_path.stat().st_mtime, dt.timezone.utc).replace(tzinfo=None)
            settled = Recording.get_or_none(Recording.linkedid == action.linkedid)
            if settled is not None:
                # Hot standby (appliance/ha): the other box settled this call while this box, which
                # recorded it, was down; its WAV is here after all.  Missing: queued again.
                if settled.state == MISSING:
                    self._update(settled, state=PENDING, error_code="", wav_path=wav_path.name, partial=True,
                                 detail=action.detail)
                    logger.warning("recording %s: its WAV is here after all; queued again", action.linkedid)
                else:
                    logger.warning("recording %s is %s already; its WAV %s is left in the spool", action.linkedid,
                                   settled.state, wav_path)
                return
            Recording.create(linkedid=action.linkedid, state=PENDING, wav_path=wav_path.name,
                             mp3_path=policy_mod.mp3_name(action.linkedid, made), detail=action.detail,
                             created_at=made, updated_at=self.now(), partial=True)
            logger.warning("recording %s: %s; queued", action.linkedid, action.detail)
        elif action.kind == "remove_part":
            part_path(self.mp3_file(row)).unlink(missing_ok=True)
        elif action.kind == "queue":
            # a row still "recording" at start-up: the call was cut off by the crash
            self._update(row, state=PENDING, error_code="", detail="", partial=row.partial or row.state == RECORDING)
        elif action.kind == "discard":
            self.wav_file(row).unlink(missing_ok=True)
            row.delete_instance()
        elif action.kind == "adopt":
            scan, sha = mp3.scan_file(self.mp3_file(row))
            self._update(row, state=COMPLETE, error_code="", sha256=sha, bytes=scan.total_bytes,
                         duration_seconds=round(scan.audio_seconds, 3), completed_at=self.now(),
                         detail="MP3 found whole at start-up; the row's last update had been lost")
        elif action.kind == "flag":
            self._update(row, state=action.state, error_code=action.error_code, detail=action.detail)
            logger.error("recording %s: %s (%s)", row.linkedid, action.detail, action.error_code)
        elif action.kind == "delete_wav":
            self.wav_file(row).unlink(missing_ok=True)

    def _update(self, row: Recording, **fields) -> None:
        before = row.state
        fields["updated_at"] = self.now()
        with self.db.atomic():
            Recording.update(**fields).where(Recording.id == row.id).execute()
        for key, value in fields.items():
            setattr(row, key, value)
        if row.state != before:
            logger.info("recording %s: %s -> %s%s", row.linkedid, before, row.state,
                        f" ({row.error_code})" if row.error_code else "")

    # -- storage and status -------------------------------------------------------------------
    def _filesystems(self) -> list[os.statvfs_result]:
        seen, out = set(), []
        for folder in (self.config.spool_dir, self.config.store_dir):
            while not folder.exists():
                folder = folder.parent
            dev = folder.stat().st_dev
            if dev not in seen:
                seen.add(dev)
                out.append(os.statvfs(folder))
        return out

    def may_record(self) -> disk.Decision:
        """The disk guard on the spool's and the store's file systems; the alarm logged once."""
        decision = disk.Decision(True)
        for fs in self._filesystems():
            free, total = fs.f_bavail * fs.f_frsize, fs.f_blocks * fs.f_frsize
            reserve = disk.reserve_bytes(total, self.config.reserve_min_bytes, self.config.reserve_fraction)
            decision = disk.may_start_recording(free, reserve)
            if not decision.allowed:
                break
        if decision.allowed == self._refusing:
            self._refusing = not decision.allowed
            if self._refusing:
                logger.critical("%s: %s", decision.alarm, decision.message)
            else:
                logger.warning("recording storage has room again; new calls are recorded")
        return decision

    def recent_bytes_per_day(self) -> float:
        now = self.now()
        since = now - dt.timedelta(days=self.config.window_days)
        rows = (Recording.select(Recording.completed_at, Recording.bytes)
                .where((Recording.completed_at >= since) & (Recording.state == COMPLETE)).tuples())
        first = Recording.select(fn.MIN(Recording.completed_at)).scalar()
        return disk.bytes_per_day(rows, now, self.config.window_days, first_ever=first)

    def storage(self) -> dict:
        """What the UI shows: free space where the MP3s go, the reserve, days left, the alarm."""
        store = self.config.store_dir
        while not store.exists():
            store = store.parent
        fs = os.statvfs(store)
        free, total = fs.f_bavail * fs.f_frsize, fs.f_blocks * fs.f_frsize
        reserve = disk.reserve_bytes(total, self.config.reserve_min_bytes, self.config.reserve_fraction)
        per_day = self.recent_bytes_per_day()
        first = Recording.select(fn.MIN(Recording.completed_at)).where(Recording.state == COMPLETE).scalar()
        history = (self.now() - first).total_seconds() / 86400 if first is not None else None
        decision = self.may_record()
        return {"free_bytes": free, "total_bytes": total, "reserve_bytes": reserve,
                "bytes_per_day": round(per_day), "days_left": disk.days_left(free, per_day, reserve, history),
                "days_basis": disk.days_basis(per_day, history), "alarm": decision.alarm,
                "message": decision.message}

    def status(self) -> dict:
        """For the health page: the disk guard's alarm and the work waiting."""
        decision = self.may_record()
        counts = dict(Recording.select(Recording.state, fn.COUNT(Recording.id)).group_by(Recording.state).tuples())
        return {"up": decision.allowed, "state": decision.alarm or "ok", "message": decision.message,
                "pending": counts.get(PENDING, 0) + counts.get(ENCODING, 0),
                "failed": counts.get(policy_mod.FAILED, 0)}

    def states(self, linkedids: Iterable[str]) -> dict[str, str]:
        """Each call's recording state (a call without a row was not recorded)."""
        ids = list(linkedids)
        query = Recording.select(Recording.linkedid, Recording.state).where(Recording.linkedid.in_(ids))
        return {linkedid: state for linkedid, state in query.tuples()}


def _has_audio(path: Path) -> bool:
    try:
        wav.read_info(path)
    except (OSError, RecordingError):
        return False
    return True
