"""Backup and restore of one box (issue 20 points 4 and 5): ONE file holds what the box
needs to come back, checked before anything is touched when it is put back.

The file is a gzip-compressed tar whose members are, in order:

- ``BACKUP``: the line ``cc-appliance-backup 1`` (a file of another kind is refused);
- ``data/appliance.db``: the database, taken through SQLite's backup API (a consistent copy
  of the live WAL database, never a file copy);
- ``data/...``: secrets (``secrets.json``: AMI secret, cookie key), the HTTPS certificate and
  key (``tls/``), hot standby's settings (``ha/ha.json``, with its shared secret), the LAN
  port's setting, the FXS extensions, the dispatch links' key, knowledge-base attachments
  and work-order photos;
- ``prompts/...``: the voice menus' prompts (uploaded or recorded on a phone);
- ``recordings/...`` and ``fax/...`` only when asked for (``media``: off by default);
- ``settings/appliance.conf``: the settings this box ran with (for reference: a restore
  does not change this box's settings file);
- ``manifest.json``: format, appliance version, migration level, when, which host, each
  member's SHA-256 and size;
- ``SHA256SUM``: the SHA-256 of every byte of the (uncompressed) tar before this member.

``check`` reads the whole file (gzip's own CRC, the tar, every member's SHA-256, the
checksum over the whole, the manifest, the version) and refuses with a typed, translated
reason; ``restore`` checks first, refuses while calls are up, keeps the current state aside
(a safety backup), puts the files back (the database through the backup API), migrates it
forward with the normal migrations, then reloads; if anything fails the safety copy comes
back.  The file work runs off the loop (``run``); the reload (Asterisk's configuration) on it.

The schedule (``off``, ``daily``, ``weekly``) and how many scheduled backups are kept
(``keep``, 1 to 365) are this call center's own settings (rows of ``site_setting``, like
``services/site.py``): the settings file's ``backup_schedule`` and ``backup_keep`` until an
admin chooses on the page or through the API (``save_schedule``: validated, audited).  They
are read where they are used, so a change takes effect at once: the scheduler is woken and
computes its next run from the new schedule (the last scheduled backup that was written plus
a day or a week; at once when there is none), and the next scheduled backup deletes the
older ones over the new ``keep``.
"""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import io
import json
import logging
import os
import re
import shutil
import socket
import sqlite3
import tarfile
import zlib
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path, PurePosixPath
from typing import Callable

import gevent
import gevent.event
import gevent.lock

from appliance.db import models as m
from appliance.db.migrate import head, migrate
from appliance.errors import Conflict, DomainError, FieldError, NotFound, ValidationError

logger = logging.getLogger(__name__)

FORMAT = "cc-appliance-backup"
FORMAT_VERSION = 1
MAGIC = "BACKUP"
MAGIC_TEXT = f"{FORMAT} {FORMAT_VERSION}\n".encode()
MANIFEST = "manifest.json"
SUMS = "SHA256SUM"
DB_MEMBER = "data/appliance.db"
SETTINGS_MEMBER = "settings/appliance.conf"
SUFFIX = ".tar.gz"
CHUNK = 1 << 20
RUNS_FILE = "runs.jsonl"  # one line per run, beside the backups (never in the database a restore replaces)
RUNS_KEPT = 500  # lines of the list kept when it is rewritten (at twice as many)
SAFETY_KEEP = 3
SCHEDULES = ("off", "daily", "weekly")
EVERY = {"daily": dt.timedelta(days=1), "weekly": dt.timedelta(days=7)}
KEEP_MAX = 365
SCHEDULE_KEY, KEEP_KEY = "backup.schedule", "backup.keep"  # rows of site_setting, once an admin chose

# under the data folder: small files and folders that are the box's state besides the database
DATA_FILES = ("secrets.json", "dispatch.key", "ha/ha.json", "network/lan.json", "dahdi/fxs-extensions.json")
DATA_DIRS = ("tls", "kb", "workorders")
MEDIA_PREFIXES = ("recordings", "fax")
RESTORED_PREFIXES = ("data", "prompts", *MEDIA_PREFIXES)  # settings/ is for reading only


