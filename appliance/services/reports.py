"""Reports: what a manager asks on Monday morning, for any date range on the office's clock.

**Summaries in 15-minute buckets** (``report_bucket``): one row per UTC quarter hour
(``bucket``: its start, Unix seconds) and per queue, DID, agent and direction.  A call
belongs to the bucket its ``enter_time`` falls in (as the wallboard counts the calls that
entered today): a call that starts at 23:59 and ends at 00:03 is the first day's, its whole
talk with it.  The sums, per the wallboard's definitions (``appliance/services/wallboard.py``):

* ``calls``: every call record (any direction);
* ``offered``: calls of a queue that are not outgoing; ``offered = answered + abandoned + no_agent``;
* ``answered``, ``answered_in_time`` (waited at most the queue's ``service_level_seconds``
  when the record was written: a rebuild applies today's thresholds), ``abandoned``,
  ``no_agent`` (refused or given up on by the queue);
* ``handled``: calls an agent answered (any direction), the count handle times divide by;
* ``wait_seconds`` (all offered calls), ``wait_answered`` (the answered ones: ASA),
  ``talk_seconds`` (every call);
* ``wrapup_seconds``: the agent's wrap-up after a call (``agent_state_log`` state
  ``wrapup``, or held for a required disposition), added when it ends, to the bucket and
  queue of the call the agent had just finished.

``CallRecordWriter`` adds each call in the transaction that writes it (a record written
twice, as the writer's replace allows, first takes its old figures back);
``AgentStateWriter`` adds each wrap-up when it closes.  ``rebuild_buckets`` recomputes
every bucket (or a range) from the call records and the state log: the admin API and
``python -m appliance.services.reports rebuild``.

**Teams** (the ``team`` filter): a team is a queue's agents, by the bills' rule
(``billing.agent_teams``: each agent's team is the queue they are a member of with the
lowest penalty).  A team's calls are the calls of its queue and the outgoing calls (of no
queue) of its agents; its agents' figures (efficiency, timeline, campaign attempts, sales)
are those of its agents.  Membership is today's: an agent moved to another team takes
their past outgoing calls and states with them.

**Day summaries** for the reports that group calls by what the buckets do not hold
(``report_place_day``: callers by region; ``report_trunk_day``: by trunk, and costs): one
row per office day (``day``: its local midnight as Unix seconds, in the site's time zone
when written) and per direction, queue, DID and the caller's seven-digit place key, or per
direction, queue, DID, agent, trunk and destination class with the charges.  Added with
each call record in the same transaction, rebuilt with the buckets (whole office days).
A report reads them when its filter is on their columns (callers by region with an agent
filter, an agent's own scope or a team's outgoing calls read the call records); after the
site's time zone changes they are right again once rebuilt.

**Ranges** are whole days on the office's clock (the site's time zone): from the first
day's local midnight to the day after the last, turned into UTC.  Every zone's midnight
falls on a quarter hour of UTC, so a day is a whole number of buckets and sums are exact.
"""

from __future__ import annotations

import calendar
import datetime as dt
import io
import logging
from collections import defaultdict
from collections.abc import Callable

from peewee import JOIN, SQL, Case, Cast, fn

from appliance import numbers
from appliance.db import fixed
from appliance.db import models as m
from appliance.errors import FieldError, ValidationError
from appliance.services.billing import NO_TEAM, agent_teams
from appliance.services.crm import Viewer
from appliance.services.orders import OrderService
from appliance.services.site import on_office_clock, utc_midnight, zone_of

logger = logging.getLogger(__name__)

BUCKET = 900
DEFAULT_TIMEZONE = "Asia/Shanghai"  # settings.py's ``timezone`` default: the site's until set
KEY = ("queue", "did", "agent", "direction")
SUMS = ("calls", "offered", "answered", "answered_in_time", "abandoned", "no_agent", "handled",
        "wait_seconds", "wait_answered", "talk_seconds", "wrapup_seconds")
DEFAULT_SERVICE_LEVEL_SECONDS = 20
DISPOSITION_REASON = "awaiting-disposition"  # engine/live.py: held for a disposition is wrap-up
GRAINS = ("15min", "hour", "day", "week", "month")
# The most points a curve may have at each grain (a year of quarter hours is no chart).
MAX_DAYS = {"15min": 31, "hour": 92, "day": 3 * 366, "week": 3 * 366, "month": 3 * 366}
MAX_RANGE_DAYS = 3 * 366
DIRECTIONS = ("inbound", "outbound", "internal")
LIST_LIMIT = 1000
DEFAULT_LOW_SCORE = 2
WRAPUP_LOOKBACK = dt.timedelta(hours=12)  # a wrap-up's call entered at most this long before it
# how callers leave a menu (``menu_step.left``, ``agi/handlers/menu.py``), and hanging up in it
IVR_LEFT = ("queue", "agent", "extension", "voicemail", "fax", "hangup", "fallback", "hung_up")
COST_GROUPS = ("trunk", "agent", "team", "class")
OUTBOUND_RESULTS = ("answered", "abandoned", "machine", "no-answer", "busy", "failed", "dialling", "skipped",
                    "refused")


def epoch(at) -> float:
    """A stored time (naive UTC datetime, or Unix seconds) as Unix seconds."""
    if isinstance(at, (int, float)):
        return float(at)
    return calendar.timegm(at.timetuple()) + at.microsecond / 1e6


