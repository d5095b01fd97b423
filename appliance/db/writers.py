"""The engine's database commands carried out: ``WriteCallRecord`` (one row per call) and
``AgentStateChanged`` (the agent-state log), each with its share of the report buckets
(``appliance/services/reports.py``); and each turn in the voice menus (``menu_step``, the
IVR report's record).  Adapters: the live state and the menus decide, these write."""

from __future__ import annotations

import datetime as dt
import logging

from appliance.db import fixed
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
            fixed.insert(CallRecord, row, "REPLACE")  # once a call, on the loop: a statement made once
        self.written += 1
        logger.info("call %s recorded: %s %s -> %s/%s, wait %.1fs talk %.1fs",
                    record["linkedid"], record["disposition"], record["caller"], record["queue"],
                    record["agent"], record["wait_seconds"], record["talk_seconds"])


class AgentStateWriter:
    """Carries out ``AgentStateChanged``: closes the agent's open state row, opens the next.
    Three to four changes a call, each on the AMI reader's loop: fixed statements, not
    selects and saves peewee builds again every time (a tenth of the loop's held time under
    the mixed load, bench/mixed_load.py)."""

    def __init__(self, db):
        self.db = db

    def write(self, change) -> None:
        at = _dt(change.at)
        stamp = AgentStateLog.started_at.db_value
        with self.db.atomic():
            open_row = self.db.execute_sql(_OPEN_STATE, (change.agent,)).fetchone()
            if open_row is not None:
                row_id, state, reason, started_raw = open_row
                started_at = AgentStateLog.started_at.python_value(started_raw)
                seconds = max(0.0, (at - started_at).total_seconds())
                self.db.execute_sql(_CLOSE_STATE, (stamp(at), seconds, row_id))
                reports.record_wrapup(self.db, change.agent, state, reason, started_at, seconds)
            self.db.execute_sql(_OPEN_NEXT, (change.agent, change.state, change.reason or "", stamp(at)))


_STATES = f'"{AgentStateLog._meta.table_name}"'
_OPEN_STATE = (f'SELECT "id", "state", "reason", "started_at" FROM {_STATES} WHERE "agent" = ? AND "ended_at" IS NULL '
               f'ORDER BY "id" DESC LIMIT 1')
_CLOSE_STATE = f'UPDATE {_STATES} SET "ended_at" = ?, "seconds" = ? WHERE "id" = ?'
_OPEN_NEXT = f'INSERT INTO {_STATES} ("agent", "state", "reason", "started_at") VALUES (?, ?, ?, ?)'


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
