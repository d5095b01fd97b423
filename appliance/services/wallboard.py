"""Today's figures per queue for the supervisor's wallboard, from the call records.

"Today" is the local day of the call center (the ``timezone`` setting, Asia/Shanghai by
default): from local midnight to the next, whatever the machine's clock zone is.  Call
records keep UTC, so the day's bounds are turned into UTC before the query.

Per queue, counting the calls that entered it today (outgoing calls never count):

* ``offered``: every such call, whatever became of it, including the callers the queue
  refused at the door because nobody could answer (every agent paused or away: app_queue's
  join-empty, the record's ``fallback_reason`` ``queue-joinempty``);
* ``answered``: an agent answered it (even if it ended badly later);
* ``answered_in_time``: answered after waiting at most the queue's ``service_level_seconds``;
* ``abandoned``: the caller hung up while waiting;
* ``no_agent``: neither answered nor abandoned: refused by the queue or given up on by it
  (nobody could answer, the longest wait passed) and sent on to voicemail, the fallback
  or the next queue; ``offered = answered + abandoned + no_agent``;
* ``service_level``: ``answered_in_time / offered`` (None when nothing was offered): every
  refused or abandoned call counts against it;
* ``average_answer_seconds``: the mean wait of the answered calls.

The figures are one grouped query over the ``enter_time`` index, remembered until a new
call record is written (or the day or the queues' thresholds change).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from zoneinfo import ZoneInfo

from peewee import JOIN, Case, fn

from appliance.db import models as m
from appliance.services.site import utc_midnight

DEFAULT_SERVICE_LEVEL_SECONDS = 20
FIGURES = ("offered", "answered", "answered_in_time", "abandoned", "no_agent")


def day_bounds(now: float, tz: ZoneInfo) -> tuple[dt.datetime, dt.datetime]:
    """The local day holding ``now`` (a Unix time), as naive UTC datetimes [start, end)."""
    day = dt.datetime.fromtimestamp(now, tz).date()
    return utc_midnight(day, tz), utc_midnight(day + dt.timedelta(days=1), tz)


def queue_figures(row: dict) -> dict:
    """One queue's grouped counts -> the figures the wallboard shows (see the module doc)."""
    counts = {k: int(row.get(k) or 0) for k in FIGURES}
    offered, answered = counts["offered"], counts["answered"]
    counts["no_agent"] = offered - answered - counts["abandoned"]
    return {**counts,
            "service_level": round(counts["answered_in_time"] / offered, 4) if offered else None,
            "average_answer_seconds": round(float(row.get("wait_answered") or 0) / answered, 1) if answered else None}


def totals(per_queue: dict[str, dict]) -> dict:
    """The figures of all queues together (service level over all offered calls)."""
    summed = {k: sum(q[k] for q in per_queue.values()) for k in FIGURES}
    waited = sum((q["average_answer_seconds"] or 0) * q["answered"] for q in per_queue.values())
    return queue_figures({**summed, "wait_answered": waited})


class TodayFigures:
    """``figures(now)`` -> ``{"date", "timezone", "since", "queues": {name: figures}, "totals"}``."""

    def __init__(self, db, timezone: str | Callable[[], str] = "Asia/Shanghai"):
        """``timezone``: a name, or where to read it each time (the site's, which an admin
        may change in the first-run wizard while the appliance runs)."""
        self.db = db
        self._timezone = timezone if callable(timezone) else (lambda: timezone)
        self._cached: tuple | None = None  # (key, figures)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self._timezone())

    def forget(self) -> None:
        """A queue's threshold may have changed: count again on the next read."""
        self._cached = None

    @staticmethod
    def latest() -> int | None:
        """The newest call record's id: the figures change when it does (one index lookup)."""
        return m.CallRecord.select(fn.MAX(m.CallRecord.id)).scalar()

    def figures(self, now: float) -> dict:
        tz = self.tz
        start, end = day_bounds(now, tz)
        latest = self.latest()
        key = (start, latest)
        if self._cached is None or self._cached[0] != key:
            self._cached = (key, self._count(start, end))
        per_queue = self._cached[1]
        local_start = start.replace(tzinfo=dt.timezone.utc).astimezone(tz)
        return {"date": local_start.date().isoformat(), "timezone": tz.key,
                "since": start.isoformat(timespec="seconds") + "Z",
                "queues": per_queue, "totals": totals(per_queue)}

    def _count(self, start: dt.datetime, end: dt.datetime) -> dict[str, dict]:
        cr, q = m.CallRecord, m.Queue
        answered = cr.answer_time.is_null(False)
        threshold = fn.COALESCE(q.service_level_seconds, DEFAULT_SERVICE_LEVEL_SECONDS)
        query = (cr.select(cr.queue,
                           fn.COUNT(cr.id).alias("offered"),
                           fn.SUM(Case(None, [(answered, 1)], 0)).alias("answered"),
                           fn.SUM(Case(None, [(answered & (cr.wait_seconds <= threshold), 1)], 0))
                           .alias("answered_in_time"),
                           fn.SUM(Case(None, [(~answered & (cr.disposition == "abandoned"), 1)], 0))
                           .alias("abandoned"),
                           fn.SUM(Case(None, [(answered, cr.wait_seconds)], 0)).alias("wait_answered"))
                 .join(q, JOIN.LEFT_OUTER, on=(q.name == cr.queue))
                 .where(cr.enter_time >= start, cr.enter_time < end, cr.queue != "", cr.direction != "outbound")
                 .group_by(cr.queue).dicts())
        return {row["queue"]: queue_figures(row) for row in query}