def bucket_of(at) -> int:
    return int(epoch(at) // BUCKET) * BUCKET


def contribution(record: dict, threshold: float) -> tuple[tuple, dict]:
    """One call record (``WriteCallRecord``'s dict, or a row's) -> its bucket key and sums."""
    queue_call = bool(record.get("queue")) and record.get("direction") != "outbound"
    answered = record.get("answer_time") is not None
    wait, talk = float(record.get("wait_seconds") or 0), float(record.get("talk_seconds") or 0)
    abandoned = queue_call and not answered and record.get("disposition") == "abandoned"
    sums = {"calls": 1, "offered": int(queue_call), "answered": int(queue_call and answered),
            "answered_in_time": int(queue_call and answered and wait <= threshold),
            "abandoned": int(abandoned), "no_agent": int(queue_call and not answered and not abandoned),
            "handled": int(answered), "wait_seconds": wait if queue_call else 0.0,
            "wait_answered": wait if queue_call and answered else 0.0, "talk_seconds": talk, "wrapup_seconds": 0.0}
    key = (bucket_of(record["enter_time"]),) + tuple(record.get(k) or "" for k in KEY)
    return key, sums


_UPSERT = ('INSERT INTO "report_bucket" ("bucket", "queue", "did", "agent", "direction", '
           + ", ".join(f'"{s}"' for s in SUMS) + ") VALUES (" + ", ".join("?" * (5 + len(SUMS))) + ") "
           'ON CONFLICT ("bucket", "queue", "did", "agent", "direction") DO UPDATE SET '
           + ", ".join(f'"{s}" = "{s}" + excluded."{s}"' for s in SUMS))


def add(db, key: tuple, sums: dict, sign: int = 1) -> None:
    db.execute_sql(_UPSERT, list(key) + [sign * sums.get(s, 0) for s in SUMS])


def threshold_of(queue: str) -> float:
    found = m.database.execute_sql(_THRESHOLD, (queue,)).fetchone() if queue else None
    return float(found[0] if found is not None and found[0] is not None else DEFAULT_SERVICE_LEVEL_SECONDS)


_THRESHOLD = f'SELECT "service_level_seconds" FROM "{m.Queue._meta.table_name}" WHERE "name" = ?'  # every call


def site_zone(default: str = DEFAULT_TIMEZONE) -> dt.tzinfo:
    """The site's time zone as the database holds it (``SiteService.timezone``'s stored value;
    not set: ``default``, the settings' ``timezone``): the day summaries' clock when no other is given."""
    row = m.SiteSetting.get_or_none(m.SiteSetting.key == "timezone")
    return zone_of(row.value if row is not None and row.value else default)


def office_day(at, zone: dt.tzinfo) -> int:
    """The local midnight (Unix seconds) of the office day ``at`` (a stored time or Unix seconds) is in."""
    local = dt.datetime.fromtimestamp(epoch(at), zone)
    return int(epoch(utc_midnight(local.date(), zone)))


_PLACE_UPSERT = ('INSERT INTO "report_place_day" ("day", "direction", "queue", "did", "place", "caller", "calls", '
                 '"answered", "abandoned", "talk_seconds") SELECT ?, ?, ?, ?, ' + numbers.place_key_sql("x.c")
                 + ', x.c, ?, ?, ?, ? FROM (SELECT ? AS c) x WHERE 1 '
                 'ON CONFLICT ("day", "direction", "queue", "did", "place") DO UPDATE SET '
                 + ", ".join(f'"{c}" = "{c}" + excluded."{c}"' for c in ("calls", "answered", "abandoned",
                                                                        "talk_seconds")))
TRUNK_SUMS = ("calls", "answered", "abandoned", "talk_seconds", "rated", "unrated", "cost_fen")
_TRUNK_UPSERT = ('INSERT INTO "report_trunk_day" ("day", "direction", "queue", "did", "agent", "trunk", '
                 '"destination_class", ' + ", ".join(f'"{c}"' for c in TRUNK_SUMS) + ") VALUES ("
                 + ", ".join("?" * (7 + len(TRUNK_SUMS))) + ') ON CONFLICT ("day", "direction", "queue", "did", '
                 '"agent", "trunk", "destination_class") DO UPDATE SET '
                 + ", ".join(f'"{c}" = "{c}" + excluded."{c}"' for c in TRUNK_SUMS))


def add_days(db, record: dict, zone: dt.tzinfo, sign: int = 1) -> None:
    """One call record's share of the day summaries (``sign`` -1 takes it back)."""
    day = office_day(record["enter_time"], zone)
    answered = record.get("answer_time") is not None
    abandoned = not answered and record.get("disposition") == "abandoned"
    talk = float(record.get("talk_seconds") or 0)
    cost = record.get("cost")
    common = [record.get(k) or "" for k in ("direction", "queue", "did")]
    db.execute_sql(_PLACE_UPSERT, [day, *common, sign, sign * answered, sign * abandoned, sign * talk,
                                   record.get("caller") or ""])
    db.execute_sql(_TRUNK_UPSERT, [day, *common, record.get("agent") or "", record.get("trunk") or "",
                                   record.get("destination_class") or "", sign, sign * answered, sign * abandoned,
                                   sign * talk, sign * (cost is not None), sign * (cost is None and answered),
                                   sign * (cost or 0)])


def record_call(db, record: dict, zone: dt.tzinfo | None = None) -> None:
    """Adds a call being written (inside the writer's transaction; ``record`` with its
    rating: ``cost``, ``destination_class``) to the buckets and the day summaries of the
    office's ``zone`` (default: the site's); a record of that linkedid written before
    first takes its figures back."""
    zone = zone or site_zone()
    old = fixed.row_by(m.CallRecord, "linkedid", record["linkedid"])  # every call, on the loop: made once
    if old is not None:
        key, sums = contribution(old, threshold_of(old["queue"]))
        add(db, key, sums, -1)
        add_days(db, old, zone, -1)
    key, sums = contribution(record, threshold_of(record.get("queue") or ""))
    add(db, key, sums)
    add_days(db, record, zone)


def is_wrapup(state: str, reason: str) -> bool:
    return state == "wrapup" or (state == "paused" and reason == DISPOSITION_REASON)


def wrapup_key(agent: str, started_at: dt.datetime) -> tuple:
    """The bucket key a wrap-up beginning at ``started_at`` belongs to: the call the agent
    had just finished (ended at most 5 s after: the writer's clocks), else the agent alone."""
    cr = m.CallRecord
    call = (cr.select(cr.enter_time, cr.queue, cr.did, cr.direction)
            .where(cr.agent == agent, cr.enter_time >= started_at - WRAPUP_LOOKBACK,
                   cr.enter_time <= started_at, cr.end_time <= started_at + dt.timedelta(seconds=5))
            .order_by(cr.end_time.desc()).first())
    if call is None:
        return (bucket_of(started_at), "", "", agent, "")
    return (bucket_of(call.enter_time), call.queue, call.did, agent, call.direction)


def record_wrapup(db, agent: str, state: str, reason: str, started_at: dt.datetime, seconds: float) -> None:
    """An agent's state row closed: a wrap-up adds its seconds."""
    if is_wrapup(state, reason) and seconds > 0:
        add(db, wrapup_key(agent, started_at), {"wrapup_seconds": seconds})


_REBUILD = """
INSERT INTO "report_bucket" ("bucket", "queue", "did", "agent", "direction", {sums})
SELECT (CAST(strftime('%s', c."enter_time") AS INTEGER) / 900) * 900 AS b, c."queue", c."did", c."agent", c."direction",
  COUNT(*),
  SUM(c."queue" != '' AND c."direction" != 'outbound'),
  SUM(c."queue" != '' AND c."direction" != 'outbound' AND c."answer_time" IS NOT NULL),
  SUM(c."queue" != '' AND c."direction" != 'outbound' AND c."answer_time" IS NOT NULL
      AND c."wait_seconds" <= COALESCE(q."service_level_seconds", {default})),
  SUM(c."queue" != '' AND c."direction" != 'outbound' AND c."answer_time" IS NULL AND c."disposition" = 'abandoned'),
  SUM(c."queue" != '' AND c."direction" != 'outbound' AND c."answer_time" IS NULL AND c."disposition" != 'abandoned'),
  SUM(c."answer_time" IS NOT NULL),
  SUM(CASE WHEN c."queue" != '' AND c."direction" != 'outbound' THEN c."wait_seconds" ELSE 0 END),
  SUM(CASE WHEN c."queue" != '' AND c."direction" != 'outbound' AND c."answer_time" IS NOT NULL
      THEN c."wait_seconds" ELSE 0 END),
  SUM(c."talk_seconds"), 0
FROM "call_record" c LEFT JOIN "queue" q ON q."name" = c."queue"
WHERE c."enter_time" >= ? AND c."enter_time" < ?
GROUP BY b, c."queue", c."did", c."agent", c."direction"
"""


_PLACE_REBUILD = ('INSERT INTO "report_place_day" ("day", "direction", "queue", "did", "place", "caller", "calls", '
                  '"answered", "abandoned", "talk_seconds") SELECT ?, "direction", "queue", "did", {key} AS k, '
                  'MIN("caller"), COUNT(*), SUM("answer_time" IS NOT NULL), '
                  'SUM("answer_time" IS NULL AND "disposition" = \'abandoned\'), SUM("talk_seconds") '
                  'FROM "call_record" WHERE "enter_time" >= ? AND "enter_time" < ? '
                  'GROUP BY "direction", "queue", "did", k').format(key=numbers.place_key_sql('"caller"'))
_TRUNK_REBUILD = ('INSERT INTO "report_trunk_day" ("day", "direction", "queue", "did", "agent", "trunk", '
                  '"destination_class", ' + ", ".join(f'"{c}"' for c in TRUNK_SUMS) + ') '
                  'SELECT ?, "direction", "queue", "did", "agent", "trunk", "destination_class", COUNT(*), '
                  'SUM("answer_time" IS NOT NULL), SUM("answer_time" IS NULL AND "disposition" = \'abandoned\'), '
                  'SUM("talk_seconds"), SUM("cost" IS NOT NULL), SUM("cost" IS NULL AND "answer_time" IS NOT NULL), '
                  'COALESCE(SUM("cost"), 0) FROM "call_record" WHERE "enter_time" >= ? AND "enter_time" < ? '
                  'GROUP BY "direction", "queue", "did", "agent", "trunk", "destination_class"')


def rebuild_days_summaries(db, zone: dt.tzinfo, start: dt.datetime | None = None,
                           end: dt.datetime | None = None) -> int:
    """Recomputes the day summaries of the office days (in ``zone``) that [start, end)
    touches (default: every day with a call), one day at a time, in the caller's
    transaction or one of its own.  Returns the rows written."""
    cr = m.CallRecord
    query = cr.select(cr.enter_time)
    if start is not None:
        query = query.where(cr.enter_time >= start)
    if end is not None:
        query = query.where(cr.enter_time < end)
    first, last = query.order_by(cr.enter_time).first(), query.order_by(cr.enter_time.desc()).first()
    lo = office_day(start, zone) if start is not None else (office_day(first.enter_time, zone) if first else 0)
    hi = (office_day(end - dt.timedelta(microseconds=1), zone) if end is not None
          else (office_day(last.enter_time, zone) if last else -1))
    written = 0
    days = []
    day = dt.datetime.fromtimestamp(lo, zone).date() if first is not None or start is not None else None
    while day is not None and epoch(utc_midnight(day, zone)) <= hi:
        days.append(day)
        day += dt.timedelta(days=1)
    with db.atomic():
        for table in ("report_place_day", "report_trunk_day"):  # a day of another clock too
            if start is None and end is None:
                db.execute_sql(f'DELETE FROM "{table}"')
            elif days:
                db.execute_sql(f'DELETE FROM "{table}" WHERE "day" >= ? AND "day" < ?',
                               (int(epoch(utc_midnight(days[0], zone))),
                                int(epoch(utc_midnight(days[-1] + dt.timedelta(days=1), zone)))))
        for day in days:
            since, until = utc_midnight(day, zone), utc_midnight(day + dt.timedelta(days=1), zone)
            for sql in (_PLACE_REBUILD, _TRUNK_REBUILD):
                written += db.execute_sql(sql, (int(epoch(since)), since, until)).rowcount
    return written


def rebuild_buckets(db, start: dt.datetime | None = None, end: dt.datetime | None = None,
                    zone: dt.tzinfo | None = None, days: bool = True) -> int:
    """Recomputes the buckets of [start, end) (naive UTC, widened to whole buckets; default:
    everything) from the call records and the agent-state log, and the day summaries of
    the office days (in ``zone``, default the site's) it touches (``days``; the migration
    that made the buckets ran before the day summaries existed), in one transaction.
    Returns the number of bucket rows written."""
    start = dt.datetime(1970, 1, 1) if start is None else start
    end = dt.datetime(9999, 1, 1) if end is None else end
    first = bucket_of(start)
    last = -(-int(epoch(end)) // BUCKET) * BUCKET if end.year < 9999 else 2 ** 62
    lo = dt.datetime(1970, 1, 1) + dt.timedelta(seconds=first)
    hi = dt.datetime(1970, 1, 1) + dt.timedelta(seconds=last) if last < 2 ** 62 else end
    with db.atomic():
        db.execute_sql('DELETE FROM "report_bucket" WHERE "bucket" >= ? AND "bucket" < ?', (first, last))
        db.execute_sql(_REBUILD.format(sums=", ".join(f'"{s}"' for s in SUMS), default=DEFAULT_SERVICE_LEVEL_SECONDS),
                       (lo, hi))
        # a wrap-up counts with the call before it (entered at most 12 h earlier): those that
        # began in the range or up to 12 h after it, whose call's bucket is in the range
        log = m.AgentStateLog
        wraps = (log.select(log.agent, log.state, log.reason, log.started_at, log.seconds)
                 .where(log.started_at >= lo, log.started_at < min(hi, dt.datetime(9998, 1, 1)) + WRAPUP_LOOKBACK,
                        log.ended_at.is_null(False),
                        (log.state == "wrapup") | ((log.state == "paused") & (log.reason == DISPOSITION_REASON))))
        for row in wraps:
            key = wrapup_key(row.agent, row.started_at)
            if first <= key[0] < last and (row.seconds or 0) > 0:
                add(db, key, {"wrapup_seconds": row.seconds})
        if days:
            rebuild_days_summaries(db, zone or site_zone(), start if start.year > 1970 else None,
                                   end if end.year < 9999 else None)
        written = m.ReportBucket.select().where(m.ReportBucket.bucket >= first, m.ReportBucket.bucket < last).count()
    logger.info("report buckets rebuilt from %s to %s: %d rows", lo, hi, written)
    return written


# -- the filter a report is asked for ------------------------------------------------------------
def _bad(field: str, msgid: str, english: str, **params):
    return ValidationError(english, code="reports.bad_filter", fields={field: FieldError(msgid, english, **params)})


def parse_day(value: str, name: str) -> dt.date | None:
    value = (value or "").strip()
    if not value:
        return None
    try:
        if len(value) == 10:
            return dt.date.fromisoformat(value)
    except ValueError:
        pass
    raise _bad(name, "field.date_format", "YYYY-MM-DD")


def team_agents(team: str) -> list[str]:
    """The agents of a team (a queue), by the bills' rule (``billing.agent_teams``)."""
    return sorted(agent for agent, queue in agent_teams().items() if queue == team)


def team_calls(model, spec) -> object:
    """The condition on ``model`` (call records or buckets: queue, agent, direction) that
    keeps the calls of the filter's team: its queue's, and its agents' outgoing calls of no queue."""
    return (model.queue == spec["team"]) | ((model.queue == "") & (model.direction == "outbound")
                                            & model.agent.in_(spec["team_agents"]))


class Spec(dict):
    """A checked filter: ``from``/``to`` (local dates), ``start``/``end`` (naive UTC),
    ``first``/``last`` (bucket bounds), ``queue``, ``did``, ``agent``, ``direction``, ``team``
    (with ``team_agents``, its agents), ``grain``,
    ``zone``, and ``notices`` (message ids with their parameters the page shows)."""


class ReportService:
    def __init__(self, db, timezone: Callable[[], str] | None = None,
                 today: Callable[[dt.tzinfo], dt.date] | None = None, sales: Callable[..., dict] | None = None):
        """``sales(viewer, filters, day_of)``: the orders' sales figures (``OrderService.sales``,
        the one computation of them; its own by default)."""
        self.db = db
        self.timezone = timezone
        self._today = today or (lambda zone: dt.datetime.now(zone).date())
        self._sales = sales or OrderService(db, None).sales  # sales reads no customer: no CRM needed

    def zone(self) -> dt.tzinfo:
        return zone_of(self.timezone() if self.timezone is not None else None)

    def today(self) -> dt.date:
        """Today on the office's clock."""
        return self._today(self.zone())

    def spec(self, args: dict, agents: frozenset | None = None) -> Spec:
        """``args`` (query strings) checked into a ``Spec``; ``agents``: the viewer's own
        agents when they may see only theirs (None: everyone's)."""
        zone = self.zone()
        today = self.today()
        since = parse_day(args.get("from", ""), "from") or today.replace(day=1)
        until = parse_day(args.get("to", ""), "to") or today
        if until < since:
            raise _bad("to", "reports.error.reversed", "the last day is before the first")
        if since > today:
            raise _bad("from", "reports.error.future", "the first day is in the future", today=today.isoformat())
        if (until - since).days + 1 > MAX_RANGE_DAYS:
            raise _bad("to", "reports.error.too_long", "at most 3 years at once", years=3)
        grain = (args.get("grain") or "day").strip()
        if grain not in GRAINS:
            raise _bad("grain", "field.choice", "not one of the choices", choices=", ".join(GRAINS))
        if (until - since).days + 1 > MAX_DAYS[grain]:
            raise _bad("grain", "reports.error.too_fine", f"at most {MAX_DAYS[grain]} days at this grain",
                       days=MAX_DAYS[grain])
        direction = (args.get("direction") or "").strip()
        if direction and direction not in DIRECTIONS:
            raise _bad("direction", "field.choice", "not one of the choices", choices=", ".join(DIRECTIONS))
        spec = Spec(zone=zone, grain=grain, direction=direction, notices=[])
        spec["from"], spec["to"] = since, until
        spec["start"], spec["end"] = utc_midnight(since, zone), utc_midnight(until + dt.timedelta(days=1), zone)
        spec["first"], spec["last"] = bucket_of(spec["start"]), bucket_of(spec["end"])
        for name, limit in (("queue", 32), ("did", 32), ("agent", 16), ("team", 32)):
            value = (args.get(name) or "").strip()
            if len(value) > limit:
                raise _bad(name, "field.max_length", f"at most {limit} characters", n=limit)
            spec[name] = value
        if spec["queue"] and not m.Queue.select().where(m.Queue.name == spec["queue"]).exists():
            if not m.ReportBucket.select().where(m.ReportBucket.queue == spec["queue"]).exists():
                raise _bad("queue", "reports.error.no_queue", "no such queue, now or in the records",
                           queue=spec["queue"])
            spec["notices"].append(("reports.notice.deleted_queue", {"queue": spec["queue"]}))
        spec["team_agents"] = []
        if spec["team"]:
            if spec["team"].startswith("cc-") or (
                    not m.Queue.select().where(m.Queue.name == spec["team"]).exists()
                    and not m.ReportBucket.select().where(m.ReportBucket.queue == spec["team"]).exists()):
                raise _bad("team", "reports.error.no_team", "no such team (queue), now or in the records",
                           team=spec["team"])
            spec["team_agents"] = team_agents(spec["team"])
        if agents is not None:  # an agent: their own figures only
            if spec["agent"] and spec["agent"] not in agents:
                raise _bad("agent", "reports.error.not_your_agent", "only your own figures")
            spec["own"] = sorted(agents)
        return spec

    # -- reading the buckets ----------------------------------------------------------------------
    def _where(self, spec: Spec, skip: tuple = ()):
        b = m.ReportBucket
        cond = [b.bucket >= spec["first"], b.bucket < spec["last"]]
        for name in ("queue", "did", "agent", "direction"):
            if spec.get(name) and name not in skip:
                cond.append(getattr(b, name) == spec[name])
        if spec.get("team") and "team" not in skip:
            cond.append(team_calls(b, spec))
        if "own" in spec:
            cond.append(b.agent.in_(spec["own"]))
        return cond

    def _sums(self, spec: Spec, group, skip: tuple = ()) -> list[dict]:
        b = m.ReportBucket
        columns = [fn.SUM(getattr(b, s)).alias(s) for s in SUMS]
        return list(b.select(group, *columns).where(*self._where(spec, skip)).group_by(group).tuples())

    @staticmethod
    def _agents_of(spec: Spec, query, column):
        """``query`` kept to the filter's agent, the team's agents and the viewer's own."""
        if spec.get("agent"):
            query = query.where(column == spec["agent"])
        if spec.get("team"):
            query = query.where(column.in_(spec["team_agents"]))
        if "own" in spec:
            query = query.where(column.in_(spec["own"]))
        return query

    @staticmethod
    def figures(sums: dict) -> dict:
        """Sums -> the figures a report shows (rates and averages None when undefined)."""
        out = {s: (round(sums.get(s) or 0, 1) if s.endswith("seconds") else int(sums.get(s) or 0)) for s in SUMS}
        offered, answered, handled = out["offered"], out["answered"], out["handled"]
        out["service_level"] = round(out["answered_in_time"] / offered, 4) if offered else None
        out["asa"] = round((sums.get("wait_answered") or 0) / answered, 1) if answered else None
        out["aht"] = round(((sums.get("talk_seconds") or 0) + (sums.get("wrapup_seconds") or 0)) / handled, 1) \
            if handled else None
        return out

    def period_of(self, spec: Spec, bucket: int) -> str:
        local = dt.datetime.fromtimestamp(bucket, spec["zone"])
        grain = spec["grain"]
        if grain == "15min":
            return local.strftime("%Y-%m-%d %H:%M")
        if grain == "hour":
            return local.strftime("%Y-%m-%d %H:00")
        if grain == "day":
            return local.date().isoformat()
        if grain == "week":
            return (local.date() - dt.timedelta(days=local.weekday())).isoformat()
        return local.strftime("%Y-%m")

    def traffic(self, spec: Spec) -> dict:
        """The traffic curve: per period of the grain (every period of the range, empty ones
        too), offered, answered, abandoned, no agent, service level, ASA and AHT; and totals."""
        per: dict[str, dict] = {}
        for b in range(spec["first"], spec["last"], BUCKET if spec["grain"] in ("15min", "hour") else 3600):
            per.setdefault(self.period_of(spec, b), dict.fromkeys(SUMS, 0))
        total = dict.fromkeys(SUMS, 0)
        for row in self._sums(spec, m.ReportBucket.bucket):
            sums = per.setdefault(self.period_of(spec, row[0]), dict.fromkeys(SUMS, 0))
            for name, value in zip(SUMS, row[1:]):
                sums[name] += value or 0
                total[name] += value or 0
        return {"rows": [{"period": p, **self.figures(s)} for p, s in per.items()], "totals": self.figures(total)}

    def queues(self, spec: Spec) -> dict:
        """Team (queue) efficiency: the traffic figures per queue over the whole range (a
        queue deleted since keeps its rows), and the totals."""
        names = {q.name: q.display_name for q in m.Queue.select(m.Queue.name, m.Queue.display_name)}
        rows, total = [], dict.fromkeys(SUMS, 0)
        for row in self._sums(spec, m.ReportBucket.queue):
            if not row[0]:
                continue
            sums = dict(zip(SUMS, row[1:]))
            for name in SUMS:
                total[name] += sums[name] or 0
            rows.append({"queue": row[0], "name": names.get(row[0], ""), **self.figures(sums)})
        return {"rows": sorted(rows, key=lambda r: r["queue"]), "totals": self.figures(total)}

    def heatmap(self, spec: Spec) -> dict:
        """Arrivals (calls of the filter's direction, inbound unless it names one) by day of
        the week (0 = Monday) and hour of the day, on the office's clock."""
        grid = [[0] * 24 for _ in range(7)]
        spec = Spec(spec, direction=spec.get("direction") or "inbound")
        b = m.ReportBucket
        for bucket, calls in b.select(b.bucket, fn.SUM(b.calls)).where(*self._where(spec)).group_by(b.bucket).tuples():
            local = dt.datetime.fromtimestamp(bucket, spec["zone"])
            grid[local.weekday()][local.hour] += int(calls or 0)
        return {"grid": grid, "total": sum(map(sum, grid)), "direction": spec["direction"]}

    def agents(self, spec: Spec) -> dict:
        """Per agent: signed-in time, talk, wrap-up, pauses by reason, occupancy, calls per hour.

        Talk and calls from the buckets (the filter's queue, DID and direction apply);
        signed-in, wrap-up and pause time from ``agent_state_log``, each state cut at the
        range's ends (a state that is still on counts until now).  Occupancy = (talk +
        wrap-up) / (signed in - paused).  A team filter keeps the team's agents, all their calls."""
        people = {a.number: a.name for a in m.Agent.select(m.Agent.number, m.Agent.name)}
        rows: dict[str, dict] = defaultdict(lambda: {"signed_in": 0.0, "paused": 0.0, "wrapup": 0.0, "pauses": {},
                                                      "handled": 0, "talk": 0.0})
        for row in self._sums(spec, m.ReportBucket.agent, skip=("team",)):
            if row[0] and (not spec.get("team") or row[0] in spec["team_agents"]):
                sums = dict(zip(SUMS, row[1:]))
                rows[row[0]]["handled"] += int(sums["handled"] or 0)
                rows[row[0]]["talk"] += float(sums["talk_seconds"] or 0)
        log = m.AgentStateLog
        q = self._agents_of(spec, log.select().where(log.started_at < spec["end"],
                                                      log.ended_at.is_null() | (log.ended_at > spec["start"])),
                            log.agent)
        now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
        for s in q:
            upto = min(s.ended_at or now, spec["end"])
            seconds = (upto - max(s.started_at, spec["start"])).total_seconds()
            if seconds <= 0 or s.state == "logged_out":
                continue
            r = rows[s.agent]
            r["signed_in"] += seconds
            if is_wrapup(s.state, s.reason):
                r["wrapup"] += seconds
            elif s.state == "paused":
                r["paused"] += seconds
                r["pauses"][s.reason] = r["pauses"].get(s.reason, 0.0) + seconds
        out = []
        for number in sorted(rows):
            r = rows[number]
            working = r["signed_in"] - r["paused"]
            out.append({"agent": number, "name": people.get(number, ""), "signed_in": round(r["signed_in"], 1),
                        "talk": round(r["talk"], 1), "wrapup": round(r["wrapup"], 1), "paused": round(r["paused"], 1),
                        "pauses": {k: round(v, 1) for k, v in sorted(r["pauses"].items())},
                        "handled": r["handled"],
                        "occupancy": round((r["talk"] + r["wrapup"]) / working, 4) if working > 0 else None,
                        "calls_per_hour": round(r["handled"] / (r["signed_in"] / 3600), 2) if r["signed_in"] else None})
        return {"rows": out}

    def timeline(self, spec: Spec) -> dict:
        """Each agent's states through one day of the office's clock (``from`` = ``to``):
        ``rows`` of agent, state, reason, start and end (local times), seconds, each state
        cut at the day's ends (one still on ends now); ``offsets``: the same as seconds
        from the day's start, for the chart."""
        if spec["from"] != spec["to"]:
            raise _bad("to", "reports.error.one_day", "the timeline is of one day: the same first and last day")
        log = m.AgentStateLog
        q = (log.select().where(log.started_at < spec["end"], log.ended_at.is_null() | (log.ended_at > spec["start"]))
             .order_by(log.agent, log.started_at, log.id))
        q = self._agents_of(spec, q, log.agent)
        people = {a.number: a.name for a in m.Agent.select(m.Agent.number, m.Agent.name)}
        now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
        day0 = epoch(spec["start"])
        rows = []
        for s in q.limit(LIST_LIMIT * 5):
            begin, upto = max(s.started_at, spec["start"]), min(s.ended_at or now, spec["end"])
            if upto <= begin:
                continue
            rows.append({"agent": s.agent, "name": people.get(s.agent, ""), "state": s.state, "reason": s.reason,
                         "start": self._local(spec, begin), "end": self._local(spec, upto),
                         "seconds": round((upto - begin).total_seconds(), 1),
                         "offsets": [round(epoch(begin) - day0), round(epoch(upto) - day0)]})
        return {"rows": rows, "day_seconds": round(epoch(spec["end"]) - day0)}

    # -- from the call records (lists) --------------------------------------------------------
    def _records(self, spec: Spec):
        cr = m.CallRecord
        q = cr.select().where(cr.enter_time >= spec["start"], cr.enter_time < spec["end"])
        for name in ("queue", "did", "agent", "direction"):
            if spec.get(name):
                q = q.where(getattr(cr, name) == spec[name])
        if spec.get("team"):
            q = q.where(team_calls(cr, spec))
        if "own" in spec:
            q = q.where(cr.agent.in_(spec["own"]))
        return q

    def _local(self, spec: Spec, at: dt.datetime | None) -> str:
        if at is None:
            return ""
        return dt.datetime.fromtimestamp(epoch(at), spec["zone"]).strftime("%Y-%m-%d %H:%M:%S")

    def abandoned(self, spec: Spec) -> dict:
        """Calls abandoned while waiting (oldest first, at most LIST_LIMIT), each with the
        first later outgoing call to the caller's number: whether and when they were called back."""
        cr = m.CallRecord
        q = (self._records(spec).where(cr.disposition == "abandoned", cr.answer_time.is_null(),
                                       cr.queue != "", cr.direction != "outbound")
             .order_by(cr.enter_time, cr.id))
        total = q.count()
        rows = []
        for r in q.limit(LIST_LIMIT):
            back = None
            if r.caller:
                back = (cr.select().where(cr.caller.in_(numbers.variants(r.caller)), cr.direction == "outbound",
                                          cr.enter_time >= r.end_time)
                        .order_by(cr.enter_time).first())
            rows.append({"linkedid": r.linkedid, "enter_time": self._local(spec, r.enter_time), "caller": r.caller,
                         "queue": r.queue, "did": r.did, "wait_seconds": round(r.wait_seconds, 1),
                         "called_back": back is not None,
                         "called_back_at": self._local(spec, back.enter_time) if back else "",
                         "called_back_by": back.agent if back else "",
                         "called_back_answered": bool(back and back.answer_time is not None),
                         "called_back_after": round(epoch(back.enter_time) - epoch(r.end_time)) if back else None})
        called = sum(1 for r in rows if r["called_back"])
        return {"rows": rows, "total": total, "called_back": called, "limit": LIST_LIMIT}

    def surveys(self, spec: Spec) -> dict:
        """Survey scores (1-5, keyed in by callers after the call) per agent and per queue,
        and the low ones (at or below the queue's ``survey_low_score``) with their calls."""
        cr = m.CallRecord
        low_of = {q.name: q.survey_low_score for q in m.Queue.select(m.Queue.name, m.Queue.survey_low_score)}
        per_agent: dict[str, list] = defaultdict(list)
        per_queue: dict[str, list] = defaultdict(list)
        low = []
        for r in self._records(spec).where(cr.survey_score.is_null(False)).order_by(cr.enter_time, cr.id):
            per_agent[r.agent].append(r.survey_score)
            per_queue[r.queue].append(r.survey_score)
            if r.survey_score <= low_of.get(r.queue, DEFAULT_LOW_SCORE) and len(low) < LIST_LIMIT:
                low.append({"linkedid": r.linkedid, "enter_time": self._local(spec, r.enter_time), "caller": r.caller,
                            "queue": r.queue, "agent": r.agent, "score": r.survey_score,
                            "talk_seconds": round(r.talk_seconds, 1)})

        def summary(name, scores):
            return {"name": name, "count": len(scores), "average": round(sum(scores) / len(scores), 2),
                    "low": sum(1 for s in scores if s <= DEFAULT_LOW_SCORE),
                    "by_score": [scores.count(n) for n in range(1, 6)]}

        asked = self._records(spec).where(cr.survey != "").count()
        return {"agents": [summary(k, v) for k, v in sorted(per_agent.items())],
                "queues": [summary(k, v) for k, v in sorted(per_queue.items())],
                "low": low, "asked": asked, "rated": sum(len(v) for v in per_agent.values())}

    # -- the voice menus (menu_step) -------------------------------------------------------------
    def ivr(self, spec: Spec) -> dict:
        """Per menu: callers who entered it, each key of an option pressed, invalid keys,
        silences (timeouts), and where callers left it (a queue, an agent, an extension,
        voicemail, fax, the menu's goodbye, the fallback) or hung up in it (their last turn
        left them in the menu); of those who left, how many the timeout action or the
        invalid action sent on (they timed out, or kept pressing wrong keys).  From ``menu_step`` (turns in the range); the queue, DID,
        agent and direction filters keep the calls whose call record matches."""
        s = m.MenuStep
        cond = [s.at >= spec["start"], s.at < spec["end"]]
        if any(spec.get(k) for k in ("queue", "did", "agent", "direction", "team")) or "own" in spec:
            cond.append(s.linkedid.in_(self._records(spec).select(m.CallRecord.linkedid)))
        menus: dict[str, dict] = {}

        def menu(name):
            return menus.setdefault(name, {"menu": name, "entered": 0, "keys": {}, "invalid": 0, "timeout": 0,
                                           "left": dict.fromkeys(IVR_LEFT, 0), "left_after_timeout": 0,
                                           "left_after_invalid": 0})

        turns = (s.select(s.menu, s.kind, s.keys, s.next_menu, s.left, fn.COUNT(s.id)).where(*cond)
                 .group_by(s.menu, s.kind, s.keys, s.next_menu, s.left).tuples())
        for name, kind, keys, next_menu, left, n in turns:
            here = menu(name)
            if kind == "enter":
                here["entered"] += n
            elif next_menu and next_menu != name:
                menu(next_menu)["entered"] += n
            if kind == "key":
                here["keys"][keys[:1]] = here["keys"].get(keys[:1], 0) + n
            elif kind in ("invalid", "timeout"):
                here[kind] += n
            if left:
                here["left"][left if left in IVR_LEFT else "fallback"] += n
                if kind in ("timeout", "invalid"):  # sent on by the menu's timeout or invalid action
                    here[f"left_after_{kind}"] += n
        last = s.select(fn.MAX(s.id)).where(*cond).group_by(s.linkedid)
        for name, n in (s.select(s.next_menu, fn.COUNT(s.id)).where(s.id.in_(last), s.left == "")
                        .group_by(s.next_menu).tuples()):
            menu(name)["left"]["hung_up"] += n
        calls = s.select(fn.COUNT(fn.DISTINCT(s.linkedid))).where(*cond).scalar() or 0
        names = {r.name: r.display_name for r in m.Menu.select(m.Menu.name, m.Menu.display_name)}
        rows = [{**r, "name": names.get(r["menu"], "")} for _, r in sorted(menus.items())]
        return {"rows": rows, "calls": calls}

    # -- callers by region and by trunk, costs (the call records) ---------------------------------
    @staticmethod
    def _call_sums(query, *group, also=()):
        """Calls, answered, abandoned (unanswered, given up while waiting) and talk, grouped
        (after the groups, the columns ``also`` asks for)."""
        cr = m.CallRecord
        return (query.select(*group, *also, fn.COUNT(cr.id), fn.SUM(cr.answer_time.is_null(False)),
                             fn.SUM(cr.answer_time.is_null() & (cr.disposition == "abandoned")),
                             fn.SUM(cr.talk_seconds))
                .group_by(*group).tuples())

    @staticmethod
    def _call_figures(calls, answered, abandoned, talk) -> dict:
        calls, answered, talk = int(calls or 0), int(answered or 0), float(talk or 0)
        return {"calls": calls, "answered": answered, "abandoned": int(abandoned or 0),
                "unanswered": calls - answered, "talk_seconds": round(talk, 1),
                "answer_rate": round(answered / calls, 4) if calls else None,
                "average_talk": round(talk / answered, 1) if answered else None}

    def _days(self, model, spec: Spec):
        """``model`` (a day summary) over the range's office days and the filter."""
        q = model.select().where(model.day >= epoch(spec["start"]), model.day < epoch(spec["end"]))
        for name in ("queue", "did", "agent", "direction"):
            if spec.get(name):
                q = q.where(getattr(model, name) == spec[name])
        if spec.get("team"):  # no agent column (by place): the direction is not outgoing, the queue's calls
            q = q.where(team_calls(model, spec) if hasattr(model, "agent") else model.queue == spec["team"])
        if "own" in spec:
            q = q.where(model.agent.in_(spec["own"]))
        return q

    @staticmethod
    def _by_place_from_summary(spec: Spec) -> bool:
        """Whether ``report_place_day`` holds what the filter asks (it has no agent)."""
        return not spec.get("agent") and "own" not in spec and not (
            spec.get("team") and spec["direction"] == "outbound")

    def regions(self, spec: Spec) -> dict:
        """Callers by where their number is from (``numbers.province_city``: a mobile's too),
        per province and per city: calls, answered, abandoned, talk.  Incoming calls unless
        the filter names a direction; places in ``spec["lang"]`` (default English).  Summed
        per seven-digit prefix (``numbers.place_key_sql``) in the day summary
        ``report_place_day`` (the call records when the filter names an agent), one number
        of each prefix placed."""
        spec = Spec(spec, direction=spec.get("direction") or "inbound")
        if not self._by_place_from_summary(spec):
            return self.regions_from_records(spec)
        p = m.ReportPlaceDay
        rows = (self._days(p, spec).select(p.place, fn.MIN(p.caller), fn.SUM(p.calls), fn.SUM(p.answered),
                                           fn.SUM(p.abandoned), fn.SUM(p.talk_seconds))
                .group_by(p.place).having(fn.SUM(p.calls) > 0).tuples())
        return self._placed(spec, rows)

    def regions_from_records(self, spec: Spec) -> dict:
        """``regions`` computed from ``call_record`` itself (the benchmark's baseline)."""
        spec = Spec(spec, direction=spec.get("direction") or "inbound")
        cr = m.CallRecord
        key = SQL(numbers.place_key_sql('"caller"'))  # the one table: unqualified
        return self._placed(spec, self._call_sums(self._records(spec), key, also=(fn.MIN(cr.caller),)))

    def _placed(self, spec: Spec, rows) -> dict:
        """Rows of (place key, one caller of it, calls, answered, abandoned, talk) per province and city."""
        lang = spec.get("lang") or "en"
        cities: dict[tuple[str, str], list] = {}
        for _, caller, *sums in rows:
            place = numbers.province_city(caller, lang) or ("", "")
            acc = cities.setdefault(place, [0, 0, 0, 0.0])
            for i, value in enumerate(sums):
                acc[i] += value or 0
        provinces: dict[str, list] = {}
        for (province, _), acc in cities.items():
            into = provinces.setdefault(province, [0, 0, 0, 0.0])
            for i, value in enumerate(acc):
                into[i] += value

        def ordered(table, row):
            return sorted((row(k, v) for k, v in table.items()), key=lambda r: (-r["calls"], r["province"]))
        return {"provinces": ordered(provinces, lambda k, v: {"province": k, **self._call_figures(*v)}),
                "cities": ordered(cities, lambda k, v: {"province": k[0], "city": k[1], **self._call_figures(*v)}),
                "direction": spec["direction"]}

    def trunks(self, spec: Spec) -> dict:
        """Per trunk the calls named it (each direction apart): calls, answered, abandoned, talk."""
        t = m.ReportTrunkDay
        names = {tr.name: tr.display_name for tr in m.Trunk.select(m.Trunk.name, m.Trunk.display_name)}
        grouped = (self._days(t, spec).where(t.trunk != "")
                   .select(t.trunk, t.direction, fn.SUM(t.calls), fn.SUM(t.answered), fn.SUM(t.abandoned),
                           fn.SUM(t.talk_seconds)).group_by(t.trunk, t.direction).having(fn.SUM(t.calls) > 0).tuples())
        rows = [{"trunk": trunk, "name": names.get(trunk, ""), "direction": direction, **self._call_figures(*sums)}
                for trunk, direction, *sums in grouped]
        return {"rows": sorted(rows, key=lambda r: (r["trunk"], r["direction"]))}

    def costs(self, spec: Spec) -> dict:
        """The calls' charges (``call_record.cost``, fen, set at hang-up by the rating) over the
        range, by trunk, agent, team (the call's queue, else the agent's team for an outgoing
        call: the bills' rule) and destination class: calls, rated, answered but not rated,
        talk, cost.  Internal calls are never charged and are left out."""
        t = m.ReportTrunkDay
        query = self._days(t, spec).where(t.direction != "internal")
        fields = (fn.SUM(t.calls), fn.SUM(t.rated), fn.SUM(t.unrated), fn.SUM(t.talk_seconds), fn.SUM(t.cost_fen))
        groups: dict[str, dict] = {k: {} for k in COST_GROUPS}
        teams = agent_teams()
        for trunk, agent, queue, direction, klass, *sums in (
                query.select(t.trunk, t.agent, t.queue, t.direction, t.destination_class, *fields)
                .group_by(t.trunk, t.agent, t.queue, t.direction, t.destination_class)
                .having(fn.SUM(t.calls) > 0).tuples()):
            team = queue or (teams.get(agent, NO_TEAM) if direction == "outbound" else NO_TEAM)
            for group, key in zip(COST_GROUPS, (trunk, agent, team, klass)):
                acc = groups[group].setdefault(key, [0, 0, 0, 0.0, 0])
                for i, value in enumerate(sums):
                    acc[i] += value or 0
        labels = {"trunk": {t.name: t.display_name for t in m.Trunk.select()},
                  "agent": {a.number: a.name for a in m.Agent.select()},
                  "team": {q.name: q.display_name for q in m.Queue.select()}, "class": {}}

        def row(group, key, acc):
            calls, rated, unrated, talk, cost = acc
            return {"key": key, "name": labels[group].get(key, ""), "calls": calls, "rated": rated,
                    "unrated": unrated, "talk_seconds": round(talk, 1), "cost_fen": int(cost),
                    "cost": round(cost / 100, 2)}
        out = {group + "s" if group != "class" else "classes":
               sorted((row(group, k, v) for k, v in groups[group].items()), key=lambda r: (-r["cost_fen"], r["key"]))
               for group in COST_GROUPS}
        total = sum(r["cost_fen"] for r in out["trunks"])
        out["total"] = {"cost_fen": total, "cost": round(total / 100, 2),
                        "calls": sum(r["calls"] for r in out["trunks"]),
                        "unrated": sum(r["unrated"] for r in out["trunks"])}
        return out

    # -- outbound campaigns (campaign_attempt) --------------------------------------------------
    def outbound(self, spec: Spec) -> dict:
        """Campaign attempts started in the range, by campaign, by agent and by day of the
        office's clock: dialled (every call placed: answered, abandoned (answered, no agent
        free), an answering machine, no answer, busy, failed, still dialling), each result, and skipped and refused (not dialled).  The agent and team
        filters and an agent's own scope apply; queue, DID and direction do not (an attempt has none)."""
        a = m.CampaignAttempt
        q = a.select(a.campaign, a.agent, a.result, (Cast(fn.strftime("%s", a.started_at), "INTEGER") / 3600)
                     .alias("h"), fn.COUNT(a.id)).where(a.started_at >= spec["start"], a.started_at < spec["end"])
        q = self._agents_of(spec, q, a.agent)
        by = {"campaign": {}, "agent": {}, "day": {}}
        days = {}
        for campaign, agent, result, hour, n in q.group_by(a.campaign, a.agent, a.result, SQL("h")).tuples():
            if hour not in days:
                days[hour] = dt.datetime.fromtimestamp(hour * 3600, spec["zone"]).date().isoformat()
            for group, key in (("campaign", campaign), ("agent", agent), ("day", days[hour])):
                acc = by[group].setdefault(key, dict.fromkeys(OUTBOUND_RESULTS, 0))
                acc[result if result in acc else "failed"] += n
        names = {c.id: (c.name, c.display_name) for c in m.Campaign.select(m.Campaign.id, m.Campaign.name,
                                                                            m.Campaign.display_name)}
        people = {p.number: p.name for p in m.Agent.select(m.Agent.number, m.Agent.name)}

        def rows(group, label):
            out = []
            for key, acc in sorted(by[group].items(), key=lambda kv: str(kv[0])):
                dialled = sum(n for r, n in acc.items() if r not in ("skipped", "refused"))
                out.append({**label(key), "dialled": dialled, **{r.replace("-", "_"): n for r, n in acc.items()},
                            "answer_rate": round(acc["answered"] / dialled, 4) if dialled else None})
            return out
        return {"campaigns": rows("campaign", lambda k: {"key": names.get(k, (str(k), ""))[0],
                                                          "name": names.get(k, ("", ""))[1]}),
                "agents": rows("agent", lambda k: {"key": k, "name": people.get(k, "")}),
                "days": rows("day", lambda k: {"key": k, "name": ""})}

    # -- sales (the orders service's figures) -----------------------------------------------
    def sales(self, spec: Spec) -> dict:
        """Orders sold (approved, shipped, delivered) that were taken in the range, by day of
        the office's clock, by agent and by product: ``OrderService.sales`` itself, over the
        report's range and agent (an agent's own scope: the orders service's).  No team
        filter: the orders service scopes by agent or by the customers an agent manages."""
        viewer = (Viewer("reports", "agent", frozenset(spec["own"])) if "own" in spec
                  else Viewer("reports", "supervisor"))
        return self._sales(viewer, {"since": spec["start"], "until": spec["end"], "agent": spec.get("agent") or ""},
                           lambda at: on_office_clock(at, spec["zone"]).date().isoformat())

    # -- the same month computed from the raw call records (the benchmark's baseline) ---------
    def traffic_from_records(self, spec: Spec) -> dict:
        """``traffic`` computed from ``call_record`` itself rather than the buckets."""
        cr, q = m.CallRecord, m.Queue
        queue_call = (cr.queue != "") & (cr.direction != "outbound")
        answered = queue_call & cr.answer_time.is_null(False)
        in_time = answered & (cr.wait_seconds <= fn.COALESCE(q.service_level_seconds, DEFAULT_SERVICE_LEVEL_SECONDS))
        bucket = (Cast(fn.strftime("%s", cr.enter_time), "INTEGER") / BUCKET) * BUCKET
        cols = [fn.COUNT(cr.id), fn.SUM(queue_call), fn.SUM(answered), fn.SUM(in_time),
                fn.SUM(queue_call & cr.answer_time.is_null() & (cr.disposition == "abandoned")),
                fn.SUM(queue_call & cr.answer_time.is_null() & (cr.disposition != "abandoned")),
                fn.SUM(cr.answer_time.is_null(False)),
                fn.SUM(Case(None, [(queue_call, cr.wait_seconds)], 0)),
                fn.SUM(Case(None, [(answered, cr.wait_seconds)], 0)), fn.SUM(cr.talk_seconds)]
        query = (self._records(spec).select(bucket.alias("b"), *cols).join(q, JOIN.LEFT_OUTER, on=(q.name == cr.queue))
                 .group_by(SQL("b")).tuples())
        per: dict[str, dict] = {}
        for b in range(spec["first"], spec["last"], BUCKET if spec["grain"] in ("15min", "hour") else 3600):
            per.setdefault(self.period_of(spec, b), dict.fromkeys(SUMS, 0))
        for row in query:
            sums = per[self.period_of(spec, row[0])]
            for name, value in zip(SUMS, row[1:]):
                sums[name] += value or 0
        return {"rows": [{"period": p, **self.figures(s)} for p, s in per.items()]}


REBUILD_SPAN_DAYS = 31


def rebuild_spans(db, days: int = REBUILD_SPAN_DAYS) -> list[tuple]:
    """The spans a whole rebuild goes through, ``days`` UTC days each from the first call
    record's day to the last's, with an open span before and after (no calls: they only
    clear stale rows and place wrap-ups); ``(None, None)`` alone when there is no call."""
    cr = m.CallRecord
    first = cr.select(cr.enter_time).order_by(cr.enter_time).first()
    if first is None:
        return [(None, None)]
    last = cr.select(cr.enter_time).order_by(cr.enter_time.desc()).first()
    day = dt.datetime.combine(first.enter_time.date(), dt.time())
    end = dt.datetime.combine(last.enter_time.date(), dt.time()) + dt.timedelta(days=1)
    spans, start = [(None, day)], day
    while start < end:
        spans.append((start, min(start + dt.timedelta(days=days), end)))
        start = spans[-1][1]
    return spans + [(end, None)]


def rebuild_all(db, progress: Callable[[int, int, int], None] | None = None,
                run: Callable = lambda fn, *args: fn(*args), zone: dt.tzinfo | None = None) -> int:
    """Every summary rebuilt, one span of ``rebuild_spans`` at a time, each its own
    transaction (hang-ups are written in between; a report meanwhile sees each span either
    before or after).  ``run(fn, *args)`` carries out each step (``db.worker.in_worker``
    off a gevent loop); ``progress(done, total, rows)`` after each span.  Rows written."""
    spans = run(rebuild_spans, db)
    rows = 0
    for done, (start, end) in enumerate(spans, 1):
        rows += run(rebuild_buckets, db, start, end, zone)
        if progress is not None:
            progress(done, len(spans), rows)
    return rows


def rebuild_days(db, first: str = "", last: str = "", zone: dt.tzinfo | None = None) -> int:
    """``rebuild_buckets`` over whole UTC days given as text (either may be empty: open);
    the day summaries of the office days they touch, in ``zone`` (default: the site's)."""
    since, until = parse_day(first, "from"), parse_day(last, "to")
    if since and until and until < since:
        raise _bad("to", "reports.error.reversed", "the last day is before the first")
    start = dt.datetime.combine(since, dt.time()) if since else None
    end = dt.datetime.combine(until + dt.timedelta(days=1), dt.time()) if until else None
    return rebuild_buckets(db, start, end, zone)


def _main(argv=None) -> int:
    import argparse

    from appliance.db import open_database

    parser = argparse.ArgumentParser(prog="python -m appliance.services.reports",
                                     description="Rebuild the report buckets from the call records.")
    parser.add_argument("command", choices=["rebuild"])
    parser.add_argument("--db", required=True, help="the appliance's database file")
    parser.add_argument("--from", dest="since", help="first UTC day, YYYY-MM-DD (default: all)")
    parser.add_argument("--to", dest="until", help="last UTC day, YYYY-MM-DD (default: all)")
    args = parser.parse_args(argv)
    db = open_database(args.db)
    if args.since or args.until:
        print(rebuild_days(db, args.since or "", args.until or ""), "bucket rows written")
    else:
        print(rebuild_all(db, lambda done, total, rows: print(f"{done}/{total} spans, {rows} rows", flush=True)),
              "bucket rows written")
    return 0


if __name__ == "__main__":
    raise SystemExit(_main())
