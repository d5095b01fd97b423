"""FastAGI script ``route``: where does an inbound call go?

Reads the dialled number, asks the pure routing decision, and sets the channel
variables the dialplan jumps on (see appliance/confgen/extensions.py).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from appliance import dialplan_vars as v
from appliance.engine.routing import RoutingTable, decide

logger = logging.getLogger(__name__)

SCRIPT = "route"


def make_handler(current_table: Callable[[], RoutingTable]):
    def handle(session, request) -> None:
        did = request.extension or request.dnid
        decision = decide(did, request.callerid, current_table())
        if decision.is_fallback:
            logger.warning("no route for DID %s (caller %s, channel %s): caller goes to the fallback",
                           did, request.callerid, request.channel)
            session.set_variable(v.FALLBACK_REASON, decision.reason)
        session.set_variable(v.DEST_CONTEXT, decision.context)
        session.set_variable(v.DEST_EXTEN, decision.exten)

    return handle
