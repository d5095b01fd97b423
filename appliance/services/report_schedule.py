"""Scheduled reports: a report e-mailed as an Excel workbook after each day, week (Monday
to Sunday) or month of the office's clock, to a list of addresses, through the outbox
(``appliance/mail.py``: kept on disk, retried while the mail server is down, failures on
the health page).

``send_due(today)`` sends, for each schedule, the last complete period if it has not been
sent yet (``last_period``): a schedule made on a Wednesday sends the day before at once,
then one every day.  Only the last period is sent: an appliance that was off for a week
does not send seven daily reports at once.  Mail switched off: nothing is sent and the
schedule says why (``last_error``), and the period is sent when mail is set up.  The
workbook is built off the call-serving loop (``run``) and kept in ``folder`` until the
outbox has sent it (files older than ``KEEP_DAYS`` are removed).
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable
from pathlib import Path

from appliance import i18n, labels
from appliance.db import models as m
from appliance.errors import FieldError, NotFound, ValidationError
from appliance.mail import parse_addresses
from appliance.services import report_views as views

logger = logging.getLogger(__name__)

PERIODS = ("daily", "weekly", "monthly")
SCHEDULE_KINDS = tuple(k for k in views.KINDS if k != "timeline")  # a timeline is one day's, looked at
KEEP_DAYS = 31
MAX_SCHEDULES = 50


def last_period(period: str, today: dt.date) -> tuple[dt.date, dt.date, str]:
    """The last complete period before ``today``: (first day, last day, its name)."""
    if period == "daily":
        day = today - dt.timedelta(days=1)
        return day, day, day.isoformat()
    if period == "weekly":
        monday = today - dt.timedelta(days=today.weekday() + 7)
        return monday, monday + dt.timedelta(days=6), monday.isoformat()
    last = today.replace(day=1) - dt.timedelta(days=1)
    return last.replace(day=1), last, last.strftime("%Y-%m")


def _view(row) -> dict:
    return {"id": row.id, "report": row.report, "period": row.period, "recipients": row.recipients,
            "queue": row.queue, "language": row.language, "last_period": row.last_period,
            "last_error": row.last_error, "created_by": row.created_by}


class ReportSchedules:
    def __init__(self, db, reports, outbox, folder: Path,
                 run: Callable = lambda fn, *args: fn(*args)):
        """``reports``: the ReportService; ``outbox``: appliance.mail.Outbox; ``run(fn,
        *args)``: where the workbook is built (the composition root: a worker thread)."""
        self.db = db
        self.reports = reports
        self.outbox = outbox
        self.folder = Path(folder)
        self.run = run

    def list(self) -> list[dict]:
        return [_view(r) for r in m.ReportSchedule.select().order_by(m.ReportSchedule.id)]

    def create(self, data: dict, actor: str) -> dict:
        report, period = str(data.get("report") or ""), str(data.get("period") or "")
        fields = {}
        if report not in SCHEDULE_KINDS:
            fields["report"] = FieldError("field.choice", "not one of the choices", choices=", ".join(SCHEDULE_KINDS))
        if period not in PERIODS:
            fields["period"] = FieldError("field.choice", "not one of the choices", choices=", ".join(PERIODS))
        language = str(data.get("language") or "zh_CN")
        if language not in i18n.LANGUAGES:
            fields["language"] = FieldError("field.choice", "not one of the choices", choices=", ".join(i18n.LANGUAGES))
        queue = str(data.get("queue") or "").strip()
        if queue and not m.Queue.select().where(m.Queue.name == queue).exists():
            fields["queue"] = FieldError("reports.error.no_queue", "no such queue", queue=queue[:32])
        try:
            recipients = parse_addresses(str(data.get("recipients") or ""), "recipients")
        except ValidationError as exc:
            fields.update(exc.fields)
            recipients = ["-"]
        if not recipients:
            fields["recipients"] = FieldError("field.required", "required")
        if fields:
            raise ValidationError("the schedule is not valid", code="reports.bad_schedule", fields=fields)
        if m.ReportSchedule.select().count() >= MAX_SCHEDULES:
            raise ValidationError(f"at most {MAX_SCHEDULES} scheduled reports", code="reports.too_many_schedules",
                                  fields={"report": FieldError("reports.error.too_many_schedules",
                                                               f"at most {MAX_SCHEDULES}", n=MAX_SCHEDULES)})
        with self.db.atomic():
            row = m.ReportSchedule.create(report=report, period=period, recipients=", ".join(recipients), queue=queue,
                                          language=language, created_by=actor)
            m.AuditLog.create(username=actor, action="create", object_type="report_schedule", object_id=str(row.id),
                              detail=f"{report} {period} to {row.recipients}")
        return _view(row)

    def delete(self, schedule_id: int, actor: str) -> None:
        with self.db.atomic():
            deleted = m.ReportSchedule.delete().where(m.ReportSchedule.id == schedule_id).execute()
            if not deleted:
                raise NotFound(f"no scheduled report {schedule_id}", code="reports.schedule_not_found")
            m.AuditLog.create(username=actor, action="delete", object_type="report_schedule",
                              object_id=str(schedule_id), detail="")

    # -- sending ----------------------------------------------------------------------------
    def workbook(self, row, first: dt.date, last: dt.date) -> bytes:
        """The report of [first, last] as the schedule's reader reads it (read-only: a thread may build it)."""
        lang = row.language

        def words(msgid, **kw):
            return i18n.translate(lang, msgid, **kw)

        def label(kind, code):
            return labels.label(lang, kind, code)

        queue = "" if row.report in views.AGENT_FILTER_ONLY else row.queue  # attempts and orders have none
        spec = self.reports.spec({"from": first.isoformat(), "to": last.isoformat(), "queue": queue,
                                  "grain": "hour" if row.period == "daily" else "day"})
        spec["lang"] = lang  # places (the regions report) in the reader's language
        result = getattr(self.reports, row.report)(spec)
        lines = views.filter_lines(spec, words, label)
        return views.workbook(words(f"reports.kind.{row.report}"), lines, views.tables(row.report, result, words, label),
                              words, label)

    def send_due(self, today: dt.date | None = None) -> int:
        """Sends each schedule's last complete period not sent yet; how many were queued."""
        today = today or self.reports.today()
        self._clean()
        sent = 0
        for row in list(m.ReportSchedule.select()):
            first, last, name = last_period(row.period, today)
            if row.last_period == name:
                continue
            if not self.outbox.enabled:
                if row.last_error != "mail-off":
                    m.ReportSchedule.update(last_error="mail-off").where(m.ReportSchedule.id == row.id).execute()
                continue
            try:
                data = self.run(self.workbook, row, first, last)
                self.folder.mkdir(parents=True, exist_ok=True)
                path = self.folder / f"report-{row.id}-{row.report}-{name}.xlsx"
                path.write_bytes(data)
                title = i18n.translate(row.language, f"reports.kind.{row.report}")
                subject = i18n.translate(row.language, "reports.mail.subject", report=title, period=name)
                body = i18n.translate(row.language, "reports.mail.body", report=title, first=first.isoformat(),
                                      last=last.isoformat())
                self.outbox.queue([a.strip() for a in row.recipients.split(",") if a.strip()], subject, body, [path])
            except Exception as exc:  # one schedule's failure stops no other; it says why on the page
                logger.exception("scheduled report %s (%s) failed", row.id, row.report)
                m.ReportSchedule.update(last_error=str(exc)[:255]).where(m.ReportSchedule.id == row.id).execute()
                continue
            m.ReportSchedule.update(last_period=name, last_error="").where(m.ReportSchedule.id == row.id).execute()
            sent += 1
        return sent

    def _clean(self) -> None:
        if not self.folder.is_dir():
            return
        old = time.time() - KEEP_DAYS * 86400
        for path in self.folder.glob("report-*.xlsx"):
            if path.stat().st_mtime < old:
                path.unlink(missing_ok=True)

    def start(self, interval: float = 300.0) -> None:
        """Every ``interval`` seconds in a greenlet: ``send_due``."""
        import gevent

        def loop():
            while True:
                try:
                    self.send_due()
                except Exception:
                    logger.exception("scheduled reports failed")
                gevent.sleep(interval)

        self._loop = gevent.spawn(loop)

    def stop(self) -> None:
        loop = getattr(self, "_loop", None)
        if loop is not None:
            loop.kill()
