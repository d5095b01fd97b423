"""Uploaded customer lists waiting between the steps of an import (upload, mapping, check,
import, the rejected rows' download), so that no step asks for the file again.

One folder, files named by a random token: ``<token>.json`` (who uploaded it, in which
session, the file's name, the mapping chosen), ``<token>.sheet`` (the sheet as the upload
worker read it: never the workbook itself, so nothing is parsed twice) and, after an
import of the good rows, ``<token>.rejected.xlsx``.  A token answers only to the session
that made it (``owner``); anything older than ``keep_seconds`` is removed on the next
store, each owner keeps at most ``per_owner`` uploads (the oldest go), and the folder
never holds more than ``max_bytes`` (a new upload is refused, ``import.store_full``).
Plain file work: the web layer calls it from a worker thread.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import time
from pathlib import Path

from appliance.errors import NotFound, Unavailable

logger = logging.getLogger(__name__)

TOKEN = r"[A-Za-z0-9_-]{20,64}"
KEEP_SECONDS = 2 * 3600
PER_OWNER = 3
MAX_BYTES = 512 * 1024 * 1024


def _gone() -> NotFound:
    return NotFound("this upload is gone (imported already, or older than two hours): upload the file again",
                    code="import.gone")


class ImportStore:
    def __init__(self, folder: Path, *, keep_seconds: float = KEEP_SECONDS, per_owner: int = PER_OWNER,
                 max_bytes: int = MAX_BYTES):
        self.folder = Path(folder)
        self.keep_seconds = keep_seconds
        self.per_owner = per_owner
        self.max_bytes = max_bytes

    def _files(self, token: str) -> list[Path]:
        return [self.folder / f"{token}{suffix}" for suffix in (".json", ".sheet", ".rejected.xlsx")]

    def drop(self, token: str) -> None:
        for path in self._files(token):
            path.unlink(missing_ok=True)

    def purge(self) -> None:
        """Removes what has expired (and stray upload files of a request that died)."""
        if not self.folder.exists():
            return
        limit = time.time() - self.keep_seconds
        for path in self.folder.iterdir():
            try:
                if path.stat().st_mtime < limit:
                    path.unlink(missing_ok=True)
            except FileNotFoundError:
                pass

    def upload_path(self) -> Path:
        """A fresh path for a workbook as uploaded (the caller removes it once read)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        return self.folder / f"{secrets.token_urlsafe(24)}.upload.xlsx"

    def keep(self, owner: str, name: str, sheet: bytes, **meta) -> str:
        """Stores a read sheet for ``owner``; its token."""
        self.folder.mkdir(parents=True, exist_ok=True)
        self.purge()
        mine = sorted((p.stat().st_mtime, self._meta_file(p)) for p in self.folder.glob("*.json")
                      if self._owner_of(p) == owner)
        for _mtime, token in mine[:max(0, len(mine) - self.per_owner + 1)]:
            self.drop(token)  # the least recently used of this session's uploads
        used = sum(p.stat().st_size for p in self.folder.iterdir() if p.is_file())
        if used + len(sheet) > self.max_bytes:
            logger.warning("customer imports waiting hold %d bytes: a new one of %d is refused", used, len(sheet))
            raise Unavailable("too many files are waiting to be imported: try again later",
                              code="import.store_full")
        token = secrets.token_urlsafe(24)
        (self.folder / f"{token}.sheet").write_bytes(sheet)
        self._write(token, {"owner": owner, "name": name, "at": time.time(), **meta})
        return token

    @staticmethod
    def _meta_file(path: Path) -> str:
        return path.name[:-len(".json")]

    @staticmethod
    def _owner_of(path: Path) -> str | None:
        try:
            return json.loads(path.read_text()).get("owner")
        except (OSError, ValueError):
            return None

    def _write(self, token: str, meta: dict) -> None:
        tmp = self.folder / f"{token}.json.tmp"
        tmp.write_text(json.dumps(meta, ensure_ascii=False))
        tmp.replace(self.folder / f"{token}.json")

    def meta(self, token: str, owner: str) -> dict:
        """What is known of an upload of ``owner``; ``import.gone`` for anyone else's, an
        expired one, or one imported already."""
        path = self.folder / f"{token}.json"
        if not re.fullmatch(TOKEN, token) or not path.exists():
            raise _gone()
        try:
            meta = json.loads(path.read_text())
        except (OSError, ValueError):
            raise _gone() from None
        if meta.get("owner") != owner or time.time() - meta.get("at", 0) > self.keep_seconds:
            raise _gone()
        return meta

    def update(self, token: str, owner: str, **changes) -> dict:
        meta = {**self.meta(token, owner), **changes}
        self._write(token, meta)
        return meta

    def sheet(self, token: str, owner: str) -> bytes:
        self.meta(token, owner)
        try:
            return (self.folder / f"{token}.sheet").read_bytes()
        except FileNotFoundError:
            raise _gone() from None

    def imported(self, token: str, owner: str, rejected: bytes | None, **changes) -> None:
        """The sheet is imported: it goes; the rejected rows (if any) stay to be downloaded."""
        (self.folder / f"{token}.sheet").unlink(missing_ok=True)
        if rejected is not None:
            (self.folder / f"{token}.rejected.xlsx").write_bytes(rejected)
        self.update(token, owner, at=time.time(), **changes)  # downloadable for as long again

    def rejected(self, token: str, owner: str) -> tuple[dict, bytes]:
        meta = self.meta(token, owner)
        try:
            return meta, (self.folder / f"{token}.rejected.xlsx").read_bytes()
        except FileNotFoundError:
            raise _gone() from None