def appliance_version() -> str:
    try:
        return metadata.version("callcenter-appliance")
    except metadata.PackageNotFoundError:
        return "0.0.0"


def _version_tuple(text: str) -> tuple[int, ...]:
    return tuple(int(p) for p in re.findall(r"\d+", str(text))[:3]) or (0,)


# -- refusals -------------------------------------------------------------------------------
def refused(code: str, english: str, **params) -> ValidationError:
    """A file that is not restored, said in the reader's words (``error.code.<code>``)."""
    return ValidationError(FieldError(code, english, **params), code=code,
                           params={k: str(v) for k, v in params.items()})


def _foreign() -> ValidationError:
    return refused("backup.foreign", "this is not a backup of this appliance")


def _truncated() -> ValidationError:
    return refused("backup.truncated", "the file is cut short (an upload or copy that did not finish)")


def _corrupt(detail: str) -> ValidationError:
    return refused("backup.corrupt", f"the file is damaged ({detail})", detail=detail)


# -- where a box keeps its state ---------------------------------------------------------------
@dataclass(frozen=True)
class Layout:
    data_dir: Path
    db_path: Path
    prompts_dir: Path
    recordings_dir: Path
    fax_dir: Path
    settings_text: str = ""

    @classmethod
    def of(cls, settings) -> "Layout":
        from appliance.settings import SETTINGS

        text = "[appliance]\n" + "".join(f"{s.key} = {getattr(settings, s.key)}\n" for s in SETTINGS)
        return cls(data_dir=Path(settings.data_dir), db_path=Path(settings.db_path),
                   prompts_dir=Path(settings.asterisk_dir) / "lib" / "prompts",
                   recordings_dir=Path(settings.recordings_path), fax_dir=Path(settings.data_dir) / "fax",
                   settings_text=text)

    def base(self, prefix: str) -> Path:
        return {"data": self.data_dir, "prompts": self.prompts_dir, "recordings": self.recordings_dir,
                "fax": self.fax_dir}[prefix]

    def files(self, media: bool) -> list[tuple[str, Path]]:
        """(member name, file) of everything but the database, in a stable order."""
        found: list[tuple[str, Path]] = []
        for name in DATA_FILES:
            path = self.data_dir / name
            if path.is_file():
                found.append((f"data/{name}", path))
        for folder in DATA_DIRS:
            found += _tree("data/" + folder, self.data_dir / folder)
        found += _tree("prompts", self.prompts_dir)
        if media:
            for prefix in MEDIA_PREFIXES:
                found += _tree(prefix, self.base(prefix))
        return found

    def media_bytes(self) -> int:
        """What ticking "recordings and faxes" adds, before compression (MP3s hardly shrink)."""
        return sum(p.stat().st_size for prefix in MEDIA_PREFIXES for _, p in _tree(prefix, self.base(prefix)))


def _tree(prefix: str, root: Path) -> list[tuple[str, Path]]:
    if not root.is_dir():
        return []
    out = []
    for path in sorted(root.rglob("*")):
        if path.is_file() and not path.is_symlink() and not path.name.endswith((".part", ".tmp")):
            out.append((f"{prefix}/{path.relative_to(root).as_posix()}", path))
    return out


# -- writing ----------------------------------------------------------------------------------
class _Hashing(io.RawIOBase):
    """The tar's bytes on their way into gzip, hashed as they pass: the whole-file checksum."""

    def __init__(self, out):
        self.out, self.digest, self.pos = out, hashlib.sha256(), 0

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        self.digest.update(data)
        self.out.write(data)
        self.pos += len(data)
        return len(data)

    def tell(self) -> int:
        return self.pos


def snapshot_database(db_path: Path, target: Path) -> None:
    """A consistent copy of the live database through SQLite's backup API."""
    source = sqlite3.connect(str(db_path), timeout=30)
    try:
        copy = sqlite3.connect(str(target))
        try:
            source.backup(copy)
        finally:
            copy.close()
    finally:
        source.close()


