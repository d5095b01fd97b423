"""Live state of calls, agents and queues, built from AMI events.

Pure: ``LiveState.apply(event, now)`` takes one event (a mapping of AMI headers)
and returns the commands the adapters must carry out (write a call record, publish
a change).  It imports no socket, no database and no gevent.

Waiting in a queue (the queue's ``waiting`` and ``longest_wait``, the same set of calls):
a call whose queue it is (``QueueCallerJoin``, the routing decision, or the queue that
refused it) that no agent has answered yet and that has not left the queue: queued, or
ringing an agent (the queue's own or the one agent it is offered to first).  Its wait runs
from ``enter_time``, as the call record's ``wait_seconds`` does.  A call the queue refused
or gave up on (``UserEvent(CcQueueExit)`` after ``Queue()`` returns: QUEUESTATUS
JOINEMPTY, LEAVEEMPTY, TIMEOUT...) is in state ``no_agent`` under that queue until it ends.
The queues' waiting calls are an index (``LiveState.waiting_in``) that a call's own changes keep:
setting its queue, state or answer, or putting it in or taking it out of ``LiveState.calls``
(a ``LiveCalls``), notes it, and after each event only the noted calls are looked at (it was
every live call for every event: bench/live_index.py).

Definitions the call record uses:

* ``enter_time``: the caller's channel appeared (AMI ``Newchannel``);
* ``answer_time``: an agent answered (``AgentConnect``) or, for calls that never
  reach a queue, nothing;
* ``wait_seconds`` = answer - enter (or end - enter when nobody answered);
* ``talk_seconds`` = end - answer;
* ``disposition``: ``answered``, ``abandoned`` (caller hung up while waiting),
  ``fallback`` (sent to the fallback or to a queue's voicemail: ``fallback_reason`` says why,
  ``queue-joinempty`` for a caller a queue refused because nobody could answer),
  ``interrupted`` (Asterisk went away during the call), ``unanswered``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from appliance import dialplan_vars as v

# Agent states.
LOGGED_OUT = "logged_out"
FREE = "free"
RINGING = "ringing"
IN_CALL = "in_call"
UNAVAILABLE = "unavailable"
PAUSED = "paused"
WRAPUP = "wrapup"  # after a call, for the queue's wrap-up time: app_queue does not ring them
AUTO_PAUSE_REASON = "missed-calls"
# The pause that holds an agent in wrap-up until they saved the disposition a queue requires
# (``QueuePolicy.disposition_required``): shown as wrap-up, not as a pause of their own.
DISPOSITION_REASON = "awaiting-disposition"

# Call states in which a caller of a queue is still waiting for an agent.
WAITING_STATES = ("queued", "ringing")
# What ``Call.waiting`` reads: setting one notes the call for the queues' waiting index.
_WAITING_FIELDS = frozenset({"queue", "state", "answer_time"})

# app_queue member device status codes (AST_DEVICE_*).
_UNAVAILABLE_STATUS = {"4", "5"}  # invalid, unavailable


@dataclass(frozen=True)
class WriteCallRecord:
    record: dict


@dataclass(frozen=True)
class PauseAgent:
    """Pause the agent in every queue (the engine's auto-pause after missed calls)."""

    agent: str
    reason: str


@dataclass(frozen=True)
class HoldForDisposition:
    """The agent answered a call of a queue that requires a disposition: pause them in every
    queue (reason ``DISPOSITION_REASON``) from now on, so app_queue offers them nothing after
    this call until the disposition is saved (``LiveState.disposition_saved``)."""

    agent: str
    linkedid: str


@dataclass(frozen=True)
class EndShift:
    """The phone of an agent signed in for the shift left AgentLogin: sign the agent out."""

    agent: str


@dataclass(frozen=True)
class AgentStateChanged:
    """For the state history: ``agent`` entered ``state`` at ``at`` (closing the previous one)."""

    agent: str
    state: str
    reason: str
    at: float


@dataclass(frozen=True)
class QueuePolicy:
    """What the live state needs to know of a queue's configuration."""

    wrapup_seconds: int = 0
    autopause_after: int = 0
    survey_low_score: int = 2
    disposition_required: bool = False


@dataclass(frozen=True)
class Publish:
    topic: str  # "call" | "agent" | "queue"
    data: dict


@dataclass
class Call:
    linkedid: str
    channel: str
    direction: str
    caller: str = ""
    caller_name: str = ""
    did: str = ""
    trunk: str = ""
    queue: str = ""
    agent: str = ""
    # new | queued | ringing | talking | held | consulting | conference | no_agent | ended
    state: str = "new"
    enter_time: float = 0.0
    answer_time: float | None = None
    end_time: float | None = None
    disposition: str = ""
    fallback_reason: str = ""
    hangup_cause: int | None = None
    route_rule: str = ""
    ringing_agents: set[str] = field(default_factory=set)  # agents the queue is offering the call to now
    agent_channel: str = ""  # the agent's leg while they talk (for transfers)
    customer_channel: str = ""  # the customer's leg: the caller, or the trunk leg of an outgoing call
    # The engine moved the legs out of app_queue (hold, consultation): app_queue's
    # AgentComplete no longer ends the agent's part, their leg hanging up or the call ending does.
    controlled: bool = False
    consult_channel: str = ""  # the leg the agent is consulting (attended transfer, three-way)
    consult_agent: str = ""  # the agent consulted, if it is one of ours
    consult_answered: bool = False
    transferred_out: str = ""  # a blind transfer sent the customer out to this number
    dial_channel: str = ""  # an outgoing call: the leg that dials the trunks (a Local channel's ;2 for an Originate)
    survey: str = ""  # '' not asked | rated | no-answer
    survey_score: int | None = None

    def record(self) -> dict:
        end = self.end_time if self.end_time is not None else self.enter_time
        answered = self.answer_time is not None
        disposition = self.disposition or ("answered" if answered else "unanswered")
        return {
            "linkedid": self.linkedid,
            "direction": self.direction,
            "caller": self.caller,
            "caller_name": self.caller_name,
            "did": self.did,
            "trunk": self.trunk,
            "queue": self.queue,
            "agent": self.agent,
            "enter_time": self.enter_time,
            "answer_time": self.answer_time,
            "end_time": end,
            "wait_seconds": round((self.answer_time if answered else end) - self.enter_time, 3),
            "talk_seconds": round(end - self.answer_time, 3) if answered else 0.0,
            "disposition": disposition,
            "fallback_reason": self.fallback_reason,
            "hangup_cause": self.hangup_cause,
            "route_rule": self.route_rule,
            "survey": self.survey,
            "survey_score": self.survey_score,
        }

    @property
    def waiting(self) -> bool:
        """In its queue, nobody has answered yet (see the module doc)."""
        return bool(self.queue) and self.answer_time is None and self.state in WAITING_STATES

    def __setattr__(self, name, value) -> None:
        object.__setattr__(self, name, value)
        if name in _WAITING_FIELDS:
            noted = self.__dict__.get("_noted")  # the live calls' (``LiveCalls``) once it is one of them
            if noted is not None:
                noted.add(self.linkedid)

    def view(self, now: float) -> dict:
        return {
            "linkedid": self.linkedid,
            "caller": self.caller,
            "caller_name": self.caller_name,
            "did": self.did,
            "direction": self.direction,
            "trunk": self.trunk,
            "queue": self.queue,
            "agent": self.agent,
            "ringing_agents": sorted(self.ringing_agents),
            "state": self.state,
            "waiting": self.waiting,
            "duration": round(now - self.enter_time, 1),
            "wait_seconds": round((self.answer_time or now) - self.enter_time, 1),
            "talk_seconds": round(now - self.answer_time, 1) if self.answer_time is not None else 0.0,
        }


@dataclass
class Agent:
    name: str  # the queue member name: the agent's work number
    interface: str = ""
    state: str = LOGGED_OUT
    since: float = 0.0
    queues: set[str] = field(default_factory=set)
    paused: bool = False
    pause_reason: str = ""
    device_unavailable: bool = False
    missed: int = 0  # ring-no-answers in a row
    wrapup_until: float = 0.0
    awaiting_disposition: str = ""  # the call whose disposition a queue requires before the next
    history_reason: str = ""  # the pause reason of the state last recorded
    history: list[tuple[float, str]] = field(default_factory=list)


@dataclass
class QueueView:
    name: str
    published: tuple = ()  # the waiting calls last published for this queue


def trunk_of(channel: str, card_routes: Mapping[str, str] | None = None) -> str:
    """``PJSIP/trunk-pstn-0000001a`` -> ``pstn``; a call on the card, the card route's name:
    ``DAHDI/i1/02162345678-3`` (PRI span 1), ``DAHDI/5-1`` (FXO line 5); an analog phone's
    port (``DAHDI/1-1``) is no trunk.  ``card_routes``: "i<span>" of a PRI span and
    "<channel>" of each FXO line -> the card route's name (``LiveState.set_card_routes``)."""
    tech, _, rest = channel.partition("/")
    if tech == "DAHDI":
        routes = card_routes or {}
        return routes.get(rest.split("/", 1)[0] if rest.startswith("i") else rest.split("-", 1)[0], "")
    if tech != "PJSIP" or not rest.startswith("trunk-"):
        return ""
    return rest[len("trunk-"):].rsplit("-", 1)[0]


class LiveCalls(dict):
    """The live calls by linkedid, noting every call put in, taken out, or whose queue, state
    or answer changed (``noted``): the queues' waiting index looks at those calls only, not at
    every live call for every event."""

    def __init__(self) -> None:
        super().__init__()
        self.noted: set[str] = set()

    def __setitem__(self, linkedid: str, call: Call) -> None:
        super().__setitem__(linkedid, call)
        object.__setattr__(call, "_noted", self.noted)
        self.noted.add(linkedid)

    def __delitem__(self, linkedid: str) -> None:
        super().__delitem__(linkedid)
        self.noted.add(linkedid)

    def pop(self, linkedid: str, *default):
        self.noted.add(linkedid)
        return super().pop(linkedid, *default)

    def clear(self) -> None:
        self.noted.update(self)
        super().clear()

    def popitem(self):
        raise TypeError("LiveCalls: take a call out by its linkedid")

    def setdefault(self, linkedid, default=None):
        raise TypeError("LiveCalls: put a call in with calls[linkedid] = call")

    def update(self, *args, **kwargs):
        for linkedid, call in dict(*args, **kwargs).items():
            self[linkedid] = call


class LiveState:
    def __init__(self) -> None:
        self.calls = LiveCalls()
        self.waiting_in: dict[str, set[str]] = {}  # queue -> the linkedids of its waiting calls
        self._waits_in: dict[str, str] = {}  # linkedid -> the queue it waits in
        self._queues_changed: set[str] = set()  # queues whose waiting calls changed since the last publication
        self.agents: dict[str, Agent] = {}
        self.queues: dict[str, QueueView] = {}
        self.by_interface: dict[str, str] = {}
        self.agent_legs: dict[str, str] = {}  # channel name -> agent, for every agent's live leg
        self.policies: dict[str, QueuePolicy] = {}
        self.card_routes: dict[str, str] = {}  # "i<span>" / "<FXO channel>" -> card route name
        self.events_applied = 0

    def set_card_routes(self, routes: Mapping[str, str]) -> None:
        """Which card route carries a DAHDI channel (after every DAHDI apply and config change)."""
        self.card_routes = dict(routes)

    def trunk_of(self, channel: str) -> str:
        """The trunk or card route a channel is on ('' for none: a phone, a Local channel)."""
        return trunk_of(channel, self.card_routes)

    def set_policies(self, policies: Mapping[str, QueuePolicy]) -> None:
        """The queues' wrap-up and auto-pause settings, after every config change."""
        self.policies = dict(policies)

    def tick(self, now: float) -> list:
        """Time passing: agents whose wrap-up has run out become available again."""
        commands: list = []
        for agent in self.agents.values():
            if agent.state == WRAPUP and agent.wrapup_until <= now:
                commands += self._transition(agent, self._resting_state(agent, now), agent.wrapup_until)
        return commands

    # -- input --------------------------------------------------------------
    def apply(self, event: Mapping[str, str], now: float) -> list:
        """Apply one AMI event; returns commands for the adapters."""
        self.events_applied += 1
        name = event.get("Event", "")
        handler = getattr(self, "_on_" + name, None)
        if handler is None:
            return []
        ts = _timestamp(event, now)
        commands = handler(event, ts) or []
        return commands + self._queue_changes(ts)

    def _queue_changes(self, ts: float) -> list:
        """A ``queue`` change for every queue whose waiting calls changed with the last event."""
        self._index_waiting()
        changed, self._queues_changed = self._queues_changed, set()
        commands = []
        for name in sorted(changed):
            queue = self.queues.setdefault(name, QueueView(name))
            now_waiting = tuple(sorted(self.waiting_in.get(name, ())))
            if now_waiting != queue.published:
                queue.published = now_waiting
                commands.append(Publish("queue", self._queue_view(queue, ts)))
        return commands

    def _index_waiting(self) -> None:
        """The calls noted since last time, moved in the queues' waiting index (``waiting_in``)."""
        noted = self.calls.noted
        while noted:
            linkedid = noted.pop()
            call = self.calls.get(linkedid)
            now_in = call.queue if call is not None and call.waiting else None
            was_in = self._waits_in.get(linkedid)
            if now_in == was_in:
                continue
            if was_in is not None:
                self.waiting_in[was_in].discard(linkedid)
                if not self.waiting_in[was_in]:
                    del self.waiting_in[was_in]
                del self._waits_in[linkedid]
                self._queues_changed.add(was_in)
            if now_in is not None:
                self.waiting_in.setdefault(now_in, set()).add(linkedid)
                self._waits_in[linkedid] = now_in
                self._queues_changed.add(now_in)

    def connection_lost(self, now: float) -> list:
        """AMI went away: no event will close the calls we hold, so close them."""
        return self.close_calls_not_in(set(), now, "interrupted")

    def close_calls_not_in(self, live_linkedids: set[str], now: float, disposition: str) -> list:
        """Close every call Asterisk no longer has (after a reconnect or a restart)."""
        commands: list = []
        for linkedid in [lid for lid in self.calls if lid not in live_linkedids]:
            call = self.calls.pop(linkedid)
            call.end_time = now
            if not call.disposition or call.disposition == "answered":
                call.disposition = disposition
            commands.append(WriteCallRecord(call.record()))
            commands += self._release_agent(call.agent, now)
        return commands + self._queue_changes(now)

    # -- calls --------------------------------------------------------------
    def _on_Newchannel(self, e, ts):
        if e.get("Uniqueid") != e.get("Linkedid", e.get("Uniqueid")):
            return None  # a second leg of a call we already track
        context = e.get("Context", "")
        if context == v.PHONE_CONTEXT and e.get("Exten") in v.SERVICE_CODES:
            return None  # a phone telling the appliance something (*21 sign in): not a call
        direction = "inbound" if context == v.TRUNK_CONTEXT else "internal"
        call = Call(
            linkedid=e.get("Linkedid") or e.get("Uniqueid", ""),
            channel=e.get("Channel", ""),
            direction=direction,
            caller=e.get("CallerIDNum", ""),
            caller_name=_blank_unknown(e.get("CallerIDName", "")),
            did=e.get("Exten", "") if direction == "inbound" else "",
            trunk=self.trunk_of(e.get("Channel", "")),
            enter_time=ts,
        )
        self.calls[call.linkedid] = call
        return [Publish("call", {"event": "new", **call.view(ts)})]

    def _call(self, e) -> Call | None:
        return self.calls.get(e.get("Linkedid", "")) or self.calls.get(e.get("Uniqueid", ""))

    def _on_QueueCallerJoin(self, e, ts):
        call = self._call(e)
        if call is None:
            return None
        if not _personal(e.get("Queue", "")):  # offered to one agent first: the call's queue is still the real one
            call.queue = e.get("Queue", "")
        call.state = "queued"
        return [Publish("call", {"event": "queued", **call.view(ts)})]

    def _on_QueueCallerLeave(self, e, ts):
        call = self._call(e)
        if call is not None:
            call.ringing_agents.clear()
        return None

    def _on_QueueCallerAbandon(self, e, ts):
        call = self._call(e)
        if call is None:
            return None
        call.disposition = "abandoned"
        return self._stop_ringing(call, ts)

    def _stop_ringing(self, call: Call, ts: float) -> list:
        """The call stopped ringing its agents without an answer (the caller hung up, the queue
        gave up): app_queue sends no AgentRingNoAnswer then, so they are free again here."""
        ringing, call.ringing_agents = call.ringing_agents, set()
        commands: list = []
        for name in sorted(ringing):
            agent = self.agents.get(name)
            if agent is not None and agent.state == RINGING and not any(
                    name in other.ringing_agents for other in self.calls.values()):
                commands += self._transition(agent, self._resting_state(agent, ts), ts)
        return commands

    def _queue_exit(self, e, ts):
        """``Queue()`` returned without an agent (QUEUESTATUS: JOINEMPTY when every agent was
        paused or away, LEAVEEMPTY, TIMEOUT...): the caller goes on to the queue's voicemail,
        the fallback or the next queue.  The call is the queue's, not answered, and no longer waiting."""
        call = self._call(e)
        status = e.get("Status", "").strip().lower()
        if call is None or call.answer_time is not None or status in ("", "continue"):
            return None
        call.queue = e.get("Queue", "") or call.queue
        call.state = "no_agent"
        if call.disposition != "abandoned":
            call.disposition, call.fallback_reason = "fallback", f"queue-{status}"
        commands = self._stop_ringing(call, ts)
        return commands + [Publish("call", {"event": "no_agent", **call.view(ts), "reason": call.fallback_reason})]

    def _on_AgentCalled(self, e, ts):
        call = self._call(e)
        commands = self._set_agent(e, RINGING, ts)
        if call is not None:
            call.state = "ringing"
            call.ringing_agents.add(e.get("MemberName", ""))
            commands.append(Publish("call", {"event": "offered", **call.view(ts), "offered_to": e.get("MemberName", "")}))
        return commands

    def _on_AgentRingNoAnswer(self, e, ts):
        call = self._call(e)
        if call is not None:
            call.ringing_agents.discard(e.get("MemberName", ""))
        agent = self._agent(e)
        agent.missed += 1
        commands = self._transition(agent, self._resting_state(agent, ts), ts)
        limit = self.policies.get(e.get("Queue", ""), QueuePolicy()).autopause_after
        if limit and agent.missed >= limit and not agent.paused:
            agent.missed = 0
            commands.append(PauseAgent(agent.name, AUTO_PAUSE_REASON))
        return commands

    def _on_AgentConnect(self, e, ts):
        call = self._call(e)
        agent = self._agent(e)
        agent.missed = 0
        commands = self._set_agent(e, IN_CALL, ts)
        queue = e.get("Queue", "")
        if _personal(queue) and call is not None and call.queue:
            queue = call.queue  # one agent first (sticky, VIP, directory): the policy of the queue it is for
        if self.policies.get(queue, QueuePolicy()).disposition_required:
            # paused now, while talking (it changes nothing for this call): when it ends,
            # app_queue already has nothing more to offer them
            agent.awaiting_disposition = e.get("Linkedid", "")
            commands.append(HoldForDisposition(agent.name, agent.awaiting_disposition))
        if call is not None:
            if call.answer_time is None:  # a transferred call keeps its first answer
                call.answer_time = ts
            call.agent = e.get("MemberName", "")
            call.ringing_agents.clear()
            call.agent_channel = e.get("DestChannel", "")
            call.customer_channel = call.channel
            self.agent_legs[call.agent_channel] = call.agent
            call.state = "talking"
            call.disposition = "answered"
            commands.append(Publish("call", {"event": "answered", **call.view(ts)}))
        return commands

    def _on_AgentComplete(self, e, ts):
        agent = self._agent(e)
        if any(c.agent == agent.name and c.linkedid != e.get("Linkedid") and c.state == "talking"
               for c in self.calls.values()):
            return []  # the end of an earlier call, reported after the agent took the next one
        call = self.calls.get(e.get("Linkedid", ""))
        if call is not None and call.controlled:
            return []  # held or consulting: app_queue let go, the agent has not
        wrapup = self.policies.get(e.get("Queue", ""), QueuePolicy()).wrapup_seconds
        if wrapup > 0:
            agent.wrapup_until = ts + wrapup
        return self._transition(agent, self._resting_state(agent, ts), ts)

    def _on_AgentDump(self, e, ts):
        return self._set_agent(e, FREE, ts)

    def _on_AgentLogin(self, e, ts):
        """A phone in AgentLogin is the agent's shift, not a call: no call record, off the wallboard."""
        call = self.calls.pop(e.get("Uniqueid", ""), None)
        if call is None:
            return []
        call.state = "ended"
        return [Publish("call", {"event": "ended", **call.view(ts), "shift": e.get("Agent", "")})]

    def _on_AgentLogoff(self, e, ts):
        return [EndShift(e.get("Agent", ""))] if e.get("Agent") else []

    def _on_UserEvent(self, e, ts):
        if e.get("UserEvent") == v.OUTBOUND_EVENT:
            return self._outbound(e, ts)
        if e.get("UserEvent") == v.CONTROL_EVENT:
            state, call = e.get("State", ""), self._call(e)
            if state == "held" and call is not None and call.state == "consulting":
                return None  # the customer's leg reached the music after the agent's began to call
            return self._set_call_state(call, "talking" if state == "resumed" else state, ts)
        if e.get("UserEvent") == v.SURVEY_EVENT:
            return self._survey(e, ts)
        if e.get("UserEvent") == v.QUEUE_EXIT_EVENT:
            return self._queue_exit(e, ts)
        if e.get("UserEvent") == v.ROUTE_EVENT:
            call = self._call(e)
            if call is not None:
                call.route_rule = e.get("Rule", "")
                if e.get("Queue"):
                    call.queue = e["Queue"]
            return None
        if e.get("UserEvent") != v.FALLBACK_EVENT:
            return None
        call = self._call(e)
        if call is None:
            return None
        call.disposition = "fallback"
        call.fallback_reason = e.get("Reason", "")
        if e.get("Queue") and not call.queue:  # refused before joining (join-empty): never queued
            call.queue = e["Queue"]
        if call.queue and call.answer_time is None:
            call.state = "no_agent"
        return [Publish("call", {"event": "fallback", **call.view(ts), "reason": call.fallback_reason})]

    def _survey(self, e, ts):
        """The caller rated the call after the agent hung up (or let the question pass)."""
        call = self._call(e)
        if call is None:
            return None
        score = e.get("Score", "").strip()
        call.survey_score = int(score) if score in ("1", "2", "3", "4", "5") else None
        call.survey = "rated" if call.survey_score is not None else "no-answer"
        queue = e.get("Queue") or call.queue
        data = {"event": "survey", **call.view(ts), "survey": call.survey, "score": call.survey_score}
        commands = [Publish("call", data)]
        low = self.policies.get(queue, QueuePolicy()).survey_low_score
        if call.survey_score is not None and call.survey_score <= low:
            commands.append(Publish("survey", {**data, "event": "low_score", "queue": queue, "threshold": low}))
        return commands

    def _outbound(self, e, ts):
        """An agent's outgoing call: their phone answered, the number is being dialled."""
        call = self._call(e)
        if call is None:
            return None
        if not e.get("Agent") and call.agent:
            # an agent's blind transfer out to a number: they have let go, the call goes on
            call.transferred_out, call.state = e.get("Number", ""), "ringing"
            return [Publish("call", {"event": "transferring", **call.view(ts), "to": call.transferred_out})]
        call.direction, call.dial_channel = "outbound", e.get("Channel", "")
        call.agent = e.get("Agent", "")
        call.caller, call.caller_name, call.did = e.get("Number", ""), "", ""
        call.state = "ringing"
        commands = [Publish("call", {"event": "dialling", **call.view(ts)})]
        agent = self.agents.get(call.agent)
        if agent is not None:
            commands += self._transition(agent, IN_CALL, ts)
        return commands

    def _on_DialBegin(self, e, ts):
        call = self._call(e)
        if call is None or e.get("Context") != v.CONSULT_CONTEXT or e.get("Channel") != call.agent_channel:
            return None
        call.consult_channel, call.consult_answered = e.get("DestChannel", ""), False
        if not call.consult_agent:
            return None
        self.agent_legs[call.consult_channel] = call.consult_agent
        agent = self.agents.setdefault(call.consult_agent, Agent(name=call.consult_agent))
        return self._transition(agent, RINGING, ts)

    def _on_BridgeEnter(self, e, ts):
        """The customer back with someone after a hold or a consultation (AMI or dialplan Bridge)."""
        call = self._call(e)
        if call is None or e.get("Channel") != call.customer_channel or call.state not in ("held", "consulting"):
            return None
        return self._set_call_state(call, "talking", ts)

    def _set_call_state(self, call: Call | None, state: str, ts: float) -> list:
        if call is None or call.state == state or state not in ("held", "consulting", "conference", "talking"):
            return []
        call.state = state
        return [Publish("call", {"event": state, **call.view(ts)})]

    def _on_DialEnd(self, e, ts):
        call = self._call(e)
        if call is not None and call.consult_channel and e.get("DestChannel") == call.consult_channel:
            return self._consult_dial_end(call, e.get("DialStatus", ""), ts)
        if call is None or (e.get("Uniqueid") != call.linkedid
                            and not (call.dial_channel and e.get("Channel") == call.dial_channel)):
            return None
        status = e.get("DialStatus", "")
        if call.transferred_out:
            if status == "ANSWER":
                call.state, call.agent_channel = "talking", e.get("DestChannel", "")
                return [Publish("call", {"event": "answered", **call.view(ts)})]
            call.fallback_reason = f"transfer-{status.lower()}"
            return None
        if call.direction != "outbound":
            return self._phone_dial_end(call, e, status, ts)
        # the trunk that carried the call; unanswered, the last one tried (trunks in order, _dial_out)
        call.trunk = self.trunk_of(e.get("DestChannel", "")) or call.trunk
        if status == "ANSWER":
            call.answer_time, call.state, call.disposition = ts, "talking", "answered"
            call.agent_channel, call.customer_channel = call.channel, e.get("DestChannel", "")
            return [Publish("call", {"event": "answered", **call.view(ts)})]
        call.disposition, call.fallback_reason = "unanswered", f"dial-{status.lower()}"
        return None

    def _phone_dial_end(self, call: Call, e, status: str, ts: float) -> list | None:
        """A caller put through to a phone by its extension (a menu's extension key), not by a
        queue: answered there, the call is answered (by the phone's agent, if it has one)."""
        if e.get("Context") != v.PHONE_CONTEXT or status != "ANSWER" or call.answer_time is not None:
            return None
        dest = e.get("DestChannel", "")
        call.answer_time, call.state, call.disposition = ts, "talking", "answered"
        call.agent_channel, call.customer_channel = dest, call.channel
        call.agent = self.by_interface.get(dest.rpartition("-")[0], "")
        commands = [Publish("call", {"event": "answered", **call.view(ts)})]
        if call.agent in self.agents:  # busy on the wallboard, free again when the leg ends
            self.agent_legs[dest] = call.agent
            commands += self._transition(self.agents[call.agent], IN_CALL, ts)
        return commands

    def _consult_dial_end(self, call: Call, status: str, ts: float) -> list:
        if status == "ANSWER":
            call.consult_answered = True
            agent = self.agents.get(call.consult_agent)
            return self._transition(agent, IN_CALL, ts) if agent else []
        leg, call.consult_channel = call.consult_channel, ""
        return self._agent_leg_gone(leg, ts)

    def _agent_leg_gone(self, channel: str, ts: float) -> list:
        """An agent's leg ended: they are free unless they are on another leg still."""
        name = self.agent_legs.pop(channel, None)
        if name is None or name in self.agent_legs.values():
            return []
        return self._release_agent(name, ts)

    def _on_Hangup(self, e, ts):
        call = self.calls.get(e.get("Uniqueid", ""))
        if call is None:
            # an agent's leg ending while the call goes on (transferred, intercepted, consulted)
            channel = e.get("Channel", "")
            for other in self.calls.values():
                if other.agent_channel == channel:
                    other.agent_channel = ""
                if other.consult_channel == channel:
                    other.consult_channel = ""
            return self._agent_leg_gone(channel, ts)
        del self.calls[call.linkedid]
        call.end_time = ts
        call.state = "ended"
        stopped = self._stop_ringing(call, ts)
        try:
            call.hangup_cause = int(e.get("Cause", ""))
        except ValueError:
            call.hangup_cause = None
        commands: list = [WriteCallRecord(call.record()), Publish("call", {"event": "ended", **call.view(ts)}),
                          *stopped]
        if call.direction == "outbound" or call.controlled:
            for leg in [ch for ch, name in self.agent_legs.items() if name in (call.agent, call.consult_agent)]:
                del self.agent_legs[leg]
            for name in {call.agent, call.consult_agent} - {""}:
                commands += self._release_agent(name, ts)
        return commands

    # -- call control (what the engine is about to do; services/calls.py) ---------
    def take_control(self, linkedid: str) -> None:
        """The engine moves this call's legs itself (hold, consultation)."""
        self.calls[linkedid].controlled = True

    def consulting(self, linkedid: str, agent: str) -> None:
        """The agent is about to call someone: ``agent`` if it is one of ours, else ''."""
        call = self.calls[linkedid]
        call.consult_agent, call.consult_channel, call.consult_answered = agent, "", False

    def transferred(self, linkedid: str, ts: float) -> list:
        """Attended transfer done: the consulted party has the customer, the agent's leg goes."""
        call = self.calls[linkedid]
        if call.consult_agent:
            call.agent = call.consult_agent
        call.agent_channel, call.consult_channel, call.consult_agent = call.consult_channel, "", ""
        call.state = "talking"
        return [Publish("call", {"event": "transferred", **call.view(ts)})]

    # -- agents -------------------------------------------------------------
    def _agent(self, e) -> Agent:
        name = e.get("MemberName") or e.get("Interface", "")
        agent = self.agents.get(name)
        if agent is None:
            agent = self.agents[name] = Agent(name=name)
        interface = e.get("Interface") or e.get("StateInterface")
        if interface:
            agent.interface = interface
            self.by_interface[interface] = name
        return agent

    def _set_agent(self, e, state: str, ts: float) -> list:
        return self._transition(self._agent(e), state, ts)

    def _transition(self, agent: Agent, state: str, ts: float) -> list:
        reason = agent.pause_reason if state == PAUSED else ""
        if agent.state == state and (state != PAUSED or agent.history_reason == reason):
            return []
        agent.state = state
        agent.history_reason = reason
        agent.since = ts
        agent.history.append((ts, state))
        return [AgentStateChanged(agent.name, state, reason, ts), Publish("agent", self._agent_view(agent, ts))]

    def _release_agent(self, name: str, ts: float) -> list:
        agent = self.agents.get(name)
        if agent is None or agent.state not in (RINGING, IN_CALL):
            return []
        return self._transition(agent, self._resting_state(agent, ts), ts)

    def disposition_saved(self, name: str, linkedid: str) -> bool:
        """The agent saved a call's disposition: whether that ends their hold (then the
        adapter unpauses them).  Any call's does when the engine no longer knows which call
        held them (a restart of ours, not of Asterisk's)."""
        agent = self.agents.get(name)
        if agent is None or not _held_for_disposition(agent):
            return False
        if agent.awaiting_disposition not in ("", linkedid):
            return False
        agent.awaiting_disposition = ""
        return True

    @staticmethod
    def _resting_state(agent: Agent, now: float) -> str:
        if not agent.queues:
            return LOGGED_OUT
        if _held_for_disposition(agent):
            return WRAPUP
        if agent.paused:
            return PAUSED
        if agent.device_unavailable:
            return UNAVAILABLE
        if agent.wrapup_until > now:
            return WRAPUP
        return FREE

    def _member_update(self, e, ts, joined: bool | None) -> list:
        agent = self._agent(e)
        queue = e.get("Queue", "")
        if joined is True:
            agent.queues.add(queue)
        elif joined is False:
            agent.queues.discard(queue)
        agent.paused = e.get("Paused", "0") == "1"
        agent.pause_reason = (e.get("PausedReason") or e.get("Reason") or "") if agent.paused else ""
        agent.device_unavailable = e.get("Status", "") in _UNAVAILABLE_STATUS
        if agent.state in (RINGING, IN_CALL) and agent.queues:
            return []
        return self._transition(agent, self._resting_state(agent, ts), ts)

    def _on_QueueMemberAdded(self, e, ts):
        return self._member_update(e, ts, True)

    def _on_QueueMemberRemoved(self, e, ts):
        return self._member_update(e, ts, False)

    def _on_QueueMemberStatus(self, e, ts):
        return self._member_update(e, ts, None)

    def _on_QueueMemberPause(self, e, ts):
        return self._member_update(e, ts, None)

    # -- views --------------------------------------------------------------
    def _queue_view(self, queue: QueueView, now: float) -> dict:
        """``waiting`` and ``longest_wait`` over the same calls (see the module doc)."""
        self._index_waiting()
        waits = [now - self.calls[linkedid].enter_time for linkedid in self.waiting_in.get(queue.name, ())]
        members = [a.name for a in self.agents.values() if queue.name in a.queues]
        return {"name": queue.name, "waiting": len(waits), "longest_wait": round(max(waits, default=0.0), 1),
                "members": sorted(members)}

    @staticmethod
    def _agent_view(agent: Agent, now: float) -> dict:
        return {"name": agent.name, "interface": agent.interface, "state": agent.state,
                "queues": sorted(q for q in agent.queues if not _personal(q)),
                "pause_reason": agent.pause_reason if agent.state == PAUSED else "",
                "wrapup_left": round(max(0.0, agent.wrapup_until - now), 1) if agent.state == WRAPUP else None,
                "awaiting_disposition": _held_for_disposition(agent),
                "disposition_call": agent.awaiting_disposition if _held_for_disposition(agent) else "",
                "since": agent.since, "in_state_seconds": round(max(0.0, now - agent.since), 1)}

    def snapshot(self, now: float) -> dict:
        for a in self.agents.values():
            for q in a.queues:
                if not _personal(q):
                    self.queues.setdefault(q, QueueView(q))
        for c in self.calls.values():
            if c.queue:
                self.queues.setdefault(c.queue, QueueView(c.queue))
        return {
            "queues": [self._queue_view(q, now) for q in sorted(self.queues.values(), key=lambda q: q.name)],
            "agents": [self._agent_view(a, now) for a in sorted(self.agents.values(), key=lambda a: a.name)],
            "calls": [c.view(now) for c in sorted(self.calls.values(), key=lambda c: c.enter_time)],
        }


def _held_for_disposition(agent: Agent) -> bool:
    return agent.paused and agent.pause_reason == DISPOSITION_REASON


def _personal(queue: str) -> bool:
    return queue.startswith(v.PERSONAL_QUEUE_PREFIX)


def _timestamp(event: Mapping[str, str], now: float) -> float:
    try:
        return float(event.get("Timestamp", ""))
    except ValueError:
        return now


def _blank_unknown(value: str) -> str:
    return "" if value in ("<unknown>", "<Unknown>") else value


# ``QueueStatus`` answers with one ``QueueMember`` event per member: the same as an add.
LiveState._on_QueueMember = LiveState._on_QueueMemberAdded
