"""Campaigns (issue 16): who calls which call lists, how, with what script; and preview
mode, where the agent sees the next number with its customer and the script and dials or
skips it.

Preview, for one agent:

- ``panel(agent)``: the entry they hold (offered, or dialled and not finished); else, when
  their campaign's ``auto_next`` is on, the next one is taken for them (``take_next``);
  else nothing until they ask (``take_next``).  An entry is *finished* when the agent's
  disposition for its call is saved, when it is skipped (with a reason) or when a call-back
  is scheduled.
- ``take_next``: one conditional UPDATE picks and takes the entry (``state = 'pending'`` is
  in its WHERE, SQLite runs one writer at a time): two agents never get the same entry.
  Order: call-backs due for this agent first (their time), then entries assigned to them,
  then unassigned ones, list by list in the campaign's order.
- ``dial``: through ``CallControl.dial`` (click-to-dial: the agent's phone rings, then the
  number; a normal call record, recorded by policy, on the wallboard), which asks the calling
  checks (``services/calling.py``) first: a refusal is an attempt ``refused`` with the
  reason, the entry done.
- ``call_ended(record)`` (the composition root, at each call record): the agent's open
  attempt for that number is linked to the call (``linkedid``) and gets its result
  (answered, no answer, busy, failed).  ``outcome_saved(agent, linkedid)`` (the workspace,
  after a disposition is saved): the attempt takes the disposition and the entry is done.
- ``callback``: the entry comes back to the same agent at that time (``next_attempt_at``).

The modes without agents (``notification``, ``press-key``, ``survey``) and answering-machine
detection are ``services/agentless.py``: their settings are checked and shown here, what
their calls do is there.  The modes where the appliance dials (``progressive``, ``power``,
``predictive``) are ``services/dialer.py``'s: their fields (``ratio``, ``target_abandon``,
``max_lines_per_agent``, ``max_lines``, ``callerid_pool``) and retry rules are kept here,
their calls are the dialer's (``call_ended`` leaves them to it); the dialer places the
agentless modes' calls too.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
import sqlite3

import peewee
from peewee import fn

from appliance import dialplan_vars as v
from appliance import numbers
from appliance.db import models as m
from appliance.engine import pacing
from appliance.errors import (CallNotPermitted, Conflict, DomainError, FieldError, NotFound, PermissionDenied,
                              ValidationError)
from appliance.services import agentless
from appliance.services.calllists import (_bad, _iso, agents_of, clean_agents, clean_display, clean_name, clean_queue,
                                          entry_view)
from appliance.services.customer_excel import safe_row
from appliance.services.scripts import CallScripts

logger = logging.getLogger(__name__)

MODES = ("preview", *v.CAMPAIGN_AGENT_MODES, *agentless.MODES)
DIALLED = (*v.CAMPAIGN_AGENT_MODES, *agentless.MODES)  # the appliance dials (services/dialer.py)
STATES = ("stopped", "running", "paused")
SCRIPT_MAX = 20_000
REASON_MAX = 200
OPEN = ("offered", "dialling")  # an entry an agent holds
RESULTS = ("answered", "machine", "no-answer", "busy", "failed", "abandoned", "skipped", "refused")
# the dialled modes' numbers: (field, smallest, largest, kind)
DIAL_FIELDS = (("ratio", 1.0, pacing.MAX_LINES_PER_AGENT, float), ("target_abandon", 0.0, 100.0, float),
               ("max_lines_per_agent", 1.0, pacing.MAX_LINES_PER_AGENT, float), ("max_lines", 0, 1000, int),
               ("retry_busy_minutes", 0, 10080, int), ("retry_no_answer_minutes", 0, 10080, int),
               ("retry_failed_minutes", 0, 10080, int), ("retry_machine_minutes", 0, 10080, int),
               ("max_attempts", 1, 20, int))
DIAL_STATUS = {"busy": "busy", "noanswer": "no-answer", "cancel": "no-answer", "congestion": "failed",
               "chanunavail": "failed"}


DIALLED_LINKEDID = "cc-campaign-"  # the dialer's calls' linkedids start so


def _number(value, field: str, low, high, kind):
    """A number within [low, high] (``kind`` int: a whole one)."""
    whole = isinstance(value, int) and not isinstance(value, bool)
    if not (whole or (kind is float and isinstance(value, float))) or not low <= value <= high:
        raise _bad(field, "field.range", f"between {low:g} and {high:g}", min=f"{low:g}", max=f"{high:g}")
    return kind(value)


def result_of(record: dict) -> str:
    """A call record's outcome as a campaign counts it."""
    if record.get("disposition") == "answered" or record.get("answer_time"):
        return "answered"
    reason = (record.get("fallback_reason") or "")
    if reason.startswith("dial-"):
        return DIAL_STATUS.get(reason[5:], "failed")
    return "no-answer"


