"""The engine's database commands carried out: ``WriteCallRecord`` (one row per call) and
``AgentStateChanged`` (the agent-state log), each with its share of the report buckets
(``appliance/services/reports.py``); and each turn in the voice menus (``menu_step``, the
IVR report's record).  Adapters: the live state and the menus decide, these write."""

from __future__ import annotations

import datetime as dt
import logging

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
