"""Faxes received on DIDs set for fax: ReceiveFAX (res_fax_spandsp) writes a TIFF into the
fax spool; once the call is over this service wraps its pages in a PDF (``fax.tiff``: the
T.4/T.6 data as it is, no decoding, no converter program), stores it under the fax store
as ``YYYY/MM/DD/<linkedid>.pdf`` (part file, fsync, rename), records its pages, size and
SHA-256, and only then deletes the TIFF.

A call to a fax number that brings no fax (a person calling it, or a machine that gave up)
leaves a ``failed`` row with ``fax.no_fax``; a TIFF that cannot be read, ``fax.bad_file``
(the TIFF is kept for a person to look at). Nothing else about the call changes.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

import gevent
import gevent.pool

from appliance.db import models as m
from appliance.errors import NotFound
from appliance.fax import tiff
from appliance.services.fax_out import view as fax_view
from appliance.recording.policy import valid_linkedid
from appliance.recording.worker import write_whole

logger = logging.getLogger(__name__)

RECEIVING, RECEIVED, FAILED = "receiving", "received", "failed"
NO_FAX, BAD_FILE = "fax.no_fax", "fax.bad_file"


# whether a call was a fax being received: asked for every call that ends, on the loop
_RECEIVING = f'SELECT 1 FROM "{m.Fax._meta.table_name}" WHERE "linkedid" = ? AND "state" = ? LIMIT 1'


class FaxService:
    def __init__(self, db, spool_dir: Path, asterisk_spool: str, store_dir: Path, *, now=m.utcnow,
                 settle_seconds: float = 0.5):
        self.db = db
        self.spool_dir = Path(spool_dir)  # where ReceiveFAX writes, as we see it
        self.asterisk_spool = asterisk_spool.rstrip("/")  # ...and as Asterisk sees it
        self.store_dir = Path(store_dir)
        self.now = now
        self.settle_seconds = settle_seconds
        self._finishing = gevent.pool.Group()
        # told (fax view, PDF path) of each fax stored (it is e-mailed then); a listener's
        # failure is logged, never the fax's
        self.received: list = []

    # -- the call path (FastAGI ``fax``) ----------------------------------------------------
    def begin(self, linkedid: str, did: str, *, caller: str = "", caller_name: str = "") -> str | None:
        """A call reached a fax DID: the TIFF path for ReceiveFAX as Asterisk sees it."""
        if not valid_linkedid(linkedid):
            logger.error("fax on call %r: not a linkedid we make file names from", linkedid)
            return None
        self.spool_dir.mkdir(parents=True, exist_ok=True)
        m.Fax.insert(linkedid=linkedid, did=did[:32], caller=caller[:64], caller_name=caller_name[:128],
                     state=RECEIVING, created_at=self.now(), detail="").on_conflict_ignore().execute()
        logger.info("call %s from %s: receiving a fax on %s", linkedid, caller, did)
        return f"{self.asterisk_spool}/{linkedid}.tif"

    def call_ended(self, record: dict) -> None:
        if m.database.execute_sql(_RECEIVING, (record["linkedid"], RECEIVING)).fetchone():  # every call: made once
            self._finishing.spawn(self._finish_later, record["linkedid"])

    def _finish_later(self, linkedid: str) -> None:
        gevent.sleep(self.settle_seconds)  # ReceiveFAX has closed the file by the hangup
        try:
            self.finish(linkedid)
        except Exception:
            logger.exception("fax %s: could not be stored", linkedid)

    def wait_finishing(self, timeout: float | None = None) -> None:
        self._finishing.join(timeout)

    def finish(self, linkedid: str) -> str:
        """The TIFF becomes the stored PDF; returns the new state."""
        row = m.Fax.get(m.Fax.linkedid == linkedid)
        source = self.spool_dir / f"{linkedid}.tif"
        try:
            data = source.read_bytes()
        except FileNotFoundError:
            data = b""
        if not data:
            self._set(row, state=FAILED, error_code=NO_FAX,
                      detail="no fax was received on this call (a voice call, or the sender gave up)")
            source.unlink(missing_ok=True)
            logger.warning("call %s to fax line %s brought no fax", linkedid, row.did)
            return FAILED
        try:
            pages = tiff.read_pages(data)
        except tiff.FaxFileError as exc:
            self._set(row, state=FAILED, error_code=BAD_FILE, detail=str(exc))
            logger.error("fax %s: the received file cannot be read: %s (kept in %s)", linkedid, exc, source)
            return FAILED
        pdf = tiff.to_pdf(pages)
        created = row.created_at
        relative = f"{created:%Y/%m/%d}/{linkedid}.pdf"
        target = self.store_dir / relative
        write_whole(target, pdf)
        self._set(row, state=RECEIVED, pages=len(pages), pdf_path=relative, bytes=len(pdf),
                  sha256=hashlib.sha256(pdf).hexdigest(), error_code="", detail="", completed_at=self.now())
        source.unlink()
        logger.info("fax %s from %s: %d pages stored", linkedid, row.caller, len(pages))
        for listener in self.received:
            try:
                listener(self.view(m.Fax.get_by_id(row.id)), target)
            except Exception:
                logger.exception("fax %s: a listener of received faxes failed", linkedid)
        return RECEIVED

    def _set(self, row, **fields) -> None:
        with self.db.atomic():
            m.Fax.update(**fields).where(m.Fax.id == row.id).execute()

    # -- reading -------------------------------------------------------------------------------
    def search(self, limit: int = 200) -> list[dict]:
        rows = m.Fax.select().order_by(m.Fax.created_at.desc(), m.Fax.id.desc()).limit(max(1, min(limit, 1000)))
        return [self.view(r) for r in rows]

    def get(self, fax_id: int) -> dict:
        row = m.Fax.get_or_none(m.Fax.id == fax_id)
        if row is None:
            raise NotFound(f"no fax {fax_id}", code="fax.not_found")
        return self.view(row)

    def pdf_file(self, fax_id: int) -> Path:
        row = m.Fax.get_or_none(m.Fax.id == fax_id)
        if row is None or not row.pdf_path:  # received, or sent (its uploaded PDF)
            raise NotFound(f"no fax {fax_id} with a PDF", code="fax.not_found")
        return self.store_dir / row.pdf_path

    @staticmethod
    def view(row) -> dict:
        return fax_view(row)