def _migration_level(db_file: Path) -> int:
    con = sqlite3.connect(str(db_file))
    try:
        return con.execute("SELECT MAX(version) FROM schema_migrations").fetchone()[0] or 0
    except sqlite3.Error:
        return 0
    finally:
        con.close()


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while data := f.read(CHUNK):
            digest.update(data)
    return digest.hexdigest()


def pack(layout: Layout, target: Path, media: bool = False, now: dt.datetime | None = None, *,
         version: str | None = None, host: str | None = None) -> dict:
    """Write the backup file ``target`` (as ``target.part``, renamed when whole); returns its
    manifest.  File work only: run it off the loop."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    part = target.with_name(target.name + ".part")
    snap = target.with_name(target.name + ".db.tmp")
    try:
        snapshot_database(layout.db_path, snap)
        members = [(DB_MEMBER, snap), *layout.files(media)]
        manifest = {"format": FORMAT, "format_version": FORMAT_VERSION,
                    "appliance_version": version or appliance_version(),
                    "migration_level": _migration_level(snap),
                    "created_at": (now or m.utcnow()).replace(microsecond=0).isoformat() + "Z",
                    "host": host or socket.gethostname(), "media": bool(media), "members": {}}
        with open(part, "wb") as raw:
            with gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=6, mtime=0) as gz:
                hashing = _Hashing(gz)
                with tarfile.open(fileobj=hashing, mode="w", format=tarfile.PAX_FORMAT) as tar:
                    _add_bytes(tar, MAGIC, MAGIC_TEXT)
                    for name, path in members:
                        info = tar.gettarinfo(str(path), arcname=name)
                        info.uid = info.gid = 0
                        info.uname = info.gname = ""
                        info.mode = 0o600
                        digest = hashlib.sha256()
                        with open(path, "rb") as f:
                            tar.addfile(info, _Tee(f, digest))
                        manifest["members"][name] = {"sha256": digest.hexdigest(), "size": info.size}
                    if layout.settings_text:
                        text = layout.settings_text.encode()
                        _add_bytes(tar, SETTINGS_MEMBER, text)
                        manifest["members"][SETTINGS_MEMBER] = {"sha256": hashlib.sha256(text).hexdigest(),
                                                                "size": len(text)}
                    _add_bytes(tar, MANIFEST, json.dumps(manifest, indent=1, sort_keys=True).encode())
                    _add_bytes(tar, SUMS, (hashing.digest.hexdigest() + "\n").encode())
            raw.flush()
            os.fsync(raw.fileno())
        os.replace(part, target)
    finally:
        part.unlink(missing_ok=True)
        snap.unlink(missing_ok=True)
    return manifest


class _Tee:
    """A file read by tarfile, hashed on the way."""

    def __init__(self, f, digest):
        self.f, self.digest = f, digest

    def read(self, n=-1):
        data = self.f.read(n)
        self.digest.update(data)
        return data


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = len(data), 0o600, 0
    tar.addfile(info, io.BytesIO(data))


# -- checking -----------------------------------------------------------------------------------
def _safe_name(name: str) -> bool:
    path = PurePosixPath(name)
    return (not path.is_absolute() and ".." not in path.parts and len(path.parts) >= 2
            and path.parts[0] in (*RESTORED_PREFIXES, "settings"))


def _read_members(path: Path, into: Path | None = None) -> tuple[dict, dict, int, bytes]:
    """One pass over the tar: (manifest, {name: (sha256, size)}, offset of SUMS, SUMS text).
    With ``into``: each member written there too (``<into>/<name>``)."""
    seen: dict[str, tuple[str, int]] = {}
    manifest = None
    sums_offset, sums = None, b""
    try:
        with tarfile.open(str(path), mode="r:gz") as tar:
            first = True
            for info in tar:
                if sums_offset is not None:
                    raise _corrupt("members after the checksum")
                if first:
                    if info.name != MAGIC or not info.isfile() or info.size != len(MAGIC_TEXT) \
                            or tar.extractfile(info).read() != MAGIC_TEXT:
                        raise _foreign()
                    first = False
                    continue
                if not info.isfile():
                    raise _corrupt(f"{info.name} is not a plain file")
                if info.name == SUMS:
                    sums_offset, sums = info.offset, tar.extractfile(info).read(128)
                    continue
                if info.name == MANIFEST:
                    try:
                        manifest = json.loads(tar.extractfile(info).read(4 << 20))
                    except ValueError:
                        raise _corrupt("the manifest cannot be read") from None
                    continue
                if not _safe_name(info.name) or info.name in seen:
                    raise _corrupt(f"an unexpected member {info.name!r}")
                digest = hashlib.sha256()
                source = tar.extractfile(info)
                out = None
                if into is not None:
                    target = into / info.name
                    target.parent.mkdir(parents=True, exist_ok=True)
                    out = open(target, "wb")
                try:
                    while data := source.read(CHUNK):
                        digest.update(data)
                        if out is not None:
                            out.write(data)
                finally:
                    if out is not None:
                        out.close()
                seen[info.name] = (digest.hexdigest(), info.size)
            if first:
                raise _foreign()
    except (gzip.BadGzipFile, tarfile.HeaderError):
        raise _foreign() from None
    except EOFError:
        raise _truncated() from None
    except tarfile.ReadError as exc:
        if "unexpected end" in str(exc) or "empty file" in str(exc):
            raise _truncated() from None
        if "not a gzip" in str(exc).lower() or "invalid header" in str(exc).lower() or "bad checksum" in str(exc):
            raise _foreign() if not seen else _corrupt(str(exc)) from None
        raise _corrupt(str(exc)) from None
    except zlib.error as exc:
        raise _corrupt(str(exc)) from None
    except OSError as exc:
        if "CRC" in str(exc) or "Not a gzipped" in str(exc) or "length" in str(exc):
            raise (_foreign() if "Not a gzipped" in str(exc) else _corrupt(str(exc))) from None
        raise
    if sums_offset is None or manifest is None:
        raise _truncated()
    return manifest, seen, sums_offset, sums


def _hash_prefix(path: Path, length: int) -> str:
    digest = hashlib.sha256()
    left = length
    try:
        with gzip.open(str(path), "rb") as f:
            while left > 0:
                data = f.read(min(CHUNK, left))
                if not data:
                    raise _truncated()
                digest.update(data)
                left -= len(data)
    except EOFError:
        raise _truncated() from None
    except (zlib.error, OSError) as exc:
        raise _corrupt(str(exc)) from None
    return digest.hexdigest()


def check(path: Path, *, into: Path | None = None, newest_level: int | None = None,
          version: str | None = None) -> dict:
    """The manifest of a backup file that is whole, ours and not newer than this software;
    else a ``ValidationError`` saying why (``backup.foreign``, ``backup.truncated``,
    ``backup.corrupt``, ``backup.newer``).  Nothing is written unless ``into`` is given."""
    path = Path(path)
    if not path.is_file() or path.stat().st_size == 0:
        raise _truncated()
    manifest, seen, offset, sums = _read_members(path, into)
    if _hash_prefix(path, offset) != sums.decode("ascii", "replace").strip():
        raise _corrupt("its checksum does not match")
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise _foreign()
    listed = manifest.get("members") or {}
    if set(listed) != set(seen):
        missing = sorted(set(listed) ^ set(seen))
        raise _corrupt(f"members do not match the manifest: {', '.join(missing[:3])}")
    for name, (sha, size) in seen.items():
        if listed[name].get("sha256") != sha or listed[name].get("size") != size:
            raise _corrupt(f"{name} does not match its SHA-256")
    if DB_MEMBER not in seen:
        raise _corrupt("it holds no database")
    ours_level = head() if newest_level is None else newest_level
    ours = version or appliance_version()
    level = int(manifest.get("migration_level") or 0)
    if level > ours_level or _version_tuple(manifest.get("appliance_version", "0")) > _version_tuple(ours):
        raise refused("backup.newer", "the backup was made by a newer version of the appliance "
                      f"({manifest.get('appliance_version')}, schema {level}); this one is {ours} (schema "
                      f"{ours_level}): upgrade first", theirs=manifest.get("appliance_version"), ours=ours,
                      level=level, our_level=ours_level)
    if int(manifest.get("format_version") or 0) > FORMAT_VERSION:
        raise refused("backup.newer", "the backup was made by a newer version of the appliance",
                      theirs=manifest.get("appliance_version"), ours=ours, level=level, our_level=ours_level)
    return manifest


# -- putting back --------------------------------------------------------------------------------
def put_back(staging: Path, layout: Layout, db) -> None:
    """The checked members in ``staging`` into place: the database through the backup API
    into the live file (every connection sees it at its next transaction), then migrated
    forward with the normal migrations (``db``: the live peewee database); each other file
    written beside its place and renamed over it."""
    staged_db = staging / DB_MEMBER
    source = sqlite3.connect(str(staged_db))
    try:
        live = sqlite3.connect(str(layout.db_path), timeout=30)
        try:
            source.backup(live)
        finally:
            live.close()
    finally:
        source.close()
    for prefix in RESTORED_PREFIXES:
        root = staging / prefix
        if not root.is_dir():
            continue
        for path in sorted(root.rglob("*")):
            rel = path.relative_to(root)
            if not path.is_file() or (prefix == "data" and rel.as_posix() == "appliance.db"):
                continue
            target = layout.base(prefix) / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.with_name(target.name + ".restore.tmp")
            shutil.copyfile(path, tmp)
            os.chmod(tmp, 0o600 if prefix == "data" else 0o644)
            os.replace(tmp, target)
    migrate(db)


class BackupFailed(DomainError):
    """Making or restoring a backup failed on this box (a full disk, an archive not mounted)."""

    code = "backup.failed"
    http_status = 500


# -- the service ----------------------------------------------------------------------------------
@dataclass
class BackupService:
    """Backups on demand and on a schedule, each run listed; restore with a safety copy."""

    layout: Layout
    db: object
    local_dir: Path  # <data_dir>/backups: on-demand backups, the safety copies, the list of runs
    archive_dir: Path | None = None  # the recordings' archive target: scheduled backups go to <it>/backups
    default_schedule: str = "off"  # off | daily | weekly: the settings file's, until an admin chooses
    default_keep: int = 7
    upload_limit: int = 2048 * 1024 * 1024  # bytes: the largest file a restore reads (backup_upload_mb)
    run: Callable = None  # run(fn, *args) off the loop; default: gevent's thread pool
    reload: Callable[[], None] = lambda: None  # after a restore: Asterisk's configuration, the tables
    calls_up: Callable[[], int] = lambda: 0
    clock: Callable[[], dt.datetime] = m.utcnow
    _loop: object = field(default=None, repr=False)
    _busy: object = field(default=None, repr=False)
    _changed: object = field(default=None, repr=False)  # set when an admin changes the schedule

    def __post_init__(self):
        self.local_dir = Path(self.local_dir)
        self._busy = gevent.lock.Semaphore()
        self._changed = gevent.event.Event()
        if self.run is None:
            from appliance.db.worker import in_worker

            self.run = lambda fn, *args: in_worker(self.db, fn, *args)

    # the list of runs
    def _runs_path(self) -> Path:
        return self.local_dir / RUNS_FILE

    def runs(self, limit: int = 50) -> list[dict]:
        try:
            lines = self._runs_path().read_text().splitlines()
        except FileNotFoundError:
            return []
        out = []
        for line in reversed(lines[-500:]):
            try:
                row = json.loads(line)
            except ValueError:
                continue
            path = Path(row.get("path") or "")
            row["present"] = bool(row.get("path")) and path.is_file()
            out.append(row)
            if len(out) >= limit:
                break
        return out

    def _record(self, row: dict) -> dict:
        self.local_dir.mkdir(parents=True, exist_ok=True)
        path = self._runs_path()
        with open(path, "a") as f:
            f.write(json.dumps(row, sort_keys=True) + "\n")
        lines = path.read_text().splitlines(keepends=True)
        if len(lines) > 2 * RUNS_KEPT:
            path.with_name(path.name + ".tmp").write_text("".join(lines[-RUNS_KEPT:]))
            os.replace(path.with_name(path.name + ".tmp"), path)
        try:
            m.AuditLog.create(username=row.get("actor") or "system", action=row["kind"], object_type="backup",
                              object_id=row.get("name") or "-",
                              detail=json.dumps({k: row[k] for k in ("outcome", "size", "media", "code")
                                                 if k in row} | ({} if "code" in row or "error" not in row
                                                                 else {"error": row["error"]}), sort_keys=True))
        except Exception:  # noqa: BLE001 - the run is listed even when the audit cannot be written
            logger.exception("backup: audit entry not written")
        return row

    def file_of(self, name: str) -> Path:
        for row in self.runs(500):
            if row.get("name") == name and row.get("present"):
                return Path(row["path"])
        raise NotFound("no such backup file", code="backup.not_found")

    def scheduled_dir(self) -> Path:
        return (Path(self.archive_dir) / "backups") if self.archive_dir else self.local_dir

    # making one
    def _one_at_a_time(self):
        """One backup or restore at a time: a second is refused (``backup.busy``), not queued."""
        if not self._busy.acquire(blocking=False):
            raise Conflict(FieldError("backup.busy", "a backup or restore is under way; try again when it has "
                                      "finished"), code="backup.busy")
        return self._busy

    def backup_now(self, actor: str, *, media: bool = False, kind: str = "backup", folder: Path | None = None,
                   keep: int | None = None) -> dict:
        busy = self._one_at_a_time()
        try:
            return self._backup(actor, media, kind, folder, keep)
        finally:
            busy.release()

    def _backup(self, actor: str, media: bool, kind: str, folder: Path | None, keep: int | None) -> dict:
        now = self.clock()
        folder = Path(folder) if folder is not None else self.local_dir
        name = f"{kind}-{now:%Y%m%d-%H%M%S}{SUFFIX}"
        target = folder / name
        began = dt.datetime.now()
        row = {"kind": kind, "name": name, "path": str(target), "actor": actor, "media": bool(media),
               "at": now.replace(microsecond=0).isoformat() + "Z"}
        try:
            if kind == "scheduled" and self.archive_dir and not Path(self.archive_dir).is_dir():
                raise OSError(f"the archive {self.archive_dir} is not there (not mounted?)")
            manifest = self.run(pack, self.layout, target, media, now)
        except Exception as exc:  # noqa: BLE001 - every failed run is listed with its reason
            logger.exception("backup %s failed", name)
            self._record({**row, "outcome": "failed", "error": str(exc)[:300], "size": 0})
            raise BackupFailed(str(exc), code="backup.failed", params={"detail": str(exc)[:300]}) from exc
        row.update(outcome="ok", size=target.stat().st_size, migration_level=manifest["migration_level"],
                   seconds=round((dt.datetime.now() - began).total_seconds(), 1))
        logger.info("backup %s written (%d bytes)", target, row["size"])
        self._prune(folder, kind, keep or self.keep)
        return self._record(row)

    def _prune(self, folder: Path, kind: str, keep: int) -> None:
        found = sorted(folder.glob(f"{kind}-*{SUFFIX}"))
        for old in found[:-keep] if keep > 0 else ():
            old.unlink(missing_ok=True)
            logger.info("backup %s deleted (keeping the newest %d)", old.name, keep)

    # the schedule
    def schedule_settings(self) -> dict:
        """``{"schedule", "keep", "chosen"}``: an admin's choice (``chosen``), else the settings
        file's.  Read from the database each time: a restore brings the backup's own."""
        rows = {r.key: r.value for r in m.SiteSetting.select().where(m.SiteSetting.key.in_((SCHEDULE_KEY, KEEP_KEY)))}
        schedule, keep = rows.get(SCHEDULE_KEY), rows.get(KEEP_KEY) or ""
        return {"schedule": schedule if schedule in SCHEDULES else self.default_schedule,
                "keep": int(keep) if keep.isdigit() and 1 <= int(keep) <= KEEP_MAX else self.default_keep,
                "chosen": bool(rows)}

    @property
    def schedule(self) -> str:
        return self.schedule_settings()["schedule"]

    @property
    def keep(self) -> int:
        return self.schedule_settings()["keep"]

    def save_schedule(self, actor: str, schedule, keep) -> dict:
        """An admin's schedule (``off``, ``daily``, ``weekly``) and ``keep`` (1 to 365, a number
        or its digits as a form sends them); a bad value changes nothing (422 naming the field).
        Audited with the values before and after; the scheduler computes its next run again."""
        errors = {}
        if not isinstance(schedule, str) or schedule not in SCHEDULES:
            errors["schedule"] = FieldError("field.choice", f"one of {', '.join(SCHEDULES)}",
                                            choices=", ".join(SCHEDULES))
        if isinstance(keep, str) and keep.strip().isdigit():
            keep = int(keep.strip())
        if isinstance(keep, bool) or not isinstance(keep, int) or not 1 <= keep <= KEEP_MAX:
            errors["keep"] = FieldError("field.range", f"1 to {KEEP_MAX}", min=1, max=KEEP_MAX)
        if errors:
            raise ValidationError(f"the backup schedule cannot be saved: {next(iter(errors.values()))}",
                                  code="backup.schedule_invalid", fields=errors)
        before = self.schedule_settings()
        now = m.utcnow()
        with self.db.atomic():
            m.SiteSetting.put(SCHEDULE_KEY, schedule, actor, now)
            m.SiteSetting.put(KEEP_KEY, str(keep), actor, now)
            m.AuditLog.create(username=actor, action="update", object_type="backup", object_id="schedule",
                              detail=json.dumps({"from": {"schedule": before["schedule"], "keep": before["keep"]},
                                                 "to": {"schedule": schedule, "keep": keep}}))
        logger.info("backup schedule set to %s keeping %d by %s (was %s keeping %d)", schedule, keep, actor,
                    before["schedule"], before["keep"])
        self._changed.set()
        return self.schedule_settings()

    def _last_scheduled(self) -> dt.datetime | None:
        last = next((r for r in self.runs(500) if r.get("kind") == "scheduled" and r.get("outcome") == "ok"), None)
        try:
            return dt.datetime.fromisoformat(last["at"].rstrip("Z")) if last else None
        except (KeyError, ValueError, AttributeError):
            return None

    def next_run(self) -> dt.datetime | None:
        """When the next scheduled backup is made (UTC): a day or a week after the last one
        written, at once (now) when none was or it is overdue; None when the schedule is off."""
        every = EVERY.get(self.schedule)
        if every is None:
            return None
        last = self._last_scheduled()
        return self.clock() if last is None else max(last + every, self.clock())

    def due(self) -> bool:
        at = self.next_run()
        return at is not None and self.clock() >= at

    def run_scheduled(self) -> dict | None:
        if not self.due():
            return None
        try:
            return self.backup_now("schedule", kind="scheduled", folder=self.scheduled_dir())
        except DomainError:
            return None  # listed as failed; tried again at the next tick

    def start(self, every_seconds: float = 600) -> None:
        """The scheduler: always running (the schedule may be turned on at any time); it
        sleeps until the next run, at most ``every_seconds`` (a failed run is tried again
        then), or until the schedule is changed."""
        self._loop = gevent.spawn(self._every, every_seconds)

    def wait_seconds(self, most: float) -> float:
        """How long the scheduler sleeps before it looks again (the next run, at most ``most``)."""
        at = self.next_run()
        if at is None:
            return most
        ahead = (at - self.clock()).total_seconds()
        return most if ahead <= 0 else min(max(ahead, 1.0), most)  # due now: it has just failed, wait

    def _every(self, seconds: float) -> None:
        while True:
            self._changed.clear()
            try:
                self.run_scheduled()
            except Exception:
                logger.exception("scheduled backup failed")
            self._changed.wait(self.wait_seconds(seconds))

    def stop(self) -> None:
        if self._loop is not None:
            self._loop.kill()

    # restoring
    def check_file(self, path: Path) -> dict:
        return self.run(check, Path(path))

    def restore(self, path: Path, actor: str, name: str | None = None) -> dict:
        """``path`` checked, then put in place of the current state; the safety copy back if
        anything fails.  Refused while calls are up (``backup.calls_up``, with the count)."""
        busy = self._one_at_a_time()
        try:
            return self._restore(Path(path), actor, name or Path(path).name)
        finally:
            busy.release()

    def _restore(self, path: Path, actor: str, name: str) -> dict:
        try:
            manifest = self.run(check, path)  # refused here: nothing touched yet
            calls = self.calls_up()
            if calls:
                raise Conflict(FieldError("backup.calls_up", f"{calls} calls are up; restore when they have ended",
                                          calls=calls), code="backup.calls_up", params={"calls": str(calls)})
        except (ValidationError, Conflict) as exc:
            logger.warning("restore of %s refused: %s", path.name, exc.message)
            self._record({"kind": "restore", "name": name, "path": "", "actor": actor, "outcome": "refused",
                          "code": exc.code, "params": exc.params, "error": str(exc.message)[:300],
                          "at": self.clock().replace(microsecond=0).isoformat() + "Z",
                          "size": path.stat().st_size if path.is_file() else 0})
            raise
        stamp = f"{self.clock():%Y%m%d-%H%M%S}"
        safety = self.local_dir / f"safety-{stamp}{SUFFIX}"
        row = {"kind": "restore", "name": name, "path": "", "actor": actor, "media": manifest.get("media"),
               "from_level": manifest.get("migration_level"), "host": manifest.get("host"),
               "made_at": manifest.get("created_at"), "safety": safety.name,
               "at": self.clock().replace(microsecond=0).isoformat() + "Z", "size": path.stat().st_size}
        try:
            self.run(self._swap_in, path, safety)
        except Exception as exc:
            logger.exception("restore of %s failed; the state before it is back", path.name)
            self._record({**row, "outcome": "failed", "error": str(exc)[:300]})
            raise BackupFailed(str(exc), code="backup.restore_failed",
                              params={"detail": str(exc)[:300], "safety": safety.name}) from exc
        try:
            self.reload()
        except Exception as exc:
            logger.exception("reload after the restore of %s failed; putting the state before it back", path.name)
            self.run(self._swap_in, safety, None)
            self.reload()
            self._record({**row, "outcome": "failed", "error": str(exc)[:300]})
            raise BackupFailed(str(exc), code="backup.restore_failed",
                              params={"detail": str(exc)[:300], "safety": safety.name}) from exc
        logger.warning("restored %s (made %s on %s, schema %s) by %s", path.name, manifest.get("created_at"),
                       manifest.get("host"), manifest.get("migration_level"), actor)
        return self._record({**row, "outcome": "ok"})

    def _swap_in(self, path: Path, safety: Path | None) -> None:
        """Off the loop: extract (checked again on the way), keep the current state aside in
        ``safety``, put back, migrate; on failure the safety copy goes back the same way."""
        staging = self.layout.data_dir / "restore.staging"
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        try:
            check(path, into=staging)
            if safety is not None:
                pack(self.layout, safety, False, self.clock())
                self._prune(self.local_dir, "safety", SAFETY_KEEP)
            try:
                put_back(staging, self.layout, self.db)
            except Exception:
                if safety is None:
                    raise
                logger.exception("restore failed while putting files back; the safety copy %s goes back", safety)
                self._swap_in(safety, None)
                raise
        finally:
            shutil.rmtree(staging, ignore_errors=True)


__all__ = ["BackupFailed", "BackupService", "Layout", "appliance_version", "check", "pack", "put_back", "snapshot_database"]