def parse_time(value, field: str, zone: dt.tzinfo) -> dt.datetime | None:
    """ISO 8601 (``2026-12-06T09:00``, with or without an offset; without: the office's
    clock) as naive UTC; empty: None."""
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise _bad(field, "field.datetime", "a date and time, 2026-12-06T09:00")
    try:
        at = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise _bad(field, "field.datetime", "a date and time, 2026-12-06T09:00") from None
    if at.tzinfo is None:
        at = at.replace(tzinfo=zone)
    return at.astimezone(dt.timezone.utc).replace(tzinfo=None)


class Campaigns:
    def __init__(self, db, calls=None, crm=None, bus=None, zone=lambda: dt.timezone.utc, clock=None,
                 region=lambda: numbers.DEFAULT_REGION, dialing=None):
        self.db = db
        self.calls = calls  # CallControl: click-to-dial with the calling checks
        self.crm = crm
        self.bus = bus
        self.zone = zone  # the office's time zone (callable)
        self.clock = clock or m.utcnow
        self.region = region  # the office's country (callable): numbers are dialled as from there
        self.dialing = dialing  # the dialer's live figures of a dialled campaign: row -> dict (services/dialer.py)

    # -- campaigns ----------------------------------------------------------------------
    def row(self, campaign_id: int) -> m.Campaign:
        row = m.Campaign.get_or_none(m.Campaign.id == campaign_id)
        if row is None:
            raise NotFound(f"no campaign {campaign_id}", code="campaigns.not_found")
        return row

    def view(self, row: m.Campaign) -> dict:
        lists = [(cl.call_list_id, cl.call_list.name, cl.call_list.display_name or cl.call_list.name)
                 for cl in (m.CampaignList.select(m.CampaignList, m.CallList).join(m.CallList)
                            .where(m.CampaignList.campaign == row.id).order_by(m.CampaignList.position))]
        return {"id": row.id, "name": row.name, "display_name": row.display_name or row.name, "mode": row.mode,
                "queue": row.queue, "agents": json.loads(row.agents or "[]"), "script": row.script,
                "auto_next": bool(row.auto_next), "start_at": _iso(row.start_at), "stop_at": _iso(row.stop_at),
                "state": row.state, "lists": [{"id": i, "name": n, "display_name": d} for i, n, d in lists],
                "updated_at": _iso(row.updated_at), "updated_by": row.updated_by, **agentless.view(row),
                "waiting": self.waiting(row),
                "callerid_pool": row.callerid_pool, **{f: getattr(row, f) for f, *_ in DIAL_FIELDS}}

    def waiting(self, row: m.Campaign) -> bool:
        """Started, and its start time not come yet: it waits (the page says so, with the time)."""
        return row.state == "running" and row.start_at is not None and self.clock() < row.start_at

    def list(self, agent_numbers: set[str] | None = None) -> list[dict]:
        """Every campaign (staff), or those ``agent_numbers`` call in."""
        rows = [r for r in m.Campaign.select().order_by(m.Campaign.id)]
        if agent_numbers is not None:
            rows = [r for r in rows if set(self.agents(r)) & agent_numbers]
        return [self.view(r) for r in rows]

    def get(self, campaign_id: int) -> dict:
        return self.view(self.row(campaign_id))

    @staticmethod
    def agents(row: m.Campaign) -> list[str]:
        return agents_of(json.loads(row.agents or "[]"), row.queue)

    def _clean(self, data: dict, row: m.Campaign | None) -> tuple[dict, list[int] | None]:
        values: dict = {}
        if row is None or "display_name" in data:
            values["display_name"] = clean_display(data.get("display_name"))
        if row is None or "mode" in data:
            mode = data.get("mode") or "preview"
            if mode not in MODES:
                raise _bad("mode", "field.choice", ", ".join(MODES), choices=", ".join(MODES))
            values["mode"] = mode
        if row is None or "queue" in data:
            values["queue"] = clean_queue(data.get("queue"))
        if row is None or "agents" in data:
            values["agents"] = json.dumps(clean_agents(data.get("agents")))
        if row is None or "script" in data:
            script = data.get("script") or ""
            if not isinstance(script, str) or len(script) > SCRIPT_MAX or "\x00" in script:
                raise _bad("script", "field.max_length", f"at most {SCRIPT_MAX} characters", n=SCRIPT_MAX)
            values["script"] = script
        if row is None or "auto_next" in data:
            auto = data.get("auto_next", True)
            if not isinstance(auto, bool):
                raise _bad("auto_next", "field.boolean", "true or false")
            values["auto_next"] = auto
        for key, low, high, kind in DIAL_FIELDS:
            if key in data:
                values[key] = _number(data[key], key, low, high, kind)
        if "callerid_pool" in data:
            pool = data.get("callerid_pool") or ""
            if not isinstance(pool, str) or (pool and not m.CallerIdNumber.select().where(
                    m.CallerIdNumber.pool == pool).exists()):
                raise _bad("callerid_pool", "field.no_such", "no such caller-ID pool", key=str(pool)[:32])
            values["callerid_pool"] = pool
        for key in ("start_at", "stop_at"):
            if row is None or key in data:
                values[key] = parse_time(data.get(key), key, self.zone())
        start = values.get("start_at", row.start_at if row else None)
        stop = values.get("stop_at", row.stop_at if row else None)
        if start and stop and stop <= start:
            raise _bad("stop_at", "campaigns.field.stop_after_start", "after the start")
        lists = None
        if row is None or "lists" in data:
            lists = data.get("lists") or []
            if not isinstance(lists, list) or not all(isinstance(i, int) and not isinstance(i, bool)
                                                      and 0 < i < 2 ** 62 for i in lists):
                raise _bad("lists", "campaigns.field.lists", "a list of call list ids")
            known = {i for (i,) in m.CallList.select(m.CallList.id).where(m.CallList.id.in_(lists)).tuples()}
            if set(lists) - known:
                raise _bad("lists", "field.no_such", "no such call list", key=str(sorted(set(lists) - known)[0]))
            lists = list(dict.fromkeys(lists))
        values.update(agentless.clean(data, row, values))
        return values, lists

    def create(self, data: dict, actor: str) -> dict:
        name = clean_name(data.get("name"))
        values, lists = self._clean(data, None)
        try:
            with self.db.atomic():
                row = m.Campaign.create(name=name, updated_by=actor, updated_at=self.clock(), **values)
                self._set_lists(row, lists or [])
                m.AuditLog.create(username=actor, action="create", object_type="campaign", object_id=name)
        except (sqlite3.IntegrityError, peewee.IntegrityError):
            raise Conflict(f"a campaign {name} exists", code="exists",
                           fields={"name": FieldError("field.exists", "exists")}) from None
        return self.view(row)

    def update(self, campaign_id: int, data: dict, actor: str) -> dict:
        """``updated_at`` as last read (optional): a change made meanwhile by someone else is
        refused (409 ``changed``) rather than overwritten."""
        row = self.row(campaign_id)
        seen = data.get("updated_at")
        if seen and seen != _iso(row.updated_at):
            raise Conflict(f"campaign {row.name} was changed by {row.updated_by} meanwhile", code="changed")
        values, lists = self._clean(data, row)
        with self.db.atomic():
            for key, value in values.items():
                setattr(row, key, value)
            row.updated_at, row.updated_by = self.clock(), actor
            row.save()
            if lists is not None:
                self._set_lists(row, lists)
            m.AuditLog.create(username=actor, action="update", object_type="campaign", object_id=row.name)
        return self.view(row)

    @staticmethod
    def _set_lists(row: m.Campaign, lists: list[int]) -> None:
        m.CampaignList.delete().where(m.CampaignList.campaign == row.id).execute()
        for position, list_id in enumerate(lists):
            m.CampaignList.create(campaign=row.id, call_list=list_id, position=position)

    def set_state(self, campaign_id: int, state: str, actor: str) -> dict:
        """Start (``running``), pause or stop.  Stopping hands the entries offered to its
        agents and not dialled back to the others."""
        if state not in STATES:
            raise _bad("state", "field.choice", "running, paused or stopped", choices=", ".join(STATES))
        row = self.row(campaign_id)
        if state == "running" and not m.CampaignList.select().where(m.CampaignList.campaign == row.id).exists():
            raise Conflict(f"campaign {row.name} has no call list", code="campaigns.no_lists")
        if state == "running" and row.mode not in agentless.MODES and not self.agents(row):
            raise Conflict(f"campaign {row.name} has no agents", code="campaigns.no_agents")
        with self.db.atomic():
            row.state, row.updated_at, row.updated_by = state, self.clock(), actor
            row.save()
            if state != "running":
                (m.CallListEntry.update(state="pending", taken_by="", taken_at=None, campaign=None)
                 .where(m.CallListEntry.campaign == row.id, m.CallListEntry.state == "offered").execute())
            m.AuditLog.create(username=actor, action=state, object_type="campaign", object_id=row.name)
        logger.info("%s set campaign %s %s", actor, row.name, state)
        self._publish({"event": "state", "campaign": row.id, "state": state})
        return self.view(row)

    def delete(self, campaign_id: int, actor: str) -> None:
        row = self.row(campaign_id)
        if row.state == "running":
            raise Conflict(f"campaign {row.name} is running; stop it first", code="campaigns.running")
        row.delete_instance()
        m.AuditLog.create(username=actor, action="delete", object_type="campaign", object_id=row.name)

    # -- figures --------------------------------------------------------------------------
    def figures(self, campaign_id: int) -> dict:
        """Counted from the attempt records: dialled (every call placed), by result, and the
        entries of its lists still to call (pending or held by an agent)."""
        row = self.row(campaign_id)
        by = dict(m.CampaignAttempt.select(m.CampaignAttempt.result, fn.COUNT(m.CampaignAttempt.id))
                  .where(m.CampaignAttempt.campaign == row.id).group_by(m.CampaignAttempt.result).tuples())
        lists = [i for (i,) in m.CampaignList.select(m.CampaignList.call_list).where(
            m.CampaignList.campaign == row.id).tuples()]
        remaining = (m.CallListEntry.select().where(m.CallListEntry.call_list.in_(lists),
                                                    m.CallListEntry.state.in_(("pending",) + OPEN)).count())
        dialled = sum(n for r, n in by.items() if r not in ("skipped", "refused"))
        answered, abandoned = by.get("answered", 0), by.get("abandoned", 0)
        machine = (m.CampaignAttempt.select().where(m.CampaignAttempt.campaign == row.id,
                                                    m.CampaignAttempt.amd == "machine").count())
        out = {"campaign": row.id, "state": row.state, "dialled": dialled, "answered": answered, "machine": machine,
               "no_answer": by.get("no-answer", 0), "busy": by.get("busy", 0), "failed": by.get("failed", 0),
               "abandoned": abandoned,
               "abandon_rate": round(100.0 * abandoned / (answered + abandoned), 1) if answered + abandoned else 0.0,
               "in_progress": by.get("dialling", 0), "skipped": by.get("skipped", 0),
               "refused": by.get("refused", 0), "remaining": remaining}
        if row.mode in DIALLED and self.dialing is not None:
            out["dialer"] = self.dialing(row)
        return out

    def export(self, campaign_id: int, words, zone: dt.tzinfo) -> bytes:
        """Every attempt of the campaign, oldest first, on the office's clock, in the reader's words."""
        from openpyxl import Workbook

        row = self.row(campaign_id)
        book = Workbook(write_only=True)
        sheet = book.create_sheet(words("campaigns.export.sheet"))
        sheet.append(safe_row(sheet, [words(f"campaigns.export.{c}") for c in (
            "time", "agent", "number", "name", "list", "result", "disposition", "note", "callback_at", "linkedid",
            "amd", "heard", "keys", "answers")]))

        def local(at):
            return at.replace(tzinfo=dt.timezone.utc).astimezone(zone).replace(tzinfo=None) if at else None

        for a in (m.CampaignAttempt.select(m.CampaignAttempt, m.CallListEntry, m.CallList)
                  .join(m.CallListEntry).join(m.CallList)
                  .where(m.CampaignAttempt.campaign == row.id).order_by(m.CampaignAttempt.id)):
            sheet.append(safe_row(sheet, [local(a.started_at), a.agent, a.number, a.entry.name,
                                          a.entry.call_list.display_name or a.entry.call_list.name,
                                          words(f"calllists.result.{a.result}"), a.disposition, a.note,
                                          local(a.callback_at), a.linkedid,
                                          words(f"campaigns.agentless.amd.{a.amd}") if a.amd else "",
                                          words("admin.yes") if a.heard else "", a.keys,
                                          " ".join(k or "-" for k in json.loads(a.answers or "[]"))]))
        out = io.BytesIO()
        book.save(out)
        return out.getvalue()

    # -- preview: the agent's side ------------------------------------------------------------
    def _running_for(self, agent: str) -> list[m.Campaign]:
        now = self.clock()
        rows = (m.Campaign.select().where(m.Campaign.state == "running", m.Campaign.mode == "preview")
                .order_by(m.Campaign.id))
        return [r for r in rows if agent in self.agents(r) and self.in_window(r, now)]

    @staticmethod
    def in_window(row: m.Campaign, now: dt.datetime) -> bool:
        return (row.start_at is None or row.start_at <= now) and (row.stop_at is None or now < row.stop_at)

    def held(self, agent: str) -> m.CallListEntry | None:
        return (m.CallListEntry.select().where(m.CallListEntry.taken_by == agent, m.CallListEntry.state.in_(OPEN))
                .order_by(m.CallListEntry.taken_at).first())

    def take_next(self, agent: str) -> m.CallListEntry | None:
        """The agent's held entry, or the next one of their running campaigns taken for them
        (one conditional UPDATE: nobody else can take it), or None."""
        entry = self.held(agent)
        if entry is not None:
            return entry
        now = self.clock()
        for campaign in self._running_for(agent):
            taken = self.db.execute_sql(
                'UPDATE "call_list_entry" SET "state" = \'offered\', "taken_by" = ?, "taken_at" = ?, "campaign" = ? '
                'WHERE "state" = \'pending\' AND "id" = ('
                ' SELECT e."id" FROM "call_list_entry" e'
                ' JOIN "campaign_list" cl ON cl."call_list_id" = e."call_list_id"'
                ' JOIN "call_list" l ON l."id" = e."call_list_id"'
                ' WHERE cl."campaign_id" = ? AND l."state" = \'active\' AND e."state" = \'pending\''
                '  AND (e."agent" = ? OR e."agent" = \'\')'
                '  AND (e."next_attempt_at" IS NULL OR e."next_attempt_at" <= ?)'
                ' ORDER BY e."next_attempt_at" IS NULL, e."next_attempt_at", e."agent" = \'\', cl."position", e."id"'
                ' LIMIT 1)', (agent, str(now), campaign.id, campaign.id, agent, str(now))).rowcount
            if taken:
                entry = self.held(agent)
                if entry is not None:
                    logger.info("campaign %s: entry %s (%s) offered to agent %s", campaign.name, entry.id,
                                entry.number, agent)
                    return entry
        return None

    def panel(self, agent: str, take: bool | None = None) -> dict:
        """What the agent's campaign panel shows: their entry with its customer and the
        campaign's script; with none held, the next when auto-next is on (``take``: True
        always, False never)."""
        campaigns = self._running_for(agent)
        entry = self.held(agent)
        if entry is None and campaigns:
            auto = any(c.auto_next for c in campaigns) if take is None else take
            if auto:
                entry = self.take_next(agent)
        if entry is None:
            return {"agent": agent, "campaigns": [self._brief(c) for c in campaigns], "entry": None,
                    "campaign": None, "waiting": bool(campaigns)}
        campaign = m.Campaign.get_or_none(m.Campaign.id == entry.campaign)
        view = entry_view(entry)
        view["customer_url"] = f"/customers/{entry.customer_id}" if entry.customer_id else None
        if entry.customer_id:
            customer = m.Customer.get_or_none(m.Customer.id == entry.customer_id)
            view["customer_name"] = customer.name if customer else ""
        last = self._last_attempt(entry, agent)
        view["attempt"] = None if last is None else {"id": last.id, "result": last.result, "linkedid": last.linkedid,
                                                     "disposition": last.disposition}
        return {"agent": agent, "campaigns": [self._brief(c) for c in campaigns], "entry": view,
                "campaign": self._brief(campaign, script=True) if campaign else None, "waiting": False}

    @staticmethod
    def _brief(row: m.Campaign, script: bool = False) -> dict:
        out = {"id": row.id, "name": row.name, "display_name": row.display_name or row.name,
               "auto_next": bool(row.auto_next), "mode": row.mode, "dialled": row.mode in DIALLED}
        if script:
            out["script"] = row.script  # the fallback: a call script attached to the campaign wins
            out["call_script"] = CallScripts.for_campaign(row.id)
        return out

    @staticmethod
    def _last_attempt(entry: m.CallListEntry, agent: str) -> m.CampaignAttempt | None:
        return (m.CampaignAttempt.select().where(m.CampaignAttempt.entry == entry.id, m.CampaignAttempt.agent == agent)
                .order_by(m.CampaignAttempt.id.desc()).first())

    def _own(self, agent: str, entry_id: int) -> m.CallListEntry:
        entry = m.CallListEntry.get_or_none(m.CallListEntry.id == entry_id)
        if entry is None:
            raise NotFound(f"no entry {entry_id}", code="campaigns.no_entry")
        if entry.taken_by != agent or entry.state not in OPEN:
            raise PermissionDenied(f"entry {entry_id} is not offered to agent {agent}", code="campaigns.not_yours")
        return entry

    def dial(self, agent: str, entry_id: int, actor: str) -> dict:
        """Calls the entry's number for the agent (the calling checks first)."""
        entry = self._own(agent, entry_id)
        campaign = self.row(entry.campaign)
        if campaign.mode in DIALLED:
            raise Conflict(f"campaign {campaign.name} dials by itself", code="campaigns.dialer.not_preview")
        if campaign.state != "running" or not self.in_window(campaign, self.clock()):
            raise Conflict(f"campaign {campaign.name} is not running", code="campaigns.not_running")
        now = self.clock()
        with self.db.atomic():
            (m.CampaignAttempt.update(result="failed", ended_at=now)
             .where(m.CampaignAttempt.entry == entry.id, m.CampaignAttempt.result == "dialling").execute())
            attempt = m.CampaignAttempt.create(campaign=campaign.id, entry=entry.id, agent=agent, number=entry.number,
                                               started_at=now)
            entry.state, entry.attempts = "dialling", entry.attempts + 1
            entry.save()
        try:
            placed = self.calls.dial(agent, numbers.dialable(entry.number, self.region()), actor)
        except CallNotPermitted as exc:
            self._finish(entry, attempt, "refused", note=exc.message)
            self._publish({"event": "refused", "campaign": campaign.id, "agent": agent, "entry": entry.id})
            raise
        except DomainError as exc:
            attempt.result, attempt.ended_at, attempt.note = "failed", self.clock(), exc.message[:500]
            attempt.save()
            raise
        self._publish({"event": "dialling", "campaign": campaign.id, "agent": agent, "entry": entry.id,
                       "attempt": attempt.id})
        return {**placed, "entry": entry.id, "attempt": attempt.id}

    def skip(self, agent: str, entry_id: int, reason, actor: str) -> dict:
        """Not called, with the agent's reason: the entry is done (``skipped``)."""
        reason = reason.strip() if isinstance(reason, str) else ""
        if not reason or len(reason) > REASON_MAX or any(ord(c) < 32 for c in reason):
            raise _bad("reason", "field.required", f"required, at most {REASON_MAX} characters", n=REASON_MAX)
        entry = self._own(agent, entry_id)
        (m.CampaignAttempt.update(result="failed", ended_at=self.clock())  # dialled, never connected
         .where(m.CampaignAttempt.entry == entry.id, m.CampaignAttempt.result == "dialling",
                m.CampaignAttempt.linkedid == "").execute())
        attempt = m.CampaignAttempt.create(campaign=entry.campaign, entry=entry.id, agent=agent, number=entry.number,
                                           started_at=self.clock(), result="skipped", note=reason)
        self._finish(entry, attempt, "skipped", note=reason)
        logger.info("%s: agent %s skipped entry %s (%s)", actor, agent, entry.id, reason)
        return entry_view(entry)

    def callback(self, agent: str, entry_id: int, at, actor: str) -> dict:
        """The entry comes back to ``agent`` at ``at`` (ISO; the office's clock without an offset)."""
        when = parse_time(at, "at", self.zone())
        if when is None or when <= self.clock():
            raise _bad("at", "campaigns.field.future", "a time to come")
        entry = self._own(agent, entry_id)
        attempt = self._last_attempt(entry, agent)
        with self.db.atomic():
            if attempt is not None:
                attempt.callback_at = when
                attempt.save()
            entry.state, entry.agent, entry.next_attempt_at = "pending", agent, when
            entry.taken_by, entry.taken_at = "", None
            entry.save()
        logger.info("%s: entry %s calls back through agent %s at %s", actor, entry.id, agent, when)
        return entry_view(entry)

    def _finish(self, entry: m.CallListEntry, attempt: m.CampaignAttempt, result: str, note: str = "") -> None:
        with self.db.atomic():
            attempt.result, attempt.ended_at = result, attempt.ended_at or self.clock()
            if note:
                attempt.note = note[:500]
            attempt.save()
            entry.state, entry.last_result, entry.next_attempt_at = "done", result, None
            entry.save()

    # -- what the engine and the workspace report --------------------------------------------
    def call_ended(self, record: dict) -> None:
        """A call record written: an open attempt of its agent for its number is that call."""
        if record.get("direction") != "outbound" or not record.get("agent"):
            return
        if record.get("linkedid", "").startswith(DIALLED_LINKEDID):
            return  # the dialer's call (services/dialer.py)
        linkedid = record.get("linkedid", "")
        attempt = (m.CampaignAttempt.select().where(m.CampaignAttempt.linkedid == linkedid).first()
                   if linkedid else None)
        if attempt is None:
            key = numbers.key(record.get("caller", ""))
            attempt = next((a for a in m.CampaignAttempt.select().where(
                m.CampaignAttempt.agent == record["agent"], m.CampaignAttempt.result == "dialling",
                m.CampaignAttempt.linkedid == "").order_by(m.CampaignAttempt.id.desc())
                if numbers.key(a.number) == key), None)
        if attempt is None:
            return
        result = result_of(record)
        outcome = m.CallOutcome.get_or_none(m.CallOutcome.linkedid == linkedid, m.CallOutcome.agent == attempt.agent)
        with self.db.atomic():
            attempt.linkedid, attempt.result, attempt.ended_at = linkedid, result, self.clock()
            if outcome is not None:
                attempt.disposition = outcome.disposition
            attempt.save()
            entry = attempt.entry
            entry.last_result = result
            if outcome is not None and entry.state == "dialling":
                entry.state = "done"
            entry.save()
        logger.info("campaign attempt %s: call %s %s", attempt.id, linkedid, result)
        self._publish({"event": "attempt", "campaign": attempt.campaign_id, "agent": attempt.agent,
                       "entry": entry.id, "linkedid": linkedid, "result": result})

    def outcome_saved(self, agent: str, linkedid: str) -> None:
        """The agent's disposition for call ``linkedid`` is saved: its attempt takes it and
        the entry is done (the next one comes with the panel's next look, if auto-next)."""
        attempt = m.CampaignAttempt.get_or_none(m.CampaignAttempt.linkedid == linkedid,
                                                m.CampaignAttempt.agent == agent)
        if attempt is None:
            record = m.CallRecord.get_or_none(m.CallRecord.linkedid == linkedid)
            live = getattr(self.calls, "live", None)
            live = live.calls.get(linkedid) if live is not None else None
            number = record.caller if record else getattr(live, "caller", "")
            if not number:
                return
            key = numbers.key(number)
            attempt = next((a for a in m.CampaignAttempt.select().where(
                m.CampaignAttempt.agent == agent, m.CampaignAttempt.linkedid == "",
                m.CampaignAttempt.result == "dialling").order_by(m.CampaignAttempt.id.desc())
                if numbers.key(a.number) == key), None)
            if attempt is None:
                return
        outcome = m.CallOutcome.get_or_none(m.CallOutcome.linkedid == linkedid, m.CallOutcome.agent == agent)
        with self.db.atomic():
            attempt.linkedid = linkedid
            attempt.disposition = outcome.disposition if outcome else ""
            attempt.save()
            entry = attempt.entry
            if entry.state == "dialling" and entry.taken_by == agent:
                entry.state = "done"
                if attempt.result != "dialling":
                    entry.last_result = attempt.result
                entry.save()
        self._publish({"event": "finished", "campaign": attempt.campaign_id, "agent": agent, "entry": entry.id})

    def _publish(self, data: dict) -> None:
        if self.bus is not None:
            self.bus.publish("campaign", data)
