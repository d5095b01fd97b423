"""Recording on the call path: the policy applied when a call starts and when an agent
answers, on-demand control from the agent's toolbar, and the hand-over to the pipeline.

How MixMonitor gets started. Our AMI user may not run the AMI ``MixMonitor`` action: it
needs the ``system`` class (because that action takes a shell post-command), which we
withhold on purpose (see docs/architecture.md, security choices). So the dialplan asks
FastAGI at fixed points, and the handler runs ``MixMonitor`` on its own channel (AGI
``EXEC``) with a file name made from the linkedid and nothing else:

- inbound: on the caller's leg, by ``route`` once it has routed the call (the trunk, the
  queue and the direction are known); the recording then follows the caller through
  transfers and overflows;
- outgoing (click-to-dial) and internal calls: on the agent's leg before dialling;
- when an agent answers a queue call (app_queue's Gosub on the agent's leg): the agent's
  own setting is applied to the running recording (muted, unmuted or stopped), or, if
  there was none yet, a recording starts on the agent's leg.

``start at answer`` is MixMonitor's ``b`` option (only bridged audio is written), ``start
at ringing`` no option (the wait and the ring-back too). A call the policy does not record
but an agent may start (``no``, ``dontcare``) gets a *standby*: MixMonitor running muted
(AMI ``MixMonitorMute``, class ``call``), so "start" is an unmute; a standby nobody starts
is thrown away at the end. Pause and resume are mute and unmute too (Asterisk 21 removed
app_monitor and with it ``PauseMonitor``/``UnpauseMonitor``); muted audio is written as
silence, so the file keeps the call's timeline. ``stop`` is a mute that ``force`` refuses.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import gevent
import gevent.pool
from peewee import JOIN

from appliance.db import models as m
from appliance.errors import Conflict, NotFound, Unavailable
from appliance.recording import rules
from appliance.services.site import utc_midnight, zone_of
from appliance.recording.archive import archived_copy
from appliance.recording.pipeline import RecordingRefused
from appliance.services.agents import ami_action

logger = logging.getLogger(__name__)

# States of a call's recording while the call lasts.
RECORDING, PAUSED, STANDBY, STOPPED = "recording", "paused", "standby", "stopped"
ACTIONS = ("pause", "resume", "start", "stop")
VOICEMAIL_POLICY = "voicemail"  # the policy of a caller's message: listed with the messages, not here


@dataclass(frozen=True)
class StartMonitor:
    """What the FastAGI handler runs: ``MixMonitor(path,options)``."""

    path: str  # as Asterisk sees it
    options: str


@dataclass
class ActiveRecording:
    linkedid: str
    channel: str  # the channel MixMonitor runs on
    direction: str
    trunk: str
    queue: str
    agent: str
    forced: bool
    state: str
    policy: str


def settings_of(direction: str, trunk: str, queue: str, agent: str) -> dict:
    """Each element's (name, mode) and the direction's start, from the database: one query
    (a call's ``record`` script asks twice, on the FastAGI loop; four queries were a tenth of
    the loop's time in the mixed-load profile)."""
    rule, trunks, queues, agents = (m.RecordingRule._meta.table_name, m.Trunk._meta.table_name,
                                    m.Queue._meta.table_name, m.Agent._meta.table_name)
    found = m.database.execute_sql(
        f'SELECT (SELECT "recording" FROM "{rule}" WHERE "direction" = ?), '
        f'(SELECT "start_at" FROM "{rule}" WHERE "direction" = ?), '
        f'(SELECT "recording" FROM "{trunks}" WHERE "name" = ?), '
        f'(SELECT "recording" FROM "{queues}" WHERE "name" = ?), '
        f'(SELECT "recording" FROM "{agents}" WHERE "number" = ?)',
        (direction, direction, trunk, queue, agent)).fetchone()

    def mode(name, recording):
        return (name, recording if name and recording is not None else rules.DONTCARE)

    return {"direction": mode(direction, found[0]), "trunk": mode(trunk, found[2]), "queue": mode(queue, found[3]),
            "agent": mode(agent, found[4]), "start_at": found[1] if found[1] is not None else rules.ANSWER}


# whether a call has a recording row: asked for every call, on the loop (a statement made once)
_RECORDED = f'SELECT 1 FROM "{m.Recording._meta.table_name}" WHERE "linkedid" = ? LIMIT 1'
_BEING_RECORDED = f'SELECT 1 FROM "{m.Recording._meta.table_name}" WHERE "linkedid" = ? AND "state" = ? LIMIT 1'


class RecordingService:
    def __init__(self, pipeline, ami, live, asterisk_spool: str, *, settle_seconds: float = 0.5,
                 settings: Callable[[str, str, str, str], dict] = settings_of):
        self.pipeline = pipeline
        self.ami = ami
        self.live = live
        self.asterisk_spool = asterisk_spool.rstrip("/")  # the pipeline's spool as Asterisk sees it
        self.settle_seconds = settle_seconds
        self.settings = settings
        self.active: dict[str, ActiveRecording] = {}
        self._finishing = gevent.pool.Group()

    # -- the call path (FastAGI ``route`` and ``record``) -----------------------------------------------
    def call_started(self, linkedid: str, direction: str, channel: str, *, trunk: str = "", queue: str = "",
                     agent: str = "") -> StartMonitor | None:
        """A call begins on ``channel``: what to start there, if anything. Idempotent per call."""
        if linkedid in self.active or m.database.execute_sql(_RECORDED, (linkedid,)).fetchone():
            return None
        found = self.settings(direction, trunk, queue, agent)
        decision = rules.decide(found["direction"], found["trunk"], found["queue"], found["agent"])
        if not decision.monitor:
            logger.info("call %s not recorded (%s)", linkedid, decision.reason)
            return None
        try:
            wav = self.pipeline.begin(linkedid, wanted=decision.outcome == rules.RECORD, policy=decision.reason)
        except RecordingRefused as exc:
            logger.warning("call %s not recorded: %s", linkedid, exc.message)
            return None
        state = RECORDING if decision.outcome == rules.RECORD else STANDBY
        self.active[linkedid] = ActiveRecording(linkedid, channel, direction, trunk, queue, agent, decision.forced,
                                                state, decision.reason)
        logger.info("call %s: %s on %s (%s)", linkedid, state, channel, decision.reason)
        return StartMonitor(f"{self.asterisk_spool}/{Path(wav).name}", rules.mixmonitor_options(found["start_at"]))

    def monitor_started(self, linkedid: str) -> None:
        """MixMonitor runs: a standby is muted before any audio is bridged."""
        rec = self.active.get(linkedid)
        if rec is not None and rec.state == STANDBY:
            self._mute(rec, True)

    def agent_answered(self, linkedid: str, agent: str, channel: str) -> StartMonitor | None:
        """An agent answered (on ``channel``, their leg): their own setting now counts."""
        rec = self.active.get(linkedid)
        if rec is None:
            call = self.live.calls.get(linkedid)
            if call is None:
                return None
            return self.call_started(linkedid, call.direction, channel, trunk=call.trunk, queue=call.queue,
                                     agent=agent)
        found = self.settings(rec.direction, rec.trunk, rec.queue, agent)
        decision = rules.decide(found["direction"], found["trunk"], found["queue"], found["agent"])
        rec.agent, rec.forced, rec.policy = agent, decision.forced, decision.reason
        if decision.outcome == rules.OFF:  # the agent's "never": nothing of this call is kept
            self._action("StopMixMonitor", {"Channel": rec.channel})
            self.pipeline.want(linkedid, False)
            rec.state = STOPPED
            del self.active[linkedid]
        elif decision.outcome == rules.RECORD and rec.state in (STANDBY, STOPPED):
            self._unmute(rec)
        elif decision.outcome == rules.STANDBY and rec.state == RECORDING:
            self._mute(rec, True)
            rec.state = STANDBY
        logger.info("call %s answered by agent %s: recording %s (%s)", linkedid, agent, rec.state, decision.reason)
        return None

    # -- on demand (the agent's toolbar, the API) -------------------------------------------
    def control(self, agent: str, action: str, actor: str) -> dict:
        """``pause``/``resume``/``start``/``stop`` the recording of ``agent``'s current call."""
        if action not in ACTIONS:
            raise NotFound(f"no recording action {action}", code="recording.bad_action")
        call = next((c for c in self.live.calls.values() if c.agent == agent and c.answer_time is not None), None)
        if call is None:
            raise Conflict(f"agent {agent} is not on a call", code="recording.no_call")
        rec = self.active.get(call.linkedid)
        if rec is None:
            raise Conflict("this call is not recorded and may not be (a 'never' setting, or no room on the disk)",
                           code="recording.not_possible")
        wanted = {"pause": (RECORDING,), "resume": (PAUSED,), "start": (STANDBY, STOPPED),
                  "stop": (RECORDING, PAUSED)}[action]
        if action == "stop" and rec.forced:
            raise Conflict(f"recording this call is required ({rec.policy}); it can be paused, not stopped",
                           code="recording.forced")
        if rec.state not in wanted:
            raise Conflict(f"the recording is {rec.state}: cannot {action} it", code=f"recording.cannot_{action}")
        if action in ("resume", "start"):
            self._unmute(rec)
        else:
            self._mute(rec, True)
            rec.state = PAUSED if action == "pause" else STOPPED
        logger.info("%s: recording of call %s (agent %s) %s -> %s", actor, call.linkedid, agent, action, rec.state)
        return {"linkedid": call.linkedid, "recording": rec.state, "forced": rec.forced}

    def _unmute(self, rec: ActiveRecording) -> None:
        self._mute(rec, False)
        if rec.state in (STANDBY, STOPPED):
            self.pipeline.want(rec.linkedid)
        rec.state = RECORDING

    def _mute(self, rec: ActiveRecording, muted: bool) -> None:
        self._action("MixMonitorMute", {"Channel": rec.channel, "Direction": "both", "State": "1" if muted else "0"})

    def _action(self, name: str, headers: dict) -> None:
        resp = ami_action(self.ami, name, headers)
        if resp.name == "Error":
            raise Unavailable(f"Asterisk refused {name}: {resp.get('Message')}", code="recording.ami_failed")

    # -- the end of a call ------------------------------------------------------------------
    def call_ended(self, record: dict) -> None:
        """The call record was written: once MixMonitor has closed the WAV, the pipeline takes it."""
        self.active.pop(record["linkedid"], None)
        self.hand_over(record["linkedid"], partial=record.get("disposition") == "interrupted",
                       answered=record.get("answer_time") is not None)

    def hand_over(self, key: str, *, partial: bool, answered: bool, then: Callable[[str | None], None] | None = None,
                  ) -> None:
        """Once its WAV is closed, the recording ``key`` (if still being recorded) goes to the
        encoders; ``then`` gets the pipeline's answer (None: nothing was kept)."""
        if m.database.execute_sql(_BEING_RECORDED, (key, RECORDING)).fetchone():  # twice a call: made once
            self._finishing.spawn(self._finish, key, partial, answered, then)

    def _finish(self, key: str, partial: bool, answered: bool, then) -> None:
        try:
            self._settle(self.pipeline.config.spool_dir / f"{key}.wav")
            state = self.pipeline.finish(key, partial=partial, answered=answered)
            if then is not None:
                then(state)
        except Exception:
            logger.exception("recording %s: could not hand it to the encoders", key)

    def _settle(self, path: Path, limit: float = 10.0) -> None:
        """MixMonitor closes the file just after the hangup: wait until it stops growing."""
        deadline, last = time.monotonic() + limit, -1
        while time.monotonic() < deadline:
            try:
                size = path.stat().st_size
            except FileNotFoundError:
                size = None
            if size == last:
                return
            last = size
            gevent.sleep(self.settle_seconds)

    def wait_finishing(self, timeout: float | None = None) -> None:
        self._finishing.join(timeout)

    # -- reading: the web UI and the API -------------------------------------------------------
    def find(self, linkedid: str) -> dict:
        row = m.Recording.get_or_none(m.Recording.linkedid == linkedid)
        if row is None:
            raise NotFound(f"no recording of call {linkedid}", code="recording.not_found")
        return self.view(row, m.CallRecord.get_or_none(m.CallRecord.linkedid == linkedid))

    def search(self, *, caller: str = "", agent: str = "", state: str = "", queue: str = "",
               day_from: dt.date | None = None, day_to: dt.date | None = None, timezone: str | None = None,
               agents: Iterable[str] | None = None, limit: int = 100, offset: int = 0) -> list[dict]:
        """Recordings by their call, newest first: part of the caller's number, the call's
        agent and queue, the recording's state, the days it was made (on the office's clock,
        ``timezone``, both ends included). ``agents``: only calls of these agents (an agent
        sees their own)."""
        query = (self._matching(caller=caller, agent=agent, state=state, queue=queue, day_from=day_from,
                                day_to=day_to, timezone=timezone, agents=agents)
                 .order_by(m.Recording.created_at.desc(), m.Recording.id.desc())
                 .limit(max(1, min(limit, 1000))).offset(max(0, offset)))
        return [self.view(row, getattr(row, "call", None)) for row in query]

    def count(self, **filters) -> int:
        return self._matching(**filters).count()

    @staticmethod
    def _matching(*, caller: str = "", agent: str = "", state: str = "", queue: str = "",
                  day_from: dt.date | None = None, day_to: dt.date | None = None, timezone: str | None = None,
                  agents: Iterable[str] | None = None):
        query = (m.Recording.select(m.Recording, m.CallRecord)
                 .join(m.CallRecord, JOIN.LEFT_OUTER, on=(m.CallRecord.linkedid == m.Recording.linkedid),
                       attr="call")
                 .where(m.Recording.policy != VOICEMAIL_POLICY))
        if caller:
            query = query.where(m.CallRecord.caller.contains(caller))
        if agent:
            query = query.where(m.CallRecord.agent == agent)
        if agents is not None:
            query = query.where(m.CallRecord.agent.in_(list(agents)))
        if queue:
            query = query.where(m.CallRecord.queue == queue)
        if state:
            query = query.where(m.Recording.state == state)
        if day_from:
            query = query.where(m.Recording.created_at >= utc_midnight(day_from, zone_of(timezone)))
        if day_to:
            query = query.where(m.Recording.created_at < utc_midnight(day_to + dt.timedelta(days=1),
                                                                        zone_of(timezone)))
        return query

    def agent_of(self, linkedid: str) -> str:
        call = m.CallRecord.get_or_none(m.CallRecord.linkedid == linkedid)
        return call.agent if call else ""

    def audio_file(self, linkedid: str) -> Path:
        """The MP3 of a complete recording; of an expired one, its archived copy if the archive has it."""
        row = m.Recording.get_or_none(m.Recording.linkedid == linkedid)
        if row is not None and row.state == "complete":
            return self.pipeline.mp3_file(row)
        copy = archived_copy(self.pipeline.config.archive_dir, row) if row is not None else None
        if copy is None:
            raise NotFound(f"no finished recording of call {linkedid}", code="recording.not_found")
        return copy

    def storage(self) -> dict:
        return self.pipeline.storage()

    @staticmethod
    def view(row, call) -> dict:
        out = {"linkedid": row.linkedid, "state": row.state, "complete": row.state == "complete" and not row.partial,
               "partial": row.partial, "repaired": row.repaired, "duration_seconds": row.duration_seconds,
               "bytes": row.bytes, "sha256": row.sha256, "error_code": row.error_code, "detail": row.detail,
               "policy": row.policy, "created_at": row.created_at, "completed_at": row.completed_at,
               "archived_at": row.archived_at, "expired_at": row.expired_at, "call": None}
        if call is not None and getattr(call, "linkedid", None):
            out["call"] = {"caller": call.caller, "agent": call.agent, "queue": call.queue, "direction": call.direction,
                           "enter_time": call.enter_time, "talk_seconds": call.talk_seconds,
                           "disposition": call.disposition}
        return out
