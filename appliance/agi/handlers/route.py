"""FastAGI script ``route``: where does an inbound call go?

Reads the dialled number and caller, asks the pure routing decision, looks up the
caller's last agent when the chosen queue keeps callers with their agent, and sets the
channel variables the dialplan jumps on (see appliance/confgen/extensions.py).

Called as ``route,<linkedid>``. With the recording service it also starts the call's
recording (``record.start_inbound``: the same decision the ``record`` script makes for the
other stages) in this session: a second FastAGI connection on every inbound call's setup
path was its largest part after routing itself (bench/mixed_load.py). A recording that
cannot start is logged and the call goes where routing sent it (the fallback is for
routing's own failures).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable

from appliance import dialplan_vars as v
from appliance.agi.handlers import record
from appliance.agi.session import AgiHangup
from appliance.engine.routing import (
    RoutingTable,
    StickyRule,
    decide,
    pin_required,
    sticky_rule_for,
    with_account_manager,
    with_pin_check,
    with_sticky,
)

logger = logging.getLogger(__name__)

SCRIPT = "route"

# (caller, rule, now) -> the agent number who last talked with the caller, or None
LastAgentLookup = Callable[[str, StickyRule, dt.datetime], "str | None"]


def make_handler(current_table: Callable[[], RoutingTable], last_agent: LastAgentLookup | None = None,
                 account_manager: Callable[[str], "str | None"] | None = None, recordings=None,
                 trunk_of: Callable[[str], str] | None = None):
    """``recordings``: the recording service (``RecordingService``), ``trunk_of``: the trunk
    of a channel (``LiveState.trunk_of``); without them no recording is started here."""
    def handle(session, request) -> None:
        did = request.extension or request.dnid
        table = current_table()
        now = dt.datetime.now(dt.timezone.utc)
        decision = decide(did, request.callerid, table, now)
        if account_manager is not None and request.callerid and decision.context == v.QUEUE_CONTEXT:
            decision = with_account_manager(decision, account_manager(request.callerid))
        rule = sticky_rule_for(decision, table)
        if rule is not None and last_agent is not None and request.callerid:
            decision = with_sticky(decision, last_agent(request.callerid, rule, now), rule)
        if pin_required(did, table) and decision.context != v.FAX_CONTEXT:
            decision = with_pin_check(decision)
        route = table.dids.get(did)
        variables = {}
        if route is not None and route.fax_detect and decision.context != v.FAX_CONTEXT:
            variables[v.FAX_DETECT] = "1"
        if decision.is_fallback:
            logger.warning("call to DID %s from %s (%s) goes to the fallback: %s",
                           did, request.callerid, request.channel, decision.reason)
            variables[v.FALLBACK_REASON] = decision.reason
        variables.update(decision.variables)
        variables.update({v.ROUTE_RULE: decision.rule, v.DEST_CONTEXT: decision.context, v.DEST_EXTEN: decision.exten})
        start = linkedid = None
        if recordings is not None:  # the call's recording, decided now: set with the rest
            linkedid = (request.args[0] if request.args else "") or request.uniqueid
            start = _recording(recordings, trunk_of, request, linkedid, decision)
            if start is not False:
                variables[v.RECORDING] = record.state_of(recordings, linkedid)
        session.set_variables(variables)  # in one round trip where it can (the call's setup waits for it)
        if start:
            try:
                session.exec_app("MixMonitor", start.path, start.options)
                recordings.monitor_started(linkedid)
            except AgiHangup:
                raise
            except Exception:
                logger.exception("call %s on %s: the recording did not start; the call goes on", linkedid,
                                 request.channel)

    return handle


def _recording(recordings, trunk_of, request, linkedid: str, decision):
    """What to start on the caller's channel (``StartMonitor``), None if nothing, False if the
    decision failed (logged: the call goes on unrecorded, ``CC_RECORDING`` unset)."""
    context, exten = decision.context, decision.exten
    if context == v.PIN_CONTEXT:  # the PIN first: the recording is the destination's after it
        context, exten = decision.variables[v.AFTER_CONTEXT], decision.variables[v.AFTER_EXTEN]
    try:
        return record.start_inbound(recordings, trunk_of, request.channel, linkedid, context, exten,
                                    decision.variables.get(v.THEN_QUEUE, ""))
    except Exception:
        logger.exception("call %s on %s: no recording decision; the call goes on", linkedid, request.channel)
        return False
