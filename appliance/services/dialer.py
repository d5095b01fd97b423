"""The dialer (issue 16 point 3): the one originate path for every call the appliance
dials for a campaign (progressive, power, predictive; and the modes without agents,
notification, press-key and survey, whose answered calls ``services/agentless.py`` runs).

A gevent loop the composition root starts (``start``): every second, for each running
campaign of a dialled mode, ``decide`` gathers the facts (its agents in the live state,
its lines ringing, the entries due) and asks the pure ``engine.pacing.lines_to_dial`` how
many calls to place; ``place`` then, for each:

1. takes the next due entry with one conditional UPDATE (``state = 'pending'`` in its
   WHERE, as ``Campaigns.take_next``): a number is never dialled twice at once;
2. runs ``OutboundCheck.clear`` (path ``campaign``): a refusal is an attempt ``refused``
   with the rule; a refusal that passes (the window, trunks full, the campaign's limit,
   the caller-ID pool's caps) puts the entry back untouched and holds the campaign's
   dialling for ``HOLD_SECONDS`` with that reason shown (nothing lost); the others end the
   entry;
3. originates ``Local/<number>@cc-campaign-dial/n`` (the trunks in order, with failover)
   with ``CC_CAMPAIGN``, ``CC_ATTEMPT`` (the attempt's id) and the pool's caller ID, and a
   channel id ``cc-campaign-<attempt>-<nonce>``, which is the call's linkedid: the call
   record is matched to its attempt by it, never by agent and number.

The dialplan reports back through FastAGI ``campaign``: ``dialed`` (DIALSTATUS, from the
dialling side's h extension: busy, no answer, failed) and ``connect`` (the callee picked
up: a free agent of the campaign, held for this call, or none: the call is *abandoned*,
the callee hears the ``campaign-no-agent`` sentence at once).  ``call_ended`` (every call
record) settles what is left.  Each final result applies the campaign's retry rules
(``engine.compliance.next_attempt``) to the entry's ``next_attempt_at``.

**Restart rule**: attempts still open whose call Asterisk no longer has (after a reconnect,
``reconcile``; and every ``SWEEP_SECONDS``) are settled: ``failed`` (``abandoned`` if the
callee had picked up), retried by the rules.  The entry stays ``dialling`` until then, so
none is dialled twice at once and none is lost.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
import time
from collections import deque
from dataclasses import dataclass

import gevent

from appliance import dialplan_vars as v
from appliance import numbers
from appliance.db import models as m
from appliance.engine import compliance as rules
from appliance.engine import pacing
from appliance.engine.live import FREE, IN_CALL, RINGING, WRAPUP
from appliance.services import agentless
from appliance.services.campaigns import DIALLED_LINKEDID
from appliance.services.compliance import CAMPAIGN, OutboundCall

logger = logging.getLogger(__name__)

# Where a dialled mode's answered call goes: (context, extension).
ANSWERED_INTO = {**{mode: (v.CAMPAIGN_CONTEXT, mode) for mode in v.CAMPAIGN_AGENT_MODES},
                 **{mode: (v.AGENTLESS_CONTEXT, mode) for mode in agentless.MODES}}
AGENTLESS_LINES = 10  # a campaign without agents and without its own concurrency limit: lines at once

LINKEDID_PREFIX = DIALLED_LINKEDID
RING_SECONDS = 30  # the Originate's wait for an answer
WINDOW = dt.timedelta(hours=1)  # the rolling window of the pacing figures and the abandon rate
ADAPT_SECONDS = 10.0  # the predictive budget factor is adapted at most this often
HOLD_SECONDS = 60.0  # dialling held after a refusal that passes (caller-ID pool, window, trunks)
GRACE_SECONDS = 15.0  # an attempt younger than this is not settled for want of its call
SWEEP_SECONDS = 30.0
REFUSED_IN_A_ROW = 20  # numbers that may never be called, passed over in one placing
MAX_TRIES = 3  # agents tried for one answered call before it is abandoned
DUE_COUNTED = 1000  # entries due are counted up to this (pacing needs no more)
FINAL = ("answered", "no-answer", "busy", "failed", "abandoned", "refused", "skipped")
OPEN_RESULTS = ("dialling", "answered")
STATUS_OF_DIAL = {"BUSY": "busy", "NOANSWER": "no-answer", "CANCEL": "no-answer"}  # anything else: failed
RETRY_AS = {"busy": rules.BUSY, "no-answer": rules.NO_ANSWER, "abandoned": rules.NO_ANSWER, "failed": rules.FAILED,
            "machine": rules.MACHINE}

# What a campaign's dialling is doing (campaigns.dialer.status.<key> in the catalogs).
DIALLING, WAITING_AGENTS, NO_AGENTS, NO_TRUNK, OUTSIDE_WINDOW, NOTHING_DUE, NO_ASTERISK, STOPPED, PAUSED = (
    "dialling", "agents_busy", "no_agents", "no_trunk", "outside_window", "nothing_due", "no_asterisk",
    "stopped", "paused")
HELD = {rules.CALLERID_POOL: "callerid_pool", rules.WINDOW: OUTSIDE_WINDOW, rules.TRUNKS_FULL: "trunks_full",
        rules.CONCURRENCY: "concurrency"}
STATUSES = (DIALLING, WAITING_AGENTS, NO_AGENTS, NO_TRUNK, OUTSIDE_WINDOW, NOTHING_DUE, NO_ASTERISK, STOPPED,
            PAUSED, *sorted(set(HELD.values()) - {OUTSIDE_WINDOW}))


@dataclass
class _Pace:
    """One campaign's dialling, in memory."""

    factor: float = 1.0  # predictive: the share of the abandon target it allows itself (pacing.adapt)
    adapted_at: float = float("-inf")
    window: pacing.Window = pacing.Window()
    hold: str = ""  # a refusal holding dialling (HELD's key)
    hold_until: float = 0.0
    status: str = ""


