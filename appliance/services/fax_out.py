"""Faxes sent from an uploaded PDF, from an agent's desk or the API.

``submit`` checks the upload (a PDF, at most ``MAX_PDF_BYTES``, a dialable number that the
sender's calling permission allows: services/calling.py, a refusal audited), has
Ghostscript from the rootfs render it to the TIFF G4 pages SendFAX transmits (fine
resolution, 1728 dots wide: ``proc.filter_through``, so nothing blocks the loop), keeps
the PDF in the fax store and the TIFF in the spool Asterisk reads, and queues the job; a
file Ghostscript cannot render is refused there and then (``fax.bad_pdf``), nothing kept.

An upload is untrusted, and Ghostscript is a whole language interpreter: a 4 KB PDF of
nested forms kept it busy for minutes.  So, one render (``renders_at_once``) at a time:
first pypdf reads the file's structure in a worker process (``upload_worker pdf``: the
``%PDF-`` header at byte 0, so Ghostscript never takes PostScript for a PDF; a readable page
tree; at most ``MAX_PAGES`` pages); then Ghostscript runs with ``-dSAFER``, as nobody, in a
private folder (its ``TMPDIR``: the copy it makes of a PDF read from a pipe is removed with
the folder, however the render ended), with limits on processor time (``RENDER_BASE_SECONDS``
plus ``RENDER_PAGE_SECONDS`` a page, at most ``render_seconds``), memory and file size, and
its process group killed at the wall-clock timeout.  A file that hits a limit is refused
(``fax.too_complex``).

A greenlet dials what is due: AMI ``Originate`` of ``Local/<number>@cc-fax-dial`` (the
trunks in order) answered into ``cc-fax-send`` (SendFAX).  The dialplan reports to
FastAGI ``fax_out`` with the job token ``<id>-<attempt>`` (a report about an older attempt
is ignored): ``dialed`` with DIALSTATUS when nobody answered, ``sent`` with FAXSTATUS,
FAXPAGES and FAXERROR when the answered call ends.  A failed attempt is tried again after
``retry_seconds`` until ``attempts`` are used up; an attempt nobody reported on within
``report_seconds`` (Asterisk restarted meanwhile) counts as failed.  States: queued,
sending, sent, failed (with a stable ``error_code``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
import re
import threading
from pathlib import Path

import gevent
import gevent.event

from appliance import dialplan_vars as v
from appliance import proc, upload_worker
from appliance.db import models as m
from appliance.errors import FieldError, NotFound, TooLarge, Unavailable, ValidationError
from appliance.fax import tiff
from appliance.recording.worker import write_whole
from appliance.services.calling import FAX, CallingPolicy
from appliance.services.listeners import tell

logger = logging.getLogger(__name__)

QUEUED, SENDING, SENT, FAILED = "queued", "sending", "sent", "failed"
OUTBOUND = "outbound"
MAX_PDF_BYTES = 20 * 1024 * 1024
MAX_PAGES = 100
MAX_TIFF_BYTES = 128 * 1024 * 1024  # what Ghostscript may write (a page of fax is 20-100 KB)
RENDER_BASE_SECONDS = 5  # processor time a render may use: this, plus...
RENDER_PAGE_SECONDS = 2  # ...this for each page, at most FaxSender.render_seconds
CHECK_SECONDS = 20  # processor time of the structure check
NUMBER = re.compile(r"\+?[0-9]{3,31}")
# not -q: Ghostscript then says how many pages the PDF has and which it could not draw
# -dSAFER: no file or device access from the document (Ghostscript's default since 9.50; said anyway)
RENDER = ["gs", "-dNOPAUSE", "-dBATCH", "-dSAFER", "-sDEVICE=tiffg4", "-r204x196", "-sPAPERSIZE=a4",
          "-dFitPage", "-sOutputFile={out}", "-"]
_PAGES_SAID = re.compile(r"^Processing pages 1 through (\d+)\.", re.M)
_PAGE_ERROR = re.compile(r"\*\*\*\* Error: (Page drawing error|page not found|Couldn't get page info)", re.I)
# DIALSTATUS of an attempt nobody answered -> error code
DIAL_ERRORS = {"BUSY": "fax.busy", "NOANSWER": "fax.no_answer", "CONGESTION": "fax.unreachable",
               "CHANUNAVAIL": "fax.unreachable", "CANCEL": "fax.no_answer"}


class FaxSender:
    def __init__(self, db, ami, *, spool_dir: Path, asterisk_spool: str, store_dir: Path, rootfs: str = "",
                 attempts: int = 3, retry_seconds: float = 300.0, report_seconds: float = 900.0,
                 renders_at_once: int = 1, render_seconds: int = 60, memory_bytes: int = 512 * 1024 * 1024,
                 now=m.utcnow, calling: CallingPolicy | None = None):
        self.db = db
        self.calling = calling or CallingPolicy(db)  # without the site: China, our area code unknown
        self.ami = ami
        self.spool_dir = Path(spool_dir)  # the TIFFs SendFAX reads, as we see them
        self.asterisk_spool = asterisk_spool.rstrip("/")  # ...and as Asterisk sees them
        self.store_dir = Path(store_dir)
        self.rootfs = rootfs
        self.attempts = attempts
        self.retry_seconds = retry_seconds
        self.report_seconds = report_seconds
        self.render_seconds = render_seconds
        self.memory_bytes = memory_bytes
        # threading's, which is gevent's once the appliance has patched: requests wait their turn
        self._renders = threading.BoundedSemaphore(max(1, renders_at_once))
        self.now = now
        self._wake = gevent.event.Event()
        self._loop = None
        # told the fax's view once it is sent or has failed for good (the webhooks' fax.sent / fax.failed)
        self.finished: list = []

    # -- an upload ----------------------------------------------------------------------------
    def submit(self, data: bytes, filename: str, number: str, actor: str) -> dict:
        number = (number or "").replace(" ", "").replace("-", "")
        if not NUMBER.fullmatch(number):
            raise ValidationError(f"{number!r} is not a fax number", code="fax.bad_number",
                                  fields={
                                      "number": FieldError("field.dialled_number",
                                                           "digits, optionally starting with +")})
        self.calling.check_user(actor, number, FAX)
        if len(data) > MAX_PDF_BYTES:
            raise TooLarge(f"the PDF is larger than {MAX_PDF_BYTES // (1024 * 1024)} MiB", code="fax.too_large")
        pages, rendered = self._render(data)
        now = self.now()
        with self.db.atomic():
            row = m.Fax.create(linkedid=f"out-{os.urandom(8).hex()}", direction=OUTBOUND, destination=number,
                               state=QUEUED, pages=len(pages), created_at=now, next_try_at=now,
                               max_attempts=self.attempts, created_by=actor[:64],
                               source_name=os.path.basename(filename or "fax.pdf")[:128], detail="")
            relative = f"out/{now:%Y/%m/%d}/{row.id}.pdf"
            write_whole(self.store_dir / relative, data)
            write_whole(self._tiff(row.id), rendered)
            m.Fax.update(pdf_path=relative, bytes=len(data), sha256=hashlib.sha256(data).hexdigest()).where(
                m.Fax.id == row.id).execute()
        logger.info("%s queued fax %s to %s: %d pages", actor, row.id, number, len(pages))
        self._wake.set()
        return self.get(row.id)

    def _render(self, data: bytes) -> tuple[list, bytes]:
        """The PDF as fax pages: (the pages, the TIFF), or ``fax.bad_pdf``, ``fax.too_many_pages``,
        ``fax.too_complex``; ``fax.render_busy`` when other renders kept it waiting too long."""
        if not self._renders.acquire(timeout=2 * self.render_seconds + 60):
            raise Unavailable("other faxes are being prepared; try again in a minute", code="fax.render_busy")
        try:
            declared = self._check(data)
            return self._draw(data, declared)
        finally:
            self._renders.release()

    def _check(self, data: bytes) -> int:
        """The PDF's structure (pypdf, in a worker process): how many pages it has."""
        try:
            out = upload_worker.run("pdf", data, {"max_pages": MAX_PAGES}, what="check an uploaded PDF",
                                    limits=proc.Limits(cpu_seconds=CHECK_SECONDS, memory_bytes=self.memory_bytes,
                                                       file_bytes=0),
                                    timeout=2 * CHECK_SECONDS, max_output=64 * 1024)
        except ValidationError as exc:
            logger.warning("an uploaded PDF was refused before rendering: %s", exc.message)
            raise ValidationError(_REFUSALS.get(exc.code, _REFUSALS["fax.bad_pdf"]), code=exc.code,
                                  fields={"file": exc.message}) from None
        except proc.CommandFailed as exc:
            logger.warning("checking an uploaded PDF failed: %s", exc)
            raise _too_complex(exc) from None
        return next(upload_worker.iter_lines(out))["ok"]["pages"]

    def _draw(self, data: bytes, declared_pages: int) -> tuple[list, bytes]:
        said: list[str] = []
        cpu = min(self.render_seconds, RENDER_BASE_SECONDS + RENDER_PAGE_SECONDS * declared_pages)
        try:
            out = proc.filter_through(RENDER, data, what="render a PDF as fax pages", rootfs=self.rootfs,
                                      timeout=2 * cpu + 10, messages=said, unprivileged=True,
                                      limits=proc.Limits(cpu_seconds=cpu, memory_bytes=self.memory_bytes,
                                                         file_bytes=MAX_TIFF_BYTES + MAX_PDF_BYTES))
            pages = tiff.read_pages(out)
        except proc.CommandFailed as exc:
            if exc.limit or "VMerror" in exc.output:
                logger.warning("rendering an uploaded PDF was stopped: %s", exc)
                raise _too_complex(exc) from None
            logger.warning("an uploaded PDF could not be rendered: %s", exc)
            raise ValidationError(_REFUSALS["fax.bad_pdf"], code="fax.bad_pdf",
                                  fields={"file": FieldError("field.bad_pdf", "the PDF cannot be read")}) from None
        except tiff.FaxFileError as exc:
            logger.warning("an uploaded PDF could not be rendered: %s", exc)
            raise ValidationError(_REFUSALS["fax.bad_pdf"], code="fax.bad_pdf",
                                  fields={"file": FieldError("field.bad_pdf", "the PDF cannot be read")}) from None
        # a file cut short still renders the pages before the cut: never send part of a document
        report = said[0] if said else ""
        declared = _PAGES_SAID.search(report)
        if _PAGE_ERROR.search(report) or (declared and int(declared[1]) != len(pages)):
            logger.warning("an uploaded PDF has pages that cannot be drawn: %d of %s rendered", len(pages),
                           declared[1] if declared else "?")
            raise ValidationError("the PDF is damaged: some of its pages cannot be read", code="fax.bad_pdf",
                                  fields={"file": FieldError("field.bad_pages", "some pages cannot be read")})
        if len(pages) > MAX_PAGES:
            raise ValidationError(f"at most {MAX_PAGES} pages", code="fax.too_many_pages",
                                  fields={
                                      "file": FieldError("field.max_pages", f"at most {MAX_PAGES} pages", n=MAX_PAGES)})
        return pages, out

    def _tiff(self, fax_id: int) -> Path:
        return self.spool_dir / f"{fax_id}.tif"

    # -- sending ------------------------------------------------------------------------------
    def start(self, interval: float = 5.0) -> None:
        def loop():
            while True:
                self._wake.clear()
                try:
                    self.run_due()
                except Exception:
                    logger.exception("fax: sending what is due failed")
                self._wake.wait(interval)

        self._loop = gevent.spawn(loop)

    def stop(self) -> None:
        if self._loop is not None:
            self._loop.kill()

    def run_due(self) -> None:
        now = self.now()
        stale = now - dt.timedelta(seconds=self.report_seconds)
        for row in m.Fax.select().where(m.Fax.direction == OUTBOUND, m.Fax.state == SENDING,
                                        m.Fax.next_try_at < stale):
            self._attempt_failed(row, "fax.no_report", "no word from Asterisk about this attempt")
        for row in m.Fax.select().where(m.Fax.direction == OUTBOUND, m.Fax.state == QUEUED,
                                        m.Fax.next_try_at <= now).order_by(m.Fax.next_try_at):
            self._dial(row)

    def _dial(self, row) -> None:
        attempt = row.attempts + 1
        self._set(row.id, state=SENDING, attempts=attempt, next_try_at=self.now())
        try:
            resp = self.ami.send_action("Originate", {
                "Channel": f"Local/{row.destination}@{v.FAX_DIAL_CONTEXT}",
                "Context": v.FAX_SEND_CONTEXT, "Exten": "send", "Priority": 1,
                "Variable": f"__{v.FAX_JOB}={row.id}-{attempt},{v.FAX_FILE}={self.asterisk_spool}/{row.id}.tif",
                "Timeout": 90000, "Async": "true"})
            refused = resp.get("Message") if resp.name == "Error" else None
        except Exception as exc:  # AMI down: this attempt did not happen
            refused = str(exc) or exc.__class__.__name__
        if refused:
            self._attempt_failed(m.Fax.get_by_id(row.id), "fax.not_started", f"Asterisk refused the call: {refused}")
        else:
            logger.info("fax %s: attempt %d to %s", row.id, attempt, row.destination)

    def _current(self, token: str):
        """The row a dialplan report is about, if it is about the attempt under way."""
        fax_id, _, attempt = (token or "").partition("-")
        if not (fax_id.isdigit() and attempt.isdigit()):
            return None
        row = m.Fax.get_or_none(m.Fax.id == int(fax_id), m.Fax.direction == OUTBOUND)
        if row is None or row.state != SENDING or row.attempts != int(attempt):
            logger.warning("fax report %r is about no attempt under way; ignored", token)
            return None
        return row

    def report_dialed(self, token: str, dialstatus: str) -> None:
        """Nobody answered (busy, no answer, no trunk could take it)."""
        row = self._current(token)
        if row is not None:
            code = DIAL_ERRORS.get(dialstatus, "fax.unreachable")
            self._attempt_failed(row, code, f"the call was not answered ({dialstatus or 'no trunk'})")

    def report_sent(self, token: str, status: str, pages: str, error: str) -> None:
        """The answered call ended; SendFAX says how it went (nothing: it never started)."""
        row = self._current(token)
        if row is None:
            return
        if status == "SUCCESS":
            self._set(row.id, state=SENT, completed_at=self.now(), error_code="",
                      detail=f"{pages or row.pages} pages sent")
            self._tiff(row.id).unlink(missing_ok=True)
            logger.info("fax %s sent to %s (%s pages)", row.id, row.destination, pages)
            self._tell(row.id)
            return
        self._attempt_failed(row, "fax.transmission_failed",
                             f"the fax was answered but not sent: {error or status or 'the call ended first'}")

    def _attempt_failed(self, row, code: str, detail: str) -> None:
        if row.attempts < row.max_attempts:
            self._set(row.id, state=QUEUED, error_code=code, detail=detail,
                      next_try_at=self.now() + dt.timedelta(seconds=self.retry_seconds))
            logger.warning("fax %s to %s: attempt %d failed (%s); again in %.0f s", row.id, row.destination,
                           row.attempts, detail, self.retry_seconds)
            return
        self._set(row.id, state=FAILED, error_code=code, detail=detail, completed_at=self.now())
        self._tiff(row.id).unlink(missing_ok=True)
        logger.error("fax %s to %s failed after %d attempts: %s", row.id, row.destination, row.attempts, detail)
        self._tell(row.id)

    def _tell(self, fax_id: int) -> None:
        tell(self.finished, f"sent fax {fax_id}", view(m.Fax.get_by_id(fax_id)))

    def _set(self, fax_id: int, **fields) -> None:
        m.Fax.update(**fields).where(m.Fax.id == fax_id).execute()

    # -- reading ------------------------------------------------------------------------------
    def get(self, fax_id: int) -> dict:
        row = m.Fax.get_or_none(m.Fax.id == fax_id, m.Fax.direction == OUTBOUND)
        if row is None:
            raise NotFound(f"no sent fax {fax_id}", code="fax.not_found")
        return view(row)


_REFUSALS = {"fax.bad_pdf": "the PDF cannot be read (damaged, encrypted or empty)",
             "fax.too_many_pages": f"at most {MAX_PAGES} pages",
             "fax.too_complex": "the PDF needs more time or memory to draw than a fax may use"}


def _too_complex(exc: proc.CommandFailed) -> ValidationError:
    return ValidationError(_REFUSALS["fax.too_complex"], code="fax.too_complex",
                           fields={"file": exc.output.strip().splitlines()[0] if exc.output.strip() else str(exc)})


def view(row) -> dict:
    """A fax of either direction as the API shows it."""
    return {"id": row.id, "linkedid": row.linkedid, "direction": row.direction, "did": row.did,
            "caller": row.caller, "caller_name": row.caller_name, "destination": row.destination,
            "state": row.state, "pages": row.pages, "bytes": row.bytes, "sha256": row.sha256,
            "error_code": row.error_code, "detail": row.detail, "attempts": row.attempts,
            "max_attempts": row.max_attempts, "next_try_at": row.next_try_at, "created_by": row.created_by,
            "source_name": row.source_name, "created_at": row.created_at, "completed_at": row.completed_at}
