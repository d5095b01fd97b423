"""FastAGI script ``record``: start a call's recording, or apply the answering agent's setting.

Called as ``record,<stage>,<linkedid>[,...]``: ``outbound`` (the agent's leg, before dialling;
then the agent), ``internal`` (the same) and ``connect`` (app_queue's Gosub on the agent's leg
when they answer). An inbound call's recording starts in the ``route`` script's own session
(``start_inbound``: one FastAGI connection on the caller's setup path, not two). The dialplan
hands the call's facts over as arguments: asked for one at a time, each was a round trip with
Asterisk on the call's setup path (bench/mixed_load.py). Without them (an older dialplan) they
are asked for. The decision is the recording service's; this handler runs ``MixMonitor`` on
the channel when told to (the file name comes from the linkedid, the options from the
settings: no call data, no shell command), and sets ``CC_RECORDING`` to what was done.

Registered with ``fallback=False``: a recording that cannot start must never keep a caller
from an agent, so a failure here is logged and the call goes on (``route`` catches its own).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from appliance import dialplan_vars as v
from appliance.agi.handlers.agent import extension_at
from appliance.db import models as m
from appliance.engine.live import trunk_of

logger = logging.getLogger(__name__)

SCRIPT = "record"
STAGES = ("outbound", "internal", "connect")


def agent_at(channel: str) -> str:
    """The work number of the agent whose phone this channel is, or ''."""
    extension = extension_at(channel)
    row = (m.Agent.select(m.Agent.number).join(m.Phone).where(m.Phone.extension == extension).first()
           if extension else None)
    return row.number if row else ""


def queue_of_route(context: str, exten: str, then_queue: str) -> str:
    """The queue routing sent this call to (directly, or after one agent first)."""
    return exten if context == v.QUEUE_CONTEXT else then_queue


def call_facts(session, request) -> list[str]:
    """``request.args`` after the stage, or, when the dialplan passed none, the same asked
    of the channel: linkedid, then the stage's own (see the module's docstring)."""
    stage, given = (request.args or [""])[0], list(request.args[1:])
    if given:
        return given
    facts = [session.get_full_variable("${CHANNEL(linkedid)}") or request.uniqueid]
    if stage == "outbound":
        facts.append(session.get_variable(v.AGENT) or "")
    return facts


def start_inbound(recordings, trunk_of: Callable[[str], str], channel: str, linkedid: str, context: str,
                  exten: str, then_queue: str):
    """An inbound call routed to ``context``/``exten``: the recording to start on the caller's
    ``channel`` (``StartMonitor``), or None (not recorded, or going to the fallback or a fax)."""
    if context in (v.FALLBACK_CONTEXT, v.FAX_CONTEXT):
        return None  # not going to anyone, or a fax machine
    return recordings.call_started(linkedid, "inbound", channel, trunk=trunk_of(channel),
                                   queue=queue_of_route(context, exten, then_queue))


def state_of(recordings, linkedid: str) -> str:
    """``CC_RECORDING``'s value: what the service has for the call now."""
    state = recordings.active.get(linkedid)
    return state.state if state else "off"


def make_handler(recordings, trunk_of: Callable[[str], str] = trunk_of):
    """``trunk_of``: the trunk or card route of a channel (``LiveState.trunk_of``)."""
    def handle(session, request) -> None:
        stage = request.args[0] if request.args else ""
        facts = call_facts(session, request) + ["", "", "", ""]
        linkedid = facts[0] or request.uniqueid
        if stage == "connect":
            start = recordings.agent_answered(linkedid, agent_at(request.channel), request.channel)
        elif stage in ("outbound", "internal"):
            agent = facts[1] if stage == "outbound" else agent_at(request.channel)
            start = recordings.call_started(linkedid, stage, request.channel, agent=agent or "")
        else:
            logger.warning("FastAGI record: unknown stage %r on %s", stage, request.channel)
            return
        if start is not None:
            session.exec_app("MixMonitor", start.path, start.options)
            recordings.monitor_started(linkedid)
        session.set_variable(v.RECORDING, state_of(recordings, linkedid))

    return handle