@dataclass(frozen=True)
class Decision:
    status: str
    lines: int = 0  # to place now
    ready: int = 0
    busy: int = 0
    ringing: int = 0
    level: float = 0.0  # lines per free agent


def retry_rules(row: m.Campaign) -> rules.RetryRules:
    return rules.RetryRules(busy_minutes=row.retry_busy_minutes, no_answer_minutes=row.retry_no_answer_minutes,
                            failed_minutes=row.retry_failed_minutes, machine_minutes=row.retry_machine_minutes,
                            max_attempts=row.max_attempts)


class Dialer:
    def __init__(self, db, ami, live, check, campaigns, bus, *, region=lambda: numbers.DEFAULT_REGION,
                 language=lambda: "zh_CN", clock=m.utcnow, monotonic=time.monotonic, interval: float = 1.0):
        self.db = db
        self.ami = ami
        self.live = live  # engine.live.LiveState: the agents' states, the calls up
        self.check = check  # services.compliance.OutboundCheck
        self.campaigns = campaigns  # services.campaigns.Campaigns: who a campaign's agents are
        self.bus = bus
        self.region = region  # the office's country (callable): numbers are dialled as from there
        self.language = language  # what the callee hears (callable): the callers' language
        self.clock = clock  # naive UTC, as stored
        self.monotonic = monotonic
        self.interval = interval
        self.paces: dict[int, _Pace] = {}
        self.reserved: dict[str, int] = {}  # agent -> the attempt they are held for
        self.tried: dict[int, set[str]] = {}  # attempt -> agents offered its call
        self.latencies: deque[float] = deque(maxlen=10_000)  # seconds per decision (the benchmark)
        self._swept = float("-inf")
        self._loop = None

    # -- the loop --------------------------------------------------------------------------
    def start(self) -> None:
        self._loop = gevent.spawn(self._run)

    def stop(self) -> None:
        if self._loop is not None:
            self._loop.kill()

    def _run(self) -> None:
        while True:
            try:
                self.tick()
            except Exception:
                logger.exception("dialer: a round failed")
            gevent.sleep(self.interval)

    def tick(self) -> int:
        """One round over the running campaigns of a dialled mode; the calls placed."""
        if not self.ami.connected:
            return 0
        placed = 0
        for row in m.Campaign.select().where(m.Campaign.state == "running",
                                             m.Campaign.mode.in_(list(ANSWERED_INTO))).order_by(m.Campaign.id):
            placed += self.pace(row)
        if self.monotonic() - self._swept >= SWEEP_SECONDS:
            self.reconcile()
        return placed

    def pace(self, row: m.Campaign) -> int:
        began = time.perf_counter()
        decision = self.decide(row)
        self.latencies.append(time.perf_counter() - began)
        self._show(row, decision.status)
        placed = 0
        for _ in range(decision.lines):
            if not self.place(row):
                break
            placed += 1
        return placed

    # -- deciding ----------------------------------------------------------------------------
    def decide(self, row: m.Campaign) -> Decision:
        """What the campaign's dialling does now, and how many calls to place."""
        pace = self.paces.setdefault(row.id, _Pace())
        settings = pacing.Settings(row.mode, row.ratio, row.target_abandon, row.max_lines_per_agent)
        level = pacing.dial_level(settings, pace.factor, pacing.Floor(0, 0, 0, 0))
        if row.state != "running":
            return Decision(STOPPED if row.state == "stopped" else PAUSED, level=level)
        if not self.ami.connected:
            return Decision(NO_ASTERISK, level=level)
        now = self.monotonic()
        if not self.campaigns.in_window(row, self.clock()) or not self.check.window_open():
            return Decision(OUTSIDE_WINDOW, level=level)
        if not m.Trunk.select().where(m.Trunk.outbound_priority > 0).exists():
            return Decision(NO_TRUNK, level=level)
        ready, busy = self.agents(row)
        up, ringing, answered = self._lines(row)
        if pace.hold and now < pace.hold_until:
            return Decision(HELD[pace.hold], ready=len(ready), busy=len(busy), ringing=ringing, level=level)
        pace.hold = ""
        if row.mode in agentless.MODES:  # nobody to wait for: as many lines as its limit leaves
            due = self._due(row)
            if not due:
                return Decision(NOTHING_DUE, ringing=ringing)
            room = max(0, (row.max_lines or AGENTLESS_LINES) - up)
            return Decision(DIALLING, min(room, due), ringing=ringing)
        if not ready and not busy:
            return Decision(NO_AGENTS, ringing=ringing, level=level)
        due = self._due(row)
        if not due:
            return Decision(NOTHING_DUE, ready=len(ready), busy=len(busy), ringing=ringing, level=level)
        if row.mode == pacing.PREDICTIVE and now - pace.adapted_at >= ADAPT_SECONDS:
            pace.window = self.window(row)
            pace.factor = pacing.adapt(pace.factor, pace.window, settings)
            pace.adapted_at = now
        room = max(0, row.max_lines - up) if row.max_lines else None
        # answered calls on their way to an agent (the AMD step, the connect) are no longer
        # ringing and hold no agent yet: each will take one of the free agents
        taken = min(len(ready), answered)
        floor = pacing.Floor(len(ready) - taken, len(busy) + taken, ringing, due, room)
        lines = pacing.lines_to_dial(settings, pace.factor, floor, pace.window)
        level = pacing.dial_level(settings, pace.factor, floor, pace.window)
        return Decision(DIALLING if floor.agents_ready else WAITING_AGENTS, lines, floor.agents_ready,
                        floor.agents_busy, ringing, level)

    def agents(self, row: m.Campaign) -> tuple[list[str], list[str]]:
        """The campaign's agents signed in: ready (free, not held for an answered call) and busy."""
        ready, busy = [], []
        for name in self.campaigns.agents(row):
            agent = self.live.agents.get(name)
            if agent is None:
                continue
            if name in self.reserved or agent.state in (RINGING, IN_CALL, WRAPUP):
                busy.append(name)
            elif agent.state == FREE:
                ready.append(name)
        return ready, busy

    _LINES = ('SELECT COUNT(*), COALESCE(SUM("result" = ? AND "answered_at" IS NULL), 0),'
              ' COALESCE(SUM("result" = ? AND "answered_at" IS NOT NULL), 0)'
              ' FROM "campaign_attempt" WHERE "campaign_id" = ? AND "result" IN (?, ?) AND "ended_at" IS NULL')

    def _lines(self, row: m.Campaign) -> tuple[int, int, int]:
        """Its calls up, in one query: all of them, those ringing (placed, nobody answered
        yet) and those answered but not put through to an agent yet."""
        return tuple(self.db.execute_sql(self._LINES, ("dialling", "dialling", row.id, *OPEN_RESULTS)).fetchone())

    _DUE = ('SELECT COUNT(*) FROM (SELECT 1 FROM "call_list_entry" e'
            ' JOIN "campaign_list" cl ON cl."call_list_id" = e."call_list_id"'
            ' JOIN "call_list" l ON l."id" = e."call_list_id"'
            ' WHERE cl."campaign_id" = ? AND l."state" = \'active\' AND e."state" = \'pending\''
            '  AND (e."next_attempt_at" IS NULL OR e."next_attempt_at" <= ?) LIMIT ?)')

    def _due(self, row: m.Campaign) -> int:
        return self.db.execute_sql(self._DUE, (row.id, str(self.clock()), DUE_COUNTED)).fetchone()[0]

    def window(self, row: m.Campaign) -> pacing.Window:
        """The campaign's calls ended in the rolling window, for pacing."""
        since = self.clock() - WINDOW
        dialled, answered, abandoned, ring, handle = self.db.execute_sql(
            'SELECT COUNT(*), COALESCE(SUM("result" = \'answered\'), 0), COALESCE(SUM("result" = \'abandoned\'), 0),'
            ' AVG(CASE WHEN "answered_at" IS NOT NULL'
            '  THEN (julianday("answered_at") - julianday("started_at")) * 86400 END),'
            ' AVG(CASE WHEN "result" = \'answered\' AND "ended_at" IS NOT NULL'
            '  THEN (julianday("ended_at") - julianday("answered_at")) * 86400 END)'
            ' FROM "campaign_attempt" WHERE "campaign_id" = ? AND "started_at" >= ?'
            ' AND "result" IN (\'answered\', \'abandoned\', \'no-answer\', \'busy\', \'failed\', \'machine\')'
            ' AND "ended_at" IS NOT NULL', (row.id, str(since))).fetchone()
        return pacing.Window(dialled, answered, abandoned, ring or 0.0, handle or 0.0)

    def status(self, row: m.Campaign) -> dict:
        """The live figures the campaign page and API add: what the dialling does, the agents
        ready and busy, its lines ringing and the dial level (lines per free agent)."""
        if row.mode not in ANSWERED_INTO:
            return {}
        decision = self.decide(row)
        return {"status": decision.status, "agents_ready": decision.ready, "agents_busy": decision.busy,
                "lines_ringing": decision.ringing, "dial_level": round(decision.level, 2)}

    def _show(self, row: m.Campaign, status: str) -> None:
        pace = self.paces.setdefault(row.id, _Pace())
        if pace.status != status:
            logger.info("campaign %s: dialling %s", row.name, status)
            pace.status = status
            self._publish({"event": "dialer", "campaign": row.id, "status": status})

    # -- placing a call ------------------------------------------------------------------------
    _TAKE = ('UPDATE "call_list_entry" SET "state" = \'dialling\', "taken_by" = \'\', "taken_at" = ?, "campaign" = ? '
             'WHERE "state" = \'pending\' AND "id" = ('
             ' SELECT e."id" FROM "call_list_entry" e'
             ' JOIN "campaign_list" cl ON cl."call_list_id" = e."call_list_id"'
             ' JOIN "call_list" l ON l."id" = e."call_list_id"'
             ' WHERE cl."campaign_id" = ? AND l."state" = \'active\' AND e."state" = \'pending\''
             '  AND (e."next_attempt_at" IS NULL OR e."next_attempt_at" <= ?)'
             ' ORDER BY e."next_attempt_at" IS NULL, e."next_attempt_at", cl."position", e."id"'
             ' LIMIT 1) RETURNING "id"')

    def take(self, row: m.Campaign) -> m.CallListEntry | None:
        """The next due entry, taken for dialling (nobody else can take it), or None."""
        now = self.clock()
        taken = self.db.execute_sql(self._TAKE, (str(now), row.id, row.id, str(now))).fetchall()  # all: ends the statement
        return m.CallListEntry.get_by_id(taken[0][0]) if taken else None

    def place(self, row: m.Campaign) -> bool:
        """Take one entry, clear it, dial it; False when nothing more should be placed now.
        Numbers that may never be called (do-not-call, blacklist, permission) are passed
        over, up to ``REFUSED_IN_A_ROW`` of them."""
        for _ in range(REFUSED_IN_A_ROW):
            entry = self.take(row)
            if entry is None:
                return False
            clearance = self.check.clear(OutboundCall(entry.number, CAMPAIGN, actor="dialer", campaign=row.name,
                                                      pool=row.callerid_pool, concurrency_limit=row.max_lines,
                                                      active_calls=self._lines(row)[0]))
            if clearance.allowed:
                return self._dial(row, entry, clearance.caller_id)
            if self._refused(row, entry, clearance.rule):
                return False
        return False

    def _dial(self, row: m.Campaign, entry: m.CallListEntry, caller_id: str) -> bool:
        now = self.clock()
        with self.db.atomic():
            attempt = m.CampaignAttempt.create(campaign=row.id, entry=entry.id, agent="", number=entry.number,
                                               started_at=now)
            attempt.linkedid = f"{LINKEDID_PREFIX}{attempt.id}-{secrets.token_hex(4)}"
            attempt.save()
            entry.attempts += 1
            entry.save()
        context, exten = ANSWERED_INTO[row.mode]
        variables = f"__{v.CAMPAIGN}={row.id},__{v.ATTEMPT}={attempt.id},{v.LANGUAGE}={self.language()}"
        if caller_id:
            variables += f",{v.CALLER_ID}={caller_id}"
        try:
            response = self.ami.send_action("Originate", {
                "Channel": f"Local/{numbers.dialable(entry.number, self.region())}@{v.CAMPAIGN_DIAL_CONTEXT}/n",
                "Context": context, "Exten": exten, "Priority": 1, "ChannelId": attempt.linkedid,
                "Variable": variables, "Timeout": RING_SECONDS * 1000, "Async": "true"})
            refused = response.get("Message") if response.name == "Error" else None
        except Exception as exc:  # AMI gone: no call
            refused = str(exc) or exc.__class__.__name__
        if refused:
            logger.warning("campaign %s: Asterisk did not place the call to %s: %s", row.name, entry.number, refused)
            attempt.note = str(refused)[:500]
            self.finish(attempt, "failed")
            return False
        logger.info("campaign %s: dialling %s (entry %s, attempt %s)", row.name, entry.number, entry.id, attempt.id)
        self._publish({"event": "dialling", "campaign": row.id, "entry": entry.id, "attempt": attempt.id})
        return True

    def _refused(self, row: m.Campaign, entry: m.CallListEntry, rule: str) -> bool:
        """Compliance refused the call: an attempt ``refused`` with the rule; a rule that
        passes in time leaves the entry as it was and holds the campaign's dialling (True)."""
        now = self.clock()
        again = rules.refusal_passes(rule)
        with self.db.atomic():
            m.CampaignAttempt.create(campaign=row.id, entry=entry.id, agent="", number=entry.number, started_at=now,
                                     ended_at=now, result="refused", note=rule)
            if again:
                entry.state, entry.campaign, entry.taken_at = "pending", None, None
            else:
                entry.state, entry.last_result, entry.next_attempt_at = "done", "refused", None
            entry.save()
        if again:
            pace = self.paces.setdefault(row.id, _Pace())
            pace.hold, pace.hold_until = rule, self.monotonic() + HOLD_SECONDS
            self._show(row, HELD.get(rule, rule))
        self._publish({"event": "refused", "campaign": row.id, "entry": entry.id, "rule": rule})
        return again

    # -- what the dialplan reports ----------------------------------------------------------------
    @staticmethod
    def _attempt(attempt_id) -> m.CampaignAttempt | None:
        text = str(attempt_id or "")
        return m.CampaignAttempt.get_or_none(m.CampaignAttempt.id == int(text)) if text.isdigit() else None

    def dialed(self, attempt_id, status: str) -> None:
        """The dialling side ended (its h extension): unanswered, the result from DIALSTATUS."""
        attempt = self._attempt(attempt_id)
        if attempt is None or attempt.result != "dialling" or attempt.answered_at is not None:
            return
        if (status or "").upper() == "ANSWER":
            return  # the answered side reports (connect), the call record settles
        self.finish(attempt, STATUS_OF_DIAL.get((status or "").upper(), "failed"))

    def connect(self, attempt_id) -> str:
        """The callee picked up: a free agent of the campaign, now held for this call, or ""
        (the call is abandoned: the dialplan plays the sentence)."""
        attempt = self._attempt(attempt_id)
        if attempt is None or attempt.result not in OPEN_RESULTS:
            return ""
        tried = self.tried.setdefault(attempt.id, set())
        if attempt.agent:  # put through to this one failed: the next
            tried.add(attempt.agent)
            self._release(attempt.agent, attempt.id)
        if attempt.answered_at is None:
            attempt.answered_at = self.clock()
        agent = self._free_agent(attempt, tried) if len(tried) < MAX_TRIES else None
        if agent is None:
            attempt.agent = ""
            self.finish(attempt, "abandoned")
            logger.warning("campaign %s: the call to %s was answered and no agent was free: abandoned",
                           attempt.campaign_id, attempt.number)
            return ""
        self.reserved[agent] = attempt.id
        with self.db.atomic():
            attempt.agent, attempt.result = agent, "answered"
            attempt.save()
            m.CallListEntry.update(taken_by=agent, last_result="answered").where(
                m.CallListEntry.id == attempt.entry_id).execute()
        self._publish({"event": "connecting", "campaign": attempt.campaign_id, "entry": attempt.entry_id,
                       "attempt": attempt.id, "agent": agent})
        return agent

    def _free_agent(self, attempt: m.CampaignAttempt, tried: set[str]) -> str | None:
        """The entry's own agent if free, else the agent free the longest."""
        ready, _ = self.agents(attempt.campaign)
        ready = [a for a in ready if a not in tried]
        if not ready:
            return None
        own = attempt.entry.agent
        if own in ready:
            return own
        return min(ready, key=lambda a: (self.live.agents[a].since, a))

    def _release(self, agent: str, attempt_id: int) -> None:
        if self.reserved.get(agent) == attempt_id:
            del self.reserved[agent]

    def call_ended(self, record: dict) -> None:
        """A call record written: the campaign's call it is (by linkedid) ends its attempt."""
        linkedid = record.get("linkedid", "")
        if not linkedid.startswith(LINKEDID_PREFIX):
            return
        attempt = m.CampaignAttempt.get_or_none(m.CampaignAttempt.linkedid == linkedid)
        if attempt is None:
            return
        self._release(attempt.agent, attempt.id)
        self.tried.pop(attempt.id, None)
        if attempt.result == "answered" and attempt.ended_at is None:
            if attempt.agent and record.get("agent") == attempt.agent:
                attempt.ended_at = self.clock()
                attempt.save()  # the entry stays the agent's until the disposition is saved
                self._publish({"event": "attempt", "campaign": attempt.campaign_id, "entry": attempt.entry_id,
                               "attempt": attempt.id, "agent": attempt.agent, "result": "answered"})
            else:
                attempt.agent = ""
                self.finish(attempt, "abandoned")  # picked up, never put through
        elif attempt.result == "dialling":
            if attempt.amd == "machine":
                result = "machine"  # AMD heard a greeting and the call ended there (hung up, or a message left)
            elif attempt.campaign.mode in agentless.MODES and (attempt.answered_at is not None
                                                             or record.get("disposition") == "answered"):
                result = "answered"  # a person heard it; no agent to wait for
            elif attempt.answered_at is not None:
                result = "abandoned"
            elif record.get("disposition") == "interrupted":
                result = "failed"
            else:
                reason = record.get("fallback_reason") or ""
                result = STATUS_OF_DIAL.get(reason[5:].upper(), "failed") if reason.startswith("dial-") else "failed"
            self.finish(attempt, result)

    def finish(self, attempt: m.CampaignAttempt, result: str) -> None:
        """An attempt that reached no agent ends with ``result``; its entry is retried by the
        campaign's rules or done."""
        now = self.clock()
        row = attempt.campaign
        with self.db.atomic():
            attempt.result, attempt.ended_at = result, attempt.ended_at or now
            attempt.save()
            entry = m.CallListEntry.get_by_id(attempt.entry_id)
            if entry.state == "dialling" and entry.campaign == row.id:
                again = rules.next_attempt(retry_rules(row), RETRY_AS.get(result, ""), entry.attempts, now)
                entry.last_result = result
                if again is not None:
                    entry.state, entry.next_attempt_at = "pending", again
                    entry.taken_by, entry.taken_at, entry.campaign = "", None, None
                else:
                    entry.state, entry.next_attempt_at = "done", None
                entry.save()
        self.tried.pop(attempt.id, None)
        for agent in [a for a, held in self.reserved.items() if held == attempt.id]:
            del self.reserved[agent]
        logger.info("campaign %s: attempt %s to %s %s", row.name, attempt.id, attempt.number, result)
        self._publish({"event": "attempt", "campaign": row.id, "entry": attempt.entry_id, "attempt": attempt.id,
                       "result": result})

    # -- restarts ----------------------------------------------------------------------------------
    def reconcile(self) -> int:
        """Attempts still open whose call Asterisk no longer has are settled (the restart
        rule); the number settled."""
        self._swept = self.monotonic()
        cutoff = self.clock() - dt.timedelta(seconds=GRACE_SECONDS)
        live = set(self.live.calls)
        settled = 0
        for attempt in (m.CampaignAttempt.select().where(m.CampaignAttempt.result.in_(OPEN_RESULTS),
                                                         m.CampaignAttempt.ended_at.is_null(),
                                                         m.CampaignAttempt.linkedid.startswith(LINKEDID_PREFIX),
                                                         m.CampaignAttempt.started_at < cutoff)):
            if attempt.linkedid in live:
                continue
            logger.warning("campaign attempt %s: its call %s is gone without a record; settled", attempt.id,
                           attempt.linkedid)
            # put through to an agent: it was answered (the record went with our process)
            agent = attempt.agent if attempt.result == "answered" else ""
            self.call_ended({"linkedid": attempt.linkedid, "disposition": "interrupted", "agent": agent})
            settled += 1
        return settled

    def _publish(self, data: dict) -> None:
        if self.bus is not None:
            self.bus.publish("campaign", data)
